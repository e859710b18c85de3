"""`radmine stats`: the summary over the current version and its PNG plots."""
from __future__ import annotations

import json

from flows import pipeline as pl
from flows.cli import main
from flows.stats import dataset_stats
from flows.toylib import make_toy_export


def test_stats_summary_and_plots(tmp_path, capsys):
    make_toy_export(tmp_path, range(6))
    data = tmp_path / "data"
    pl.run_pipeline(pl.MineOptions(export_dir=str(tmp_path / "export"), reports=str(tmp_path / "reports.jsonl"),
                                   data_dir=str(data), library="flows.toylib:library", keep_identifiers=True))
    s = dataset_stats(data)
    assert (s["reports"], s["references"], s["pairs"], s["rejections"]) == (6, 12, 6, 6)
    assert s["rejections_by_reason"] == {"no_image": 6}
    assert s["pairs_per_study"] == {1: 6} and s["pairs_per_study_mean"] == 1.0
    assert s["pairs_per_label"] == {"Lung nodule": 3}
    assert s["labels"]["Lung nodule"] == {"present": 3, "not_mentioned": 3}
    out = tmp_path / "plots"
    assert main(["stats", str(data), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "pairs             6" in text and "no_image" in text
    for name in ("depths.png", "rejections.png", "pairs_per_label.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["stats", str(data), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["pairs"] == 6


def test_stats_refuses_a_folder_without_tables(tmp_path, capsys):
    assert main(["stats", str(tmp_path)]) == 1
    assert "radmine mine" in capsys.readouterr().err
    assert main(["stats", str(tmp_path / "missing")]) == 1
