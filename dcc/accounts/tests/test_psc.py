"""Pro Santé Connect login, end to end against a local OpenID Connect provider.

Each test starts its own provider (``oidc_provider.OIDCProvider``) on 127.0.0.1. The browser
is the Django test client until it is sent to the provider; the hop through the provider's
authorization endpoint is made with ``requests``, and its redirect back to the DCC is
followed by hand on the test client.
"""

from __future__ import annotations

import html
import json
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import requests
from django.conf import settings
from django.contrib.auth import authenticate
from django.test import Client, override_settings

from conftest import PASSWORD
from dcc.accounts.psc import client as psc_client
from dcc.accounts.psc import views as psc_views
from dcc.accounts.psc.backend import ProSanteConnectBackend
from dcc.accounts.tests.oidc_provider import OIDCProvider, PSCIdentity
from dcc.audit.models import AuditEvent

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

CLIENT_ID = "dcc-recette"
CLIENT_SECRET = "secret-de-recette-psc-0123456789"
ONCOLOGIST_RPPS = "10000100007"
UNKNOWN_RPPS = "10000999994"
BACKENDS = [
    "dcc.accounts.backends.ThrottledPasswordBackend",
    "dcc.accounts.psc.backend.ProSanteConnectBackend",
]
START = "/compte/psc/"
CALLBACK = "/compte/psc/retour/"


@pytest.fixture
def provider() -> Iterator[OIDCProvider]:
    provider = OIDCProvider(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        identity=PSCIdentity.for_rpps(ONCOLOGIST_RPPS),
    ).start()
    psc_client.clear_caches()
    try:
        with override_settings(
            OIDC_ISSUER=provider.issuer,
            OIDC_CLIENT_ID=CLIENT_ID,
            OIDC_CLIENT_SECRET=CLIENT_SECRET,
            AUTHENTICATION_BACKENDS=BACKENDS,
        ):
            yield provider
    finally:
        provider.stop()
        psc_client.clear_caches()


