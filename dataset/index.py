"""Index a PACS export: DICOM headers -> `instances`, `index_errors`, then `series` geometry.

`index_export(export_dir, data_dir)` walks any folder layout, recognises DICOM by content
(the 'DICM' prefix, or a raw dataset starting with a group 0002/0008 element), never by file
extension, reads headers only (`dataset.dicom_headers`) in parallel processes and streams
rows to Parquet in batches, so memory stays bounded by the batch size, not the export:

* the walk is a generator. A fresh run reads the files as the walk finds them; an incremental
  run streams it into a temporary Parquet listing (path, size, mtime) in DATA_DIR and the files
  to read come back from it in batches (DuckDB); never a Python list of the export;
* `workers` processes read: this one and `workers - 1` spawned readers, with at most
  `3 x (workers - 1)` chunks of files queued to those; readers send back plain column lists
  (they import neither pyarrow nor pydicom unless a file needs pydicom);
* incremental comparison, carried-over rows and end-of-run key checks run in DuckDB under a
  memory limit (out of core), not in Python sets.

Every file that is not indexed becomes one `index_errors` row, kinds:

  empty              zero bytes
  truncated          ends inside the preamble, header or pixel data
  not_dicom          no DICOM prefix (README.txt, thumbnails, ...; an archive is named as one)
  unreadable         the file cannot be opened/read (permissions, broken link), a folder that
                     cannot be listed (one row for the folder), a symlink pointing outside the
                     export root or to a folder (not followed), a FIFO/socket/device, or a
                     name that is not valid UTF-8 (the row's path shows the bytes escaped as
                     `\\xNN`; such a folder is not entered)
  parse_error        pydicom cannot parse the header
  missing_attribute  no SOPInstanceUID, StudyInstanceUID or SeriesInstanceUID
  not_an_image       a DICOM object without pixel data (SR, presentation state, ...)
  directory_object   a DICOMDIR / Media Storage Directory file: skipped by design, not a
                     failure; kept as a row so the export's content is accounted for and an
                     incremental run does not re-read it
  timeout            reading the header took longer than the per-file time limit
                     (`file_time_limit`, default 5 s, SIGALRM in the reading process)
  reader_died        every reader process that read it died (a flow's index batch; killed, e.g.
                     for memory): found by reading the batch's halves apart (`_read_isolating`)
  decode_error, duplicate   reserved (pixel decoding); duplicates are reported by `series`
                     (n_duplicate_sops), not here.

Incremental runs: the previous `instances` and `index_errors` in DATA_DIR are the cache. A
file whose (path, size_bytes, mtime) matches a cached row is not read again; rows of files
that are gone are dropped; new and changed files are read. `series` is recomputed for the
series whose rows changed. When nothing changed no table is rewritten. The result equals a
fresh run (sorted by primary key).
"""
from __future__ import annotations

import datetime
import gc
import math
import os
import stat as _stat
import sys
import time
from collections import Counter, deque
from contextlib import contextmanager
from functools import partial
from itertools import count
from operator import attrgetter as _attrgetter
from pathlib import Path
from typing import Any, Iterable, Iterator

CHUNK_FILES = 256         # files per task sent to a worker process (64 cost 10-15 % in per-task overhead)
BATCH_ROWS = 8192         # rows per Parquet write (and per contract check)
WALK_BATCH = 16384        # walk entries per write of the temporary listing
IN_FLIGHT_PER_WORKER = 3  # chunks queued or being read per worker process
RUN_AHEAD = 24            # results this process may hold while waiting for a helper's earlier one, so that a
                          # helper's start (~0.15 s) does not block it (it did 0.1-0.35 s a run)
SERIES_TASK_ROWS = 2048   # instance rows per run of series sent to a worker for their geometry
SERIES_HERE_MAX = 256     # an incremental run recomputing at most this many series does them in this process: reader
                          # processes that have not imported the geometry yet took 0.4 s to answer for 64 series
WALK_RUNS_PER_SHARE = 8   # runs of subtrees per reader in list_export: top folders hold very different numbers of
                          # files (two runs a share: one reader walked 0.19 s while the other waited after 0.11 s)
BIG_FOLDER_BYTES = 256 * 1024  # a folder whose own size says it holds thousands of entries (ext4 ~40 bytes an entry,
                          # tmpfs 20): list_export hands its files to the readers in parts (a flat dump of 118,624 files
                          # was one reader's, 0.63 s, while the other had finished)
FOLDER_PART = 16384       # names of such a folder a reader stats in one part
FILE_TIME_LIMIT_S = 5.0   # default wall time one file may take (header reading)
SERIES_FIELDS = (
    "series_instance_uid", "study_instance_uid", "accession_number", "patient_id", "study_date", "series_number",
    "series_description", "modality", "geometry", "n_images", "z_min", "z_max", "spacing_mm", "spacing_uniform",
    "has_gaps", "n_duplicate_positions", "n_duplicate_sops", "tilt_deg", "instance_order", "rows", "columns",
    "pixel_spacing", "slice_thickness", "affine",
)
_GEOMETRY_COLUMNS = (
    "path", "series_instance_uid", "study_instance_uid", "accession_number", "patient_id", "study_date",
    "series_number", "series_description", "modality", "sop_instance_uid", "instance_number", "frame_number", "image_type",
    "position_x", "position_y", "position_z", "orientation", "pixel_spacing", "slice_thickness", "gantry_tilt",
    "rows", "columns",
)
_STAT_HINT = "cannot stat the file (broken link or permissions); fix or remove it"


# ---------------------------------------------------------------- walking

