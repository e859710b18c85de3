"""Volume preprocessing as one declarative list of steps.

Each step maps a `Grid` (array + voxel-to-patient affine) to a new `Grid`, updating the affine,
so a referenced slice's patient z can be mapped into the final depth grid by inverting it.
The array stays in the cache's HU (int16, read through a memory map) until the last step, `CropClipScale`:
orientation flips are views, and the crop is read slice by slice, clipped and scaled while in cache and
written once, into the caller's buffer when given (a DataLoader worker's batch in shared memory), so the
loader touches the cropped volume once and allocates nothing per volume. `CropClip` in its place keeps
clipped HU as int16 for batches that cross processes, and `to_unit` scales them where they land
(bench/model_throughput.py measures both; model/README.md has the H200 figures).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

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
    return Grid(np.flip(grid.array, axis), a, valid)  # a view: CropClipScale makes the one copy


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
    """HU clipped to the window and scaled to [0, 1] (with `CropOrPad`, the plain reference of `CropClipScale`)."""

    window: tuple[float, float]

    def __call__(self, grid: Grid) -> Grid:
        out = np.empty(grid.array.shape, dtype=np.float32)
        _clip_scale(grid.array, out, self.window)
        return Grid(out, grid.affine, grid.depth_valid)


def _clip_scale(src: np.ndarray, out: np.ndarray, window: tuple[float, float]) -> None:
    lo, hi = window
    np.clip(src, lo, hi, out=out, casting="unsafe")  # one pass converts and clips
    out -= np.float32(lo)
    out *= np.float32(1.0 / (hi - lo))


def _crop_geometry(grid: Grid, shape: tuple[int, int, int]) -> tuple[tuple, tuple, np.ndarray, tuple[int, int]]:
    """(source slices, destination slices, new affine, new valid depth range) of a centre crop or pad to `shape`."""
    a = grid.affine.copy()
    src, dst = [], []
    for ax, (n, m) in enumerate(zip(grid.array.shape, shape)):
        start = (n - m) // 2  # >0 crops, <0 pads; new index = old index - start
        a[:3, 3] += start * a[:3, _AFFINE_COL[ax]]
        s0, s1 = max(start, 0), min(start + m, n)
        src.append(slice(s0, s1))
        dst.append(slice(s0 - start, s1 - start))
        if ax == 0:
            lo, hi = grid.valid_range
            valid = (max(lo - start, 0), min(hi - start, m))
    return tuple(src), tuple(dst), a, valid


@dataclass(frozen=True)
class CropOrPad:
    """Centre crop, or pad with `fill` (air), each axis to `shape`; keeps the array's dtype (with `ClipScale`, the plain
    reference of `CropClipScale`)."""

    shape: tuple[int, int, int]
    fill: float = -1000.0

    def __call__(self, grid: Grid) -> Grid:
        dtype = grid.array.dtype
        if np.issubdtype(dtype, np.integer) and not (float(self.fill).is_integer()
                                                     and np.iinfo(dtype).min <= self.fill <= np.iinfo(dtype).max):
            dtype = np.dtype(np.float32)  # the fill does not fit the cache's integers
        src, dst, a, valid = _crop_geometry(grid, self.shape)
        out = np.full(self.shape, self.fill, dtype=dtype)
        out[dst] = grid.array[src]
        return Grid(out, a, valid)


def _crop_into(grid: Grid, shape: tuple[int, int, int], out: np.ndarray, pad: float, write) -> Grid:
    """`grid` cropped or padded to `shape` into `out`: padding set to `pad`, each kept slice written by
    `write(source slice, destination slice)` (while it is in cache)."""
    if out.shape != tuple(shape) or not out.flags.writeable:
        raise ValueError(f"out must be a writeable array of shape {tuple(shape)}, got {out.shape}")
    src, dst, a, valid = _crop_geometry(grid, shape)
    if any(d.stop - d.start < m for d, m in zip(dst, shape)):
        out.fill(pad)
    block = grid.array[src]  # a view: a memory map's pages are read slice by slice below
    target = out[dst]
    for k in range(block.shape[0]):
        write(block[k], target[k])
    return Grid(out, a, valid)


@dataclass(frozen=True)
class CropClipScale:
    """`CropOrPad(shape, fill=window[0])` then `ClipScale(window)`, the same values (tested) in one pass: each kept
    slice is clipped and scaled from the source straight into the output while it is in cache, and the padding is 0
    (the fill, scaled). `out`: a float32 array of `shape` to write into (a slot of a batch); else one is allocated.
    On the H200 host a DataLoader worker read 37 volumes/s with the two steps (an int16 crop, its float32 copy, then
    the batch's copy of that, each new memory), 48 with this one."""

    shape: tuple[int, int, int]
    window: tuple[float, float]

    def __call__(self, grid: Grid, out: np.ndarray | None = None) -> Grid:
        if out is None:
            out = np.empty(self.shape, dtype=np.float32)
        elif out.dtype != np.float32:
            raise ValueError(f"CropClipScale: out must be float32, got {out.dtype}")
        return _crop_into(grid, self.shape, out, 0.0, lambda a, b: _clip_scale(a, b, self.window))


@dataclass(frozen=True)
class CropClip:
    """`CropOrPad(shape, fill=window[0])` with HU clipped to the window, as int16 (a resampled volume's fractions
    rounded to whole HU, at most 0.5 HU): half the bytes of `CropClipScale`'s output, for batches that cross processes
    (`VolumeDataset(hu=True)`). `to_unit` of it, on the device, is `CropClipScale`'s output, bit for bit for an integer
    cache (tested)."""

    shape: tuple[int, int, int]
    window: tuple[float, float]

    def __post_init__(self):
        if not whole_hu(self.window):
            raise ValueError(f"CropClip: the HU window must be whole HU within int16, got {self.window}")

    def __call__(self, grid: Grid, out: np.ndarray | None = None) -> Grid:
        if out is None:
            out = np.empty(self.shape, dtype=np.int16)
        elif out.dtype != np.int16:
            raise ValueError(f"CropClip: out must be int16, got {out.dtype}")
        lo, hi = self.window
        whole = np.issubdtype(grid.array.dtype, np.integer)
        return _crop_into(grid, self.shape, out, lo,
                          lambda a, b: np.clip(a if whole else np.rint(a), lo, hi, out=b, casting="unsafe"))


def whole_hu(window: tuple[float, float]) -> bool:
    """Whether both ends of an HU window are whole numbers int16 holds (what `CropClip` needs)."""
    return all(float(v).is_integer() and -32768 <= v <= 32767 for v in window)


def to_unit(volume: torch.Tensor, window: tuple[float, float]) -> torch.Tensor:
    """A batch of HU (`CropClip`) as `CropClipScale` gives it, in [0, 1] float32, where it is (the GPU); a float batch is
    returned as it is."""
    if volume.is_floating_point():
        return volume
    lo, hi = window
    return (volume.float() - lo) * np.float32(1.0 / (hi - lo))


def pipeline(cfg: RadFinderConfig, hu: bool = False) -> list:
    """The preprocessing, in order: orientation, spacing, then crop or pad (with air) and HU to [0, 1] in one step;
    `hu`: the last step keeps clipped HU as int16 (`CropClip`; `to_unit` scales them where the batch lands)."""
    last = CropClip if hu else CropClipScale
    return [Orient(), Resample(cfg.spacing_mm), last(cfg.crop_shape, cfg.hu_window)]


def run_pipeline(array: np.ndarray, affine: np.ndarray, cfg: RadFinderConfig, out: np.ndarray | None = None,
                 hu: bool = False) -> Grid:
    """The preprocessed grid of a cached array; `out`: where the last step writes the volume; `hu`: see `pipeline`."""
    grid = Grid(np.asarray(array), np.asarray(affine, dtype=np.float64).reshape(4, 4))
    *steps, last = pipeline(cfg, hu)
    for step in steps:
        grid = step(grid)
    return last(grid, out=out)


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
