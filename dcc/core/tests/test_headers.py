"""HTTP hardening every response carries, and the French error pages."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from conftest import PASSWORD
from dcc.accounts.models import CharterAcceptance
from dcc.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def csp_directives(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.mark.parametrize("path", ["/compte/connexion/", "/page-qui-n-existe-pas/"])
def test_pages_carry_a_strict_content_security_policy(client: Client, path: str) -> None:
    response = client.get(path)
    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header
    assert "unsafe-eval" not in header
    directives = csp_directives(header)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]


def test_logged_in_pages_carry_the_same_policy(logged_in: Any, oncologist: Any) -> None:
    response = logged_in(oncologist).get("/")
    assert response.status_code == 200
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style_the_policy_would_block(
    logged_in: Any, oncologist: Any
) -> None:
    body = logged_in(oncologist).get("/").content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), "inline <script>"
    assert "<style" not in body
    assert not re.search(r"\sstyle=", body), "inline style attribute"
    assert not re.search(r"\son[a-z]+=", body), "inline event handler"


def test_responses_forbid_framing_sniffing_and_leaking_the_referrer(client: Client) -> None:
    response = client.get("/compte/connexion/")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_session_cookie_is_http_only_and_same_site(client: Client, oncologist: Any) -> None:
    response = client.post("/compte/connexion/", {"email": oncologist.email, "password": PASSWORD})
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_the_csrf_cookie_is_http_only(client: Client) -> None:
    response = client.get("/compte/connexion/")
    cookie = response.cookies[settings.CSRF_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_every_response_carries_a_request_id(client: Client) -> None:
    first = client.get("/compte/connexion/")["X-Request-ID"]
    second = client.get("/compte/connexion/")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_a_well_formed_incoming_request_id_is_kept(client: Client) -> None:
    response = client.get("/compte/connexion/", headers={"X-Request-ID": "proxy-1234-abcd"})
    assert response["X-Request-ID"] == "proxy-1234-abcd"


def test_a_malformed_incoming_request_id_is_replaced(client: Client) -> None:
    response = client.get("/compte/connexion/", headers={"X-Request-ID": "<script>\nx"})
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_an_unknown_url_gets_the_french_404_page(client: Client) -> None:
    response = client.get("/dossier/inconnu/")
    assert response.status_code == 404
    body = html.unescape(response.content.decode())
    assert '<html lang="fr">' in body
    assert "Page introuvable" in body
    assert "Cette page n'existe pas ou vous n'y avez pas accès." in body
    assert response["X-Request-ID"] in body


def charter_post(client: Client, size: int) -> Any:
    padding = "x" * max(0, size - len("accept=on&padding="))
    return client.post(
        "/compte/charte/",
        data=f"accept=on&padding={padding}",
        content_type="application/x-www-form-urlencoded",
    )


def test_an_oversized_request_body_gets_400_and_saves_nothing(
    logged_in: Any, oncologist: Any, charter: Any
) -> None:
    client = logged_in(oncologist, accept_charter=False)
    events_before = AuditEvent.objects.count()
    response = charter_post(client, settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    assert response.status_code == 400
    body = html.unescape(response.content.decode())
    assert "Requête incorrecte" in body
    assert "La requête envoyée n'a pas pu être comprise." in body
    assert not CharterAcceptance.objects.filter(user=oncologist).exists()
    assert not AuditEvent.objects.filter(action="charter.accepted").exists()
    assert AuditEvent.objects.count() == events_before


def test_the_same_request_within_the_limit_is_accepted(
    logged_in: Any, oncologist: Any, charter: Any
) -> None:
    client = logged_in(oncologist, accept_charter=False)
    response = charter_post(client, settings.DATA_UPLOAD_MAX_MEMORY_SIZE - 1)
    assert response.status_code == 302
    assert CharterAcceptance.objects.filter(user=oncologist, charter=charter).exists()
