"""Matching references to images and placing them in the training volume, on a hand-built export."""
from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd
import pytest

import data_contracts
from dataset import matching
from test_matching_synth import SeriesSpec, StudySpec, reference, report, write_export

# under pytest-xdist (`make test`), this module's tests share one worker and its module-scoped fixtures
pytestmark = pytest.mark.xdist_group("matching")

STUDIES = [
    StudySpec("A1", "P1", date(2024, 3, 10), [
        SeriesSpec(1, "Topogram", kind="localizer", n=1),
        SeriesSpec(2, "AX 5mm B30f", n=20, spacing=5.0),
        SeriesSpec(3, "AX 1.25mm B30f", n=77, spacing=1.25),
        SeriesSpec(4, "COR 3mm", kind="coronal", n=10, spacing=3.0),
        SeriesSpec(5, "AX 5mm B70f LUNG", n=20, spacing=5.0),
        SeriesSpec(5, "AX 5mm B30f SOFT", n=20, spacing=5.0),
        SeriesSpec(6, "Dose Report", kind="sc", n=1),
        SeriesSpec(7, "AX 5mm reverse", n=20, spacing=5.0, descending=True),
        SeriesSpec(8, "AX 5mm tilt", n=20, spacing=5.0, tilt_deg=15.0),
    ]),
    StudySpec("A0", "P1", date(2023, 1, 5), [
        SeriesSpec(2, "AX 5mm", n=20, spacing=5.0),
        SeriesSpec(3, "AX 8mm high", n=10, spacing=8.0, z_top=120.0),
    ]),
    StudySpec("B1", "P2", date(2024, 2, 1), [
        SeriesSpec(2, "AX 10mm", n=10, spacing=10.0),
    ]),
    StudySpec("C1", "P3", date(2024, 5, 6), [
        SeriesSpec(2, "Enhanced AX 2mm", n=30, spacing=2.0, multiframe=True),
        SeriesSpec(3, "COR", kind="coronal", n=5),
    ]),
]

REPORTS = [
    report("R1", "A1", "P1", date(2024, 3, 10), "COMPARISON: CT chest 01/05/2023.\nFINDINGS: nodules."),
    report("R2", "B1", "P2", date(2024, 2, 1)),
    report("R3", "XX-unknown", "P3", date(2024, 5, 6)),
    report("R4", "nope", None, None),
    report("R5", "B1", "P2", date(2024, 2, 1), "COMPARISON: none."),
]

# (reference, expected reason or None, expected z of the referenced image or None)
CASES = [
    (reference("R1", 0, 10, 2), None, 5.0),
    (reference("R1", 1, 99, 2), "image_out_of_range", None),
    (reference("R1", 2, 5, 4), "non_axial", None),
    (reference("R1", 3, 1, 1), "localizer", None),
    (reference("R1", 4, 1, 6), "not_a_volume", None),
    (reference("R1", 5, 1, 9), "no_series", None),
    (reference("R1", 6, 3, 5), "ambiguous_series", None),
    (reference("R1", 7, 3, 5, series_hint="lung"), None, 40.0),
    (reference("R1", 8, 1, 7), None, -45.0),
    (reference("R1", 9, 10, None), "no_series", None),
    (reference("R1", 18, 10, None, image_count=77), None, 50.0 - 9 * 1.25),
    (reference("R1", 19, 10, None, image_count=20), "ambiguous_series", None),
    (reference("R1", 10, 4, 2, image_number_end=6), None, 30.0),
    (reference("R1", 11, 3, 2, is_prior=True), None, 40.0),
    (reference("R1", 12, 12, 2), "no_image", None),
    (reference("R1", 13, 15, 2), "no_position", None),
    (reference("R1", 14, 2, 3, is_prior=True), "outside_volume", None),
    (reference("R1", 15, 10, 2, series_inferred=True), None, 5.0),
    (reference("R1", 16, 10, 8), None, None),
    (reference("R1", 17, 3, 2, image_count=2), "image_out_of_range", None),
    (reference("R2", 0, 3, 2), "no_volume", None),
    (reference("R3", 0, 5, None), None, 50.0 - 4 * 2.0),
    (reference("R4", 0, 5, 2), "no_study", None),
    (reference("R5", 0, 5, 2, is_prior=True), "prior_study_unavailable", None),
    (reference("R9", 0, 5, 2), "no_study", None),
]


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    inst, ser = write_export(root, STUDIES)
    inst = [r for r in inst if not (r["accession_number"] == "A1" and r["series_number"] == 2 and r["instance_number"] == 12)]
    for r in inst:
        if r["accession_number"] == "A1" and r["series_number"] == 2 and r["instance_number"] == 15:
            r.update(position_x=None, position_y=None, position_z=None)
    return root, pd.DataFrame(inst), pd.DataFrame(ser)


