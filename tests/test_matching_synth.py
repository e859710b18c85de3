"""A tiny hand-built export for the matching/volume tests: DICOM files written with pydicom plus the
`instances` and `series` rows the indexer would publish for them (test scaffolding, not an indexer).

Pixel values follow a linear HU field, HU = 2*x + 3*y + z (LPS mm), which trilinear resampling
reproduces exactly, so any voxel of a resampled volume can be checked against its world position.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pytest


def hu_field(p: np.ndarray) -> np.ndarray:
    return 2.0 * p[..., 0] + 3.0 * p[..., 1] + p[..., 2]


def _uid(*parts) -> str:
    return "1.2.826.0.1.3680043.8.498." + str(int(hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()[:20], 16))


@dataclass
class SeriesSpec:
    number: int
    description: str
    kind: str = "axial"  # axial | coronal | localizer | sc
    n: int = 20
    spacing: float = 5.0
    z_top: float = 50.0
    tilt_deg: float = 0.0
    matrix: int = 16
    pixel_mm: float = 10.0
    descending: bool = False  # image 1 is the most inferior slice
    multiframe: bool = False
    transfer_syntax: str | None = None  # None: explicit VR little endian
    extra_gap_after: int | None = None


@dataclass
class StudySpec:
    accession: str
    patient: str
    study_date: date
    series: list[SeriesSpec] = field(default_factory=list)


def _plane_dirs(spec: SeriesSpec):
    if spec.kind in ("axial", "sc"):
        t = np.deg2rad(spec.tilt_deg)
        row = np.array([1.0, 0.0, 0.0])
        col = np.array([0.0, np.cos(t), -np.sin(t)])
        return row, col, np.cross(row, col)  # normal points up (+z) for tilt 0
    if spec.kind == "coronal":
        return np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, -1.0]), np.array([0.0, -1.0, 0.0])
    return np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, -1.0]), np.array([1.0, 0.0, 0.0])  # sagittal scout


def _slices(spec: SeriesSpec):
    """(position, row_dir, col_dir) per slice k from most superior/anterior first."""
    row, col, normal = _plane_dirs(spec)
    half = (spec.matrix - 1) / 2.0 * spec.pixel_mm
    out = []
    offset = 0.0
    for k in range(spec.n):
        if spec.kind in ("axial", "sc"):
            centre = np.array([0.0, 0.0, spec.z_top]) - (k * spec.spacing + offset) * normal
        elif spec.kind == "coronal":
            centre = np.array([0.0, -40.0 + k * spec.spacing, spec.z_top - half])
        else:
            centre = np.array([0.0, 0.0, spec.z_top - half])
        out.append(centre - half * row - half * col)
        if spec.extra_gap_after is not None and k == spec.extra_gap_after:
            offset += 3 * spec.spacing
    return out, row, col


def write_export(root: Path, studies: list[StudySpec]) -> tuple[list[dict], list[dict]]:
    """Write the studies as DICOM under root; return (instances rows, series rows)."""
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, SecondaryCaptureImageStorage

    instances, series_rows = [], []
    for st in studies:
        study_uid = _uid(st.accession, "study")
        for sp in st.series:
            series_uid = _uid(st.accession, sp.number, sp.description)
            positions, row, col = _slices(sp)
            ii, jj = np.meshgrid(np.arange(sp.matrix), np.arange(sp.matrix), indexing="xy")  # ii: column, jj: row
            frames, rows_out = [], []
            numbers = [sp.n - k if sp.descending else k + 1 for k in range(sp.n)]
            for k, pos in enumerate(positions):
                pts = pos[None, None, :] + ii[..., None] * sp.pixel_mm * row + jj[..., None] * sp.pixel_mm * col
                hu = np.rint(hu_field(pts)).astype(np.int32)
                frames.append((hu + 1024).astype(np.uint16))
                sop = _uid(series_uid, k)
                rel = f"{st.accession}/S{sp.number}_{sp.description.replace(' ', '_')}/IM{k:04d}.dcm"
                rows_out.append(dict(
                    path=rel, size_bytes=0, mtime=0.0, sop_instance_uid=sop,
                    sop_class_uid=SecondaryCaptureImageStorage if sp.kind == "sc" else CTImageStorage,
                    frame_number=1, number_of_frames=1, study_instance_uid=study_uid,
                    series_instance_uid=series_uid, frame_of_reference_uid=_uid(st.accession, "for"),
                    accession_number=st.accession, patient_id=st.patient, study_date=st.study_date,
                    series_number=sp.number, series_description=sp.description, instance_number=numbers[k],
                    modality="CT", image_type="ORIGINAL\\PRIMARY\\" + ("LOCALIZER" if sp.kind == "localizer" else "AXIAL"),
                    position_x=float(pos[0]), position_y=float(pos[1]), position_z=float(pos[2]),
                    orientation=[*map(float, row), *map(float, col)], pixel_spacing=[sp.pixel_mm, sp.pixel_mm],
                    slice_thickness=sp.spacing, gantry_tilt=sp.tilt_deg, rows=sp.matrix, columns=sp.matrix,
                    rescale_slope=1.0, rescale_intercept=-1024.0,
                    transfer_syntax_uid=sp.transfer_syntax or ExplicitVRLittleEndian))
            if sp.multiframe:
                # one file, frames in slice order; frame_number is the image number
                order = sorted(range(sp.n), key=lambda k: numbers[k])
                rel = f"{st.accession}/S{sp.number}_{sp.description.replace(' ', '_')}/MF.dcm"
                for f, k in enumerate(order):
                    rows_out[k].update(path=rel, frame_number=f + 1, number_of_frames=sp.n, instance_number=1)
                files = [(rel, [frames[k] for k in order], rows_out[order[0]])]
            else:
                files = [(r["path"], [frames[k]], r) for k, r in enumerate(rows_out)]
            for rel, fr, r in files:
                ds = pydicom.Dataset()
                ds.file_meta = FileMetaDataset()
                ds.file_meta.MediaStorageSOPClassUID = r["sop_class_uid"]
                ds.file_meta.MediaStorageSOPInstanceUID = r["sop_instance_uid"]
                ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
                ds.SOPClassUID, ds.SOPInstanceUID = r["sop_class_uid"], r["sop_instance_uid"]
                ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
                ds.PatientID, ds.AccessionNumber = st.patient, st.accession
                ds.StudyDate = st.study_date.strftime("%Y%m%d")
                ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "CT", sp.number, r["instance_number"]
                ds.ImagePositionPatient = [r["position_x"], r["position_y"], r["position_z"]]
                ds.ImageOrientationPatient = r["orientation"]
                ds.PixelSpacing = [sp.pixel_mm, sp.pixel_mm]
                ds.Rows = ds.Columns = sp.matrix
                ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
                ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
                ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
                arr = np.stack(fr) if len(fr) > 1 else fr[0]
                if len(fr) > 1:
                    ds.NumberOfFrames = len(fr)
                ds.PixelData = arr.tobytes()
                if sp.transfer_syntax and sp.transfer_syntax != ExplicitVRLittleEndian:
                    ds.compress(sp.transfer_syntax, arr)
                out = root / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                ds.save_as(out, enforce_file_format=True)
            instances += rows_out
            series_rows.append(_series_row(sp, rows_out, study_uid, series_uid, st))
    return instances, series_rows


def _series_row(sp: SeriesSpec, rows: list[dict], study_uid, series_uid, st: StudySpec) -> dict:
    """The series row the indexer would publish (affine: slice k=0 most superior)."""
    row_dir, col_dir = np.array(rows[0]["orientation"][:3]), np.array(rows[0]["orientation"][3:])
    normal = np.cross(row_dir, col_dir)
    pos = np.array([[r["position_x"], r["position_y"], r["position_z"]] for r in rows])
    order = np.argsort(-pos[:, 2], kind="stable") if sp.kind in ("axial", "sc") else np.arange(len(rows))
    pos = pos[order]
    d = pos @ normal
    gaps = np.abs(np.diff(d)) if len(d) > 1 else np.array([0.0])
    med = float(np.median(gaps)) if len(gaps) else None
    geometry = {"axial": "axial", "coronal": "coronal", "localizer": "localizer", "sc": "not_a_volume"}[sp.kind]
    affine = None
    if sp.kind != "sc" and len(pos) > 1:
        a = np.eye(4)
        a[:3, 0] = row_dir * sp.pixel_mm
        a[:3, 1] = col_dir * sp.pixel_mm
        a[:3, 2] = (pos[-1] - pos[0]) / (len(pos) - 1)
        a[:3, 3] = pos[0]
        affine = a.ravel().tolist()
    return dict(
        series_instance_uid=series_uid, study_instance_uid=study_uid, accession_number=st.accession,
        patient_id=st.patient, study_date=st.study_date, series_number=sp.number,
        series_description=sp.description, modality="CT", geometry=geometry, n_images=len(rows),
        z_min=float(pos[:, 2].min()), z_max=float(pos[:, 2].max()), spacing_mm=med,
        spacing_uniform=bool(np.all(np.abs(gaps - med) <= max(0.01, 0.01 * med))) if med else True,
        has_gaps=bool(np.any(gaps > 1.5 * med)) if med else False, n_duplicate_positions=0, n_duplicate_sops=0,
        tilt_deg=sp.tilt_deg, instance_order="feet_to_head" if sp.descending else "head_to_feet",
        rows=sp.matrix, columns=sp.matrix, pixel_spacing=[sp.pixel_mm, sp.pixel_mm], slice_thickness=sp.spacing,
        affine=affine)


def reference(report_id: str, ref_id: int, image: int, series: int | None = None, **kw) -> dict:
    base = dict(report_id=report_id, ref_id=ref_id, section="FINDINGS", sentence_start=0, sentence_end=10,
                ref_start=0, ref_end=5, ref_text=f"{series}:{image}", series_number=series, series_inferred=False,
                image_number=image, image_number_end=None, image_count=None, plane=None, series_hint=None,
                is_prior=False, snippet=f"finding {report_id}/{ref_id}", snippet_start=0, snippet_end=10,
                language="en", rule="test", duplicate_cluster=None, duplicate_cluster_size=1)
    base.update(kw)
    return base


def report(report_id: str, accession: str | None, patient: str | None, study_date: date | None, text: str = "") -> dict:
    return dict(report_id=report_id, accession_number=accession, patient_id=patient, study_date=study_date,
                language="en", text=text or "FINDINGS: test.", text_sha256=hashlib.sha256(text.encode()).hexdigest())


def test_builder_writes_readable_dicom(tmp_path):
    import pydicom

    inst, ser = write_export(tmp_path, [StudySpec("A1", "P1", date(2024, 1, 2), [SeriesSpec(2, "AX 5mm", n=3)])])
    assert len(inst) == 3 and len(ser) == 1
    ds = pydicom.dcmread(tmp_path / inst[1]["path"])
    hu = ds.pixel_array.astype(float) * ds.RescaleSlope + ds.RescaleIntercept
    p = np.array([inst[1]["position_x"], inst[1]["position_y"], inst[1]["position_z"]])
    assert hu[0, 0] == pytest.approx(hu_field(p), abs=0.5)
    a = np.asarray(ser[0]["affine"]).reshape(4, 4)
    assert (a @ [0, 0, 2, 1])[2] == pytest.approx(50.0 - 10.0)
