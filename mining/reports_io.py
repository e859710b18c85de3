"""Read a reports export (CSV, JSONL or Parquet) into report rows, with a column mapping.

Rows come back as dicts with report_id, accession_number, patient_id, study_date, text
(cleaned: decoded, markup stripped), language and text_sha256 — the `reports` contract.
Problems with single rows are reported, not raised: `read_reports` returns (rows, problems),
each problem a one-line message naming the row.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from pathlib import Path

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


def _raw_rows(path: Path) -> tuple[list[str], list[tuple[int, dict | None, str | None]]]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        t = pq.read_table(path)
        return t.column_names, [(i + 1, r, None) for i, r in enumerate(t.to_pylist())]
    if suffix in (".jsonl", ".ndjson", ".json"):
        rows, cols = [], []
        with open(path, "rb") as f:
            for lineno, raw in enumerate(f, 1):
                if not raw.strip():
                    continue
                try:
                    rec = json.loads(raw.decode("utf-8", errors="replace"))
                    if not isinstance(rec, dict):
                        raise ValueError("not a JSON object")
                except ValueError as exc:
                    rows.append((lineno, None, f"line {lineno}: not a JSON object ({str(exc)[:80]}); skipped"))
                    continue
                for k in rec:
                    if k not in cols:
                        cols.append(k)
                rows.append((lineno, rec, None))
        return cols, rows
    # CSV (any other suffix)
    data = path.read_bytes()
    from mining.text_clean import decode

    text = decode(data)
    csv.field_size_limit(1 << 30)
    reader = csv.DictReader(text.splitlines(keepends=True))
    cols = list(reader.fieldnames or [])
    return cols, [(i + 2, r, None) for i, r in enumerate(reader)]


def read_reports(path: str | Path, mapping: dict[str, str] | None = None) -> tuple[list[dict], list[str]]:
    path = Path(path)
    mapping = mapping or {}
    cols, raw = _raw_rows(path)
    problems = [p for _, _, p in raw if p]
    if not cols:
        return [], problems or [f"{path}: no rows"]
    c = {role: _pick(cols, role, mapping) for role in CANDIDATES}
    if c["text"] is None:
        raise ValueError(f"no text column in {path} (columns: {', '.join(cols)}); name it with --text-column")
    if c["id"] is None and c["accession"] is None:
        raise ValueError(f"no id or accession column in {path} (columns: {', '.join(cols)}); name one with --id-column")
    out, seen = [], set()
    for lineno, r, _ in raw:
        if r is None:
            continue
        rid = r.get(c["id"]) if c["id"] else None
        acc = r.get(c["accession"]) if c["accession"] else None
        rid = rid if rid not in (None, "") else acc
        if rid in (None, ""):
            problems.append(f"row {lineno}: no report id or accession number; skipped")
            continue
        rid = str(rid)
        if rid in seen:
            problems.append(f"row {lineno}: report id {rid!r} repeats an earlier row; skipped")
            continue
        raw_text = r.get(c["text"])
        if not isinstance(raw_text, (str, bytes)) and raw_text is not None:
            raw_text = str(raw_text)
        text = clean_text(raw_text)
        seen.add(rid)
        out.append({
            "report_id": rid,
            "accession_number": None if acc in (None, "") else str(acc),
            "patient_id": (str(r.get(c["patient"])) if c["patient"] and r.get(c["patient"]) not in (None, "") else None),
            "study_date": _date(r.get(c["date"])) if c["date"] else None,
            "language": detect_language(text),
            "text": text,
            "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        })
    return out, problems
