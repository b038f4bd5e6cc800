"""The patient's access report, as a page, a CSV file and a PDF document.

The patient is reached through ``patients.access.patient_for`` only (404 outside the user's
patients; a merged record's address leads to the kept record's report). An emergency
(break-glass) access does not open the report: it is refused (403) and the refusal traced.
Each display or export is itself one audit event, so the report shows who read the report."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID

from django import forms
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from dcc.audit.choices import Action
from dcc.audit.forms import DateInput
from dcc.audit.services import record_denied, record_event
from dcc.core.views import bad_request
from dcc.patients import access_report
from dcc.patients.access import MergedRecord, PatientAccess, patient_for
from dcc.patients.access_report import REPORT_TIME_ZONE, AccessRow, Period
from dcc.patients.models import Patient

# A cell starting with one of these is a formula for a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class PeriodForm(forms.Form):
    du = forms.DateField(label=gettext_lazy("Du"), required=False, widget=DateInput)
    au = forms.DateField(label=gettext_lazy("Au"), required=False, widget=DateInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("du"), data.get("au")
        if start and end and start > end:
            self.add_error("au", _("La date de fin précède la date de début."))
        return data

    def period(self) -> Period:
        return Period(start=self.cleaned_data.get("du"), end=self.cleaned_data.get("au"))


def _period_query(period: Period) -> str:
    values = {"du": period.start, "au": period.end}
    return urlencode({key: value.isoformat() for key, value in values.items() if value})


def _reach(
    request: HttpRequest, uuid: UUID, action: Action, route: str, fmt: str = ""
) -> PatientAccess | HttpResponse:
    """The patient for the report, or the response that replaces it (redirect, 403)."""
    try:
        access = patient_for(request.user, uuid)
    except MergedRecord as merged:
        target = reverse(f"patients:{route}", kwargs={"uuid": merged.kept.uuid})
        query = request.GET.urlencode()
        return redirect(f"{target}?{query}" if query else target)
    if access.read_only:
        # Break-glass opens the record for care, not the list of who consulted it.
        record_denied(
            action=action,
            actor=access.actor,
            patient_ref=str(access.patient.uuid),
            resource_type="Patient",
            resource_id=str(access.patient.uuid),
            details={"reason": "emergency_access", **({"format": fmt} if fmt else {})},
        )
        return render(
            request,
            "core/error.html",
            {
                "status": 403,
                "title": _("Accès refusé"),
                "message": _(
                    "Le relevé des accès au dossier n'est pas consultable dans le cadre d'un accès en urgence. Il est réservé à l'équipe de soins du patient."
                ),
            },
            status=403,
        )
    return access


def _private(response: HttpResponseBase) -> HttpResponseBase:
    # Health data: never kept by a browser or a proxy cache.
    patch_cache_control(response, private=True, no_store=True)
    return response


def _filename(patient: Patient, extension: str) -> str:
    # No name in the file name: it shows in download lists and mail attachments.
    today = timezone.localdate(timezone=REPORT_TIME_ZONE)
    return f"releve-acces-{patient.uuid}-{today:%Y%m%d}.{extension}"


def _record_export(access: PatientAccess, period: Period, fmt: str) -> None:
    with transaction.atomic():
        record_event(
            actor=access.actor,
            action=Action.ACCESS_REPORT_EXPORTED,
            patient_ref=str(access.patient.uuid),
            resource_type="Patient",
            resource_id=str(access.patient.uuid),
            details={"format": fmt, "period": period.as_details()},
        )


@login_required
@require_GET
def access_report_page(request: HttpRequest, uuid: UUID) -> HttpResponseBase:
    """Who consulted or changed the record, newest first, page by page."""
    found = _reach(request, uuid, Action.ACCESS_REPORT_VIEWED, "access_report")
    if isinstance(found, HttpResponse):
        return found
    patient = found.patient
    form = PeriodForm(request.GET)
    # ``access`` and ``tab`` for the record's navigation (patients/partials/patient_nav.html).
    context: dict[str, Any] = {
        "patient": patient,
        "access": found,
        "tab": "accesses",
        "form": form,
        "page": None,
    }
    if form.is_valid():
        period = form.period()
        before = request.GET.get("avant", "")
        with transaction.atomic():
            page = access_report.report_page(patient, period, before=before)
            record_event(
                actor=found.actor,
                action=Action.ACCESS_REPORT_VIEWED,
                patient_ref=str(patient.uuid),
                resource_type="Patient",
                resource_id=str(patient.uuid),
                details={
                    "period": period.as_details(),
                    "before": before,
                    "shown": len(page.rows),
                },
            )
        context.update(page=page, period=period, query=_period_query(period))
    return _private(render(request, "patients/access_report.html", context))


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def _csv_lines(rows: Iterable[AccessRow]) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")
    # The BOM tells spreadsheets the file is UTF-8 (accents in names, structures).
    yield "\ufeff" + writer.writerow(
        [
            _("Date et heure"),
            _("Professionnel"),
            _("RPPS"),
            _("Rôle"),
            _("Structure"),
            _("Action"),
            _("Motif d'accès"),
            _("Résultat"),
        ]
    )
    for row in rows:
        yield writer.writerow(
            [
                f"{row.occurred_at:%d/%m/%Y %H:%M:%S}",
                *(
                    _cell(value)
                    for value in (
                        row.who,
                        row.rpps,
                        row.role,
                        row.structure,
                        row.what,
                        row.purpose,
                        row.outcome,
                    )
                ),
            ]
        )


@login_required
@require_GET
def access_report_csv(request: HttpRequest, uuid: UUID) -> HttpResponseBase:
    """Every access of the period, as a CSV file for French spreadsheets (``;``, UTF-8 BOM)."""
    found = _reach(request, uuid, Action.ACCESS_REPORT_EXPORTED, "access_report_csv", "csv")
    if isinstance(found, HttpResponse):
        return found
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return bad_request(request)
    period = form.period()
    # Traced before the first byte leaves: the rows are read while the file streams.
    _record_export(found, period, "csv")
    response = StreamingHttpResponse(
        _csv_lines(access_report.report_rows(found.patient, period)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(found.patient, "csv")}"'
    return _private(response)


def render_pdf(html: str) -> bytes:
    """A PDF from self-contained HTML: nothing is fetched (no URL is allowed), fonts come
    from the system (fontconfig)."""
    import weasyprint  # type: ignore[import-untyped]  # Pango is loaded on import: only here.

    document = weasyprint.HTML(
        string=html, url_fetcher=weasyprint.URLFetcher(allowed_protocols=frozenset())
    )
    pdf: bytes = document.write_pdf()
    return pdf


@login_required
@require_GET
def access_report_pdf(request: HttpRequest, uuid: UUID) -> HttpResponseBase:
    """Every access of the period, as a PDF document to hand to the patient."""
    found = _reach(request, uuid, Action.ACCESS_REPORT_EXPORTED, "access_report_pdf", "pdf")
    if isinstance(found, HttpResponse):
        return found
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return bad_request(request)
    period = form.period()
    html = render_to_string(
        "patients/access_report_pdf.html",
        {
            "patient": found.patient,
            "period": period,
            "rows": access_report.report_rows(found.patient, period),
            "generated_at": timezone.now().astimezone(REPORT_TIME_ZONE),
            "time_zone": REPORT_TIME_ZONE.key,
        },
    )
    pdf = render_pdf(html)
    # Traced once the document exists, in the same step as handing it over.
    _record_export(found, period, "pdf")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(found.patient, "pdf")}"'
    return _private(response)
