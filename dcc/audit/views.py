"""The security officers' screen: list, filter and read audit events.

Reading the journal is itself traced (``audit.viewed``, with the filters used), in the same
transaction as the read: an officer's consultation is as accountable as anyone else's."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from dcc.accounts.permissions import can_view_audit
from dcc.audit import chain, selectors
from dcc.audit.choices import Action
from dcc.audit.forms import JournalFilterForm
from dcc.audit.models import AuditEvent
from dcc.audit.services import record_event


def _officer(request: HttpRequest) -> None:
    if not can_view_audit(request.user):
        raise PermissionDenied


def _wants_fragment(request: HttpRequest) -> bool:
    # A history restore needs the whole page, even though htmx asks for it.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


@login_required
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    _officer(request)
    form = JournalFilterForm(request.GET)
    context: dict[str, Any] = {"form": form, "rows": None}
    if form.is_valid():
        filters = form.active_filters()
        query = urlencode({name: request.GET.get(name, "") for name in filters})
        with transaction.atomic():
            page = selectors.journal_page(
                selectors.search_events(**form.cleaned_data),
                before=request.GET.get("avant", ""),
                after=request.GET.get("apres", ""),
            )
            context.update(
                rows=selectors.describe_events(page.events),
                page=page,
                query=query,
            )
            record_event(
                action=Action.AUDIT_VIEWED,
                resource_type="AuditEvent",
                details={
                    "filters": filters,
                    "before": request.GET.get("avant", ""),
                    "after": request.GET.get("apres", ""),
                    "shown": len(page.events),
                },
            )
    if _wants_fragment(request):
        response = render(request, "audit/partials/event_results.html", {**context, "oob": True})
    else:
        response = render(request, "audit/event_list.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _integrity(event: AuditEvent) -> str:
    """Whether the row still matches its MAC: "valid", "invalid" or "unknown" (other key)."""
    key = settings.AUDIT_KEYS.get(event.key_id)
    if key is None:
        return "unknown"
    content = [getattr(event, name) for name in chain.CONTENT_FIELDS]
    return "valid" if chain.row_mac(key, content) == event.row_mac else "invalid"


def _pretty(details: str) -> str:
    if not details:
        return ""
    try:
        return json.dumps(json.loads(details), indent=2, ensure_ascii=False, sort_keys=True)
    except ValueError:
        return details


@login_required
@require_GET
def event_detail(request: HttpRequest, uuid: UUID) -> HttpResponse:
    _officer(request)
    event = get_object_or_404(AuditEvent, uuid=uuid)
    with transaction.atomic():
        record_event(
            action=Action.AUDIT_VIEWED, resource_type="AuditEvent", resource_id=str(event.uuid)
        )
    row = selectors.describe_events([event])[0]
    return render(
        request,
        "audit/event_detail.html",
        {
            "row": row,
            "event": event,
            "details": _pretty(event.details),
            "integrity": _integrity(event),
        },
    )
