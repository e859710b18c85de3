"""Table contracts (ODCS v3 YAML), validation, atomic Parquet I/O and SQL over the tables."""
from data_contracts.contract import Contract, ContractError, arrow_schema, contract_names, load_contract
from data_contracts.io import (
    TableWriter,
    conform,
    current_dir,
    has_table,
    read_table,
    table_files,
    table_path,
    write_table,
)
from data_contracts.validate import ContractViolation, check, validate

__all__ = [
    "Contract", "ContractError", "ContractViolation", "QueryRefused", "TableWriter", "arrow_schema",
    "check", "conform", "connect", "contract_names", "current_dir", "has_table", "load_contract",
    "query", "read_rows", "read_table", "row_counts", "table_files", "table_path", "table_sources", "validate", "write_table",
]

_SQL_NAMES = {"QueryRefused", "connect", "query", "read_rows", "row_counts", "rows_by_key", "table_sources"}


def __getattr__(name: str):
    """The SQL helpers load DuckDB on first use: training processes (GPU images) never need it."""
    if name in _SQL_NAMES:
        from data_contracts import sql

        return getattr(sql, name)
    raise AttributeError(f"module 'data_contracts' has no attribute {name!r}")
