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
    assert "--id-column" not in problems[2]  # the id column is named: no hint
    _, problems = read_reports(write(tmp_path, "jsonl", [{"acc": "A1", "text": "x"}, {"acc": "A1", "text": "Addendum"}]))
    assert problems == ["row 2: report id 'A1' repeats an earlier row; skipped (an addendum or a new version? name a "
                        "report id column with --id-column)"]


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


@pytest.mark.parametrize("name,head,delimiter", [("r.csv", "", ";"), ("r.csv", "sep=;\n", ";"), ("r.tsv", "", "\t"),
                                                 ("r.txt", "", "|"), ("r.csv", "", ",")])
def test_csv_delimiters_are_sniffed_and_rows_keep_their_line_numbers(tmp_path, name, head, delimiter):
    lines = [["Accession", "Befund"], ["A1", "Rundherd (Serie 3, Bild 45); 5 mm, unverändert."], ["", "ohne Nummer"]]
    body = "".join(delimiter.join(f'"{v}"' if (";" in v or "," in v) else v for v in row) + "\n" for row in lines)
    p = tmp_path / name
    p.write_text(head + body, encoding="utf-8")
    rows, problems = read_reports(p)
    assert [(r["report_id"], r["text"]) for r in rows] == [("A1", lines[1][1])]
    assert problems == [f"row {3 + bool(head)}: no report id or accession number; skipped"]  # the line in the file


def test_column_names_are_found_whatever_their_case_spacing_or_language(tmp_path):
    import datetime as dt

    from mining.reports_io import describe_columns, report_columns

    rows = [{"Accession Number": "A1", "Patient ID": "P1", "Study Date": "20240301", "Report Text": "Nodule (3:45)."}]
    p = write(tmp_path, "utf-8", rows)
    got, _ = read_reports(p)
    assert (got[0]["report_id"], got[0]["patient_id"], got[0]["study_date"]) == ("A1", "P1", dt.date(2024, 3, 1))
    de = write(tmp_path, "jsonl", [{"Acc.-Nr.": "A2", "Patienten-ID": "P2", "Untersuchungsdatum": "01.04.2024",
                                    "Bericht": "Kein Erguss."}])
    got, _ = read_reports(de)
    assert (got[0]["report_id"], got[0]["patient_id"], str(got[0]["study_date"])) == ("A2", "P2", "2024-04-01")
    roles = report_columns(write(tmp_path, "parquet", [{"acc": "A3", "report": "x"}]))
    assert roles == {"id": [], "accession": ["acc"], "patient": [], "date": [], "text": ["report"]}
    line = describe_columns(roles)
    assert "report id <- the accession number" in line and "--patient-column" in line and "--date-column" in line
    assert "found by accession number only" in line
    line = describe_columns(report_columns(write(tmp_path, "parquet", [{"id": "r1", "report": "x"}])))
    assert "no report can be matched to its study" in line and "--accession-column" in line


