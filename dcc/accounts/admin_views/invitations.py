"""Invitations: create, list, cancel."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from uuid import UUID

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from dcc.accounts import selectors, services
from dcc.accounts.admin_views.common import (
    active_structures,
    add_service_errors,
    grantable_roles,
    paginate,
    post_data,
    query_without_page,
    require_administrator,
)
from dcc.accounts.forms import (
    InvitationForm,
    set_choices,
)
from dcc.accounts.models import Invitation


class InvitationStatus:
    PENDING = "pending"
    EXPIRED = "expired"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"


INVITATION_STATUS_LABELS = {
    InvitationStatus.PENDING: gettext_lazy("En attente"),
    InvitationStatus.EXPIRED: gettext_lazy("Expirée"),
    InvitationStatus.ACCEPTED: gettext_lazy("Acceptée"),
    InvitationStatus.CANCELLED: gettext_lazy("Annulée"),
}


class InvitationFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("État"),
        required=False,
        choices=[("", gettext_lazy("Toutes")), *INVITATION_STATUS_LABELS.items()],
    )


def _invitation_status(invitation: Invitation, now: dt.datetime) -> str:
    if invitation.cancelled_at:
        return InvitationStatus.CANCELLED
    if invitation.accepted_at:
        return InvitationStatus.ACCEPTED
    if invitation.expires_at <= now:
        return InvitationStatus.EXPIRED
    return InvitationStatus.PENDING


def _filter_invitations(
    invitations: QuerySet[Invitation], status: str, now: dt.datetime
) -> QuerySet[Invitation]:
    open_ = Q(accepted_at__isnull=True, cancelled_at__isnull=True)
    conditions = {
        InvitationStatus.PENDING: open_ & Q(expires_at__gt=now),
        InvitationStatus.EXPIRED: open_ & Q(expires_at__lte=now),
        InvitationStatus.ACCEPTED: Q(accepted_at__isnull=False),
        InvitationStatus.CANCELLED: Q(cancelled_at__isnull=False),
    }
    return invitations.filter(conditions[status]) if status in conditions else invitations


@dataclass(frozen=True)
class InvitationRow:
    invitation: Invitation
    status: str

    @property
    def status_label(self) -> str:
        return str(INVITATION_STATUS_LABELS[self.status])

    @property
    def cancellable(self) -> bool:
        return self.status == InvitationStatus.PENDING


@login_required
def invitation_list(request: HttpRequest) -> HttpResponse:
    user = require_administrator(request)
    now = timezone.now()
    form = InvitationFilterForm(request.GET)
    invitations = selectors.invitations_visible_to(user)
    if form.is_valid():
        invitations = _filter_invitations(invitations, form.cleaned_data["status"], now)
    page = paginate(request, invitations.order_by("-created_at", "-id"))
    rows = [InvitationRow(invitation, _invitation_status(invitation, now)) for invitation in page]
    return render(
        request,
        "accounts/invitation_list.html",
        {"form": form, "page": page, "rows": rows, "query": query_without_page(request)},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def invitation_create(request: HttpRequest) -> HttpResponse:
    user = require_administrator(request)
    form = InvitationForm(
        post_data(request),
        structures=active_structures(user),
        initial={"structure": request.GET.get("structure", "")},
    )
    set_choices(form, "role", grantable_roles(user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invitation, token = services.invite_user(
                actor=user,
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                structure=data["structure"],
                role=data["role"],
                rpps=data["rpps"],
                profession_code=data["profession_code"],
                specialty_code=data["specialty_code"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            # Shown once, in this response only: e-mail may not be configured, and only a
            # hash of the token is kept.
            link = settings.SITE_URL.rstrip("/") + reverse("accounts:invitation", args=[token])
            return render(
                request,
                "accounts/admin_invitation_created.html",
                {"invitation": invitation, "link": link, "days": settings.INVITATION_DAYS},
            )
    return render(request, "accounts/invitation_form.html", {"form": form})


@login_required
@require_POST
def invitation_cancel(request: HttpRequest, uuid: UUID) -> HttpResponse:
    user = require_administrator(request)
    invitation = get_object_or_404(selectors.invitations_visible_to(user), uuid=uuid)
    if _invitation_status(invitation, timezone.now()) != InvitationStatus.PENDING:
        messages.error(request, _("Seule une invitation en attente peut être annulée."))
    else:
        services.cancel_invitation(actor=user, invitation=invitation)
        messages.success(
            request, _("Invitation de %(email)s annulée.") % {"email": invitation.email}
        )
    return redirect("administration:invitation_list")
