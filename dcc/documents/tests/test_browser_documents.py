"""Browser journey of clinical documents (issue 4), in Debian's Chromium: the RCP secretary adds
a scanned report (a progress bar while it goes up), reads it in the page, replaces it with a
corrected version, cancels it; the referring oncologist, in a browser of her own, is told of
the new document, opens it from the notification and marks the notification read.

The browser fixture and its skip rules (``DCC_REQUIRE_INTEGRATION``) are the core journey's,
the sign-in and htmx helpers the patients journey's. DevTools' network emulation first cuts the
network (the form must survive it), then slows the upload down, so that the progress bar can be
watched moving as on a hospital network. Every wait is for a condition, never for a time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone

from dcc.core.tests.test_browser import (  # noqa: F401  (``browser`` is a pytest fixture)
    TIMEOUT_MS,
    Tab,
    browser,
)
from dcc.documents.tests import samples
from dcc.patients.tests.test_browser_patients import (
    SETTLE_COUNTER,
    after_htmx,
    assert_accessible_page,
    go,
    path_of,
    record_tab,
    sign_in,
)

if TYPE_CHECKING:
    from playwright.sync_api import (
        Browser,
        ConsoleMessage,
        Download,
        FilePayload,
        Page,
        Response,
    )

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DETAIL_PATH = re.compile(r"/patients/[0-9a-f-]{36}/documents/([0-9a-f-]{36})/$")
PATHOLOGY = "CR d'anatomie et de cytologie pathologiques"
TITLE = "Biopsie mammaire gauche"
# Bytes per second: a ~3 MB file then takes about 1.5 s to go up.
UPLOAD_THROUGHPUT = 2_000_000
HIGH_BIT = bytes(range(128, 256)) * 2


def scanned_report(text: str, *, seed: int, side: int = 1000) -> bytes:
    """A valid one-page PDF, a line of text over a scanned-looking image (side × side RGB,
    uncompressed: ~3 MB for 1000). The pixel bytes are all ≥ 0x80, so they never spell one of
    the PDF names the inspector refuses as active content."""
    pixels = random.Random(seed).randbytes(side * side * 3).translate(HIGH_BIT)
    page = f"q 468 0 0 468 72 200 cm /Im1 Do Q BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode(
        "latin-1"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(page) + page + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
        b"/BitsPerComponent 8 /Length %d >>\nstream\n"
        % (side, side, len(pixels))
        + pixels
        + b"\nendstream",
    ]
    return samples.assemble_pdf(objects)


@dataclass
class DocumentTab(Tab):
    """A tab that also records what the browser downloaded (nothing is expected here)."""

    downloads: list[Download] = field(default_factory=list)


@pytest.fixture
def new_tab(browser: Browser, live_server: Any) -> Iterator[Callable[[], DocumentTab]]:  # noqa: F811
    """Factory: a browser context of its own (one per professional), recording console errors,
    CSP reports and downloads."""
    contexts = []

    def make() -> DocumentTab:
        context = browser.new_context(
            locale="fr-FR", viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(SETTLE_COUNTER)
        contexts.append(context)
        page = context.new_page()
        opened = DocumentTab(page=page, base_url=live_server.url)

        def remember(message: ConsoleMessage) -> None:
            if message.type == "error" or "Content Security Policy" in message.text:
                opened.console.append(f"{path_of(page.url)}: {message.text}")

        page.on("console", remember)
        page.on("pageerror", lambda error: opened.console.append(f"{path_of(page.url)}: {error}"))
        page.on("download", lambda download: opened.downloads.append(download))
        return opened

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


class Network:
    """This page's network as DevTools emulates it: cut, or with slow uploads."""

    def __init__(self, page: Page) -> None:
        self.session = page.context.new_cdp_session(page)
        self.session.send("Network.enable")

    def emulate(self, *, offline: bool = False, upload: int = -1) -> None:
        self.session.send(
            "Network.emulateNetworkConditions",
            {
                "offline": offline,
                "latency": 0,
                "downloadThroughput": -1,
                "uploadThroughput": upload,
            },
        )

    def restore(self) -> None:
        self.session.detach()


def wait_for_progress(page: Page, *, above: int, below: int = 101) -> int:
    """Wait until the upload's progress bar shows a value strictly between the bounds; return it."""
    shown = page.wait_for_function(
        """([above, below]) => {
            const bar = document.querySelector("form[data-upload] progress");
            const ok = bar !== null && !bar.hidden && bar.value > above && bar.value < below;
            return ok ? bar.value : null;
        }""",
        arg=[above, below],
        polling=20,
    )
    return int(shown.json_value())


def document_uuid(page: Page) -> str:
    match = DETAIL_PATH.search(page.url)
    assert match, page.url
    return match.group(1)


