"""Versioned publish, incremental runs and batch failures, over the toy library (no Prefect, no DICOM)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import data_contracts as dc
from flows import pipeline as pl
from flows.toylib import make_toy_export, toy_report, write_toy_image
from flows.versions import RunInProgress, VersionStore, new_run_id

TOY = "flows.toylib:library"
TABLES = ("reports", "references", "labels", "snippet_labels", "instances", "index_errors", "series",
          "snippet_slices", "rejections")


def options(root: Path, **kw) -> pl.MineOptions:
    kw = {"report_batch_size": 2, "file_batch_size": 7, "keep_identifiers": True, **kw}
    return pl.MineOptions(export_dir=str(root / "export"), reports=str(root / "reports.jsonl"),
                          data_dir=str(root / "data"), library=TOY, **kw)


def snapshot(data_dir: Path) -> dict:
    """Table name -> rows of the current version (everything but runs)."""
    return {t: dc.read_table(t, data_dir).to_pylist() for t in TABLES}


def write_reports(root: Path, reports: list[dict]) -> None:
    (root / "reports.jsonl").write_text("".join(json.dumps(r) + "\n" for r in reports))


@pytest.fixture
def toy(tmp_path) -> Path:
    make_toy_export(tmp_path, range(6))
    return tmp_path


def test_run_id_sorts_by_time_and_is_unique():
    ids = [new_run_id() for _ in range(50)]
    assert len(set(ids)) == 50
    assert sorted(ids) == sorted(ids, key=lambda r: r.split("-")[0])


def test_first_run_publishes_a_version_and_current(toy):
    row = pl.run_pipeline(options(toy))
    data = toy / "data"
    assert (data / "CURRENT").read_text().strip() == row["run_id"]
    assert dc.current_dir(data) == data / "versions" / row["run_id"]
    assert not list((data / "versions").glob(".*")), "no partial folder left"
    s = snapshot(data)
    assert len(s["reports"]) == 6 and len(s["instances"]) == 60 and len(s["index_errors"]) == 1
    assert len(s["snippet_slices"]) == 6 and len(s["rejections"]) == 6
    runs = dc.read_table("runs", data).to_pylist()
    assert [r["run_id"] for r in runs] == [row["run_id"]] and runs[0]["status"] == "completed"
    counts = json.loads(runs[0]["counts"])
    assert counts["reports_to_mine"] == 6 and counts["files_to_index"] == 61
    assert counts["tables"]["snippet_slices"] == 6
    # radmine query's SQL reads the current version
    assert dc.query(data, "SELECT count(*) AS n FROM snippet_slices").to_pylist() == [{"n": 6}]


def test_rerun_same_input_is_identical_and_does_no_work(toy):
    first = pl.run_pipeline(options(toy))
    before = snapshot(toy / "data")
    files_before = {t: pq.read_table(dc.table_path(t, toy / "data")) for t in TABLES}
    second = pl.run_pipeline(options(toy))
    assert second["run_id"] != first["run_id"]
    assert snapshot(toy / "data") == before
    for t in TABLES:
        assert pq.read_table(dc.table_path(t, toy / "data")).equals(files_before[t]), t
    c = second["counts"]
    assert c["reports_to_mine"] == 0 and c["files_to_index"] == 0 and c["batches"] == 0
    assert c["reports_carried"] == 6 and c["files_carried"] == 61
    runs = dc.read_table("runs", toy / "data").column("run_id").to_pylist()
    assert runs == sorted([first["run_id"], second["run_id"]])


def test_new_studies_only_are_processed_and_equal_a_full_run(toy, tmp_path_factory):
    pl.run_pipeline(options(toy))
    for i in range(1, 11):
        write_toy_image(toy / "export", 6, 2, i)
    write_reports(toy, [toy_report(s) for s in range(7)])
    row = pl.run_pipeline(options(toy))
    c = row["counts"]
    assert (c["reports_to_mine"], c["reports_new"], c["reports_carried"]) == (1, 1, 6)
    assert (c["files_to_index"], c["files_carried"]) == (10, 61)
    fresh = tmp_path_factory.mktemp("fresh")
    full = pl.MineOptions(**{**options(toy).__dict__, "data_dir": str(fresh / "data")})
    pl.run_pipeline(full)
    assert snapshot(toy / "data") == snapshot(fresh / "data")


def _parts(data: Path, folder: str = "instances") -> dict[str, int]:
    """Part file name -> inode of the current version's `folder` (e.g. instances, .identified/instances)."""
    return {p.name: p.stat().st_ino for p in sorted((dc.current_dir(data) / folder).glob("part-*.parquet"))}


