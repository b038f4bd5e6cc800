"""The security officers' screen: list and filter audit events."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dcc.accounts.permissions import can_view_audit
from dcc.audit.models import AuditEvent


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    if not can_view_audit(request.user):
        raise PermissionDenied
    events = AuditEvent.objects.order_by("-id")[:100]
    return render(request, "audit/event_list.html", {"events": events})
