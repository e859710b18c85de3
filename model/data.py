"""Training data from the published tables: volumes, their reports and labels, and snippet-slice pairs.

Tables are read through `data_contracts.read_table`; array paths come from `volumes.array_path`.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, default_collate, get_worker_info

import data_contracts
from data_contracts.labels import CT_RATE_LABELS
from model.config import RadFinderConfig
from model.preprocess import Grid, run_pipeline, slice_to_position, valid_positions, whole_hu, z_to_slice

LABEL_CODE_PRESENT, LABEL_CODE_ABSENT, LABEL_CODE_MASKED = 1, 0, -1


@dataclass
class SliceRef:
    """One referenced slice of a volume and the snippets that point at it."""

    z_mm: float
    snippets: list[str]
    weights: list[float]  # 1 / duplicate cluster size, per snippet
    pair_ids: list[str]
    targets: list[np.ndarray]  # per snippet, (L,) int8 label codes at this slice (`slice_targets`)


@dataclass
class VolumeRecord:
    series_uid: str
    study_uid: str
    patient_id: str
    array_path: Path
    affine: np.ndarray  # (4, 4)
    report_id: str | None
    report_text: str
    targets: np.ndarray  # (L,) int8 in {1, 0, -1 = masked}
    refs: list[SliceRef] = field(default_factory=list)


def _label_code(value: str, not_mentioned_is_absent: bool) -> int:
    if value == "present":
        return LABEL_CODE_PRESENT
    if value == "absent" or (value == "not_mentioned" and not_mentioned_is_absent):
        return LABEL_CODE_ABSENT
    return LABEL_CODE_MASKED


def load_records(data_dir: str | os.PathLike, split: str | None, cfg: RadFinderConfig) -> list[VolumeRecord]:
    """Volumes of `split` (all when None) with report text, label targets and referenced slices."""
    data_dir = data_contracts.current_dir(data_dir)  # array paths are relative to the published version
    if not data_contracts.has_table("volumes", data_dir):
        raise FileNotFoundError(
            f"{data_dir} has no volumes table: the run that wrote it did not build the training volumes. "
            "Run `radmine mine ... --volumes` (and give `radmine serve` --volumes too, or each night's version "
            "has none), or `radmine volumes DATA_DIR` after `radmine index`")
    vols = data_contracts.read_table("volumes", data_dir).to_pylist()
    if split is not None:
        if split not in {"train", "val", "test"}:
            raise ValueError(f"split must be train, val or test, got {split!r}")
        vols = [v for v in vols if v["split"] == split]
    reports = {r["report_id"]: r for r in data_contracts.read_table("reports", data_dir).to_pylist()}
    pairs = data_contracts.read_table("snippet_slices", data_dir).to_pylist()
    # study -> report: the matched pairs name it; the series' accession number covers studies without pairs
    study_report: dict[str, str] = {}
    for p in pairs:
        study_report.setdefault(p["study_instance_uid"], p["report_id"])
    if data_contracts.has_table("series", data_dir):
        by_accession = {r["accession_number"]: rid for rid, r in sorted(reports.items())}
        for s in data_contracts.read_table("series", data_dir, columns=["study_instance_uid", "accession_number"]).to_pylist():
            if s["accession_number"] in by_accession:
                study_report.setdefault(s["study_instance_uid"], by_accession[s["accession_number"]])
    targets: dict[str, np.ndarray] = {}
    label_index = {name: i for i, name in enumerate(CT_RATE_LABELS)}
    for row in data_contracts.read_table("labels", data_dir, columns=["report_id", "label", "value"]).to_pylist():
        t = targets.setdefault(row["report_id"], np.full(len(CT_RATE_LABELS), LABEL_CODE_MASKED, dtype=np.int8))
        t[label_index[row["label"]]] = _label_code(row["value"], cfg.not_mentioned_is_absent)
    dup_size: dict[tuple[str, int], int] = {}
    if data_contracts.has_table("references", data_dir):
        for r in data_contracts.read_table("references", data_dir,
                                           columns=["report_id", "ref_id", "duplicate_cluster_size"]).to_pylist():
            dup_size[(r["report_id"], r["ref_id"])] = int(r["duplicate_cluster_size"] or 1)
    said: dict[tuple[str, int], dict[str, str]] = {}  # (report, reference) -> {label: value in its snippet}
    if data_contracts.has_table("snippet_labels", data_dir):
        for r in data_contracts.read_table("snippet_labels", data_dir).to_pylist():
            said.setdefault((r["report_id"], r["ref_id"]), {})[r["label"]] = r["value"]
    refs_by_volume: dict[str, dict[float, SliceRef]] = {}
    for p in pairs:
        by_z = refs_by_volume.setdefault(p["volume_series_instance_uid"], {})
        ref = by_z.setdefault(round(float(p["z_mm"]), 3), SliceRef(float(p["z_mm"]), [], [], [], []))
        ref.snippets.append(p["snippet"])
        ref.weights.append(1.0 / dup_size.get((p["report_id"], p["ref_id"]), 1))
        ref.pair_ids.append(p["pair_id"])
        ref.targets.append(slice_targets(targets.get(p["report_id"]), said.get((p["report_id"], p["ref_id"]), {})))
    records = []
    for v in vols:
        rid = study_report.get(v["study_instance_uid"])
        text = reports[rid]["text"] if rid in reports else ""
        records.append(VolumeRecord(
            series_uid=v["series_instance_uid"], study_uid=v["study_instance_uid"], patient_id=v["patient_id"],
            array_path=data_dir / v["array_path"], affine=np.asarray(v["affine"], dtype=np.float64).reshape(4, 4),
            report_id=rid, report_text=text,
            targets=targets.get(rid, np.full(len(CT_RATE_LABELS), LABEL_CODE_MASKED, dtype=np.int8)),
            refs=sorted(refs_by_volume.get(v["series_instance_uid"], {}).values(), key=lambda r: r.z_mm)))
    return records


def slice_targets(report: np.ndarray | None, snippet: dict[str, str]) -> np.ndarray:
    """What holds at a referenced slice: present where its snippet says so; absent where the snippet or the
    whole report says absent; masked otherwise (a finding of the report may or may not reach this slice)."""
    t = np.full(len(CT_RATE_LABELS), LABEL_CODE_MASKED, dtype=np.int8)
    if report is not None:
        t[report == LABEL_CODE_ABSENT] = LABEL_CODE_ABSENT
    for i, name in enumerate(CT_RATE_LABELS):
        v = snippet.get(name)
        if v == "present":
            t[i] = LABEL_CODE_PRESENT
        elif v == "absent":
            t[i] = LABEL_CODE_ABSENT
    return t


def truncated_reports(tokenizer, texts: list[str], max_tokens: int) -> int:
    """How many of `texts` the tokenizer cuts at `max_tokens` (the rest of such a report is never seen)."""
    n = 0
    for i in range(0, len(texts), 256):
        _, mask = tokenizer.encode(texts[i:i + 256], max_tokens + 1)  # (N, max_tokens + 1): full where cut
        n += int(mask[:, -1].sum())
    return n


def load_grid(record: VolumeRecord, cfg: RadFinderConfig, out: np.ndarray | None = None, hu: bool = False) -> Grid:
    """The record's preprocessed volume; `out`: an array of `cfg.crop_shape` to write it into; `hu`: clipped HU as
    int16 (`preprocess.CropClip`) instead of [0, 1] float32."""
    arr = np.load(record.array_path, mmap_mode="r")
    if arr.ndim != 3:
        raise ValueError(f"{record.array_path}: expected a (D, H, W) array, got shape {arr.shape}")
    return run_pipeline(arr, record.affine, cfg, out, hu)


def place_ref(grid: Grid, z_mm: float, slab: int) -> tuple[float, int] | None:
    """(slice index, depth position) of z in the grid, or None when it falls outside the real slices."""
    k = z_to_slice(grid, z_mm)
    lo, hi = grid.valid_range
    if not (lo - 0.5 <= k < hi - 0.5):
        return None
    return k, slice_to_position(k, slab)


def augments(cfg: RadFinderConfig) -> bool:
    """Whether training augments at all (any augment_* setting above 0)."""
    return bool(cfg.augment_shift_px or cfg.augment_intensity or cfg.augment_rotate_deg or cfg.augment_zoom)


def hu_batches(cfg: RadFinderConfig, workers: int) -> bool:
    """Whether a loader with `workers` ships int16 HU (`VolumeDataset(hu=True)`): only where batches cross processes,
    nothing is augmented and the window is whole HU."""
    return workers > 0 and not augments(cfg) and whole_hu(cfg.hu_window)


def augment(vol: np.ndarray, rng: np.random.Generator, shift_px: int, intensity: float, rotate_deg: float = 0.0,
            zoom: float = 0.0) -> np.ndarray:
    """In-plane jitter of a (D, H, W) volume in [0, 1]: rotation by up to +- `rotate_deg` and scaling by 1 +- `zoom`
    about the centre, a shift of up to `shift_px` voxels (air fills the edges), then contrast and noise jitter. One
    transform for all slices and depth untouched, so referenced slices keep their positions and left stays left."""
    out = vol
    if rotate_deg or zoom:
        out = _rotate_zoom(out, float(rng.uniform(-rotate_deg, rotate_deg)), float(rng.uniform(-zoom, zoom)))
    if shift_px:
        dy, dx = (int(v) for v in rng.integers(-shift_px, shift_px + 1, 2))
        src, out = out, np.zeros_like(out)
        H, W = vol.shape[1:]
        out[:, max(dy, 0):H + min(dy, 0), max(dx, 0):W + min(dx, 0)] = \
            src[:, max(-dy, 0):H + min(-dy, 0), max(-dx, 0):W + min(-dx, 0)]
    if intensity:
        out = out * np.float32(1.0 + rng.uniform(-intensity, intensity))
        out = out + rng.normal(0.0, intensity / 2, out.shape).astype(np.float32)
    return np.ascontiguousarray(out, dtype=np.float32)


def _rotate_zoom(vol: np.ndarray, degrees: float, zoom: float) -> np.ndarray:
    """`vol` (D, H, W) rotated in plane by `degrees` and magnified by 1 + `zoom` about the centre (bilinear; 0 =
    air outside)."""
    a = math.radians(degrees)
    s = 1.0 / (1.0 + zoom)  # output pixel -> input pixel, in the normalised [-1, 1] coordinates of grid_sample
    H, W = vol.shape[1:]
    theta = torch.tensor([[[s * math.cos(a), -s * math.sin(a) * H / W, 0.0],
                           [s * math.sin(a) * W / H, s * math.cos(a), 0.0]]], dtype=torch.float32)  # (1, 2, 3)
    grid = torch.nn.functional.affine_grid(theta, (1, 1, H, W), align_corners=False)  # (1, H, W, 2)
    x = torch.from_numpy(np.ascontiguousarray(vol, dtype=np.float32))[None]  # (1, D, H, W): slices as channels
    return torch.nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)[0].numpy()


class VolumeDataset(Dataset):
    """Preprocessed volumes with one random snippet per referenced slice (at most `max_refs_per_volume`).

    The draw is fixed by (seed, epoch, index); referenced slices outside the crop are skipped
    (`placement_counts` counts them).
    """

    def __init__(self, records: list[VolumeRecord], cfg: RadFinderConfig, augment: bool = False, hu: bool = False):
        """`hu`: volumes as clipped HU in int16 (half the bytes a DataLoader worker hands over), which
        `preprocess.to_unit` turns into the [0, 1] float32 volumes of the default where the batch lands."""
        if not records:
            raise ValueError("no volumes to train or evaluate on")
        if hu and augment and augments(cfg):
            raise ValueError("VolumeDataset: HU volumes cannot be augmented (augmentation works on the [0, 1] scale); "
                             "set the augment_* settings to 0 or leave hu off")
        self.records, self.cfg, self.augment, self.hu = records, cfg, augment, hu
        self._cache: dict[int, Grid] = {}  # preprocessed grids, kept when cfg.cache_volumes (per worker)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, key: int | tuple[int, int]) -> dict:
        """`key` is an index, or (epoch, index) so the snippet draw changes per epoch and is reproducible."""
        return self._item(key)

    def __getitems__(self, keys: list) -> list[dict]:
        """A batch's items (the DataLoader fetches through this), their volumes written into one (B, D, H, W) tensor:
        in shared memory in a DataLoader worker, where `default_collate` would stack them, so that `Collate` passes it
        on as it is and no volume is copied between the pipeline and the main process."""
        volumes = _batch_tensor((len(keys), *self.cfg.crop_shape), torch.int16 if self.hu else torch.float32)
        return [self._item(key, volumes[b]) for b, key in enumerate(keys)]

    def _item(self, key: int | tuple[int, int], volume: torch.Tensor | None = None) -> dict:
        """Item `key`; `volume`: a tensor of the crop shape (and the dataset's dtype) to put its volume in."""
        epoch, i = key if isinstance(key, tuple) else (0, key)
        rec, cfg = self.records[i], self.cfg
        into = None if volume is None or cfg.cache_volumes else volume.numpy()  # a cached grid keeps its own array
        grid = self._cache.get(i) or load_grid(rec, cfg, into, self.hu)
        if cfg.cache_volumes:
            self._cache[i] = grid
        rng = np.random.default_rng((cfg.seed, epoch, i))
        placed = []
        for ref in rec.refs:
            where = place_ref(grid, ref.z_mm, cfg.slab_slices)
            if where is not None:
                placed.append((ref, where))
        if len(placed) > cfg.max_refs_per_volume:
            placed = [placed[j] for j in sorted(rng.choice(len(placed), cfg.max_refs_per_volume, replace=False))]
        snippets, positions, weights, slice_t = [], [], [], []
        for ref, (_, pos) in placed:
            j = int(rng.integers(len(ref.snippets)))
            snippets.append(ref.snippets[j])
            positions.append(pos)
            weights.append(ref.weights[j])
            slice_t.append(ref.targets[j])
        vol = grid.array
        if self.augment and augments(cfg):
            vol = augment(vol, rng, cfg.augment_shift_px, cfg.augment_intensity, cfg.augment_rotate_deg, cfg.augment_zoom)
        if volume is None:
            volume = torch.from_numpy(vol)
        elif vol is not into:
            volume.copy_(torch.from_numpy(vol))
        return {"volume": volume, "valid": torch.from_numpy(valid_positions(grid, cfg.slab_slices)),
                "report": rec.report_text, "targets": torch.from_numpy(rec.targets.astype(np.int64)),
                "snippets": snippets, "positions": positions, "weights": weights, "slice_targets": slice_t}


def _batch_tensor(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """An uninitialised tensor, in shared memory inside a DataLoader worker (made as `default_collate` makes its
    batches there)."""
    if get_worker_info() is None:
        return torch.empty(shape, dtype=dtype)
    proto = torch.empty(0, dtype=dtype)
    return proto.new(proto._typed_storage()._new_shared(math.prod(shape))).resize_(shape)


def _stacked(volumes: list[torch.Tensor]) -> torch.Tensor:
    """The (B, D, H, W) batch: the tensor `VolumeDataset.__getitems__` filled, when `volumes` are its slices in order;
    else their stack (into shared memory in a worker, by `default_collate`)."""
    base = volumes[0]._base
    if base is not None and base.dim() == 4 and len(base) == len(volumes) and \
            all(v._base is base and v.data_ptr() == base[b].data_ptr() for b, v in enumerate(volumes)):
        return base
    return default_collate(volumes)


class Collate:
    """Stacks volumes and tokenizes reports and snippets; snippets keep the batch index of their volume."""

    def __init__(self, tokenizer, cfg: RadFinderConfig):
        self.tokenizer, self.cfg = tokenizer, cfg

    def __call__(self, items: list[dict]) -> dict:
        owner = [b for b, it in enumerate(items) for _ in it["snippets"]]
        snippets = [s for it in items for s in it["snippets"]]
        r_ids, r_mask = self.tokenizer.encode([it["report"] for it in items], self.cfg.report_tokens)
        s_ids, s_mask = self.tokenizer.encode(snippets, self.cfg.snippet_tokens) if snippets else (
            torch.zeros(0, 2, dtype=torch.long), torch.zeros(0, 2, dtype=torch.bool))
        return {
            "volume": _stacked([it["volume"] for it in items]),  # (B, D, H, W)
            "valid": torch.stack([it["valid"] for it in items]),  # (B, P)
            "report_ids": r_ids, "report_mask": r_mask,  # (B, Lr)
            "targets": torch.stack([it["targets"] for it in items]),  # (B, L)
            "snippet_ids": s_ids, "snippet_mask": s_mask,  # (N, Ls)
            "snippet_owner": torch.tensor(owner, dtype=torch.long),  # (N,)
            "snippet_pos": torch.tensor([p for it in items for p in it["positions"]], dtype=torch.long),  # (N,)
            "snippet_weight": torch.tensor([w for it in items for w in it["weights"]], dtype=torch.float32),  # (N,)
            "slice_targets": torch.from_numpy(np.stack([t for it in items for t in it["slice_targets"]]).astype(np.int64))
            if snippets else torch.zeros(0, len(CT_RATE_LABELS), dtype=torch.long),  # (N, L) label codes at each slice
        }
