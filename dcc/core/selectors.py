"""What the home page shows, according to the user's roles."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from dcc.accounts import permissions, selectors
from dcc.audit.choices import Action, Outcome
from dcc.audit.models import AuditEvent


def home_for(request: HttpRequest) -> dict[str, Any]:
    user = selectors.request_user(request)
    context: dict[str, Any] = {
        "memberships": selectors.active_memberships(user),
        "charter": selectors.current_charter(),
        "last_logins": list(
            # Served by the (actor_user_id, occurred_at) index, whatever the trail's size.
            AuditEvent.objects.filter(actor_user_id=str(user.uuid), action=Action.LOGIN)
            .order_by("-occurred_at")
            .values("occurred_at", "action", "outcome", "source_ip")[:5]
        ),
    }
    if permissions.can_administer(user):
        structures = selectors.structures_visible_to(user)
        context["admin"] = {
            "structures": structures.count(),
            "users": selectors.users_visible_to(user).count(),
            "pending_invitations": selectors.invitations_visible_to(user)
            .filter(accepted_at__isnull=True, cancelled_at__isnull=True)
            .count(),
        }
    if permissions.can_view_audit(user):
        context["security"] = {
            # A recent window keeps this a range scan of the date index as the trail grows.
            "denied": AuditEvent.objects.filter(
                occurred_at__gte=timezone.now() - dt.timedelta(days=7), outcome=Outcome.DENIED
            ).count(),
            "pending_seal": AuditEvent.objects.filter(chain_seq__isnull=True).count(),
        }
    context["is_platform_admin"] = permissions.is_platform_admin(user)
    return context
