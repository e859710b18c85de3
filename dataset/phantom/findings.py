"""The 18 CT-RATE findings: where each is placed, how it is drawn, how it is phrased.

`plan_findings(rng, params, labels)` chooses 3D positions (anatomic mm) for each present
label; `render_findings(phantom, findings, scale)` paints them into a `Phantom`. Each label
has a strong, distinctive look that survives 64x64 pixels and 6 mm voxels (the tiny model's
training grid: a finding under two voxels across is gone there):

nodules: 3-5 soft-tissue spheres 24-32 mm in a lobe; consolidation: +40 HU region of 40 mm radius
crossed by four air bronchograms; lung opacity: -500 HU ground-glass region of 40 mm radius; pleural
effusion: +10 HU dependent crescent 60-80 mm deep at a base; emphysema: -955 HU in both upper lobes
(below the -950 HU of the clinical LAA-950 index) with -1000 HU bullae; cardiomegaly: heart x1.3;
pericardial effusion: fluid rim round the heart; arterial calcification: a 1,100 HU ring 8 mm thick
round the descending aorta; coronary calcification: three 1,200 HU plaques; medical material: +2500
HU pacemaker can with a lead; hiatal hernia: air-fluid bubble of 34-40 mm radius behind the heart
above the diaphragm; lymphadenopathy: three soft-tissue nodes 44-48 mm in mediastinal fat;
atelectasis: dense band at a lung base; fibrotic sequela: eighteen reticular dense strands 13 mm
thick; mosaic attenuation: 24 mm checkerboard of -930/-640 HU lobules; peribronchial thickening: six
thick-walled airways; bronchiectasis: six dilated airways (18 mm lumen) with 6 mm walls; septal
thickening: 18 mm grid of 6.5 mm -150 HU lines. (Smaller findings, 10-16 mm nodules and 14 mm septal
grids, left the tiny model's zero-shot AUROC at chance for most lung labels; the sizes above, with a
quarter of the labels present per study instead of 36 %, lifted its test macro AUROC at 600 steps
from 0.664 to 0.731, the mean of three seeds (model/README.md).)

Every finding has one or more `centers` (anatomic mm): the truth position a report's image
reference points at, always on a voxel the finding painted.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from data_contracts.labels import CT_RATE_LABELS

from .anatomy import AnatomyParams, Phantom

# Lobe -> (centre as fractions of (a, b) and z mm, English, German dative phrase)
LOBES: dict[str, tuple[tuple[float, float, float], str, str]] = {
    "RUL": ((-0.45, -0.05, 95.0), "right upper lobe", "im rechten Oberlappen"),
    "RML": ((-0.45, -0.45, 15.0), "right middle lobe", "im Mittellappen"),
    "RLL": ((-0.50, 0.45, -15.0), "right lower lobe", "im rechten Unterlappen"),
    "LUL": ((0.45, -0.05, 90.0), "left upper lobe", "im linken Oberlappen"),
    "LING": ((0.52, -0.40, 5.0), "lingula", "in der Lingula"),
    "LLL": ((0.52, 0.45, -25.0), "left lower lobe", "im linken Unterlappen"),
}
LUNG_LABELS = {
    "Lung nodule", "Lung opacity", "Consolidation", "Atelectasis", "Pulmonary fibrotic sequela",
    "Mosaic attenuation pattern", "Peribronchial thickening", "Bronchiectasis",
    "Interlobular septal thickening", "Emphysema", "Pleural effusion",
}
# Labels whose reference may be a range of images (extended findings).
EXTENDED = {
    "Consolidation", "Lung opacity", "Atelectasis", "Pulmonary fibrotic sequela",
    "Mosaic attenuation pattern", "Interlobular septal thickening", "Pleural effusion",
    "Bronchiectasis", "Peribronchial thickening",
}


@dataclass
class Finding:
    label: str
    lobe: str | None  # key of LOBES, or None for non-lung findings
    centers: list[np.ndarray] = field(default_factory=list)  # anatomic mm
    radius_mm: float = 10.0
    half_extent_z: float = 5.0  # the finding is visible within +- this of each centre (mm)
    size_mm: float = 10.0  # what the report says
    side: str = "right"  # for effusions / phrasing

    @property
    def location_en(self) -> str:
        return LOBES[self.lobe][1] if self.lobe else ""

    @property
    def location_de(self) -> str:
        return LOBES[self.lobe][2] if self.lobe else ""


def _lobe_point(rng, params: AnatomyParams, lobe: str, jitter=(12.0, 12.0, 12.0)) -> np.ndarray:
    (fx, fy, z), _, _ = LOBES[lobe]
    base = np.array([fx * params.a, fy * params.b, z])
    return base + rng.uniform(-1, 1, 3) * np.asarray(jitter)


def _choose_lobe(rng, options=tuple(LOBES)) -> str:
    return str(options[int(rng.integers(len(options)))])


def plan_findings(rng: np.random.Generator, params: AnatomyParams, labels: list[str]) -> list[Finding]:
    """Positions and sizes for each label in `labels` (anatomic mm, before rendering)."""
    a, b = params.a, params.b
    out: list[Finding] = []
    for label in labels:
        f = Finding(label=label, lobe=None)
        if label == "Lung nodule":
            n = int(rng.choice([3, 4, 4, 5]))
            f.lobe = _choose_lobe(rng)
            f.size_mm = float(rng.integers(24, 33))
            f.radius_mm = f.size_mm / 2
            f.half_extent_z = f.radius_mm - 1.0
            zs = []
            for _ in range(n):
                for _try in range(30):
                    p = _lobe_point(rng, params, f.lobe, (15, 20, 30))
                    if all(abs(p[2] - z) > 20 for z in zs):
                        break
                zs.append(p[2])
                f.centers.append(p)
        elif label in ("Consolidation", "Lung opacity", "Atelectasis", "Pulmonary fibrotic sequela",
                       "Mosaic attenuation pattern", "Interlobular septal thickening",
                       "Bronchiectasis", "Peribronchial thickening"):
            lower = label in ("Atelectasis", "Bronchiectasis", "Peribronchial thickening")
            f.lobe = _choose_lobe(rng, ("RLL", "LLL") if lower else tuple(LOBES))
            f.radius_mm = {"Consolidation": 40.0, "Lung opacity": 40.0, "Atelectasis": 40.0,
                           "Pulmonary fibrotic sequela": 40.0, "Mosaic attenuation pattern": 55.0,
                           "Interlobular septal thickening": 50.0, "Bronchiectasis": 34.0,
                           "Peribronchial thickening": 34.0}[label]
            f.size_mm = f.radius_mm * 2
            f.half_extent_z = {"Atelectasis": 8.0}.get(label, f.radius_mm * 0.5)
            f.centers.append(_lobe_point(rng, params, f.lobe, (6, 8, 8)))
        elif label == "Emphysema":
            f.lobe = _choose_lobe(rng, ("RUL", "LUL"))
            f.radius_mm = 55.0
            f.half_extent_z = 6.0
            for _ in range(int(rng.integers(1, 4))):
                f.centers.append(_lobe_point(rng, params, f.lobe, (10, 20, 25)))
            f.size_mm = 20.0
        elif label == "Pleural effusion":
            f.side = "right" if rng.random() < 0.5 else "left"
            f.lobe = "RLL" if f.side == "right" else "LLL"
            f.radius_mm = float(rng.uniform(60, 80))  # depth of the crescent
            f.size_mm = f.radius_mm
            f.half_extent_z = 10.0
        elif label == "Cardiomegaly":
            f.radius_mm = 70.0
            f.half_extent_z = 30.0
        elif label == "Pericardial effusion":
            f.radius_mm = 18.0
            f.half_extent_z = 30.0
            f.size_mm = 18.0
        elif label == "Arterial wall calcification":
            z = float(rng.uniform(-90, 30))
            f.centers.append(np.array([0.14 * a, 0.42 * b, z]))
            f.radius_mm = 13.0
            f.half_extent_z = 15.0
        elif label == "Coronary artery wall calcification":
            f.centers.append(np.array([0.12 * a + 0.30 * a, -0.28 * b - 0.18 * b, float(rng.uniform(-20, 0))]))
            f.radius_mm = 6.0
            f.half_extent_z = 5.0
        elif label == "Medical material":
            f.centers.append(np.array([0.62 * a, -0.80 * b, float(rng.uniform(90, 115))]))
            f.radius_mm = 20.0
            f.half_extent_z = 10.0
        elif label == "Hiatal hernia":
            f.centers.append(np.array([0.05 * a, 0.30 * b, params.dome_l + 8.0]))
            f.radius_mm = float(rng.uniform(34, 40))
            f.size_mm = 2 * f.radius_mm
            f.half_extent_z = f.radius_mm * 0.6
        elif label == "Lymphadenopathy":
            spots = [np.array([-0.08 * a, 0.05 * b, 40.0]), np.array([0.0, 0.2 * b, 12.0]),
                     np.array([0.10 * a, -0.05 * b, 62.0])]
            for i in rng.permutation(3):  # all three stations, in a random order
                f.centers.append(spots[i] + rng.uniform(-3, 3, 3))
            f.radius_mm = 23.0
            f.size_mm = 44.0
            f.half_extent_z = 10.0
        out.append(f)
    return out


def render_findings(ph: Phantom, findings: list[Finding], rng: np.random.Generator, scale: float = 1.0) -> None:
    """Paint the findings into the phantom; settles each finding's centres on painted voxels.

    `scale` shrinks sizes (a prior study shows the same findings slightly smaller).
    Heart-related findings (cardiomegaly, pericardial effusion) are drawn by
    `anatomy.build_phantom`; here they only get their centre.
    """
    p = ph.params
    a, b = p.a, p.b
    heart_c = np.array([0.12 * a, -0.28 * b, -20.0])
    for f in findings:
        L = f.label
        if L in ("Cardiomegaly", "Pericardial effusion"):
            if L == "Cardiomegaly":
                f.centers = [heart_c.copy()]
            else:  # the anterior fluid rim, at the heart's mid level
                hr = np.array([0.36 * a, 0.40 * b, 52.0]) * p.heart_scale
                f.centers = [heart_c + np.array([0.0, -(hr[1] + 9.0), 0.0])]
        elif L == "Lung nodule":
            r = max(4.0, f.radius_mm * scale)
            base = np.array([LOBES[f.lobe][0][0] * a, LOBES[f.lobe][0][1] * b, LOBES[f.lobe][0][2]])
            for i, c in enumerate(f.centers):
                for _ in range(8):  # pull a stray centre back towards the lobe until in lung
                    if ph.in_lung(c):
                        break
                    c = base + 0.6 * (c - base)
                f.centers[i] = c
                sl, m = ph.ellipsoid(c, r)
                ph.paint(sl, m, 35.0)
        elif L == "Consolidation":
            c = f.centers[0]
            sl, m = ph.ellipsoid(c, np.array([1.0, 1.1, 0.9]) * f.radius_mm * scale)
            dense = np.zeros(ph.hu.shape, bool)
            dense[sl] = ph.paint(sl, m, 40.0, lung_only=True)
            for k in range(4):  # air bronchograms: the airways through the consolidated lung stay air-filled
                ang = 2 * np.pi * k / 4 + 0.3
                d = np.array([np.cos(ang), np.sin(ang), 0.6])
                s2, dist = ph.capsule(c - d * f.radius_mm * 0.2, c + d * f.radius_mm * 0.8, 4.5)
                air = (dist <= 4.5) & dense[s2]
                ph.paint(s2, air, -1000.0)
                dense[s2] &= ~air
            _settle(ph, f, sl, dense[sl])  # the reference lands on consolidated lung, not in an airway
        elif L == "Lung opacity":
            c = f.centers[0]
            sl, m = ph.ellipsoid(c, np.array([1.0, 0.9, 0.8]) * f.radius_mm * scale)
            m = ph.paint(sl, m, -500.0, lung_only=True)
            _settle(ph, f, sl, m)
        elif L == "Atelectasis":
            c = f.centers[0].copy()
            sl, m = ph.ellipsoid(c, np.array([f.radius_mm, 24.0, f.half_extent_z + 8]) * max(scale, 0.8))
            m = ph.paint(sl, m, 25.0, lung_only=True)
            _settle(ph, f, sl, m)
        elif L == "Pulmonary fibrotic sequela":
            c = f.centers[0]
            sl, m0 = ph.ellipsoid(c, f.radius_mm)
            for _ in range(18):
                d = rng.normal(size=3)
                d[2] *= 0.3
                d /= np.linalg.norm(d)
                q = c + rng.uniform(-0.4, 0.4, 3) * f.radius_mm
                s2, dist = ph.capsule(q - d * f.radius_mm * 0.8, q + d * f.radius_mm * 0.8, 6.5)
                ph.paint(s2, dist <= 6.5, 20.0, lung_only=True)
            sl, m = ph.ellipsoid(c, 7.0)
            m = ph.paint(sl, m, 20.0, lung_only=True)
            _settle(ph, f, sl, m)
        elif L == "Mosaic attenuation pattern":
            c = f.centers[0]
            sl, (X, Y, Z) = ph.box(c - f.radius_mm, c + f.radius_mm)
            inside = ((X - c[0]) ** 2 + (Y - c[1]) ** 2 + ((Z - c[2]) / 0.8) ** 2) <= f.radius_mm ** 2
            cell = ((np.floor(X / 24.0) + np.floor(Y / 24.0) + np.floor(Z / 24.0)) % 2 == 0)
            ph.paint(sl, inside & cell, -930.0, lung_only=True)
            m = ph.paint(sl, inside & ~cell, -640.0, lung_only=True)
            _settle(ph, f, sl, m)
        elif L == "Interlobular septal thickening":
            c = f.centers[0]
            sl, (X, Y, Z) = ph.box(c - f.radius_mm, c + f.radius_mm)
            inside = ((X - c[0]) ** 2 + (Y - c[1]) ** 2 + ((Z - c[2]) / 0.8) ** 2) <= f.radius_mm ** 2
            lines = (np.mod(X - c[0], 18.0) < 6.5) | (np.mod(Y - c[1], 18.0) < 6.5)
            m = ph.paint(sl, inside & lines, -150.0, lung_only=True)
            _settle(ph, f, sl, m)
        elif L in ("Bronchiectasis", "Peribronchial thickening"):
            c = f.centers[0]
            lumen, wall = (9.0, 6.0) if L == "Bronchiectasis" else (3.0, 8.0)
            painted = None
            for k in range(6):
                ang = 2 * np.pi * k / 6 + 0.4
                q = c + np.array([np.cos(ang), np.sin(ang), 0.0]) * (14.0 + 8.0 * (k % 2))
                top = q + np.array([rng.uniform(-6, 6), rng.uniform(-6, 6), f.radius_mm])
                bot = q - np.array([0.0, 0.0, f.radius_mm])
                s2, dist = ph.capsule(bot, top, lumen + wall)
                ph.paint(s2, dist <= lumen + wall, 30.0, lung_only=True)
                ph.paint(s2, dist <= lumen, -1000.0, lung_only=True)
                if k == 0:
                    painted = (s2, dist <= lumen + wall)
            sl, m = painted
            _settle(ph, f, sl, m & ph.lung[sl])
        elif L == "Emphysema":
            c0 = f.centers[0]
            for mirror in (1.0, -1.0):  # centrilobular emphysema: both upper lobes
                sl, m = ph.ellipsoid(c0 * np.array([mirror, 1.0, 1.0]), f.radius_mm)
                ph.paint(sl, m, -955.0, lung_only=True)
            for i, c in enumerate(f.centers):
                r = 11.0 + 3.0 * (i % 3)
                sl, m = ph.ellipsoid(c, r + 3.0)
                ph.paint(sl, m, -600.0, lung_only=True)
                sl, m = ph.ellipsoid(c, r)
                ph.paint(sl, m, -1000.0, lung_only=True)
                f.centers[i] = _nearest_in(ph, sl, m & ph.lung[sl], c)
        elif L == "Pleural effusion":
            sgn = -1 if f.side == "right" else 1
            sl, (X, Y, Z) = ph.box([sgn * 0.45 * a - 0.45 * a, -b, -150], [sgn * 0.45 * a + 0.45 * a, b, 10])
            yb = 0.80 * b  # posterior lung extent
            depth = f.radius_mm * scale
            m = (Y > yb - depth - 0.25 * (Z + 40.0)) & (Z < 0.0)
            m = ph.paint(sl, m, 10.0, lung_only=True)
            _settle(ph, f, sl, m)
        elif L == "Arterial wall calcification":
            c = f.centers[0]
            s2, dist = ph.capsule(c - [0, 0, f.half_extent_z + 4], c + [0, 0, f.half_extent_z + 4], 17.0)
            ph.paint(s2, (dist <= 17.0) & (dist >= 9.0), 1100.0)
            f.centers[0] = c + np.array([12.5, 0.0, 0.0])  # on the rim
        elif L == "Coronary artery wall calcification":
            c = f.centers[0]
            for off in ([0.0, 0.0, 0.0], [-10.0, 8.0, -12.0], [12.0, -6.0, 10.0]):  # plaques along the arteries
                q = c + np.asarray(off)
                s2, dist = ph.capsule(q + [-14, -5, 3], q + [14, 5, -3], 6.5)
                ph.paint(s2, dist <= 6.5, 1200.0)
        elif L == "Medical material":
            c = f.centers[0]
            sl, (X, Y, Z) = ph.box(c - [20, 6, 14], c + [20, 6, 14])
            ph.paint(sl, np.ones(ph.hu[sl].shape, bool), 2500.0)
            s2, dist = ph.capsule(c, [0.0, -0.25 * b, -10.0], 3.0)
            ph.paint(s2, dist <= 3.0, 2000.0)
        elif L == "Hiatal hernia":
            c = f.centers[0]
            r = f.radius_mm * max(scale, 0.85)
            sl, (X, Y, Z) = ph.box(c - r, c + r)
            inside = ((X - c[0]) ** 2 + (Y - c[1]) ** 2 + (Z - c[2]) ** 2) <= r ** 2
            ph.paint(sl, inside, 40.0)  # wall
            inner = ((X - c[0]) ** 2 + (Y - c[1]) ** 2 + (Z - c[2]) ** 2) <= (r - 3) ** 2
            ph.paint(sl, inner & (Y < c[1] + 2), -1000.0)  # gas anteriorly (supine)
            ph.paint(sl, inner & (Y >= c[1] + 2), 15.0)  # dependent fluid
            ph.lung[sl] &= ~np.broadcast_to(inside, ph.lung[sl].shape)
        elif L == "Lymphadenopathy":
            for i, c in enumerate(f.centers):
                sl, m = ph.ellipsoid(c, [24.0, 22.0, 22.0])
                ph.paint(sl, m, 42.0)
        else:  # pragma: no cover - all 18 handled
            raise ValueError(L)


def _settle(ph: Phantom, f: Finding, sl, m) -> None:
    """Move the finding's centre onto the painted voxel nearest the painted centroid."""
    c = ph.lung_centroid_of(sl, m)
    if c is not None:
        if f.centers:
            f.centers[0] = c
        else:
            f.centers.append(c)


