"""Administration screens: structures, professionals, roles and invitations."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from stdnum import luhn

from conftest import PASSWORD
from dcc.accounts import services
from dcc.accounts.choices import Role, StructureIdType, StructureKind
from dcc.accounts.models import Invitation, Membership, Structure, User
from dcc.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def finess(number: int) -> str:
    """A well-formed FINESS (Gironde, valid check key) for test structures."""
    base = f"33{number:06d}"
    return base + luhn.calc_check_digit(base)


def details(event: AuditEvent) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(event.details)
    return parsed


def make_structure(name: str, number: int, parent: Structure | None = None) -> Structure:
    return Structure.objects.create(
        name=name,
        kind=StructureKind.HOSPITAL,
        national_id_type=StructureIdType.FINESS,
        national_id=finess(number),
        parent=parent,
    )


def make_member(
    email: str, structure: Structure, role: str = Role.PHYSICIAN, **fields: Any
) -> User:
    user = User.objects.create_user(
        email, PASSWORD, first_name="Prénom", last_name=email.split("@")[0], **fields
    )
    Membership.objects.create(user=user, structure=structure, role=role)
    return user


def url(name: str, *args: Any) -> str:
    return reverse(f"administration:{name}", args=args)


# --- Access ----------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client: Client, db: None) -> None:
    response = client.get(url("index"))
    assert response.status_code == 302
    assert response["Location"].startswith("/compte/connexion/")


@pytest.mark.parametrize(
    "name", ["index", "structure_list", "structure_create", "user_list", "invitation_list"]
)
def test_an_oncologist_is_refused_every_administration_screen(
    logged_in: Any, oncologist: User, name: str
) -> None:
    response = logged_in(oncologist).get(url(name))
    assert response.status_code == 403
    assert "Accès refusé" in response.content.decode()


def test_an_oncologist_cannot_grant_themselves_a_role_by_posting(
    logged_in: Any, oncologist: User, structures: dict[str, Structure]
) -> None:
    response = logged_in(oncologist).post(
        url("user_grant_role", oncologist.uuid),
        {"structure": str(structures["hospital"].uuid), "role": Role.STRUCTURE_ADMIN},
    )
    assert response.status_code == 403
    assert not Membership.objects.filter(user=oncologist, role=Role.STRUCTURE_ADMIN).exists()


def test_the_platform_admin_sees_counts_and_links_on_the_index(
    logged_in: Any, platform_admin: User, structures: dict[str, Structure], oncologist: User
) -> None:
    response = logged_in(platform_admin).get(url("index"))
    assert response.status_code == 200
    assert response.context["counts"] == {"structures": 3, "users": 2, "pending_invitations": 0}
    body = response.content.decode()
    for name in ("structure_list", "user_list", "invitation_list", "invitation_create"):
        assert url(name) in body


def test_a_hospital_admin_counts_only_what_they_administer(
    logged_in: Any, hospital_admin: User, oncologist: User, outsider: User
) -> None:
    response = logged_in(hospital_admin).get(url("index"))
    assert response.context["counts"] == {"structures": 1, "users": 2, "pending_invitations": 0}


# --- Structures ------------------------------------------------------------------------------


def test_the_platform_admin_lists_every_structure_with_its_kind_and_parent(
    logged_in: Any, platform_admin: User, structures: dict[str, Structure]
) -> None:
    response = logged_in(platform_admin).get(url("structure_list"))
    body = response.content.decode()
    assert [s.name for s in response.context["page"]] == [
        "CHU Test",
        "Clinique Ailleurs",
        "Réseau Test",
    ]
    assert "Réseau régional de cancérologie" in body
    assert '<th scope="col">' in body


def test_the_structure_list_filters_by_kind_and_searches_name_or_identifier(
    logged_in: Any, platform_admin: User, structures: dict[str, Structure]
) -> None:
    client = logged_in(platform_admin)
    by_kind = client.get(url("structure_list"), {"kind": StructureKind.PRIVATE_CLINIC})
    assert [s.name for s in by_kind.context["page"]] == ["Clinique Ailleurs"]
    by_name = client.get(url("structure_list"), {"q": "chu"})
    assert [s.name for s in by_name.context["page"]] == ["CHU Test"]
    by_id = client.get(url("structure_list"), {"q": "330000019"})
    assert [s.name for s in by_id.context["page"]] == ["Réseau Test"]


def test_a_hospital_admin_sees_only_their_structure_and_its_children(
    logged_in: Any, hospital_admin: User, structures: dict[str, Structure]
) -> None:
    make_structure("Service d'oncologie", 100, parent=structures["hospital"])
    client = logged_in(hospital_admin)
    response = client.get(url("structure_list"))
    assert [s.name for s in response.context["page"]] == ["CHU Test", "Service d'oncologie"]
    assert client.get(url("structure_detail", structures["hospital"].uuid)).status_code == 200


@pytest.mark.parametrize("name", ["structure_detail", "structure_edit"])
def test_a_hospital_admin_gets_404_on_a_structure_they_do_not_administer(
    logged_in: Any, hospital_admin: User, structures: dict[str, Structure], name: str
) -> None:
    client = logged_in(hospital_admin)
    assert client.get(url(name, structures["network"].uuid)).status_code == 404
    assert client.get(url(name, structures["other"].uuid)).status_code == 404


def test_the_platform_admin_creates_a_structure_and_it_is_audited(
    logged_in: Any, platform_admin: User, structures: dict[str, Structure]
) -> None:
    response = logged_in(platform_admin).post(
        url("structure_create"),
        {
            "name": "Centre de Coordination Sud",
            "kind": StructureKind.COORDINATION_CENTRE,
            "national_id_type": StructureIdType.FINESS,
            "national_id": finess(200),
            "parent": str(structures["network"].uuid),
        },
    )
    created = Structure.objects.get(name="Centre de Coordination Sud")
    assert response.status_code == 302
    assert response["Location"] == url("structure_detail", created.uuid)
    assert created.parent == structures["network"]
    event = AuditEvent.objects.get(action="structure.created")
    assert event.resource_id == str(created.uuid)
    assert details(event)["after"]["national_id"] == finess(200)


def test_a_malformed_finess_is_refused_in_french_and_nothing_is_saved(
    logged_in: Any, platform_admin: User, db: None
) -> None:
    response = logged_in(platform_admin).post(
        url("structure_create"),
        {
            "name": "Clinique Erronée",
            "kind": StructureKind.PRIVATE_CLINIC,
            "national_id_type": StructureIdType.FINESS,
            "national_id": "330000010",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["national_id"] == [
        "Numéro FINESS invalide : 9 caractères dont une clé de contrôle."
    ]
    assert 'id="id_national_id_error"' in response.content.decode()
    assert not Structure.objects.filter(name="Clinique Erronée").exists()
    assert not AuditEvent.objects.filter(action="structure.created").exists()


def test_a_duplicate_finess_is_refused_on_the_identifier_field(
    logged_in: Any, platform_admin: User, structures: dict[str, Structure]
) -> None:
    response = logged_in(platform_admin).post(
        url("structure_create"),
        {
            "name": "Doublon",
            "kind": StructureKind.HOSPITAL,
            "national_id_type": StructureIdType.FINESS,
            "national_id": structures["hospital"].national_id,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["national_id"] == [
        "Une structure porte déjà cet identifiant."
    ]
    assert Structure.objects.count() == 3


def test_a_hospital_admin_creates_structures_only_under_one_they_administer(
    logged_in: Any, hospital_admin: User, structures: dict[str, Structure]
) -> None:
    client = logged_in(hospital_admin)
    page = client.get(url("structure_create"))
    parent_choices = dict(page.context["form"].fields["parent"].choices)
    assert set(parent_choices) == {"", str(structures["hospital"].uuid)}
    fields = {
        "name": "Service d'oncologie",
        "kind": StructureKind.HOSPITAL,
        "national_id_type": StructureIdType.FINESS,
        "national_id": finess(300),
    }
    without_parent = client.post(url("structure_create"), fields)
    assert "parent" in without_parent.context["form"].errors
    elsewhere = client.post(
        url("structure_create"), {**fields, "parent": str(structures["network"].uuid)}
    )
    assert "parent" in elsewhere.context["form"].errors
    assert not Structure.objects.filter(name="Service d'oncologie").exists()
    created = client.post(
        url("structure_create"), {**fields, "parent": str(structures["hospital"].uuid)}
    )
    assert created.status_code == 302
    assert Structure.objects.get(name="Service d'oncologie").parent == structures["hospital"]


def test_the_structure_page_shows_members_children_and_pending_invitations(
    logged_in: Any,
    platform_admin: User,
    structures: dict[str, Structure],
    oncologist: User,
) -> None:
    make_structure("Service d'oncologie", 100, parent=structures["hospital"])
    services.invite_user(
        actor=platform_admin,
        email="nouvelle@chu.test",
        first_name="Nina",
        last_name="Nouvelle",
        structure=structures["hospital"],
        role=Role.RCP_SECRETARY,
    )
    body = (
        logged_in(platform_admin)
        .get(url("structure_detail", structures["hospital"].uuid))
        .content.decode()
    )
    assert "Claire MARTIN" in body and "Médecin" in body
    assert "Service d&#x27;oncologie" in body
    assert "nouvelle@chu.test" in body
    assert "Réseau Test" in body


def test_the_platform_admin_edits_a_structure_and_the_change_is_audited(
    logged_in: Any, platform_admin: User, structures: dict[str, Structure]
) -> None:
    hospital = structures["hospital"]
    response = logged_in(platform_admin).post(
        url("structure_edit", hospital.uuid),
        {"name": "CHU Renommé", "kind": StructureKind.CANCER_CENTRE, "parent": ""},
    )
    assert response.status_code == 302
    hospital.refresh_from_db()
    assert (hospital.name, hospital.parent, hospital.is_active) == ("CHU Renommé", None, False)
    assert hospital.national_id == "330000035"
    event = AuditEvent.objects.get(action="structure.updated")
    assert details(event)["before"]["name"] == "CHU Test"
    assert details(event)["after"]["parent"] is None


def test_sharing_registered_patients_is_set_per_structure_and_audited(
    logged_in: Any, platform_admin: User, structures: dict[str, Structure]
) -> None:
    hospital = structures["hospital"]
    response = logged_in(platform_admin).post(
        url("structure_edit", hospital.uuid),
        {
            "name": "CHU Test",
            "kind": hospital.kind,
            "parent": str(structures["network"].uuid),
            "is_active": "on",
            "shares_registered_patients": "on",
        },
    )
    assert response.status_code == 302
    hospital.refresh_from_db()
    assert hospital.shares_registered_patients
    event = AuditEvent.objects.get(action="structure.updated")
    assert details(event)["before"]["shares_registered_patients"] is False
    assert details(event)["after"]["shares_registered_patients"] is True


def test_a_structure_cannot_be_attached_below_itself(
    logged_in: Any, platform_admin: User, structures: dict[str, Structure]
) -> None:
    network = structures["network"]
    response = logged_in(platform_admin).post(
        url("structure_edit", network.uuid),
        {
            "name": network.name,
            "kind": network.kind,
            "parent": str(structures["hospital"].uuid),
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "parent" in response.context["form"].errors
    network.refresh_from_db()
    assert network.parent is None


def test_a_hospital_admin_cannot_detach_their_structure_from_its_network(
    logged_in: Any, hospital_admin: User, structures: dict[str, Structure]
) -> None:
    hospital = structures["hospital"]
    response = logged_in(hospital_admin).post(
        url("structure_edit", hospital.uuid),
        {"name": "CHU Test Sud", "kind": hospital.kind, "parent": "", "is_active": "on"},
    )
    assert response.status_code == 302
    hospital.refresh_from_db()
    assert hospital.name == "CHU Test Sud"
    assert hospital.parent == structures["network"]


# --- Professionals ---------------------------------------------------------------------------


def test_the_professional_list_searches_by_name_email_or_rpps(
    logged_in: Any, platform_admin: User, oncologist: User, rcp_secretary: User
) -> None:
    client = logged_in(platform_admin)
    for term in ("claire martin", "oncologue@", "10000100007"):
        response = client.get(url("user_list"), {"q": term})
        assert [u.email for u in response.context["page"]] == [oncologist.email], term


def test_the_professional_list_filters_by_structure_role_and_status(
    logged_in: Any,
    platform_admin: User,
    structures: dict[str, Structure],
    oncologist: User,
    rcp_secretary: User,
    outsider: User,
) -> None:
    services.set_user_active(actor=platform_admin, user=rcp_secretary, active=False)
    client = logged_in(platform_admin)

    def emails(**query: str) -> list[str]:
        return [u.email for u in client.get(url("user_list"), query).context["page"]]

    hospital = str(structures["hospital"].uuid)
    assert emails(structure=hospital) == [rcp_secretary.email, oncologist.email]
    assert emails(structure=hospital, role=Role.PHYSICIAN) == [oncologist.email]
    assert emails(role=Role.PHYSICIAN) == [outsider.email, oncologist.email]
    assert emails(status="inactive") == [rcp_secretary.email]
    assert rcp_secretary.email not in emails(status="active")


def test_a_hospital_admin_sees_only_professionals_of_their_structures(
    logged_in: Any, hospital_admin: User, oncologist: User, outsider: User
) -> None:
    client = logged_in(hospital_admin)
    listed = [u.email for u in client.get(url("user_list")).context["page"]]
    assert listed == [hospital_admin.email, oncologist.email]
    for name in ("user_detail", "user_edit", "user_deactivate"):
        assert client.get(url(name, outsider.uuid)).status_code == 404, name


def test_the_professional_page_shows_identity_profession_and_roles(
    logged_in: Any, platform_admin: User, oncologist: User
) -> None:
    oncologist.profession_code, oncologist.specialty_code = "G15_10", "G15_10/SM36"
    oncologist.save()
    response = logged_in(platform_admin).get(url("user_detail", oncologist.uuid))
    body = response.content.decode()
    assert "10000100007" in body
    assert "Médecin - Oncologie, opt médicale (SM)" in body
    assert "CHU Test" in body
    assert "Retirer le rôle Médecin (CHU Test)" in body


def test_granting_a_role_is_audited_with_before_and_after(
    logged_in: Any, platform_admin: User, structures: dict[str, Structure], oncologist: User
) -> None:
    hospital = structures["hospital"]
    response = logged_in(platform_admin).post(
        url("user_grant_role", oncologist.uuid),
        {"structure": str(hospital.uuid), "role": Role.RCP_COORDINATOR},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=oncologist, role=Role.RCP_COORDINATOR)
    event = AuditEvent.objects.get(action="role.granted", resource_id=str(membership.uuid))
    assert details(event) == {
        "target_user": str(oncologist.uuid),
        "target_rpps": "10000100007",
        "before": None,
        "after": {"structure": str(hospital.uuid), "role": "rcp_coordinator", "active": True},
    }


def test_granting_a_role_already_held_shows_a_french_error(
    logged_in: Any, platform_admin: User, structures: dict[str, Structure], oncologist: User
) -> None:
    response = logged_in(platform_admin).post(
        url("user_grant_role", oncologist.uuid),
        {"structure": str(structures["hospital"].uuid), "role": Role.PHYSICIAN},
    )
    assert response.status_code == 400
    assert response.context["grant_form"].errors["role"] == [
        "Ce professionnel a déjà ce rôle dans cette structure."
    ]


def test_revoking_a_role_is_audited_with_before_and_after(
    logged_in: Any,
    hospital_admin: User,
    structures: dict[str, Structure],
    oncologist: User,
) -> None:
    Membership.objects.create(
        user=oncologist, structure=structures["hospital"], role=Role.RCP_COORDINATOR
    )
    membership = Membership.objects.get(user=oncologist, role=Role.PHYSICIAN)
    response = logged_in(hospital_admin).post(
        url("user_revoke_role", oncologist.uuid, membership.uuid)
    )
    assert response["Location"] == url("user_detail", oncologist.uuid)
    membership.refresh_from_db()
    assert membership.revoked_at is not None and membership.revoked_by == hospital_admin
    event = AuditEvent.objects.get(action="role.revoked")
    assert event.actor_user_id == str(hospital_admin.uuid)
    assert details(event)["before"] == {
        "structure": str(structures["hospital"].uuid),
        "role": "physician",
        "active": True,
    }
    assert details(event)["after"]["active"] is False
    page = logged_in(hospital_admin).get(url("user_detail", oncologist.uuid))
    assert [m.role for m in page.context["revoked"]] == [Role.PHYSICIAN]


def test_revoking_the_last_role_an_admin_can_see_returns_to_the_list(
    logged_in: Any, hospital_admin: User, oncologist: User
) -> None:
    membership = Membership.objects.get(user=oncologist)
    response = logged_in(hospital_admin).post(
        url("user_revoke_role", oncologist.uuid, membership.uuid)
    )
    assert response["Location"] == url("user_list")


def test_a_hospital_admin_gets_404_revoking_a_role_held_elsewhere(
    logged_in: Any, hospital_admin: User, structures: dict[str, Structure], oncologist: User
) -> None:
    elsewhere = Membership.objects.create(
        user=oncologist, structure=structures["other"], role=Role.PHYSICIAN
    )
    response = logged_in(hospital_admin).post(
        url("user_revoke_role", oncologist.uuid, elsewhere.uuid)
    )
    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.revoked_at is None


def test_a_hospital_admin_cannot_name_a_security_officer(
    logged_in: Any, hospital_admin: User, structures: dict[str, Structure], oncologist: User
) -> None:
    response = logged_in(hospital_admin).post(
        url("user_grant_role", oncologist.uuid),
        {"structure": str(structures["hospital"].uuid), "role": Role.SECURITY_OFFICER},
    )
    assert response.status_code == 400
    assert "role" in response.context["grant_form"].errors
    assert not Membership.objects.filter(role=Role.SECURITY_OFFICER).exists()


def test_deactivation_asks_for_confirmation_then_closes_the_account_and_is_audited(
    logged_in: Any, hospital_admin: User, oncologist: User
) -> None:
    client = logged_in(hospital_admin)
    confirm = client.get(url("user_deactivate", oncologist.uuid))
    assert confirm.status_code == 200
    assert "Confirmer la désactivation" in confirm.content.decode()
    oncologist.refresh_from_db()
    assert oncologist.is_active
    response = client.post(url("user_deactivate", oncologist.uuid))
    assert response["Location"] == url("user_detail", oncologist.uuid)
    oncologist.refresh_from_db()
    assert not oncologist.is_active and oncologist.deactivated_at is not None
    event = AuditEvent.objects.get(action="user.deactivated")
    assert details(event)["before"] == {"is_active": True}
    assert details(event)["after"] == {"is_active": False}
    client.post(url("user_reactivate", oncologist.uuid))
    oncologist.refresh_from_db()
    assert oncologist.is_active
    assert AuditEvent.objects.filter(action="user.reactivated").count() == 1


def test_an_administrator_cannot_deactivate_their_own_account(
    logged_in: Any, platform_admin: User
) -> None:
    client = logged_in(platform_admin)
    assert client.post(url("user_deactivate", platform_admin.uuid)).status_code == 403
    platform_admin.refresh_from_db()
    assert platform_admin.is_active


def test_a_hospital_admin_cannot_close_or_rewrite_a_platform_admins_account(
    logged_in: Any, hospital_admin: User, platform_admin: User, structures: dict[str, Structure]
) -> None:
    Membership.objects.create(
        user=platform_admin, structure=structures["hospital"], role=Role.PHYSICIAN
    )
    client = logged_in(hospital_admin)
    page = client.get(url("user_detail", platform_admin.uuid)).content.decode()
    assert url("user_deactivate", platform_admin.uuid) not in page
    assert client.post(url("user_deactivate", platform_admin.uuid)).status_code == 403
    assert client.get(url("user_edit", platform_admin.uuid)).status_code == 403
    platform_admin.refresh_from_db()
    assert platform_admin.is_active


def test_editing_an_identity_goes_through_the_service_and_is_audited(
    logged_in: Any, hospital_admin: User, oncologist: User
) -> None:
    response = logged_in(hospital_admin).post(
        url("user_edit", oncologist.uuid),
        {
            "first_name": "Claire",
            "last_name": "Martin-Durand",
            "rpps": "10000100007",
            "profession_code": "G15_10",
            "specialty_code": "G15_10/SM36",
        },
    )
    assert response.status_code == 302
    oncologist.refresh_from_db()
    assert oncologist.last_name == "Martin-Durand"
    event = AuditEvent.objects.get(action="user.updated")
    assert details(event)["before"]["last_name"] == "Martin"


def test_an_rpps_with_a_wrong_check_key_is_refused_in_french(
    logged_in: Any, hospital_admin: User, oncologist: User
) -> None:
    response = logged_in(hospital_admin).post(
        url("user_edit", oncologist.uuid),
        {"first_name": "Claire", "last_name": "Martin", "rpps": "10000100008"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["rpps"] == [
        "Numéro RPPS invalide : 11 chiffres dont une clé de contrôle."
    ]
    assert not AuditEvent.objects.filter(action="user.updated").exists()


# --- Invitations -----------------------------------------------------------------------------


def invitation_fields(structure: Structure, **overrides: str) -> dict[str, str]:
    return {
        "email": "nouveau@chu.test",
        "first_name": "Noé",
        "last_name": "Nouveau",
        "rpps": "",
        "profession_code": "",
        "specialty_code": "",
        "structure": str(structure.uuid),
        "role": Role.RCP_SECRETARY,
        **overrides,
    }


def test_an_invitation_shows_its_link_once_and_the_link_opens_activation(
    logged_in: Any, hospital_admin: User, structures: dict[str, Structure]
) -> None:
    client = logged_in(hospital_admin)
    response = client.post(url("invitation_create"), invitation_fields(structures["hospital"]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    link = response.context["link"]
    assert link.startswith("http") and "/compte/invitation/" in link
    assert link in response.content.decode()
    invitation = Invitation.objects.get(email="nouveau@chu.test")
    assert invitation.token_hash not in link
    assert AuditEvent.objects.filter(action="user.invited").count() == 1
    listing = client.get(url("invitation_list")).content.decode()
    assert "nouveau@chu.test" in listing and link not in listing
    activation = Client().get(urlsplit(link).path)
    assert activation.status_code == 200
    assert "Activer votre compte" in activation.content.decode()


def test_an_invitation_for_an_existing_account_is_refused_on_the_email_field(
    logged_in: Any, hospital_admin: User, structures: dict[str, Structure], oncologist: User
) -> None:
    response = logged_in(hospital_admin).post(
        url("invitation_create"),
        invitation_fields(structures["hospital"], email=oncologist.email.upper()),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "Un compte existe déjà avec cette adresse : attribuez-lui un rôle depuis sa fiche."
    ]
    assert not Invitation.objects.exists()


def test_a_hospital_admin_cannot_invite_into_a_structure_they_do_not_administer(
    logged_in: Any, hospital_admin: User, structures: dict[str, Structure]
) -> None:
    response = logged_in(hospital_admin).post(
        url("invitation_create"), invitation_fields(structures["other"])
    )
    assert "structure" in response.context["form"].errors
    assert not Invitation.objects.exists()


def test_an_expired_invitation_link_answers_410(
    client: Client, platform_admin: User, structures: dict[str, Structure]
) -> None:
    invitation, token = services.invite_user(
        actor=platform_admin,
        email="tardif@chu.test",
        first_name="Théo",
        last_name="Tardif",
        structure=structures["hospital"],
        role=Role.PHYSICIAN,
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    response = client.get(reverse("accounts:invitation", args=[token]))
    assert response.status_code == 410
    assert "n'est plus valable" in response.content.decode().replace("&#x27;", "'")


def test_the_invitation_list_shows_each_status_and_cancels_pending_ones(
    logged_in: Any, platform_admin: User, structures: dict[str, Structure]
) -> None:
    def invite(email: str) -> Invitation:
        invitation, _token = services.invite_user(
            actor=platform_admin,
            email=email,
            first_name="A",
            last_name="B",
            structure=structures["hospital"],
            role=Role.PHYSICIAN,
        )
        return invitation

    pending, expired = invite("attente@chu.test"), invite("expiree@chu.test")
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    client = logged_in(platform_admin)
    rows = {r.invitation.email: r for r in client.get(url("invitation_list")).context["rows"]}
    assert rows["attente@chu.test"].status_label == "En attente"
    assert rows["expiree@chu.test"].status_label == "Expirée"
    assert not rows["expiree@chu.test"].cancellable
    only_expired = client.get(url("invitation_list"), {"status": "expired"}).context["rows"]
    assert [r.invitation.email for r in only_expired] == ["expiree@chu.test"]

    response = client.post(url("invitation_cancel", pending.uuid))
    assert response["Location"] == url("invitation_list")
    pending.refresh_from_db()
    assert pending.cancelled_at is not None
    event = AuditEvent.objects.get(
        resource_id=str(pending.uuid), action="user.invitation_cancelled"
    )
    assert details(event)["role"] == pending.role
    client.post(url("invitation_cancel", expired.uuid))
    expired.refresh_from_db()
    assert expired.cancelled_at is None


def test_a_hospital_admin_gets_404_cancelling_another_structures_invitation(
    logged_in: Any, hospital_admin: User, platform_admin: User, structures: dict[str, Structure]
) -> None:
    invitation, _token = services.invite_user(
        actor=platform_admin,
        email="ailleurs@clinique.test",
        first_name="A",
        last_name="B",
        structure=structures["other"],
        role=Role.PHYSICIAN,
    )
    response = logged_in(hospital_admin).post(url("invitation_cancel", invitation.uuid))
    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.cancelled_at is None


# --- Query counts ----------------------------------------------------------------------------


@pytest.fixture
def crowded_network(structures: dict[str, Structure], platform_admin: User) -> Structure:
    """Twenty hospitals in the network, each with a physician and a pending invitation."""
    network = structures["network"]
    for number in range(20):
        hospital = make_structure(f"Hôpital {number:02d}", 500 + number, parent=network)
        make_member(f"medecin{number:02d}@chu.test", hospital)
        services.invite_user(
            actor=platform_admin,
            email=f"invite{number:02d}@chu.test",
            first_name="A",
            last_name="B",
            structure=hospital,
            role=Role.PHYSICIAN,
        )
    return network


@pytest.fixture
def network_admin(crowded_network: Structure) -> User:
    return make_member("reseau@rrc.test", crowded_network, Role.STRUCTURE_ADMIN)


@pytest.mark.parametrize(
    ("name", "rows", "limit"),
    [("structure_list", 22, 13), ("user_list", 21, 18), ("invitation_list", 20, 13)],
)
def test_list_pages_run_a_fixed_number_of_queries(
    logged_in: Any,
    network_admin: User,
    django_assert_max_num_queries: Any,
    name: str,
    rows: int,
    limit: int,
) -> None:
    client = logged_in(network_admin)
    with django_assert_max_num_queries(limit):
        response = client.get(url(name))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == rows
