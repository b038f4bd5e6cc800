"""Registering patients and changing their identity, each change versioned and audited."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from dcc.accounts.choices import Role
from dcc.accounts.models import Membership, Structure, User
from dcc.accounts.selectors import actor_of
from dcc.audit.choices import Action
from dcc.audit.services import record_denied, record_event
from dcc.core.context import Actor
from dcc.notifications.services import notify_emergency_access
from dcc.patients import attachments, communes, ins, matching, permissions
from dcc.patients.choices import CareTeamSource, IdentityEvidence, IdentityStatus, InsKind, Sex
from dcc.patients.models import (
    CareTeamMember,
    CaseAccess,
    EmergencyAccess,
    Patient,
    PatientIdentifier,
    PatientIdentityVersion,
    PatientMerge,
)

EARLIEST_BIRTH_DATE = dt.date(1890, 1, 1)
IDENTITY_FIELDS = (
    "ins_matricule",
    "ins_kind",
    "birth_name",
    "birth_first_names",
    "first_birth_first_name",
    "used_name",
    "used_first_name",
    "sex",
    "birth_date",
    "birth_place_code",
    "identity_status",
    "identity_evidence",
)


@dataclass(frozen=True)
class Identity:
    """What a secretary types from the identity document and the INSi answer."""

    birth_name: str
    birth_first_names: str
    sex: str
    birth_date: dt.date
    birth_place_code: str
    used_name: str = ""
    used_first_name: str = ""
    ins_matricule: str = ""
    ins_kind: str = ""
    identity_status: str = IdentityStatus.PROVISIONAL
    identity_evidence: str = ""


def _deny(actor: Actor, action: str, message: str, **fields: str) -> PermissionDenied:
    """Trace a refusal (in its own transaction, so it survives) and return the error to raise."""
    record_denied(action=action, actor=actor, **fields)
    return PermissionDenied(message)


def _require_caring(
    actor: User, action: str, patient: Patient, resource: tuple[str, str] | None = None
) -> None:
    """Writes need a caring relationship (case and emergency accesses are read-only): else the
    refusal is traced and raised."""
    from dcc.patients.selectors import can_act_for_patient

    if not can_act_for_patient(actor, patient):
        resource_type, resource_id = resource or ("Patient", str(patient.uuid))
        raise _deny(
            actor_of(actor),
            action,
            _("Vous ne faites pas partie de l'équipe de soins de ce patient."),
            patient_ref=str(patient.uuid),
            resource_type=resource_type,
            resource_id=resource_id,
        )


def _record_registration(
    actor: User, patient: Patient, structure: Structure, **details: Any
) -> None:
    """Register ``patient`` at ``structure`` for the care team (the registering professional
    joins it) and trace it."""
    if not CareTeamMember.objects.filter(
        patient=patient, user=actor, ended_at__isnull=True
    ).exists():
        CareTeamMember.objects.create(
            patient=patient, user=actor, source=CareTeamSource.REGISTRATION, added_by=actor
        )
    record_event(
        actor=actor_of(actor),
        action=Action.PATIENT_REGISTERED,
        patient_ref=str(patient.uuid),
        resource_type="Patient",
        resource_id=str(patient.uuid),
        resource_version=str(patient.identity_version),
        details={"structure": str(structure.uuid), **details},
    )


def _clean_identity(identity: Identity) -> dict[str, Any]:
    """Normalised fields, or a ValidationError naming each wrong field in French."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "birth_name": " ".join(identity.birth_name.split()).upper(),
        "birth_first_names": " ".join(identity.birth_first_names.split()),
        "used_name": " ".join(identity.used_name.split()).upper(),
        "used_first_name": " ".join(identity.used_first_name.split()),
        "sex": identity.sex,
        "birth_date": identity.birth_date,
        "birth_place_code": identity.birth_place_code.strip().upper(),
        "identity_status": identity.identity_status,
        "identity_evidence": identity.identity_evidence,
        "ins_kind": identity.ins_kind,
        "ins_matricule": "",
    }
    values["first_birth_first_name"] = values["birth_first_names"].split(" ")[0]
    if not values["birth_name"]:
        errors["birth_name"] = _("Le nom de naissance est obligatoire.")
    if not values["birth_first_names"]:
        errors["birth_first_names"] = _("Au moins un prénom de naissance est obligatoire.")
    if identity.sex not in Sex.values:
        errors["sex"] = _("Sexe inconnu.")
    if identity.birth_date > timezone.localdate():
        errors["birth_date"] = _("La date de naissance ne peut pas être dans le futur.")
    elif identity.birth_date < EARLIEST_BIRTH_DATE:
        errors["birth_date"] = _("Cette date de naissance n'est pas plausible.")
    code = values["birth_place_code"]
    if len(code) != 5 or not (code.isdigit() or code[:2] in ("2A", "2B") and code[2:].isdigit()):
        errors["birth_place_code"] = _(
            "Le lieu de naissance est un code INSEE à 5 caractères (commune, ou 99xxx pour un pays)."
        )
    elif not communes.is_known_birth_place(code):
        errors["birth_place_code"] = _(
            "Code INSEE inconnu : ni une commune (actuelle ou ancienne) ni un pays du Code officiel géographique."
        )
    if identity.identity_status not in IdentityStatus.values:
        errors["identity_status"] = _("Statut d'identité inconnu.")
    if identity.identity_evidence and identity.identity_evidence not in IdentityEvidence.values:
        errors["identity_evidence"] = _("Pièce justificative inconnue.")
    if identity.identity_status in (IdentityStatus.VALIDATED, IdentityStatus.QUALIFIED) and not (
        identity.identity_evidence
    ):
        errors["identity_evidence"] = _(
            "Une identité validée ou qualifiée exige la pièce d'identité à haut niveau de confiance qui a été contrôlée."
        )
    if identity.ins_matricule.strip():
        try:
            values["ins_matricule"] = ins.check_matricule(identity.ins_matricule)
        except ins.InsError as error:
            errors["ins_matricule"] = str(error.message)
        else:
            if identity.ins_kind not in InsKind.values:
                errors["ins_kind"] = _("Précisez le type d'INS (NIR, NIA, test ou démonstration).")
            if not errors:
                sex: Literal["M", "F", "U"] = (
                    "F" if identity.sex == "F" else "M" if identity.sex == "M" else "U"
                )
                traits = ins.Traits(sex=sex, birth_date=identity.birth_date, birth_place_code=code)
                # A birth place that disagrees with the matricule's département is not refused:
                # people born before 1968 in Seine or Seine-et-Oise, or in Algeria before 1962,
                # carry département codes that no longer exist.
                mismatches = [
                    m
                    for m in ins.check_traits_consistency(values["ins_matricule"], traits)
                    if m.code != "birth_place"
                ]
                if mismatches:
                    errors["ins_matricule"] = " ".join(str(m.message) for m in mismatches)
    elif identity.identity_status in (IdentityStatus.RECOVERED, IdentityStatus.QUALIFIED):
        errors["ins_matricule"] = _(
            "Une identité récupérée ou qualifiée porte le matricule INS renvoyé par le téléservice INSi."
        )
    if errors:
        raise ValidationError(errors)
    values["birth_name_key"] = matching.name_key(values["birth_name"])
    values["used_name_key"] = matching.name_key(values["used_name"])
    values["first_name_key"] = matching.first_name_key(values["birth_first_names"])
    return values


