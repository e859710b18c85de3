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
    workers: int = typer.Option(0, "--workers", "-w", help="Processes reading headers, this one included (0 = one per CPU core)."),
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

def _need_tables(data_dir: Path, names: list[str], hint: str) -> None:
    from data_contracts import has_table

    if not data_dir.is_dir():
        _fail(f"dataset folder {data_dir} does not exist; {hint}", 1)
    missing = [n for n in names if not has_table(n, data_dir)]
    if missing:
        _fail(f"{data_dir} has no {', '.join(missing)} table; {hint}", 1)


def match(
    data_dir: Path = typer.Argument(..., help="Dataset folder holding references, reports, instances and series."),
    min_slice_mm: float = typer.Option(0.5, "--min-slice-mm", help="Thinnest slice spacing a training volume may have."),
    max_slice_mm: float = typer.Option(5.0, "--max-slice-mm", help="Thickest slice spacing a training volume may have."),
    min_slices: int = typer.Option(8, "--min-slices", help="Fewest slices a training volume may have."),
) -> None:
    """Match each mined reference to its image and training-volume slice: writes snippet_slices and rejections."""
    from dataset.matching import MatchConfig, run_match

    if min_slice_mm <= 0 or max_slice_mm < min_slice_mm or min_slices < 1:
        _fail("need 0 < --min-slice-mm <= --max-slice-mm and --min-slices >= 1", 2)
    _need_tables(data_dir, ["references", "reports", "instances", "series"],
                 "run `radmine index EXPORT --out DATA_DIR` and `radmine mine-reports REPORTS --out DATA_DIR` first")
    counts = run_match(data_dir, MatchConfig(min_slice_mm=min_slice_mm, max_slice_mm=max_slice_mm, min_slices=min_slices))
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k not in ("references", "pairs")) or "none"
    typer.echo(f"{counts['references']} references: {counts['pairs']} pairs; rejected: {reasons} -> {data_dir}")


def _floats(text: str, n: int, what: str) -> tuple[float, ...]:
    try:
        vals = tuple(float(v) for v in text.replace("x", ",").split(",") if v.strip())
    except ValueError:
        vals = ()
    if len(vals) != n or any(v <= 0 for v in vals):
        _fail(f"{what} needs {n} positive numbers separated by commas, got {text!r}", 2)
    return vals


def volumes(
    data_dir: Path = typer.Argument(..., help="Dataset folder holding instances and series (and snippet_slices)."),
    export: Path = typer.Option(None, "--export", "-e", help="Export root the instance paths are relative to "
                                "(remembered in DATA_DIR/.radmine.json after the first use)."),
    spacing: str = typer.Option("1.5,1.5,3", "--spacing", help="Resampled voxel size x,y,z (column, row, slice) in mm."),
    split: str = typer.Option("70,15,15", "--split", help="train,val,test shares, assigned by a hash of patient_id."),
    progress: bool = typer.Option(None, "--progress/--no-progress", help="Progress bar (default: when stderr is a terminal)."),
) -> None:
    """Decode, rescale to HU, orient (LPS, superior first) and resample each study's training volume; writes volumes."""
    from dataset.matching import MatchConfig
    from dataset.splits import parse_fractions
    from dataset.volumes import VolumeConfig, run_volumes

    sp = _floats(spacing, 3, "--spacing")
    try:
        fractions = parse_fractions(split)
    except ValueError as exc:
        _fail(f"--split: {exc}", 2)
    if export is not None and not export.is_dir():
        _fail(f"--export {export} is not a folder; pass the folder `radmine index` read", 1)
    _need_tables(data_dir, ["instances", "series"], "run `radmine index EXPORT --out DATA_DIR` first")
    try:
        counts = run_volumes(data_dir, export, VolumeConfig(spacing_xyz=sp, split_fractions=fractions), MatchConfig(),
                             progress=progress)
    except FileNotFoundError as exc:
        _fail(str(exc), 1)
    splits_txt = ", ".join(f"{k} {counts.get(k, 0)}" for k in ("train", "val", "test"))
    typer.echo(f"{counts['volumes']} volumes ({splits_txt}); {counts['decode_errors']} could not be decoded -> {data_dir}/volumes")
    if counts["decode_errors"]:
        typer.echo(f"see why with: radmine query {data_dir} \"SELECT path, message FROM index_errors "
                   "WHERE error_kind = 'decode_error'\"", err=True)


export_app = typer.Typer(help="Export the dataset for other tools.", no_args_is_help=True)


@export_app.command("radfinder-json")
def radfinder_json(
    data_dir: Path = typer.Argument(..., help="Dataset folder holding snippet_slices, references, instances, series."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder receiving one JSON per training volume and index.json."),
) -> None:
    """Write the slice -> snippets JSON the RadFinder reference implementation reads, per training volume."""
    from dataset.radfinder_export import export_radfinder_json

    if out.exists() and not out.is_dir():
        _fail(f"--out {out} is a file; pass a folder", 2)
    _need_tables(data_dir, ["snippet_slices", "references", "instances", "series"], "run `radmine match DATA_DIR` first")
    counts = export_radfinder_json(data_dir, out)
    typer.echo(f"{counts['volumes']} volumes, {counts['slices']} slices, {counts['snippets']} snippets -> {out}")


def register(app: typer.Typer) -> None:
    app.command("index")(index)
    app.command("match")(match)
    app.command("volumes")(volumes)
    app.add_typer(export_app, name="export")
