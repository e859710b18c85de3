"""Reading report exports (CSV, JSONL, Parquet) as a stream: columns, encodings, bad rows."""
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mining.reports_io import iter_reports, read_reports

ROWS = [{"accession": "A1", "MRN": "P1", "exam_date": "2024-03-01", "report": "Nodule (3:45). Größe 5 mm."},
        {"accession": "A2", "MRN": "P2", "exam_date": "01.04.2024", "report": "Keine Auffälligkeiten."}]


def write(tmp_path, kind: str, rows=ROWS):
    if kind == "parquet":
        p = tmp_path / "r.parquet"
        pq.write_table(pa.Table.from_pylist(rows), p, row_group_size=1)
    elif kind == "jsonl":
        p = tmp_path / "r.jsonl"
        p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    else:
        import csv
        import io

        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
        p = tmp_path / "r.csv"
        p.write_bytes(buf.getvalue().encode(kind))
    return p


@pytest.mark.parametrize("kind", ["parquet", "jsonl", "utf-8", "utf-8-sig", "cp1252"])
def test_every_format_and_encoding_gives_the_same_rows(tmp_path, kind):
    rows, problems = read_reports(write(tmp_path, kind))
    assert problems == []
    assert [r["report_id"] for r in rows] == ["A1", "A2"]
    assert [r["patient_id"] for r in rows] == ["P1", "P2"]
    assert [str(r["study_date"]) for r in rows] == ["2024-03-01", "2024-04-01"]
    assert rows[0]["text"] == "Nodule (3:45). Größe 5 mm." and rows[1]["text"] == "Keine Auffälligkeiten."
    assert rows[1]["language"] == "de"


def test_jsonl_columns_come_from_every_line_and_bad_lines_are_named(tmp_path):
    p = tmp_path / "r.jsonl"
    lines = ['{"id": "a", "text": "Nodule (3:45)."}', "{not json", "[1, 2]", "",
             '{"id": "a", "text": "again"}', '{"text": "no id"}', '{"id": "b", "text": "x", "mrn": "late column"}']
    p.write_text("\n".join(lines) + "\n")
    got = list(iter_reports(p, language=False))
    rows = [r for r, _ in got if r]
    problems = [m for r, m in got if r is None]
    assert [(r["report_id"], r["patient_id"], r["language"]) for r in rows] == [("a", None, None), ("b", "late column", None)]
    assert [m.split(":")[0] for m in problems] == ["line 2", "line 3", "row 5", "row 6"]
    assert "repeats an earlier row" in problems[2] and "no report id" in problems[3]


def test_csv_not_utf8_is_read_as_windows_1252_even_when_the_bad_byte_is_late(tmp_path):
    rows = [{"id": f"r{i}", "text": "plain ascii " * 50} for i in range(3000)] + [{"id": "last", "text": "Größe"}]
    p = write(tmp_path, "cp1252", rows)
    assert p.stat().st_size > 1 << 20  # the bad byte sits past the first chunk the encoding pass reads
    got, problems = read_reports(p)
    assert not problems and got[-1]["text"] == "Größe" and len(got) == 3001


def test_missing_text_column_is_a_clear_error(tmp_path):
    p = write(tmp_path, "jsonl", [{"id": "a", "body_text": "x"}])
    with pytest.raises(ValueError, match="no text column.*--text-column"):
        read_reports(p)
