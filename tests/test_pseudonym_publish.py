"""flows.privacy.protect_version: published tables carry pseudonyms and scrubbed text, offsets still point right."""
from __future__ import annotations

import datetime as dt
import hashlib

import pyarrow.parquet as pq
import pytest

import data_contracts as dc
from data_contracts import pseudonym as ps
from flows import privacy
from mining import deid

KEY = "0123456789abcdef" * 4
TEXT = ("Patient: DOE, JOHN  MRN: 00123456\nCOMPARISON: CT chest dated 03/14/2019.\n"
        "FINDINGS: A 92-year-old woman. Nodule in the right upper lobe (series 4, image 23), 14 mm.\n"
        "Discussed with Dr. Jane Smith at (555) 123-4567.")


def _span(text, needle):
    i = text.index(needle)
    return i, i + len(needle)


def write_identified_version(d):
    rid = "ACC123"
    ref_s, ref_e = _span(TEXT, "series 4, image 23")
    sen_s, sen_e = _span(TEXT, "FINDINGS: A 92-year-old woman. Nodule in the right upper lobe (series 4, image 23), 14 mm.")
    snip_s, snip_e = _span(TEXT, "Nodule in the right upper lobe (series 4, image 23)")
    ev_s, ev_e = _span(TEXT, "Nodule")
    dc.write_table("reports", [{"report_id": rid, "accession_number": rid, "patient_id": "PAT42",
                                "study_date": dt.date(2020, 1, 2), "language": "en", "text": TEXT,
                                "text_sha256": hashlib.sha256(TEXT.encode()).hexdigest()}], d)
    dc.write_table("references", [{
        "report_id": rid, "ref_id": 0, "section": "FINDINGS", "sentence_start": sen_s, "sentence_end": sen_e,
        "ref_start": ref_s, "ref_end": ref_e, "ref_text": TEXT[ref_s:ref_e], "series_number": 4,
        "series_inferred": False, "image_number": 23, "is_prior": False,
        "snippet": "A 92-year-old woman. Nodule in the right upper lobe, seen by Dr. Smith.",
        "snippet_start": snip_s, "snippet_end": snip_e, "language": "en", "rule": "r1", "duplicate_cluster_size": 1}], d)
    dc.write_table("labels", [{"report_id": rid, "label": "Lung nodule", "value": "present", "evidence_start": ev_s,
                               "evidence_end": ev_e, "evidence_text": "Nodule", "rule": "f1"}], d)
    uid = "1.2.826.0.1.3680043.8.498.1"
    dc.write_table("snippet_slices", [{
        "pair_id": "abc", "report_id": rid, "ref_id": 0, "study_instance_uid": uid + "0",
        "referenced_sop_instance_uid": uid + "1", "referenced_series_instance_uid": uid + "2",
        "referenced_frame_number": 1, "z_mm": -100.0, "volume_series_instance_uid": uid + "2", "slice_index": 3,
        "depth_mm": 15.0, "snippet": "A 92-year-old woman. Nodule in the right upper lobe, seen by Dr. Smith.",
        "is_prior": False, "match_method": "series_number", "confidence": 1.0}], d)
    dc.write_table("index_errors", [{"path": "export/PAT42/20200102_ACC123/bad.dcm", "error_kind": "truncated",
                                     "message": "export/PAT42/20200102_ACC123/bad.dcm: file ends early; re-export it"}], d)
    dc.write_table("rejections", [{"report_id": rid, "ref_id": 1, "reason": "no_series",
                                   "detail": f"study {uid}0 has no series 9"}], d)
    return uid


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(ps.KEY_ENV, KEY)
    return ps.Pseudonymizer(ps.load_key())


