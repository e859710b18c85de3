"""Localization baselines scored on the same snippets as the model (all predict a slice index in the crop grid)."""
from __future__ import annotations

import numpy as np

from model.tokenizer import ReportTokenizer

# lower-case substrings naming a level of the chest; the prior learns each one's mean depth
ANATOMY_KEYWORDS: tuple[str, ...] = (
    "thyroid", "supraclavicular", "apex", "apical", "axilla", "trachea", "upper lobe", "aortic arch", "arch",
    "carina", "subcarinal", "hilum", "hilar", "middle lobe", "lingula", "heart", "cardiac", "pericard",
    "coronary", "ventric", "atri", "aorta", "esophag", "hiatal", "lower lobe", "base", "basal", "diaphragm",
    "costophrenic", "liver", "spleen", "adrenal", "kidney", "pleural", "mediastin", "right", "left",
)


def middle_slice(valid_range: tuple[int, int]) -> float:
    lo, hi = valid_range
    return (lo + hi - 1) / 2.0


def random_slice(valid_range: tuple[int, int], slab: int, rng: np.random.Generator) -> float:
    """Centre of a random depth position overlapping the real slices."""
    lo, hi = valid_range
    p = int(rng.integers(lo // slab, (hi - 1) // slab + 1))
    return p * slab + (slab - 1) / 2.0


class KeywordPrior:
    """The training set's mean slice per anatomical keyword; a snippet gets the mean over its keywords."""

    def __init__(self, keywords: tuple[str, ...] = ANATOMY_KEYWORDS):
        self.keywords = keywords
        self.means: dict[str, float] = {}
        self.fallback = 0.0

    def fit(self, snippets: list[str], slices: np.ndarray) -> "KeywordPrior":
        if len(snippets) != len(slices) or not snippets:
            raise ValueError("fit needs one slice per snippet and at least one snippet")
        slices = np.asarray(slices, dtype=np.float64)
        self.fallback = float(slices.mean())
        for kw in self.keywords:
            hit = np.array([kw in s.lower() for s in snippets])
            if hit.any():
                self.means[kw] = float(slices[hit].mean())
        return self

    def predict(self, snippets: list[str]) -> np.ndarray:
        out = []
        for s in snippets:
            vals = [m for kw, m in self.means.items() if kw in s.lower()]
            out.append(float(np.mean(vals)) if vals else self.fallback)
        return np.array(out)


class TextOnlyRegressor:
    """Ridge regression from bag-of-subword counts to slice index: what the text alone says about depth."""

    def __init__(self, tokenizer: ReportTokenizer, alpha: float = 1.0):
        if alpha <= 0:
            raise ValueError(f"alpha must be > 0, got {alpha}")
        self.tok, self.alpha = tokenizer, alpha
        self.coef: np.ndarray | None = None
        self.intercept = 0.0

    def _features(self, snippets: list[str]) -> np.ndarray:
        x = np.zeros((len(snippets), self.tok.vocab_size))
        for row, s in enumerate(snippets):
            for t in self.tok.ids(s):
                x[row, t] += 1.0
        return x

    def fit(self, snippets: list[str], slices: np.ndarray) -> "TextOnlyRegressor":
        if len(snippets) != len(slices) or not snippets:
            raise ValueError("fit needs one slice per snippet and at least one snippet")
        x, y = self._features(snippets), np.asarray(slices, dtype=np.float64)
        xm, self.intercept = x.mean(0), float(y.mean())
        xc = x - xm
        yc = y - self.intercept
        n, d = xc.shape
        if n <= d:  # dual form: X^T (X X^T + aI)^-1 y
            self.coef = xc.T @ np.linalg.solve(xc @ xc.T + self.alpha * np.eye(n), yc)
        else:  # primal form: (X^T X + aI)^-1 X^T y
            self.coef = np.linalg.solve(xc.T @ xc + self.alpha * np.eye(d), xc.T @ yc)
        self.intercept -= float(xm @ self.coef)
        return self

    def predict(self, snippets: list[str]) -> np.ndarray:
        if self.coef is None:
            raise RuntimeError("fit the regressor first")
        return self._features(snippets) @ self.coef + self.intercept