def check_identity(identity: Identity) -> dict[str, Any]:
    """The normalised identity, or a ValidationError naming each wrong field (live checks of
    the registration form: nothing is saved)."""
    return _clean_identity(identity)


def _snapshot(patient: Patient) -> dict[str, Any]:
    return {
        name: (value.isoformat() if isinstance(value, dt.date) else value)
        for name in IDENTITY_FIELDS
        for value in [getattr(patient, name)]
    }


class PossibleDuplicate(ValidationError):
    """Records that may be the same person exist: show them before registering anyway."""

    def __init__(self, candidates: list[Patient]) -> None:
        super().__init__(
            _(
                "%(count)s dossier(s) ressemblant à cette identité existe(nt) déjà : vérifiez qu'il ne s'agit pas du même patient avant d'en créer un nouveau."
            ),
            code="possible_duplicate",
            params={"count": len(candidates)},
        )
        self.candidates = candidates


def register_patient(
    *,
    actor: User,
    structure: Structure,
    identity: Identity,
    ipp: str = "",
    despite_possible_duplicates: bool = False,
) -> Patient:
    """Register a new patient at ``structure``, with their local number (IPP) if known.

    Raises ``PossibleDuplicate`` when records that may be the same person exist, unless the
    user has looked at them and confirmed it is someone else (``despite_possible_duplicates``).
    A record with the same INS is always refused."""
    if not permissions.can_register_patient(actor, structure):
        raise _deny(
            actor_of(actor),
            Action.PATIENT_REGISTERED,
            _("Vous n'avez pas le droit d'enregistrer un patient dans cette structure."),
            resource_type="Patient",
        )
    values = _clean_identity(identity)
    if values["ins_matricule"]:
        known = Patient.objects.filter(
            ins_matricule=values["ins_matricule"], merged_into__isnull=True
        ).first()
        if known is not None:
            return _attach_registration(actor, structure, known, values, ipp.strip())
    candidates = matching.candidate_duplicates(
        ins_matricule=values["ins_matricule"],
        birth_name=values["birth_name"],
        birth_first_names=values["birth_first_names"],
        used_name=values["used_name"],
        birth_date=values["birth_date"],
    )
    if candidates and not despite_possible_duplicates:
        raise PossibleDuplicate(candidates)
    ipp = ipp.strip()
    if ipp and PatientIdentifier.objects.filter(structure=structure, value=ipp).exists():
        raise ValidationError(
            {"ipp": _("Cet IPP est déjà attribué à un autre patient de la structure.")}
        )
    with transaction.atomic():
        try:
            with transaction.atomic():
                patient = Patient.objects.create(**values)
        except IntegrityError:
            raise ValidationError(
                {
                    "ins_matricule": _(
                        "Un patient porte déjà ce matricule INS : ouvrez son dossier plutôt que d'en créer un second."
                    )
                }
            ) from None
        PatientIdentityVersion.objects.create(
            patient=patient,
            version=1,
            identity=_snapshot(patient),
            recorded_by=actor,
            reason="Enregistrement",
        )
        # The registration at this structure, with its hospital number when known.
        PatientIdentifier.objects.create(patient=patient, structure=structure, value=ipp)
        _record_registration(actor, patient, structure, status=patient.identity_status)
    return patient