def test_a_nightly_run_links_unchanged_instance_parts_and_writes_only_what_changed(toy, tmp_path_factory):
    data = toy / "data"
    pl.run_pipeline(options(toy))
    first = _parts(data)
    assert len(first) > 2 and not (dc.current_dir(data) / "instances.parquet").exists()
    for i in range(1, 11):
        write_toy_image(toy / "export", 6, 2, i)
    write_reports(toy, [toy_report(s) for s in range(7)])
    row = pl.run_pipeline(options(toy))
    second = _parts(data)
    assert {n: second[n] for n in first} == first, "unchanged parts are the previous version's files (hard links)"
    new = sorted(set(second) - set(first))
    assert len(new) == 2 and all(row["run_id"] in n for n in new)  # 10 new files, batches of 7
    holder = next(n for n in second if "P0/S0/2/IM0001.json" in
                  pq.read_table(dc.current_dir(data) / "instances" / n, columns=["path"]).column(0).to_pylist())
    changed = write_toy_image(toy / "export", 0, 2, 1)
    os.utime(changed, (1, 1))
    pl.run_pipeline(options(toy))
    third = _parts(data)
    rewritten = {n for n in second if third.get(n) != second[n]}
    assert rewritten == {holder}, "only the part that held the changed file is rewritten"
    fresh = tmp_path_factory.mktemp("fresh")
    pl.run_pipeline(pl.MineOptions(**{**options(toy).__dict__, "data_dir": str(fresh / "data")}))
    assert snapshot(data) == snapshot(fresh / "data")
    assert dc.query(data, "SELECT count(*) AS n FROM instances").to_pylist() == [{"n": len(snapshot(data)["instances"])}]


def test_protected_parts_of_unchanged_files_are_linked_and_a_new_key_protects_all_again(toy, monkeypatch,
                                                                                          tmp_path_factory):
    data = toy / "data"

    def fresh_run() -> dict:
        fresh = tmp_path_factory.mktemp("fresh")
        pl.run_pipeline(pl.MineOptions(**{**options(toy, keep_identifiers=False).__dict__, "data_dir": str(fresh / "data")}))
        return snapshot(fresh / "data")

    monkeypatch.setenv("RADMINE_PSEUDONYM_KEY", "ab" * 32)
    pl.run_pipeline(options(toy, keep_identifiers=False))
    first = _parts(data)
    for i in range(1, 11):
        write_toy_image(toy / "export", 6, 2, i)
    write_reports(toy, [toy_report(s) for s in range(7)])
    row = pl.run_pipeline(options(toy, keep_identifiers=False))
    second = _parts(data)
    assert {n: second[n] for n in first} == first, "protected copies of unchanged parts are linked, not rewritten"
    privacy = row["counts"]["privacy"]
    assert (privacy["parts_carried"], privacy["parts_protected"]) == (len(first), len(second) - len(first))
    assert snapshot(data) == fresh_run()
    monkeypatch.setenv("RADMINE_PSEUDONYM_KEY", "cd" * 32)  # a new key: every pseudonym changes
    row = pl.run_pipeline(options(toy, keep_identifiers=False))
    assert row["counts"]["privacy"]["parts_carried"] == 0
    assert not set(_parts(data).items()) & set(second.items())
    assert snapshot(data) == fresh_run()


