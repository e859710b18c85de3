"""The phantom PACS export: real pydicom on the generated files, and the answer key checked
against the DICOM it describes."""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
from pydicom.errors import InvalidDicomError

from data_contracts.labels import CT_RATE_LABELS
from dataset.phantom import generate_export

# under pytest-xdist (`make test`), this module's tests share one worker and its module-scoped fixtures
pytestmark = pytest.mark.xdist_group("phantom")

N_STUDIES = 8
MATRIX = 32
SINGLE_FRAME_ATTRS = (
    "SOPInstanceUID", "SOPClassUID", "StudyInstanceUID", "SeriesInstanceUID", "AccessionNumber", "PatientID",
    "StudyDate", "SeriesNumber", "SeriesDescription", "InstanceNumber", "Modality", "ImageType",
    "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "SliceThickness", "Rows", "Columns",
    "RescaleSlope", "RescaleIntercept", "Manufacturer", "FrameOfReferenceUID",
)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    out = tmp_path_factory.mktemp("phantom")
    summary = generate_export(out, N_STUDIES, seed=1, matrix=MATRIX)
    return out, summary


@pytest.fixture(scope="module")
def truth(export):
    out, _ = export
    return {name: pd.read_parquet(out / "truth" / f"{name}.parquet")
            for name in ("truth_references", "truth_labels", "truth_findings", "truth_series", "truth_files")}


@pytest.fixture(scope="module")
def headers(export, truth):
    """Every readable DICOM header in the export (broken files listed in truth_files excluded)."""
    out, _ = export
    broken = set(truth["truth_files"].path)
    found = {}
    for p in sorted((out / "export").rglob("*")):
        if p.is_dir():
            continue
        rel = str(p.relative_to(out / "export"))
        if rel in broken:
            continue
        found[rel] = pydicom.dcmread(p, stop_before_pixels=True)
    return found


@pytest.fixture(scope="module")
def index(headers):
    """(study uid, series uid) -> {"number": SeriesNumber, "images": {image number: (ipp, iop)}, ...}."""
    idx: dict = defaultdict(lambda: {"images": {}})
    for ds in headers.values():
        s = idx[(ds.StudyInstanceUID, ds.SeriesInstanceUID)]
        s["number"] = int(ds.SeriesNumber)
        s["image_type"] = list(ds.ImageType)
        if "PerFrameFunctionalGroupsSequence" in ds:
            sh = ds.SharedFunctionalGroupsSequence[0]
            iop = [float(v) for v in sh.PlaneOrientationSequence[0].ImageOrientationPatient]
            s["spacing"] = float(sh.PixelMeasuresSequence[0].SpacingBetweenSlices)
            for f, item in enumerate(ds.PerFrameFunctionalGroupsSequence, 1):
                s["images"][f] = ([float(v) for v in item.PlanePositionSequence[0].ImagePositionPatient], iop)
        else:
            s["spacing"] = float(ds.get("SpacingBetweenSlices", ds.SliceThickness))
            ipp = [float(v) for v in ds.ImagePositionPatient] if "ImagePositionPatient" in ds else None
            s["images"][int(ds.InstanceNumber)] = (ipp, [float(v) for v in ds.ImageOrientationPatient])
    return dict(idx)


def _normal(iop):
    return np.cross(np.array(iop[:3]), np.array(iop[3:]))


def test_summary_and_layout(export):
    out, summary = export
    assert summary["n_studies"] == N_STUDIES
    assert (out / "reports.csv").exists() and (out / "reports.jsonl").exists()
    csv_reports = pd.read_csv(out / "reports.csv", dtype=str)
    jsonl_reports = [json.loads(line) for line in (out / "reports.jsonl").read_text().splitlines()]
    assert len(csv_reports) == len(jsonl_reports) == N_STUDIES
    assert list(csv_reports.text) == [r["text"] for r in jsonl_reports]
    assert set(csv_reports.columns) >= {"report_id", "accession_number", "patient_id", "study_date", "text"}


