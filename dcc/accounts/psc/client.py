"""The OpenID Connect relying party for Pro Santé Connect: discovery, the authorization
request (code flow with PKCE S256, state, nonce, ``acr_values``), the token exchange, the ID
token checks and the userinfo call.

JOSE work (keys, signatures) is done with joserfc, the JOSE library Authlib builds on. Only
RS256 and ES256 are accepted: never ``none``, never a symmetric (HS*) algorithm, never a key
that is not in the provider's published JWKS.

Discovery documents and key sets are cached in memory for a few minutes; a token signed with
a key id the cache does not know triggers one refetch (the provider may have rotated its
keys). Tokens only ever come from the provider over a back channel, never from the browser,
so a stranger cannot force refetches.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlencode

import requests
from django.conf import settings
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import ECKey, RSAKey, import_key

FailureKind = Literal[
    "flow",  # the browser came back without a valid pending login (state, code)
    "cancelled",  # the provider answered with an error (refusal, cancellation)
    "unavailable",  # the provider could not be reached or answered nonsense
    "invalid",  # a token or an answer failed a security check
    "assurance",  # the authentication level (acr) is not the one required
    "no_rpps",  # the identity carries no RPPS
    "unknown_account",  # no DCC account has this RPPS
    "inactive_account",  # the DCC account is deactivated
]

ALLOWED_ALGORITHMS = ("RS256", "ES256")
LEEWAY_SECONDS = 60
CACHE_SECONDS = 300
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 256 * 1024


class PSCError(Exception):
    """A Pro Santé Connect login that must not go through.

    ``reason`` is a short code for the audit trail (never a token nor personal data);
    ``kind`` chooses what the professional is told."""

    def __init__(self, reason: str, *, kind: FailureKind, user_uuid: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.user_uuid = user_uuid


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    token_auth_methods: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    id_token: str


@dataclass(frozen=True, slots=True)
class Identity:
    """What the login keeps from the provider: the verified ID token claims and userinfo."""

    id_claims: dict[str, Any]
    userinfo: dict[str, Any]


VerificationKey = RSAKey | ECKey

_lock = threading.Lock()
_metadata_cache: dict[str, tuple[float, ProviderMetadata]] = {}
_jwks_cache: dict[str, tuple[float, tuple[VerificationKey, ...]]] = {}


def is_configured() -> bool:
    return bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID)


def clear_caches() -> None:
    """Forget every cached discovery document and key set."""
    with _lock:
        _metadata_cache.clear()
        _jwks_cache.clear()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_secret() -> str:
    """A random value for state, nonce or PKCE code verifier (43+ characters, RFC 7636)."""
    return secrets.token_urlsafe(48)


def code_challenge(verifier: str) -> str:
    """PKCE S256: BASE64URL(SHA256(ASCII(code_verifier)))."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def _issuer() -> str:
    return str(settings.OIDC_ISSUER).rstrip("/")


def _read_body(response: requests.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=16384):
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise PSCError("provider_response_too_large", kind="unavailable")
        chunks.append(chunk)
    return b"".join(chunks)


def _request(
    method: Literal["GET", "POST"],
    url: str,
    *,
    reason: str,
    headers: Mapping[str, str] | None = None,
    data: Mapping[str, str] | None = None,
) -> tuple[int, str, bytes]:
    """One HTTP exchange with the provider: (status, content type, body). Never follows
    redirects, always bounded in time and size."""
    try:
        with requests.request(
            method,
            url,
            headers=dict(headers or {}),
            data=dict(data) if data is not None else None,
            timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            allow_redirects=False,
            stream=True,
        ) as response:
            body = _read_body(response)
            content_type = response.headers.get("Content-Type", "")
            return response.status_code, content_type.split(";")[0].strip().lower(), body
    except requests.RequestException as error:
        raise PSCError(reason, kind="unavailable") from error


