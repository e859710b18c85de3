"""Training volumes: decoding (plain and compressed), HU, orientation, resampling, cache, split by patient."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pydicom.uid import JPEG2000Lossless, RLELossless

import data_contracts
from dataset import matching, splits, volumes
from test_matching_synth import SeriesSpec, StudySpec, hu_field, reference, report, write_export

# under pytest-xdist (`make test`), this module's tests share one worker and its module-scoped fixtures
pytestmark = pytest.mark.xdist_group("volumes")

STUDIES = [
    StudySpec("V1", "P1", date(2024, 1, 2), [SeriesSpec(3, "AX 2mm", n=24, spacing=2.0)]),
    StudySpec("V2", "P2", date(2024, 1, 3), [SeriesSpec(3, "AX 2mm rev", n=24, spacing=2.0, descending=True,
                                                        transfer_syntax=RLELossless)]),
    StudySpec("V3", "P3", date(2024, 1, 4), [SeriesSpec(3, "AX 2mm tilt", n=24, spacing=2.0, tilt_deg=12.0, matrix=32, pixel_mm=5.0,
                                                        transfer_syntax=JPEG2000Lossless)]),
    StudySpec("V4", "P4", date(2024, 1, 5), [SeriesSpec(3, "AX 2mm MF", n=24, spacing=2.0, multiframe=True)]),
    StudySpec("V5", "P1", date(2024, 2, 2), [SeriesSpec(3, "AX 2mm", n=12, spacing=2.0)]),
    StudySpec("V6", "P6", date(2024, 1, 6), [SeriesSpec(3, "AX 2mm broken", n=12, spacing=2.0)]),
]
SPACING = (4.0, 5.0, 3.0)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    data = tmp_path_factory.mktemp("data")
    inst, ser = write_export(root, STUDIES)
    broken = next(r for r in inst if r["accession_number"] == "V6")
    raw = (root / broken["path"]).read_bytes()
    (root / broken["path"]).write_bytes(raw[: len(raw) - 300])  # truncated pixel data
    data_contracts.write_table("instances", pa.Table.from_pylist(inst), data)
    data_contracts.write_table("series", pa.Table.from_pylist(ser), data)
    data_contracts.write_table("reports", [report("R1", "V1", "P1", date(2024, 1, 2))], data)
    data_contracts.write_table("references", [reference("R1", 0, 5, 3)], data)
    matching.run_match(data)
    counts = volumes.run_volumes(data, export=root, cfg=volumes.VolumeConfig(spacing_xyz=SPACING))
    vols = data_contracts.read_table("volumes", data).to_pandas()
    return root, data, counts, vols, pd.DataFrame(ser)


def _check_linear_field(data, row, src):
    """Every resampled voxel whose position lies within the source stack carries the linear HU field."""
    arr = np.load(data / row["array_path"])
    assert arr.dtype == np.int16 and list(arr.shape) == list(row["shape"])
    a = np.asarray(row["affine"]).reshape(4, 4)
    d, h, w = arr.shape
    k, j, i = np.meshgrid(np.arange(d), np.arange(h), np.arange(w), indexing="ij")
    world = np.stack([i, j, k, np.ones_like(i)], -1).reshape(-1, 4) @ a.T
    s_aff = np.asarray(src["affine"]).reshape(4, 4)
    sv = (world @ np.linalg.inv(s_aff).T)[:, :3]
    limit = np.array([src["columns"] - 1, src["rows"] - 1, src["n_images"] - 1]) + 1e-6
    inside = np.all((sv >= -1e-6) & (sv <= limit), axis=1)
    assert inside.mean() > 0.5
    err = np.abs(arr.reshape(-1)[inside] - hu_field(world[inside, :3]))
    assert err.max() <= 1.0, err.max()  # rounding of the stored HU and of the resampled value
    assert np.all(arr.reshape(-1)[~np.any(np.abs(sv - np.clip(sv, 0, limit)) > 1.0, axis=1) & ~inside] >= volumes.FILL_HU)
    return arr, a


def test_progress_bar_counts_the_volumes_on_stderr(built, tmp_path, capsys):
    import shutil

    root, data, counts, _, _ = built
    shutil.copytree(data, tmp_path / "d")
    capsys.readouterr()
    again = volumes.run_volumes(tmp_path / "d", export=root, cfg=volumes.VolumeConfig(spacing_xyz=SPACING), progress=True)
    out, err = capsys.readouterr()
    assert again == counts
    n = counts["volumes"] + counts["decode_errors"]
    assert "building volumes" in err and f"{n}/{n}" in err and "volumes/s" in err
    assert out == "", "stdout stays for the command's own output"


def test_volumes_stream_the_index_one_series_at_a_time(built, tmp_path, monkeypatch):
    """`radmine volumes` never holds the whole instances table: one pass over it, sorted by series, hands
    `build_volumes` one series' images at a time; the volumes are those built from the whole table."""
    import shutil

    root, data, counts, _, _ = built
    shutil.copytree(data, tmp_path / "d")
    streams, real = [], data_contracts.rows_by_key

    def recorded(name, data_dir, column, values, columns=None, batch_rows=65536):
        streams.append((name, column, sorted(set(values))))
        return real(name, data_dir, column, values, columns, batch_rows=5)  # batches cut through every series

    monkeypatch.setattr(data_contracts, "rows_by_key", recorded)
    assert volumes.run_volumes(tmp_path / "d", export=root, cfg=volumes.VolumeConfig(spacing_xyz=SPACING)) == counts
    assert [(name, column) for name, column, _ in streams] == [("instances", "series_instance_uid")]
    assert len(streams[0][2]) == counts["volumes"] + counts["decode_errors"]
    again = data_contracts.read_table("volumes", tmp_path / "d").to_pylist()
    assert again == data_contracts.read_table("volumes", data).to_pylist() and len(again) == counts["volumes"]
    for row in again:
        assert np.array_equal(np.load(tmp_path / "d" / row["array_path"]), np.load(data / row["array_path"]))


