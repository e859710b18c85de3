"""Train, resume, evaluate and localize on small random tables (CPU, seconds)."""
import json

import pytest
import torch
from safetensors.torch import load_file

from model import evaluate, localize, train
from test_model_data import make_tables

# under pytest-xdist (`make test`), this module's tests share one worker and its module-scoped fixtures
pytestmark = pytest.mark.xdist_group("model_train")

torch.set_num_threads(1)

CONFIG = {"crop_shape": [24, 32, 32], "spacing_mm": [3.0, 1.5, 1.5], "stem_channels": [8, 16], "batch_size": 4, "steps": 6, "warmup_steps": 2,
          "log_every": 2, "ckpt_every": 100, "report_tokens": 32, "snippet_tokens": 16, "vocab_size": 200,
          "w_prompt_slice": 1.0}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("tables")
    make_tables(root)
    (root / "cfg.json").write_text(json.dumps(CONFIG))
    return root


def _train(data, out, *extra):
    return train.main([str(data), "--tiny", "--config", str(data / "cfg.json"), "--out", str(out), "--quiet", *extra])


def test_train_writes_checkpoint_metrics_and_curves_and_resumes_exactly(data, tmp_path, capsys):
    assert train.main([str(data), "--tiny", "--config", str(data / "cfg.json"), "--out", str(tmp_path / "a")]) == 0
    out, err = capsys.readouterr()
    assert "training reports are longer than report_tokens=32" in err  # phantom reports are longer
    assert "6/6" in err and "6/6" not in out, "the progress bar is on stderr"
    ckpt = tmp_path / "a" / "checkpoint"
    assert {"model.safetensors", "optimizer.safetensors", "state.json", "tokenizer.json"} <= {p.name for p in ckpt.iterdir()}
    state = json.loads((ckpt / "state.json").read_text())
    assert state["step"] == 6 and state["config"]["crop_shape"] == [24, 32, 32]
    rows = [json.loads(x) for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [2, 4, 6] and all(r["loss"] == r["loss"] for r in rows)
    assert all(r["prompt_slice"] > 0 for r in rows)
    assert (tmp_path / "a" / "curves.png").stat().st_size > 1000
    # interrupted at step 3, then resumed: identical weights
    assert _train(data, tmp_path / "b", "--until", "3") == 0
    assert json.loads((tmp_path / "b" / "checkpoint" / "state.json").read_text())["step"] == 3
    assert _train(data, tmp_path / "b") == 0
    a, b = load_file(ckpt / "model.safetensors"), load_file(tmp_path / "b" / "checkpoint" / "model.safetensors")
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-6), k


def test_training_with_loader_workers_equals_training_without(data, tmp_path):
    """With workers the volumes cross processes as int16 HU and are scaled to [0, 1] after the move to the device
    (`preprocess.to_unit`): the same losses and weights, bit for bit, as the in-process float32 volumes."""
    (tmp_path / "workers.json").write_text(json.dumps({**CONFIG, "num_workers": 2}))
    assert _train(data, tmp_path / "plain") == 0
    assert train.main([str(data), "--tiny", "--config", str(tmp_path / "workers.json"), "--out", str(tmp_path / "w"),
                       "--quiet"]) == 0
    timing = {"volumes_per_s", "elapsed_s"}
    rows = [[{k: v for k, v in json.loads(x).items() if k not in timing}
             for x in (tmp_path / run / "metrics.jsonl").read_text().splitlines()] for run in ("plain", "w")]
    assert len(rows[0]) == 3 and rows[0] == rows[1]
    a = load_file(tmp_path / "plain" / "checkpoint" / "model.safetensors")
    b = load_file(tmp_path / "w" / "checkpoint" / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_evaluate_and_localize(data, tmp_path, capsys):
    assert _train(data, tmp_path / "run") == 0
    ckpt = tmp_path / "run" / "checkpoint"
    out = tmp_path / "metrics.json"
    assert evaluate.main([str(ckpt), str(data), "--split", "test", "--out", str(out), "--bootstrap", "50"]) == 0
    m = json.loads(out.read_text())
    assert set(m["retrieval"]["t2i"]) >= {"R@1", "R@5", "R@10", "R@50", "median_rank"} and m["retrieval"]["n"] == 3
    assert set(m["localization"]["baselines"]) == {"middle", "random", "keyword_prior", "text_only"}
    assert m["localization"]["n"] == 6 and m["localization"]["dropped_outside_crop"] == 0
    assert len(m["zeroshot"]["auc"]) == 18 and "auc_macro" in m["zeroshot"]
    assert "| RadFinder |" in out.with_suffix(".md").read_text()
    png = tmp_path / "loc.png"
    assert localize.main([str(ckpt), "se3", "nodule near the carina", "--data-dir", str(data), "--png", str(png)]) == 0
    printed = capsys.readouterr().out
    assert "slice index" in printed and "true level" in printed and png.stat().st_size > 1000
    assert localize.main([str(ckpt), str(data / "arrays" / "v3.npy"), "nodule", "--png", str(png)]) == 0


def test_cli_wires_the_model_commands(data, tmp_path, capsys):
    from flows.cli import main

    assert main(["train", str(data), "--tiny", "--config", str(data / "cfg.json"), "--out", str(tmp_path / "r"),
                 "--steps", "2", "--quiet"]) == 0
    assert (tmp_path / "r" / "checkpoint" / "state.json").exists()
    assert main(["evaluate", str(tmp_path / "nope"), str(data), "--out", str(tmp_path / "m.json")]) == 1
    assert "not a RadFinder checkpoint" in capsys.readouterr().err


def test_train_under_torchrun_with_two_gloo_processes(data, tmp_path):
    """`radmine train` as a team runs it on several devices: torchrun, DDP (gloo on CPU), rank 0 writes.
    The run has a deadline: a rendezvous or a teardown that hangs fails the test, never the suite."""
    import os
    import signal
    import subprocess
    import sys

    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "model.train",
           str(data), "--tiny", "--config", str(data / "cfg.json"), "--out", str(out), "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("GLOO_SOCKET_IFNAME", None)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        log, _ = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        log, _ = proc.communicate()
        pytest.fail(f"torchrun with 2 processes did not finish in 240 s:\n{log[-3000:]}")
    assert proc.returncode == 0, log[-3000:]
    assert json.loads((out / "checkpoint" / "state.json").read_text())["step"] == 6
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [2, 4, 6] and all(r["loss"] == r["loss"] for r in rows)
    assert all(r["prompt_slice"] > 0 for r in rows), rows
