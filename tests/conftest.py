"""Shared test fixtures. Areas add their own fixtures below, each under a comment naming the area."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# Real CT samples live beside the checkout (../shared/dicom-samples), read-only; copy before writing.
DICOM_SAMPLES = Path(os.environ.get("RADMINE_DICOM_SAMPLES", REPO_ROOT.parent / "shared" / "dicom-samples"))

# Keep Prefect (imported by flow tests) local, quiet and offline.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture(scope="session")
def dicom_samples() -> Path:
    """The folder of real CT samples; tests skip with a reason when it is absent."""
    if not (DICOM_SAMPLES / "README.md").exists():
        pytest.skip(f"real DICOM samples not found at {DICOM_SAMPLES}")
    return DICOM_SAMPLES


# ---- flows: one Prefect test harness per test session (it costs seconds to start), and a real
# Prefect server on loopback shared by the schedule and Dask tests (started only when they run).
# Under pytest-xdist each worker process is a test session of its own, with a PREFECT_HOME of its own.
os.environ.setdefault("PREFECT_HOME", str(Path(__import__("tempfile").gettempdir())
                                          / f"radmine-test-prefect-{os.getuid()}{os.environ.get('PYTEST_XDIST_WORKER', '')}"))


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """A `prefect server start` on 127.0.0.1 with its own PREFECT_HOME; yields its API URL."""
    from flows.server import LocalServer

    with LocalServer(tmp_path_factory.mktemp("prefect-server"), startup_timeout=90) as server:
        yield server.api_url
