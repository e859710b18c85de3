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
import functools
import hashlib
import itertools
import json
import re
from pathlib import Path
from typing import Callable, Iterator

from mining.language import detect_language
from mining.sections import find_sections
from mining.text_clean import clean_text

#: Column names that serve each role, compared without case, spaces or punctuation ("Accession Number",
#: "accession_number", "Acc.-Nr."), in order of preference; English and German.
CANDIDATES = {
    "id": ["reportid", "id", "reportkey", "befundid", "berichtid"],
    "accession": ["accessionnumber", "accession", "accessionno", "accessionnr", "accno", "accnr", "acc"],
    "patient": ["patientid", "patient", "mrn", "pid", "patid", "patientenid", "patientennummer", "patnr"],
    "date": ["studydate", "date", "examdate", "reportdate", "untersuchungsdatum", "studiendatum", "befunddatum",
             "datum"],
    "text": ["text", "report", "reporttext", "body", "content", "befundtext", "bericht", "berichtstext"],
}
#: Sections whose columns, where an export splits its reports into them and has no whole-text column, are joined
#: under their headers into one text ("Findings" and "Impression" columns), in report order. History and technique
#: columns are not joined unless named: their header words ("Exam", "Study", "Dose") name other columns too.
JOINED_SECTIONS = ("COMPARISON", "FINDINGS", "IMPRESSION")
ROLE_OPTIONS = {"id": "--id-column", "accession": "--accession-column", "patient": "--patient-column",
                "date": "--date-column", "text": "--text-column"}
#: Study date formats: ISO, DICOM, German, and month names as databases print them ("05-MAR-24", Oracle's default)
_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d.%m.%Y", "%Y/%m/%d", "%d-%b-%Y", "%d-%b-%y", "%d %b %Y", "%d %B %Y",
                 "%b %d, %Y", "%B %d, %Y")
#: Day and month with a slash or dash ("03/04/2024"): month first (US) or day first (UK, most of Europe), as the
#: export's own dates show (`_day_first`).
_MONTH_FIRST = ("%m/%d/%Y", "%m-%d-%Y")
_DAY_FIRST = ("%d/%m/%Y", "%d-%m-%Y")
_SLASH_DATE = re.compile(r"\s*(\d{1,2})([/-])(\d{1,2})\2\d{4}\b")


def _norm(name: str) -> str:
    return re.sub(r"[\W_]+", "", str(name).casefold())


def _label(column: str) -> str:
    """A column's name as words ("clinical_history" -> "clinical history")."""
    return re.sub(r"[_\s]+", " ", str(column)).strip()


def _section_of(column: str) -> str | None:
    """The section a column's name heads as a report header line ("Findings", "Beurteilung": IMPRESSION), by the
    section rules; None when it is no header."""
    label = _label(column)
    secs = find_sections(f"{label}:\n.")
    return secs[0].name if secs and secs[0].header_end == len(label) + 1 else None


def _pick(columns: list[str], role: str, mapping: dict[str, str]) -> list[str]:
    """The column(s) serving `role`: the mapped one (for text, a comma-separated list is joined in the order given),
    else the first candidate present; for text without a whole-text column, the export's section columns."""
    if role in mapping:
        name = mapping[role]
        names = [name] if name in columns or role != "text" else [n.strip() for n in name.split(",") if n.strip()]
        missing = [n for n in names if n not in columns]
        if missing or not names:
            raise ValueError(f"column {(missing or [name])[0]!r} (for {role}) is not in the export; "
                             f"columns: {', '.join(columns)}")
        return names
    low = {}
    for c in columns:
        low.setdefault(_norm(c), c)
    for cand in CANDIDATES[role]:
        if cand in low:
            return [low[cand]]
    if role != "text":
        return []
    sections = [(JOINED_SECTIONS.index(s), i, c) for i, c in enumerate(columns)
                if (s := _section_of(c)) in JOINED_SECTIONS]
    return [c for _, _, c in sorted(sections)]


def describe_columns(roles: dict[str, list[str]], name: str | None = None) -> str:
    """One line naming the column each role is read from, and what a missing one costs matching; `name`: the file of a
    reports folder they are those of."""
    names = {"id": "report id", "date": "study date"}
    parts = [f"{names.get(role, role)} <- {' + '.join(repr(c) for c in cols)}" for role, cols in roles.items() if cols]
    if not roles.get("id"):
        parts.insert(0, "report id <- the accession number")
    missing = [role for role in ("accession", "patient", "date") if not roles.get(role)]
    if missing:
        if "accession" not in missing:
            cost = "a study is then found by accession number only"
        elif len(missing) == 1:
            cost = "a study is then found by patient and study date only"
        else:
            cost = "no report can be matched to its study: that needs the accession number, or the patient and date"
        parts.append(f"{', '.join(names.get(r, r) for r in missing)}: none ({cost}; "
                     f"{', '.join(ROLE_OPTIONS[r] for r in missing)} name{'s' if len(missing) == 1 else ''} "
                     f"{'it' if len(missing) == 1 else 'them'})")
    return ("columns: " if name is None else f"columns of {name}: ") + "; ".join(parts)