def go_to_provider(client: Client, provider: OIDCProvider, *, next_url: str = "") -> str:
    """Start the login on the DCC, pass the provider; return the URL it sends us back to."""
    response = client.get(START, {"next": next_url} if next_url else {})
    assert response.status_code == 302, response.content[:500]
    location = response["Location"]
    assert location.startswith(f"{provider.issuer}/auth?")
    answer = requests.get(location, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    back = answer.headers["Location"]
    assert back.startswith(settings.SITE_URL.rstrip("/") + CALLBACK)
    return back


def come_back(client: Client, url: str) -> Response:
    parts = urlsplit(url)
    return client.get(parts.path, dict(parse_qsl(parts.query)))


def psc_login(client: Client, provider: OIDCProvider, *, next_url: str = "") -> Response:
    return come_back(client, go_to_provider(client, provider, next_url=next_url))


def is_logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def page_text(response: Response) -> str:
    return html.unescape(response.content.decode())


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def assert_refused(
    client: Client, response: Response, reason: str, status: int, *, since: int = 0
) -> None:
    """Refused with ``status``: nobody logged in, one denied ``auth.psc_failed`` event (after
    event id ``since``) naming the reason and nothing else, and no login event."""
    assert response.status_code == status, response.content[:500]
    assert not is_logged_in(client)
    assert client.get("/").status_code == 302
    events = AuditEvent.objects.filter(id__gt=since)
    failures = events.filter(action="auth.psc_failed")
    assert [(event.outcome, json.loads(event.details)) for event in failures] == [
        ("denied", {"reason": reason})
    ]
    assert not events.filter(action="auth.login").exists()


def test_professional_logs_in_through_psc_and_lands_home(
    client: Client, provider: OIDCProvider, oncologist: Any
) -> None:
    response = psc_login(client, provider)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert is_logged_in(client)
    assert client.session["dcc_login_method"] == "psc"
    # Strong authentication: no TOTP step although the test settings require a second factor.
    assert settings.REQUIRE_OTP
    home = client.get("/")
    assert home.status_code == 200
    assert "Claire" in home.content.decode()
    logins = AuditEvent.objects.filter(action="auth.login")
    assert [(e.actor_user_id, json.loads(e.details)) for e in logins] == [
        (str(oncologist.uuid), {"method": "psc"})
    ]
    assert not AuditEvent.objects.filter(action="auth.psc_failed").exists()
    assert provider.token_errors == []


def test_authorization_request_asks_for_pkce_nonce_state_and_eidas1(
    client: Client, provider: OIDCProvider, oncologist: Any
) -> None:
    psc_login(client, provider)

    [request] = provider.authorization_requests
    assert request["response_type"] == "code"
    assert request["client_id"] == CLIENT_ID
    assert request["scope"] == "openid scope_all"
    assert request["acr_values"] == "eidas1"
    assert request["code_challenge_method"] == "S256"
    assert len(request["code_challenge"]) == 43
    assert len(request["state"]) >= 32 and len(request["nonce"]) >= 32
    assert request["state"] != request["nonce"]
    assert request["redirect_uri"] == settings.SITE_URL.rstrip("/") + CALLBACK


def test_each_login_uses_fresh_state_nonce_and_verifier(
    client: Client, provider: OIDCProvider, oncologist: Any
) -> None:
    go_to_provider(client, provider)
    go_to_provider(client, provider)

    first, second = provider.authorization_requests
    for name in ("state", "nonce", "code_challenge"):
        assert first[name] != second[name]


def test_login_returns_to_the_page_asked_for(
    client: Client, provider: OIDCProvider, oncologist: Any
) -> None:
    response = psc_login(client, provider, next_url="/securite/?page=2")

    assert response.status_code == 302
    assert response["Location"] == "/securite/?page=2"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_login_never_returns_to_another_site(
    client: Client, provider: OIDCProvider, oncologist: Any, target: str
) -> None:
    response = psc_login(client, provider, next_url=target)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert is_logged_in(client)


def test_es256_signed_id_token_is_accepted(
    client: Client, provider: OIDCProvider, oncologist: Any
) -> None:
    provider.behaviour.signing_alg = "ES256"

    response = psc_login(client, provider)

    assert response.status_code == 302
    assert is_logged_in(client)


def test_signed_userinfo_is_accepted(
    client: Client, provider: OIDCProvider, oncologist: Any
) -> None:
    provider.behaviour.userinfo_format = "jwt"

    response = psc_login(client, provider)

    assert response.status_code == 302
    assert is_logged_in(client)


def test_provider_keys_are_cached_then_fetched_again_after_rotation(
    client: Client, provider: OIDCProvider, oncologist: Any
) -> None:
    psc_login(client, provider)
    client.post("/compte/deconnexion/")
    psc_login(client, provider)
    assert provider.jwks_fetches == 1
    client.post("/compte/deconnexion/")

    provider.rotate_keys()
    response = psc_login(client, provider)

    assert response.status_code == 302
    assert is_logged_in(client)
    assert provider.jwks_fetches == 2
    assert AuditEvent.objects.filter(action="auth.login").count() == 3


def test_an_unknown_key_id_makes_one_fresh_key_fetch_then_fails(
    client: Client, provider: OIDCProvider, oncologist: Any
) -> None:
    provider.behaviour.unknown_kid = True

    response = psc_login(client, provider)

    assert_refused(client, response, "id_token_unknown_key", 403)
    assert provider.jwks_fetches == 2


REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    ("forged signature", {"forge_signature": True}, "id_token_signature"),
    ("key the provider never published", {"unknown_kid": True}, "id_token_unknown_key"),
    ("expired", {"expired": True}, "id_token_expired"),
    ("issued in the future", {"issued_in_future": True}, "id_token_issued_at"),
    ("wrong audience", {"audience": "another-service"}, "id_token_audience"),
    ("several audiences, no azp", {"audience": [CLIENT_ID, "another"]}, "id_token_azp"),
    ("azp of another client", {"azp": "another-service"}, "id_token_azp"),
    ("wrong issuer", {"issuer": "https://auth.evil.example/realms/x"}, "id_token_issuer"),
    ("alg none", {"alg_none": True}, "id_token_algorithm"),
    ("HS256 with the client secret", {"hs256_with_client_secret": True}, "id_token_algorithm"),
    ("wrong nonce", {"nonce": "a-nonce-from-another-login"}, "id_token_nonce"),
    ("userinfo about someone else", {"userinfo_sub": "psc-someone-else"}, "userinfo_subject"),
    (
        "forged signed userinfo",
        {"userinfo_format": "jwt", "forge_userinfo": True},
        "userinfo_signature",
    ),
]


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [pytest.param(b, r, id=name) for name, b, r in REFUSALS],
)
def test_untrustworthy_provider_answers_are_refused(
    client: Client, provider: OIDCProvider, oncologist: Any, behaviour: dict[str, Any], reason: str
) -> None:
    for name, value in behaviour.items():
        setattr(provider.behaviour, name, value)

    response = psc_login(client, provider)

    assert_refused(client, response, reason, 403)
    assert "n'a pas pu être vérifiée" in page_text(response)


