"""The patient access matrix: every patient route × every relationship to the patient × GET
and POST → the expected answer. A new patient route without an entry fails the suite.

Personas (all physicians or GPs unless said): ``care_team`` (in the patient's care team);
``rcp_participant`` (a current case access as participant of an RCP meeting: read-only);
``gp`` (the patient's médecin traitant); ``same_structure_outsider`` (works where the patient is
registered, that structure does not share its patients); ``sharing_colleague`` (works at a
structure that shares its registered patients, where the patient is registered);
``other_structure_outsider``; ``no_charter`` (care team, charter not accepted);
``deactivated`` (care team, account deactivated); ``emergency_active`` / ``emergency_expired``
(break-glass access open / expired); ``anonymous``.

Each object route is tried on two patients: ``normal`` and ``objecting`` (objected to sharing
outside the care team). Outside what one may see, the answer is the 404 of a patient that
does not exist.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dcc.accounts.choices import Role
from dcc.accounts.models import CharterAcceptance, Membership, Structure, User
from dcc.audit.models import AuditEvent
from dcc.core.context import system_actor
from dcc.core.tests.test_access_matrix import _check, _expected, _route_names, persona_client
from dcc.patients import services
from dcc.patients.choices import CareTeamSource, CaseAccessSource, IdentityStatus
from dcc.patients.models import CareTeamMember, EmergencyAccess, Patient, PatientIdentifier

PERSONAS = (
    "anonymous",
    "no_charter",
    "deactivated",
    "care_team",
    "rcp_participant",
    "gp",
    "same_structure_outsider",
    "sharing_colleague",
    "other_structure_outsider",
    "emergency_active",
    "emergency_expired",
)
RELATIONS = ("normal", "objecting")
Expect = dict[str, Any]

ANON_LIKE: Expect = {"anonymous": 302, "no_charter": 302, "deactivated": 302}
ANON_LIKE_POST: Expect = {**ANON_LIKE, "no_charter": 403}
INVISIBLE: Expect = {
    "same_structure_outsider": 404,
    "other_structure_outsider": 404,
    "emergency_expired": 404,
}
WRITE_OK = frozenset({200, 302, 400})


def _on_patient(
    *, carer: Any, read_only: Any, anon: Expect = ANON_LIKE, objecting_only: Any = 404
) -> Expect:
    """Expectations for a patient route: ``carer`` for the personas caring for the patient,
    ``read_only`` for the RCP participant and the emergency access."""
    return {
        **anon,
        **INVISIBLE,
        "care_team": carer,
        "gp": carer,
        "sharing_colleague": {"normal": carer, "objecting": objecting_only},
        "rcp_participant": read_only,
        "emergency_active": {"normal": read_only, "objecting": 404},
    }


def _everyone(status: Any, anon: Expect = ANON_LIKE) -> Expect:
    return {**anon, **{p: status for p in PERSONAS if p not in anon}}


READ_GET = _on_patient(carer=200, read_only=200)
READ_POST_REFUSED = _on_patient(carer=405, read_only=405, anon=ANON_LIKE_POST)
WRITE_GET = _on_patient(carer=200, read_only=403)
WRITE_POST = _on_patient(carer=WRITE_OK, read_only=403, anon=ANON_LIKE_POST)
WRITE_GET_REFUSED = _on_patient(carer=405, read_only=403)
REPORT_GET = _on_patient(carer=200, read_only=403)

# route name -> (GET expectations, POST expectations or None when POST is not offered).
MATRIX: dict[str, tuple[Expect, Expect | None]] = {
    "patients:search": (_everyone(200), _everyone(405, ANON_LIKE_POST)),
    "patients:register": (_everyone(200), _everyone(400, ANON_LIKE_POST)),
    "patients:emergency_start": (_everyone(200), _everyone(400, ANON_LIKE_POST)),
    "patients:record": (READ_GET, READ_POST_REFUSED),
    "patients:identity_edit": (WRITE_GET, WRITE_POST),
    "patients:contact": (WRITE_GET, WRITE_POST),
    "patients:care_team": (WRITE_GET, WRITE_POST),
    "patients:care_team_remove": (
        WRITE_GET_REFUSED,
        _on_patient(carer=302, read_only=403, anon=ANON_LIKE_POST),
    ),
    "patients:objection": (WRITE_GET, WRITE_POST),
    "patients:duplicates": (
        WRITE_GET,
        _on_patient(carer=405, read_only=403, anon=ANON_LIKE_POST),
    ),
    # Without the other record to merge with (?avec=…), there is nothing to show: 404.
    "patients:merge": (
        _on_patient(carer=404, read_only=403),
        _on_patient(carer=404, read_only=403, anon=ANON_LIKE_POST),
    ),
    # No such merge on this record: 404 for those who may see it.
    "patients:unmerge": (
        WRITE_GET_REFUSED,
        _on_patient(carer=404, read_only=403, anon=ANON_LIKE_POST),
    ),
    # Only the holder of an open emergency access can close it.
    "patients:emergency_end": (
        _on_patient(carer=405, read_only=405),
        {
            **_on_patient(carer=404, read_only=404, anon=ANON_LIKE_POST),
            "emergency_active": {"normal": 302, "objecting": 404},
        },
    ),
    "patients:access_report": (REPORT_GET, _everyone(405, ANON_LIKE_POST)),
    "patients:access_report_csv": (REPORT_GET, None),
    "patients:access_report_pdf": (REPORT_GET, None),
}
GLOBAL_ROUTES = {"patients:search", "patients:register", "patients:emergency_start"}


def test_every_patient_route_has_an_entry_in_the_matrix() -> None:
    routes = {name for name in _route_names() if name.startswith("patients:")}
    assert routes - MATRIX.keys() == set(), "add these routes to the patient access matrix"
    assert MATRIX.keys() - routes == set(), "these matrix entries name no route"


def test_every_persona_has_an_expectation() -> None:
    for route, entries in MATRIX.items():
        for entry in entries:
            if entry is not None:
                assert set(entry) == set(PERSONAS), route


IDENTITY = services.Identity(
    birth_name="Lefèvre",
    birth_first_names="Odile Marie",
    sex="F",
    birth_date=dt.date(1951, 3, 9),
    birth_place_code="33063",
    identity_status=IdentityStatus.PROVISIONAL,
)


class World:
    def __init__(self, structures: dict[str, Structure], charter: Any) -> None:
        hospital, other, network = (
            structures["hospital"],
            structures["other"],
            structures["network"],
        )
        Structure.objects.filter(pk=other.pk).update(shares_registered_patients=True)

        def make(name: str, structure: Structure, role: str = Role.PHYSICIAN) -> User:
            user = User.objects.create_user(
                f"{name}@test.dcc", "x", first_name=name.title(), last_name="Test"
            )
            Membership.objects.create(user=user, structure=structure, role=role)
            if name != "no_charter":
                CharterAcceptance.objects.create(user=user, charter=charter)
            return user

        secretary = make("secretary", hospital, Role.RCP_SECRETARY)
        self.users = {
            "care_team": make("care_team", hospital),
            "no_charter": make("no_charter", hospital),
            "deactivated": make("deactivated", hospital),
            "rcp_participant": make("rcp_participant", network),
            "gp": make("gp", network, Role.GENERAL_PRACTITIONER),
            "same_structure_outsider": make("same_structure_outsider", hospital),
            "sharing_colleague": make("sharing_colleague", other),
            "other_structure_outsider": make("other_structure_outsider", network),
            "emergency_active": make("emergency_active", network),
            "emergency_expired": make("emergency_expired", network),
        }
        nurse = make("nurse", hospital, Role.COORDINATING_NURSE)
        self.patients: dict[str, Patient] = {}
        self.removable: dict[str, CareTeamMember] = {}
        now = timezone.now()
        for relation, first_names in (("normal", "Odile Marie"), ("objecting", "Paule")):
            patient = services.register_patient(
                actor=secretary,
                structure=hospital,
                identity=IDENTITY.__class__(
                    **{**IDENTITY.__dict__, "birth_first_names": first_names}
                ),
                despite_possible_duplicates=True,
            )
            PatientIdentifier.objects.create(patient=patient, structure=other, value="")
            Patient.objects.filter(pk=patient.pk).update(general_practitioner=self.users["gp"])
            for name in ("care_team", "no_charter", "deactivated"):
                CareTeamMember.objects.create(
                    patient=patient, user=self.users[name], source=CareTeamSource.EXPLICIT
                )
            self.removable[relation] = CareTeamMember.objects.create(
                patient=patient, user=nurse, source=CareTeamSource.EXPLICIT
            )
            services.grant_case_access(
                actor=system_actor("test"),
                patient=patient,
                user=self.users["rcp_participant"],
                source=CaseAccessSource.RCP_MEETING,
                reference="rcp-test",
                starts_at=now - dt.timedelta(hours=1),
                ends_at=now + dt.timedelta(days=1),
            )
            EmergencyAccess.objects.create(
                patient=patient,
                user=self.users["emergency_expired"],
                reason="Urgence vitale, patient inconscient aux urgences.",
                expires_at=now - dt.timedelta(minutes=1),
            )
            self.patients[relation] = patient
        services.start_emergency_access(
            actor=self.users["emergency_active"],
            patient=self.patients["normal"],
            reason="Urgence vitale, patient inconscient aux urgences.",
            authenticated_at=now,
        )
        Patient.objects.filter(pk=self.patients["objecting"].pk).update(objects_to_sharing=True)
        for relation in RELATIONS:
            self.patients[relation].refresh_from_db()

    def args(self, route: str, relation: str) -> list[Any]:
        if route in GLOBAL_ROUTES:
            return []
        patient = self.patients[relation]
        if route == "patients:care_team_remove":
            return [patient.uuid, self.removable[relation].uuid]
        if route == "patients:unmerge":
            return [patient.uuid, uuid.uuid4()]
        return [patient.uuid]

    def client(self, persona: str) -> Client:
        user = None if persona == "anonymous" else self.users[persona]
        return persona_client(user, deactivate=persona == "deactivated")


@pytest.fixture
def world(structures: dict[str, Structure], charter: Any) -> World:
    return World(structures, charter)


def _cells(method: int) -> list[tuple[str, str, str]]:
    return [
        (route, persona, relation)
        for route, entries in MATRIX.items()
        if entries[method] is not None
        for persona in PERSONAS
        for relation in (("normal",) if route in GLOBAL_ROUTES else RELATIONS)
    ]


def _changes() -> int:
    return (
        AuditEvent.objects.filter(outcome="success")
        .exclude(action__startswith="auth.")
        .exclude(action__in=["patient.viewed", "patient.access_report_viewed"])
        .count()
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "persona", "relation"), _cells(0))
def test_get_answers_as_the_matrix_says(
    world: World, route: str, persona: str, relation: str
) -> None:
    url = reverse(route, args=world.args(route, relation))
    response = world.client(persona).get(url)
    _check(
        response.status_code,
        _expected(MATRIX[route][0], persona, relation),
        f"GET {url} as {persona} ({relation})",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "persona", "relation"), _cells(1))
def test_post_answers_as_the_matrix_says(
    world: World, route: str, persona: str, relation: str
) -> None:
    url = reverse(route, args=world.args(route, relation))
    before = _changes()
    response = world.client(persona).post(url, {})
    expected = MATRIX[route][1]
    assert expected is not None
    want = _expected(expected, persona, relation)
    _check(response.status_code, want, f"POST {url} as {persona} ({relation})")
    if want in (403, 404, 405) or persona in ANON_LIKE:
        assert _changes() == before, f"POST {url} as {persona} was refused but changed something"


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_a_hidden_patient_is_answered_exactly_like_a_missing_one(world: World, accept: str) -> None:
    client = world.client("other_structure_outsider")
    hidden_id, missing_id = world.patients["normal"].uuid, uuid.uuid4()
    hidden = client.get(reverse("patients:record", args=[hidden_id]), HTTP_ACCEPT=accept)
    missing = client.get(reverse("patients:record", args=[missing_id]), HTTP_ACCEPT=accept)
    assert hidden.status_code == missing.status_code == 404
    assert hidden["Content-Type"] == missing["Content-Type"]
    assert _normalised(hidden.content, hidden_id) == _normalised(missing.content, missing_id)


def _normalised(content: bytes, requested: uuid.UUID) -> bytes:
    """The page minus what differs on every response (CSRF token mask, request reference)
    and the requested address (the language form sends the user back to it)."""
    content = content.replace(str(requested).encode(), b"<id>")
    content = re.sub(rb"\b[0-9a-f]{32}\b", b"<ref>", content)
    return re.sub(rb'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+', rb"\1", content)
