"""End to end on the phantom: export -> mined tables -> volumes -> train the tiny RadFinder -> evaluate.

Targets (the issue): localization MAE at most half the middle-depth baseline's, zero-shot macro AUROC
>= 0.75 over labels with >= 5 positives in the test split, text-to-image R@5 at least twice chance.

The data path is the real one, sized for 2 CPU cores: a 100-study phantom at 64 x 64 without its thin
series (`thin_series=False`), mined and matched by `flows.pipeline.run_pipeline` (as `radmine mine
--keep-identifiers`), then volumes resampled at the phantom's own 6 mm pixel size with a 65/5/30
patient split (as `radmine volumes --spacing 6,6,6 --split 65,5,30`), so the test split holds ~25
held-out patients' volumes and the arrays are ~55 x 64 x 64. Two training runs, seeds 0 and 1, side by
side on one torch thread each (the whole test: ~10.5 min on 2 cores), and the targets are asserted on
their mean in every `make test`. One seed is not enough: its run is fixed on one machine but not across
CPUs (the floating-point kernels differ), and seed 0 gave AUROC 0.762 on one machine and 0.731 on an AMD
EPYC; over seeds 0-4 the config below gave AUROC 0.762-0.810, t2i R@5 0.50-0.58 and MAE 14.5-16.9 mm
against 0.75, 0.385 and 19.6 (model/README.md).
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

# under pytest-xdist (`make test`), this module's tests share one worker and its module-scoped fixtures
pytestmark = pytest.mark.xdist_group("model_e2e")

REPO = Path(__file__).resolve().parents[1]
N_STUDIES = 100
SEEDS = (0, 1)  # the targets hold on the mean of these runs (the module's docstring says why)
SPACING_XYZ = (6.0, 6.0, 6.0)
SPLIT = (0.65, 0.05, 0.30)
CONFIG = {  # on top of model.config.tiny(); model/README.md gives the reasons
    "crop_shape": [56, 48, 64], "spacing_mm": [6.0, 6.0, 6.0], "feature_mm": 12.0, "stem_channels": [8, 16, 32],
    "stem_pool": "meanmax", "volume_embed_norm": "batch", "prompt_templates": "all", "init_logit_scale": 3.0,
    "init_logit_bias": -3.0, "w_prompt": 3.0, "w_loc": 1.0, "augment_shift_px": 3, "augment_intensity": 0.05,
    "batch_size": 16, "lr": 2e-3, "warmup_steps": 50, "steps": 600, "log_every": 50, "ckpt_every": 1000,
    "hu_bands": [-960, -920, -870, -780, -600, -350, -120, -30, 30, 80, 150, 400, 900], "w_prompt_slice": 1.0,
    "lung_bands_close_mm": 18.0,
}


@pytest.fixture(scope="module")
def metrics(tmp_path_factory):
    """Phantom -> pipeline -> volumes -> a 600-step training run per seed -> the test split's metrics of each."""
    # One torch thread: with two on a 2-core machine that anything else loads (CI's Prefect servers,
    # a neighbour), OpenMP threads spin waiting for a core and a step takes ~4 s instead of ~0.3 s.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield _train_and_evaluate(tmp_path_factory)
    finally:
        torch.set_num_threads(threads)


