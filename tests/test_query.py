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


def test_bounded_cursors_share_one_database_but_not_their_temp_objects():
    import threading

    from data_contracts.sql import bounded_connection

    a, b = bounded_connection(), bounded_connection()
    try:
        a.register("walk", pa.table({"x": [1, 2]}))
        a.execute("CREATE TEMP VIEW v AS SELECT 1 AS y")
        b.execute("CREATE TEMP VIEW v AS SELECT 2 AS y")  # the same name in a concurrent step: no clash
        assert a.sql("SELECT * FROM v").fetchall() == [(1,)] and b.sql("SELECT * FROM v").fetchall() == [(2,)]
        with pytest.raises(Exception, match="walk"):
            b.sql("SELECT * FROM walk").fetchall()
        settings = a.sql("SELECT current_setting('threads'), current_setting('memory_limit')").fetchall()
        assert settings[0][0] == 1 and settings[0][1].startswith("244")  # 256 MB, shown in MiB
        # cursors from other threads work on the same database
        seen = []
        t = threading.Thread(target=lambda: seen.append(bounded_connection().sql("SELECT 42").fetchall()))
        t.start()
        t.join()
        assert seen == [[(42,)]]
    finally:
        a.close()
        b.close()


def test_bounded_connection_spills_under_radmine_spill_dir(tmp_path):
    import subprocess
    import sys

    code = ("from data_contracts.sql import bounded_connection; "
            "print(bounded_connection().sql(\"SELECT current_setting('temp_directory')\").fetchall()[0][0])")
    out = subprocess.run([sys.executable, "-c", code], env={**__import__("os").environ, "RADMINE_SPILL_DIR": str(tmp_path)},
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out.startswith(str(tmp_path / "radmine-duckdb-")), out
    assert list(tmp_path.iterdir()) == []  # DuckDB makes the folder only when it spills, and removes it on close


def test_files_holding_names_the_files_with_matching_rows_in_their_order(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from data_contracts.sql import bounded_connection, files_holding

    files = []
    for i, name in enumerate(["c.parquet", "it's b.parquet", "a.parquet"]):  # not in name order; one quoted
        pq.write_table(pa.table({"k": [f"s{i}", "shared" if i != 1 else "s1b"], "v": [i, i]}), tmp_path / name)
        files.append(tmp_path / name)
    con = bounded_connection()
    try:
        assert files_holding(con, files, "k = ?", ["shared"]) == [files[0], files[2]]
        assert files_holding(con, [str(f) for f in files], "k IN ('s1b', 's2')") == [str(files[1]), str(files[2])]
        assert files_holding(con, files, "v > 5") == [] and files_holding(con, [], "v > 5") == []
    finally:
        con.close()


def _rejections_in_parts(tmp_path):
    from data_contracts.io import write_part

    rows = [{"report_id": f"R{i % 5}", "ref_id": i, "reason": "no_study", "detail": f"d{i}"} for i in range(23)]
    for k in range(3):  # three parts, each with rows of every report
        write_part("rejections", rows[k::3], tmp_path, f"p{k}")
    return rows


def test_read_rows_reads_the_rows_of_some_keys_from_every_part(tmp_path):
    from data_contracts.sql import read_rows

    rows = _rejections_in_parts(tmp_path)
    got = read_rows("rejections", tmp_path, "report_id", ["R1", "R3", "R9"])
    assert got.schema == dc.load_contract("rejections").schema
    assert sorted(got.column("ref_id").to_pylist()) == [r["ref_id"] for r in rows if r["report_id"] in ("R1", "R3")]
    assert read_rows("rejections", tmp_path, "report_id", ["R2"], ["ref_id"]).column_names == ["ref_id"]
    none = read_rows("rejections", tmp_path, "report_id", ["R9"])  # no part holds it
    assert none.num_rows == 0 and none.schema == dc.load_contract("rejections").schema
    with pytest.raises(FileNotFoundError, match="'snippet_slices' not found"):
        read_rows("snippet_slices", tmp_path, "report_id", ["R1"])


@pytest.mark.parametrize("batch_rows", [1, 2, 65536])
def test_rows_by_key_gives_each_keys_rows_once_in_key_order_across_batches(tmp_path, batch_rows):
    """A key's rows come as one table even when DuckDB's batches cut through them."""
    from data_contracts.sql import rows_by_key

    rows = _rejections_in_parts(tmp_path)
    got = list(rows_by_key("rejections", tmp_path, "report_id", ["R4", "R0", "R2", "R7"], batch_rows=batch_rows))
    assert [k for k, _ in got] == ["R0", "R2", "R4"]
    assert list(rows_by_key("rejections", tmp_path, "report_id", ["R9"], batch_rows=batch_rows)) == []
    for key, table in got:
        assert table.schema == dc.load_contract("rejections").schema
        assert sorted(table.column("ref_id").to_pylist()) == [r["ref_id"] for r in rows if r["report_id"] == key]
    some = list(rows_by_key("rejections", tmp_path, "report_id", ["R1"], ["detail"], batch_rows=batch_rows))
    assert [(k, t.column_names) for k, t in some] == [("R1", ["detail", "report_id"])]
