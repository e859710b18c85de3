"""The header indexer on DICOM files written here with pydicom: content detection, bad files,
Enhanced CT frames, fast reader == pydicom reader, parallel == serial, incremental == fresh."""
from __future__ import annotations

import os
import shutil
import struct
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import data_contracts as dc
from dataset.dicom_headers import FastReaderDeclined, HeaderError, read_header_fast, read_header_pydicom
from dataset.index import index_export, walk_export

CT = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"
SC = "1.2.840.10008.5.1.4.1.1.7"
BASIC_SR = "1.2.840.10008.5.1.4.1.1.88.11"


# ---------------------------------------------------------------- file factory

def make_ct(path: Path, *, series="1.2.3.4", sop=None, position=(0.0, 0.0, 0.0), orientation=(1, 0, 0, 0, 1, 0),
            instance=1, image_type=("ORIGINAL", "PRIMARY", "AXIAL"), ts="1.2.840.10008.1.2.1", sop_class=CT,
            omit=(), pixels=True, extra=None, rows=4, cols=4) -> Path:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import generate_uid

    sop = sop or generate_uid(prefix="1.2.826.0.1.3680043.10.1.")
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = ts
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = list(image_type)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop
    ds.StudyDate = "20240131"
    ds.AccessionNumber = "ACC1"
    ds.Modality = "CT"
    ds.SeriesDescription = "Thorax 1mm Müller"
    ds.PatientID = "P1"
    ds.SliceThickness = "1.0"
    ds.StudyInstanceUID = "1.2.3"
    ds.SeriesInstanceUID = series
    ds.SeriesNumber = 2
    ds.InstanceNumber = instance
    if position is not None:
        ds.ImagePositionPatient = [f"{v:.4f}" for v in position]
    if orientation is not None:
        ds.ImageOrientationPatient = [f"{v:.6f}" for v in orientation]
    ds.FrameOfReferenceUID = "1.2.3.9"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, cols
    ds.PixelSpacing = ["0.7", "0.8"]
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
    ds.add_new(0x00191010, "LO", "private value")  # a private element to skip
    for k, v in (extra or {}).items():
        setattr(ds, k, v)
    if pixels:
        ds.PixelData = bytes(rows * cols * 2)
    for k in omit:
        if k in ds:
            delattr(ds, k)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def make_enhanced(path: Path, z_items=(10.0, 0.0, 20.0), dim_index=(2, 1, 3), sop_class=ENHANCED_CT,
                  ts="1.2.840.10008.1.2.1", undefined=None) -> Path:
    """An Enhanced CT file; undefined=True/False forces undefined/defined lengths on every
    sequence and item (None: pydicom's default)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import generate_uid

    sop = generate_uid(prefix="1.2.826.0.1.3680043.10.2.")
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = ts
    ds = Dataset()
    ds.file_meta = meta
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"]
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop
    ds.Modality = "CT"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.3", "1.2.3.77"
    ds.InstanceNumber = 1
    ds.NumberOfFrames = len(z_items)
    ds.Rows = ds.Columns = 4
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    shared = Dataset()
    po = Dataset()
    po.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    pm = Dataset()
    pm.PixelSpacing = [0.5, 0.5]
    pm.SliceThickness = 2.0
    pvt = Dataset()
    pvt.RescaleIntercept, pvt.RescaleSlope, pvt.RescaleType = -1024, 1, "HU"
    shared.PlaneOrientationSequence = Sequence([po])
    shared.PixelMeasuresSequence = Sequence([pm])
    shared.PixelValueTransformationSequence = Sequence([pvt])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    items = []
    for z, d in zip(z_items, dim_index):
        it = Dataset()
        pp = Dataset()
        pp.ImagePositionPatient = [-10.0, -10.0, z]
        fc = Dataset()
        fc.DimensionIndexValues = [d]
        ft = Dataset()
        ft.FrameType = ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"]
        it.PlanePositionSequence = Sequence([pp])
        it.FrameContentSequence = Sequence([fc])
        it.CTImageFrameTypeSequence = Sequence([ft])
        items.append(it)
    ds.PerFrameFunctionalGroupsSequence = Sequence(items)
    ds.PixelData = bytes(len(z_items) * 32)
    if undefined is not None:
        def force(d):
            for elem in d:
                if elem.VR == "SQ":
                    elem.is_undefined_length = undefined
                    for item in elem.value:
                        item.is_undefined_length_sequence_item = undefined
                        force(item)
        force(ds)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True, implicit_vr=ts == "1.2.840.10008.1.2", little_endian=True)
    return path


def make_dicomdir(path: Path) -> Path:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    meta.MediaStorageSOPInstanceUID = "1.2.3.100"
    meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    ds = Dataset()
    ds.file_meta = meta
    ds.FileSetID = "TEST"
    ds.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity = 0
    ds.OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity = 0
    ds.FileSetConsistencyFlag = 0
    ds.DirectoryRecordSequence = Sequence([])
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def axial_series(folder: Path, n=5, spacing=2.5, series="1.2.3.4", names=None, **kw) -> list[Path]:
    out = []
    for i in range(n):
        name = names[i] if names else f"IM{i:04d}"
        out.append(make_ct(folder / name, series=series, position=(-100.0, -100.0, 50.0 - i * spacing), instance=i + 1, **kw))
    return out


def rows_or_error(reader, path) -> list[dict] | str:
    """A header reader's rows of `path`, or the kind of HeaderError it raised (to compare readers)."""
    try:
        return reader(str(path))
    except HeaderError as exc:
        return exc.kind


def table(name, data_dir) -> pa.Table:
    return dc.read_table(name, data_dir)


def sorted_rows(name, data_dir, keys):
    t = table(name, data_dir).sort_by([(k, "ascending") for k in keys])
    return t.to_pylist()


# ---------------------------------------------------------------- tests