@pytest.mark.parametrize(("acr", "reason"), [(None, "acr_missing"), ("eidas0", "acr_insufficient")])
def test_authentication_below_eidas1_is_refused(
    client: Client, provider: OIDCProvider, oncologist: Any, acr: str | None, reason: str
) -> None:
    provider.behaviour.acr = acr

    response = psc_login(client, provider)

    assert_refused(client, response, reason, 403)
    assert "niveau d'authentification" in page_text(response)


def test_unknown_rpps_is_refused_and_no_account_is_created(
    client: Client, provider: OIDCProvider, oncologist: Any
) -> None:
    from dcc.accounts.models import User

    provider.identity = PSCIdentity.for_rpps(UNKNOWN_RPPS, given_name="Inès", family_name="CONNUE")
    users = User.objects.count()

    response = psc_login(client, provider)

    assert_refused(client, response, "unknown_rpps", 403)
    assert "Aucun compte du DCC ne correspond" in page_text(response)
    assert User.objects.count() == users
    assert UNKNOWN_RPPS not in AuditEvent.objects.get(action="auth.psc_failed").details


def test_identity_without_rpps_is_refused(
    client: Client, provider: OIDCProvider, oncologist: Any
) -> None:
    provider.identity = PSCIdentity(subject_name_id="0123456789")  # an ADELI-based id

    response = psc_login(client, provider)

    assert_refused(client, response, "no_rpps", 403)


def test_deactivated_professional_is_refused(
    client: Client, provider: OIDCProvider, oncologist: Any
) -> None:
    oncologist.is_active = False
    oncologist.save(update_fields=["is_active"])

    response = psc_login(client, provider)

    assert_refused(client, response, "inactive_user", 403)
    assert "désactivé" in page_text(response)
    assert AuditEvent.objects.get(action="auth.psc_failed").resource_id == str(oncologist.uuid)


def test_callback_without_state_is_refused(
    client: Client, provider: OIDCProvider, oncologist: Any
) -> None:
    back = urlsplit(go_to_provider(client, provider))
    code = parse_qs(back.query)["code"][0]

    response = client.get(CALLBACK, {"code": code})

    assert_refused(client, response, "missing_state", 400)
    assert provider.token_requests == 0


def test_callback_with_a_state_of_another_browser_is_refused(
    client: Client, provider: OIDCProvider, oncologist: Any
) -> None:
    victim = Client()
    back = go_to_provider(victim, provider)
    go_to_provider(client, provider)  # the attacker has a login of their own pending

    response = come_back(client, back)

    assert_refused(client, response, "bad_state", 400)
    assert "a expiré ou n'est pas valable" in page_text(response)
    assert provider.token_requests == 0