def test_build_volumes_takes_the_series_images_as_a_stream_in_uid_order(built, tmp_path):
    """A stream that lacks a series (or holds one not asked for) builds the others: the missing one gets no volume."""
    root, data, _, vols, ser = built
    inst = data_contracts.read_table("instances", data).to_pandas()
    uids = sorted(vols.series_instance_uid)[:3]
    extra = sorted(set(inst.series_instance_uid) - set(uids))[:1]
    stream = [(u, g) for u, g in sorted(inst.groupby("series_instance_uid")) if u in uids[::2] or u in extra]
    cfg = volumes.VolumeConfig(spacing_xyz=SPACING)
    got = volumes.build_volumes(tmp_path, root, ser, iter(stream), uids, cfg)
    want = volumes.build_volumes(tmp_path / "whole", root, ser, inst, uids[::2], cfg)
    assert [r["series_instance_uid"] for r in got.rows] == uids[::2] and got.rows == want.rows


def test_every_volume_in_lps_display_convention(built):
    _, data, counts, vols, ser = built
    assert counts["volumes"] == 5 and counts["decode_errors"] == 1
    src = ser.set_index("series_instance_uid")
    for row in vols.to_dict("records"):
        arr, a = _check_linear_field(data, row, src.loc[row["series_instance_uid"]])
        assert a[0, 0] > 0 and a[1, 1] > 0 and a[2, 2] < 0  # columns R->L, rows A->P, slice 0 superior
        assert list(row["spacing_mm"]) == [SPACING[2], SPACING[1], SPACING[0]]
        assert row["array_path"].startswith("volumes/") and row["array_path"].endswith(".npy")
    far = np.load(data / vols.array_path.iloc[0])
    assert far.min() >= volumes.FILL_HU


def test_untilted_volume_starts_at_most_superior_slice(built):
    _, data, _, vols, ser = built
    uid = ser.loc[ser.accession_number == "V1", "series_instance_uid"].item()
    row = vols.set_index("series_instance_uid").loc[uid]
    a = np.asarray(row["affine"]).reshape(4, 4)
    assert a[2, 3] == pytest.approx(50.0)  # z_top of the source
    assert row["shape"][0] == int((24 - 1) * 2.0 // 3.0) + 1
    pair = data_contracts.read_table("snippet_slices", data).to_pylist()[0]
    k = pair["depth_mm"] / SPACING[2]
    assert a[2, 3] + a[2, 2] * k == pytest.approx(pair["z_mm"])


def test_decode_failure_is_an_index_error_not_a_crash(built):
    _, data, _, vols, ser = built
    errs = data_contracts.read_table("index_errors", data).to_pylist()
    assert len(errs) == 1 and errs[0]["error_kind"] == "decode_error" and errs[0]["path"].startswith("V6/")
    bad = ser.loc[ser.accession_number == "V6", "series_instance_uid"].item()
    assert bad not in set(vols.series_instance_uid)


def test_split_by_patient(built):
    _, _, _, vols, _ = built
    assert vols.groupby("patient_id").split.nunique().max() == 1
    ids = [f"patient-{i}" for i in range(2000)]
    got = [splits.split_for_patient(p) for p in ids]
    assert got == [splits.split_for_patient(p) for p in ids]  # deterministic
    frac = {s: got.count(s) / len(got) for s in splits.SPLITS}
    assert abs(frac["train"] - 0.70) < 0.04 and abs(frac["val"] - 0.15) < 0.03
    assert {splits.split_for_patient(p, (1, 0, 0)) for p in ids[:50]} == {"train"}
    assert splits.parse_fractions("80,10,10") == (80.0, 10.0, 10.0)


def test_export_root_is_remembered(built, tmp_path):
    root, data, _, _, _ = built
    assert volumes.export_root(data) == root.resolve()
    with pytest.raises(FileNotFoundError, match="--export"):
        volumes.export_root(tmp_path)


def test_resample_identity_grid():
    a = np.array([[1.5, 0, 0, -10], [0, 1.5, 0, -20], [0, 0, -3, 30], [0, 0, 0, 1.0]])
    hu = np.random.default_rng(0).integers(-1000, 1000, size=(5, 7, 9)).astype(np.float32)
    out, b = volumes.resample(hu, a, (1.5, 1.5, 3.0), slab=2)
    assert np.array_equal(b, a) and np.array_equal(out, hu.astype(np.int16))
