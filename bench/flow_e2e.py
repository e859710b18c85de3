"""Benchmark of the mining flow (flows.mine_export) on phantom exports; every figure comes from one run.

    .venv/bin/python bench/flow_e2e.py --sizes 20 80 320 [--volumes] [--protect] [--work /tmp/radmine-bench]

For each size N it generates (once, cached under --work) a phantom export of N studies, then measures:

  (a) plain:  flows.pipeline.run_pipeline, the same library functions called directly, one process
  (b) flow:   flows.mine_export as `radmine mine` runs it (flows.mine_flow.run_once: Prefect local mode,
              thread task runner) over the same input, full run;
              the flow's overhead is (b)/(a) - 1 (goal: < 15 % at 320 studies). A warm-up run of both on
              2 studies first pays the imports and Prefect's local API start (printed, once per process)
  (c) rerun:  the flow over the export minus its last 5 % of studies (full run), then again after those
              studies arrive, --reruns times from the same state (median; all printed); (c)/(b) is the cost
              of a nightly re-run (goal: < 10 %)
and the seconds per study of (a) and (b) across sizes (the cost should grow linearly). Runs keep
identifiers unless --protect (pseudonymised published tables, `radmine mine`'s default).
Not a test: nothing here is timed by pytest.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


def _phantom(work: Path, n: int, seed: int) -> Path:
    from dataset.phantom import generate_export

    ph = work / f"phantom-{n}-{seed}"
    if not (ph / ".complete").exists():
        t = time.perf_counter()
        shutil.rmtree(ph, ignore_errors=True)
        generate_export(ph, n, seed=seed)
        (ph / ".complete").write_text("")
        print(f"  generated {n} studies in {time.perf_counter() - t:.0f} s", flush=True)
    return ph


PROTECT = False  # --protect
RERUNS = 3  # --reruns


def _opts(export_root: Path, data: Path, volumes: bool) -> dict:
    return {"export_dir": str(export_root / "export"), "reports": str(export_root / "reports.jsonl"),
            "data_dir": str(data), "keep_identifiers": not PROTECT, "volumes": volumes}


def _in_flow_seconds(data: Path) -> float:
    import data_contracts as dc

    r = dc.read_table("runs", data).sort_by("run_id").to_pylist()[-1]
    return (r["ended_at"] - r["started_at"]).total_seconds()


def _timed_flow(opts: dict, plain: Path) -> tuple[dict, float, float]:
    """One flow run: (result, wall seconds, in-flow seconds); its tables must equal the plain run's."""
    import data_contracts as dc
    from flows.mine_flow import run_once

    t = time.perf_counter()
    res = run_once(opts)  # as `radmine mine` runs it
    took = time.perf_counter() - t
    data = Path(opts["data_dir"])
    for name in ("snippet_slices", "references", "instances"):
        assert dc.read_table(name, data).equals(dc.read_table(name, plain)), name
    return res, took, _in_flow_seconds(data)


