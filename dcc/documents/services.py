"""Adding, replacing and cancelling documents. Nothing here deletes anything.

Order of a write: the content has streamed into the store, inspected and encrypted, but not
committed (``content.PendingContent``); the metadata is checked; the blob is committed
(durable on disk or in the object store; on the local store, staged in its temporary area);
then, in one transaction, the blob row, the document row, the audit event and the care team's
notifications; then the blob is settled: put in place under its key if the row made it,
dropped if not. A refusal before the blob commit leaves nothing anywhere. A crash between the
blob commit and the database commit leaves, on the local store, a staged blob that the next
upload or ``dcc documents_scrub`` puts in place or drops by the row's fate (on S3, an
unreferenced object the scrub lists); never a row without its content."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from dcc.accounts.models import Structure, User
from dcc.accounts.selectors import actor_of
from dcc.audit.choices import Action
from dcc.audit.services import record_denied, record_event
from dcc.core.compiled import INTEGER, TEXT, CompiledQuery
from dcc.documents import permissions
from dcc.documents.choices import Confidentiality, DocumentStatus
from dcc.documents.content import PendingContent
from dcc.documents.models import Document
from dcc.interop.terminology import value_sets
from dcc.notifications.choices import NotificationKind
from dcc.notifications.services import notify
from dcc.patients.models import CareTeamMember, Patient

REASON_MIN = 5


@dataclass(frozen=True)
class Metadata:
    type_code: str
    title: str
    act_date: dt.date
    author: User | None = None
    author_label: str = ""
    structure: Structure | None = None
    confidentiality: str = Confidentiality.NORMAL
    hidden_from_patient: bool = False


def _check_metadata(metadata: Metadata) -> None:
    errors: dict[str, str] = {}
    if value_sets.document_type(metadata.type_code) is None:
        errors["type_code"] = _("Type de document inconnu.")
    if not " ".join(metadata.title.split()):
        errors["title"] = _("Indiquez un titre.")
    if metadata.act_date > timezone.localdate():
        errors["act_date"] = _("La date de l'acte ne peut pas être dans le futur.")
    if metadata.act_date.year < 1900:
        errors["act_date"] = _("Date de l'acte invalide.")
    if metadata.confidentiality not in Confidentiality.values:
        errors["confidentiality"] = _("Niveau de confidentialité inconnu.")
    if metadata.author is None and not metadata.author_label.strip():
        errors["author"] = _("Indiquez l'auteur du document.")
    if errors:
        raise ValidationError(errors)


def _require_writer(actor: User, patient: Patient, action: str, resource_id: str = "") -> None:
    if not permissions.can_write_documents(actor, patient):
        record_denied(
            actor=actor_of(actor),
            action=action,
            patient_ref=str(patient.uuid),
            resource_type="Document",
            resource_id=resource_id,
        )
        raise PermissionDenied(_("Vous ne pouvez pas modifier les documents de ce patient."))


def _same_content(patient: int, sha256: str) -> QuerySet[Document]:
    return (
        Document.objects.filter(patient_id=patient, blob__sha256=sha256)
        .exclude(status=DocumentStatus.CANCELLED)
        .only("title", "act_date", "version")
        .order_by("-created_at")[:1]
    )


# Asked on every upload: compiled once (``core.compiled``), read as three values.
_SAME_CONTENT = CompiledQuery(_same_content, patient=INTEGER, sha256=TEXT)


def _refuse_duplicate(patient: Patient, sha256: str) -> None:
    found = _SAME_CONTENT.values(
        ("title", "act_date", "version"), patient=patient.pk, sha256=sha256
    )
    if found:
        title, act_date, version = found[0]
        raise ValidationError(
            {
                "file": _(
                    "Ce fichier est déjà dans le dossier : « %(title)s » du %(date)s "
                    "(version %(version)s). Remplacez ce document si c'est une correction."
                )
                % {
                    "title": title,
                    "date": formats.date_format(act_date, "SHORT_DATE_FORMAT"),
                    "version": version,
                }
            }
        )


def _store(
    *,
    actor: User,
    patient: Patient,
    content: PendingContent,
    metadata: Metadata,
    set_id: uuid.UUID,
    version: int,
    previous: Document | None,
    reason: str,
) -> Document:
    try:
        _check_metadata(metadata)
        received = content.finish()
        _refuse_duplicate(patient, received.blob.sha256)
        blob = content.commit()
    except BaseException:
        content.abort()
        raise
    recorded: bool | None = None
    try:
        with transaction.atomic():
            if previous is not None:
                locked = Document.objects.select_for_update().get(pk=previous.pk)
                if locked.status != DocumentStatus.CURRENT:
                    raise ValidationError(
                        _("Ce document a déjà été remplacé ou annulé : rechargez la page.")
                    )
                locked.status = DocumentStatus.REPLACED
                locked.save(update_fields=["status", "updated_at"])
            blob.save(force_insert=True)
            document = Document.objects.create(
                patient=patient,
                set_id=set_id,
                version=version,
                previous=previous,
                type_code=metadata.type_code,
                class_code=_class_code(metadata.type_code),
                title=" ".join(metadata.title.split())[:255],
                act_date=metadata.act_date,
                author=metadata.author,
                author_label=metadata.author_label.strip()[:200],
                structure=metadata.structure,
                uploaded_by=actor,
                confidentiality=metadata.confidentiality,
                hidden_from_patient=metadata.hidden_from_patient,
                blob=blob,
                version_reason=reason,
            )
            record_event(
                actor=actor_of(actor),
                action=Action.DOCUMENT_ADDED if previous is None else Action.DOCUMENT_REPLACED,
                patient_ref=str(patient.uuid),
                resource_type="Document",
                resource_id=str(document.uuid),
                resource_version=str(version),
                details={
                    "set": str(set_id),
                    "type": metadata.type_code,
                    "size": blob.size,
                    "sha256": blob.sha256,
                    "flags": list(blob.flags),
                },
            )
            _notify_care_team(actor, patient, document)
        recorded = True  # the block completed: the row is there, no need to ask
    finally:
        # The blob is put in place if the row made it, dropped if not (a refused new version,
        # a database error). Inside a caller's transaction that later rolls back, it stays in
        # place unreferenced, which ``dcc documents_scrub`` lists.
        content.settle(recorded=recorded)
    return document


def _class_code(type_code: str) -> str:
    concept = value_sets.document_class_for(type_code)
    return concept.code if concept is not None else ""


def _notify_care_team(actor: User, patient: Patient, document: Document) -> None:
    if document.confidentiality == Confidentiality.VERY_RESTRICTED:
        return  # said to those who may read it only: the author and the uploader know
    recipients = _CARE_TEAM_RECIPIENTS.run(patient=patient.pk, actor=actor.pk)
    if not recipients:
        return
    concept = value_sets.document_type(document.type_code)
    kind = concept.display if concept is not None else document.title
    # Stored once for every recipient: written in the platform's language, not the actor's.
    with translation.override(settings.LANGUAGE_CODE):
        if document.version > 1:
            title = _("Nouvelle version : %(kind)s") % {"kind": kind}
        else:
            title = _("Nouveau document : %(kind)s") % {"kind": kind}
    notify(
        recipients=recipients,
        kind=NotificationKind.DOCUMENT_ADDED,
        title=title,
        link=reverse("documents:detail", kwargs={"uuid": patient.uuid, "document": document.uuid}),
        patient=patient,
        actor=actor_of(actor),
    )


def _care_team_recipients_query(patient: int, actor: int) -> QuerySet[User]:
    team = CareTeamMember.objects.filter(patient_id=patient, ended_at__isnull=True)
    gp = Patient.objects.filter(pk=patient).values("general_practitioner_id")
    return (
        User.objects.filter(Q(pk__in=team.values("user_id")) | Q(pk__in=gp), is_active=True)
        .exclude(pk=actor)
        .order_by("last_name", "first_name", "pk")
    )


# The active members of the care team and the GP, but the one who adds the document: told on
# every upload, in one statement compiled once (the ORM would build it for ~1 ms each time).
_CARE_TEAM_RECIPIENTS = CompiledQuery(_care_team_recipients_query, patient=INTEGER, actor=INTEGER)


def add_document(
    *, actor: User, patient: Patient, content: PendingContent, metadata: Metadata
) -> Document:
    """Add a new document to the patient's record (the content already streamed in)."""
    try:
        _require_writer(actor, patient, Action.DOCUMENT_ADDED)
    except PermissionDenied:
        content.abort()
        raise
    return _store(
        actor=actor,
        patient=patient,
        content=content,
        metadata=metadata,
        set_id=uuid.uuid4(),
        version=1,
        previous=None,
        reason="",
    )


