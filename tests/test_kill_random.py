"""Kill a pipeline run with SIGKILL at random moments, 24 times in a row, changing the input as we go.

After each kill: whatever version is published is valid against every contract and holds the
pairs of either the previous input or the new one, never a mix, a loss or a duplicate. After each
recovery run: the pairs are exactly those of a clean run over the same input, with no leftovers.
Runs use the toy library (flows.toylib) so each takes about a second; pseudonymisation is on
(the default), with a fixed key shared by the runs and the reference.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import data_contracts as dc
from data_contracts import pseudonym as ps
from flows.toylib import make_toy_export, toy_report, write_toy_image

TOY = "flows.toylib:library"
KILLS = 24
KEY = "fe" * 32
REPO = Path(__file__).resolve().parents[1]
CHILD = ("import sys; from flows import pipeline as pl; "
         "pl.run_pipeline(pl.MineOptions(export_dir=sys.argv[1], reports=sys.argv[2], data_dir=sys.argv[3], "
         f"library={TOY!r}, report_batch_size=2, file_batch_size=7))")


def pairs_of(data: Path) -> list[tuple]:
    t = dc.read_table("snippet_slices", data)
    return sorted(zip(*(t.column(c).to_pylist() for c in ("pair_id", "report_id", "ref_id", "referenced_sop_instance_uid",
                                                            "slice_index"))))


def check_valid(data: Path) -> None:
    """Every published table passes its contract; pair ids are unique."""
    root = dc.current_dir(data)
    for p in sorted(root.glob("*.parquet")):
        table = pq.read_table(p)
        dc.validate(p.stem, table.cast(dc.load_contract(p.stem).schema))
    ids = [r[0] for r in pairs_of(data)]
    assert len(ids) == len(set(ids)), "duplicated pair"


def child(root: Path, data: Path) -> subprocess.Popen:
    env = {**os.environ, ps.KEY_ENV: KEY}
    env.pop("RADMINE_TEST_PAUSE_AT", None)
    return subprocess.Popen([sys.executable, "-c", CHILD, str(root / "export"), str(root / "reports.jsonl"), str(data)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def expected_pairs(root: Path, tmp: Path, n: int) -> list[tuple]:
    out = tmp / f"expected-{n}"
    proc = child(root, out)
    log, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, log.decode()[-3000:]
    return pairs_of(out)


def change_input(root: Path, step: int, reports: list[dict]) -> None:
    """Every third step: a new study; every fourth: an amended report; otherwise a touched file."""
    if step % 3 == 0:
        s = 100 + step
        for i in range(1, 8):
            write_toy_image(root / "export", s, 2, i)
        reports.append(toy_report(s))
    elif step % 4 == 0:
        k = step % len(reports)
        reports[k] = toy_report(int(reports[k]["report_id"][1:]), amended=not reports[k]["text"].endswith("stable."))
    else:
        p = sorted((root / "export").rglob("*.json"))[step]
        os.utime(p, (time.time() + step, time.time() + step))
    (root / "reports.jsonl").write_text("".join(json.dumps(r) + "\n" for r in reports))


@pytest.mark.slow
def test_random_kills_lose_and_duplicate_nothing(tmp_path):
    rng = random.Random(7)
    root = tmp_path / "in"
    make_toy_export(root, range(5), images=8)
    reports = [toy_report(s) for s in range(5)]
    (root / "reports.jsonl").write_text("".join(json.dumps(r) + "\n" for r in reports))
    data = tmp_path / "data"
    t0 = time.monotonic()
    first = child(root, data)
    log, _ = first.communicate(timeout=120)
    assert first.returncode == 0, log.decode()[-3000:]
    duration = time.monotonic() - t0
    previous = pairs_of(data)
    assert previous, "the toy input gives pairs"
    killed_mid_run = 0
    for step in range(KILLS):
        change_input(root, step, reports)
        new = expected_pairs(root, tmp_path, step)
        proc = child(root, data)
        time.sleep(rng.uniform(0.15, 1.05) * duration)
        if proc.poll() is None:
            killed_mid_run += 1
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:  # it had finished already
            pass
        proc.wait(timeout=30)
        # after the kill: the published version is whole, old or new
        check_valid(data)
        got = pairs_of(data)
        assert got in (previous, new), f"kill {step}: published pairs are neither the old nor the new set"
        # recovery
        rec = child(root, data)
        log, _ = rec.communicate(timeout=120)
        assert rec.returncode == 0, f"recovery after kill {step} failed: {log.decode()[-3000:]}"
        check_valid(data)
        assert pairs_of(data) == new, f"recovery after kill {step}: pairs lost or duplicated"
        assert not [p.name for p in (data / "versions").iterdir() if p.name.startswith(".")]
        previous = new
    assert killed_mid_run >= KILLS // 2, f"only {killed_mid_run} kills hit a running pipeline"
