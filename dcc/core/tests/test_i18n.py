"""The English interface: a complete catalog, compiled, up to date, and chosen by the visitor.

French is the source language (every msgid is French); each other language of ``LANGUAGES``
has a catalog in ``dcc/locale/<code>/LC_MESSAGES/``, committed both as ``django.po`` and as
the compiled ``django.mo`` (installing from a clone needs no gettext tools). To update it
after changing interface text::

    DCC_DEV=1 DCC_DATA_DIR=/tmp/i18n .venv/bin/python manage.py makemessages -l en \\
        -e html,txt,py --ignore=.venv --ignore=bench --ignore='*/tests/*' --no-obsolete
    # translate every new or fuzzy entry in dcc/locale/en/LC_MESSAGES/django.po, then:
    DCC_DEV=1 DCC_DATA_DIR=/tmp/i18n .venv/bin/python manage.py compilemessages -l en \\
        --ignore=.venv   # without it, compilemessages also recompiles Django's own catalogs

The staleness check re-runs that extraction in a scratch copy of the source tree; it needs
GNU gettext (xgettext) and is skipped without it, except in CI (``CI`` or
``DCC_REQUIRE_INTEGRATION=1``), where a skip would hide a stale catalog.
"""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

BASE_DIR = Path(__file__).resolve().parents[3]
LOCALE_DIR = BASE_DIR / "dcc" / "locale"
# The options of the makemessages command above, shared with the staleness check.
MAKEMESSAGES_OPTIONS = [
    "-e",
    "html,txt,py",
    "--ignore=.venv",
    "--ignore=bench",
    "--ignore=*/tests/*",
    "--no-obsolete",
]
TRANSLATED_LANGUAGES = [
    code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE
]


# --- A small reader of gettext .po files -------------------------------------------------------

_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    '"': '"',
    "\\": "\\",
}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+"(.*)"\s*$')
_STRING = re.compile(r'^"(.*)"\s*$')
_PLACEHOLDER = re.compile(r"%(?:\(([^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?([a-zA-Z%])")


@dataclass
class PoEntry:
    line: int
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    def __str__(self) -> str:
        context = f" (context {self.msgctxt!r})" if self.msgctxt is not None else ""
        return f"line {self.line}: {self.msgid!r}{context}"


def _unescape(text: str, where: str) -> str:
    def replace(match: re.Match[str]) -> str:
        char = match.group(1)
        if char not in _ESCAPES:
            raise ValueError(f"{where}: unknown escape \\{char}")
        return _ESCAPES[char]

    return re.sub(r"\\(.)", replace, text)


def parse_po(text: str, name: str = "django.po") -> list[PoEntry]:
    """Entries of a .po file: contexts, plurals, multi-line strings, flags, obsolete (#~)."""
    entries: list[PoEntry] = []
    entry: PoEntry | None = None
    target: tuple[str, int] | None = None  # the field continuation lines extend

    def finish() -> None:
        nonlocal entry, target
        if entry is not None:
            if not entry.msgstr:
                raise ValueError(f"{name}:{entry.line}: entry without msgstr")
            entries.append(entry)
        entry, target = None, None

    for number, raw in enumerate(text.splitlines(), start=1):
        where = f"{name}:{number}"
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
            if line.startswith("|"):  # previous msgid of an obsolete entry
                continue
        if not line:
            finish()
            continue
        if line.startswith("#"):
            if entry is not None and entry.msgstr:
                finish()
            if entry is None:
                entry = PoEntry(line=number)
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            continue
        if keyword := _KEYWORD.match(line):
            name_, index, value = keyword.group(1), keyword.group(2), keyword.group(3)
            if name_ in ("msgctxt", "msgid") and entry is not None and entry.msgstr:
                finish()
            if name_ == "msgid" and target is not None and target[0] != "msgctxt":
                raise ValueError(f"{where}: msgid after {target[0]}")
            if entry is None:
                entry = PoEntry(line=number)
            entry.obsolete = entry.obsolete or obsolete
            value = _unescape(value, where)
            if name_ == "msgctxt":
                entry.msgctxt = value
                target = ("msgctxt", 0)
            elif name_ == "msgid":
                entry.msgid = value
                target = ("msgid", 0)
            elif name_ == "msgid_plural":
                entry.msgid_plural = value
                target = ("msgid_plural", 0)
            else:
                position = int(index) if index is not None else 0
                if position in entry.msgstr:
                    raise ValueError(f"{where}: msgstr[{position}] given twice")
                entry.msgstr[position] = value
                target = ("msgstr", position)
            continue
        if (string := _STRING.match(line)) and entry is not None and target is not None:
            value = _unescape(string.group(1), where)
            kind, position = target
            if kind == "msgctxt":
                entry.msgctxt = (entry.msgctxt or "") + value
            elif kind == "msgid":
                entry.msgid += value
            elif kind == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + value
            else:
                entry.msgstr[position] += value
            continue
        raise ValueError(f"{where}: cannot parse {raw!r}")
    finish()
    for parsed in entries:
        if parsed.msgid_plural is None and set(parsed.msgstr) != {0}:
            raise ValueError(f"{name}: {parsed}: msgstr[n] without msgid_plural")
    return entries


