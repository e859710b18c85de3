"""RadFinder interop: per training volume, the slice-snippet JSON its localization task reads.

One file per training volume, `<out>/<volume_series_instance_uid>.json`: an object keyed by the
referenced slice's SOPInstanceUID (frames of a multi-frame file: `<SOPInstanceUID>#<frame number>`),
each value

    shape          [rows, columns] of that slice
    dcmaffine      4x4 voxel-to-patient affine of that slice (LPS, mm): columns are the row
                   direction x column spacing, the column direction x row spacing, the slice step
                   of its series (series.affine, towards inferior), and the slice's
                   ImagePositionPatient
    axcodes        "LPS"
    slice_axis     2
    en_cleanhist   snippets in English referencing the slice (references.language == "en")
    de_cleanhist   snippets in German

A snippet is listed in the language it was written in only; no translation is made, so one of
the two lists may be empty. `<out>/index.json` lists each volume's file, study, split and
array path.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd


def slice_key(sop_uid: str, frame: int, number_of_frames: int) -> str:
    return sop_uid if number_of_frames <= 1 else f"{sop_uid}#{frame}"


def slice_affine(inst: dict, series_affine) -> list[list[float]]:
    """4x4 voxel-to-LPS affine of one image: (column i, row j, slice k) with k stepping like its series."""
    o = np.asarray(list(inst["orientation"]), dtype=np.float64)
    ps = np.asarray(list(inst["pixel_spacing"]), dtype=np.float64)
    a = np.eye(4)
    a[:3, 0] = o[:3] * ps[1]
    a[:3, 1] = o[3:] * ps[0]
    step = None
    if series_affine is not None and len(series_affine) == 16:
        step = np.asarray(list(series_affine), dtype=np.float64).reshape(4, 4)[:3, 2]
    if step is None or not np.all(np.isfinite(step)) or np.linalg.norm(step) < 1e-9:
        n = np.cross(o[:3], o[3:])
        thick = inst.get("slice_thickness")
        step = n * (float(thick) if thick is not None and np.isfinite(thick) and thick > 0 else 1.0)
        if step[2] > 0:  # towards inferior, like the series convention
            step = -step
    a[:3, 2] = step
    a[:3, 3] = [inst["position_x"], inst["position_y"], inst["position_z"]]
    return [[round(float(v), 6) for v in row] for row in a]


def build_radfinder_json(pairs: pd.DataFrame, references: pd.DataFrame, instances: pd.DataFrame,
                         series: pd.DataFrame) -> dict[str, dict]:
    """volume series uid -> {slice key: entry} from matched pairs."""
    lang = {(r["report_id"], int(r["ref_id"])): r["language"] for r in
            references[["report_id", "ref_id", "language"]].to_dict("records")}
    inst = instances.set_index(["sop_instance_uid", "frame_number"], drop=False)
    inst = inst[~inst.index.duplicated(keep="first")]
    s_aff = {r["series_instance_uid"]: r.get("affine") for r in series[["series_instance_uid", "affine"]].to_dict("records")}
    out: dict[str, dict] = {}
    for p in pairs.sort_values(["volume_series_instance_uid", "report_id", "ref_id"]).to_dict("records"):
        key_ix = (p["referenced_sop_instance_uid"], int(p["referenced_frame_number"]))
        if key_ix not in inst.index:
            continue
        i = inst.loc[key_ix].to_dict()
        entries = out.setdefault(p["volume_series_instance_uid"], {})
        key = slice_key(i["sop_instance_uid"], int(i["frame_number"]), int(i.get("number_of_frames") or 1))
        if key not in entries:
            aff = s_aff.get(i["series_instance_uid"])
            entries[key] = {
                "shape": [int(i["rows"]), int(i["columns"])],
                "dcmaffine": slice_affine(i, None if aff is None else list(aff)),
                "axcodes": "LPS",
                "slice_axis": 2,
                "en_cleanhist": [],
                "de_cleanhist": [],
            }
        language = lang.get((p["report_id"], int(p["ref_id"])), "en")
        bucket = entries[key]["de_cleanhist" if language == "de" else "en_cleanhist"]
        if p["snippet"] and p["snippet"] not in bucket:
            bucket.append(p["snippet"])
    return out


def export_radfinder_json(data_dir, out_dir) -> dict[str, int]:
    """Write one JSON per training volume with pairs, plus index.json; returns counts."""
    import data_contracts

    src = data_contracts.current_dir(data_dir)
    pairs = data_contracts.read_table("snippet_slices", src).to_pandas()
    # of the other tables, only what the pairs name: the index's referenced images, not all of them
    refs = data_contracts.read_table("references", src, columns=["report_id", "ref_id", "language"]).to_pandas()
    images = data_contracts.read_rows("instances", src, "sop_instance_uid", pairs["referenced_sop_instance_uid"])
    images = images.sort_by([(c, "ascending") for c in data_contracts.load_contract("instances").primary_key]).to_pandas()
    series = data_contracts.read_table("series", src, columns=["series_instance_uid", "affine"]).to_pandas()
    vols = data_contracts.read_table("volumes", src).to_pandas() if data_contracts.has_table("volumes", src) else None
    per_volume = build_radfinder_json(pairs, refs, images, series)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    vinfo = {} if vols is None else {r["series_instance_uid"]: r for r in vols.to_dict("records")}
    index = {}
    for uid, entries in sorted(per_volume.items()):
        name = f"{uid}.json"
        tmp = out / f".{name}.tmp"
        tmp.write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, out / name)
        v = vinfo.get(uid, {})
        index[uid] = {"file": name, "study_instance_uid": v.get("study_instance_uid"), "split": v.get("split"),
                      "array_path": v.get("array_path"), "slices": len(entries)}
    (out / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    return {"volumes": len(per_volume), "slices": sum(len(e) for e in per_volume.values()),
            "snippets": int(sum(len(x["en_cleanhist"]) + len(x["de_cleanhist"]) for e in per_volume.values() for x in e.values()))}


__all__ = ["build_radfinder_json", "export_radfinder_json", "slice_affine", "slice_key"]