def test_content_not_extension_and_directory_objects(tmp_path):
    exp = tmp_path / "export"
    axial_series(exp / "A" / "B", n=3, names=["I10", "I100", "I20"])        # no extensions
    make_ct(exp / "looks_like.txt", series="1.2.3.5", position=(0, 0, 0))  # DICOM despite its name
    (exp / "README.md").write_text("not a DICOM file\n" * 20)
    make_dicomdir(exp / "DICOMDIR")
    s = index_export(exp, tmp_path / "data", workers=1, progress=False)
    inst = table("instances", tmp_path / "data")
    assert sorted(inst.column("path").to_pylist()) == ["A/B/I10", "A/B/I100", "A/B/I20", "looks_like.txt"]
    errs = {r["path"]: r["error_kind"] for r in table("index_errors", tmp_path / "data").to_pylist()}
    assert errs == {"README.md": "not_dicom", "DICOMDIR": "directory_object"}
    assert s["directory_objects"] == 1 and s["errors"] == 1 and s["series"] == 2


def test_bad_files_each_one_error_row_and_the_run_goes_on(tmp_path):
    exp = tmp_path / "export"
    good = axial_series(exp / "good", n=3)
    (exp / "bad").mkdir()
    (exp / "bad" / "empty").write_bytes(b"")
    raw = good[0].read_bytes()
    (exp / "bad" / "cut_header").write_bytes(raw[:400])
    (exp / "bad" / "cut_pixels").write_bytes(raw[:-10])
    (exp / "bad" / "tiny").write_bytes(b"\x00" * 130)
    (exp / "bad" / "text.dcm").write_bytes(b"hello world, not dicom at all" * 10)
    import zipfile

    with zipfile.ZipFile(exp / "bad" / "study.zip", "w") as z:  # an export that arrived packed
        z.write(good[0], "IM0001")
    (exp / "bad" / "garbage").write_bytes(b"\x00" * 128 + b"DICM" + bytes(range(256)) * 4)
    make_ct(exp / "bad" / "no_series", omit=("SeriesInstanceUID",))
    make_ct(exp / "bad" / "sr", sop_class=BASIC_SR, pixels=False, omit=("Rows", "Columns", "PixelSpacing", "ImagePositionPatient", "ImageOrientationPatient"))
    locked = make_ct(exp / "bad" / "locked")
    os.chmod(locked, 0)
    can_lock = not os.access(locked, os.R_OK)
    try:
        for fast in (True, False):
            data = tmp_path / f"data_{fast}"
            s = index_export(exp, data, workers=1, progress=False, fast=fast)
            errs = {r["path"]: r["error_kind"] for r in table("index_errors", data).to_pylist()}
            expected = {
                "bad/empty": "empty", "bad/cut_header": "truncated", "bad/cut_pixels": "truncated",
                "bad/tiny": "not_dicom", "bad/text.dcm": "not_dicom", "bad/garbage": "parse_error",
                "bad/no_series": "missing_attribute", "bad/sr": "not_an_image", "bad/study.zip": "not_dicom",
            }
            if can_lock:
                expected["bad/locked"] = "unreadable"
            assert errs == expected, fast
            assert s["instances"] == 3 + (0 if can_lock else 1)
            for r in table("index_errors", data).to_pylist():
                assert r["path"] in r["message"] and r["size_bytes"] is not None
            assert "a ZIP archive, not a DICOM file; unpack it" in {r["path"]: r["message"] for r in
                                                                   table("index_errors", data).to_pylist()}["bad/study.zip"]
    finally:
        os.chmod(locked, 0o644)


def test_image_without_position_and_secondary_capture_are_indexed_with_nulls(tmp_path):
    exp = tmp_path / "export"
    make_ct(exp / "ct_nopos", series="1.2.3.8", omit=("ImagePositionPatient",))
    make_ct(exp / "sc", series="1.2.3.9", sop_class=SC, omit=("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing"))
    index_export(exp, tmp_path / "d", workers=1, progress=False)
    rows = {r["path"]: r for r in table("instances", tmp_path / "d").to_pylist()}
    assert rows["ct_nopos"]["position_z"] is None and rows["ct_nopos"]["orientation"] == [1, 0, 0, 0, 1, 0]
    assert rows["sc"]["sop_class_uid"] == SC and rows["sc"]["orientation"] is None
    series = {r["series_instance_uid"]: r for r in table("series", tmp_path / "d").to_pylist()}
    assert series["1.2.3.8"]["geometry"] == "not_a_volume" and series["1.2.3.8"]["z_min"] is None


def test_row_values(tmp_path):
    p = make_ct(tmp_path / "x", position=(-1.5, 2.25, 3.125), instance=7, extra={"GantryDetectorTilt": "+12.5"})
    (row,) = read_header_fast(str(p), fallback=False)
    assert row["position_x"] == -1.5 and row["position_y"] == 2.25 and row["position_z"] == 3.125
    assert row["orientation"] == [1, 0, 0, 0, 1, 0] and row["pixel_spacing"] == [0.7, 0.8]
    assert row["instance_number"] == 7 and row["gantry_tilt"] == 12.5 and row["image_type"] == "ORIGINAL\\PRIMARY\\AXIAL"
    assert row["series_description"] == "Thorax 1mm Müller" and str(row["study_date"]) == "2024-01-31"
    assert row["rescale_intercept"] == -1024 and row["rescale_slope"] == 1 and row["rows"] == 4
    assert row["frame_number"] == 1 and row["number_of_frames"] == 1 and row["transfer_syntax_uid"] == "1.2.840.10008.1.2.1"


