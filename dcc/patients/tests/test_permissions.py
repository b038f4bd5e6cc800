"""The compiled write check (``permissions.can_write_for_patient``) answers exactly what the ORM
composition it replaces answers (a clinical or secretarial role in an active structure, and
``selectors.can_act_for_patient``), for every footing one can have with a patient."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from dcc.accounts.choices import Role, StructureIdType, StructureKind
from dcc.accounts.models import Membership, Structure, User
from dcc.patients.choices import CareTeamSource
from dcc.patients.models import CareTeamMember, Patient
from dcc.patients.permissions import REGISTERING_ROLES, can_write_for_patient
from dcc.patients.selectors import can_act_for_patient
from dcc.patients.tests.test_access_matrix import World

pytestmark = pytest.mark.django_db


def _as_the_orm_says(user: Any, patient: Patient) -> bool:
    if not isinstance(user, User) or not user.is_active:
        return False
    role = Membership.objects.active().filter(user=user, role__in=REGISTERING_ROLES).exists()
    return role and can_act_for_patient(user, patient)


class Footings(World):
    """The access matrix's personas and patients, and the footings it does not need: a role
    without write, a revoked role, a role in a closed structure, a member who left the team,
    a deactivated account, a secretary of the sharing structure."""

    def __init__(self, structures: dict[str, Structure], charter: Any) -> None:
        super().__init__(structures, charter)
        hospital, other = structures["hospital"], structures["other"]

        def carer(name: str, structure: Structure, role: str) -> User:
            user = User.objects.create_user(f"{name}@test.dcc", "x", last_name=name)
            Membership.objects.create(user=user, structure=structure, role=role)
            for patient in self.patients.values():
                CareTeamMember.objects.create(
                    patient=patient, user=user, source=CareTeamSource.EXPLICIT
                )
            self.users[name] = user
            return user

        carer("read_only_role", hospital, Role.READ_ONLY)
        carer("structure_admin", hospital, Role.STRUCTURE_ADMIN)
        revoked = carer("revoked_role", hospital, Role.PHYSICIAN)
        Membership.objects.filter(user=revoked).update(revoked_at=timezone.now())
        closed = Structure.objects.create(
            name="Clinique fermée",
            kind=StructureKind.PRIVATE_CLINIC,
            national_id_type=StructureIdType.FINESS,
            national_id="330000076",
        )
        Structure.objects.filter(pk=closed.pk).update(is_active=False)
        carer("closed_structure", closed, Role.PHYSICIAN)
        left = carer("left_the_team", hospital, Role.PHYSICIAN)
        CareTeamMember.objects.filter(user=left).update(ended_at=timezone.now())
        inactive = carer("inactive_account", hospital, Role.PHYSICIAN)
        User.objects.filter(pk=inactive.pk).update(is_active=False)
        secretary = User.objects.create_user("sharing_secretary@test.dcc", "x")
        Membership.objects.create(user=secretary, structure=other, role=Role.RCP_SECRETARY)
        self.users["sharing_secretary"] = secretary
        for user in self.users.values():
            user.refresh_from_db()

    def writers(self) -> set[tuple[str, str]]:
        """Who may write to which patient, checking the compiled answer against the ORM's."""
        found = set()
        for name, user in self.users.items():
            for relation, patient in self.patients.items():
                compiled = can_write_for_patient(user, patient)
                assert compiled == _as_the_orm_says(user, patient), (name, relation)
                if compiled:
                    found.add((name, relation))
        return found


def test_the_compiled_write_check_answers_as_the_orm_for_every_footing(
    structures: dict[str, Structure], charter: Any
) -> None:
    world = Footings(structures, charter)
    carers = {"care_team", "no_charter", "gp"}
    assert world.writers() == {
        *((name, relation) for name in carers for relation in ("normal", "objecting")),
        # Deactivated by the access matrix's client only: the account is active here.
        ("deactivated", "normal"),
        ("deactivated", "objecting"),
        # The sharing structure's staff, unless the patient objected to sharing.
        ("sharing_colleague", "normal"),
        ("sharing_secretary", "normal"),
    }


def test_no_footing_writes_to_a_merged_record(
    structures: dict[str, Structure], charter: Any
) -> None:
    world = Footings(structures, charter)
    normal, objecting = world.patients["normal"], world.patients["objecting"]
    Patient.objects.filter(pk=normal.pk).update(merged_into=objecting)
    Patient.objects.filter(pk=objecting.pk).update(objects_to_sharing=False)
    assert world.writers() == {
        *((name, "objecting") for name in ("care_team", "no_charter", "gp", "deactivated")),
        ("sharing_colleague", "objecting"),
        ("sharing_secretary", "objecting"),
    }


def test_nobody_anonymous_writes(structures: dict[str, Structure], charter: Any) -> None:
    world = World(structures, charter)
    assert not can_write_for_patient(AnonymousUser(), world.patients["normal"])
