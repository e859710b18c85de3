"""Series geometry from image positions and orientations: plain functions over numpy arrays.

Conventions (the `series` table and the matching/volumes code rely on them)
---------------------------------------------------------------------------
* Patient coordinates are DICOM LPS, millimetres: +x patient left, +y posterior, +z superior.
* Slice normal `n = row_cosines x column_cosines` (from ImageOrientationPatient), flipped so
  that its dominant component is positive. For an axial series n points to the head (+z).
* Slice order (k): slices are sorted by their position projected on `n`, DESCENDING. So k = 0
  is the MOST SUPERIOR slice of an axial series (largest z) and k grows toward the feet;
  for a sagittal series k = 0 is the patient's leftmost slice, for a coronal series the most
  posterior. Slice indices and depths in a volume count from k = 0. `sort_key` gives this
  order for single images.
* Affine: `affine` maps voxel (column i, row j, slice k, 1) to LPS mm, row-major 4x4:
  column 0 = row cosines * column spacing (PixelSpacing[1]), column 1 = column cosines * row
  spacing (PixelSpacing[0]), column 2 = the step from slice k to slice k+1 (along the line of
  positions, so a gantry-tilted series gets a sheared affine whose step has length
  spacing_mm / cos(tilt)), column 3 = ImagePositionPatient of slice k = 0. Only volume
  classes (axial, coronal, sagittal, oblique) get an affine; with uneven spacing it uses the
  median step, so it is exact only when `spacing_uniform`.
* Geometry class, from ImageOrientationPatient and positions, never from ImageType (a sagittal
  reformat can say AXIAL). The class is the axis the normal lies within 35 degrees of
  (|n_axis| >= cos 35 deg = 0.819): z -> axial, y -> coronal, x -> sagittal; when no axis is
  that close, oblique. Gantry tilts (at most ~30 degrees) therefore stay axial.
* localizer: the one place ImageType is trusted - most images say LOCALIZER - or, from
  geometry alone, a series of a few images in two or more orientations (tri-plane scout:
  at most 3 images per orientation), or a single non-axial image covering >= 400 mm.
* not_a_volume: fewer than two distinct positions (one image, or all images at one
  position), no usable position/orientation, or images whose orientations disagree by more
  than 1 degree (not one stack) when it is not a localizer.
* Two images share a position when their projections on n differ by less than 0.01 mm.
  Spacing is the median gap between distinct positions along n; uniform when every gap is
  within 1% (or 0.01 mm) of it; a gap is a step larger than 1.5 times the median.
* tilt_deg: angle between the slice normal and the line through the slice positions (k order),
  0 when untilted; for axial series signed like GE's GantryDetectorTilt (positive when the
  normal leans toward +y, posterior, from the line of positions in the y-z plane). When the
  geometry cannot say (fewer than two positions) it is GantryDetectorTilt, if present.
  `tilt_header_deg` and `tilt_agrees` (|geometry| vs |header| within 1 degree) report the
  cross-check.
* instance_order: InstanceNumber (then frame number, for multi-frame files) against k: rising with k -> head_to_feet, falling ->
  feet_to_head, otherwise mixed; single when fewer than two positions carry an InstanceNumber.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

AXIS_COS = math.cos(math.radians(35.0))   # a normal within 35 deg of an axis takes its class
SAME_ORIENTATION_COS = math.cos(math.radians(1.0))
SAME_POSITION_MM = 0.01
GAP_FACTOR = 1.5
UNIFORM_REL, UNIFORM_ABS = 0.01, 0.01
LOCALIZER_FOV_MM = 400.0
TILT_ZERO_DEG = 0.01
VOLUME_CLASSES = ("axial", "coronal", "sagittal", "oblique")
_AXIS_CLASS = ("sagittal", "coronal", "axial")


def slice_normal(orientation) -> np.ndarray | None:
    """Unit slice normal (row x column) of a 6-float ImageOrientationPatient, dominant component > 0."""
    if orientation is None:
        return None
    o = np.asarray(orientation, dtype=float)
    if o.shape != (6,) or not np.all(np.isfinite(o)):
        return None
    n = np.cross(o[:3], o[3:])
    norm = np.linalg.norm(n)
    if norm < 1e-6:
        return None
    n = n / norm
    if n[np.argmax(np.abs(n))] < 0:
        n = -n
    return n


def _normals(ori: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """slice_normal for an (n, 6) array at once: (unit normals, which rows are usable)."""
    if len(ori) > 1 and np.all(ori == ori[0]):  # one orientation (NaN never equals): computed once
        v, ok = _normals(ori[:1])
        return np.repeat(v, len(ori), axis=0), np.repeat(ok, len(ori))
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.cross(ori[:, :3], ori[:, 3:]) if len(ori) else np.zeros((0, 3))
        norm = np.linalg.norm(v, axis=1)
        ok = np.isfinite(norm) & (norm >= 1e-6)
        v = v / np.where(ok, norm, 1.0)[:, None]
    dom = np.take_along_axis(v, np.argmax(np.abs(np.nan_to_num(v)), axis=1)[:, None], axis=1)[:, 0]
    v = np.where((dom < 0)[:, None], -v, v)
    v[~ok] = np.nan
    return v, ok


def classify_normal(normal) -> str:
    """axial / coronal / sagittal when the normal is within 35 degrees of that axis, else oblique."""
    n = np.abs(np.asarray(normal, dtype=float))
    axis = int(np.argmax(n))
    return _AXIS_CLASS[axis] if n[axis] >= AXIS_COS else "oblique"


def sort_key(position, orientation) -> float:
    """Ascending sort key giving the series slice order: most superior (axial) first.

    It is minus the projection of the position on the slice normal; NaN when unknown.
    """
    n = slice_normal(orientation)
    if n is None or position is None:
        return float("nan")
    p = np.asarray(position, dtype=float)
    return float(-(p @ n))


def float_rows(values, width: int) -> np.ndarray:
    """(n, width) floats of lists of numbers (or of an (n, >= width) array); NaN rows for None or
    too short values."""
    if isinstance(values, np.ndarray) and values.ndim == 2 and values.shape[1] >= width:
        return values[:, :width].astype(float, copy=False)
    try:  # the common case, every value a list of the same length: one conversion
        arr = np.array(values, dtype=float)
        if arr.ndim == 2 and arr.shape[1] >= width:
            return arr[:, :width]
    except (TypeError, ValueError):
        pass
    out = np.full((len(values), width), np.nan)
    for i, v in enumerate(values):
        if v is not None:
            a = np.asarray(v, dtype=float).ravel()
            if a.size >= width:
                out[i] = a[:width]
    return out


def _mode(values):
    """Most common non-null value (ties: the smallest); lists for tuples."""
    from collections import Counter

    try:  # hashable values (numbers, tuples): counted as they are
        counts = Counter(values)
    except TypeError:
        counts = Counter(tuple(v) if isinstance(v, (list, np.ndarray)) else v for v in values)
    counts.pop(None, None)
    if not counts:
        return None
    top = max(counts.values())
    best = min((k for k, c in counts.items() if c == top), key=str)
    return list(best) if isinstance(best, tuple) else best


def _is_localizer(image_types, normals_ok, normals, n_images, rows, cols, spacing) -> bool:
    from collections import Counter

    flagged = sum(c for t, c in Counter(image_types).items() if t and "LOCALIZER" in t.upper().split("\\"))
    if flagged * 2 > n_images:
        return True
    ok = np.flatnonzero(normals_ok)
    if len(ok) >= 2 and not np.all(normals[ok] == normals[ok[0]]):  # one normal: one group
        # images grouped by orientation, in image order: each joins the first group whose first
        # normal it matches (distinct normals are few: grouped once each, then counted)
        _, first, counts = np.unique(np.round(normals[ok], 6), axis=0, return_index=True, return_counts=True)
        groups: list[tuple[np.ndarray, int]] = []
        for k in np.argsort(first, kind="stable"):
            v = normals[ok[first[k]]]
            for g, (ref, count) in enumerate(groups):
                if abs(float(v @ ref)) >= SAME_ORIENTATION_COS:
                    groups[g] = (ref, count + int(counts[k]))
                    break
            else:
                groups.append((v, int(counts[k])))
        if len(groups) >= 2 and max(c for _, c in groups) <= 3:
            return True
    if n_images == 1 and ok.size:
        i = int(ok[0])
        if classify_normal(normals[i]) != "axial" and np.all(np.isfinite(spacing[i])):
            extent = max((rows[i] or 0) * spacing[i][0], (cols[i] or 0) * spacing[i][1])
            if extent >= LOCALIZER_FOV_MM:
                return True
    return False


def series_geometry(images: dict[str, Any] | list[dict]) -> dict[str, Any]:
    """Geometry of one series from its images (frames).

    `images` is a list of row dicts or a dict of equal-length columns with the `instances`
    names: position_x/_y/_z (or `position`, n x 3), orientation (6 floats), pixel_spacing,
    image_type, instance_number, sop_instance_uid, path, slice_thickness, gantry_tilt, rows,
    columns. Missing values are None/NaN. Returns the `series` geometry columns plus
    `slice_index` (k per input image, None without a usable position), `order` (input indices
    in k order, positioned images only), `normal`, `tilt_header_deg` and `tilt_agrees`.
    """
    cols = _columns(images)
    n = cols["n"]
    pos = cols["position"]
    ori = cols["orientation"]
    spacing = cols["pixel_spacing"]
    rows_, columns_ = cols["rows"], cols["columns"]
    normals, normals_ok = _normals(ori)
    has_pos = normals_ok & np.all(np.isfinite(pos), axis=1)

    header_tilts = [t for t in cols["gantry_tilt"] if t is not None and math.isfinite(t)]
    tilt_header = float(np.median(header_tilts)) if header_tilts else None
    thick = [t for t in cols["slice_thickness"] if t is not None and math.isfinite(t)]
    z = pos[:, 2][np.isfinite(pos[:, 2])]
    out: dict[str, Any] = {
        "geometry": "not_a_volume", "n_images": n,
        "z_min": float(z.min()) if z.size else None, "z_max": float(z.max()) if z.size else None,
        "spacing_mm": None, "spacing_uniform": False, "has_gaps": False,
        "n_duplicate_positions": 0, "n_duplicate_sops": _duplicate_sops(cols["sop_instance_uid"], cols["path"]),
        "tilt_deg": tilt_header, "instance_order": "single",
        "rows": _mode(rows_), "columns": _mode(columns_),
        "pixel_spacing": _mode([tuple(x) for x in spacing[np.all(np.isfinite(spacing), axis=1)].tolist()]),
        "slice_thickness": float(np.median(thick)) if thick else None,
        "affine": None, "slice_index": [None] * n, "order": [], "normal": None,
        "tilt_header_deg": tilt_header, "tilt_agrees": None,
    }
    localizer = _is_localizer(cols["image_type"], normals_ok, normals, n, rows_, columns_, spacing)
    if localizer:
        out["geometry"] = "localizer"
    idx = np.flatnonzero(has_pos)
    if idx.size == 0:
        return out
    # reference orientation: the most common one among positioned images
    # (distinct orientations are few: compare each image with one representative per orientation)
    reps: list[int] = []
    counts: list[int] = []
    same = bool(np.all(ori[idx] == ori[idx[0]]))  # the usual case: one orientation, no np.unique
    for i in idx[:1] if same else idx[np.unique(np.round(ori[idx], 4), axis=0, return_index=True)[1]]:
        for r_, rep in enumerate(reps):
            if abs(float(normals[i] @ normals[rep])) >= SAME_ORIENTATION_COS:
                break
        else:
            reps.append(int(i))
    for rep in reps:
        counts.append(int(np.sum(np.abs(normals[idx] @ normals[rep]) >= SAME_ORIENTATION_COS)))
    ref_i = reps[int(np.argmax(counts))]
    normal = normals[ref_i]
    consistent = bool(np.all(np.abs(normals[idx] @ normal) >= SAME_ORIENTATION_COS))
    out["normal"] = normal.tolist()
    proj = pos[idx] @ normal
    # k order: descending projection; ties by InstanceNumber then input order
    inst = np.array([cols["instance_number"][i] if cols["instance_number"][i] is not None else np.inf for i in idx], dtype=float)
    order_local = np.lexsort((np.arange(idx.size), inst, -proj))
    order = idx[order_local]
    sproj = proj[order_local]
    # clusters of one position
    new_cluster = np.concatenate([[True], np.abs(np.diff(sproj)) >= SAME_POSITION_MM])
    cluster = np.cumsum(new_cluster) - 1
    n_distinct = int(cluster[-1]) + 1
    sizes = np.bincount(cluster)
    out["n_duplicate_positions"] = int(sizes[sizes > 1].sum())
    slice_index = [None] * n
    for i, c in zip(order, cluster):
        slice_index[int(i)] = int(c)
    out["slice_index"] = slice_index
    out["order"] = [int(i) for i in order]
    # instance order along k
    firsts = np.flatnonzero(new_cluster)
    frames = cols["frame_number"]
    inst_k = [(cols["instance_number"][int(order[f])], frames[int(order[f])] or 1) for f in firsts]
    inst_k = [(v, fr) for v, fr in inst_k if v is not None]
    if len(inst_k) >= 2:  # acquisition order: InstanceNumber, then frame number within a file
        top = 1 + max(f for _, f in inst_k)
        d = np.diff(np.asarray([v + (fr - 1) / top for v, fr in inst_k], dtype=float))
        out["instance_order"] = "head_to_feet" if np.all(d > 0) else "feet_to_head" if np.all(d < 0) else "mixed"
    if n_distinct < 2 or not consistent:
        return out
    distinct_pos = pos[order[firsts]]
    gaps = -np.diff(sproj[firsts])
    med = float(np.median(gaps))
    out["spacing_mm"] = med
    out["spacing_uniform"] = bool(np.all(np.abs(gaps - med) <= max(UNIFORM_REL * med, UNIFORM_ABS)))
    out["has_gaps"] = bool(np.any(gaps > GAP_FACTOR * med))
    line = distinct_pos[-1] - distinct_pos[0]
    d_hat = line / np.linalg.norm(line)
    s = -d_hat  # from the last slice toward k = 0: the same side as the normal
    cos_t = float(np.clip(s @ normal, -1.0, 1.0))
    tilt = math.degrees(math.acos(abs(cos_t)))
    if localizer:
        return out
    cls = classify_normal(normal)
    out["geometry"] = cls
    if tilt < TILT_ZERO_DEG:
        tilt = 0.0
    elif cls == "axial":
        signed = math.degrees(math.atan2(normal[1], normal[2]) - math.atan2(s[1], s[2]))
        tilt = math.copysign(tilt, signed) if abs(signed) > 1e-9 else tilt
    out["tilt_deg"] = tilt
    if tilt_header is not None:
        out["tilt_agrees"] = abs(abs(tilt) - abs(tilt_header)) <= 1.0
    ps = out["pixel_spacing"]
    o = ori[ref_i]
    if ps is not None:
        step = d_hat * (med / abs(float(d_hat @ normal)))
        a = np.eye(4)
        a[:3, 0] = o[:3] * ps[1]
        a[:3, 1] = o[3:] * ps[0]
        a[:3, 2] = step
        a[:3, 3] = distinct_pos[0]
        out["affine"] = [float(v) for v in a.ravel()]
    return out


def _duplicate_sops(sops, paths) -> int:
    """Rows whose SOPInstanceUID appears in another file of the series."""
    files: dict[str, set] = {}
    for s, p in zip(sops, paths):
        if s is not None:
            files.setdefault(s, set()).add(p)
    return sum(1 for s in sops if s is not None and len(files[s]) > 1)


def _columns(images) -> dict[str, Any]:
    if isinstance(images, list):
        keys = set().union(*(r.keys() for r in images)) if images else set()
        images = {k: [r.get(k) for r in images] for k in keys}
    def col(name, default=None):
        v = images.get(name)
        if v is None:
            return [default] * n
        return list(v) if not isinstance(v, np.ndarray) else v
    lengths = [len(v) for v in images.values() if v is not None]
    n = lengths[0] if lengths else 0
    if "position" in images and images["position"] is not None:
        pos = float_rows(list(images["position"]), 3)
    else:
        pos = np.column_stack([
            np.array([np.nan if v is None else v for v in col(k)], dtype=float) for k in ("position_x", "position_y", "position_z")
        ]) if n else np.zeros((0, 3))
    def clean(vals):  # NaN -> None (only NaN is unequal to itself among these scalars)
        return [None if v != v else v for v in vals]
    paths = col("path")
    return {
        "n": n,
        "position": pos,
        "orientation": float_rows(col("orientation"), 6),
        "pixel_spacing": float_rows(col("pixel_spacing"), 2),
        "image_type": clean(col("image_type")),
        "instance_number": clean(col("instance_number")),
        "frame_number": clean(col("frame_number")),
        "sop_instance_uid": clean(col("sop_instance_uid")),
        "path": [p if p is not None else f"#{i}" for i, p in enumerate(paths)],
        "slice_thickness": clean(col("slice_thickness")),
        "gantry_tilt": clean(col("gantry_tilt")),
        "rows": clean(col("rows")),
        "columns": clean(col("columns")),
    }


def affine_matrix(affine) -> np.ndarray:
    """The 16 floats of `series.affine` as a 4x4 array."""
    return np.asarray(affine, dtype=float).reshape(4, 4)


__all__ = [
    "AXIS_COS", "VOLUME_CLASSES", "affine_matrix", "classify_normal", "float_rows", "series_geometry", "slice_normal", "sort_key",
]
