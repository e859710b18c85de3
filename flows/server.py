"""Prefect settings for radmine, and a local Prefect server on loopback for `radmine serve`.

Prefect's local (ephemeral) mode runs a flow without a server, but it cannot run schedules and
Dask workers would each start their own; `local_server()` starts `prefect server start` on
127.0.0.1 with the data directory's PREFECT_HOME, waits (bounded) until its API answers, and
stops it on exit. Nothing here touches the network beyond loopback.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

OFFLINE_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}


def configure_prefect(data_dir: str | os.PathLike) -> Path:
    """Set Prefect's environment before Prefect is imported: PREFECT_HOME under the data directory
    (unless the user set one) and telemetry off. Returns PREFECT_HOME."""
    os.environ.update(OFFLINE_ENV)
    home = os.environ.get("PREFECT_HOME")
    if not home:
        home = str(Path(data_dir).resolve() / ".prefect")
        os.environ["PREFECT_HOME"] = home
    Path(home).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_CLI_PROMPT", "false")
    # local mode starts a temporary API in a subprocess: allow a busy machine more than the 20 s default
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    return Path(home)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def api_healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/health", timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _prefect_executable() -> list[str]:
    exe = Path(sys.executable).with_name("prefect")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("prefect")
    return [found] if found else [sys.executable, "-m", "prefect"]


class LocalServer:
    """`prefect server start` on loopback as a child process (use as a context manager)."""

    def __init__(self, home: str | os.PathLike, port: int | None = None, host: str = "127.0.0.1",
                 startup_timeout: float = 60.0, log_path: str | os.PathLike | None = None):
        self.home = Path(home)
        self.host = host
        self.port = port or free_port(host)
        self.startup_timeout = startup_timeout
        self.log_path = Path(log_path) if log_path else self.home / "server.log"
        self.proc: subprocess.Popen | None = None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "LocalServer":
        self.home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **OFFLINE_ENV, "PREFECT_HOME": str(self.home)}
        env.pop("PREFECT_API_URL", None)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [*_prefect_executable(), "server", "start", "--host", self.host, "--port", str(self.port)],
            env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._log.close()
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"prefect server exited with code {self.proc.returncode}:\n{tail}")
            if api_healthy(self.api_url, timeout=1.0):
                return self
            time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"prefect server on {self.api_url} did not answer within {self.startup_timeout:.0f} s; "
                           f"see {self.log_path}")

    def stop(self) -> None:
        """Stop the server's whole process group and return only once it is gone: the `prefect` process can exit
        while its uvicorn child still answers for a moment (seen under load), and the server must not outlive us."""
        if self.proc is None:
            return
        group = self.proc.pid  # started in its own session: the group id is its pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        if not self._group_gone(group, timeout=15):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            self._group_gone(group, timeout=5)
        self._log.close()
        self.proc = None

    def _group_gone(self, group: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.proc.poll()  # reap our child, or its zombie keeps the group alive
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.1)
        return False

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@contextlib.contextmanager
def prefect_api(home: str | os.PathLike, announce=print):
    """Use PREFECT_API_URL when set; else start a loopback server for the duration. Yields the API URL.

    Must run before Prefect is imported in this process (the URL is read from the environment).
    """
    url = os.environ.get("PREFECT_API_URL")
    if url:
        yield url
        return
    with LocalServer(home) as server:
        os.environ["PREFECT_API_URL"] = server.api_url
        announce(f"started a local Prefect server: UI {server.ui_url} (stops when this command exits)")
        try:
            yield server.api_url
        finally:
            os.environ.pop("PREFECT_API_URL", None)
