"""The notifications page, and marking notifications read."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dcc.accounts.models import User
from dcc.audit.choices import Action
from dcc.audit.services import record_event
from dcc.notifications import selectors, services
from dcc.notifications.forms import EmailPreferencesForm

PAGE_SIZE = 30


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required let an anonymous user through
        raise Http404
    return user


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """The user's notifications, newest first, unread ones marked."""
    user = _user(request)
    paginator = Paginator(selectors.notifications_for(user), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    notifications = list(page.object_list)
    # The titles and reasons are about patients: reading them is traced, once per page.
    with transaction.atomic():
        record_event(
            action=Action.PAGE_VIEWED,
            resource_type="NotificationList",
            details={
                "page": page.number,
                "notifications": [str(n.uuid) for n in notifications],
            },
        )
    return render(
        request,
        "notifications/notification_list.html",
        {
            "page": page,
            "notifications": notifications,
            "has_unread": any(n.read_at is None for n in notifications),
        },
    )


@login_required
@require_POST
def mark_read(request: HttpRequest, uuid: UUID) -> HttpResponse:
    user = _user(request)
    notification = selectors.notifications_for(user).filter(uuid=uuid).first()
    if notification is None:
        raise Http404(_("Notification introuvable."))
    services.mark_read(actor=user, notification=notification)
    return HttpResponseRedirect(reverse("notifications:list"))


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    services.mark_all_read(actor=_user(request))
    return HttpResponseRedirect(reverse("notifications:list"))


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """Which notifications the user also wants announced by e-mail (a link, never content)."""
    user = _user(request)
    current = selectors.email_preferences(user)
    # Every box unchecked posts nothing at all: the form is bound on POST, not on its content.
    form = EmailPreferencesForm(request.POST if request.method == "POST" else None, current=current)
    if request.method == "POST" and form.is_valid():
        changed = services.set_email_preferences(actor=user, by_email=form.by_email())
        messages.success(
            request,
            _("Vos préférences ont été enregistrées.")
            if changed
            else _("Vos préférences n'ont pas changé."),
        )
        return HttpResponseRedirect(reverse("notifications:preferences"))
    return render(request, "notifications/preferences.html", {"form": form})
