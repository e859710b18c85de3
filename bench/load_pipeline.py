"""Load benchmark: the pipeline itself (`flows.pipeline.run_pipeline`, what `radmine mine` runs, without
Prefect) over a large reports archive and an empty export, with the peak memory of each step.

    .venv/bin/python bench/load_pipeline.py --reports 20000 [--keep-identifiers] [--workdir DIR]

Report texts are `bench/load_mining.py`'s (phantom report texts varied per copy, one identifier
each), written once per workdir as JSONL. The export is an empty folder, so every reference is
rejected by matching ("no study") and the index steps cost nothing: what is measured is reading
and planning the reports, mining them in batches, assembling the report tables (near-duplicate
clusters), matching (all rejections) and protecting for publishing (pseudonyms, scrubbing).

A thread samples this process's RSS every 0.1 s; each step's peak is the highest sample while it
ran (steps: plan_reports, mine_batch (all batches), finish_reports, plan_index+index, match,
publish (protect_version and the version switch)). The result is one JSON line: seconds and peak
RSS per step, the overall peak (ru_maxrss) and the rate. Not a test.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

STEPS = ("plan_reports", "plan_index", "mine_batch", "index_batch", "finish_reports", "finish_index", "match", "publish")


class Sampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.step, self.peaks, self.seconds, self._t = "start", {}, {}, time.perf_counter()
        self.stop = threading.Event()

    def enter(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[self.step] = self.seconds.get(self.step, 0.0) + now - self._t
        self.step, self._t = step, now

    def run(self) -> None:
        from load_mining import rss_now_mb

        while not self.stop.is_set():
            self.peaks[self.step] = max(self.peaks.get(self.step, 0.0), rss_now_mb())
            time.sleep(0.1)


def write_reports(path: Path, n: int, seed: int, work: Path) -> None:
    import load_mining as lm

    if path.exists() and path.with_suffix(".done").read_text() == str(n):
        return
    base = lm.base_texts(seed, work)
    with open(path, "w") as fh:
        for r in lm.report_rows(n, seed, base):
            fh.write(json.dumps({"report_id": r["report_id"], "accession_number": r["accession_number"],
                                 "patient_id": r["patient_id"], "text": r["text"]}) + "\n")
    path.with_suffix(".done").write_text(str(n))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=20000)
    ap.add_argument("--keep-identifiers", action="store_true", help="skip protecting (radmine mine --keep-identifiers)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    from flows import pipeline as pl

    work = args.workdir or Path(tempfile.mkdtemp(prefix="radmine-load-pipeline-"))
    work.mkdir(parents=True, exist_ok=True)
    reports = work / f"reports-{args.reports}.jsonl"
    write_reports(reports, args.reports, args.seed, work)
    (work / "export").mkdir(exist_ok=True)
    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    os.environ.setdefault("RADMINE_PSEUDONYM_KEY", "be" * 32)  # a fixed bench key, not the user's
    sampler = Sampler()
    for name in STEPS:  # attribute memory to steps: each step function marks itself while it runs
        fn = getattr(pl, name)

        def wrapped(*a, _fn=fn, _name=name, **kw):
            sampler.enter(_name)
            try:
                return _fn(*a, **kw)
            finally:
                sampler.enter("between")
        setattr(pl, name, wrapped)
    rss_start = __import__("load_mining").rss_now_mb()
    sampler.start()
    t0 = time.perf_counter()
    row = pl.run_pipeline(pl.MineOptions(export_dir=str(work / "export"), reports=str(reports), data_dir=str(data),
                                         keep_identifiers=args.keep_identifiers))
    total = time.perf_counter() - t0
    sampler.enter("end")
    sampler.stop.set()
    sampler.join()
    c = row["counts"]
    print(json.dumps({"reports": c["reports_in_file"], "references": c["tables"]["references"],
                      "rejections": c["tables"]["rejections"], "keep_identifiers": args.keep_identifiers,
                      "seconds": round(total, 1), "reports_per_s": round(args.reports / total, 1),
                      "step_seconds": {k: round(v, 1) for k, v in sampler.seconds.items() if k in STEPS},
                      "step_peak_rss_mb": {k: round(v) for k, v in sampler.peaks.items() if k in STEPS},
                      "rss_before_mb": round(rss_start), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                      "load1": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
