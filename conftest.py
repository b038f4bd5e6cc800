"""Shared test fixtures: named personas used by every test of every app."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "Correct-Horse-42!"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """On PostgreSQL, let the (superuser) test session reset the append-only audit table."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"ALTER DATABASE {connection.ops.quote_name(connection.settings_dict['NAME'])} "
                    "SET dcc.audit_maintenance = 'on'"
                )
            connection.close()
    yield


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings: Any) -> None:
    """Argon2 with tiny parameters: production cost (~50 ms a hash) would dominate the suite."""
    settings.PASSWORD_HASHERS = ["dcc.accounts.tests.hashers.QuickArgon2PasswordHasher"]


@pytest.fixture
def structures(db: None) -> dict[str, Any]:
    from dcc.accounts.choices import StructureIdType, StructureKind
    from dcc.accounts.models import Structure

    network = Structure.objects.create(
        name="Réseau Test",
        kind=StructureKind.REGIONAL_NETWORK,
        national_id_type=StructureIdType.FINESS,
        national_id="330000019",
    )
    hospital = Structure.objects.create(
        name="CHU Test",
        kind=StructureKind.HOSPITAL,
        national_id_type=StructureIdType.FINESS,
        national_id="330000035",
        parent=network,
    )
    other = Structure.objects.create(
        name="Clinique Ailleurs",
        kind=StructureKind.PRIVATE_CLINIC,
        national_id_type=StructureIdType.FINESS,
        national_id="330000068",
    )
    return {"network": network, "hospital": hospital, "other": other}


def _user(
    email: str, *, first: str, last: str, rpps: str | None = None, superuser: bool = False
) -> Any:
    from dcc.accounts.models import User

    if superuser:
        return User.objects.create_superuser(email, PASSWORD, first_name=first, last_name=last)
    return User.objects.create_user(email, PASSWORD, first_name=first, last_name=last, rpps=rpps)


def _member(user: Any, structure: Any, role: str) -> Any:
    from dcc.accounts.models import Membership

    Membership.objects.create(user=user, structure=structure, role=role)
    return user


@pytest.fixture
def platform_admin(db: None) -> Any:
    return _user("admin@test.dcc", first="Alice", last="Admin", superuser=True)


@pytest.fixture
def hospital_admin(structures: dict[str, Any]) -> Any:
    from dcc.accounts.choices import Role

    return _member(
        _user("gestion@chu.test", first="Bruno", last="Gestion"),
        structures["hospital"],
        Role.STRUCTURE_ADMIN,
    )


@pytest.fixture
def oncologist(structures: dict[str, Any]) -> Any:
    """The referring oncologist at the university hospital."""
    from dcc.accounts.choices import Role

    user = _user("oncologue@chu.test", first="Claire", last="Martin", rpps="10000100007")
    return _member(user, structures["hospital"], Role.PHYSICIAN)


@pytest.fixture
def rcp_secretary(structures: dict[str, Any]) -> Any:
    from dcc.accounts.choices import Role

    return _member(
        _user("secretaire@chu.test", first="Fanny", last="Durand"),
        structures["hospital"],
        Role.RCP_SECRETARY,
    )


@pytest.fixture
def outsider(structures: dict[str, Any]) -> Any:
    """A physician from another clinic, outside the hospital's network."""
    from dcc.accounts.choices import Role

    user = _user("ailleurs@clinique.test", first="Olivier", last="Dehors", rpps="10000100015")
    return _member(user, structures["other"], Role.PHYSICIAN)


@pytest.fixture
def security_officer(structures: dict[str, Any]) -> Any:
    from dcc.accounts.choices import Role

    return _member(
        _user("securite@rrc.test", first="Jules", last="Laurent"),
        structures["network"],
        Role.SECURITY_OFFICER,
    )


@pytest.fixture
def charter(platform_admin: Any) -> Any:
    from dcc.accounts.models import Charter

    return Charter.objects.create(version=1, title="Charte", body="Je respecte le secret médical.")


@pytest.fixture
def totp_device() -> Any:
    """Factory: give a user a confirmed TOTP device and return (device, current token)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def make(user: Any) -> tuple[Any, str]:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        return device, current_token(device)

    return make


def current_token(device: Any) -> str:
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(totp.token()).zfill(device.digits)


@pytest.fixture
def logged_in(client: Any, totp_device: Any) -> Any:
    """Factory: a test client logged in as ``user`` through password + TOTP, charter accepted."""
    from dcc.accounts.models import CharterAcceptance
    from dcc.accounts.selectors import current_charter

    def make(user: Any, *, accept_charter: bool = True) -> Any:
        device, token = totp_device(user)
        response = client.post("/compte/connexion/", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.content[:500]
        response = client.post("/compte/connexion/code/", {"token": token})
        assert response.status_code == 302, response.content[:500]
        charter = current_charter()
        if accept_charter and charter is not None:
            CharterAcceptance.objects.get_or_create(user=user, charter=charter)
        return client

    return make