@pytest.fixture(scope="module")
def matched(export):
    _, inst, ser = export
    refs = pd.DataFrame([c[0] for c in CASES])
    pairs, rejections = matching.match_references(refs, pd.DataFrame(REPORTS), inst, ser)
    return {(p["report_id"], p["ref_id"]): p for p in pairs}, {(r["report_id"], r["ref_id"]): r for r in rejections}


def test_training_volume_is_thinnest_full_axial(export):
    _, _, ser = export
    chosen = matching.choose_training_volumes(ser)
    descr = {st: row["series_description"] for st, row in chosen.items()}
    assert sorted(descr.values()) == ["AX 1.25mm B30f", "AX 5mm", "Enhanced AX 2mm"]  # B1's 10 mm is out of range
    narrow = matching.choose_training_volumes(ser, matching.MatchConfig(min_slice_mm=2.0, max_slice_mm=5.0))
    assert any(r["series_description"] == "AX 5mm B30f" for r in narrow.values())


@pytest.mark.parametrize("ref,reason,z", CASES, ids=[f"{c[0]['report_id']}-{c[0]['ref_id']}" for c in CASES])
def test_each_reference(matched, ref, reason, z):
    pairs, rejections = matched
    key = (ref["report_id"], ref["ref_id"])
    assert (key in pairs) != (key in rejections)  # exactly one outcome
    if reason is None:
        assert key in pairs, rejections.get(key)
        if z is not None:
            assert pairs[key]["z_mm"] == pytest.approx(z, abs=1e-3)
    else:
        assert key in rejections, pairs.get(key)
        assert rejections[key]["reason"] == reason
        assert rejections[key]["detail"]


def test_details_name_numbers_as_integers_whatever_the_column_dtype(export, matched):
    # CASES hold null series numbers, so pandas gives float columns; the details must not say "series 9.0"
    _, inst, ser = export
    _, rejections = matched
    assert rejections[("R1", 5)]["detail"].startswith("no series 9 in study ")
    assert not [r["detail"] for r in rejections.values() if re.search(r"(?:series|image|frame|hold)s?:? \[?\d+\.0\b", r["detail"])]
    no_nulls = [c[0] for c in CASES if c[1] and c[0]["series_number"] is not None and c[0]["report_id"] == "R1"]
    _, alone = matching.match_references(pd.DataFrame(no_nulls), pd.DataFrame(REPORTS), inst, ser)
    assert alone and all(r == rejections[(r["report_id"], r["ref_id"])] for r in alone)


def test_placement_lands_on_thin_slice(matched):
    pairs, _ = matched
    p = pairs[("R1", 0)]  # 5 mm image 10 at z=5 -> 1.25 mm volume from z=50: slice (50-5)/1.25 = 36
    assert p["slice_index"] == 36 and p["depth_mm"] == pytest.approx(45.0)
    assert p["match_method"] == "series_number" and p["confidence"] == 1.0
    rev = pairs[("R1", 8)]  # image 1 of a feet-to-head series is the most inferior
    assert rev["slice_index"] == 76
    fuzzy = pairs[("R1", 7)]
    assert fuzzy["match_method"] == "series_fuzzy" and fuzzy["confidence"] < 1.0
    assert pairs[("R1", 15)]["match_method"] == "inferred_series"
    single = pairs[("R3", 0)]
    assert single["match_method"] == "single_axial_volume" and single["referenced_frame_number"] == 5
    assert single["slice_index"] == 4
    prior = pairs[("R1", 11)]
    assert prior["is_prior"] and prior["volume_series_instance_uid"] != p["volume_series_instance_uid"]
    assert prior["slice_index"] == 2
    # a tilted image's centre (not its corner) is what is placed
    tilt = pairs[("R1", 16)]  # centre z = 50 - 45*cos(15 deg) = 6.53 -> slice 34.8
    assert tilt["slice_index"] == 35 and tilt["depth_mm"] == pytest.approx(45 * np.cos(np.deg2rad(15)), abs=1e-6)
    assert pair_ids_stable(pairs)