def test_section_columns_are_joined_under_their_headers_in_report_order(tmp_path):
    from mining.sections import find_sections

    rows = [{"acc": "A1", "Impression": "Stable nodule.", "Exam": "CT CHEST", "Comparison": "CT 2023-01-05",
             "findings": "Nodule in the right upper lobe (3:45)."},
            {"acc": "A2", "Impression": "", "Exam": "CT CHEST", "Comparison": None, "findings": "No nodule."}]
    got, problems = read_reports(write(tmp_path, "parquet", rows))
    assert not problems
    text = got[0]["text"]
    assert text == ("COMPARISON:\nCT 2023-01-05\n\nFINDINGS:\nNodule in the right upper lobe (3:45).\n\n"
                    "IMPRESSION:\nStable nodule.")  # not the exam column: "Exam" heads other columns too
    assert [s.name for s in find_sections(text)] == ["COMPARISON", "FINDINGS", "IMPRESSION"]
    assert got[1]["text"] == "FINDINGS:\nNo nodule."  # empty sections are left out
    nan, _ = read_reports(write(tmp_path, "jsonl", [{**rows[1], "Comparison": float("nan")}]))
    assert nan[0]["text"] == "FINDINGS:\nNo nodule."  # NaN, pandas' empty cell, is no text "nan"
    alone, _ = read_reports(write(tmp_path, "parquet", [{"acc": "A1", "Findings": "Nodule (3:45)."}]))
    assert alone[0]["text"] == "Nodule (3:45)."  # one section column is the text as it is
    named, _ = read_reports(write(tmp_path, "parquet", rows), {"text": "Impression,Exam"})
    assert named[0]["text"] == "IMPRESSION:\nStable nodule.\n\nEXAM:\nCT CHEST"  # as named, in the order named
    with pytest.raises(ValueError, match="'Conclusion' \\(for text\\) is not in the export"):
        read_reports(write(tmp_path, "parquet", rows), {"text": "Impression,Conclusion"})


def test_a_date_no_format_reads_is_named_and_its_report_kept(tmp_path):
    rows = [{"id": "a", "date": "yesterday", "text": "Nodule (3:45)."}, {"id": "b", "date": "", "text": "x"}]
    got, problems = read_reports(write(tmp_path, "utf-8", rows))
    assert [(r["report_id"], r["study_date"]) for r in got] == [("a", None), ("b", None)]
    assert len(problems) == 1 and problems[0].startswith("row 2: study date 'yesterday' is in none of the forms read")


@pytest.mark.parametrize("dates,want", [
    (["03/04/2024", "25/03/2024", "5-6-2024"], ["2024-04-03", "2024-03-25", "2024-06-05"]),  # UK: the 25 says day first
    (["03/04/2024", "03/25/2024", "5-6-2024"], ["2024-03-04", "2024-03-25", "2024-05-06"]),  # US: the 25 says month first
    (["03/04/2024", "2024-05-06"], ["2024-03-04", "2024-05-06"]),  # nothing decides: month first
])
def test_slash_dates_are_read_in_the_order_the_export_itself_shows(tmp_path, dates, want):
    rows = [{"id": f"r{i}", "date": d, "text": "x"} for i, d in enumerate(dates)]
    got, problems = read_reports(write(tmp_path, "utf-8", rows))
    assert [str(r["study_date"]) for r in got] == want and not problems


@pytest.mark.parametrize("value", ["05-MAR-2024", "05-Mar-24 08:30:00", "5 March 2024", "Mar 5, 2024",
                                   "2024-03-05T08:30:00", "20240305", "05.03.2024 08:30", "2024/03/05"])
def test_study_dates_as_databases_print_them(tmp_path, value):
    got, problems = read_reports(write(tmp_path, "utf-8", [{"id": "a", "date": value, "text": "x"}]))
    assert str(got[0]["study_date"]) == "2024-03-05" and not problems


def test_a_date_against_the_exports_own_order_is_named(tmp_path):
    rows = [{"id": "a", "date": "25/03/2024", "text": "x"}, {"id": "b", "date": "03/25/2024", "text": "x"}]
    got, problems = read_reports(write(tmp_path, "utf-8", rows))
    assert [str(r["study_date"]) for r in got] == ["2024-03-25", "None"]
    assert len(problems) == 1 and problems[0].startswith("row 3: study date '03/25/2024' is in none of the forms read "
                                                         "(2024-03-25; 20240325; 25.03.2024; ")
    assert problems[0].endswith("25/03/2024; 25-03-2024: this export writes the day first); kept without a date")


