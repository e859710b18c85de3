"""Read a reports export (CSV, JSONL or Parquet) into report rows, with a column mapping.

Rows come back as dicts with report_id, accession_number, patient_id, study_date, text
(cleaned: decoded, markup stripped), language and text_sha256 — the `reports` contract.
Problems with single rows are reported, not raised: `iter_reports` streams (row, problem)
pairs, `read_reports` collects them as (rows, problems), each problem a one-line message
naming the row.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Iterator

from mining.language import detect_language
from mining.text_clean import clean_text

CANDIDATES = {
    "id": ["report_id", "id", "reportid", "report_key"],
    "accession": ["accession_number", "accession", "accessionnumber", "acc", "acc_no"],
    "patient": ["patient_id", "patientid", "patient", "mrn", "pid"],
    "date": ["study_date", "studydate", "date", "exam_date", "report_date"],
    "text": ["text", "report", "report_text", "reporttext", "body", "findings", "content"],
}


def _pick(columns: list[str], role: str, mapping: dict[str, str]) -> str | None:
    if role in mapping:
        if mapping[role] not in columns:
            raise ValueError(f"column {mapping[role]!r} (for {role}) is not in the export; columns: {', '.join(columns)}")
        return mapping[role]
    low = {c.lower(): c for c in columns}
    for cand in CANDIDATES[role]:
        if cand in low:
            return low[cand]
    return None


def _date(v) -> dt.date | None:
    if v is None or v == "":
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    s = str(v).strip()
    for cand in (s, s[:10], s[:8]):
        for fmt in ("%Y-%m-%d", "%Y%m%d", "%d.%m.%Y", "%m/%d/%Y", "%Y/%m/%d"):
            try:
                return dt.datetime.strptime(cand, fmt).date()
            except ValueError:
                continue
    return None


def _csv_encoding(path: Path) -> tuple[str, str]:
    """The encoding `text_clean.decode` would pick for the whole file, found by streaming it."""
    import codecs

    for enc in ("utf-8-sig", "cp1252"):
        dec = codecs.getincrementaldecoder(enc)()
        try:
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    dec.decode(chunk)
            dec.decode(b"", final=True)
            return enc, "strict"
        except UnicodeDecodeError:
            continue
    return "utf-8", "replace"


def _jsonl_records(path: Path) -> Iterator[tuple[int, dict | None, str | None]]:
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw.decode("utf-8", errors="replace"))
                if not isinstance(rec, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                yield lineno, None, f"line {lineno}: not a JSON object ({str(exc)[:80]}); skipped"
                continue
            yield lineno, rec, None


def _raw_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict | None, str | None]]]:
    """The export's columns and a stream of (line or row number, record or None, problem or None).

    Nothing holds the whole export: Parquet is read in record batches, CSV is decoded as a
    stream (its encoding found by a first pass), and JSONL is read twice (the first pass
    collects the keys of every line, which name the columns)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)

        def parquet_rows():
            n = 0
            for batch in pf.iter_batches(batch_size=1024):
                for r in batch.to_pylist():
                    n += 1
                    yield n, r, None

        return pf.schema_arrow.names, parquet_rows()
    if suffix in (".jsonl", ".ndjson", ".json"):
        cols: dict[str, None] = {}
        for _, rec, _ in _jsonl_records(path):
            if rec is not None:
                cols.update(dict.fromkeys(rec))
        return list(cols), _jsonl_records(path)
    # CSV (any other suffix)
    encoding, errors = _csv_encoding(path)
    csv.field_size_limit(1 << 30)
    with open(path, encoding=encoding, errors=errors, newline="") as fh:
        cols = list(csv.DictReader(fh).fieldnames or [])

    def csv_rows():
        with open(path, encoding=encoding, errors=errors, newline="") as fh:
            for i, r in enumerate(csv.DictReader(fh)):
                yield i + 2, r, None

    return cols, csv_rows()


def iter_reports(path: str | Path, mapping: dict[str, str] | None = None,
                 language: bool = True) -> Iterator[tuple[dict | None, str | None]]:
    """Report rows of an export as a stream of (row, None) and (None, problem) pairs.

    Raises ValueError at once when the export has no text column or no id column. With
    `language=False` rows carry language None (mining detects it; callers that mine only
    some rows skip the detection for the rest). Memory: the ids seen so far, to skip repeats.
    """
    path = Path(path)
    mapping = mapping or {}
    cols, raw = _raw_rows(path)
    if not cols:
        problems = [p for _, _, p in raw if p]
        for p in problems or [f"{path}: no rows"]:
            yield None, p
        return
    c = {role: _pick(cols, role, mapping) for role in CANDIDATES}
    if c["text"] is None:
        raise ValueError(f"no text column in {path} (columns: {', '.join(cols)}); name it with --text-column")
    if c["id"] is None and c["accession"] is None:
        raise ValueError(f"no id or accession column in {path} (columns: {', '.join(cols)}); name one with --id-column")
    seen: set[str] = set()
    for lineno, r, problem in raw:
        if r is None:
            yield None, problem
            continue
        rid = r.get(c["id"]) if c["id"] else None
        acc = r.get(c["accession"]) if c["accession"] else None
        rid = rid if rid not in (None, "") else acc
        if rid in (None, ""):
            yield None, f"row {lineno}: no report id or accession number; skipped"
            continue
        rid = str(rid)
        if rid in seen:
            yield None, f"row {lineno}: report id {rid!r} repeats an earlier row; skipped"
            continue
        raw_text = r.get(c["text"])
        if not isinstance(raw_text, (str, bytes)) and raw_text is not None:
            raw_text = str(raw_text)
        text = clean_text(raw_text)
        seen.add(rid)
        yield {
            "report_id": rid,
            "accession_number": None if acc in (None, "") else str(acc),
            "patient_id": (str(r.get(c["patient"])) if c["patient"] and r.get(c["patient"]) not in (None, "") else None),
            "study_date": _date(r.get(c["date"])) if c["date"] else None,
            "language": detect_language(text) if language else None,
            "text": text,
            "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        }, None


def read_reports(path: str | Path, mapping: dict[str, str] | None = None) -> tuple[list[dict], list[str]]:
    """All report rows of an export and the problems of single rows (see `iter_reports`)."""
    rows, problems = [], []
    for row, problem in iter_reports(path, mapping):
        if row is None:
            problems.append(problem)
        else:
            rows.append(row)
    return rows, problems
