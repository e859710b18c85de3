"""Training volumes: decode each chosen series, rescale to HU, resample onto an axis-aligned LPS grid, cache.

Array convention (what `model` reads): `DATA_DIR/volumes/<sha256(series uid)[:24]>.npy`, int16 HU,
shape (D, H, W); index 0 along D is the most superior slice, rows run anterior -> posterior and
columns patient right -> left (standard axial display, LPS). `volumes.affine` maps voxel
(column i, row j, slice k, 1) of that array to LPS mm: diag(+sx, +sy, -sz) with the origin at the
first voxel. Resampling is trilinear (torch grid_sample) along the source affine, so tilted or
flipped series come out in the same convention; voxels outside the source are -1024 HU.

The grid spans the source's in-plane bounding box in x and y, and in z the centres of its first
and last slices, so for an untilted series resampled slice k lies at depth k * sz below the most
superior source slice (snippet_slices.depth_mm / sz is its fractional index).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dataset.splits import DEFAULT_FRACTIONS, split_for_patient

FILL_HU = -1024
SETTINGS_FILE = ".radmine.json"
ARRAY_FOLDER = "volumes"  # the arrays' folder in a data directory or a version


@dataclass(frozen=True)
class VolumeConfig:
    spacing_xyz: tuple[float, float, float] = (1.5, 1.5, 3.0)  # column (x), row (y), slice (z) spacing, mm
    split_fractions: tuple[float, float, float] = DEFAULT_FRACTIONS
    split_salt: str = "radmine"
    slab: int = 16  # resampled slices per grid_sample call (bounds memory)


class DecodeError(Exception):
    """A file of the series could not be read or decoded."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path, self.message = path, message


def array_name(series_uid: str) -> str:
    return f"{ARRAY_FOLDER}/{hashlib.sha256(series_uid.encode()).hexdigest()[:24]}.npy"


# ---------------------------------------------------------------- export root

def export_root(data_dir, export: str | os.PathLike | None = None) -> Path:
    """The export root for `data_dir`: `export` when given (and remembered in DATA_DIR/.radmine.json),
    else the one remembered there. Raises FileNotFoundError with what to do when neither exists."""
    settings = Path(data_dir) / SETTINGS_FILE
    data = json.loads(settings.read_text()) if settings.is_file() else {}
    if export is not None:
        root = Path(export).resolve()
        if data.get("export_root") != str(root):
            data["export_root"] = str(root)
            Path(data_dir).mkdir(parents=True, exist_ok=True)
            settings.write_text(json.dumps(data, indent=2) + "\n")
        return root
    if "export_root" in data:
        return Path(data["export_root"])
    raise FileNotFoundError(f"{settings} does not name the export root; pass --export EXPORT_DIR once")


# ---------------------------------------------------------------- reading

def _frames(ds) -> np.ndarray:
    arr = ds.pixel_array
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if frames == 1 and arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"expected a greyscale image, got pixel array of shape {arr.shape}")
    return arr


#: The instances columns a volume is built from (`read_series_hu`).
HU_COLUMNS = ["path", "frame_number", "position_x", "position_y", "position_z", "rescale_slope", "rescale_intercept"]


def read_series_hu(root: Path, images: pd.DataFrame, affine: np.ndarray) -> np.ndarray:
    """(D, H, W) float32 HU of a series, slice k as the series affine orders them (k=0 most superior).

    Raises DecodeError naming the first file that cannot be read or decoded, or whose slice
    does not fit the affine.
    """
    import pydicom

    inv = np.linalg.inv(affine)
    n = len(images)
    out: np.ndarray | None = None
    filled = np.zeros(n, dtype=bool)
    by_path: dict[str, list[dict]] = {}
    cols = [c for c in HU_COLUMNS if c in images.columns]
    for r in images[cols].to_dict("records"):
        by_path.setdefault(r["path"], []).append(r)
    for path, group in sorted(by_path.items()):
        try:
            ds = pydicom.dcmread(root / path)
            arr = _frames(ds)
        except Exception as exc:  # any reader or decoder failure: the series cannot become a volume
            raise DecodeError(str(path), f"{type(exc).__name__}: {exc}") from None
        for r in group:
            f = int(r.get("frame_number") or 1)
            if f > arr.shape[0]:
                raise DecodeError(str(path), f"frame {f} missing: the file holds {arr.shape[0]}")
            p = np.array([r["position_x"], r["position_y"], r["position_z"]], dtype=np.float64)
            k = (inv @ np.append(p, 1.0))[2]
            ki = int(round(k))
            if abs(k - ki) > 0.1 or not 0 <= ki < n or filled[ki]:
                raise DecodeError(str(path), f"image at z {p[2]:.2f} does not fall on a free slice of the "
                                  f"series grid (k={k:.2f} of {n})")
            plane = arr[f - 1]
            if out is None:
                out = np.empty((n, *plane.shape), dtype=np.float32)
            if plane.shape != out.shape[1:]:
                raise DecodeError(str(path), f"image size {plane.shape} differs from the series' {out.shape[1:]}")
            slope = r.get("rescale_slope")
            inter = r.get("rescale_intercept")
            slope = 1.0 if slope is None or pd.isna(slope) else float(slope)
            inter = 0.0 if inter is None or pd.isna(inter) else float(inter)
            out[ki] = plane.astype(np.float32) * slope + inter
            filled[ki] = True
    if out is None or not filled.all():
        raise DecodeError(str(images["path"].iloc[0]) if n else "", f"only {int(filled.sum())} of {n} slices read")
    return out