def _json_object(body: bytes, *, reason: str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError as error:
        raise PSCError(reason, kind="unavailable") from error
    if not isinstance(value, dict):
        raise PSCError(reason, kind="unavailable")
    return value


def _endpoint(document: Mapping[str, Any], name: str, *, secure: bool) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise PSCError("discovery_invalid", kind="unavailable")
    if secure and not value.startswith("https://"):
        raise PSCError("discovery_invalid", kind="unavailable")
    return value


def provider_metadata() -> ProviderMetadata:
    """The provider's discovery document, checked against the configured issuer."""
    issuer = _issuer()
    now = time.monotonic()
    with _lock:
        cached = _metadata_cache.get(issuer)
    if cached and cached[0] > now:
        return cached[1]
    status, _type, body = _request(
        "GET",
        f"{issuer}/.well-known/openid-configuration",
        reason="discovery_unavailable",
        headers={"Accept": "application/json"},
    )
    if status != 200:
        raise PSCError("discovery_unavailable", kind="unavailable")
    document = _json_object(body, reason="discovery_invalid")
    # OpenID Connect Discovery 1.0 §4.3: the document must name exactly the issuer we asked.
    if document.get("issuer") != issuer:
        raise PSCError("discovery_issuer_mismatch", kind="unavailable")
    secure = issuer.startswith("https://")
    methods = document.get("token_endpoint_auth_methods_supported")
    if not isinstance(methods, list) or not methods:
        methods = ["client_secret_basic"]
    metadata = ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=_endpoint(document, "authorization_endpoint", secure=secure),
        token_endpoint=_endpoint(document, "token_endpoint", secure=secure),
        userinfo_endpoint=_endpoint(document, "userinfo_endpoint", secure=secure),
        jwks_uri=_endpoint(document, "jwks_uri", secure=secure),
        token_auth_methods=tuple(str(m) for m in methods if isinstance(m, str)),
    )
    with _lock:
        _metadata_cache[issuer] = (now + CACHE_SECONDS, metadata)
    return metadata


def authorization_url(
    *, metadata: ProviderMetadata, redirect_uri: str, state: str, nonce: str, code_verifier: str
) -> str:
    params = {
        "response_type": "code",
        "client_id": str(settings.OIDC_CLIENT_ID),
        "redirect_uri": redirect_uri,
        "scope": str(settings.OIDC_SCOPES),
        "state": state,
        "nonce": nonce,
        "acr_values": str(settings.OIDC_ACR_VALUES),
        "code_challenge": code_challenge(code_verifier),
        "code_challenge_method": "S256",
    }
    separator = "&" if "?" in metadata.authorization_endpoint else "?"
    return f"{metadata.authorization_endpoint}{separator}{urlencode(params)}"


def exchange_code(
    *, metadata: ProviderMetadata, code: str, code_verifier: str, redirect_uri: str
) -> Tokens:
    """Trade the authorization code (and the PKCE verifier) for tokens."""
    client_id = str(settings.OIDC_CLIENT_ID)
    secret = str(settings.OIDC_CLIENT_SECRET)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    headers = {"Accept": "application/json"}
    if (
        "client_secret_basic" not in metadata.token_auth_methods
        and "client_secret_post" in metadata.token_auth_methods
    ):
        data["client_id"] = client_id
        data["client_secret"] = secret
    else:
        # RFC 6749 §2.3.1: both parts are form-encoded before the Basic encoding.
        pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    status, _type, body = _request(
        "POST", metadata.token_endpoint, reason="token_unavailable", headers=headers, data=data
    )
    if 400 <= status < 500:
        raise PSCError("token_refused", kind="invalid")
    if status != 200:
        raise PSCError("token_unavailable", kind="unavailable")
    answer = _json_object(body, reason="token_response_invalid")
    access_token = answer.get("access_token")
    id_token = answer.get("id_token")
    token_type = answer.get("token_type")
    if (
        not isinstance(access_token, str)
        or not access_token
        or not isinstance(id_token, str)
        or not id_token
        or not isinstance(token_type, str)
        or token_type.lower() != "bearer"
    ):
        raise PSCError("token_response_invalid", kind="unavailable")
    return Tokens(access_token=access_token, id_token=id_token)