def _attach_registration(
    actor: User, structure: Structure, patient: Patient, values: dict[str, Any], ipp: str
) -> Patient:
    """The INS is already in the DCC (the patient is cared for elsewhere in the region): with
    an INS checked through INSi and the same strict traits, this is the same person, so the
    patient is registered at ``structure`` and the user joins the care team — no second record.
    Any difference in the traits is an identity problem for the vigilance team."""
    same_person = (
        values["identity_status"] in (IdentityStatus.RECOVERED, IdentityStatus.QUALIFIED)
        and patient.birth_name_key == values["birth_name_key"]
        and patient.first_name_key == values["first_name_key"]
        and patient.birth_date == values["birth_date"]
        and patient.sex == values["sex"]
    )
    if not same_person:
        raise ValidationError(
            {
                "ins_matricule": _(
                    "Ce matricule INS est déjà porté par un dossier du DCC dont l'identité diffère : vérifiez la saisie et la réponse du téléservice INSi, ou signalez-le à la cellule d'identitovigilance."
                )
            }
        )
    if ipp and PatientIdentifier.objects.filter(structure=structure, value=ipp).exists():
        raise ValidationError(
            {"ipp": _("Cet IPP est déjà attribué à un autre patient de la structure.")}
        )
    with transaction.atomic():
        here = PatientIdentifier.objects.filter(patient=patient, structure=structure).first()
        if here is None:
            PatientIdentifier.objects.create(patient=patient, structure=structure, value=ipp)
        elif ipp and not here.value:
            here.value = ipp
            here.save(update_fields=["value", "updated_at"])
        _record_registration(actor, patient, structure, existing_ins=True)
    return patient


