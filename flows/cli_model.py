"""`radmine train`, `radmine evaluate`, `radmine localize`: thin wrappers over model/ (torch imported inside)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def _run(entry: str, argv: list[str]) -> None:
    import importlib

    try:
        code = importlib.import_module(f"model.{entry}").main(argv)
    except (ValueError, FileNotFoundError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        data_dir: Path = typer.Argument(..., help="data directory holding the volumes, reports, labels and snippet_slices tables"),
        out: Path = typer.Option(..., "--out", help="run directory: checkpoint/, metrics.jsonl, curves.png"),
        config: Optional[Path] = typer.Option(None, "--config", help="JSON or YAML overrides of RadFinderConfig"),
        tiny: bool = typer.Option(False, "--tiny", help="CPU-sized model for quick runs"),
        steps: Optional[int] = typer.Option(None, "--steps", help="override the number of optimiser steps"),
        until: Optional[int] = typer.Option(None, "--until", help="stop after this step with a checkpoint"),
        quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
    ) -> None:
        """Train RadFinder (resumes from OUT/checkpoint when present; run under torchrun for DDP)."""
        argv = [str(data_dir), "--out", str(out)] + (["--config", str(config)] if config else []) + \
            (["--tiny"] if tiny else []) + (["--steps", str(steps)] if steps else []) + \
            (["--until", str(until)] if until else []) + (["--quiet"] if quiet else [])
        _run("train", argv)

    @app.command("evaluate")
    def evaluate(
        checkpoint: Path = typer.Argument(..., help="RUN_DIR/checkpoint"),
        data_dir: Path = typer.Argument(..., help="data directory with the tables"),
        split: str = typer.Option("test", "--split", help="train, val or test"),
        out: Path = typer.Option(..., "--out", help="metrics JSON; the Markdown table goes beside it"),
        bootstrap: int = typer.Option(1000, "--bootstrap", help="bootstrap resamples for 95% intervals"),
    ) -> None:
        """Retrieval, zero-shot AUROC and localization with baselines on one split."""
        _run("evaluate", [str(checkpoint), str(data_dir), "--split", split, "--out", str(out), "--bootstrap", str(bootstrap)])

    @app.command("localize")
    def localize(
        checkpoint: Path = typer.Argument(..., help="RUN_DIR/checkpoint"),
        target: str = typer.Argument(..., help="a .npy volume, or a series / study instance UID (with --data-dir)"),
        text: str = typer.Argument(..., help="the sentence to place"),
        data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="data directory to look the UID up in"),
        png: Path = typer.Option(Path("localize.png"), "--png", help="where to draw the coronal projection"),
    ) -> None:
        """Print the depth a sentence refers to and draw it on a coronal projection."""
        _run("localize", [str(checkpoint), target, text, "--png", str(png)] + (["--data-dir", str(data_dir)] if data_dir else []))
