"""The user charter gate: nothing but the charter until the current version is accepted."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from dcc.accounts import services
from dcc.accounts.models import CharterAcceptance
from dcc.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_user_who_has_not_accepted_sees_only_the_charter(
    logged_in: Any, oncologist: Any, charter: Any
) -> None:
    client = logged_in(oncologist, accept_charter=False)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/compte/charte/")
    assert client.get("/compte/charte/").status_code == 200


def test_api_and_form_posts_answer_403_before_acceptance(
    logged_in: Any, oncologist: Any, charter: Any
) -> None:
    client = logged_in(oncologist, accept_charter=False)
    assert client.get("/api/anything", HTTP_ACCEPT="application/json").status_code == 403
    response = client.post(
        "/compte/contexte/", {"membership": "00000000-0000-0000-0000-000000000000"}
    )
    assert response.status_code == 403


def test_acceptance_is_recorded_with_version_time_and_address(
    logged_in: Any, oncologist: Any, charter: Any
) -> None:
    client = logged_in(oncologist, accept_charter=False)
    response = client.post("/compte/charte/", {"accept": "on"}, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302
    acceptance = CharterAcceptance.objects.get(user=oncologist)
    assert acceptance.charter == charter
    assert acceptance.source_ip == "10.1.2.3"
    assert acceptance.accepted_at is not None
    event = AuditEvent.objects.get(action="charter.accepted")
    assert event.actor_user_id == str(oncologist.uuid)
    assert event.resource_id == "1"
    assert client.get("/").status_code == 200


def test_unticked_box_gives_a_field_error_and_records_nothing(
    logged_in: Any, oncologist: Any, charter: Any
) -> None:
    client = logged_in(oncologist, accept_charter=False)
    response = client.post("/compte/charte/", {})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()
    assert not CharterAcceptance.objects.exists()


def test_publishing_a_new_version_forces_acceptance_again(
    logged_in: Any, oncologist: Any, charter: Any, platform_admin: Any
) -> None:
    client = logged_in(oncologist)
    assert client.get("/").status_code == 200
    services.publish_charter(actor=platform_admin, title="Charte v2", body="Nouveau texte.")
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/compte/charte/")
    assert AuditEvent.objects.filter(action="charter.published").count() == 1


def test_only_platform_admins_publish_the_charter(
    logged_in: Any, oncologist: Any, charter: Any
) -> None:
    client = logged_in(oncologist)
    assert client.get("/compte/charte/publier/").status_code == 403
    with pytest.raises(PermissionDenied):
        services.publish_charter(actor=oncologist, title="x", body="y")
    assert AuditEvent.objects.filter(action="charter.published", outcome="denied").count() == 1
