"""Volume preprocessing as one declarative list of steps.

Each step maps a `Grid` (array + voxel-to-patient affine) to a new `Grid`, updating the affine,
so a referenced slice's patient z can be mapped into the final depth grid by inverting it.
The array stays in the cache's HU (int16, read through a memory map) until `ClipScale`, which runs
last: orientation flips are views and the crop reads only the voxels it keeps, so the loader touches
the cropped volume and converts it once (bench/model_throughput.py measures the difference).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from model.config import RadFinderConfig


@dataclass
class Grid:
    array: np.ndarray  # (D, H, W): HU (any numeric dtype) before ClipScale, float32 in [0, 1] after
    affine: np.ndarray  # (4, 4): voxel (col i, row j, slice k, 1) -> patient LPS mm
    depth_valid: tuple[int, int] = (0, -1)  # [lo, hi) slices holding real data; hi=-1 means all

    @property
    def valid_range(self) -> tuple[int, int]:
        return (self.depth_valid[0], self.array.shape[0] if self.depth_valid[1] < 0 else self.depth_valid[1])


# voxel axis of the array -> affine column: array axis 0 is slice k (col 2), 1 is row j (col 1), 2 is col i (col 0)
_AFFINE_COL = {0: 2, 1: 1, 2: 0}


def _flip(grid: Grid, axis: int) -> Grid:
    n = grid.array.shape[axis]
    a = grid.affine.copy()
    c = _AFFINE_COL[axis]
    a[:3, 3] += (n - 1) * a[:3, c]
    a[:3, c] *= -1
    lo, hi = grid.valid_range
    valid = (n - hi, n - lo) if axis == 0 else grid.depth_valid
    return Grid(np.flip(grid.array, axis), a, valid)  # a view: CropOrPad makes the one copy


@dataclass(frozen=True)
class Orient:
    """Index 0 most superior (LPS z falls with k), rows anterior->posterior, columns right->left."""

    def __call__(self, grid: Grid) -> Grid:
        # patient axis each voxel axis runs along most: array axis 0 should go to -z, 1 to +y, 2 to +x
        for axis, patient, sign in ((0, 2, -1), (1, 1, 1), (2, 0, 1)):
            if np.sign(grid.affine[patient, _AFFINE_COL[axis]]) == -sign:
                grid = _flip(grid, axis)
        return grid


@dataclass(frozen=True)
class Resample:
    """Linear resampling, axis by axis, to the exact target (depth, row, col) spacing where it differs by > 1 %."""

    spacing_mm: tuple[float, float, float]

    def __call__(self, grid: Grid) -> Grid:
        cur = [float(np.linalg.norm(grid.affine[:3, _AFFINE_COL[ax]])) for ax in range(3)]
        if all(abs(c - t) <= 0.01 * t for c, t in zip(cur, self.spacing_mm)):
            return grid
        arr, a = grid.array, grid.affine.copy()
        lo, hi = grid.valid_range
        for ax, (c, t) in enumerate(zip(cur, self.spacing_mm)):
            if abs(c - t) <= 0.01 * t:
                continue
            n = arr.shape[ax]
            src = np.arange(int(np.floor((n - 1) * c / t + 1e-6)) + 1) * (t / c)  # new index -> old index
            i0 = np.minimum(np.floor(src).astype(int), n - 1)
            i1 = np.minimum(i0 + 1, n - 1)
            f = (src - i0).astype(np.float32).reshape([-1 if d == ax else 1 for d in range(3)])
            arr = np.take(arr, i0, axis=ax) * (1 - f) + np.take(arr, i1, axis=ax) * f  # linear, one axis at a time
            a[:3, _AFFINE_COL[ax]] *= t / c
            if ax == 0:
                lo, hi = int(np.ceil(lo * c / t - 1e-6)), min(len(src), int(np.floor((hi - 1) * c / t + 1e-6)) + 1)
        return Grid(arr.astype(np.float32), a, (lo, hi))


@dataclass(frozen=True)
class ClipScale:
    """HU clipped to the window and scaled to [0, 1]."""

    window: tuple[float, float]

    def __call__(self, grid: Grid) -> Grid:
        lo, hi = self.window
        out = np.empty(grid.array.shape, dtype=np.float32)
        np.clip(grid.array, lo, hi, out=out, casting="unsafe")  # one pass converts and clips
        out -= np.float32(lo)
        out *= np.float32(1.0 / (hi - lo))
        return Grid(out, grid.affine, grid.depth_valid)


@dataclass(frozen=True)
class CropOrPad:
    """Centre crop, or pad with `fill` (air), each axis to `shape`; keeps the array's dtype."""

    shape: tuple[int, int, int]
    fill: float = -1000.0

    def __call__(self, grid: Grid) -> Grid:
        arr, a = grid.array, grid.affine.copy()
        dtype = arr.dtype
        if np.issubdtype(dtype, np.integer) and not (float(self.fill).is_integer()
                                                     and np.iinfo(dtype).min <= self.fill <= np.iinfo(dtype).max):
            dtype = np.dtype(np.float32)  # the fill does not fit the cache's integers
        out = np.full(self.shape, self.fill, dtype=dtype)
        src, dst = [], []
        for ax, (n, m) in enumerate(zip(arr.shape, self.shape)):
            start = (n - m) // 2  # >0 crops, <0 pads; new index = old index - start
            a[:3, 3] += start * a[:3, _AFFINE_COL[ax]]
            s0, s1 = max(start, 0), min(start + m, n)
            src.append(slice(s0, s1))
            dst.append(slice(s0 - start, s1 - start))
            if ax == 0:
                lo, hi = grid.valid_range
                valid = (max(lo - start, 0), min(hi - start, m))
        out[tuple(dst)] = arr[tuple(src)]
        return Grid(out, a, valid)