def _nearest_in(ph: Phantom, sl, m, c) -> np.ndarray:
    idx = np.nonzero(np.broadcast_to(m, ph.hu[sl].shape))
    if len(idx[0]) == 0:
        return np.asarray(c, float)
    from .anatomy import VOXEL_MM

    pts = ph.origin + VOXEL_MM * np.stack([idx[d] + sl[d].start for d in range(3)], axis=1)
    return pts[np.argmin(((pts - c) ** 2).sum(axis=1))]


def draw_labels(rng: np.random.Generator) -> dict[str, str]:
    """Truth value per label: present (25 %) / uncertain (5 %) / absent (50 %) / not_mentioned (20 %), at least two
    present. About four findings per study, not six: fewer overlapping findings in one chest leave each label's
    look less confounded by the others' for a model trained on a few dozen volumes."""
    values: dict[str, str] = {}
    for label in CT_RATE_LABELS:
        u = rng.random()
        if u < 0.25:
            values[label] = "present"
        elif u < 0.30:
            values[label] = "uncertain"
        elif u < 0.80:
            values[label] = "absent"
        else:
            values[label] = "not_mentioned"
    present = [k for k, v in values.items() if v == "present"]
    while len(present) < 2:
        k = CT_RATE_LABELS[int(rng.integers(len(CT_RATE_LABELS)))]
        values[k] = "present"
        present = [k for k, v in values.items() if v == "present"]
    return values


__all__ = ["Finding", "LOBES", "EXTENDED", "LUNG_LABELS", "plan_findings", "render_findings", "draw_labels"]
