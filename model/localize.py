"""`radmine localize`: the depth a sentence points to in one volume, printed and drawn on a coronal projection."""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import data_contracts
from model.checkpoint import load_checkpoint
from model.config import RadFinderConfig
from model.data import VolumeRecord, load_grid, load_records, place_ref
from model.encoders import RadFinder
from model.preprocess import Grid, position_to_slice, slice_to_z, valid_positions, z_to_slice
from model.tokenizer import ReportTokenizer


@dataclass
class Localization:
    position: int  # depth position in the crop grid
    crop_slice: float  # centre slice of that position in the crop grid
    z_mm: float  # patient z of that slice
    depth_mm: float  # distance below the volume's most superior slice
    slice_index: int  # nearest slice of the original volume
    probs: np.ndarray  # (P,) softmax over valid depth positions
    true_crop_slice: float | None  # when the text is a known snippet of this volume


def default_affine(cfg: RadFinderConfig) -> np.ndarray:
    """Affine of a bare .npy in the cache's orientation: index 0 superior, rows A->P, columns R->L."""
    d, r, c = cfg.spacing_mm
    return np.array([[c, 0, 0, 0], [0, r, 0, 0], [0, 0, -d, 0], [0, 0, 0, 1]], dtype=np.float64)


def find_record(target: str, data_dir: Path | None, cfg: RadFinderConfig) -> VolumeRecord:
    """A volume by .npy path, or by series / study instance UID in DATA_DIR's `volumes` table."""
    path = Path(target)
    if path.suffix == ".npy" and path.exists():
        return VolumeRecord(path.stem, "", "", path, default_affine(cfg), None, "", np.zeros(0, np.int8))
    if data_dir is None:
        raise ValueError(f"{target} is not a .npy file; pass --data-dir to look it up as a series or study UID")
    for rec in load_records(data_dir, None, cfg):
        if target in (rec.series_uid, rec.study_uid):
            return rec
    raise ValueError(f"no volume with series or study instance UID {target} in {data_dir}")


@torch.no_grad()
def localize(model: RadFinder, tok: ReportTokenizer, record: VolumeRecord, text: str) -> tuple[Localization, Grid]:
    cfg = model.cfg
    grid = load_grid(record, cfg)
    valid = valid_positions(grid, cfg.slab_slices)
    _, depth = model.encode_volume(torch.from_numpy(grid.array)[None], torch.from_numpy(valid)[None])  # (1, P, E)
    emb = model.encode_text(*tok.encode([text], cfg.snippet_tokens))  # (1, E)
    logits = (depth[0] @ emb[0]).numpy() / cfg.loc_tau
    logits = np.where(valid, logits, -np.inf)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    p = int(np.argmax(probs))
    k = float(position_to_slice(p, cfg.slab_slices))
    z = slice_to_z(grid, k)
    orig = Grid(np.empty(np.load(record.array_path, mmap_mode="r").shape, np.float32), record.affine)
    k_orig = z_to_slice(orig, z)
    true = None
    for ref in record.refs:
        if any(s.strip().casefold() == text.strip().casefold() for s in ref.snippets):
            where = place_ref(grid, ref.z_mm, cfg.slab_slices)
            true = None if where is None else where[0]
    loc = Localization(p, k, z, k_orig * float(np.linalg.norm(record.affine[:3, 2])),
                       int(np.clip(round(k_orig), 0, orig.array.shape[0] - 1)), probs, true)
    return loc, grid


def draw(grid: Grid, loc: Localization, text: str, cfg: RadFinderConfig, png: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    coronal = grid.array.mean(axis=1)  # (D, W): average over rows (anterior-posterior)
    fig, (ax, axp) = plt.subplots(1, 2, figsize=(7, 5), gridspec_kw={"width_ratios": [3, 1]}, sharey=True)
    ax.imshow(coronal, cmap="gray", aspect=cfg.spacing_mm[0] / cfg.spacing_mm[2])
    ax.axhline(loc.crop_slice, color="red", lw=1.5, label=f"predicted ({loc.depth_mm:.0f} mm)")
    if loc.true_crop_slice is not None:
        ax.axhline(loc.true_crop_slice, color="lime", lw=1.5, ls="--", label="true")
    ax.legend(loc="lower right", fontsize=7)
    ax.set_title(text[:60], fontsize=8)
    ax.set_axis_off()
    centres = position_to_slice(np.arange(len(loc.probs)), cfg.slab_slices)
    axp.plot(loc.probs, centres)
    axp.set_xlabel("p(depth)")
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return png


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="radmine localize", description=__doc__)
    p.add_argument("checkpoint", type=Path)
    p.add_argument("target", help="a .npy volume, or a series / study instance UID (with --data-dir)")
    p.add_argument("text")
    p.add_argument("--data-dir", type=Path)
    p.add_argument("--png", type=Path, default=Path("localize.png"))
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    model, tok, _ = load_checkpoint(args.checkpoint)
    model.eval()
    record = find_record(args.target, args.data_dir, model.cfg)
    loc, grid = localize(model, tok, record, args.text)
    draw(grid, loc, args.text, model.cfg, args.png)
    true = "" if loc.true_crop_slice is None else \
        f"; true level {abs(loc.crop_slice - loc.true_crop_slice) * model.cfg.spacing_mm[0]:.0f} mm away"
    print(f"predicted depth {loc.depth_mm:.1f} mm below the top slice (z = {loc.z_mm:.1f} mm), "
          f"slice index {loc.slice_index}{true}; wrote {args.png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