def attach(page: Page, name: str, data: bytes) -> None:
    payload: FilePayload = {"name": name, "mimeType": "application/pdf", "buffer": data}
    page.get_by_label("Fichier").set_input_files(files=payload)


def opening_inline(page: Page, action: Callable[[], object]) -> tuple[Response, str]:
    """Do ``action`` (open a document's page) and return the response of the content that the
    new page's frame received, as the browser saw it, with the document's UUID. (The frame of
    the page left behind may still be fetching: Chromium's PDF viewer reads the file again.)"""
    seen: list[Response] = []

    def collect(response: Response) -> None:
        seen.append(response)

    page.on("response", collect)
    try:
        go(page, action)
        expected = path_of(page.url) + "contenu/"

        def framed(response: Response) -> bool:
            return (
                path_of(response.url) == expected
                and response.request.is_navigation_request()
                and response.frame.parent_frame == page.main_frame
            )

        # The sync API only takes events in while it waits: nothing slips in between.
        found = next((r for r in seen if framed(r)), None)
        if found is None:
            found = page.wait_for_event("response", predicate=framed)
    finally:
        page.remove_listener("response", collect)
    return found, document_uuid(page)


def assert_shown_inline(page: Page, response: Response, data: bytes, title: str) -> None:
    """The content came into the page's frame as the PDF itself, inline, unsniffable, under a
    policy of its own; the browser showed it and downloaded nothing."""
    from playwright.sync_api import expect

    from dcc.documents.views import CONTENT_POLICY

    assert response.status == 200
    assert response.request.is_navigation_request()
    assert response.frame.parent_frame == page.main_frame  # the <iframe>, not the page
    headers = response.all_headers()  # as received (``headers`` leaves security ones out)
    assert headers["content-type"] == "application/pdf"
    assert headers["content-disposition"].startswith("inline;")
    assert headers["x-content-type-options"] == "nosniff"
    # The PDF policy of the view: nothing loads in that frame, only this page may frame it.
    assert headers["content-security-policy"] == CONTENT_POLICY["pdf"]
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert "no-store" in headers["cache-control"]
    assert int(headers["content-length"]) == len(data)
    frame = page.get_by_role("region", name="Contenu").locator("iframe")
    expect(frame).to_have_attribute("title", title)
    expect(frame).to_have_attribute("src", path_of(response.url))
    expect(frame).to_be_visible()
    box = frame.bounding_box()
    assert box is not None and box["height"] >= 400 and box["width"] >= 600, box
    # The same bytes as were sent, read again through the page's own session.
    again = page.request.get(response.url)
    assert again.body() == data


