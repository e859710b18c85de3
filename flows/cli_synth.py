"""`radmine synth`: write the deterministic phantom PACS export (DICOM, reports, answer key)."""
from __future__ import annotations

import sys
from pathlib import Path

import typer


def synth(
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write export/, reports.csv/.jsonl and truth/ into."),
    studies: int = typer.Option(20, "--studies", "-n", help="Number of studies to write."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives byte-identical files."),
    matrix: int = typer.Option(64, "--matrix", help="Image matrix (rows = columns), e.g. 32, 64, 128."),
) -> None:
    """Generate a synthetic CT export with planted findings and reports that cite them."""
    if studies < 1:
        _fail("--studies must be at least 1", 2)
    if not 16 <= matrix <= 512:
        _fail("--matrix must be between 16 and 512", 2)
    if out.exists() and any(out.iterdir()):
        _fail(f"{out} is not empty; choose a new or empty --out folder", 1)

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from dataset.phantom import generate_export

    console = Console(stderr=True)
    with Progress(TextColumn("studies"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("synth", total=studies)
        summary = generate_export(out, studies, seed, matrix=matrix,
                                  progress=lambda done, total: bar.update(task, completed=done))
    typer.echo(
        f"wrote {summary['n_studies']} studies ({summary['n_patients']} patients, {summary['n_files']} files, "
        f"{summary['n_broken_files']} deliberately broken), {summary['n_references']} image references "
        f"in {summary['seconds']:.1f} s to {out}"
    )


def _fail(message: str, code: int) -> None:
    print(f"radmine synth: {message}", file=sys.stderr)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)
