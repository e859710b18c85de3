"""Read and write contract tables as Parquet, atomically.

A dataset directory holds each table as one `<table>.parquet` file, or as a folder
`<table>/` of part files (`part-*.parquet`, the table being all their rows). The flows keep
their large per-file tables (`instances`) in parts so that a new version can hard-link the
parts it did not change from the previous one instead of rewriting them. `read_table` gives
a table in parts in primary-key order, as a one-file table is written. A versioned dataset
(written by the flows) holds `versions/<version>/` folders and a `CURRENT` file naming the
published one; readers resolve it through `current_dir`.

Writes go to a temporary file in the same folder, are flushed to disk and then renamed over
the old file, so no reader ever sees half a table and a failed write leaves the previous
file as it was.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from data_contracts.contract import load_contract
from data_contracts.validate import ContractViolation, check, duplicates_in_file, validate

CURRENT_FILE = "CURRENT"
VERSIONS_DIR = "versions"


def current_dir(data_dir: str | os.PathLike) -> Path:
    """The folder holding the published tables of `data_dir` (its CURRENT version, if versioned)."""
    data_dir = Path(data_dir)
    pointer = data_dir / CURRENT_FILE
    if pointer.is_file():
        version = pointer.read_text().strip()
        target = data_dir / VERSIONS_DIR / version
        if not target.is_dir():
            raise FileNotFoundError(f"{pointer} names version {version!r}, but {target} is missing")
        return target
    return data_dir


PART_GLOB = "part-*.parquet"


def table_path(name: str, data_dir: str | os.PathLike) -> Path:
    """`<name>.parquet` of the published version, or its `<name>/` folder when the table is in parts."""
    root = current_dir(data_dir)
    single = root / f"{name}.parquet"
    if not single.exists() and _part_files(root / name):
        return root / name
    return single


def _part_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(PART_GLOB)) if folder.is_dir() else []


def table_files(name: str, data_dir: str | os.PathLike) -> list[Path]:
    """The Parquet files holding table `name` (one file, or its parts in name order); [] when absent."""
    root = current_dir(data_dir)
    single = root / f"{name}.parquet"
    return [single] if single.is_file() else _part_files(root / name)


def conform(name: str, data: pa.Table | dict | list[dict]) -> pa.Table:
    """Order, complete and cast columns to the contract schema (missing optional columns become nulls).

    Raises ContractViolation for undescribed or missing required columns and for values
    that cannot be cast to the contract's type.
    """
    contract = load_contract(name)
    schema = contract.schema
    if isinstance(data, list):
        data = pa.Table.from_pylist(data, schema=schema) if data else schema.empty_table()
    elif isinstance(data, dict):
        data = pa.table(data)
    extra = [c for c in data.column_names if c not in schema.names]
    if extra:
        raise ContractViolation(name, [(c, "undescribed column", "add it to the contract with a description, or drop it") for c in extra])
    cols = []
    for field in schema:
        if field.name in data.column_names:
            col = data.column(field.name)
            if col.type != field.type:
                try:
                    col = col.cast(field.type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise ContractViolation(name, [(field.name, "type", f"cannot cast {col.type} to {field.type}: {exc}")]) from None
            cols.append(col)
        elif not field.nullable:
            raise ContractViolation(name, [(field.name, "missing required column", "the table has no such column")])
        else:
            cols.append(pa.nulls(data.num_rows, type=field.type))
    return pa.Table.from_arrays(cols, schema=schema)


def _temp_beside(path: Path) -> str:
    """A new empty temporary file in `path`'s folder (same file system, so the rename is atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return tmp


