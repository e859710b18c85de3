"""The `radmine` command line.

Heavy libraries (spacy, torch, prefect, pydicom) are imported inside the commands that
need them, so `radmine --help` stays fast. Each area registers its commands from its own
module (`flows/cli_<area>.py`, a `register(app)` function) listed in COMMAND_MODULES.
"""
from __future__ import annotations

import importlib

import typer

COMMAND_MODULES = [
    "flows.cli_mining",
    "flows.cli_dataset",
    "flows.cli_query",
    "flows.cli_synth",
    "flows.cli_model",
    "flows.cli_flows",
    "flows.cli_trust",
]

app = typer.Typer(
    name="radmine",
    help="Mine grounded CT snippet-slice pairs from a PACS export and its reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



@app.callback()
def _root() -> None:
    """Mine grounded CT snippet-slice pairs from a PACS export and its reports."""


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point; `argv` lets tests run the CLI in-process."""
    try:
        app(args=argv, prog_name="radmine", standalone_mode=True)
    except SystemExit as exc:  # typer/click exit with a code
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
