"""`generate_export`: the whole phantom PACS export, streamed patient by patient.

Output under `out_dir`:
  export/                     the DICOM tree (naming varies by study, no DICOMDIR)
  reports.csv, reports.jsonl  report_id, accession_number, patient_id, study_date, text
  truth/truth_references.parquet  one row per cited image (see reports.py for spans)
  truth/truth_labels.parquet      report_id, label, value (present/absent/uncertain/not_mentioned)
  truth/truth_findings.parquet    one row per planted finding centre (patient LPS mm)
  truth/truth_series.parquet      one row per written series (geometry and quirks)
  truth/truth_files.parquet       the deliberately broken files and what is wrong with them

truth_references columns: report_id (= accession_number of the citing report), ref_start,
ref_end, ref_text (text[ref_start:ref_end]), series_number (null when the text names none),
image_number (InstanceNumber, or frame number for Enhanced CT), image_number_end (ranges),
x_mm/y_mm/z_mm (the finding's true patient position; for a range the centre plane = the
range's middle), expected_rejection (null = must match; else prior_study_unavailable,
non_axial, localizer, image_out_of_range, ambiguous_series, no_series), label, is_prior,
study_instance_uid / series_instance_uid (the study and series the reference means -- the
prior's for is_prior rows), plane, series_hint (lung / soft tissue when two series share a
SeriesNumber and the text names the window), form, total_images ("Section No: i/N"),
language. A must-match reference resolves to the image whose plane lies within half a
slice spacing of (x_mm, y_mm, z_mm); for untilted axial series that is |IPP z - z_mm| <=
spacing / 2.

Determinism: every random draw comes from numpy generators seeded by (seed, patient, role)
and UIDs from `generate_uid(entropy_srcs=...)`, so the same seed gives byte-identical files.
Memory: only one patient's phantom and series are held at a time.
"""
from __future__ import annotations

import copy
import csv
import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from data_contracts.labels import CT_RATE_LABELS

from .anatomy import AnatomyParams, build_phantom
from .dicom_writer import (NAMING_STYLES, StudyInfo, make_uid, write_broken_files,
                           write_enhanced_series, write_single_frame_series)
from .findings import draw_labels, plan_findings, render_findings
from .geometry import CORONAL_DIRS, SeriesPlan, axial_dirs
from .reports import StudyContext, write_report

FOV_MM = 380.0
SERIES_SCHEMES = (  # localizer, ax5, thin, coronal
    (1, 2, 3, 4), (1, 3, 4, 5), (1, 201, 202, 203), (100, 2, 5, 601),
)
MANUFACTURERS = (("SIEMENS", "SOMATOM Definition AS"), ("GE MEDICAL SYSTEMS", "Revolution CT"),
                 ("Philips", "iCT 256"), ("TOSHIBA", "Aquilion ONE"))

REF_SCHEMA = pa.schema([
    ("report_id", pa.string()), ("accession_number", pa.string()),
    ("ref_start", pa.int32()), ("ref_end", pa.int32()), ("ref_text", pa.string()),
    ("series_number", pa.int32()), ("image_number", pa.int32()), ("image_number_end", pa.int32()),
    ("x_mm", pa.float64()), ("y_mm", pa.float64()), ("z_mm", pa.float64()),
    ("expected_rejection", pa.string()), ("label", pa.string()), ("is_prior", pa.bool_()),
    ("study_instance_uid", pa.string()), ("series_instance_uid", pa.string()), ("plane", pa.string()),
    ("series_hint", pa.string()), ("form", pa.string()), ("total_images", pa.int32()),
    ("language", pa.string()),
])
LABEL_SCHEMA = pa.schema([("report_id", pa.string()), ("label", pa.string()), ("value", pa.string())])
FINDING_SCHEMA = pa.schema([
    ("report_id", pa.string()), ("accession_number", pa.string()), ("study_instance_uid", pa.string()),
    ("patient_id", pa.string()), ("label", pa.string()), ("instance", pa.int32()),
    ("x_mm", pa.float64()), ("y_mm", pa.float64()), ("z_mm", pa.float64()),
    ("radius_mm", pa.float64()), ("half_extent_z_mm", pa.float64()), ("location", pa.string()),
])
SERIES_SCHEMA = pa.schema([
    ("accession_number", pa.string()), ("study_instance_uid", pa.string()), ("series_instance_uid", pa.string()),
    ("series_number", pa.int32()), ("series_description", pa.string()), ("role", pa.string()),
    ("plane", pa.string()), ("n_images", pa.int32()), ("multiframe", pa.bool_()), ("tilt_deg", pa.float64()),
    ("descending", pa.bool_()), ("spacing_mm", pa.float64()), ("thickness_mm", pa.float64()),
    ("naming", pa.string()), ("first_path", pa.string()),
])
FILE_SCHEMA = pa.schema([("path", pa.string()), ("kind", pa.string()), ("accession_number", pa.string())])


