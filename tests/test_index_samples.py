"""The indexer on the real CT files of ../shared/dicom-samples (see its README for the edge cases)."""
from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import data_contracts as dc
from dataset.dicom_headers import FastReaderDeclined, HeaderError, read_header_fast, read_header_pydicom
from dataset.geometry import affine_matrix
from dataset.index import index_export
from tests.test_index import rows_or_error

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO.parent / "shared" / "dicom-samples"
# under pytest-xdist (`make test`), this module's tests share one worker and its module-scoped fixtures
pytestmark = [pytest.mark.skipif(
    not (SAMPLES / "README.md").is_file(),
    reason=f"real DICOM samples not found at {SAMPLES} (a checkout of the shared data beside the repo)",
), pytest.mark.xdist_group("index_samples")]

GE = "neurolabusc+dcm_qa_ct__GE_tilt18.5_variable_spacing"
PHILIPS = "neurolabusc+dcm_qa_ct__Philips_S2010_brain_5mm_axial"
SCOUT = "neurolabusc+dcm_qa_ct__Philips_S1000_localizer"
SC = "neurolabusc+dcm_qa_ct__Philips_S4010_exam_summary_SC"
ECT = "pydicom+pydicom-data__eCT_Supplemental_enhanced_CT"
DIRTESTS = "pydicom+pydicom__dicomdirtests_CT_16x16"
DUP = "pydicom+pydicom-data__693_duplicate_instance_multi_TS"
BADSEQ = "pydicom+pydicom-data__bad_sequence_jpegLL"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    root = tmp_path_factory.mktemp("samples")
    export = root / "export"
    shutil.copytree(SAMPLES, export)  # read-only source: index a copy
    for dirpath, _, files in os.walk(export):
        os.chmod(dirpath, 0o755)
        for f in files:
            os.chmod(os.path.join(dirpath, f), 0o644)
    data = root / "data"
    summary = index_export(export, data, workers=2, progress=False)
    inst = dc.read_table("instances", data).to_pylist()
    series = dc.read_table("series", data).to_pylist()
    errors = dc.read_table("index_errors", data).to_pylist()
    return {"export": export, "data": data, "summary": summary, "instances": inst, "series": series, "errors": errors}


def rows_under(ix, folder):
    return [r for r in ix["instances"] if r["path"].startswith(folder + "/")]


def series_of(ix, folder):
    uids = {r["series_instance_uid"] for r in rows_under(ix, folder)}
    return [s for s in ix["series"] if s["series_instance_uid"] in uids]


def test_every_file_is_accounted_for(indexed):
    files = sum(len(f) for _, _, f in os.walk(indexed["export"]))
    paths = {r["path"] for r in indexed["instances"]} | {e["path"] for e in indexed["errors"]}
    assert len(paths) == files == indexed["summary"]["files"]
    kinds = {e["path"]: e["error_kind"] for e in indexed["errors"]}
    assert kinds.pop("README.md") == "not_dicom"
    assert set(kinds.values()) == {"directory_object"}  # 3 Philips DIRFILEs and one DICOMDIR, nothing else
    assert sorted(p.rsplit("/", 1)[1] for p in kinds) == ["DICOMDIR", "DIRFILE", "DIRFILE", "DIRFILE"]


def test_ge_gantry_tilt_and_variable_spacing(indexed):
    (s,) = series_of(indexed, GE)
    assert s["geometry"] == "axial" and s["n_images"] == 28
    assert s["tilt_deg"] == pytest.approx(18.5, abs=0.05)  # from the geometry; the header says +18.5 too
    assert not s["spacing_uniform"]
    rows = rows_under(indexed, GE)
    assert {r["slice_thickness"] for r in rows} == {4.0, 7.0} and {r["gantry_tilt"] for r in rows} == {18.5}
    # spacing along the normal runs from 1.08 to 7.0 mm
    n = np.cross(rows[0]["orientation"][:3], rows[0]["orientation"][3:])
    d = np.sort([np.dot(n, [r["position_x"], r["position_y"], r["position_z"]]) for r in rows])
    gaps = np.diff(d)
    assert gaps.min() == pytest.approx(1.08, abs=0.01) and gaps.max() == pytest.approx(7.0, abs=0.01)
    # positions, not SliceLocation: z from ImagePositionPatient
    assert s["z_min"] == pytest.approx(5.8360586) and s["z_max"] == pytest.approx(157.7760586)
    a = affine_matrix(s["affine"])
    assert np.allclose(a[:3, 3], [-125.0, -123.5404569, 157.7760586])  # k = 0: most superior slice


def test_philips_axial_without_extensions(indexed):
    (s,) = series_of(indexed, PHILIPS)
    rows = rows_under(indexed, PHILIPS)
    assert len(rows) == 28 and all("." not in r["path"].rsplit("/", 1)[1] for r in rows)
    assert s["geometry"] == "axial" and s["spacing_mm"] == pytest.approx(5.0) and s["spacing_uniform"] and not s["has_gaps"]
    assert s["z_min"] == pytest.approx(696.21) and s["z_max"] == pytest.approx(831.21)
    assert s["instance_order"] == "feet_to_head"  # InstanceNumber 1 is the lowest z
    # name order (I10, I100, I110, ...) is not InstanceNumber order; k order comes from positions
    by_path = sorted(rows, key=lambda r: r["path"])
    assert [r["instance_number"] for r in by_path][:3] == [1, 10, 11]
    a = affine_matrix(s["affine"])
    assert a[2, 3] == pytest.approx(831.21) and a[2, 2] == pytest.approx(-5.0)


