"""Local password authentication, throttled and restricted by the login policy."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import make_password
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from dcc.accounts import throttle
from dcc.accounts.models import Charter, CharterAcceptance, User
from dcc.core.compiled import INTEGER, CompiledQuery


def _session_user(user: int) -> QuerySet[User]:
    """The logged-in user with what every request checks about them, in one statement: the
    charter in force and whether they accepted it (``CharterMiddleware``), and their confirmed
    TOTP device (``SecondFactorMiddleware``)."""
    latest = Charter.objects.order_by("-version").values("version")[:1]
    return User.objects.filter(pk=user).annotate(
        dcc_charter_version=Subquery(latest),
        dcc_charter_accepted=Exists(
            CharterAcceptance.objects.filter(user=OuterRef("pk"), charter__version=Subquery(latest))
        ),
        dcc_totp_device=Subquery(
            TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
            .order_by("pk")
            .values("pk")[:1]
        ),
    )


_SESSION_USER = CompiledQuery(_session_user, user=INTEGER)


class SessionUserMixin:
    """``get_user`` (each request's session user) through the compiled statement above."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            found = _SESSION_USER.run(user=int(user_id))
        except (TypeError, ValueError):
            return None
        user = found[0] if found else None
        if user is None or not user.is_active:
            return None
        return user


def password_login_allowed(user: User) -> bool:
    """DCC_LOCAL_LOGIN: all (demo, development), admins (support accounts only) or none."""
    policy = settings.LOCAL_LOGIN
    if policy == "all":
        return True
    if policy == "admins":
        return user.is_superuser or user.is_staff
    return False


class ThrottledPasswordBackend(SessionUserMixin, ModelBackend):
    """ModelBackend with lock-out per login name and per address, and the local-login policy.

    Every path (unknown name, wrong password, locked, policy refusal) costs one Argon2 hash,
    so response times do not tell whether an account exists."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        login = (username or kwargs.get("email") or "").strip().lower()
        if not login or password is None:
            return None
        source_ip = getattr(request, "source_ip", "") if request else ""
        keys = [throttle.account_key(login)] + (
            [throttle.address_key(source_ip)] if source_ip else []
        )
        if throttle.is_locked(*keys):
            make_password(password)
            if request is not None:
                request.dcc_login_locked = True  # type: ignore[attr-defined]
            return None
        user = super().authenticate(request, username=login, password=password)
        if not isinstance(user, User) or not password_login_allowed(user):
            locked = throttle.register_failures(login, source_ip)
            if request is not None:
                request.dcc_login_locked = locked  # type: ignore[attr-defined]
            return None
        return user
