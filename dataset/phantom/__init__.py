"""Phantom PACS export: deterministic synthetic CT DICOM, reports and an answer key.

`generate_export(out_dir, n_studies, seed, matrix=64) -> summary dict` writes
`out_dir/export/` (DICOM), `out_dir/reports.csv` / `reports.jsonl` and `out_dir/truth/*.parquet`.
Modules: anatomy (HU phantom + sampler), findings (18 CT-RATE labels: placement, drawing),
geometry (series planes), dicom_writer (CT / Enhanced CT files, naming, broken files),
reports (report text with reference spans), generate (the streaming driver).
"""
from .generate import generate_export

__all__ = ["generate_export"]
