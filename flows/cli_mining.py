"""`radmine mine-text` and `radmine mine-reports`: the report miner on the command line."""
from __future__ import annotations

import contextlib

import json
import sys
from pathlib import Path

import typer


def _err(msg: str) -> None:
    sys.stderr.write(f"radmine: {msg}\n")


def _json_default(o):
    import datetime as dt

    if isinstance(o, (dt.date, dt.datetime)):
        return o.isoformat()
    return str(o)


def _read_lines(src: str) -> list[bytes]:
    if src == "-":
        return sys.stdin.buffer.read().splitlines()
    return Path(src).read_bytes().splitlines()


def mine_text(
    file: str = typer.Argument("-", help="JSONL file of {\"id\": ..., \"text\": ...} lines, or - for stdin."),
    plain: bool = typer.Option(False, "--plain", help="Read one whole plain text instead of JSONL."),
    labels: bool = typer.Option(False, "--labels", help="Write one line per report with its 18 CT-RATE labels instead."),
    report_id: str = typer.Option("text", "--id", help="Report id for --plain input."),
    dedup: bool = typer.Option(True, "--dedup/--no-dedup", help="Mark near-duplicate snippets across the input."),
) -> None:
    """Mine image references (or, with --labels, finding labels) from report text; JSONL to stdout."""
    from mining.dedup import cluster_snippets
    from mining.mine import mine_report
    from mining.text_clean import clean_text, decode

    bad = 0
    items: list[tuple[str, str]] = []
    try:
        if plain:
            data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
            items.append((report_id, clean_text(data)))
        else:
            for lineno, raw in enumerate(_read_lines(file), 1):
                if not raw.strip():
                    continue
                try:
                    rec = json.loads(decode(raw))
                except ValueError as exc:
                    _err(f"line {lineno}: not valid JSON ({str(exc)[:60]}); skipped")
                    bad += 1
                    continue
                if not isinstance(rec, dict) or not isinstance(rec.get("text"), str):
                    _err(f"line {lineno}: expected an object with a \"text\" string; skipped")
                    bad += 1
                    continue
                rid = next((rec[k] for k in ("id", "report_id") if rec.get(k) not in (None, "")), f"line{lineno}")
                if isinstance(rid, bool) or not isinstance(rid, (str, int)):
                    _err(f"line {lineno}: the id must be a string or a whole number, not {json.dumps(rid)[:40]}; skipped")
                    bad += 1
                    continue
                items.append((str(rid), clean_text(rec["text"])))
    except OSError as exc:
        _err(f"cannot read {file}: {exc.strerror or exc}")
        raise typer.Exit(1)
    out = sys.stdout
    rows = []
    for rid, text in items:
        try:
            rep = mine_report(text, rid, labels=labels)
        except Exception as exc:  # never a traceback for one bad report
            _err(f"report {rid!r}: could not be mined ({type(exc).__name__}: {str(exc)[:80]}); skipped")
            bad += 1
            continue
        if labels:
            out.write(json.dumps({"report_id": rid, "labels": rep.label_values()}, ensure_ascii=False) + "\n")
        else:
            rows.extend(r.to_dict() for r in rep.references)
    if not labels:
        if dedup and rows:
            cluster_snippets(rows)
        for r in rows:
            out.write(json.dumps(r, ensure_ascii=False, default=_json_default) + "\n")
    out.flush()
    if bad:
        raise typer.Exit(1)


# the reports export's column mapping (`mining.reports_io`), shared by mine-reports, mine and serve
ID_COLUMN = typer.Option(None, "--id-column", help="Column holding the report id (default: report_id/id, else accession).")
ACCESSION_COLUMN = typer.Option(None, "--accession-column", help="Column holding the accession number.")
PATIENT_COLUMN = typer.Option(None, "--patient-column", help="Column holding the patient id.")
DATE_COLUMN = typer.Option(None, "--date-column", help="Column holding the study date.")
TEXT_COLUMN = typer.Option(None, "--text-column", help="Column holding the report text; several, comma-separated "
                           "('Findings,Impression'), are joined under their names as section headers.")


def column_mapping(id_column, accession_column, patient_column, date_column, text_column) -> dict[str, str]:
    """The role -> column mapping of the column options given."""
    return {k: v for k, v in (("id", id_column), ("accession", accession_column), ("patient", patient_column),
                              ("date", date_column), ("text", text_column)) if v}


