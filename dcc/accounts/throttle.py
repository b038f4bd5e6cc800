"""Counting failed logins per login name and per source address, and locking out.

Keys are hashed login names, so that unknown names are throttled exactly like real ones and
the table holds no clear e-mail addresses."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dcc.accounts.models import LoginThrottle


def account_key(login: str) -> str:
    digest = hashlib.sha256(("dcc-login:" + login.strip().lower()).encode()).hexdigest()
    return "u:" + digest[:64]


def address_key(source_ip: str) -> str:
    return "ip:" + source_ip[:45]


def is_locked(*keys: str) -> bool:
    now = timezone.now()
    return LoginThrottle.objects.filter(key__in=keys, locked_until__gt=now).exists()


def register_failure(key: str, *, limit: int) -> bool:
    """Count one failure; returns True when this failure locks the key."""
    now = timezone.now()
    with transaction.atomic():
        row, _created = LoginThrottle.objects.select_for_update().get_or_create(key=key)
        if row.locked_until and row.locked_until <= now:
            row.failures = 0
            row.locked_until = None
        LoginThrottle.objects.filter(pk=row.pk).update(
            failures=F("failures") + 1, last_failure_at=now
        )
        row.refresh_from_db()
        if row.failures >= limit:
            row.locked_until = now + dt.timedelta(seconds=settings.LOGIN_LOCK_SECONDS)
            row.failures = 0
            row.save(update_fields=["locked_until", "failures"])
            return True
    return False


def register_failures(login: str, source_ip: str) -> bool:
    locked = register_failure(account_key(login), limit=settings.LOGIN_MAX_FAILURES)
    if source_ip:
        locked = (
            register_failure(address_key(source_ip), limit=settings.LOGIN_IP_MAX_FAILURES) or locked
        )
    return locked


def reset(login: str) -> None:
    LoginThrottle.objects.filter(key=account_key(login)).delete()
