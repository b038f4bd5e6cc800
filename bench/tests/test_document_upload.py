"""``dcc bench document-upload`` at a tiny scale: uploads of every size go through the real add
view and are recorded, the raw baselines run beside them, memory is measured, and every metric
is reported in the documented shape."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import document_upload
from bench.tests.test_harness import check_metric
from bench.tests.test_patient_search import run_scenario
from dcc.documents.inspection import inspect_bytes


@pytest.mark.parametrize("size", [4096, 1 << 20, 3 * (1 << 20) + 12345])
def test_the_generated_scan_is_an_accepted_pdf_of_the_exact_size(size: int) -> None:
    body = document_upload.PieceStream(document_upload.pdf_pieces(size, tag=size))
    data = b"".join(body.chunks(65536))
    assert len(data) == body.size == size
    assert inspect_bytes(data).kind == "pdf"
    offsets = [int(m.group(1)) for m in re.finditer(rb"(\d{10}) 00000 n", data)]
    assert offsets and all(re.match(rb"\d+ 0 obj", data[o : o + 12]) for o in offsets)


@pytest.mark.django_db  # the throw-away database is created beside the test one
def test_the_upload_benchmark_reports_throughput_beside_the_raw_disk_and_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A 6 MiB limit: 1 and 5 MiB uploads, uploads at the limit, a "large" one of 7 MiB.
    monkeypatch.setenv("DCC_DOCUMENT_MAX_BYTES", str(6 << 20))
    result, out = run_scenario(tmp_path, "document-upload", "--requests", "5", scale="7")

    assert result["scenario"] == "document-upload"
    by_name = {m["name"]: m for m in result["metrics"]}
    sizes = ("1mib", "5mib", "limit", "large")
    assert set(by_name) == (
        {f"documents.upload.{s}" for s in sizes}
        | {f"documents.upload.{s}.vs_pipeline" for s in sizes}
        | {f"documents.upload.{s}.vs_disk" for s in sizes[:-1]}
        | {
            "documents.upload.1mib.rate",
            "documents.upload.large.crypto",
            "documents.upload.large.rss_growth",
            "documents.upload.large.python_peak",
        }
    )
    for metric in result["metrics"]:
        check_metric(metric)
        assert metric["name"] in out
    ratio = {"on": "ratio", "bound": "min", "limit": 0.4, "text": "ratio ≥ 0.4"}
    assert by_name["documents.upload.large"]["goal"] == ratio
    for size in sizes[:-1]:
        assert by_name[f"documents.upload.{size}"]["unit"] == "MB/s"
        beside_disk = by_name[f"documents.upload.{size}.vs_disk"]
        assert beside_disk["goal"] == ratio
        # The smaller sizes are compared with the large raw write, from the same run.
        assert beside_disk["baseline"] == by_name["documents.upload.large"]["baseline"]
        assert beside_disk["value"] == by_name[f"documents.upload.{size}"]["value"]
    assert by_name["documents.upload.5mib"]["goal"]["text"] == "value ≥ 150"
    assert by_name["documents.upload.1mib"]["goal"] is None
    assert by_name["documents.upload.1mib"]["samples"] == 10  # 5 uploads × 2 rounds
    assert by_name["documents.upload.large"]["samples"] == 2
    assert by_name["documents.upload.large.rss_growth"]["baseline"] == 7  # the file, in MiB
    assert by_name["documents.upload.large.python_peak"]["goal"]["limit"] == 8
    assert "6 MiB (the size limit)" in by_name["documents.upload.large.python_peak"]["note"]
    assert not (tmp_path / "data" / "documents").exists()  # never the configured store
