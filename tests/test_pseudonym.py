"""Keyed pseudonyms: stable under one key, different under another, key kept owner-only, dates keep intervals."""
from __future__ import annotations

import datetime as dt
import os
import re
import stat

import pyarrow as pa
import pytest

from data_contracts import contract_names, load_contract
from data_contracts import pseudonym as ps

KEY = bytes(range(32))


@pytest.fixture
def pz():
    return ps.Pseudonymizer(KEY)


def test_same_value_same_pseudonym_and_kinds_do_not_collide(pz):
    a = pz.patient("PAT00042")
    assert a == pz.patient("PAT00042") and ps.is_pseudonym("patient", a)
    assert pz.patient("PAT00043") != a
    assert pz.accession("PAT00042") != pz.patient("PAT00042")[3:]
    assert pz.accession("PAT00042").startswith("acc_")
    assert ps.Pseudonymizer(b"another key of 32 bytes ........").patient("PAT00042") != a
    assert pz.token("patient", None) is None


def test_pseudonyms_hide_the_value(pz):
    uid = "1.2.826.0.1.3680043.8.498.123456789"
    p = pz.uid(uid)
    assert re.fullmatch(r"uid_[0-9a-f]{24}", p)
    assert "123456789" not in p and "KEY" not in repr(pz) and KEY.hex() not in repr(pz)
    path = pz.token("path", "export/PAT00042/20190314_ACC1/1_AX/IM000001.dcm")
    assert path.endswith(".dcm") and "PAT" not in path and ps.is_pseudonym("path", path)


def test_key_from_environment_hex_and_text(monkeypatch, tmp_path):
    monkeypatch.setenv(ps.KEY_ENV, KEY.hex())
    assert ps.load_key() == KEY
    monkeypatch.setenv(ps.KEY_ENV, "a long enough passphrase")
    assert ps.load_key() == b"a long enough passphrase"
    monkeypatch.setenv(ps.KEY_ENV, "short")
    with pytest.raises(ps.PseudonymKeyError, match="shorter"):
        ps.load_key()


def test_key_file_created_owner_only_and_reused(monkeypatch, tmp_path):
    monkeypatch.delenv(ps.KEY_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.delenv(ps.KEY_FILE_ENV, raising=False)
    path = ps.default_key_file()
    assert path == tmp_path / "cfg" / "radmine" / "pseudonym.key"
    with pytest.raises(ps.PseudonymKeyError):
        ps.load_key(create=False)
    k1 = ps.load_key()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert ps.load_key() == k1 and len(k1) == 32
    os.chmod(path, 0o644)
    with pytest.raises(ps.PseudonymKeyError, match="chmod 600"):
        ps.load_key()


def test_date_shift_keeps_intervals_within_a_patient(pz):
    d1, d2 = dt.date(2019, 3, 14), dt.date(2020, 1, 2)
    s1, s2 = pz.shift_date(d1, "P1"), pz.shift_date(d2, "P1")
    assert s2 - s1 == d2 - d1
    assert -ps.MAX_SHIFT_DAYS <= (s1 - d1).days <= -1
    offsets = {pz.date_offset(f"P{i}") for i in range(200)}
    assert len(offsets) > 150  # patients shift differently
    assert pz.shift_date(None, "P1") is None and pz.shift_date(d1, None) is None


def test_pseudonymise_table_joins_still_work(pz):
    inst = pa.table({"patient_id": ["P1", "P1", None], "accession_number": ["A1", "A2", "A3"],
                     "study_instance_uid": ["1.2.3.4.5", "1.2.3.4.6", "1.2.3.4.7"],
                     "study_date": pa.array([dt.date(2020, 1, 1), dt.date(2020, 2, 1), dt.date(2020, 3, 1)]),
                     "rows": pa.array([512, 512, 256], pa.int32())})
    series = pa.table({"study_instance_uid": ["1.2.3.4.6"], "patient_id": ["P1"]})
    a = ps.pseudonymise_table("instances", inst, pz)
    b = ps.pseudonymise_table("series", series, pz)
    assert a.column("study_instance_uid")[1].as_py() == b.column("study_instance_uid")[0].as_py()
    assert a.column("rows").to_pylist() == [512, 512, 256]
    d = a.column("study_date").to_pylist()
    assert (d[1] - d[0]).days == 31
    assert d[2] is not None  # no patient: shifted by the accession number's offset
    assert a.schema == inst.schema


IDENTIFYING = re.compile(r"(patient|accession|_uid$|date|path|report_id|pair_id|text|snippet|message|detail|name)")


@pytest.mark.parametrize("name", contract_names())
def test_every_string_and_date_column_has_a_decided_kind(name):
    """A new string or date column must be given a kind in data_contracts/pseudonym.py COLUMN_KINDS."""
    kinds = ps.column_kinds(name)
    for col in load_contract(name).columns:
        if pa.types.is_string(col.type) or pa.types.is_date(col.type):
            assert col.name in kinds, f"{name}.{col.name}: add it to COLUMN_KINDS in data_contracts/pseudonym.py"
        if col.name in kinds:
            kind = kinds[col.name]
            assert kind in ps.ID_KINDS or kind in ps.TEXT_KINDS or kind in (ps.DATE_KIND, ps.KEEP)
        if IDENTIFYING.search(col.name) and col.name not in ("sop_class_uid", "transfer_syntax_uid", "array_path"):
            assert kinds.get(col.name, ps.KEEP) != ps.KEEP, f"{name}.{col.name} looks identifying but is kept"
    for col in kinds:
        load_contract(name).column(col)  # no stale entries


def test_the_pseudonym_memo_is_bounded_and_answers_the_same_after_it_is_cleared(monkeypatch):
    from data_contracts import pseudonym as ps

    monkeypatch.setattr(ps, "CACHE_ENTRIES", 10)
    pz = ps.Pseudonymizer(b"k" * 32)
    first = [pz.patient(f"P{i}") for i in range(25)]
    assert len(pz._cache) <= 10
    assert [pz.patient(f"P{i}") for i in range(25)] == first