def measure(work: Path, n: int, volumes: bool, seed: int) -> dict:
    import data_contracts as dc
    from flows import pipeline as pl
    from flows.mine_flow import run_once
    from flows.testing import grow, split_phantom

    ph = _phantom(work, n, seed)
    runs = work / f"runs-{n}"
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir(parents=True)

    t = time.perf_counter()
    pl.run_pipeline(pl.MineOptions(**_opts(ph, runs / "plain", volumes)))
    plain = time.perf_counter() - t

    res, flow, flow_inner = _timed_flow(_opts(ph, runs / "flow", volumes), runs / "plain")

    # the nightly case: 95 % of the studies yesterday, all of them today
    n_new = max(1, round(n * 0.05))
    from flows.privacy import identified_table_dir

    version = dc.current_dir(runs / "plain")  # real paths and accession numbers, also with --protect
    inst = dc.read_table("instances", identified_table_dir(version, "instances"),
                         columns=["path", "accession_number"]).to_pylist()
    by_path = {r["path"]: r["accession_number"] for r in inst}
    for r in dc.read_table("index_errors", identified_table_dir(version, "index_errors"), columns=["path"]).to_pylist():
        by_path.setdefault(r["path"], None)
    import pyarrow.parquet as pq

    for r in pq.read_table(ph / "truth" / "truth_files.parquet", columns=["path", "accession_number"]).to_pylist():
        if by_path.get(r["path"]) is None:
            by_path[r["path"]] = r["accession_number"]
    base = runs / "nightly"
    split_phantom(ph, base, n_new, by_path=by_path)
    yesterday = (base / "reports.jsonl").read_text()
    old_files = {p for p in (base / "export").rglob("*") if p.is_file()}
    run_once(_opts(base, runs / "yesterday", volumes))
    reruns = []
    for _ in range(RERUNS):  # the same night again from yesterday's state: one re-run is as noisy as the machine
        shutil.rmtree(runs / "nightly-data", ignore_errors=True)
        subprocess.run(["cp", "-a", str(runs / "yesterday"), str(runs / "nightly-data")], check=True)
        for p in {p for p in (base / "export").rglob("*") if p.is_file()} - old_files:
            p.unlink()
        (base / "reports.jsonl").write_text(yesterday)
        grow(base, ph)
        reruns.append(_timed_flow(_opts(base, runs / "nightly-data", volumes), runs / "plain"))
    res2, rerun, rerun_inner = sorted(reruns, key=lambda r: r[1])[len(reruns) // 2]  # the median re-run
    c = res["counts"]
    return {"studies": n, "files": c["files_in_export"], "reports": c["reports_in_file"],
            "pairs": c["tables"]["snippet_slices"], "plain_s": round(plain, 2), "flow_s": round(flow, 2),
            "flow_in_flow_s": round(flow_inner, 2), "flow_overhead": round(flow / plain - 1, 4),
            "flow_in_flow_overhead": round(flow_inner / plain - 1, 4), "new_studies": n_new,
            "rerun_s": round(rerun, 2), "rerun_in_flow_s": round(rerun_inner, 2),
            "rerun_ratio": round(rerun / flow, 4), "rerun_files_read": res2["counts"]["files_to_index"],
            "reruns_s": [round(r[1], 2) for r in reruns],
            "plain_s_per_study": round(plain / n, 3), "flow_s_per_study": round(flow / n, 3)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20, 80, 320])
    ap.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "radmine-flow-bench")
    ap.add_argument("--volumes", action="store_true", help="include the training volumes step")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--protect", action="store_true", help="pseudonymise the published tables (radmine mine's default)")
    ap.add_argument("--out", type=Path, help="write the results as JSON here")
    ap.add_argument("--reruns", type=int, default=3, help="nightly re-runs from the same state (the median is reported)")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    global PROTECT, RERUNS
    PROTECT, RERUNS = args.protect, max(1, args.reruns)
    if PROTECT:
        os.environ.setdefault("RADMINE_PSEUDONYM_KEY", "be" * 32)  # a fixed bench key, not the user's
    os.environ.setdefault("PREFECT_HOME", str(args.work / ".prefect"))
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    # warm-up: imports (spaCy, pydicom, torch), rule compilation and Prefect's local API start are paid
    # once per process, not per run; measure them here and keep them out of the per-size figures
    from flows import pipeline as pl
    from flows.mine_flow import run_once

    ph = _phantom(args.work, 2, args.seed)
    shutil.rmtree(args.work / "warm", ignore_errors=True)
    t = time.perf_counter()
    pl.run_pipeline(pl.MineOptions(**_opts(ph, args.work / "warm" / "plain", args.volumes)))
    warm_plain = time.perf_counter() - t
    t = time.perf_counter()
    run_once(_opts(ph, args.work / "warm" / "flow", args.volumes))
    warm_flow = time.perf_counter() - t
    print(f"warm-up (2 studies): plain {warm_plain:.1f} s (imports), flow {warm_flow:.1f} s "
          f"(+ Prefect local API start, once per process)", flush=True)
    results = []
    for n in args.sizes:
        print(f"== {n} studies", flush=True)
        r = measure(args.work, n, args.volumes, args.seed)
        print(json.dumps(r), flush=True)
        results.append(r)
    print()
    print(f"{'studies':>8} {'files':>7} {'plain s':>8} {'flow s':>8} {'overhead':>9} {'in-flow':>8} "
          f"{'rerun s':>8} {'rerun/full':>10} {'s/study':>8}")
    for r in results:
        print(f"{r['studies']:>8} {r['files']:>7} {r['plain_s']:>8.1f} {r['flow_s']:>8.1f} {r['flow_overhead']:>9.1%} "
              f"{r['flow_in_flow_overhead']:>8.1%} {r['rerun_s']:>8.1f} {r['rerun_ratio']:>10.1%} "
              f"{r['flow_s_per_study']:>8.3f}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