def placeholders(text: str) -> list[str]:
    """The printf-style placeholders of a python-format string, in order (``%%`` excluded)."""
    return sorted(
        f"%({named}){kind}" if named else f"%{kind}"
        for named, kind in _PLACEHOLDER.findall(text)
        if kind != "%"
    )


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "django.po"


def read_catalog(language: str) -> list[PoEntry]:
    path = po_path(language)
    return parse_po(path.read_text(encoding="utf-8"), str(path.relative_to(BASE_DIR)))


def test_the_po_reader_handles_contexts_plurals_continuations_and_flags() -> None:
    entries = parse_po(
        "\n".join(
            [
                'msgid ""',
                'msgstr ""',
                '"Language: en\\n"',
                "",
                "#: templates/a.html:1",
                "#, fuzzy, python-format",
                'msgctxt "bouton"',
                'msgid ""',
                '"Bonjour %(name)s, "',
                '"« ça va » ?\\n"',
                'msgstr "Hello %(name)s, \\"all right\\"?\\n"',
                "",
                'msgid "%(n)s événement"',
                'msgid_plural "%(n)s événements"',
                'msgstr[0] "%(n)s event"',
                'msgstr[1] ""',
                '"%(n)s events"',
                "",
                '#~ msgid "Ancien"',
                '#~ msgstr "Old"',
            ]
        )
    )
    header, greeting, plural, old = entries
    assert header.is_header and header.msgstr == {0: "Language: en\n"}
    assert greeting.msgctxt == "bouton"
    assert greeting.msgid == "Bonjour %(name)s, « ça va » ?\n"
    assert greeting.msgstr == {0: 'Hello %(name)s, "all right"?\n'}
    assert greeting.flags == {"fuzzy", "python-format"}
    assert plural.msgid_plural == "%(n)s événements"
    assert plural.msgstr == {0: "%(n)s event", 1: "%(n)s events"}
    assert old.obsolete and old.msgid == "Ancien" and old.msgstr == {0: "Old"}
    assert placeholders("%(a)s et %(b)d, %s à 100 %%") == ["%(a)s", "%(b)d", "%s"]
    with pytest.raises(ValueError, match="cannot parse"):
        parse_po('msgid "a"\nmsgstr "b"\nnonsense\n')