def test_amended_report_replaces_its_rows_and_vanished_report_is_dropped(toy):
    pl.run_pipeline(options(toy))
    reports = [toy_report(s) for s in range(6)]
    reports[1] = {**reports[1], "text": "FINDINGS: Nothing (series 2, image 3)."}  # amended: one reference now
    del reports[4]  # no longer in the archive
    write_reports(toy, reports)
    row = pl.run_pipeline(options(toy))
    c = row["counts"]
    assert (c["reports_amended"], c["reports_dropped"], c["reports_to_mine"]) == (1, 1, 1)
    s = snapshot(toy / "data")
    refs = [r for r in s["references"] if r["report_id"] == "R1"]
    assert [r["ref_text"] for r in refs] == ["series 2, image 3"]
    assert "R4" not in {r["report_id"] for t in ("reports", "references", "labels", "snippet_slices")
                        for r in s[t]}
    labels_r1 = {r["label"]: r["value"] for r in s["labels"] if r["report_id"] == "R1"}
    assert labels_r1["Lung nodule"] == "not_mentioned"


def test_append_reports_keeps_reports_missing_from_the_file(toy):
    pl.run_pipeline(options(toy))
    write_reports(toy, [toy_report(9)])
    row = pl.run_pipeline(options(toy, append_reports=True))
    assert row["counts"]["reports_carried"] == 6
    assert {r["report_id"] for r in snapshot(toy / "data")["reports"]} == {f"R{i}" for i in (0, 1, 2, 3, 4, 5, 9)}


def test_changed_and_removed_files(toy):
    pl.run_pipeline(options(toy))
    changed = write_toy_image(toy / "export", 0, 2, 1)
    os.utime(changed, (1, 1))  # same content, other mtime: read again
    (toy / "export" / "P1" / "S1" / "2" / "IM0010.json").unlink()
    row = pl.run_pipeline(options(toy))
    assert row["counts"]["files_to_index"] == 1 and row["counts"]["files_removed"] == 1
    inst = snapshot(toy / "data")["instances"]
    assert len(inst) == 59
    assert [r["mtime"] for r in inst if r["path"] == "P0/S0/2/IM0001.json"] == [1.0]


def test_failed_batch_keeps_previous_rows_and_is_retried_next_run(toy, monkeypatch):
    pl.run_pipeline(options(toy))
    reports = [toy_report(s) for s in range(6)]
    reports[2] = toy_report(2, amended=True)
    reports.append(toy_report(7))
    write_reports(toy, reports)
    monkeypatch.setenv("RADMINE_TOY_FAIL_REPORTS", "R2")
    row = pl.run_pipeline(options(toy, report_batch_size=1))
    assert row["status"] == "completed_with_errors" and row["counts"]["failed_batches"] == 1
    s = snapshot(toy / "data")
    assert "Addendum" not in next(r["text"] for r in s["reports"] if r["report_id"] == "R2"), "old rows kept"
    assert "R7" in {r["report_id"] for r in s["reports"]}
    monkeypatch.delenv("RADMINE_TOY_FAIL_REPORTS")
    row = pl.run_pipeline(options(toy, report_batch_size=1))
    assert row["status"] == "completed" and row["counts"]["reports_to_mine"] == 1
    assert "Addendum" in next(r["text"] for r in snapshot(toy / "data")["reports"] if r["report_id"] == "R2")


