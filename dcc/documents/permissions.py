"""Who may do what with a patient's documents.

Reading follows the patient (``patients.access.patient_for``) and the document's
confidentiality (``selectors.documents_of``). Adding, replacing and cancelling need a caring
relationship with the patient (case and emergency accesses are read-only) and a clinical or
secretarial role. Both are asked on every upload: each in one statement compiled once per
process (``core.compiled``), not built by the ORM per request."""

from __future__ import annotations

from dcc.accounts.models import Membership, User
from dcc.accounts.permissions import AnyUser
from dcc.core.compiled import INTEGER, CompiledQuery
from dcc.patients.models import Patient
from dcc.patients.permissions import REGISTERING_ROLES, can_write_for_patient


def has_document_role(user: AnyUser) -> bool:
    if not isinstance(user, User) or not user.is_active:
        return False
    return bool(_DOCUMENT_ROLE.rows(user=user.pk))


_DOCUMENT_ROLE = CompiledQuery(
    lambda user: (
        Membership.objects.active()
        .filter(user_id=user, role__in=REGISTERING_ROLES)
        .only("pk")
        .order_by()[:1]
    ),
    user=INTEGER,
)


def can_write_documents(user: AnyUser, patient: Patient) -> bool:
    """``has_document_role`` and ``patients.selectors.can_act_for_patient``, in one statement."""
    return can_write_for_patient(user, patient)
