"""Who may do what with a patient's documents.

Reading follows the patient (``patients.access.patient_for``) and the document's
confidentiality (``selectors.documents_of``). Adding, replacing and cancelling need a caring
relationship with the patient (case and emergency accesses are read-only) and a clinical or
secretarial role."""

from __future__ import annotations

from dcc.accounts.models import Membership, User
from dcc.accounts.permissions import AnyUser
from dcc.patients.models import Patient
from dcc.patients.permissions import REGISTERING_ROLES
from dcc.patients.selectors import can_act_for_patient


def has_document_role(user: AnyUser) -> bool:
    if not isinstance(user, User) or not user.is_active:
        return False
    return Membership.objects.active().filter(user=user, role__in=REGISTERING_ROLES).exists()


def can_write_documents(user: AnyUser, patient: Patient) -> bool:
    return has_document_role(user) and can_act_for_patient(user, patient)