def _date(v, day_first: bool = False) -> dt.date | None:
    if v is None or v == "":
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    s = str(v).strip()
    for cand in (s, s[:10], s[:8], s.split(" ")[0], s[:11]):  # a time after the date: "05-MAR-2024 08:30"
        for fmt in _DATE_FORMATS + (_DAY_FIRST if day_first else _MONTH_FIRST):
            try:
                return dt.datetime.strptime(cand, fmt).date()
            except ValueError:
                continue
    return None


def _day_first(raw: Iterator[tuple[int, dict | None, str | None]], column: str) -> bool | None:
    """Whether the export writes day and month with a slash or dash day first: its first such date that only one
    order reads ("25/03/2024" day first, "03/25/2024" month first) decides; None when none does (all ambiguous).
    Looks at the first 10,000 rows at most: an export whose dates are ISO is not read through a second time."""
    for _, r, _ in itertools.islice(raw, 10_000):
        m = _SLASH_DATE.match(str(r.get(column) or "")) if r is not None else None
        if m and int(m.group(1)) > 12 >= int(m.group(3)):
            return True
        if m and int(m.group(3)) > 12 >= int(m.group(1)):
            return False
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


def _raw_rows(path: Path) -> tuple[list[str], Callable[[], Iterator[tuple[int, dict | None, str | None]]]]:
    """The export's columns and what opens a stream of (line or row number, record or None, problem or None): each
    call one more pass, the encoding and delimiter found once.

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

        return pf.schema_arrow.names, parquet_rows
    if suffix in (".jsonl", ".ndjson", ".json"):
        with open(path, "rb") as f:
            head = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(b"["):
            raise ValueError(f"{path} is one JSON array, not one JSON object a line; write it as JSON Lines: "
                             f"jq -c '.[]' {path.name} > {path.stem}.jsonl, "
                             "or pandas to_json(orient='records', lines=True)")
        cols: dict[str, None] = {}
        for _, rec, _ in _jsonl_records(path):
            if rec is not None:
                cols.update(dict.fromkeys(rec))
        return list(cols), lambda: _jsonl_records(path)
    # CSV (any other suffix), its delimiter sniffed
    encoding, errors = _csv_encoding(path)
    csv.field_size_limit(1 << 30)
    with open(path, encoding=encoding, errors=errors, newline="") as fh:
        delimiter, skip = _csv_dialect(fh, path)
        cols = list(csv.DictReader(fh, delimiter=delimiter).fieldnames or [])

    def csv_rows():
        """Records in strict CSV, each numbered by its first line in the file: a quote left open no longer swallows
        the records after it into one text; a broken record, or one with more fields than the header (a delimiter
        unquoted in a value shifts its columns), is a problem naming its lines, and the reading goes on."""
        with open(path, encoding=encoding, errors=errors, newline="") as fh:
            for _ in range(skip):
                fh.readline()
            reader = csv.DictReader(fh, delimiter=delimiter, strict=True)
            while True:
                start = max(reader.reader.line_num, 1) + 1 + skip  # the header is line 1 (after a "sep=" line, 2)
                try:
                    r = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    end = reader.reader.line_num + skip
                    lines = f"line {start}" if end <= start else f"lines {start}-{end}"
                    yield start, None, (f"{lines}: not valid CSV ({exc}); skipped: check the quotes in it")
                    continue
                if None in r:
                    yield start, None, (f"row {start}: {len(r[None])} more field(s) than the header's {len(cols)}: a "
                                        f"{delimiter!r} unquoted in a value shifts its columns; skipped")
                    continue
                yield start, r, None

    return cols, csv_rows


def _csv_dialect(fh, path: Path) -> tuple[str, int]:
    """(delimiter, lines before the header) of a CSV export, `fh` left at its header: Excel's "sep=;" line says it;
    a .tsv is tab-separated; else the one of , ; tab | that splits the header line into the most fields (German
    Excel writes ';', data warehouses '|')."""
    first = fh.readline()
    if first.lower().startswith("sep=") and len(first.rstrip("\r\n")) == 5:
        return first[4], 1
    fh.seek(0)
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t", 0
    fields = {d: len(next(csv.reader([first], delimiter=d), [])) for d in ",;\t|"}
    return max(fields, key=lambda d: (fields[d], d == ",")), 0


#: The files of a reports folder that are read, by suffix: the formats an export comes in.
EXPORT_SUFFIXES = (".csv", ".tsv", ".tab", ".jsonl", ".ndjson", ".json", ".parquet")


def _natural(name: str) -> list:
    """A sort key that orders the numbers in a name by value ("reports_2" before "reports_10")."""
    return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", name.casefold())]


def export_files(path: str | Path) -> tuple[list[Path], list[str]]:
    """The files a reports export is read from, newest first, and a message for each other entry of a folder. A file
    is itself; a folder (the nightly drop of daily export files) holds its CSV, TSV, JSONL and Parquet files, read
    last name first: daily exports are named by date, and where one report id is in several files, the one in the
    file last by name is kept (an amended report). Hidden files (a copy still being written) are passed over."""
    path = Path(path)
    if not path.is_dir():
        return [path], []
    files, others = [], []
    for p in sorted(path.iterdir(), key=lambda p: _natural(p.name), reverse=True):
        if p.name.startswith("."):
            continue
        if p.is_dir():
            others.append(f"{p.name}/: a folder in the reports folder; not read (only the folder's own files are)")
        elif p.suffix.lower() in EXPORT_SUFFIXES:
            files.append(p)
        else:
            suffix = p.suffix.lower()
            hint = ("; save it as CSV" if suffix in (".xlsx", ".xls", ".ods") else
                    "; unpack it into the folder" if suffix in (".gz", ".zip", ".bz2", ".xz", ".7z", ".tgz") else "")
            others.append(f"{p.name}: not a CSV, TSV, JSONL or Parquet reports export; not read{hint}")
    return files, sorted(others)


def iter_reports(path: str | Path, mapping: dict[str, str] | None = None, language: bool = True,
                 on_columns=None) -> Iterator[tuple[dict | None, str | None]]:
    """Report rows of an export (a file, or a folder of them: `export_files`) as a stream of (row, None) and
    (None, problem) pairs.

    Raises ValueError before the first row when a file export has no text column or no id column; in a folder such
    a file is a problem naming it, and the other files are read. With `language=False` rows carry language None
    (mining detects it; callers that mine only some rows skip the detection for the rest). `on_columns(roles,
    name)`, before a file's first row: the column(s) each role is read from (`describe_columns` words it); `name`
    is None for a file export, else the file's name, and a folder's later files are announced only where their
    columns differ. Slash dates are read day or month first as the file's own dates show (`_day_first`, a pass until
    one decides; a file whose dates do not decide reads them as the folder's first file whose dates do, else month
    first); a date that no format reads is a problem naming its row, which is kept without it. Memory: the ids seen
    so far, to skip repeats."""
    path = Path(path)
    files, others = export_files(path)
    folder = path.is_dir()
    for message in others:
        yield None, message
    if folder and not files:
        yield None, f"{path}: no CSV, TSV, JSONL or Parquet file in this reports folder"
        return
    reader = _Reader(files, folder, mapping or {}, language, on_columns)
    for k, f in enumerate(files):
        rows = reader.file_reports(k, f)
        if not folder:
            yield from rows
            continue
        try:
            for row, problem in rows:
                yield row, None if problem is None else f"{f.name}: {problem}"
        except ValueError as exc:
            yield None, f"{f.name}: {exc}; the rest of this file is not read"


class _Reader:
    """What reading the files of one export shares: the ids seen so far (report id -> the index of the file it was
    read from: a newer one, or this one for a repeat), the columns last announced, the folder's day-first order."""

    def __init__(self, files: list[Path], folder: bool, mapping: dict[str, str], language: bool, on_columns):
        self.files, self.folder, self.mapping = files, folder, mapping
        self.language, self.on_columns = language, on_columns
        self.seen: dict[str, int] = {}
        self.announced: dict[str, list[str]] | None = None

    @functools.cached_property
    def day_first(self) -> bool:
        """Day first for a file whose own dates do not decide: as the folder's first file whose dates do, else no."""
        for f in self.files if self.folder else ():
            try:
                cols, rows = _raw_rows(f)
                date = _roles(f, cols, self.mapping)["date"] if cols else []
            except ValueError:
                continue
            if date and (decided := _day_first(rows(), date[0])) is not None:
                return decided
        return False

    def file_reports(self, k: int, path: Path) -> Iterator[tuple[dict | None, str | None]]:
        """`iter_reports` of one file, the `k`-th read: a report id read from an earlier (newer) file is passed over."""
        cols, rows = _raw_rows(path)
        if not cols:
            problems = [p for _, _, p in rows() if p]
            for p in problems or ["no rows" if self.folder else f"{path}: no rows"]:
                yield None, p
            return
        c = _roles(path, cols, self.mapping)
        if self.on_columns is not None and c != self.announced:
            self.on_columns(c, path.name if self.folder else None)
        self.announced = c
        one = {role: names[0] if names else None for role, names in c.items()}
        decided = _day_first(rows(), one["date"]) if one["date"] else None
        day_first = self.day_first if decided is None else decided
        seen, language = self.seen, self.language
        for lineno, r, problem in rows():
            if r is None:
                yield None, problem
                continue
            rid, acc, patient = (_key(r.get(one[role])) if one[role] else None
                                 for role in ("id", "accession", "patient"))
            rid = rid or acc
            if rid is None:
                yield None, f"row {lineno}: no report id or accession number; skipped"
                continue
            if rid in seen:
                if seen[rid] == k:
                    hint = "" if one["id"] else \
                        " (an addendum or a new version? name a report id column with --id-column)"
                    yield None, f"row {lineno}: report id {rid!r} repeats an earlier row; skipped{hint}"
                continue  # else a newer file holds it
            text = _text(r, c["text"])
            seen[rid] = k
            raw_date = r.get(one["date"]) if one["date"] else None
            date = _date(raw_date, day_first)
            yield {
                "report_id": rid,
                "accession_number": acc,
                "patient_id": patient,
                "study_date": date,
                "language": detect_language(text) if language else None,
                "text": text,
                "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            }, None
            if date is None and (_str(raw_date) or "").strip():  # not blank, not NaN
                formats = _DATE_FORMATS + (_DAY_FIRST if day_first else _MONTH_FIRST)
                forms = "; ".join(dt.date(2024, 3, 25).strftime(f) for f in formats)
                yield None, (f"row {lineno}: study date {str(raw_date)[:40]!r} is in none of the forms read ({forms}: "
                             f"this export writes the {'day' if day_first else 'month'} first); kept without a date")


def report_columns(path: str | Path, mapping: dict[str, str] | None = None) -> dict[str, list[str]]:
    """The column(s) each role would be read from (empty for an export without rows); ValueError as `iter_reports`
    raises it. Of a folder: those of its newest file (`export_files`), an empty folder's none. Reads a Parquet file's
    schema; a CSV file's encoding is found over the whole file, a JSONL file's columns over every line."""
    files, _ = export_files(path)
    if not files:
        return {}
    cols, _ = _raw_rows(files[0])
    return _roles(files[0], cols, mapping or {}) if cols else {}


def report_count(path: str | Path) -> int:
    """How many records the export holds (rows of CSV or Parquet, non-blank lines of JSONL; of a folder, of all its
    files): a progress bar's total. Parquet's is in its footer; a CSV or JSONL file is read through once more."""
    total = 0
    for f in export_files(path)[0]:
        if f.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            total += pq.ParquetFile(f).metadata.num_rows
            continue
        cols, rows = _raw_rows(f)
        total += sum(1 for _ in rows()) if cols else 0
    return total


def _roles(path: Path, cols: list[str], mapping: dict[str, str]) -> dict[str, list[str]]:
    c = {role: _pick(cols, role, mapping) for role in CANDIDATES}
    if not c["text"]:
        raise ValueError(f"no text column in {path} (columns: {', '.join(cols)}); name it with --text-column "
                         "(several, comma-separated, are joined under their names as section headers)")
    if not c["id"] and not c["accession"]:
        raise ValueError(f"no id or accession column in {path} (columns: {', '.join(cols)}); name one with --id-column")
    return c


def _key(v) -> str | None:
    """An identifier as text; None when empty. A whole float is written as an integer: pandas stores an integer
    column with gaps as floats, and "1234567.0" would match no DICOM AccessionNumber."""
    if v is None or v == "" or v != v:  # v != v: NaN
        return None
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _text(r: dict, columns: list[str]) -> str:
    """The row's cleaned report text: its one text column, or its section columns joined, each non-empty one under
    its name as a header line ("FINDINGS:\n...\n\nIMPRESSION:\n...")."""
    if len(columns) == 1:
        return clean_text(_str(r.get(columns[0])))
    parts = []
    for col in columns:
        body = clean_text(_str(r.get(col))).strip()
        if body:
            parts.append(f"{_label(col).upper()}:\n{body}")
    return "\n\n".join(parts)


def _str(v) -> str | bytes | None:
    """A text cell as text; None for a missing one (NaN, as pandas writes an empty cell, is no text "nan")."""
    if v is None or isinstance(v, (str, bytes)):
        return v
    return None if v != v else str(v)


def read_reports(path: str | Path, mapping: dict[str, str] | None = None) -> tuple[list[dict], list[str]]:
    """All report rows of an export and the problems of single rows (see `iter_reports`)."""
    rows, problems = [], []
    for row, problem in iter_reports(path, mapping):
        if row is None:
            problems.append(problem)
        else:
            rows.append(row)
    return rows, problems
