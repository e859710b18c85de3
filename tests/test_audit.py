"""`radmine audit`: finds identifiers left in published tables, passes protected ones; formula-safe CSV."""
from __future__ import annotations

import csv
import io
import json

import pyarrow as pa
import pytest

import data_contracts as dc
from data_contracts import pseudonym as ps
from flows import privacy
from flows.audit import audit
from flows.cli import main
from flows.csv_safety import formula_safe, safe_table, write_csv_safe
from tests.test_pseudonym_publish import KEY, write_identified_version


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv(ps.KEY_ENV, KEY)


def test_audit_counts_identifiers_by_kind(tmp_path, capsys):
    write_identified_version(tmp_path)
    r = audit(tmp_path)
    assert not r.clean
    for kind in ("NAME", "DATE", "MRN", "PHONE", "AGE", "PATIENT_ID", "ACCESSION", "UID", "REPORT_ID", "PATH"):
        assert r.by_kind[kind] >= 1, kind
    assert r.by_column["reports.patient_id"] == {"PATIENT_ID": 1}
    assert "reports.text" in r.first_rows
    assert main(["audit", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "NAME" in out and "reports.text" in out
    assert "DOE" not in out and "PAT42" not in out  # the audit names rows, never values


def test_audit_passes_after_protection(tmp_path, capsys):
    write_identified_version(tmp_path)
    privacy.protect_version(tmp_path)
    r = audit(tmp_path)
    assert r.clean, r.as_dict()
    assert main(["audit", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["clean"] is True


def test_audit_reads_the_current_version_and_refuses_empty(tmp_path, capsys):
    (tmp_path / "versions" / "v1").mkdir(parents=True)
    write_identified_version(tmp_path / "versions" / "v1")
    (tmp_path / "CURRENT").write_text("v1\n")
    assert not audit(tmp_path).clean
    assert main(["audit", str(tmp_path / "nope")]) == 1
    (tmp_path / "empty").mkdir()
    assert main(["audit", str(tmp_path / "empty")]) == 1


def test_formula_cells_are_defused():
    assert formula_safe("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    for bad in ("+1", "-cmd", "@SUM(A1)", "\t=1", "\r=1", "\uff1d1"):
        assert formula_safe(bad).startswith("'")
    for ok in ("nodule", "a=b", "", "3 mm", None, -5):
        assert formula_safe(ok) == ok
    t = pa.table({"text": ["=1+1", "fine", None, "-2"], "n": [-1, 2, 3, 4]})
    buf = io.BytesIO()
    write_csv_safe(t, buf)
    rows = list(csv.reader(io.StringIO(buf.getvalue().decode())))
    assert rows[1] == ["'=1+1", "-1"] and rows[2] == ["fine", "2"] and rows[4] == ["'-2", "4"]
    assert safe_table(pa.table({"d": pa.array(["=x"]).dictionary_encode()})).column("d").to_pylist() == ["'=x"]


def test_query_csv_is_formula_safe(tmp_path, capsys):
    dc.write_table("rejections", [{"report_id": "=cmd|' /C calc'!A0", "ref_id": 0, "reason": "no_series",
                                   "detail": "@SUM(1+1)"}], tmp_path)
    assert main(["query", str(tmp_path), "SELECT report_id, ref_id, detail FROM rejections", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[1][0].startswith("'=") and rows[1][2] == "'@SUM(1+1)" and rows[1][1] == "0"
