"""`radmine audit`: look for identifiers left in the published tables.

Every string column of every published table (the CURRENT version) is scanned:

* identifier columns (data_contracts.pseudonym.COLUMN_KINDS: patient, accession, uid, report,
  pair, path) must hold pseudonyms of their kind; any other value counts as a leaked
  PATIENT_ID, ACCESSION, UID, REPORT_ID, PAIR_ID or PATH;
* every other string column (report text, snippets, hints, details, messages, descriptions,
  run inputs) is searched with the scrubbing rules of mining.deid (NAME, DATE, PHONE, MRN,
  ADDRESS, AGE, EMAIL, UID); placeholders and pseudonyms do not count.

The result counts findings by kind and by table.column, and names rows, never values (an
audit log must not become a leak of its own). Tables are read in batches; distinct values
are scanned once.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

LEAK_KIND = {"patient": "PATIENT_ID", "accession": "ACCESSION", "uid": "UID", "report": "REPORT_ID",
             "pair": "PAIR_ID", "path": "PATH"}
# string columns that are metadata of the run, not data about people
SKIP = {("runs", "run_id"), ("runs", "counts"), ("runs", "radmine_version"), ("runs", "status")}
BATCH_ROWS = 50_000


@dataclass
class AuditResult:
    data_dir: str
    tables: list[str] = field(default_factory=list)
    rows_scanned: int = 0
    by_kind: Counter = field(default_factory=Counter)
    by_column: dict[str, Counter] = field(default_factory=dict)
    first_rows: dict[str, int] = field(default_factory=dict)  # "table.column" -> first row with a finding
    keep_identifiers_runs: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.by_kind

    def as_dict(self) -> dict:
        return {"data_dir": self.data_dir, "clean": self.clean, "tables": self.tables,
                "rows_scanned": self.rows_scanned, "by_kind": dict(sorted(self.by_kind.items())),
                "by_column": {k: dict(sorted(v.items())) for k, v in sorted(self.by_column.items())},
                "first_rows": self.first_rows, "keep_identifiers_runs": self.keep_identifiers_runs}


def audit(data_dir: str | os.PathLike, tables: list[str] | None = None) -> AuditResult:
    """Scan the published tables of `data_dir` for identifier-like content."""
    import pyarrow.parquet as pq

    from data_contracts import contract_names, current_dir
    from data_contracts import pseudonym as ps
    from data_contracts.io import table_files

    root = current_dir(data_dir)
    result = AuditResult(str(data_dir))
    known = set(contract_names())
    files_of = {n: table_files(n, root) for n in sorted(known)}  # one file, or a table's parts
    names = [n for n, files in files_of.items() if files]
    if tables:
        names = [n for n in names if n in tables]
    result.tables = names
    memo: dict[tuple[str, str], Counter] = {}
    for name in names:
        kinds = ps.column_kinds(name)
        offset = 0  # rows counted in file (part) order
        for path in files_of[name]:
            offset = _scan_file(result, name, pq.ParquetFile(path), kinds, offset, memo)
    if "runs" in names:
        runs = pq.read_table(root / "runs.parquet", columns=["run_id", "keep_identifiers"]).to_pylist()
        result.keep_identifiers_runs = [r["run_id"] for r in runs if r["keep_identifiers"]]
    return result


def _scan_file(result: AuditResult, name: str, pf, kinds: dict, offset: int, memo: dict) -> int:
    """Scan one Parquet file of table `name` into `result`; returns `offset` plus its rows."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from data_contracts import pseudonym as ps
    from mining import deid

    string_cols = [f.name for f in pf.schema_arrow
                   if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)) and (name, f.name) not in SKIP]
    batches = pf.iter_batches(batch_size=BATCH_ROWS, columns=string_cols) if string_cols else iter(())
    for batch in batches:
        for col in string_cols:
            arr = batch.column(col)
            kind = kinds.get(col, ps.KEEP)
            vc = pc.value_counts(arr)
            values, counts = vc.field("values").to_pylist(), vc.field("counts").to_pylist()
            found = Counter()
            for v, n in zip(values, counts):
                if v is None or v == "":
                    continue
                if kind in ps.ID_KINDS:
                    hit = Counter() if ps.is_pseudonym(kind, v) else Counter({LEAK_KIND[kind]: 1})
                else:
                    key = ("text", v)
                    hit = memo.get(key)
                    if hit is None:
                        hit = deid.detect(v)
                        if len(memo) < 200_000:
                            memo[key] = hit
                for k, c in hit.items():
                    found[k] += c * n
            if found:
                where = f"{name}.{col}"
                result.by_column.setdefault(where, Counter()).update(found)
                result.by_kind.update(found)
                if where not in result.first_rows:
                    result.first_rows[where] = offset + _first_row(arr, kind, deid, ps)
        offset += batch.num_rows
    result.rows_scanned += pf.metadata.num_rows
    return offset


def _first_row(arr, kind, deid, ps) -> int:
    for i, v in enumerate(arr.to_pylist()):
        if not v:
            continue
        if kind in ps.ID_KINDS:
            if not ps.is_pseudonym(kind, v):
                return i
        elif deid.detect(v):
            return i
    return 0


def report_text(result: AuditResult) -> str:
    """A short human report: counts by kind, then by column with the first row holding one."""
    if result.clean:
        return (f"audit: no identifier-like content in {len(result.tables)} tables "
                f"({result.rows_scanned:,} rows) of {result.data_dir}")
    lines = [f"audit: identifier-like content found in {result.data_dir}:"]
    lines += [f"  {k:<11} {n:>10,}" for k, n in sorted(result.by_kind.items())]
    lines.append("by column (first row with a finding):")
    for where, c in sorted(result.by_column.items()):
        lines.append(f"  {where} (row {result.first_rows.get(where, 0)}): " + ", ".join(f"{k} {n:,}" for k, n in sorted(c.items())))
    if result.keep_identifiers_runs:
        lines.append(f"runs with --keep-identifiers: {', '.join(result.keep_identifiers_runs)}")
    return "\n".join(lines)