def test_identifiers_stored_as_floats_by_pandas_are_written_as_integers(tmp_path):
    rows = [{"accession": 1234567.0, "patient": 42.0, "text": "Nodule (3:45)."},
            {"accession": None, "patient": float("nan"), "text": "no id"},
            {"accession": 7654321.5, "patient": None, "text": "a real decimal stays"}]
    got, problems = read_reports(write(tmp_path, "parquet", rows))
    assert [(r["report_id"], r["accession_number"], r["patient_id"]) for r in got] == \
        [("1234567", "1234567", "42"), ("7654321.5", "7654321.5", None)]
    assert problems == ["row 2: no report id or accession number; skipped"]


def test_a_json_array_is_refused_with_how_to_write_it_as_json_lines(tmp_path):
    p = tmp_path / "reports.json"
    p.write_text('[\n  {"id": "a", "text": "Nodule (3:45)."}\n]\n')
    with pytest.raises(ValueError, match=r"one JSON array.*jq -c '\.\[\]' reports\.json > reports\.jsonl"):
        read_reports(p)


@pytest.mark.parametrize("kind", ["parquet", "jsonl", "utf-8"])
def test_report_count_counts_records_not_lines(tmp_path, kind):
    from mining.reports_io import report_count

    rows = [{"id": f"r{i}", "text": "line one\nline two"} for i in range(7)]
    assert report_count(write(tmp_path, kind, rows)) == 7


