"""The patient screens, end to end through the test client: what is saved, what is refused,
what is traced."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import current_token
from dcc.accounts.models import Structure, User
from dcc.audit.models import AuditEvent
from dcc.patients import services
from dcc.patients.choices import IdentityStatus
from dcc.patients.models import EmergencyAccess, Patient, PatientIdentityVersion, PatientMerge

pytestmark = pytest.mark.django_db

FORM = {
    "birth_name": "Lefèvre",
    "birth_first_names": "Odile Marie",
    "used_name": "",
    "used_first_name": "",
    "sex": "F",
    "birth_date": "1951-03-09",
    "birth_place_code": "33063",
    "ins_matricule": "",
    "ins_kind": "",
    "identity_status": IdentityStatus.PROVISIONAL,
    "identity_evidence": "",
    "ipp": "",
}


@pytest.fixture
def secretary(rcp_secretary: User, logged_in: Any) -> Client:
    client: Client = logged_in(rcp_secretary)
    return client


def _register(client: Client, structure: Structure, **changes: str) -> Any:
    return client.post("/patients/nouveau/", {**FORM, "structure": str(structure.uuid), **changes})


def test_registration_saves_the_patient_and_opens_the_record(
    secretary: Client, structures: dict[str, Structure]
) -> None:
    response = _register(secretary, structures["hospital"], ipp="IPP-1")
    assert response.status_code == 302
    patient = Patient.objects.get()
    assert response["Location"] == f"/patients/{patient.uuid}/"
    assert patient.birth_name == "LEFÈVRE"
    assert patient.identifiers.get().value == "IPP-1"
    page = secretary.get(response["Location"])
    assert page.status_code == 200
    assert "LEFÈVRE" in page.content.decode()


def test_live_check_shows_errors_and_saves_nothing(
    secretary: Client, structures: dict[str, Structure]
) -> None:
    response = secretary.post(
        "/patients/nouveau/",
        {
            **FORM,
            "structure": str(structures["hospital"].uuid),
            "ins_matricule": "2 51 03 33 063 012 00",
            "ins_kind": "NIR",
            "_check": "1",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "clé" in response.content.decode().lower()
    assert "Bordeaux" in response.content.decode()
    assert not Patient.objects.exists()


def test_bad_input_gets_french_errors_and_nothing_is_saved(
    secretary: Client, structures: dict[str, Structure]
) -> None:
    response = _register(
        secretary,
        structures["hospital"],
        birth_date="2999-01-01",
        birth_place_code="ABCDE",
        birth_name="<script>alert(1)</script>",
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "futur" in body
    assert "code INSEE" in body
    assert "<script>alert(1)</script>" not in body
    assert not Patient.objects.exists()


def test_a_look_alike_is_shown_before_saving_and_can_be_overridden(
    secretary: Client, structures: dict[str, Structure]
) -> None:
    assert _register(secretary, structures["hospital"]).status_code == 302
    warned = _register(secretary, structures["hospital"], birth_name="LEFEVRE")
    assert warned.status_code == 400
    assert "Dossiers ressemblants" in warned.content.decode()
    assert Patient.objects.count() == 1
    confirmed = _register(
        secretary, structures["hospital"], birth_name="LEFEVRE", not_a_duplicate="on"
    )
    assert confirmed.status_code == 302
    assert Patient.objects.count() == 2


def test_look_alikes_outside_the_users_teams_are_not_described(
    secretary: Client, structures: dict[str, Structure], outsider: User
) -> None:
    services.register_patient(
        actor=outsider,
        structure=structures["other"],
        identity=services.Identity(
            birth_name="Lefèvre",
            birth_first_names="Odile",
            sex="F",
            birth_date=dt.date(1951, 3, 9),
            birth_place_code="33063",
        ),
    )
    warned = _register(secretary, structures["hospital"])
    body = warned.content.decode()
    assert "hors de vos équipes" in body
    checked = secretary.post(
        "/patients/nouveau/",
        {**FORM, "structure": str(structures["hospital"].uuid), "_check": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert "hors de vos équipes" in checked.content.decode()
    assert (
        '"hidden":true' in AuditEvent.objects.filter(action="patient.searched").latest("id").details
    )
    assert "/patients/" + str(Patient.objects.get().uuid) not in body


def test_opening_the_record_writes_one_access_event(
    secretary: Client, rcp_secretary: User, structures: dict[str, Structure]
) -> None:
    _register(secretary, structures["hospital"])
    patient = Patient.objects.get()
    before = AuditEvent.objects.filter(action="patient.viewed").count()
    assert secretary.get(f"/patients/{patient.uuid}/").status_code == 200
    events = AuditEvent.objects.filter(action="patient.viewed")
    assert events.count() == before + 1
    event = events.latest("id")
    assert event.patient_ref == str(patient.uuid)
    assert event.actor_user_id == str(rcp_secretary.uuid)
    assert event.purpose == "normal"


def test_identity_change_is_a_new_version(
    secretary: Client, structures: dict[str, Structure]
) -> None:
    _register(secretary, structures["hospital"])
    patient = Patient.objects.get()
    response = secretary.post(
        f"/patients/{patient.uuid}/identite/",
        {**FORM, "birth_first_names": "Odile Marie Jeanne", "reason": "Acte de naissance vu"},
    )
    assert response.status_code == 302
    assert PatientIdentityVersion.objects.filter(patient=patient).count() == 2
    patient.refresh_from_db()
    assert patient.birth_first_names == "Odile Marie Jeanne"


def test_merge_through_the_screens_and_undo_it(
    secretary: Client, structures: dict[str, Structure]
) -> None:
    _register(secretary, structures["hospital"], ipp="A1")
    _register(secretary, structures["hospital"], birth_name="LEFEVRE", ipp="", not_a_duplicate="on")
    first, second = Patient.objects.order_by("id")
    compare = secretary.get(f"/patients/{second.uuid}/fusion/?avec={first.uuid}")
    assert compare.status_code == 200
    merged = secretary.post(
        f"/patients/{second.uuid}/fusion/",
        {"other": str(first.uuid), "keep": "other", "reason": "Même INS, même pièce"},
    )
    assert merged.status_code == 302
    assert merged["Location"] == f"/patients/{first.uuid}/"
    second.refresh_from_db()
    assert second.merged_into_id == first.pk
    # The old address leads to the kept record.
    old = secretary.get(f"/patients/{second.uuid}/")
    assert old.status_code == 302 and old["Location"] == f"/patients/{first.uuid}/"
    undone = secretary.post(f"/patients/{first.uuid}/fusions/{second.uuid}/annuler/")
    assert undone.status_code == 302
    assert PatientMerge.objects.get().undone_at is not None
    second.refresh_from_db()
    assert second.merged_into_id is None


def test_search_screen_finds_by_name_prefix_without_accents(
    secretary: Client, structures: dict[str, Structure]
) -> None:
    _register(secretary, structures["hospital"])
    found = secretary.get("/patients/?q=lef", HTTP_HX_REQUEST="true")
    assert found.status_code == 200
    assert "LEFÈVRE" in found.content.decode()
    traced = AuditEvent.objects.filter(action="patient.searched").latest("id")
    assert str(Patient.objects.get().uuid) in traced.details
    assert '"text":"lef"' in traced.details
    assert "<html" not in found.content.decode()
    none = secretary.get("/patients/?q=%27+OR+1%3D1+--")
    assert "Aucun patient" in none.content.decode()


def test_care_team_and_objection_screens(
    secretary: Client, structures: dict[str, Structure], oncologist: User
) -> None:
    _register(secretary, structures["hospital"])
    patient = Patient.objects.get()
    User.objects.filter(pk=oncologist.pk).update(rpps="10003685943")
    added = secretary.post(f"/patients/{patient.uuid}/equipe/", {"rpps": "10003685943"})
    assert added.status_code == 302
    unknown = secretary.post(f"/patients/{patient.uuid}/equipe/", {"rpps": "10000000000"})
    assert unknown.status_code == 400
    objected = secretary.post(
        f"/patients/{patient.uuid}/opposition/", {"reason": "Exprimée oralement en consultation"}
    )
    assert objected.status_code == 302
    patient.refresh_from_db()
    assert patient.objects_to_sharing


def test_emergency_access_through_the_screen_needs_the_second_factor(
    client: Client,
    logged_in: Any,
    outsider: User,
    rcp_secretary: User,
    structures: dict[str, Structure],
) -> None:
    patient = services.register_patient(
        actor=rcp_secretary,
        structure=structures["hospital"],
        identity=services.Identity(
            birth_name="Garnier",
            birth_first_names="Louis",
            sex="M",
            birth_date=dt.date(1944, 9, 12),
            birth_place_code="69123",
        ),
    )
    doctor = logged_in(outsider)
    assert doctor.get(f"/patients/{patient.uuid}/").status_code == 404
    form = {
        "birth_name": "garnier",
        "first_name": "Louis",
        "birth_date": "1944-09-12",
        "reason": "Patient admis inconscient aux urgences, traitement en cours à connaître",
    }
    wrong = doctor.post("/patients/urgence/", {**form, "otp_token": "000000"})
    assert wrong.status_code == 400
    assert not EmergencyAccess.objects.exists()
    device = TOTPDevice.objects.get(user=outsider)
    # The code used at login cannot be replayed, and the wrong code throttled the device.
    TOTPDevice.objects.filter(pk=device.pk).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    device.refresh_from_db()
    opened = doctor.post("/patients/urgence/", {**form, "otp_token": current_token(device)})
    assert opened.status_code == 302, opened.content.decode()[-3000:]
    assert opened["Location"] == f"/patients/{patient.uuid}/"
    record = doctor.get(opened["Location"])
    assert record.status_code == 200
    assert "Accès en urgence" in record.content.decode()
    assert AuditEvent.objects.filter(action="patient.viewed").latest("id").purpose == "emergency"
    # Read-only: no writes under break-glass.
    assert doctor.get(f"/patients/{patient.uuid}/identite/").status_code == 403
    closed = doctor.post(f"/patients/{patient.uuid}/urgence/fin/")
    assert closed.status_code == 302
    assert doctor.get(f"/patients/{patient.uuid}/").status_code == 404


def test_contact_details_and_gp_are_changed_and_audited(
    secretary: Client, structures: dict[str, Structure], oncologist: User
) -> None:
    _register(secretary, structures["hospital"])
    patient = Patient.objects.get()
    User.objects.filter(pk=oncologist.pk).update(rpps="10003685943")
    bad = secretary.post(
        f"/patients/{patient.uuid}/coordonnees/",
        {"postal_code": "3300", "phone": "12", "email": "x", "gp_rpps": "10000000000"},
    )
    assert bad.status_code == 400
    patient.refresh_from_db()
    assert patient.postal_code == ""
    saved = secretary.post(
        f"/patients/{patient.uuid}/coordonnees/",
        {
            "address": "3 rue des Lilas",
            "postal_code": "33000",
            "city": "Bordeaux",
            "phone": "06 12 34 56 78",
            "email": "Odile@exemple.fr",
            "gp_rpps": "10003685943",
        },
    )
    assert saved.status_code == 302
    patient.refresh_from_db()
    assert (patient.phone, patient.email) == ("0612345678", "odile@exemple.fr")
    assert patient.general_practitioner_id == oncologist.pk
    event = AuditEvent.objects.filter(action="patient.contact_changed").get()
    assert "Bordeaux" not in event.details
    assert secretary.get(f"/patients/{patient.uuid}/").status_code == 200
