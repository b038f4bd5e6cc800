"""Patient screens: search, registration, record, care team, emergency access, merge.

Every view reaches a patient through ``patients.access.patient_for`` (404 outside the user's
patients, read-only under emergency access) and calls services for writes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import HiddenInput
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dcc.accounts import otp
from dcc.accounts.models import Membership, Structure, User
from dcc.accounts.otp import confirmed_device
from dcc.accounts.selectors import actor_of
from dcc.audit.choices import Action
from dcc.audit.services import record_denied, record_event
from dcc.patients import communes, matching, services, timeline
from dcc.patients.access import (
    MergedRecord,
    PatientAccess,
    emergency_lookup,
    patient_for,
    patient_view,
)
from dcc.patients.forms import (
    CareTeamAddForm,
    ContactForm,
    EmergencyForm,
    IdentityChangeForm,
    MergeForm,
    ReasonForm,
    RegistrationForm,
    SearchForm,
)
from dcc.patients.models import CareTeamMember, Patient, PatientMerge
from dcc.patients.permissions import REGISTERING_ROLES
from dcc.patients.record import care_team_with_roles, record_header
from dcc.patients.search import search_patients
from dcc.patients.selectors import patients_visible_to

PAGE_SIZE = 20


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """Find a patient by name prefix, birth date, INS or IPP among the user's patients."""
    form = SearchForm(request.GET if request.GET else None)
    context: dict[str, Any] = {"form": form, "results": None}
    if form.is_bound and form.is_valid() and not form.cleaned_data.get("empty"):
        page = form.cleaned_data.get("page") or 1
        found = search_patients(
            request.user,
            text=form.cleaned_data["q"] or "",
            birth_date=form.cleaned_data["naissance"],
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        )
        # Who looked for whom: the criteria and the records listed (names were shown).
        record_event(
            action=Action.PATIENT_SEARCHED,
            resource_type="Patient",
            details={
                "text": form.cleaned_data["q"] or "",
                "birth_date": str(form.cleaned_data["naissance"] or ""),
                "page": page,
                "shown": [str(p.uuid) for p in found[:PAGE_SIZE]],
            },
        )
        params = request.GET.copy()
        params.pop("page", None)
        context.update(
            results=found[:PAGE_SIZE],
            page=page,
            has_next=len(found) > PAGE_SIZE,
            query=params.urlencode(),
        )
    template = (
        "patients/partials/search_results.html"
        if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
        else "patients/search.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


_patient_view = patient_view


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def _registering_structures(user: User) -> list[Structure]:
    ids = (
        Membership.objects.active()
        .filter(user=user, role__in=REGISTERING_ROLES)
        .values_list("structure_id", flat=True)
    )
    return list(Structure.objects.filter(pk__in=set(ids)).order_by("name"))


def _split_candidates(user: User, candidates: list[Patient]) -> tuple[list[Patient], bool]:
    """The look-alike records the user may see, and whether others exist (said without any
    detail: a patient outside the user's teams stays invisible)."""
    visible_ids = set(
        patients_visible_to(user)
        .filter(pk__in=[c.pk for c in candidates])
        .values_list("pk", flat=True)
    )
    shown = [c for c in candidates if c.pk in visible_ids]
    return shown, len(shown) < len(candidates)


def _trace_look_alikes(context: dict[str, Any]) -> None:
    """Look-alike records were announced (even without detail): traced, so that probing the
    register for who exists leaves a trail."""
    record_event(
        action=Action.PATIENT_SEARCHED,
        resource_type="Patient",
        details={
            "kind": "registration_check",
            "shown": [str(c.uuid) for c in context["candidates"]],
            "hidden": context["hidden_candidates"],
        },
    )


@login_required
def register(request: HttpRequest) -> HttpResponse:
    """Register a patient: live checks and look-alike records shown before anything is saved."""
    user = _user(request)
    structures = _registering_structures(user)
    if not structures:
        raise PermissionDenied(
            _("Vous n'avez pas de rôle permettant d'enregistrer un patient dans une structure.")
        )
    current = request.session.get("dcc_structure", "")
    form = RegistrationForm(
        request.POST if request.method == "POST" else None,
        structures=structures,
        initial={"structure": current if any(str(s.uuid) == current for s in structures) else ""},
    )
    context: dict[str, Any] = {"form": form, "candidates": [], "hidden_candidates": False}
    checking = request.method == "POST" and request.POST.get("_check") == "1"
    if checking:
        code = str(form.data.get("birth_place_code", "")).strip().upper()
        context["birth_place_name"] = communes.commune_name(code) if len(code) == 5 else None
    if request.method == "POST" and form.is_valid():
        identity = form.identity()
        try:
            if checking:
                values = services.check_identity(identity)
                candidates = matching.candidate_duplicates(
                    ins_matricule=values["ins_matricule"],
                    birth_name=values["birth_name"],
                    birth_first_names=values["birth_first_names"],
                    used_name=values["used_name"],
                    birth_date=values["birth_date"],
                )
                context["candidates"], context["hidden_candidates"] = _split_candidates(
                    user, candidates
                )
                context["checked"] = True
                if candidates:
                    _trace_look_alikes(context)
            else:
                patient = services.register_patient(
                    actor=user,
                    structure=form.chosen_structure(),
                    identity=identity,
                    ipp=form.cleaned_data["ipp"],
                    despite_possible_duplicates=form.cleaned_data["not_a_duplicate"],
                )
                messages.success(request, _("Patient enregistré."))
                return redirect("patients:record", uuid=patient.uuid)
        except services.PossibleDuplicate as duplicate:
            context["candidates"], context["hidden_candidates"] = _split_candidates(
                user, duplicate.candidates
            )
            context["duplicate_warning"] = True
            _trace_look_alikes(context)
        except ValidationError as error:
            form.add_service_errors(error)
    if checking:
        # A live check while the user types: a field not reached yet is not "missing".
        for name in [name for name in form.errors if name in form.fields]:
            if not form.data.get(name):
                del form.errors[name]
    if not (context["candidates"] or context["hidden_candidates"]):
        # "It is another patient" is only asked once look-alikes are on the screen.
        form.fields["not_a_duplicate"].widget = HiddenInput()
    # A registration that was not saved (errors, or look-alikes to look at first) is a 400.
    status = 400 if request.method == "POST" and not checking else 200
    if request.headers.get("HX-Request"):
        return render(request, "patients/partials/registration_form.html", context, status=200)
    return render(request, "patients/register.html", context, status=status)


@_patient_view()
@require_GET
def record(request: HttpRequest, access: PatientAccess) -> HttpResponse:
    """The patient record: identity header, care team, alerts, timeline. One access event,
    written on its own (no transaction around reads: one INSERT, atomic by itself) before
    anything is shown."""
    patient = access.patient
    context = record_header(patient)
    sections = timeline.sections(access)
    audit: dict[str, Any] = {}
    for section in sections:
        audit.update(section.audit)
    record_event(
        actor=access.actor,
        action=Action.PATIENT_VIEWED,
        patient_ref=str(patient.uuid),
        resource_type="Patient",
        resource_id=str(patient.uuid),
        resource_version=str(patient.identity_version),
        details=audit or None,
    )
    context.update(access=access, patient=patient, timeline_sections=sections)
    return render(request, "patients/record.html", context)


@_patient_view(write=True)
def identity_edit(request: HttpRequest, access: PatientAccess) -> HttpResponse:
    patient = access.patient
    initial = {name: getattr(patient, name) for name in services.IDENTITY_FIELDS}
    form = IdentityChangeForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_identity(
                actor=_user(request),
                patient=patient,
                identity=form.identity(),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Identité modifiée ; la version précédente est conservée."))
            return redirect("patients:record", uuid=patient.uuid)
    versions = list(patient.identity_versions.select_related("recorded_by").order_by("-version"))
    return render(
        request,
        "patients/identity_edit.html",
        {"form": form, "patient": patient, "versions": versions},
        status=400 if form.errors else 200,
    )


@_patient_view(write=True)
def care_team(request: HttpRequest, access: PatientAccess) -> HttpResponse:
    patient = access.patient
    form = CareTeamAddForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        member = User.objects.filter(rpps=form.cleaned_data["rpps"], is_active=True).first()
        if member is None:
            form.add_error("rpps", _("Aucun professionnel actif ne porte ce RPPS dans le DCC."))
        else:
            try:
                services.add_to_care_team(actor=_user(request), patient=patient, member=member)
            except ValidationError as error:
                form.add_error("rpps", error)
            else:
                messages.success(
                    request,
                    _("%(name)s fait maintenant partie de l'équipe de soins.")
                    % {"name": member.full_name},
                )
                return redirect("patients:care_team", uuid=patient.uuid)
    return render(
        request,
        "patients/care_team.html",
        {"form": form, "patient": patient, "care_team": care_team_with_roles(patient)},
        status=400 if form.errors else 200,
    )


@_patient_view(write=True)
def contact(request: HttpRequest, access: PatientAccess) -> HttpResponse:
    """Contact details and GP (médecin traitant)."""
    patient = access.patient
    gp = patient.general_practitioner
    initial: dict[str, Any] = {name: getattr(patient, name) for name in services.CONTACT_FIELDS}
    initial["gp_rpps"] = gp.rpps if gp is not None else ""
    form = ContactForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        rpps = form.cleaned_data["gp_rpps"].strip()
        new_gp = User.objects.filter(rpps=rpps, is_active=True).first() if rpps else None
        if rpps and new_gp is None:
            form.add_error("gp_rpps", _("Aucun professionnel actif ne porte ce RPPS dans le DCC."))
        else:
            try:
                services.update_contact(
                    actor=_user(request),
                    patient=patient,
                    contact=form.contact(),
                    general_practitioner=new_gp,
                )
            except ValidationError as error:
                for field, errors in error.error_dict.items():
                    form.add_error("gp_rpps" if field == "general_practitioner" else field, errors)
            else:
                messages.success(request, _("Coordonnées enregistrées."))
                return redirect("patients:record", uuid=patient.uuid)
    return render(
        request,
        "patients/contact.html",
        {"form": form, "patient": patient, "access": access},
        status=400 if form.errors else 200,
    )


@_patient_view(write=True)
@require_POST
def care_team_remove(request: HttpRequest, access: PatientAccess, member: UUID) -> HttpResponse:
    membership = get_object_or_404(
        CareTeamMember, uuid=member, patient=access.patient, ended_at__isnull=True
    )
    services.remove_from_care_team(actor=_user(request), member=membership)
    messages.success(request, _("Le professionnel ne fait plus partie de l'équipe de soins."))
    return redirect("patients:care_team", uuid=access.patient.uuid)


@_patient_view(write=True)
def objection(request: HttpRequest, access: PatientAccess) -> HttpResponse:
    patient = access.patient
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_sharing_objection(
                actor=_user(request),
                patient=patient,
                objects=not patient.objects_to_sharing,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_error("reason" if hasattr(error, "error_dict") else None, error.messages)
        else:
            messages.success(request, _("La décision du patient est enregistrée."))
            return redirect("patients:record", uuid=patient.uuid)
    return render(
        request,
        "patients/objection.html",
        {"form": form, "patient": patient},
        status=400 if form.errors else 200,
    )


@_patient_view(write=True)
@require_GET
def duplicates(request: HttpRequest, access: PatientAccess) -> HttpResponse:
    """Identity vigilance on demand: the look-alike records of this one."""
    patient = access.patient
    candidates = matching.candidate_duplicates(
        ins_matricule=patient.ins_matricule,
        birth_name=patient.birth_name,
        birth_first_names=patient.birth_first_names,
        used_name=patient.used_name,
        birth_date=patient.birth_date,
        exclude=patient,
    )
    shown, hidden = _split_candidates(_user(request), candidates)
    return render(
        request,
        "patients/duplicates.html",
        {"patient": patient, "candidates": shown, "hidden_candidates": hidden},
    )


@_patient_view(write=True)
def merge(request: HttpRequest, access: PatientAccess) -> HttpResponse:
    """Merge this record with another visible one, after comparing them side by side."""
    patient = access.patient
    data = request.POST if request.method == "POST" else None
    form = MergeForm(data, initial={"other": request.GET.get("avec", "")})
    other_id = request.POST.get("other") if data else request.GET.get("avec", "")
    try:
        other = patient_for(request.user, other_id or "", write=True).patient
    except (Http404, MergedRecord, ValidationError, ValueError):
        raise Http404(_("Patient introuvable.")) from None
    if other.pk == patient.pk:
        raise Http404(_("Patient introuvable."))
    if request.method == "POST" and form.is_valid():
        kept, merged = (patient, other) if form.cleaned_data["keep"] == "this" else (other, patient)
        try:
            services.merge_patients(
                actor=_user(request), kept=kept, merged=merged, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error)
        else:
            messages.success(
                request,
                _(
                    "Dossiers fusionnés : l'ancien dossier renvoie désormais vers celui-ci. La fusion peut être annulée."
                ),
            )
            return redirect("patients:record", uuid=kept.uuid)
    return render(
        request,
        "patients/merge.html",
        {"form": form, "patient": patient, "other": other},
        status=400 if form.errors else 200,
    )


@_patient_view(write=True)
@require_POST
def unmerge(request: HttpRequest, access: PatientAccess, merged: UUID) -> HttpResponse:
    merge_record = get_object_or_404(
        PatientMerge, kept=access.patient, merged__uuid=merged, undone_at__isnull=True
    )
    try:
        restored = services.unmerge_patients(actor=_user(request), merge=merge_record)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("patients:record", uuid=access.patient.uuid)
    messages.success(request, _("Fusion annulée : les deux dossiers sont de nouveau distincts."))
    return redirect("patients:record", uuid=restored.uuid)


@login_required
def emergency_start(request: HttpRequest) -> HttpResponse:
    """Break-glass: identify the patient exactly, state the emergency, prove it is you."""
    user = _user(request)
    device = confirmed_device(user)
    form = EmergencyForm(request.POST if request.method == "POST" else None)
    # One way to prove it is you: the second factor when there is one, else the password.
    del form.fields["password" if device is not None else "otp_token"]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        token, password = data.get("otp_token", "").strip(), data.get("password", "")
        if device is not None:
            proved = bool(token) and otp.verify(device, token)
        else:
            proved = bool(password) and user.check_password(password)
        authenticated_at = timezone.now() if proved else timezone.now() - dt.timedelta(days=1)
        patient = (
            emergency_lookup(
                ins_matricule=data["ins_matricule"],
                birth_name=data["birth_name"],
                first_name=data["first_name"],
                birth_date=data["birth_date"],
            )
            if proved
            else None
        )
        if not proved:
            form.add_error(
                "otp_token" if device is not None else "password",
                _("Identité non confirmée : code ou mot de passe erroné."),
            )
            record_denied(
                action=Action.EMERGENCY_ACCESS_STARTED,
                actor=dataclasses.replace(actor_of(user), purpose="emergency"),
                details={"cause": "reauthentication"},
            )
        elif patient is None:
            form.add_error(
                None,
                _(
                    "Aucun patient ne correspond exactement à cette identité, ou plusieurs y "
                    "correspondent : précisez avec le matricule INS."
                ),
            )
            record_denied(
                action=Action.EMERGENCY_ACCESS_STARTED,
                actor=dataclasses.replace(actor_of(user), purpose="emergency"),
                details={"cause": "no_single_match"},
            )
        else:
            try:
                services.start_emergency_access(
                    actor=user,
                    patient=patient,
                    reason=data["reason"],
                    authenticated_at=authenticated_at,
                )
            except ValidationError as error:
                for field, errors in getattr(error, "error_dict", {None: error.error_list}).items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.warning(
                    request,
                    _(
                        "Accès en urgence ouvert pour 4 heures, en lecture seule. Il est tracé et signalé aux médecins du patient."
                    ),
                )
                return redirect("patients:record", uuid=patient.uuid)
    return render(
        request,
        "patients/emergency.html",
        {"form": form, "has_device": device is not None},
        status=400 if form.errors else 200,
    )


@_patient_view()
@require_POST
def emergency_end(request: HttpRequest, access: PatientAccess) -> HttpResponse:
    if access.emergency is None:
        raise Http404(_("Aucun accès en urgence ouvert sur ce dossier."))
    services.end_emergency_access(actor=_user(request), access=access.emergency)
    messages.success(request, _("Accès en urgence clos."))
    return redirect("patients:search")
