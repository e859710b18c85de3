"""Building tables in DuckDB at bounded memory: a query's rows streamed through a TableWriter,
and the references table with its near-duplicate snippet clusters. Used by the pipeline
(flows.pipeline) and `radmine mine-reports`."""
from __future__ import annotations

from pathlib import Path


def key_sql(name: str) -> str:
    import data_contracts as dc

    return ", ".join(f'"{c}"' for c in dc.load_contract(name).primary_key)


def stream_table(name: str, con, sql: str, data_dir: Path, batch_rows: int = 65536) -> int:
    """Write the rows of `sql` as table `name` of `data_dir`, batch by batch (conformed, checked)."""
    import pyarrow as pa

    import data_contracts as dc

    with dc.TableWriter(name, data_dir) as w:
        for batch in con.sql(sql).to_arrow_reader(batch_rows):
            w.write(pa.Table.from_batches([batch]))
    return w.rows


def finish_references(lib, con, source: str, scratch: Path, out_dir: Path) -> int:
    """The references table with near-duplicate snippet clusters, at bounded memory.

    The rows, in key order, are staged with a row number and their snippet's key (the library's
    normalised text); the distinct keys, in order of first appearance, are grouped by the library
    (rapidfuzz: memory grows with distinct texts, not with references); DuckDB then sizes the
    groups, keeps those spanning `duplicate_min_reports` reports, numbers them by first row as
    `mining.dedup.cluster_snippets` does, and joins the ids back while the table is streamed out.
    lib: has snippet_key, near_duplicate_groups and duplicate_min_reports (flows.library)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from data_contracts.sql import read_parquet_sql

    staged = scratch / "references_staged.parquet"
    writer, row = None, 0
    for batch in con.sql(f"{source} ORDER BY {key_sql('references')}").to_arrow_reader(65536):
        keys = [lib.snippet_key(s or "") for s in batch.column("snippet").to_pylist()]
        t = pa.Table.from_batches([batch]).append_column("row_no", pa.array(range(row, row + batch.num_rows), pa.int64()))
        t = t.append_column("snippet_key", pa.array(keys, pa.string()))
        writer = writer or pq.ParquetWriter(staged, t.schema)
        writer.write_table(t)
        row += batch.num_rows
    if writer is None:
        return stream_table("references", con, source, out_dir)
    writer.close()
    con.execute(f"CREATE TEMP VIEW staged AS SELECT * FROM {read_parquet_sql([staged])}")
    keys = [k for k, in con.execute("SELECT snippet_key FROM staged WHERE snippet_key <> '' "
                                    "GROUP BY snippet_key ORDER BY min(row_no)").fetchall()]
    con.register("key_groups", pa.table({"snippet_key": pa.array(keys, pa.string()),
                                         "grp": pa.array(lib.near_duplicate_groups(keys), pa.int64())}))
    con.execute(f"""CREATE TEMP TABLE clusters AS
        SELECT grp, count(*) AS size, row_number() OVER (ORDER BY min(row_no)) - 1 AS cluster_id
        FROM staged JOIN key_groups USING (snippet_key) GROUP BY grp
        HAVING count(DISTINCT report_id) >= {int(lib.duplicate_min_reports)}""")
    n = stream_table("references", con, """
        SELECT s.* EXCLUDE (row_no, snippet_key, duplicate_cluster, duplicate_cluster_size),
               c.cluster_id AS duplicate_cluster, coalesce(c.size, 1) AS duplicate_cluster_size
        FROM staged s LEFT JOIN key_groups g USING (snippet_key) LEFT JOIN clusters c USING (grp)
        ORDER BY s.row_no""", out_dir)
    staged.unlink()
    return n