def pipeline(cfg: RadFinderConfig) -> list:
    """The preprocessing, in order; padding is the window's low end, so it scales to 0."""
    return [Orient(), Resample(cfg.spacing_mm), CropOrPad(cfg.crop_shape, fill=cfg.hu_window[0]), ClipScale(cfg.hu_window)]


def run_pipeline(array: np.ndarray, affine: np.ndarray, cfg: RadFinderConfig) -> Grid:
    grid = Grid(np.asarray(array), np.asarray(affine, dtype=np.float64).reshape(4, 4))
    for step in pipeline(cfg):
        grid = step(grid)
    return grid


def z_to_slice(grid: Grid, z_mm: float) -> float:
    """Fractional slice index k in the grid of patient z, through the affine at the in-plane centre."""
    a = grid.affine
    _, h, w = grid.array.shape
    if abs(a[2, 2]) < 1e-9:
        raise ValueError("volume is not axial: its slice axis has no z component")
    return float((z_mm - a[2, 0] * (w - 1) / 2 - a[2, 1] * (h - 1) / 2 - a[2, 3]) / a[2, 2])


def slice_to_z(grid: Grid, k: float) -> float:
    a = grid.affine
    _, h, w = grid.array.shape
    return float(a[2, 0] * (w - 1) / 2 + a[2, 1] * (h - 1) / 2 + a[2, 2] * k + a[2, 3])


def valid_positions(grid: Grid, slab: int) -> np.ndarray:
    """(P,) bool: depth positions whose slab overlaps real slices."""
    lo, hi = grid.valid_range
    starts = np.arange(grid.array.shape[0] // slab) * slab
    return (starts + slab > lo) & (starts < hi)


def slice_to_position(k: float, slab: int) -> int:
    return int(np.floor((k + 0.5) / slab))


def position_to_slice(p: int | np.ndarray, slab: int) -> np.ndarray | float:
    """Centre slice index (fractional) of a depth position."""
    return p * slab + (slab - 1) / 2.0
