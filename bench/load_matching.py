"""Load benchmark: `radmine match`, `radmine export radfinder-json` and `radmine volumes` over a large index.

    .venv/bin/python bench/load_matching.py DATA_DIR --copies 1 20 [--old-repo PATH]
    .venv/bin/python bench/load_matching.py --studies 20 --copies 1 5       # makes its own DATA_DIR first

DATA_DIR is an indexed and mined dataset (`radmine index` + `radmine mine-reports`, e.g. of `radmine synth -n 160`);
without it, --studies N phantom studies are generated, indexed and mined under the work folder.
Its `instances`, `series`, `reports` and `references` are copied K times under new UIDs, accession numbers, patient
ids, paths and report ids (the same studies K times over), then each step runs in a child process:

  match    `dataset.matching.run_match`, the real matching
  export   `dataset.radfinder_export.export_radfinder_json` of those pairs (`radmine export radfinder-json`)
  volumes  `dataset.volumes.run_volumes` with each series' build skipped: its plan and its reads of the index
           only (decoding thousands of volumes is not what is measured here)

Each step runs on the copy the one before it left. One JSON line per step and size: seconds, and the child's
peak RSS (sampled every 5 ms from /proc) above its RSS after the imports (MB, and KB per image). With --old-repo
(a checkout of another commit, e.g. `git worktree add /tmp/old <commit>`) the same steps run with that code too,
on copies of the same tables, for a before/after in one run. Not a test.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

UID_COLUMNS = ("sop_instance_uid", "series_instance_uid", "study_instance_uid")

CHILD = """
import json, sys, threading, time
step, data = sys.argv[1], sys.argv[2]
import data_contracts, data_contracts.sql, duckdb, pandas, pyarrow
from dataset import matching, volumes


def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 1e6


data_contracts.read_table("series", data)
base, peak, done = rss_mb(), [0.0], threading.Event()


def sample():
    while not done.wait(0.005):
        peak[0] = max(peak[0], rss_mb())


threading.Thread(target=sample, daemon=True).start()
t = time.perf_counter()
if step == "match":
    counts = matching.run_match(data)
elif step == "export":
    from dataset.radfinder_export import export_radfinder_json
    counts = export_radfinder_json(data, data + "-radfinder")
else:
    seen = []
    volumes._build_one = lambda uid, s, images, *rest: seen.append(0 if images is None else len(images))
    volumes.run_volumes(data, export=data, progress=False)
    counts = {"series": len(seen), "images": sum(seen)}
seconds = time.perf_counter() - t
done.set()
print(json.dumps({"seconds": round(seconds, 2), "peak_above_imports_mb": round(max(peak[0], rss_mb()) - base),
                  "counts": {k: counts[k] for k in ("references", "pairs", "series", "images", "slices") if k in counts}}))
"""


def _suffixed(table, columns, suffix: str, prefix_path: str | None = None):
    import pyarrow as pa
    import pyarrow.compute as pc

    for name in columns:
        if name in table.column_names:
            col = table.column(name)
            table = table.set_column(table.schema.get_field_index(name), name,
                                     pc.binary_join_element_wise(col, pa.scalar(suffix), ""))
    if prefix_path is not None and "path" in table.column_names:
        table = table.set_column(table.schema.get_field_index("path"), "path",
                                 pc.binary_join_element_wise(pa.scalar(prefix_path), table.column("path"), ""))
    return table


def replicate(src: Path, dst: Path, copies: int) -> int:
    """`copies` copies of src's index and reports under new keys in dst; returns the number of images."""
    import data_contracts as dc

    src = dc.current_dir(src)  # a flow's dataset: its published version
    dst.mkdir(parents=True, exist_ok=True)
    keys = {
        "instances": (UID_COLUMNS + ("accession_number", "patient_id"), True),
        "series": (UID_COLUMNS[1:] + ("accession_number", "patient_id"), False),
        "reports": (("report_id", "accession_number", "patient_id"), False),
        "references": (("report_id",), False),
    }
    for name, (columns, paths) in keys.items():
        table = dc.read_table(name, src)
        with dc.TableWriter(name, dst) as w:
            for k in range(copies):
                w.write(_suffixed(table, columns, f".{k + 1}", f"c{k + 1}/" if paths else None))
    (dst / ".radmine.json").write_text(json.dumps({"export_root": str(dst)}))
    return dc.read_table("instances", dst, columns=["path"]).num_rows


def phantom_dataset(work: Path, studies: int) -> Path:
    """An indexed and mined dataset of `studies` phantom studies (matrix 32) under `work`."""
    from dataset.phantom import generate_export
    from flows.cli import main as radmine

    ph, data = work / f"phantom-{studies}", work / f"phantom-{studies}-data"
    shutil.rmtree(ph, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)
    generate_export(ph, studies, seed=1, matrix=32)
    for argv in (["index", str(ph / "export"), "--out", str(data), "--no-progress"],
                 ["mine-reports", str(ph / "reports.csv"), "--out", str(data)]):
        if radmine(argv) != 0:
            raise SystemExit(f"radmine {argv[0]} failed on the phantom")
    return data


def run_step(repo: Path, step: str, data: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, step, str(data)], cwd=repo, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(repo)))
    if out.returncode:
        raise SystemExit(f"{step} in {repo} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path, nargs="?", help="an indexed and mined dataset folder (else --studies)")
    ap.add_argument("--studies", type=int, default=20, help="phantom studies to generate when no DATA_DIR is given")
    ap.add_argument("--copies", type=int, nargs="+", default=[1, 20])
    ap.add_argument("--old-repo", type=Path, help="another checkout to run the same steps with")
    ap.add_argument("--work", type=Path, help="where to write the copies (default: a temporary folder)")
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="radmine-load-matching-"))
    repos = [("this", REPO)] + ([("old", args.old_repo.resolve())] if args.old_repo else [])
    source = args.data or phantom_dataset(work, args.studies)
    print(json.dumps({"load_average_before": os.getloadavg()}))
    for k in args.copies:
        base = work / f"x{k}"
        shutil.rmtree(base, ignore_errors=True)
        images = replicate(source, base / "src", k)
        for label, repo in repos:
            data = base / label
            shutil.copytree(base / "src", data)
            for step in ("match", "export", "volumes"):  # in a pipeline's order, on one copy
                res = run_step(repo, step, data)
                res.update(code=label, step=step, copies=k, images=images,
                           kb_per_image=round(res["peak_above_imports_mb"] * 1000 / images, 2))
                print(json.dumps(res), flush=True)
            shutil.rmtree(data)
            shutil.rmtree(f"{data}-radfinder", ignore_errors=True)
    print(json.dumps({"load_average_after": os.getloadavg()}))
    if not args.work:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