def pair_ids_stable(pairs) -> bool:
    return all(p["pair_id"] == matching.pair_id(*k) for k, p in pairs.items()) and len({p["pair_id"] for p in pairs.values()}) == len(pairs)


def test_run_match_writes_valid_tables_one_row_per_reference(export, tmp_path):
    _, inst, ser = export
    import pyarrow as pa

    data_contracts.write_table("instances", pa.Table.from_pylist(inst.to_dict("records")), tmp_path)
    data_contracts.write_table("series", pa.Table.from_pylist(ser.to_dict("records")), tmp_path)
    data_contracts.write_table("reports", REPORTS, tmp_path)
    data_contracts.write_table("references", [c[0] for c in CASES], tmp_path)
    counts = matching.run_match(tmp_path)
    pairs = data_contracts.read_table("snippet_slices", tmp_path).to_pandas()
    rej = data_contracts.read_table("rejections", tmp_path).to_pandas()
    assert counts["pairs"] == len(pairs) and len(pairs) + len(rej) == len(CASES)
    keys = set(zip(pairs.report_id, pairs.ref_id)) | set(zip(rej.report_id, rej.ref_id))
    assert keys == {(c[0]["report_id"], c[0]["ref_id"]) for c in CASES}
    assert set(rej.reason) <= set(matching.REJECTION_REASONS)


def _write_tables(tmp_path, inst, ser, references=()):
    import pyarrow as pa

    data_contracts.write_table("instances", pa.Table.from_pylist(inst.to_dict("records")), tmp_path)
    data_contracts.write_table("series", pa.Table.from_pylist(ser.to_dict("records")), tmp_path)
    data_contracts.write_table("reports", REPORTS, tmp_path)
    data_contracts.write_table("references", list(references), tmp_path)


def test_matching_report_by_report_equals_matching_over_the_whole_index(export, tmp_path):
    """Each batch is matched over its own studies and patients only (`study_index`): with a batch a report, the
    study by patient and date (R3), the prior study (R1) and the study named by accession alone still match. (A
    batch lists series in key order, as the published table stores them; details that list series follow it.)"""
    _, inst, ser = export
    refs = [c[0] for c in CASES]
    _write_tables(tmp_path, inst, ser, refs)
    matching.run_match(tmp_path, batch_reports=1)
    pairs = data_contracts.read_table("snippet_slices", tmp_path).to_pylist()
    rejections = data_contracts.read_table("rejections", tmp_path).to_pylist()
    want_pairs, want_rejections = matching.match_references(pd.DataFrame(refs), pd.DataFrame(REPORTS), inst,
                                                            ser.sort_values("series_instance_uid"))
    n_pairs = sum(reason is None for _, reason, _ in CASES)
    assert len(pairs) == n_pairs and len(rejections) == len(CASES) - n_pairs
    assert {(p["report_id"], p["ref_id"]): p for p in pairs} == {(p["report_id"], p["ref_id"]): p for p in want_pairs}
    assert {(r["report_id"], r["ref_id"]): r for r in rejections} == \
        {(r["report_id"], r["ref_id"]): r for r in want_rejections}


