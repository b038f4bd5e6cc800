"""``dcc bench audit`` at a tiny scale: it runs, reports every metric in the documented JSON
shape, and leaves no database behind."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import django
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
METRICS = {
    "audit.page.median",
    "audit.page.p95",
    "audit.page.worker_seal.median",
    "audit.page.worker_seal.p95",
    "audit.page.coalesced_seal.median",
    "audit.page.coalesced_seal.p95",
    "audit.page.queries",
    "audit.verify.rate",
    "audit.seal.rate",
}


def run_bench(tmp_path: Path, *extra: str) -> tuple[dict[str, Any], str, str]:
    report = tmp_path / "report.json"
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DCC_DATA_DIR": str(tmp_path / "data"),
    }
    completed = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "bench",
            "audit",
            "--scale",
            "300",
            "--requests",
            "30",
            "--repeat",
            "2",
            "--json",
            str(report),
            *extra,
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(report.read_text()), completed.stdout, completed.stderr


def check_metric(metric: dict[str, Any]) -> None:
    assert set(metric) >= {"name", "value", "unit", "baseline", "ratio", "goal", "met"}
    assert isinstance(metric["value"], int | float) and metric["value"] > 0, metric
    assert isinstance(metric["baseline"], int | float) and metric["baseline"] > 0, metric
    assert math.isclose(metric["ratio"], metric["value"] / metric["baseline"], rel_tol=1e-9)
    assert metric["unit"] in {"µs", "events/s", "queries", "MB/s", "docs/s", "MiB"}
    goal = metric["goal"]
    if goal is None:
        assert metric["met"] is None
        return
    measured = {
        "value": metric["value"],
        "ratio": metric["ratio"],
        "difference": metric["value"] - metric["baseline"],
    }[goal["on"]]
    expected = measured <= goal["limit"] if goal["bound"] == "max" else measured >= goal["limit"]
    assert metric["met"] is expected, metric


@pytest.mark.django_db  # only to look the throw-away database up in PostgreSQL's catalogue
def test_the_audit_benchmark_reports_every_metric_and_drops_its_database(tmp_path: Path) -> None:
    result, out, err = run_bench(tmp_path)

    assert result["scenario"] == "audit"
    assert result["options"] == {"scale": 300, "repeat": 2, "requests": 30}
    machine = result["machine"]
    assert isinstance(machine["nproc"], int) and machine["nproc"] >= 1
    assert machine["cpu_model"] and machine["db_version"]
    assert machine["django"] == django.get_version()
    assert machine["python"] == ".".join(map(str, sys.version_info[:3]))
    assert machine["db_vendor"] == connection.vendor

    assert {m["name"] for m in result["metrics"]} == METRICS
    for metric in result["metrics"]:
        check_metric(metric)
        assert metric["name"] in out  # the printed table
    by_name = {m["name"]: m for m in result["metrics"]}
    assert by_name["audit.page.queries"]["value"] > by_name["audit.page.queries"]["baseline"]
    assert by_name["audit.verify.rate"]["goal"]["limit"] == 50_000

    # The configured database was never opened, and the throw-away one is gone.
    assert not (tmp_path / "data" / "dcc.sqlite3").exists()
    match = re.search(r"Base jetable : (\S+)", err)
    assert match is not None, err
    if connection.vendor == "sqlite":
        assert not Path(match.group(1)).exists()
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [match.group(1)])
            assert cursor.fetchone() is None


@pytest.mark.django_db
def test_the_benchmark_keeps_its_database_when_asked(tmp_path: Path) -> None:
    _result, _out, err = run_bench(tmp_path, "--keep-database")

    match = re.search(r"Base jetable : (\S+)", err)
    assert match is not None, err
    kept = match.group(1)
    if connection.vendor == "sqlite":
        assert Path(kept).exists()
        shutil.rmtree(Path(kept).parent)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [kept])
        assert cursor.fetchone() is not None
    with connection._nodb_cursor() as cursor:  # outside any transaction
        cursor.execute(f'DROP DATABASE "{kept}"')


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nosuch"], "Scénario inconnu 'nosuch' ; disponibles : audit."),
        (["audit", "--repeat", "0"], "--repeat doit être un entier positif."),
    ],
)
def test_the_benchmark_refuses_an_unknown_scenario_or_a_bad_count(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    completed = subprocess.run(
        [sys.executable, "manage.py", "bench", *arguments],
        cwd=ROOT,
        env=os.environ
        | {"DJANGO_SETTINGS_MODULE": "config.settings_test", "DCC_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 1
    assert (
        "CommandError" in completed.stderr
        or "Scénario inconnu" in completed.stderr
        or ("--repeat" in completed.stderr)
    )
    assert not (tmp_path / "dcc.sqlite3").exists()
