"""Index a PACS export: DICOM headers -> `instances`, `index_errors`, then `series` geometry.

`index_export(export_dir, data_dir)` walks any folder layout, recognises DICOM by content
(the 'DICM' prefix, or a raw dataset starting with a group 0002/0008 element), never by file
extension, reads headers only (`dataset.dicom_headers`) in parallel processes and streams
rows to Parquet in batches, so memory stays bounded by the batch size, not the export.

Every file that is not indexed becomes one `index_errors` row, kinds:

  empty              zero bytes
  truncated          ends inside the preamble, header or pixel data
  not_dicom          no DICOM prefix (README.txt, thumbnails, ...)
  unreadable         the file cannot be opened/read (permissions, broken link)
  parse_error        pydicom cannot parse the header
  missing_attribute  no SOPInstanceUID, StudyInstanceUID or SeriesInstanceUID
  not_an_image       a DICOM object without pixel data (SR, presentation state, ...)
  directory_object   a DICOMDIR / Media Storage Directory file: skipped by design, not a
                     failure; kept as a row so the export's content is accounted for and an
                     incremental run does not re-read it
  decode_error, timeout, duplicate   reserved for later steps (pixel decoding, per-file time
                     limit); duplicates are reported by `series` (n_duplicate_sops), not here.

Incremental runs: the previous `instances` and `index_errors` in DATA_DIR are the cache. A
file whose (path, size_bytes, mtime) matches a cached row is not read again; rows of files
that are gone are dropped; new and changed files are read. `series` is always recomputed
from `instances`. The result equals a fresh run (sorted by primary key).
"""
from __future__ import annotations

import math
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

CHUNK_FILES = 64          # files per task sent to a worker process
BATCH_ROWS = 4096         # rows per Parquet write
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


# ---------------------------------------------------------------- walking

