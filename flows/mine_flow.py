"""The Prefect 3 flow `mine_export`: the pipeline of flows.pipeline as tasks.

    plan reports ─┬─ mine batch × N ── finish reports ─┐
    plan index  ──┴─ index batch × M ── finish index ───┴─ match ─┐
                   (--volumes) plan volumes ── volume batch × K ── finish volumes ─┴─ publish (+ artifact)

Every task is a thin wrapper over a function of flows.pipeline (which calls the mining and
dataset libraries), so `task.fn(...)` and `run_pipeline` run the same code without Prefect.
Batch tasks retry on I/O errors (OSError) with a delay and have timeouts; a batch that still
fails keeps its items' previous rows (a volume batch: its series get no volume this time and are
built by the next run) and the run ends `completed_with_errors`. The flow holds
the data directory's lock in its own process from start to publish.

Timeouts: tasks run in worker threads (or on Dask workers), where Prefect can only enforce a
timeout once the blocking call returns; the limits are generous backstops, not schedulers.
"""
from __future__ import annotations

import contextlib
import logging
import os
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import pipeline as pl

FLOW_NAME = "mine-export"
ARTIFACT_KEY = "radmine-run-summary"
DASK_ENV = "RADMINE_DASK_ADDRESS"


def _task_runner_from_env():
    """DaskTaskRunner on the cluster named by RADMINE_DASK_ADDRESS (deployments, `radmine serve --runner dask`);
    else Prefect's default thread pool."""
    address = os.environ.get(DASK_ENV)
    if not address:
        return None
    from prefect_dask import DaskTaskRunner

    return DaskTaskRunner(address=address)


def _io_error(task, task_run, state) -> bool:
    """Retry only I/O errors (a file briefly unavailable, a full disk being cleaned, NFS hiccups)."""
    try:
        state.result(raise_on_failure=True)
    except OSError:
        return True
    except BaseException:  # noqa: BLE001 - anything else is a bug or bad data: do not retry
        return False
    return False


_IO = dict(retries=2, retry_delay_seconds=5, retry_condition_fn=_io_error, cache_policy=NO_CACHE,
           persist_result=False)


@task(name="plan-reports", timeout_seconds=600, **_IO)
def plan_reports_task(ctx: pl.RunContext) -> pl.Plan:
    return pl.plan_reports(ctx)


@task(name="mine-batch", timeout_seconds=1800, **_IO)
def mine_batch_task(ctx: pl.RunContext, index: int, span: list[int]) -> pl.BatchResult:
    return pl.mine_batch(ctx, index, span)


@task(name="finish-reports", timeout_seconds=1800, **_IO)
def finish_reports_task(ctx: pl.RunContext, results: list[pl.BatchResult], plan: pl.Plan) -> dict:
    return pl.finish_reports(ctx, results, plan)


@task(name="plan-index", timeout_seconds=600, **_IO)
def plan_index_task(ctx: pl.RunContext) -> pl.Plan:
    return pl.plan_index(ctx)


@task(name="index-batch", timeout_seconds=1800, **_IO)
def index_batch_task(ctx: pl.RunContext, index: int, n_files: int) -> pl.BatchResult:
    return pl.index_batch(ctx, index, n_files)


@task(name="finish-index", timeout_seconds=1800, **_IO)
def finish_index_task(ctx: pl.RunContext, results: list[pl.BatchResult], plan: pl.Plan) -> dict:
    return pl.finish_index(ctx, results, plan)


@task(name="match", timeout_seconds=3600, **_IO)
def match_task(ctx: pl.RunContext) -> dict:
    return pl.match(ctx)


@task(name="plan-volumes", timeout_seconds=1800, **_IO)
def plan_volumes_task(ctx: pl.RunContext) -> pl.Plan:
    return pl.plan_volumes(ctx)


@task(name="volume-batch", timeout_seconds=1800, **_IO)
def volume_batch_task(ctx: pl.RunContext, index: int, uids: list[str]) -> pl.BatchResult:
    return pl.volume_batch(ctx, index, uids)


