"""Hostile DICOM: mutated copies of phantom and real files each end as exactly one row of
`instances` or `index_errors`, each file within a per-file time limit, memory bounded.

Mutations (deterministic): truncations (inside the preamble, the header, the pixel data),
flipped bytes in the header, element lengths claiming gigabytes (a private OB element and
the pixel data), sequences nested thousands deep, undefined-length sequences that never end,
wrong VRs, plain garbage and a FIFO (whose open() would block). The indexer enforces its
per-file time limit itself (`file_time_limit`, SIGALRM): each file is timed through that
limited call and must finish within PER_FILE_LIMIT_S. The indexer runs in a child process so its peak memory can be
measured (ru_maxrss) and a hang cannot stop the test run.
"""
from __future__ import annotations

import json
import os
import random
import resource
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PER_FILE_LIMIT_S = 5.0   # wall time one file may take (header reading), checked here
INDEXER_LIMIT_S = 2.0    # the indexer's own per-file limit (file_time_limit): it stops a file after this
PEAK_RSS_LIMIT_MB = 1500  # whole child process, interpreter and libraries included
REPO = Path(__file__).resolve().parents[1]


def _meta_end(buf: bytes) -> int:
    """Offset after the file meta group (explicit VR LE), or 132 when it cannot be told."""
    if buf[128:132] != b"DICM":
        return 0
    pos = 132
    while pos + 8 <= len(buf):
        group = struct.unpack_from("<H", buf, pos)[0]
        if group != 0x0002:
            return pos
        vr = buf[pos + 4:pos + 6]
        if vr in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN", b"UC", b"UR", b"OD", b"OL", b"OV"):
            length = struct.unpack_from("<I", buf, pos + 8)[0]
            pos += 12 + length
        else:
            length = struct.unpack_from("<H", buf, pos + 6)[0]
            pos += 8 + length
    return 132


def _element(group: int, elem: int, vr: bytes, value: bytes, length: int | None = None) -> bytes:
    n = len(value) if length is None else length
    return struct.pack("<HH", group, elem) + vr + b"\0\0" + struct.pack("<I", n) + value


def deep_sequence(depth: int, closed: bool) -> bytes:
    """A private SQ with `depth` nested undefined-length items (closed with delimiters or endless)."""
    out = []
    for _ in range(depth):
        out.append(_element(0x0009, 0x1010, b"SQ", b"", 0xFFFFFFFF))
        out.append(struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF))
    if closed:
        for _ in range(depth):
            out.append(struct.pack("<HHI", 0xFFFE, 0xE00D, 0))
            out.append(struct.pack("<HHI", 0xFFFE, 0xE0DD, 0))
    return b"".join(out)


