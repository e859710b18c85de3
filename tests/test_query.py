"""`radmine query`: DuckDB views over a dataset folder, read-only, clear errors."""
from __future__ import annotations

import hashlib
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import data_contracts as dc
from flows.cli import main


@pytest.fixture()
def data_dir(tmp_path):
    d = tmp_path / "data"
    rows = [{"report_id": f"r{i}", "ref_id": 0, "reason": "no_study" if i % 2 else "no_image", "detail": "d"} for i in range(5)]
    dc.write_table("rejections", rows, d)
    pq.write_table(pa.table({"k": [1, 2, 3]}), d / "truth_extra.parquet")
    return d


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_query_prints_json(data_dir, capsys):
    rc = main(["query", str(data_dir), "SELECT reason, count(*) AS n FROM rejections GROUP BY 1 ORDER BY 1", "--format", "json"])
    assert rc == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines == [{"reason": "no_image", "n": 3}, {"reason": "no_study", "n": 2}]


def test_non_contract_files_become_views_by_file_name(data_dir, capsys):
    assert main(["query", str(data_dir), "SELECT sum(k) AS s FROM truth_extra", "-f", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ['"s"', "6"]


def test_without_sql_lists_tables_with_counts(data_dir, capsys):
    assert main(["query", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "rejections" in out and "truth_extra" in out and "5" in out


@pytest.mark.parametrize("sql", [
    "COPY rejections TO '{d}/rejections.parquet' (FORMAT parquet)",
    "COPY (SELECT 1) TO '{d}/new.csv'",
    "ATTACH '{d}/db.duckdb' AS x",
    "EXPORT DATABASE '{d}/dump'",
    "SELECT 1; COPY (SELECT 1) TO '{d}/sneaky.csv'",
    "SET enable_external_access = true",
])
def test_writes_are_refused_and_dataset_unchanged(data_dir, capsys, sql):
    before = _snapshot(data_dir)
    rc = main(["query", str(data_dir), sql.format(d=data_dir)])
    err = capsys.readouterr().err
    assert rc == 2
    assert "read-only" in err and "Traceback" not in err
    assert _snapshot(data_dir) == before


def test_out_file_inside_dataset_refused(data_dir, capsys):
    before = _snapshot(data_dir)
    assert main(["query", str(data_dir), "SELECT 1 AS x", "-f", "csv", "--out", str(data_dir / "x.csv")]) == 2
    assert _snapshot(data_dir) == before


def test_out_file_elsewhere_written(data_dir, tmp_path):
    out = tmp_path / "res.parquet"
    assert main(["query", str(data_dir), "SELECT * FROM rejections", "-f", "parquet", "--out", str(out)]) == 0
    assert pq.read_table(out).num_rows == 5


def test_bad_query_gets_duckdb_message_and_exit_2(data_dir, capsys):
    assert main(["query", str(data_dir), "SELECT * FROM no_such_table"]) == 2
    err = capsys.readouterr().err
    assert "no_such_table" in err and "Traceback" not in err


def test_missing_folder(tmp_path, capsys):
    assert main(["query", str(tmp_path / "nope"), "SELECT 1"]) == 1
    assert "neither a folder" in capsys.readouterr().err


def test_parquet_paths_with_quotes_are_read(tmp_path):
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    from data_contracts.sql import read_parquet_sql

    p = tmp_path / "it's here.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), p)
    assert duckdb.connect().execute(f"SELECT sum(a) FROM {read_parquet_sql([p, p])}").fetchall() == [(6,)]
