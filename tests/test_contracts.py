"""Contracts load strictly, and every validation rule catches a bad table with a clear message."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
import yaml

import data_contracts as dc
from data_contracts.contract import CONTRACTS_DIR, parse_contract

FIXED_COLUMNS = {
    "instances": "path size_bytes mtime sop_instance_uid frame_number study_instance_uid series_instance_uid "
    "accession_number patient_id study_date series_number series_description instance_number modality "
    "image_type position_x position_y position_z orientation pixel_spacing slice_thickness rows columns "
    "transfer_syntax_uid",
    "index_errors": "path error_kind message",
    "series": "series_instance_uid study_instance_uid series_number series_description geometry n_images "
    "z_min z_max spacing_mm spacing_uniform tilt_deg affine",
    "snippet_slices": "pair_id report_id ref_id study_instance_uid referenced_sop_instance_uid "
    "referenced_series_instance_uid z_mm volume_series_instance_uid slice_index depth_mm snippet "
    "match_method confidence",
    "rejections": "report_id ref_id reason detail",
}
ALL_TABLES = {"reports", "references", "labels", "instances", "index_errors", "series", "snippet_slices",
              "rejections", "volumes", "runs"}


def test_every_table_has_a_contract_that_loads():
    assert ALL_TABLES <= set(dc.contract_names())
    for name in dc.contract_names():
        c = dc.load_contract(name)
        assert c.grain and c.version
        assert c.primary_key, f"{name} states no key"
        assert all(col.description for col in c.columns)
        assert isinstance(dc.arrow_schema(name), pa.Schema)


@pytest.mark.parametrize("table", sorted(FIXED_COLUMNS))
def test_fixed_public_column_names(table):
    names = set(dc.arrow_schema(table).names)
    assert set(FIXED_COLUMNS[table].split()) <= names


def _doc(name="reports"):
    return yaml.safe_load((CONTRACTS_DIR / f"{name}.yaml").read_text())


def test_undescribed_column_fails_loading():
    doc = _doc()
    del doc["schema"][0]["properties"][1]["description"]
    with pytest.raises(dc.ContractError, match="accession_number.*no description"):
        parse_contract(doc, "reports.yaml")


def test_unknown_type_fails_loading():
    doc = _doc()
    doc["schema"][0]["properties"][0]["physicalType"] = "varchar(12)"
    with pytest.raises(dc.ContractError, match="unknown physicalType 'varchar"):
        parse_contract(doc, "reports.yaml")


def test_unknown_key_fails_loading():
    doc = _doc()
    doc["schema"][0]["properties"][0]["colour"] = "red"
    with pytest.raises(dc.ContractError, match="unknown keys \\['colour'\\]"):
        parse_contract(doc, "reports.yaml")


def test_missing_grain_fails_loading():
    doc = _doc()
    del doc["schema"][0]["dataGranularityDescription"]
    with pytest.raises(dc.ContractError, match="grain"):
        parse_contract(doc, "reports.yaml")


def _rejections(**overrides):
    rows = [
        {"report_id": "r1", "ref_id": 0, "reason": "no_study", "detail": "accession A1 not in export"},
        {"report_id": "r1", "ref_id": 1, "reason": "non_axial", "detail": "series 4 is coronal"},
        {"report_id": "r2", "ref_id": 0, "reason": "no_image", "detail": "image 9 not in series 2"},
    ]
    for i, row in overrides.items():
        rows[int(i[1:])].update(row)
    return pa.Table.from_pylist(rows, schema=dc.arrow_schema("rejections"))


def test_valid_table_passes():
    dc.validate("rejections", _rejections())


def test_required_rule():
    with pytest.raises(dc.ContractViolation) as err:
        dc.validate("rejections", _rejections(r1={"detail": None}))
    msg = str(err.value)
    assert "'rejections'" in msg and "'detail'" in msg and "required" in msg and "row 1" in msg


def test_allowed_values_rule():
    with pytest.raises(dc.ContractViolation) as err:
        dc.validate("rejections", _rejections(r2={"reason": "cosmic_rays"}))
    assert "'reason'" in str(err.value) and "allowed values" in str(err.value) and "cosmic_rays" in str(err.value)


def test_composite_unique_key_rule():
    with pytest.raises(dc.ContractViolation) as err:
        dc.validate("rejections", _rejections(r1={"ref_id": 0}))
    assert "report_id+ref_id" in str(err.value) and "unique key" in str(err.value) and "2 rows" in str(err.value)


def test_unique_column_rule():
    rows = [{"path": "a", "error_kind": "empty", "message": "m"}, {"path": "a", "error_kind": "empty", "message": "m"}]
    with pytest.raises(dc.ContractViolation, match="'path': unique"):
        dc.validate("index_errors", dc.conform("index_errors", rows))


def test_minimum_and_maximum_rules():
    row = {"pair_id": "p", "report_id": "r", "ref_id": -1, "study_instance_uid": "1.2", "referenced_sop_instance_uid": "1.3",
           "referenced_series_instance_uid": "1.4", "referenced_frame_number": 1, "z_mm": 0.0,
           "volume_series_instance_uid": "1.4", "slice_index": 0, "depth_mm": 0.0, "snippet": "s", "is_prior": False,
           "match_method": "series_number", "confidence": 1.5}
    with pytest.raises(dc.ContractViolation) as err:
        dc.validate("snippet_slices", dc.conform("snippet_slices", [row]))
    msg = str(err.value)
    assert "'ref_id': minimum 0" in msg and "'confidence': maximum 1" in msg


def test_type_rule():
    table = pa.table({"report_id": ["r"], "ref_id": ["zero"], "reason": ["no_study"], "detail": ["d"]})
    with pytest.raises(dc.ContractViolation, match="'ref_id': type: expected int64, found string"):
        dc.validate("rejections", table)


def test_undescribed_column_in_table():
    table = _rejections().append_column("secret", pa.array(["x", "y", "z"]))
    with pytest.raises(dc.ContractViolation, match="'secret': undescribed column"):
        dc.validate("rejections", table)
    with pytest.raises(dc.ContractViolation, match="undescribed column"):
        dc.conform("rejections", table)


def test_conform_fills_optional_columns_and_casts():
    t = dc.conform("reports", [{"report_id": "r", "language": "en", "text": "t", "text_sha256": "0",
                                "study_date": dt.date(2024, 1, 2)}])
    assert t.schema == dc.arrow_schema("reports")
    assert t.column("patient_id").to_pylist() == [None]


def test_write_is_atomic_and_failed_write_keeps_previous(tmp_path):
    path = dc.write_table("rejections", _rejections(), tmp_path)
    before = path.read_bytes()
    with pytest.raises(dc.ContractViolation):
        dc.write_table("rejections", _rejections(r0={"reason": "bad"}), tmp_path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["rejections.parquet"]  # no temporary left behind
    assert dc.read_table("rejections", tmp_path).num_rows == 3


def test_streaming_writer_checks_keys_across_batches(tmp_path):
    rows = [{"path": f"f{i}", "error_kind": "empty", "message": "zero bytes"} for i in range(4)]
    with dc.TableWriter("index_errors", tmp_path) as out:
        out.write(rows[:2])
        out.write(rows[2:])
    assert dc.read_table("index_errors", tmp_path).num_rows == 4
    with pytest.raises(dc.ContractViolation, match=r"unique.*path='f1' \(2 rows\)"):
        with dc.TableWriter("index_errors", tmp_path) as out:
            out.write(rows[:2])
            out.write(rows[1:3])
    many = [{"path": f"g{i % 5}", "error_kind": "empty", "message": "zero bytes"} for i in range(12)]
    with pytest.raises(dc.ContractViolation, match=r"path='g0' \(3 rows\).*\(\+2 more\)"):
        with dc.TableWriter("index_errors", tmp_path) as out:
            out.write(many)
    assert dc.read_table("index_errors", tmp_path).num_rows == 4  # previous file intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index_errors.parquet"]


def test_versioned_dataset_reads_current(tmp_path):
    dc.write_table("rejections", _rejections(), tmp_path / "versions" / "v1")
    (tmp_path / "CURRENT").write_text("v1\n")
    assert dc.read_table("rejections", tmp_path).num_rows == 3
    assert dc.row_counts(tmp_path) == {"rejections": 3}


def test_a_table_in_parts_reads_in_key_order_and_queries_as_one_view(tmp_path):
    from data_contracts.io import table_files, write_part

    rows = _rejections().to_pylist()
    write_part("rejections", [rows[2]], tmp_path, "a")  # parts in name order: a, b; keys out of order
    write_part("rejections", rows[:2], tmp_path, "b")
    assert [p.name for p in table_files("rejections", tmp_path)] == ["part-a.parquet", "part-b.parquet"]
    assert dc.has_table("rejections", tmp_path)
    assert dc.read_table("rejections", tmp_path).equals(_rejections())  # sorted by (report_id, ref_id)
    assert dc.read_table("rejections", tmp_path, columns=["reason"]).column(0).to_pylist() == \
        ["no_study", "non_axial", "no_image"]
    assert dc.query(tmp_path, "SELECT count(*) AS n FROM rejections").to_pylist() == [{"n": 3}]
    with pytest.raises(dc.ContractViolation):  # each part is checked as it is written
        write_part("rejections", [rows[0], rows[0]], tmp_path, "c")
    assert not (tmp_path / "rejections" / "part-c.parquet").exists()
    dc.write_table("rejections", _rejections(), tmp_path)  # the one-file form replaces the parts
    assert not (tmp_path / "rejections").exists() and table_files("rejections", tmp_path) == [tmp_path / "rejections.parquet"]
