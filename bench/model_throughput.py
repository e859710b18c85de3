"""RadFinder throughput: the training step (volumes/s, model FLOP utilisation) and the volume loader.

    python bench/model_throughput.py                      # GPU if present: 128 x 192 x 192, bf16, torch.compile
    python bench/model_throughput.py --only loader --workers 14 --loader-volumes 256   # the loader alone, steady state
    python bench/model_throughput.py --only training --workers 14 --loader-volumes 128   # the step fed by the loader
    python bench/model_throughput.py --cpu-small          # CPU at a reduced size (32 x 96 x 96, tiny widths)
    python bench/model_throughput.py --data-dir DATA_DIR  # loader throughput on a real volume cache

The step is forward + backward + AdamW on random volumes and token ids with the full loss, so
the figures are the model's and the loader's alone. MFU divides the measured FLOP/s (counted by
torch.utils.flop_counter over one step) by the device peak given with --peak-tflops (default:
989 dense bf16 TFLOP/s for H100/H200 class GPUs; none on CPU).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runs from a plain checkout (no install) too

from model.config import RadFinderConfig, tiny
from model.data import Collate, SliceRef, VolumeDataset, VolumeRecord, hu_batches, load_records
from model.encoders import RadFinder
from model.objective import training_losses
from model.preprocess import to_unit
from model.tokenizer import ReportTokenizer

CORPUS = ["3 mm nodule in the right upper lobe.", "Small left pleural effusion with adjacent atelectasis.",
          "Coronary artery wall calcification.", "No pericardial effusion. Hiatal hernia.",
          "Centrilobular emphysema in both upper lobes."] * 20


def synthetic_batch(cfg: RadFinderConfig, batch: int, vocab: int, device: torch.device) -> dict:
    g = torch.Generator().manual_seed(0)
    P, n_snip = cfg.depth_positions, batch * 2
    b = {"volume": torch.rand(batch, *cfg.crop_shape, generator=g),
         "valid": torch.ones(batch, P, dtype=torch.bool),
         "report_ids": torch.randint(4, vocab, (batch, cfg.report_tokens), generator=g),
         "report_mask": torch.ones(batch, cfg.report_tokens, dtype=torch.bool),
         "targets": torch.randint(-1, 2, (batch, 18), generator=g),
         "snippet_ids": torch.randint(4, vocab, (n_snip, cfg.snippet_tokens), generator=g),
         "snippet_mask": torch.ones(n_snip, cfg.snippet_tokens, dtype=torch.bool),
         "snippet_owner": torch.arange(batch).repeat_interleave(2),
         "snippet_pos": torch.randint(0, P, (n_snip,), generator=g),
         "snippet_weight": torch.ones(n_snip)}
    return {k: v.to(device) for k, v in b.items()}


def _step(model: RadFinder, cfg: RadFinderConfig, device: torch.device, compile_: bool):
    """One training step on a batch (forward with all three losses under bf16 autocast on a GPU, backward, AdamW)."""
    tok = ReportTokenizer.train(CORPUS, 200)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    p_ids, p_mask = (t.to(device) for t in tok.encode(["There is x."] * 36, cfg.snippet_tokens))
    pw = torch.ones(18, device=device)
    net = torch.compile(model) if compile_ else model
    bf16 = device.type == "cuda"

    def step(data: dict) -> None:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = training_losses(net, data, p_ids, p_mask, pw, cfg, model.logit_scale, model.logit_bias)["loss"]
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    def flops(data: dict) -> int:
        """The FLOPs of one step, counted eagerly."""
        from torch.utils.flop_counter import FlopCounterMode

        with FlopCounterMode(display=False) as fc:
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                loss = training_losses(model, data, p_ids, p_mask, pw, cfg, model.logit_scale, model.logit_bias)["loss"]
            loss.backward()
        opt.zero_grad(set_to_none=True)
        return fc.get_total_flops()

    step.flops = flops
    return step


def bench_step(cfg: RadFinderConfig, batch: int, steps: int, device: torch.device, compile_: bool) -> dict:
    model = RadFinder(cfg, cfg.vocab_size).to(device)
    step = _step(model, cfg, device, compile_)
    data = synthetic_batch(cfg, batch, cfg.vocab_size, device)
    flops = step.flops(data)
    for _ in range(3):  # warmup (and compilation)
        step(data)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        step(data)
    sync()
    dt = (time.perf_counter() - t0) / steps
    return {"volumes_per_s": batch / dt, "step_s": dt, "flops_per_step": flops, "achieved_tflops": flops / dt / 1e12,
            "params_m": sum(p.numel() for p in model.parameters()) / 1e6}


def _synthetic_records(tmp: Path, n: int, cfg: RadFinderConfig, source_shape: tuple[int, int, int]) -> list[VolumeRecord]:
    """`n` cached int16 volumes at the source size, in the cache's orientation, each with two referenced slices (so a
    step's localization loss has snippets, as in training)."""
    d, r, c = cfg.spacing_mm
    aff = np.array([[c, 0, 0, 0], [0, r, 0, 0], [0, 0, -d, 0], [0, 0, 0, 1]], dtype=float)
    records = []
    for i in range(n):
        path = tmp / f"v{i}.npy"
        np.save(path, np.random.default_rng(i).integers(-1000, 1000, source_shape, dtype=np.int16))
        refs = [SliceRef(-d * k, [CORPUS[k % len(CORPUS)]], [1.0], [f"p{i}-{k}"], [np.zeros(18, np.int8)])
                for k in (source_shape[0] // 3, 2 * source_shape[0] // 3)]
        records.append(VolumeRecord(f"s{i}", f"st{i}", f"p{i}", path, aff, None, "report text", np.zeros(18, np.int8),
                                    refs))
    return records


def _loader(records: list[VolumeRecord], cfg: RadFinderConfig, batch: int, workers: int, batches: int, pin: bool,
            hu: bool):
    """The training loader over `records` for `batches` batches (a fixed shuffled order cycling over them); `hu`:
    volumes as int16 HU, as `radmine train` ships them with workers."""
    tok = ReportTokenizer.train(CORPUS, 200)
    rng = np.random.default_rng(0)
    order = np.concatenate([rng.permutation(len(records)) for _ in range(batches * batch // len(records) + 1)])
    index_batches = [order[k * batch:(k + 1) * batch].tolist() for k in range(batches)]
    return torch.utils.data.DataLoader(VolumeDataset(records, cfg, augment=True, hu=hu), batch_sampler=index_batches,
                                       num_workers=workers, collate_fn=Collate(tok, cfg), pin_memory=pin)


def _check_batches(batches: int, workers: int) -> None:
    if batches <= max(1, workers):
        raise ValueError(f"--loader-batches ({batches}) must exceed the workers ({workers}): "
                         "each worker's first batch is not timed")


def bench_loader(cfg: RadFinderConfig, data_dir: Path | None, n: int, batch: int, workers: int,
                 source_shape: tuple[int, int, int], batches: int, pin: bool, hu: bool) -> dict:
    """Steady-state loader volumes/s, as training reads: `batches` batches cycling over `n` cached volumes.

    The clock starts when each worker has delivered its first batch (their start-up and first reads excluded) and
    counts the batches after those, so `batches` must exceed `workers` and should be a few times it."""
    _check_batches(batches, workers)
    with tempfile.TemporaryDirectory() as tmp:
        records = (load_records(data_dir, "train", cfg)[:n] if data_dir is not None
                   else _synthetic_records(Path(tmp), n, cfg, source_shape))
        loader = _loader(records, cfg, batch, workers, batches, pin, hu)
        t_start = time.perf_counter()
        it = iter(loader)
        warm = sum(next(it)["volume"].shape[0] for _ in range(max(1, workers)))
        t0, seen = time.perf_counter(), 0
        for b in it:
            seen += b["volume"].shape[0]
        t_end = time.perf_counter()
        dt = t_end - t0
        return {"volumes_per_s": seen / dt, "volumes_per_s_per_worker": seen / dt / max(1, workers),
                "overall_volumes_per_s": (seen + warm) / (t_end - t_start),  # start-up and first reads included
                "volumes": seen + warm, "batches": batches, "workers": workers, "pin_memory": pin, "hu_batches": hu,
                "warmup_s": t0 - t_start,
                "source_shape": list(source_shape) if data_dir is None else "cache"}


def bench_training(cfg: RadFinderConfig, n: int, batch: int, workers: int, source_shape: tuple[int, int, int],
                   batches: int, device: torch.device, compile_: bool, hu: bool) -> dict:
    """Training as `radmine train` runs it: each step's batch comes from the loader (workers reading a synthetic
    cache), moves to the device (pinned, non-blocking) and goes through forward, backward and AdamW. Volumes/s end to
    end, timed from the step after each worker's first batch; what the step alone reaches (`bench_step`) is its
    ceiling, what the loader alone reaches (`bench_loader`) its floor."""
    _check_batches(batches, workers)
    model = RadFinder(cfg, cfg.vocab_size).to(device)
    step = _step(model, cfg, device, compile_)
    with tempfile.TemporaryDirectory() as tmp:
        loader = _loader(_synthetic_records(Path(tmp), n, cfg, source_shape), cfg, batch, workers, batches,
                         device.type == "cuda", hu)

        def to_device(b: dict) -> dict:
            b = {k: v.to(device, non_blocking=True) for k, v in b.items()}
            b["volume"] = to_unit(b["volume"], cfg.hu_window)
            return b

        sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        t_start = time.perf_counter()
        it = iter(loader)
        warm = 0
        for _ in range(max(1, workers)):  # start-up, first reads, compilation
            b = next(it)
            step(to_device(b))
            warm += b["volume"].shape[0]
        sync()
        t0, seen, steps = time.perf_counter(), 0, 0
        for b in it:
            step(to_device(b))
            seen += b["volume"].shape[0]
            steps += 1
        sync()
        t_end = time.perf_counter()
        dt = t_end - t0
    return {"volumes_per_s": seen / dt, "step_s": dt / steps, "steps": steps, "workers": workers, "hu_batches": hu,
            "overall_volumes_per_s": (seen + warm) / (t_end - t_start), "warmup_s": t0 - t_start,
            "source_shape": list(source_shape)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cpu-small", action="store_true", help="reduced size and widths for a CPU run")
    p.add_argument("--batch", type=int, help="volumes per step (default 32 on GPU, 4 on CPU)")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--no-compile", action="store_true")
    p.add_argument("--peak-tflops", type=float, default=989.0, help="device peak for MFU (bf16 dense)")
    p.add_argument("--data-dir", type=Path, help="measure the loader on this data directory's volume cache")
    p.add_argument("--loader-volumes", type=int, default=64, help="distinct cached volumes the loader cycles over")
    p.add_argument("--loader-batches", type=int, help="batches to time (default: 4 per worker, at least 8)")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--float-batches", action="store_true",
                   help="ship [0, 1] float32 volumes from the workers instead of int16 HU (what training does without workers)")
    p.add_argument("--only", choices=("step", "loader", "training"),
                   help="measure only the training step, only the loader, or training end to end (the step fed by the "
                        "loader; not part of the default run)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    gpu = torch.cuda.is_available() and not args.cpu_small
    device = torch.device("cuda" if gpu else "cpu")
    if args.cpu_small:
        cfg = tiny(crop_shape=(32, 96, 96), stem_channels=(16, 32, 64, 128), vision_width=128, text_width=128,
                   embed_dim=128, vocab_size=2000)
        source = (48, 128, 128)
    else:
        cfg = RadFinderConfig()  # 128 x 192 x 192 at 3 x 1.5 x 1.5 mm
        source = (140, 256, 256)
    batch = args.batch or (32 if gpu else 4)
    step = loader = training = None
    hu = not args.float_batches and hu_batches(cfg, args.workers)  # as radmine train ships them
    if args.only == "training":
        training = bench_training(cfg, args.loader_volumes, batch, args.workers, source,
                                  args.loader_batches or max(8, 4 * args.workers), device,
                                  compile_=gpu and not args.no_compile, hu=hu)
    if args.only in (None, "step"):
        step = bench_step(cfg, batch, args.steps, device, compile_=gpu and not args.no_compile)
        if gpu:
            step["mfu"] = step["achieved_tflops"] / args.peak_tflops
    if args.only in (None, "loader"):
        loader = bench_loader(cfg, args.data_dir, args.loader_volumes, batch, args.workers, source,
                              batches=args.loader_batches or max(8, 4 * args.workers), pin=gpu, hu=hu)
    out = {"device": torch.cuda.get_device_name() if gpu else f"cpu ({torch.get_num_threads()} threads)",
           "crop_shape": list(cfg.crop_shape), "batch": batch, "bf16": gpu, "compile": gpu and not args.no_compile,
           "step": step, "loader": loader, "training": training}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