def mine_reports(
    reports: Path = typer.Argument(..., help="Reports export: .csv (any of , ; tab |), .tsv, .jsonl or .parquet, or a "
                                   "folder of them (daily files: where a report id repeats, the file last by name wins)."),
    out: Path = typer.Option(..., "--out", "-o", help="Dataset folder to write reports, references, labels, snippet_labels."),
    id_column: str = ID_COLUMN, accession_column: str = ACCESSION_COLUMN, patient_column: str = PATIENT_COLUMN,
    date_column: str = DATE_COLUMN, text_column: str = TEXT_COLUMN,
    processes: int = typer.Option(1, "--processes", "-j", help="Worker processes for nlp.pipe."),
    progress: bool = typer.Option(None, "--progress/--no-progress", help="Progress bar (default: when stderr is a terminal)."),
) -> None:
    """Mine a reports export into the reports, references, labels and snippet_labels tables.

    Streams: reports are read, mined and written 2,000 at a time into a scratch folder beside the
    tables, which are then sorted by key and given their near-duplicate clusters in DuckDB, so an
    archive of any size is mined within bounded memory."""
    import itertools
    import shutil
    import tempfile

    import data_contracts as dc
    from data_contracts.sql import bounded_connection, read_parquet_sql
    from dataset.progress import progress_bar
    from flows.library import library
    from flows.tables_sql import finish_references, key_sql, stream_table
    from mining.pipeline import mined_rows
    from mining.reports_io import describe_columns, iter_reports

    mapping = column_mapping(id_column, accession_column, patient_column, date_column, text_column)
    if not reports.exists():
        _err(f"{reports} does not exist; give a .csv, .jsonl or .parquet reports export, or a folder of them")
        raise typer.Exit(1)
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".mine-reports-", dir=out))
    names = ("reports", "references", "labels", "snippet_labels")
    n_bad = n_reports = 0
    try:
        stream = _reading(iter_reports(reports, mapping, on_columns=lambda roles, name: _err(describe_columns(roles, name))))
        show = sys.stderr.isatty() if progress is None else progress
        try:
            with contextlib.ExitStack() as stack:
                writers = {name: stack.enter_context(dc.TableWriter(name, scratch)) for name in names}
                total = _count(reports) if show else 0  # one more pass over a CSV: only for the bar
                bar = stack.enter_context(progress_bar(show, total, "mining reports", "reports"))
                task = bar.add_task("reports", total=total) if bar is not None else None
                done = 0
                while True:
                    chunk = list(itertools.islice(stream, 2000))
                    if not chunk:
                        break
                    for _, problem in chunk:
                        if problem is not None:
                            _err(problem)
                            n_bad += 1
                    rows = [r for r, _ in chunk if r is not None]
                    n_reports += len(rows)
                    for name, table in mined_rows(rows, n_process=processes).items():
                        writers[name].write(table)
                    done += len(chunk)  # records, and the odd message about a kept row
                    if bar is not None:
                        bar.update(task, completed=min(done, total))
                if bar is not None:
                    bar.update(task, completed=total)
        except _Unreadable as exc:
            cause = exc.__cause__
            if isinstance(cause, ValueError) and not type(cause).__module__.startswith("pyarrow"):
                _err(str(cause))  # the export's columns: what to pass is in the message
                raise typer.Exit(2)
            _err(f"cannot read {reports}: {type(cause).__name__}: {str(cause)[:120]}")
            raise typer.Exit(1)
        con = bounded_connection()
        counts = {}
        for name in names:
            source = f"SELECT * FROM {read_parquet_sql([scratch / f'{name}.parquet'])}"
            if name == "references":
                counts[name] = finish_references(library, con, source, scratch, out)
            else:
                counts[name] = stream_table(name, con, f"{source} ORDER BY {key_sql(name)}", out)
        con.close()
    except dc.ContractViolation as exc:
        _err(f"mined tables break their contract: {exc}")
        raise typer.Exit(1)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    sys.stderr.write(f"radmine: {n_reports} reports, {counts['references']} references, "
                     f"{counts['snippet_labels']} snippet labels -> {out}\n")
    if n_bad:
        raise typer.Exit(1)


def _count(reports: Path) -> int:
    """The export's records for the progress bar; 0 (no bar) when it cannot be read: the stream then says why."""
    from mining.reports_io import report_count

    try:
        return report_count(reports)
    except (ValueError, OSError):
        return 0


class _Unreadable(Exception):
    """The reports export could not be read (the cause is chained)."""


def _reading(stream):
    """`stream`, with what reading it raises wrapped in _Unreadable (and mining's errors not)."""
    try:
        yield from stream
    except Exception as exc:
        raise _Unreadable() from exc


def register(app: typer.Typer) -> None:
    app.command("mine-text")(mine_text)
    app.command("mine-reports")(mine_reports)
