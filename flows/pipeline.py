"""The mining pipeline as plain functions over a run context (no Prefect here).

One run turns a PACS export and a reports file into a new published version of the tables:

    start_run       lock DATA_DIR, remove what killed runs left, create versions/.<run_id>.partial
    plan_reports    read the reports file; split into new/changed (to mine) and unchanged (to carry)
    mine_batch      mine one batch of reports (a task per batch)
    finish_reports  carried rows + mined batches -> reports, references, labels, snippet_labels
    plan_index      list the export; split into new/changed files (to read) and unchanged (to carry)
    index_batch     read one batch of DICOM files (a task per batch)
    finish_index    carried rows + read batches -> instances, index_errors, series (affected ones)
    match           snippet_slices, rejections (only references whose report or images changed)
    plan_volumes    training volumes (optional): cached arrays linked in; the series to build
    volume_batch    build one batch of volumes (a task per batch)
    finish_volumes  cached + built -> volumes; decode failures into index_errors
    publish         runs table, rename the partial folder into place, switch CURRENT, prune

`run_pipeline` calls them in order in one process; `flows.mine_flow` calls the same functions
from Prefect tasks. The functions take and return small picklable values (the context, lists
of ids or paths, counts), and pass tables between steps as Parquet files under the partial
version's `.work/` folder, so batches can run in threads, processes or on Dask workers that
share the data directory's file system.

Incremental rules:
- reports are keyed by report_id and text_sha256: unchanged reports keep their previous rows,
  amended ones are mined again and replace theirs. The reports file is the full archive by
  default, so a report that vanished from it loses its rows; with `append_reports` the file
  holds only new and amended reports and previous reports absent from it are kept.
- DICOM files are keyed by (path, size_bytes, mtime): unchanged files keep their `instances` or
  `index_errors` rows; files gone from the export lose theirs.
- a batch that fails (after its retries) keeps the previous rows of its items, marks the run
  completed_with_errors, and is tried again by the next run (its items still look changed).
- a new radmine version, or `full=True`, re-processes everything.
Every table is sorted by its primary key before it is written, so two runs over the same input
give identical tables.

Test hook: with RADMINE_TEST_PAUSE_AT=<checkpoint> the run writes
`<DATA_DIR>/.paused-<checkpoint>` and sleeps at that checkpoint so a test can kill it there
(checkpoints: CHECKPOINTS below).
"""
from __future__ import annotations

import importlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flows.tables_sql import finish_references, key_sql, stream_table

CHECKPOINTS = ("started", "reports", "index", "mined", "indexed", "matched", "volumes",
               "before_publish", "renamed", "published")
DEFAULT_LIBRARY = "flows.library:library"
WORK = ".work"
REPORT_TABLES = ("reports", "references", "labels", "snippet_labels")
INDEX_TABLES = ("instances", "index_errors")


@dataclass
class MineOptions:
    export_dir: str
    reports: str
    data_dir: str
    volumes: bool = False
    keep_versions: int = 3
    report_batch_size: int = 200
    file_batch_size: int = 2000
    append_reports: bool = False
    full: bool = False
    keep_identifiers: bool = False
    runner: str = "local"
    library: str = DEFAULT_LIBRARY
    columns: dict[str, str] = field(default_factory=dict)  # the reports export's role -> column mapping (reports_io)

    def inputs(self) -> dict:
        d = asdict(self)
        d["export_dir"] = str(Path(self.export_dir).resolve())
        d["reports"] = str(Path(self.reports).resolve())
        d.pop("data_dir")
        if d["library"] == DEFAULT_LIBRARY:
            d.pop("library")
        return d


@dataclass
class RunContext:
    run_id: str
    started_at: str  # ISO UTC
    data_dir: str
    work_dir: str  # versions/.<run_id>.partial
    previous: str | None  # folder of the current version when the run started
    options: MineOptions
    reprocess_all: bool = False

    @property
    def work(self) -> Path:
        return Path(self.work_dir)

    @property
    def scratch(self) -> Path:
        return Path(self.work_dir) / WORK

    @property
    def lib(self):
        return load_library(self.options.library)