def update_identity(*, actor: User, patient: Patient, identity: Identity, reason: str) -> Patient:
    """Change the identity: a new version, the previous one kept, the reason recorded."""
    reason = " ".join(reason.split())
    if len(reason) < 5:
        raise ValidationError({"reason": _("Indiquez la raison de la modification de l'identité.")})
    if not _may_manage_identity(actor, patient):
        raise _deny(
            actor_of(actor),
            Action.PATIENT_IDENTITY_CHANGED,
            _("Vous n'avez pas le droit de modifier l'identité de ce patient."),
            patient_ref=str(patient.uuid),
            resource_type="Patient",
            resource_id=str(patient.uuid),
        )
    values = _clean_identity(identity)
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        if locked.merged_into_id is not None:
            raise ValidationError(_("Ce dossier a été fusionné : modifiez le dossier conservé."))
        before = _snapshot(locked)
        for name, value in values.items():
            setattr(locked, name, value)
        locked.identity_version += 1
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:
            raise ValidationError(
                {
                    "ins_matricule": _(
                        "Un autre patient porte déjà ce matricule INS : il s'agit peut-être d'un doublon à fusionner."
                    )
                }
            ) from None
        PatientIdentityVersion.objects.create(
            patient=locked,
            version=locked.identity_version,
            identity=_snapshot(locked),
            recorded_by=actor,
            reason=reason[:300],
        )
        record_event(
            actor=actor_of(actor),
            action=Action.PATIENT_IDENTITY_CHANGED,
            patient_ref=str(locked.uuid),
            resource_type="Patient",
            resource_id=str(locked.uuid),
            resource_version=str(locked.identity_version),
            details={
                "changed": sorted(k for k in before if before[k] != _snapshot(locked)[k]),
            },
        )
    return locked


def _may_manage_identity(actor: User, *patients: Patient) -> bool:
    """A registering role in a structure where each of these patients is registered (the two
    records of a duplicate often come from two structures)."""
    for patient in patients:
        here = PatientIdentifier.objects.filter(patient=patient).values_list(
            "structure_id", flat=True
        )
        if not any(
            permissions.can_register_patient(actor, structure)
            for structure in Structure.objects.filter(pk__in=set(here))
        ):
            return False
    return True


def merge_patients(*, actor: User, kept: Patient, merged: Patient, reason: str) -> PatientMerge:
    """Make ``merged`` an alias of ``kept`` and move what it carried; nothing is deleted."""
    reason = " ".join(reason.split())
    if len(reason) < 5:
        raise ValidationError(
            {"reason": _("Indiquez pourquoi ces deux dossiers sont le même patient.")}
        )
    if kept.pk == merged.pk:
        raise ValidationError(_("Un dossier ne peut pas être fusionné avec lui-même."))
    if Patient.objects.filter(pk__in=[kept.pk, merged.pk], merged_into__isnull=False).exists():
        raise ValidationError(_("L'un de ces dossiers a déjà été fusionné."))
    if not _may_manage_identity(actor, kept, merged):
        raise _deny(
            actor_of(actor),
            Action.PATIENTS_MERGED,
            _("Vous n'avez pas le droit de fusionner ces dossiers."),
            patient_ref=str(kept.uuid),
            resource_type="Patient",
            resource_id=str(merged.uuid),
        )
    with transaction.atomic():
        locked = {
            p.pk: p for p in Patient.objects.select_for_update().filter(pk__in=[kept.pk, merged.pk])
        }
        kept, merged = locked[kept.pk], locked[merged.pk]
        if kept.merged_into_id or merged.merged_into_id:
            raise ValidationError(_("L'un de ces dossiers a déjà été fusionné."))
        if (
            kept.ins_matricule
            and merged.ins_matricule
            and kept.ins_matricule != merged.ins_matricule
        ):
            raise ValidationError(
                _(
                    "Ces dossiers portent deux matricules INS différents : ce ne sont pas le même patient."
                )
            )
        kept_structures = set(
            PatientIdentifier.objects.filter(patient=kept)
            .exclude(value="")
            .values_list("structure_id", flat=True)
        )
        moving = list(PatientIdentifier.objects.filter(patient=merged))
        clashes = [i for i in moving if i.value and i.structure_id in kept_structures]
        if clashes:
            raise ValidationError(
                _(
                    "Les deux dossiers ont chacun un IPP dans la même structure : faites d'abord fusionner les dossiers dans le logiciel de l'établissement."
                )
            )
        PatientIdentifier.objects.filter(pk__in=[i.pk for i in moving]).update(patient=kept)
        # The professionals caring for the merged record go on caring for the patient (those
        # already in the kept record's team keep their own membership there).
        in_team = CareTeamMember.objects.filter(patient=kept, ended_at__isnull=True).values(
            "user_id"
        )
        team = list(
            CareTeamMember.objects.filter(patient=merged, ended_at__isnull=True).exclude(
                user_id__in=in_team
            )
        )
        CareTeamMember.objects.filter(pk__in=[m.pk for m in team]).update(patient=kept)
        cases = list(CaseAccess.objects.filter(patient=merged))
        CaseAccess.objects.filter(pk__in=[c.pk for c in cases]).update(patient=kept)
        # Everything the clinical apps attach to the record (documents…) follows it too.
        carried: dict[str, list[str]] = {}
        for key, model in attachments.attached():
            rows = model._default_manager.filter(patient=merged)
            carried[key] = [str(u) for u in rows.values_list("uuid", flat=True)]
            rows.update(patient=kept)
        merged.merged_into = kept
        merged.save(update_fields=["merged_into", "updated_at"])
        merge = PatientMerge.objects.create(
            kept=kept,
            merged=merged,
            moved={
                "identifiers": [str(i.uuid) for i in moving],
                "care_team": [str(m.uuid) for m in team],
                "case_accesses": [str(c.uuid) for c in cases],
                **carried,
            },
            reason=reason[:300],
            performed_by=actor,
        )
        for patient, other in ((kept, merged), (merged, kept)):
            record_event(
                actor=actor_of(actor),
                action=Action.PATIENTS_MERGED,
                patient_ref=str(patient.uuid),
                resource_type="Patient",
                resource_id=str(other.uuid),
                details={"kept": str(kept.uuid), "merged": str(merged.uuid), "moved": len(moving)},
            )
    return merge


