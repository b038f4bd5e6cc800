"""``dcc bench patient-record`` at a tiny scale: the record page answers, its query count does
not depend on the patient, and every metric is reported in the documented shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.tests.test_harness import check_metric
from bench.tests.test_patient_search import run_scenario


@pytest.mark.django_db
def test_the_patient_record_benchmark_opens_records_with_a_fixed_query_count(
    tmp_path: Path,
) -> None:
    result, out = run_scenario(tmp_path, "patient-record", "--requests", "15")

    assert result["scenario"] == "patient-record"
    by_name = {m["name"]: m for m in result["metrics"]}
    assert set(by_name) == {
        "patients.record.median",
        "patients.record.p95",
        "patients.record.queries",
    }
    for metric in result["metrics"]:
        check_metric(metric)
        assert metric["name"] in out
    assert by_name["patients.record.p95"]["goal"]["limit"] == 25000
    assert (
        by_name["patients.record.queries"]["value"]
        >= by_name["patients.record.queries"]["baseline"]
    )
