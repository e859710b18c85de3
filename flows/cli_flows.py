"""`radmine mine`, `radmine serve`, `radmine stats`: the Prefect flow over an export, on demand or on a schedule.

Prefect is imported inside the commands only, after PREFECT_HOME (under DATA_DIR unless set)
and the telemetry switches are in the environment.
"""
from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import typer

from flows.cli_mining import (ACCESSION_COLUMN, DATE_COLUMN, ID_COLUMN, PATIENT_COLUMN, TEXT_COLUMN,
                              column_mapping)


def _fail(message: str, code: int) -> None:
    typer.echo(f"radmine: {message}", err=True)
    raise typer.Exit(code)


def _check_inputs(export_dir: Path, reports: Path, data: Path, runner: str, dask_address: str | None,
                  columns: dict[str, str]) -> None:
    if not export_dir.is_dir():
        _fail(f"export folder {export_dir} does not exist; pass the folder holding the DICOM files", 1)
    if not reports.exists():
        _fail(f"reports export {reports} does not exist; pass the CSV, JSONL or Parquet report export (or a folder "
              "of them) with --reports", 1)
    from mining.reports_io import describe_columns, report_columns

    try:  # the export's columns, before a run starts: a missing text or id column fails now, not in the flow
        roles = report_columns(reports, columns)
    except ValueError as exc:
        _fail(str(exc), 2)
    if roles:
        typer.echo(f"radmine: {describe_columns(roles)}", err=True)
    if data.exists() and not data.is_dir():
        _fail(f"--data {data} is a file; pass a folder for the dataset", 2)
    if runner not in ("local", "dask"):
        _fail(f"unknown --runner {runner!r}; choose local or dask", 2)
    if runner == "dask" and not dask_address:
        _fail("--runner dask needs --dask-address tcp://HOST:PORT of a running Dask scheduler", 2)


def _params(export_dir, reports, data, volumes, keep_versions, report_batch_size, file_batch_size,
            append_reports, full, runner, keep_identifiers, columns) -> dict:
    return {"export_dir": str(export_dir.resolve()), "reports": str(reports.resolve()), "data_dir": str(data.resolve()),
            "volumes": volumes, "keep_versions": keep_versions, "report_batch_size": report_batch_size,
            "file_batch_size": file_batch_size, "append_reports": append_reports, "full": full, "runner": runner,
            "keep_identifiers": keep_identifiers, "columns": columns}


_EXPORT = typer.Argument(..., help="PACS export folder (DICOM files in any layout).")
_REPORTS = typer.Option(..., "--reports", "-r", help="Report export (CSV, JSONL or Parquet), or a folder of daily export "
                        "files (the newest by name wins a report id), the full archive unless --append-reports.")
_DATA = typer.Option(..., "--data", "-d", help="Dataset folder: versions/, CURRENT, cache/ (created if missing).")
_VOLUMES = typer.Option(False, "--volumes/--no-volumes", help="Also build the training volumes (.npy arrays).")
_KEEP = typer.Option(3, "--keep-versions", min=1, help="Published versions to keep (older ones are pruned).")
_RB = typer.Option(200, "--report-batch-size", min=1, help="Reports per mining task.")
_FB = typer.Option(2000, "--file-batch-size", min=1, help="DICOM files per indexing task.")
_APPEND = typer.Option(False, "--append-reports", help="The reports file holds only new and amended reports; keep the others.")
_FULL = typer.Option(False, "--full", help="Re-process every file and report instead of reusing the previous version.")
_KEEPID = typer.Option(False, "--keep-identifiers", help="Publish real identifiers and unscrubbed text (default: pseudonymise).")
_RUNNER = typer.Option("local", "--runner", help="local (threads in this process) or dask (an existing cluster).")
_DASK = typer.Option(None, "--dask-address", help="Dask scheduler address for --runner dask, e.g. tcp://10.0.0.5:8786.")


def mine(
    export_dir: Path = _EXPORT, reports: Path = _REPORTS, data: Path = _DATA, volumes: bool = _VOLUMES,
    keep_versions: int = _KEEP, report_batch_size: int = _RB, file_batch_size: int = _FB,
    append_reports: bool = _APPEND, full: bool = _FULL, keep_identifiers: bool = _KEEPID, runner: str = _RUNNER,
    dask_address: str = _DASK, id_column: str = ID_COLUMN, accession_column: str = ACCESSION_COLUMN,
    patient_column: str = PATIENT_COLUMN, date_column: str = DATE_COLUMN, text_column: str = TEXT_COLUMN,
    no_prefect: bool = typer.Option(False, "--no-prefect", help="Run the same steps in this process without Prefect."),
    library: str = typer.Option("flows.library:library", "--library", hidden=True,
                                help="module:object doing the work (tests use flows.toylib:library)."),
) -> None:
    """Run the mining flow once: index, mine, match (and volumes), then publish a new version of the tables."""
    columns = column_mapping(id_column, accession_column, patient_column, date_column, text_column)
    _check_inputs(export_dir, reports, data, runner, dask_address, columns)
    params = _params(export_dir, reports, data, volumes, keep_versions, report_batch_size, file_batch_size,
                     append_reports, full, runner, keep_identifiers, columns)
    params["library"] = library
    from flows.server import configure_prefect
    from flows.versions import RunInProgress

    data.mkdir(parents=True, exist_ok=True)
    home = configure_prefect(data)
    try:
        if no_prefect:
            from flows import pipeline as pl

            row = pl.run_pipeline(pl.MineOptions(**params))
            typer.echo(pl.summary_markdown(row))
            result = {"run_id": row["run_id"], "status": row["status"]}
        elif runner == "dask":
            from flows.server import prefect_api

            with prefect_api(home, announce=lambda m: typer.echo(m, err=True)):
                from flows.mine_flow import run_once

                result = run_once(params, "dask", dask_address)
                _flush_prefect_logs()  # before the loopback server stops
        else:
            from flows.mine_flow import run_once

            result = run_once(params)
    except RunInProgress as exc:
        _fail(str(exc), 1)
    except FileNotFoundError as exc:
        _fail(str(exc), 1)
    typer.echo(f"published version {result['run_id']} ({result['status']}) in {data}; "
               f"query it with: radmine query {data}")


