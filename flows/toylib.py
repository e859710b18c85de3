"""A toy stand-in for the mining and dataset libraries, for testing the flow machinery fast.

It implements the interface of `flows.library.Library` over a toy export (one small JSON file
per "image": {"study", "accession", "patient", "series_number", "instance_number", "z"}) and a
JSONL reports file ({"report_id", "accession_number", "text"}), producing contract-valid tables.
It never reads DICOM: versioning, publishing, crash safety, batching and incremental runs are
tested with it in well under a second per run. `make_toy_export` writes such an input.

Select it with MineOptions(library="flows.toylib:library").
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from data_contracts.labels import CT_RATE_LABELS

REF_RE = re.compile(r"series (\d+),? image (\d+)", re.I)


class ToyLibrary:

    def iter_reports(self, path: Path, columns: dict[str, str], announce=print):
        id_col, text_col = columns.get("id", "report_id"), columns.get("text", "text")
        announce(f"columns: report id <- {id_col!r}; text <- {text_col!r}")
        with open(path) as fh:
            for line in fh:
                if line.strip():
                    r = json.loads(line)
                    yield {"report_id": r[id_col], "accession_number": r.get("accession_number"), "language": "en",
                           "text": r[text_col], "text_sha256": hashlib.sha256(r[text_col].encode()).hexdigest()}, None

    def mine_reports(self, rows: list[dict]) -> dict[str, list[dict]]:
        fail = set(os.environ.get("RADMINE_TOY_FAIL_REPORTS", "").split(",")) - {""}
        reports, refs, labels, snippet_labels = [], [], [], []
        for r in rows:
            if r["report_id"] in fail:
                kind = ValueError if os.environ.get("RADMINE_TOY_FAIL_KIND") == "value" else OSError
                raise kind(f"toy failure mining {r['report_id']}")
            text = r["text"]
            reports.append(r)
            for i, m in enumerate(REF_RE.finditer(text)):
                refs.append({"report_id": r["report_id"], "ref_id": i, "section": "FINDINGS",
                             "sentence_start": 0, "sentence_end": len(text), "ref_start": m.start(), "ref_end": m.end(),
                             "ref_text": m.group(0), "series_number": int(m.group(1)), "series_inferred": False,
                             "image_number": int(m.group(2)), "is_prior": False,
                             "snippet": REF_RE.sub("", text).strip(), "snippet_start": 0, "snippet_end": len(text),
                             "language": "en", "rule": "toy", "duplicate_cluster": None, "duplicate_cluster_size": 1})
                if "nodule" in text.lower():
                    snippet_labels.append({"report_id": r["report_id"], "ref_id": i, "label": "Lung nodule",
                                           "value": "present"})
            for label in CT_RATE_LABELS:
                present = label == "Lung nodule" and "nodule" in text.lower()
                labels.append({"report_id": r["report_id"], "label": label,
                               "value": "present" if present else "not_mentioned"})
        return {"reports": reports, "references": refs, "labels": labels, "snippet_labels": snippet_labels}

    duplicate_min_reports = 2  # cross-report pass: snippets written identically in several reports form a cluster

    def snippet_key(self, snippet: str) -> str:
        return snippet

    def near_duplicate_groups(self, keys: list[str]) -> list[int]:
        return list(range(len(keys)))

    def list_export(self, export_dir: Path, exclude=()):
        import pyarrow as pa

        out = []
        for folder, _dirs, files in os.walk(export_dir):
            for name in files:
                p = Path(folder) / name
                st = p.stat()
                out.append({"path": p.relative_to(export_dir).as_posix(), "size_bytes": st.st_size,
                            "mtime": st.st_mtime, "walk_error": None})
        return pa.Table.from_pylist(out, schema=pa.schema([("path", pa.string()), ("size_bytes", pa.int64()),
                                                           ("mtime", pa.float64()), ("walk_error", pa.string())]))

    def index_files(self, export_dir: Path, items):
        instances, errors = [], []
        for rel, _size, _mtime, _error in items:
            p = Path(export_dir) / rel
            st = p.stat()
            try:
                d = json.loads(p.read_text())
            except (ValueError, UnicodeDecodeError) as exc:
                errors.append({"path": rel, "error_kind": "not_dicom", "message": f"{rel}: {exc}",
                               "size_bytes": st.st_size, "mtime": st.st_mtime})
                continue
            series_uid = f"{d['study']}.{d['series_number']}"
            instances.append({"path": rel, "size_bytes": st.st_size, "mtime": st.st_mtime,
                              "sop_instance_uid": f"{series_uid}.{d['instance_number']}", "frame_number": 1,
                              "number_of_frames": 1, "study_instance_uid": d["study"],
                              "series_instance_uid": series_uid, "accession_number": d.get("accession"),
                              "patient_id": d.get("patient"), "series_number": d["series_number"],
                              "instance_number": d["instance_number"], "modality": "CT", "position_z": d["z"]})
        return instances, errors

    def write_series(self, work_dir: Path, affected_series=None, affected_sops=None) -> int:
        import data_contracts as dc

        by: dict[str, list[dict]] = {}
        for r in dc.read_table("instances", work_dir).to_pylist():
            by.setdefault(r["series_instance_uid"], []).append(r)
        out = []
        for uid, rows in sorted(by.items()):
            zs = [r["position_z"] for r in rows]
            out.append({"series_instance_uid": uid, "study_instance_uid": rows[0]["study_instance_uid"],
                        "accession_number": rows[0]["accession_number"], "patient_id": rows[0]["patient_id"],
                        "series_number": rows[0]["series_number"], "modality": "CT", "geometry": "axial",
                        "n_images": len(rows), "z_min": min(zs), "z_max": max(zs), "spacing_uniform": True,
                        "has_gaps": False, "n_duplicate_positions": 0, "n_duplicate_sops": 0})
        dc.write_table("series", out, work_dir)
        return len(out)

    def match(self, data_dir: Path) -> dict[str, int]:
        import data_contracts as dc

        refs = dc.read_table("references", data_dir).to_pylist()
        reports = {r["report_id"]: r for r in dc.read_table("reports", data_dir).to_pylist()}
        images = {}
        for r in dc.read_table("instances", data_dir).to_pylist():
            images[(r["accession_number"], r["series_number"], r["instance_number"])] = r
        pairs, rejections = [], []
        for ref in refs:
            acc = reports[ref["report_id"]]["accession_number"]
            img = images.get((acc, ref["series_number"], ref["image_number"]))
            if img is None:
                rejections.append({"report_id": ref["report_id"], "ref_id": ref["ref_id"], "reason": "no_image",
                                   "detail": f"no image {ref['image_number']} in series {ref['series_number']}"})
                continue
            pairs.append({"pair_id": hashlib.sha1(f"{ref['report_id']}:{ref['ref_id']}".encode()).hexdigest()[:16],
                          "report_id": ref["report_id"], "ref_id": ref["ref_id"],
                          "study_instance_uid": img["study_instance_uid"],
                          "referenced_sop_instance_uid": img["sop_instance_uid"],
                          "referenced_series_instance_uid": img["series_instance_uid"], "referenced_frame_number": 1,
                          "z_mm": img["position_z"], "volume_series_instance_uid": img["series_instance_uid"],
                          "slice_index": img["instance_number"] - 1, "depth_mm": float(img["instance_number"] - 1) * 5,
                          "snippet": ref["snippet"], "is_prior": False, "match_method": "series_number",
                          "confidence": 1.0})
        dc.write_table("snippet_slices", pairs, data_dir)
        dc.write_table("rejections", rejections, data_dir)
        return {"pairs": len(pairs), "rejected": len(rejections)}

    def plan_volumes(self, work_dir: Path, cache_dir: Path) -> tuple[list[dict], list[str]]:
        """Every series is a volume; its row is cached under cache_dir/toy-volumes by series and image count."""
        import data_contracts as dc

        rows, todo = [], []
        for s in dc.read_table("series", work_dir).to_pylist():
            meta = Path(cache_dir) / "toy-volumes" / f"{s['series_instance_uid']}-{s['n_images']}.json"
            if meta.exists():
                rows.append(json.loads(meta.read_text()))
                self._write_array(work_dir, rows[-1])
            else:
                todo.append(s["series_instance_uid"])
        return rows, todo

    def build_volume_batch(self, work_dir: Path, export_dir: Path, cache_dir: Path, uids: list[str]):
        """A toy volume a series (zeros, one slice an image). RADMINE_TOY_FAIL_VOLUMES=uid,... fails the batch at
        that series, leaving what a real failure leaves: the arrays saved before it and a save's temporary."""
        import data_contracts as dc

        series = {s["series_instance_uid"]: s for s in dc.read_table("series", work_dir).to_pylist()}
        failing = set(os.environ.get("RADMINE_TOY_FAIL_VOLUMES", "").split(","))
        rows = []
        for uid in uids:
            if uid in failing:
                tmp = Path(work_dir) / "volumes" / f".{uid}.npy.tmp"
                tmp.parent.mkdir(parents=True, exist_ok=True)
                tmp.write_bytes(b"\x93NUMPY")
                kind = ValueError if os.environ.get("RADMINE_TOY_FAIL_KIND") == "value" else OSError
                raise kind(f"toy failure building the volumes of {uids}")
            s = series[uid]
            row = {"series_instance_uid": uid, "study_instance_uid": s["study_instance_uid"],
                   "patient_id": s["patient_id"], "array_path": f"volumes/{uid}.npy", "shape": [s["n_images"], 1, 1],
                   "spacing_mm": [5.0, 1.0, 1.0], "affine": [1.0, 0, 0, 0, 0, 1.0, 0, 0, 0, 0, -5.0, 0, 0, 0, 0, 1.0],
                   "split": "train"}
            self._write_array(work_dir, row)
            rows.append(row)
        for row in rows:  # cached once the whole batch is built, as the real library does
            meta = Path(cache_dir) / "toy-volumes" / f"{row['series_instance_uid']}-{row['shape'][0]}.json"
            meta.parent.mkdir(parents=True, exist_ok=True)
            meta.write_text(json.dumps(row))
        return rows, []

    @staticmethod
    def _write_array(work_dir: Path, row: dict) -> None:
        import numpy as np

        path = Path(work_dir) / row["array_path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, np.zeros(row["shape"], dtype=np.int16))


library = ToyLibrary()


def write_toy_image(export: Path, study: int, series: int, instance: int) -> Path:
    path = export / f"P{study % 3}" / f"S{study}" / f"{series}" / f"IM{instance:04d}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"study": f"1.2.{study}", "accession": f"A{study}", "patient": f"P{study % 3}",
                                "series_number": series, "instance_number": instance, "z": -5.0 * instance}))
    return path


def toy_report(study: int, amended: bool = False) -> dict:
    finding = "A 6 mm nodule" if study % 2 else "Atelectasis"
    text = f"FINDINGS: {finding} in the right lower lobe (series 2, image {study % 10 + 1}). " \
           f"Scarring (series 2, image 99)." + (" Addendum: stable." if amended else "")
    return {"report_id": f"R{study}", "accession_number": f"A{study}", "text": text}


def make_toy_export(root: Path, studies: range, images: int = 10) -> tuple[Path, Path]:
    """Toy export under root/export and reports in root/reports.jsonl for the given study numbers."""
    export = root / "export"
    for s in studies:
        for i in range(1, images + 1):
            write_toy_image(export, s, 2, i)
    (export / "DICOMDIR.txt").parent.mkdir(parents=True, exist_ok=True)
    (export / "DICOMDIR.txt").write_text("not an image")
    reports = root / "reports.jsonl"
    reports.write_text("".join(json.dumps(toy_report(s)) + "\n" for s in studies))
    return export, reports
