"""The security officers' journal: access, filters, paging, and the trace of each reading."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dcc.accounts.choices import Role
from dcc.accounts.models import Structure, User
from dcc.audit.choices import Action, Outcome
from dcc.audit.models import AuditEvent
from dcc.audit.services import record_event, seal_pending_events
from dcc.core.context import Actor, acting_as

pytestmark = pytest.mark.django_db

JOURNAL = reverse("audit:events")


def trace(
    action: str = Action.PAGE_VIEWED,
    *,
    by: User | None = None,
    structure: Structure | None = None,
    role: str = "",
    request_id: str = "req-00000000",
    **fields: Any,
) -> AuditEvent:
    actor = Actor(
        kind="user" if by else "system",
        user_id=str(by.uuid) if by else "",
        rpps=(by.rpps or "") if by else "",
        structure_id=str(structure.uuid) if structure else "",
        role=role,
        label=by.email if by else "test",
        source_ip="192.0.2.10",
        request_id=request_id,
    )
    with acting_as(actor), transaction.atomic():
        event = record_event(action=action, **fields)
    assert event is not None
    return event


def journal_views() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=Action.AUDIT_VIEWED).order_by("id"))


def shown(response: Any) -> list[str]:
    return [row.event.action for row in response.context["rows"]]


def test_a_security_officer_reads_the_journal_newest_first_and_the_reading_is_traced(
    logged_in: Any, security_officer: User, oncologist: User, structures: dict[str, Structure]
) -> None:
    client = logged_in(security_officer)
    trace(Action.ROLE_GRANTED, by=oncologist)
    trace(Action.STRUCTURE_UPDATED, by=oncologist)
    response = client.get(JOURNAL)
    assert response.status_code == 200
    assert shown(response) == ["structure.updated", "role.granted", "auth.login"]
    [view] = journal_views()
    assert view.actor_user_id == str(security_officer.uuid)
    assert json.loads(view.details)["filters"] == {}
    assert json.loads(view.details)["shown"] == len(shown(response))


def test_the_platform_admin_may_read_the_journal_too(logged_in: Any, platform_admin: User) -> None:
    assert logged_in(platform_admin).get(JOURNAL).status_code == 200


@pytest.mark.parametrize("persona", ["oncologist", "hospital_admin"])
def test_anyone_but_an_officer_gets_403_and_reads_nothing(
    logged_in: Any, request: Any, persona: str
) -> None:
    user = request.getfixturevalue(persona)
    client = logged_in(user)
    event = trace(Action.ROLE_GRANTED, by=user)
    assert client.get(JOURNAL).status_code == 403
    assert client.get(reverse("audit:event_detail", args=[event.uuid])).status_code == 403
    assert journal_views() == []


def test_the_journal_names_the_actor_with_rpps_role_structure_and_chain_position(
    logged_in: Any, security_officer: User, oncologist: User, structures: dict[str, Structure]
) -> None:
    trace(
        Action.PAGE_VIEWED,
        by=oncologist,
        structure=structures["hospital"],
        role=Role.PHYSICIAN,
        resource_type="Patient",
        resource_id="p-1",
        patient_ref="INS-123",
    )
    seal_pending_events()
    trace(Action.LOGOUT, by=oncologist)
    body = logged_in(security_officer).get(JOURNAL).content.decode()
    assert "Claire MARTIN" in body
    assert "RPPS 10000100007" in body
    assert "Médecin — CHU Test" in body
    assert "Page consultée" in body and "Déconnexion" in body
    assert "192.0.2.10" in body and "req-00000000" in body
    assert "patient INS-123" in body
    assert "en attente" in body
    assert re.search(r"<td>\d+</td>\s*</tr>", body)  # a sealed event shows its position


def test_the_journal_filters_by_action_outcome_actor_patient_and_request(
    logged_in: Any, security_officer: User, oncologist: User, outsider: User
) -> None:
    trace(Action.PAGE_VIEWED, by=oncologist, patient_ref="INS-1", request_id="req-aaaaaaaa")
    trace(Action.PAGE_VIEWED, by=outsider, patient_ref="INS-2", request_id="req-bbbbbbbb")
    trace(Action.ROLE_GRANTED, by=outsider, outcome=Outcome.DENIED)
    client = logged_in(security_officer)

    def actions(**query: str) -> list[str]:
        response = client.get(JOURNAL, query)
        assert response.status_code == 200
        return [f"{r.event.action}/{r.event.actor_rpps}" for r in response.context["rows"]]

    assert actions(action=Action.ROLE_GRANTED) == ["role.granted/10000100015"]
    assert actions(outcome=Outcome.DENIED) == ["role.granted/10000100015"]
    assert actions(actor="10000100007", action=Action.PAGE_VIEWED) == ["page.viewed/10000100007"]
    assert actions(actor=str(outsider.uuid), action=Action.PAGE_VIEWED) == [
        "page.viewed/10000100015"
    ]
    assert actions(patient_ref="INS-2") == ["page.viewed/10000100015"]
    assert actions(request_id="req-aaaaaaaa") == ["page.viewed/10000100007"]
    assert json.loads(journal_views()[-1].details)["filters"] == {"request_id": "req-aaaaaaaa"}


def test_date_filters_cover_whole_local_days(
    logged_in: Any, security_officer: User, oncologist: User, monkeypatch: Any
) -> None:
    # 23:30 UTC on 14 March is 00:30 on 15 March in Paris: the officer's 15 March.
    when = dt.datetime(2025, 3, 14, 23, 30, tzinfo=dt.UTC)
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: when)
        old = trace(Action.LOGOUT, by=oncologist)
    client = logged_in(security_officer)
    local_day = client.get(JOURNAL, {"date_from": "2025-03-15", "date_to": "2025-03-15"})
    assert [r.event.pk for r in local_day.context["rows"]] == [old.pk]
    day_before = client.get(JOURNAL, {"date_from": "14/03/2025", "date_to": "14/03/2025"})
    assert day_before.context["rows"] == []


def test_bad_filter_dates_give_a_french_form_error_and_no_500(
    logged_in: Any, security_officer: User
) -> None:
    client = logged_in(security_officer)
    response = client.get(JOURNAL, {"date_from": "2025-13-45", "date_to": "hier"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["date_from"] == ["Saisissez une date valide."]
    assert errors["date_to"] == ["Saisissez une date valide."]
    assert response.context["rows"] is None
    assert 'id="id_date_from_error"' in response.content.decode()
    assert journal_views() == []


def test_an_end_date_before_the_start_date_is_refused(
    logged_in: Any, security_officer: User
) -> None:
    response = logged_in(security_officer).get(
        JOURNAL, {"date_from": "2025-03-15", "date_to": "2025-03-14"}
    )
    assert response.context["form"].errors["date_to"] == [
        "La date de fin précède la date de début."
    ]


def test_an_actor_that_is_neither_rpps_nor_user_id_is_refused(
    logged_in: Any, security_officer: User
) -> None:
    response = logged_in(security_officer).get(JOURNAL, {"actor": "'; DROP TABLE"})
    assert "actor" in response.context["form"].errors
    assert response.context["rows"] is None


def test_the_journal_pages_fifty_events_at_a_time_by_event_cursor(
    logged_in: Any, security_officer: User
) -> None:
    events = [trace(Action.PAGE_VIEWED, resource_id=str(n)) for n in range(120)]
    client = logged_in(security_officer)
    query = {"action": Action.PAGE_VIEWED}
    first = client.get(JOURNAL, query)
    assert [r.event.resource_id for r in first.context["rows"]] == [
        str(n) for n in range(119, 69, -1)
    ]
    page = first.context["page"]
    assert page.newer_cursor == "" and page.older_cursor == str(events[70].uuid)
    assert f"avant={page.older_cursor}" in first.content.decode()

    second = client.get(JOURNAL, {**query, "avant": page.older_cursor})
    assert second.context["rows"][0].event.resource_id == "69"
    third = client.get(JOURNAL, {**query, "avant": second.context["page"].older_cursor})
    assert [r.event.resource_id for r in third.context["rows"]] == [
        str(n) for n in range(19, -1, -1)
    ]
    assert third.context["page"].older_cursor == ""

    back = client.get(JOURNAL, {**query, "apres": third.context["page"].newer_cursor})
    assert [r.event.resource_id for r in back.context["rows"]] == [
        str(n) for n in range(69, 19, -1)
    ]
    assert back.context["page"].newer_cursor and back.context["page"].older_cursor
    assert client.get(JOURNAL, {"avant": "pas-un-uuid"}).status_code == 200


def test_an_htmx_request_gets_the_results_fragment_and_the_filters_out_of_band(
    logged_in: Any, security_officer: User
) -> None:
    client = logged_in(security_officer)
    response = client.get(JOURNAL, {"outcome": Outcome.DENIED}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'hx-swap-oob="true"' in body and 'id="journal-filters"' in body
    assert "<table" in body
    assert "HX-Request" in response["Vary"]
    restore = client.get(
        JOURNAL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.content.decode()
    assert len(journal_views()) == 2


def test_the_full_page_works_without_javascript_and_has_no_inline_code(
    logged_in: Any, security_officer: User
) -> None:
    body = logged_in(security_officer).get(JOURNAL).content.decode()
    assert 'method="get"' in body and 'hx-get="/securite/journal/"' in body
    assert 'hx-target="#journal-results"' in body and 'id="journal-results"' in body
    assert 'for="id_date_from"' in body and '<th scope="col">' in body
    assert " style=" not in body
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", body))


def test_the_event_page_shows_escaped_pretty_details_and_is_traced(
    logged_in: Any, security_officer: User, oncologist: User
) -> None:
    event = trace(
        Action.USER_UPDATED,
        by=oncologist,
        details={"after": {"last_name": "<script>alert(1)</script>"}, "before": {"n": 1}},
    )
    client = logged_in(security_officer)
    response = client.get(reverse("audit:event_detail", args=[event.uuid]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "{\n  &quot;after&quot;: {\n    &quot;last_name&quot;" in body
    assert "conforme" in body
    [view] = journal_views()
    assert view.resource_id == str(event.uuid)
    missing = reverse("audit:event_detail", args=["00000000-0000-0000-0000-000000000000"])
    assert client.get(missing).status_code == 404


def test_the_journal_runs_a_fixed_number_of_queries(
    logged_in: Any,
    security_officer: User,
    oncologist: User,
    outsider: User,
    structures: dict[str, Structure],
    django_assert_max_num_queries: Any,
) -> None:
    for _ in range(10):
        trace(Action.PAGE_VIEWED, by=oncologist, structure=structures["hospital"], role="physician")
        trace(Action.PAGE_VIEWED, by=outsider, structure=structures["other"], role="physician")
    client = logged_in(security_officer)
    with django_assert_max_num_queries(13):
        response = client.get(JOURNAL, {"action": Action.PAGE_VIEWED})
    assert len(response.context["rows"]) == 20


def test_an_anonymous_visitor_is_sent_to_login(client: Client, db: None) -> None:
    response = client.get(JOURNAL)
    assert response.status_code == 302
    assert response["Location"].startswith("/compte/connexion/")
    assert journal_views() == []
