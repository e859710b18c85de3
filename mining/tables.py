"""Which exam a table's column is of.

Oncology reports list their lesions in tables with a column per exam: "Nr. | Lesion | Baseline 10.04.2024 |
Current". A reference in a cell of a pipe- or tab-separated table is of the exam its column's heading (the table's
first line) names: the prior exam's under "Baseline", "Prior", "Nadir" or "VU", this exam's under "Current" or
"Aktuell"; a heading naming both or neither says nothing. Words in the cell itself ("was 4 mm (2:40)") still decide
first.
"""
from __future__ import annotations

import regex

_PRIOR_HEAD = regex.compile(r"\b(?:baseline|prior|previous|nadir|initial|vorher|zuvor|vu|voruntersuchung|vorbefund"
                            r"|ausgangsbefund|ausgangsuntersuchung)\b", regex.IGNORECASE)
_CURRENT_HEAD = regex.compile(r"\b(?:current|today|now|follow[- ]?up|aktuell|heute|jetzt|verlauf)\b", regex.IGNORECASE)


def column_exam(text: str, pos: int) -> tuple[bool, int] | None:
    """(True, the cell's start) when `pos` lies in a table cell under a prior exam's column heading, (False, ...) under
    this exam's, else None."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    line = text[start:end if end >= 0 else len(text)]
    sep = "|" if "|" in line else "\t" if "\t" in line else None
    if sep is None:
        return None
    column = text.count(sep, start, pos)
    top = start  # the table's first line: the first of the lines above that hold the separator
    while top > 0:
        above = text.rfind("\n", 0, top - 1) + 1
        if sep not in text[above:top - 1]:
            break
        top = above
    if top == start:  # the reference is on the heading line itself
        return None
    heads = text[top:text.find("\n", top)].split(sep)
    if column >= len(heads):
        return None
    prior, current = _PRIOR_HEAD.search(heads[column]), _CURRENT_HEAD.search(heads[column])
    if bool(prior) == bool(current):
        return None
    return bool(prior), text.rfind(sep, start, pos) + 1
