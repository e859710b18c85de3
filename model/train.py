"""`radmine train`: RadFinder training entry point (single process, or DDP under torchrun)."""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from model.checkpoint import load_checkpoint, restore_optimizer, save_checkpoint
from model.config import RadFinderConfig, tiny
from model.curves import plot_curves
from model.data import Collate, VolumeDataset, hu_batches, load_records, truncated_reports
from model.distributed import init_from_env, leave, rank_and_world
from model.encoders import RadFinder
from model.losses import label_pos_weight
from model.objective import training_losses
from model.preprocess import to_unit
from model.prompts import TRAIN_TEMPLATE, ZERO_SHOT_TEMPLATES, prompt_pairs
from model.tokenizer import ReportTokenizer


class EpochBatches:
    """Endless batches of (epoch, index) keys: a seeded permutation per epoch, split across ranks, from `start`."""

    def __init__(self, n: int, batch_size: int, seed: int, rank: int, world: int, start: int = 0):
        self.per_epoch = n // (batch_size * world)
        if self.per_epoch < 1:
            raise ValueError(f"{n} training volumes cannot fill one batch of {batch_size} on {world} process(es); "
                             "lower batch_size in the config")
        self.n, self.bs, self.seed, self.rank, self.world, self.start = n, batch_size, seed, rank, world, start

    def __iter__(self):
        m = self.start
        while True:
            epoch, offset = divmod(m, self.per_epoch)
            perm = torch.randperm(self.n, generator=torch.Generator().manual_seed(self.seed * 100003 + epoch)).tolist()
            base = (offset * self.world + self.rank) * self.bs
            yield [(epoch, i) for i in perm[base : base + self.bs]]
            m += 1