@pytest.mark.parametrize("acc, patient, studies", [
    ("B1", "P2", {"B1"}),
    (" B1 ", None, {"B1"}),                # stripped, as the matcher keys accession numbers
    ("A1", None, {"A1", "A0"}),            # the accession's patient: its prior study
    ("XX-unknown", "P3", {"C1"}),          # study by patient and date
    ("nope", None, set()),
])
def test_a_batch_reads_only_the_studies_its_reports_can_reach(export, tmp_path, acc, patient, studies):
    """Memory follows the batch: `study_index` reads every image of the studies a batch's reports can reach and
    nothing else."""
    from data_contracts.sql import bounded_connection

    _, inst, ser = export
    _write_tables(tmp_path, inst, ser)
    con = bounded_connection()
    try:
        images, series = matching.study_index(con, tmp_path, pd.DataFrame([report("R", acc, patient, None)]))
    finally:
        con.close()
    assert set(series.accession_number) == studies
    wanted = inst[inst.accession_number.isin(studies)]
    assert images.num_rows == len(wanted) and set(images.column_names) == set(matching.IMAGE_COLUMNS)
    assert sorted(images.column("sop_instance_uid").to_pylist()) == sorted(wanted.sop_instance_uid)


def test_reasons_match_contract():
    contract = data_contracts.load_contract("rejections")
    col = next(c for c in contract.columns if c.name == "reason")
    text = str(col)
    for reason in matching.REJECTION_REASONS:
        assert reason in text


@pytest.mark.parametrize("text,expected", [
    ("COMPARISON: CT of 2023-01-05 and 03.02.2022.", [date(2023, 1, 5), date(2022, 2, 3)]),
    ("Vergleich: Voruntersuchung vom 4. März 2021.", [date(2021, 3, 4)]),
    ("Comparison: March 4, 2021; 20200101.", [date(2021, 3, 4), date(2020, 1, 1)]),
    ("Comparison: none.", []),
    ("COMPARISON: CT 05/01/2023.", [date(2023, 5, 1), date(2023, 1, 5)]),  # US or UK: both readings
    ("COMPARISON: CT 25/03/2023 and 03/25/2022, 4-4-2021.", [date(2023, 3, 25), date(2022, 3, 25), date(2021, 4, 4)]),
])
def test_dates_in(text, expected):
    assert matching.dates_in(text) == expected


def test_pick_prior_rules():
    studies = [dict(study_instance_uid=u, study_date=d) for u, d in
               [("s1", date(2020, 1, 1)), ("s2", date(2022, 6, 1)), ("s3", date(2024, 1, 1))]]
    rdate = date(2024, 1, 1)
    assert matching.pick_prior_study(studies, rdate, "COMPARISON: 01.06.2022\nFINDINGS: x")[0]["study_instance_uid"] == "s2"
    assert matching.pick_prior_study(studies, rdate, "COMPARISON: 2019-01-01\nFINDINGS: x")[0] is None
    assert matching.pick_prior_study(studies, rdate, "COMPARISON: prior CT\nFINDINGS: x")[0] is None  # two earlier
    assert matching.pick_prior_study(studies[1:], rdate, "FINDINGS: x")[0]["study_instance_uid"] == "s2"
    # a UK report's day-first date finds its study (read month first, it named none of them)
    assert matching.pick_prior_study(studies, rdate, "COMPARISON: CT 01/06/2022\nFINDINGS: x")[0]["study_instance_uid"] == "s2"
    # the comparison section wins over dates elsewhere in the text
    txt = "HISTORY: surgery 2020-01-01.\nCOMPARISON: 2022-06-01.\nFINDINGS: stable."
    assert matching.pick_prior_study(studies, rdate, txt)[0]["study_instance_uid"] == "s2"


@pytest.mark.parametrize("sentence,expected", [
    ("On soft tissue windows, a node (2:31).", "soft tissue"),
    ("On lung windows, septal thickening (2:32).", "lung"),
    ("Im Weichteilfenster Lymphknoten (Serie 2, Bild 31).", "soft tissue"),
    ("Nodule in the right lung (2:31).", None),  # anatomy, not a window
])
def test_window_in_sentence(sentence, expected):
    assert matching.window_in_sentence(sentence) == expected


def test_sentence_window_breaks_a_shared_series_number(export):
    _, inst, ser = export
    text = "FINDINGS: On lung windows, a nodule (5:3)."
    refs = pd.DataFrame([reference("R6", 0, 3, 5, sentence_start=10, sentence_end=len(text))])
    pairs, rej = matching.match_references(refs, pd.DataFrame([report("R6", "A1", "P1", date(2024, 3, 10), text)]), inst, ser)
    assert not rej and pairs[0]["match_method"] == "series_fuzzy"
    lung = ser.loc[ser.series_description == "AX 5mm B70f LUNG", "series_instance_uid"].item()
    assert pairs[0]["referenced_series_instance_uid"] == lung


