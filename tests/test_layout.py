"""Imports point down: data_contracts <- mining, dataset <- model <- flows."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("data_contracts", "mining", "dataset", "model", "flows")
ALLOWED = {
    "data_contracts": set(),
    "mining": {"data_contracts"},
    "dataset": {"data_contracts"},
    "model": {"data_contracts", "dataset"},
    "flows": {"data_contracts", "mining", "dataset", "model"},
}


def _imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {n.split(".")[0] for n in names if n.split(".")[0] in PACKAGES}
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_down(package):
    bad = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        wrong = _imported_packages(path) - ALLOWED[package] - {package}
        if wrong:
            bad[str(path.relative_to(ROOT))] = sorted(wrong)
    assert not bad, f"{package} may import only {sorted(ALLOWED[package])}; found {bad}"


def test_training_imports_no_sql_engine():
    """A training process (model.data -> data_contracts) loads DuckDB only when SQL is used: GPU images lack it."""
    import subprocess
    import sys

    code = ("import sys, model.data, data_contracts; assert 'duckdb' not in sys.modules, 'imported early'; "
            "data_contracts.query; assert 'duckdb' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
