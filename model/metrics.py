"""Evaluation metrics on plain numpy arrays: retrieval ranks, AUROC, localization errors, bootstrap."""
from __future__ import annotations

from typing import Callable

import numpy as np

RECALL_KS = (1, 5, 10, 50)


def retrieval_ranks(sim: np.ndarray) -> np.ndarray:
    """1-based rank of the matching column (the diagonal) in each row of a square query x candidate matrix.

    Ties count against the match (pessimistic): rank = 1 + #candidates scoring >= the match, excluding itself.
    """
    sim = np.asarray(sim, dtype=np.float64)
    if sim.ndim != 2 or sim.shape[0] != sim.shape[1]:
        raise ValueError(f"similarity matrix must be square, got {sim.shape}")
    diag = np.diag(sim)[:, None]
    return (sim >= diag).sum(1)  # the match itself counts once, giving 1-based ranks


def retrieval_summary(ranks: np.ndarray) -> dict[str, float]:
    ranks = np.asarray(ranks)
    out = {f"R@{k}": float((ranks <= k).mean()) for k in RECALL_KS}
    out["median_rank"] = float(np.median(ranks))
    return out


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U, ties half); NaN when one class is missing."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(bool)
    if scores.shape != labels.shape:
        raise ValueError(f"scores and labels differ in shape: {scores.shape} vs {labels.shape}")
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(len(s), dtype=np.float64)
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i : j + 1] = (i + j) / 2.0 + 1.0
        i = j + 1
    pos_ranks = ranks[labels[order]]
    return float((pos_ranks.sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def localization_summary(errors_mm: np.ndarray) -> dict[str, float]:
    """MAE, median and accuracy within 12 / 24 mm of absolute depth errors."""
    e = np.abs(np.asarray(errors_mm, dtype=np.float64))
    if e.size == 0:
        return {"mae_mm": float("nan"), "median_mm": float("nan"), "acc_12mm": float("nan"), "acc_24mm": float("nan"), "n": 0}
    return {"mae_mm": float(e.mean()), "median_mm": float(np.median(e)), "acc_12mm": float((e <= 12).mean()),
            "acc_24mm": float((e <= 24).mean()), "n": int(e.size)}


def bootstrap_ci(stat: Callable[[np.ndarray], float], n: int, n_boot: int = 1000, seed: int = 0,
                 alpha: float = 0.05) -> tuple[float, float]:
    """Percentile interval of stat(idx) over `n_boot` resamples of the indices 0..n-1; NaN stats are skipped."""
    if n <= 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    vals = np.array([stat(rng.integers(0, n, n)) for _ in range(n_boot)], dtype=np.float64)
    vals = vals[~np.isnan(vals)]
    if vals.size == 0:
        return (float("nan"), float("nan"))
    return (float(np.quantile(vals, alpha / 2)), float(np.quantile(vals, 1 - alpha / 2)))
