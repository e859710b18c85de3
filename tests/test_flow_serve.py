"""`radmine serve` on a schedule against a local Prefect server it starts itself, and the Dask task runner
on a local cluster of 2 worker processes against a real Prefect server."""
from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

import data_contracts as dc
from flows import pipeline as pl
from flows.toylib import make_toy_export

# under pytest-xdist (`make test`), the Prefect tests share one worker: one harness and one server a run
pytestmark = pytest.mark.xdist_group("prefect")

TABLES = ("reports", "references", "labels", "snippet_labels", "instances", "index_errors", "series",
          "snippet_slices", "rejections")


def _post(url: str, body: dict) -> list[dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@contextlib.contextmanager
def local_cluster():
    """A Dask LocalCluster of 2 worker processes, 1 thread each, that leaves this process's environment as it was.

    Its nannies write `distributed.nanny.pre-spawn-environ` (MALLOC_TRIM_THRESHOLD_=65536, OMP/MKL/OPENBLAS_NUM_THREADS=1)
    into the environment of the process that starts them, on purpose. Every later subprocess of the test session would
    inherit them: a fixed trim threshold turns glibc's adaptive mmap threshold off, and the model test's training
    subprocess then spent half its time in page faults (9 instead of 19 volumes/s)."""
    from distributed import LocalCluster

    saved = dict(os.environ)
    try:
        with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
            yield cluster
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def dask_cluster():
    with local_cluster() as cluster:
        yield cluster


@pytest.mark.slow
def test_a_local_cluster_leaves_the_environment_as_it_found_it():
    before = dict(os.environ)
    with local_cluster():
        assert "MALLOC_TRIM_THRESHOLD_" in os.environ  # the nannies write it (Dask's default config)
    assert dict(os.environ) == before


@pytest.mark.slow
def test_serve_runs_the_flow_on_a_schedule_with_its_own_local_server(tmp_path):
    make_toy_export(tmp_path, range(3))
    data = tmp_path / "data"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home")}
    env.pop("PREFECT_API_URL", None)
    log = open(tmp_path / "serve.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve", str(tmp_path / "export"), "--reports",
                             str(tmp_path / "reports.jsonl"), "--data", str(data), "--interval", "5",
                             "--library", "flows.toylib:library", "--keep-identifiers", "--name", "test-schedule"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 100
        while not (data / "CURRENT").exists():
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "no scheduled run completed in time:\n" + (tmp_path / "serve.log").read_text()[-3000:]
            time.sleep(1)
        text = (tmp_path / "serve.log").read_text()
        ui = re.search(r"local Prefect server: UI (http://127\.0\.0\.1:\d+)", text).group(1)
        runs = []
        while time.monotonic() < deadline and not runs:
            runs = [r for r in _post(f"{ui}/api/flow_runs/filter",
                                     {"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}, "limit": 5})
                    if r["deployment_id"]]
            time.sleep(1)
        assert runs, "the server lists a completed run of the deployment"
        assert dc.query(data, "SELECT count(*) AS n FROM reports").to_pylist() == [{"n": 3}]
    finally:  # SIGTERM, as a service manager stops it (a child of this test process may inherit SIGINT ignored)
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # the server radmine started is gone with it
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{ui}/api/health", timeout=2)


@pytest.mark.slow
def test_dask_runner_on_two_worker_processes_gives_the_single_process_tables(tmp_path, prefect_server, dask_cluster):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.mine_flow import flow_with_runner

    make_toy_export(tmp_path, range(8))
    p = {"export_dir": str(tmp_path / "export"), "reports": str(tmp_path / "reports.jsonl"),
         "data_dir": str(tmp_path / "dask"), "library": "flows.toylib:library", "keep_identifiers": True,
         "report_batch_size": 2, "file_batch_size": 10, "runner": "dask"}
    with temporary_settings({PREFECT_API_URL: prefect_server}):
        result = flow_with_runner("dask", dask_cluster.scheduler_address)(**p)
    workers = {w.pid for w in dask_cluster.workers.values()} if hasattr(dask_cluster, "workers") else set()
    assert result["status"] == "completed" and result["counts"]["batches"] == 4 + 9
    single = tmp_path / "single"
    pl.run_pipeline(pl.MineOptions(**{**p, "data_dir": str(single), "runner": "local"}))
    for t in TABLES:
        assert dc.read_table(t, tmp_path / "dask").equals(dc.read_table(t, single)), t
    assert len(workers) <= 2


@pytest.mark.slow
def test_dask_runner_with_the_real_library_gives_the_single_process_tables(tmp_path, prefect_server, dask_cluster,
                                                                         monkeypatch):
    """The real pipeline (spaCy mining, DICOM headers, matching, volumes, pseudonymised publish) on a
    phantom export, its batches on 2 Dask worker processes: every published table equals a
    single-process run's."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from dataset.phantom import generate_export
    from flows.mine_flow import flow_with_runner

    monkeypatch.setenv("RADMINE_PSEUDONYM_KEY", "5e" * 32)
    generate_export(tmp_path / "ph", 3, seed=11, matrix=32, thin_series=False)
    p = {"export_dir": str(tmp_path / "ph" / "export"), "reports": str(tmp_path / "ph" / "reports.jsonl"),
         "data_dir": str(tmp_path / "dask"), "volumes": True, "report_batch_size": 1, "file_batch_size": 100,
         "runner": "dask"}
    with temporary_settings({PREFECT_API_URL: prefect_server}):
        result = flow_with_runner("dask", dask_cluster.scheduler_address)(**p)
    c = result["counts"]
    assert result["status"] == "completed" and c["failed_batches"] == 0
    assert c["batches"] > 4 and c["tables"]["snippet_slices"] > 0 and c["tables"]["volumes"] > 0
    single = tmp_path / "single"
    pl.run_pipeline(pl.MineOptions(**{**p, "data_dir": str(single), "runner": "local"}))
    published = [t for t in dc.contract_names() if t != "runs" and dc.has_table(t, single)]
    assert {"instances", "series", "snippet_slices", "volumes", "reports", "labels"} <= set(published)
    for t in published:
        assert dc.has_table(t, tmp_path / "dask"), t
        assert dc.read_table(t, tmp_path / "dask").equals(dc.read_table(t, single)), t
    for row in dc.read_table("volumes", single).to_pylist():  # the arrays themselves, too
        a, b = (dc.current_dir(d) / row["array_path"] for d in (tmp_path / "dask", single))
        assert a.read_bytes() == b.read_bytes(), row["array_path"]


@pytest.mark.slow
def test_prefect_yaml_deploys_to_a_server(prefect_server, tmp_path):
    """The shipped prefect.yaml deploys (work pool + `prefect deploy --all`) with the nightly schedule."""
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    exe = [str(Path(sys.executable).with_name("prefect"))]
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "PREFECT_HOME": str(tmp_path / "home"),
           "RADMINE_CHECKOUT": str(repo), "PREFECT_CLI_PROMPT": "false"}

    def run(*args):
        r = subprocess.run([*exe, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        return r.stdout

    run("work-pool", "create", "radmine", "--type", "process", "--overwrite")
    run("--no-prompt", "deploy", "--all")
    deps = _post(f"{prefect_server}/deployments/filter", {"deployments": {"name": {"any_": ["nightly"]}}})
    assert len(deps) == 1
    d = deps[0]
    assert d["entrypoint"] == "flows/mine_flow.py:mine_export" and d["work_pool_name"] == "radmine"
    assert d["parameters"]["keep_versions"] == 3 and d["parameters"]["volumes"] is True
    assert [s["schedule"]["cron"] for s in d["schedules"]] == ["0 2 * * *"]


def test_local_server_stop_returns_only_when_its_whole_process_group_is_gone(tmp_path):
    """The `prefect` process may exit on SIGTERM while a child still serves; stop() waits for the group."""
    from flows.server import LocalServer

    server = LocalServer(tmp_path / "home")
    server._log = open(tmp_path / "server.log", "ab")
    # the leader exits at once on SIGTERM; its child ignores SIGTERM and lives on for 2 s more
    server.proc = subprocess.Popen(["bash", "-c", "(trap '' TERM; sleep 2) & exec sleep 60"], start_new_session=True)
    group = server.proc.pid
    time.sleep(0.5)
    server.stop()
    with pytest.raises(ProcessLookupError):
        os.killpg(group, 0)