@dataclass
class _Study:
    info: StudyInfo
    plans: dict[str, SeriesPlan]
    shift: np.ndarray
    lang: str
    si: int  # written-study index (-1: planned but not written)
    date_iso: str
    time_hhmm: str


def _plan_study(seed: int, p: int, role: str, si: int, date: dt.date, params: AnatomyParams,
                patient: dict, matrix: int, write: bool, thin_series: bool = True) -> _Study:
    rng = np.random.default_rng([seed, p, 1 if role == "prior" else 2])
    f = si if si >= 0 else 7 + p  # feature schedule index
    study_uid = make_uid(seed, p, role, "study")
    accession = f"A{int(rng.integers(10**7, 10**8))}"
    hh, mm = int(rng.integers(7, 19)), int(rng.choice([0, 15, 30, 45]))
    man = MANUFACTURERS[int(rng.integers(len(MANUFACTURERS)))]
    info = StudyInfo(
        patient_id=patient["id"], patient_name=patient["name"], birth_date=patient["birth"], sex=patient["sex"],
        study_uid=study_uid, accession=accession, study_date=date.strftime("%Y%m%d"),
        study_time=f"{hh:02d}{mm:02d}00", frame_uid=make_uid(seed, p, role, "for"),
        manufacturer=man[0], model=man[1], naming=NAMING_STYLES[(f // 2 + f) % 4],
        intercept=-1024.0 if f % 3 else 0.0, patient_position="FFS" if f % 5 == 3 else "HFS", seed=seed,
    )
    top = params.lung_top + float(rng.uniform(5, 15))
    bottom = -150.0 - float(rng.uniform(0, 20))
    dz = round(float(rng.uniform(-700, -50)), 1)
    shift = np.array([round(float(rng.uniform(-8, 8)), 1), round(float(rng.uniform(-6, 6)), 1), dz])
    zlo, zhi = bottom + dz, top + dz
    zmid = (zlo + zhi) / 2
    length = zhi - zlo
    scheme = SERIES_SCHEMES[(f * 7 + seed) % len(SERIES_SCHEMES)]
    descending = f % 2 == 0
    ps = FOV_MM / matrix
    plans: dict[str, SeriesPlan] = {}

    def uid(key):
        return make_uid(seed, study_uid, key, "series")

    row, col, nrm = CORONAL_DIRS
    plans["localizer"] = SeriesPlan(
        "localizer", scheme[0], "Topogram 0.6 T20f", ["ORIGINAL", "PRIMARY", "LOCALIZER"],
        np.array([0.0, 0.0, zmid]), nrm, row, col, 1.0, 0.6, 1, matrix, matrix, (500.0 / matrix, 500.0 / matrix),
        kernel="T20f", series_uid=uid("localizer"))
    tilt = 0.0
    if f % 5 == 2 and thin_series:  # without the thin series the 5 mm series must serve as the training volume
        tilt = float(rng.choice([-1, 1]) * rng.uniform(10, 20))
        tilt = round(tilt, 1)
    r_, c_, n_ = axial_dirs(tilt)
    lung_desc = "Thorax 5.0 B70f LUNG" if f % 6 == 3 else "Thorax 5.0 B70f"
    plans["ax5"] = SeriesPlan(
        "ax5", scheme[1], lung_desc, ["ORIGINAL", "PRIMARY", "AXIAL"],
        np.array([0.0, 0.0, zlo]), n_, r_, c_, 5.0, 5.0, int(length // 5.0) + 1, matrix, matrix, (ps, ps),
        descending=descending, tilt_deg=tilt, kernel="B70f", series_uid=uid("ax5"))
    if f % 6 == 3:  # a soft-tissue reconstruction that shares the SeriesNumber
        plans["ax5soft"] = copy.copy(plans["ax5"])
        plans["ax5soft"].key = "ax5soft"
        plans["ax5soft"].description = "Thorax 5.0 B31f MEDIASTINUM"
        plans["ax5soft"].kernel = "B31f"
        plans["ax5soft"].series_uid = uid("ax5soft")
    ts = float(rng.choice([1.0, 1.25, 1.5]))
    r0, c0, n0 = axial_dirs(0.0)
    if thin_series:
        plans["thin"] = SeriesPlan(
            "thin", scheme[2], f"Thorax {ts:g} B70f", ["ORIGINAL", "PRIMARY", "AXIAL"],
            np.array([0.0, 0.0, zlo]), n0, r0, c0, ts, ts, int(length // ts) + 1, matrix, matrix, (ps, ps),
            descending=(f % 4 in (0, 1)), multiframe=(f % 4 == 1), kernel="B70f", series_uid=uid("thin"))
    if f % 3 != 0:
        itype = ["DERIVED", "SECONDARY", "AXIAL"] if f % 6 == 4 else ["DERIVED", "SECONDARY", "REFORMATTED"]
        plans["coronal"] = SeriesPlan(
            "coronal", scheme[3], "Thorax cor 5.0 MPR", itype,
            np.array([0.0, -120.0, zmid]), nrm, row, col, 5.0, 5.0, 49, matrix, matrix, (ps, ps),
            kernel="B70f", series_uid=uid("coronal"))
    if f % 5 == 1:  # one slice whose ImagePositionPatient is missing, in its own series
        plans["broken"] = SeriesPlan(
            "broken", 999, "PARTIAL RECON", ["DERIVED", "SECONDARY", "AXIAL"],
            np.array([0.0, 0.0, zmid]), n0, r0, c0, 5.0, 5.0, 1, matrix, matrix, (ps, ps),
            kernel="B31f", series_uid=uid("broken"))
    for i, pl in enumerate(plans.values()):
        pl.series_index = i
    lang = "de" if (f % 7 == 5 or rng.random() < 0.05) else "en"
    return _Study(info, plans, shift, lang, si, date.isoformat(), f"{hh:02d}:{mm:02d}")


def generate_export(out_dir, n_studies: int, seed: int, matrix: int = 64,
                    progress: Callable[[int, int], None] | None = None, thin_series: bool = True) -> dict:
    """Write the phantom export for `n_studies` written studies; returns a summary dict.

    `thin_series=False` leaves out the 1-1.5 mm axial series (three quarters of the files) and the
    gantry tilt: the untilted 5 mm axial series becomes every study's training volume and reports
    cite only the 5 mm, coronal and localizer series. Model tests use it to build a 100-study export in seconds.
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    export = out / "export"
    truth = out / "truth"
    export.mkdir(parents=True, exist_ok=True)
    truth.mkdir(parents=True, exist_ok=True)
    writers = {
        "truth_references": pq.ParquetWriter(truth / "truth_references.parquet", REF_SCHEMA),
        "truth_labels": pq.ParquetWriter(truth / "truth_labels.parquet", LABEL_SCHEMA),
        "truth_findings": pq.ParquetWriter(truth / "truth_findings.parquet", FINDING_SCHEMA),
        "truth_series": pq.ParquetWriter(truth / "truth_series.parquet", SERIES_SCHEMA),
        "truth_files": pq.ParquetWriter(truth / "truth_files.parquet", FILE_SCHEMA),
    }
    schemas = {"truth_references": REF_SCHEMA, "truth_labels": LABEL_SCHEMA, "truth_findings": FINDING_SCHEMA,
               "truth_series": SERIES_SCHEMA, "truth_files": FILE_SCHEMA}
    csv_f = open(out / "reports.csv", "w", newline="", encoding="utf-8")
    jsonl_f = open(out / "reports.jsonl", "w", encoding="utf-8")
    cw = csv.writer(csv_f)
    cw.writerow(["report_id", "accession_number", "patient_id", "study_date", "text"])
    counts = {"studies": 0, "patients": 0, "files": 0, "references": 0, "broken_files": 0}
    try:
        si = 0
        p = 0
        while si < n_studies:
            prng = np.random.default_rng([seed, p, 0])
            kind = p % 4
            remaining = n_studies - si
            params = AnatomyParams.draw(prng)
            labels = draw_labels(prng)
            present = [L for L in CT_RATE_LABELS if labels[L] == "present"]
            if "Cardiomegaly" in present:
                params.heart_scale = 1.3
            findings = plan_findings(prng, params, present)
            patient = {"id": f"PH{seed % 100:02d}{p:05d}", "name": f"PHANTOM^PATIENT{p:04d}",
                       "birth": f"{int(prng.integers(1935, 1990))}0{int(prng.integers(1, 10))}15",
                       "sex": "F" if prng.random() < 0.5 else "M"}
            date = dt.date(2019, 1, 1) + dt.timedelta(days=int(prng.integers(0, 4 * 365)))
            studies: list[tuple[_Study, bool]] = []
            if kind == 1 and remaining >= 2:
                prior_date = date - dt.timedelta(days=int(prng.integers(180, 540)))
                studies.append((_plan_study(seed, p, "prior", si, prior_date, params, patient, matrix, True, thin_series), True))
                studies.append((_plan_study(seed, p, "current", si + 1, date, params, patient, matrix, True, thin_series), True))
            elif p % 8 == 3:
                prior_date = date - dt.timedelta(days=int(prng.integers(180, 540)))
                studies.append((_plan_study(seed, p, "prior", -1, prior_date, params, patient, matrix, False, thin_series), False))
                studies.append((_plan_study(seed, p, "current", si, date, params, patient, matrix, True, thin_series), True))
            else:
                studies.append((_plan_study(seed, p, "current", si, date, params, patient, matrix, True, thin_series), True))
            prior_ctx = None
            prior_written = False
            for idx, (st, write) in enumerate(studies):
                ph = build_phantom(params, pericardial_effusion="Pericardial effusion" in present)
                ph.shift = st.shift
                fs = copy.deepcopy(findings)
                is_prior = idx == 0 and len(studies) == 2
                render_findings(ph, fs, np.random.default_rng([seed, p, 3]), scale=0.8 if is_prior else 1.0)
                ctx = StudyContext(
                    accession=st.info.accession, study_uid=st.info.study_uid, study_date=st.date_iso,
                    lang=st.lang, plans=st.plans, shift=st.shift, labels=labels, findings=fs,
                    prior=prior_ctx, prior_written=prior_written, time_hhmm=st.time_hhmm)
                if not write:
                    prior_ctx, prior_written = ctx, False
                    continue
                rrng = np.random.default_rng([seed, p, 10 + idx])
                text, refs = write_report(rrng, ctx)
                _write_study(export, st, ph, seed, p, idx, writers, schemas, counts, fs, labels, text, refs)
                rec = {"report_id": st.info.accession, "accession_number": st.info.accession,
                       "patient_id": st.info.patient_id, "study_date": st.date_iso, "text": text}
                cw.writerow([rec[k] for k in ("report_id", "accession_number", "patient_id", "study_date", "text")])
                jsonl_f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                prior_ctx, prior_written = ctx, True
                si += 1
                counts["studies"] += 1
                if progress is not None:
                    progress(si, n_studies)
            counts["patients"] += 1
            p += 1
    finally:
        for w in writers.values():
            w.close()
        csv_f.close()
        jsonl_f.close()
    return {
        "out_dir": str(out), "export_dir": str(export), "truth_dir": str(truth),
        "reports_csv": str(out / "reports.csv"), "reports_jsonl": str(out / "reports.jsonl"),
        "n_studies": counts["studies"], "n_patients": counts["patients"], "n_files": counts["files"],
        "n_references": counts["references"], "n_broken_files": counts["broken_files"],
        "matrix": matrix, "seed": seed, "seconds": round(time.perf_counter() - t0, 2),
    }


def _write_study(export, st: _Study, ph, seed, p, idx, writers, schemas, counts, fs, labels, text, refs):
    acc = st.info.accession
    rng = np.random.default_rng([seed, p, 20 + idx])
    series_rows, file_rows = [], []
    sample_file = None
    for key, plan in st.plans.items():
        if plan.multiframe:
            recs = write_enhanced_series(export, st.info, plan, ph, rng)
        else:
            recs = write_single_frame_series(export, st.info, plan, ph, rng,
                                             drop_ipp_slice=0 if key == "broken" else None)
        counts["files"] += len(recs)
        if key == "ax5":
            sample_file = recs[len(recs) // 2]["path"]
        if key == "broken":
            file_rows.append({"path": str(recs[0]["path"].relative_to(export)), "kind": "missing_ipp",
                              "accession_number": acc})
        series_rows.append({
            "accession_number": acc, "study_instance_uid": st.info.study_uid, "series_instance_uid": plan.series_uid,
            "series_number": plan.series_number, "series_description": plan.description, "role": key,
            "plane": plan.plane, "n_images": plan.n_slices, "multiframe": plan.multiframe,
            "tilt_deg": plan.tilt_deg, "descending": plan.descending, "spacing_mm": plan.spacing,
            "thickness_mm": plan.thickness, "naming": st.info.naming,
            "first_path": str(recs[0]["path"].relative_to(export)),
        })
    if st.si % 5 == 0 and sample_file is not None:
        for b in write_broken_files(export, st.info, sample_file, seed):
            file_rows.append({"path": str(b["path"].relative_to(export)), "kind": b["kind"], "accession_number": acc})
    counts["broken_files"] += len(file_rows)
    for r in refs:
        r["report_id"] = acc
        r["accession_number"] = acc
        r["language"] = st.lang
        r.setdefault("total_images", None)
    counts["references"] += len(refs)
    label_rows = [{"report_id": acc, "label": L, "value": labels[L]} for L in CT_RATE_LABELS]
    finding_rows = []
    for f in fs:
        for i, c in enumerate(f.centers):
            q = np.asarray(c, float) + st.shift
            finding_rows.append({
                "report_id": acc, "accession_number": acc, "study_instance_uid": st.info.study_uid,
                "patient_id": st.info.patient_id, "label": f.label, "instance": i,
                "x_mm": float(q[0]), "y_mm": float(q[1]), "z_mm": float(q[2]), "radius_mm": float(f.radius_mm),
                "half_extent_z_mm": float(f.half_extent_z), "location": f.location_en or None,
            })
    for name, rows in (("truth_references", refs), ("truth_labels", label_rows), ("truth_findings", finding_rows),
                       ("truth_series", series_rows), ("truth_files", file_rows)):
        if rows:
            sch = schemas[name]
            writers[name].write_table(pa.Table.from_pylist([{k: r.get(k) for k in sch.names} for r in rows], schema=sch))


__all__ = ["generate_export"]
