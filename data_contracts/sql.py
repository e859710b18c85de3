"""DuckDB over a dataset folder: one view per table, read-only towards the data."""
from __future__ import annotations

import os
from pathlib import Path

import duckdb

from data_contracts.io import current_dir

READ_ONLY_STATEMENTS = {"SELECT", "EXPLAIN"}


class QueryRefused(ValueError):
    """A statement that could change files (COPY, ATTACH, EXPORT, SET, ...)."""


def sql_string(value) -> str:
    """`value` (a path, a glob) as a DuckDB string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def read_parquet_sql(paths) -> str:
    """`read_parquet([...])` over these Parquet files, quoted."""
    return "read_parquet([" + ", ".join(sql_string(p) for p in paths) + "])"


def bounded_connection(spill_dir: str | os.PathLike, memory: str = "128MB") -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB on one thread within `memory`, spilling to `spill_dir`: for checks and comparisons
    over tables of any length."""
    con = duckdb.connect()
    con.execute("SET threads=1")
    con.execute(f"SET memory_limit='{memory}'")
    con.execute(f"SET temp_directory={sql_string(spill_dir)}")
    return con


def table_sources(data_dir: str | os.PathLike) -> dict[str, str]:
    """Map view name -> parquet glob for every table in `data_dir` (a folder or one .parquet file).

    `<name>.parquet` files and `<name>/` folders of parquet parts become views named `<name>`.
    """
    path = Path(data_dir)
    if path.is_file() and path.suffix == ".parquet":
        return {path.stem: str(path)}
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is neither a folder nor a .parquet file")
    root = current_dir(path)
    sources = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix == ".parquet":
            sources[entry.stem] = str(entry)
        elif entry.is_dir() and any(entry.glob("*.parquet")):
            sources[entry.name] = str(entry / "*.parquet")
    return sources


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def connect(data_dir: str | os.PathLike) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per table of `data_dir`."""
    con = duckdb.connect(":memory:")
    for name, glob in table_sources(data_dir).items():
        con.execute(f"CREATE VIEW {_quote(name)} AS SELECT * FROM read_parquet({sql_string(glob)})")
    return con


def check_read_only(sql: str) -> list:
    """The statements of `sql`; refuses any that is not a SELECT (or EXPLAIN of one)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRefused(str(exc)) from None
    if not statements:
        raise QueryRefused("empty query")
    for st in statements:
        kind = st.type.name
        if kind not in READ_ONLY_STATEMENTS:
            raise QueryRefused(
                f"{kind} statements are not allowed: radmine query is read-only; "
                f"use SELECT (to export a result, use --format csv|json|parquet --out FILE)"
            )
    return statements


def query(data_dir: str | os.PathLike, sql: str):
    """Run read-only `sql` over `data_dir`'s tables; returns a pyarrow Table of the last statement."""
    statements = check_read_only(sql)
    con = connect(data_dir)
    try:
        for st in statements[:-1]:
            con.execute(st.query)
        return con.sql(statements[-1].query).to_arrow_table()
    finally:
        con.close()


def row_counts(data_dir: str | os.PathLike) -> dict[str, int]:
    con = connect(data_dir)
    try:
        return {name: con.execute(f"SELECT count(*) FROM {_quote(name)}").fetchall()[0][0]
                for name in table_sources(data_dir)}
    finally:
        con.close()