@task(name="finish-volumes", timeout_seconds=1800, **_IO)
def finish_volumes_task(ctx: pl.RunContext, results: list[pl.BatchResult], plan: pl.Plan) -> dict:
    return pl.finish_volumes(ctx, results, plan)


def _all_before(futures, other) -> bool:
    """Wait until every one of `futures` is done (True) or `other` is done first (False)."""
    from prefect.futures import as_completed

    left = set(futures)
    for fut in as_completed([other, *futures]) if left else ():
        left.discard(fut)
        if not left:
            break
        if fut is other:
            return False
    return True


def _collect(futures, batches) -> list[pl.BatchResult]:
    """Wait for batch futures; a failed batch becomes BatchResult(ok=False) instead of failing the run."""
    out = []
    for i, fut in enumerate(futures):
        fut.wait()
        state = fut.state
        if state.is_completed():
            out.append(fut.result())
        else:
            out.append(pl.BatchResult(index=i, ok=False, error=state.message or state.name))
    return out


@flow(name=FLOW_NAME, log_prints=True, validate_parameters=True, task_runner=_task_runner_from_env())
def mine_export(export_dir: str, reports: str, data_dir: str, volumes: bool = False, keep_versions: int = 3,
                report_batch_size: int = 200, file_batch_size: int = 2000, append_reports: bool = False,
                full: bool = False, keep_identifiers: bool = False, library: str = pl.DEFAULT_LIBRARY,
                runner: str = "local", columns: dict[str, str] | None = None) -> dict[str, Any]:
    """Mine a PACS export and its reports into a new published version of the tables in DATA_DIR.

    `columns` maps roles (id, accession, patient, date, text) to the reports export's columns where the
    default names do not find them (`radmine mine --text-column ...`)."""
    from prefect.artifacts import create_markdown_artifact

    _quiet_thread_timeout_warnings()
    options = pl.MineOptions(export_dir=str(export_dir), reports=str(reports), data_dir=str(data_dir),
                             volumes=volumes, keep_versions=keep_versions, report_batch_size=report_batch_size,
                             file_batch_size=file_batch_size, append_reports=append_reports, full=full,
                             keep_identifiers=keep_identifiers, library=library, runner=runner,
                             columns=dict(columns or {}))
    store, ctx = pl.start_run(options)
    # index batches run in this process's threads: their reader processes start now, while the
    # export is listed, instead of one per batch (not on Dask: there the workers read)
    readers = runner == "local" and not os.environ.get(DASK_ENV) and getattr(ctx.lib, "open_readers", None)
    running: list = []  # this run's task futures: an abort lets them end before it removes the partial version

    def submit(task, *args):
        running.append(fut := task.submit(*args))
        return fut

    try:
        if readers:
            readers()
        rplan_f = submit(plan_reports_task, ctx)
        iplan_f = submit(plan_index_task, ctx)
        # the reports go on while the export is listed and compared (most of a nightly run's fixed time)
        rplan = rplan_f.result()
        mine_f = [submit(mine_batch_task, ctx, i, b) for i, b in enumerate(rplan.batches)]
        mined = _collect(mine_f, rplan.batches) if _all_before(mine_f, iplan_f) else None
        freports = submit(finish_reports_task, ctx, mined, rplan) if mined is not None else None
        iplan = iplan_f.result()
        index_f = [submit(index_batch_task, ctx, i, b) for i, b in enumerate(iplan.batches)]
        if mined is None:
            mined = _collect(mine_f, rplan.batches)
            freports = submit(finish_reports_task, ctx, mined, rplan)
        indexed = _collect(index_f, iplan.batches)
        findex = submit(finish_index_task, ctx, indexed, iplan)
        freports.result(), findex.result()
        counts: dict[str, Any] = {**rplan.counts, **iplan.counts}
        counts.update(submit(match_task, ctx).result())
        built: list[pl.BatchResult] = []
        if volumes:
            vplan = submit(plan_volumes_task, ctx).result()
            built = _collect([submit(volume_batch_task, ctx, i, b) for i, b in enumerate(vplan.batches)], vplan.batches)
            counts.update(vplan.counts, **submit(finish_volumes_task, ctx, built, vplan).result())
        counts["failed_batches"] = pl.failed(mined) + pl.failed(indexed) + pl.failed(built)
        counts["batches"] = len(mined) + len(indexed) + len(built)
        if readers:
            ctx.lib.close_readers()
        row = pl.publish(store, ctx, counts)
    except BaseException:
        for fut in running:  # e.g. the reports still mined when the listing failed: they write into the partial version
            fut.wait()
        if readers:
            ctx.lib.close_readers()
        pl.abort_run(store, ctx)
        raise
    pl.finish_run(store, ctx)
    markdown = pl.summary_markdown(row)
    create_markdown_artifact(markdown=markdown, key=ARTIFACT_KEY, description=f"radmine run {row['run_id']}")
    print(markdown)
    return {"run_id": row["run_id"], "status": row["status"], "counts": row["counts"], "pruned": row["pruned"],
            "data_dir": str(data_dir)}


