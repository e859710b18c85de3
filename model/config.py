"""RadFinder configuration: one flat dataclass, saved into every checkpoint.

Every field says why it has its value. `tiny()` is the CPU-sized variant used by tests,
`make demo` and `radmine train --tiny`.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


LUNG_THRESHOLD_HU = -400.0  # lung field (`lung_bands_close_mm`): air and aerated lung lie below, soft tissue and fluid above


@dataclass
class RadFinderConfig:
    # --- preprocessing -------------------------------------------------------------------
    crop_shape: tuple[int, int, int] = (128, 192, 192)  # (D, H, W) voxels after crop/pad: 384 x 288 x 288 mm covers a chest
    spacing_mm: tuple[float, float, float] = (3.0, 1.5, 1.5)  # (depth, row, col) target spacing; the volume cache's default
    hu_window: tuple[float, float] = (-1000.0, 1000.0)  # air to dense bone; clipped then scaled to [0, 1]
    feature_mm: float = 12.0  # axial resolution of the depth features (RadFinder reports 12 mm)
    # --- volume encoder ------------------------------------------------------------------
    stem_channels: tuple[int, ...] = (32, 64, 128, 256)  # 2D conv stages per slab, each halves H and W
    hu_bands: tuple[float, ...] = ()  # HU edges of a tissue histogram per slab, its mean and max over depth added to the global feature ((): none). Density defines many CT findings (emphysema is lung below -950 HU, calcium above 130 HU); the tiny model learned them slowly from convolutions on few volumes (phantom emphysema test AUROC 0.67-0.83 without, 0.87-0.96 with, over three seeds)
    lung_bands_close_mm: float = 0.0  # > 0: also the histogram of the lung field alone (air the body encloses, closed over lesions up to this size), per slab, into the global feature (0: off; needs hu_bands). Soft tissue in the lung (consolidation, strands, thick airways) hides among the body's soft tissue in a whole-slab histogram; lung densitometry sees it (phantom, no training: a linear probe on lung-field and whole-volume bands scored test macro AUROC 0.758 against 0.672 on whole-volume bands alone; the tiny model's zero-shot macro over three seeds 0.749 -> 0.784, consolidation 0.47 -> 0.82)
    stem_pool: str = "mean"  # slab feature: spatial "mean", or "meanmax" (mean and max concatenated: small findings survive)
    vision_width: int = 256  # transformer width along depth
    vision_layers: int = 4  # depth-transformer layers: enough to relate levels across the chest
    vision_heads: int = 4  # heads per layer; width must divide evenly
    max_depth_positions: int = 64  # learned depth position table size; >= crop depth / slab slices
    volume_embed_norm: str = "none"  # "batch": centre volume and depth embeddings over the batch before L2 normalising
    # --- text encoder --------------------------------------------------------------------
    text_model: str = ""  # "": radmine's small transformer + WordPiece learned from the corpus; or a local Hugging Face checkpoint directory fine-tuned instead (the hf extra; never downloaded)
    vocab_size: int = 8000  # subword vocabulary trained on the report corpus; small corpora need few merges
    text_width: int = 256  # transformer width of the text encoder
    text_layers: int = 4  # text transformer layers
    text_heads: int = 4  # heads per text layer
    report_tokens: int = 512  # report length cap for report-volume pairs: whole reports (history and technique first) run 270-710 subword tokens on the phantom; cut at 128, only the history and technique were seen and retrieval stayed at chance; `radmine train` says how many are cut
    snippet_tokens: int = 48  # snippets are one sentence
    # --- shared space and losses ---------------------------------------------------------
    embed_dim: int = 256  # shared embedding size for volume, report, prompt and snippet
    init_logit_scale: float = 2.302585092994046  # SigLIP t init = log 10
    init_logit_bias: float = -10.0  # SigLIP b init: starts with most pairs predicted negative
    loc_tau: float = 0.1  # temperature of the localization softmax over depth
    loc_sigma: float = 2.0  # Gaussian blur of the one-hot depth target, in depth positions
    pos_weight_cap: float = 20.0  # cap on the per-label positive weight of the prompt loss
    not_mentioned_is_absent: bool = True  # reports rarely list every negative; CT-RATE counts unmentioned as absent
    w_siglip: float = 1.0  # report-volume SigLIP weight (reference)
    w_prompt: float = 0.5  # disease-prompt weight (reference)
    w_loc: float = 0.2  # localization weight: small, so grounding refines but does not dominate the shared space
    w_prompt_slice: float = 0.0  # disease prompts on the depth feature at each referenced slice (0: off, as in the reference): the snippet says which finding is there, the report which are nowhere; one report-level label per volume is little to learn a finding's look from
    prompt_templates: str = "train"  # "train": the reference's one pair; "all": one of the seven zero-shot pairs per step
    augment_shift_px: int = 0  # training only: random in-plane shift of up to this many voxels (rows and columns)
    augment_intensity: float = 0.0  # training only: random contrast scale 1 +- this, and Gaussian noise of sd this / 2
    augment_rotate_deg: float = 0.0  # training only: random in-plane rotation of up to +- this many degrees (patients lie a little rotated)
    augment_zoom: float = 0.0  # training only: random in-plane scale 1 +- this (body sizes differ; organ proportions stay)
    max_refs_per_volume: int = 4  # referenced slices per volume per step (one random snippet each)
    # --- optimisation --------------------------------------------------------------------
    batch_size: int = 32  # volumes per optimiser micro-batch (per rank); SigLIP likes large batches
    grad_accum: int = 1  # micro-batches per optimiser step
    lr: float = 3e-4  # AdamW peak learning rate for a from-scratch model of this size
    weight_decay: float = 0.05  # AdamW decay on matrices only
    warmup_steps: int = 200  # linear warmup before cosine decay
    steps: int = 10000  # optimiser steps in total
    grad_clip: float = 1.0  # global-norm gradient clipping
    seed: int = 0  # fixes init, sampling and augmentation
    cache_volumes: bool = False  # keep preprocessed volumes in memory: small datasets only (tiny runs)
    num_workers: int = 4  # DataLoader workers reading the volume cache
    log_every: int = 10  # steps between metric rows
    ckpt_every: int = 500  # steps between checkpoints
    compile: bool = False  # torch.compile the model (GPU runs)
    extra: dict[str, Any] = field(default_factory=dict)  # free-form notes carried into checkpoints

    def __post_init__(self) -> None:
        self.crop_shape = tuple(int(v) for v in self.crop_shape)
        self.spacing_mm = tuple(float(v) for v in self.spacing_mm)
        self.hu_window = tuple(float(v) for v in self.hu_window)
        self.stem_channels = tuple(int(v) for v in self.stem_channels)
        self.hu_bands = tuple(float(v) for v in self.hu_bands)
        if len(self.crop_shape) != 3 or min(self.crop_shape) < 1:
            raise ValueError(f"crop_shape must be three positive ints (D, H, W), got {self.crop_shape}")
        if len(self.spacing_mm) != 3 or min(self.spacing_mm) <= 0:
            raise ValueError(f"spacing_mm must be three positive floats, got {self.spacing_mm}")
        if self.hu_window[0] >= self.hu_window[1]:
            raise ValueError(f"hu_window must be (low, high) with low < high, got {self.hu_window}")
        if any(b <= a for a, b in zip(self.hu_bands, self.hu_bands[1:])) or any(
                not self.hu_window[0] < v < self.hu_window[1] for v in self.hu_bands):
            raise ValueError(f"hu_bands must be increasing HU edges inside hu_window {self.hu_window}, got {self.hu_bands}")
        if self.lung_bands_close_mm < 0 or (self.lung_bands_close_mm and not (
                self.hu_bands and self.hu_window[0] < LUNG_THRESHOLD_HU < self.hu_window[1])):
            raise ValueError(f"lung_bands_close_mm must be >= 0 and needs hu_bands and a hu_window that holds the lung "
                             f"threshold ({LUNG_THRESHOLD_HU:g} HU), got {self.lung_bands_close_mm} with hu_bands {self.hu_bands} and "
                             f"hu_window {self.hu_window}")
        if not (0 <= self.augment_zoom < 1 and 0 <= self.augment_rotate_deg <= 180):
            raise ValueError(f"augment_zoom must be in [0, 1) and augment_rotate_deg in [0, 180], got "
                             f"{self.augment_zoom} and {self.augment_rotate_deg}")
        ratio = self.feature_mm / self.spacing_mm[0]
        if ratio < 1 or abs(ratio - round(ratio)) > 1e-6:
            raise ValueError(f"feature_mm ({self.feature_mm}) must be a whole multiple of the slice spacing ({self.spacing_mm[0]})")
        if self.crop_shape[0] % self.slab_slices:
            raise ValueError(f"crop depth {self.crop_shape[0]} must be divisible by {self.slab_slices} slices per {self.feature_mm} mm position")
        if self.depth_positions > self.max_depth_positions:
            raise ValueError(f"{self.depth_positions} depth positions exceed max_depth_positions={self.max_depth_positions}")
        down = 2 ** len(self.stem_channels)
        if self.crop_shape[1] % down or self.crop_shape[2] % down:
            raise ValueError(f"crop H and W must be divisible by {down} for {len(self.stem_channels)} stem stages")
        for w, h, name in ((self.vision_width, self.vision_heads, "vision"), (self.text_width, self.text_heads, "text")):
            if w % h:
                raise ValueError(f"{name}_width {w} must be divisible by {name}_heads {h}")
        if self.volume_embed_norm not in ("none", "batch"):
            raise ValueError(f"volume_embed_norm must be 'none' or 'batch', got {self.volume_embed_norm!r}")
        if self.prompt_templates not in ("train", "all"):
            raise ValueError(f"prompt_templates must be 'train' or 'all', got {self.prompt_templates!r}")
        if min(self.batch_size, self.grad_accum, self.steps) < 1:
            raise ValueError("batch_size, grad_accum and steps must be >= 1")

    @property
    def slab_slices(self) -> int:
        """Slices per depth position."""
        return int(round(self.feature_mm / self.spacing_mm[0]))

    @property
    def depth_positions(self) -> int:
        """Depth positions in a cropped volume."""
        return self.crop_shape[0] // self.slab_slices

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RadFinderConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        return cls(**d)

    @classmethod
    def load(cls, path: str | Path, base: "RadFinderConfig | None" = None) -> "RadFinderConfig":
        """Read a JSON or YAML file of overrides on top of `base` (default: the full-size config)."""
        text = Path(path).read_text()
        if str(path).endswith((".yaml", ".yml")):
            import yaml

            overrides = yaml.safe_load(text) or {}
        else:
            overrides = json.loads(text)
        return cls.from_dict({**(base or cls()).to_dict(), **overrides})


def tiny(**overrides: Any) -> RadFinderConfig:
    """A CPU-sized RadFinder for tests and the demo: 64 x 64 in-plane at 6 mm covers a 384 mm chest."""
    base = dict(
        crop_shape=(112, 64, 64), spacing_mm=(3.0, 6.0, 6.0), stem_channels=(16, 32, 64), vision_width=64, vision_layers=2, vision_heads=2,
        vocab_size=1000, text_width=64, text_layers=2, text_heads=2, report_tokens=512, snippet_tokens=32,
        embed_dim=64, batch_size=16, cache_volumes=True, lr=2e-3, warmup_steps=20, steps=300, num_workers=0, log_every=10,
        ckpt_every=100,
    )
    base.update(overrides)
    return RadFinderConfig(**base)
