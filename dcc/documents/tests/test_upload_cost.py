"""What adding a document costs the database: a 1 MiB upload through the add view runs a
fixed, pinned number of statements (goal G11 counts every millisecond of an upload), so that
none is added unnoticed. The care team's notifications take one statement for all their
rows; only their audit events and e-mail tasks, one each per recipient, grow with the team.
The e-mail tasks are rows written in the upload's transaction (``notifications.services``):
counted here, and no transaction of their own after the commit.

Counted inside the test's transaction, as the record page's statements are: each atomic
block of the request adds a savepoint and its release."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dcc.accounts.choices import Role
from dcc.accounts.models import Charter, CharterAcceptance, Membership, Structure, User
from dcc.core.tests.test_access_matrix import persona_client
from dcc.documents.models import Document
from dcc.documents.tests import samples
from dcc.notifications.models import Notification
from dcc.patients import services as patient_services
from dcc.patients.models import Patient

pytestmark = pytest.mark.django_db

MIB = 1 << 20
STATEMENT_BUDGET = 15


@pytest.fixture
def client_of(charter: Charter, settings: Any) -> Any:
    # Sealing off the request, as in production (the test settings seal in the request).
    settings.AUDIT_SEAL_MODE = "worker"

    def make(user: User) -> Client:
        CharterAcceptance.objects.get_or_create(user=user, charter=charter)
        return persona_client(user)

    return make


def _upload(client: Client, patient: Patient, author: User, tag: int) -> list[str]:
    """The statements of one 1 MiB upload, posted as the browser posts the add form."""
    data = samples.pdf(f"Compte rendu {tag}")
    data = samples.pdf(f"Compte rendu {tag}", padding=MIB - len(data) - 2)
    fields = {
        "type_code": "60568-3",
        "title": f"Compte rendu numérisé {tag}",
        "act_date": "2025-03-14",
        "author": str(author.pk),
        "author_label": "",
        "confidentiality": "N",
        "file": SimpleUploadedFile(f"scan-{tag}.pdf", data, content_type="application/pdf"),
    }
    with CaptureQueriesContext(connection) as captured:
        response = client.post(reverse("documents:add", args=[patient.uuid]), fields)
    assert response.status_code == 302, response.content.decode()[:2000]
    return [query["sql"] for query in captured.captured_queries]


def _colleague(name: str, structure: Structure) -> User:
    user = User.objects.create_user(f"{name}@chu.test", None, last_name=name)
    Membership.objects.create(user=user, structure=structure, role=Role.PHYSICIAN)
    return user


def test_a_1_mib_upload_runs_a_pinned_number_of_statements(
    client_of: Any, oncologist: User, patient: Patient
) -> None:
    client = client_of(oncologist)
    _upload(client, patient, oncologist, 1)  # the process's first upload settles the store
    statements = _upload(client, patient, oncologist, 2)
    assert len(statements) == STATEMENT_BUDGET, "\n".join(statements)
    assert Document.objects.count() == 2
    inserts = [sql for sql in statements if sql.startswith('INSERT INTO "notifications_')]
    assert len(inserts) == 1
    tasks = [sql for sql in statements if sql.startswith('INSERT INTO "django_tasks_database_')]
    assert len(tasks) == 1  # the colleague's e-mail, in the transaction


def test_a_larger_care_team_adds_only_its_audit_events_and_e_mail_tasks(
    client_of: Any,
    oncologist: User,
    rcp_secretary: User,
    patient: Patient,
    structures: dict[str, Structure],
) -> None:
    client = client_of(oncologist)
    _upload(client, patient, oncologist, 1)
    alone = len(_upload(client, patient, oncologist, 2))
    for n in range(4):
        patient_services.add_to_care_team(
            actor=rcp_secretary,
            patient=patient,
            member=_colleague(f"confrere{n}", structures["hospital"]),
        )
    statements = _upload(client, patient, oncologist, 3)
    assert len(statements) == alone + 2 * 4, "\n".join(statements)
    latest = Document.objects.order_by("-id").first()
    assert latest is not None
    told = Notification.objects.filter(link__contains=str(latest.uuid))
    assert told.count() == 5  # the secretary and the four colleagues