class _DropThreadTimeoutWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "running in a worker thread" not in record.getMessage()


def _quiet_thread_timeout_warnings() -> None:
    """Prefect warns once per task run that thread timeouts cannot interrupt; the module doc says it once."""
    for name in ("prefect.task_runs", "prefect.task_engine", "prefect"):
        lg = logging.getLogger(name)
        if not any(isinstance(f, _DropThreadTimeoutWarning) for f in lg.filters):
            lg.addFilter(_DropThreadTimeoutWarning())


def flow_with_runner(runner: str = "local", dask_address: str | None = None):
    """`mine_export` with the task runner the CLI asked for (threads locally, or an existing Dask cluster)."""
    if runner == "local":
        return mine_export
    if runner == "dask":
        if not dask_address:
            raise ValueError("--runner dask needs --dask-address tcp://HOST:PORT of a running Dask scheduler")
        from prefect_dask import DaskTaskRunner

        return mine_export.with_options(task_runner=DaskTaskRunner(address=dask_address))
    raise ValueError(f"unknown runner {runner!r}; choose local or dask")


def run_once(params: dict, runner: str = "local", dask_address: str | None = None) -> dict[str, Any]:
    """One run of `mine_export`, as `radmine mine` starts it."""
    with heartbeats_only_with_a_server():
        return flow_with_runner(runner, dask_address)(**params)


@contextlib.contextmanager
def heartbeats_only_with_a_server():
    """Flow-run heartbeats off while no Prefect server is configured (PREFECT_API_URL unset: local mode).

    A heartbeat lets a long-lived server mark a run whose process died as crashed; in local mode the API lives
    and dies with this process, so there is nothing to tell. And the heartbeat thread sleeps in 1 s steps that a
    run's end waits out: 0.97 s of a 1.15 s empty flow run here, a quarter of a nightly re-run's time."""
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    if PREFECT_API_URL.value():
        yield
        return
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def serve_flow(params: dict, name: str = "nightly", cron: str | None = None, interval: float | None = None,
               timezone: str | None = None, dask_address: str | None = None) -> None:
    """Create the deployment `mine-export/<name>` with the schedule and run its flow runs until stopped."""
    from prefect.types.entrypoint import EntrypointType

    if params.get("runner") == "dask":
        # the served runs load `mine_export` by module path in a subprocess: pass the cluster by environment
        os.environ[DASK_ENV] = dask_address or os.environ.get(DASK_ENV, "")
    flow_obj = flow_with_runner(params.get("runner", "local"), dask_address)
    from prefect.schedules import Cron, Interval

    schedule = Cron(cron, timezone=timezone) if cron else Interval(float(interval), timezone=timezone)
    flow_obj.serve(name=name, parameters=params, tags=["radmine"], limit=1, pause_on_shutdown=True,
                   entrypoint_type=EntrypointType.MODULE_PATH,
                   description="Nightly radmine run over a PACS export and its reports", schedule=schedule)
