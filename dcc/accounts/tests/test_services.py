"""Structures, invitations and roles: rules, refusals and their audit events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dcc.accounts import services
from dcc.accounts.choices import Role, StructureIdType, StructureKind
from dcc.accounts.models import Invitation, Membership, Structure, User
from dcc.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _details(event: AuditEvent) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(event.details)
    return data


def test_a_platform_admin_creates_a_structure_and_it_is_audited(platform_admin: User) -> None:
    structure = services.create_structure(
        actor=platform_admin,
        name="CH de Test",
        kind=StructureKind.HOSPITAL,
        national_id_type=StructureIdType.FINESS,
        national_id="330000043",
    )
    event = AuditEvent.objects.get(action="structure.created")
    assert event.resource_id == str(structure.uuid)
    assert _details(event)["after"]["national_id"] == "330000043"


@pytest.mark.parametrize("finess", ["330000044", "33000004", "ABC", ""])
def test_a_malformed_finess_is_refused_and_nothing_is_saved(
    platform_admin: User, finess: str
) -> None:
    with pytest.raises(ValidationError) as error:
        services.create_structure(
            actor=platform_admin,
            name="CH",
            kind=StructureKind.HOSPITAL,
            national_id_type=StructureIdType.FINESS,
            national_id=finess,
        )
    assert "national_id" in error.value.message_dict
    assert not Structure.objects.exists()
    assert not AuditEvent.objects.filter(action="structure.created").exists()


def test_a_duplicate_finess_is_refused(
    platform_admin: User, structures: dict[str, Structure]
) -> None:
    with pytest.raises(ValidationError, match="déjà"):
        services.create_structure(
            actor=platform_admin,
            name="Doublon",
            kind=StructureKind.HOSPITAL,
            national_id_type=StructureIdType.FINESS,
            national_id=structures["hospital"].national_id,
        )


def test_a_hospital_admin_cannot_create_a_structure_elsewhere_and_the_refusal_is_traced(
    hospital_admin: User, structures: dict[str, Structure]
) -> None:
    with pytest.raises(PermissionDenied):
        services.create_structure(
            actor=hospital_admin,
            name="Clinique",
            kind=StructureKind.PRIVATE_CLINIC,
            national_id_type=StructureIdType.FINESS,
            national_id="330000050",
            parent=structures["other"],
        )
    assert AuditEvent.objects.filter(action="structure.created", outcome="denied").count() == 1


def test_a_structure_cannot_be_attached_below_itself(
    platform_admin: User, structures: dict[str, Structure]
) -> None:
    network = structures["network"]
    with pytest.raises(ValidationError):
        services.update_structure(
            actor=platform_admin,
            structure=network,
            name=network.name,
            kind=network.kind,
            parent=structures["hospital"],
            is_active=True,
        )


def test_invitation_then_acceptance_creates_the_account_with_its_role(
    hospital_admin: User, structures: dict[str, Structure]
) -> None:
    invitation, token = services.invite_user(
        actor=hospital_admin,
        email="Nouvelle@CHU.test",
        first_name="Nina",
        last_name="Nouvelle",
        structure=structures["hospital"],
        role=Role.PHYSICIAN,
        rpps="10000100056",
        profession_code="G15_10",
        specialty_code="G15_10/SM36",
    )
    assert invitation.email == "nouvelle@chu.test"
    assert token not in invitation.token_hash
    user = services.accept_invitation(token=token, password="Tres-Solide-2026!")
    assert user.rpps == "10000100056"
    assert Membership.objects.active().filter(user=user, role=Role.PHYSICIAN).count() == 1
    with pytest.raises(ValidationError):
        services.accept_invitation(token=token, password="Tres-Solide-2026!")
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"user.invited", "user.invitation_accepted", "role.granted"} <= actions


def test_an_expired_invitation_cannot_be_used(
    hospital_admin: User, structures: dict[str, Structure]
) -> None:
    invitation, token = services.invite_user(
        actor=hospital_admin,
        email="tard@chu.test",
        first_name="T",
        last_name="Tard",
        structure=structures["hospital"],
        role=Role.RCP_SECRETARY,
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    with pytest.raises(ValidationError, match="plus valable"):
        services.accept_invitation(token=token, password="Tres-Solide-2026!")
    assert not User.objects.filter(email="tard@chu.test").exists()


def test_weak_passwords_are_refused_at_invitation_acceptance(
    hospital_admin: User, structures: dict[str, Structure]
) -> None:
    _, token = services.invite_user(
        actor=hospital_admin,
        email="faible@chu.test",
        first_name="F",
        last_name="Faible",
        structure=structures["hospital"],
        role=Role.RCP_SECRETARY,
    )
    for weak in ["court", "toutenminuscules", "motdepasse123"]:
        with pytest.raises(ValidationError):
            services.accept_invitation(token=token, password=weak)
    assert not User.objects.filter(email="faible@chu.test").exists()


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("rpps", {"rpps": "10000100008"}),
        ("profession_code", {"profession_code": "G15_99"}),
        ("specialty_code", {"profession_code": "G15_60", "specialty_code": "G15_10/SM36"}),
    ],
)
def test_invalid_professional_codes_are_refused(
    hospital_admin: User, structures: dict[str, Structure], field: str, kwargs: dict[str, str]
) -> None:
    with pytest.raises(ValidationError) as error:
        services.invite_user(
            actor=hospital_admin,
            email="x@chu.test",
            first_name="X",
            last_name="Y",
            structure=structures["hospital"],
            role=Role.PHYSICIAN,
            **kwargs,
        )
    assert field in error.value.message_dict
    assert not Invitation.objects.exists()


def test_duplicate_accounts_are_refused(
    hospital_admin: User, oncologist: User, structures: dict[str, Structure]
) -> None:
    with pytest.raises(ValidationError, match="existe déjà"):
        services.invite_user(
            actor=hospital_admin,
            email=oncologist.email.upper(),
            first_name="C",
            last_name="M",
            structure=structures["hospital"],
            role=Role.PHYSICIAN,
        )
    with pytest.raises(ValidationError, match="RPPS"):
        services.invite_user(
            actor=hospital_admin,
            email="autre@chu.test",
            first_name="C",
            last_name="M",
            structure=structures["hospital"],
            role=Role.PHYSICIAN,
            rpps=oncologist.rpps or "",
        )


def test_grant_and_revoke_are_audited_with_before_and_after(
    hospital_admin: User, oncologist: User, structures: dict[str, Structure]
) -> None:
    membership = services.grant_role(
        actor=hospital_admin,
        user=oncologist,
        structure=structures["hospital"],
        role=Role.RCP_COORDINATOR,
    )
    granted = AuditEvent.objects.get(action="role.granted")
    assert granted.actor_user_id == str(hospital_admin.uuid)
    assert _details(granted)["before"] is None
    assert _details(granted)["after"] == {
        "structure": str(structures["hospital"].uuid),
        "role": "rcp_coordinator",
        "active": True,
    }
    assert _details(granted)["target_rpps"] == oncologist.rpps
    services.revoke_role(actor=hospital_admin, membership=membership)
    revoked = AuditEvent.objects.get(action="role.revoked")
    assert _details(revoked)["before"]["active"] is True
    assert _details(revoked)["after"]["active"] is False
    with pytest.raises(ValidationError):
        services.revoke_role(actor=hospital_admin, membership=membership)


def test_only_platform_admins_name_security_officers(
    hospital_admin: User, oncologist: User, structures: dict[str, Structure]
) -> None:
    with pytest.raises(PermissionDenied):
        services.grant_role(
            actor=hospital_admin,
            user=oncologist,
            structure=structures["hospital"],
            role=Role.SECURITY_OFFICER,
        )


def test_an_admin_cannot_grant_roles_to_themself(
    hospital_admin: User, structures: dict[str, Structure]
) -> None:
    with pytest.raises(PermissionDenied):
        services.grant_role(
            actor=hospital_admin,
            user=hospital_admin,
            structure=structures["hospital"],
            role=Role.PHYSICIAN,
        )
    assert AuditEvent.objects.filter(action="role.granted", outcome="denied").exists()


def test_an_admin_cannot_act_on_users_outside_their_structures(
    hospital_admin: User, outsider: User
) -> None:
    with pytest.raises(PermissionDenied):
        services.set_user_active(actor=hospital_admin, user=outsider, active=False)
    outsider.refresh_from_db()
    assert outsider.is_active


def test_deactivation_rotates_the_security_stamp(platform_admin: User, oncologist: User) -> None:
    stamp = oncologist.security_stamp
    services.set_user_active(actor=platform_admin, user=oncologist, active=False)
    oncologist.refresh_from_db()
    assert not oncologist.is_active and oncologist.security_stamp != stamp
    assert AuditEvent.objects.filter(action="user.deactivated").count() == 1


def test_an_admin_cannot_deactivate_a_platform_admin_or_themself(
    hospital_admin: User, platform_admin: User, structures: dict[str, Structure]
) -> None:
    Membership.objects.create(
        user=platform_admin, structure=structures["hospital"], role=Role.PHYSICIAN
    )
    with pytest.raises(PermissionDenied):
        services.set_user_active(actor=hospital_admin, user=platform_admin, active=False)
    with pytest.raises(PermissionDenied):
        services.set_user_active(actor=platform_admin, user=platform_admin, active=False)
    platform_admin.refresh_from_db()
    assert platform_admin.is_active


def test_moving_a_structure_needs_authority_over_both_parents(
    hospital_admin: User, structures: dict[str, Structure]
) -> None:
    hospital = structures["hospital"]
    with pytest.raises(PermissionDenied):
        services.update_structure(
            actor=hospital_admin,
            structure=hospital,
            name=hospital.name,
            kind=hospital.kind,
            parent=None,
            is_active=True,
        )
    hospital.refresh_from_db()
    assert hospital.parent == structures["network"]
    renamed = services.update_structure(
        actor=hospital_admin,
        structure=hospital,
        name="CHU Renommé",
        kind=hospital.kind,
        parent=structures["network"],
        is_active=True,
    )
    assert renamed.name == "CHU Renommé"


def test_only_pending_invitations_can_be_cancelled_and_cancellation_has_its_own_trace(
    hospital_admin: User, structures: dict[str, Structure]
) -> None:
    invitation, _token = services.invite_user(
        actor=hospital_admin,
        email="annule@chu.test",
        first_name="A",
        last_name="Annule",
        structure=structures["hospital"],
        role=Role.RCP_SECRETARY,
    )
    services.cancel_invitation(actor=hospital_admin, invitation=invitation)
    assert AuditEvent.objects.filter(action="user.invitation_cancelled").count() == 1
    with pytest.raises(ValidationError):
        services.cancel_invitation(actor=hospital_admin, invitation=invitation)


def test_a_new_role_is_effective_at_once_for_the_same_user_object(
    platform_admin: User, oncologist: User, structures: dict[str, Structure]
) -> None:
    from dcc.accounts import permissions

    assert not permissions.can_administer(oncologist)
    services.grant_role(
        actor=platform_admin,
        user=oncologist,
        structure=structures["hospital"],
        role=Role.STRUCTURE_ADMIN,
    )
    assert permissions.can_administer(oncologist)
