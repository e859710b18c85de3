"""`radmine audit` and `radmine review`: checks a person can trust before sharing or training."""
from __future__ import annotations

from pathlib import Path

import typer


def audit(
    data_dir: Path = typer.Argument(..., help="Data folder (its CURRENT version is scanned)."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    table: list[str] = typer.Option(None, "--table", "-t", help="Scan only this table (repeatable)."),
) -> None:
    """Scan every text column of the published tables for identifier-like content.

    Exits 0 when none is found, 1 when some is (counts by kind and column are printed; values never are).
    """
    import json

    from flows.audit import audit as run_audit
    from flows.audit import report_text

    if not data_dir.is_dir():
        _fail(f"{data_dir} is not a folder; give the data folder written by `radmine mine` or `radmine index`", 1)
    try:
        result = run_audit(data_dir, tables=table or None)
    except FileNotFoundError as exc:
        _fail(str(exc), 1)
    if not result.tables:
        _fail(f"no published tables in {data_dir}; run `radmine mine` first", 1)
    typer.echo(json.dumps(result.as_dict(), indent=2) if json_out else report_text(result))
    raise typer.Exit(0 if result.clean else 1)


def review(
    data_dir: Path = typer.Argument(..., help="Data folder with snippet_slices, volumes and rejections."),
    n: int = typer.Option(50, "--n", help="Pairs to sample."),
    out: Path = typer.Option(Path("review.html"), "--out", "-o", help="HTML file to write (one self-contained page)."),
    seed: int = typer.Option(0, help="Sampling seed."),
    per_reason: int = typer.Option(3, "--per-reason", help="Rejections shown per reason."),
) -> None:
    """Write one self-contained HTML page to review mined pairs and rejections by eye."""
    from flows.review import ReviewError, write_review

    if n < 1:
        _fail("--n must be at least 1", 2)
    try:
        summary = write_review(data_dir, out, n=n, seed=seed, per_reason=per_reason)
    except (FileNotFoundError, ReviewError) as exc:
        _fail(str(exc), 1)
    typer.echo(f"wrote {out}: {summary['pairs']} pairs, {summary['rejections']} rejections "
               f"({summary['reasons']} reasons), {summary['images']} images")


def _fail(message: str, code: int) -> None:
    typer.echo(f"radmine: {message}", err=True)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)
    app.command("review")(review)
