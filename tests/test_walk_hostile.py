"""The export walk on a hostile file system: symlinks out of the root, symlink loops,
unreadable folders and file names that are not valid UTF-8."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import data_contracts as dc
from dataset.index import index_export, walk_export


@pytest.fixture
def export(tmp_path, dicom_samples):
    src = next(f for f in sorted((dicom_samples / "pydicom+pydicom__dicomdirtests_CT_16x16").rglob("*"))
               if f.is_file() and f.name != "DICOMDIR")
    root = tmp_path / "export"
    (root / "a").mkdir(parents=True)
    shutil.copy(src, root / "a" / "good.dcm")
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(src, outside / "secret.dcm")
    (outside / "passwd").write_text("root:x:0:0\n")
    return root, outside, src


def _all_paths(data):
    inst = dc.read_table("instances", data).column("path").to_pylist()
    errs = dc.read_table("index_errors", data).column("path").to_pylist()
    return set(inst), set(errs)


def test_symlinks_out_of_the_root_are_not_followed(export, tmp_path):
    root, outside, _ = export
    os.symlink(outside / "secret.dcm", root / "a" / "link_out.dcm")
    os.symlink(outside / "passwd", root / "a" / "passwd")
    os.symlink(outside, root / "dir_out")
    os.symlink(root / "a" / "good.dcm", root / "a" / "link_in.dcm")  # inside the root: fine to read
    data = tmp_path / "data"
    index_export(root, data, workers=1, progress=False)
    inst, errs = _all_paths(data)
    assert "a/good.dcm" in inst
    assert not any("secret" in p or "dir_out" in p for p in inst), inst
    assert "a/link_out.dcm" not in inst and "a/passwd" not in inst
    msgs = " ".join(dc.read_table("index_errors", data).column("message").to_pylist())
    assert "root:x" not in msgs


def test_symlink_loops_survive(export, tmp_path):
    root, _, _ = export
    os.symlink(root, root / "a" / "loop")
    os.symlink(root / "a" / "x1", root / "a" / "x2")
    os.symlink(root / "a" / "x2", root / "a" / "x1")
    files = list(walk_export(root))
    assert len(files) < 10
    data = tmp_path / "data"
    index_export(root, data, workers=1, progress=False)
    inst, errs = _all_paths(data)
    assert "a/good.dcm" in inst and {"a/x1", "a/x2"} <= errs


def test_unreadable_folder_survives(export, tmp_path):
    root, _, src = export
    locked = root / "locked"
    locked.mkdir()
    shutil.copy(src, locked / "hidden.dcm")
    locked.chmod(0)
    try:
        data = tmp_path / "data"
        summary = index_export(root, data, workers=1, progress=False)
        inst, errs = _all_paths(data)
        assert "a/good.dcm" in inst
        if os.geteuid() != 0:  # root reads anyway
            assert "locked/hidden.dcm" not in inst
        assert summary["files"] >= 1
    finally:
        locked.chmod(0o755)


def test_file_names_that_are_not_utf8(export, tmp_path):
    root, _, src = export
    bad = os.fsencode(root / "a") + b"/caf\xe9_\xff.dcm"
    try:
        with open(bad, "wb") as fh:
            fh.write(src.read_bytes())
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    (root / "a" / "ok_é.dcm").write_bytes(src.read_bytes()[:200])
    data = tmp_path / "data"
    index_export(root, data, workers=1, progress=False)
    inst, errs = _all_paths(data)
    everything = inst | errs
    assert "a/good.dcm" in inst and "a/ok_é.dcm" in errs
    # the bad name is accounted for, written as valid UTF-8 (escaped), and the run did not fail
    assert len(everything) == 3
    for p in everything:
        p.encode("utf-8")


def test_fifo_bad_folder_names_and_rerun(export, tmp_path):
    """A FIFO is reported, never opened (it would block); a folder with a non-UTF-8 name is one
    row; a re-run over the same hostile tree reads nothing and equals a fresh run."""
    root, outside, src = export
    os.mkfifo(root / "a" / "pipe.dcm")
    os.symlink(outside / "secret.dcm", root / "a" / "link_out.dcm")
    os.symlink(root / "missing", root / "a" / "broken")
    try:
        os.mkdir(os.fsencode(root) + b"/bad_\xfe")
        shutil.copy(src, os.fsencode(root) + b"/bad_\xfe/x.dcm")
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    data = tmp_path / "data"
    first = index_export(root, data, workers=1, progress=False)
    errs = {r["path"]: r for r in dc.read_table("index_errors", data).to_pylist()}
    assert errs["a/pipe.dcm"]["error_kind"] == "unreadable" and "FIFO" in errs["a/pipe.dcm"]["message"]
    assert errs["bad_\\xfe"]["error_kind"] == "unreadable" and "not valid UTF-8" in errs["bad_\\xfe"]["message"]
    assert "outside the export root" in errs["a/link_out.dcm"]["message"]
    assert errs["a/broken"]["error_kind"] == "unreadable"
    assert first["files"] == 5 and first["instances"] == 1
    again = index_export(root, data, workers=1, progress=False)
    assert again["files_read"] == 0 and again["files_reused"] == 5
    (root / "a" / "broken").unlink()
    os.symlink(outside / "passwd", root / "a" / "broken")  # same path, another reason
    third = index_export(root, data, workers=2, progress=False)
    assert third["files_read"] == 1
    fresh = tmp_path / "fresh"
    index_export(root, fresh, workers=1, progress=False)
    for name, key in (("instances", "path"), ("index_errors", "path")):
        a = dc.read_table(name, data).sort_by(key).to_pylist()
        assert a == dc.read_table(name, fresh).sort_by(key).to_pylist(), name


def test_the_flow_indexes_a_hostile_export_as_radmine_index_does(export, tmp_path):
    """The flow's index batches (flows.library over dataset.index.read_files) give the same
    instances and index_errors rows as `radmine index` (index_export): walk messages, time limit."""
    import threading

    from flows import pipeline as pl
    from flows.library import Library

    root, outside, _ = export
    os.mkfifo(root / "a" / "pipe.dcm")  # would block a reader that opened it
    os.symlink(outside / "secret.dcm", root / "a" / "link_out.dcm")
    (root / "a" / "notes.txt").write_text("not dicom\n")
    (tmp_path / "reports.jsonl").write_text("")
    flow_data, index_data = tmp_path / "flow", tmp_path / "index"
    pl.run_pipeline(pl.MineOptions(export_dir=str(root), reports=str(tmp_path / "reports.jsonl"),
                                   data_dir=str(flow_data), keep_identifiers=True, file_batch_size=2))
    index_export(root, index_data, workers=1, progress=False)
    for t in ("instances", "index_errors"):
        assert dc.read_table(t, flow_data).to_pylist() == dc.read_table(t, index_data).to_pylist(), t
    errs = {e["path"]: e["message"] for e in dc.read_table("index_errors", index_data).to_pylist()}
    assert "outside the export root" in errs["a/link_out.dcm"] and "FIFO" in errs["a/pipe.dcm"]

    # in a Prefect task's thread (no SIGALRM there) the batch is read in a worker process, same rows
    lib, got = Library(), {}
    entries = [tuple(r.values()) for r in lib.list_export(root).to_pylist()]
    th = threading.Thread(target=lambda: got.update(rows=lib.index_files(root, entries)))
    th.start()
    th.join()
    assert got["rows"] == lib.index_files(root, entries)
    assert sorted(e["path"] for e in got["rows"][1]) == sorted(errs)


@pytest.mark.parametrize("layout", ["wide", "one_top_folder", "big_folders"])
def test_the_readers_split_walk_equals_the_walk(export, tmp_path, layout, monkeypatch):
    """list_export with reader processes (the flow's) cuts the walk into subtrees walked in two processes; the
    table equals walk_export's entries, in walk order, hostile entries and the excluded data folder included. With
    "big_folders" every folder counts as big: the export's own folder is cut into parts of two names
    (`_folder_parts`), hostile entries and names that are not UTF-8 among them, its subfolders walked whole."""
    import dataset.index as index
    from dataset.index import close_readers, list_export, open_readers

    root, outside, src = export
    top = root / "DICOM" if layout == "one_top_folder" else root  # one folder on top: the split goes deeper
    extra = 0
    if layout == "big_folders":  # the cut is made in this process: the readers only walk what they are handed
        monkeypatch.setattr(index, "BIG_FOLDER_BYTES", -1)
        monkeypatch.setattr(index, "FOLDER_PART", 2)
        os.mkdir(os.fsencode(root) + b"/bad\xffdir")
        (Path(os.fsdecode(os.fsencode(root) + b"/bad\xffdir")) / "f").write_bytes(b"f")
        Path(os.fsdecode(os.fsencode(root) + b"/bad\xfffile")).write_bytes(b"b")
        os.symlink(outside / "secret.dcm", root / "link_out.dcm")
        os.mkfifo(root / "pipe")
        extra = 4  # the folder and the file named badly (an entry each, the folder not entered), the link, the fifo
    for p in range(5):
        for s in range(3):
            d = top / f"P{p}" / f"S{s}"
            d.mkdir(parents=True, exist_ok=True)
            for i in range(3):
                (d / f"I{i}").write_bytes(b"x" * (p + s + i))
        (top / f"P{p}" / "DIRFILE").write_bytes(b"y")
    os.symlink(outside / "secret.dcm", top / "P1" / "link_out.dcm")
    os.symlink(outside, top / "P2" / "dir_out")
    os.mkfifo(top / "P3" / "pipe")
    (top / "P4" / "S1" / "locked").mkdir()
    (top / "P4" / "S1" / "locked" / "f").write_bytes(b"f")  # an entry whether the folder can be listed (root) or not
    os.chmod(top / "P4" / "S1" / "locked", 0)
    (root / "z.dcm").write_bytes(b"z")
    data = top / "P0" / "data"  # a DATA_DIR inside the export is left out
    (data / "versions").mkdir(parents=True)
    (data / "versions" / "x.parquet").write_bytes(b"p")
    try:
        serial = list(walk_export(root, exclude=[data]))
        if layout == "big_folders":  # the cut that is tested: the export's folder handed out in parts
            assert [kind for kind, _ in index._walk_shares(str(root), [str(data)], 2)] == ["big"]
        open_readers(2)
        try:
            table = list_export(root, exclude=[data])
        finally:
            close_readers()
    finally:
        os.chmod(top / "P4" / "S1" / "locked", 0o755)
    assert [tuple(r.values()) for r in table.to_pylist()] == serial
    assert len(serial) == 5 * (3 * 3 + 1) + 1 + 1 + 1 + 1 + 1 + 1 + extra  # files, links, fifo, locked, z.dcm, good.dcm
    assert not any(p.startswith("P0/data") or "/P0/data" in p for p, *_ in serial)