def test_single_frame_files_have_the_listed_attributes(headers, export):
    out, _ = export
    singles = [ds for ds in headers.values() if ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2"]
    assert len(singles) > 100
    for ds in singles:
        missing = [a for a in SINGLE_FRAME_ATTRS if a not in ds and not (a == "ImagePositionPatient" and ds.SeriesNumber == 999)]
        assert not missing, missing
        assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
        assert ds.Modality == "CT"
    # pixel data decode to HU through the rescale: air outside the body, tissue inside
    ds = pydicom.dcmread(next(p for p in sorted((out / "export").rglob("*")) if p.is_file()
                              and str(p.relative_to(out / "export")) in headers
                              and headers[str(p.relative_to(out / "export"))].get("ImageType", [""])[-1] == "AXIAL"
                              and headers[str(p.relative_to(out / "export"))].SOPClassUID.endswith(".2")))
    hu = ds.pixel_array.astype(float) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    assert ds.pixel_array.dtype == np.int16
    assert hu[0, 0] < -900 and hu.max() > 0


def test_series_kinds_per_study(headers, truth):
    ser = truth["truth_series"]
    assert set(ser.role) >= {"localizer", "ax5", "thin", "coronal"}
    for acc, g in ser.groupby("accession_number"):
        assert {"localizer", "ax5", "thin"} <= set(g.role)
    types = {tuple(ds.ImageType) for ds in headers.values()}
    assert ("ORIGINAL", "PRIMARY", "LOCALIZER") in types
    assert ("DERIVED", "SECONDARY", "REFORMATTED") in types
    thin = ser[ser.role == "thin"]
    assert thin.spacing_mm.between(1.0, 1.5).all()
    # series numbers vary across studies
    assert ser[ser.role == "ax5"].series_number.nunique() > 1


def test_multiframe_enhanced_ct_is_valid(export, headers):
    out, _ = export
    mf = [(rel, ds) for rel, ds in headers.items() if ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2.1"]
    assert mf, "no Enhanced CT multi-frame file"
    rel, hdr = mf[0]
    ds = pydicom.dcmread(out / "export" / rel)
    n = int(ds.NumberOfFrames)
    assert n > 50
    assert len(ds.PerFrameFunctionalGroupsSequence) == n
    sh = ds.SharedFunctionalGroupsSequence[0]
    assert [float(v) for v in sh.PlaneOrientationSequence[0].ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
    assert len(sh.PixelMeasuresSequence[0].PixelSpacing) == 2
    zs = [float(it.PlanePositionSequence[0].ImagePositionPatient[2]) for it in ds.PerFrameFunctionalGroupsSequence]
    assert len(set(np.sign(np.diff(zs)))) == 1  # monotonic
    assert [it.FrameContentSequence[0].InStackPositionNumber for it in ds.PerFrameFunctionalGroupsSequence] == list(range(1, n + 1))
    assert ds.pixel_array.shape == (n, ds.Rows, ds.Columns)


def test_gantry_tilt_present(headers):
    tilted = [ds for ds in headers.values() if "GantryDetectorTilt" in ds and float(ds.GantryDetectorTilt) != 0]
    assert tilted
    ds = tilted[0]
    t = np.deg2rad(float(ds.GantryDetectorTilt))
    iop = [float(v) for v in ds.ImageOrientationPatient]
    assert iop[4] == pytest.approx(np.cos(t), abs=1e-5) and iop[5] == pytest.approx(-np.sin(t), abs=1e-5)


def test_instance_number_direction_varies(index):
    signs = set()
    for key, s in index.items():
        imgs = {n: v for n, v in s["images"].items() if v[0] is not None}
        if len(imgs) < 10 or abs(_normal(next(iter(imgs.values()))[1])[2]) < 0.7:
            continue
        ns = sorted(imgs)
        signs.add(np.sign(imgs[ns[-1]][0][2] - imgs[ns[0]][0][2]))
    assert signs == {1.0, -1.0}


def test_naming_styles_vary(export, headers):
    rels = list(headers)
    assert any(r.endswith(".dcm") for r in rels) and any("." not in Path(r).name for r in rels)
    assert any(r.startswith("flat/") for r in rels) or any("/S0002/" in r for r in rels)
    assert len({len(Path(r).parts) for r in rels}) > 1


def test_broken_files_present_and_broken(export, truth):
    out, _ = export
    files = truth["truth_files"]
    assert {"truncated", "not_dicom", "zero_bytes", "missing_ipp"} <= set(files.kind)
    for rel, kind in zip(files.path, files.kind):
        p = out / "export" / rel
        assert p.exists()
        if kind == "zero_bytes":
            assert p.stat().st_size == 0
        elif kind == "not_dicom":
            with pytest.raises(InvalidDicomError):
                pydicom.dcmread(p)
        elif kind == "truncated":
            with pytest.raises(Exception):
                ds = pydicom.dcmread(p)
                ds.pixel_array  # noqa: B018 - reading must fail somewhere
        elif kind == "missing_ipp":
            ds = pydicom.dcmread(p)
            assert "ImagePositionPatient" not in ds and ds.Modality == "CT"


def test_reference_offsets_slice_the_text(export, truth):
    out, _ = export
    texts = {r["report_id"]: r["text"] for r in map(json.loads, (out / "reports.jsonl").read_text().splitlines())}
    refs = truth["truth_references"]
    assert len(refs) > 30
    for r in refs.itertuples():
        span = texts[r.report_id][r.ref_start:r.ref_end]
        assert span == r.ref_text
        assert span[0] not in "( ." and span[-1] not in ") .,"
    assert refs.form.nunique() >= 10
    assert (refs.language == "de").any()
    assert refs.image_number_end.notna().any()  # ranges
    assert refs.groupby(["report_id", "ref_start"]).size().max() > 1  # lists
    assert refs.ref_text.str.contains("\n").any() or len(refs) < 60


def test_labels_cover_every_report_and_label(truth):
    lab = truth["truth_labels"]
    assert set(lab.label) == set(CT_RATE_LABELS)
    assert (lab.groupby("report_id").size() == 18).all()
    assert set(lab.value) <= {"present", "absent", "uncertain", "not_mentioned"}
    present = lab[lab.value == "present"]
    fnd = truth["truth_findings"]
    for r in present.itertuples():
        assert ((fnd.report_id == r.report_id) & (fnd.label == r.label)).any(), (r.report_id, r.label)


def test_must_match_references_point_at_the_finding(truth, index):
    refs = truth["truth_references"]
    ok = refs[refs.expected_rejection.isna()]
    assert len(ok) > 20 and ok.is_prior.any()
    for r in ok.itertuples():
        s = index[(r.study_instance_uid, r.series_instance_uid)]
        if pd.notna(r.series_number):
            assert s["number"] == r.series_number
        else:  # "Section No: i/N" names the series by its image count
            assert r.form == "section_no" and len(s["images"]) == r.total_images
        p = np.array([r.x_mm, r.y_mm, r.z_mm])
        if pd.notna(r.image_number_end):
            (ipp_a, iop), (ipp_b, _) = s["images"][int(r.image_number)], s["images"][int(r.image_number_end)]
            ipp = (np.array(ipp_a) + np.array(ipp_b)) / 2
        else:
            ipp, iop = s["images"][int(r.image_number)]
        n = _normal(iop)
        assert abs(float(np.dot(p - np.array(ipp), n))) <= s["spacing"] / 2 + 1e-3, r
        if abs(n[2]) > 0.9999:  # untilted axial: the IPP z itself
            assert abs(float(ipp[2]) - r.z_mm) <= s["spacing"] / 2 + 1e-3


def test_must_reject_references_are_unmatchable(truth, index):
    refs = truth["truth_references"]
    rej = refs[refs.expected_rejection.notna()]
    assert {"prior_study_unavailable", "non_axial", "no_series"} <= set(rej.expected_rejection)
    studies = {k[0] for k in index}
    by_study = defaultdict(list)
    for (st, se), s in index.items():
        by_study[st].append(s)
    for r in rej.itertuples():
        why = r.expected_rejection
        if why == "prior_study_unavailable":
            assert r.is_prior and r.study_instance_uid not in studies
            continue
        s = index[(r.study_instance_uid, r.series_instance_uid)]
        if why == "image_out_of_range":
            assert int(r.image_number) > len(s["images"])
        elif why == "non_axial":
            iop = next(iter(s["images"].values()))[1]
            assert abs(_normal(iop)[2]) < 0.5
        elif why == "localizer":
            assert "LOCALIZER" in s["image_type"]
        elif why == "no_series":
            assert pd.isna(r.series_number)
        elif why == "ambiguous_series":
            same = [x for x in by_study[r.study_instance_uid]
                    if (pd.notna(r.series_number) and x["number"] == r.series_number)
                    or (pd.isna(r.series_number) and len(x["images"]) == r.total_images)]
            assert len(same) >= 2
        else:
            pytest.fail(f"unknown rejection {why}")


def test_findings_are_visible_in_the_pixels(export, truth, headers):
    """Large lung findings change the HU at the cited pixel (lung is about -850 HU)."""
    out, _ = export
    refs = truth["truth_references"]
    big = refs[refs.expected_rejection.isna() & refs.label.isin(["Consolidation", "Pleural effusion", "Lung opacity"])
               & refs.image_number_end.isna() & ~refs.is_prior]
    by_uid = defaultdict(dict)
    for rel, ds in headers.items():
        if "InstanceNumber" in ds and "PerFrameFunctionalGroupsSequence" not in ds:
            by_uid[ds.SeriesInstanceUID][int(ds.InstanceNumber)] = rel
    checked = 0
    for r in big.itertuples():
        rel = by_uid.get(r.series_instance_uid, {}).get(int(r.image_number))
        if rel is None:
            continue
        ds = pydicom.dcmread(out / "export" / rel)
        hu = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        ipp = np.array([float(v) for v in ds.ImagePositionPatient])
        iop = [float(v) for v in ds.ImageOrientationPatient]
        d = np.array([r.x_mm, r.y_mm, r.z_mm]) - ipp
        col = int(round(np.dot(d, iop[:3]) / float(ds.PixelSpacing[1])))
        row = int(round(np.dot(d, iop[3:]) / float(ds.PixelSpacing[0])))
        window = hu[max(0, row - 1):row + 2, max(0, col - 1):col + 2]
        assert window.max() > -650, (r.label, window)
        checked += 1
    if checked == 0:
        pytest.skip("no single-frame citation of a large lung finding in this export")


def test_same_seed_same_bytes(tmp_path):
    a = generate_export(tmp_path / "a", 2, seed=3, matrix=16)
    b = generate_export(tmp_path / "b", 2, seed=3, matrix=16)
    assert a["n_files"] == b["n_files"]

    def digest(root: Path) -> dict:
        return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file()}

    da, db = digest(tmp_path / "a"), digest(tmp_path / "b")
    assert da.keys() == db.keys()
    differing = [k for k in da if da[k] != db[k] and not k.endswith(".parquet")]
    assert not differing
    for name in ("truth_references", "truth_labels", "truth_findings"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a" / "truth" / f"{name}.parquet"),
                                      pd.read_parquet(tmp_path / "b" / "truth" / f"{name}.parquet"))
    c = generate_export(tmp_path / "c", 2, seed=4, matrix=16)
    assert (tmp_path / "c" / "reports.csv").read_text() != (tmp_path / "a" / "reports.csv").read_text()
    assert c["n_studies"] == 2


def test_cli_synth(tmp_path, capsys):
    from flows.cli import main

    assert main(["synth", "--out", str(tmp_path / "x"), "--studies", "1", "--seed", "2", "--matrix", "16"]) == 0
    assert "wrote 1 studies" in capsys.readouterr().out
    assert (tmp_path / "x" / "truth" / "truth_references.parquet").exists()
    assert main(["synth", "--out", str(tmp_path / "x"), "--studies", "1"]) == 1
    assert main(["synth", "--out", str(tmp_path / "y"), "--studies", "0"]) == 2


def test_without_thin_series(tmp_path):
    """`thin_series=False`: no 1-1.5 mm series is written or cited; the 5 mm axial series remains, untilted."""
    s = generate_export(tmp_path / "p", 3, seed=5, matrix=16, thin_series=False)
    ser = pd.read_parquet(tmp_path / "p" / "truth" / "truth_series.parquet")
    assert s["n_studies"] == 3 and "thin" not in set(ser.role) and (ser.role == "ax5").sum() == 3
    assert (ser.tilt_deg == 0).all()  # study 2 would be tilted: the 5 mm series has to serve as the training volume
    refs = pd.read_parquet(tmp_path / "p" / "truth" / "truth_references.parquet")
    assert set(refs.series_instance_uid.dropna()) <= set(ser.series_instance_uid) | set(
        refs[refs.expected_rejection == "prior_study_unavailable"].series_instance_uid)


def test_findings_keep_a_signal_on_the_tiny_models_6_mm_grid():
    """Emphysema lowers lung below -950 HU (the clinical LAA-950 index) and calcification puts >= 1,000 HU on the
    aorta, both still there after 6 mm block averaging (the e2e test's training grid); absent, neither is."""
    from dataset.phantom.anatomy import AnatomyParams, build_phantom
    from dataset.phantom.findings import plan_findings, render_findings

    def at_6mm(a):  # 3 mm phantom voxels -> 6 mm by averaging 2 x 2 x 2 blocks
        n = [s // 2 * 2 for s in a.shape]
        a = a[:n[0], :n[1], :n[2]].astype(np.float64)
        return a.reshape(n[0] // 2, 2, n[1] // 2, 2, n[2] // 2, 2).mean(axis=(1, 3, 5))

    for seed in range(3):
        params = AnatomyParams.draw(np.random.default_rng([seed, 0]))
        figures = {}
        for labels in ([], ["Emphysema", "Arterial wall calcification"]):
            ph = build_phantom(params)
            fs = plan_findings(np.random.default_rng([seed, 1]), params, labels)
            render_findings(ph, fs, np.random.default_rng([seed, 2]))
            hu, lung = at_6mm(ph.hu), at_6mm(ph.lung) > 0.5
            aorta = np.zeros(ph.hu.shape, bool)
            sl, d = ph.capsule([0.14 * params.a, 0.42 * params.b, -100], [0.14 * params.a, 0.42 * params.b, 40], 22)
            aorta[sl] = d <= 22
            figures[bool(labels)] = ((hu[lung] < -950).mean(), (hu[at_6mm(aorta) > 0.5] >= 1000).sum())
        (laa_without, calc_without), (laa_with, calc_with) = figures[False], figures[True]
        assert laa_without < 0.01 and laa_with > 0.10, (seed, figures)
        assert calc_without == 0 and calc_with >= 5, (seed, figures)
