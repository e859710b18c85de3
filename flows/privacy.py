"""Pseudonymise and scrub the tables of a version before it is published.

The pipeline works on real identifiers (matching needs them) and writes its finished tables
into the version folder it is building. `protect_version(version_dir)` is called last,
just before the version is renamed into place:

1. every table `<name>.parquet` moves to `<version>/.identified/<name>.parquet` (dot folders
   are not tables: `radmine query`, `stats`, export and training never see them); the next
   run's incremental carry-over reads from there (`identified_dir`), so pseudonyms are never
   pseudonymised twice;
2. a protected copy is written in its place through `data_contracts.TableWriter` (contract
   checked), batch by batch so memory stays bounded:
   identifiers -> keyed pseudonyms, dates shifted per patient (data_contracts.pseudonym);
   report text, snippets, hints, rejection details, error messages -> scrubbed by the rules
   of mining.deid, UIDs inside text -> their uid_ pseudonyms; offsets into reports.text
   remapped through the scrubbing and ref_text / evidence_text re-cut; text_sha256
   recomputed over the published text.

A table kept in parts (`<name>/part-*.parquet`, see data_contracts.io) is protected part by
part. A part the run carried unchanged from `previous` (the same file, hard-linked) keeps
that version's protected copy, linked too, when both were protected under the same key
(`.identified/KEY_FINGERPRINT` holds an HMAC of a fixed text, never the key): pseudonyms,
date shifts and the text rules are functions of the key and the row, so the copy is what
protecting the part again would write. Only new and rewritten parts cost time.

With keep_identifiers the tables stay as they are (the runs table records it). The function
is idempotent: run again on the same folder it rebuilds the protected copies from
`.identified/`. It returns a summary for the run's counts: placeholders by kind, texts
changed, columns pseudonymised, parts protected and parts carried.

Note: the `.identified/` folder holds real identifiers; it lives inside the data folder,
which therefore stays as private as the export. Share versions through `radmine export`
(or by copying the *.parquet files and the instances/ folder of parts), never the data folder
as a whole.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from collections import Counter
from pathlib import Path

IDENTIFIED = ".identified"
KEY_FINGERPRINT = "KEY_FINGERPRINT"
BATCH_ROWS = 20_000
SKIP_TABLES = ("runs",)  # written after protection; holds options, counts and run ids only


def identified_dir(version_dir: str | os.PathLike) -> Path:
    """Where the real-identifier tables of a version are kept (for the next run's carry-over)."""
    return Path(version_dir) / IDENTIFIED


def identified_table_path(version_dir: str | os.PathLike, name: str) -> Path:
    """The table a later run should carry rows from: the identified copy when there is one."""
    p = identified_dir(version_dir) / f"{name}.parquet"
    return p if p.exists() else Path(version_dir) / f"{name}.parquet"


def identified_table_dir(version_dir: str | os.PathLike, name: str) -> Path:
    """The folder holding the identified copy of table `name` (one file or parts): `.identified/`
    when the version was protected, else the version folder itself."""
    from data_contracts.io import table_files

    ident = identified_dir(version_dir)
    return ident if table_files(name, ident) else Path(version_dir)


class TextProtector:
    """Scrub free text with mining.deid; UIDs in text become their pseudonyms. Memoised, bounded."""

    def __init__(self, pz):
        from mining import deid

        self.deid = deid
        self.pz = pz
        self.counts: Counter = Counter()
        self.changed = 0
        self._memo: dict[str, str] = {}

    def _replace(self, kind: str, value: str):
        return self.pz.uid(value) if kind == "UID" else None

    def scrub(self, text: str | None):
        """The scrubbed text and its offset map (mining.deid.Scrubbed)."""
        s = self.deid.scrub(text, replace=self._replace)
        if s is not None and s.spans:
            self.counts.update(s.counts)
            self.changed += 1
        return s

    def text(self, text: str | None) -> str | None:
        if text is None or text == "":
            return text
        hit = self._memo.get(text)
        if hit is None:
            s = self.deid.scrub(text, replace=self._replace)
            hit = (s.text, s.counts)
            if len(self._memo) < 100_000:
                self._memo[text] = hit
        if hit[1]:  # count repeats too: the summary counts placeholders written
            self.counts.update(hit[1])
            self.changed += 1
        return hit[0]


class ReportMaps:
    """Offset maps of scrubbed reports by report id, for the tables protected after `reports`.

    The first `in_memory` maps stay in a dict; the rest go to a SQLite file in a temporary
    folder (pickled maps: spans and placeholders, never the original text), so protecting a
    million reports keeps memory bounded. Lookups come in report order (tables are sorted by
    report id), so the last map read is kept."""

    def __init__(self, in_memory: int = 50_000):
        self.in_memory = in_memory
        self._mem: dict = {}
        self._db = None
        self._dir = None
        self._last: tuple = (None, None)

    def __setitem__(self, report_id: str, scrubbed) -> None:
        if len(self._mem) < self.in_memory:
            self._mem[report_id] = scrubbed
            return
        import pickle

        if self._db is None:
            import sqlite3
            import tempfile

            self._dir = tempfile.TemporaryDirectory(prefix="radmine-report-maps-")
            self._db = sqlite3.connect(os.path.join(self._dir.name, "maps.sqlite"))
            self._db.execute("PRAGMA journal_mode=OFF")
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.execute("CREATE TABLE maps (report_id TEXT PRIMARY KEY, map BLOB)")
        self._db.execute("INSERT OR REPLACE INTO maps VALUES (?, ?)", (report_id, pickle.dumps(scrubbed, protocol=5)))

    def get(self, report_id: str):
        hit = self._mem.get(report_id)
        if hit is not None or self._db is None:
            return hit
        if self._last[0] != report_id:
            import pickle

            row = self._db.execute("SELECT map FROM maps WHERE report_id = ?", (report_id,)).fetchall()
            self._last = (report_id, pickle.loads(row[0][0]) if row else None)
        return self._last[1]

    def __len__(self) -> int:
        n = len(self._mem)
        if self._db is not None:
            n += self._db.execute("SELECT count(*) FROM maps").fetchall()[0][0]
        return n

    def clear(self) -> None:
        self._mem.clear()
        self._last = (None, None)
        if self._db is not None:
            self._db.close()
            self._db = None
            self._dir.cleanup()


def protect_batch(name: str, table, pz, tp: TextProtector, report_maps):
    """Protect one pyarrow table (batch) of contract `name`; `report_maps` (a dict or ReportMaps)
    collects/serves report offset maps."""
    import pyarrow as pa

    from data_contracts import pseudonym as ps

    kinds = ps.column_kinds(name)
    cols = {c: table.column(c).to_pylist() for c in table.column_names
            if kinds.get(c, ps.KEEP) in ps.TEXT_KINDS}
    out = {}
    if name == "reports" and "text" in table.column_names:
        ids = table.column("report_id").to_pylist()
        texts, hashes = [], []
        for rid, text in zip(ids, cols["text"]):
            s = tp.scrub(text)
            if s is None:
                texts.append(None)
                hashes.append(None)
                continue
            texts.append(s.text)
            hashes.append(hashlib.sha256(s.text.encode("utf-8")).hexdigest())
            if s.spans:
                s.text = ""  # keep only the offset map: slices are re-cut from their own text
                report_maps[rid] = s
        out["text"] = texts
        if "text_sha256" in table.column_names:
            out["text_sha256"] = hashes
    for start_col, end_col, slice_col in ps.OFFSET_SPANS.get(name, []):
        if start_col not in table.column_names:
            continue
        ids = table.column("report_id").to_pylist()
        starts, ends = table.column(start_col).to_pylist(), table.column(end_col).to_pylist()
        new_s, new_e, new_slice = [], [], []
        old_slices = table.column(slice_col).to_pylist() if slice_col and slice_col in table.column_names else None
        for i, rid in enumerate(ids):
            m = report_maps.get(rid)
            a, b = starts[i], ends[i]
            if m is not None and a is not None and b is not None:
                a, b = m.map_start(a), m.map_end(b)
                new_s.append(a)
                new_e.append(max(a, b))
                if old_slices is not None:
                    old = old_slices[i]
                    # re-cut from the slice itself, then scrub it again in case it was not the exact substring
                    new_slice.append(None if old is None else tp.text(m.cut(old, starts[i], ends[i])))
            else:
                new_s.append(a)
                new_e.append(b)
                if old_slices is not None:
                    new_slice.append(tp.text(old_slices[i]))
        out[start_col], out[end_col] = new_s, new_e
        if old_slices is not None:
            out[slice_col] = new_slice
    for col, values in cols.items():
        if col in out:
            continue
        kind = kinds[col]
        if kind == "text":
            out[col] = [tp.text(v) for v in values]
        elif kind == "message":
            paths = table.column("path").to_pylist() if "path" in table.column_names else [None] * len(values)
            fixed = []
            for v, p in zip(values, paths):
                if v is not None and p:
                    v = v.replace(p, pz.token("path", p))
                fixed.append(tp.text(v))
            out[col] = fixed
    arrays = [pa.array(out[c], type=table.schema.field(c).type) if c in out else table.column(c)
              for c in table.column_names]
    table = pa.Table.from_arrays(arrays, schema=table.schema)
    return ps.pseudonymise_table(name, table, pz)


# reports first: its offset maps serve references and labels
_ORDER = ("reports", "references", "labels")


def _tables_in(folder: Path, known: set) -> set[str]:
    from data_contracts.io import PART_GLOB

    names = {p.stem for p in folder.glob("*.parquet")}
    names |= {p.name for p in folder.iterdir() if p.is_dir() and any(p.glob(PART_GLOB))} if folder.is_dir() else set()
    return {n for n in names if n in known}


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:  # no hard links here: a copy is the same table
        shutil.copy2(src, dst)


def _protect_file(name: str, src: Path, version_dir: Path, part: str | None, pz, tp, report_maps, batch_rows) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from data_contracts import TableWriter

    pf = pq.ParquetFile(src)
    with TableWriter(name, version_dir, part=part) as out:
        wrote = False
        for batch in pf.iter_batches(batch_size=batch_rows):
            out.write(protect_batch(name, pa.Table.from_batches([batch]), pz, tp, report_maps))
            wrote = True
        if not wrote:
            out.write(pf.schema_arrow.empty_table())


def protect_version(version_dir: str | os.PathLike, keep_identifiers: bool = False, pz=None,
                    batch_rows: int = BATCH_ROWS, previous: str | os.PathLike | None = None,
                    maps_in_memory: int = 50_000) -> dict:
    """Pseudonymise and scrub every table of `version_dir` in place (see the module docstring).

    maps_in_memory: report offset maps held in memory before they spill to disk (ReportMaps).

    previous: the version this one was built from; its protected copies of parts carried
    unchanged are re-used (linked) when it was protected under the same key."""
    from data_contracts import contract_names
    from data_contracts import pseudonym as ps
    from data_contracts.io import PART_GLOB

    version_dir = Path(version_dir)
    if keep_identifiers:
        return {"keep_identifiers": True}
    pz = pz or ps.Pseudonymizer.from_environment()
    ident = identified_dir(version_dir)
    ident.mkdir(exist_ok=True)
    known = set(contract_names())
    names = sorted((_tables_in(version_dir, known) | _tables_in(ident, known)) - set(SKIP_TABLES))
    names.sort(key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n))
    for name in names:  # step 1: keep the identified copy (idempotent)
        src, parts = version_dir / f"{name}.parquet", version_dir / name
        if src.is_file() and not (ident / f"{name}.parquet").exists():
            os.replace(src, ident / f"{name}.parquet")
        elif parts.is_dir() and any(parts.glob(PART_GLOB)) and not (ident / name).exists():
            os.replace(parts, ident / name)
    fingerprint = pz.fingerprint()
    prev = Path(previous) if previous else None
    reuse = prev is not None and (identified_dir(prev) / KEY_FINGERPRINT).is_file() and \
        (identified_dir(prev) / KEY_FINGERPRINT).read_text().strip() == fingerprint
    tp = TextProtector(pz)
    report_maps = ReportMaps(maps_in_memory)
    columns: dict[str, list[str]] = {}
    parts_protected = parts_carried = 0
    try:
        for name in names:  # step 2: protected copies, batch by batch (part by part)
            kinds = ps.column_kinds(name)
            columns[name] = sorted(c for c, k in kinds.items() if k != ps.KEEP)
            if (ident / f"{name}.parquet").is_file():
                _protect_file(name, ident / f"{name}.parquet", version_dir, None, pz, tp, report_maps, batch_rows)
            else:
                for src in sorted((ident / name).glob(PART_GLOB)):
                    part = src.stem[len("part-"):]
                    done = version_dir / name / src.name
                    if reuse and _same_file(src, identified_dir(prev) / name / src.name) and (prev / name / src.name).is_file():
                        _link_or_copy(prev / name / src.name, done)  # protected before, from this very file
                        parts_carried += 1
                    else:
                        _protect_file(name, src, version_dir, part, pz, tp, report_maps, batch_rows)
                        parts_protected += 1
            if name == "labels":
                report_maps.clear()  # last user of the maps
    finally:
        report_maps.clear()
    tmp = ident / f".{KEY_FINGERPRINT}.tmp"
    tmp.write_text(fingerprint + "\n")
    os.replace(tmp, ident / KEY_FINGERPRINT)
    return {"keep_identifiers": False, "scrubbed": dict(sorted(tp.counts.items())),
            "texts_scrubbed": tp.changed, "pseudonymised_columns": columns,
            "parts_protected": parts_protected, "parts_carried": parts_carried}


def unprotected_copy(version_dir: str | os.PathLike, dest: str | os.PathLike) -> None:
    """Copy the identified tables of a version to `dest` (for deployments allowed to keep them)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for p in identified_dir(version_dir).glob("*.parquet"):
        shutil.copy2(p, dest / p.name)
    for p in identified_dir(version_dir).iterdir():
        if p.is_dir():  # a table in parts
            shutil.copytree(p, dest / p.name, dirs_exist_ok=True)
