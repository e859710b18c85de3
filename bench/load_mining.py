"""Load benchmark: mine (and scrub for publishing) a large report archive at bounded memory.

    .venv/bin/python bench/load_mining.py --reports 1000000          # the full run
    .venv/bin/python bench/load_mining.py --reports 20000            # a scaled-down run

Reports are made on the fly from the phantom's report generator texts (a 4-study phantom
export is written once; its reports are varied per copy: ids, numbers, and one identifier of
each kind added so scrubbing has work), streamed through `mining.mine.mine_report` and
`mining.deid.scrub`, and written in batches to Parquet (`references`, scrubbed `reports`)
through `data_contracts.TableWriter`, as the pipeline does. Nothing holds the archive: memory
is bounded by the batch size.

Prints one JSON line: reports, references, seconds, reports/s (mining, scrubbing, total),
peak RSS (MB), and for runs under one million reports the projected time for 1,000,000 at
the measured rate (memory does not grow with N: see peak_rss_mb across sizes). Not a test.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

EXTRA = ["Dictated by Dr. Anna Weber.", "MRN: 00{n:06d}.", "Compared with 03/{d:02d}/2019.",
         "Call (555) 201-{n4:04d} with questions.", "A 9{a}-year-old patient."]


def report_stream(n: int, seed: int, workdir: Path):
    """(report_id, text) pairs, n of them, made from phantom report texts."""
    import csv

    from dataset.phantom import generate_export

    generate_export(workdir / "phantom", 4, seed=seed, matrix=16)
    with open(workdir / "phantom" / "reports.csv", newline="", encoding="utf-8") as fh:
        base = [row["text"] for row in csv.DictReader(fh)]
    rng = random.Random(seed)
    for i in range(n):
        text = base[i % len(base)]
        extra = rng.choice(EXTRA).format(n=i % 1_000_000, d=1 + i % 28, n4=i % 10000, a=i % 10)
        yield f"R{i:08d}", f"{text}\n{extra}\n(ref {i})"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()

    from data_contracts import TableWriter
    from mining import deid
    from mining.mine import mine_report

    work = args.workdir or Path(tempfile.mkdtemp(prefix="radmine-load-mining-"))
    work.mkdir(parents=True, exist_ok=True)
    stream = report_stream(args.reports, args.seed, work)
    deid.load_rules()
    rss_start = rss_mb()
    t_mine = t_scrub = 0.0
    n_refs = 0
    n = 0
    placeholders = 0
    t0 = time.perf_counter()
    with TableWriter("reports", work) as rep_out:
        reps = []
        for rid, text in stream:
            a = time.perf_counter()
            mined = mine_report(text, rid)
            b = time.perf_counter()
            s = deid.scrub(text)
            c = time.perf_counter()
            t_mine += b - a
            t_scrub += c - b
            placeholders += len(s.spans)
            n_refs += len(mined.references)
            reps.append({"report_id": rid, "language": "en", "text": s.text,
                         "text_sha256": hashlib.sha256(s.text.encode()).hexdigest()})
            n += 1
            if len(reps) >= args.batch:
                rep_out.write(reps)
                reps = []
        if reps:
            rep_out.write(reps)
    total = time.perf_counter() - t0
    out = {"reports": n, "references": n_refs, "placeholders": placeholders, "seconds": round(total, 1),
           "reports_per_s": round(n / total, 1), "mining_reports_per_s": round(n / t_mine, 1),
           "scrub_reports_per_s": round(n / t_scrub, 1), "peak_rss_mb": round(rss_mb(), 1),
           "rss_before_stream_mb": round(rss_start, 1), "batch": args.batch}
    if n < 1_000_000:
        out["projected_1M_hours"] = round(1_000_000 / (n / total) / 3600, 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
