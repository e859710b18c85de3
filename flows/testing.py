"""Helpers for the flow tests and benchmarks: a phantom export that grows by a few studies.

`split_phantom(phantom_dir, base_dir, n_new)` hard-links every file of a phantom export except
those of its last `n_new` studies into `base_dir/export` (same relative paths, sizes and mtimes)
and writes the matching `base_dir/reports.jsonl`; `grow(base_dir, phantom_dir)` then links the
remaining files and writes the full reports file, as a nightly export that gained new studies.
"""
from __future__ import annotations

import json
import os
from pathlib import Path


def _accession_by_path(export: Path) -> dict[str, str | None]:
    import pyarrow.parquet as pq

    from dataset.index import index_file, walk_export

    out = {}
    root = str(export.resolve())
    for rel, size, mtime, _ in walk_export(export):
        rows, _err = index_file(root, rel, size, mtime)
        out[rel] = rows[0].get("accession_number") if rows else None
    truth = export.parent / "truth" / "truth_files.parquet"
    if truth.exists():  # broken files: the answer key says which study they belong to
        for r in pq.read_table(truth, columns=["path", "accession_number"]).to_pylist():
            if out.get(r["path"]) is None:
                out[r["path"]] = r["accession_number"]
    return out


def _reports(phantom: Path) -> list[dict]:
    return [json.loads(line) for line in (phantom / "reports.jsonl").read_text().splitlines() if line.strip()]


def _link_files(src_root: Path, dst_root: Path, paths) -> None:
    for rel in paths:
        dst = dst_root / rel
        if dst.exists():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.link(src_root / rel, dst)


def split_phantom(phantom: str | os.PathLike, base: str | os.PathLike, n_new: int,
                  by_path: dict[str, str | None] | None = None) -> list[str]:
    """Base export without the last `n_new` reported studies; returns their accession numbers.

    by_path: accession number of each export file when already known (e.g. from an `instances` table)."""
    phantom, base = Path(phantom), Path(base)
    reports = _reports(phantom)
    new = {r["accession_number"] for r in reports[len(reports) - n_new:]} if n_new else set()
    by_path = _accession_by_path(phantom / "export") if by_path is None else by_path
    _link_files(phantom / "export", base / "export", [p for p, acc in by_path.items() if acc not in new])
    (base / "reports.jsonl").write_text("".join(json.dumps(r) + "\n" for r in reports
                                                if r["accession_number"] not in new))
    (base / ".phantom-source").write_text(str(phantom.resolve()))
    return sorted(new)


def grow(base: str | os.PathLike, phantom: str | os.PathLike) -> None:
    """Add the held-back studies (files and reports) to the base export."""
    phantom, base = Path(phantom), Path(base)
    src = phantom / "export"
    _link_files(src, base / "export", [p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file()])
    (base / "reports.jsonl").write_text((phantom / "reports.jsonl").read_text())


def _main(argv: list[str]) -> int:
    """python -m flows.testing PHANTOM BASE N_NEW   (split)   |   PHANTOM BASE grow"""
    phantom, base, what = argv
    if what == "grow":
        grow(base, phantom)
    else:
        import shutil

        shutil.rmtree(base, ignore_errors=True)
        new = split_phantom(phantom, base, int(what))
        print(f"held back {len(new)} studies: {', '.join(new)}")
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))
