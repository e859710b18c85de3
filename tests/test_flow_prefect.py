"""The Prefect flow `mine_export` under prefect_test_harness (toy library: the machinery, not the mining)."""
from __future__ import annotations

import threading
import time

import pyarrow.parquet as pq
import pytest

import data_contracts as dc
from flows import pipeline as pl
from flows.toylib import ToyLibrary, make_toy_export

# under pytest-xdist (`make test`), the Prefect tests share one worker: one harness and one server a run
pytestmark = pytest.mark.xdist_group("prefect")

TOY = "flows.toylib:library"
TABLES = ("reports", "references", "labels", "snippet_labels", "instances", "index_errors", "series",
          "snippet_slices", "rejections")


def params(root, **kw) -> dict:
    return {"export_dir": str(root / "export"), "reports": str(root / "reports.jsonl"), "data_dir": str(root / "data"),
            "library": TOY, "report_batch_size": 2, "file_batch_size": 9, "keep_identifiers": True, **kw}


def test_flow_publishes_the_same_tables_as_the_plain_pipeline(tmp_path, prefect_harness):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.mine_flow import ARTIFACT_KEY, mine_export

    make_toy_export(tmp_path, range(8))
    result = mine_export(**params(tmp_path))
    assert result["status"] == "completed"
    assert result["counts"]["batches"] == 4 + 9  # 8 reports / 2, 81 files / 9
    plain = tmp_path / "plain"
    pl.run_pipeline(pl.MineOptions(**{**params(tmp_path), "data_dir": str(plain)}))
    for t in TABLES:
        assert pq.read_table(dc.table_path(t, tmp_path / "data")).equals(pq.read_table(dc.table_path(t, plain))), t
    runs = dc.read_table("runs", tmp_path / "data").to_pylist()
    assert [r["run_id"] for r in runs] == [result["run_id"]]

    async def artifacts():
        async with get_client() as client:
            return await client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[ARTIFACT_KEY])))

    import asyncio

    found = asyncio.run(artifacts())
    assert any(result["run_id"] in (a.data or "") for a in found), "markdown summary artifact published"
    md = next(a.data for a in found if result["run_id"] in (a.data or ""))
    assert "| snippet_slices | 8 |" in md and "**Status:** completed" in md

    again = mine_export(**params(tmp_path))
    assert again["counts"]["batches"] == 0 and again["counts"]["reports_carried"] == 8


def test_a_failing_batch_task_ends_the_run_completed_with_errors(tmp_path, prefect_harness, monkeypatch):
    from flows.mine_flow import mine_export

    make_toy_export(tmp_path, range(4))
    monkeypatch.setenv("RADMINE_TOY_FAIL_REPORTS", "R1")
    monkeypatch.setenv("RADMINE_TOY_FAIL_KIND", "value")  # not an I/O error: no retries
    result = mine_export(**params(tmp_path))
    assert result["status"] == "completed_with_errors" and result["counts"]["failed_batches"] == 1
    assert {r["report_id"] for r in dc.read_table("reports", tmp_path / "data").to_pylist()} == {"R2", "R3"}
    monkeypatch.delenv("RADMINE_TOY_FAIL_REPORTS")
    again = mine_export(**params(tmp_path))
    assert again["status"] == "completed" and again["counts"]["reports_to_mine"] == 2