def mutations(buf: bytes, rng: random.Random) -> dict[str, bytes]:
    """Name -> mutated bytes of one DICOM file."""
    meta = _meta_end(buf) or 132
    head_end = min(len(buf), max(meta + 64, buf.find(b"\xe0\x7f\x10\x00") if b"\xe0\x7f\x10\x00" in buf else len(buf) // 2))
    out = {
        "trunc_preamble": buf[:rng.randrange(1, 132)],
        "trunc_meta": buf[:rng.randrange(132, meta + 1)] if meta > 132 else buf[:140],
        "trunc_header": buf[:rng.randrange(meta, max(meta + 1, head_end))],
        "trunc_pixels": buf[:rng.randrange(head_end, len(buf))] if head_end < len(buf) else buf[:-3],
        "gigabyte_private": buf[:meta] + _element(0x0009, 0x0010, b"OB", b"\0" * 16, 0xFFFFFFF0) + buf[meta:],
        "deep_closed": buf[:meta] + deep_sequence(3000, closed=True) + buf[meta:],
        "deep_endless": buf[:meta] + deep_sequence(20000, closed=False),
        "endless_sequence": buf[:meta] + _element(0x0009, 0x1010, b"SQ", b"", 0xFFFFFFFF)
        + struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF) + os.urandom(0) + bytes(rng.randrange(256) for _ in range(4096)),
        "garbage_after_meta": buf[:meta] + bytes(rng.randrange(256) for _ in range(2048)),
    }
    px = buf.find(b"\xe0\x7f\x10\x00")
    if px > 0 and buf[px + 4:px + 6] in (b"OW", b"OB"):
        out["gigabyte_pixels"] = buf[:px + 8] + struct.pack("<I", 0xFFFFFFF0) + buf[px + 12:]
    flipped = bytearray(buf)
    for _ in range(12):
        i = rng.randrange(meta, max(meta + 1, head_end))
        flipped[i] ^= 1 << rng.randrange(8)
    out["flipped_header"] = bytes(flipped)
    wrong_vr = bytearray(buf)
    for vr in (b"DA", b"UI", b"IS", b"DS", b"US", b"CS"):
        i = wrong_vr.find(vr, meta, head_end)
        if i > 0:
            wrong_vr[i:i + 2] = rng.choice([b"SQ", b"OB", b"XX", b"UN", b"FD", b"AT"])
    out["wrong_vrs"] = bytes(wrong_vr)
    long_len = bytearray(buf)
    for vr in (b"LO", b"PN", b"SH"):
        i = long_len.find(vr, meta, head_end)
        if i > 0:
            long_len[i + 2:i + 4] = b"\xff\xff"  # 64 KiB claimed by a short string
    out["long_string_length"] = bytes(long_len)
    return out


def source_files(tmp: Path, dicom_samples: Path | None) -> list[Path]:
    from dataset.phantom import generate_export

    files = []
    if dicom_samples is not None:
        for folder in sorted(p for p in dicom_samples.iterdir() if p.is_dir()):
            cand = sorted(f for f in folder.rglob("*") if f.is_file() and f.name not in ("DIRFILE", "DICOMDIR"))
            if cand:
                files.append(cand[0])
    generate_export(tmp / "phantom", 1, seed=3, matrix=32)
    phantom = sorted((tmp / "phantom" / "export").rglob("*"))
    phantom = [f for f in phantom if f.is_file()]
    files += phantom[:: max(1, len(phantom) // 6)][:6]
    return files


CHILD = textwrap.dedent("""
    import json, os, resource, sys, time
    from dataset.index import _install_alarm, index_export, read_file_limited, walk_export
    export, data, out, limit = sys.argv[1:5]
    assert _install_alarm()
    slowest = (0.0, None)
    for rel, size, mtime, err in walk_export(export):
        t = time.perf_counter()
        read_file_limited(os.path.abspath(export), rel, size, mtime, True, err, float(limit))
        dt = time.perf_counter() - t
        if dt > slowest[0]:
            slowest = (dt, rel)
    summary = index_export(export, data, workers=1, progress=False, incremental=False, file_time_limit=float(limit))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump({"slowest_s": slowest[0], "slowest": slowest[1], "peak_mb": peak, "summary": summary}, open(out, "w"))
""")


@pytest.mark.slow
def test_mutated_dicom_each_become_one_row(tmp_path, request):
    try:
        samples = request.getfixturevalue("dicom_samples")
    except pytest.skip.Exception:
        samples = None
    export = tmp_path / "export"
    export.mkdir()
    rng = random.Random(20240601)
    names = []
    for i, src in enumerate(source_files(tmp_path, samples)):
        buf = src.read_bytes()
        for kind, data in mutations(buf, rng).items():
            p = export / f"s{i:02d}" / f"{kind}.dcm"
            p.parent.mkdir(exist_ok=True)
            p.write_bytes(data)
            names.append(p.relative_to(export).as_posix())
    (export / "garbage.bin").write_bytes(bytes(rng.randrange(256) for _ in range(5000)))
    (export / "empty.dcm").write_bytes(b"")
    (export / "only_prefix.dcm").write_bytes(b"\0" * 128 + b"DICM")
    names += ["garbage.bin", "empty.dcm", "only_prefix.dcm"]
    if hasattr(os, "mkfifo"):
        os.mkfifo(export / "fifo.dcm")  # opening it would block forever
        names.append("fifo.dcm")
    # every source gives ~13 mutations: the 6 phantom files alone give ~80, with the real samples >100
    assert len(names) > (100 if samples is not None else 75), len(names)

    data = tmp_path / "data"
    result = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, "-c", CHILD, str(export), str(data), str(result), str(INDEXER_LIMIT_S)], cwd=REPO,
                          capture_output=True, text=True, timeout=PER_FILE_LIMIT_S * len(names) + 120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(result.read_text())
    assert res["slowest_s"] < PER_FILE_LIMIT_S, f"{res['slowest']} took {res['slowest_s']:.1f} s"
    assert res["peak_mb"] < PEAK_RSS_LIMIT_MB, f"peak memory {res['peak_mb']:.0f} MB"

    import pyarrow.compute as pc

    import data_contracts as dc

    inst = dc.read_table("instances", data)
    errs = dc.read_table("index_errors", data)
    indexed = set(pc.unique(inst.column("path")).to_pylist())
    failed = errs.column("path").to_pylist()
    assert len(failed) == len(set(failed))
    assert not indexed & set(failed), "a file is both indexed and an error"
    assert indexed | set(failed) == set(names), sorted(set(names) - indexed - set(failed))[:10]
    kinds = set(errs.column("error_kind").to_pylist())
    assert {"truncated", "empty", "not_dicom"} <= kinds
    if "fifo.dcm" in names:
        assert "fifo.dcm" in failed
    for name in ("deep_endless", "trunc_preamble", "gigabyte_pixels"):
        assert all(n in failed for n in names if n.endswith(f"/{name}.dcm")), name