# --- (a) Every entry is translated ---------------------------------------------------------------


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_the_catalog_is_complete(language: str) -> None:
    entries = read_catalog(language)
    headers = [entry for entry in entries if entry.is_header]
    assert len(headers) == 1, "the catalog needs exactly one header entry"
    header = headers[0].msgstr[0]
    assert f"Language: {language}\n" in header
    plural_forms = re.search(r"Plural-Forms: nplurals=(\d+);", header)
    assert plural_forms, "the header has no Plural-Forms"
    forms = int(plural_forms.group(1))

    problems: list[str] = []
    seen: set[tuple[str | None, str, str | None]] = set()
    for entry in entries:
        if entry.key in seen:
            problems.append(f"{entry}: duplicate entry")
        seen.add(entry.key)
        if entry.obsolete:
            problems.append(f"{entry}: obsolete (#~) entry, regenerate with --no-obsolete")
        if "fuzzy" in entry.flags:
            problems.append(f"{entry}: fuzzy")
        if entry.is_header:
            continue
        expected = set(range(forms)) if entry.msgid_plural is not None else {0}
        if set(entry.msgstr) != expected:
            problems.append(f"{entry}: msgstr forms {sorted(entry.msgstr)}, expected {expected}")
        for index, text in sorted(entry.msgstr.items()):
            source = entry.msgid if index == 0 or entry.msgid_plural is None else entry.msgid_plural
            if not text.strip():
                problems.append(f"{entry}: untranslated (msgstr[{index}])")
                continue
            if "python-format" in entry.flags and placeholders(text) != placeholders(source):
                problems.append(
                    f"{entry}: placeholders {placeholders(text)} differ from {placeholders(source)}"
                )
            for edge in (str.startswith, str.endswith):
                if edge(source, "\n") != edge(text, "\n"):
                    problems.append(f"{entry}: leading/trailing newline differs from the msgid")
    assert not problems, f"{po_path(language)}:\n" + "\n".join(problems)


# --- (b) The committed .mo is the compiled .po ---------------------------------------------------


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_the_compiled_catalog_matches_the_po(language: str) -> None:
    mo_path = po_path(language).with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run manage.py compilemessages -l {language}"
    with mo_path.open("rb") as mo_file:
        translations = gettext.GNUTranslations(mo_file)
    assert translations.info().get("language") == language

    expected: dict[str | tuple[str, int], str] = {}
    for entry in read_catalog(language):
        if entry.obsolete or "fuzzy" in entry.flags:
            continue  # msgfmt leaves them out; test_the_catalog_is_complete reports them
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            expected[key] = entry.msgstr[0]
        else:
            for index, text in entry.msgstr.items():
                expected[(key, index)] = text
    # GNUTranslations keeps the parsed catalog in _catalog (str keys, (str, n) for plurals).
    compiled: dict[str | tuple[str, int], str] = dict(vars(translations)["_catalog"])
    # msgfmt leaves the POT-Creation-Date out of the compiled header.
    for catalog in (expected, compiled):
        catalog[""] = re.sub(r"(?m)^POT-Creation-Date: .*\n", "", catalog.get("", ""))
    stale = sorted(
        repr(key)
        for key in expected.keys() | compiled.keys()
        if expected.get(key) != compiled.get(key)
    )
    assert not stale, (
        f"{mo_path} does not match the .po (run manage.py compilemessages -l {language}):\n"
        + "\n".join(stale[:50])
    )


# --- (c) The .po holds exactly what extraction finds in the source ------------------------------


def _source_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=BASE_DIR,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted(
        path
        for path in listed.split("\0")
        if path and not path.startswith("dcc/locale/") and (BASE_DIR / path).is_file()
    )