# ---------------------------------------------------------------- resampling

def target_grid(src_affine: np.ndarray, shape_dhw: tuple[int, int, int],
                spacing_xyz: tuple[float, float, float]) -> tuple[np.ndarray, tuple[int, int, int]]:
    """(affine, (D, H, W)) of the axis-aligned LPS grid covering the source volume."""
    d, h, w = shape_dhw
    corners = np.array([[i, j, k, 1.0] for i in (0, w - 1) for j in (0, h - 1) for k in (0, d - 1)])
    world = (src_affine @ corners.T).T[:, :3]
    centres = (src_affine @ np.array([[(w - 1) / 2, (h - 1) / 2, k, 1.0] for k in (0, d - 1)]).T).T[:, :3]
    sx, sy, sz = spacing_xyz
    x0, y0 = world[:, 0].min(), world[:, 1].min()
    x1, y1 = world[:, 0].max(), world[:, 1].max()
    z_top, z_bot = centres[:, 2].max(), centres[:, 2].min()
    shape = (int(np.floor((z_top - z_bot) / sz + 1e-6)) + 1,
             int(np.floor((y1 - y0) / sy + 1e-6)) + 1,
             int(np.floor((x1 - x0) / sx + 1e-6)) + 1)
    affine = np.array([[sx, 0, 0, x0], [0, sy, 0, y0], [0, 0, -sz, z_top], [0, 0, 0, 1.0]])
    return affine, shape


def resample(hu: np.ndarray, src_affine: np.ndarray, spacing_xyz=(1.5, 1.5, 3.0), slab: int = 16
             ) -> tuple[np.ndarray, np.ndarray]:
    """Trilinear resampling of a (D, H, W) HU array onto the axis-aligned grid; (int16 array, affine)."""
    import torch
    import torch.nn.functional as F

    dst_affine, (D, H, W) = target_grid(src_affine, hu.shape, spacing_xyz)
    src = torch.from_numpy(np.ascontiguousarray(hu, dtype=np.float32) - FILL_HU)[None, None]
    sd, sh, sw = hu.shape
    m = torch.from_numpy(np.linalg.inv(src_affine) @ dst_affine)  # dst voxel -> src voxel
    out = np.empty((D, H, W), dtype=np.int16)
    ii = torch.arange(W, dtype=torch.float64)
    jj = torch.arange(H, dtype=torch.float64)

    def norm(v, size):
        return v * 0.0 if size == 1 else 2.0 * v / (size - 1) - 1.0

    for k0 in range(0, D, slab):
        kk = torch.arange(k0, min(D, k0 + slab), dtype=torch.float64)
        K, J, I = torch.meshgrid(kk, jj, ii, indexing="ij")
        pts = torch.stack([I, J, K, torch.ones_like(I)], dim=-1) @ m.T  # (d, H, W, 4) src voxel coords
        si, sj, sk = pts[..., 0], pts[..., 1], pts[..., 2]
        grid = torch.stack([norm(si, sw), norm(sj, sh), norm(sk, sd)], dim=-1)
        # a size-1 axis only matches its own plane
        for coord, size in ((si, sw), (sj, sh), (sk, sd)):
            if size == 1:
                grid[(coord.abs() > 0.5)] = 2.0
        vals = F.grid_sample(src, grid[None].float(), mode="bilinear", padding_mode="zeros", align_corners=True)
        vals = vals[0, 0].numpy() + FILL_HU
        out[k0:k0 + len(kk)] = np.clip(np.rint(vals), -32768, 32767).astype(np.int16)
    return out, dst_affine


# ---------------------------------------------------------------- building

@dataclass
class VolumeResult:
    rows: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)


