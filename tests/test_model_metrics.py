"""Metrics on small hand-computed matrices."""
import math

import numpy as np
import pytest

from model.metrics import auroc, bootstrap_ci, localization_summary, retrieval_ranks, retrieval_summary


def test_retrieval_ranks_hand_computed():
    sim = np.array([[0.9, 0.1, 0.2],   # match 0.9 best -> rank 1
                    [0.8, 0.5, 0.7],   # match 0.5 below 0.8 and 0.7 -> rank 3
                    [0.1, 0.6, 0.6]])  # tie with 0.6 counts against -> rank 2
    ranks = retrieval_ranks(sim)
    assert ranks.tolist() == [1, 3, 2]
    s = retrieval_summary(ranks)
    assert s["R@1"] == pytest.approx(1 / 3) and s["R@5"] == 1.0 and s["median_rank"] == 2.0
    assert retrieval_ranks(sim.T).tolist() == [1, 2, 2]  # columns: 0.9 top; 0.5 < 0.6; 0.6 < 0.7


def test_retrieval_rejects_non_square():
    with pytest.raises(ValueError, match="square"):
        retrieval_ranks(np.zeros((2, 3)))


def test_auroc_hand_computed_with_ties():
    # positives 0.8, 0.4; negatives 0.4, 0.1: pairs (0.8>0.4)=1, (0.8>0.1)=1, (0.4=0.4)=0.5, (0.4>0.1)=1 -> 3.5/4
    assert auroc(np.array([0.8, 0.4, 0.4, 0.1]), np.array([1, 1, 0, 0])) == pytest.approx(0.875)
    assert auroc(np.array([0.1, 0.9]), np.array([1, 0])) == 0.0
    assert math.isnan(auroc(np.array([0.1, 0.2]), np.array([1, 1])))


def test_localization_summary_hand_computed():
    s = localization_summary(np.array([0.0, -12.0, 20.0, 40.0]))
    assert s == {"mae_mm": 18.0, "median_mm": 16.0, "acc_12mm": 0.5, "acc_24mm": 0.75, "n": 4}


def test_bootstrap_interval_brackets_the_mean():
    x = np.arange(100, dtype=float)
    lo, hi = bootstrap_ci(lambda idx: x[idx].mean(), len(x), n_boot=200, seed=0)
    assert lo < 49.5 < hi and hi - lo < 25
