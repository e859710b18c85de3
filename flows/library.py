"""The adapter between the pipeline and the mining / dataset libraries: every method is a thin call.

The pipeline (flows.pipeline) only talks to an object with these methods, so the same steps run
over the real libraries (`library`, here) or over a toy (flows.toylib) in machinery tests.

    iter_reports(path, columns, announce) -> (row, problem) pairs   report rows with report_id, text_sha256, ... (a stream);
                                                           announce(line) names the columns read, before the first row
    mine_reports(rows) -> {table: rows}                    reports, references, labels, snippet_labels
    snippet_key(snippet) -> str                            normalised snippet: equal keys are exact duplicates
    near_duplicate_groups(keys) -> [group]                 for distinct keys (first-appearance order), near-duplicates share a group
    duplicate_min_reports                                  a group is a duplicate cluster when it spans this many reports
    list_export(export_dir, exclude) -> Arrow table            path, size_bytes, mtime, walk_error: a row a file
    index_files(export_dir, items) -> (instances rows, index_errors rows)   items: [path, size, mtime, walk error] each
    write_series(work_dir)                                 series from work_dir's instances (one file or parts)
    match(work_dir) -> counts                              snippet_slices, rejections into work_dir
    plan_volumes(work_dir, cache_dir) -> (rows, uids)      cached volumes linked into work_dir; series to build
    build_volume_batch(work_dir, export_dir, cache_dir, uids) -> (volumes rows, index_errors rows)
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path


BATCH_TIMEOUT_S = 1800  # the listing, an index or a volume batch in a reader process (a flow task's limit): then it fails, not hangs


class Library:
    # -- reports (mining) ----------------------------------------------------------------------
    def iter_reports(self, path: Path, columns: dict[str, str], announce=print):
        """Report rows (reports contract: cleaned text, text_sha256; language left to the pipeline,
        which detects it only for reports it mines) and per-row problems, streamed; `columns` maps
        roles to the export's columns where the defaults do not find them."""
        from mining.reports_io import describe_columns, iter_reports

        return iter_reports(path, columns, language=False, on_columns=lambda roles, name: announce(describe_columns(roles, name)))

    def mine_reports(self, rows: list[dict]) -> dict:
        """Mine a batch of report rows through the spaCy pipeline (as `radmine mine-reports` does)."""
        from mining.pipeline import mined_rows

        return mined_rows(rows)

    duplicate_min_reports = 2

    def snippet_key(self, snippet: str) -> str:
        from mining.dedup import normalise

        return normalise(snippet)

    def near_duplicate_groups(self, keys: list[str]) -> list[int]:
        from mining.dedup import near_duplicate_groups

        return near_duplicate_groups(keys)

    # -- DICOM index (dataset.index) -------------------------------------------------------------
    def list_export(self, export_dir: Path, exclude=()):
        from dataset.index import list_export

        return list_export(export_dir, exclude=list(exclude), timeout=BATCH_TIMEOUT_S)

    def index_files(self, export_dir: Path, items) -> tuple[list[dict], list[dict]]:
        """As `radmine index` reads them: each file within the per-file time limit, the walk's error kept."""
        from dataset.index import read_files

        return read_files(export_dir, items, timeout=BATCH_TIMEOUT_S)

    def open_readers(self) -> None:
        """Start the reader processes the flow's index batches use (see dataset.index.open_readers)."""
        from dataset.index import open_readers

        open_readers()

    def close_readers(self) -> None:
        from dataset.index import close_readers

        close_readers()

    def write_series(self, work_dir: Path, affected_series=None, affected_sops=None) -> int:
        """series from instances; with affected_* only those series are recomputed, the rest copied."""
        from dataset.index import write_series

        return write_series(work_dir, affected_series=affected_series, affected_sops=affected_sops)

    # -- matching and volumes ------------------------------------------------------------------
    def match(self, work_dir: Path) -> dict:
        from dataset.matching import run_match

        return run_match(work_dir)

    def match_incremental(self, work_dir: Path, previous: dict, mined_reports, changed_instances) -> dict:
        """Match only the references whose outcome can have changed; carry the other outcomes.

        A reference's outcome depends on its report and on the images of the report's study
        (accession number) and patient (study by patient and date, prior studies). So the
        references re-matched are those of reports mined in this run and of reports whose
        accession number or patient has images that appeared, changed or vanished; they are
        matched by `dataset.matching.match_batches`, batch by batch of reports, each over its own
        studies' and patients' images. previous: {"snippet_slices": [parquet files], "rejections":
        [...]} of the previous version; mined_reports: the ids mined in this run (Arrow strings).
        """
        import contextlib

        import pyarrow as pa
        import pyarrow.compute as pc

        import data_contracts as dc
        from data_contracts.sql import bounded_connection, read_parquet_sql
        from dataset.matching import id_key, match_batches

        mined = set(mined_reports.to_pylist())
        reports = dc.read_table("reports", work_dir, columns=["report_id", "accession_number", "patient_id"], ordered=False)
        pat_of_acc: dict[str, set] = {}  # accession numbers and patients as matching compares them (`id_key`)
        for acc, pat in _accession_patients(work_dir):
            pat_of_acc.setdefault(id_key(acc), set()).add(id_key(pat))
        # (a row per image changed: each study's numbers repeat hundreds of times, so each is keyed once)
        acc_changed = {id_key(v) for v in pc.unique(changed_instances.column("accession_number")).to_pylist()} - {None}
        pat_changed = {id_key(v) for v in pc.unique(changed_instances.column("patient_id")).to_pylist()} - {None}
        affected = []
        for batch in reports.to_batches(50_000):
            for r in batch.to_pylist():
                acc = id_key(r["accession_number"])
                patients = ({id_key(r["patient_id"])} | pat_of_acc.get(acc, set())) - {None}
                if r["report_id"] in mined or acc in acc_changed or patients & pat_changed:
                    affected.append(r["report_id"])
        del reports, mined
        affected_ids = _strings(affected)
        refs_files = dc.table_files("references", work_dir)
        rematched = 0
        with contextlib.ExitStack() as stack:
            con = bounded_connection()
            stack.callback(con.close)
            con.register("affected", pa.table({"report_id": affected_ids}))
            live = f"SELECT DISTINCT report_id FROM {read_parquet_sql(refs_files)} ANTI JOIN affected USING (report_id)"
            writers = {name: stack.enter_context(dc.TableWriter(name, work_dir)) for name in ("snippet_slices", "rejections")}
            for name, w in writers.items():  # carried outcomes: references still there, reports not affected
                if previous.get(name):
                    old = con.sql(f"SELECT * FROM {read_parquet_sql(previous[name])} SEMI JOIN ({live}) USING (report_id)")
                    for b in old.to_arrow_reader(65536):
                        w.write(pa.Table.from_batches([b]))
            for n, pairs, rejections in match_batches(work_dir, report_ids=affected_ids):
                writers["snippet_slices"].write(pairs)
                writers["rejections"].write(rejections)
                rematched += n
        out = {name: w.rows for name, w in writers.items()}
        return {"references_rematched": rematched, "pairs": out["snippet_slices"], "rejected": out["rejections"]}

    def plan_volumes(self, work_dir: Path, cache_dir: Path) -> tuple[list[dict], list[str]]:
        """(volumes rows of the arrays already cached, linked into work_dir; series uids still to build)."""
        return plan_volumes_cached(work_dir, cache_dir)

    def build_volume_batch(self, work_dir: Path, export_dir: Path, cache_dir: Path, uids: list[str]):
        """(volumes rows, decode error rows) of a batch of series, built in one of the flow's reader
        processes when they run (threads would share one core for pydicom's decoding), else here."""
        from dataset.index import in_reader

        return in_reader(build_volume_batch_cached, Path(work_dir), Path(export_dir), Path(cache_dir), list(uids),
                         timeout=BATCH_TIMEOUT_S)


