"""``dcc bench patient-record`` at a tiny scale: documents are loaded beside the population,
the record page lists 200 of them on the measured records in as many statements as 20, and
every metric is reported in the documented shape."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from bench import patient_record
from bench.tests.test_harness import check_metric
from bench.tests.test_patient_search import run_scenario


@pytest.mark.django_db
def test_the_patient_record_benchmark_opens_records_of_200_documents_in_fixed_statements(
    tmp_path: Path,
) -> None:
    result, out = run_scenario(tmp_path, "patient-record", "--requests", "15")

    assert result["scenario"] == "patient-record"
    by_name = {m["name"]: m for m in result["metrics"]}
    assert set(by_name) == {
        "patients.record.median",
        "patients.record.p95",
        "patients.record.few_documents.p95",
        "patients.record.queries",
    }
    for metric in result["metrics"]:
        check_metric(metric)
        assert metric["name"] in out
    assert by_name["patients.record.p95"]["goal"]["limit"] == 25000
    assert "200 documents" in by_name["patients.record.p95"]["note"]
    queries = by_name["patients.record.queries"]
    assert queries["goal"]["limit"] == 8
    assert queries["value"] >= queries["baseline"] - 1
    assert "1,500 patients, 15,000 document rows" in queries["note"]


def _people() -> patient_record._People:
    return patient_record._People(
        physicians=[(user, 100 + user // 2) for user in range(1, 9)],
        secretaries={100 + s: 50 + s for s in range(4)},
    )


@pytest.mark.parametrize("text", [True, False])
def test_the_document_rows_give_each_record_its_planned_documents(text: bool) -> None:
    probes, few = [11, 12, 13], [21, 22]
    patients = list(range(1, 1001))
    rows = [
        row
        for batch, blobs in patient_record.document_rows(
            10_000,
            probes=probes,
            few=few,
            patients=patients,
            people=_people(),
            first_document=1,
            first_blob=501,
            text=text,
        )
        for row in batch
    ]
    assert len(rows) == 10_000
    if text:
        rows = [
            tuple(None if v == "\\N" else v for v in line.rstrip("\n").split("\t")) for line in rows
        ]
    columns = patient_record._DOCUMENT_COLUMNS
    field = {name: i for i, name in enumerate(columns)}

    def listed(row: tuple[object, ...]) -> bool:
        return row[field["status"]] == "current" and row[field["confidentiality"]] in ("N", "R")

    per_patient = collections.Counter(int(r[field["patient_id"]]) for r in rows if listed(r))
    every = collections.Counter(int(r[field["patient_id"]]) for r in rows)
    for probe in probes:
        assert per_patient[probe] == patient_record.LISTED
        assert every[probe] > patient_record.LISTED  # and versions the page must skip
    for record in few:
        assert per_patient[record] == patient_record.FEW_LISTED
    # The measured records' documents are spread over the whole table.
    positions = [n for n, r in enumerate(rows) if int(r[field["patient_id"]]) == probes[0]]
    assert positions[0] < 1_000 and positions[-1] > 9_000
    # A second version follows its first one, which it replaces.
    for n, row in enumerate(rows):
        if int(row[field["version"]]) == 2:
            first = rows[n - 1]
            assert int(row[field["previous_id"]]) == int(first[field["id"]])
            assert first[field["status"]] == "replaced"
            assert first[field["set_id"]] == row[field["set_id"]]
    assert [int(r[field["blob_id"]]) for r in rows[:3]] == [501, 502, 503]
