"""Validate a pyarrow table against its contract, reporting every broken rule at once."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from data_contracts.contract import Contract, load_contract

_SHOW = 3  # offending rows quoted per broken rule


class ContractViolation(ValueError):
    """A table that breaks its contract; `problems` lists (column, rule, detail)."""

    def __init__(self, table: str, problems: list[tuple[str, str, str]]):
        self.table = table
        self.problems = problems
        lines = [f"table {table!r} breaks its contract ({len(problems)} problem(s)):"]
        lines += [f"  - column {col!r}: {rule}: {detail}" for col, rule, detail in problems]
        super().__init__("\n".join(lines))


def _rows(table: pa.Table, mask: pa.ChunkedArray | pa.Array, cols: list[str]) -> str:
    idx = pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist()
    shown = [
        f"row {i}: " + ", ".join(f"{c}={table.column(c)[i].as_py()!r}" for c in cols)
        for i in idx[:_SHOW]
    ]
    more = f" (+{len(idx) - _SHOW} more)" if len(idx) > _SHOW else ""
    return "; ".join(shown) + more


def _check_columns(contract: Contract, table: pa.Table) -> list[tuple[str, str, str]]:
    problems = []
    described = {c.name for c in contract.columns}
    for name in table.column_names:
        if name not in described:
            problems.append((name, "undescribed column", "add it to the contract with a description, or drop it"))
    for col in contract.columns:
        if col.name not in table.column_names:
            if col.required:
                problems.append((col.name, "missing required column", "the table has no such column"))
            continue
        actual = table.schema.field(col.name).type
        if actual != col.type:
            problems.append((col.name, "type", f"expected {col.type}, found {actual}"))
    return problems


def check(name: str, table: pa.Table, contract: Contract | None = None) -> list[tuple[str, str, str]]:
    """All (column, rule, detail) problems of `table` against contract `name`."""
    contract = contract or load_contract(name)
    problems = _check_columns(contract, table)
    if problems:  # value rules assume the right columns and types
        return problems
    for col in contract.columns:
        if col.name not in table.column_names:
            continue
        arr = table.column(col.name)
        if col.required and arr.null_count:
            problems.append((col.name, "required (no nulls)", _rows(table, pc.is_null(arr), [col.name])))
        if col.allowed is not None:
            bad = pc.invert(pc.is_in(arr, value_set=pa.array(col.allowed, type=col.type)))
            bad = pc.and_(bad, pc.is_valid(arr))
            if pc.any(bad).as_py():
                problems.append((col.name, f"allowed values {list(col.allowed)}", _rows(table, bad, [col.name])))
        if col.minimum is not None and not pa.types.is_list(col.type):
            bad = pc.less(arr, col.minimum)
            if pc.any(bad).as_py():
                problems.append((col.name, f"minimum {col.minimum}", _rows(table, bad, [col.name])))
        if col.maximum is not None and not pa.types.is_list(col.type):
            bad = pc.greater(arr, col.maximum)
            if pc.any(bad).as_py():
                problems.append((col.name, f"maximum {col.maximum}", _rows(table, bad, [col.name])))
        if col.unique and table.num_rows:
            problems += duplicates(table, [col.name], "unique")
    if contract.primary_key and len(contract.primary_key) > 1 and table.num_rows:
        problems += duplicates(table, list(contract.primary_key), "unique key")
    return problems


def duplicates(table: pa.Table, cols: list[str], rule: str) -> list[tuple[str, str, str]]:
    counts = table.select(cols).group_by(cols).aggregate([([], "count_all")])
    dup = counts.filter(pc.greater(counts.column("count_all"), 1))
    shown = dup.slice(0, _SHOW).select([*cols, "count_all"]).to_pylist()
    return _duplicate_problem(cols, rule, [tuple(r.values()) for r in shown], dup.num_rows)


def _duplicate_problem(cols: list[str], rule: str, shown: list[tuple], groups: int) -> list[tuple[str, str, str]]:
    """The problem row for `groups` duplicated keys, quoting `shown` ((key values..., row count) each)."""
    if groups == 0:
        return []
    text = "; ".join(", ".join(f"{c}={v!r}" for c, v in zip(cols, r)) + f" ({r[len(cols)]} rows)" for r in shown)
    more = f" (+{groups - _SHOW} more)" if groups > _SHOW else ""
    return [("+".join(cols), rule, text + more)]


def duplicates_in_file(path: str, cols: list[str], rule: str) -> list[tuple[str, str, str]]:
    """`duplicates` over a Parquet file of any size: DuckDB groups it in bounded memory (`bounded_connection`)."""
    from data_contracts.sql import bounded_connection

    con = bounded_connection()
    try:
        keys = ", ".join(f'"{c}"' for c in cols)
        rows = con.execute(
            f"SELECT {keys}, n, count(*) OVER () AS groups FROM (SELECT {keys}, count(*) AS n FROM read_parquet(?) "
            f"GROUP BY {keys} HAVING count(*) > 1) ORDER BY {keys} LIMIT {_SHOW}", [path]).fetchall()
    finally:
        con.close()
    return _duplicate_problem(cols, rule, [r[:-1] for r in rows], rows[0][-1] if rows else 0)


def validate(name: str, table: pa.Table) -> None:
    """Raise ContractViolation naming table, column, rule and rows when `table` breaks contract `name`."""
    problems = check(name, table)
    if problems:
        raise ContractViolation(name, problems)
