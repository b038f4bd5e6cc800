"""Who may do what with patients. Visibility (care team, emergency access) comes with the
care-team work of this app; registering needs a clinical or secretarial role in the structure
the patient is registered at."""

from __future__ import annotations

from dcc.accounts.choices import Role
from dcc.accounts.models import Membership, Structure, User
from dcc.accounts.permissions import AnyUser

REGISTERING_ROLES = frozenset(
    {
        Role.PHYSICIAN,
        Role.GENERAL_PRACTITIONER,
        Role.RCP_SECRETARY,
        Role.RCP_COORDINATOR,
        Role.COORDINATING_NURSE,
    }
)

# Roles that work with patients (the patient screens are in their menu); whether a given
# patient is visible is decided by ``patients.selectors``, never by the role alone.
PATIENT_ROLES = REGISTERING_ROLES | {Role.READ_ONLY}


def can_register_patient(user: AnyUser, structure: Structure) -> bool:
    if not isinstance(user, User) or not user.is_active:
        return False
    return (
        Membership.objects.active()
        .filter(user=user, structure=structure, role__in=REGISTERING_ROLES)
        .exists()
    )