def test_a_broken_csv_record_is_named_and_the_records_after_it_are_read(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text('id,text\na,"He said ""no"" (3:45)."\nb,"A quote left open (3:46).\nc,"Swallowed (3:47)."\n'
                 'd,unquoted, comma\ne,"Last (3:48)."\n')
    got, problems = read_reports(p)
    assert [(r["report_id"], r["text"]) for r in got] == [("a", 'He said "no" (3:45).'), ("e", "Last (3:48).")]
    assert problems[0] == "lines 3-4: not valid CSV (',' expected after '\"'); skipped: check the quotes in it"
    assert problems[1] == ("row 5: 1 more field(s) than the header's 2: a ',' unquoted in a value shifts its "
                           "columns; skipped")  # rows are numbered by their first line in the file
    multi = tmp_path / "m.csv"
    multi.write_text('id,date,text\na,2024-01-02,"two\nlines"\nb,yesterday,x\n')
    assert read_reports(multi)[1][0].startswith("row 4: study date 'yesterday'")


def test_a_missing_date_is_no_problem_whatever_writes_it(tmp_path):
    rows = [{"id": "a", "date": float("nan"), "text": "x"}, {"id": "b", "date": None, "text": "x"},
            {"id": "c", "date": "  ", "text": "x"}]
    got, problems = read_reports(write(tmp_path, "jsonl", rows))
    assert [r["study_date"] for r in got] == [None, None, None] and problems == []


def _daily_folder(tmp_path):
    """A nightly drop: three daily files in three formats, the newest re-sending report A2 amended."""
    d = tmp_path / "reports"
    d.mkdir()
    (d / "reports_2024-03-09.csv").write_text("Accession Number;Patient ID;Study Date;Report Text\n"
                                              "A1;P1;05/03/2024;Nodule (3:45).\nA2;P2;06/03/2024;First version.\n")
    (d / "reports_2024-03-10.jsonl").write_text(json.dumps({"accession": "A3", "text": "Effusion (2:10)."}) + "\n")
    pq.write_table(pa.Table.from_pylist([{"accession_number": "A2", "study_date": "2024-03-06",
                                          "text": "Amended: nodule (4:50)."}]), d / "reports_2024-03-11.parquet")
    return d


def test_a_folder_of_daily_files_is_read_newest_first_and_the_newest_version_of_a_report_wins(tmp_path):
    from mining.reports_io import export_files, report_columns, report_count

    d = _daily_folder(tmp_path)
    got, problems = read_reports(d)
    assert problems == []
    assert [(r["report_id"], r["text"]) for r in got] == [("A2", "Amended: nodule (4:50)."), ("A3", "Effusion (2:10)."),
                                                          ("A1", "Nodule (3:45).")]
    assert [f.name for f in export_files(d)[0]] == ["reports_2024-03-11.parquet", "reports_2024-03-10.jsonl",
                                                    "reports_2024-03-09.csv"]
    assert report_count(d) == 4  # records of all files, the superseded one included
    assert report_columns(d)["text"] == ["text"]  # the newest file's


def test_a_reports_folder_names_what_it_does_not_read_and_reads_the_rest(tmp_path):
    d = _daily_folder(tmp_path)
    (d / "reports_2024-03-12.xlsx").write_bytes(b"PK\x03\x04")
    (d / "reports_2024-03-06.csv.gz").write_bytes(b"\x1f\x8b")
    (d / "README.txt").write_text("exported nightly by the RIS")
    (d / ".reports_2024-03-13.csv.part").write_text("id,text\nZ,half-writ")  # hidden: still being copied
    (d / "old").mkdir()
    (d / "reports_2024-03-08.csv").write_text("id,findings_only\nX,no text column here\n")
    (d / "reports_2024-03-07.csv").write_text("id,text\nB1,one\nB1,again\n")
    got, problems = read_reports(d)
    assert sorted(r["report_id"] for r in got) == ["A1", "A2", "A3", "B1"]
    assert problems[:4] == [
        "README.txt: not a CSV, TSV, JSONL or Parquet reports export; not read",
        "old/: a folder in the reports folder; not read (only the folder's own files are)",
        "reports_2024-03-06.csv.gz: not a CSV, TSV, JSONL or Parquet reports export; not read; unpack it into the folder",
        "reports_2024-03-12.xlsx: not a CSV, TSV, JSONL or Parquet reports export; not read; save it as CSV"]
    assert problems[4].startswith("reports_2024-03-08.csv: no text column in ")
    assert problems[4].endswith("the rest of this file is not read")
    assert problems[5] == "reports_2024-03-07.csv: row 3: report id 'B1' repeats an earlier row; skipped"
    assert len(problems) == 6  # A2 in two files is an amendment, not a problem
    empty = tmp_path / "empty"
    empty.mkdir()
    assert read_reports(empty) == ([], [f"{empty}: no CSV, TSV, JSONL or Parquet file in this reports folder"])


def test_daily_files_are_ordered_by_the_numbers_in_their_names(tmp_path):
    d = tmp_path / "r"
    d.mkdir()
    for n, text in [(2, "old"), (10, "new")]:
        (d / f"export_{n}.csv").write_text(f"id,text\nR,{text}\n")
    assert [r["text"] for r in read_reports(d)[0]] == ["new"]


def test_a_daily_file_whose_dates_do_not_decide_reads_them_as_the_folder_does(tmp_path):
    d = tmp_path / "r"
    d.mkdir()
    (d / "day_1.csv").write_text("id,date,text\nA,25/03/2024,x\n")  # only day first reads it
    (d / "day_2.csv").write_text("id,date,text\nB,03/04/2024,y\n")  # either order reads it
    got = {r["report_id"]: str(r["study_date"]) for r in read_reports(d)[0]}
    assert got == {"A": "2024-03-25", "B": "2024-04-03"}  # 3 April, as the folder writes its dates


def test_each_daily_file_is_announced_where_its_columns_differ(tmp_path):
    from mining.reports_io import describe_columns

    d = tmp_path / "r"
    d.mkdir()
    for n, header in [(1, "id,date,text"), (2, "id,date,text"), (3, "id,text")]:
        (d / f"day_{n}.csv").write_text(f"{header}\n" + ("R%d,2024-01-0%d,x\n" % (n, n) if "date" in header else f"R{n},x\n"))
    lines = []
    list(iter_reports(d, on_columns=lambda roles, name: lines.append(describe_columns(roles, name))))
    assert [line.split(":")[0] for line in lines] == ["columns of day_3.csv", "columns of day_2.csv"]
    assert "study date" in lines[0] and "study date <- 'date'" in lines[1]