def walk_export(export_dir: str | os.PathLike, exclude: list[str | os.PathLike] = ()) -> Iterator[tuple[str, int | None, float | None, str | None]]:
    """(relative '/' path, size, mtime, stat error) of every file under `export_dir`, sorted by path.

    Directory symlinks are not followed (no loops); file symlinks are. Folders in `exclude`
    (e.g. DATA_DIR inside the export) are skipped.
    """
    root = os.path.abspath(export_dir)
    skip = {os.path.realpath(p) for p in exclude}
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        abs_dir = os.path.join(root, rel_dir) if rel_dir else root
        if os.path.realpath(abs_dir) in skip:
            continue
        try:
            entries = sorted(os.scandir(abs_dir), key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for e in entries:
            rel = f"{rel_dir}/{e.name}" if rel_dir else e.name
            try:
                if e.is_dir(follow_symlinks=False):
                    subdirs.append(rel)
                    continue
                st = e.stat(follow_symlinks=True)
                yield rel, st.st_size, st.st_mtime, None
            except OSError as exc:
                yield rel, None, None, exc.strerror or str(exc)
        stack.extend(reversed(subdirs))


# ---------------------------------------------------------------- reading (worker side)

def index_file(root: str, rel: str, size: int | None, mtime: float | None, fast: bool = True) -> tuple[list[dict], dict | None]:
    """Rows (with path/size/mtime) of one file, or its index_errors row. One file: a later
    per-file time limit can wrap exactly this call."""
    from dataset.dicom_headers import HeaderError, read_header

    if size is None:
        return [], {"path": rel, "error_kind": "unreadable", "message": f"{rel}: cannot stat the file (broken link or permissions); fix or remove it", "size_bytes": None, "mtime": None}
    try:
        rows = read_header(os.path.join(root, rel), rel, fast=fast)
    except HeaderError as exc:
        return [], {"path": rel, "error_kind": exc.kind, "message": exc.message, "size_bytes": size, "mtime": mtime}
    except Exception as exc:  # a reader bug must not stop the run
        return [], {"path": rel, "error_kind": "parse_error", "message": f"{rel}: unexpected {type(exc).__name__}: {exc}; report it with the file", "size_bytes": size, "mtime": mtime}
    for r in rows:
        r["path"], r["size_bytes"], r["mtime"] = rel, size, mtime
    return rows, None


def _read_chunk(args) -> tuple[Any, Any, int]:
    """Worker: read a chunk of files; return Arrow tables (cheap to pickle) and the file count."""
    import pyarrow as pa

    root, chunk, fast, schemas = args
    rows, errors = [], []
    for rel, size, mtime, _ in chunk:
        r, e = index_file(root, rel, size, mtime, fast)
        rows.extend(r)
        if e is not None:
            errors.append(e)
    inst = pa.Table.from_pylist(rows, schema=schemas[0]) if rows else None
    errs = pa.Table.from_pylist(errors, schema=schemas[1]) if errors else None
    return inst, errs, len(chunk)


# ---------------------------------------------------------------- orchestration

def _previous(data_dir: Path) -> tuple[dict[str, tuple[int, float]], bool]:
    """path -> (size, mtime) of files already in the cached tables."""
    import pyarrow.parquet as pq

    seen: dict[str, tuple[int, float]] = {}
    found = False
    for name in ("instances", "index_errors"):
        p = data_dir / f"{name}.parquet"
        if not p.exists():
            continue
        found = True
        t = pq.read_table(p, columns=["path", "size_bytes", "mtime"])
        for path, size, mtime in zip(*(t.column(c).to_pylist() for c in ("path", "size_bytes", "mtime"))):
            if size is not None and mtime is not None:
                seen[path] = (size, mtime)
    return seen, found


def _copy_kept(name: str, data_dir: Path, keep: set[str], out) -> int:
    """Stream the cached rows of unchanged files from the previous table into `out`."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    p = data_dir / f"{name}.parquet"
    if not p.exists() or not keep:
        return 0
    keep_arr = pa.array(sorted(keep))
    n = 0
    for batch in pq.ParquetFile(p).iter_batches(batch_size=BATCH_ROWS):
        t = pa.Table.from_batches([batch])
        t = t.filter(pc.is_in(t.column("path"), value_set=keep_arr))
        if t.num_rows:
            out.write(t)
            n += t.num_rows
    return n


class _Batcher:
    def __init__(self, writer, rows: int = BATCH_ROWS):
        self.writer, self.rows, self.parts, self.n = writer, rows, [], 0

    def add(self, table) -> None:
        if table is None:
            return
        self.parts.append(table)
        self.n += table.num_rows
        if self.n >= self.rows:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa

        if self.parts:
            self.writer.write(pa.concat_tables(self.parts))
        self.parts, self.n = [], 0


def _progress(enabled: bool | None, total: int):
    from contextlib import nullcontext

    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled or total == 0:
        return nullcontext(None)
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)
    from rich.text import Text

    class _Rate(ProgressColumn):
        def render(self, task):  # files per second
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f} files/s" if speed else "- files/s")

    return Progress(TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), _Rate(), TimeElapsedColumn(),
                    TextColumn("left"), TimeRemainingColumn(), transient=False)


def index_export(
    export_dir: str | os.PathLike,
    data_dir: str | os.PathLike,
    workers: int | None = None,
    progress: bool | None = None,
    fast: bool = True,
    incremental: bool = True,
    chunk_files: int = CHUNK_FILES,
) -> dict[str, Any]:
    """Index `export_dir` into `instances`, `index_errors` and `series` in `data_dir`.

    workers: processes reading headers (default: CPU count; 1 reads in this process).
    progress: rich progress bar on stderr (default: only when stderr is a terminal).
    fast: use the fast header reader (falls back to pydicom by itself); False = pydicom only.
    incremental: reuse the cached rows of unchanged files from the previous run.
    Returns a summary dict (counts, errors by kind, seconds).
    """
    from data_contracts import TableWriter

    t0 = time.perf_counter()
    export = Path(export_dir)
    if not export.is_dir():
        raise FileNotFoundError(f"export folder {export} does not exist or is not a folder")
    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    files = list(walk_export(export, exclude=[data]))
    previous, had_previous = _previous(data) if incremental else ({}, False)
    keep, todo = set(), []
    for f in files:
        rel, size, mtime, _ = f
        old = previous.get(rel)
        if old is not None and size is not None and old == (size, mtime):
            keep.add(rel)
        else:
            todo.append(f)
    current = {f[0] for f in files}
    gone = [p for p in previous if p not in current]
    workers = max(1, workers or os.cpu_count() or 1)
    summary = {"files": len(files), "files_read": len(todo), "files_reused": len(keep), "files_removed": len(gone),
               "incremental": had_previous, "workers": workers}
    if had_previous and not todo and not gone and all((data / f"{n}.parquet").exists() for n in ("instances", "index_errors", "series")):
        # nothing changed: the cached tables are already the answer
        return _finish(summary, data, Counter(), t0, kept_rows=None, kept_errors=None)
    # series whose rows change: those of changed/vanished files (old rows) and of new rows
    changed_old = set(previous) - keep
    affected_series, affected_sops = _old_keys(data, changed_old) if had_previous else (None, None)
    root = str(export.resolve())
    from data_contracts import load_contract

    schemas = (load_contract("instances").schema, load_contract("index_errors").schema)
    chunks = ((root, todo[i:i + chunk_files], fast, schemas) for i in range(0, len(todo), chunk_files))
    errors_by_kind: Counter = Counter()
    with TableWriter("instances", data) as inst_out, TableWriter("index_errors", data) as err_out:
        kept_rows = _copy_kept("instances", data, keep, inst_out)
        kept_errors = _copy_kept("index_errors", data, keep, err_out)
        inst_b, err_b = _Batcher(inst_out), _Batcher(err_out)
        with _progress(progress, len(todo)) as bar:
            task = bar.add_task("index", total=len(todo)) if bar is not None else None
            for inst, errs, n in _map(chunks, workers):
                inst_b.add(inst)
                err_b.add(errs)
                if inst is not None and affected_series is not None:
                    affected_series.update(inst.column("series_instance_uid").to_pylist())
                    affected_sops.update(inst.column("sop_instance_uid").to_pylist())
                if errs is not None:
                    errors_by_kind.update(errs.column("error_kind").to_pylist())
                if bar is not None:
                    bar.advance(task, n)
        inst_b.flush()
        err_b.flush()
    write_series(data, affected_series, affected_sops)
    return _finish(summary, data, errors_by_kind, t0, kept_rows, kept_errors)


def _old_keys(data: Path, paths: set[str]) -> tuple[set, set]:
    """Series and SOP UIDs of the cached instance rows of `paths`."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    p = data / "instances.parquet"
    if not paths or not p.exists():
        return set(), set()
    t = pq.read_table(p, columns=["path", "series_instance_uid", "sop_instance_uid"])
    t = t.filter(pc.is_in(t.column("path"), value_set=pa.array(sorted(paths))))
    return set(t.column("series_instance_uid").to_pylist()), set(t.column("sop_instance_uid").to_pylist())


def _finish(summary: dict, data: Path, new_errors: Counter, t0: float, kept_rows, kept_errors) -> dict[str, Any]:
    import pyarrow.parquet as pq

    all_errors = _error_counts(data)
    summary.update({
        "instances": pq.ParquetFile(data / "instances.parquet").metadata.num_rows,
        "series": pq.ParquetFile(data / "series.parquet").metadata.num_rows,
        "errors": sum(v for k, v in all_errors.items() if k != "directory_object"),
        "directory_objects": all_errors.get("directory_object", 0),
        "errors_by_kind": dict(sorted(all_errors.items())),
        "new_errors_by_kind": dict(sorted(new_errors.items())),
        "kept_rows": kept_rows,
        "kept_errors": kept_errors,
        "seconds": round(time.perf_counter() - t0, 3),
    })
    return summary


def _map(chunks, workers: int):
    if workers == 1:
        for c in chunks:
            yield _read_chunk(c)
        return
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # safe under threads (Prefect) and on every OS
    with ctx.Pool(workers) as pool:
        yield from pool.imap(_read_chunk, chunks, chunksize=1)


def _error_counts(data: Path) -> Counter:
    import pyarrow.parquet as pq

    p = data / "index_errors.parquet"
    return Counter(pq.read_table(p, columns=["error_kind"]).column("error_kind").to_pylist()) if p.exists() else Counter()


# ---------------------------------------------------------------- series

def write_series(data_dir: str | os.PathLike, affected_series: set | None = None, affected_sops: set | None = None) -> int:
    """(Re)compute `series` from `instances` in `data_dir`; returns the number of series.

    With `affected_series`/`affected_sops` (incremental runs) only those series, and the
    series holding one of those SOPInstanceUIDs (duplicate counts cross series), are
    recomputed; the other rows are copied from the previous `series` table.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from data_contracts import TableWriter
    from dataset.geometry import series_geometry

    import duckdb

    data = Path(data_dir)
    inst_path, series_path = data / "instances.parquet", data / "series.parquet"
    con = duckdb.connect()
    con.execute("SET threads=1")
    con.execute("SET memory_limit='256MB'")
    src = "read_parquet(?)"
    # SOPInstanceUIDs found in more than one file anywhere in the export
    dup_sops = {r[0] for r in con.execute(
        f"SELECT sop_instance_uid FROM {src} GROUP BY 1 HAVING count(DISTINCT path) > 1", [str(inst_path)]).fetchall()}
    partial = affected_series is not None and series_path.exists()
    where, params = "", [str(inst_path)]
    if partial:
        redo = set(affected_series)
        if affected_sops:
            redo.update(r[0] for r in con.execute(
                f"SELECT DISTINCT series_instance_uid FROM {src} WHERE list_contains(?, sop_instance_uid)",
                [str(inst_path), sorted(affected_sops)]).fetchall())
        redo_arr = pa.array(sorted(redo), pa.string())
        where, params = "WHERE list_contains(?, series_instance_uid)", [str(inst_path), sorted(redo)]
    reader = con.sql(
        f"SELECT {', '.join(_GEOMETRY_COLUMNS)} FROM {src} {where} ORDER BY series_instance_uid, path, frame_number",
        params=params).to_arrow_reader(BATCH_ROWS)  # streamed: duckdb sorts within its memory limit

    def series_parts():
        """Each series' rows as a dict of lists, streamed in series order."""
        pending = None
        for batch in reader:
            t = pa.Table.from_batches([batch])
            uids = t.column("series_instance_uid").to_numpy(zero_copy_only=False)
            bounds = np.flatnonzero(np.concatenate([[True], uids[1:] != uids[:-1], [True]]))
            for a, b in zip(bounds[:-1], bounds[1:]):
                part = t.slice(int(a), int(b - a)).to_pydict()
                if pending is not None and pending["series_instance_uid"][0] == part["series_instance_uid"][0]:
                    for k in part:
                        pending[k].extend(part[k])
                    continue
                if pending is not None:
                    yield pending
                pending = part
        if pending is not None:
            yield pending

    n = 0
    with TableWriter("series", data) as out:
        if partial:
            for batch in pq.ParquetFile(series_path).iter_batches(batch_size=BATCH_ROWS):
                old = pa.Table.from_batches([batch])
                old = old.filter(pc.invert(pc.is_in(old.column("series_instance_uid"), value_set=redo_arr)))
                if old.num_rows:
                    out.write(old)
                    n += old.num_rows
        batch = []
        for part in series_parts():
            geo = series_geometry(part)
            geo["n_duplicate_sops"] = sum(1 for s in part["sop_instance_uid"] if s in dup_sops)
            row = {k: geo[k] for k in SERIES_FIELDS if k in geo}
            for k in ("series_instance_uid", "study_instance_uid", "accession_number", "patient_id", "study_date",
                      "series_number", "series_description", "modality"):
                row[k] = _first(part[k])
            if row["tilt_deg"] is not None and not math.isfinite(row["tilt_deg"]):
                row["tilt_deg"] = None
            batch.append(row)
            n += 1
            if len(batch) >= BATCH_ROWS:
                out.write(batch)
                batch = []
        if batch:
            out.write(batch)
    return n


def _first(values):
    """Most common non-null value (ties: the first in path order)."""
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    counts = Counter(vals)
    top = max(counts.values())
    return next(v for v in vals if counts[v] == top)


__all__ = ["index_export", "index_file", "walk_export", "write_series"]