def test_volumes_are_built_in_batches_and_a_night_builds_only_its_new_series(toy, monkeypatch):
    monkeypatch.setattr(pl, "VOLUME_BATCH", 4)
    first = pl.run_pipeline(options(toy, volumes=True))
    c = first["counts"]
    assert (c["volumes_to_build"], c["volumes_built"], c["volumes_cached"], c["volumes"]) == (6, 6, 0, 6)
    assert c["batches"] == 3 + 9 + 2, "3 report batches, 9 index batches, 2 volume batches of 4 and 2 series"
    for s in range(6, 8):
        for i in range(1, 11):
            write_toy_image(toy / "export", s, 2, i)
    second = pl.run_pipeline(options(toy, volumes=True))
    c = second["counts"]
    assert (c["volumes_to_build"], c["volumes_built"], c["volumes_cached"], c["volumes"]) == (2, 2, 6, 8)
    vols = dc.read_table("volumes", toy / "data").to_pylist()
    assert [v["series_instance_uid"] for v in vols] == [f"1.2.{s}.2" for s in range(8)]
    version = dc.current_dir(toy / "data")
    assert all((version / v["array_path"]).is_file() for v in vols), "every volume's array is in the version"


def test_a_failed_volume_batch_leaves_its_series_out_and_the_next_run_builds_them(toy, monkeypatch):
    monkeypatch.setattr(pl, "VOLUME_BATCH", 4)
    monkeypatch.setenv("RADMINE_TOY_FAIL_VOLUMES", "1.2.5.2")  # the second batch: series 4 and 5
    row = pl.run_pipeline(options(toy, volumes=True))
    assert row["status"] == "completed_with_errors" and row["counts"]["failed_batches"] == 1
    assert row["counts"]["volumes"] == 4
    vols = dc.read_table("volumes", toy / "data").to_pylist()
    assert [v["series_instance_uid"] for v in vols] == [f"1.2.{s}.2" for s in range(4)]
    version = dc.current_dir(toy / "data")
    assert sorted(p.name for p in (version / "volumes").iterdir()) == sorted(Path(v["array_path"]).name for v in vols), \
        "the failed batch's saved array (series 4) and its temporary (series 5) are not published"
    assert row["counts"]["volume_leftovers_removed"] == 2
    monkeypatch.delenv("RADMINE_TOY_FAIL_VOLUMES")
    row = pl.run_pipeline(options(toy, volumes=True))
    assert row["status"] == "completed" and row["counts"]["volumes_built"] == 2 and row["counts"]["volumes"] == 6


def test_the_volume_cache_drops_arrays_no_version_links_and_killed_writers_temporaries(tmp_path):
    from flows.library import prune_volume_cache

    cache, version = tmp_path / "cache" / "volumes", tmp_path / "versions" / "v1" / "volumes"
    cache.mkdir(parents=True)
    version.mkdir(parents=True)
    for key in ("kept", "orphan"):
        (cache / f"{key}.npy").write_bytes(b"array")
        (cache / f"{key}.json").write_text("{}")
    os.link(cache / "kept.npy", version / "abc.npy")  # a published version still uses it
    (cache / ".half.json.tmp").write_text("{")  # a reader killed between write and rename
    assert prune_volume_cache(tmp_path / "cache") == 1
    assert sorted(p.name for p in cache.iterdir()) == ["kept.json", "kept.npy"]


def test_prune_keeps_newest_k_and_current(toy):
    ids = [pl.run_pipeline(options(toy, keep_versions=2))["run_id"] for _ in range(4)]
    store = VersionStore(toy / "data")
    assert store.published() == ids[-2:]
    assert store.current() == ids[-1]
    assert len(dc.read_table("runs", toy / "data")) == 4, "the runs table accumulates across versions"


def test_leftovers_of_killed_runs_are_removed_and_current_never_touched(toy):
    first = pl.run_pipeline(options(toy))["run_id"]
    store = VersionStore(toy / "data")
    (store.versions / ".20990101T000000000000Z-abcdef.partial").mkdir()
    (store.versions / "20990101T000000000000Z-abcdef").mkdir()  # renamed, CURRENT never switched
    (store.root / "CURRENT.tmp").write_text("junk")
    store.lock()
    try:
        removed = store.clean_leftovers()
    finally:
        store.unlock()
    assert sorted(removed) == sorted(["CURRENT.tmp", ".20990101T000000000000Z-abcdef.partial",
                                      "20990101T000000000000Z-abcdef"])
    assert store.published() == [first] and store.current() == first