library = Library()


def _accession_patients(work_dir: Path) -> list[tuple]:
    """The distinct (accession_number, patient_id) pairs of the instances: one DuckDB pass over the parts (reading
    both columns of a 320-study export's 50 parts into Arrow and grouping took ~0.1 s of a nightly re-run)."""
    from data_contracts.io import table_files
    from data_contracts.sql import bounded_connection, read_parquet_sql

    files = table_files("instances", work_dir)
    if not files:
        return []
    con = bounded_connection()
    try:
        return con.sql(f"SELECT DISTINCT accession_number, patient_id FROM {read_parquet_sql(files)}").fetchall()
    finally:
        con.close()


def _strings(values):
    import pyarrow as pa

    return pa.array(sorted(v for v in values if v is not None), type=pa.string())


# -- volume arrays through a cache shared by the versions --------------------------------------------

def _volume_key(uid: str, files, cfg) -> str:
    """Content key of a series' array: its uid, the resampling settings and its files ((path, size, mtime) each)."""
    files = sorted({(p, int(size), float(mtime)) for p, size, mtime in files})
    blob = json.dumps([uid, list(cfg.spacing_xyz), cfg.split_fractions, cfg.split_salt, files])
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:  # another file system, or no hard links: copy
        shutil.copy2(src, dst)


