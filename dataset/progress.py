"""Progress bars for long steps: rich, on stderr, shown by default only when stderr is a terminal."""
from __future__ import annotations

import sys
from contextlib import nullcontext


def progress_bar(enabled: bool | None, total: int, what: str, unit: str):
    """A rich Progress on stderr (`what`, bar, done of total, `unit`/s, elapsed, time left), or a null context
    (yielding None) when disabled (None: when stderr is a terminal) or there is nothing to do. Stdout stays
    clean for the command's own output."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled or total == 0:
        return nullcontext(None)
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)
    from rich.text import Text

    class _Rate(ProgressColumn):
        def render(self, task):
            speed = task.finished_speed or task.speed
            if not speed:
                return Text(f"- {unit}/s")
            return Text(f"{speed:,.0f} {unit}/s" if speed >= 10 else f"{speed:.2f} {unit}/s")

    return Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), _Rate(), TimeElapsedColumn(),
                    TextColumn("left"), TimeRemainingColumn(), console=Console(stderr=True), transient=False)
