"""A new document reaches the care team by e-mail through the task worker and a real SMTP
server: a link, never the patient, the title or the content."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command

from dcc.accounts.models import User
from dcc.documents import content, services
from dcc.documents.tests import samples
from dcc.notifications.choices import EmailStatus
from dcc.notifications.models import Notification
from dcc.notifications.tests.smtp_server import SmtpServer, serve_smtp
from dcc.patients.models import Patient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpServer]:
    yield from serve_smtp(settings)


def test_the_care_team_is_e_mailed_a_link_when_a_document_is_added(
    smtp_server: SmtpServer, rcp_secretary: User, oncologist: User, patient: Patient
) -> None:
    upload = content.PendingContent(file_name="cr-anapath.pdf")
    upload.feed(samples.pdf("Carcinome canalaire infiltrant"))
    services.add_document(
        actor=rcp_secretary,
        patient=patient,
        content=upload,
        metadata=services.Metadata(
            type_code="60568-3",
            title="CR anatomopathologique — biopsie mammaire",
            act_date=dt.date(2026, 11, 2),
            author_label="Dr Anne Roux",
        ),
    )
    assert smtp_server.received == []
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert [r.recipients for r in smtp_server.received] == [[oncologist.email]]
    text = smtp_server.received[0].text.lower()
    assert "https://dcc.chu.test/notifications/" in text
    for secret in ("martin", "claire", "1961", "anatomopathologique", "carcinome", "cr-anapath"):
        assert secret not in text, secret
    notification = Notification.objects.get(recipient=oncologist)
    assert notification.email_status == EmailStatus.SENT