def test_philips_localizer(indexed):
    (s,) = series_of(indexed, SCOUT)
    (r,) = rows_under(indexed, SCOUT)
    assert s["geometry"] == "localizer" and r["image_type"] == "ORIGINAL\\PRIMARY\\LOCALIZER"
    assert r["orientation"] == [0, 1, 0, 0, 0, -1] and (r["rows"], r["columns"]) == (256, 512)  # sagittal scout
    (axial,) = series_of(indexed, PHILIPS)
    assert s["z_min"] > axial["z_max"]  # outside the axial z range


def test_exam_summary_secondary_capture(indexed):
    rows = rows_under(indexed, SC)
    assert len(rows) == 6 and {r["sop_class_uid"] for r in rows} == {"1.2.840.10008.5.1.4.1.1.7"}
    no_geo = [r for r in rows if r["position_z"] is None]
    assert len(no_geo) == 3 and all(r["orientation"] is None and r["pixel_spacing"] is None for r in no_geo)
    (s,) = series_of(indexed, SC)
    assert s["geometry"] == "not_a_volume" and s["affine"] is None


def test_enhanced_ct_frames(indexed):
    rows = sorted(rows_under(indexed, ECT), key=lambda r: r["frame_number"])
    assert [r["frame_number"] for r in rows] == [1, 2] and all(r["number_of_frames"] == 2 for r in rows)
    # positions only in the per-frame groups; item order (DimensionIndexValues run the other way)
    assert [r["position_z"] for r in rows] == [-159.0, -149.0]
    assert all(r["orientation"] == [-1, 0, 0, 0, 1, 0] for r in rows)  # shared group
    assert all(r["pixel_spacing"] == [0.388672, 0.388672] and r["slice_thickness"] == 10.0 for r in rows)
    assert all(r["rescale_intercept"] == -1024 for r in rows)
    (s,) = series_of(indexed, ECT)
    assert s["geometry"] == "axial" and s["spacing_mm"] == 10.0 and s["instance_order"] == "feet_to_head"


def test_enhanced_ct_dimension_index_runs_the_other_way():
    import pydicom

    (f,) = (SAMPLES / ECT).rglob("*.dcm")
    ds = pydicom.dcmread(f, stop_before_pixels=True)
    dims = [list(it.FrameContentSequence[0].DimensionIndexValues) for it in ds.PerFrameFunctionalGroupsSequence]
    assert dims == [[1, 2], [1, 1]]  # why we keep item order


def test_dicomdir_tests(indexed):
    by_desc = {s["series_description"]: s for s in series_of(indexed, DIRTESTS)}
    brain = by_desc["Routine Brain"]
    assert brain["has_gaps"] and brain["geometry"] == "axial"
    inst = sorted(r["instance_number"] for r in rows_under(indexed, DIRTESTS) if r["series_instance_uid"] == brain["series_instance_uid"])
    assert inst == [18, 180, 181, 182]
    scout = by_desc["Scout"]
    assert scout["geometry"] == "localizer" and scout["affine"] is None  # one sagittal and one coronal image
    gated = by_desc["SmartScore - Gated 0.5 sec"]
    assert gated["instance_order"] == "head_to_feet"  # z falls as InstanceNumber grows
    assert gated["spacing_mm"] == pytest.approx(2.5) and gated["spacing_uniform"]


def test_duplicates_and_transfer_syntaxes(indexed):
    rows = rows_under(indexed, DUP)
    assert len(rows) == 3
    assert {r["transfer_syntax_uid"] for r in rows} == {"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.1"}
    (s,) = series_of(indexed, DUP)
    assert s["n_duplicate_sops"] == 2 and s["n_duplicate_positions"] == 3 and s["geometry"] == "not_a_volume"


def test_bad_sequence_file_is_indexed_like_pydicom_reads_it(indexed):
    (r,) = rows_under(indexed, BADSEQ)
    assert r["position_z"] == 1687.5 and r["transfer_syntax_uid"] == "1.2.840.10008.1.2.4.70"
    assert len(r["series_instance_uid"]) == 64  # not a valid UI value, kept as written


def sample_files():
    return sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.name != "README.md") if SAMPLES.is_dir() else []


@pytest.mark.parametrize("path", sample_files(), ids=lambda p: str(p.relative_to(SAMPLES))[-60:])
def test_fast_reader_equals_pydicom_on_every_sample(path):
    assert rows_or_error(read_header_fast, path) == rows_or_error(read_header_pydicom, path)


def test_fast_reader_handles_every_sample_itself():
    handled = declined = 0
    for p in sample_files():
        try:
            read_header_fast(str(p), fallback=False)
            handled += 1
        except FastReaderDeclined:
            declined += 1
        except HeaderError:
            handled += 1
    assert declined == 0 and handled == len(sample_files())  # the Enhanced CT's functional groups too


def test_rerun_reads_nothing_and_changes_nothing(indexed):
    before = {n: dc.read_table(n, indexed["data"]).sort_by([("path", "ascending")] if n != "series" else [("series_instance_uid", "ascending")]) for n in ("instances", "index_errors", "series")}
    s = index_export(indexed["export"], indexed["data"], workers=1, progress=False)
    assert s["files_read"] == 0 and s["files_reused"] == indexed["summary"]["files"]
    for n, t in before.items():
        key = [("path", "ascending")] if n != "series" else [("series_instance_uid", "ascending")]
        if n == "instances":
            key.append(("frame_number", "ascending"))
            t = t.sort_by(key)
        assert dc.read_table(n, indexed["data"]).sort_by(key).equals(t), n
    assert not math.isnan(s["seconds"])
