"""Document screens: the record's documents, adding (streamed, with a progress bar), viewing
in the browser, downloading, new versions and cancelling. Every screen reaches the patient
through ``patients.access.patient_view`` (404 outside the user's patients) and every read of a
document or of the list is audited."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from uuid import UUID

from csp.decorators import csp_exempt
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
    UnreadablePostError,
)
from django.http.multipartparser import MultiPartParserError
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dcc.accounts.models import Membership, Structure, User
from dcc.audit.choices import Action
from dcc.audit.services import record_event
from dcc.core.compiled import INTEGER, CompiledQuery
from dcc.documents import permissions, selectors, services
from dcc.documents.choices import ContentKind, DocumentStatus
from dcc.documents.content import ContentCorrupted, open_verified
from dcc.documents.forms import CancelForm, DocumentForm, FilterForm, ReplaceForm
from dcc.documents.models import Document
from dcc.documents.upload import DocumentUploadHandler
from dcc.interop.terminology import value_sets
from dcc.patients.access import PatientAccess, patient_view
from dcc.patients.models import CareTeamMember
from dcc.patients.permissions import REGISTERING_ROLES

logger = logging.getLogger(__name__)

# Room for the form fields and multipart boundaries around the file itself.
FORM_OVERHEAD = 64 * 1024
CONTENT_POLICY = {
    # A PDF in the browser's own viewer: nothing else loads, nothing runs in the page.
    "pdf": "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'",
    # Images and text: a sandboxed document (no script, no form, unique origin).
    "other": "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'",
}


def _type_display(code: str) -> str:
    concept = value_sets.document_type(code)
    return concept.display if concept is not None else code


def _audit_read(
    access: PatientAccess,
    action: str,
    document: Document | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    with transaction.atomic():
        record_event(
            actor=access.actor,
            action=action,
            patient_ref=str(access.patient.uuid),
            resource_type="Document" if document is not None else "Patient",
            resource_id=str(document.uuid if document is not None else access.patient.uuid),
            resource_version=str(document.version) if document is not None else "",
            details=details,
        )


def _form_choices(access: PatientAccess) -> dict[str, Any]:
    """The form's candidate authors (the active care team and the user) and structures (where
    the user holds a clinical or secretarial role), each read when the form first needs it;
    the user, who most often posts themselves as the author, is at hand already."""
    patient, user = access.patient.pk, access.user.pk
    return {
        "authors": lambda: _AUTHORS.run(patient=patient, user=user),
        "structures": lambda: _STRUCTURES.run(user=user),
        "user": access.user,
    }


def _authors_query(patient: int, user: int) -> QuerySet[User]:
    team = CareTeamMember.objects.filter(patient_id=patient, ended_at__isnull=True)
    return User.objects.filter(
        Q(is_active=True, pk__in=team.values("user_id")) | Q(pk=user)
    ).order_by("last_name", "first_name")


def _structures_query(user: int) -> QuerySet[Structure]:
    roles = Membership.objects.active().filter(user_id=user, role__in=REGISTERING_ROLES)
    return Structure.objects.filter(pk__in=roles.values("structure_id")).order_by("name")


# Read on every upload (a posted author) and every form shown: compiled once per process.
_AUTHORS = CompiledQuery(_authors_query, patient=INTEGER, user=INTEGER)
_STRUCTURES = CompiledQuery(_structures_query, user=INTEGER)


@patient_view()
@require_GET
def timeline(request: HttpRequest, access: PatientAccess) -> HttpResponse:
    form = FilterForm(request.GET or None)
    filters = selectors.Filters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.Filters(
            type_code=data.get("type") or "",
            author=data.get("author"),
            structure=data.get("structure"),
            since=data.get("since"),
            until=data.get("until"),
            include_cancelled=bool(data.get("cancelled")),
        )
    documents = list(selectors.timeline(access, filters)[:500])
    _audit_read(
        access, Action.DOCUMENTS_LISTED, details={**filters.as_details(), "count": len(documents)}
    )
    context = {
        "access": access,
        "patient": access.patient,
        "documents": documents,
        "form": form,
        "may_write": permissions.can_write_documents(access.user, access.patient)
        and not access.read_only,
    }
    template = (
        "documents/partials/timeline_rows.html"
        if getattr(request, "htmx", False) and request.headers.get("HX-Target") == "timeline"
        else "documents/timeline.html"
    )
    return render(request, template, context)


def _parse_upload(request: HttpRequest, handler: DocumentUploadHandler) -> bool:
    """Read the whole body through ``handler``; False when it cannot be read to its end."""
    try:
        request.POST  # noqa: B018 (parses the body, files included)
    except (MultiPartParserError, UnreadablePostError, RequestDataTooBig, OSError):
        handler.abort()
        return False
    return True


def _upload_errors(
    request: HttpRequest,
    access: PatientAccess,
    form: DocumentForm,
    handler: DocumentUploadHandler,
    upload: Any,
) -> None:
    if handler.rejection is not None:
        form.add_error("file", handler.rejection.message)
        services.record_rejected_upload(
            actor=access.user,
            patient=access.patient,
            code=handler.rejection.code,
            size=handler.rejected_size,
        )
    elif handler.interrupted:
        form.add_error("file", _("L'envoi a été interrompu : recommencez."))
    elif upload is None:
        form.add_error("file", _("Choisissez le fichier du document."))
    if handler.extra_file:
        form.add_error("file", _("Un seul fichier par document."))


def _too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return False
    return length > settings.DOCUMENT_MAX_BYTES + FORM_OVERHEAD


def _upload_page(
    request: HttpRequest,
    access: PatientAccess,
    form: DocumentForm,
    *,
    document: Document | None,
    status: int,
) -> HttpResponse:
    context = {
        "access": access,
        "patient": access.patient,
        "form": form,
        "document": document,
        "max_bytes": settings.DOCUMENT_MAX_BYTES,
    }
    template = (
        "documents/partials/upload_form.html"
        if getattr(request, "htmx", False)
        else "documents/upload.html"
    )
    return render(request, template, context, status=status)


def _require_writer(access: PatientAccess) -> None:
    # An access that is not read-only was decided, in this request, by the caring test of
    # ``can_write_documents`` (``patients.selectors``): only the role is left to check here.
    # The service checks both again once the upload is in.
    if access.read_only or not permissions.has_document_role(access.user):
        raise PermissionDenied(_("Vous ne pouvez pas ajouter de document à ce dossier."))


def _initial(access: PatientAccess) -> dict[str, Any]:
    return {"author": access.user.pk}


@csrf_exempt
@patient_view(write=True)
@require_http_methods(["GET", "POST"])
def add(request: HttpRequest, access: PatientAccess) -> HttpResponse:
    """Add a document (the CSRF check comes after the upload handler: see ``_upload``)."""
    _require_writer(access)
    if request.method == "POST":
        return _upload(request, access, DocumentForm, None, _add_post)
    form = DocumentForm(initial=_initial(access), **_form_choices(access))
    return _upload_page(request, access, form, document=None, status=200)


UploadPost = Callable[
    [HttpRequest, PatientAccess, DocumentUploadHandler, "Document | None"], HttpResponse
]


def _upload(
    request: HttpRequest,
    access: PatientAccess,
    form_class: type[DocumentForm],
    document: Document | None,
    post: UploadPost,
) -> HttpResponse:
    """Receive an upload, then hand it to ``post``.

    A body announced over the limit is refused unread. The streaming handler is installed
    before anything reads the body: the CSRF check (``csrf_protect`` on ``post``) reads the
    form, which would otherwise be parsed by Django's default handlers (clear content in a
    temporary file) and leave the handler unusable. Whatever happens next — a refusal, an
    error, the worker stopped — the content is dropped, or settled once recorded."""
    if _too_large(request):
        form = _refused_form(
            access,
            form_class,
            _("Le fichier dépasse la taille maximale de %(size)s Mo.")
            % {"size": settings.DOCUMENT_MAX_BYTES // (1024 * 1024)},
        )
        services.record_rejected_upload(
            actor=access.user, patient=access.patient, code="too_large", size=0
        )
        return _upload_page(request, access, form, document=document, status=413)
    handler = DocumentUploadHandler(request)
    request.upload_handlers = [handler]
    try:
        if not _parse_upload(request, handler):
            form = _refused_form(access, form_class, _("L'envoi a été interrompu : recommencez."))
            return _upload_page(request, access, form, document=document, status=400)
        return post(request, access, handler, document)
    finally:
        handler.abort()


def _refused_form(
    access: PatientAccess, form_class: type[DocumentForm], message: str
) -> DocumentForm:
    """The empty form again, with ``message`` on the file: the body was not read, so there is
    nothing to bind (and an unbound form takes errors only once cleaned, to nothing)."""
    form = form_class(initial=_initial(access), **_form_choices(access))
    form.full_clean()
    form.cleaned_data = {}
    form.add_error("file", message)
    return form


def _received_form(
    request: HttpRequest,
    access: PatientAccess,
    form_class: type[DocumentForm],
    handler: DocumentUploadHandler,
) -> tuple[DocumentForm, Any]:
    upload = request.FILES.get("file")
    form = form_class(request.POST, **_form_choices(access))
    _upload_errors(request, access, form, handler, upload)
    return form, upload


@csrf_protect
def _add_post(
    request: HttpRequest,
    access: PatientAccess,
    handler: DocumentUploadHandler,
    document: Document | None,
) -> HttpResponse:
    form, upload = _received_form(request, access, DocumentForm, handler)
    if form.is_valid() and upload is not None:
        try:
            added = services.add_document(
                actor=access.user,
                patient=access.patient,
                content=upload.pending,
                metadata=form.metadata(),
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Document ajouté au dossier."))
            return _done(request, access, added)
    return _upload_page(request, access, form, document=None, status=400)


def _done(request: HttpRequest, access: PatientAccess, document: Document) -> HttpResponse:
    url = reverse(
        "documents:detail", kwargs={"uuid": access.patient.uuid, "document": document.uuid}
    )
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@patient_view()
@require_GET
def detail(request: HttpRequest, access: PatientAccess, document: UUID) -> HttpResponse:
    found = selectors.document_for(access, document)
    versions = selectors.versions_of(access, found)
    narrative = ""
    corrupted = False
    if found.blob.kind == ContentKind.CDA:
        try:
            from dcc.documents import cda

            narrative = cda.render_html(b"".join(open_verified(found.blob)))
        except ContentCorrupted:
            corrupted = True
        except Exception as error:  # a CDA that cannot be rendered is still downloadable
            if error.__class__.__name__ != "CdaError":
                raise
            narrative = ""
    _audit_read(access, Action.DOCUMENT_VIEWED, found, {"page": "detail"})
    if corrupted:
        return _corrupted(request, access, found)
    context = {
        "access": access,
        "patient": access.patient,
        "document": found,
        "type_display": _type_display(found.type_code),
        "versions": versions,
        "narrative": narrative,
        "may_write": not access.read_only
        and found.status == DocumentStatus.CURRENT
        and permissions.can_write_documents(access.user, access.patient),
        "cancel_form": CancelForm(),
    }
    return render(request, "documents/detail.html", context)


def _corrupted(request: HttpRequest, access: PatientAccess, document: Document) -> HttpResponse:
    logger.error("document blob failed its integrity check: blob %s", document.blob.uuid)
    with transaction.atomic():
        record_event(
            actor=access.actor,
            action=Action.DOCUMENT_INTEGRITY_FAILED,
            outcome="failure",
            patient_ref=str(access.patient.uuid),
            resource_type="Document",
            resource_id=str(document.uuid),
            details={"blob": str(document.blob.uuid)},
        )
    return render(
        request,
        "documents/corrupted.html",
        {"access": access, "patient": access.patient, "document": document},
        status=409,
    )


def _serve(
    request: HttpRequest, access: PatientAccess, document: UUID, *, attachment: bool
) -> HttpResponseBase:
    found = selectors.document_for(access, document)
    blob = found.blob
    try:
        chunks = open_verified(blob)
    except ContentCorrupted:
        return _corrupted(request, access, found)
    # A CDA is shown through its rendered narrative, never as XML the browser would style.
    attachment = attachment or blob.kind == ContentKind.CDA
    _audit_read(
        access,
        Action.DOCUMENT_DOWNLOADED if attachment else Action.DOCUMENT_VIEWED,
        found,
        {"content": True},
    )
    content_type = blob.mime_type + ("; charset=utf-8" if blob.kind in ("text", "cda") else "")
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Length"] = str(blob.size)
    response["Content-Disposition"] = content_disposition_header(attachment, blob.file_name) or ""
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    response["Content-Security-Policy"] = CONTENT_POLICY[
        "pdf" if blob.kind == ContentKind.PDF else "other"
    ]
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@csp_exempt()
@xframe_options_sameorigin
@patient_view()
@require_GET
def content(request: HttpRequest, access: PatientAccess, document: UUID) -> HttpResponseBase:
    return _serve(request, access, document, attachment=False)


@csp_exempt()
@patient_view()
@require_GET
def download(request: HttpRequest, access: PatientAccess, document: UUID) -> HttpResponseBase:
    return _serve(request, access, document, attachment=True)


@csrf_exempt
@patient_view(write=True)
@require_http_methods(["GET", "POST"])
def replace(request: HttpRequest, access: PatientAccess, document: UUID) -> HttpResponse:
    _require_writer(access)
    found = selectors.document_for(access, document)
    if request.method == "POST":
        return _upload(request, access, ReplaceForm, found, _replace_post)
    form = ReplaceForm(
        initial={
            "type_code": found.type_code,
            "title": found.title,
            "act_date": found.act_date,
            "author": found.author_id,
            "author_label": found.author_label,
            "structure": found.structure_id,
            "confidentiality": found.confidentiality,
            "hidden_from_patient": found.hidden_from_patient,
        },
        **_form_choices(access),
    )
    return _upload_page(request, access, form, document=found, status=200)


@csrf_protect
def _replace_post(
    request: HttpRequest,
    access: PatientAccess,
    handler: DocumentUploadHandler,
    document: Document | None,
) -> HttpResponse:
    assert document is not None  # noqa: S101 (``replace`` always passes it)
    form, upload = _received_form(request, access, ReplaceForm, handler)
    if form.is_valid() and upload is not None:
        try:
            new = services.replace_document(
                actor=access.user,
                document=document,
                content=upload.pending,
                metadata=form.metadata(),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(
                request, _("Nouvelle version enregistrée ; la précédente reste consultable.")
            )
            return _done(request, access, new)
    return _upload_page(request, access, form, document=document, status=400)


@patient_view(write=True)
@require_POST
def cancel(request: HttpRequest, access: PatientAccess, document: UUID) -> HttpResponse:
    _require_writer(access)
    found = selectors.document_for(access, document)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.cancel_document(
                actor=access.user, document=found, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Document annulé ; il reste dans le dossier."))
    else:
        for errors in form.errors.values():
            for text in errors:
                messages.error(request, str(text))
    return redirect("documents:detail", uuid=access.patient.uuid, document=found.uuid)