def _text(v) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def _save_npy(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npy.tmp", dir=path.parent)
    os.close(fd)
    try:
        with open(tmp, "wb") as fh:
            np.save(fh, arr)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build_volumes(out_dir: Path, root: Path, series: pd.DataFrame, instances, uids: list[str],
                  cfg: VolumeConfig = VolumeConfig(), progress: bool | None = False) -> VolumeResult:
    """Decode, resample and cache each series in `uids`; rows for `volumes` and `index_errors`.
    instances: the images of these series (a DataFrame), or (uid, its images) pairs in uid order (a stream such as
    `data_contracts.sql.rows_by_key`'s, so that one series' images are held at a time).
    progress: a progress bar on stderr (None: when stderr is a terminal)."""
    from dataset.progress import progress_bar

    result = VolumeResult()
    by_uid = {r["series_instance_uid"]: r for r in series.to_dict("records")}
    todo = sorted(set(uids))
    if isinstance(instances, pd.DataFrame):
        groups = {uid: g for uid, g in instances.groupby("series_instance_uid", sort=False)}
        stream = ((uid, groups.get(uid)) for uid in todo)
    else:
        stream = _aligned(todo, iter(instances))
    with progress_bar(progress, len(todo), "building volumes", "volumes") as bar:
        task = bar.add_task("volumes", total=len(todo)) if bar is not None else None
        for uid, images in stream:
            _build_one(uid, by_uid.get(uid), images, out_dir, root, cfg, result)
            if bar is not None:
                bar.advance(task)
    return result


def _aligned(todo: list[str], pairs) -> Iterator[tuple[str, pd.DataFrame | None]]:
    """(uid, its images or None) for each uid of sorted `todo`, from (uid, images) pairs in uid order."""
    nxt = next(pairs, None)
    for uid in todo:
        while nxt is not None and nxt[0] < uid:
            nxt = next(pairs, None)
        if nxt is not None and nxt[0] == uid:
            yield uid, nxt[1]
            nxt = next(pairs, None)
        else:
            yield uid, None


def _build_one(uid: str, s: dict | None, images: pd.DataFrame | None, out_dir: Path, root: Path, cfg: VolumeConfig,
               result: VolumeResult) -> None:
    """Build one series' volume into `result`: its row, or an index error naming the file that failed."""
    if s is None or images is None:
        return
    affine = np.asarray(list(s["affine"]), dtype=np.float64).reshape(4, 4)
    try:
        hu = read_series_hu(root, images, affine)
    except DecodeError as err:
        size = mtime = None
        try:
            st = (root / err.path).stat()
            size, mtime = st.st_size, st.st_mtime
        except OSError:
            pass
        result.errors.append(dict(path=err.path, error_kind="decode_error",
                                  message=f"{err.path}: pixel data of series {uid} could not be decoded "
                                          f"({err.message}); the series gets no training volume - check the "
                                          "transfer syntax and that pylibjpeg decoders are installed",
                                  size_bytes=size, mtime=mtime))
        return
    arr, dst_affine = resample(hu, affine, cfg.spacing_xyz, cfg.slab)
    rel = array_name(uid)
    _save_npy(out_dir / rel, arr)
    sx, sy, sz = cfg.spacing_xyz
    result.rows.append(dict(
        series_instance_uid=uid, study_instance_uid=s["study_instance_uid"],
        patient_id=_text(s.get("patient_id")), array_path=rel, shape=list(arr.shape),
        spacing_mm=[float(sz), float(sy), float(sx)], affine=dst_affine.ravel().tolist(),
        split=split_for_patient(_text(s.get("patient_id")), cfg.split_fractions, cfg.split_salt)))


def run_volumes(data_dir, export: str | os.PathLike | None = None, cfg: VolumeConfig = VolumeConfig(),
                match_cfg=None, progress: bool | None = None) -> dict[str, int]:
    """Build the training volume of every study (matching's rule) plus every volume snippet_slices names;
    write `volumes` and add decode failures to `index_errors`. progress: as `build_volumes`."""
    import data_contracts
    from dataset.matching import MatchConfig, choose_training_volumes

    out = data_contracts.current_dir(data_dir)
    root = export_root(data_dir, export)
    series = data_contracts.read_table("series", out).to_pandas()
    uids = [r["series_instance_uid"] for r in choose_training_volumes(series, match_cfg or MatchConfig()).values()]
    if data_contracts.has_table("snippet_slices", out):
        uids += data_contracts.read_table("snippet_slices", out, columns=["volume_series_instance_uid"]) \
            .column(0).to_pylist()
    images = ((uid, rows.to_pandas())  # one pass over the index, one series at a time
              for uid, rows in data_contracts.rows_by_key("instances", out, "series_instance_uid", uids, HU_COLUMNS))
    result = build_volumes(out, root, series, images, uids, cfg, progress=progress)
    data_contracts.write_table("volumes", result.rows, out)
    if result.errors:
        old = data_contracts.read_table("index_errors", out).to_pylist() if data_contracts.has_table("index_errors", out) else []
        new_paths = {e["path"] for e in result.errors}
        data_contracts.write_table("index_errors", [e for e in old if e["path"] not in new_paths] + result.errors, out)
    counts = {"volumes": len(result.rows), "decode_errors": len(result.errors)}
    for r in result.rows:
        counts[r["split"]] = counts.get(r["split"], 0) + 1
    return counts


__all__ = ["DecodeError", "FILL_HU", "VolumeConfig", "array_name", "build_volumes", "export_root",
           "read_series_hu", "resample", "run_volumes", "target_grid"]