def test_second_concurrent_run_is_refused(toy):
    store = VersionStore(toy / "data")
    store.lock()
    try:
        with pytest.raises(RunInProgress, match="another radmine run"):
            pl.run_pipeline(options(toy))
    finally:
        store.unlock()
    pl.run_pipeline(options(toy))


def test_a_step_failure_leaves_the_previous_version(toy, monkeypatch):
    first = pl.run_pipeline(options(toy))["run_id"]
    before = snapshot(toy / "data")
    monkeypatch.setattr(pl, "match", lambda ctx: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        pl.run_pipeline(options(toy, full=True))
    store = VersionStore(toy / "data")
    assert store.current() == first and store.published() == [first]
    assert not list(store.versions.glob(".*"))
    assert snapshot(toy / "data") == before


def test_published_tables_are_pseudonymised_and_carry_over_uses_the_identified_copies(toy, monkeypatch):
    monkeypatch.setenv("RADMINE_PSEUDONYM_KEY", "ab" * 32)
    first = pl.run_pipeline(options(toy, keep_identifiers=False))
    data = toy / "data"
    published = {r["report_id"] for r in dc.read_table("reports", data).to_pylist()}
    assert published and not published & {f"R{i}" for i in range(6)}
    ident = dc.current_dir(data) / ".identified"
    assert {r["report_id"] for r in pq.read_table(ident / "reports.parquet").to_pylist()} == {f"R{i}" for i in range(6)}
    assert dc.read_table("runs", data).to_pylist()[0]["keep_identifiers"] is False
    before = snapshot(data)
    second = pl.run_pipeline(options(toy, keep_identifiers=False))
    assert second["counts"]["reports_to_mine"] == 0 and second["counts"]["files_to_index"] == 0
    assert snapshot(data) == before, "carry-over of identified rows gives the same protected tables"
    assert first["run_id"] != second["run_id"]


def test_reports_to_mine_are_planned_in_duckdb_one_row_group_per_batch(toy):
    """plan_reports streams the file and writes the reports to mine, one row group per batch, so a
    batch reads only its own reports (reading the whole file per batch was quadratic)."""
    pl.run_pipeline(options(toy))
    reports = [toy_report(s) for s in range(6)] + [toy_report(s) for s in (11, 7, 9)]
    reports[2] = {**reports[2], "text": reports[2]["text"] + " Amended."}
    write_reports(toy, reports)
    store, ctx = pl.start_run(options(toy))
    try:
        plan = pl.plan_reports(ctx)
        pf = pq.ParquetFile(ctx.scratch / "reports_in.parquet")
        groups = [pf.read_row_group(i).column("report_id").to_pylist() for i in range(pf.num_row_groups)]
        assert groups == [["R11", "R2"], ["R7", "R9"]]  # new and amended, by id, two a batch
        assert plan.batches == [[0, 2], [2, 4]]
        assert {k: plan.counts[k] for k in ("reports_in_file", "reports_to_mine", "reports_new", "reports_amended",
                                            "reports_carried")} == {"reports_in_file": 9, "reports_to_mine": 4,
                                                                    "reports_new": 3, "reports_amended": 1,
                                                                    "reports_carried": 5}
        assert pq.read_table(ctx.scratch / "reports_keep.parquet").column(0).to_pylist() == ["R0", "R1", "R3", "R4", "R5"]
        res = pl.mine_batch(ctx, 1, plan.batches[1])
        assert res.ok and pq.read_table(ctx.scratch / "mine-00001" / "reports.parquet").column("report_id").to_pylist() == ["R7", "R9"]
    finally:
        store.unlock()  # the partial version is a leftover the next run removes
