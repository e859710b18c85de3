"""`radmine query`: SQL over a dataset folder through DuckDB, read-only."""
from __future__ import annotations

import io
import sys
from pathlib import Path

import typer

FORMATS = ("table", "csv", "json", "parquet")


def query(
    data_dir: Path = typer.Argument(..., help="Dataset folder (or one .parquet file) whose tables become views."),
    sql: str = typer.Argument(None, help="SQL to run; omit to list the tables with row counts."),
    fmt: str = typer.Option("table", "--format", "-f", help="Output format: table, csv, json or parquet."),
    out: Path = typer.Option(None, "--out", "-o", help="Write the result to FILE instead of printing it."),
    limit: int = typer.Option(50, help="Rows printed in table format (files get every row)."),
) -> None:
    """Run SQL over the tables in DATA_DIR (one view per table); without SQL, list the tables."""
    import duckdb

    import data_contracts as dc

    if fmt not in FORMATS:
        _fail(f"unknown --format {fmt!r}; choose one of {', '.join(FORMATS)}", 2)
    if fmt == "parquet" and out is None:
        _fail("--format parquet needs --out FILE", 2)
    if out is not None and _inside(out, data_dir):
        _fail(f"--out {out} is inside the dataset {data_dir}; radmine query never writes there", 2)
    try:
        if sql is None:
            counts = dc.row_counts(data_dir)
            if not counts:
                _fail(f"no tables (.parquet files or folders of them) in {data_dir}", 1)
            _print_counts(counts)
            return
        result = dc.query(data_dir, sql)
    except FileNotFoundError as exc:
        _fail(str(exc), 1)
    except dc.QueryRefused as exc:
        _fail(f"query refused: {exc}", 2)
    except duckdb.Error as exc:  # show DuckDB's own message
        _fail(f"query failed: {exc}", 2)
    _emit(result, fmt, out, limit)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve() if folder.is_dir() else folder.resolve().parent)
        return True
    except ValueError:
        return False


def _print_counts(counts: dict[str, int]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("table", "rows")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    Console().print(table)


def _emit(result, fmt: str, out: Path | None, limit: int) -> None:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if fmt == "parquet":
        pq.write_table(result, out)
        return
    if fmt == "csv":
        from flows.csv_safety import safe_table

        result = safe_table(result)  # text cannot start a spreadsheet formula
        if out:
            pacsv.write_csv(result, out)
        else:
            sink = io.BytesIO()
            pacsv.write_csv(result, sink)
            sys.stdout.write(sink.getvalue().decode())
        return
    if fmt == "json":
        import json

        text = "\n".join(json.dumps(row, default=str, ensure_ascii=False) for row in result.to_pylist())
        if out:
            out.write_text(text + "\n")
        else:
            sys.stdout.write(text + ("\n" if text else ""))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(*result.column_names, show_lines=False)
    for row in result.slice(0, limit).to_pylist():
        table.add_row(*(_cell(v) for v in row.values()))
    console = Console(file=out.open("w") if out else None, width=200 if out else None)
    console.print(table)
    if result.num_rows > limit:
        console.print(f"({result.num_rows:,} rows; first {limit} shown; use --format csv for all)")


def _cell(value) -> str:
    if value is None:
        return "∅"
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _fail(message: str, code: int) -> None:
    typer.echo(f"radmine: {message}", err=True)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("query")(query)
