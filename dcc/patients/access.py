"""How a screen or an API gets hold of a patient: through the one visibility path, or 404.

Every view that shows or changes something about a patient starts with ``patient_for``:
a patient the user may not see answers 404 exactly like a patient that does not exist; a
merged record's old address leads to the record it was merged into (when that one is
visible); under an emergency access, reads are traced with the emergency purpose and writes
are refused."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from dcc.accounts.models import User
from dcc.accounts.permissions import AnyUser
from dcc.accounts.selectors import actor_of
from dcc.audit.choices import Action
from dcc.audit.services import record_denied
from dcc.core.context import Actor
from dcc.patients import ins, matching
from dcc.patients.models import EmergencyAccess, Patient
from dcc.patients.selectors import emergency_access_for, patients_visible_to, visible_patient

MAX_ALIAS_HOPS = 10


class MergedRecord(Exception):
    """The requested record was merged: the view should redirect to ``kept``."""

    def __init__(self, kept: Patient) -> None:
        super().__init__(str(kept.uuid))
        self.kept = kept


@dataclass(frozen=True)
class PatientAccess:
    """A patient the user may see, and on what footing."""

    patient: Patient
    user: User
    emergency: EmergencyAccess | None
    # Read-only footing: an emergency access, or a time-bounded case access (RCP participant).
    read_only: bool = False

    @property
    def actor(self) -> Actor:
        """The audit actor for reads of this record: emergency purpose under break-glass."""
        actor = actor_of(self.user)
        if self.emergency is not None:
            actor = dataclasses.replace(actor, purpose="emergency")
        return actor


def _not_found() -> Http404:
    return Http404(_("Patient introuvable."))


def patient_for(user: AnyUser, uuid: UUID | str, *, write: bool = False) -> PatientAccess:
    """The visible patient ``uuid`` or Http404; ``MergedRecord`` for a merged alias whose
    surviving record is visible; ``PermissionDenied`` (traced) for a write when the user only
    has a read-only access (emergency, or case access as an RCP participant)."""
    if not isinstance(user, User):
        raise _not_found()
    try:
        patient = visible_patient(user, uuid)
    except (ValueError, ValidationError):
        raise _not_found() from None
    if patient is None:
        _follow_alias(user, uuid)
        raise _not_found()
    if patient.dcc_cared:  # type: ignore[attr-defined]
        return PatientAccess(patient=patient, user=user, emergency=None)
    emergency = emergency_access_for(user, patient)
    if write:
        actor = actor_of(user)
        record_denied(
            action=Action.READ_ONLY_WRITE_REFUSED,
            actor=dataclasses.replace(actor, purpose="emergency") if emergency else actor,
            patient_ref=str(patient.uuid),
            resource_type="Patient",
            resource_id=str(patient.uuid),
        )
        raise PermissionDenied(
            _("L'accès en urgence permet de consulter le dossier, pas de le modifier.")
            if emergency
            else _("Votre accès à ce dossier (participant à une RCP) est en lecture seule.")
        )
    return PatientAccess(patient=patient, user=user, emergency=emergency, read_only=True)


def _follow_alias(user: User, uuid: UUID | str) -> None:
    try:
        current = Patient.objects.filter(uuid=uuid, merged_into__isnull=False).first()
    except (ValueError, TypeError):
        return
    hops = 0
    while current is not None and current.merged_into_id is not None and hops < MAX_ALIAS_HOPS:
        current = Patient.objects.filter(pk=current.merged_into_id).first()
        hops += 1
    if current is not None and patients_visible_to(user).filter(pk=current.pk).exists():
        raise MergedRecord(current)


def emergency_lookup(
    *,
    ins_matricule: str,
    birth_name: str,
    first_name: str,
    birth_date: dt.date | None,
) -> Patient | None:
    """The one living record matching an exact identity, for break-glass only (the caller has
    re-authenticated and every attempt is traced): by INS, else by birth name, first birth
    first name and birth date, ignoring accents and case. None when nothing or several match."""
    matricule = ins.normalise_matricule(ins_matricule)
    if matricule:
        found = list(Patient.objects.filter(ins_matricule=matricule, merged_into__isnull=True)[:2])
    elif birth_date is not None and matching.name_key(birth_name):
        first = matching.first_name_key(first_name)
        found = [
            p
            for p in Patient.objects.filter(
                birth_name_key=matching.name_key(birth_name),
                birth_date=birth_date,
                merged_into__isnull=True,
            )[:20]
            if matching.first_name_key(p.first_birth_first_name) == first
        ]
    else:
        found = []
    return found[0] if len(found) == 1 else None


def patient_view(
    *, write: bool = False
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Decorate a view taking ``(request, access, **kwargs)`` reached at ``<uuid>``: resolve the
    patient through the one visibility path (404 outside the user's patients), redirect a GET of
    a merged record to the kept one, refuse writes on a read-only footing (403, traced). Every
    app's patient pages use it."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @functools.wraps(view)
        @login_required
        def wrapper(request: HttpRequest, uuid: UUID, **kwargs: Any) -> HttpResponseBase:
            try:
                access = patient_for(request.user, uuid, write=write)
            except MergedRecord as merged:
                if request.method != "GET":
                    raise Http404 from None
                match = request.resolver_match
                name = match.view_name if match is not None else "patients:record"
                target: HttpResponse = redirect(name, uuid=merged.kept.uuid, **kwargs)
                return target
            return view(request, access, **kwargs)

        return wrapper

    return decorator
