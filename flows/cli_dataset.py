"""`radmine` commands of the dataset area: index (headers -> tables); match, volumes, export follow.

Heavy libraries (pydicom, pyarrow) are imported inside the commands.
"""
from __future__ import annotations

import sys
from pathlib import Path

import typer


def _fail(message: str, code: int) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


# ============================================================ index (dataset.index)

def index(
    export_dir: Path = typer.Argument(..., help="PACS export folder (any layout; files are recognised by content)."),
    out: Path = typer.Option(..., "--out", "-o", help="Dataset folder receiving instances, series and index_errors."),
    workers: int = typer.Option(0, "--workers", "-w", help="Worker processes (0 = one per CPU core)."),
    progress: bool = typer.Option(None, "--progress/--no-progress", help="Progress bar (default: when stderr is a terminal)."),
    full: bool = typer.Option(False, "--full", help="Re-read every file instead of reusing the previous run's rows."),
    reference_reader: bool = typer.Option(False, "--pydicom-only", help="Parse every header with pydicom (the reference reader); slower."),
) -> None:
    """Index the DICOM headers of EXPORT_DIR into DATA_DIR (incremental: only new or changed files are read)."""
    from dataset.index import index_export

    if workers < 0:
        _fail("--workers must be 0 (one per core) or more", 2)
    if not export_dir.is_dir():
        _fail(f"export folder {export_dir} does not exist or is not a folder; pass the folder holding the DICOM files", 1)
    if out.exists() and not out.is_dir():
        _fail(f"--out {out} is a file; pass a folder for the tables", 2)
    try:
        summary = index_export(export_dir, out, workers=workers or None, progress=progress,
                               fast=not reference_reader, incremental=not full)
    except OSError as exc:
        _fail(f"cannot index {export_dir} into {out}: {exc}", 1)
    kinds = ", ".join(f"{k} {v}" for k, v in summary["errors_by_kind"].items()) or "none"
    typer.echo(
        f"{summary['files']} files ({summary['files_read']} read, {summary['files_reused']} unchanged, "
        f"{summary['files_removed']} gone): {summary['instances']} images in {summary['series']} series; "
        f"not indexed: {kinds}; {summary['seconds']:.1f} s -> {out}"
    )
    if summary["errors"]:
        typer.echo(f"see why with: radmine query {out} \"SELECT error_kind, path, message FROM index_errors\"", err=True)
    sys.stdout.flush()


# ============================================================ match / volumes / export (dataset.matching, ...)
# (added by the matching/volumes work)


def register(app: typer.Typer) -> None:
    app.command("index")(index)
