"""Values every template needs: demo banner, version, the user's working context, and the
number of unread notifications shown in the navigation."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from dcc import __version__


def dcc_context(request: HttpRequest) -> dict[str, Any]:
    from dcc.accounts.views import context_for_templates

    return {
        "dcc_demo": settings.DEMO,
        "dcc_version": __version__,
        **context_for_templates(request),
        **_notifications(request),
    }


def _notifications(request: HttpRequest) -> dict[str, Callable[[], int]]:
    """The unread count, as a callable the template calls when (and only when) it shows it:
    htmx partials and pages without navigation run no query; the navigation runs one COUNT."""
    from dcc.accounts.models import User
    from dcc.notifications.selectors import unread_count

    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return {}

    @functools.cache
    def unread() -> int:
        return unread_count(user)

    return {"dcc_unread_notifications": unread}