def _publish(tmp: str, path: Path) -> None:
    """Flush `tmp` to disk and rename it over `path`."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _atomic_parquet(path: Path, write) -> Path:
    tmp = _temp_beside(path)
    try:
        write(tmp)
        _publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_table(name: str, data: pa.Table | dict | list[dict], data_dir: str | os.PathLike) -> Path:
    """Conform, validate and atomically write table `name` to `data_dir/<name>.parquet`.

    A `<name>/` folder of parts in `data_dir` (the table's previous form) is removed after."""
    table = conform(name, data)
    validate(name, table)
    path = _atomic_parquet(Path(data_dir) / f"{name}.parquet", lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    _remove_parts(Path(data_dir) / name)
    return path


def _remove_parts(folder: Path) -> None:
    parts = _part_files(folder)
    for p in parts:
        p.unlink()
    if parts:
        try:
            folder.rmdir()
        except OSError:  # it holds other files too: leave them
            pass


def part_path(name: str, data_dir: str | os.PathLike, part: str) -> Path:
    """Where part `part` of table `name` lives: `data_dir/<name>/part-<part>.parquet`."""
    return Path(data_dir) / name / f"part-{part}.parquet"


def write_part(name: str, data: pa.Table | dict | list[dict], data_dir: str | os.PathLike, part: str) -> Path:
    """Conform, validate and atomically write one part of table `name` (`part_path`).

    Keys are checked within the part; the writer of the parts keeps them unique across parts.
    A `data_dir/<name>.parquet` file (the table's one-file form) is removed after."""
    table = conform(name, data)
    validate(name, table)
    path = _atomic_parquet(part_path(name, data_dir, part), lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    (Path(data_dir) / f"{name}.parquet").unlink(missing_ok=True)
    return path


def _read_files(files: list[Path], columns: list[str] | None) -> pa.Table:
    tables = [pq.read_table(p, columns=columns) for p in files]
    if len(tables) == 1:
        return tables[0]
    return pa.concat_tables(tables, promote_options="permissive")


class TableWriter:
    """Stream batches of rows into one table file; it appears atomically on close.

    Each batch is conformed and checked as it arrives; unique keys are checked across all
    batches when the writer closes, before the file is renamed into place.

        with TableWriter("instances", data_dir) as out:
            for rows in batches:
                out.write(rows)
    """

    def __init__(self, name: str, data_dir: str | os.PathLike, part: str | None = None):
        self.name = name
        self.path = part_path(name, data_dir, part) if part is not None else Path(data_dir) / f"{name}.parquet"
        self.contract = load_contract(name)
        self.rows = 0
        self._tmp: str | None = None
        self._writer: pq.ParquetWriter | None = None

    def __enter__(self) -> "TableWriter":
        self._tmp = _temp_beside(self.path)
        self._writer = pq.ParquetWriter(self._tmp, self.contract.schema, compression="zstd")
        return self

    def write(self, data: pa.Table | dict | list[dict]) -> None:
        table = conform(self.name, data)
        problems = [p for p in check(self.name, table, self.contract) if not p[1].startswith("unique")]
        if problems:
            raise ContractViolation(self.name, problems)
        self._writer.write_table(table)
        self.rows += table.num_rows

    def __exit__(self, exc_type, exc, tb) -> None:
        self._writer.close()
        try:
            if exc_type is None:
                self._check_keys()
                _publish(self._tmp, self.path)
        finally:
            Path(self._tmp).unlink(missing_ok=True)

    def _check_keys(self) -> None:
        """Unique and primary-key rules over everything written, before publishing: in DuckDB
        (data_contracts.sql.bounded_connection), so a streamed table of any length is checked in bounded memory."""
        checks = [([col.name], "unique") for col in self.contract.columns if col.unique]
        if len(self.contract.primary_key) > 1:
            checks.append((list(self.contract.primary_key), "unique key"))
        if not checks or self.rows == 0:
            return
        problems = [p for cols, rule in checks for p in duplicates_in_file(self._tmp, cols, rule)]
        if problems:
            raise ContractViolation(self.name, problems)


def read_table(name: str, data_dir: str | os.PathLike, columns: list[str] | None = None,
               ordered: bool = True) -> pa.Table:
    """Read table `name` from the published version of `data_dir`, in its contract schema.

    A table in parts comes back sorted by its primary key, as a one-file table is written, so
    it reads the same whichever runs wrote which of its parts; `ordered=False` skips that sort
    (for callers that look rows up, not at their order)."""
    files = table_files(name, data_dir)
    if not files:
        path = table_path(name, data_dir)
        raise FileNotFoundError(f"table {name!r} not found at {path}; run the step that writes it first")
    contract = load_contract(name)
    if files[0].name == f"{name}.parquet":  # one file, written in key order
        table = pq.read_table(files[0], columns=columns)
        return table.cast(contract.schema) if columns is None else table
    pk = list(contract.primary_key) if ordered else []
    wanted = None if columns is None else list(columns) + [c for c in pk if c not in columns]
    table = _read_files(files, wanted)
    if columns is None:
        table = table.cast(contract.schema)
    if pk and table.num_rows:
        table = table.sort_by([(c, "ascending") for c in pk])
    return table.select(list(columns)) if columns is not None else table


def has_table(name: str, data_dir: str | os.PathLike) -> bool:
    return bool(table_files(name, data_dir))