def unmerge_patients(*, actor: User, merge: PatientMerge) -> Patient:
    """Undo a merge: the alias becomes a record again and gets back what it carried."""
    current = PatientMerge.objects.select_related("kept").get(pk=merge.pk)
    if current.undone_at is not None:
        raise ValidationError(_("Cette fusion a déjà été annulée."))
    if current.kept.merged_into_id is not None:
        raise ValidationError(
            _(
                "Le dossier conservé a depuis été fusionné dans un autre : annulez d'abord cette fusion-là."
            )
        )
    if not _may_manage_identity(actor, merge.kept):
        # Checked before the transaction, so that the refusal's trace is not rolled back.
        raise _deny(
            actor_of(actor),
            Action.PATIENTS_UNMERGED,
            _("Vous n'avez pas le droit d'annuler cette fusion."),
            patient_ref=str(merge.kept.uuid),
            resource_type="Patient",
            resource_id=str(merge.merged.uuid),
        )
    with transaction.atomic():
        locked = (
            PatientMerge.objects.select_for_update()
            .select_related("kept", "merged")
            .get(pk=merge.pk)
        )
        if locked.undone_at is not None:
            raise ValidationError(_("Cette fusion a déjà été annulée."))
        if locked.kept.merged_into_id is not None:
            # What was moved has followed the kept record into a later merge: undo that first.
            raise ValidationError(
                _(
                    "Le dossier conservé a depuis été fusionné dans un autre : annulez d'abord cette fusion-là."
                )
            )
        own: list[tuple[type[Model], str]] = [
            (PatientIdentifier, "identifiers"),
            (CareTeamMember, "care_team"),
            (CaseAccess, "case_accesses"),
        ]
        for model, key in own + [(m, k) for k, m in attachments.attached()]:
            moved = [str(u) for u in locked.moved.get(key, [])]
            model._default_manager.filter(uuid__in=moved, patient=locked.kept).update(
                patient=locked.merged
            )
        Patient.objects.filter(pk=locked.merged.pk).update(
            merged_into=None, updated_at=timezone.now()
        )
        locked.undone_at = timezone.now()
        locked.undone_by = actor
        locked.save(update_fields=["undone_at", "undone_by"])
        for patient, other in ((locked.kept, locked.merged), (locked.merged, locked.kept)):
            record_event(
                actor=actor_of(actor),
                action=Action.PATIENTS_UNMERGED,
                patient_ref=str(patient.uuid),
                resource_type="Patient",
                resource_id=str(other.uuid),
                details={"kept": str(locked.kept.uuid), "merged": str(locked.merged.uuid)},
            )
    locked.merged.refresh_from_db()
    return locked.merged