@pytest.mark.parametrize("ts", ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"])
def test_fast_reader_equals_pydicom(tmp_path, ts):
    p = make_ct(tmp_path / "x", ts=ts, position=(1.0, 2.0, 3.0), extra={"GantryDetectorTilt": "-5"})
    assert read_header_fast(str(p)) == read_header_pydicom(str(p))
    if ts == "1.2.840.10008.1.2.2":  # big endian: the fast reader hands over
        with pytest.raises(FastReaderDeclined):
            read_header_fast(str(p), fallback=False)
    else:
        assert read_header_fast(str(p), fallback=False) == read_header_pydicom(str(p))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_fast_reader_reads_past_the_first_buffer(tmp_path):
    big = make_ct(tmp_path / "big", extra={"ImageComments": "x" * 40000})  # header > 16 KiB before SliceThickness
    assert read_header_fast(str(big), fallback=False) == read_header_pydicom(str(big))


@pytest.mark.parametrize("ts", ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"])
@pytest.mark.parametrize("undefined", [True, False])
def test_fast_reader_reads_functional_groups_like_pydicom(tmp_path, ts, undefined):
    """The fast reader parses the shared and per-frame functional groups itself (no hand-over),
    in explicit and implicit VR, with defined and undefined sequence and item lengths."""
    p = make_enhanced(tmp_path / "enh", ts=ts, undefined=undefined)
    rows = read_header_fast(str(p), fallback=False)
    assert rows == read_header_pydicom(str(p))
    assert [r["position_z"] for r in rows] == [10.0, 0.0, 20.0] and rows[0]["pixel_spacing"] == [0.5, 0.5]


def test_fast_reader_hands_broken_functional_groups_to_pydicom(tmp_path):
    """A per-frame sequence whose defined length ends inside an item: the fast reader declines,
    and both readers then give the same answer."""
    p = make_enhanced(tmp_path / "enh", undefined=False)
    buf = bytearray(p.read_bytes())
    tag = struct.pack("<HH", 0x5200, 0x9230) + b"SQ\0\0"
    at = buf.index(tag) + len(tag)
    (length,) = struct.unpack_from("<I", buf, at)
    struct.pack_into("<I", buf, at, length - 6)  # the sequence now ends inside its last item
    bad = tmp_path / "bad"
    bad.write_bytes(bytes(buf))
    with pytest.raises(FastReaderDeclined):
        read_header_fast(str(bad), fallback=False)
    assert rows_or_error(read_header_fast, bad) == rows_or_error(read_header_pydicom, bad)


def test_enhanced_ct_one_row_per_frame_in_item_order(tmp_path):
    for cls in (ENHANCED_CT, "1.2.840.10008.5.1.4.1.1.2.2"):  # Enhanced, Legacy Converted Enhanced
        p = make_enhanced(tmp_path / cls, sop_class=cls)
        rows = read_header_fast(str(p), fallback=False)
        assert rows == read_header_pydicom(str(p))
        assert [r["frame_number"] for r in rows] == [1, 2, 3]
        assert [r["position_z"] for r in rows] == [10.0, 0.0, 20.0]  # item order, not DimensionIndexValues
        assert all(r["orientation"] == [1, 0, 0, 0, 1, 0] and r["pixel_spacing"] == [0.5, 0.5] for r in rows)
        assert all(r["slice_thickness"] == 2.0 and r["rescale_intercept"] == -1024 and r["number_of_frames"] == 3 for r in rows)
        assert rows[0]["image_type"] == "ORIGINAL\\PRIMARY\\AXIAL\\NONE"
    index_export(tmp_path, tmp_path / "d", workers=1, progress=False)
    (s,) = table("series", tmp_path / "d").to_pylist()
    assert s["n_images"] == 6 and s["geometry"] == "axial" and s["spacing_mm"] == 10.0


def test_parallel_equals_serial_and_pydicom_only(tmp_path, monkeypatch):
    import dataset.index as ix

    exp = tmp_path / "export"
    for k in range(4):
        axial_series(exp / f"s{k}", n=40, series=f"1.2.3.{k}")
    make_enhanced(exp / "enh")
    (exp / "junk").write_bytes(b"junk" * 100)
    index_export(exp, tmp_path / "one", workers=1, progress=False)
    # one chunk or run of series queued per helper: the next ones are read and computed in this
    # process, so both paths (and the order of their results) are exercised
    monkeypatch.setattr(ix, "IN_FLIGHT_PER_WORKER", 1)
    monkeypatch.setattr(ix, "SERIES_TASK_ROWS", 40)
    index_export(exp, tmp_path / "two", workers=2, progress=False, chunk_files=16)
    index_export(exp, tmp_path / "ref", workers=1, progress=False, fast=False)
    for name, keys in (("instances", ["path", "frame_number"]), ("index_errors", ["path"]), ("series", ["series_instance_uid"])):
        a = sorted_rows(name, tmp_path / "one", keys)
        assert a == sorted_rows(name, tmp_path / "two", keys) == sorted_rows(name, tmp_path / "ref", keys), name
        # and in the same row order: results come back in order whichever process made them
        assert table(name, tmp_path / "one").to_pylist() == table(name, tmp_path / "two").to_pylist(), name


def test_series_cut_into_runs_anywhere_equal_one_run(tmp_path, monkeypatch):
    """The series step sends runs of whole series to the helpers: however the sorted rows fall into
    reader batches and runs (a series across several, a run boundary inside one), the same table."""
    import dataset.index as ix

    exp = tmp_path / "export"
    for k, n in enumerate((40, 3, 17, 1, 25)):
        axial_series(exp / f"s{k}", n=n, series=f"1.2.3.{k}")
    make_enhanced(exp / "enh")
    index_export(exp, tmp_path / "d", workers=1, progress=False)
    whole = table("series", tmp_path / "d").to_pylist()
    for batch_rows, task_rows in ((16, 7), (5, 3), (64, 1)):
        monkeypatch.setattr(ix, "BATCH_ROWS", batch_rows)
        monkeypatch.setattr(ix, "SERIES_TASK_ROWS", task_rows)
        assert ix.write_series(tmp_path / "d") == len(whole)
        assert table("series", tmp_path / "d").to_pylist() == whole, (batch_rows, task_rows)


def test_series_in_open_readers_equal_series_here(tmp_path, monkeypatch):
    """A flow's reader processes (open_readers) share write_series' geometry: same table, same order."""
    import dataset.index as ix

    exp = tmp_path / "export"
    for k in range(3):
        axial_series(exp / f"s{k}", n=6, series=f"1.2.3.{k}")
    index_export(exp, tmp_path / "d", workers=1, progress=False)
    here = table("series", tmp_path / "d").to_pylist()
    monkeypatch.setattr(ix, "SERIES_TASK_ROWS", 6)  # one series a task: three tasks
    ix.open_readers(1)
    try:
        assert ix.write_series(tmp_path / "d") == 3
    finally:
        ix.close_readers()
    assert table("series", tmp_path / "d").to_pylist() == here


def test_in_reader_runs_in_a_reader_process_with_one_numeric_thread(monkeypatch):
    """A flow's volume batches run through in_reader: in a reader process while they run, here otherwise;
    a reader's torch takes one thread (two readers with a thread a core each were 1.5x slower)."""
    import dataset.index as ix

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert ix.in_reader(os.getpid) == os.getpid()
    ix.open_readers(1)
    try:
        assert ix.in_reader(os.getpid) != os.getpid()
        assert ix.in_reader(os.getenv, "OMP_NUM_THREADS") == "1"
        t = time.monotonic()
        with pytest.raises(RuntimeError, match=r"the reader process that ran it died, 2 time\(s\)"):
            ix.in_reader(os._exit, 3, timeout=60)  # kills every reader it is handed to: fails, does not hang
        assert time.monotonic() - t < 30
        assert ix.in_reader(os.getpid) != os.getpid(), "the pool replaced the dead reader"
    finally:
        ix.close_readers()


_DIES_ON_IMPORT = """
import multiprocessing as mp, os, sys, time
sys.path.insert(0, {root!r})
if mp.parent_process() is not None:  # each reader imports this script again, and this raises there, as a script
    time.sleep({delay})               # that starts a run at import would on finding the run's lock taken
    raise SystemExit("a radmine run is writing this data directory")
import dataset.index as ix
ix.READER_START_S = {start_s}
ix.open_readers(1)
t = time.monotonic()
try:
    ix.in_reader(os.getpid, timeout=600)
except ix.ReaderDied as err:
    print(f"{{time.monotonic() - t:.1f}}", err)
    sys.exit(3)
"""


@pytest.mark.parametrize("delay, start_s", [(0.8, 600.0), (5.0, 1.0)], ids=["deaths seen", "none started in time"])
def test_readers_that_die_as_they_start_fail_the_task_with_what_to_do(tmp_path, delay, start_s):
    """A script without a main guard that starts a flow: Python's spawn runs it again in every reader, which dies
    there, and the pool only starts another; the task waited out its timeout (30 min in a flow). Now it fails once
    two readers a pool slot have died starting (when their deaths are seen, a check every 0.5 s), or none has started
    in READER_START_S."""
    import subprocess
    import sys

    script = tmp_path / "nightly.py"
    script.write_text(_DIES_ON_IMPORT.format(root=str(Path(__file__).resolve().parents[1]), delay=delay,
                                             start_s=start_s))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr[-2000:]
    waited, _, message = done.stdout.partition(" ")
    assert float(waited) < (30 if delay else start_s + 10)
    assert "the reader processes cannot start" in message and "if __name__" in message and "nightly.py" in message


def _wait_for_replacement(pool, dead: int) -> None:
    """Until the pool has started a process in place of `dead`. (A task sent at the instant of a kill can be half
    read by the dying process; the stream of the queue is then broken. The test leaves that race out.)"""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pids = {p.pid for p in pool._pool if p.exitcode is None}
        if pids and dead not in pids:
            return
        time.sleep(0.05)


def test_a_reader_killed_while_it_waits_for_a_task_does_not_jam_the_others(capfd):
    """A reader waiting for its next task holds the lock of the pool's task queue; killed then (the out-of-memory
    killer picks the largest process, idle or not) it took the lock with it, and every later task, and closing the
    readers, waited forever."""
    import signal
    import threading

    import dataset.index as ix

    ix.open_readers(1)
    outcome = []
    try:
        idle = ix.in_reader(os.getpid)
        time.sleep(0.3)  # back in the queue's read, holding its lock
        os.kill(idle, signal.SIGKILL)
        _wait_for_replacement(ix._READERS, idle)
        task = threading.Thread(target=lambda: outcome.append(_raised(ix.in_reader, os.getpid, timeout=60)),
                                daemon=True)  # daemon: a hung one cannot hold pytest's exit
        task.start()
        task.join(30)
        assert outcome and isinstance(outcome[0], int) and outcome[0] != idle, f"the task hung or gave {outcome}"
        assert "its queue lock is released" in capfd.readouterr().err
        os.kill(outcome[0], signal.SIGKILL)  # again, and now close the readers with it dead
        _wait_for_replacement(ix._READERS, outcome[0])
    finally:
        closing = threading.Thread(target=ix.close_readers, daemon=True)
        closing.start()
        closing.join(30)
    assert not closing.is_alive(), "closing the readers hung"


def _note_pid_and_sleep(note: str) -> int:
    """A reader task (importable in a spawned reader): writes its reader's PID to `note`, sleeps 2 s, returns it."""
    Path(note).write_text(str(os.getpid()))
    time.sleep(2)
    return os.getpid()


def _read_or_die(root, items, fast, limit):
    """`_read_items` in a reader process, which a file named `poison` kills (as the out-of-memory killer would)."""
    import signal

    import dataset.index as ix

    if any(Path(i[0]).name == "poison" for i in items):
        os.kill(os.getpid(), signal.SIGKILL)
    return ix._read_items(root, items, fast, limit)


def test_a_file_that_kills_every_reader_becomes_an_error_row_and_the_others_are_read(tmp_path, capfd):
    """A flow's index batch with one file that kills each reader that opens it: the batch is cut in halves down
    to that file, which becomes a `reader_died` row; every other file gives its rows."""
    import dataset.index as ix
    from data_contracts import load_contract
    from dataset.phantom import generate_export

    generate_export(tmp_path / "ph", 1, seed=2, matrix=16, thin_series=False)
    export = tmp_path / "ph" / "export"
    (export / "poison").write_bytes(b"x" * 200)
    items = sorted(tuple(e) for e in walk_export(export))
    k = next(i for i, e in enumerate(items) if e[0] == "poison")
    items.insert(len(items) // 3, items.pop(k))  # somewhere in the middle
    want_rows, want_errors = ix._read_items(str(export), [e for e in items if e[0] != "poison"], True, 5.0)
    ix.open_readers(1)
    try:
        rows, errors = ix._read_isolating(ix._READERS, _read_or_die, str(export), items, True, 5.0, timeout=120)
    finally:
        ix.close_readers()
    key = lambda r: (r["path"], r.get("frame_number"))
    assert sorted(rows, key=key) == sorted(want_rows, key=key) and len(rows) > 10
    poison = [e for e in errors if e["path"] == "poison"]
    assert sorted(e["path"] for e in errors if e["path"] != "poison") == sorted(e["path"] for e in want_errors)
    assert len(poison) == 1 and poison[0]["error_kind"] == "reader_died" and "dmesg" in poison[0]["message"]
    assert "reader_died" in load_contract("index_errors").column("error_kind").allowed
    assert "looking for the file that kills the reader" in capfd.readouterr().err


def test_a_task_whose_reader_is_killed_is_handed_out_again(tmp_path, capfd):
    """A flow's batch in a reader that the out-of-memory killer takes: the batch is done by another reader
    instead of failing after its timeout (30 min in a flow)."""
    import signal
    import threading

    import dataset.index as ix

    note = tmp_path / "pid"
    outcome = []
    ix.open_readers(1)
    try:
        ix.in_reader(os.getpid)  # the reader is up
        t = time.monotonic()
        task = threading.Thread(target=lambda: outcome.append(_raised(ix.in_reader, _note_pid_and_sleep, str(note),
                                                                       timeout=60)), daemon=True)
        task.start()
        while not note.exists() and time.monotonic() - t < 30:
            time.sleep(0.01)
        killed = int(note.read_text())
        os.kill(killed, signal.SIGKILL)
        task.join(60)
        assert outcome and isinstance(outcome[0], int), f"the task hung or gave {outcome}"
        assert outcome[0] != killed and outcome[0] == int(note.read_text())
        assert time.monotonic() - t < 30, "it waited for its timeout"
        assert f"the reader process (PID {killed}) running _note_pid_and_sleep died" in capfd.readouterr().err
    finally:
        ix.close_readers()


def _raised(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except Exception as err:
        return err


def test_read_files_in_a_reader_that_dies_fails_instead_of_hanging(tmp_path):
    """A flow's index batch reads in a reader process; one killed (for memory, say) must fail the batch."""
    import signal
    import threading

    import dataset.index as ix

    def batch():  # off the main thread, as in a Prefect task
        outcome.append(_raised(ix.read_files, tmp_path, [("fifo", 0, 0.0, None)], limit=60, timeout=5))

    os.mkfifo(tmp_path / "fifo")  # opening it blocks the reader until it is killed
    outcome = []
    ix.open_readers(1)
    try:
        pid = ix.in_reader(os.getpid)
        reader = threading.Thread(target=batch, daemon=True)  # daemon: a hung one cannot hold pytest's exit
        reader.start()
        threading.Event().wait(1)
        os.kill(pid, signal.SIGKILL)
        reader.join(30)
        assert outcome and isinstance(outcome[0], RuntimeError), f"the batch hung or gave {outcome}"
        assert "no answer from a reader" in str(outcome[0])
    finally:
        ix.close_readers()


def test_listing_in_readers_that_stop_answering_fails_instead_of_hanging(tmp_path):
    import signal
    import threading

    import dataset.index as ix

    for k in range(4):
        (tmp_path / f"d{k}").mkdir()
        (tmp_path / f"d{k}" / "f").write_bytes(b"x")
    ix.open_readers(1)
    pid = ix.in_reader(os.getpid)
    try:
        assert ix.list_export(tmp_path, timeout=30).num_rows == 4
        os.kill(pid, signal.SIGSTOP)  # as good as dead to the caller
        outcome = []
        listing = threading.Thread(target=lambda: outcome.append(_raised(ix.list_export, tmp_path, timeout=2)),
                                   daemon=True)  # daemon: a hung one cannot hold pytest's exit
        listing.start()
        listing.join(30)
        assert outcome and isinstance(outcome[0], RuntimeError), f"the listing hung or gave {outcome}"
        assert "no answer from a reader" in str(outcome[0])
    finally:
        os.kill(pid, signal.SIGCONT)
        ix.close_readers()


def test_progress_bar_is_on_stderr(tmp_path, capsys):
    """`radmine index > out.txt` in a terminal: the bar on stderr, nothing of it in the file."""
    axial_series(tmp_path / "e" / "s", n=5, series="1.2.3.9")
    capsys.readouterr()
    index_export(tmp_path / "e", tmp_path / "d", workers=1, progress=True)
    out, err = capsys.readouterr()
    assert "indexing" in err and "5/5" in err and "files/s" in err
    assert out == ""


def test_incremental_rerun_equals_fresh_run(tmp_path):
    exp = tmp_path / "export"
    files = axial_series(exp / "a", n=6)
    axial_series(exp / "b", n=4, series="1.2.3.5")
    (exp / "notes.txt").write_text("hello")
    data = tmp_path / "data"
    first = index_export(exp, data, workers=1, progress=False)
    assert first["files_read"] == 11 and not first["incremental"]
    again = index_export(exp, data, workers=1, progress=False)
    assert again["files_read"] == 0 and again["files_reused"] == 11 and again["instances"] == 10
    # change: one file gone, one rewritten (different size), one new, one turned bad
    files[0].unlink()
    make_ct(files[1], position=(-100.0, -100.0, 47.5), instance=2, extra={"ImageComments": "rewritten"})
    make_ct(exp / "c" / "new", series="1.2.3.6")
    files[2].write_bytes(b"")
    third = index_export(exp, data, workers=2, progress=False)
    assert third["files_read"] == 3 and third["files_removed"] == 1
    fresh = tmp_path / "fresh"
    index_export(exp, fresh, workers=1, progress=False)
    for name, keys in (("instances", ["path", "frame_number"]), ("index_errors", ["path"]), ("series", ["series_instance_uid"])):
        assert sorted_rows(name, data, keys) == sorted_rows(name, fresh, keys), name
    assert {r["path"]: r["error_kind"] for r in table("index_errors", data).to_pylist()} == {"notes.txt": "not_dicom", "a/IM0002": "empty"}


def test_data_dir_inside_export_is_not_indexed(tmp_path):
    axial_series(tmp_path / "x", n=2)
    index_export(tmp_path, tmp_path / "data", workers=1, progress=False)
    s = index_export(tmp_path, tmp_path / "data", workers=1, progress=False)
    assert s["files"] == 2 and s["errors"] == 0


def test_walk_is_sorted_and_relative(tmp_path):
    for name in ("b/2", "a/1", "a/c/3"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert [w[0] for w in walk_export(tmp_path)] == ["a/1", "a/c/3", "b/2"]


def test_series_table_from_shuffled_files(tmp_path):
    exp = tmp_path / "e"
    # InstanceNumbers run feet to head and file names hide the order
    zs = [0.0, 5.0, 10.0, 15.0, 20.0]
    for i, z in enumerate(zs):
        make_ct(exp / f"f{(i * 3) % 5}", position=(-100.0, -100.0, z), instance=i + 1)
    index_export(exp, tmp_path / "d", workers=1, progress=False)
    (s,) = table("series", tmp_path / "d").to_pylist()
    assert s["geometry"] == "axial" and s["instance_order"] == "feet_to_head" and s["n_images"] == 5
    a = np.array(s["affine"]).reshape(4, 4)
    for k, z in enumerate(sorted(zs, reverse=True)):  # k = 0 is the most superior slice
        assert np.allclose(a @ [0, 0, k, 1], [-100, -100, z, 1])
    assert np.allclose(a @ [1, 0, 0, 1], [-100 + 0.8, -100, 20, 1])  # column step = PixelSpacing[1]
    assert np.allclose(a @ [0, 1, 0, 1], [-100, -100 + 0.7, 20, 1])  # row step = PixelSpacing[0]


def test_series_across_row_batches_equals_one_batch(tmp_path, monkeypatch):
    """Series rows are read back in batches of BATCH_ROWS; a series split across batches (and a
    missing PixelSpacing and StudyDate) must give the same series row as one batch."""
    import dataset.index as ix

    exp = tmp_path / "e"
    axial_series(exp / "a", n=5)
    for i in range(2):
        make_ct(exp / "b" / f"IM{i}", series="1.2.3.9", position=(-100.0, -100.0, 5.0 * i), instance=i + 1,
                omit=("StudyDate", "PixelSpacing"))
    index_export(exp, tmp_path / "one", workers=1, progress=False)
    monkeypatch.setattr(ix, "BATCH_ROWS", 2)  # every series now spans batches
    index_export(exp, tmp_path / "many", workers=1, progress=False)
    one, many = (table("series", tmp_path / d).sort_by("series_instance_uid").to_pylist() for d in ("one", "many"))
    assert one == many and len(one) == 2
    assert one[0]["study_date"] is not None and one[0]["pixel_spacing"] is not None and one[0]["affine"] is not None
    assert one[1]["study_date"] is None and one[1]["pixel_spacing"] is None


def test_cli_index(tmp_path, capsys):
    from flows.cli import main

    axial_series(tmp_path / "e", n=3)
    assert main(["index", str(tmp_path / "e"), "--out", str(tmp_path / "d"), "--workers", "1", "--no-progress"]) == 0
    assert "3 images in 1 series" in capsys.readouterr().out
    assert main(["index", str(tmp_path / "missing"), "--out", str(tmp_path / "d")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_header_error_kinds_are_the_contract_values():
    from data_contracts import load_contract
    from dataset.dicom_headers import ERROR_KINDS

    assert set(ERROR_KINDS) == set(load_contract("index_errors").column("error_kind").allowed)
    with pytest.raises(AssertionError):
        HeaderError("bogus", "x")


def test_copy_of_tables_survives_shutil(tmp_path):
    """Tables are ordinary Parquet files: a copied DATA_DIR still reruns incrementally."""
    axial_series(tmp_path / "e", n=2)
    index_export(tmp_path / "e", tmp_path / "d", workers=1, progress=False)
    shutil.copytree(tmp_path / "d", tmp_path / "d2")
    assert index_export(tmp_path / "e", tmp_path / "d2", workers=1, progress=False)["files_read"] == 0


# ---------------------------------------------------------------- per-file time limit

def test_time_limit_in_this_process_gives_a_timeout_row_and_the_run_goes_on(tmp_path, monkeypatch):
    import signal
    import time

    import dataset.dicom_headers as dh

    exp = tmp_path / "e"
    axial_series(exp / "a", n=3)
    real = dh.read_header

    def slow_on_second(path, name=None, **kw):
        if name == "a/IM0001":
            time.sleep(30)  # a stalled read
        return real(path, name, **kw)

    monkeypatch.setattr(dh, "read_header", slow_on_second)
    before = signal.getsignal(signal.SIGALRM)
    t = time.perf_counter()
    s = index_export(exp, tmp_path / "d", workers=1, progress=False, file_time_limit=0.3)
    assert time.perf_counter() - t < 10
    errs = {r["path"]: r for r in table("index_errors", tmp_path / "d").to_pylist()}
    assert errs["a/IM0001"]["error_kind"] == "timeout" and "0.3 s" in errs["a/IM0001"]["message"]
    assert errs["a/IM0001"]["size_bytes"] is not None
    assert s["instances"] == 2 and s["errors_by_kind"] == {"timeout": 1}
    assert signal.getsignal(signal.SIGALRM) == before  # the handler is put back


def test_a_slow_pydicom_import_is_not_charged_to_the_first_file(tmp_path):
    """A freshly spawned reader on a loaded machine: pydicom's import (lazy, on the first file the
    fast reader hands over) must happen before the clock starts, or that file times out half-way
    through the import and every later pydicom-path file fails on the half-imported module."""
    import json
    import subprocess
    import sys

    exp = tmp_path / "e"
    for i in range(3):
        make_enhanced(exp / f"mf{i}")
    make_ct(exp / "ct")
    child = (
        "import importlib.abc, json, sys, time\n"
        "class SlowPydicom(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'pydicom':\n"
        "            time.sleep(1.0)  # a loaded machine\n"
        "        return None\n"
        "sys.meta_path.insert(0, SlowPydicom())\n"
        "from dataset.index import read_files, walk_export\n"
        "assert 'pydicom' not in sys.modules\n"
        "rows, errors = read_files(sys.argv[1], list(walk_export(sys.argv[1])), limit=0.5)\n"
        "print(json.dumps({'paths': sorted({r['path'] for r in rows}), 'errors': errors}))\n")
    out = subprocess.run([sys.executable, "-c", child, str(exp)], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["errors"] == [] and res["paths"] == ["ct", "mf0", "mf1", "mf2"]


def test_time_limit_in_worker_processes_stops_a_blocking_open(tmp_path):
    """A FIFO blocks open() forever (the walk never yields one; here it is sent on purpose)."""
    from dataset.index import _helpers, _ordered, _read_chunk

    exp = tmp_path / "e"
    good = make_ct(exp / "good")
    os.mkfifo(exp / "fifo")
    fields = tuple(dc.load_contract("instances").schema.names)
    st = good.stat()
    chunks = [(str(exp), [("fifo", 0, 0.0, None), ("good", st.st_size, st.st_mtime, None)], True, 0.5, fields)]
    with _helpers(2) as helpers:  # one spawned reader; the one chunk goes to it (its queue is empty)
        (cols, errs, n), = list(_ordered(_read_chunk, iter(chunks), helpers))
    assert n == 2 and [e["error_kind"] for e in errs] == ["timeout"] and errs[0]["path"] == "fifo"
    assert cols[fields.index("path")] == ["good"]


def test_unchanged_rerun_rewrites_nothing_and_a_touch_is_seen(tmp_path):
    exp = tmp_path / "e"
    files = axial_series(exp / "a", n=4)
    data = tmp_path / "d"
    index_export(exp, data, workers=1, progress=False)
    stamps = {p.name: p.stat().st_mtime_ns for p in data.glob("*.parquet")}
    for _ in range(2):  # from the recorded walk digest, then again
        s = index_export(exp, data, workers=1, progress=False)
        assert s["files_read"] == 0 and s["files_reused"] == 4 and s["instances"] == 4
    assert stamps == {p.name: p.stat().st_mtime_ns for p in data.glob("*.parquet")}
    assert not list(data.glob(".walk-*")), "the temporary walk listing is removed"
    os.utime(files[0], ns=(files[0].stat().st_atime_ns, files[0].stat().st_mtime_ns + 10**9))
    s = index_export(exp, data, workers=1, progress=False)
    assert s["files_read"] == 1 and s["files_reused"] == 3
    (data / ".index-state.json").unlink()  # without the digest: the DuckDB comparison says the same
    s = index_export(exp, data, workers=1, progress=False)
    assert s["files_read"] == 0 and s["files_reused"] == 4
    assert stamps.keys() == {p.name for p in data.glob("*.parquet")}


def _first_waits(x):
    """Item 0 takes 3 s; the rest return at once: (item, process, when it finished)."""
    import time

    if x == 0:
        time.sleep(3.0)
    return x, os.getpid(), time.monotonic()


def test_this_process_works_ahead_while_a_helper_is_slow():
    """A helper still starting (or importing) must not stop this process: it goes on with later
    items (up to RUN_AHEAD results held), and the results still come back in order."""
    from dataset.index import RUN_AHEAD, _helpers, _ordered

    assert RUN_AHEAD >= 16

    with _helpers(2) as helpers:
        assert helpers.here
        out = list(_ordered(_first_waits, iter(range(20)), helpers))
    assert [x for x, _, _ in out] == list(range(20))
    first_done = out[0][2]
    here_before = [x for x, pid, t in out if pid == os.getpid() and t < first_done]
    # items 0-2 fill the helper's queue; this process then did the other 17 without waiting for
    # item 0 (with a window of 2 x the queue, as before RUN_AHEAD, it did 3 and then waited)
    assert len(here_before) == 17, here_before


def test_reader_pool_pipes_are_widened_and_carry_large_results():
    import fcntl
    import sys

    from dataset.index import PIPE_BYTES, _spawn_pool

    # Linux lets a process grow a pipe up to pipe-max-size (1 MiB by default; root beyond it)
    limit = Path("/proc/sys/fs/pipe-max-size")
    widened = sys.platform.startswith("linux") and (os.geteuid() == 0 or int(limit.read_text()) >= PIPE_BYTES)
    with _spawn_pool(1) as pool:
        if widened:
            for queue in (pool._inqueue, pool._outqueue):
                assert fcntl.fcntl(queue._writer.fileno(), fcntl.F_GETPIPE_SZ) == PIPE_BYTES
        big = pool.apply(bytes, (3 * PIPE_BYTES,))  # a result larger than the pipe still arrives whole
    assert big == bytes(3 * PIPE_BYTES)


def test_a_chunk_result_holds_equal_lists_once(tmp_path):
    """Orientation and spacing repeat in every row of a series: one list object each in a chunk's
    result, so pickle writes it once; the values are those the reader gave."""
    from dataset.index import _read_chunk

    exp = tmp_path / "e"
    axial_series(exp / "a", n=6)
    fields = tuple(dc.load_contract("instances").schema.names)
    items = [(rel, size, mtime, err) for rel, size, mtime, err in walk_export(exp)]
    cols, errs, n = _read_chunk((str(exp), items, True, None, fields))
    assert n == 6 and errs == []
    for name in ("orientation", "pixel_spacing"):
        col = cols[fields.index(name)]
        assert len({id(v) for v in col}) == 1, name
        assert col == [read_header_fast(str(exp / rel))[0][name] for rel, *_ in items], name


def _index_rows(tmp_path, folder: str, build) -> pa.Table:
    """instances rows of a small export that `build(export)` writes (indexed on its own)."""
    exp = tmp_path / folder
    build(exp)
    index_export(exp, tmp_path / f"{folder}-data", workers=1, progress=False)
    return table("instances", tmp_path / f"{folder}-data")


def test_series_recomputed_for_a_night_over_parts_equals_a_full_recompute(tmp_path):
    """A flow's night: instances in parts, yesterday's series table, then a new part. Only the
    affected series are recomputed, from the parts that hold them; duplicate SOPs still count
    across all parts (A's first image repeats G's SOP, in a part no affected series is in; B is
    redone because a new file repeats one of its SOPs), a series that lost all its images is
    dropped, and nothing affected leaves the table untouched."""
    import pyarrow.compute as pc

    from data_contracts.io import write_part
    from dataset.index import write_series

    old = _index_rows(tmp_path, "old", lambda e: (
        [make_ct(e / "a" / f"{i}", series="1.2.3.10", sop="9.9.2" if i == 0 else None,
                 position=(0.0, 0.0, -2.5 * i), instance=i + 1) for i in range(3)],
        make_ct(e / "b" / "1", series="1.2.3.11", sop="9.9.1", position=(0.0, 0.0, 1.0)),
        make_ct(e / "b" / "2", series="1.2.3.11", position=(0.0, 0.0, 2.0), instance=2),
        make_ct(e / "e" / "1", series="1.2.3.14", position=(0.0, 0.0, 1.0)),
        make_ct(e / "g" / "1", series="1.2.3.15", sop="9.9.2", position=(0.0, 0.0, 1.0))))
    new = _index_rows(tmp_path, "new", lambda e: (
        [make_ct(e / "a2" / f"{i}", series="1.2.3.10", position=(0.0, 0.0, 2.5 * (i + 1)), instance=10 + i)
         for i in range(2)],                                            # series A gains two images
        make_ct(e / "d" / "1", series="1.2.3.13", sop="9.9.1")))       # a new series repeats B's SOP
    in_g = pc.equal(old.column("series_instance_uid"), "1.2.3.15")
    in_e = pc.equal(old.column("series_instance_uid"), "1.2.3.14")
    parts_before = {"run1-00000": old.filter(pc.invert(in_g)), "run1-00001": old.filter(in_g)}
    parts_after = {"run1-00000": old.filter(pc.invert(pc.or_(in_g, in_e))),  # E's image is gone
                   "run1-00001": old.filter(in_g), "run2-00000": new}
    night, full = tmp_path / "night", tmp_path / "full"
    for part, rows in parts_before.items():
        write_part("instances", rows, night, part)
    assert write_series(night) == 4
    series_file = night / "series.parquet"
    stamp = series_file.stat().st_mtime_ns
    assert write_series(night, set(), set()) == 4 and series_file.stat().st_mtime_ns == stamp  # nothing affected
    for part, rows in parts_after.items():
        write_part("instances", rows, night, part)
        write_part("instances", rows, full, part)
    affected = set(new.column("series_instance_uid").to_pylist()) | {"1.2.3.14"}
    assert write_series(night, affected, set(new.column("sop_instance_uid").to_pylist())) == 4
    write_series(full)
    got = sorted_rows("series", night, ["series_instance_uid"])
    assert got == sorted_rows("series", full, ["series_instance_uid"])
    by_uid = {r["series_instance_uid"]: r for r in got}
    assert set(by_uid) == {"1.2.3.10", "1.2.3.11", "1.2.3.13", "1.2.3.15"}
    assert by_uid["1.2.3.10"]["n_images"] == 5 and by_uid["1.2.3.10"]["n_duplicate_sops"] == 1
    assert by_uid["1.2.3.11"]["n_duplicate_sops"] == 1 and by_uid["1.2.3.13"]["n_duplicate_sops"] == 1


def _ten_times_or_die(k: int) -> int:
    """A helper task (importable in a spawned helper) that item 2 kills, as a file needing too much memory would."""
    import signal

    if k == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return 10 * k


def test_an_item_that_kills_its_helpers_goes_to_isolate_and_the_others_are_answered():
    """`radmine index` hands its chunks to `_ordered`: a chunk that kills the helper it is handed to, twice, is given to
    `isolate` (which reads its files apart, `_read_chunk_isolating`); without one the run stops with ReaderDied."""
    import threading

    import dataset.index as ix

    out = []

    def run(isolate):  # off the main thread, so that this process only dispatches
        with ix._helpers(2) as helpers:
            out.append(_raised(lambda: list(ix._ordered(_ten_times_or_die, [1, 2, 3], helpers, isolate))))

    for isolate in (lambda k: ("isolated", k), None):
        worker = threading.Thread(target=run, args=(isolate,), daemon=True)
        worker.start()
        worker.join(120)
        assert not worker.is_alive(), "the run waited for the item the killed helpers held"
    assert out[0] == [10, ("isolated", 2), 30]
    assert isinstance(out[1], ix.ReaderDied) and "_ten_times_or_die" in str(out[1])


def test_a_helper_that_dies_mid_run_loses_nothing(tmp_path, capfd):
    """An index run's helper killed (by the out-of-memory killer, say) while it holds tasks: the tasks it held are
    handed out again and the run ends with every answer, in order, instead of waiting forever for them."""
    import signal
    import subprocess
    import threading

    import dataset.index as ix

    marks = tmp_path / "started"
    # each task: note its reader's PID (the shell's parent), then take a while, as a big file would
    tasks = [["sh", "-c", f'echo "$PPID" >> {marks}; sleep 3; exit {k}'] for k in (3, 4)]
    out = []

    def run():  # off the main thread: a hang fails the test instead of holding pytest
        with ix._helpers(2) as helpers:  # here: two spawned helpers, this thread only dispatches
            out.extend(ix._ordered(subprocess.call, tasks, helpers))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    for _ in range(600):  # both tasks started (in two helpers, or one after the other in one)
        if marks.exists() and len(marks.read_text().split()) == 2:
            break
        threading.Event().wait(0.1)
    for pid in {int(p) for p in marks.read_text().split()}:
        os.kill(pid, signal.SIGKILL)
    worker.join(60)
    assert not worker.is_alive(), "the run waited for the tasks the killed helpers held"
    assert out == [3, 4]  # every answer, in order
    assert len(marks.read_text().split()) >= 3  # what the killed helpers held was done again
    assert capfd.readouterr().err.count("running call died; handing it out again") == 2