def _import_keys(document: Mapping[str, Any]) -> tuple[VerificationKey, ...]:
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise PSCError("jwks_invalid", kind="unavailable")
    keys: list[VerificationKey] = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        if entry.get("kty") not in ("RSA", "EC") or "d" in entry:
            continue
        try:
            key = import_key(entry)
        except (JoseError, ValueError, TypeError):
            continue
        if isinstance(key, RSAKey | ECKey):
            keys.append(key)
    return tuple(keys)


def _signing_keys(metadata: ProviderMetadata, *, refresh: bool) -> tuple[VerificationKey, ...]:
    now = time.monotonic()
    with _lock:
        cached = _jwks_cache.get(metadata.jwks_uri)
    if cached and cached[0] > now and not refresh:
        return cached[1]
    status, _type, body = _request(
        "GET", metadata.jwks_uri, reason="jwks_unavailable", headers={"Accept": "application/json"}
    )
    if status != 200:
        raise PSCError("jwks_unavailable", kind="unavailable")
    keys = _import_keys(_json_object(body, reason="jwks_invalid"))
    with _lock:
        _jwks_cache[metadata.jwks_uri] = (now + CACHE_SECONDS, keys)
    return keys


def _pick_key(
    keys: tuple[VerificationKey, ...], *, alg: str, kid: str | None
) -> VerificationKey | None:
    wanted: type[RSAKey] | type[ECKey] = RSAKey if alg == "RS256" else ECKey
    candidates = [
        key
        for key in keys
        if isinstance(key, wanted)
        and key.get("alg") in (None, alg)
        and (alg != "ES256" or key.get("crv") == "P-256")
    ]
    if kid is not None:
        candidates = [key for key in candidates if key.kid == kid]
    elif len(candidates) > 1:
        return None
    return candidates[0] if candidates else None


