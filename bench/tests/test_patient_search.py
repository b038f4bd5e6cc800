"""``dcc bench patient-search`` at a tiny scale: it runs under its hyphenated name, checks that
the ORM and the raw SQL find the same rows, and reports every metric in the documented shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.tests.test_harness import check_metric

ROOT = Path(__file__).resolve().parents[2]


def run_scenario(
    tmp_path: Path, name: str, *extra: str, scale: str = "1500"
) -> tuple[dict[str, Any], str]:
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
            name,
            "--scale",
            scale,
            "--repeat",
            "2",
            *extra,
            "--json",
            str(report),
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(report.read_text()), completed.stdout


@pytest.mark.django_db  # the throw-away database is created beside the test one
def test_the_patient_search_benchmark_reports_ins_name_and_ipp_searches(tmp_path: Path) -> None:
    result, out = run_scenario(tmp_path, "patient-search")

    assert result["scenario"] == "patient-search"
    names = {m["name"] for m in result["metrics"]}
    required = {
        f"patients.search.{kind}.{stat}"
        for kind in ("ins", "name", "ipp")
        for stat in ("median", "p95")
    } | {"patients.search.name.p95_vs_raw", "patients.search.queries"}
    by_length = {"patients.search.name_short.p95", "patients.search.name_long.p95"}
    few = "patients.search.name_few_visible.p95"  # the worst case: reported, no goal
    assert required <= names <= required | by_length | {few}
    assert few in names  # the synthetic region has structures that do not share
    for metric in result["metrics"]:
        check_metric(metric)
        assert metric["name"] in out
    by_name = {m["name"]: m for m in result["metrics"]}
    assert by_name["patients.search.ins.p95"]["goal"]["limit"] == 5000
    assert by_name["patients.search.name.p95"]["goal"]["limit"] == 20000
    assert by_name["patients.search.queries"]["value"] == 1
    assert by_name[few]["goal"] is None
    assert "sees" in by_name[few]["note"]
