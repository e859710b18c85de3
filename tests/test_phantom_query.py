"""`radmine query` answers on the phantom's answer-key tables and never writes into them."""
from __future__ import annotations

import hashlib
import json

import pytest

from dataset.phantom import generate_export
from flows.cli import main

# under pytest-xdist (`make test`), this module's tests share one worker and its module-scoped fixtures
pytestmark = pytest.mark.xdist_group("phantom_query")


@pytest.fixture(scope="module")
def truth(tmp_path_factory):
    out = tmp_path_factory.mktemp("phantom") / "ph"
    generate_export(out, 3, seed=5, matrix=16)
    return out / "truth"


def _snapshot(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_query_reads_the_answer_key(truth, capsys):
    assert main(["query", str(truth), "SELECT count(DISTINCT report_id) AS reports, count(*) AS refs "
                 "FROM truth_references", "-f", "json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["reports"] == 3 and row["refs"] >= 3
    assert main(["query", str(truth), "SELECT count(*) AS n FROM truth_labels", "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"n": 3 * 18}


def test_query_cannot_write_into_the_answer_key(truth, capsys):
    before = _snapshot(truth)
    rc = main(["query", str(truth), f"COPY (SELECT * FROM truth_labels WHERE false) TO '{truth}/truth_labels.parquet'"])
    assert rc == 2 and "read-only" in capsys.readouterr().err
    assert _snapshot(truth) == before
