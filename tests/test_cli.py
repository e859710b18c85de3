"""The `radmine` CLI: every listed command answers --help, and start-up stays light."""
from __future__ import annotations

import subprocess
import sys

import pytest
import typer.main

from flows.cli import app, main

HEAVY = ("torch", "spacy", "prefect", "pydicom", "duckdb", "pyarrow", "pandas", "matplotlib")


def _commands():
    group = typer.main.get_command(app)
    names = []
    for name, cmd in group.commands.items():
        sub = getattr(cmd, "commands", None)
        names += [[name, s] for s in sub] if sub else [[name]]
    return names


def test_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for path in _commands():
        assert path[0] in out


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p))
def test_each_command_answers_help(path, capsys):
    assert main([*path, "--help"]) == 0
    assert "Usage" in capsys.readouterr().out


def test_help_imports_no_heavy_library():
    code = "import sys; from flows.cli import main; main(['--help']); print(sorted(m for m in sys.modules if m.split('.')[0] in %r))" % (HEAVY,)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_mine_and_serve_check_the_report_columns_before_starting_a_run(tmp_path, capsys):
    (tmp_path / "export").mkdir()
    reports = tmp_path / "reports.csv"
    reports.write_text("Accession;Notes\nA1;Nodule (3:45).\n")
    for cmd in (["mine"], ["serve", "--interval", "60"]):
        argv = [*cmd, str(tmp_path / "export"), "--reports", str(reports), "--data", str(tmp_path / "data")]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "no text column" in err and "Accession, Notes" in err and "--text-column" in err
        assert not (tmp_path / "data").exists()  # no run, no server, nothing written


def test_mine_reports_shows_progress_over_the_exports_records(tmp_path, capsys):
    reports = tmp_path / "reports.csv"
    reports.write_text("accession;text\n" + "".join(f'A{i};"Nodule (3:{i + 10}).\nNo effusion."\n' for i in range(5)))
    assert main(["mine-reports", str(reports), "--out", str(tmp_path / "data"), "--progress"]) == 0
    err = capsys.readouterr().err
    assert "mining reports" in err and "5/5" in err  # records, not lines: each text spans two
    assert "radmine: 5 reports, 5 references" in err
