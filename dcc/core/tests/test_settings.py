"""Configuration: production refuses to start on a bad value and says which variable is wrong.

Each case loads the real settings module in a child process whose environment the test
controls completely, so that nothing set by the test session (development mode, throw-away
keys) leaks in."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from conftest import PASSWORD
from dcc.accounts.backends import password_login_allowed

BASE_DIR = Path(__file__).resolve().parents[3]


def production_env(data_dir: Path, **changes: str | None) -> dict[str, str]:
    """A complete, valid production environment; ``None`` in ``changes`` removes a variable."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DCC_", "DJANGO_")) and name != "DATABASE_URL"
    }
    env.update(
        {
            "DCC_SECRET_KEY": "production-secret-" + "s" * 48,
            "DCC_AUDIT_KEY": "production-audit-key-" + "a" * 32,
            "DCC_DOCUMENT_KEY": "production-document-key-" + "d" * 32,
            "DCC_DATA_DIR": str(data_dir),
            "DCC_ALLOWED_HOSTS": "dcc.example.org",
            "DATABASE_URL": "postgres://dcc@db.example.org:5432/dcc",
            "DCC_LOCAL_LOGIN": "admins",
        }
    )
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def load_settings(env: dict[str, str], *names: str) -> subprocess.CompletedProcess[str]:
    """Import config.settings in a fresh interpreter and print the named settings."""
    code = "import config.settings as s\n" + "".join(
        f"print('{name}=' + repr(s.{name}))\n" for name in names
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def dcc_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``dcc check`` (the console script's code path) in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", "from dcc.cli import main; main(['dcc', 'check'])"],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_complete_production_environment_starts(tmp_path: Path) -> None:
    result = dcc_check(production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "configuration error" not in result.stderr


@pytest.mark.parametrize(
    ("changes", "variable", "explanation"),
    [
        ({"DCC_SECRET_KEY": None}, "DCC_SECRET_KEY", "required in production"),
        ({"DCC_SECRET_KEY": "too-short"}, "DCC_SECRET_KEY", "at least 50 bytes"),
        ({"DCC_AUDIT_KEY": None}, "DCC_AUDIT_KEY", "required in production"),
        ({"DCC_DOCUMENT_KEY": None}, "DCC_DOCUMENT_KEY", "required in production"),
        ({"DCC_DOCUMENT_KEY": "short"}, "DCC_DOCUMENT_KEY", "at least 32 bytes"),
        ({"DCC_DOCUMENT_STORE": "ftp"}, "DCC_DOCUMENT_STORE", "must be local or s3"),
        ({"DCC_DOCUMENT_STORE": "s3"}, "DCC_S3_SECRET_KEY", "required in production"),
        (
            {"DCC_DOCUMENT_STORE": "s3", "DCC_S3_SECRET_KEY": "secret"},
            "DCC_S3_BUCKET",
            "is required when DCC_DOCUMENT_STORE=s3",
        ),
        ({"DATABASE_URL": "mysql://dcc@db/dcc"}, "DATABASE_URL", "sqlite:/// or postgres://"),
        ({"DATABASE_URL": "db.example.org/dcc"}, "DATABASE_URL", "sqlite:/// or postgres://"),
        ({"DATABASE_URL": None}, "DATABASE_URL", "required"),
        ({"DCC_REQUIRE_OTP": "0"}, "DCC_REQUIRE_OTP", "cannot be turned off in production"),
        ({"DCC_REQUIRE_OTP": "peut-être"}, "DCC_REQUIRE_OTP", "must be a boolean"),
        ({"DCC_LOCAL_LOGIN": "all"}, "DCC_LOCAL_LOGIN=all", "refused in production"),
        ({"DCC_LOCAL_LOGIN": "everyone"}, "DCC_LOCAL_LOGIN", "all, admins or none"),
        ({"DCC_LOCAL_LOGIN": "none"}, "DCC_OIDC_ISSUER", "Pro Santé Connect"),
        ({"DCC_ALLOWED_HOSTS": None}, "DCC_ALLOWED_HOSTS", "required"),
        ({"DCC_DATA_DIR": None}, "DCC_DATA_DIR", "required"),
        ({"DCC_DATA_DIR": "var/dcc"}, "DCC_DATA_DIR", "absolute path"),
        ({"DCC_LOGIN_MAX_FAILURES": "2"}, "DCC_LOGIN_MAX_FAILURES", "at least 3"),
        ({"DCC_SESSION_IDLE_SECONDS": "1h"}, "DCC_SESSION_IDLE_SECONDS", "integer"),
        ({"DCC_AUDIT_ANCHOR_FILE": "off"}, "DCC_AUDIT_ANCHOR_FILE", "cannot be off"),
        ({"DCC_AUDIT_ENABLED": "0"}, "DCC_AUDIT_ENABLED", "cannot be turned off"),
        (
            {
                "DCC_OIDC_ISSUER": "http://psc.example.org",
                "DCC_OIDC_CLIENT_ID": "dcc",
                "DCC_OIDC_CLIENT_SECRET": "client-secret-value",
            },
            "DCC_OIDC_ISSUER",
            "https://",
        ),
        ({"DCC_OIDC_ISSUER": "https://psc.example.org"}, "DCC_OIDC_CLIENT_SECRET", "required"),
    ],
)
def test_a_production_configuration_error_names_the_variable(
    tmp_path: Path, changes: dict[str, str | None], variable: str, explanation: str
) -> None:
    result = dcc_check(production_env(tmp_path, **changes))
    assert result.returncode == 2, result.stdout + result.stderr
    message = result.stderr.strip()
    assert message.startswith("dcc: configuration error:"), message
    assert variable in message
    assert explanation in message
    # One plain line for the operator, not a traceback.
    assert "Traceback" not in message
    assert len(message.splitlines()) == 1


def test_importing_the_settings_directly_also_names_the_variable(tmp_path: Path) -> None:
    result = load_settings(production_env(tmp_path, DCC_SECRET_KEY="short"), "SECRET_KEY")
    assert result.returncode != 0
    assert "dcc: configuration error: DCC_SECRET_KEY must be at least 50 bytes" in result.stderr


def test_a_secret_file_replaces_the_variable_and_a_missing_file_is_named(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text("file-secret-" + "f" * 50 + "\n")
    readable = load_settings(
        production_env(tmp_path, DCC_SECRET_KEY=None, DCC_SECRET_KEY_FILE=str(key_file)),
        "SECRET_KEY",
    )
    assert readable.returncode == 0, readable.stderr
    assert "file-secret-" in readable.stdout

    missing = dcc_check(
        production_env(tmp_path, DCC_SECRET_KEY=None, DCC_SECRET_KEY_FILE="/nonexistent/key")
    )
    assert missing.returncode == 2
    assert "DCC_SECRET_KEY_FILE=/nonexistent/key: cannot read" in missing.stderr


def test_debug_is_ignored_in_production(tmp_path: Path) -> None:
    result = load_settings(production_env(tmp_path, DCC_DEBUG="1"), "DEBUG", "PRODUCTION")
    assert result.returncode == 0, result.stderr
    assert "DEBUG=False" in result.stdout
    assert "PRODUCTION=True" in result.stdout


def test_debug_can_be_turned_on_in_development(tmp_path: Path) -> None:
    result = load_settings(
        production_env(tmp_path, DCC_DEV="1", DCC_DEBUG="1", DATABASE_URL=None), "DEBUG"
    )
    assert result.returncode == 0, result.stderr
    assert "DEBUG=True" in result.stdout


def test_production_defaults_are_the_strict_ones(tmp_path: Path) -> None:
    result = load_settings(
        production_env(tmp_path, DCC_LOCAL_LOGIN=None, DCC_OIDC_ISSUER="https://psc.example.org")
        | {"DCC_OIDC_CLIENT_ID": "dcc", "DCC_OIDC_CLIENT_SECRET": "client-secret-value"},
        "LOCAL_LOGIN",
        "REQUIRE_OTP",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "LOCAL_LOGIN='admins'",
        "REQUIRE_OTP=True",
        "SESSION_COOKIE_SECURE=True",
        "CSRF_COOKIE_SECURE=True",
        "SECURE_SSL_REDIRECT=True",
        "SECURE_HSTS_SECONDS=31536000",
    ]


@pytest.mark.django_db
@override_settings(LOCAL_LOGIN="admins")
def test_with_admins_only_a_professional_cannot_log_in_with_a_password(
    client: Client, oncologist: Any, platform_admin: Any
) -> None:
    assert password_login_allowed(oncologist) is False
    assert password_login_allowed(platform_admin) is True
    response = client.post("/compte/connexion/", {"email": oncologist.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "Adresse électronique ou mot de passe incorrect." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert "dcc_preauth" not in client.session


@pytest.mark.django_db
@override_settings(LOCAL_LOGIN="admins")
def test_with_admins_only_an_administrator_still_reaches_the_second_factor(
    client: Client, platform_admin: Any
) -> None:
    response = client.post(
        "/compte/connexion/", {"email": platform_admin.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/compte/connexion/")


@pytest.mark.django_db
@override_settings(LOCAL_LOGIN="none")
def test_with_none_nobody_logs_in_with_a_password(oncologist: Any, platform_admin: Any) -> None:
    assert password_login_allowed(oncologist) is False
    assert password_login_allowed(platform_admin) is False


@pytest.mark.django_db
@override_settings(LOCAL_LOGIN="all")
def test_with_all_a_professional_may_use_a_password(oncologist: Any) -> None:
    assert password_login_allowed(oncologist) is True


def test_env_example_lists_every_variable_the_settings_read() -> None:
    settings_source = (BASE_DIR / "config" / "settings.py").read_text()
    read = set(re.findall(r'"((?:DCC_[A-Z0-9_]+)|DATABASE_URL)"', settings_source))
    secrets = re.findall(r'env\.secret\(\s*"(DCC_[A-Z0-9_]+)"', settings_source)
    read |= {f"{name}_FILE" for name in secrets}
    example = (BASE_DIR / ".env.example").read_text()
    listed = set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", example, re.MULTILINE))
    assert len(read) > 20
    assert sorted(read - listed) == []
    assert sorted(listed - read) == []


def test_manage_py_assumes_development_only_in_an_unconfigured_checkout(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[3]
    bare = {k: v for k, v in os.environ.items() if not k.startswith("DCC_") and k != "DATABASE_URL"}
    bare.pop("DJANGO_SETTINGS_MODULE", None)
    dev = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=root,
        env={**bare, "DCC_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert dev.returncode == 0, dev.stderr
    configured = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=root,
        env={**bare, "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert configured.returncode == 2
    assert "DCC_DATA_DIR is required" in configured.stderr