def _train_and_evaluate(tmp_path_factory) -> dict:
    from dataset.phantom import generate_export
    from dataset.volumes import VolumeConfig, run_volumes
    from flows.pipeline import MineOptions, run_pipeline
    from model import evaluate, train

    tmp_path = tmp_path_factory.mktemp("model_e2e")
    times = {}
    t = time.perf_counter()
    ph = tmp_path / "phantom"
    generate_export(ph, N_STUDIES, seed=0, matrix=64, thin_series=False)
    times["phantom"], t = time.perf_counter() - t, time.perf_counter()
    data = tmp_path / "data"
    run_pipeline(MineOptions(export_dir=str(ph / "export"), reports=str(ph / "reports.csv"), data_dir=str(data),
                             keep_identifiers=True))
    times["mine+index+match"], t = time.perf_counter() - t, time.perf_counter()
    counts = run_volumes(data, ph / "export", VolumeConfig(spacing_xyz=SPACING_XYZ, split_fractions=SPLIT))
    times["volumes"], t = time.perf_counter() - t, time.perf_counter()
    assert counts["decode_errors"] == 0 and counts["test"] >= 20, counts
    runs = []
    for seed in SEEDS:
        cfg = tmp_path / f"tiny-{seed}.json"
        cfg.write_text(json.dumps({**CONFIG, "seed": seed}))
        runs.append((cfg, tmp_path / f"run-{seed}", tmp_path / f"metrics-{seed}.json"))
    train_args = lambda cfg, run: [str(data), "--tiny", "--config", str(cfg), "--out", str(run), "--quiet"]
    eval_args = lambda run, out: [str(run / "checkpoint"), str(data), "--split", "test", "--out", str(out),
                                  "--bootstrap", "200"]
    # the other seeds in processes of their own, one torch thread each, beside this one
    others = [subprocess.Popen([sys.executable, "-m", "model.train", *train_args(cfg, run)], cwd=REPO,
                               env={**os.environ, "OMP_NUM_THREADS": "1"}) for cfg, run, _ in runs[1:]]
    try:
        assert train.main(train_args(*runs[0][:2])) == 0
    finally:
        codes = [p.wait() for p in others]
    assert codes == [0] * len(others), codes
    times["train"], t = time.perf_counter() - t, time.perf_counter()
    for _, run, out in runs:
        assert evaluate.main(eval_args(run, out)) == 0
    times["evaluate"] = time.perf_counter() - t
    print({k: round(v, 1) for k, v in times.items()})
    ms = [json.loads(out.read_text()) for _, _, out in runs]
    for m in ms:  # the test split is large enough for the metrics to mean something
        loc, ret, zs = m["localization"], m["retrieval"], m["zeroshot"]
        assert ret["chance_R@5"] <= 0.2 and len(zs["labels_scored"]) >= 5 and loc["n"] >= 40, (ret, zs, loc["n"])
    return ms


def _targets(ms: list[dict]) -> list[tuple[str, float, float, bool]]:
    """(what, mean over the runs, target, met) for the issue's three targets."""
    mean = lambda f: sum(map(f, ms)) / len(ms)
    mae = mean(lambda m: m["localization"]["mae_mm"])
    middle = mean(lambda m: m["localization"]["baselines"]["middle"]["mae_mm"])
    auc = mean(lambda m: m["zeroshot"]["auc_macro"])
    r5, chance2 = mean(lambda m: m["retrieval"]["t2i"]["R@5"]), 2 * mean(lambda m: m["retrieval"]["chance_R@5"])
    return [
        ("loc MAE mm <= half the middle baseline's", mae, 0.5 * middle, mae <= 0.5 * middle),
        ("zero-shot macro AUROC >= 0.75", auc, 0.75, auc >= 0.75),
        ("t2i R@5 >= twice chance", r5, chance2, r5 >= chance2),
    ]


def _report(results, ms) -> str:
    each = "; ".join(f"seed {seed}: MAE {m['localization']['mae_mm']:.1f}, AUROC {m['zeroshot']['auc_macro']:.3f}, "
                     f"R@5 {m['retrieval']['t2i']['R@5']:.3f}" for seed, m in zip(SEEDS, ms))
    return "; ".join(f"{what}: {value:.3f} vs {target:.3f} ({'met' if met else 'MISSED'})"
                     for what, value, target, met in results) + f" (mean of: {each})"


@pytest.mark.slow
def test_tiny_radfinder_on_the_phantom_beats_its_baselines(metrics):
    results = _targets(metrics)
    print(_report(results, metrics))
    assert all(met for *_, met in results), _report(results, metrics)
