"""Browser journeys through the login, second factor and charter, in Debian's Chromium.

Playwright drives ``/usr/bin/chromium`` (never a downloaded browser) against pytest-django's
live server, which runs in this process: ``override_settings`` applies to it too. Without
Chromium the journeys are skipped, unless ``DCC_REQUIRE_INTEGRATION=1`` (CI) makes that a
failure. Set ``DCC_BROWSER_SCREENSHOTS`` to a directory to keep screenshots of the pages.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
from django.test import override_settings

from conftest import PASSWORD, current_token

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    # Only the live server is reachable: Chromium's own background look-ups go nowhere.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]
TIMEOUT_MS = 15_000

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def integration_required() -> bool:
    return os.environ.get("DCC_REQUIRE_INTEGRATION") == "1"


def unavailable(reason: str) -> NoReturn:
    if integration_required():
        pytest.fail(f"{reason} (DCC_REQUIRE_INTEGRATION=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Tab:
    """A fresh browser context on the live server, recording what the console says."""

    page: Page
    base_url: str
    console: list[str] = field(default_factory=list)

    def open(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def path(self) -> str:
        return re.sub(r"^https?://[^/]+", "", self.page.url)

    def screenshot(self, name: str) -> None:
        directory = os.environ.get("DCC_BROWSER_SCREENSHOTS")
        if directory:
            self.page.screenshot(path=str(Path(directory) / f"dcc-{name}.png"), full_page=True)

    def assert_no_csp_violation(self) -> None:
        violations = [text for text in self.console if "Content Security Policy" in text]
        assert not violations, violations


@pytest.fixture
def tab(browser: Browser, live_server: Any) -> Iterator[Tab]:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    opened = Tab(page=page, base_url=live_server.url)

    def remember(message: ConsoleMessage) -> None:
        opened.console.append(message.text)

    page.on("console", remember)
    page.on("pageerror", lambda error: opened.console.append(str(error)))
    try:
        yield opened
    finally:
        context.close()


def log_in_with_password(tab: Tab, email: str, password: str) -> None:
    tab.page.get_by_label("Adresse électronique").fill(email)
    tab.page.get_by_label("Mot de passe").fill(password)
    tab.page.get_by_role("button", name="Se connecter").click()
    tab.page.wait_for_load_state()


def totp_from_secret(secret: str) -> str:
    from django_otp.oath import TOTP

    padded = secret.strip() + "=" * (-len(secret.strip()) % 8)
    totp = TOTP(base64.b32decode(padded), step=30, t0=0, digits=6)
    return str(totp.token()).zfill(6)


def test_a_professional_logs_in_with_totp_and_accepts_the_charter(
    tab: Tab, oncologist: Any, totp_device: Any, charter: Any
) -> None:
    device, _token = totp_device(oncologist)

    tab.open("/")
    assert tab.path().startswith("/compte/connexion/")
    log_in_with_password(tab, oncologist.email, PASSWORD)

    assert tab.path().startswith("/compte/connexion/code/")
    tab.page.get_by_label("Code à 6 chiffres").fill(current_token(device))
    tab.page.get_by_role("button", name="Valider").click()
    tab.page.wait_for_load_state()

    assert tab.path().startswith("/compte/charte/")
    tab.page.get_by_role("heading", name="Charte").wait_for()
    # Until the charter is accepted, every other page leads back to it (and there, after).
    for elsewhere in ("/administration/", "/securite/journal/", "/"):
        tab.open(elsewhere)
        assert tab.path().startswith("/compte/charte/"), elsewhere

    tab.page.get_by_label("J'ai lu la charte d'utilisation").check()
    tab.page.get_by_role("button", name="Accepter la charte").click()
    tab.page.wait_for_load_state()

    assert tab.path() == "/"
    heading = tab.page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Bonjour Claire MARTIN"
    assert tab.page.get_by_text("Merci : votre acceptation de la charte").is_visible()
    assert tab.page.get_by_role("button", name="Se déconnecter").is_visible()
    tab.screenshot("home")
    tab.assert_no_csp_violation()


def test_a_new_professional_enrols_an_authenticator_app(
    tab: Tab, oncologist: Any, charter: Any
) -> None:
    tab.open("/compte/connexion/")
    log_in_with_password(tab, oncologist.email, PASSWORD)

    assert tab.path().startswith("/compte/connexion/second-facteur/")
    assert tab.page.locator("figure.qr svg").is_visible()
    secret = tab.page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    tab.screenshot("enrol")
    tab.page.get_by_label("Code à 6 chiffres").fill(totp_from_secret(secret))
    tab.page.get_by_role("button", name="Enregistrer").click()
    tab.page.wait_for_load_state()

    assert tab.path().startswith("/compte/charte/")
    assert tab.page.get_by_text("Votre second facteur est enregistré.").is_visible()
    tab.assert_no_csp_violation()


def test_repeated_wrong_passwords_lock_the_account(
    tab: Tab, oncologist: Any, totp_device: Any, charter: Any
) -> None:
    totp_device(oncologist)
    with override_settings(LOGIN_MAX_FAILURES=3):
        tab.open("/compte/connexion/")
        for _attempt in range(3):
            log_in_with_password(tab, oncologist.email, "Wrong-Password-1!")
            assert tab.path().startswith("/compte/connexion/")
        log_in_with_password(tab, oncologist.email, PASSWORD)

        assert tab.path().startswith("/compte/connexion/")
        assert tab.page.get_by_text("Trop de tentatives").is_visible()
    tab.assert_no_csp_violation()
