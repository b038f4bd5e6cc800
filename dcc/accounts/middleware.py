"""Session policy (idle and absolute time-outs, second factor) and the user-charter gate."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

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


def _charter_state(user: User) -> tuple[int | None, bool]:
    """The charter in force and whether ``user`` accepted it: read with the user by the
    authentication backends (``SessionUserMixin``), else asked now."""
    if hasattr(user, "dcc_charter_version"):
        version = user.dcc_charter_version
        return version, bool(getattr(user, "dcc_charter_accepted", False))
    charter = selectors.current_charter()
    if charter is None:
        return None, True
    return charter.version, selectors.has_accepted_current_charter(user)


class SecondFactorMiddleware:
    """``request.user.is_verified()`` and ``otp_device`` as django-otp's ``OTPMiddleware``
    sets them, without its query on every request: the user's confirmed TOTP device is read
    with the user (``SessionUserMixin``), and the session is verified when it names that
    device (``django_otp.login`` stored it there). The device row itself is loaded only if
    something uses it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None:
            request.user = SimpleLazyObject(functools.partial(self._verify, request, user))  # type: ignore[assignment]
        return self.get_response(request)

    @staticmethod
    def _verify(request: HttpRequest, user: Any) -> Any:
        user.otp_device = None
        user.is_verified = functools.partial(_is_verified, user)
        if not user.is_authenticated:
            return user
        named = request.session.get(DEVICE_ID_SESSION_KEY)
        if not hasattr(user, "dcc_totp_device"):
            # Loaded some other way (not through the dcc backends): ask the database.
            device = Device.from_persistent_id(named) if named else None
            if device is not None and (device.user_id != user.pk or not device.confirmed):
                device = None
            user.otp_device = device
        elif (
            named
            and user.dcc_totp_device is not None
            and named == _persistent_id(user.dcc_totp_device)
        ):
            device_id = user.dcc_totp_device
            user.otp_device = SimpleLazyObject(lambda: TOTPDevice.objects.get(pk=device_id))
        if user.otp_device is None and named:
            del request.session[DEVICE_ID_SESSION_KEY]
        return user


def _is_verified(user: Any) -> bool:
    return user.otp_device is not None


def _persistent_id(device_id: int) -> str:
    return f"{TOTPDevice._meta.label_lower}/{device_id}"


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
            version, accepted = _charter_state(user)
            if version is not None and request.session.get("dcc_charter") != version:
                if accepted:
                    request.session["dcc_charter"] = version
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
