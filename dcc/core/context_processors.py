"""Values every template needs: demo banner, version, the user's working context."""

from __future__ import annotations

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
    }
