"""The patient's access report: every trace of the record, merged ones included, as a page,
a CSV file and a PDF; refused under break-glass; itself traced; the chain left verifiable."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from typing import Any
from uuid import uuid4

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from dcc.accounts.choices import Role
from dcc.accounts.models import User
from dcc.audit.choices import Action
from dcc.audit.models import AuditEvent
from dcc.audit.services import record_event
from dcc.audit.verify import verify_chain
from dcc.core.context import Actor, acting_as, system_actor
from dcc.patients import report_views, services
from dcc.patients.access_report import Period, report_page, report_rows
from dcc.patients.choices import IdentityStatus
from dcc.patients.models import Patient

pytestmark = pytest.mark.django_db

REASON = "Patient admis aux urgences, inconscient, antécédents oncologiques à connaître"
JEANNE = services.Identity(
    birth_name="Roussel",
    birth_first_names="Jeanne Marie",
    sex="F",
    birth_date=dt.date(1952, 4, 17),
    birth_place_code="33063",
    identity_status=IdentityStatus.PROVISIONAL,
)


def working_as(user: User, structure: Any, role: str, **changes: Any) -> Actor:
    """The actor a request of ``user`` carries once they chose their working context."""
    actor = Actor(
        kind="user",
        user_id=str(user.uuid),
        rpps=user.rpps or "",
        structure_id=str(structure.uuid),
        role=role,
        label=user.email,
    )
    return dataclasses.replace(actor, **changes)


def register(secretary: User, structures: Any, identity: services.Identity) -> Patient:
    with acting_as(working_as(secretary, structures["hospital"], Role.RCP_SECRETARY)):
        return services.register_patient(
            actor=secretary,
            structure=structures["hospital"],
            identity=identity,
            despite_possible_duplicates=True,
        )


def trace(actor: Actor, patient: Patient, action: str = Action.PATIENT_VIEWED) -> None:
    with acting_as(actor), transaction.atomic():
        record_event(action=action, patient_ref=str(patient.uuid), resource_type="Patient")


def open_emergency(outsider: User, structures: Any, patient: Patient) -> None:
    with acting_as(working_as(outsider, structures["other"], Role.PHYSICIAN)):
        services.start_emergency_access(
            actor=outsider, patient=patient, reason=REASON, authenticated_at=timezone.now()
        )


@pytest.fixture
def patient(rcp_secretary: User, structures: Any) -> Patient:
    return register(rcp_secretary, structures, JEANNE)


@pytest.fixture
def history(patient: Patient, oncologist: User, outsider: User, structures: Any) -> dict[str, Any]:
    """Registered by the secretary (fixture), read by the oncologist, opened in emergency by
    the outsider, touched by a command, and one code this release does not know."""
    trace(working_as(oncologist, structures["hospital"], Role.PHYSICIAN), patient)
    open_emergency(outsider, structures, patient)
    trace(system_actor("dcc seed_demo"), patient, Action.CARE_TEAM_CHANGED)
    trace(system_actor(""), patient, "legacy.unknown_code")
    return {"patient": patient}


def rows_of(patient: Patient, period: Period | None = None) -> list[Any]:
    return list(report_rows(patient, period or Period()))


def test_each_access_says_who_with_which_role_for_which_structure_and_why(
    history: dict[str, Any],
) -> None:
    rows = rows_of(history["patient"])
    assert [(r.who, r.rpps, r.role, r.structure, r.what, r.purpose, r.outcome) for r in rows] == [
        ("Système", "", "", "", "legacy.unknown_code", "Soins", "Réussi"),
        ("Système (dcc seed_demo)", "", "", "", "Équipe de soins modifiée", "Soins", "Réussi"),
        (
            "Olivier DEHORS",
            "10000100015",
            "Médecin",
            "Clinique Ailleurs",
            "Accès en urgence ouvert",
            "Accès en urgence",
            "Réussi",
        ),
        (
            "Claire MARTIN",
            "10000100007",
            "Médecin",
            "CHU Test",
            "Dossier patient consulté",
            "Soins",
            "Réussi",
        ),
        (
            "Fanny DURAND",
            "",
            "Secrétaire de RCP",
            "CHU Test",
            "Patient enregistré",
            "Soins",
            "Réussi",
        ),
    ]
    assert [r.emergency for r in rows] == [False, False, True, False, False]
    assert all(
        r.occurred_at.utcoffset() in {dt.timedelta(hours=1), dt.timedelta(hours=2)} for r in rows
    )


def test_dates_are_paris_time_and_the_period_is_whole_paris_days(
    patient: Patient, oncologist: User, structures: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 23:30 UTC on 1 March is 00:30 on 2 March in Paris.
    instant = dt.datetime(2025, 3, 1, 23, 30, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: instant)
    trace(working_as(oncologist, structures["hospital"], Role.PHYSICIAN), patient)
    monkeypatch.undo()
    march_2 = Period(start=dt.date(2025, 3, 2), end=dt.date(2025, 3, 2))
    [row] = rows_of(patient, march_2)
    assert f"{row.occurred_at:%d/%m/%Y %H:%M}" == "02/03/2025 00:30"
    assert rows_of(patient, Period(end=dt.date(2025, 3, 1))) == []
    assert len(rows_of(patient, Period(start=dt.date(2025, 3, 2)))) == 2  # and the registration


def test_a_merge_loses_nothing_even_through_a_record_merged_before(
    rcp_secretary: User, structures: Any, patient: Patient, client: Client, logged_in: Any
) -> None:
    middle = register(rcp_secretary, structures, dataclasses.replace(JEANNE, birth_name="Rousel"))
    oldest = register(rcp_secretary, structures, dataclasses.replace(JEANNE, birth_name="Roussell"))
    with acting_as(working_as(rcp_secretary, structures["hospital"], Role.RCP_SECRETARY)):
        services.merge_patients(actor=rcp_secretary, kept=middle, merged=oldest, reason="Doublon")
        services.merge_patients(actor=rcp_secretary, kept=patient, merged=middle, reason="Doublon")
    refs = {e.patient_ref for e in AuditEvent.objects.filter(action=Action.PATIENT_REGISTERED)}
    assert refs == {str(patient.uuid), str(middle.uuid), str(oldest.uuid)}
    registered = [r for r in rows_of(patient) if r.what == "Patient enregistré"]
    assert len(registered) == 3
    # The merged records' addresses lead to the kept record's report, period kept.
    logged_in(rcp_secretary)
    for route in ("acces/", "acces.csv", "acces.pdf"):
        response = client.get(f"/patients/{oldest.uuid}/{route}?du=2025-01-01")
        assert response.status_code == 302
        assert response["Location"] == f"/patients/{patient.uuid}/{route}?du=2025-01-01"


def test_a_page_follows_the_keyset_cursor_in_a_fixed_number_of_queries(
    history: dict[str, Any], django_assert_num_queries: Any
) -> None:
    patient = history["patient"]
    with django_assert_num_queries(4):  # aliases, events, users, structures
        first = report_page(patient, Period(), size=3)
    assert first.first and first.older_cursor
    with django_assert_num_queries(5):  # and the cursor
        second = report_page(patient, Period(), before=first.older_cursor, size=3)
    seen = [r.event_uuid for page in (first, second) for r in page.rows]
    assert seen == [r.event_uuid for r in rows_of(patient)]
    assert not second.older_cursor and not second.first
    # A cursor that is not one of this patient's events starts again from the newest.
    assert report_page(patient, Period(), before=str(uuid4()), size=2).first
    with django_assert_num_queries(5):  # aliases, actors, users, structures, events
        assert len(rows_of(patient)) == 5


def main_content(response: Any) -> str:
    """The page without what changes on every response (request id, CSRF token)."""
    body: str = response.content.decode()
    main = body[body.index("<main") : body.index("</main>")]
    return main.replace(response["X-Request-ID"], "")


ROUTES = ("acces/", "acces.csv", "acces.pdf")


def test_outside_the_patients_of_the_user_it_is_a_404_like_an_unknown_record(
    patient: Patient, outsider: User, logged_in: Any
) -> None:
    client = logged_in(outsider)
    for route in ROUTES:
        hidden = client.get(f"/patients/{patient.uuid}/{route}")
        missing = client.get(f"/patients/{uuid4()}/{route}")
        assert hidden.status_code == missing.status_code == 404
        assert main_content(hidden) == main_content(missing)
    assert not AuditEvent.objects.filter(action__startswith="patient.access_report").exists()


def test_an_emergency_access_does_not_open_the_report_and_the_refusal_is_traced(
    patient: Patient, outsider: User, structures: Any, logged_in: Any
) -> None:
    open_emergency(outsider, structures, patient)
    client = logged_in(outsider)
    for route in ROUTES:
        response = client.get(f"/patients/{patient.uuid}/{route}")
        assert response.status_code == 403
        assert "accès en urgence" in response.content.decode()
    refused = AuditEvent.objects.filter(action__startswith="patient.access_report")
    assert [(e.action, e.outcome, e.purpose, e.patient_ref) for e in refused.order_by("id")] == [
        (Action.ACCESS_REPORT_VIEWED, "denied", "emergency", str(patient.uuid)),
        (Action.ACCESS_REPORT_EXPORTED, "denied", "emergency", str(patient.uuid)),
        (Action.ACCESS_REPORT_EXPORTED, "denied", "emergency", str(patient.uuid)),
    ]
    formats = [json.loads(e.details).get("format") for e in refused.order_by("id")]
    assert formats == [None, "csv", "pdf"]


def test_anonymous_visitors_are_sent_to_the_login_page_and_posts_are_refused(
    patient: Patient, client: Client, rcp_secretary: User, logged_in: Any
) -> None:
    for route in ROUTES:
        response = client.get(f"/patients/{patient.uuid}/{route}")
        assert response.status_code == 302 and "/compte/connexion/" in response["Location"]
    logged_in(rcp_secretary)
    for route in ROUTES:
        assert client.post(f"/patients/{patient.uuid}/{route}").status_code == 405


@pytest.fixture
def secretary_client(rcp_secretary: User, logged_in: Any) -> Client:
    client: Client = logged_in(rcp_secretary)
    return client


def only_new_event(before: int) -> AuditEvent:
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert len(events) == 1, [e.action for e in events]
    return events[0]


def test_the_page_lists_the_accesses_and_is_itself_traced_once(
    history: dict[str, Any], secretary_client: Client, structures: Any, rcp_secretary: User
) -> None:
    patient = history["patient"]
    before = AuditEvent.objects.count()
    response = secretary_client.get(f"/patients/{patient.uuid}/acces/?du=2020-01-01")
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("Olivier DEHORS", "Clinique Ailleurs", "Accès en urgence", "Claire MARTIN"):
        assert text in body
    assert f"/patients/{patient.uuid}/acces.csv?du=2020-01-01" in body
    assert 'scope="col"' in body and "<caption>" in body
    assert "no-store" in response["Cache-Control"]
    event = only_new_event(before)
    assert (event.action, event.outcome, event.patient_ref, event.purpose) == (
        Action.ACCESS_REPORT_VIEWED,
        "success",
        str(patient.uuid),
        "normal",
    )
    assert (event.actor_user_id, event.actor_structure_id, event.actor_role) == (
        str(rcp_secretary.uuid),
        str(structures["hospital"].uuid),
        Role.RCP_SECRETARY,
    )
    assert json.loads(event.details) == {
        "before": "",
        "period": {"from": "2020-01-01", "to": ""},
        "shown": 5,
    }


def test_an_inverted_period_is_refused_on_the_page_and_in_the_exports(
    patient: Patient, secretary_client: Client
) -> None:
    before = AuditEvent.objects.count()
    query = "?du=2025-03-02&au=2025-03-01"
    page = secretary_client.get(f"/patients/{patient.uuid}/acces/{query}")
    assert page.status_code == 200 and "La date de fin précède" in page.content.decode()
    assert secretary_client.get(f"/patients/{patient.uuid}/acces.csv{query}").status_code == 400
    assert secretary_client.get(f"/patients/{patient.uuid}/acces.pdf{query}").status_code == 400
    assert AuditEvent.objects.count() == before


def csv_of(response: Any) -> tuple[bytes, list[list[str]]]:
    raw = b"".join(response.streaming_content)
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def test_the_csv_opens_in_a_french_spreadsheet_and_is_traced_once(
    history: dict[str, Any], secretary_client: Client
) -> None:
    patient = history["patient"]
    before = AuditEvent.objects.count()
    response = secretary_client.get(f"/patients/{patient.uuid}/acces.csv?au=2100-12-31")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="releve-acces-')
    assert "no-store" in response["Cache-Control"]
    raw, table = csv_of(response)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert table[0] == [
        "Date et heure",
        "Professionnel",
        "RPPS",
        "Rôle",
        "Structure",
        "Action",
        "Motif d'accès",
        "Résultat",
    ]
    # The export's own trace is recorded before the rows are read: it is the first line.
    assert [line[1:] for line in table[1:3]] == [
        [
            "Fanny DURAND",
            "",
            "Secrétaire de RCP",
            "CHU Test",
            "Relevé des accès exporté",
            "Soins",
            "Réussi",
        ],
        ["Système", "", "", "", "legacy.unknown_code", "Soins", "Réussi"],
    ]
    assert ["Olivier DEHORS", "10000100015", "Médecin", "Clinique Ailleurs"] in [
        line[1:5] for line in table
    ]
    assert len(table) == 1 + 6
    dt.datetime.strptime(table[1][0], "%d/%m/%Y %H:%M:%S")  # noqa: DTZ007 - local time, as shown
    event = only_new_event(before)
    assert (event.action, json.loads(event.details)) == (
        Action.ACCESS_REPORT_EXPORTED,
        {"format": "csv", "period": {"from": "", "to": "2100-12-31"}},
    )


def test_a_cell_that_a_spreadsheet_would_run_as_a_formula_is_defused(
    patient: Patient, secretary_client: Client
) -> None:
    trace(system_actor("=HYPERLINK(1)"), patient)
    _raw, table = csv_of(secretary_client.get(f"/patients/{patient.uuid}/acces.csv"))
    assert any(line[1] == "Système (=HYPERLINK(1))" for line in table)
    trace(Actor(kind="user", user_id=str(uuid4()), label="=cmd|x"), patient)
    _raw, table = csv_of(secretary_client.get(f"/patients/{patient.uuid}/acces.csv"))
    assert any(line[1] == "'=cmd|x" for line in table)


def test_the_pdf_is_a_pdf_naming_the_patient_and_is_traced_once(
    history: dict[str, Any], secretary_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = history["patient"]
    rendered: list[str] = []
    real = report_views.render_pdf

    def spy(html: str) -> bytes:
        rendered.append(html)
        return real(html)

    monkeypatch.setattr(report_views, "render_pdf", spy)
    before = AuditEvent.objects.count()
    response = secretary_client.get(f"/patients/{patient.uuid}/acces.pdf?du=2020-01-01")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="releve-acces-')
    assert response.content.startswith(b"%PDF")
    [html] = rendered
    for text in ("ROUSSEL", "Jeanne Marie", "17/04/1952", "Olivier DEHORS", "journal d'audit"):
        assert text in html
    assert "du 01/01/2020" in html or "depuis le 01/01/2020" in html
    assert "http" not in html.replace("http-equiv", "")  # nothing to fetch
    event = only_new_event(before)
    assert (event.action, json.loads(event.details)) == (
        Action.ACCESS_REPORT_EXPORTED,
        {"format": "pdf", "period": {"from": "2020-01-01", "to": ""}},
    )


def test_the_pdf_refuses_to_fetch_anything() -> None:
    html = '<p>Texte</p><img src="http://192.0.2.1/x.png"><img src="file:///etc/passwd">'
    assert report_views.render_pdf(html).startswith(b"%PDF")


@pytest.mark.django_db(transaction=True)
def test_the_audit_chain_stays_verifiable_after_reports_are_produced(
    history: dict[str, Any], secretary_client: Client
) -> None:
    """Committed for real, so the test settings' on-commit sealer links every event."""
    patient = history["patient"]
    assert secretary_client.get(f"/patients/{patient.uuid}/acces/").status_code == 200
    _raw, table = csv_of(secretary_client.get(f"/patients/{patient.uuid}/acces.csv"))
    assert len(table) == 1 + 5 + 2  # headers, the history, the page's and the export's traces
    assert secretary_client.get(f"/patients/{patient.uuid}/acces.pdf").status_code == 200
    report = verify_chain()
    assert report.ok, report.broken
    assert report.pending == 0
    assert report.checked == AuditEvent.objects.count()
    assert AuditEvent.objects.filter(action__startswith="patient.access_report").count() == 3
