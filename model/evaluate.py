"""`radmine evaluate`: retrieval, zero-shot classification and localization of a checkpoint on one split."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from data_contracts.labels import CT_RATE_LABELS
from model.baselines import KeywordPrior, TextOnlyRegressor, middle_slice, random_slice
from model.checkpoint import load_checkpoint
from model.config import RadFinderConfig
from model.data import VolumeRecord, load_grid, load_records, place_ref
from model.encoders import RadFinder
from model.metrics import auroc, bootstrap_ci, localization_summary, retrieval_ranks, retrieval_summary
from model.preprocess import position_to_slice, valid_positions
from model.prompts import ZERO_SHOT_TEMPLATES, prompt_pairs
from model.tokenizer import ReportTokenizer

BASELINES = ("middle", "random", "keyword_prior", "text_only")


@dataclass
class EncodedVolume:
    record: VolumeRecord
    img: np.ndarray  # (E,)
    depth: np.ndarray  # (P, E)
    valid: np.ndarray  # (P,) bool
    valid_range: tuple[int, int]  # real slices [lo, hi) in the crop grid
    refs: list[tuple[str, float]]  # (snippet, true slice index in the crop grid), one per pair


@torch.no_grad()
def encode_texts(model: RadFinder, tok: ReportTokenizer, texts: list[str], max_len: int, batch: int = 256) -> np.ndarray:
    out = [model.encode_text(*tok.encode(texts[i : i + batch], max_len)) for i in range(0, len(texts), batch)]
    return torch.cat(out).float().numpy() if out else np.zeros((0, model.cfg.embed_dim), dtype=np.float32)


def place_snippets(record: VolumeRecord, grid, cfg: RadFinderConfig) -> tuple[list[tuple[str, float]], int]:
    """(snippet, slice) for every pair that lands inside the crop, and how many did not."""
    placed, dropped = [], 0
    for ref in record.refs:
        where = place_ref(grid, ref.z_mm, cfg.slab_slices)
        if where is None:
            dropped += len(ref.snippets)
        else:
            placed += [(s, where[0]) for s in ref.snippets]
    return placed, dropped


@torch.no_grad()
def encode_volumes(model: RadFinder, records: list[VolumeRecord], batch: int = 8) -> tuple[list[EncodedVolume], int]:
    cfg, out, dropped = model.cfg, [], 0
    for start in range(0, len(records), batch):
        chunk = records[start : start + batch]
        grids = [load_grid(r, cfg) for r in chunk]
        valid = np.stack([valid_positions(g, cfg.slab_slices) for g in grids])
        img, depth = model.encode_volume(torch.from_numpy(np.stack([g.array for g in grids])), torch.from_numpy(valid))
        for r, g, i, d, v in zip(chunk, grids, img.float().numpy(), depth.float().numpy(), valid):
            refs, n = place_snippets(r, g, cfg)
            dropped += n
            out.append(EncodedVolume(r, i, d, v, g.valid_range, refs))
    return out, dropped


def retrieval(model: RadFinder, tok: ReportTokenizer, vols: list[EncodedVolume], n_boot: int, seed: int) -> dict:
    seen, keep = set(), []
    for v in vols:  # one volume per report
        if v.record.report_text and v.record.report_id not in seen:
            seen.add(v.record.report_id)
            keep.append(v)
    if len(keep) < 2:
        return {"n": len(keep)}
    txt = encode_texts(model, tok, [v.record.report_text for v in keep], model.cfg.report_tokens)
    img = np.stack([v.img for v in keep])
    sim = txt @ img.T  # (reports, volumes)
    res: dict = {"n": len(keep), "chance_R@5": min(1.0, 5 / len(keep))}
    for name, s in (("t2i", sim), ("i2t", sim.T)):
        ranks = retrieval_ranks(s)
        res[name] = retrieval_summary(ranks)
        res[name]["R@5_ci95"] = bootstrap_ci(lambda idx: float((ranks[idx] <= 5).mean()), len(ranks), n_boot, seed)
    return res


def zeroshot(model: RadFinder, tok: ReportTokenizer, vols: list[EncodedVolume], n_boot: int, seed: int,
             min_positives: int) -> dict:
    img = np.stack([v.img for v in vols])  # (N, E)
    scale = float(model.logit_scale.detach().exp())
    L = len(CT_RATE_LABELS)
    prob = np.zeros((len(vols), L))
    for template in ZERO_SHOT_TEMPLATES:
        emb = encode_texts(model, tok, prompt_pairs(template), model.cfg.snippet_tokens)  # (2L, E)
        cos_pos, cos_neg = img @ emb[:L].T, img @ emb[L:].T  # (N, L) each
        prob += 1.0 / (1.0 + np.exp(-scale * (cos_pos - cos_neg)))  # softmax over (positive, negative)
    prob /= len(ZERO_SHOT_TEMPLATES)
    targets = np.stack([v.record.targets for v in vols])  # (N, L) in {1, 0, -1}
    auc, n_pos, scored = {}, {}, []
    for k, label in enumerate(CT_RATE_LABELS):
        known = targets[:, k] >= 0
        n_pos[label] = int((targets[known, k] == 1).sum())
        auc[label] = auroc(prob[known, k], targets[known, k] == 1)
        if n_pos[label] >= min_positives and not np.isnan(auc[label]):
            scored.append(k)

    def macro(idx: np.ndarray) -> float:
        vals = []
        for k in scored:
            t = targets[idx, k]
            vals.append(auroc(prob[idx, k][t >= 0], t[t >= 0] == 1))
        vals = [v for v in vals if not np.isnan(v)]
        return float(np.mean(vals)) if vals else float("nan")

    all_idx = np.arange(len(vols))
    return {"auc_macro": macro(all_idx), "auc_macro_ci95": bootstrap_ci(macro, len(vols), n_boot, seed),
            "labels_scored": [CT_RATE_LABELS[k] for k in scored], "min_positives": min_positives,
            "auc": {k: (None if np.isnan(v) else v) for k, v in auc.items()}, "n_pos": n_pos, "n": len(vols)}


def localization(model: RadFinder, tok: ReportTokenizer, vols: list[EncodedVolume], train_refs: list[tuple[str, float]],
                 dropped: int, n_boot: int, seed: int) -> dict:
    cfg = model.cfg
    owners = [(vi, s, k) for vi, v in enumerate(vols) for s, k in v.refs]
    if not owners:
        return {"n": 0, "dropped_outside_crop": dropped}
    snippets = [s for _, s, _ in owners]
    true = np.array([k for _, _, k in owners])
    emb = encode_texts(model, tok, snippets, cfg.snippet_tokens)  # (N, E)
    pred = np.empty(len(owners))
    for n, (vi, _, _) in enumerate(owners):
        v = vols[vi]
        score = np.where(v.valid, v.depth @ emb[n], -np.inf)  # (P,)
        pred[n] = position_to_slice(int(np.argmax(score)), cfg.slab_slices)
    rng = np.random.default_rng(seed)
    preds = {"middle": np.array([middle_slice(vols[vi].valid_range) for vi, _, _ in owners]),
             "random": np.array([random_slice(vols[vi].valid_range, cfg.slab_slices, rng) for vi, _, _ in owners])}
    if train_refs:
        tr_s, tr_k = [s for s, _ in train_refs], np.array([k for _, k in train_refs])
        preds["keyword_prior"] = KeywordPrior().fit(tr_s, tr_k).predict(snippets)
        preds["text_only"] = TextOnlyRegressor(tok).fit(tr_s, tr_k).predict(snippets)
    mm = cfg.spacing_mm[0]
    err = np.abs(pred - true) * mm
    res = {**localization_summary(err), "dropped_outside_crop": dropped, "feature_mm": cfg.feature_mm,
           "mae_mm_ci95": bootstrap_ci(lambda idx: float(err[idx].mean()), len(err), n_boot, seed), "baselines": {}}
    for name, p in preds.items():
        e = np.abs(p - true) * mm
        res["baselines"][name] = {**localization_summary(e),
                                  "mae_mm_ci95": bootstrap_ci(lambda idx: float(e[idx].mean()), len(e), n_boot, seed)}
    return res


def train_placements(model: RadFinder, data_dir: Path, max_volumes: int) -> list[tuple[str, float]]:
    """(snippet, slice) pairs of the training split for the keyword prior and text-only baselines."""
    recs = [r for r in load_records(data_dir, "train", model.cfg) if r.refs][:max_volumes]
    return [p for r in recs for p in place_snippets(r, load_grid(r, model.cfg), model.cfg)[0]]


def evaluate(checkpoint: str | Path, data_dir: str | Path, split: str = "test", n_boot: int = 1000, seed: int = 0,
             min_positives: int = 5, max_prior_volumes: int = 2000) -> dict:
    model, tok, state = load_checkpoint(checkpoint)
    model.eval()
    records = load_records(data_dir, split, model.cfg)
    if not records:
        raise ValueError(f"no volumes in split {split!r} of {data_dir}")
    vols, dropped = encode_volumes(model, records)
    return {
        "checkpoint": str(checkpoint), "step": state["step"], "split": split, "n_volumes": len(vols),
        "retrieval": retrieval(model, tok, vols, n_boot, seed),
        "zeroshot": zeroshot(model, tok, vols, n_boot, seed, min_positives),
        "localization": localization(model, tok, vols, train_placements(model, Path(data_dir), max_prior_volumes),
                                     dropped, n_boot, seed),
    }


def _fmt(x) -> str:
    return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.3f}" if isinstance(x, float) else str(x)


def markdown(m: dict) -> str:
    lines = [f"# RadFinder evaluation ({m['split']}, {m['n_volumes']} volumes, step {m['step']})", ""]
    loc = m["localization"]
    if loc.get("n"):
        lines += [f"## Localization ({loc['n']} snippets, {loc['dropped_outside_crop']} outside the crop, "
                  f"{loc['feature_mm']:g} mm features)", "",
                  "| method | MAE mm | 95% CI | median mm | acc@12mm | acc@24mm |", "|---|---|---|---|---|---|"]
        for name, row in [("RadFinder", loc)] + list(loc["baselines"].items()):
            lo, hi = row["mae_mm_ci95"]
            lines.append(f"| {name} | {row['mae_mm']:.1f} | {lo:.1f}-{hi:.1f} | {row['median_mm']:.1f} | "
                         f"{row['acc_12mm']:.2f} | {row['acc_24mm']:.2f} |")
        lines.append("")
    ret = m["retrieval"]
    if "t2i" in ret:
        lines += [f"## Retrieval ({ret['n']} report-volume pairs; chance R@5 = {ret['chance_R@5']:.3f})", "",
                  "| direction | R@1 | R@5 | R@10 | R@50 | median rank |", "|---|---|---|---|---|---|"]
        for d in ("t2i", "i2t"):
            r = ret[d]
            lines.append(f"| {d} | {r['R@1']:.3f} | {r['R@5']:.3f} | {r['R@10']:.3f} | {r['R@50']:.3f} | {r['median_rank']:g} |")
        lines.append("")
    zs = m["zeroshot"]
    lo, hi = zs["auc_macro_ci95"]
    lines += [f"## Zero-shot classification: macro AUROC {_fmt(zs['auc_macro'])} (95% CI {_fmt(lo)}-{_fmt(hi)}) "
              f"over {len(zs['labels_scored'])} labels with >= {zs['min_positives']} positives", "",
              "| label | positives | AUROC |", "|---|---|---|"]
    lines += [f"| {k} | {zs['n_pos'][k]} | {_fmt(v)} |" for k, v in zs["auc"].items()]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="radmine evaluate", description=__doc__)
    p.add_argument("checkpoint", type=Path)
    p.add_argument("data_dir", type=Path)
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("--out", type=Path, required=True, help="metrics JSON; a Markdown table is written beside it")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the 95%% intervals")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    metrics = evaluate(args.checkpoint, args.data_dir, args.split, args.bootstrap, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(metrics, indent=1))
    table = markdown(metrics)
    args.out.with_suffix(".md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