def _extraction_required() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("DCC_REQUIRE_INTEGRATION") == "1"


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_the_catalog_is_not_stale(language: str, tmp_path: Path) -> None:
    missing_tools = [tool for tool in ("xgettext", "msguniq", "msgmerge") if not shutil.which(tool)]
    packages = ["gettext"] if missing_tools else []
    if not shutil.which("git") or not (BASE_DIR / ".git").exists():
        missing_tools.append("git (a git checkout)")
        packages.append("git")
    if missing_tools:
        reason = f"{', '.join(missing_tools)} unavailable (apt-get install {' '.join(packages)})"
        if _extraction_required():
            pytest.fail(f"{reason}; CI must check that the catalog is not stale")
        pytest.skip(reason)

    # makemessages writes scratch files next to the templates and the catalog inside the tree:
    # run it on a copy of the source tree, without the committed catalogs.
    tree = tmp_path / "tree"
    for relative in _source_files():
        destination = tree / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(BASE_DIR / relative, destination)
    committed_bytes = po_path(language).read_bytes()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DCC_", "DJANGO_")) and name != "DATABASE_URL"
    }
    env.update(
        DCC_DEV="1",
        DCC_DATA_DIR=str(tmp_path / "data"),
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONDONTWRITEBYTECODE="1",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", language, *MAKEMESSAGES_OPTIONS],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert po_path(language).read_bytes() == committed_bytes, "makemessages wrote into the repo"
    extracted_path = tree / po_path(language).relative_to(BASE_DIR)
    assert extracted_path.exists(), f"makemessages wrote no catalog:\n{result.stderr}"

    extracted = {
        entry.key
        for entry in parse_po(extracted_path.read_text(encoding="utf-8"), "extracted")
        if not entry.is_header
    }
    committed = {entry.key for entry in read_catalog(language) if not entry.is_header}
    missing = sorted(extracted - committed, key=repr)
    unused = sorted(committed - extracted, key=repr)
    assert not (missing or unused), (
        f"{po_path(language)} is stale: re-run makemessages (see this module's docstring), "
        "translate, then compilemessages.\n"
        + "".join(f"  missing: {key[1]!r}\n" for key in missing)
        + "".join(f"  no longer in the source: {key[1]!r}\n" for key in unused)
    )


# --- (d) and (e) The visitor's language is used --------------------------------------------------


def _html_lang(content: str) -> str | None:
    match = re.search(r'<html\s+lang="([^"]+)"', content)
    return match.group(1) if match else None


@pytest.mark.django_db
def test_the_login_page_is_french_by_default(client: Client) -> None:
    response = client.get("/compte/connexion/")
    content = response.content.decode()
    assert response.status_code == 200
    assert _html_lang(content) == "fr"
    assert "<h1>Connexion</h1>" in content
    assert "Se connecter" in content
    assert "Log in" not in content


@pytest.mark.django_db
def test_the_login_page_is_english_with_the_language_cookie(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/compte/connexion/")
    content = response.content.decode()
    assert response.status_code == 200
    assert _html_lang(content) == "en"
    assert ">Log in</button>" in content
    assert "Email address" in content
    assert "Password" in content
    assert "Se connecter" not in content
    assert "Adresse électronique" not in content


@pytest.mark.django_db
def test_the_login_page_follows_the_browser_language(client: Client) -> None:
    response = client.get("/compte/connexion/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    content = response.content.decode()
    assert _html_lang(content) == "en"
    assert ">Log in</button>" in content
    # An unknown language falls back to French, the default.
    response = client.get("/compte/connexion/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert _html_lang(response.content.decode()) == "fr"


@pytest.mark.django_db
def test_the_language_switcher_sets_the_cookie_and_redirects(client: Client) -> None:
    response = client.post("/langue/", {"language": "en", "next": "/compte/connexion/"})
    assert response.status_code == 302
    assert response["Location"] == "/compte/connexion/"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en"

    page = client.get(response["Location"]).content.decode()
    assert _html_lang(page) == "en"
    assert ">Log in</button>" in page
    # The switcher offers each language under its own name, the current one selected.
    assert re.search(r'<option value="en" selected lang="en">English</option>', page)
    assert '<option value="fr" lang="fr">Français</option>' in page

    response = client.post("/langue/", {"language": "fr", "next": "/compte/connexion/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert _html_lang(client.get("/compte/connexion/").content.decode()) == "fr"


@pytest.mark.django_db
def test_the_language_switcher_ignores_an_unoffered_language_and_a_foreign_next(
    client: Client,
) -> None:
    response = client.post("/langue/", {"language": "de", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    # Django may store any language it has a catalog for; the site only speaks LANGUAGES.
    assert _html_lang(client.get("/compte/connexion/").content.decode()) == "fr"
