"""Load benchmark: index a large export of small phantom-like CT files at bounded memory.

    .venv/bin/python bench/load_index.py --files 1000000     # the full run (files of a few KB each)
    .venv/bin/python bench/load_index.py --files 20000       # a scaled-down run

The files come from bench/index_bench.py's generator (a realistic ~90-element CT header,
16x16 pixels, one template per series of 100, values patched per file). `radmine index`'s
library call `dataset.index.index_export` runs in a child process with --workers; the peak
RSS of the child, of its largest worker and of all together (sampled from /proc by
index_bench.RssSampler) and the rate are printed as one JSON line, with the load average
(1/5/15 min) before and after indexing and, for smaller runs, the projection to 1,000,000
files at the measured rate. Run it at two sizes to see whether memory grows with N (it
should not: the walk streams into a Parquet listing, at most 3 chunks per worker are in
flight, key checks run in DuckDB). Not a test.

Measured (shared 2-core machine, load average 6-7, 2 workers): see docs/dataset-index.md.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

CHILD = """
import json, sys, time
sys.path.insert(0, "bench")
from index_bench import RssSampler
from dataset.index import index_export
t = time.perf_counter()
with RssSampler() as rss:
    s = index_export(sys.argv[1], sys.argv[2], workers=int(sys.argv[3]), progress=False, incremental=False)
mb = 1024 * 1024
print(json.dumps({"seconds": time.perf_counter() - t, "files": s["files"], "instances": s["instances"],
                  "errors": s["errors"], "self_peak_mb": rss.peak_main / mb, "workers_peak_mb": rss.peak_child / mb,
                  "total_peak_mb": rss.peak_total / mb}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    from index_bench import make_export

    work = args.workdir or Path(tempfile.mkdtemp(prefix="radmine-load-index-"))
    export = work / "export"
    t = time.perf_counter()
    if not export.exists():
        make_export(export, args.files)
    made = time.perf_counter() - t
    load_before = os.getloadavg()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(export), str(work / "data"), str(args.workers)],
                          cwd=REPO, capture_output=True, text=True, check=True)
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    out = {"files": res["files"], "instances": res["instances"], "errors": res["errors"], "workers": args.workers,
           "seconds": round(res["seconds"], 1), "files_per_s": round(res["files"] / res["seconds"], 1),
           "peak_rss_main_mb": round(res["self_peak_mb"], 1), "peak_rss_worker_mb": round(res["workers_peak_mb"], 1),
           "peak_rss_total_mb": round(res["total_peak_mb"], 1),
           "generate_seconds": round(made, 1),
           "loadavg_before": [round(x, 2) for x in load_before],  # 1, 5, 15 min, after generating the files
           "loadavg_after": [round(x, 2) for x in os.getloadavg()]}
    if res["files"] < 1_000_000:
        out["projected_1M_minutes"] = round(1_000_000 / out["files_per_s"] / 60, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