def test_a_matcher_over_an_arrow_table_matches_as_over_the_dataframe(export, matched):
    """The flow's nightly matcher gets the images of the night's studies as an Arrow table (no pandas round trip):
    the same pairs and rejections, missing positions, multi-frame files and integer details included."""
    import pyarrow as pa

    _, inst, ser = export
    table = pa.Table.from_pandas(inst, preserve_index=False)
    assert table.column("position_x").null_count > 0  # the image without a position
    refs = pd.DataFrame([c[0] for c in CASES])
    pairs, rejections = matching.match_references(refs, pd.DataFrame(REPORTS), None, None,
                                                  matcher=matching.Matcher(table, ser))
    want_pairs, want_rejections = matched
    assert {(p["report_id"], p["ref_id"]): p for p in pairs} == want_pairs
    assert {(r["report_id"], r["ref_id"]): r for r in rejections} == want_rejections


def test_accession_numbers_and_patient_ids_match_without_the_leading_zeros_a_spreadsheet_drops(tmp_path):
    """A report export that passed through Excel or pandas holds 12345 for the DICOM headers' "0012345": the
    matcher, the batch's study index and the nightly run's choice of reports to re-match compare them alike."""
    studies = [StudySpec("0012345", "000042", date(2024, 3, 10), [SeriesSpec(2, "AX 5mm", n=20, spacing=5.0)]),
               StudySpec("0012300", "000042", date(2023, 1, 5), [SeriesSpec(2, "AX 5mm", n=20, spacing=5.0)]),
               StudySpec("CT0077", "P7", date(2024, 1, 1), [SeriesSpec(2, "AX 5mm", n=20, spacing=5.0)])]
    inst, ser = write_export(tmp_path / "export", studies)
    reports = [report("R1", "12345", "42", date(2024, 3, 10), "COMPARISON: CT 01/05/2023."),
               report("R2", None, "42", date(2024, 3, 10)),                 # by patient and date
               report("R3", "CT77", None, None)]                              # a letter prefix is no number: no match
    refs = [reference("R1", 0, 10, 2), reference("R1", 1, 3, 2, is_prior=True), reference("R2", 0, 4, 2),
            reference("R3", 0, 4, 2)]
    pairs, rejections = matching.match_references(pd.DataFrame(refs), pd.DataFrame(reports), pd.DataFrame(inst),
                                                  pd.DataFrame(ser))
    accession = {r["study_instance_uid"]: r["accession_number"] for r in ser}
    assert {(p["report_id"], p["ref_id"], accession[p["study_instance_uid"]]) for p in pairs} == \
        {("R1", 0, "0012345"), ("R1", 1, "0012300"), ("R2", 0, "0012345")}
    assert [(r["report_id"], r["reason"]) for r in rejections] == [("R3", "no_study")]
    data = tmp_path / "data"
    data_contracts.write_table("instances", inst, data)
    data_contracts.write_table("series", ser, data)
    data_contracts.write_table("reports", reports, data)
    data_contracts.write_table("references", refs, data)
    matching.run_match(data, batch_reports=1)
    assert len(data_contracts.read_table("snippet_slices", data)) == 3  # each batch's study index found its studies
    # a night that adds images to study 0012345 re-matches the reports that name it as 12345, and R2 by its patient
    import shutil

    import pyarrow as pa

    from flows.library import library

    prev = tmp_path / "prev"
    prev.mkdir()
    previous = {}
    for name in ("snippet_slices", "rejections"):
        previous[name] = [shutil.copy(f, prev / f"{name}-{i}.parquet")
                          for i, f in enumerate(data_contracts.table_files(name, data))]
    changed = pa.table({"accession_number": ["0012345"], "patient_id": ["000042"]})
    counts = library.match_incremental(data, previous, pa.array([], pa.string()), changed)
    assert (counts["references_rematched"], counts["pairs"], counts["rejected"]) == (3, 3, 1)
