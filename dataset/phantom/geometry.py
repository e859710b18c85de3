"""Series geometry: where each image of a series lies in patient (LPS) space.

A `SeriesPlan` is a stack of equally spaced parallel planes: slice k has its centre at
`center0 + k * spacing * normal`, with row direction `row_dir` and column direction
`col_dir` (DICOM ImageOrientationPatient = row_dir + col_dir, normal = row x col).
`image_number(k)` is the InstanceNumber (single-frame) or frame number (multi-frame) of
slice k: numbering runs head-to-feet or feet-to-head depending on `descending`.
Plans hold no pixels, so a report can cite image numbers before anything is written.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SeriesPlan:
    key: str  # role in the study: localizer / ax5 / ax5soft / thin / coronal / broken
    series_number: int
    description: str
    image_type: list[str]
    center0: np.ndarray
    normal: np.ndarray
    row_dir: np.ndarray
    col_dir: np.ndarray
    spacing: float  # between slice planes along the normal, mm
    thickness: float
    n_slices: int
    rows: int
    cols: int
    pixel_spacing: tuple[float, float]  # (between rows, between columns)
    descending: bool = False  # image 1 is the last plane (highest k)
    multiframe: bool = False
    tilt_deg: float = 0.0
    kernel: str = "B30f"
    series_uid: str = ""
    series_index: int = 0  # order within the study (folder naming)
    extra: dict = field(default_factory=dict)

    @property
    def plane(self) -> str:
        if self.key == "localizer":
            return "localizer"
        return "axial" if abs(self.normal[2]) > 0.7 else ("coronal" if abs(self.normal[1]) > 0.7 else "sagittal")

    @property
    def iop(self) -> list[float]:
        return [float(round(v, 6)) for v in (*self.row_dir, *self.col_dir)]

    def center(self, k: int) -> np.ndarray:
        return self.center0 + k * self.spacing * self.normal

    def ipp(self, k: int) -> np.ndarray:
        """ImagePositionPatient: centre of the first transmitted pixel of slice k."""
        return (
            self.center(k)
            - (self.cols - 1) / 2.0 * self.pixel_spacing[1] * self.row_dir
            - (self.rows - 1) / 2.0 * self.pixel_spacing[0] * self.col_dir
        )

    def image_number(self, k: int) -> int:
        return self.n_slices - k if self.descending else k + 1

    def slice_of_image(self, number: int) -> int:
        return self.n_slices - number if self.descending else number - 1

    def nearest_slice(self, p_lps) -> int | None:
        """Index of the plane nearest the point, or None when it falls outside the stack."""
        t = float(np.dot(np.asarray(p_lps, float) - self.center0, self.normal)) / self.spacing
        k = int(np.floor(t + 0.5))
        return k if 0 <= k < self.n_slices else None

    def pixel_points(self, k: int) -> np.ndarray:
        """LPS position of every pixel of slice k, shape (rows, cols, 3), float32."""
        ipp = self.ipp(k).astype(np.float32)
        j = np.arange(self.cols, dtype=np.float32) * np.float32(self.pixel_spacing[1])
        i = np.arange(self.rows, dtype=np.float32) * np.float32(self.pixel_spacing[0])
        return (
            ipp[None, None, :]
            + j[None, :, None] * self.row_dir.astype(np.float32)[None, None, :]
            + i[:, None, None] * self.col_dir.astype(np.float32)[None, None, :]
        )


def axial_dirs(tilt_deg: float = 0.0):
    """(row_dir, col_dir, normal) for an axial stack tilted about x by `tilt_deg`."""
    t = np.deg2rad(tilt_deg)
    row = np.array([1.0, 0.0, 0.0])
    col = np.array([0.0, np.cos(t), -np.sin(t)])
    return row, col, np.cross(row, col)


CORONAL_DIRS = (np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, -1.0]), np.array([0.0, 1.0, 0.0]))

__all__ = ["SeriesPlan", "axial_dirs", "CORONAL_DIRS"]
