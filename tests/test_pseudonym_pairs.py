"""The same pipeline run with and without pseudonymisation gives the same pairs (under the key's mapping)."""
from __future__ import annotations

import json

import pytest

import data_contracts as dc
from data_contracts import pseudonym as ps
from flows import pipeline as pl
from flows.audit import audit
from flows.toylib import make_toy_export, toy_report
from mining import deid

KEY = "ab" * 32


def run(root, data, keep):
    return pl.run_pipeline(pl.MineOptions(export_dir=str(root / "export"), reports=str(root / "reports.jsonl"),
                                          data_dir=str(data), library="flows.toylib:library", keep_identifiers=keep))


def test_pairs_are_the_same_with_and_without_pseudonyms(tmp_path, monkeypatch):
    monkeypatch.setenv(ps.KEY_ENV, KEY)
    pz = ps.Pseudonymizer(ps.load_key())
    root = tmp_path / "in"
    make_toy_export(root, range(6))
    reports = [toy_report(s) for s in range(6)]
    reports[1]["text"] += " Discussed with Dr. Jane Smith on 03/14/2019."
    (root / "reports.jsonl").write_text("".join(json.dumps(r) + "\n" for r in reports))
    run(root, tmp_path / "kept", keep=True)
    run(root, tmp_path / "pseudo", keep=False)
    kept = dc.read_table("snippet_slices", tmp_path / "kept").to_pylist()
    pseudo = dc.read_table("snippet_slices", tmp_path / "pseudo").to_pylist()
    assert kept and len(kept) == len(pseudo)

    def mapped(r):
        return (pz.token("pair", r["pair_id"]), pz.report(r["report_id"]), r["ref_id"], pz.uid(r["study_instance_uid"]),
                pz.uid(r["referenced_sop_instance_uid"]), pz.uid(r["referenced_series_instance_uid"]),
                pz.uid(r["volume_series_instance_uid"]), r["referenced_frame_number"], r["slice_index"], r["z_mm"],
                r["depth_mm"], deid.scrub_text(r["snippet"], lambda k, v: pz.uid(v) if k == "UID" else None),
                r["is_prior"], r["match_method"], r["confidence"])

    def plain(r):
        return (r["pair_id"], r["report_id"], r["ref_id"], r["study_instance_uid"], r["referenced_sop_instance_uid"],
                r["referenced_series_instance_uid"], r["volume_series_instance_uid"], r["referenced_frame_number"],
                r["slice_index"], r["z_mm"], r["depth_mm"], r["snippet"], r["is_prior"], r["match_method"], r["confidence"])

    assert sorted(map(mapped, kept)) == sorted(map(plain, pseudo))
    runs = {r["keep_identifiers"] for d in ("kept", "pseudo") for r in dc.read_table("runs", tmp_path / d).to_pylist()}
    assert runs == {True, False}
    counts = json.loads(dc.read_table("runs", tmp_path / "pseudo").column("counts")[0].as_py())
    assert counts["privacy"]["scrubbed"]["NAME"] >= 1 and counts["privacy"]["scrubbed"]["DATE"] >= 1
    assert audit(tmp_path / "pseudo").clean, audit(tmp_path / "pseudo").as_dict()
    assert not audit(tmp_path / "kept").clean
    # an incremental run over pseudonymised output carries identified rows: same pairs again
    run(root, tmp_path / "pseudo", keep=False)
    again = dc.read_table("snippet_slices", tmp_path / "pseudo").to_pylist()
    assert sorted(map(plain, again)) == sorted(map(plain, pseudo))
