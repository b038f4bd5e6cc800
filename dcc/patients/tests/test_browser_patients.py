"""Browser journey of identity vigilance (issue 3), in Debian's Chromium: a secretary registers
a patient, is warned of a look-alike, merges the two records, finds the patient again, opens
the record and reads who accessed it.

The browser fixture and its skip rules (``DCC_REQUIRE_INTEGRATION``) are the core journey's.
The registration form and the search answer live through htmx: each step waits for htmx to
swap in the server's answer, as a user waits for the screen, so nothing races a swap.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conftest import PASSWORD, current_token
from dcc.core.tests.test_browser import (  # noqa: F401  (``browser`` is a pytest fixture)
    TIMEOUT_MS,
    Tab,
    browser,
    log_in_with_password,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Response

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REGISTER_PATH = "/patients/nouveau/"
RECORD_PATH = re.compile(r"^/patients/([0-9a-f-]{36})/$")
VALID_INS = "262037505612366"  # A woman born in March 1962 in Paris (75056); key 66.
WRONG_KEY_INS = "262037505612367"

# Counts htmx swaps so that a step can wait for the screen's answer. Injected by the browser
# itself (DevTools), not by the page: the Content Security Policy still applies to the page.
SETTLE_COUNTER = """
document.addEventListener("htmx:afterSettle", () => {
  window.dccSettled = (window.dccSettled || 0) + 1;
});
"""


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


@pytest.fixture
def tab(browser: Browser, live_server: Any) -> Iterator[Tab]:  # noqa: F811
    """Like the core journey's tab, keeping only console errors and CSP reports."""
    context = browser.new_context(
        locale="fr-FR", viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(SETTLE_COUNTER)
    page = context.new_page()
    opened = Tab(page=page, base_url=live_server.url)

    def remember(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            opened.console.append(f"{path_of(page.url)}: {message.text}")

    page.on("console", remember)
    page.on("pageerror", lambda error: opened.console.append(f"{path_of(page.url)}: {error}"))
    try:
        yield opened
    finally:
        context.close()


def screenshot(tab: Tab, name: str) -> None:
    """Like ``Tab.screenshot``, leaving the caret alone: Playwright hides it with inline styles
    that htmx would then copy onto the swapped fields (a CSP violation of the test's making)."""
    directory = os.environ.get("DCC_BROWSER_SCREENSHOTS")
    if directory:
        path = Path(directory) / f"dcc-{name}.png"
        tab.page.screenshot(path=str(path), full_page=True, caret="initial")


def go(page: Page, action: Callable[[], object]) -> Response:
    """Do ``action`` (a click on a link or a submit button) and wait for the new page."""
    with page.expect_navigation() as navigation:
        action()
    response = navigation.value
    assert response is not None
    return response


def after_htmx(page: Page, action: Callable[[], object]) -> None:
    """Do ``action`` and wait until htmx has swapped in the server's answer."""
    before = page.evaluate("window.dccSettled || 0")
    action()
    page.wait_for_function("before => (window.dccSettled || 0) > before", arg=before)


def live_fill(page: Page, field: Locator, value: str) -> None:
    """Type a value and leave the field, as a user does: the form checks it live."""

    def type_and_leave() -> None:
        field.fill(value)
        field.blur()

    after_htmx(page, type_and_leave)


def sign_in(tab: Tab, user: Any, device: Any) -> None:
    """Password, TOTP code, charter: the way into the DCC."""
    page = tab.page
    tab.open("/")
    log_in_with_password(tab, user.email, PASSWORD)
    page.get_by_label("Code à 6 chiffres").fill(current_token(device))
    go(page, page.get_by_role("button", name="Valider").click)
    assert tab.path().startswith("/compte/charte/")
    page.get_by_label("J'ai lu la charte d'utilisation").check()
    go(page, page.get_by_role("button", name="Accepter la charte").click)
    assert tab.path() == "/"


def open_patients(page: Page) -> None:
    nav = page.get_by_role("navigation", name="Navigation principale")
    go(page, nav.get_by_role("link", name="Patients").click)


def record_tab(page: Page, name: str) -> None:
    nav = page.get_by_role("navigation", name="Dossier du patient")
    go(page, nav.get_by_role("link", name=name).click)


def registration_form(page: Page) -> Locator:
    return page.locator("#registration form")


def fill_identity(
    page: Page,
    *,
    birth_name: str,
    first_names: str,
    ins_matricule: str = "",
    status: str = "Provisoire",
    ipp: str = "",
) -> None:
    """Fill the registration form field by field, waiting for each live check."""
    from playwright.sync_api import expect

    form = registration_form(page)
    structure = form.get_by_label("Structure d'enregistrement")
    after_htmx(page, lambda: structure.select_option(label="CHU Test"))
    # The fields not reached yet are not reported as missing while the user is typing.
    expect(form.get_by_text("Ce champ est obligatoire.")).to_have_count(0)
    if ipp:
        live_fill(page, form.get_by_label("IPP (numéro de patient de l'établissement)"), ipp)
    live_fill(page, form.get_by_label("Nom de naissance"), birth_name)
    live_fill(page, form.get_by_label("Prénoms de naissance"), first_names)
    after_htmx(page, form.get_by_role("radio", name="Féminin").check)
    live_fill(page, form.get_by_label("Date de naissance"), "1962-03-14")
    live_fill(page, form.get_by_label("Lieu de naissance (code INSEE)"), "75056")
    status_select = form.get_by_label("Statut de l'identité")
    after_htmx(page, lambda: status_select.select_option(label=status))
    if ins_matricule:
        kind = form.get_by_label("Type d'INS")
        after_htmx(page, lambda: kind.select_option(label="INS-NIR de test"))
        live_fill(page, form.get_by_label("Matricule INS"), ins_matricule)


def record_uuid(tab: Tab) -> str:
    match = RECORD_PATH.match(tab.path())
    assert match, tab.path()
    return match.group(1)


def assert_accessible_page(page: Page) -> None:
    """One <h1>, and every visible field of the content has an accessible name."""
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll("main input, main select, main textarea")]
            .filter(el => el.type !== "hidden" && el.offsetParent !== null)
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                          && !el.getAttribute("aria-labelledby"))
            .map(el => el.name || el.id)"""
    )
    assert not unlabelled, unlabelled


def test_a_secretary_registers_merges_finds_and_audits_a_patient(
    tab: Tab, rcp_secretary: Any, totp_device: Any, charter: Any
) -> None:
    from playwright.sync_api import expect

    from dcc.patients.models import Patient

    device, _token = totp_device(rcp_secretary)
    page = tab.page
    sign_in(tab, rcp_secretary, device)

    # 1. Patients → register a new patient; the INS is checked live, before anything is saved.
    open_patients(page)
    assert tab.path() == "/patients/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Rechercher un patient")
    assert_accessible_page(page)
    go(page, page.get_by_role("link", name="Enregistrer un nouveau patient").click)
    assert tab.path() == REGISTER_PATH
    expect(page.get_by_role("heading", level=1)).to_have_text("Enregistrer un patient")
    assert_accessible_page(page)

    fill_identity(
        page,
        birth_name="Lefèvre",
        first_names="Marie Anne",
        ins_matricule=WRONG_KEY_INS,
        status="Récupérée (téléservice INSi)",
        ipp="IPP-0042",
    )
    form = registration_form(page)
    ins_field = form.get_by_label("Matricule INS")
    key_error = "La clé du matricule INS ne correspond pas : vérifiez la saisie."
    expect(form.get_by_text(key_error)).to_be_visible()
    expect(ins_field).to_have_attribute("aria-invalid", "true")
    expect(ins_field).to_have_accessible_description(re.compile(re.escape(key_error)))
    # What was typed survives the live check; nothing is saved.
    expect(form.get_by_label("Nom de naissance")).to_have_value("Lefèvre")
    expect(form.get_by_role("radio", name="Féminin")).to_be_checked()
    expect(form.get_by_label("Statut de l'identité")).to_have_value("RECUP")
    assert Patient.objects.count() == 0
    assert_accessible_page(page)
    screenshot(tab, "patient-ins-key")

    live_fill(page, ins_field, VALID_INS)
    expect(form.get_by_text(key_error)).to_have_count(0)
    expect(form.get_by_role("status")).to_have_text(
        "Identité cohérente ; aucun dossier ressemblant."
    )
    # "It is another patient" is only asked once look-alikes are shown.
    expect(form.get_by_label("J'ai vérifié les dossiers ressemblants")).to_have_count(0)
    assert Patient.objects.count() == 0
    go(page, form.get_by_role("button", name="Enregistrer le patient").click)

    first = record_uuid(tab)
    expect(page.get_by_role("status").filter(has_text="Patient enregistré.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile(r"LEFÈVRE\s+Marie"))
    identity = page.get_by_role("region", name="Identité")
    expect(identity.get_by_text("Marie Anne")).to_be_visible()
    expect(identity.get_by_text("14/03/1962")).to_be_visible()
    expect(identity.get_by_text(VALID_INS)).to_be_visible()
    expect(identity.get_by_text("Récupérée (téléservice INSi)")).to_be_visible()
    team = page.get_by_role("region", name="Équipe de soins")
    expect(team.get_by_text("CHU Test — IPP IPP-0042")).to_be_visible()
    assert_accessible_page(page)

    # 2. A look-alike (same name but for accent and case, same birth date) is shown live, then
    # stops the registration until the secretary confirms it is another patient.
    open_patients(page)
    go(page, page.get_by_role("link", name="Enregistrer un nouveau patient").click)
    fill_identity(page, birth_name="lefevre", first_names="Marie")
    form = registration_form(page)
    expect(form.get_by_role("status", name="Dossiers ressemblants")).to_be_visible()
    look_alikes = form.get_by_role("table", name="Dossiers ressemblants")
    expect(look_alikes.get_by_role("link", name="LEFÈVRE")).to_be_visible()
    expect(look_alikes.get_by_text("Marie Anne")).to_be_visible()

    response = go(page, form.get_by_role("button", name="Enregistrer le patient").click)
    assert response.status == 400  # Not saved: the form is shown again with the warning.
    # Chromium reports a 400 page in the console: expected here, and only here.
    tab.console.remove(
        f"{REGISTER_PATH}: Failed to load resource: the server responded with a status of 400 "
        "(Bad Request)"
    )
    assert tab.path() == REGISTER_PATH
    expect(page.get_by_role("alert", name="Dossiers ressemblants")).to_be_visible()
    assert Patient.objects.count() == 1
    screenshot(tab, "patient-look-alike")

    form = registration_form(page)
    confirm = form.get_by_label("J'ai vérifié les dossiers ressemblants")
    after_htmx(page, confirm.check)
    expect(confirm).to_be_checked()
    go(page, form.get_by_role("button", name="Enregistrer le patient").click)
    second = record_uuid(tab)
    assert second != first
    assert Patient.objects.count() == 2
    expect(page.get_by_role("heading", level=1)).to_contain_text("LEFEVRE")

    # 3. From the look-alike's "possible duplicates" tab, merge it into the first record.
    record_tab(page, "Doublons possibles")
    assert tab.path() == f"/patients/{second}/doublons/"
    assert_accessible_page(page)
    go(page, page.get_by_role("link", name="Comparer et fusionner").click)
    assert tab.path() == f"/patients/{second}/fusion/?avec={first}"
    expect(page.get_by_role("heading", level=1)).to_have_text("Fusionner deux dossiers")
    other = page.get_by_role("region", name="L'autre dossier")
    expect(other.get_by_text(VALID_INS)).to_be_visible()
    assert_accessible_page(page)
    page.get_by_role("radio", name="L'autre dossier").check()
    page.get_by_label("Motif de la fusion").fill("Même INS sur la carte Vitale : même personne.")
    go(page, page.get_by_role("button", name="Fusionner les dossiers").click)

    assert tab.path() == f"/patients/{first}/"
    expect(page.get_by_role("status").filter(has_text="Dossiers fusionnés")).to_be_visible()
    merges = page.get_by_role("region", name="Dossiers fusionnés dans celui-ci")
    expect(merges.get_by_text("LEFEVRE Marie (14/03/1962)")).to_be_visible()
    expect(merges.get_by_role("button", name="Annuler la fusion")).to_be_visible()
    screenshot(tab, "patient-merged")

    tab.open(f"/patients/{second}/")  # The merged record's old address leads to the kept one.
    assert tab.path() == f"/patients/{first}/"

    # 4. Search by the start of the name, without its accent: results come as one types.
    tab.open("/patients/")
    search_box = page.get_by_label("Nom, INS ou IPP")
    after_htmx(page, lambda: search_box.press_sequentially("lef", delay=50))
    results = page.get_by_role("table", name="Patients trouvés")
    expect(results.get_by_role("row")).to_have_count(2)  # The header and the kept record.
    assert tab.path().startswith("/patients/?q=lef")  # The search can be bookmarked.
    go(page, results.get_by_role("link", name="LEFÈVRE").click)
    assert tab.path() == f"/patients/{first}/"

    # 5. Who accessed the record, including the merged one: page, CSV and PDF.
    record_tab(page, "Relevé des accès")
    assert tab.path() == f"/patients/{first}/acces/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Relevé des accès au dossier")
    assert_accessible_page(page)
    report = page.get_by_role("table", name="Tous les accès au dossier")
    for action in ("Patient enregistré", "Dossier patient consulté", "Dossiers patients fusionnés"):
        expect(report.get_by_role("cell", name=action, exact=True).first).to_be_visible()
    # Both registrations: the merged record's accesses are reported on the kept one.
    expect(report.get_by_role("cell", name="Patient enregistré", exact=True)).to_have_count(2)
    expect(report.get_by_role("cell", name=re.compile("Fanny DURAND", re.I)).first).to_be_visible()
    screenshot(tab, "patient-access-report")

    csv_link = page.get_by_role("link", name="Télécharger le relevé (CSV, tableur)")
    pdf_link = page.get_by_role("link", name="Télécharger le relevé (PDF)")
    expect(csv_link).to_have_attribute("href", f"/patients/{first}/acces.csv")
    expect(pdf_link).to_have_attribute("href", f"/patients/{first}/acces.pdf")
    with page.expect_download() as download_info:
        csv_link.click()
    filename = download_info.value.suggested_filename
    assert re.fullmatch(rf"releve-acces-{first}-\d{{8}}\.csv", filename), filename
    csv = page.request.get(f"{tab.base_url}/patients/{first}/acces.csv")
    assert csv.status == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert "Dossiers patients fusionnés" in csv.text()
    pdf = page.request.get(f"{tab.base_url}/patients/{first}/acces.pdf")
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    assert not tab.console, "\n".join(tab.console)
    tab.assert_no_csp_violation()