def lr_factor(step: int, warmup: int, total: int) -> float:
    """Linear warmup to 1, then cosine decay to 0 at `total`."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _optimizer(model: RadFinder, cfg: RadFinderConfig) -> torch.optim.AdamW:
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.98))


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="radmine train", description=__doc__)
    p.add_argument("data_dir", type=Path)
    p.add_argument("--out", type=Path, required=True, help="run directory (checkpoint, metrics, curves)")
    p.add_argument("--config", type=Path, help="JSON or YAML overrides of RadFinderConfig")
    p.add_argument("--tiny", action="store_true", help="start from the CPU-sized tiny config")
    p.add_argument("--steps", type=int, help="override the number of optimiser steps")
    p.add_argument("--until", type=int, help="stop after this step with a checkpoint (preemptible jobs; rerun resumes)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def build_config(args: argparse.Namespace) -> RadFinderConfig:
    cfg = tiny() if args.tiny else RadFinderConfig()
    if args.config:
        cfg = RadFinderConfig.load(args.config, base=cfg)
    if args.steps:
        cfg = dataclasses.replace(cfg, steps=args.steps)
    return cfg


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    cfg = build_config(args)
    distributed = init_from_env()
    rank, world = rank_and_world()
    device = torch.device(f"cuda:{torch.cuda.current_device()}" if torch.cuda.is_available() else "cpu")
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    ckpt_dir = out / "checkpoint"
    records = load_records(args.data_dir, "train", cfg)

    start_step = 0
    if (ckpt_dir / "state.json").exists():
        model, tokenizer, state = load_checkpoint(ckpt_dir)
        if model.cfg.to_dict() != {**cfg.to_dict(), "steps": model.cfg.steps}:
            print(f"resuming {ckpt_dir} with its saved config", file=sys.stderr)
        cfg = dataclasses.replace(model.cfg, steps=cfg.steps)
        model.cfg = cfg
        start_step = int(state["step"])
    else:
        _seed_all(cfg.seed)
        if cfg.text_model:
            from model.hf_text import HFTokenizer

            tokenizer = HFTokenizer.load(cfg.text_model)
        else:
            texts = [r.report_text for r in records] + [s for r in records for ref in r.refs for s in ref.snippets]
            tokenizer = ReportTokenizer.train(texts + [p for tp in ZERO_SHOT_TEMPLATES for p in prompt_pairs(tp)],
                                              cfg.vocab_size)
        model = RadFinder(cfg, tokenizer.vocab_size)
        state = None
    cut = truncated_reports(tokenizer, [r.report_text for r in records], cfg.report_tokens) if rank == 0 else 0
    if cut:
        print(f"{cut} of {len(records)} training reports are longer than report_tokens={cfg.report_tokens}; "
              "their text beyond that is never seen (raise report_tokens in the config)", file=sys.stderr)
    _seed_all(cfg.seed + 1000 * rank + start_step)
    model.to(device)
    optimizer = _optimizer(model, cfg)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, cfg.warmup_steps, cfg.steps))
    if state is not None and "optimizer_tensors" in state:
        restore_optimizer(optimizer, state)
        scheduler.load_state_dict(state["scheduler"])

    targets = torch.from_numpy(np.stack([r.targets for r in records]).astype(np.int64))
    pos_weight = label_pos_weight(targets, cfg.pos_weight_cap).to(device)
    templates = ZERO_SHOT_TEMPLATES if cfg.prompt_templates == "all" else (TRAIN_TEMPLATE,)
    prompt_sets = [tuple(t.to(device) for t in tokenizer.encode(prompt_pairs(tp), cfg.snippet_tokens)) for tp in templates]
    batches = EpochBatches(len(records), cfg.batch_size, cfg.seed, rank, world, start=start_step * cfg.grad_accum)
    # with workers, volumes cross processes as clipped HU in int16 (half the bytes; scaled to [0, 1] on the device)
    dataset = VolumeDataset(records, cfg, augment=True, hu=hu_batches(cfg, cfg.num_workers))
    loader = DataLoader(dataset, batch_sampler=batches, collate_fn=Collate(tokenizer, cfg),
                        num_workers=cfg.num_workers, persistent_workers=cfg.num_workers > 0,
                        pin_memory=device.type == "cuda")
    net = model
    if distributed:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    if cfg.compile:
        net = torch.compile(net)

    metrics_path = out / "metrics.jsonl"
    if rank == 0:
        (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1))
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(TextColumn("train"), BarColumn(), TextColumn("{task.completed}/{task.total} {task.fields[info]}"),
                        TimeRemainingColumn(), console=Console(stderr=True), disable=args.quiet or rank != 0,
                        transient=False)
    task = progress.add_task("train", total=cfg.steps, completed=start_step, info="")
    it = iter(loader)
    t0, seen = time.perf_counter(), 0
    with progress:
        last = min(cfg.steps, args.until or cfg.steps)
        for step in range(start_step, last):
            model.train()
            sums = dict.fromkeys(("loss", "siglip", "prompt", "loc") + (("prompt_slice",) if cfg.w_prompt_slice else ()), 0.0)
            # the step's prompt template pair: fixed by (seed, step), so resumed runs draw the same ones
            prompt_ids, prompt_mask = prompt_sets[int(np.random.default_rng((cfg.seed, step)).integers(len(prompt_sets)))]
            for _ in range(cfg.grad_accum):
                batch = {k: v.to(device, non_blocking=True) for k, v in next(it).items()}
                batch["volume"] = to_unit(batch["volume"], cfg.hu_window)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                    losses = training_losses(net, batch, prompt_ids, prompt_mask, pos_weight, cfg,
                                             model.logit_scale, model.logit_bias)
                (losses["loss"] / cfg.grad_accum).backward()
                for k in sums:
                    sums[k] += float(losses[k].detach()) / cfg.grad_accum
                seen += batch["volume"].shape[0] * world
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            scheduler.step()
            done = step + 1
            progress.update(task, completed=done, info=f"loss {sums['loss']:.3f}")
            if rank == 0 and (done % cfg.log_every == 0 or done == last):
                elapsed = time.perf_counter() - t0
                row = {"step": done, **sums, "lr": scheduler.get_last_lr()[0],
                       "logit_scale": float(model.logit_scale.detach().exp()), "logit_bias": float(model.logit_bias.detach()),
                       "volumes_per_s": seen / elapsed, "elapsed_s": elapsed}
                with metrics_path.open("a") as f:
                    f.write(json.dumps(row) + "\n")
            if rank == 0 and (done % cfg.ckpt_every == 0 or done == last):
                save_checkpoint(ckpt_dir, model, tokenizer, optimizer, scheduler, step=done)
    if rank == 0 and metrics_path.exists():
        plot_curves(metrics_path, out / "curves.png")
    leave()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
