"""Load benchmark: mine a large report archive and scrub it for publishing, at bounded memory.

    .venv/bin/python bench/load_mining.py --reports 1000000          # the full run
    .venv/bin/python bench/load_mining.py --reports 20000            # a scaled-down run

What runs is what a pipeline run does with each report, minus the whole-archive steps:

  rows      report rows as `mining.reports_io.read_reports` makes them (clean_text,
            detect_language, text_sha256), with accession number, patient id and study date;
  mine      `mining.pipeline.mined_rows(rows)` on each batch, as `flows.library.mine_reports`
            does in `flows.pipeline.mine_batch` (one process: the pipeline mines batches in
            threads, or Dask workers; `--processes` passes n_process as `radmine mine-reports -j` does);
  protect   `flows.privacy.protect_batch` on each batch's reports, references, labels and
            snippet_labels, as `protect_version` does at publishing: keyed pseudonyms, text
            scrubbed by `mining.deid` (typed placeholders), offsets remapped, snippets re-cut;
  write     each protected batch through `data_contracts.TableWriter` (conformed, checked,
            keys checked over the whole table on close), so nothing holds the archive.

Not measured here: reading the reports file, assembling the tables with their near-duplicate
clusters, matching; `bench/load_pipeline.py` runs the pipeline itself, all steps included. Report texts are the phantom's report generator texts (a 4-study phantom export written
once per workdir, by a child process), varied per copy (ids, numbers, and one identifier of
each kind so scrubbing has work).

Progress goes to stderr every --progress reports (done, seconds, rate, current RSS, load
average); the result is one JSON line on stdout: counts, seconds per stage, rates, peak RSS
(ru_maxrss: at the end, and before the writers close and check keys over whole tables) and
RSS at the start of the stream, the mean load average, and for runs under one
million reports the projected time for 1,000,000 at the measured rate. Not a test.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

EXTRA = ["Dictated by Dr. Anna Weber.", "MRN: 00{n:06d}.", "Compared with 03/{d:02d}/2019.",
         "Call (555) 201-{n4:04d} with questions.", "A 9{a}-year-old patient."]
TABLES = ("reports", "references", "labels", "snippet_labels")  # reports first: its offset maps serve the others
BENCH_KEY = b"radmine-load-benchmark-key-0123456789abcdef"  # a fixed key: no key file is created


def base_texts(seed: int, workdir: Path) -> list[str]:
    """The phantom's report texts. The phantom (DICOM and all) is written by a child process,
    once per workdir, so neither its time nor its memory is charged to the measured stream."""
    import csv
    import subprocess

    csv_path = workdir / "phantom" / "reports.csv"
    if not csv_path.exists():
        code = ("import sys; from pathlib import Path; from dataset.phantom import generate_export; "
                "generate_export(Path(sys.argv[1]), 4, seed=int(sys.argv[2]), matrix=16)")
        subprocess.run([sys.executable, "-c", code, str(workdir / "phantom"), str(seed)],
                       cwd=Path(__file__).resolve().parents[1], check=True, capture_output=True)
    with open(csv_path, newline="", encoding="utf-8") as fh:
        return [row["text"] for row in csv.DictReader(fh)]


def report_rows(n: int, seed: int, base: list[str]):
    """Report rows, n of them, built as read_reports builds them (clean_text, language, sha256)."""
    from mining.language import detect_language
    from mining.text_clean import clean_text

    rng = random.Random(seed)
    for i in range(n):
        extra = rng.choice(EXTRA).format(n=i % 1_000_000, d=1 + i % 28, n4=i % 10000, a=i % 10)
        text = clean_text(f"{base[i % len(base)]}\n{extra}\n(ref {i})")
        yield {"report_id": f"R{i:08d}", "accession_number": f"ACC{i:09d}", "patient_id": f"P{i // 4:08d}",
               "study_date": None, "language": detect_language(text), "text": text,
               "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}


def rss_now_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def rss_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=2000, help="reports mined, protected and written together")
    ap.add_argument("--processes", type=int, default=1, help="n_process for mined_rows (the pipeline uses 1)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--progress", type=int, default=50000, help="a progress line every N reports (stderr)")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()

    import pyarrow as pa

    import data_contracts as dc
    from data_contracts.pseudonym import Pseudonymizer
    from flows.privacy import TextProtector, protect_batch
    from mining.pipeline import mined_rows

    work = args.workdir or Path(tempfile.mkdtemp(prefix="radmine-load-mining-"))
    work.mkdir(parents=True, exist_ok=True)
    out_dir = work / "published"
    out_dir.mkdir(exist_ok=True)
    base = base_texts(args.seed, work)
    pz = Pseudonymizer(BENCH_KEY)
    tp = TextProtector(pz)
    stream = report_rows(args.reports, args.seed, base)
    rss_start = rss_now_mb()
    t = {"rows": 0.0, "mine": 0.0, "protect": 0.0, "write": 0.0}
    counts = dict.fromkeys(TABLES, 0)
    loads, n = [os.getloadavg()[0]], 0
    next_progress = args.progress
    t0 = time.perf_counter()
    writers = {name: dc.TableWriter(name, out_dir) for name in TABLES}
    for w in writers.values():
        w.__enter__()
    try:
        while n < args.reports:
            a = time.perf_counter()
            rows = [r for _, r in zip(range(args.batch), stream)]
            b = time.perf_counter()
            mined = mined_rows(rows, n_process=args.processes)
            c = time.perf_counter()
            report_maps: dict = {}  # per batch: a report's references and labels are in its batch
            protected = {name: protect_batch(name, dc.conform(name, mined[name]), pz, tp, report_maps) for name in TABLES}
            d = time.perf_counter()
            for name in TABLES:
                writers[name].write(protected[name])
                counts[name] += protected[name].num_rows
            e = time.perf_counter()
            t["rows"] += b - a
            t["mine"] += c - b
            t["protect"] += d - c
            t["write"] += e - d
            n += len(rows)
            del rows, mined, protected, report_maps
            if n >= next_progress or n >= args.reports:
                next_progress += args.progress
                loads.append(os.getloadavg()[0])
                el = time.perf_counter() - t0
                print(json.dumps({"done": n, "seconds": round(el, 1), "reports_per_s": round(n / el, 1),
                                  "rss_mb": round(rss_now_mb(), 1), "load1": loads[-1]}), file=sys.stderr, flush=True)
        peak_stream = rss_peak_mb()  # before the writers' whole-table key checks on close
        a = time.perf_counter()
        for w in writers.values():
            w.__exit__(None, None, None)
        t["close"] = time.perf_counter() - a  # key checks over the whole tables, rename into place
    except BaseException as exc:
        for w in writers.values():
            w.__exit__(type(exc), exc, None)
        raise
    total = time.perf_counter() - t0
    out = {"reports": n, **{f"{k}_rows": v for k, v in counts.items() if k != "reports"},
           "placeholders": sum(tp.counts.values()), "texts_scrubbed": tp.changed,
           "seconds": round(total, 1), "reports_per_s": round(n / total, 1),
           "stage_seconds": {k: round(v, 1) for k, v in t.items()},
           "mining_reports_per_s": round(n / t["mine"], 1), "protect_reports_per_s": round(n / t["protect"], 1),
           "peak_rss_mb": round(rss_peak_mb(), 1), "peak_rss_before_close_mb": round(peak_stream, 1),
           "rss_before_stream_mb": round(rss_start, 1),
           "load1_mean": round(sum(loads) / len(loads), 2), "load1_max": round(max(loads), 2),
           "batch": args.batch, "processes": args.processes, "cpus": os.cpu_count(), "nice": os.nice(0),
           "output_mb": round(sum(p.stat().st_size for p in out_dir.glob("*.parquet")) / 2**20, 1)}
    if n < 1_000_000:
        out["projected_1M_hours"] = round(1_000_000 / (n / total) / 3600, 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
