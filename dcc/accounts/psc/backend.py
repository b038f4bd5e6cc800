"""Authentication backend for professionals identified by Pro Santé Connect.

PSC vouches for the person; the DCC decides who may enter. The national identifier
(``SubjectNameID``, "8" + RPPS) must belong to an existing, active account: accounts are
opened by invitation, never created on the fly from a PSC identity.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest

from dcc.accounts.backends import SessionUserMixin
from dcc.accounts.identifiers import rpps_from_idnatps
from dcc.accounts.models import User
from dcc.accounts.psc.client import PSCError


def user_for_userinfo(userinfo: Mapping[str, Any]) -> User:
    """The active DCC account of the professional PSC identified, or PSCError."""
    subject_name_id = userinfo.get("SubjectNameID")
    rpps = rpps_from_idnatps(subject_name_id) if isinstance(subject_name_id, str) else None
    if rpps is None:
        raise PSCError("no_rpps", kind="no_rpps")
    user = User.objects.filter(rpps=rpps).first()
    if user is None:
        raise PSCError("unknown_rpps", kind="unknown_account")
    if not user.is_active:
        raise PSCError("inactive_user", kind="inactive_account", user_uuid=str(user.uuid))
    return user


class ProSanteConnectBackend(SessionUserMixin, BaseBackend):
    """Logs in from verified PSC userinfo claims (``psc_userinfo=...``), and reloads the user
    of a PSC session on each request. Password credentials are never accepted here."""

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> User | None:
        userinfo = credentials.get("psc_userinfo")
        if not isinstance(userinfo, Mapping):
            return None
        try:
            return user_for_userinfo(userinfo)
        except PSCError:
            return None