def test_volume_batches_are_tasks_and_a_failed_one_is_built_by_the_next_run(tmp_path, prefect_harness, monkeypatch):
    from flows.mine_flow import mine_export

    make_toy_export(tmp_path, range(6))
    monkeypatch.setattr(pl, "VOLUME_BATCH", 2)
    monkeypatch.setenv("RADMINE_TOY_FAIL_VOLUMES", "1.2.3.2")  # the second batch: series 2 and 3
    monkeypatch.setenv("RADMINE_TOY_FAIL_KIND", "value")  # not an I/O error: no retries
    result = mine_export(**params(tmp_path, volumes=True))
    c = result["counts"]
    assert result["status"] == "completed_with_errors" and c["failed_batches"] == 1
    assert c["batches"] == 3 + 7 + 3 and (c["volumes_to_build"], c["volumes_built"]) == (6, 4)
    assert [v["series_instance_uid"] for v in dc.read_table("volumes", tmp_path / "data").to_pylist()] == \
        ["1.2.0.2", "1.2.1.2", "1.2.4.2", "1.2.5.2"]
    monkeypatch.delenv("RADMINE_TOY_FAIL_VOLUMES")
    again = mine_export(**params(tmp_path, volumes=True))
    assert again["status"] == "completed" and (again["counts"]["volumes_built"], again["counts"]["volumes"]) == (2, 6)
    plain = tmp_path / "plain"
    pl.run_pipeline(pl.MineOptions(**{**params(tmp_path, volumes=True), "data_dir": str(plain)}))
    assert dc.read_table("volumes", tmp_path / "data").equals(dc.read_table("volumes", plain))


class _Gated(ToyLibrary):
    """The toy library with one step held until another has run (at most GATE_S, then it fails the run)."""

    def __init__(self, held: str, until: str):
        self.held, self.until, self.reached = held, until, threading.Event()

    def _gate(self, step: str) -> None:
        if step == self.until:
            self.reached.set()
        if step == self.held and not self.reached.wait(GATE_S):
            raise RuntimeError(f"{self.held} waited {GATE_S} s for {self.until}, which never ran")

    def list_export(self, export_dir, exclude=()):
        self._gate("list_export")
        return super().list_export(export_dir, exclude)

    def mine_reports(self, rows):
        self._gate("mine_reports")
        return super().mine_reports(rows)

    def near_duplicate_groups(self, keys):  # called by finish-reports
        self._gate("finish_reports")
        return super().near_duplicate_groups(keys)

    def index_files(self, export_dir, items):
        self._gate("index_files")
        return super().index_files(export_dir, items)


GATE_S = 60  # generous on a loaded machine; a regression costs the test this long before it fails
LISTING_WAITS_FOR_REPORTS = _Gated(held="list_export", until="finish_reports")
MINING_WAITS_FOR_INDEXING = _Gated(held="mine_reports", until="index_files")


@pytest.mark.parametrize("library", ["LISTING_WAITS_FOR_REPORTS", "MINING_WAITS_FOR_INDEXING"])
def test_the_reports_finish_whether_or_not_they_are_mined_before_the_export_is_listed(tmp_path, prefect_harness,
                                                                                      library):
    """Mining and finishing the reports do not wait for the export's listing (a nightly run's longest fixed step);
    when the mining takes longer than the listing, the index batches do not wait for it either."""
    from flows.mine_flow import mine_export

    make_toy_export(tmp_path, range(4))
    result = mine_export(**params(tmp_path, library=f"{__name__}:{library}"))
    assert result["status"] == "completed" and result["counts"]["failed_batches"] == 0
    plain = tmp_path / "plain"
    pl.run_pipeline(pl.MineOptions(**{**params(tmp_path), "data_dir": str(plain)}))
    for t in TABLES:
        assert pq.read_table(dc.table_path(t, tmp_path / "data")).equals(pq.read_table(dc.table_path(t, plain))), t


class _ListingFails(ToyLibrary):
    """The toy library whose listing fails while a report batch is still being mined."""

    def __init__(self):
        self.mining, self.mined = threading.Event(), threading.Event()  # a batch began, one ended

    def list_export(self, export_dir, exclude=()):
        self.mining.wait(GATE_S)
        raise ValueError("toy listing failure")  # not an I/O error: no retries

    def mine_reports(self, rows):
        self.mining.set()
        time.sleep(0.5)  # still mining when the listing fails
        out = super().mine_reports(rows)
        self.mined.set()
        return out


LISTING_FAILS = _ListingFails()


