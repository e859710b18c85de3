"""A structured report's field names and scores. "Septal thickening: No septal thickening.", "9. Mosaic attenuation /
air trapping: No mosaic attenuation.", "Nodules: 4 mm nodule (4:62)", "CORONARY CALCIUM:" over "Total Agatston score:
0.": the name before the colon states nothing; where the field's first statement then speaks of the same finding, it
alone decides ("Nodules: None." keeps the name, which the "None" after the colon negates). "Emphysem | 0", "GGO: 0.",
"Bronchiektasen 0 Punkte": a finding scored zero is absent."""
from __future__ import annotations

import regex

from mining.findings import Mention

#: From a line's start to a mention: a bullet or an item number, and other words of the field's name ("9. Mosaic
#: attenuation / ", "Interlobular septa / ").
_LEAD = regex.compile(r"^[ \t]*(?:(?:[-*•]|\d{1,2}[.)])[ \t]+)?(?:[^\W\d_][\w -]{0,30}?[ \t]*(?:/|&|,|\band\b|\bor\b)[ \t]*)?\Z",
                      regex.IGNORECASE | regex.MULTILINE)
#: From a mention to its field's colon: more of the name ("/ air trapping", " (HRCT)").
_TAIL = regex.compile(r"[ \t]*(?:(?:/|&|,|\band\b|\bor\b)[ \t]*[^\W\d_][\w -]{0,30}?)?[ \t]*(?:\([^()\n]{0,20}\))?[ \t]*:",
                      regex.IGNORECASE)


#: ... or a numbered heading line of its own, its field's text below it: "3) Emphysem / Atemwege" over "Kein Emphysem.".
_NUMBERED = regex.compile(r"^[ \t]*\d{1,2}[.)][ \t]+", regex.MULTILINE)
_HEADING_END = regex.compile(r"[ \t]*(?:(?:/|&|,|\band\b|\bor\b|\bund\b)[ \t]*[^\W\d_][\w -]{0,30}?)?[ \t]*:?[ \t]*$",
                             regex.IGNORECASE | regex.MULTILINE)
_BLANK_LINE = regex.compile(r"\n[ \t]*\n")
_STATEMENT_END = regex.compile(r"[.;](?:\s|$)|\n|$")
_LINE_END = regex.compile(r"[ \t]*(?:\n|\Z)")


def drop_field_names(text: str, mentions: list[Mention]) -> None:
    """A mention naming its field is not mentioned (in place) where the field's text holds another mention of its
    label: its first statement after the colon, or, under a numbered heading line, the lines below to a blank one."""
    for i, mn in enumerate(mentions):
        if mn.value == "not_mentioned":
            continue
        lead = _LEAD.search(text, max(0, mn.start - 48), mn.start)
        if lead is None:
            continue
        tail = _TAIL.match(text, mn.end)
        if tail is not None:  # the field's first statement: "Ground glass: Minimal, ... No ground glass in isolation.", or
            # on the next line, where the name is a heading line of its own ("CORONARY CALCIUM:" over "Total Agatston score:
            # 0."; not the list below "Rundherde:", whose first item names no nodule)
            own_line = _LINE_END.match(text, tail.end())
            start = own_line.end() if own_line is not None else tail.end()
            end = _STATEMENT_END.search(text, start).start()
        elif _NUMBERED.match(text, lead.start()) and (head := _HEADING_END.match(text, mn.end)) is not None:
            blank = _BLANK_LINE.search(text, head.end())
            start, end = head.end(), blank.start() if blank else len(text)
        else:
            continue
        end = len(text) if end < 0 else end
        for other in mentions[i + 1:]:
            if other.start >= end:
                break
            if other.label == mn.label and other.start >= start:
                mn.value, mn.modifier = "not_mentioned", "field_name"
                break


#: Right after a finding, its score of zero: "Bullae | 0", "Honeycombing (HC): 0.", "Bronchiektasen 0 Punkte,".
_ZERO = regex.compile(r"[ \t]*(?:\([^()\n]{1,12}\)[ \t]*)?(?:[|:][ \t]*)?0(?![.,]\d|\d)(?:[ \t]*(?:punkte?|pkt\.?|points?|pts?\.?))?"
                      r"(?=[ \t]*(?:[,;|)]|\.(?:\s|$)|\n|$))", regex.IGNORECASE)


def zero_scores(text: str, mentions: list[Mention]) -> None:
    """A finding scored zero right after its name is absent (in place): a scoring table's row or a score's item; only
    that finding, not the others of its sentence ("... verdickten Interlobulärsepten ..., HC 0")."""
    for mn in mentions:
        if mn.value != "not_mentioned" and _ZERO.match(text, mn.end):
            mn.value, mn.modifier = "absent", "score_zero"
