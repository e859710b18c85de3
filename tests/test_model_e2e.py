"""End to end on the phantom: export -> mined tables -> volumes -> train the tiny RadFinder -> evaluate.

Targets (the issue): localization MAE at most half the middle-depth baseline's, zero-shot macro AUROC
>= 0.75 over labels with >= 5 positives in the test split, text-to-image R@5 at least twice chance.

The data path is the real one, sized for 2 CPU cores: a 100-study phantom at 64 x 64 without its thin
series (`thin_series=False`), mined and matched by `flows.pipeline.run_pipeline` (as `radmine mine
--keep-identifiers`), then volumes resampled at the phantom's own 6 mm pixel size with a 65/5/30
patient split (as `radmine volumes --spacing 6,6,6 --split 65,5,30`), so the test split holds ~25
held-out patients' volumes and the arrays are ~55 x 64 x 64. One training run on one torch thread (~4 min
alone, ~8 min beside a busy process) is asserted on all three targets in every `make test`: over seeds 0-4 the
config below gave AUROC 0.762-0.810, t2i R@5 0.50-0.58 and MAE 14.5-16.9 mm against 0.75, 0.385 and 19.6
(model/README.md).
"""
import json
import time

import pytest
import torch

N_STUDIES = 100
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
    """Phantom -> pipeline -> volumes -> 600 training steps -> the test split's metrics."""
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
    cfg = tmp_path / "tiny.json"
    cfg.write_text(json.dumps(CONFIG))
    run = tmp_path / "run"
    assert train.main([str(data), "--tiny", "--config", str(cfg), "--out", str(run), "--quiet"]) == 0
    times["train"], t = time.perf_counter() - t, time.perf_counter()
    out = tmp_path / "metrics.json"
    assert evaluate.main([str(run / "checkpoint"), str(data), "--split", "test", "--out", str(out),
                          "--bootstrap", "200"]) == 0
    times["evaluate"] = time.perf_counter() - t
    print({k: round(v, 1) for k, v in times.items()})
    m = json.loads(out.read_text())
    loc, ret, zs = m["localization"], m["retrieval"], m["zeroshot"]
    # the test split is large enough for the metrics to mean something
    assert ret["chance_R@5"] <= 0.2 and len(zs["labels_scored"]) >= 5 and loc["n"] >= 40, (ret, zs, loc["n"])
    return m


def _targets(m: dict) -> list[tuple[str, float, float, bool]]:
    """(what, measured, target, met) for the issue's three targets."""
    loc, ret, zs = m["localization"], m["retrieval"], m["zeroshot"]
    middle, r5, chance2 = loc["baselines"]["middle"]["mae_mm"], ret["t2i"]["R@5"], 2 * ret["chance_R@5"]
    return [
        ("loc MAE mm <= half the middle baseline's", loc["mae_mm"], 0.5 * middle, loc["mae_mm"] <= 0.5 * middle),
        ("zero-shot macro AUROC >= 0.75", zs["auc_macro"], 0.75, zs["auc_macro"] >= 0.75),
        ("t2i R@5 >= twice chance", r5, chance2, r5 >= chance2),
    ]


def _report(results) -> str:
    return "; ".join(f"{what}: {value:.3f} vs {target:.3f} ({'met' if met else 'MISSED'})"
                     for what, value, target, met in results)


@pytest.mark.slow
def test_tiny_radfinder_on_the_phantom_beats_its_baselines(metrics):
    results = _targets(metrics)
    print(_report(results))
    assert all(met for *_, met in results), _report(results)
