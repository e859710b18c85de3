"""Benchmark of `radmine index` (dataset.index): every figure is a ratio measured in one run.

    .venv/bin/python bench/index_bench.py --files 20000 --memory-files 100000

It writes N small CT files itself (a realistic ~90-element CT header, 16x16 pixels; one
pydicom-written template per series, values patched per file), then measures on the same
warm page cache:

  (a) plain pydicom: dcmread(stop_before_pixels=True), file by file, one core
  (b) floor: os.open + os.read of the first 8 KiB + os.close of each file, one core
  (c) our header reader alone (read_header_fast), one core
  (d) index_export with 1 worker (walk + read + Parquet + series), and with 2 workers
  (d') the machine's ceiling for (d): our reader alone over all files in one process against
      two processes over half each (no index, no coordination); a shared VM whose second
      core runs slow shows here, in the same round
  (e) a re-run over the unchanged export against the first run (tables must not be rewritten)
  (f) peak memory (RSS, main process + workers) while indexing --memory-files files

Each figure is the median over --rounds rounds (reader loops, then the index runs, close in
time; the 1- and 2-worker runs take turns at going first). Goals: (d1)/(a) >= 5 (whole index per
core vs plain pydicom); efficiency (d2)/(2 x d1) >= 0.8; (e) < 5%; (f) < 500 MB. The load
average is printed before and after: on a shared machine the parallel efficiency says little
(two busy cores cannot run two workers and the main process).
Not a test: nothing here is timed by pytest.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SOP_PH = "1.2.826.0.1.3680043.10.7.999999999999"
SER_PH = "1.2.826.0.1.3680043.10.8.888888888888"
STU_PH = "1.2.826.0.1.3680043.10.6.777777777777"
POS_PH = "-150.000\\-150.000\\+0000.000"
INST_PH = "000000"


def _template() -> bytes:
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = SOP_PH
    meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.InstanceCreationDate, ds.InstanceCreationTime = "20240131", "101010"
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.2", SOP_PH
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = "20240131"
    ds.StudyTime = ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = "101010.000"
    ds.AccessionNumber, ds.Modality, ds.Manufacturer = "ACC000001", "CT", "PHANTOM"
    ds.InstitutionName, ds.ReferringPhysicianName, ds.StationName = "Hospital", "Doe^John", "CT01"
    ds.StudyDescription, ds.SeriesDescription = "CT THORAX", "Thorax 1.0 B31f"
    ds.ManufacturerModelName = "Model"
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex, ds.PatientAge = "Anon", "P0001", "19600101", "F", "064Y"
    ds.BodyPartExamined, ds.ScanOptions, ds.SliceThickness, ds.KVP = "CHEST", "HELICAL", "1.0", "120"
    ds.DataCollectionDiameter, ds.SoftwareVersions, ds.ReconstructionDiameter = "500", "1.0", "350"
    ds.DistanceSourceToDetector, ds.DistanceSourceToPatient, ds.GantryDetectorTilt = "1085.6", "595", "0"
    ds.TableHeight, ds.RotationDirection, ds.ExposureTime, ds.XRayTubeCurrent, ds.Exposure = "150", "CW", "500", "200", "100"
    ds.FilterType, ds.GeneratorPower, ds.FocalSpots, ds.ConvolutionKernel, ds.PatientPosition = "FLAT", "24", "1.2", "B31f", "FFS"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = STU_PH, SER_PH
    ds.StudyID, ds.SeriesNumber, ds.AcquisitionNumber, ds.InstanceNumber = "1", 2, 1, INST_PH
    ds.ImagePositionPatient = POS_PH.split("\\")
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.FrameOfReferenceUID = SER_PH
    ds.PositionReferenceIndicator, ds.SliceLocation = "", "0"
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.Rows, ds.Columns = 1, "MONOCHROME2", 16, 16
    ds.PixelSpacing = ["0.683594", "0.683594"]
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.WindowCenter, ds.WindowWidth = "40", "400"
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "-1024", "1", "HU"
    ds.add_new(0x00091010, "LO", "GEMS_IDEN_01")
    ds.add_new(0x00191010, "LO", "private")
    ds.PixelData = bytes(16 * 16 * 2)
    import io

    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    assert pydicom.dcmread(io.BytesIO(buf.getvalue())).SOPInstanceUID == SOP_PH
    return buf.getvalue()


def make_export(root: Path, n_files: int, per_series: int = 100) -> None:
    tmpl = _template()
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n_files):
        s, k = divmod(i, per_series)
        d = root / f"P{s // 50:04d}" / f"S{s:06d}"
        if k == 0:
            d.mkdir(parents=True, exist_ok=True)
        b = (tmpl.replace(INST_PH.encode(), f"{k + 1:<6d}".encode(), 1)  # first: the UIDs below hold zeros
                 .replace(SOP_PH.encode(), f"{SOP_PH[:-12]}{i:012d}".encode())
                 .replace(SER_PH.encode(), f"{SER_PH[:-12]}{s:012d}".encode())
                 .replace(STU_PH.encode(), f"{STU_PH[:-12]}{s // 3:012d}".encode())
                 .replace(POS_PH.encode(), f"-150.000\\-150.000\\{-k * 1.25:+09.3f}".encode()))
        (d / f"{k:05d}").write_bytes(b)


def read_all(paths: list[str]) -> float:
    """Seconds to read the headers of `paths` here (the ceiling runs, in spawned processes)."""
    from dataset.dicom_headers import read_header_fast

    t = time.perf_counter()
    for p in paths:
        read_header_fast(p)
    return time.perf_counter() - t


def ceiling(pool, paths: list[str]) -> float:
    """Reader throughput of two processes over half the files each against one over all."""
    one = pool.apply(read_all, (paths,))
    t = time.perf_counter()
    pool.map(read_all, [paths[::2], paths[1::2]], chunksize=1)
    return one / (2 * (time.perf_counter() - t))


def files_of(root: Path) -> list[str]:
    return sorted(str(p) for p in root.rglob("*") if p.is_file())


def rate(fn, paths) -> float:
    t = time.perf_counter()
    for p in paths:
        fn(p)
    return len(paths) / (time.perf_counter() - t)


class RssSampler:
    """Samples (every `every` s, /proc) the RSS of this process and of its child processes; keeps
    the peak of their sum (what the machine must hold at once), of the main process and of the
    largest child. ru_maxrss of children is not used: on Linux it keeps the parent's RSS at the
    fork that precedes the worker's exec, so a spawn worker would be charged the parent's size."""

    def __init__(self, every: float = 0.05):
        import threading

        self.every, self.peak_total, self.peak_main, self.peak_child = every, 0, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _rss(pid) -> int:
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    @staticmethod
    def _children(pid) -> list[str]:
        out = []
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children") as fh:
                    out += fh.read().split()
        except OSError:
            pass
        return out

    @staticmethod
    def _cmdline(pid) -> bytes:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                return fh.read()
        except OSError:
            return b""

    def _run(self) -> None:
        me = os.getpid()
        mine = self._cmdline(me)
        while not self._stop.is_set():
            main = self._rss(me)
            # a child still showing our command line is between fork and exec: its pages are ours
            kids = [self._rss(c) for c in self._children(me) if self._cmdline(c) != mine]
            self.peak_main = max(self.peak_main, main)
            self.peak_child = max([self.peak_child] + kids)
            self.peak_total = max(self.peak_total, main + sum(kids))
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_main = max(self.peak_main, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


def _peak_child(export: str, out: str, workers: int) -> None:
    """Run in a subprocess: index, then print the peak RSS (MB) of this process, its largest
    worker and of their sum, sampled from /proc (RssSampler)."""
    from dataset.index import index_export

    with RssSampler() as rss:
        s = index_export(export, out, workers=workers, progress=False, incremental=False)
    mb = 1024 * 1024
    print(json.dumps({"main_mb": rss.peak_main / mb, "worker_mb": rss.peak_child / mb, "total_mb": rss.peak_total / mb,
                      "files": s["files"], "seconds": s["seconds"]}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=20000, help="files for the speed ratios")
    ap.add_argument("--sample", type=int, default=4000, help="files timed for the one-core reader loops")
    ap.add_argument("--memory-files", type=int, default=100000, help="files for the peak-memory run (0: skip)")
    ap.add_argument("--rounds", type=int, default=3, help="measurement rounds; figures are medians over rounds")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    if len(sys.argv) > 1 and sys.argv[1] == "_peak":
        return
    import warnings

    import pydicom

    from dataset.dicom_headers import read_header_fast
    from dataset.index import index_export

    warnings.simplefilter("ignore")
    work = Path(args.workdir or tempfile.mkdtemp(prefix="radmine_index_bench_"))
    export = work / "export"
    t = time.perf_counter()
    make_export(export, args.files)
    print(f"wrote {args.files} files in {time.perf_counter() - t:.1f} s under {export}", file=sys.stderr)
    paths = files_of(export)
    sample = paths[:: max(1, len(paths) // args.sample)][: args.sample]

    def floor(p):
        fd = os.open(p, os.O_RDONLY)
        os.read(fd, 8192)
        os.close(fd)

    for p in sample:  # warm the cache and the interpreter
        floor(p)
    load0 = os.getloadavg()[0]
    index_export(export, work / "data_warm", workers=1, progress=False)  # imports (pandas via pyarrow, duckdb) paid once
    fns = {"floor": floor, "pydicom": lambda p: pydicom.dcmread(p, stop_before_pixels=True), "fast": read_header_fast}
    rounds = []
    import multiprocessing as mp

    pool = mp.get_context("spawn").Pool(2)
    pool.map(read_all, [paths[:200], paths[200:400]], chunksize=1)  # started and warm
    for r in range(args.rounds):
        # one round: the reader loops interleaved in slices, then the index runs, close in time so
        # that load from other users hits them alike; each figure below is the median over rounds
        spent = dict.fromkeys(fns, 0.0)
        for i in range(0, len(sample), 200):
            part = sample[i:i + 200]
            for k, fn in fns.items():
                spent[k] += len(part) / rate(fn, part)
        out1, out2 = work / f"data1_{r}", work / f"data2_{r}"
        # the two index runs take turns at going first, so that neither always meets the other's
        # after-effects (its tables still being written to disk, the memory it freed)
        order = (1, 2) if r % 2 == 0 else (2, 1)
        runs = {w: index_export(export, out1 if w == 1 else out2, workers=w, progress=False) for w in order}
        s1, s2 = runs[1], runs[2]
        stamps = {p.name: p.stat().st_mtime_ns for p in out1.glob("*.parquet")}
        s_re = index_export(export, out1, workers=1, progress=False)
        assert s_re["files_read"] == 0
        assert stamps == {p.name: p.stat().st_mtime_ns for p in out1.glob("*.parquet")}, "an unchanged re-run rewrote a table"
        rounds.append({"floor": len(sample) / spent["floor"], "pydicom": len(sample) / spent["pydicom"],
                       "fast": len(sample) / spent["fast"], "idx1": s1["files"] / s1["seconds"],
                       "idx2": s2["files"] / s2["seconds"], "rerun": s_re["seconds"] / s1["seconds"],
                       "ceiling": ceiling(pool, paths)})
        print(f"round {r + 1}: " + ", ".join(f"{k} {v:,.3g}" for k, v in rounds[-1].items()), file=sys.stderr)

    pool.close()
    pool.join()

    def med(f):
        return statistics.median(f(x) for x in rounds)

    r_floor, r_pyd, r_fast, idx1, idx2 = (med(lambda x, k=k: x[k]) for k in ("floor", "pydicom", "fast", "idx1", "idx2"))

    mem = None
    if args.memory_files:
        mexport = work / "export_mem"
        t = time.perf_counter()
        make_export(mexport, args.memory_files)
        print(f"wrote {args.memory_files} files in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        code = ("import sys; sys.path.insert(0, %r); from bench.index_bench import _peak_child; _peak_child(%r, %r, 2)"
                % (str(REPO), str(mexport), str(work / "data_mem")))
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        mem = json.loads(res.stdout.strip().splitlines()[-1])

    rows = [
        ("files in the speed runs", f"{args.files}", ""),
        ("floor: read 8 KiB, files/s (1 core)", f"{r_floor:,.0f}", ""),
        ("plain pydicom dcmread(stop_before_pixels), files/s (1 core)", f"{r_pyd:,.0f}", ""),
        ("our reader (read_header_fast), files/s (1 core)", f"{r_fast:,.0f}", ""),
        ("  reader vs plain pydicom", f"{med(lambda x: x['fast'] / x['pydicom']):.2f}x", ""),
        ("  reader vs 8 KiB floor", f"{med(lambda x: x['fast'] / x['floor']):.2f}", "1.0 = as fast as reading"),
        ("index_export, 1 worker (walk+read+parquet+series), files/s", f"{idx1:,.0f}", ""),
        ("  index (1 worker) vs plain pydicom", f"{med(lambda x: x['idx1'] / x['pydicom']):.2f}x", "goal >= 5x"),
        ("  index (1 worker) vs our reader alone", f"{med(lambda x: x['idx1'] / x['fast']):.2f}", "1.0 = no cost beyond reading"),
        ("index_export, 2 workers, files/s", f"{idx2:,.0f}", ""),
        ("  parallel efficiency 2 vs 1", f"{med(lambda x: x['idx2'] / (2 * x['idx1'])):.2f}", "goal >= 0.8"),
        ("  machine ceiling: reader alone, 2 processes vs 1", f"{med(lambda x: x['ceiling']):.2f}", "1.0 = two full cores"),
        ("  efficiency / ceiling", f"{med(lambda x: x['idx2'] / (2 * x['idx1']) / x['ceiling']):.2f}", ""),
        ("re-run unchanged / first run (time)", f"{med(lambda x: x['rerun']):.1%}", "goal < 5%"),
    ]
    if mem:
        rows += [
            (f"peak RSS indexing {mem['files']:,} files, 2 workers: main / largest worker MB", f"{mem['main_mb']:.0f} / {mem['worker_mb']:.0f}", ""),
            ("  peak total at one time (main + workers, sampled) MB", f"{mem['total_mb']:.0f}", "goal < 500"),
            ("  that run: files/s", f"{mem['files'] / mem['seconds']:,.0f}", ""),
        ]
    w = max(len(r[0]) for r in rows)
    print(f"radmine index benchmark ({os.cpu_count()} CPUs, warm page cache, load average {load0:.1f} -> {os.getloadavg()[0]:.1f}, "
          f"median of {len(rounds)} rounds)")
    for name, val, goal in rows:
        print(f"{name:<{w}}  {val:>12}  {goal}")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
