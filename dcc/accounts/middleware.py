"""Session policy (idle and absolute time-outs, second factor) and the user-charter gate."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from dcc.accounts import selectors
from dcc.accounts.choices import LoginMethod
from dcc.accounts.models import User
from dcc.audit.choices import Action
from dcc.audit.services import record_event

# Refreshing the idle clock at most once a minute keeps most requests free of a session write.
SEEN_RESOLUTION = 60


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(
        ("/api/", "/fhir/")
    ) or "application/json" in request.headers.get("Accept", "")


class SessionPolicyMiddleware:
    """End sessions that are idle for too long, too old, or not strongly authenticated."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if isinstance(user, User) and user.is_authenticated:
            reason = self._violation(request)
            if reason:
                with transaction.atomic():
                    record_event(
                        action=Action.SESSION_EXPIRED,
                        resource_type="User",
                        resource_id=str(user.uuid),
                        details={"reason": reason},
                    )
                logout(request)
                if _wants_json(request):
                    return JsonResponse({"error": "session_expired"}, status=401)
                messages.info(request, _("Votre session a expiré : reconnectez-vous."))
                return redirect(
                    f"{reverse('accounts:login')}?{urlencode({'next': request.get_full_path()})}"
                )
            now = int(time.time())
            if now - int(request.session.get("dcc_seen_at", 0)) >= SEEN_RESOLUTION:
                request.session["dcc_seen_at"] = now
        return self.get_response(request)

    @staticmethod
    def _violation(request: HttpRequest) -> str:
        now = time.time()
        session = request.session
        auth_at = session.get("dcc_auth_at")
        seen_at = session.get("dcc_seen_at")
        if not isinstance(auth_at, int) or not isinstance(seen_at, int):
            return "no_login_time"
        if now - auth_at > settings.SESSION_ABSOLUTE_SECONDS:
            return "absolute_timeout"
        if now - seen_at > settings.SESSION_IDLE_SECONDS:
            return "idle_timeout"
        method = session.get("dcc_login_method")
        if settings.REQUIRE_OTP and method != LoginMethod.PRO_SANTE_CONNECT:
            verified = getattr(request.user, "is_verified", lambda: False)()
            if not verified:
                return "second_factor_missing"
        return ""


CHARTER_EXEMPT_PREFIXES = ("/static/", "/compte/deconnexion/", "/langue/")
CHARTER_PAGE = "/compte/charte/"


class CharterMiddleware:
    """Until the current charter version is accepted, only the charter page is reachable."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            isinstance(user, User)
            and user.is_authenticated
            and request.path != CHARTER_PAGE
            and not request.path.startswith(CHARTER_EXEMPT_PREFIXES)
        ):
            charter = selectors.current_charter()
            if charter is not None and request.session.get("dcc_charter") != charter.version:
                if selectors.has_accepted_current_charter(user):
                    request.session["dcc_charter"] = charter.version
                else:
                    if _wants_json(request) or request.method not in ("GET", "HEAD"):
                        return JsonResponse(
                            {
                                "error": "charter_not_accepted",
                                "detail": _("La charte d'utilisation doit être acceptée."),
                            },
                            status=403,
                        )
                    return redirect(
                        f"{reverse('accounts:charter')}?{urlencode({'next': request.get_full_path()})}"
                    )
        return self.get_response(request)
