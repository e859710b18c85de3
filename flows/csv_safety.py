"""Text written to CSV must not start a spreadsheet formula (CSV injection).

A cell that starts with = + - @ (or their full-width forms), a tab or a carriage return is
run as a formula by Excel, LibreOffice and Google Sheets when the CSV is opened; report text
is written by other people and could carry `=HYPERLINK(...)`. Following OWASP, such cells get
a leading apostrophe, which spreadsheets show as text and hide. Only string columns are
touched: numbers stay numbers (a negative number is not text).
"""
from __future__ import annotations

TRIGGERS = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"
_TRIGGER_RE = "^[=+\\-@\\t\\r\uff1d\uff0b\uff0d\uff20]"  # RE2 syntax (pyarrow)


def formula_safe(value):
    """`value` with a leading apostrophe when it would start a formula; other values unchanged."""
    if isinstance(value, str) and value and value[0] in TRIGGERS:
        return "'" + value
    return value


def safe_table(table):
    """A pyarrow table whose string columns are formula-safe."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cols = []
    for name in table.column_names:
        col = table.column(name)
        typ = col.type
        if pa.types.is_dictionary(typ) and pa.types.is_string(typ.value_type):
            col, typ = col.cast(pa.string()), pa.string()
        if pa.types.is_string(typ) or pa.types.is_large_string(typ):
            hit = pc.match_substring_regex(col, _TRIGGER_RE)
            col = pc.if_else(hit, pc.binary_join_element_wise(pa.scalar("'", typ), col, pa.scalar("", typ)), col)
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def write_csv_safe(table, sink) -> None:
    """Write pyarrow `table` as CSV to `sink` (path or file object) with formula-safe text."""
    import pyarrow.csv as pacsv

    pacsv.write_csv(safe_table(table), sink)


def csv_writer_row(row):
    """For csv.writer users: the row with formula-safe string cells."""
    return [formula_safe(v) for v in row]
