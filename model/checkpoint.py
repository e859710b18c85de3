"""Checkpoints as a directory: model and optimizer tensors in safetensors, config and state in JSON.

    checkpoint/
      model.safetensors      weights
      optimizer.safetensors  AdamW moments, flattened as state.<param index>.<name>
      state.json             config, step, optimizer param groups, scheduler state
      tokenizer.json         the report tokenizer (radmine's own text encoder), or
      text_model/            the Hugging Face text model's config and tokenizer (config `text_model`)
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from model.config import RadFinderConfig
from model.encoders import RadFinder
from model.tokenizer import ReportTokenizer


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list[dict]]:
    sd = optimizer.state_dict()
    tensors = {f"state.{pid}.{name}": (v if torch.is_tensor(v) else torch.tensor(v)).detach().cpu().contiguous()
               for pid, st in sd["state"].items() for name, v in st.items()}
    return tensors, sd["param_groups"]


def save_checkpoint(path: str | os.PathLike, model: RadFinder, tokenizer: ReportTokenizer,
                    optimizer: torch.optim.Optimizer | None = None, scheduler=None, step: int = 0,
                    extra: dict | None = None) -> Path:
    """Write atomically: into a sibling temp directory, then rename over `path`."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, tmp / "model.safetensors")
    state = {"config": model.cfg.to_dict(), "step": step, "vocab_size": tokenizer.vocab_size, "extra": extra or {}}
    if optimizer is not None:
        tensors, groups = _optimizer_tensors(optimizer)
        save_file(tensors, tmp / "optimizer.safetensors")
        state["param_groups"] = groups
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    (tmp / "state.json").write_text(json.dumps(state, indent=1))
    if model.cfg.text_model:
        tokenizer.save(tmp / "text_model")
        model.text.save_config(tmp / "text_model")
    else:
        tokenizer.save(tmp / "tokenizer.json")
    old = path.with_name(path.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if path.exists():
        path.rename(old)
    tmp.rename(path)
    shutil.rmtree(old, ignore_errors=True)
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu"
                    ) -> tuple[RadFinder, ReportTokenizer, dict]:
    """(model, tokenizer, state) where state holds step, config and the optimizer/scheduler payloads."""
    path = Path(path)
    if not (path / "state.json").exists():
        raise FileNotFoundError(f"{path} is not a RadFinder checkpoint (no state.json); pass RUN_DIR/checkpoint")
    state = json.loads((path / "state.json").read_text())
    cfg = RadFinderConfig.from_dict(state["config"])
    if cfg.text_model:
        from model.hf_text import HFTokenizer

        tokenizer = HFTokenizer.load(path / "text_model")
        model = RadFinder(cfg, state["vocab_size"], text_model_dir=str(path / "text_model"))
    else:
        tokenizer = ReportTokenizer.load(path / "tokenizer.json")
        model = RadFinder(cfg, state["vocab_size"])
    model.load_state_dict(load_file(path / "model.safetensors", device=str(map_location)))
    if (path / "optimizer.safetensors").exists():
        state["optimizer_tensors"] = load_file(path / "optimizer.safetensors")
    return model, tokenizer, state


def restore_optimizer(optimizer: torch.optim.Optimizer, state: dict) -> None:
    """Load the moments and param groups `load_checkpoint` returned into a freshly built optimizer."""
    per_param: dict[int, dict] = {}
    for key, value in state["optimizer_tensors"].items():
        _, pid, name = key.split(".", 2)
        per_param.setdefault(int(pid), {})[name] = value
    optimizer.load_state_dict({"state": per_param, "param_groups": state["param_groups"]})