def test_protect_version(tmp_path, key):
    uid = write_identified_version(tmp_path)
    summary = privacy.protect_version(tmp_path)
    assert summary["scrubbed"]["NAME"] >= 2 and summary["scrubbed"]["AGE"] >= 1 and summary["texts_scrubbed"] >= 3
    # identified copies kept aside, out of the query views
    assert (tmp_path / ".identified" / "reports.parquet").exists()
    assert "reports" in dc.table_sources(tmp_path) and ".identified" not in dc.table_sources(tmp_path)
    rep = dc.read_table("reports", tmp_path).to_pylist()[0]
    text = rep["text"]
    assert rep["report_id"] == key.report("ACC123") and rep["patient_id"] == key.patient("PAT42")
    assert rep["accession_number"] == key.accession("ACC123")
    assert rep["study_date"] == key.shift_date(dt.date(2020, 1, 2), "PAT42")
    assert rep["text_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    for leak in ("DOE", "00123456", "03/14/2019", "92-year", "Jane", "Smith", "555"):
        assert leak not in text
    ref = dc.read_table("references", tmp_path).to_pylist()[0]
    assert text[ref["ref_start"]:ref["ref_end"]] == ref["ref_text"] == "series 4, image 23"
    assert text[ref["sentence_start"]:ref["sentence_end"]].startswith("FINDINGS: A [AGE>89] woman.")
    assert text[ref["snippet_start"]:ref["snippet_end"]] == "Nodule in the right upper lobe (series 4, image 23)"
    assert ref["snippet"] == "A [AGE>89] woman. Nodule in the right upper lobe, seen by Dr. [NAME]."
    lab = dc.read_table("labels", tmp_path).to_pylist()[0]
    assert text[lab["evidence_start"]:lab["evidence_end"]] == lab["evidence_text"] == "Nodule"
    pair = dc.read_table("snippet_slices", tmp_path).to_pylist()[0]
    assert pair["snippet"] == ref["snippet"] and pair["report_id"] == rep["report_id"]
    assert pair["referenced_sop_instance_uid"] == key.uid(uid + "1") and pair["pair_id"] == key.token("pair", "abc")
    err = dc.read_table("index_errors", tmp_path).to_pylist()[0]
    assert "PAT42" not in err["path"] + err["message"] and err["path"] in err["message"]
    rej = dc.read_table("rejections", tmp_path).to_pylist()[0]
    assert rej["detail"] == f"study {key.uid(uid + '0')} has no series 9"
    # idempotent: protecting again rebuilds the same tables from .identified
    before = {n: pq.read_table(tmp_path / f"{n}.parquet") for n in ("reports", "references")}
    privacy.protect_version(tmp_path)
    for n, t in before.items():
        assert pq.read_table(tmp_path / f"{n}.parquet").equals(t)
    assert privacy.identified_table_path(tmp_path, "reports") == tmp_path / ".identified" / "reports.parquet"


def test_the_key_never_reaches_the_tables(tmp_path, key):
    write_identified_version(tmp_path)
    privacy.protect_version(tmp_path)
    for p in tmp_path.glob("*.parquet"):
        raw = p.read_bytes()
        assert KEY.encode() not in raw and bytes.fromhex(KEY) not in raw


def test_keep_identifiers_leaves_tables(tmp_path, key):
    write_identified_version(tmp_path)
    before = pq.read_table(tmp_path / "reports.parquet")
    assert privacy.protect_version(tmp_path, keep_identifiers=True) == {"keep_identifiers": True}
    assert pq.read_table(tmp_path / "reports.parquet").equals(before)
    assert not (tmp_path / ".identified").exists()


def test_small_batches_give_the_same_result(tmp_path, key):
    a, b = tmp_path / "a", tmp_path / "b"
    write_identified_version(a)
    write_identified_version(b)
    privacy.protect_version(a)
    privacy.protect_version(b, batch_rows=1)
    for n in ("reports", "references", "labels"):
        assert pq.read_table(a / f"{n}.parquet").equals(pq.read_table(b / f"{n}.parquet"))


def write_many_reports(d, n: int = 5):
    """n copies of TEXT (each scrubbed, so each has an offset map) with a reference and a label each."""
    ref_s, ref_e = _span(TEXT, "series 4, image 23")
    snip_s, snip_e = _span(TEXT, "Nodule in the right upper lobe (series 4, image 23)")
    ev_s, ev_e = _span(TEXT, "Nodule")
    rids = [f"ACC{i:03d}" for i in range(n)]
    dc.write_table("reports", [{"report_id": r, "accession_number": r, "patient_id": f"P{i}", "language": "en",
                                "text": TEXT, "text_sha256": hashlib.sha256(TEXT.encode()).hexdigest()}
                               for i, r in enumerate(rids)], d)
    dc.write_table("references", [{
        "report_id": r, "ref_id": 0, "section": "FINDINGS", "sentence_start": snip_s, "sentence_end": snip_e,
        "ref_start": ref_s, "ref_end": ref_e, "ref_text": TEXT[ref_s:ref_e], "series_number": 4,
        "series_inferred": False, "image_number": 23, "is_prior": False, "snippet": "Nodule in the right upper lobe.",
        "snippet_start": snip_s, "snippet_end": snip_e, "language": "en", "rule": "r1", "duplicate_cluster_size": 1}
        for r in rids], d)
    dc.write_table("labels", [{"report_id": r, "label": "Lung nodule", "value": "present", "evidence_start": ev_s,
                               "evidence_end": ev_e, "evidence_text": "Nodule", "rule": "f1"} for r in rids], d)


def test_report_maps_spilled_to_disk_give_the_same_tables(tmp_path, key):
    a, b = tmp_path / "a", tmp_path / "b"
    write_many_reports(a)
    write_many_reports(b)
    privacy.protect_version(a)
    privacy.protect_version(b, batch_rows=2, maps_in_memory=1)  # four of five maps live in SQLite
    for n in ("reports", "references", "labels"):
        assert pq.read_table(a / f"{n}.parquet").equals(pq.read_table(b / f"{n}.parquet")), n
    refs = pq.read_table(b / "references.parquet").to_pylist()
    texts = {r["report_id"]: r["text"] for r in pq.read_table(b / "reports.parquet").to_pylist()}
    assert all(texts[r["report_id"]][r["ref_start"]:r["ref_end"]] == r["ref_text"] == "series 4, image 23" for r in refs)


def test_report_maps_spill_past_the_memory_limit_and_clear_their_file():
    import os

    maps = privacy.ReportMaps(in_memory=1)
    scrubbed = [deid.scrub(f"Dr. Jane Smith saw patient {i} on 03/14/2019.") for i in range(3)]
    for i, s in enumerate(scrubbed):
        maps[f"r{i}"] = s
    assert len(maps) == 3 and len(maps._mem) == 1
    folder = maps._dir.name
    assert [maps.get(f"r{i}").spans for i in range(3)] == [s.spans for s in scrubbed]
    assert maps.get("missing") is None
    maps.clear()
    assert not os.path.exists(folder) and len(maps) == 0