def serve(
    export_dir: Path = _EXPORT, reports: Path = _REPORTS, data: Path = _DATA,
    cron: str = typer.Option(None, "--cron", help='Cron schedule, e.g. "0 2 * * *" for 02:00 every night.'),
    interval: float = typer.Option(None, "--interval", min=1, help="Run every SECONDS instead of on a cron schedule."),
    timezone: str = typer.Option(None, "--timezone", help="Time zone of the cron schedule (default: the server's, UTC)."),
    name: str = typer.Option("nightly", "--name", help="Deployment name shown in the Prefect UI."),
    volumes: bool = _VOLUMES, keep_versions: int = _KEEP, report_batch_size: int = _RB, file_batch_size: int = _FB,
    append_reports: bool = _APPEND, keep_identifiers: bool = _KEEPID, runner: str = _RUNNER,
    dask_address: str = _DASK, id_column: str = ID_COLUMN, accession_column: str = ACCESSION_COLUMN,
    patient_column: str = PATIENT_COLUMN, date_column: str = DATE_COLUMN, text_column: str = TEXT_COLUMN,
    library: str = typer.Option("flows.library:library", "--library", hidden=True,
                                help="module:object doing the work (tests use flows.toylib:library)."),
) -> None:
    """Serve the mining flow on a schedule until stopped (Ctrl-C, or SIGTERM from a service manager).

    Uses the Prefect server at PREFECT_API_URL; when none is set, starts one on 127.0.0.1 (UI link printed)
    and stops it on exit.
    """
    columns = column_mapping(id_column, accession_column, patient_column, date_column, text_column)
    _check_inputs(export_dir, reports, data, runner, dask_address, columns)
    if (cron is None) == (interval is None):
        _fail("give exactly one of --cron \"0 2 * * *\" or --interval SECONDS", 2)
    params = _params(export_dir, reports, data, volumes, keep_versions, report_batch_size, file_batch_size,
                     append_reports, False, runner, keep_identifiers, columns)
    params["library"] = library
    from flows.server import configure_prefect, prefect_api

    data.mkdir(parents=True, exist_ok=True)
    home = configure_prefect(data)
    # SIGTERM (systemd, docker stop, kill) stops like Ctrl-C, so the local server is stopped too; by default it
    # would end the process at once and leave the server running. (SIGINT may arrive ignored: background jobs.)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with prefect_api(home, announce=lambda m: typer.echo(m, err=True)):
        from flows.mine_flow import serve_flow

        try:
            serve_flow(params, name=name, cron=cron, interval=interval, timezone=timezone, dask_address=dask_address)
        except KeyboardInterrupt:
            typer.echo("stopped serving", err=True)


def _flush_prefect_logs() -> None:
    try:
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=5)
    except Exception:  # noqa: BLE001 - best effort: logs only
        pass


def stats(
    data: Path = typer.Argument(..., help="Dataset folder (reads its current version)."),
    out: Path = typer.Option(None, "--out", "-o", help="Folder for the PNG plots (depths, rejections, pairs per label)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Print the dataset summary (reports, references, pairs, rejections, labels) and write plots."""
    from flows.stats import dataset_stats, render_text, write_plots

    if not data.is_dir():
        _fail(f"{data} is not a dataset folder; run `radmine mine ... --data {data}` first", 1)
    try:
        s = dataset_stats(data)
    except FileNotFoundError as exc:
        _fail(str(exc), 1)
    if out is not None and out.resolve().is_relative_to(data.resolve()):
        _fail(f"--out {out} is inside the dataset {data}; choose another folder", 2)
    if as_json:
        typer.echo(json.dumps({k: v for k, v in s.items() if k != "depths_mm"}, indent=2))
    else:
        typer.echo(render_text(s))
    if out is not None:
        for p in write_plots(s, out):
            typer.echo(f"wrote {p}")
    sys.stdout.flush()


def register(app: typer.Typer) -> None:
    app.command("mine")(mine)
    app.command("serve")(serve)
    app.command("stats")(stats)
