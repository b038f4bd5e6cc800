"""Demo mode: explicit, visible on every page, and the seed it relies on."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

import config.settings
from dcc.accounts.choices import Role, StructureKind
from dcc.accounts.demo import ACCOUNTS, DEMO_PASSWORD
from dcc.accounts.models import Charter, Membership, Structure, User
from dcc.audit.verify import verify_chain
from dcc.core.management.commands.demo import WORKER_COMMAND

pytestmark = pytest.mark.django_db

BANNER = "Démonstration — données fictives"


@override_settings(DEMO=True)
def test_demo_mode_shows_a_banner_on_every_page(client: Client) -> None:
    assert BANNER in client.get("/compte/connexion/").content.decode()
    assert BANNER in client.get("/page-qui-n-existe-pas/").content.decode()


def test_outside_demo_mode_there_is_no_banner(client: Client) -> None:
    assert BANNER not in client.get("/compte/connexion/").content.decode()


def test_seed_demo_creates_the_network_one_account_per_role_and_the_charter(capsys: Any) -> None:
    call_command("seed_demo")
    kinds = set(Structure.objects.values_list("kind", flat=True))
    assert {
        StructureKind.REGIONAL_NETWORK,
        StructureKind.COORDINATION_CENTRE,
        StructureKind.HOSPITAL,
        StructureKind.PRIVATE_PRACTICE,
    } <= kinds
    assert Structure.objects.filter(kind=StructureKind.HOSPITAL).count() == 2
    roles = set(Membership.objects.active().values_list("role", flat=True))
    assert roles == set(Role.values)
    assert User.objects.get(email=ACCOUNTS[0].email).is_superuser
    assert all(User.objects.get(email=a.email).check_password(DEMO_PASSWORD) for a in ACCOUNTS)
    assert Charter.objects.count() == 1
    printed = capsys.readouterr().out
    assert DEMO_PASSWORD in printed and "oncologue@demo.dcc" in printed
    call_command("seed_demo")  # idempotent
    assert Membership.objects.count() == len(ACCOUNTS) - 1
    assert verify_chain().ok


@override_settings(DEMO=False, DEV=False)
def test_seed_demo_refuses_to_run_in_production() -> None:
    with pytest.raises(CommandError):
        call_command("seed_demo")


def test_demo_professionals_carry_valid_rpps_and_value_set_codes() -> None:
    from dcc.accounts.identifiers import is_valid_rpps
    from dcc.interop.terminology import value_sets

    professions = {c.code for c in value_sets.professions()}
    specialties = {c.code: c.display for c in value_sets.specialties()}
    for account in ACCOUNTS:
        assert not account.rpps or is_valid_rpps(account.rpps), account.email
        assert not account.profession or account.profession in professions, account.email
        if account.specialty:
            assert account.specialty.startswith(account.profession + "/"), account.email
            assert account.specialty in specialties, account.email
    surgeon = next(a for a in ACCOUNTS if a.email.startswith("chirurgien"))
    assert "Chirurgie" in specialties[surgeon.specialty]


def test_the_demo_worker_imports_the_installed_settings_whatever_the_directory(
    tmp_path: Path,
) -> None:
    """The worker started beside the demo server runs the same code: another checkout's
    ``config`` package in the current directory is not imported instead."""
    shadow = tmp_path / "config"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("")
    (shadow / "settings.py").write_text("raise SystemExit('the current directory was imported')")
    # The worker's interpreter and flags, asked where its settings come from instead of working.
    probe = [
        *WORKER_COMMAND[:-1],
        "shell",
        "-c",
        "import config.settings as s; print(s.__file__)",
    ]
    environment = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DCC_DEV": "1",
        "DCC_DATA_DIR": str(tmp_path / "data"),
    }
    environment.pop("DCC_DEMO", None)
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        probe, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert Path(result.stdout.split()[-1]) == Path(config.settings.__file__).resolve()
