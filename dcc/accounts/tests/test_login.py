"""Local login: password, second factor, throttling, sessions."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from conftest import PASSWORD, current_token
from dcc.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_login_needs_password_then_totp_then_lands_home(
    client: Client, oncologist: Any, totp_device: Any
) -> None:
    device, token = totp_device(oncologist)
    response = client.post("/compte/connexion/", {"email": oncologist.email, "password": PASSWORD})
    assert response["Location"] == "/compte/connexion/code/"
    assert client.get("/").status_code == 302  # not logged in yet
    response = client.post("/compte/connexion/code/", {"token": token})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert (
        AuditEvent.objects.filter(action="auth.login", actor_user_id=str(oncologist.uuid)).count()
        == 1
    )


def test_wrong_totp_is_refused_and_audited(
    client: Client, oncologist: Any, totp_device: Any
) -> None:
    device, token = totp_device(oncologist)
    client.post("/compte/connexion/", {"email": oncologist.email, "password": PASSWORD})
    wrong = "000000" if token != "000000" else "111111"
    response = client.post("/compte/connexion/code/", {"token": wrong})
    assert response.status_code == 200
    assert "Code incorrect" in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.otp_failed", outcome="denied").count() == 1
    assert client.get("/").status_code == 302


def test_unknown_and_known_accounts_get_the_same_message(client: Client, oncologist: Any) -> None:
    known = client.post(
        "/compte/connexion/", {"email": oncologist.email, "password": "wrong-password"}
    )
    unknown = client.post(
        "/compte/connexion/", {"email": "nobody@nowhere.test", "password": "wrong-password"}
    )
    assert known.status_code == unknown.status_code == 200
    assert "Adresse électronique ou mot de passe incorrect." in known.content.decode()
    import re

    def error_block(body: bytes) -> str:
        match = re.search(r'<div class="form-errors".*?</div>', body.decode(), re.S)
        assert match is not None
        return match.group(0)

    assert error_block(known.content) == error_block(unknown.content)
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 2


@override_settings(LOGIN_MAX_FAILURES=3)
def test_repeated_failures_lock_the_account_even_with_the_right_password(
    client: Client, oncologist: Any, totp_device: Any
) -> None:
    totp_device(oncologist)
    for _ in range(3):
        client.post("/compte/connexion/", {"email": oncologist.email, "password": "wrong-password"})
    response = client.post("/compte/connexion/", {"email": oncologist.email, "password": PASSWORD})
    assert "Trop de tentatives" in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.login_locked").exists()


@override_settings(LOGIN_MAX_FAILURES=3)
def test_unknown_accounts_lock_exactly_like_real_ones(client: Client, db: None) -> None:
    for _ in range(3):
        client.post(
            "/compte/connexion/", {"email": "ghost@nowhere.test", "password": "wrong-password"}
        )
    response = client.post(
        "/compte/connexion/", {"email": "ghost@nowhere.test", "password": "wrong-password"}
    )
    assert "Trop de tentatives" in response.content.decode()


def test_session_id_changes_at_login(client: Client, oncologist: Any, totp_device: Any) -> None:
    device, token = totp_device(oncologist)
    client.get("/compte/connexion/")
    client.post("/compte/connexion/", {"email": oncologist.email, "password": PASSWORD})
    before = client.cookies["dcc_session"].value
    client.post("/compte/connexion/code/", {"token": token})
    after = client.cookies["dcc_session"].value
    assert before != after
    replay = Client()
    replay.cookies["dcc_session"] = before
    assert replay.get("/").status_code == 302


def test_logout_ends_the_session_server_side(logged_in: Any, oncologist: Any) -> None:
    client = logged_in(oncologist)
    cookie = client.cookies["dcc_session"].value
    client.post("/compte/deconnexion/")
    replay = Client()
    replay.cookies["dcc_session"] = cookie
    assert replay.get("/").status_code == 302


def test_deactivated_user_is_out_at_the_next_request(
    logged_in: Any, oncologist: Any, platform_admin: Any
) -> None:
    from dcc.accounts.services import set_user_active

    client = logged_in(oncologist)
    assert client.get("/").status_code == 200
    set_user_active(actor=platform_admin, user=oncologist, active=False)
    assert client.get("/").status_code == 302


def test_idle_session_expires(logged_in: Any, oncologist: Any) -> None:
    client = logged_in(oncologist)
    session = client.session
    session["dcc_seen_at"] -= 31 * 60
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and "/compte/connexion/" in response["Location"]
    assert AuditEvent.objects.filter(action="auth.session_expired").exists()


def test_absolute_session_lifetime_is_twelve_hours(logged_in: Any, oncologist: Any) -> None:
    client = logged_in(oncologist)
    session = client.session
    session["dcc_auth_at"] -= 12 * 3600 + 1
    session.save()
    assert client.get("/").status_code == 302


def test_enrolment_shows_a_qr_code_and_confirms_the_device(client: Client, oncologist: Any) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    response = client.post("/compte/connexion/", {"email": oncologist.email, "password": PASSWORD})
    assert response["Location"] == "/compte/connexion/second-facteur/"
    page = client.get("/compte/connexion/second-facteur/")
    assert b"<svg" in page.content
    device = TOTPDevice.objects.get(user=oncologist)
    response = client.post("/compte/connexion/second-facteur/", {"token": current_token(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/").status_code == 200


def test_csrf_less_post_is_refused(oncologist: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/compte/connexion/", {"email": oncologist.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "Formulaire expiré" in response.content.decode()


def test_response_time_does_not_reveal_whether_an_account_exists(
    client: Client, oncologist: Any, settings: Any
) -> None:
    import statistics
    import time

    # The production hasher, so that one missing hash would show.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    oncologist.set_password(PASSWORD)
    oncologist.save()

    def timed(email: str) -> float:
        started = time.perf_counter()
        client.post("/compte/connexion/", {"email": email, "password": "wrong-password"})
        return time.perf_counter() - started

    known, unknown = [], []
    for index in range(8):  # below the lock-out threshold for each name
        known.append(timed(oncologist.email))
        unknown.append(timed(f"ghost{index % 2}@nowhere.test"))
    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    # Both paths cost one Argon2 hash (tens of milliseconds); a missing hash would halve one side.
    assert abs(known_median - unknown_median) < 0.3 * max(known_median, unknown_median)
