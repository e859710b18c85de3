"""The chest phantom: a Hounsfield-unit volume in anatomic coordinates, and a sampler.

Coordinates are DICOM LPS in millimetres: x grows to the patient's left, y grows towards
the back, z grows towards the head. The volume is built in *anatomic* coordinates (origin
roughly at the carina); a study places it on the table with a shift, so patient
coordinates = anatomic + shift. `Phantom.sample(points_lps)` evaluates HU at arbitrary
patient positions by trilinear interpolation, so axial, tilted, coronal and localizer
images are all cut from the same 3D truth.

Anatomy (body outline with subcutaneous fat and muscle, lungs with domed diaphragm,
mediastinal fat, heart, aorta, trachea and main bronchi, oesophagus, spine with discs and
canal, ribs, sternum, liver dome, stomach with gas, spleen) is drawn with vectorised numpy
masks limited to each structure's bounding box.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

VOXEL_MM = 3.0
X_RANGE = (-195.0, 195.0)
Y_RANGE = (-150.0, 150.0)
Z_RANGE = (-180.0, 180.0)

HU_AIR = -1000.0
HU_LUNG = -860.0
HU_FAT = -95.0
HU_MUSCLE = 45.0
HU_BLOOD = 40.0
HU_LIVER = 60.0
HU_BONE = 300.0
HU_CORTEX = 700.0


@dataclass
class AnatomyParams:
    """Per-patient body habitus (drawn once per patient, shared by all their studies)."""

    a: float = 160.0  # body half-width (x), mm
    b: float = 115.0  # body half-depth (y), mm
    lung_top: float = 150.0  # apex z
    dome_r: float = -50.0  # right hemidiaphragm apex z
    dome_l: float = -65.0  # left hemidiaphragm apex z
    heart_scale: float = 1.0

    @classmethod
    def draw(cls, rng: np.random.Generator) -> "AnatomyParams":
        return cls(
            a=float(rng.uniform(148, 172)),
            b=float(rng.uniform(105, 125)),
            lung_top=float(rng.uniform(140, 155)),
            dome_r=float(rng.uniform(-58, -42)),
            dome_l=float(rng.uniform(-72, -55)),
        )


@dataclass
class Phantom:
    """HU volume indexed [ix, iy, iz] on a regular VOXEL_MM grid in anatomic mm."""

    params: AnatomyParams
    hu: np.ndarray = field(repr=False)
    lung: np.ndarray = field(repr=False)  # bool, same shape: inside a lung
    shift: np.ndarray = field(default_factory=lambda: np.zeros(3))  # anatomic -> patient

    # ----------------------------------------------------------------- geometry helpers
    @property
    def origin(self) -> np.ndarray:
        return np.array([X_RANGE[0], Y_RANGE[0], Z_RANGE[0]])

    def box(self, lo, hi):
        """Index slices and broadcastable coordinate arrays (mm) for an anatomic box."""
        o = self.origin
        sl, coords = [], []
        for d in range(3):
            i0 = max(0, int(np.floor((lo[d] - o[d]) / VOXEL_MM)))
            i1 = min(self.hu.shape[d], int(np.ceil((hi[d] - o[d]) / VOXEL_MM)) + 1)
            i1 = max(i1, i0)
            sl.append(slice(i0, i1))
            c = o[d] + VOXEL_MM * np.arange(i0, i1, dtype=np.float32)
            shape = [1, 1, 1]
            shape[d] = len(c)
            coords.append(c.reshape(shape))
        return tuple(sl), coords

    def ellipsoid(self, c, r):
        """(slices, mask) of an axis-aligned ellipsoid centre c, semi-axes r."""
        c = np.asarray(c, float)
        r = np.broadcast_to(np.asarray(r, float), (3,))
        sl, (X, Y, Z) = self.box(c - r, c + r)
        m = ((X - c[0]) / r[0]) ** 2 + ((Y - c[1]) / r[1]) ** 2 + ((Z - c[2]) / r[2]) ** 2 <= 1.0
        return sl, m

    def capsule(self, p0, p1, radius):
        """(slices, distance-to-segment array) around the segment p0-p1 (mask: d <= radius)."""
        p0 = np.asarray(p0, float)
        p1 = np.asarray(p1, float)
        lo = np.minimum(p0, p1) - radius
        hi = np.maximum(p0, p1) + radius
        sl, (X, Y, Z) = self.box(lo, hi)
        v = p1 - p0
        L2 = float(v @ v) or 1e-9
        t = ((X - p0[0]) * v[0] + (Y - p0[1]) * v[1] + (Z - p0[2]) * v[2]) / L2
        t = np.clip(t, 0.0, 1.0)
        d = np.sqrt((X - p0[0] - t * v[0]) ** 2 + (Y - p0[1] - t * v[1]) ** 2 + (Z - p0[2] - t * v[2]) ** 2)
        return sl, d

    def paint(self, sl, mask, value, lung_only: bool = False, add: bool = False):
        """Set (or add) HU inside mask; returns the painted mask (after lung restriction)."""
        mask = np.broadcast_to(mask, self.hu[sl].shape)
        if lung_only:
            mask = mask & self.lung[sl]
        view = self.hu[sl]
        if add:
            view[mask] += value
        else:
            view[mask] = value
        return mask

    def in_lung(self, p) -> bool:
        idx = np.round((np.asarray(p, float) - self.origin) / VOXEL_MM).astype(int)
        if np.any(idx < 0) or np.any(idx >= np.array(self.lung.shape)):
            return False
        return bool(self.lung[tuple(idx)])

    def lung_centroid_of(self, sl, mask) -> np.ndarray | None:
        """The painted voxel nearest the centroid of `mask` (anatomic mm), or None if empty."""
        idx = np.nonzero(np.broadcast_to(mask, self.hu[sl].shape))
        if len(idx[0]) == 0:
            return None
        pts = np.stack([idx[d] + sl[d].start for d in range(3)], axis=1).astype(float)
        pts = self.origin + VOXEL_MM * pts
        cen = pts.mean(axis=0)
        return pts[np.argmin(((pts - cen) ** 2).sum(axis=1))]

    # ----------------------------------------------------------------------- sampling
    def sample(self, points_lps: np.ndarray) -> np.ndarray:
        """HU at patient (LPS) points, shape (..., 3) -> (...), trilinear; air outside."""
        pts = np.asarray(points_lps, dtype=np.float32)
        shape = pts.shape[:-1]
        f = (pts.reshape(-1, 3) - (self.origin + self.shift).astype(np.float32)) / np.float32(VOXEL_MM)
        n = np.array(self.hu.shape)
        i0 = np.floor(f).astype(np.int64)
        w = (f - i0).astype(np.float32)
        inside = np.all((i0 >= 0) & (i0 < n - 1), axis=1)
        i0 = np.clip(i0, 0, n - 2)
        flat = self.hu.reshape(-1)
        sx, sy = n[1] * n[2], n[2]
        base = i0[:, 0] * sx + i0[:, 1] * sy + i0[:, 2]
        wx, wy, wz = w[:, 0], w[:, 1], w[:, 2]
        out = np.zeros(len(base), dtype=np.float32)
        for dx in (0, 1):
            ax = wx if dx else 1 - wx
            for dy in (0, 1):
                ay = wy if dy else 1 - wy
                axy = ax * ay
                for dz in (0, 1):
                    az = wz if dz else 1 - wz
                    out += axy * az * flat[base + dx * sx + dy * sy + dz]
        out[~inside] = HU_AIR
        return out.reshape(shape)

    def to_patient(self, p_anat) -> np.ndarray:
        return np.asarray(p_anat, float) + self.shift


def build_phantom(params: AnatomyParams, pericardial_effusion: bool = False) -> Phantom:
    """Draw the normal chest (optionally with enlarged heart / pericardial fluid)."""
    nx = int(round((X_RANGE[1] - X_RANGE[0]) / VOXEL_MM)) + 1
    ny = int(round((Y_RANGE[1] - Y_RANGE[0]) / VOXEL_MM)) + 1
    nz = int(round((Z_RANGE[1] - Z_RANGE[0]) / VOXEL_MM)) + 1
    hu = np.full((nx, ny, nz), HU_AIR, dtype=np.float32)
    ph = Phantom(params=params, hu=hu, lung=np.zeros(hu.shape, dtype=bool))
    a, b = params.a, params.b
    o = ph.origin
    X = (o[0] + VOXEL_MM * np.arange(nx, dtype=np.float32))[:, None, None]
    Y = (o[1] + VOXEL_MM * np.arange(ny, dtype=np.float32))[None, :, None]
    Z = (o[2] + VOXEL_MM * np.arange(nz, dtype=np.float32))[None, None, :]

    # Body: elliptic cylinder; subcutaneous fat, muscle ring, then the cavity.
    rho = np.sqrt((X / a) ** 2 + (Y / b) ** 2)  # (nx, ny, 1)
    hu[np.broadcast_to(rho <= 1.0, hu.shape)] = HU_FAT
    hu[np.broadcast_to(rho <= 0.93, hu.shape)] = HU_MUSCLE
    # Diaphragm: two domes, lower towards the periphery and the back.
    dome = np.where(
        X < 0,
        params.dome_r - 0.0035 * ((X + 0.45 * a) ** 2) - 0.0025 * ((Y - 0.1 * b) ** 2),
        params.dome_l - 0.0035 * ((X - 0.45 * a) ** 2) - 0.0025 * ((Y - 0.1 * b) ** 2),
    )  # (nx, ny, 1)
    cavity = rho <= 0.86
    above = Z > dome
    hu[np.broadcast_to(cavity, hu.shape) & above] = HU_FAT  # mediastinal / thoracic fat
    hu[np.broadcast_to(cavity, hu.shape) & ~above] = 35.0  # abdomen (bowel, soft tissue)

    # Lungs: two ellipsoids cut by the diaphragm and the cavity.
    for side in (-1, 1):
        cx = side * 0.45 * a
        cz = (params.lung_top - 150.0) / 2.0 + 10.0
        r = np.array([0.36 * a, 0.80 * b, params.lung_top - cz])
        sl, m = ph.ellipsoid([cx, 0.05 * b, cz], r)
        m = m & cavity[sl[0], sl[1]] & above[sl] & (np.abs(X[sl[0]]) > 0.11 * a)
        ph.lung[sl] |= m
    # Mild anteroposterior gradient (dependent lung is denser).
    hu[ph.lung] = HU_LUNG
    gradient = np.broadcast_to(15.0 * (Y / b), hu.shape)
    hu[ph.lung] += gradient[ph.lung]

    # Liver (right, below the dome), stomach with gas, spleen (left posterior).
    sl, m = ph.ellipsoid([-0.35 * a, 0.0, params.dome_r - 80], [0.55 * a, 0.8 * b, 95])
    ph.paint(sl, m & ~above[sl] & cavity[sl[0], sl[1]], HU_LIVER)
    sl, m = ph.ellipsoid([0.38 * a, -0.25 * b, params.dome_l - 45], [0.28 * a, 0.35 * b, 40])
    ph.paint(sl, m & ~above[sl], 30.0)
    sl, m = ph.ellipsoid([0.38 * a, -0.35 * b, params.dome_l - 18], [0.18 * a, 0.2 * b, 14])
    ph.paint(sl, m & ~above[sl], HU_AIR)
    sl, m = ph.ellipsoid([0.55 * a, 0.55 * b, params.dome_l - 45], [0.16 * a, 0.22 * b, 45])
    ph.paint(sl, m & ~above[sl], 50.0)

    # Heart (and optional pericardial fluid rim), drawn over lung.
    hc = np.array([0.12 * a, -0.28 * b, -20.0])
    hr = np.array([0.36 * a, 0.40 * b, 52.0]) * params.heart_scale
    if pericardial_effusion:
        sl, m = ph.ellipsoid(hc, hr + 18.0)
        ph.paint(sl, m, 12.0)
        ph.lung[sl] &= ~m
    sl, m = ph.ellipsoid(hc, hr + 3.0)  # pericardial fat
    if not pericardial_effusion:
        ph.paint(sl, m, -70.0)
    ph.lung[sl] &= ~m
    sl, m = ph.ellipsoid(hc, hr)
    ph.paint(sl, m, 48.0)
    sl, m = ph.ellipsoid(hc + [0, 4, 0], hr * 0.72)
    ph.paint(sl, m, HU_BLOOD - 5)

    # Aorta: ascending, arch (chain of spheres), descending along the spine.
    asc = np.array([0.02 * a, -0.15 * b])
    desc = np.array([0.14 * a, 0.42 * b])
    sl, d = ph.capsule([asc[0], asc[1], -5], [asc[0], asc[1], 55], 14)
    ph.paint(sl, d <= 14, HU_BLOOD)
    for t in np.linspace(0, 1, 12):
        p = [asc[0] + t * (desc[0] - asc[0]), asc[1] + t * (desc[1] - asc[1]), 55 + 18 * np.sin(np.pi * t)]
        sl, m = ph.ellipsoid(p, 13)
        ph.paint(sl, m, HU_BLOOD)
        ph.lung[sl] &= ~m
    sl, d = ph.capsule([desc[0], desc[1], 55], [desc[0], desc[1], Z_RANGE[0]], 12)
    ph.paint(sl, d <= 12, HU_BLOOD)
    ph.lung[sl] &= ~(d <= 13)

    # Trachea and main bronchi (air with a soft-tissue wall), oesophagus.
    tr = np.array([0.0, 0.08 * b])
    for p0, p1, r in (
        ([tr[0], tr[1], 25], [tr[0], tr[1], Z_RANGE[1]], 9.0),
        ([tr[0], tr[1], 25], [-0.33 * a, 0.12 * b, 0.0], 6.5),
        ([tr[0], tr[1], 25], [0.33 * a, 0.14 * b, -5.0], 6.0),
    ):
        sl, d = ph.capsule(p0, p1, r + 2.5)
        ph.paint(sl, d <= r + 2.5, 30.0)
        ph.paint(sl, d <= r, HU_AIR)
        ph.lung[sl] &= ~(d <= r + 2.5)
    sl, d = ph.capsule([0.05 * a, 0.3 * b, Z_RANGE[0] + 60], [0.05 * a, 0.3 * b, Z_RANGE[1]], 7)
    ph.paint(sl, d <= 7, 40.0)

    # Spine: vertebral bodies with cortex and discs every 26 mm, canal, posterior elements.
    vc = np.array([0.0, 0.62 * b])
    sl, d = ph.capsule([vc[0], vc[1], Z_RANGE[0]], [vc[0], vc[1], Z_RANGE[1]], 18)
    ph.paint(sl, d <= 18, HU_CORTEX)
    ph.paint(sl, d <= 15, HU_BONE)
    Zs = Z[0, 0][sl[2]]
    disc = (np.mod(Zs + 7.0, 26.0) < 5.0).reshape(1, 1, -1)
    ph.paint(sl, (d <= 18) & disc, 90.0)
    sl2, (Xb, Yb, Zb) = ph.box([-14, vc[1] + 18, Z_RANGE[0]], [14, 0.97 * b, Z_RANGE[1]])
    post = np.broadcast_to((np.mod(Zb + 7.0, 26.0) > 6.0), hu[sl2].shape)
    ph.paint(sl2, post, 450.0)
    sl, d = ph.capsule([vc[0], vc[1] + 27, Z_RANGE[0]], [vc[0], vc[1] + 27, Z_RANGE[1]], 8)
    ph.paint(sl, d <= 8, 20.0)

    # Ribs: bands in the chest wall ring, sloping down anteriorly, every 24 mm.
    ring = (rho > 0.86) & (rho < 0.925)  # (nx, ny, 1)
    for z0 in np.arange(-130.0, Z_RANGE[1], 24.0):
        zr = z0 - 0.35 * (0.62 * b - Y)  # (1, ny, 1)
        band = ring & (np.abs(Z - zr) < 5.0)
        hu[band & (Y > -0.55 * b)] = 550.0
        hu[band & (Y <= -0.55 * b)] = 160.0  # costal cartilage
    # Sternum.
    sl, (Xs, Ys, Zs2) = ph.box([-16, -0.93 * b, -70], [16, -0.83 * b, 110])
    ph.paint(sl, np.ones(hu[sl].shape, bool), 420.0)
    return ph


__all__ = ["AnatomyParams", "Phantom", "build_phantom", "VOXEL_MM", "HU_AIR", "HU_LUNG"]
