"""Reading settings from the environment, failing loudly on bad values.

Every setting of dcc comes from a ``DCC_*`` variable (or ``*_FILE`` for secrets). A missing or
malformed value raises :class:`ConfigError` with a message that names the variable and says
what is expected, so that a misconfigured production start stops before serving anything.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path


class ConfigError(Exception):
    """A setting is missing or malformed."""


TRUE_WORDS = frozenset({"1", "true", "yes", "on", "oui"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", "non", ""})


class Env:
    """Typed accessors over an environment mapping."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ

    def text(self, name: str, default: str | None = None) -> str:
        value = self.environ.get(name)
        if value is None or value == "":
            if default is None:
                raise ConfigError(f"{name} is required but not set.")
            return default
        return value

    def optional(self, name: str) -> str | None:
        value = self.environ.get(name)
        return value or None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.environ.get(name)
        if value is None:
            return default
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ConfigError(f"{name} must be a boolean (1/0, true/false); got {value!r}.")

    def integer(self, name: str, default: int, *, minimum: int | None = None) -> int:
        value = self.environ.get(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{name} must be an integer; got {value!r}.") from None
        if minimum is not None and number < minimum:
            raise ConfigError(f"{name} must be at least {minimum}; got {number}.")
        return number

    def items(self, name: str, default: list[str] | None = None) -> list[str]:
        value = self.environ.get(name)
        if value is None or value.strip() == "":
            if default is None:
                raise ConfigError(f"{name} is required (comma-separated list) but not set.")
            return default
        return [item.strip() for item in value.split(",") if item.strip()]

    def secret(
        self,
        name: str,
        *,
        generated_file: Path | None,
        min_bytes: int = 32,
    ) -> bytes:
        """A secret from ``NAME`` or from the file named by ``NAME_FILE``.

        ``generated_file`` (demo and development only) is created with a random value when
        neither variable is set; in production it is ``None`` and a missing secret is an error.
        """
        direct = self.environ.get(name)
        file_name = self.environ.get(f"{name}_FILE")
        if direct and file_name:
            raise ConfigError(f"Set either {name} or {name}_FILE, not both.")
        if direct:
            raw = direct.encode()
        elif file_name:
            path = Path(file_name)
            try:
                raw = path.read_bytes().strip()
            except OSError as exc:
                raise ConfigError(
                    f"{name}_FILE={file_name}: cannot read ({exc.strerror})."
                ) from None
        elif generated_file is not None:
            raw = read_or_create_secret_file(generated_file)
        else:
            raise ConfigError(f"{name} or {name}_FILE is required in production mode.")
        if len(raw) < min_bytes:
            raise ConfigError(f"{name} must be at least {min_bytes} bytes long; got {len(raw)}.")
        return raw


def read_or_create_secret_file(path: Path) -> bytes:
    """Read a generated secret, creating it (mode 0600) on first use."""
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(value)
    return value


def read_previous_keys(
    file_name: str | None, variable: str = "DCC_AUDIT_PREVIOUS_KEYS_FILE"
) -> dict[str, bytes]:
    """Retired keys from a file of ``key_id:secret`` lines (blank lines and # ignored)."""
    if not file_name:
        return {}
    try:
        lines = Path(file_name).read_text().splitlines()
    except OSError as exc:
        raise ConfigError(f"{variable}={file_name}: cannot read ({exc.strerror}).") from None
    keys: dict[str, bytes] = {}
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key_id, separator, secret = line.partition(":")
        if not separator or not key_id.strip() or len(secret.strip()) < 32:
            raise ConfigError(
                f"{variable} line {number}: expected key_id:secret "
                "with a secret of at least 32 bytes."
            )
        keys[key_id.strip()] = secret.strip().encode()
    return keys
