"""End to end on a phantom export: the flow over the real libraries, checked against the answer key;
a nightly re-run after new studies arrive reads only them and equals a fresh full run."""
from __future__ import annotations

import json

import numpy as np
import pytest

import data_contracts as dc
from flows import pipeline as pl
from flows.testing import grow, split_phantom

# under pytest-xdist (`make test`), the Prefect tests share one worker: one harness and one server a run
pytestmark = pytest.mark.xdist_group("prefect")

TABLES = ("reports", "references", "labels", "snippet_labels", "instances", "index_errors", "series",
          "snippet_slices", "rejections", "volumes")


@pytest.fixture(scope="module")
def phantom(tmp_path_factory):
    from dataset.phantom import generate_export

    root = tmp_path_factory.mktemp("phantom")
    generate_export(root, 5, seed=11)
    return root


def params(base, data, **kw) -> dict:
    return {"export_dir": str(base / "export"), "reports": str(base / "reports.jsonl"), "data_dir": str(data),
            "keep_identifiers": True, "volumes": True, "report_batch_size": 2, "file_batch_size": 300, **kw}


@pytest.mark.slow
def test_flow_on_a_phantom_matches_the_answer_key_and_reruns_incrementally(phantom, tmp_path, prefect_harness):
    from dataset.match_accuracy import evaluate_dirs
    from flows.mine_flow import mine_export

    base, data = tmp_path / "nightly", tmp_path / "data"
    new = split_phantom(phantom, base, n_new=1)
    first = mine_export(**params(base, data))
    assert first["status"] == "completed", first
    assert first["counts"]["volumes_built"] == first["counts"]["volumes"] > 0

    grow(base, phantom)  # the export gained a study and its report
    second = mine_export(**params(base, data))
    c = second["counts"]
    assert c["reports_to_mine"] == 1 and c["reports_carried"] == 4, c
    assert 0 < c["files_to_index"] < c["files_carried"], c
    assert c["volumes_cached"] >= first["counts"]["volumes"] - 1, "unchanged series reuse their cached arrays"
    assert dc.query(data, f"SELECT count(*) AS n FROM reports WHERE accession_number = '{new[0]}'").to_pylist() == [{"n": 1}]

    # the answer key: every matchable reference the miner found is matched right, no wrong rejections
    res = evaluate_dirs(phantom / "truth", data)
    failures = res.pop("failures")
    missed = sum(1 for f in failures if f["got"] == "no references row" and f["truth"]["expected_rejection"] is None)
    assert res["matched_right"] >= 0.99 * (res["must_match"] - missed), failures[:5]
    wrong = [f for f in failures if f["truth"]["expected_rejection"] is not None and f["got"] not in (None, "no references row")]
    assert not wrong, wrong[:5]
    assert res["matched_right"] > 0

    # incremental == a fresh full run over the grown export (plain pipeline, same library functions)
    fresh = tmp_path / "fresh"
    pl.run_pipeline(pl.MineOptions(**params(base, fresh)))
    for t in TABLES:
        assert dc.read_table(t, data).equals(dc.read_table(t, fresh)), t
    assert second["counts"]["match_references_rematched"] < second["counts"]["tables"]["references"]

    # readers find the arrays of the current version where volumes.array_path says
    cur = dc.current_dir(data)
    for v in dc.read_table("volumes", data).to_pylist():
        arr = np.load(cur / v["array_path"], mmap_mode="r")
        assert list(arr.shape) == v["shape"]
    runs = dc.read_table("runs", data).to_pylist()
    assert [r["run_id"] for r in runs] == [first["run_id"], second["run_id"]]
    assert json.loads(runs[-1]["inputs"])["volumes"] is True
