"""Phantom accuracy of matching: compare snippet_slices / rejections with the phantom's answer key.

The answer key (`truth/truth_references.parquet`, dataset.phantom) has one row per cited image with
the finding's true position (x_mm, y_mm, z_mm) and `expected_rejection` (null = must match).
Rows join the `references` table on (report_id, ref_start, ref_end, image_number).

A must-match reference is *right* when
  1. it became a pair whose referenced image plane lies within half of its series' slice spacing
     of the true position (distance along the image normal), and
  2. its training-volume slice (slice_index) lies within half of the volume's slice spacing of the
     referenced image's centre (distance along the volume normal).
Then the placed slice is within (referenced spacing + volume spacing) / 2 of the true z: "half a
slice" of the referenced series, plus the rounding to the nearest training slice. `strict_z` also
counts placed slices within half a *training* slice of the true z (not reachable in general for
a finding cited on a 5 mm image, reported for information).

A must-reject reference is right when it is rejected with exactly the expected reason.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

KEY = ["report_id", "ref_start", "ref_end", "image_number"]


def references_from_truth(truth: pd.DataFrame) -> list[dict]:
    """`references` rows built straight from the answer key (stand-in for the miner in tests)."""
    rows = []
    t = truth.sort_values(["report_id", "ref_start", "image_number"]).reset_index(drop=True)
    for rid, g in t.groupby("report_id", sort=True):
        for ref_id, r in enumerate(g.to_dict("records")):
            def opt(v):
                return None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else v
            rows.append(dict(
                report_id=rid, ref_id=ref_id, section="FINDINGS", sentence_start=int(r["ref_start"]),
                sentence_end=int(r["ref_end"]), ref_start=int(r["ref_start"]), ref_end=int(r["ref_end"]),
                ref_text=r["ref_text"], series_number=opt(r["series_number"]), series_inferred=False,
                image_number=int(r["image_number"]), image_number_end=opt(r["image_number_end"]),
                image_count=opt(r.get("total_images")), plane=opt(r.get("plane")) if opt(r.get("plane")) in
                ("axial", "coronal", "sagittal") else None, series_hint=opt(r.get("series_hint")),
                is_prior=bool(r["is_prior"]), snippet=f"{r.get('label') or 'finding'}",
                snippet_start=int(r["ref_start"]), snippet_end=int(r["ref_end"]), language=r.get("language") or "en",
                rule="truth", duplicate_cluster=None, duplicate_cluster_size=1))
    return rows


def _normal(orientation) -> np.ndarray:
    o = np.asarray(list(orientation), dtype=np.float64)
    n = np.cross(o[:3], o[3:])
    return n / np.linalg.norm(n)


def evaluate(truth: pd.DataFrame, references: pd.DataFrame, pairs: pd.DataFrame, rejections: pd.DataFrame,
             instances: pd.DataFrame, series: pd.DataFrame) -> dict:
    """Counts and rates; `failures` lists every truth row scored wrong, with what happened."""
    from dataset.matching import image_centre

    refs = references[["report_id", "ref_id", *KEY[1:]]]
    t = truth.merge(refs, on=KEY, how="left")
    p = pairs.set_index(["report_id", "ref_id"])
    r = rejections.set_index(["report_id", "ref_id"])
    inst = instances.set_index(["sop_instance_uid", "frame_number"])
    inst = inst[~inst.index.duplicated()]
    ser = series.set_index("series_instance_uid")
    spacing = ser["spacing_mm"].to_dict()
    out = {"must_match": 0, "matched_right": 0, "strict_z": 0, "must_reject": 0, "rejected_right": 0,
           "not_found": 0, "failures": []}
    for row in t.to_dict("records"):
        key = (row["report_id"], row["ref_id"])
        found = not pd.isna(row["ref_id"])
        key = (row["report_id"], int(row["ref_id"])) if found else key
        if not found:
            out["not_found"] += 1
        exp = row["expected_rejection"]
        if exp is None or (isinstance(exp, float) and np.isnan(exp)):
            out["must_match"] += 1
            if not found or key not in p.index:
                why = r.loc[key].to_dict() if found and key in r.index else "no references row"
                out["failures"].append({"truth": row, "got": why})
                continue
            pr = p.loc[key].to_dict()
            im = inst.loc[(pr["referenced_sop_instance_uid"], pr["referenced_frame_number"])].to_dict()
            truth_pt = np.array([row["x_mm"], row["y_mm"], row["z_mm"]])
            ipp = np.array([im["position_x"], im["position_y"], im["position_z"]])
            n = _normal(im["orientation"])
            ref_sp = float(spacing.get(pr["referenced_series_instance_uid"]) or 0) or float(im.get("slice_thickness") or 0)
            d_img = abs(float(np.dot(truth_pt - ipp, n)))
            vol = ser.loc[pr["volume_series_instance_uid"]]
            a = np.asarray(list(vol["affine"]), dtype=np.float64).reshape(4, 4)
            w, h = int(vol["columns"]), int(vol["rows"])
            slice_pt = a @ np.array([(w - 1) / 2, (h - 1) / 2, pr["slice_index"], 1.0])
            vn = _normal(list(a[:3, 0]) + list(a[:3, 1]))
            centre = image_centre(im)
            d_vol = abs(float(np.dot(centre - slice_pt[:3], vn)))
            vol_sp = float(vol["spacing_mm"])
            ok = d_img <= ref_sp / 2 + 1e-3 and d_vol <= vol_sp / 2 + 1e-3
            out["strict_z"] += int(abs(slice_pt[2] - row["z_mm"]) <= vol_sp / 2 + 1e-3)
            if ok:
                out["matched_right"] += 1
            else:
                out["failures"].append({"truth": row, "got": pr, "image_plane_mm": d_img, "volume_slice_mm": d_vol})
        else:
            out["must_reject"] += 1
            got = r.loc[key].to_dict() if found and key in r.index else (p.loc[key].to_dict() if found and key in p.index else None)
            if found and key in r.index and got["reason"] == exp:
                out["rejected_right"] += 1
            else:
                out["failures"].append({"truth": row, "got": got})
    out["match_rate"] = out["matched_right"] / out["must_match"] if out["must_match"] else 1.0
    out["reject_rate"] = out["rejected_right"] / out["must_reject"] if out["must_reject"] else 1.0
    return out


def evaluate_dirs(truth_dir, data_dir) -> dict:
    """evaluate() over a phantom's truth folder and a matched dataset folder."""
    import data_contracts

    src = data_contracts.current_dir(data_dir)
    tabs = {n: data_contracts.read_table(n, src).to_pandas()
            for n in ("references", "snippet_slices", "rejections", "instances", "series")}
    truth = pd.read_parquet(Path(truth_dir) / "truth_references.parquet")
    return evaluate(truth, tabs["references"], tabs["snippet_slices"], tabs["rejections"], tabs["instances"], tabs["series"])


__all__ = ["evaluate", "evaluate_dirs", "references_from_truth"]
