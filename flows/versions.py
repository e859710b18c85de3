"""Versioned dataset folders: build a version aside, publish it atomically, prune old ones.

Layout of a data directory written by the flows:

    DATA_DIR/CURRENT                       text: the name of the published version
    DATA_DIR/versions/<run_id>/            one folder of <table>.parquet per published version
    DATA_DIR/versions/.<run_id>.partial/   a version being built (never read by anyone)
    DATA_DIR/cache/                        caches shared across versions (volume arrays)
    DATA_DIR/.lock                         held (flock) by the one run writing this directory

A run builds its tables in `versions/.<run_id>.partial/`, renames the folder to
`versions/<run_id>` and only then switches CURRENT (write CURRENT.tmp, fsync, os.replace, fsync
the folder). Readers resolve CURRENT through `data_contracts.current_dir`, so they see either the
previous version or the new one, never a mix. A run killed at any point leaves CURRENT and the
version it names untouched; the next run removes the leftovers (`.partial` folders, CURRENT.tmp,
and a renamed version that never became current).

Version names are run ids: a UTC timestamp (sortable) plus a short random suffix.
"""
from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
from datetime import datetime, timezone
from pathlib import Path

from data_contracts.io import CURRENT_FILE, VERSIONS_DIR

LOCK_FILE = ".lock"
PARTIAL_SUFFIX = ".partial"
CACHE_DIR = "cache"
RUN_ID_RE = re.compile(r"^\d{8}T\d{6}\d{6}Z-[0-9a-f]{6}$")


class RunInProgress(RuntimeError):
    """Another run holds the data directory's lock."""


def new_run_id(now: datetime | None = None) -> str:
    """`20260101T020000123456Z-1a2b3c`: sorts by start time, unique across concurrent starts."""
    now = now or datetime.now(timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)


def run_started_at(run_id: str) -> datetime:
    return datetime.strptime(run_id.split("-")[0], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=timezone.utc)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Flush every file and folder under `root` to disk (before it is published)."""
    for folder, _dirs, files in os.walk(root):
        for name in files:
            p = os.path.join(folder, name)
            if os.path.islink(p):
                continue
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
        _fsync_dir(Path(folder))


class VersionStore:
    """The versions of one data directory."""

    def __init__(self, data_dir: str | os.PathLike):
        self.root = Path(data_dir)
        self.versions = self.root / VERSIONS_DIR
        self.pointer = self.root / CURRENT_FILE
        self.cache = self.root / CACHE_DIR
        self._lock_fd: int | None = None

    # -- reading -------------------------------------------------------------------------------
    def current(self) -> str | None:
        """The published version's name, or None before the first run."""
        if not self.pointer.is_file():
            return None
        name = self.pointer.read_text().strip()
        return name or None

    def current_path(self) -> Path | None:
        name = self.current()
        return self.versions / name if name else None

    def published(self) -> list[str]:
        """Complete version folders, oldest first (partial builds are never listed)."""
        if not self.versions.is_dir():
            return []
        return sorted(p.name for p in self.versions.iterdir() if p.is_dir() and not p.name.startswith("."))

    # -- the run lock --------------------------------------------------------------------------
    def lock(self) -> None:
        """Take the directory's run lock (released by `unlock` or when the process dies)."""
        import fcntl

        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise RunInProgress(f"another radmine run is writing {self.root} (lock {self.root / LOCK_FILE}); "
                                    "wait for it to finish") from None
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    # -- building and publishing ---------------------------------------------------------------
    def clean_leftovers(self) -> list[str]:
        """Remove what killed runs left behind; never touches CURRENT or the version it names.

        Leftovers: `.<run_id>.partial` folders, CURRENT.tmp, and version folders newer than the
        current one (renamed into place, but the run died before switching CURRENT). Call only
        while holding the lock.
        """
        removed = []
        tmp = self.root / (CURRENT_FILE + ".tmp")
        if tmp.exists():
            tmp.unlink()
            removed.append(tmp.name)
        current = self.current()
        if self.versions.is_dir():
            for p in sorted(self.versions.iterdir()):
                orphan = p.name.startswith(".") or (p.is_dir() and (current is None or p.name > current))
                if orphan and p.name != current:
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
                    removed.append(p.name)
        return removed

    def partial_path(self, run_id: str) -> Path:
        return self.versions / f".{run_id}{PARTIAL_SUFFIX}"

    def begin(self, run_id: str) -> Path:
        """Create and return the folder the run builds its version in."""
        path = self.partial_path(run_id)
        path.mkdir(parents=True, exist_ok=False)
        return path

    def publish(self, run_id: str, after_rename=None) -> Path:
        """Move the run's partial folder into place and point CURRENT at it (the commit point)."""
        partial = self.partial_path(run_id)
        final = self.versions / run_id
        fsync_tree(partial)
        os.rename(partial, final)
        _fsync_dir(self.versions)
        if after_rename is not None:
            after_rename()  # test hook: a kill here leaves a complete version that is not current
        tmp = self.root / (CURRENT_FILE + ".tmp")
        with open(tmp, "w") as fh:
            fh.write(run_id + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.pointer)
        _fsync_dir(self.root)
        return final

    def prune(self, keep: int) -> list[str]:
        """Delete published versions beyond the newest `keep`; the current one always stays."""
        keep = max(1, int(keep))
        current = self.current()
        names = self.published()
        doomed = [n for n in names[:-keep] if n != current] if len(names) > keep else []
        for name in doomed:
            shutil.rmtree(self.versions / name, ignore_errors=True)
        return doomed
