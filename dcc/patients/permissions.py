"""Who may do what with patients. Visibility (care team, emergency access) comes with the
care-team work of this app; registering needs a clinical or secretarial role in the structure
the patient is registered at."""

from __future__ import annotations

from django.db.models import Exists, QuerySet

from dcc.accounts.choices import Role
from dcc.accounts.models import Membership, Structure, User
from dcc.accounts.permissions import AnyUser
from dcc.core.compiled import INTEGER, CompiledQuery
from dcc.patients.models import Patient

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


def can_write_for_patient(user: AnyUser, patient: Patient) -> bool:
    """A caring relationship with the living patient (``selectors.can_act_for_patient``) and a
    clinical or secretarial role (``REGISTERING_ROLES``) in an active structure, decided in one
    compiled statement: what every write to the patient's documents checks. The same answer as
    testing the two apart, without the ~2 ms of Python the ORM spends building them."""
    if not isinstance(user, User) or not user.is_active:
        return False
    return bool(_CARING_WRITER.rows(user=user.pk, patient=patient.pk))


def _caring_writer_query(user: int, patient: int) -> QuerySet[Patient]:
    # Imported here: ``selectors`` imports this module's roles.
    from dcc.patients.selectors import patients_cared_for_by

    someone = User(pk=user, is_active=True)
    role = Membership.objects.active().filter(user_id=user, role__in=REGISTERING_ROLES)
    return patients_cared_for_by(someone).filter(Exists(role), pk=patient).only("pk").order_by()


_CARING_WRITER = CompiledQuery(_caring_writer_query, user=INTEGER, patient=INTEGER)
