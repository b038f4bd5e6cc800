"""Pro Santé Connect login views (authorization code flow with PKCE).

``start`` keeps state, nonce, PKCE verifier and the page to return to in the session, then
sends the browser to PSC. ``callback`` checks the state, lets the client module do the
back-channel checks, maps the RPPS to an account and opens the session. Every refusal is
audited with a reason code and explained in French; nothing is logged in on any error.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dcc.accounts.choices import LoginMethod
from dcc.accounts.models import User
from dcc.accounts.psc import client
from dcc.accounts.psc.backend import user_for_userinfo
from dcc.accounts.psc.client import FailureKind, PSCError
from dcc.accounts.views import complete_login
from dcc.audit.choices import Action
from dcc.audit.services import record_denied

logger = logging.getLogger(__name__)

BACKEND = "dcc.accounts.psc.backend.ProSanteConnectBackend"
SESSION_KEY = "dcc_psc_flows"
FLOW_SECONDS = 600
MAX_PENDING_FLOWS = 5

FAILURES: dict[FailureKind, tuple[int, Promise]] = {
    "flow": (
        400,
        _(
            "Votre demande de connexion par Pro Santé Connect a expiré ou n'est pas valable : recommencez."
        ),
    ),
    "cancelled": (403, _("La connexion par Pro Santé Connect a été annulée ou refusée.")),
    "unavailable": (
        502,
        _(
            "Pro Santé Connect ne répond pas correctement pour le moment : réessayez dans quelques minutes."
        ),
    ),
    "invalid": (
        403,
        _("La réponse de Pro Santé Connect n'a pas pu être vérifiée : la connexion est refusée."),
    ),
    "assurance": (
        403,
        _(
            "Le niveau d'authentification transmis par Pro Santé Connect est insuffisant : connectez-vous avec votre carte CPS ou l'application e-CPS."
        ),
    ),
    "no_rpps": (
        403,
        _(
            "Votre identité Pro Santé Connect ne comporte pas de numéro RPPS : elle ne permet pas d'accéder au DCC."
        ),
    ),
    "unknown_account": (
        403,
        _(
            "Aucun compte du DCC ne correspond à votre numéro RPPS. Demandez à l'administrateur de votre structure de vous inviter."
        ),
    ),
    "inactive_account": (
        403,
        _("Votre compte DCC est désactivé. Contactez l'administrateur de votre structure."),
    ),
}


def _require_configured() -> None:
    if not client.is_configured():
        raise Http404


def _redirect_uri() -> str:
    # The redirect URI is registered with PSC: build it from the public address, not from
    # whatever Host header this request carries.
    return str(settings.SITE_URL).rstrip("/") + reverse("accounts:psc_callback")


def _safe_next(request: HttpRequest) -> str:
    target = request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def _pending_flows(request: HttpRequest) -> dict[str, dict[str, Any]]:
    flows = request.session.get(SESSION_KEY)
    if not isinstance(flows, dict):
        return {}
    now = time.time()
    return {
        state: flow
        for state, flow in flows.items()
        if isinstance(flow, dict) and flow.get("at", 0) + FLOW_SECONDS >= now
    }


def _refuse(request: HttpRequest, error: PSCError) -> HttpResponse:
    fields: dict[str, str] = {}
    if error.user_uuid:
        fields = {"resource_type": "User", "resource_id": error.user_uuid}
    record_denied(action=Action.PSC_LOGIN_FAILED, details={"reason": error.reason}, **fields)
    if error.kind == "unavailable":
        # Operators need to hear about a provider outage; the reason code is all that is kept.
        logger.warning("Pro Santé Connect unavailable: %s", error.reason)
    status, message = FAILURES[error.kind]
    return render(
        request,
        "accounts/psc_error.html",
        {"message": message, "retry": error.kind in ("flow", "cancelled", "unavailable")},
        status=status,
    )


@never_cache
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    _require_configured()
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    try:
        metadata = client.provider_metadata()
    except PSCError as error:
        return _refuse(request, error)
    state, nonce, verifier = client.new_secret(), client.new_secret(), client.new_secret()
    flows = _pending_flows(request)
    # A few logins may be pending at once (several tabs); the oldest ones give way.
    while len(flows) >= MAX_PENDING_FLOWS:
        del flows[min(flows, key=lambda key: flows[key].get("at", 0))]
    flows[state] = {
        "nonce": nonce,
        "verifier": verifier,
        "next": _safe_next(request),
        "at": time.time(),
    }
    request.session[SESSION_KEY] = flows
    return HttpResponseRedirect(
        client.authorization_url(
            metadata=metadata,
            redirect_uri=_redirect_uri(),
            state=state,
            nonce=nonce,
            code_verifier=verifier,
        )
    )


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    _require_configured()
    try:
        user, next_url = _identify(request)
    except PSCError as error:
        return _refuse(request, error)
    request.session.pop(SESSION_KEY, None)
    complete_login(request, user, method=LoginMethod.PRO_SANTE_CONNECT, backend=BACKEND)
    return HttpResponseRedirect(next_url)


def _identify(request: HttpRequest) -> tuple[User, str]:
    state = request.GET.get("state", "")
    if not state:
        raise PSCError("missing_state", kind="flow")
    flows = _pending_flows(request)
    flow = flows.pop(state, None)
    # Single use: the pending login is consumed whatever happens next.
    request.session[SESSION_KEY] = flows
    if flow is None:
        raise PSCError("bad_state", kind="flow")
    if request.GET.get("error"):
        raise PSCError("provider_error", kind="cancelled")
    code = request.GET.get("code", "")
    if not code:
        raise PSCError("missing_code", kind="flow")
    identity = client.identify(
        code=code,
        code_verifier=str(flow["verifier"]),
        nonce=str(flow["nonce"]),
        redirect_uri=_redirect_uri(),
    )
    return user_for_userinfo(identity.userinfo), str(flow["next"])