def replace_document(
    *,
    actor: User,
    document: Document,
    content: PendingContent,
    metadata: Metadata,
    reason: str,
) -> Document:
    """A new version of ``document`` (a corrected report): the earlier one stays readable."""
    reason = " ".join(reason.split())
    try:
        _require_writer(actor, document.patient, Action.DOCUMENT_REPLACED, str(document.uuid))
        if len(reason) < REASON_MIN:
            raise ValidationError(
                {"reason": _("Indiquez le motif de la nouvelle version (au moins 5 caractères).")}
            )
        if document.status != DocumentStatus.CURRENT:
            raise ValidationError(
                _("Seule la version en vigueur d'un document peut être remplacée.")
            )
    except (PermissionDenied, ValidationError):
        content.abort()
        raise
    return _store(
        actor=actor,
        patient=document.patient,
        content=content,
        metadata=metadata,
        set_id=document.set_id,
        version=document.version + 1,
        previous=document,
        reason=reason[:300],
    )


def cancel_document(*, actor: User, document: Document, reason: str) -> Document:
    """Cancel a wrong document: it stays in the record, marked cancelled with who, when, why."""
    reason = " ".join(reason.split())
    _require_writer(actor, document.patient, Action.DOCUMENT_CANCELLED, str(document.uuid))
    if len(reason) < REASON_MIN:
        raise ValidationError(
            {"reason": _("Indiquez le motif de l'annulation (au moins 5 caractères).")}
        )
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        if locked.status != DocumentStatus.CURRENT:
            raise ValidationError(_("Seule la version en vigueur d'un document peut être annulée."))
        locked.status = DocumentStatus.CANCELLED
        locked.cancelled_at = timezone.now()
        locked.cancelled_by = actor
        locked.cancel_reason = reason[:300]
        locked.save(
            update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason", "updated_at"]
        )
        record_event(
            actor=actor_of(actor),
            action=Action.DOCUMENT_CANCELLED,
            patient_ref=str(locked.patient.uuid),
            resource_type="Document",
            resource_id=str(locked.uuid),
            resource_version=str(locked.version),
            details={"reason": locked.cancel_reason},
        )
    return locked


def record_rejected_upload(*, actor: User, patient: Patient, code: str, size: int) -> None:
    """Trace a refused upload (type, size, active content…): who tried what, never the file."""
    record_denied(
        actor=actor_of(actor),
        action=Action.DOCUMENT_REJECTED,
        patient_ref=str(patient.uuid),
        resource_type="Document",
        details={"code": code, "size": size},
    )
