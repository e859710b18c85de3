"""Kill `radmine mine` with SIGKILL at several points: the previous version stays readable and unchanged,
and the next run completes with the right tables.

The run is paused at a checkpoint by the documented test hook RADMINE_TEST_PAUSE_AT (flows.pipeline),
which writes DATA_DIR/.paused-<checkpoint> first; the test then kills the whole process group.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import data_contracts as dc
from flows.toylib import make_toy_export, toy_report, write_toy_image
from flows.versions import VersionStore

# under pytest-xdist (`make test`), the Prefect tests share one worker: one harness and one server a run
pytestmark = pytest.mark.xdist_group("prefect")

TOY = "flows.toylib:library"
TABLES = ("reports", "references", "labels", "snippet_labels", "instances", "index_errors", "series",
          "snippet_slices", "rejections", "volumes")


def files_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def radmine_mine(root: Path, api_url: str, pause_at: str | None = None, no_prefect: bool = False):
    """`radmine mine` in a subprocess, against the session's Prefect server (no local server start per run)."""
    env = {**os.environ, "PREFECT_API_URL": api_url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    env.pop("RADMINE_TEST_PAUSE_AT", None)
    if pause_at:
        env["RADMINE_TEST_PAUSE_AT"] = pause_at
    argv = [sys.executable, "-m", "flows.cli", "mine", str(root / "export"), "--reports", str(root / "reports.jsonl"),
            "--data", str(root / "data"), "--library", TOY, "--keep-identifiers", "--report-batch-size", "2",
            "--file-batch-size", "9", "--volumes"]
    if no_prefect:
        argv.append("--no-prefect")
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def kill_at(proc: subprocess.Popen, marker: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"run ended before the checkpoint: {proc.stdout.read().decode()[-3000:]}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError(f"checkpoint {marker.name} not reached in {timeout} s")
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # the run and its children (Prefect's local server)
    proc.wait(timeout=30)
    marker.unlink()


def expected_tables(root: Path, tmp: Path) -> dict:
    """The tables a clean run over the same input gives (plain pipeline, fresh data directory)."""
    from flows import pipeline as pl

    out = tmp / "expected"
    pl.run_pipeline(pl.MineOptions(export_dir=str(root / "export"), reports=str(root / "reports.jsonl"),
                                   data_dir=str(out), library=TOY, keep_identifiers=True, volumes=True))
    return {t: dc.read_table(t, out).to_pylist() for t in TABLES}


@pytest.mark.slow
def test_sigkill_at_each_step_leaves_the_previous_version_and_the_next_run_completes(tmp_path, prefect_server):
    root = tmp_path / "in"
    make_toy_export(root, range(6))
    home = prefect_server
    first = radmine_mine(root, home)
    out, _ = first.communicate(timeout=180)
    assert first.returncode == 0, out.decode()[-3000:]
    data = root / "data"
    store = VersionStore(data)
    v1 = store.current()
    v1_files = files_digest(store.versions / v1)
    # new input for the runs that get killed: two new studies, one amended report
    for s in (6, 7):
        for i in range(1, 11):
            write_toy_image(root / "export", s, 2, i)
    reports = [toy_report(s) for s in range(8)]
    reports[3] = toy_report(3, amended=True)
    (root / "reports.jsonl").write_text("".join(json.dumps(r) + "\n" for r in reports))

    points = ["started", "mined", "indexed", "matched", "volumes", "before_publish", "renamed"]
    for i, point in enumerate(points):
        proc = radmine_mine(root, home, pause_at=point, no_prefect=(i % 2 == 1))  # flow and plain runs alike
        kill_at(proc, data / f".paused-{point}")
        assert store.current() == v1, point
        assert files_digest(store.versions / v1) == v1_files, f"previous version changed by a kill at {point}"
        assert dc.query(data, "SELECT count(*) AS n FROM reports").to_pylist() == [{"n": 6}], point

    # killed after CURRENT switched (before pruning): the new version is complete and current
    proc = radmine_mine(root, home, pause_at="published")
    kill_at(proc, data / ".paused-published")
    v2 = store.current()
    assert v2 != v1
    expected = expected_tables(root, tmp_path)
    assert {t: dc.read_table(t, data).to_pylist() for t in TABLES} == expected

    # and the next run completes, cleaning what the kills left behind
    last = radmine_mine(root, home)
    out, _ = last.communicate(timeout=180)
    assert last.returncode == 0, out.decode()[-3000:]
    assert not [p.name for p in store.versions.iterdir() if p.name.startswith(".")]
    assert store.current() not in (v1, v2)
    assert {t: dc.read_table(t, data).to_pylist() for t in TABLES} == expected
    assert all((store.versions / store.current() / v["array_path"]).is_file() for v in expected["volumes"])
    runs = dc.read_table("runs", data).to_pylist()
    assert len(runs) == 3 and all(r["status"] == "completed" for r in runs)
    counts = json.loads(runs[-1]["counts"])
    assert counts["reports_to_mine"] == 0 and counts["files_to_index"] == 0
    assert store.published() == sorted(store.published())[-3:]
