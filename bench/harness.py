"""What every scenario shares: a throw-away database, A/B alternation, statistics, machine
facts, the printed table and the JSON report (docs/performance.md explains the method)."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import math
import os
import platform
import shutil
import sqlite3
import statistics
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import django
from django.db import connection

if TYPE_CHECKING:
    from django.test import Client

    from dcc.accounts.models import Structure, User


@dataclass(frozen=True)
class Options:
    scale: int | None = None  # scenario-specific size (events, rows…); None = its default
    repeat: int = 5  # A/B rounds
    requests: int | None = None  # requests per variant and round, for HTTP-like scenarios
    log: Callable[[str], None] = print


@dataclass(frozen=True)
class Goal:
    """A bound on the metric's ``value``, its ``ratio`` to the baseline or their ``difference``."""

    on: Literal["value", "ratio", "difference"]
    bound: Literal["max", "min"]
    limit: float

    def met(self, metric: Metric) -> bool:
        measured = {
            "value": metric.value,
            "ratio": metric.ratio,
            "difference": metric.value - metric.baseline,
        }[self.on]
        return measured <= self.limit if self.bound == "max" else measured >= self.limit

    def describe(self) -> str:
        sign = "≤" if self.bound == "max" else "≥"
        return f"{self.on} {sign} {self.limit:,g}"


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: str
    baseline: float
    baseline_label: str
    better: Literal["lower", "higher"]
    goal: Goal | None = None
    samples: int = 0
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else math.inf

    @property
    def met(self) -> bool | None:
        return self.goal.met(self) if self.goal else None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["goal"] = asdict(self.goal) | {"text": self.goal.describe()} if self.goal else None
        data["ratio"] = self.ratio
        data["met"] = self.met
        return data


def alternate(variants: Sequence[Callable[[], Sequence[float]]], rounds: int) -> list[list[float]]:
    """Run every variant ``rounds`` times, rotating their order each round (AB BA…, ABC BCA
    CAB…), so drift (a warming cache, a growing table, a noisy neighbour) weighs on all alike.
    Returns each variant's samples, in the order given."""
    samples: list[list[float]] = [[] for _ in variants]
    for index in range(rounds):
        for offset in range(len(variants)):
            which = (index + offset) % len(variants)
            gc.collect()
            samples[which].extend(variants[which]())
    return samples


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(fraction * len(ordered)) - 1)])


def machine_facts() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    vendor = connection.vendor
    if vendor == "postgresql":
        version = int(getattr(connection, "pg_version", 0))
        db_version = f"{version // 10000}.{version % 10000}"
    else:
        db_version = sqlite3.sqlite_version
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu or platform.processor(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "db_vendor": vendor,
        "db_version": db_version,
    }


@contextlib.contextmanager
def throwaway_database(verbosity: int = 0, *, keep: bool = False) -> Iterator[str]:
    """Create a fresh database the way Django's test runner does, migrate it, drop it at the end
    (unless ``keep``: then it stays, to be profiled, until the next run drops it).

    Never the configured database: SQLite gets a file in a temporary directory, PostgreSQL a
    database named ``bench_<name>`` (dropped first if a crashed run left it behind)."""
    settings_dict = connection.settings_dict
    original_name = settings_dict["NAME"]
    original_test = dict(settings_dict.get("TEST") or {})
    directory = ""
    if connection.vendor == "sqlite":
        directory = tempfile.mkdtemp(prefix="dcc-bench-")
        name = str(Path(directory) / "bench.sqlite3")
    else:
        name = f"bench_{original_name}"
    settings_dict["TEST"] = original_test | {"NAME": name}
    try:
        created = connection.creation.create_test_db(
            verbosity=verbosity, autoclobber=True, serialize=False
        )
        if created != name or connection.settings_dict["NAME"] != name:
            raise RuntimeError(f"benchmark database is {created!r}, expected {name!r}")
        yield created
    finally:
        if keep:
            connection.close()
            settings_dict["NAME"] = original_name
        elif connection.settings_dict["NAME"] != original_name:
            connection.creation.destroy_test_db(original_name, verbosity=verbosity)
        settings_dict["TEST"] = original_test
        if directory and not keep:
            shutil.rmtree(directory, ignore_errors=True)


def table(metrics: Sequence[Metric]) -> str:
    rows = [("metric", "value", "baseline", "ratio", "goal", "")]
    for m in metrics:
        status = "" if m.met is None else ("OK" if m.met else "MISSED")
        rows.append(
            (
                m.name,
                f"{m.value:,.1f} {m.unit}",
                f"{m.baseline:,.1f} ({m.baseline_label})",
                f"{m.ratio:.3f}",
                m.goal.describe() if m.goal else "",
                status,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def report(
    scenario: str, options: Options, metrics: Sequence[Metric], machine: dict[str, Any]
) -> dict[str, Any]:
    return {
        "scenario": scenario,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "options": {"scale": options.scale, "repeat": options.repeat, "requests": options.requests},
        "machine": machine,
        "metrics": [m.as_json() for m in metrics],
    }


def bench_physician() -> tuple[Structure, User]:
    """The benchmarks' hospital and one physician working there."""
    from dcc.accounts.choices import Role, StructureIdType, StructureKind
    from dcc.accounts.models import Membership, Structure, User

    structure = Structure.objects.create(
        name="CHU Banc d'essai",
        kind=StructureKind.HOSPITAL,
        national_id_type=StructureIdType.FINESS,
        national_id="330000019",
    )
    user = User.objects.create_user(
        "banc@chu.test", None, first_name="Claire", last_name="Banc", rpps="10000100007"
    )
    Membership.objects.create(user=user, structure=structure, role=Role.PHYSICIAN)
    return structure, user


def logged_in_client(user: User) -> Client:
    """The user with a confirmed TOTP device, second factor verified, charter accepted: the
    session a real login leaves, without the login's cost in the figures."""
    import time

    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from dcc.accounts.choices import LoginMethod
    from dcc.accounts.models import Charter, CharterAcceptance, Membership

    membership = Membership.objects.active().filter(user=user).select_related("structure").get()
    charter = Charter.objects.create(version=1, title="Charte", body="Secret médical.")
    CharterAcceptance.objects.create(user=user, charter=charter)
    device = TOTPDevice.objects.create(user=user, name="banc", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    now = int(time.time())
    session.update(
        {
            "dcc_auth_at": now,
            "dcc_seen_at": now,
            "dcc_login_method": LoginMethod.PASSWORD_TOTP,
            DEVICE_ID_SESSION_KEY: device.persistent_id,
            "dcc_charter": charter.version,
            "dcc_structure": str(membership.structure.uuid),
            "dcc_role": membership.role,
        }
    )
    session.save()
    return client