def test_an_expired_pending_login_is_refused(
    client: Client, provider: OIDCProvider, oncologist: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    back = go_to_provider(client, provider)
    monkeypatch.setattr(psc_views, "FLOW_SECONDS", -1)

    response = come_back(client, back)

    assert_refused(client, response, "bad_state", 400)


def test_a_replayed_code_is_refused_by_the_provider(
    client: Client, provider: OIDCProvider, oncologist: Any
) -> None:
    first = go_to_provider(client, provider)
    assert come_back(client, first).status_code == 302
    client.post("/compte/deconnexion/")
    since = last_event_id()
    # A new login is pending in this browser; the old, already used code is sent back with it.
    fresh_state = parse_qs(urlsplit(go_to_provider(client, provider)).query)["state"][0]
    used_code = parse_qs(urlsplit(first).query)["code"][0]

    response = client.get(CALLBACK, {"code": used_code, "state": fresh_state})

    assert_refused(client, response, "token_refused", 403, since=since)
    assert provider.token_errors == ["code_reused"]


def test_a_code_injected_into_another_login_fails_pkce(
    client: Client, provider: OIDCProvider, oncologist: Any
) -> None:
    stolen = parse_qs(urlsplit(go_to_provider(Client(), provider)).query)["code"][0]
    own_state = parse_qs(urlsplit(go_to_provider(client, provider)).query)["state"][0]

    response = client.get(CALLBACK, {"code": stolen, "state": own_state})

    assert_refused(client, response, "token_refused", 403)
    assert provider.token_errors == ["pkce_mismatch"]


def test_a_wrong_client_secret_is_refused_by_the_provider(
    client: Client, provider: OIDCProvider, oncologist: Any
) -> None:
    back = go_to_provider(client, provider)

    with override_settings(OIDC_CLIENT_SECRET="not-the-registered-secret"):
        response = come_back(client, back)

    assert_refused(client, response, "token_refused", 403)
    assert provider.token_errors == ["bad_client"]


def test_a_refusal_at_the_provider_is_explained(
    client: Client, provider: OIDCProvider, oncologist: Any
) -> None:
    provider.behaviour.deny = True

    response = psc_login(client, provider)

    assert_refused(client, response, "provider_error", 403)
    assert "annulée ou refusée" in page_text(response)


def test_an_unreachable_provider_is_reported(client: Client, db: None) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    psc_client.clear_caches()
    with override_settings(
        OIDC_ISSUER=f"http://127.0.0.1:{port}",
        OIDC_CLIENT_ID=CLIENT_ID,
        OIDC_CLIENT_SECRET=CLIENT_SECRET,
        AUTHENTICATION_BACKENDS=BACKENDS,
    ):
        response = client.get(START)

    assert_refused(client, response, "discovery_unavailable", 502)
    assert "ne répond pas" in page_text(response)


def test_discovery_naming_another_issuer_is_refused(
    client: Client, provider: OIDCProvider, db: None
) -> None:
    # Same server, reached under another name: its document names 127.0.0.1, not localhost.
    with override_settings(OIDC_ISSUER=provider.issuer.replace("127.0.0.1", "localhost")):
        response = client.get(START)

    assert_refused(client, response, "discovery_issuer_mismatch", 502)
    assert provider.authorization_requests == []


@override_settings(OIDC_ISSUER=None, OIDC_CLIENT_ID=None)
def test_psc_pages_do_not_exist_when_psc_is_not_configured(client: Client, db: None) -> None:
    assert client.get(START).status_code == 404
    assert client.get(CALLBACK, {"code": "x", "state": "y"}).status_code == 404


def test_the_psc_backend_never_accepts_a_password(provider: OIDCProvider, oncologist: Any) -> None:
    backend = ProSanteConnectBackend()
    assert backend.authenticate(None, username=oncologist.email, password=PASSWORD) is None
    with override_settings(AUTHENTICATION_BACKENDS=BACKENDS[1:]):
        assert authenticate(None, username=oncologist.email, password=PASSWORD) is None


def test_the_psc_backend_maps_verified_claims_to_active_accounts_only(
    provider: OIDCProvider, oncologist: Any
) -> None:
    backend = ProSanteConnectBackend()
    claims = PSCIdentity.for_rpps(ONCOLOGIST_RPPS).userinfo()
    assert backend.authenticate(None, psc_userinfo=claims) == oncologist
    assert backend.get_user(oncologist.pk) == oncologist
    oncologist.is_active = False
    oncologist.save(update_fields=["is_active"])
    assert backend.authenticate(None, psc_userinfo=claims) is None
    assert backend.get_user(oncologist.pk) is None