def test_a_secretary_adds_replaces_and_cancels_a_document_and_the_oncologist_is_told(
    new_tab: Callable[[], DocumentTab],
    rcp_secretary: Any,
    oncologist: Any,
    patient: Any,
    totp_device: Any,
    charter: Any,
) -> None:
    from playwright.sync_api import expect

    from dcc.documents.choices import DocumentStatus
    from dcc.documents.models import Document

    first_pdf = scanned_report("Carcinome canalaire infiltrant", seed=1)
    corrected_pdf = scanned_report(
        "Carcinome canalaire infiltrant, grade II, RH+", seed=2, side=400
    )
    assert len(first_pdf) > 2_500_000
    act_date = timezone.localdate() - dt.timedelta(days=3)

    # 1. The secretary opens the patient's record, then its documents: none yet.
    secretary = new_tab()
    page = secretary.page
    device, _token = totp_device(rcp_secretary)
    sign_in(secretary, rcp_secretary, device)
    secretary.open(f"/patients/{patient.uuid}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("MARTIN")
    record_tab(page, "Documents")
    assert secretary.path() == f"/patients/{patient.uuid}/documents/"
    expect(page.get_by_text("Aucun document.")).to_be_visible()
    assert_accessible_page(page)
    go(page, page.get_by_role("link", name="Ajouter un document").click)
    assert secretary.path() == f"/patients/{patient.uuid}/documents/ajouter/"
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ajouter un document")
    assert_accessible_page(page)
    for label in ("Fichier", "Type de document", "Titre", "Date de l'acte", "Auteur hors DCC"):
        expect(page.get_by_label(label)).to_be_visible()
    expect(page.get_by_role("progressbar")).to_have_count(0)  # hidden until something is sent

    # 2. Sent empty, the form comes back with its errors, and the keyboard goes to the first.
    submit = page.get_by_role("button", name="Ajouter au dossier")
    after_htmx(page, submit.click)
    expect(page.get_by_text("Choisissez le fichier du document.")).to_be_visible()
    expect(page.get_by_label("Fichier")).to_be_focused()
    expect(submit).to_be_enabled()
    expect(page.get_by_role("progressbar")).to_have_count(0)
    secretary.screenshot("document-refused")
    secretary.console.remove(
        f"{path_of(page.url)}: Failed to load resource: the server responded with a status of "
        "400 (Bad Request)"
    )
    assert Document.objects.count() == 0

    # 3. The scanned report, its type, title, date and author; sent from the keyboard (Enter in
    # a field), then on a slow network: the progress bar shows and moves while it goes up.
    attach(page, "cr-anapath.pdf", first_pdf)
    page.get_by_label("Type de document").select_option(label=PATHOLOGY)
    page.get_by_label("Titre").fill(TITLE)
    page.get_by_label("Date de l'acte").fill(act_date.isoformat())
    page.get_by_label("Auteur", exact=True).select_option(
        label="— Auteur hors DCC (à préciser ci-dessous) —"
    )
    page.get_by_label("Auteur hors DCC").fill("Dr Anne Roux, anatomopathologie")
    network = Network(page)
    network.emulate(offline=True)  # first, the network is cut: nothing is lost, try again
    page.get_by_label("Titre").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("L'envoi n'a pas abouti")
    expect(submit).to_be_enabled()
    expect(page.get_by_label("Titre")).to_have_value(TITLE)
    expect(page.get_by_role("progressbar")).to_have_count(0)
    # What Chromium and htmx report of the cut, and nothing else.
    for expected in (
        "htmx:afterRequest, [object HTMLFormElement]",
        "htmx:sendError, [object HTMLFormElement]",
        "Failed to load resource: net::ERR_INTERNET_DISCONNECTED",
    ):
        secretary.console.remove(f"{path_of(page.url)}: {expected}")
    assert Document.objects.count() == 0

    network.emulate(upload=UPLOAD_THROUGHPUT)
    page.get_by_label("Titre").press("Enter")
    expect(page.get_by_role("alert")).to_be_hidden()
    progress = page.get_by_role("progressbar", name="Progression de l’envoi")
    expect(progress).to_be_visible()
    expect(submit).to_be_disabled()  # no second copy from an impatient second click
    early = wait_for_progress(page, above=0, below=90)
    later = wait_for_progress(page, above=early)
    assert 0 < early < later <= 100, (early, later)
    secretary.screenshot("document-uploading")
    page.wait_for_url(DETAIL_PATH)
    network.restore()
    expect(page.get_by_role("status")).to_have_text("Document ajouté au dossier.")
    first_uuid = document_uuid(page)
    secretary.screenshot("document-added")

    # 4. It is in the timeline; opened from there, it is shown in the page, not downloaded.
    record_tab(page, "Documents")
    timeline = page.get_by_role("table", name=re.compile("Documents du dossier"))
    row = timeline.get_by_role("row").filter(has_text=TITLE)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(act_date.strftime("%d/%m/%Y"))
    expect(row).to_contain_text(PATHOLOGY)
    expect(row).to_contain_text("Dr Anne Roux")
    expect(row.get_by_role("cell").last).to_have_text("1")
    response, shown = opening_inline(page, row.get_by_role("link", name=TITLE).click)
    assert shown == first_uuid
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    assert_shown_inline(page, response, first_pdf, TITLE)
    description = page.get_by_role("region", name="Description")
    expect(description).to_contain_text("cr-anapath.pdf")
    expect(description.locator("code")).to_have_text(hashlib.sha256(first_pdf).hexdigest())
    assert_accessible_page(page)

    # 5. The referring oncologist, in her own browser, is told of it: badge, list, link, read.
    oncologist_tab = new_tab()
    other = oncologist_tab.page
    device, _token = totp_device(oncologist)
    sign_in(oncologist_tab, oncologist, device)
    nav = other.get_by_role("navigation", name="Navigation principale")
    expect(nav.get_by_role("link", name="Notifications (1 non lue)")).to_be_visible()
    go(other, nav.get_by_role("link", name=re.compile("^Notifications")).click)
    assert oncologist_tab.path() == "/notifications/"
    assert_accessible_page(other)
    notice = other.get_by_role("listitem").filter(has_text=f"Nouveau document : {PATHOLOGY}").first
    expect(other.get_by_text("Non lue", exact=True)).to_have_count(1)
    expect(notice).to_contain_text("Non lue")
    expect(notice).to_contain_text("Nouveau document dans le dossier d'un patient")
    link = notice.get_by_role("link", name=re.compile("^Ouvrir"))
    expect(link).to_have_attribute("href", f"/patients/{patient.uuid}/documents/{first_uuid}/")
    response, shown = opening_inline(other, link.click)
    assert shown == first_uuid
    expect(other.get_by_role("heading", level=1)).to_have_text(TITLE)
    assert_shown_inline(other, response, first_pdf, TITLE)
    go(other, nav.get_by_role("link", name=re.compile("^Notifications")).click)
    notice = other.get_by_role("listitem").filter(has_text=f"Nouveau document : {PATHOLOGY}").first
    go(other, notice.get_by_role("button", name=re.compile("^Marquer comme lue")).click)
    expect(nav.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    expect(notice.get_by_text("Lue", exact=True)).to_be_visible()
    expect(notice.get_by_role("button", name=re.compile("^Marquer comme lue"))).to_have_count(0)

    # 6. The secretary replaces the report with a corrected one, giving the reason.
    go(page, page.get_by_role("link", name="Nouvelle version").click)
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Nouvelle version de « {TITLE} »")
    assert_accessible_page(page)
    # What the first version said is there to be corrected, not typed again.
    expect(page.get_by_label("Titre")).to_have_value(TITLE)
    expect(page.get_by_label("Type de document")).to_have_value("60568-3")
    expect(page.get_by_label("Date de l'acte")).to_have_value(act_date.isoformat())
    expect(page.get_by_label("Auteur hors DCC")).to_have_value("Dr Anne Roux, anatomopathologie")
    attach(page, "cr-anapath-corrige.pdf", corrected_pdf)
    reason = "Compte rendu complété après relecture : grade et récepteurs hormonaux."
    page.get_by_label("Motif de la nouvelle version").fill(reason)
    with page.expect_navigation(url=DETAIL_PATH):
        page.get_by_role("button", name="Enregistrer la nouvelle version").click()
    expect(page.get_by_role("status")).to_have_text(
        "Nouvelle version enregistrée ; la précédente reste consultable."
    )
    second_uuid = document_uuid(page)
    assert second_uuid != first_uuid
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)  # current: no mark
    versions = page.get_by_role("region", name="Versions").get_by_role("listitem")
    expect(versions).to_have_count(2)
    expect(versions.nth(0)).to_contain_text("Version 2")
    expect(versions.nth(0)).to_contain_text("En vigueur")
    expect(versions.nth(0)).to_contain_text(reason)
    expect(versions.nth(1)).to_contain_text("Remplacé par une version ultérieure")

    # The first version is still there, and still readable.
    response, shown = opening_inline(
        page, versions.nth(1).get_by_role("link", name="Version 1").click
    )
    assert shown == first_uuid
    expect(page.get_by_role("heading", level=1)).to_contain_text("version antérieure")
    expect(page.get_by_role("note")).to_contain_text("Une version plus récente")
    expect(page.get_by_role("link", name="Nouvelle version")).to_have_count(0)
    assert_shown_inline(page, response, first_pdf, TITLE)
    response, shown = opening_inline(page, page.get_by_role("link", name="Version 2").click)
    assert shown == second_uuid
    assert_shown_inline(page, response, corrected_pdf, TITLE)

    # 7. She cancels it (wrong patient, say): it stays, marked cancelled with who, when, why.
    page.get_by_text("Annuler ce document").click()
    why = "Document déposé dans le mauvais dossier."
    page.get_by_label("Motif de l'annulation").fill(why)
    go(page, page.get_by_role("button", name="Annuler le document").click)
    assert path_of(page.url).endswith(f"/documents/{second_uuid}/")
    expect(page.get_by_role("status")).to_have_text("Document annulé ; il reste dans le dossier.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("annulé")
    expect(page.get_by_role("note")).to_have_text(
        re.compile(rf"^Annulé par Fanny DURAND le \d\d/\d\d/\d{{4}} \d\d:\d\d : {re.escape(why)}$")
    )
    expect(page.get_by_role("link", name="Nouvelle version")).to_have_count(0)
    expect(page.get_by_text("Annuler ce document")).to_have_count(0)
    secretary.screenshot("document-cancelled")

    record_tab(page, "Documents")
    expect(page.get_by_text("Aucun document.")).to_be_visible()  # hidden by default…
    after_htmx(page, page.get_by_label("Afficher les documents annulés").check)
    row = page.get_by_role("row").filter(has_text=TITLE)  # …and shown on demand
    expect(row).to_have_count(1)
    expect(row).to_contain_text("annulé")
    expect(row.get_by_role("cell").last).to_have_text("2")
    statuses = dict(
        Document.objects.filter(patient=patient).values_list("version", "status").order_by()
    )
    assert statuses == {1: DocumentStatus.REPLACED, 2: DocumentStatus.CANCELLED}

    # 8. The oncologist, back on a page, is told of the new version.
    oncologist_tab.open("/")
    expect(nav.get_by_role("link", name="Notifications (1 non lue)")).to_be_visible()

    for tab in (secretary, oncologist_tab):
        assert not tab.downloads, tab.downloads
        assert not tab.console, "\n".join(tab.console)
        tab.assert_no_csp_violation()