def verify_jwt(*, token: str, metadata: ProviderMetadata, prefix: str) -> dict[str, Any]:
    """Check the signature of a JWT issued by the provider; return its claims.

    The algorithm must be RS256 or ES256 and the key one of the provider's JWKS (refetched
    once when the key id is unknown). Claims are not checked here."""
    try:
        header = jws.extract_compact(token.encode("ascii")).headers()
    except (JoseError, ValueError, TypeError) as error:
        raise PSCError(f"{prefix}_malformed", kind="invalid") from error
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise PSCError(f"{prefix}_algorithm", kind="invalid")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise PSCError(f"{prefix}_malformed", kind="invalid")
    key = _pick_key(_signing_keys(metadata, refresh=False), alg=alg, kid=kid)
    if key is None:
        key = _pick_key(_signing_keys(metadata, refresh=True), alg=alg, kid=kid)
    if key is None:
        raise PSCError(f"{prefix}_unknown_key", kind="invalid")
    try:
        decoded = jwt.decode(token, key, algorithms=[alg])
    except BadSignatureError as error:
        raise PSCError(f"{prefix}_signature", kind="invalid") from error
    except (JoseError, ValueError, TypeError) as error:
        raise PSCError(f"{prefix}_malformed", kind="invalid") from error
    claims = decoded.claims
    if not isinstance(claims, dict):
        raise PSCError(f"{prefix}_malformed", kind="invalid")
    return claims


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _at_hash(access_token: str) -> str:
    # Both RS256 and ES256 hash with SHA-256: the left half of the digest, base64url.
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return _b64url(digest[: len(digest) // 2])


def validate_id_token(
    *, metadata: ProviderMetadata, tokens: Tokens, nonce: str, now: float | None = None
) -> dict[str, Any]:
    """Verify the ID token (OpenID Connect Core §3.1.3.7) and the authentication level."""
    claims = verify_jwt(token=tokens.id_token, metadata=metadata, prefix="id_token")
    client_id = str(settings.OIDC_CLIENT_ID)
    current = time.time() if now is None else now
    if claims.get("iss") != metadata.issuer:
        raise PSCError("id_token_issuer", kind="invalid")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if (
        not isinstance(audiences, list)
        or not all(isinstance(item, str) for item in audiences)
        or client_id not in audiences
    ):
        raise PSCError("id_token_audience", kind="invalid")
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise PSCError("id_token_azp", kind="invalid")
    expires = _number(claims.get("exp"))
    if expires is None or expires + LEEWAY_SECONDS < current:
        raise PSCError("id_token_expired", kind="invalid")
    issued = _number(claims.get("iat"))
    if issued is None or issued - LEEWAY_SECONDS > current:
        raise PSCError("id_token_issued_at", kind="invalid")
    not_before = claims.get("nbf")
    if not_before is not None:
        start = _number(not_before)
        if start is None or start - LEEWAY_SECONDS > current:
            raise PSCError("id_token_not_yet_valid", kind="invalid")
    token_nonce = claims.get("nonce")
    if not isinstance(token_nonce, str) or not hmac.compare_digest(
        token_nonce.encode(), nonce.encode()
    ):
        raise PSCError("id_token_nonce", kind="invalid")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise PSCError("id_token_subject", kind="invalid")
    at_hash = claims.get("at_hash")
    if at_hash is not None and not hmac.compare_digest(
        str(at_hash).encode(), _at_hash(tokens.access_token).encode()
    ):
        raise PSCError("id_token_at_hash", kind="invalid")
    acr = claims.get("acr")
    if acr is None:
        raise PSCError("acr_missing", kind="assurance")
    if acr not in str(settings.OIDC_ACR_VALUES).split():
        raise PSCError("acr_insufficient", kind="assurance")
    return claims


def fetch_userinfo(
    *, metadata: ProviderMetadata, access_token: str, subject: str
) -> dict[str, Any]:
    """The userinfo claims, as JSON or as a JWT signed by the provider (checked)."""
    status, content_type, body = _request(
        "GET",
        metadata.userinfo_endpoint,
        reason="userinfo_unavailable",
        headers={
            "Authorization": f"Bearer {access_token}",
            "Accept": "application/json, application/jwt",
        },
    )
    if status != 200:
        raise PSCError("userinfo_unavailable", kind="unavailable")
    if content_type == "application/jwt":
        try:
            token = body.decode("ascii").strip()
        except UnicodeDecodeError as error:
            raise PSCError("userinfo_malformed", kind="invalid") from error
        claims = verify_jwt(token=token, metadata=metadata, prefix="userinfo")
        # OpenID Connect Core §5.3.2: when signed, iss and aud must be ours.
        if "iss" in claims and claims["iss"] != metadata.issuer:
            raise PSCError("userinfo_issuer", kind="invalid")
        if "aud" in claims:
            audience = claims["aud"]
            audiences = [audience] if isinstance(audience, str) else audience
            if not isinstance(audiences, list) or str(settings.OIDC_CLIENT_ID) not in audiences:
                raise PSCError("userinfo_audience", kind="invalid")
    else:
        claims = _json_object(body, reason="userinfo_malformed")
    # Guard against token substitution: the answer must be about the ID token's subject.
    userinfo_subject = claims.get("sub")
    if not isinstance(userinfo_subject, str) or not hmac.compare_digest(
        userinfo_subject.encode(), subject.encode()
    ):
        raise PSCError("userinfo_subject", kind="invalid")
    return claims


def identify(*, code: str, code_verifier: str, nonce: str, redirect_uri: str) -> Identity:
    """The whole back-channel part of the login: token exchange, ID token, userinfo."""
    metadata = provider_metadata()
    tokens = exchange_code(
        metadata=metadata, code=code, code_verifier=code_verifier, redirect_uri=redirect_uri
    )
    id_claims = validate_id_token(metadata=metadata, tokens=tokens, nonce=nonce)
    userinfo = fetch_userinfo(
        metadata=metadata, access_token=tokens.access_token, subject=str(id_claims["sub"])
    )
    return Identity(id_claims=id_claims, userinfo=userinfo)