@dataclass
class Plan:
    """What a step will do: batches to process and how many items it carries unchanged."""

    batches: list[list[Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class BatchResult:
    index: int
    ok: bool
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None


_LIBRARIES: dict[str, Any] = {}


def load_library(spec: str):
    """The object whose methods do the real work (`module:attribute`; see flows.library)."""
    if spec not in _LIBRARIES:
        module, _, attr = spec.partition(":")
        obj = getattr(importlib.import_module(module), attr or "library")
        _LIBRARIES[spec] = obj() if isinstance(obj, type) else obj
    return _LIBRARIES[spec]


def checkpoint(ctx_or_dir, name: str) -> None:
    """The documented test hook: pause at checkpoint `name` when RADMINE_TEST_PAUSE_AT says so."""
    if os.environ.get("RADMINE_TEST_PAUSE_AT") != name:
        return
    data_dir = Path(ctx_or_dir.data_dir if isinstance(ctx_or_dir, RunContext) else ctx_or_dir)
    (data_dir / f".paused-{name}").write_text(f"{os.getpid()}\n")
    time.sleep(float(os.environ.get("RADMINE_TEST_PAUSE_SECONDS", "600")))


# -- Parquet helpers ----------------------------------------------------------------------------

def _write_part(name: str, rows, path: Path) -> int:
    """Conform rows to the contract and write them as a scratch part (validated on finish)."""
    import pyarrow.parquet as pq

    import data_contracts as dc

    table = dc.conform(name, rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return table.num_rows


def _read_parts(name: str, paths: list[Path]):
    import pyarrow as pa
    import pyarrow.parquet as pq

    import data_contracts as dc

    schema = dc.load_contract(name).schema
    tables = [pq.read_table(p).cast(schema) for p in paths if p.exists()]
    return pa.concat_tables(tables) if tables else schema.empty_table()


def _previous(ctx: RunContext, name: str, filter_col: str | None = None, keep=None):
    """Rows of table `name` in the previous version (optionally only where filter_col is in keep)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    import data_contracts as dc

    from flows.privacy import identified_table_dir

    schema = dc.load_contract(name).schema
    if ctx.previous is None:
        return schema.empty_table()
    folder = identified_table_dir(ctx.previous, name)  # carry real identifiers, never pseudonyms
    if not dc.has_table(name, folder):
        return schema.empty_table()
    table = dc.read_table(name, folder).cast(schema)
    if filter_col is not None:
        values = keep if isinstance(keep, (pa.Array, pa.ChunkedArray)) else pa.array(sorted(keep), type=pa.string())
        table = table.filter(pc.is_in(table.column(filter_col), value_set=values))
    return table


def sort_by_key(name: str, table):
    import data_contracts as dc

    pk = list(dc.load_contract(name).primary_key)
    return table.sort_by([(c, "ascending") for c in pk]) if pk and table.num_rows else table


def _write_final(name: str, table, ctx: RunContext) -> int:
    import data_contracts as dc

    dc.write_table(name, sort_by_key(name, table), ctx.work)
    return table.num_rows


def _concat(name: str, tables):
    import pyarrow as pa

    import data_contracts as dc

    schema = dc.load_contract(name).schema
    tables = [t.cast(schema) for t in tables if t is not None]
    return pa.concat_tables(tables) if tables else schema.empty_table()


def _chunks(items: list, size: int) -> list[list]:
    size = max(1, int(size))
    return [items[i:i + size] for i in range(0, len(items), size)]


# -- start --------------------------------------------------------------------------------------

def start_run(options: MineOptions, run_id: str | None = None):
    """Take the lock, clean leftovers, open the partial version. Returns (store, ctx)."""
    from flows.versions import VersionStore, new_run_id, run_started_at

    export = Path(options.export_dir)
    if not export.is_dir():
        raise FileNotFoundError(f"export folder {export} not found; pass the folder holding the DICOM files")
    if not Path(options.reports).exists():
        raise FileNotFoundError(f"reports export {options.reports} not found; pass the CSV, JSONL or Parquet report "
                                "export, or a folder of them")
    store = VersionStore(options.data_dir)
    store.lock()
    try:
        store.clean_leftovers()
        run_id = run_id or new_run_id()
        work = store.begin(run_id)
        previous = store.current_path()
        reprocess_all = options.full or previous is None or _version_changed(previous)
        ctx = RunContext(run_id=run_id, started_at=run_started_at(run_id).isoformat(), data_dir=str(store.root),
                         work_dir=str(work), previous=str(previous) if previous else None, options=options,
                         reprocess_all=reprocess_all)
        ctx.scratch.mkdir()
    except BaseException:
        store.unlock()
        raise
    checkpoint(ctx, "started")
    return store, ctx


def radmine_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("radmine")
    except PackageNotFoundError:
        return "0+unknown"


def _version_changed(previous: Path) -> bool:
    """True when the previous version was written by another radmine version (rules may differ)."""
    import pyarrow.parquet as pq

    path = previous / "runs.parquet"
    if not path.exists():
        return True
    runs = pq.read_table(path, columns=["run_id", "radmine_version"]).sort_by("run_id").to_pylist()
    return not runs or runs[-1]["radmine_version"] != radmine_version()


# -- reports ------------------------------------------------------------------------------------

def _stage_reports(ctx: RunContext, path: Path) -> tuple[int, int]:
    """Stream the reports file into scratch Parquet (language not yet detected). -> (rows, problems)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    import data_contracts as dc

    schema = dc.load_contract("reports").schema
    schema = schema.set(schema.get_field_index("language"), schema.field("language").with_nullable(True))
    n_rows = n_problems = 0
    buf: list[dict] = []
    with pq.ParquetWriter(path, schema) as w:
        for row, problem in ctx.lib.iter_reports(Path(ctx.options.reports), ctx.options.columns,
                                                 announce=lambda line: print(f"reports: {line}")):
            if row is None:
                n_problems += 1
                if n_problems <= 20:
                    print(f"reports: {problem}")
                continue
            buf.append(row)
            if len(buf) >= 2000:
                w.write_table(pa.Table.from_pylist(buf, schema=schema))
                n_rows += len(buf)
                buf = []
        w.write_table(pa.Table.from_pylist(buf, schema=schema))
        n_rows += len(buf)
    return n_rows, n_problems


def plan_reports(ctx: RunContext) -> Plan:
    """Read the reports file and decide which reports to mine, at bounded memory.

    The file is streamed into scratch Parquet; DuckDB compares it with the previous version's
    (report_id, text_sha256) and writes .work/reports_in.parquet (the reports to mine, by id,
    one row group per batch; languages are detected by the mining batches) and
    .work/reports_keep.parquet (the ids whose previous rows are carried)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    import data_contracts as dc
    from data_contracts.sql import bounded_connection, read_parquet_sql, sql_string

    staged = ctx.scratch / "reports_all.parquet"
    n_in, n_problems = _stage_reports(ctx, staged)
    con = bounded_connection()
    from flows.privacy import identified_table_dir

    prev_files = dc.table_files("reports", identified_table_dir(ctx.previous, "reports")) if ctx.previous else []
    if prev_files:  # real identifiers, never pseudonyms
        con.execute(f"CREATE TEMP VIEW prev AS SELECT report_id, text_sha256 FROM {read_parquet_sql(prev_files)}")
    else:
        con.execute("CREATE TEMP TABLE prev (report_id VARCHAR, text_sha256 VARCHAR)")
    con.execute(f"CREATE TEMP VIEW incoming AS SELECT * FROM {read_parquet_sql([staged])}")
    redo = "TRUE" if ctx.reprocess_all else "p.text_sha256 IS DISTINCT FROM i.text_sha256"
    con.execute(f"CREATE TEMP TABLE todo AS SELECT i.report_id, p.report_id IS NOT NULL AS amended "
                f"FROM incoming i LEFT JOIN prev p USING (report_id) WHERE {redo}")
    if ctx.options.append_reports:
        keep_sql = "SELECT report_id FROM prev ANTI JOIN todo USING (report_id)"
    else:
        keep_sql = "SELECT i.report_id FROM incoming i JOIN prev USING (report_id) ANTI JOIN todo USING (report_id)"
    keep_path = ctx.scratch / "reports_keep.parquet"
    con.execute(f"COPY ({keep_sql} ORDER BY report_id) TO {sql_string(keep_path)} (FORMAT parquet)")
    (n_todo, n_amended), = con.execute("SELECT count(*), count(*) FILTER (WHERE amended) FROM todo").fetchall()
    n_keep = pq.ParquetFile(keep_path).metadata.num_rows  # counted as written, not by joining again
    (n_dropped,), = con.execute("SELECT count(*) FROM prev ANTI JOIN incoming USING (report_id)").fetchall()
    size = max(1, ctx.options.report_batch_size)
    reader = con.sql("SELECT i.* FROM incoming i SEMI JOIN todo USING (report_id) ORDER BY report_id").to_arrow_reader(size)
    with pq.ParquetWriter(ctx.scratch / "reports_in.parquet", reader.schema) as w:
        pending = []
        for batch in reader:  # one row group per mining batch: mine_batch reads only its own
            pending.append(batch)
            while sum(b.num_rows for b in pending) >= size:
                table = pa.Table.from_batches(pending)
                w.write_table(table.slice(0, size))
                pending = table.slice(size).to_batches()
        if pending and sum(b.num_rows for b in pending):
            w.write_table(pa.Table.from_batches(pending))
    con.close()
    staged.unlink()
    spans = [[start, min(start + size, n_todo)] for start in range(0, n_todo, size)]
    counts = {"reports_in_file": n_in, "report_problems": n_problems, "reports_to_mine": n_todo, "reports_carried": n_keep,
              "reports_new": n_todo - n_amended, "reports_amended": n_amended,
              "reports_dropped": 0 if ctx.options.append_reports else n_dropped}
    checkpoint(ctx, "reports")
    return Plan(batches=spans, counts=counts)


def mine_batch(ctx: RunContext, index: int, span: list[int]) -> BatchResult:
    """Mine reports [start, stop) of .work/reports_in.parquet; write one part per table."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(ctx.scratch / "reports_in.parquet")
    rows = pf.read_row_group(span[0] // max(1, ctx.options.report_batch_size)).to_pylist()  # a batch is a row group
    if len(rows) != span[1] - span[0]:
        raise RuntimeError(f"mining batch {index}: reports_in.parquet row group holds {len(rows)} reports, "
                           f"the plan says {span[1] - span[0]}; the run's scratch folder is damaged, run again")
    tables = ctx.lib.mine_reports(rows)
    counts = {}
    for name in REPORT_TABLES:
        counts[name] = _write_part(name, tables.get(name, []), ctx.scratch / f"mine-{index:05d}" / f"{name}.parquet")
    return BatchResult(index=index, ok=True, counts=counts)


def finish_reports(ctx: RunContext, results: list[BatchResult], plan: Plan) -> dict[str, int]:
    """Carried rows + mined batches -> the four report tables (amended reports replace theirs).

    Runs in DuckDB within 256 MB (spilling to scratch) and streams each table through a
    TableWriter, so no table is ever held whole; see `flows.tables_sql.finish_references` for
    the near-duplicate clusters."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from data_contracts.sql import bounded_connection

    carried = [pq.read_table(ctx.scratch / "reports_keep.parquet").column("report_id")]
    ok_parts = []
    incoming = pq.read_table(ctx.scratch / "reports_in.parquet", columns=["report_id"]).column("report_id")
    for res, span in zip(results, plan.batches):
        if res.ok:
            ok_parts.append(ctx.scratch / f"mine-{res.index:05d}")
        else:  # keep what the previous version had for this batch's reports; next run tries again
            carried.append(incoming.slice(span[0], span[1] - span[0]))
    con = bounded_connection()
    con.register("carried", pa.table({"report_id": pa.chunked_array([c.cast(pa.string()) for c in carried], pa.string())}))
    any_carried = sum(len(c) for c in carried) > 0
    out = {}
    for name in REPORT_TABLES:
        source = _report_rows_sql(ctx, name, [p / f"{name}.parquet" for p in ok_parts], any_carried)
        if name == "references":
            out[name] = finish_references(ctx.lib, con, source, ctx.scratch, ctx.work)
        else:
            out[name] = stream_table(name, con, f"{source} ORDER BY {key_sql(name)}", ctx.work)
    con.close()
    checkpoint(ctx, "mined")
    return out


def _report_rows_sql(ctx: RunContext, name: str, new_parts: list[Path], any_carried: bool) -> str:
    """SQL for table `name`'s rows of this run: the previous version's rows of carried reports and
    the mined parts (a contract-shaped empty relation when there are neither). The previous
    version is not read when nothing is carried (it may be another radmine version's)."""
    import pyarrow.parquet as pq

    import data_contracts as dc
    from data_contracts.sql import read_parquet_sql
    from flows.privacy import identified_table_dir

    cols = ", ".join(f'"{c}"' for c in dc.load_contract(name).schema.names)
    parts = []
    if ctx.previous is not None and any_carried:
        prev = dc.table_files(name, identified_table_dir(ctx.previous, name))  # real identifiers, never pseudonyms
        if prev:
            parts.append(f"SELECT {cols} FROM {read_parquet_sql(prev)} SEMI JOIN carried USING (report_id)")
    new = [p for p in new_parts if p.exists()]
    if new:
        parts.append(f"SELECT {cols} FROM {read_parquet_sql(new)}")
    if not parts:
        empty = ctx.scratch / f"empty-{name}.parquet"
        pq.write_table(dc.load_contract(name).schema.empty_table(), empty)
        parts.append(f"SELECT {cols} FROM {read_parquet_sql([empty])}")
    return "SELECT * FROM (" + " UNION ALL ".join(parts) + ")"


# -- DICOM index --------------------------------------------------------------------------------

def plan_index(ctx: RunContext) -> Plan:
    """List the export; files whose (path, size, mtime) the previous version has are carried."""
    import pyarrow.parquet as pq

    walk = ctx.lib.list_export(Path(ctx.options.export_dir), exclude=[ctx.data_dir])
    cmp = _compare_with_previous(ctx, walk)
    todo = [list(r) for r in zip(*(cmp.to_read.column(c).to_pylist() for c in WALK_COLUMNS))]  # with the walk's error
    # how many of the previous version's files are gone or changed: none on a night that only adds studies, when
    # finish_index carries every previous row without needing the paths kept
    (ctx.scratch / "files_lost.json").write_text(json.dumps(cmp.lost))
    if cmp.keep is not None:
        pq.write_table(cmp.keep, ctx.scratch / "files_keep.parquet")
    counts = {"files_in_export": walk.num_rows, "files_to_index": len(todo), "files_carried": cmp.carried,
              "files_removed": cmp.removed}
    # the file lists stay on disk: a task's arguments are walked by Prefect, so they are kept small
    batches = _chunks(todo, ctx.options.file_batch_size)
    for i, items in enumerate(batches):
        (ctx.scratch / f"index-{i:05d}").mkdir()
        (ctx.scratch / f"index-{i:05d}" / "items.json").write_text(json.dumps(items))
    checkpoint(ctx, "index")
    return Plan(batches=[len(b) for b in batches], counts=counts)


#: list_export's columns: an entry of the plan's batches (index_batch reads them in this order)
WALK_COLUMNS = ("path", "size_bytes", "mtime", "walk_error")


@dataclass
class Comparison:
    """The export's walk against the previous version (`_compare_with_previous`)."""

    to_read: Any  # Arrow table: the walk's entries to read (WALK_COLUMNS), in path order
    carried: int  # files whose previous rows are carried
    removed: int  # previous files gone from the export
    lost: int | None  # previous files gone or changed; None without a previous version, or when all is read again
    keep: Any = None  # Arrow table of the carried paths in walk order; None when lost == 0 (every previous row stays)


def _compare_with_previous(ctx: RunContext, walk) -> Comparison:
    """Which files of the walk to read. A file is carried when the previous version indexed or refused it with the same
    path, size and mtime (a file without a size never matches).

    One DuckDB pass over all the previous parts (instances has a row per frame, in a part per batch), their rows
    taken as they are (a semi join needs no distinct rows: de-duplicating them cost 0.07 s of a 1,280-study re-run)
    and the answers kept in Arrow (the carried rows as Python tuples were another 0.25 s)."""
    import pyarrow as pa

    import data_contracts as dc
    from data_contracts.sql import bounded_connection, read_parquet_sql
    from flows.privacy import identified_table_dir

    selects = []
    for name in INDEX_TABLES if ctx.previous is not None else ():
        files = dc.table_files(name, identified_table_dir(ctx.previous, name))  # real paths, never pseudonyms
        if files:
            selects.append("SELECT path, CAST(size_bytes AS BIGINT) AS size_bytes, CAST(mtime AS DOUBLE) AS mtime "
                           f"FROM {read_parquet_sql(files)}")
    walk = walk.append_column("i", pa.array(range(walk.num_rows), pa.int64()))
    con = bounded_connection()
    try:
        con.register("walk", walk)
        con.execute(f"CREATE TEMP TABLE known AS {' UNION ALL '.join(selects)}" if selects  # a row per frame or error
                    else "CREATE TEMP TABLE known (path VARCHAR, size_bytes BIGINT, mtime DOUBLE)")
        con.execute("CREATE TEMP TABLE carried AS SELECT w.i, w.path FROM walk w SEMI JOIN known k "
                    "ON w.path = k.path AND w.size_bytes = k.size_bytes AND w.mtime = k.mtime"
                    + (" WHERE false" if ctx.reprocess_all else ""))
        to_read = con.sql(f"SELECT {', '.join(WALK_COLUMNS)} FROM walk ANTI JOIN carried USING (i) "
                          "ORDER BY path").to_arrow_table()  # batches in path order
        (carried,), = con.sql("SELECT count(*) FROM carried").fetchall()
        (removed,), = con.sql("SELECT count(DISTINCT k.path) FROM known k ANTI JOIN walk w ON k.path = w.path").fetchall()
        lost = None  # without a previous version, or when everything is read again, nothing is carried whole
        if selects and not ctx.reprocess_all:
            (lost,), = con.sql("SELECT count(DISTINCT k.path) FROM known k ANTI JOIN carried c ON k.path = c.path").fetchall()
        keep = con.sql("SELECT path FROM carried ORDER BY i").to_arrow_table() if lost != 0 else None
    finally:
        con.close()
    return Comparison(to_read, carried, removed, lost, keep)


def _index_items(ctx: RunContext, index: int) -> list[list]:
    return json.loads((ctx.scratch / f"index-{index:05d}" / "items.json").read_text())


def index_batch(ctx: RunContext, index: int, n_files: int | None = None) -> BatchResult:
    """Read batch `index` of the plan's files (list_export's entries); write its instances and index_errors."""
    items = _index_items(ctx, index)
    instances, errors = ctx.lib.index_files(Path(ctx.options.export_dir), [tuple(i) for i in items])
    part = ctx.scratch / f"index-{index:05d}"
    counts = {"instances": _write_part("instances", instances, part / "instances.parquet"),
              "index_errors": _write_part("index_errors", errors, part / "index_errors.parquet")}
    return BatchResult(index=index, ok=True, counts=counts)


def finish_index(ctx: RunContext, results: list[BatchResult], plan: Plan) -> dict[str, int]:
    """Carried rows + read batches -> instances and index_errors; series recomputed from instances.

    `instances` (one row per image, nearly all of a version's bytes) is kept in parts: the
    previous version's parts whose files are all unchanged are hard-linked into this version,
    a part that lost files is rewritten without them, and each batch read in this run becomes
    a new part. So a nightly run writes only what changed, not the whole table.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    import data_contracts as dc
    from data_contracts.io import part_path, table_files, write_part
    from data_contracts.validate import duplicates

    from flows.privacy import identified_table_dir

    ok_parts, failed_paths = [], []
    for res in results:
        if res.ok:
            ok_parts.append(ctx.scratch / f"index-{res.index:05d}")
        else:  # keep the previous rows of this batch's files; their keys still differ, so the next run retries
            failed_paths += [i[0] for i in _index_items(ctx, res.index)]
    # the previous rows to carry: all of them when none of their files is gone or changed (a failed batch's files are
    # new or changed, and a changed one keeps its rows); else those of the files kept and of the failed batches
    lost = json.loads((ctx.scratch / "files_lost.json").read_text())
    keep = None
    if lost != 0:
        keep = pq.read_table(ctx.scratch / "files_keep.parquet").column("path")
        keep = pa.concat_arrays([keep.combine_chunks(), pa.array(failed_paths, pa.string())])
    out = {}
    # index_errors: small (one row per unreadable file), rewritten whole
    new_errors = _read_parts("index_errors", [p / "index_errors.parquet" for p in ok_parts])
    previous_errors = _previous(ctx, "index_errors", *(("path", keep) if keep is not None else ()))
    errors = _concat("index_errors", [previous_errors, new_errors])
    out["index_errors"] = _write_final("index_errors", errors, ctx)
    # instances: previous parts carried (linked), thinned (rewritten) or dropped; new parts per batch
    change_cols = ["path", "frame_number", "series_instance_uid", "sop_instance_uid", "accession_number", "patient_id"]
    gone, new_rows = [], []
    n_rows = 0
    prev_files = [] if ctx.previous is None else table_files("instances", identified_table_dir(ctx.previous, "instances"))
    per_part = (_kept_per_part(prev_files, keep) if keep is not None
                else [(f, n, n) for f in prev_files for n in [pq.ParquetFile(f).metadata.num_rows]])
    for src, n, n_kept in per_part:
        if n_kept < n:  # only a part that lost files is read: a night that only adds studies reads none
            part_paths = pq.read_table(src, columns=change_cols)
            kept = pc.is_in(part_paths.column("path"), value_set=keep)
            gone.append(part_paths.filter(pc.invert(kept)))
        if n_kept == 0:
            continue
        # a one-file previous version (older layout) becomes this version's first part
        part = src.stem[len("part-"):] if src.name.startswith("part-") else f"{Path(ctx.previous).name}-00000"
        if n_kept == n:
            _link(src, part_path("instances", ctx.work, part))
        else:
            write_part("instances", pq.read_table(src).filter(kept), ctx.work, part)
        n_rows += n_kept
    for p in ok_parts:
        table = _read_parts("instances", [p / "instances.parquet"])
        if table.num_rows:
            write_part("instances", sort_by_key("instances", table), ctx.work, f"{ctx.run_id}-{p.name.split('-')[-1]}")
            new_rows.append(table.select(change_cols))
            n_rows += table.num_rows
    schema = pa.schema([dc.load_contract("instances").schema.field(c) for c in change_cols])
    gone_t = pa.concat_tables([t.cast(schema) for t in gone]) if gone else schema.empty_table()
    new_t = pa.concat_tables([t.cast(schema) for t in new_rows]) if new_rows else schema.empty_table()
    if not table_files("instances", ctx.work):
        dc.write_table("instances", [], ctx.work)
    # keys stay unique across parts: carried parts hold only unchanged files (unique in the version they come from),
    # the files read are the walk's others (plan_index), and each new part was checked on its own; so check the new
    # rows against each other
    if new_t.num_rows:
        dup = duplicates(new_t, list(dc.load_contract("instances").primary_key), "unique key")
        if dup:
            raise dc.ContractViolation("instances", dup)
    out["instances"] = n_rows
    # what matching needs to know: images that appeared, changed or vanished in this run
    pq.write_table(pa.concat_tables([new_t, gone_t]).select(["accession_number", "patient_id"]),
                   ctx.scratch / "changed_instances.parquet")
    prev_series = _previous(ctx, "series")
    if ctx.reprocess_all or prev_series.num_rows == 0:
        ctx.lib.write_series(ctx.work)
    else:  # only series that gained, changed or lost images (or share a SOP with those) are recomputed
        changed = pa.concat_tables([gone_t, new_t])
        affected_series = set(changed.column("series_instance_uid").to_pylist())
        affected_sops = set(changed.column("sop_instance_uid").to_pylist())
        dc.write_table("series", prev_series, ctx.work)
        ctx.lib.write_series(ctx.work, affected_series, affected_sops)
    out["series"] = _write_final("series", dc.read_table("series", ctx.work), ctx)
    checkpoint(ctx, "indexed")
    return out


def _kept_per_part(files: list[Path], keep) -> list[tuple[Path, int, int]]:
    """(part, rows, rows whose path is in `keep`) of each instances part, in one DuckDB pass over their paths
    (reading the paths part by part into Arrow took 0.15 s of a 320-study re-run)."""
    if not files:
        return []
    import pyarrow as pa
    import pyarrow.parquet as pq

    from data_contracts.sql import bounded_connection, read_parquet_sql

    con = bounded_connection()
    try:
        con.register("keep", pa.table({"path": keep}))
        counts = dict((f, (n, k)) for f, n, k in con.execute(
            f"SELECT filename, count(*), count(k.path) FROM {read_parquet_sql(files, filename=True)} p "
            "LEFT JOIN (SELECT DISTINCT path FROM keep) k USING (path) GROUP BY filename").fetchall())
    finally:
        con.close()
    out = []
    for f in files:
        if str(f) not in counts:  # an empty part has no group; anything else would be a misnamed file
            if pq.ParquetFile(f).metadata.num_rows:
                raise RuntimeError(f"DuckDB named the rows of {f} otherwise; its rows cannot be carried")
            counts[str(f)] = (0, 0)
        out.append((f, *counts[str(f)]))
    return out


def _link(src: Path, dst: Path) -> None:
    """Hard-link an unchanged part into the version being built (a copy where links are refused)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


# -- match, volumes -----------------------------------------------------------------------------

def match(ctx: RunContext) -> dict[str, int]:
    """snippet_slices and rejections: incrementally when the library can and a previous version exists."""
    import data_contracts as dc
    from flows.privacy import identified_table_dir

    incremental = getattr(ctx.lib, "match_incremental", None)
    if incremental is None or ctx.reprocess_all or ctx.previous is None or \
            not (Path(ctx.previous) / "snippet_slices.parquet").exists():
        counts = ctx.lib.match(ctx.work)
    else:
        import pyarrow.parquet as pq

        mined = pq.read_table(ctx.scratch / "reports_in.parquet", columns=["report_id"]).column(0)
        changed = pq.read_table(ctx.scratch / "changed_instances.parquet")  # written by finish_index
        previous = {name: dc.table_files(name, identified_table_dir(ctx.previous, name))
                    for name in ("snippet_slices", "rejections")}
        counts = incremental(ctx.work, previous, mined, changed)
    # re-sort by key so the tables are byte-for-byte reproducible whatever order matching used
    from data_contracts.sql import bounded_connection, read_parquet_sql

    out = {}
    con = bounded_connection()
    for name in ("snippet_slices", "rejections"):
        source = read_parquet_sql(dc.table_files(name, ctx.work))
        out[name] = stream_table(name, con, f"SELECT * FROM {source} ORDER BY {key_sql(name)}", ctx.work)
    con.close()
    checkpoint(ctx, "matched")
    return {**{f"match_{k}": v for k, v in (counts or {}).items()}, **out}


VOLUME_BATCH = 4  # series per volume batch: ~1 s each here, so a task is seconds, and many tasks keep workers busy


def plan_volumes(ctx: RunContext) -> Plan:
    """Cached training volumes linked into the version; the series still to build, in batches."""
    cached, todo = ctx.lib.plan_volumes(ctx.work, Path(ctx.data_dir) / "cache")
    _write_part("volumes", cached, ctx.scratch / "volumes-cached.parquet")
    return Plan(batches=_chunks(todo, VOLUME_BATCH), counts={"volumes_to_build": len(todo)})


def volume_batch(ctx: RunContext, index: int, uids: list[str]) -> BatchResult:
    """Build one batch of training volumes (arrays into the version and the cache; rows as scratch parts)."""
    rows, errors = ctx.lib.build_volume_batch(ctx.work, Path(ctx.options.export_dir), Path(ctx.data_dir) / "cache", uids)
    part = ctx.scratch / f"volumes-{index:05d}"
    counts = {"volumes": _write_part("volumes", rows, part / "volumes.parquet"),
              "decode_errors": _write_part("index_errors", errors, part / "index_errors.parquet")}
    return BatchResult(index=index, ok=True, counts=counts)


def finish_volumes(ctx: RunContext, results: list[BatchResult], plan: Plan) -> dict[str, int]:
    """Cached + built volumes -> `volumes`; decode failures replace the index_errors rows of their files.
    A failed batch's series get no volume in this version; they are not cached, so the next run builds them."""
    import pyarrow.compute as pc

    import data_contracts as dc

    ok = [ctx.scratch / f"volumes-{r.index:05d}" for r in results if r.ok]
    cached = _read_parts("volumes", [ctx.scratch / "volumes-cached.parquet"])
    built = _read_parts("volumes", [p / "volumes.parquet" for p in ok])
    table = _concat("volumes", [cached, built])
    n = _write_final("volumes", table, ctx)
    leftovers = _remove_unlisted_arrays(ctx.work, table.column("array_path").to_pylist())
    errors = _read_parts("index_errors", [p / "index_errors.parquet" for p in ok])
    if errors.num_rows:
        old = dc.read_table("index_errors", ctx.work)
        old = old.filter(pc.invert(pc.is_in(old.column("path"), value_set=errors.column("path"))))
        _write_final("index_errors", _concat("index_errors", [old, errors]), ctx)
    checkpoint(ctx, "volumes")
    return {"volumes": n, "volumes_built": built.num_rows, "volumes_cached": cached.num_rows,
            "decode_errors": errors.num_rows, "volume_leftovers_removed": leftovers}


def _remove_unlisted_arrays(work: Path, array_paths: list[str]) -> int:
    """Remove the files in the version's array folders that no `volumes` row names: arrays a failed
    batch saved before it failed, a save's temporary left by a killed reader. A published version
    holds exactly the arrays its table lists. Returns how many were removed."""
    from dataset.volumes import ARRAY_FOLDER

    named = {work / p for p in array_paths}
    removed = 0
    for folder in {p.parent for p in named} | {work / ARRAY_FOLDER}:
        for path in folder.iterdir() if folder.is_dir() else ():
            if path.is_file() and path not in named:
                path.unlink()
                removed += 1
    return removed


def build_volumes(ctx: RunContext) -> tuple[dict[str, int], list[BatchResult]]:
    """The volume step in this process: plan, every batch, finish; (counts, batch results)."""
    plan = plan_volumes(ctx)
    results = _run_batches(volume_batch, ctx, plan.batches)
    return {**plan.counts, **finish_volumes(ctx, results, plan)}, results


# -- publish ------------------------------------------------------------------------------------

def failed(results: list[BatchResult]) -> int:
    return sum(1 for r in results if not r.ok)


def publish(store, ctx: RunContext, counts: dict[str, Any]) -> dict:
    """Write the runs table, move the version into place, switch CURRENT, prune. Returns the run row."""
    import data_contracts as dc

    from flows.privacy import protect_version

    checkpoint(ctx, "before_publish")
    shutil.rmtree(ctx.scratch, ignore_errors=True)
    tables = _row_counts(ctx.work)
    # pseudonyms and scrubbed text in the published tables; identified copies stay in .identified/
    privacy = protect_version(ctx.work, keep_identifiers=ctx.options.keep_identifiers, previous=ctx.previous)
    counts = {**counts, "tables": tables, "privacy": privacy}
    status = "completed_with_errors" if counts.get("failed_batches") else "completed"
    row = {
        "run_id": ctx.run_id,
        "started_at": datetime.fromisoformat(ctx.started_at),
        "ended_at": datetime.now(timezone.utc),
        "status": status,
        "inputs": json.dumps(ctx.options.inputs(), sort_keys=True),
        "counts": json.dumps(counts, sort_keys=True, default=int),
        "keep_identifiers": bool(ctx.options.keep_identifiers),
        "radmine_version": radmine_version(),
    }
    prev_runs = _previous(ctx, "runs")
    runs = _concat("runs", [prev_runs, dc.conform("runs", [row])])
    _write_final("runs", runs, ctx)
    store.publish(ctx.run_id, after_rename=lambda: checkpoint(ctx, "renamed"))
    checkpoint(ctx, "published")
    pruned = store.prune(ctx.options.keep_versions)
    from flows.library import prune_volume_cache

    prune_volume_cache(store.cache)
    row["pruned"] = pruned
    row["counts"] = counts
    return row


def _row_counts(folder: Path) -> dict[str, int]:
    """Rows of every table in `folder` (one file or parts), from the Parquet footers."""
    import pyarrow.parquet as pq

    import data_contracts as dc
    from data_contracts.io import table_files

    out = {}
    for name in dc.contract_names():
        files = table_files(name, folder)
        if files:
            out[name] = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    return out


def summary_markdown(row: dict) -> str:
    """The run summary shown as a Prefect artifact (and printed by `radmine mine`)."""
    counts = row["counts"] if isinstance(row["counts"], dict) else json.loads(row["counts"])
    tables = counts.get("tables", {})
    lines = [f"# radmine run {row['run_id']}", "",
             f"**Status:** {row['status']}  ", f"**Version:** `{row['run_id']}` (now current)  ",
             f"**Duration:** {(row['ended_at'] - row['started_at']).total_seconds():.1f} s", "",
             "| table | rows |", "|---|---:|"]
    lines += [f"| {name} | {n:,} |" for name, n in sorted(tables.items())]
    lines += ["", "| work | count |", "|---|---:|"]
    lines += [f"| {k} | {v:,} |" for k, v in sorted(counts.items()) if k != "tables" and isinstance(v, int)]
    if row.get("pruned"):
        lines += ["", "Pruned versions: " + ", ".join(f"`{p}`" for p in row["pruned"])]
    return "\n".join(lines) + "\n"


def finish_run(store, ctx: RunContext) -> None:
    store.unlock()


def abort_run(store, ctx: RunContext | None) -> None:
    """Leave the previous version as it was: drop this run's partial folder and release the lock."""
    if ctx is not None:
        shutil.rmtree(ctx.work, ignore_errors=True)
    store.unlock()


# -- the whole run, without Prefect -------------------------------------------------------------

def _run_batches(fn, ctx: RunContext, batches: list) -> list[BatchResult]:
    results = []
    for i, batch in enumerate(batches):
        try:
            results.append(fn(ctx, i, batch))
        except Exception as exc:  # noqa: BLE001 - a failed batch keeps its previous rows
            results.append(BatchResult(index=i, ok=False, error=f"{type(exc).__name__}: {exc}"))
    return results


def run_pipeline(options: MineOptions, run_id: str | None = None) -> dict:
    """One run in this process, no Prefect: the reference the flow is measured against."""
    store, ctx = start_run(options, run_id)
    try:
        counts: dict[str, Any] = {}
        rplan = plan_reports(ctx)
        iplan = plan_index(ctx)
        mined = _run_batches(mine_batch, ctx, rplan.batches)
        indexed = _run_batches(index_batch, ctx, iplan.batches)
        counts.update(rplan.counts, **iplan.counts)
        finish_reports(ctx, mined, rplan)
        finish_index(ctx, indexed, iplan)
        counts.update(match(ctx))
        built: list[BatchResult] = []
        if options.volumes:
            vcounts, built = build_volumes(ctx)
            counts.update(vcounts)
        counts["failed_batches"] = failed(mined) + failed(indexed) + failed(built)
        counts["batches"] = len(mined) + len(indexed) + len(built)
        row = publish(store, ctx, counts)
    except BaseException:
        abort_run(store, ctx)
        raise
    finish_run(store, ctx)
    return row