def add_to_care_team(*, actor: User, patient: Patient, member: User) -> CareTeamMember:
    """Bring a professional into the patient's care team (someone already caring for them)."""
    _require_caring(actor, Action.CARE_TEAM_CHANGED, patient)
    if not member.is_active:
        raise ValidationError(_("Ce compte est désactivé."))
    with transaction.atomic():
        if CareTeamMember.objects.filter(
            patient=patient, user=member, ended_at__isnull=True
        ).exists():
            raise ValidationError(_("Ce professionnel fait déjà partie de l'équipe de soins."))
        added = CareTeamMember.objects.create(
            patient=patient, user=member, source=CareTeamSource.EXPLICIT, added_by=actor
        )
        record_event(
            actor=actor_of(actor),
            action=Action.CARE_TEAM_CHANGED,
            patient_ref=str(patient.uuid),
            resource_type="CareTeamMember",
            resource_id=str(added.uuid),
            details={"added": str(member.uuid), "rpps": member.rpps or ""},
        )
    return added


def remove_from_care_team(*, actor: User, member: CareTeamMember) -> CareTeamMember:
    """End a care-team membership; the history stays."""
    _require_caring(
        actor, Action.CARE_TEAM_CHANGED, member.patient, ("CareTeamMember", str(member.uuid))
    )
    with transaction.atomic():
        locked = CareTeamMember.objects.select_for_update().get(pk=member.pk)
        if locked.ended_at is not None:
            raise ValidationError(
                _("Ce professionnel ne fait déjà plus partie de l'équipe de soins.")
            )
        locked.ended_at = timezone.now()
        locked.save(update_fields=["ended_at", "updated_at"])
        record_event(
            actor=actor_of(actor),
            action=Action.CARE_TEAM_CHANGED,
            patient_ref=str(member.patient.uuid),
            resource_type="CareTeamMember",
            resource_id=str(locked.uuid),
            details={"removed": str(locked.user.uuid)},
        )
    return locked


EMERGENCY_REASON_MIN = 20
EMERGENCY_DURATION = dt.timedelta(hours=4)
EMERGENCY_REAUTHENTICATION = dt.timedelta(minutes=5)
EMERGENCY_ROLES = frozenset({Role.PHYSICIAN, Role.GENERAL_PRACTITIONER, Role.COORDINATING_NURSE})


def _emergency_actor(actor: User) -> Actor:
    return dataclasses.replace(actor_of(actor), purpose="emergency")