def _chosen_volumes(work: Path) -> set[str]:
    """Series that get a training volume: each study's by matching's rule, plus every volume a pair names."""
    import data_contracts as dc
    from dataset.matching import MatchConfig, choose_training_volumes

    series = dc.read_table("series", work).to_pandas()
    uids = {r["series_instance_uid"] for r in choose_training_volumes(series, MatchConfig()).values()}
    if dc.has_table("snippet_slices", work):
        uids |= set(dc.read_table("snippet_slices", work, columns=["volume_series_instance_uid"]).column(0).to_pylist())
    return uids


def _files_by_series(instances) -> dict[str, list[tuple]]:
    """series uid -> its files' (path, size_bytes, mtime), from an Arrow instances table (the volume key's input).
    Plain lists: pandas' to_dict per series took 1 s of a 320-study re-run."""
    files: dict[str, list[tuple]] = {}
    cols = instances.select(["series_instance_uid", "path", "size_bytes", "mtime"]).to_pydict().values()
    for uid, *f in zip(*cols):
        files.setdefault(uid, []).append(f)
    return files


def plan_volumes_cached(work_dir: Path, cache_dir: Path, cfg=None) -> tuple[list[dict], list[str]]:
    """The training volumes of a version: (rows of those whose array is cached, hard-linked into
    `work_dir` now; uids of the series still to build, `build_volume_batch_cached`).

    Arrays live once in DATA_DIR/cache/volumes/<key>.npy (+ <key>.json, the volumes row) and are
    hard-linked into the version at the `array_path` dataset.volumes gives them (relative to the
    version folder), so every version is self-contained and unchanged series are never rebuilt.
    """
    import data_contracts as dc
    from dataset.volumes import VolumeConfig

    cfg = cfg or VolumeConfig()
    work, cache = Path(work_dir), Path(cache_dir) / "volumes"
    uids = _chosen_volumes(work)
    files = _files_by_series(dc.read_rows("instances", work, "series_instance_uid", uids,
                                         ["series_instance_uid", "path", "size_bytes", "mtime"]))
    rows, todo = [], []
    for uid in sorted(files):
        key = _volume_key(uid, files[uid], cfg)
        npy, meta = cache / f"{key}.npy", cache / f"{key}.json"
        if npy.exists() and meta.exists():
            row = json.loads(meta.read_text())
            _link(npy, work / row["array_path"])
            rows.append(row)
        else:
            todo.append(uid)
    return rows, todo


def build_volume_batch_cached(work_dir: Path, export_dir: Path, cache_dir: Path, uids: list[str],
                              cfg=None) -> tuple[list[dict], list[dict]]:
    """Build the volumes of `uids` into `work_dir` and the cache; (volumes rows, index_errors rows of
    the files that could not be decoded)."""
    import data_contracts as dc
    from dataset.volumes import VolumeConfig, build_volumes

    cfg = cfg or VolumeConfig()
    work, cache = Path(work_dir), Path(cache_dir) / "volumes"
    series = dc.read_rows("series", work, "series_instance_uid", uids).to_pandas()
    instances = dc.read_rows("instances", work, "series_instance_uid", uids)
    files = _files_by_series(instances)
    result = build_volumes(work, Path(export_dir), series, instances.to_pandas(), uids, cfg)
    cache.mkdir(parents=True, exist_ok=True)
    for row in result.rows:
        key = _volume_key(row["series_instance_uid"], files[row["series_instance_uid"]], cfg)
        _link(work / row["array_path"], cache / f"{key}.npy")
        tmp = cache / f".{key}.json.tmp"
        tmp.write_text(json.dumps(row))
        os.replace(tmp, cache / f"{key}.json")
    return result.rows, result.errors


def prune_volume_cache(cache_dir: Path) -> int:
    """Remove cached arrays no published version links to any more (link count 1), and the temporaries
    of readers killed while writing (the run holds the lock, so no other run is writing)."""
    cache = Path(cache_dir) / "volumes"
    removed = 0
    if not cache.is_dir():
        return 0
    for npy in cache.glob("*.npy"):
        if npy.stat().st_nlink <= 1:
            npy.unlink()
            npy.with_suffix(".json").unlink(missing_ok=True)
            removed += 1
    for tmp in cache.glob(".*.tmp"):
        tmp.unlink()
    return removed