def _escaped(name: str) -> str:
    """A file name that is not valid UTF-8, as valid UTF-8: the bad bytes become `\\xNN`."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def walk_export(export_dir: str | os.PathLike, exclude: list[str | os.PathLike] = ()) -> Iterator[tuple[str, int | None, float | None, str | None]]:
    """(relative '/' path, size, mtime, walk error) of every file under `export_dir`, a generator.

    Order: depth first, entries of a folder sorted by name. Hostile file systems:

    * folders are never entered through a symlink (no loops, nothing outside the root); a
      symlink to a folder is reported, not followed;
    * a file symlink is followed only when its real path lies inside the export root;
    * a folder that cannot be listed is one entry (its own path) with the error;
    * FIFOs, sockets and devices are reported, never opened (a FIFO would block the reader);
    * a name that is not valid UTF-8 is reported under its escaped form (`\\xNN` for the bad
      bytes; Parquet strings must be UTF-8) and a folder with such a name is not entered.

    An entry with an error has size and mtime None; its error says what to do.
    Folders in `exclude` (e.g. DATA_DIR inside the export) are skipped.
    """
    for part in _walk_folders(export_dir, exclude):
        yield from part


def _walk_folders(export_dir, exclude=(), start=None) -> Iterator[list[tuple[str, int | None, float | None, str | None]]]:
    """walk_export's entries, one list per folder (fewer generator steps: the re-run's walk is
    most of its time). start: walk only these (rel, real path) subtrees of the export, in order."""
    real_root, prefix, skip = _walk_root(export_dir, exclude)
    stack = list(reversed(start)) if start is not None else [("", real_root)]  # real paths only
    while stack:
        rel_dir, abs_dir = stack.pop()
        if abs_dir in skip:
            continue
        out, subdirs = _list_folder(rel_dir, abs_dir, prefix)
        yield out
        stack.extend(reversed(subdirs))


def _walk_root(export_dir, exclude) -> tuple[str, str, set[str]]:
    """(the export's real path, that path with a separator: what a followed symlink must start with, the real paths
    of the folders left out)."""
    real_root = os.path.realpath(export_dir)
    return real_root, real_root.rstrip(os.sep) + os.sep, {os.path.realpath(p) for p in exclude}


def _list_folder(rel_dir: str, abs_dir: str, prefix: str, names: list[str] | None = None) -> tuple[list, list]:
    """(walk entries of the folder's files, [(rel, real path) of its subfolders]), both by name. A folder that
    cannot be listed is one entry with the error (the export root itself raises). `names`: only these entries, in
    this order (a part of a big folder, `_folder_parts`), looked up by name rather than listed."""
    by_name = _attrgetter("name")
    try:  # listed through a folder descriptor: each stat then looks up one name, not the whole path
        fd = os.open(abs_dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        if not rel_dir:
            raise
        return [_unlisted(rel_dir, exc)], []
    try:
        try:
            if names is None:
                with os.scandir(fd) as it:
                    entries = sorted(it, key=by_name)
            else:
                entries = [_NamedEntry(fd, name) for name in names]
        except OSError as exc:
            if not rel_dir:
                raise
            return [_unlisted(rel_dir, exc)], []
        base = f"{rel_dir}/" if rel_dir else ""
        out, subdirs = [], []
        for e in entries:
            if e.is_file(follow_symlinks=False) and e.name.isascii():  # a plain file (no syscall for the test)
                try:
                    st = e.stat(follow_symlinks=False)
                    out.append((base + e.name, st.st_size, st.st_mtime, None))
                    continue
                except OSError:
                    pass
            entry = _odd_entry(e, base, f"{abs_dir}{os.sep}{e.name}", prefix, subdirs)
            if entry is not None:
                out.append(entry)
        return out, subdirs
    finally:
        os.close(fd)


class _NamedEntry:
    """A folder's entry known by name only (a part of a big folder), as much of `os.DirEntry` as the walk uses, from
    one lstat through the folder's descriptor (a scandir gives the same answers, its type without a syscall)."""

    __slots__ = ("name", "_st", "_err")

    def __init__(self, fd: int, name: str):
        self.name = name
        try:
            self._st, self._err = os.stat(name, dir_fd=fd, follow_symlinks=False), None
        except OSError as exc:  # gone since it was listed, or unreadable: raised where the walk stats it
            self._st, self._err = None, exc

    def is_file(self, follow_symlinks: bool = False) -> bool:
        return self._st is not None and _stat.S_ISREG(self._st.st_mode)

    def is_dir(self, follow_symlinks: bool = False) -> bool:
        return self._st is not None and _stat.S_ISDIR(self._st.st_mode)

    def is_symlink(self) -> bool:
        return self._st is not None and _stat.S_ISLNK(self._st.st_mode)

    def stat(self, follow_symlinks: bool = False):
        if self._st is None:
            raise self._err
        return self._st


def _unlisted(rel_dir: str, exc: OSError) -> tuple[str, None, None, str]:
    """The walk entry of a folder that cannot be opened or listed."""
    return rel_dir, None, None, f"the folder cannot be listed ({exc.strerror or exc}); its files are not indexed, check its permissions"


def _odd_entry(e, base: str, abs_path: str, prefix: str, subdirs: list):
    """Anything but a plain file with an ASCII name: a folder (added to `subdirs`), a symlink, a
    special file, a non-ASCII name. Returns the walk entry, or None for a folder to enter."""
    name = e.name
    bad_name = False
    if not name.isascii() and not _utf8(name):
        bad_name, name = True, _escaped(name)
    rel = base + name
    try:
        if e.is_dir(follow_symlinks=False):
            if bad_name:
                return rel, None, None, "the folder name is not valid UTF-8 (shown escaped); its files are not indexed, rename it"
            subdirs.append((rel, abs_path))
            return None
        if bad_name:
            return rel, None, None, "the file name is not valid UTF-8 (shown escaped); rename it"
        if e.is_symlink():
            if not os.path.realpath(abs_path).startswith(prefix):
                return rel, None, None, "a symlink pointing outside the export root; not followed"
            st = os.stat(abs_path)
            if _stat.S_ISDIR(st.st_mode):
                return rel, None, None, "a symlink to a folder; not followed (folders are walked by their real path)"
        else:
            st = e.stat(follow_symlinks=False)
        if not _stat.S_ISREG(st.st_mode):
            return rel, None, None, "not a regular file (FIFO, socket or device); not read"
        return rel, st.st_size, st.st_mtime, None
    except OSError as exc:
        return rel, None, None, f"cannot stat the file ({exc.strerror or exc}); broken link or permissions, fix or remove it"


# ---------------------------------------------------------------- reading (worker side)

def index_file(root: str, rel: str, size: int | None, mtime: float | None, fast: bool = True,
               walk_error: str | None = None) -> tuple[list[dict], dict | None]:
    """Rows (with path/size/mtime) of one file, or its index_errors row. One file: the per-file
    time limit (`read_file_limited`) wraps exactly this call. An entry without size (the walk
    could not stat it, or refused it: `walk_error`) is never opened."""
    from dataset.dicom_headers import HeaderError

    if size is None:
        return [], {"path": rel, "error_kind": "unreadable", "message": f"{rel}: {walk_error or _STAT_HINT}",
                    "size_bytes": None, "mtime": None}
    try:
        rows = _read_rows(os.path.join(root, rel), rel, fast)
    except HeaderError as exc:
        return [], {"path": rel, "error_kind": exc.kind, "message": exc.message, "size_bytes": size, "mtime": mtime}
    except Exception as exc:  # a reader bug (or RecursionError, MemoryError) must not stop the run
        return [], {"path": rel, "error_kind": "parse_error", "message": f"{rel}: unexpected {type(exc).__name__}: {exc}; report it with the file", "size_bytes": size, "mtime": mtime}
    for r in rows:
        r["path"], r["size_bytes"], r["mtime"] = rel, size, mtime
    return rows, None


def _read_rows(path: str, rel: str, fast: bool) -> list[dict]:
    """The fast reader, else pydicom; pydicom is imported at its first use, off the file's clock."""
    from dataset.dicom_headers import FastReaderDeclined, read_header

    if fast:
        try:
            return read_header(path, rel, fast=True, fallback=False)
        except FastReaderDeclined:
            pass
    if "pydicom.errors" not in sys.modules:  # once a process: the file's clock restarts after it
        _untimed(_preload_readers)
    return read_header(path, rel, fast=False)


class FileTimeout(BaseException):
    """Raised by SIGALRM inside a file's reading; BaseException so no `except Exception` in a reader swallows it."""


class _Clock:
    """The file being read: when it started and its limit. A periodic SIGALRM (armed per chunk
    of files, `tick` = limit / 10) raises FileTimeout in the reading code once the current
    file is over its limit: two syscalls per chunk, a clock read per file."""
    active = False
    started = 0.0
    limit = 0.0


_ALARM_READY = False  # SIGALRM handler installed in this process (worker, or the main thread)


def _on_alarm(signum, frame):
    if _Clock.active and time.monotonic() - _Clock.started > _Clock.limit:
        _Clock.active = False  # raise once per file
        raise FileTimeout


def _install_alarm() -> bool:
    """Install the SIGALRM handler; only possible in the main thread of a process with setitimer."""
    global _ALARM_READY
    import signal
    import threading

    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(signal.SIGALRM, _on_alarm)
    _ALARM_READY = True
    return True


def _preload_readers() -> None:
    """Import what the pydicom fallback reader imports lazily (`_untimed`, at its first use).

    Under the clock, the first file that takes the pydicom path would pay pydicom's import
    (seconds on a loaded machine, in a freshly spawned worker): the alarm could interrupt the
    import half-way, that file would become a 'timeout' row and every later pydicom-path file
    in the process would fail on the partially initialised module. Not at a worker's start
    either: most exports never need pydicom, and its import costs a worker ~0.4 s of CPU."""
    import pydicom  # noqa: F401
    import pydicom.charset  # noqa: F401
    import pydicom.errors  # noqa: F401


def _untimed(fn) -> None:
    """Run `fn` with the file's clock stopped; the file's limit starts again after it."""
    was = _Clock.active
    _Clock.active = False
    try:
        fn()
    finally:
        if was:
            _Clock.started = time.monotonic()
            _Clock.active = True


def _arm(limit: float | None) -> bool:
    """Start the periodic tick for a run of files; False when no limit can be enforced here."""
    if not limit or not _ALARM_READY:
        return False
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return False  # SIGALRM goes to the main thread: it cannot stop a read in this one

    _Clock.active, _Clock.limit = False, float(limit)
    tick = max(0.005, limit / 10)
    signal.setitimer(signal.ITIMER_REAL, tick, tick)
    return True


def _disarm() -> None:
    import signal

    signal.setitimer(signal.ITIMER_REAL, 0)
    _Clock.active = False


def _timeout_row(rel: str, size, mtime, limit: float) -> dict:
    return {"path": rel, "error_kind": "timeout",
            "message": f"{rel}: reading the header took more than {limit:g} s and was stopped; the file is malformed or its disk stalls, check it (a changed file or --full reads it again)",
            "size_bytes": size, "mtime": mtime}


def _read_timed(root: str, item, fast: bool, limit: float) -> tuple[list[dict], dict | None]:
    """One file under an armed clock (`_arm`): its rows/error, or a 'timeout' row."""
    rel, size, mtime, walk_error = item
    try:
        _Clock.started = time.monotonic()
        _Clock.active = True
        res = index_file(root, rel, size, mtime, fast, walk_error)
        _Clock.active = False
    except FileTimeout:
        _Clock.active = False
        res = [], _timeout_row(rel, size, mtime, limit)
    return res


def read_file_limited(root: str, rel: str, size: int | None, mtime: float | None, fast: bool = True,
                      walk_error: str | None = None, limit: float | None = FILE_TIME_LIMIT_S) -> tuple[list[dict], dict | None]:
    """`index_file` within `limit` seconds of wall time (plus a tenth), else a 'timeout' index_errors row.

    Needs the SIGALRM handler (`_install_alarm`: done in every worker, and by index_export in
    its main thread); without it (another thread) the file is read without a limit.
    """
    if not _arm(limit):
        return index_file(root, rel, size, mtime, fast, walk_error)
    try:
        return _read_timed(root, (rel, size, mtime, walk_error), fast, limit)
    finally:
        _disarm()


def _init_worker(holders=None, started=None) -> None:
    # one of several processes sharing the cores: a numeric library it imports later (torch, when a
    # flow builds volumes here) takes one thread, not one a core (2 readers x 2 threads: 1.5x slower)
    global _HOLDERS
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _HOLDERS = holders
    if started is not None:
        started.value = 1  # this pool's readers can start (`_ReaderTask.get`)
    _install_alarm()


PIPE_BYTES = 1 << 20  # pipe size to and from reader processes (Linux; the default is 64 KiB)


def _spawn_pool(size: int):
    """A pool of `size` spawned reader processes (spawn: safe where this process runs threads).

    Its pipes are widened where Linux allows: a result larger than the pipe blocked its helper
    until this process's result thread took the GIL from a busy main thread, up to a switch
    interval (5 ms) a time: ~1 s of a helper's 6 s over 100,000 files."""
    import multiprocessing as mp
    import threading

    ctx = mp.get_context("spawn")
    holders, started = ctx.RawArray("q", _TASK_SLOTS), ctx.RawValue("b", 0)
    pool = ctx.Pool(size, initializer=_init_worker, initargs=(holders, started))
    pool.task_holders, pool.task_slots, pool.unjam_guard = holders, count(), threading.Lock()
    pool.seen_pids, pool.deaths, pool.jammed_since = {p.pid for p in pool._pool}, 0, None  # for _unjam
    pool.started, pool.died, pool.size, pool.opened = started, 0, size, time.monotonic()
    try:
        import fcntl

        for queue in (pool._inqueue, pool._outqueue):  # SimpleQueues of two Connections each (CPython)
            for conn in (queue._reader, queue._writer):
                fcntl.fcntl(conn.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # not Linux, another Pool, or over pipe-max-size: default pipes
        pass
    return pool


_READERS = None  # the shared reader processes (open_readers), or None
_READERS_SIZE = 0
_READERS_LOCK = None


def open_readers(workers: int | None = None) -> None:
    """Start reader processes that `read_files` uses when called from a thread (a flow's batch tasks).

    Without them each such call spawns a process of its own and pays Python's start and the
    imports (about a second) per batch. Started ahead of the first batch, they start while the
    caller lists the export; `close_readers` stops them. Idempotent; thread-safe.
    """
    import multiprocessing as mp
    import threading

    global _READERS, _READERS_LOCK, _READERS_SIZE
    if mp.current_process().daemon:
        return  # a daemonic process may not start children: read_files reads in-process there
    if _READERS_LOCK is None:
        _READERS_LOCK = threading.Lock()
    with _READERS_LOCK:
        if _READERS is None:
            _READERS_SIZE = max(1, workers or os.cpu_count() or 1)
            _READERS = _spawn_pool(_READERS_SIZE)


def in_reader(fn, *args, timeout: float | None = None):
    """fn(*args) in one of `open_readers`' processes when they run (fn importable there), else here.

    timeout: seconds to wait for a reader's answer, then RuntimeError (not an OSError, which a flow
    task would retry): a reader that hangs must not hang the run. A task whose reader dies (killed for
    memory, say) is handed out again, and fails with RuntimeError when that one dies too (`_ReaderTask`)."""
    pool = _READERS
    return fn(*args) if pool is None else _answer(pool, fn, args, timeout)


def _answer(pool, fn, args: tuple, timeout: float | None):
    """fn(*args) in `pool`, waiting at most `timeout` seconds, then RuntimeError; handed out again when the
    reader that took it dies (`_ReaderTask`)."""
    return _ReaderTask(pool, fn, args).get(timeout)


DEATH_CHECK_S = 0.5  # how often a wait for a reader's answer looks whether the reader holding the task died
_TASK_SLOTS = 4096  # tasks of a pool whose reader is tracked at once (a ring; a run has a few in flight)
READER_TRIES = 2  # a task whose reader dies is handed out this often in all, then fails with a message
_HOLDERS = None  # in a reader process: its pool's `task_holders`


def _held(slot: int, fn, args: tuple):
    """fn(*args) in a reader, which first notes its PID in the task's slot."""
    _HOLDERS[slot] = os.getpid()
    return fn(*args)


class _ReaderTask:
    """A task in a spawned pool that is not lost when its reader dies.

    A reader killed while it holds a task (by the out-of-memory killer, say) loses it without a word, and the
    pool only starts another process. So the task notes which reader took it (a slot of the pool's shared array),
    and a waiter that sees that reader gone hands it out again, READER_TRIES times in all: a file that kills every
    reader that opens it fails its task with a message, instead of the run waiting out its timeout."""

    def __init__(self, pool, fn, args: tuple, what: str | None = None, tries: int = READER_TRIES):
        self.pool, self.fn, self.args, self.max_tries = pool, fn, args, tries
        self.what = what or getattr(fn, "__name__", str(fn))
        self.tries = 0
        self._hand_out()

    def _hand_out(self) -> None:
        self.tries += 1
        self.slot = next(self.pool.task_slots) % _TASK_SLOTS
        self.pool.task_holders[self.slot] = 0
        self.result = self.pool.apply_async(_held, (self.slot, self.fn, self.args))

    def ready(self) -> bool:
        return self.result.ready()

    def _holder_died(self) -> int:
        """The PID of the reader that took this task and is gone since, else 0 (not taken yet, or alive; or
        unknown: CPython's Pool keeps its processes in `_pool`, another would not say)."""
        pid = self.pool.task_holders[self.slot]
        if not pid or self.result.ready():
            return 0
        live = _live_pids(self.pool)
        return 0 if live is None or pid in live else pid

    def get(self, timeout: float | None):
        """The task's result, awaited at most `timeout` seconds from now, then RuntimeError; RuntimeError too
        when the readers it was handed to all died."""
        end = math.inf if timeout is None else time.monotonic() + timeout
        while not self.result.ready():
            left = end - time.monotonic()
            if left <= 0:
                raise _no_answer(self.what, timeout)
            self.result.wait(min(DEATH_CHECK_S, left))
            _unjam(self.pool)
            _check_readers_start(self.pool, self.what)
            pid = self._holder_died()
            if not pid:
                continue
            if self.tries >= self.max_tries:
                raise ReaderDied(f"{self.what}: the reader process that ran it died, {self.tries} time(s) (the last, "
                                 f"PID {pid}); killed, e.g. for memory? A file in it may need more than this "
                                 "machine has; see the system log (dmesg) for the out-of-memory killer")
            print(f"radmine: the reader process (PID {pid}) running {self.what} died; handing it out again",
                  file=sys.stderr)
            self._hand_out()
        return self.result.get()


READER_START_S = 120.0  # a pool none of whose readers has started in this long cannot start them


def _check_readers_start(pool, what: str) -> None:
    """ReaderDied when the pool's processes die before any of them has started (Python's spawn runs the program's main
    module again in each; a script that starts a run when imported, or that cannot be imported again, kills them at
    once), or none has started in READER_START_S: the pool only starts others, so a task would wait out its timeout."""
    started, died = getattr(pool, "started", None), getattr(pool, "died", 0)
    if started is None or started.value:
        return
    if died >= 2 * pool.size or time.monotonic() - pool.opened > READER_START_S:
        main = getattr(sys.modules.get("__main__"), "__file__", None) or "the main module"
        raise ReaderDied(f"{what}: the reader processes cannot start ({died} died starting, none started in "
                         f"{time.monotonic() - pool.opened:.0f} s). Python starts each by importing {main} again: a "
                         "script that starts a run when it is imported needs its run under "
                         "'if __name__ == \"__main__\":'; the readers' own errors are on stderr above")


def _live_pids(pool) -> set[int] | None:
    """The PIDs of the pool's running processes; None when unknown (CPython's Pool keeps them in `_pool`)."""
    workers = getattr(pool, "_pool", None)
    return None if workers is None else {p.pid for p in list(workers) if p.exitcode is None}


def _unjam(pool) -> None:
    """Free the pool's task queue when a dead process holds its lock.

    A process of CPython's Pool waiting for its next task holds the lock of the queue it reads. Killed then (the
    out-of-memory killer picks the largest process, busy or not), it takes the lock with it: no process gets a task
    again, and Pool.terminate, which takes that lock too, never returns. A live holder reads a waiting task at once,
    so after a process of the pool died, tasks waiting while the lock stays taken for DEATH_CHECK_S mean the dead
    one holds it: the lock is released, at most once a death (a live holder that a loaded machine leaves unrun
    that long must keep it)."""
    queue, guard, live = getattr(pool, "_inqueue", None), getattr(pool, "unjam_guard", None), _live_pids(pool)
    if queue is None or guard is None or live is None:
        return
    with guard:
        gone = len(pool.seen_pids - live)
        pool.deaths += gone
        pool.died += gone  # never lowered, unlike `deaths`: `_check_readers_start` counts readers that died starting
        pool.seen_pids = live
        jammed = bool(pool.deaths) and queue._reader.poll()
        if jammed and queue._rlock.acquire(False):  # free after all
            queue._rlock.release()
            jammed = False
        if not jammed:
            pool.jammed_since = None
        elif pool.jammed_since is None:
            pool.jammed_since = time.monotonic()
        elif time.monotonic() - pool.jammed_since >= DEATH_CHECK_S:
            queue._rlock.release()
            pool.deaths -= 1
            pool.jammed_since = None
            print("radmine: a reader process died waiting for a task; its queue lock is released", file=sys.stderr)


class ReaderDied(RuntimeError):
    """Every reader process a task was handed to died while it ran."""


def _no_answer(what, timeout: float | None) -> RuntimeError:
    """The error of a wait on the readers that ran out."""
    return RuntimeError(f"{what} got no answer from a reader process in {timeout} s")


def close_readers() -> None:
    """Stop the reader processes of `open_readers` (a no-op when none are running)."""
    global _READERS
    pool, _READERS = _READERS, None
    if pool is not None:
        from data_contracts.pools import stop_pool

        stop_pool(pool)


@contextmanager
def _no_cycle_collection():
    """Python's cycle collector paused: a walk builds a tuple per file and keeps them, none in a cycle, and the
    collections that their number sets off only walk them again (at 390,000 files, a quarter of the walk's time)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _walk_packed(folders: Iterable[list]) -> tuple:
    """Walk entries, folder by folder (`_walk_folders`' lists), packed for the trip from a reader to the main process
    (`_walk_table`): (the paths NUL-joined, how many, sizes, mtimes, errors). No POSIX name holds a NUL; one string
    pickles in a fraction of the time of 390,000, the main process splits it in C, and a reader never imports
    pyarrow (0.35 s at the start of each run's fresh readers, on the listing's path). Each folder is cut into
    columns on its own: zipping a whole export's entries at once cost 2-3x more at 390,000 files."""
    cols: list[list] = [[], [], [], []]
    with _no_cycle_collection():
        for folder in folders:
            if folder:
                for col, part in zip(cols, zip(*folder)):
                    col += part
    return "\x00".join(cols[0]), len(cols[0]), cols[1], cols[2], cols[3]


def _walk_table(packed: tuple):
    """A `_walk_packed` walk as an Arrow table: the listing's columns (`_listing_schema`) but its sequence number."""
    import pyarrow as pa
    import pyarrow.compute as pc

    joined, n, sizes, mtimes, errors = packed
    paths = (pc.split_pattern(pa.array([joined], pa.large_string()), "\x00").flatten().cast(pa.string()) if n
             else pa.array([], pa.string()))
    schema = _listing_schema().remove(0)
    return pa.Table.from_arrays([paths] + [pa.array(col, schema.field(i + 1).type) for i, col in enumerate((sizes, mtimes, errors))],
                                schema=schema)


def _walk_subtrees(args) -> tuple:
    """A reader's share of list_export: these subtrees of the export, walked in order (`_walk_packed`), or the files of
    one part of a big folder (`_folder_parts`: its subfolders are subtrees of their own)."""
    export_dir, exclude, item = args
    if isinstance(item, dict):  # {"part": (rel, real path, [names])}
        rel_dir, abs_dir, names = item["part"]
        return _walk_packed([_list_folder(rel_dir, abs_dir, _walk_root(export_dir, exclude)[1], names)[0]])
    return _walk_packed(_walk_folders(export_dir, exclude, start=item))


def _is_big_folder(abs_dir: str) -> bool:
    """Whether the folder's own size (its list of entries, not its files) says it holds thousands of entries."""
    try:
        return os.stat(abs_dir).st_size > BIG_FOLDER_BYTES
    except OSError:
        return False  # the walk reports it


def _folder_parts(rel_dir: str, abs_dir: str) -> list | None:
    """A big folder's walk cut for the readers: ("part", {"part": (rel, real path, [names])}) for each run of
    FOLDER_PART of its entries in name order, then ("tree", (rel, real path)) for each subfolder, as `_list_folder`
    finds them (a folder by `is_dir`, not followed through a symlink, its name valid UTF-8). Only names are listed
    here, no file is stat-ed. None when the folder cannot be listed (the walk reports why)."""
    names, dirs = [], []
    try:
        with os.scandir(abs_dir) as it:
            for e in it:
                names.append(e.name)
                if e.is_dir(follow_symlinks=False):
                    dirs.append(e.name)
    except OSError:
        return None
    names.sort()
    base = f"{rel_dir}/" if rel_dir else ""
    out: list = [("part", {"part": (rel_dir, abs_dir, names[k:k + FOLDER_PART])}) for k in range(0, len(names), FOLDER_PART)]
    return out + [("tree", (base + name, f"{abs_dir}{os.sep}{name}")) for name in sorted(dirs) if _utf8(name)]


def _utf8(name: str) -> bool:
    """Whether a file name can be written as UTF-8 (a name that cannot is reported, not walked: `_odd_entry`)."""
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _walk_shares(export_dir: str, exclude: list, shares: int) -> list:
    """The walk cut into its order: ("entries", [...]) of the top folders, listed here, ("trees", [...]) of
    consecutive subtrees, WALK_RUNS_PER_SHARE runs a share (a reader done early takes another), and ("big", (rel, real
    path)) of a folder whose own size says it holds thousands of entries (`_is_big_folder`: a flat dump, whose files
    one reader would stat alone; `list_export` cuts it into parts). Folders are opened here down to three levels,
    until there are 4 subtrees a share (an export of one patient folder still splits)."""
    real_root, prefix, skip = _walk_root(export_dir, exclude)
    segments: list = [("tree", ("", real_root))]
    for _depth in range(3):
        if sum(kind == "tree" for kind, _ in segments) >= 4 * shares:
            break
        opened: list = []
        for kind, item in segments:
            if kind != "tree":
                opened.append((kind, item))
            elif item[1] not in skip:
                if _is_big_folder(item[1]):
                    opened.append(("big", item))
                    continue
                entries, subdirs = _list_folder(*item, prefix)
                opened += [("entries", entries)] + [("tree", sub) for sub in subdirs]
        segments = opened
    segments = [("big", item) if kind == "tree" and item[1] not in skip and _is_big_folder(item[1]) else (kind, item)
                for kind, item in segments]
    return _runs_of(segments, shares)


def _runs_of(segments: list, shares: int) -> list:
    """`segments` with consecutive ("tree", item)s gathered into ("trees", [...]) runs, WALK_RUNS_PER_SHARE a share."""
    trees = [item for kind, item in segments if kind == "tree"]
    per_run = max(1, -(-len(trees) // (WALK_RUNS_PER_SHARE * shares)))
    out, run = [], []
    for kind, item in segments:
        if kind == "tree":
            run.append(item)
            if len(run) == per_run:
                out.append(("trees", run))
                run = []
        else:
            if run:
                out.append(("trees", run))
                run = []
            out.append((kind, item))
    if run:
        out.append(("trees", run))
    return out


def list_export(export_dir: str | os.PathLike, exclude: list = (), timeout: float | None = None):
    """`walk_export` as an Arrow table (path, size_bytes, mtime, walk_error), in walk order.

    When `open_readers`' processes run (a flow), they walk it: the top folders are listed here and runs of
    their subtrees go to the readers, which send back packed columns (the walk is Python between system calls: in a
    process whose threads also parse reports or talk to Prefect it would wait for the GIL after every stat;
    and two processes stat at once). Each run's answer is awaited at most `timeout` seconds, then
    RuntimeError; a run whose reader dies is handed out again (`_ReaderTask`)."""
    root, skip = str(export_dir), [str(p) for p in exclude]
    pool = _READERS
    if pool is None:
        return _walk_table(_walk_packed(_walk_folders(root, skip)))
    import pyarrow as pa

    def hand_out(item) -> _ReaderTask:
        return _ReaderTask(pool, _walk_subtrees, ((root, skip, item),), f"listing {root}")

    segments = _walk_shares(root, skip, _READERS_SIZE)
    runs = {k: [hand_out(item)] for k, (kind, item) in enumerate(segments) if kind == "trees"}
    for k, (kind, item) in enumerate(segments):  # listed once the readers have the rest to walk
        if kind == "big":
            parts = _folder_parts(*item)
            runs[k] = [hand_out(x) for _, x in _runs_of(parts, _READERS_SIZE)] if parts is not None else [hand_out([item])]
    return pa.concat_tables([_walk_table(_walk_packed([item]) if kind == "entries" else r.get(timeout))
                             for k, (kind, item) in enumerate(segments) for r in runs.get(k, [None])])


def read_files(root: str | os.PathLike, items, fast: bool = True, limit: float | None = FILE_TIME_LIMIT_S,
               timeout: float | None = None) -> tuple[list[dict], list[dict]]:
    """(instances rows, index_errors rows) of walk entries ((path, size, mtime, walk error) each, as
    `walk_export` yields them), read as `index_export` reads them: each file within `limit` seconds.

    In the main thread the files are read here under SIGALRM; in another thread (a Prefect task),
    where SIGALRM cannot stop a read, in a worker process (one of `open_readers`' when they run,
    else one started for this call), waiting for it at most `timeout` seconds (default: the files'
    limits plus a minute), then RuntimeError; a task whose reader dies is handed out again
    (`_ReaderTask`). In a daemonic process (which may not start one) here without a limit.
    """
    import multiprocessing as mp
    import threading

    root, items = os.path.realpath(root), [tuple(i) for i in items]
    if limit and items and threading.current_thread() is not threading.main_thread() and not mp.current_process().daemon:
        timeout = timeout or _batch_timeout(len(items), limit)
        if _READERS is not None:
            return _read_isolating(_READERS, _read_items, root, items, fast, limit, timeout)
        from data_contracts.pools import stopping  # here only: a read in this process needs no pyarrow

        with stopping(_spawn_pool(1)) as pool:
            return _read_isolating(pool, _read_items, root, items, fast, limit, timeout)
    with _alarm_installed():
        return _read_items(root, items, fast, limit)


def _batch_timeout(n_files: int, limit: float) -> float:
    """How long to wait for a reader's answer on `n_files` files read within `limit` seconds each: their limits plus a
    minute."""
    return n_files * (limit + 0.1) + 60


def _read_isolating(pool, reader, root: str, items: list, fast: bool, limit, timeout: float,
                    tries: int = READER_TRIES) -> tuple[list[dict], list[dict]]:
    """reader(root, items, fast, limit) (`_read_items`) in `pool`. When the readers it is handed to die (a file that
    needs more memory than the machine has, say), its halves are read on their own, and so on down to the file
    that kills them, which becomes a `reader_died` index_errors row: the other files' rows are kept."""
    try:
        return _ReaderTask(pool, reader, (root, items, fast, limit), tries=tries).get(timeout)
    except ReaderDied:
        if len(items) == 1:
            rel, size, mtime = items[0][:3]
            return [], [{"path": rel, "error_kind": "reader_died", "size_bytes": size, "mtime": mtime,
                         "message": f"{rel}: every reader process that read it died (killed, e.g. for memory: see "
                                    "the system log, dmesg); radmine reads it again when it changes, or with --full"}]
        print(f"radmine: looking for the file that kills the reader among {len(items)} files", file=sys.stderr)
        half = len(items) // 2
        first = _read_isolating(pool, reader, root, items[:half], fast, limit, timeout, tries=1)
        second = _read_isolating(pool, reader, root, items[half:], fast, limit, timeout, tries=1)
        return first[0] + second[0], first[1] + second[1]


def _read_items(root: str, chunk, fast: bool, limit) -> tuple[list[dict], list[dict]]:
    """Rows and error rows of a run of walk entries; each file timed when this process can (`_arm`)."""
    rows, errors = [], []
    timed = _arm(limit)
    try:
        for item in chunk:
            r, e = _read_timed(root, item, fast, limit) if timed else index_file(root, *item[:3], fast, item[3])
            if r:
                rows.extend(r)
            if e is not None:
                errors.append(e)
    finally:
        if timed:
            _disarm()
    return rows, errors


def _read_chunk(args) -> tuple[list[list] | None, list[dict], int]:
    """Read a chunk of files: instance rows as column lists (in `fields` order), error rows, file count.

    Plain lists pickle cheaply and keep pyarrow out of the worker processes."""
    root, chunk, fast, limit, fields = args
    rows, errors = _read_items(root, chunk, fast, limit)
    return _columns(rows, fields), errors, len(chunk)


def _read_chunk_isolating(pool, args) -> tuple[list[list] | None, list[dict], int]:
    """`_read_chunk` of a chunk whose readers died: read in `pool` apart from the file that kills them."""
    root, chunk, fast, limit, fields = args
    timeout = _batch_timeout(len(chunk), limit or FILE_TIME_LIMIT_S)
    rows, errors = _read_isolating(pool, _read_items, root, chunk, fast, limit, timeout, tries=1)
    return _columns(rows, fields), errors, len(chunk)


def _columns(rows: list[dict], fields) -> list[list] | None:
    cols = [[r.get(f) for r in rows] for f in fields] if rows else None
    if cols is not None:  # equal lists as one object: pickle writes it once (orientation: a fifth of a result)
        for i, f in enumerate(fields):
            if f in _LIST_FIELDS:
                same: dict = {}
                cols[i] = [v if v is None else same.setdefault(tuple(v), v) for v in cols[i]]
    return cols


_LIST_FIELDS = ("orientation", "pixel_spacing")


# ---------------------------------------------------------------- orchestration

_LISTING_SCHEMA = None


def _listing_schema():
    global _LISTING_SCHEMA
    import pyarrow as pa

    if _LISTING_SCHEMA is None:
        _LISTING_SCHEMA = pa.schema([("seq", pa.int64()), ("path", pa.string()), ("size_bytes", pa.int64()),
                                     ("mtime", pa.float64()), ("walk_error", pa.string())])
    return _LISTING_SCHEMA


def _write_listing(folders: Iterator[list], path: Path) -> None:
    """Stream the walk (lists of entries) into a temporary Parquet listing."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _listing_schema()
    n = 0
    with pq.ParquetWriter(path, schema, compression="none", write_statistics=False) as out:
        def write(part):
            rel, size, mtime, err = zip(*part)
            out.write_table(pa.Table.from_arrays(
                [pa.array(range(n, n + len(part)), pa.int64()), pa.array(rel, pa.string()), pa.array(size, pa.int64()),
                 pa.array(mtime, pa.float64()), pa.array(err, pa.string())], schema=schema))
            return len(part)

        part: list = []
        for folder in folders:
            part += folder
            if len(part) >= WALK_BATCH:
                n += write(part)
                part = []
        if part:
            n += write(part)


class _WalkTally:
    """Number of entries and digest of a walk (path, size, mtime, error, in walk order), kept as it
    streams past (`_tallied`)."""

    def __init__(self):
        import hashlib

        self.n, self._digest = 0, hashlib.blake2b(digest_size=20)

    def add(self, folder: list) -> None:
        _digest_folder(self._digest, folder)
        self.n += len(folder)

    @property
    def digest(self) -> str:
        return self._digest.hexdigest()


def _tallied(folders: Iterator[list], tally: _WalkTally) -> Iterator[list]:
    for folder in folders:
        tally.add(folder)
        yield folder


def _count_files(root: str, exclude: list) -> int:
    """Entries below `root` without a stat each (about the walk's count): the progress bar's total
    while a fresh run reads as it walks."""
    skip = {os.path.realpath(p) for p in exclude}
    n, stack = 0, [root]
    while stack:
        folder = stack.pop()
        if folder in skip:
            continue
        try:
            with os.scandir(folder) as it:
                for e in it:
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
                    else:
                        n += 1
        except OSError:
            n += 1
    return n


def _duckdb():
    """A cursor on the process's DuckDB (data_contracts.sql.bounded_connection), imported when first needed."""
    from data_contracts.sql import bounded_connection

    return bounded_connection()


# A file's cache key: (path, size, mtime) for files the walk could stat; for entries the walk
# refused (size NULL), the error message it produced, so a changed reason is not taken from cache.
_LISTING_KEYS = ("SELECT seq, path, size_bytes, mtime, walk_error, coalesce(size_bytes, -1) AS k_size, "
                 "coalesce(mtime, 0.0) AS k_mtime, CASE WHEN size_bytes IS NULL THEN path || ': ' || "
                 f"coalesce(walk_error, '{_STAT_HINT}') ELSE '' END AS k_msg FROM read_parquet(?)")


def _cached_keys(prev: dict[str, Path]) -> tuple[str, list[str]]:
    parts, params = [], []
    if "instances" in prev:
        parts.append("SELECT path, size_bytes AS k_size, mtime AS k_mtime, '' AS k_msg FROM read_parquet(?)")
        params.append(str(prev["instances"]))
    if "index_errors" in prev:
        parts.append("SELECT path, coalesce(size_bytes, -1), coalesce(mtime, 0.0), "
                     "CASE WHEN size_bytes IS NULL THEN message ELSE '' END FROM read_parquet(?)")
        params.append(str(prev["index_errors"]))
    return " UNION ALL ".join(parts), params


_ON_KEY = "c.path = l.path AND c.k_size = l.k_size AND c.k_mtime = l.k_mtime AND c.k_msg = l.k_msg"


def _todo_batches(con, listing: Path, prev: dict[str, Path]):
    """Walk entries to read (new or changed), as lists of (path, size, mtime, walk_error)."""
    cached, params = _cached_keys(prev)
    sql = (f"SELECT l.path, l.size_bytes, l.mtime, l.walk_error FROM ({_LISTING_KEYS}) l "
           f"ANTI JOIN ({cached}) c ON {_ON_KEY}")  # no ORDER BY: a sort would hold the listing in memory
    reader = con.sql(sql, params=[str(listing)] + params).to_arrow_reader(WALK_BATCH)  # streamed
    for batch in reader:
        yield list(zip(*(batch.column(i).to_pylist() for i in range(4))))


def _chunks(todo_batches, root: str, size: int, fast: bool, limit, fields):
    """`_read_chunk`'s arguments for runs of `size` entries (across the batches' boundaries)."""
    buf: list = []
    for batch in todo_batches:
        buf += batch
        while len(buf) >= size:
            yield root, buf[:size], fast, limit, fields
            del buf[:size]
    if buf:
        yield root, buf, fast, limit, fields


class _Columns:
    """Instance rows as column lists, turned into one Arrow table per BATCH_ROWS rows."""

    def __init__(self, writer, schema):
        self.writer, self.schema = writer, schema
        self.cols, self.n = [[] for _ in schema.names], 0

    def add(self, cols) -> None:
        for have, more in zip(self.cols, cols):
            have.extend(more)
        self.n += len(cols[0])
        if self.n >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa

        if self.n:
            arrays = [pa.array(c, type=f.type) for c, f in zip(self.cols, self.schema)]
            self.writer.write(pa.Table.from_arrays(arrays, schema=self.schema))
        self.cols, self.n = [[] for _ in self.schema.names], 0


class _Errors:
    def __init__(self, writer, schema):
        self.writer, self.schema, self.rows = writer, schema, []

    def add(self, rows) -> None:
        self.rows.extend(rows)
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa

        if self.rows:
            self.writer.write(pa.Table.from_pylist(self.rows, schema=self.schema))
        self.rows = []


def _table_writer(name: str, data: Path, con=None):
    """data_contracts.TableWriter (batches conformed and checked against the contract, atomic
    rename) whose end-of-run key checks run in DuckDB, out of core, instead of loading the key
    columns into memory."""
    from data_contracts import TableWriter
    from data_contracts.validate import ContractViolation

    class _Writer(TableWriter):
        def write(self, data) -> None:
            """As TableWriter.write, but conforming with this writer's contract (conform() would
            parse the contract's YAML again for every batch)."""
            import pyarrow as pa

            from data_contracts.validate import check
            from data_contracts.io import conform

            schema = self.contract.schema
            if isinstance(data, pa.Table) and data.schema.names == schema.names and data.schema != schema:
                try:
                    data = data.cast(schema)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    pass  # conform() below says what is wrong
            table = data if isinstance(data, pa.Table) and data.schema == schema else conform(self.name, data)
            problems = [p for p in check(self.name, table, self.contract) if not p[1].startswith("unique")]
            if problems:
                raise ContractViolation(self.name, problems)
            self._writer.write_table(table)
            self.rows += table.num_rows

        def _check_keys(self) -> None:
            checks = [([c.name], "unique") for c in self.contract.columns if c.unique]
            if len(self.contract.primary_key) > 1:
                checks.append((list(self.contract.primary_key), "unique key"))
            if not checks:
                return
            own = con is None
            db = _duckdb() if own else con
            try:
                problems = []
                for cols, rule in checks:
                    keys = ", ".join(f'"{c}"' for c in cols)
                    dup = db.execute(f"SELECT {keys}, count(*) AS n FROM read_parquet(?) GROUP BY ALL HAVING count(*) > 1 "
                                      f"ORDER BY {keys}", [self._tmp]).fetchmany(4)
                    if dup:
                        shown = "; ".join(", ".join(f"{c}={v!r}" for c, v in zip(cols, r[:-1])) + f" ({r[-1]} rows)" for r in dup[:3])
                        problems.append(("+".join(cols), rule, shown + (" (+ more)" if len(dup) > 3 else "")))
            finally:
                if own:
                    db.close()
            if problems:
                raise ContractViolation(self.name, problems)

    return _Writer(name, data)


def index_export(
    export_dir: str | os.PathLike,
    data_dir: str | os.PathLike,
    workers: int | None = None,
    progress: bool | None = None,
    fast: bool = True,
    incremental: bool = True,
    chunk_files: int = CHUNK_FILES,
    file_time_limit: float | None = FILE_TIME_LIMIT_S,
) -> dict[str, Any]:
    """Index `export_dir` into `instances`, `index_errors` and `series` in `data_dir`.

    workers: processes reading headers (default: CPU count; 1 reads in this process).
    progress: rich progress bar on stderr (default: only when stderr is a terminal).
    fast: use the fast header reader (falls back to pydicom by itself); False = pydicom only.
    incremental: reuse the cached rows of unchanged files from the previous run.
    file_time_limit: seconds one file may take before it becomes a 'timeout' row (None: no
        limit). Enforced by SIGALRM in each worker; with workers=1 only when called from the
        main thread.
    Returns a summary dict (counts, errors by kind, seconds).
    """
    t0 = time.perf_counter()
    export = Path(export_dir)
    if not export.is_dir():
        raise FileNotFoundError(f"export folder {export} does not exist or is not a folder")
    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    root = str(export.resolve())
    workers = max(1, workers or os.cpu_count() or 1)
    prev = {n: data / f"{n}.parquet" for n in ("instances", "index_errors")} if incremental else {}
    prev = {n: p for n, p in prev.items() if p.exists()}
    listing = data / f".walk-{os.getpid()}.tmp"  # a Parquet file; .tmp like TableWriter's temporaries
    con = None
    try:
        if prev and _state_matches(data):
            # a stat-only walk: if it equals the walk that produced these very tables (same
            # digest), there is nothing to read and nothing to rewrite
            n_files, digest = _digest_walk(_walk_folders(root, exclude=[data]))
            state = _state_matches(data, digest)
            if state:
                summary = {"files": n_files, "files_read": 0, "files_reused": n_files, "files_removed": 0,
                           "incremental": True, "workers": workers, "new_errors_by_kind": {}, "kept_rows": None,
                           "kept_errors": None}
                return summary | state["counts"] | {"seconds": round(time.perf_counter() - t0, 3)}
        con = _duckdb()
        tally = _WalkTally()
        walk = _tallied(_walk_folders(root, exclude=[data]), tally)
        if prev:
            _write_listing(walk, listing)
            cached, params = _cached_keys(prev)
            n_todo, n_gone = con.execute(
                f"SELECT (SELECT count(*) FROM ({_LISTING_KEYS}) l ANTI JOIN ({cached}) c ON {_ON_KEY}), "
                f"(SELECT count(DISTINCT c.path) FROM ({cached}) c ANTI JOIN read_parquet(?) l ON c.path = l.path)",
                [str(listing)] + params + params + [str(listing)]).fetchone()
            todo = _todo_batches(con, listing, prev)
        else:  # a fresh run reads as it walks: no listing, and the walk overlaps the readers
            n_todo, n_gone, todo = None, 0, walk
        if prev and not n_todo and not n_gone and all((data / f"{n}.parquet").exists() for n in ("instances", "index_errors", "series")):
            # nothing changed: the cached tables are already the answer; nothing is rewritten
            summary = _summary(tally.n, n_todo, n_gone, prev, workers)
            summary = _finish(summary, data, Counter(), t0, kept_rows=None, kept_errors=None)
            _save_state(data, tally.digest, summary)
            return summary
        done = _index_todo(con, data, listing, prev, root, workers, progress, fast, chunk_files, file_time_limit, todo, n_todo)
        summary = _summary(tally.n, tally.n if n_todo is None else n_todo, n_gone, prev, workers) | done
        summary.update(_finish_counts(data, t0))
        _save_state(data, tally.digest, summary)
        return summary
    finally:
        if con is not None:
            con.close()
        listing.unlink(missing_ok=True)


def _summary(n_files: int, n_todo: int, n_gone: int, prev: dict, workers: int) -> dict:
    return {"files": n_files, "files_read": n_todo, "files_reused": n_files - n_todo, "files_removed": n_gone,
            "incremental": bool(prev), "workers": workers}


_STATE = ".index-state.json"
_TABLES = ("instances", "index_errors", "series")


def _table_stamps(data: Path) -> dict | None:
    out = {}
    for n in _TABLES:
        try:
            st = (data / f"{n}.parquet").stat()
        except OSError:
            return None
        out[n] = [st.st_size, st.st_mtime_ns]
    return out


_COUNTS = ("instances", "series", "errors", "directory_objects", "errors_by_kind")


def _save_state(data: Path, digest: str, summary: dict) -> None:
    """Record the walk's digest beside the tables it produced (with their size and mtime, and
    the summary's table counts), so an unchanged re-run can answer from a walk alone. Dot file:
    not a table."""
    import json

    stamps = _table_stamps(data)
    if stamps is None:
        return
    tmp = data / f".index-state-{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"version": 2, "walk": digest, "tables": stamps, "counts": {k: summary[k] for k in _COUNTS}}))
    os.replace(tmp, data / _STATE)


def _state_matches(data: Path, digest: str | None = None) -> dict | None:
    """The recorded state, when it names the current tables (and, given `digest`, this walk)."""
    import json

    try:
        state = json.loads((data / _STATE).read_text())
    except (OSError, ValueError):
        return None
    ok = (state.get("version") == 2 and (digest is None or state.get("walk") == digest)
          and state.get("tables") == _table_stamps(data) and isinstance(state.get("counts"), dict))
    return state if ok else None


def _digest_walk(folders: Iterator[list]) -> tuple[int, str]:
    """Number of entries and digest of the walk, as `_WalkTally` keeps them."""
    tally = _WalkTally()
    for folder in folders:
        tally.add(folder)
    return tally.n, tally.digest


def _digest_folder(digest, folder: list) -> None:
    """Add one folder's walk entries to the digest: the paths, then sizes and mtimes as packed
    numbers (repr of every tuple cost a third of an unchanged re-run); folders with refused
    entries (no size) by repr."""
    from array import array

    if not folder:
        digest.update(b"\x00folder")
        return
    paths, sizes, mtimes, errors = zip(*folder)
    digest.update("\x00".join(paths).encode("utf-8", "backslashreplace"))
    try:
        digest.update(array("q", sizes))
        digest.update(array("d", mtimes))
    except TypeError:  # an entry without size (an error)
        digest.update(repr(folder).encode("utf-8", "backslashreplace"))


def _index_todo(con, data: Path, listing: Path, prev: dict[str, Path], root: str, workers: int, progress, fast: bool,
                chunk_files: int, limit, todo, n_todo: int | None) -> dict:
    """Read the walk entries `todo` (batches of them; `n_todo` of them, None while a fresh run
    walks) into `instances` and `index_errors` with the cached rows of unchanged files, then
    write `series`."""
    affected_series = affected_sops = None
    if "instances" in prev:  # series of the cached rows that are not carried over (changed or gone files)
        affected_series, affected_sops = set(), set()
        q = (f"SELECT DISTINCT i.series_instance_uid, i.sop_instance_uid FROM read_parquet(?) i "
             f"ANTI JOIN read_parquet(?) l ON i.path = l.path AND i.size_bytes = l.size_bytes AND i.mtime = l.mtime")
        for ser, sop in con.execute(q, [str(prev["instances"]), str(listing)]).fetchall():
            affected_series.add(ser)
            affected_sops.add(sop)
    elif prev:  # only index_errors cached: recompute every series
        affected_series = None
    errors_by_kind: Counter = Counter()
    kept_rows = kept_errors = 0
    with _helpers(workers) as helpers:
        kept_rows, kept_errors = _read_todo(con, data, listing, prev, root, progress, fast, chunk_files, limit, todo, n_todo,
                                            helpers, affected_series, affected_sops, errors_by_kind)
        write_series(data, affected_series if prev else None, affected_sops if prev else None, con=con, helpers=helpers)
    return {"new_errors_by_kind": dict(sorted(errors_by_kind.items())), "kept_rows": kept_rows, "kept_errors": kept_errors}


def _read_todo(con, data: Path, listing: Path, prev: dict[str, Path], root: str, progress, fast: bool, chunk_files: int,
               limit, todo, n_todo: int | None, helpers, affected_series, affected_sops, errors_by_kind: Counter):
    """Write `instances` and `index_errors`: the cached rows of unchanged files, then the rows of
    the files read; the series and SOPs read are added to the affected sets. Returns the numbers
    of cached rows and error rows carried over."""
    from data_contracts import load_contract

    inst_schema, err_schema = load_contract("instances").schema, load_contract("index_errors").schema
    fields = tuple(inst_schema.names)
    i_series, i_sop = fields.index("series_instance_uid"), fields.index("sop_instance_uid")
    kept_rows = kept_errors = 0
    with _table_writer("instances", data, con) as inst_out, _table_writer("index_errors", data, con) as err_out:
        if "instances" in prev:
            kept_rows = _copy_kept(con, inst_out, f"SELECT i.* FROM read_parquet(?) i SEMI JOIN read_parquet(?) l "
                                                  f"ON i.path = l.path AND i.size_bytes = l.size_bytes AND i.mtime = l.mtime",
                                   [str(prev["instances"]), str(listing)])
        if "index_errors" in prev:
            kept_errors = _copy_kept(con, err_out, f"SELECT e.* FROM read_parquet(?) e SEMI JOIN ({_LISTING_KEYS}) l "
                                                   f"ON e.path = l.path AND coalesce(e.size_bytes, -1) = l.k_size AND "
                                                   f"coalesce(e.mtime, 0.0) = l.k_mtime AND "
                                                   f"CASE WHEN e.size_bytes IS NULL THEN e.message ELSE '' END = l.k_msg",
                                     [str(prev["index_errors"]), str(listing)])
        inst_b, err_b = _Columns(inst_out, inst_schema), _Errors(err_out, err_schema)
        chunks = _chunks(todo, root, chunk_files, fast, limit, fields)
        from dataset.progress import progress_bar

        show = sys.stderr.isatty() if progress is None else progress
        total = n_todo if n_todo is not None else _count_files(root, [data]) if show else 0
        with progress_bar(show, total, "indexing", "files") as bar:
            task = bar.add_task("index", total=total) if bar is not None else None
            isolate = None if helpers.pool is None else partial(_read_chunk_isolating, helpers.pool)
            for cols, errs, n in _ordered(_read_chunk, chunks, helpers, isolate):
                if cols is not None:
                    inst_b.add(cols)
                    if affected_series is not None:
                        affected_series.update(cols[i_series])
                        affected_sops.update(cols[i_sop])
                if errs:
                    err_b.add(errs)
                    errors_by_kind.update(e["error_kind"] for e in errs)
                if bar is not None:
                    bar.advance(task, n)
        inst_b.flush()
        err_b.flush()
    return kept_rows, kept_errors


def _copy_kept(con, out, sql: str, params: list) -> int:
    """Stream the cached rows of unchanged files (a DuckDB semi join) into `out`."""
    n = 0
    for batch in con.sql(sql, params=params).to_arrow_reader(BATCH_ROWS):
        if batch.num_rows:
            import pyarrow as pa

            out.write(pa.Table.from_batches([batch]))
            n += batch.num_rows
    return n


def _finish_counts(data: Path, t0: float) -> dict[str, Any]:
    import pyarrow.parquet as pq

    all_errors = _error_counts(data)
    return {
        "instances": pq.ParquetFile(data / "instances.parquet").metadata.num_rows,
        "series": pq.ParquetFile(data / "series.parquet").metadata.num_rows,
        "errors": sum(v for k, v in all_errors.items() if k != "directory_object"),
        "directory_objects": all_errors.get("directory_object", 0),
        "errors_by_kind": dict(sorted(all_errors.items())),
        "seconds": round(time.perf_counter() - t0, 3),
    }


def _finish(summary: dict, data: Path, new_errors: Counter, t0: float, kept_rows, kept_errors) -> dict[str, Any]:
    summary.update({"new_errors_by_kind": dict(sorted(new_errors.items())), "kept_rows": kept_rows, "kept_errors": kept_errors})
    summary.update(_finish_counts(data, t0))
    return summary


class _Helpers:
    """The processes of one run: `pool` (spawned; None for one worker) and whether this process
    works beside it (`here`: it reads only where it can enforce the per-file time limit, the
    main thread with SIGALRM)."""

    def __init__(self, pool, here: bool, size: int):
        self.pool, self.here, self.size, self.queued = pool, here, size, IN_FLIGHT_PER_WORKER * size
        self.window = max(2 * self.queued, RUN_AHEAD if here else 0)


@contextmanager
def _helpers(workers: int):
    """`workers` working processes: this one and `workers - 1` spawned ones, or `workers` spawned
    ones where this process cannot read under a time limit (another thread: it only dispatches)."""
    with _alarm_installed() as here:
        if workers == 1:
            yield _Helpers(None, True, 0)
            return
        size = workers - 1 if here else workers
        from data_contracts.pools import stopping

        with stopping(_spawn_pool(size)) as pool:
            yield _Helpers(pool, here, size)


class _Done:
    """A result computed in this process, beside the pool's AsyncResults."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def ready(self) -> bool:
        return True

    def get(self, timeout=None):
        return self.value


def _ordered(fn, items, helpers: _Helpers, isolate=None):
    """fn(item) for each item, in order: in the pool, with up to `helpers.queued` items waiting,
    and in this process whenever the pool's queues are full (so this process's own work, such as
    the walk and writing rows, takes part of its share instead of competing with busy helpers).
    Up to `helpers.window` results wait for an earlier one, so this process goes on working
    while a helper starts or imports.

    An item whose helper dies (killed, say by the out-of-memory killer) is handed out again
    (`_ReaderTask`); when that helper dies too, isolate(item) gives its result if given (reading
    apart the file that kills them), else ReaderDied stops the run with a message."""
    pool = helpers.pool
    if pool is None:
        for it in items:
            yield fn(it)
        return
    queued, here, window = helpers.queued, helpers.here, helpers.window
    pending: deque = deque()  # (item, its _ReaderTask or _Done)
    for it in items:
        busy = sum(1 for _, p in pending if not p.ready())
        pending.append((it, _Done(fn(it)) if here and busy >= queued else _ReaderTask(pool, fn, (it,))))
        while pending and (pending[0][1].ready() or len(pending) > window):
            yield _result(*pending.popleft(), isolate)
    while pending:
        yield _result(*pending.popleft(), isolate)


def _result(item, task, isolate):
    try:
        return task.get(None)
    except ReaderDied:
        if isolate is None:
            raise
        return isolate(item)


@contextmanager
def _alarm_installed():
    """The SIGALRM handler installed in this process for the block (when possible here), then the old one back."""
    import signal

    had = _ALARM_READY
    old = signal.getsignal(signal.SIGALRM) if hasattr(signal, "SIGALRM") else None
    installed = had or _install_alarm()
    try:
        yield installed
    finally:
        if installed and not had:
            _uninstall_alarm(old)


def _uninstall_alarm(old) -> None:
    global _ALARM_READY
    import signal

    _disarm()
    signal.signal(signal.SIGALRM, old if old is not None else signal.SIG_DFL)
    _ALARM_READY = False


def _error_counts(data: Path) -> Counter:
    import pyarrow.parquet as pq

    p = data / "index_errors.parquet"
    return Counter(pq.read_table(p, columns=["error_kind"]).column("error_kind").to_pylist()) if p.exists() else Counter()


# ---------------------------------------------------------------- series

def write_series(data_dir: str | os.PathLike, affected_series: set | None = None, affected_sops: set | None = None,
                 con=None, helpers: _Helpers | None = None) -> int:
    """(Re)compute `series` from `instances` in `data_dir`; returns the number of series.

    With `affected_series`/`affected_sops` (incremental runs) only those series, and the
    series holding one of those SOPInstanceUIDs (duplicate counts cross series), are
    recomputed; the other rows are copied from the previous `series` table. `helpers` (an
    index run's processes), or else `open_readers`' processes when they run (a flow), share the
    geometry with this process.
    """
    from data_contracts.io import table_files

    data = Path(data_dir)
    # instances as one file (radmine index) or as part files (the flows' versions)
    inst_path, series_path = [str(p) for p in table_files("instances", data)], data / "series.parquet"
    if not inst_path:
        raise FileNotFoundError(f"no instances table in {data}; index the export first")
    own = con is None
    if own:
        con = _duckdb()
    try:
        pool = _READERS
        if helpers is None:
            helpers = _Helpers(pool, True, _READERS_SIZE) if pool is not None else _Helpers(None, True, 0)
        return _write_series(con, data, inst_path, series_path, affected_series, affected_sops, helpers)
    finally:
        if own:
            con.close()


def _preload_helpers(helpers: _Helpers) -> None:
    """Let the helpers import the geometry (numpy) while this process queries DuckDB."""
    if helpers.pool is not None:
        for _ in range(helpers.size):
            helpers.pool.apply_async(_preload_geometry)


def _write_series(con, data, inst_path, series_path, affected_series, affected_sops, helpers: _Helpers) -> int:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from data_contracts.sql import files_holding

    src = "read_parquet(?)"
    partial = affected_series is not None and series_path.exists()
    where, params = "", [inst_path]
    if partial:
        redo = set(affected_series)
        if affected_sops:  # a semi join: list_contains over a night's ~19,000 SOPs took 0.7 s, this 0.09 s
            con.register("affected_sops", pa.table({"uid": pa.array(sorted(affected_sops), pa.string())}))
            redo.update(r[0] for r in con.execute(
                f"SELECT DISTINCT series_instance_uid FROM {src} WHERE sop_instance_uid IN "
                "(SELECT uid FROM affected_sops)", [inst_path]).fetchall())
            con.unregister("affected_sops")
        if not redo:  # no image appeared, changed or vanished: the previous table stands as it is
            return pq.ParquetFile(series_path).metadata.num_rows
        if len(redo) <= SERIES_HERE_MAX:  # a night's few series: here, not after the helpers import numpy
            helpers = _Helpers(None, True, 0)
        _preload_helpers(helpers)
        redo_arr = pa.array(sorted(redo), pa.string())
        con.register("redo_series", pa.table({"uid": redo_arr}))
        # only the parts that hold these series are read whole (a night's new studies: its own parts)
        files = files_holding(con, inst_path, "series_instance_uid IN (SELECT uid FROM redo_series)")
        where, params = "WHERE series_instance_uid IN (SELECT uid FROM redo_series)", [files]
        # SOPInstanceUIDs of these series found in more than one file anywhere in the export
        dup_sops = {r[0] for r in con.execute(
            f"SELECT sop_instance_uid FROM {src} WHERE sop_instance_uid IN (SELECT sop_instance_uid FROM {src} {where}) "
            "GROUP BY 1 HAVING count(DISTINCT path) > 1", [inst_path, params[0]]).fetchall()} if files else set()
    else:  # SOPInstanceUIDs found in more than one file anywhere in the export
        _preload_helpers(helpers)
        dup_sops = {r[0] for r in con.execute(
            f"SELECT sop_instance_uid FROM {src} GROUP BY 1 HAVING count(DISTINCT path) > 1", [inst_path]).fetchall()}
    reader = con.sql(
        f"SELECT {', '.join(_GEOMETRY_COLUMNS)} FROM {src} {where} ORDER BY series_instance_uid, path, frame_number",
        params=params).to_arrow_reader(BATCH_ROWS) if params[0] else ()  # streamed: duckdb sorts within its memory limit

    dup_arr = pa.array(sorted(dup_sops), pa.string())

    def pieces():
        """The sorted rows in slices of at most SERIES_TASK_ROWS (zero-copy)."""
        for batch in reader:
            for i in range(0, batch.num_rows, SERIES_TASK_ROWS):
                yield batch.slice(i, SERIES_TASK_ROWS)

    def task(held: list):
        """Whole series as one compact batch (a slice pickles its parent's whole buffers), with the
        duplicated SOPs among them (`_series_rows`)."""
        batch = pa.concat_batches(held)
        sops = batch.column("sop_instance_uid")
        return batch, set(pc.filter(sops, pc.is_in(sops, value_set=dup_arr)).to_pylist()) if len(dup_arr) else set()

    def tasks():
        """Runs of whole series of ~SERIES_TASK_ROWS rows, as Arrow: the helpers convert and split
        them, so this process, which feeds them all, does little per row."""
        held, rows = [], 0
        for piece in pieces():
            held.append(piece)
            rows += piece.num_rows
            if rows < SERIES_TASK_ROWS:
                continue
            uids = piece.column("series_instance_uid")
            last = pc.index(pc.equal(uids, uids[-1]), True).as_py()  # sorted: the last series is a suffix
            if last <= 0:
                continue  # the piece is all one series, which may go on: hold it
            yield task(held[:-1] + [piece.slice(0, last)])
            held, rows = [piece.slice(last)], piece.num_rows - last
        if held:
            yield task(held)

    n = 0
    with _table_writer("series", data, con) as out:
        if partial:
            for batch in pq.ParquetFile(series_path).iter_batches(batch_size=BATCH_ROWS):
                old = pa.Table.from_batches([batch])
                old = old.filter(pc.invert(pc.is_in(old.column("series_instance_uid"), value_set=redo_arr)))
                if old.num_rows:
                    out.write(old)
                    n += old.num_rows
        batch = []
        for rows in _ordered(_series_rows, tasks(), helpers):
            batch += rows
            n += len(rows)
            if len(batch) >= BATCH_ROWS:
                out.write(batch)
                batch = []
        if batch:
            out.write(batch)
    if partial:
        con.unregister("redo_series")
    return n


_EPOCH = datetime.date(1970, 1, 1)


def _preload_geometry() -> None:
    """Import `series_geometry`'s modules (numpy) in a helper before its first run of series."""
    import dataset.geometry  # noqa: F401


def _series_rows(task) -> list[dict]:
    """`series` rows of a run of whole series (an Arrow batch of `_GEOMETRY_COLUMNS` sorted by
    series), given the SOPInstanceUIDs among them that the export holds in more than one file."""
    import numpy as np

    from dataset.geometry import series_geometry

    batch, dup_sops = task
    cols = _geometry_columns(batch)  # one conversion per run; each series is then slices
    uids = batch.column("series_instance_uid").to_numpy(zero_copy_only=False)
    bounds = np.flatnonzero(np.concatenate([[True], uids[1:] != uids[:-1], [True]])).tolist()
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        part = {k: v[a:b] for k, v in cols.items()}
        geo = series_geometry(part)
        geo["n_duplicate_sops"] = sum(1 for s in part["sop_instance_uid"] if s in dup_sops)
        row = {k: geo[k] for k in SERIES_FIELDS if k in geo}
        for k in ("series_instance_uid", "study_instance_uid", "accession_number", "patient_id", "study_date",
                  "series_number", "series_description", "modality"):
            row[k] = _first(part[k])
        if row["study_date"] is not None:  # days since the epoch (`_geometry_columns`)
            row["study_date"] = _EPOCH + datetime.timedelta(days=row["study_date"])
        if row["tilt_deg"] is not None and not math.isfinite(row["tilt_deg"]):
            row["tilt_deg"] = None
        out.append(row)
    return out


def _geometry_columns(batch) -> dict:
    """A batch of `_GEOMETRY_COLUMNS` as Python lists, except: orientation and pixel_spacing as
    (n, 6) and (n, 2) float arrays (as `dataset.geometry.float_rows` makes them) and study_date
    as days since the epoch. Python date objects and lists of floats cost most of the conversion."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from dataset.geometry import float_rows

    out = {}
    for name in batch.schema.names:
        col = batch.column(name)
        if name == "study_date":
            out[name] = col.cast(pa.int32()).to_pylist()
        elif name in ("orientation", "pixel_spacing"):
            width = 6 if name == "orientation" else 2
            lengths = pc.list_value_length(col).fill_null(0).to_numpy(zero_copy_only=False)
            if (lengths == width).all():
                out[name] = col.flatten().to_numpy(zero_copy_only=False).astype(float).reshape(-1, width)
            else:  # nulls or other lengths: series_geometry's own conversion of the lists
                out[name] = float_rows(col.to_pylist(), width)
        else:
            out[name] = col.to_pylist()
    return out


def _first(values):
    """Most common non-null value (ties: the first in path order)."""
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    counts = Counter(vals)
    top = max(counts.values())
    return next(v for v in vals if counts[v] == top)


__all__ = ["FileTimeout", "index_export", "index_file", "read_file_limited", "read_files", "walk_export", "write_series"]