def start_emergency_access(
    *, actor: User, patient: Patient, reason: str, authenticated_at: dt.datetime
) -> EmergencyAccess:
    """Open a 4-hour, read-only emergency access for a professional outside the care team.

    ``authenticated_at`` is when the professional last proved who they are (they re-enter
    their second factor or go through Pro Santé Connect again just before)."""
    from dcc.patients.selectors import can_view_patient

    # Decide on the record as it is now (an objection may have just been recorded).
    patient = Patient.objects.get(pk=patient.pk)
    reason = " ".join(reason.split())
    denied: str | None = None
    if not Membership.objects.active().filter(user=actor, role__in=EMERGENCY_ROLES).exists():
        denied = _("Seuls les médecins et les infirmiers peuvent ouvrir un accès en urgence.")
    elif patient.objects_to_sharing:
        denied = _(
            "Le patient s'est opposé au partage de son dossier hors de son équipe de soins : l'accès en urgence n'est pas possible."
        )
    elif patient.merged_into_id is not None:
        denied = _("Ce dossier a été fusionné : ouvrez le dossier conservé.")
    if denied:
        raise _deny(
            _emergency_actor(actor),
            Action.EMERGENCY_ACCESS_STARTED,
            denied,
            patient_ref=str(patient.uuid),
            resource_type="Patient",
            resource_id=str(patient.uuid),
        )
    if can_view_patient(actor, patient):
        raise ValidationError(
            _("Vous avez déjà accès à ce dossier : l'accès en urgence n'est pas nécessaire.")
        )
    errors: dict[str, str] = {}
    if len(reason) < EMERGENCY_REASON_MIN:
        errors["reason"] = _(
            "Décrivez la situation d'urgence en au moins %(n)s caractères : ce motif est conservé et communiqué."
        ) % {"n": EMERGENCY_REASON_MIN}
    if timezone.now() - authenticated_at > EMERGENCY_REAUTHENTICATION:
        errors["authentication"] = _(
            "Confirmez votre identité (second facteur ou Pro Santé Connect) avant d'ouvrir l'accès en urgence."
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        access = EmergencyAccess.objects.create(
            patient=patient,
            user=actor,
            reason=reason,
            expires_at=timezone.now() + EMERGENCY_DURATION,
        )
        record_event(
            actor=_emergency_actor(actor),
            action=Action.EMERGENCY_ACCESS_STARTED,
            patient_ref=str(patient.uuid),
            resource_type="EmergencyAccess",
            resource_id=str(access.uuid),
            details={"expires_at": access.expires_at.isoformat()},
        )
        notify_emergency_access(access)
    return access


def end_emergency_access(*, actor: User, access: EmergencyAccess) -> EmergencyAccess:
    """Close an emergency access before it expires (by its holder)."""
    if access.user_id != actor.pk:
        raise PermissionDenied(
            _("Seul le professionnel qui l'a ouvert peut clore cet accès en urgence.")
        )
    with transaction.atomic():
        locked = EmergencyAccess.objects.select_for_update().get(pk=access.pk)
        if locked.ended_at is not None or locked.expires_at <= timezone.now():
            raise ValidationError(_("Cet accès en urgence est déjà clos."))
        locked.ended_at = timezone.now()
        locked.save(update_fields=["ended_at", "updated_at"])
        record_event(
            actor=_emergency_actor(actor),
            action=Action.EMERGENCY_ACCESS_ENDED,
            patient_ref=str(locked.patient.uuid),
            resource_type="EmergencyAccess",
            resource_id=str(locked.uuid),
        )
    return locked


def set_sharing_objection(*, actor: User, patient: Patient, objects: bool, reason: str) -> Patient:
    """Record the patient's objection to sharing outside the care team, or its withdrawal.

    With an objection, the record stays visible to the care team, the GP and the RCP
    participants of the patient's cases, but no longer to the other professionals of the
    structures the patient is registered at, and emergency access is refused."""
    reason = " ".join(reason.split())
    _require_caring(actor, Action.SHARING_OBJECTION_CHANGED, patient)
    if len(reason) < 5:
        raise ValidationError(
            {
                "reason": _(
                    "Indiquez comment le patient a exprimé sa décision (au moins 5 caractères)."
                )
            }
        )
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        if locked.objects_to_sharing == objects:
            raise ValidationError(
                _("L'opposition du patient est déjà enregistrée.")
                if objects
                else _("Le patient ne s'oppose pas au partage.")
            )
        locked.objects_to_sharing = objects
        locked.save(update_fields=["objects_to_sharing", "updated_at"])
        if objects:
            # The objection closes the emergency accesses still open on the record.
            for access in EmergencyAccess.objects.select_for_update().filter(
                patient=locked, ended_at__isnull=True, expires_at__gt=timezone.now()
            ):
                access.ended_at = timezone.now()
                access.save(update_fields=["ended_at", "updated_at"])
                record_event(
                    actor=actor_of(actor),
                    action=Action.EMERGENCY_ACCESS_ENDED,
                    patient_ref=str(locked.uuid),
                    resource_type="EmergencyAccess",
                    resource_id=str(access.uuid),
                    details={"cause": "objection"},
                )
        record_event(
            actor=actor_of(actor),
            action=Action.SHARING_OBJECTION_CHANGED,
            patient_ref=str(locked.uuid),
            resource_type="Patient",
            resource_id=str(locked.uuid),
            details={"objects": objects, "reason": reason[:300]},
        )
    return locked


def grant_case_access(
    *,
    actor: Actor,
    patient: Patient,
    user: User,
    source: str,
    reference: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    granted_by: User | None = None,
) -> CaseAccess:
    """Open the record to ``user`` for ``starts_at``–``ends_at`` (RCP participants of the
    meeting where the case is discussed). Called by the feature that decides it, which has
    already checked its own rights; audited here."""
    if ends_at <= starts_at:
        raise ValidationError(_("La fin de l'accès doit suivre son début."))
    if not user.is_active:
        raise ValidationError(_("Ce compte est désactivé."))
    with transaction.atomic():
        access = CaseAccess.objects.create(
            patient=patient,
            user=user,
            source=source,
            reference=reference[:64],
            starts_at=starts_at,
            ends_at=ends_at,
            granted_by=granted_by,
        )
        record_event(
            actor=actor,
            action=Action.CASE_ACCESS_GRANTED,
            patient_ref=str(patient.uuid),
            resource_type="CaseAccess",
            resource_id=str(access.uuid),
            details={
                "user": str(user.uuid),
                "source": source,
                "reference": reference[:64],
                "until": ends_at.isoformat(),
            },
        )
    return access


def revoke_case_access(*, actor: Actor, access: CaseAccess) -> CaseAccess:
    with transaction.atomic():
        locked = CaseAccess.objects.select_for_update().get(pk=access.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at", "updated_at"])
            record_event(
                actor=actor,
                action=Action.CASE_ACCESS_REVOKED,
                patient_ref=str(locked.patient.uuid),
                resource_type="CaseAccess",
                resource_id=str(locked.uuid),
            )
    return locked


CONTACT_FIELDS = ("address", "postal_code", "city", "phone", "email")


@dataclass(frozen=True)
class Contact:
    address: str = ""
    postal_code: str = ""
    city: str = ""
    phone: str = ""
    email: str = ""


def update_contact(
    *, actor: User, patient: Patient, contact: Contact, general_practitioner: User | None
) -> Patient:
    """Change the contact details and the GP (médecin traitant). Not identity traits, so no new
    identity version, but audited with the names of the fields changed."""
    _require_caring(actor, Action.PATIENT_CONTACT_CHANGED, patient)
    errors: dict[str, str] = {}
    postal_code = contact.postal_code.strip()
    if postal_code and not (len(postal_code) == 5 and postal_code.isdigit()):
        errors["postal_code"] = _("Le code postal comporte 5 chiffres.")
    phone = "".join(contact.phone.split()).replace(".", "").replace("-", "")
    if phone and not (
        (len(phone) == 10 and phone.isdigit() and phone[0] == "0")
        or (phone.startswith("+") and phone[1:].isdigit() and 8 <= len(phone) <= 16)
    ):
        errors["phone"] = _(
            "Numéro de téléphone invalide : 10 chiffres commençant par 0, ou format international +33…"
        )
    if general_practitioner is not None and not (
        general_practitioner.is_active
        and Membership.objects.active()
        .filter(user=general_practitioner, role__in=[Role.GENERAL_PRACTITIONER, Role.PHYSICIAN])
        .exists()
    ):
        errors["general_practitioner"] = _(
            "Le médecin traitant doit être un médecin ayant un compte actif dans le DCC."
        )
    if errors:
        raise ValidationError(errors)
    values = {
        "address": contact.address.strip(),
        "postal_code": postal_code,
        "city": " ".join(contact.city.split()),
        "phone": phone,
        "email": contact.email.strip().lower(),
    }
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        changed = [name for name, value in values.items() if getattr(locked, name) != value]
        if locked.general_practitioner_id != (
            general_practitioner.pk if general_practitioner else None
        ):
            changed.append("general_practitioner")
        for name, value in values.items():
            setattr(locked, name, value)
        locked.general_practitioner = general_practitioner
        locked.save()
        if changed:
            record_event(
                actor=actor_of(actor),
                action=Action.PATIENT_CONTACT_CHANGED,
                patient_ref=str(locked.uuid),
                resource_type="Patient",
                resource_id=str(locked.uuid),
                details={
                    "changed": changed,
                    "general_practitioner": str(general_practitioner.uuid)
                    if general_practitioner
                    else None,
                },
            )
    return locked
