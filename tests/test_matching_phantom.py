"""End to end on a phantom export: index -> (references) -> match -> volumes -> RadFinder JSON, scored
against the phantom's answer key (dataset.match_accuracy)."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

import data_contracts
from dataset import match_accuracy, matching

# under pytest-xdist (`make test`), this module's tests share one worker and its module-scoped fixtures
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("matching_phantom")]

N_STUDIES, SEED, MATRIX = 16, 3, 32


def _reports(ph) -> list[dict]:
    truth = pd.read_parquet(ph / "truth" / "truth_references.parquet")
    lang = truth.groupby("report_id").language.first().to_dict()
    rep = pd.read_csv(ph / "reports.csv", dtype=str, keep_default_na=False)
    return [dict(report_id=r.report_id, accession_number=r.accession_number, patient_id=r.patient_id,
                 study_date=pd.Timestamp(r.study_date).date(), language=lang.get(r.report_id, "en"), text=r.text,
                 text_sha256=hashlib.sha256(r.text.encode()).hexdigest()) for r in rep.itertuples()]


@pytest.fixture(scope="module")
def phantom(tmp_path_factory):
    from dataset.phantom import generate_export
    from flows.cli import main

    ph = tmp_path_factory.mktemp("phantom")
    generate_export(ph, N_STUDIES, SEED, matrix=MATRIX)
    data = ph / "data"
    assert main(["index", str(ph / "export"), "--out", str(data), "--workers", "1", "--no-progress"]) == 0
    truth = pd.read_parquet(ph / "truth" / "truth_references.parquet")
    # references straight from the answer key: measures matching alone, whatever the miner finds
    data_contracts.write_table("reports", _reports(ph), data)
    data_contracts.write_table("references", match_accuracy.references_from_truth(truth), data)
    assert main(["match", str(data)]) == 0
    return ph, data, truth


def test_phantom_accuracy(phantom):
    ph, data, truth = phantom
    res = match_accuracy.evaluate_dirs(ph / "truth", data)
    failures = res.pop("failures")
    print("phantom accuracy:", res)
    assert res["must_match"] >= 40 and res["must_reject"] >= 10
    assert res["not_found"] == 0
    assert res["match_rate"] >= 0.99, failures[:5]
    assert res["rejected_right"] == res["must_reject"], [f for f in failures if f["truth"]["expected_rejection"]][:5]


def test_one_outcome_per_reference(phantom):
    _, data, _ = phantom
    refs = data_contracts.read_table("references", data).to_pandas()
    pairs = data_contracts.read_table("snippet_slices", data).to_pandas()
    rej = data_contracts.read_table("rejections", data).to_pandas()
    keys = list(zip(pairs.report_id, pairs.ref_id)) + list(zip(rej.report_id, rej.ref_id))
    assert len(keys) == len(set(keys)) == len(refs)
    assert set(keys) == set(zip(refs.report_id, refs.ref_id))


def test_volumes_and_radfinder_json(phantom, tmp_path, monkeypatch):
    from flows.cli import main

    ph, data, _ = phantom
    assert main(["volumes", str(data), "--export", str(ph / "export"), "--spacing", "6,6,6"]) == 0
    vols = data_contracts.read_table("volumes", data).to_pandas()
    pairs = data_contracts.read_table("snippet_slices", data).to_pandas()
    series = data_contracts.read_table("series", data).to_pandas().set_index("series_instance_uid")
    assert set(pairs.volume_series_instance_uid) <= set(vols.series_instance_uid)
    assert vols.groupby("patient_id").split.nunique().max() == 1
    for v in vols.to_dict("records"):
        arr = np.load(data / v["array_path"], mmap_mode="r")
        assert arr.dtype == np.int16 and list(arr.shape) == list(v["shape"])
        a = np.asarray(v["affine"]).reshape(4, 4)
        assert a[2, 3] == pytest.approx(series.loc[v["series_instance_uid"], "z_max"], abs=1e-3)
        assert -1100 <= int(np.median(arr)) <= 200  # body and air in HU, not raw stored values
    # a referenced slice of the resampled volume: depth_mm / sz is its index
    p = pairs.iloc[0]
    v = vols.set_index("series_instance_uid").loc[p.volume_series_instance_uid]
    k = p.depth_mm / v["spacing_mm"][0]
    assert 0 <= k <= v["shape"][0] - 0.5

    out = tmp_path / "rf"
    reads, real = [], data_contracts.read_rows
    monkeypatch.setattr(data_contracts, "read_rows", lambda name, d, column, values, columns=None:
                        reads.append((name, column, set(values))) or real(name, d, column, values, columns))
    assert main(["export", "radfinder-json", str(data), "--out", str(out)]) == 0
    # of the index, only the referenced images are read
    assert reads == [("instances", "sop_instance_uid", set(pairs.referenced_sop_instance_uid))]
    index = json.loads((out / "index.json").read_text())
    assert set(index) == set(pairs.volume_series_instance_uid)
    n_snippets = 0
    for uid, info in index.items():
        doc = json.loads((out / info["file"]).read_text())
        for key, entry in doc.items():
            assert set(entry) == {"shape", "dcmaffine", "axcodes", "slice_axis", "en_cleanhist", "de_cleanhist"}
            assert entry["axcodes"] == "LPS" and entry["slice_axis"] == 2 and len(entry["shape"]) == 2
            m = np.asarray(entry["dcmaffine"])
            assert m.shape == (4, 4) and np.allclose(m[3], [0, 0, 0, 1])
            n_snippets += len(entry["en_cleanhist"]) + len(entry["de_cleanhist"])
    assert n_snippets >= len(pairs.drop_duplicates(["referenced_sop_instance_uid", "referenced_frame_number", "snippet"])) * 0.5


def test_reasons_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "dataset-matching.md").read_text()
    for reason in matching.REJECTION_REASONS:
        assert f"`{reason}`" in doc


def test_phantom_accuracy_with_mined_references(phantom, tmp_path):
    """Same score over the miner's references (`radmine mine-reports`), among the references it found."""
    import shutil

    from flows.cli import app, main

    if "mine-reports" not in {c.name for c in app.registered_commands}:
        pytest.skip("radmine mine-reports is not registered yet")
    ph, data, _ = phantom
    mined = tmp_path / "mined"
    mined.mkdir()
    for name in ("instances", "series"):
        shutil.copy(data / f"{name}.parquet", mined / f"{name}.parquet")
    assert main(["mine-reports", str(ph / "reports.csv"), "--out", str(mined)]) == 0
    assert main(["match", str(mined)]) == 0
    res = match_accuracy.evaluate_dirs(ph / "truth", mined)
    failures = res.pop("failures")
    print("phantom accuracy, mined references:", res)
    missed = sum(1 for f in failures if f["got"] == "no references row" and f["truth"]["expected_rejection"] is None)
    assert res["matched_right"] >= 0.99 * (res["must_match"] - missed), failures[:5]
    wrong_reject = [f for f in failures if f["truth"]["expected_rejection"] is not None and f["got"] != "no references row"
                    and f["got"] is not None]
    assert not wrong_reject, wrong_reject[:5]
