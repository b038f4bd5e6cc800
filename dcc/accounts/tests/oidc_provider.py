"""A small OpenID Connect provider shaped like Pro Santé Connect, for the tests.

It runs in a thread on 127.0.0.1 (a free port chosen by the system), with RSA and EC keys
generated at start, and implements what the DCC relies on: discovery, an authorization
endpoint that approves the configured test identity at once, a token endpoint that checks
the client, the code (single use), the redirect URI and the PKCE S256 verifier, a userinfo
endpoint returning PSC-style claims (JSON or a signed JWT) and the JWKS.

``provider.behaviour`` makes it misbehave the way a broken or hostile provider would:
tokens signed with a key it never published, expired, for another audience or issuer,
unsigned (``alg=none``), signed with the client secret (HS256), with another nonce, without
``acr`` or with a lower one, or userinfo about someone else.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
CODE_SECONDS = 60


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class PSCIdentity:
    """The professional the provider authenticates, as PSC describes them."""

    subject_name_id: str  # "8" + RPPS for physicians
    given_name: str = "Claire"
    family_name: str = "MARTIN"
    sub: str = field(default_factory=lambda: "psc-" + secrets.token_hex(8))

    @classmethod
    def for_rpps(cls, rpps: str, **fields: str) -> PSCIdentity:
        return cls(subject_name_id="8" + rpps, **fields)

    def userinfo(self) -> dict[str, Any]:
        return {
            "sub": self.sub,
            "SubjectNameID": self.subject_name_id,
            "preferred_username": self.subject_name_id,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "email_verified": False,
            "SubjectRefPro": {
                "codeCivilite": "DR",
                "exercices": [
                    {
                        "codeProfession": "10",
                        "codeCategorieProfessionnelle": "C",
                        "codeCiviliteDexercice": "DR",
                        "nomDexercice": self.family_name,
                        "prenomDexercice": self.given_name,
                        "codeTypeSavoirFaire": "S",
                        "codeSavoirFaire": "SM53",
                        "activities": [],
                    }
                ],
            },
            "otherIds": [{"identifiant": self.subject_name_id, "origine": "RPPS", "qualite": 1}],
            "Palier_Authentification": "APPPRIP3^1.2.250.1.213.1.5.1.1.1",
            "SubjectRole": ["10^1.2.250.1.213.1.1.5.5"],
            "PSI_Locale": "1.2.250.1.213.1.3.1.1",
            "UITVersion": "1.0",
        }


@dataclass
class Behaviour:
    """How the provider answers. The defaults are those of a correct PSC."""

    signing_alg: Literal["RS256", "ES256"] = "RS256"
    forge_signature: bool = False  # sign with an unpublished key carrying a published kid
    unknown_kid: bool = False  # sign with an unpublished key under a kid nobody knows
    alg_none: bool = False
    hs256_with_client_secret: bool = False
    expired: bool = False
    issued_in_future: bool = False
    issuer: str | None = None
    audience: str | list[str] | None = None
    azp: str | None = None
    nonce: str | None = None
    acr: str | None = "eidas1"  # None: no acr claim at all
    userinfo_format: Literal["json", "jwt"] = "json"
    forge_userinfo: bool = False
    userinfo_sub: str | None = None
    deny: bool = False  # the professional refuses (or cancels) at the provider


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    identity: PSCIdentity
    expires: float
    used: bool = False


class OIDCProvider:
    def __init__(self, *, client_id: str, client_secret: str, identity: PSCIdentity) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.identity = identity
        self.behaviour = Behaviour()
        self.rsa_key = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"})
        self.ec_key = ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig"})
        self.authorization_requests: list[dict[str, str]] = []
        self.token_requests = 0
        self.token_errors: list[str] = []
        self.jwks_fetches = 0
        self._codes: dict[str, _Code] = {}
        self._access_tokens: dict[str, PSCIdentity] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"

    @cached_property
    def forged_key(self) -> RSAKey:
        """A key the provider never published, passed off under the published key id."""
        return RSAKey.generate_key(2048, parameters={"kid": str(self.rsa_key.kid)})

    def start(self) -> OIDCProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def rotate_keys(self) -> None:
        """Replace the RSA signing key: the old one disappears from the JWKS."""
        self.rsa_key = RSAKey.generate_key(2048, parameters={"kid": "rsa-2", "use": "sig"})

    # Endpoints -------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/auth",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "userinfo_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
            "code_challenge_methods_supported": ["S256"],
            "acr_values_supported": ["eidas1"],
            "scopes_supported": ["openid", "scope_all"],
        }

    def jwks(self) -> dict[str, Any]:
        self.jwks_fetches += 1
        return {
            "keys": [
                {**self.rsa_key.as_dict(private=False), "alg": "RS256"},
                {**self.ec_key.as_dict(private=False), "alg": "ES256"},
            ]
        }

    def authorize(self, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """Approve the configured identity at once; answer with a redirect to the client."""
        self.authorization_requests.append(params)
        redirect_uri = params.get("redirect_uri", "")
        if params.get("client_id") != self.client_id or not redirect_uri:
            return 400, {}, b"unknown client or missing redirect_uri"
        state = params.get("state", "")
        answer: dict[str, str]
        if self.behaviour.deny:
            answer = {"error": "access_denied", "state": state}
        elif (
            params.get("response_type") != "code"
            or "openid" not in params.get("scope", "").split()
            or params.get("code_challenge_method") != "S256"
            or not params.get("code_challenge")
        ):
            answer = {"error": "invalid_request", "state": state}
        else:
            code = secrets.token_urlsafe(24)
            with self._lock:
                self._codes[code] = _Code(
                    client_id=self.client_id,
                    redirect_uri=redirect_uri,
                    challenge=params["code_challenge"],
                    nonce=params.get("nonce", ""),
                    identity=self.identity,
                    expires=time.time() + CODE_SECONDS,
                )
            answer = {"code": code, "state": state}
        return 302, {"Location": f"{redirect_uri}?{urlencode(answer)}"}, b""

    def _client_authenticated(self, headers: Any, form: dict[str, str]) -> bool:
        authorization = headers.get("Authorization", "")
        if authorization.startswith("Basic "):
            try:
                decoded = base64.b64decode(authorization[6:]).decode()
            except ValueError:
                return False
            client_id, _, secret = decoded.partition(":")
            client_id, secret = unquote(client_id), unquote(secret)
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return client_id == self.client_id and secrets.compare_digest(
            secret.encode(), self.client_secret.encode()
        )

    def token(self, headers: Any, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        def refuse(reason: str, error: str = "invalid_grant") -> tuple[int, dict[str, Any]]:
            self.token_errors.append(reason)
            return (401 if error == "invalid_client" else 400), {"error": error}

        self.token_requests += 1
        if not self._client_authenticated(headers, form):
            return refuse("bad_client", "invalid_client")
        if form.get("grant_type") != "authorization_code":
            return refuse("bad_grant_type", "unsupported_grant_type")
        with self._lock:
            grant = self._codes.get(form.get("code", ""))
            if grant is None:
                return refuse("unknown_code")
            if grant.used:
                return refuse("code_reused")
            grant.used = True
        if grant.expires < time.time():
            return refuse("code_expired")
        if form.get("redirect_uri") != grant.redirect_uri:
            return refuse("redirect_uri_mismatch")
        verifier = form.get("code_verifier", "")
        if not _VERIFIER.match(verifier):
            return refuse("pkce_missing")
        if _b64url(hashlib.sha256(verifier.encode()).digest()) != grant.challenge:
            return refuse("pkce_mismatch")
        access_token = secrets.token_urlsafe(32)
        with self._lock:
            self._access_tokens[access_token] = grant.identity
        return 200, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 120,
            "scope": "openid scope_all",
            "id_token": self.id_token(grant, access_token),
        }

    def userinfo(self, headers: Any) -> tuple[int, str, bytes]:
        authorization = headers.get("Authorization", "")
        with self._lock:
            identity = (
                self._access_tokens.get(authorization[7:])
                if authorization.startswith("Bearer ")
                else None
            )
        if identity is None:
            return 401, "application/json", b'{"error": "invalid_token"}'
        claims = identity.userinfo()
        if self.behaviour.userinfo_sub is not None:
            claims["sub"] = self.behaviour.userinfo_sub
        if self.behaviour.userinfo_format == "json":
            return 200, "application/json", json.dumps(claims).encode()
        claims.update(iss=self.issuer, aud=self.client_id)
        key = self.forged_key if self.behaviour.forge_userinfo else self.rsa_key
        token = jwt.encode({"alg": "RS256", "kid": self.rsa_key.kid}, claims, key)
        return 200, "application/jwt", token.encode()

    # Tokens ----------------------------------------------------------------------------

    def id_token(self, grant: _Code, access_token: str) -> str:
        behaviour = self.behaviour
        now = int(time.time())
        if behaviour.expired:
            issued, expires = now - 3600, now - 600
        elif behaviour.issued_in_future:
            issued, expires = now + 900, now + 1200
        else:
            issued, expires = now, now + 300
        digest = hashlib.sha256(access_token.encode()).digest()
        claims: dict[str, Any] = {
            "iss": behaviour.issuer or self.issuer,
            "sub": grant.identity.sub,
            "aud": behaviour.audience if behaviour.audience is not None else self.client_id,
            "exp": expires,
            "iat": issued,
            "auth_time": issued,
            "nonce": behaviour.nonce if behaviour.nonce is not None else grant.nonce,
            "at_hash": _b64url(digest[:16]),
            "preferred_username": grant.identity.subject_name_id,
            "given_name": grant.identity.given_name,
            "family_name": grant.identity.family_name,
        }
        if behaviour.acr is not None:
            claims["acr"] = behaviour.acr
        if behaviour.azp is not None:
            claims["azp"] = behaviour.azp
        if behaviour.alg_none:
            header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
            return f"{header}.{_b64url(json.dumps(claims).encode())}."
        if behaviour.hs256_with_client_secret:
            secret = OctKey.import_key(self.client_secret.encode())
            return jwt.encode({"alg": "HS256"}, claims, secret, algorithms=["HS256"])
        if behaviour.unknown_kid:
            stranger = RSAKey.generate_key(2048, parameters={"kid": "stranger"})
            return jwt.encode({"alg": "RS256", "kid": "stranger"}, claims, stranger)
        if behaviour.forge_signature:
            return jwt.encode({"alg": "RS256", "kid": self.rsa_key.kid}, claims, self.forged_key)
        if behaviour.signing_alg == "ES256":
            return jwt.encode({"alg": "ES256", "kid": self.ec_key.kid}, claims, self.ec_key)
        return jwt.encode({"alg": "RS256", "kid": self.rsa_key.kid}, claims, self.rsa_key)


def _handler_for(provider: OIDCProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _send(
            self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, value: dict[str, Any]) -> None:
            self._send(status, json.dumps(value).encode(), "application/json")

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/.well-known/openid-configuration":
                self._json(200, provider.discovery())
            elif url.path == "/jwks":
                self._json(200, provider.jwks())
            elif url.path == "/auth":
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                status, headers, body = provider.authorize(params)
                self._send(status, body, "text/plain", headers)
            elif url.path == "/userinfo":
                status, content_type, body = provider.userinfo(self.headers)
                self._send(status, body, content_type)
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/token":
                self._send(404, b"not found", "text/plain")
                return
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length).decode()
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            status, answer = provider.token(self.headers, form)
            self._json(status, answer)

    return Handler