def test_a_failed_run_lets_its_running_tasks_end_before_it_removes_the_partial_version(tmp_path, prefect_harness):
    """Tasks still running when a step fails write into the run's partial version: the run waits for them before
    removing it, so nothing is left half-written and the data directory is free for the next run."""
    from flows.mine_flow import mine_export

    make_toy_export(tmp_path, range(2))
    with pytest.raises(ValueError, match="toy listing failure"):
        mine_export(**params(tmp_path, library=f"{__name__}:LISTING_FAILS", report_batch_size=10))
    versions = tmp_path / "data" / "versions"  # a batch that wrote after the removal would leave its folder here
    assert LISTING_FAILS.mined.is_set() and not (versions.exists() and [p.name for p in versions.iterdir()])
    result = mine_export(**params(tmp_path))
    assert result["status"] == "completed" and result["counts"]["reports_to_mine"] == 2


def test_tasks_are_thin_and_callable_without_prefect(tmp_path):
    from flows import mine_flow as mf

    make_toy_export(tmp_path, range(3))
    store, ctx = pl.start_run(pl.MineOptions(**params(tmp_path)))
    try:
        plan = mf.plan_reports_task.fn(ctx)
        assert plan.counts["reports_to_mine"] == 3 and plan.batches == [[0, 2], [2, 3]]
        res = mf.mine_batch_task.fn(ctx, 0, plan.batches[0])
        assert res.ok and res.counts["reports"] == 2
    finally:
        pl.abort_run(store, ctx)
    for t in (mf.mine_batch_task, mf.index_batch_task, mf.plan_reports_task, mf.match_task):
        assert t.retries == 2 and t.retry_delay_seconds == 5 and t.timeout_seconds and t.retry_condition_fn


def test_retry_condition_retries_io_errors_only():
    from prefect.states import Completed, Failed

    from flows.mine_flow import _io_error

    def failed(exc):
        return Failed(data=exc, message=str(exc))

    assert _io_error(None, None, failed(OSError("nfs went away")))
    assert _io_error(None, None, failed(FileNotFoundError("gone")))
    assert not _io_error(None, None, failed(ValueError("bad data")))
    assert not _io_error(None, None, Completed())


def test_cli_mine_runs_the_flow_and_refuses_bad_input(tmp_path, prefect_harness, capsys):
    from flows.cli import main

    make_toy_export(tmp_path, range(2))
    p = params(tmp_path)
    argv = ["mine", p["export_dir"], "--reports", p["reports"], "--data", p["data_dir"], "--library", TOY, "--keep-identifiers"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "published version" in out
    assert dc.query(tmp_path / "data", "SELECT count(*) AS n FROM reports").to_pylist() == [{"n": 2}]
    assert main(["mine", str(tmp_path / "nope"), "--reports", p["reports"], "--data", p["data_dir"]]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["mine", p["export_dir"], "--reports", p["reports"], "--data", p["data_dir"], "--runner", "dask"]) == 2
    assert "--dask-address" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["serve"], ["stats"], ["mine"]])
def test_flow_commands_answer_help(argv, capsys):
    from flows.cli import main

    assert main([*argv, "--help"]) == 0
    assert "Usage" in capsys.readouterr().out


def test_heartbeats_are_off_only_while_no_server_is_configured():
    """Local mode: no flow-run heartbeat thread, whose 1 s sleeps each run's end waits out; with a server: kept."""
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    from flows.mine_flow import heartbeats_only_with_a_server

    default = get_current_settings().flows.heartbeat_frequency
    assert default is not None
    with temporary_settings(updates={PREFECT_API_URL: None}):
        with heartbeats_only_with_a_server():
            assert get_current_settings().flows.heartbeat_frequency is None
        assert get_current_settings().flows.heartbeat_frequency == default
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        with heartbeats_only_with_a_server():
            assert get_current_settings().flows.heartbeat_frequency == default
