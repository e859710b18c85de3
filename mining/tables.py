"""Tables in reports: which exam a column is of, and columns that hold series/image pairs.

Oncology reports list their lesions in tables with a column per exam: "Nr. | Lesion | Baseline 10.04.2024 |
Current". A reference in a cell of a pipe- or tab-separated table, or of a table aligned with spaces, is of the exam
its column's heading (the table's first line) names: the prior exam's under "Baseline", "BL", "Bsl", "T0", "Prior",
"Nadir" or "VU", this exam's under "Current", "Curr" or "Aktuell"; a heading naming both or neither says nothing.
Words in the cell itself ("was 4 mm (2:40)") still decide first. A column headed "Ser/Img", "Se/Bi" or "Ser:Img"
("Prior Se/Im", "akt. Se/Bild": of that exam; a bare "Se/Im" after a column naming an exam: of that one) holds its
rows' images as bare pairs ("2/52", "3:58"), which elsewhere could be dates, fractions or times (`column_pairs`).

A table aligned with spaces is a run of lines, without a blank line between, each of three cells or more, cells
being runs of text apart by two blanks or more, under a heading line of short cells that are no sentences; a cell is
under the heading cell it overlaps, when it overlaps one only.
"""
from __future__ import annotations

import re
from typing import NamedTuple

import regex

_PRIOR_HEAD = regex.compile(r"\b(?:baseline|prior|previous|nadir|initial|interim|vorher|zuvor|vu|vorunt|voruntersuchung|vorbefund"
                            r"|ausgangsbefund|ausgangsuntersuchung|basis|bl|bsl|t0)\b", regex.IGNORECASE)
_CURRENT_HEAD = regex.compile(r"\b(?:current|curr\.?|today|now|follow[- ]?up|aktuell|akt\.|heute|jetzt|verlauf)(?!\w)",
                              regex.IGNORECASE)
#: A run of text without two blanks in a row: a cell of a line aligned with spaces.
_CELL = re.compile(r"[^ \t\n]+(?: [^ \t\n]+)*")
#: A column heading saying its cells are series/image pairs ("Ser/Img", "Se/Bi", "Ser:Img", "Series/Image"), or
#: image/series pairs (group `rev`: "Bild/Serie", "Img/Ser").
_SER = r"(?:se(?:r(?:ies)?|rie)?|s)\.?"
_IMG = r"(?:im(?:g|age)?|bi(?:ld)?|b|i)\.?"
_PAIR_HEAD = re.compile(rf"(?<![\w/:])(?:{_SER}[ \t]*[/:][ \t]*{_IMG}|(?P<rev>{_IMG}[ \t]*[/:][ \t]*{_SER}))(?![\w/:])",
                        re.IGNORECASE)
#: A column heading saying its cells are pairs of images, this exam's and the prior's ("Bild akt./VU", "Image
#: current/prior", "Image no. (Current / Prev)"): "187 / 179" is image 187 now and image 179 on the prior exam, of the
#: series the report names.
_EXAM_PAIR_HEAD = re.compile(r"(?<![\w/:])(?:bild|image|img|ima|im)\.?(?:[ \t]*(?:no\.?|nr\.?|\#))?[ \t]*\(?[ \t]*(?:akt\.?|aktuell|current|cur\.?)[ \t]*/[ \t]*"
                             r"(?:vu|voruntersuchung|vorher|vor-?ct|prior|previous|prev\.?)(?![\w/:])[ \t]*\)?", re.IGNORECASE)
#: Such a cell: "187 / 179", or with each image's series, "3:22 / 2:19" (under "Image (current / prior)").
_EXAM_PAIR_CELL = re.compile(r"(?:(?P<sa>\d{1,4})[ \t]*:[ \t]*)?(?P<a>\d{1,5})[ \t]*/[ \t]*"
                             r"(?:(?P<sb>\d{1,4})[ \t]*:[ \t]*)?(?P<b>\d{1,5})")
#: A heading cell that is a date: which exam it is follows from the other dates of the heading (`_exam_of_heading`).
_DATE_HEAD = re.compile(r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})|(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})"
                        r"|(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<sy>\d{4})|(?P<mm>\d{1,2})/(?P<my>\d{4})"
                        r"|(?P<nd>\d{1,2})[- ](?P<nm>[A-Za-zä]{3})[- ](?P<ny>\d{4})"
                        r"|(?P<d2>\d{1,2})\.(?P<m2>\d{1,2})\.(?P<y2>\d{2})|(?P<yy>(?:19|20)\d\d)")
#: A month's name in a date ("11-Dec-2023", "05-Mär-2024"): its number.
_MONTHS = {m: i for names in ("jan feb mar apr may jun jul aug sep oct nov dec",
                               "jan feb mär apr mai jun jul aug sep okt nov dez")
           for i, m in enumerate(names.split(), 1)}
_ANY_DATE = re.compile(r"\d{1,2}[./]\d{1,2}[./](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2}")
#: A cell holding one pair, or a range of them: "3/87", "3:58", "5/98-104", "5/98-5/104".
_PAIR_CELL = re.compile(r"(?P<s>\d{1,4})[ \t]*[/:][ \t]*(?P<a>\d{1,5})"
                        r"(?:[ \t]*[-\u2013][ \t]*(?:(?P=s)[ \t]*[/:][ \t]*)?(?P<b>\d{1,5}))?")
_MIN_CELLS = 3
_MAX_HEAD = 30  # characters in a heading cell of a table aligned with spaces


def line_span(text: str, pos: int) -> tuple[int, int]:
    """(start, end) of the line holding `pos`, without its newline."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, len(text) if end < 0 else end


def _cells(line: str) -> list[tuple[int, int]]:
    return [m.span() for m in _CELL.finditer(line)]


_SEMICOLON_ROW = re.compile(r"^[^;\n]*(?:;[^;\n]*){3,}$", re.MULTILINE)


def semicolon_rows(text: str) -> bool:
    """Whether `text` holds a line of three semicolons or more, a semicolon-separated export's row."""
    return text.count(";") >= 3 and _SEMICOLON_ROW.search(text) is not None


def _separator(line: str) -> str | None:
    """The cell separator of a pipe-, tab- or semicolon-separated table row (three semicolons or more: a software's
    export, "L1; RLL; S5 I188; 6 mm; ..."), else None."""
    return "|" if "|" in line else "\t" if "\t" in line else ";" if line.count(";") >= 3 else None


def _table_top(text: str, start: int, is_row) -> int:
    """The first line of the run of lines for which `is_row(line)` holds that ends with the line at `start`."""
    top = start
    while top > 0:
        above = text.rfind("\n", 0, top - 1) + 1
        if not is_row(text[above:top - 1]):
            break
        top = above
    return top


def _stripped(text: str, a: int, b: int) -> tuple[int, int]:
    """The span [a, b) of `text` without its leading and trailing blanks (a cell's number, not its padding)."""
    raw = text[a:b]
    return a + len(raw) - len(raw.lstrip(" \t")), b - len(raw) + len(raw.rstrip(" \t"))


def _aligned_row(line: str) -> bool:
    return len(_cells(line)) >= _MIN_CELLS


#: A cell holding what rows hold, not what headings name: an image pair ("S3/B42", "3/45", "4:86") or a list of sizes
#: ("9 / 12 / 16"); a date ("12/2024", "08/05/24") is a heading's.
_ROW_CELL = re.compile(r"[A-Za-z]\d{1,4}[ \t]*/|(?<![\d./])\d{1,4}[ \t]*[/:][ \t]*[A-Za-z]{0,3}\d(?!\d{3}|\d*/\d)")


#: A heading cell's last word abbreviated ("Se/Bild akt.", "Nr."): its full stop ends no sentence.
_ABBREVIATION = re.compile(r"(?<!\w)\w{1,5}\.\Z")


def _heading_cells(line: str) -> list[tuple[int, int]] | None:
    """The cells of `line` when it can head a table aligned with spaces: three or more, each short, none a sentence
    (a report typed with two blanks after each full stop has lines of three cells or more too) and none holding a
    row's pairs or sizes (a list of measurements aligned with spaces has no heading line: "M1 ventral:  9 / 12 / 16
    (S3/B42; VU S3/B44)" heads no column of prior images)."""
    cells = _cells(line)
    if len(cells) < _MIN_CELLS or any(b - a > _MAX_HEAD or (line[b - 1] == "." and not _ABBREVIATION.search(line, a, b))
                                      or _ROW_CELL.search(line, a, b) for a, b in cells):
        return None
    return cells


def _under(cells: list[tuple[int, int]], span: tuple[int, int]) -> int | None:
    """The index of the cell of `cells` that `span` overlaps most, when one does ("3/115   DD intrapulm. LK" under a
    heading "Se/Bild VU" that reaches over the next cell's first letters), else None."""
    overlap = [(min(b, span[1]) - max(a, span[0]), i) for i, (a, b) in enumerate(cells) if a < span[1] and span[0] < b]
    if not overlap:
        return None
    overlap.sort(reverse=True)
    return overlap[0][1] if len(overlap) == 1 or overlap[0][0] > overlap[1][0] else None


def heads_aligned_table(text: str, pos: int) -> bool:
    """Whether `pos` lies on the heading line of a table (a heading whose last cell is "Image" and whose next line opens
    with a row number: "Image\n1. LUL primary" is no image 1): aligned with spaces, or separated by pipes or tabs, the
    next line (or the one after its rule line) too."""
    start, end = line_span(text, pos)
    if end >= len(text):
        return False
    sep = _separator(text[start:end])
    if sep is not None:
        row_end = line_span(text, end + 1)[1]
        nxt = text[end + 1:row_end]
        if RULE_LINE.fullmatch(nxt) and row_end < len(text):  # the row after the rule line
            nxt = text[row_end + 1:line_span(text, row_end + 1)[1]]
        return sep in nxt
    if _heading_cells(text[start:end]) is None:
        return False
    return _aligned_row(text[end + 1:line_span(text, end + 1)[1]])


class ColumnExam(NamedTuple):
    """The exam of a table cell's column: `prior` (True: a prior exam's), where the cell starts, and the heading."""

    prior: bool
    cell: int
    heading: str


def column_exam(text: str, pos: int) -> ColumnExam | None:
    """(True, the cell's start, its heading) when `pos` lies in a table cell under a prior exam's column heading, (False,
    ...) under this exam's, else None; under a column of this exam's and the prior's image ("Bild akt./VU"), True after
    the cell's slash."""
    start, end = line_span(text, pos)
    line = text[start:end]
    sep = _separator(line)
    if sep is None:
        return _aligned_exam(text, start, line, pos - start)
    column = text.count(sep, start, pos)
    top = _table_top(text, start, lambda above: (above.count(sep) >= 3 if sep == ";" else sep in above)
                     or RULE_LINE.fullmatch(above))  # the table's first line
    heads = text[top:text.find("\n", top)].split(sep)
    while top < start and column >= len(heads):  # a line above the heading with fewer cells ("Serie: 5 | Vergleich: ...")
        top = text.find("\n", top) + 1
        heads = text[top:text.find("\n", top)].split(sep)
    if top == start or column >= len(heads):  # the reference is on the heading line itself
        return None
    cell = text.rfind(sep, start, pos) + 1
    if _EXAM_PAIR_HEAD.search(heads[column]):  # "187 / 179": the image after the slash is the prior exam's
        return ColumnExam("/" in text[cell:pos], cell, heads[column])
    exam = _column_exam(heads, column)
    if exam is None:
        exam = _row_exam(text, top, start, sep, heads)
    return None if exam is None else ColumnExam(exam, cell, heads[column])


#: A heading cell over each row's exam date ("Datum", "Exam date", "Study").
_DATE_COLUMN = re.compile(r"[ \t]*(?:datum|date|exam(?:ination)?(?:[ \t]+date)?|study(?:[ \t]+date)?|untersuchung"
                          r"(?:sdatum)?)[ \t]*", re.IGNORECASE)


def _row_exam(text: str, top: int, start: int, sep: str, heads: list[str]) -> bool | None:
    """Where a column headed as a date ("Datum;Serie;Bild;...") gives each row its exam's date, as a nodule tracker's
    export lists one row per exam: True for the row at `start` when a later row's date is later, False for the latest
    (where both readings of slashed dates agree), else None."""
    k = next((i for i, h in enumerate(heads) if _DATE_COLUMN.fullmatch(h)), None)
    if k is None:
        return None
    below = text.find("\n", top) + 1
    rows = [(line_span(text, a)[0], text[a:b]) for a, b in _cells_below(text, below, sep, k, (0, 0))
            ] if below else []
    verdicts = set()
    for order in ("dm", "md"):
        days = {p: _date_of(c, order) for p, c in rows}
        if start not in days or None in days.values() or len(days) < 2:
            continue
        verdicts.add(days[start] < max(days.values()))
    return verdicts.pop() if len(verdicts) == 1 else None


def _column_exam(heads: list[str], k: int) -> bool | None:
    """`_exam_of_heading` of column `k`; a series/image column that names no exam is of the exam the column before it
    names ("Current 09/05/24 | Se/Im | Prior 14/11/23 | Se/Im": the second pair column is the prior's), else a prior's
    beside a pair column named this exam's ("BL Se/Bi | FU1 Se/Bi | akt. Se/Bi"), else this exam's beside a pair column
    named a prior's ("Baseline Se/Im | TP4 Se/Im": a trial's timepoint names no exam)."""
    exam = _exam_of_heading(heads[k], heads)
    pair = _PAIR_HEAD.search(heads[k])
    if exam is None and pair and _UNNAMED.fullmatch(_PAIR_HEAD.sub("", heads[k])):
        if k and not _PAIR_HEAD.search(heads[k - 1]):
            exam = _exam_of_heading(heads[k - 1], heads)
    elif exam is None and pair and any(
            j != k and _PAIR_HEAD.search(h) and _exam_of_heading(h, heads) is False for j, h in enumerate(heads)):
        exam = True  # "BL Se/Bi | FU1 Se/Bi | akt. Se/Bi": beside a column named this exam's, another exam's
    elif exam is None and pair and any(
            j != k and _PAIR_HEAD.search(h) and _exam_of_heading(h, heads) for j, h in enumerate(heads)):
        exam = False  # "Baseline Se/Im | ... | TP4 Se/Im", "BL Se/Bi | ... | FU2 Se/Bi": the other pair column is this exam's
    return exam


#: What a pair column's heading holds besides its series/image words when it names no exam of its own ("Se/Im:"),
#: unlike "TP4 Se/Im".
_UNNAMED = re.compile(r"[\W_]*")


#: The unit a heading gives its column's sizes in, or the pair its column's cells write, after the exam's date:
#: "04/18/2023 (mm)", "2024-10-02 [S/I]", "04.01.24 Se:Bild".
_UNIT = re.compile(r"[ \t]*(?:[(\[](?:mm|cm|s/i|se/im|ser/img|se/bi|series/image|serie/bild)[)\]]"
                   r"|(?:se|ser|serie|series)[/:](?:im|img|bi|bild|image))[ \t]*$", re.IGNORECASE)


def _bare_heading(head: str) -> str:
    """A heading cell without its blanks, colon, parentheses and the unit after a date ("04/18/2023 (mm)")."""
    return _UNIT.sub("", head).strip(" \t:()")


def _exam_of_heading(head: str, heads: list[str]) -> bool | None:
    """True for a prior exam's heading, False for this exam's, None when it says neither or both; an image column that
    names no exam is the prior's beside one named this exam's ("| Bild akt. | Vol. akt. | Bild T1 |"); a date alone is
    the prior exam's when a later date heads another column of the heading (`heads`), this exam's when it is the latest
    (a slashed date read day first and month first, where both readings agree: "10/03/2023 | 12/09/2023 | 08/03/2024");
    any date alone is the prior's beside a column named this exam's ("09/12/2023  03/14/2024 (current)", "Ø aktuell |
    Ø 03/2024")."""
    prior, current = _PRIOR_HEAD.search(head), _CURRENT_HEAD.search(head)
    if prior or current:
        return None if bool(prior) == bool(current) else bool(prior)
    if _IMAGE_WORD.search(head) and any(_IMAGE_WORD.search(h) and _CURRENT_HEAD.search(h) and not _PRIOR_HEAD.search(h)
                                        for h in heads):
        return True  # "| Bild akt. | ... | Bild T1 |": the other exam's image column beside this exam's
    bare = _bare_heading(head)
    if (_ANY_DATE.fullmatch(bare) or _DATE_HEAD.fullmatch(_ROUND_LABEL.sub("", bare, count=1))) and any(
            _CURRENT_HEAD.search(h) and not _PRIOR_HEAD.search(h) for h in heads):
        return True
    # which is the latest: a slashed date read day first and month first, where both readings are dates and agree
    verdicts = set()
    for order in ("dm", "md"):
        day = _date_of(head, order)
        days = [_date_of(h, order) for h in heads if _DATE_HEAD.fullmatch(_ROUND_LABEL.sub("", _bare_heading(h), count=1))]
        if day is None or None in days or len(days) < 2:  # not a date, or one of the heading's not one read this way
            continue
        verdicts.add(day < max(days))
    return verdicts.pop() if len(verdicts) == 1 else None


#: A short label before a heading cell's date: "T1 12.05.2023", "FU2 03/2024", "CT 12.05.2023", "akt. 02.04.24",
#: "Ø 03/2024".
_ROUND_LABEL = re.compile(r"^(?:[A-Za-z]{1,4}\.?\d{0,2}|[Ø⌀])[ \t]+(?=\d)")


def _date_of(head: str, order: str = "dm") -> tuple[int, int, int] | None:
    """(year, month, day) of a heading cell that is a date, a round's short label before it or not ("T1 12.05.2023");
    a slashed one read day first ("dm") or month first ("md")."""
    m = _DATE_HEAD.fullmatch(_ROUND_LABEL.sub("", _bare_heading(head), count=1))
    if m is None:
        return None
    if m.group("y"):
        return int(m.group("y")), int(m.group("m")), int(m.group("d"))
    if m.group("sy"):
        a, b = int(m.group("a")), int(m.group("b"))
        day, month = (a, b) if order == "dm" else (b, a)
        return (int(m.group("sy")), month, day) if month <= 12 else None
    if m.group("y2"):  # "04.01.24"
        return 2000 + int(m.group("y2")), int(m.group("m2")), int(m.group("d2"))
    if m.group("yy"):  # a year: "2023 (Serie/Bild)"
        return int(m.group("yy")), 1, 1
    if m.group("ny"):  # "11-Dec-2023"
        month = _MONTHS.get(m.group("nm").lower())
        return None if month is None else (int(m.group("ny")), month, int(m.group("nd")))
    if m.group("my"):  # a month: "04/2023"
        return (int(m.group("my")), int(m.group("mm")), 1) if int(m.group("mm")) <= 12 else None
    return int(m.group("iy")), int(m.group("im")), int(m.group("id"))


def _aligned_exam(text: str, start: int, line: str, offset: int) -> ColumnExam | None:
    """`column_exam` for a table aligned with spaces: `line` (at `start`) one of its rows, `offset` into it."""
    if "  " not in line:
        return None
    cells = _cells(line)
    if len(cells) < _MIN_CELLS:
        return None
    top = _table_top(text, start, _aligned_row)
    if top == start:
        return None
    cell = next((c for c in cells if c[0] <= offset < c[1]), None)
    head_line = text[top:text.find("\n", top)]
    heads = _heading_cells(head_line)
    k = None if cell is None or heads is None else _under(heads, cell)
    if k is None:
        return None
    heading = head_line[heads[k][0]:heads[k][1]]
    if _EXAM_PAIR_HEAD.search(head_line, heads[k][0], heads[k][1]):  # "187 / 179": after the slash, the prior's
        return ColumnExam("/" in line[cell[0]:offset], start + cell[0], heading)
    exam = _column_exam([head_line[a:b] for a, b in heads], k)
    return None if exam is None else ColumnExam(exam, start + cell[0], heading)


def _pair_heading(cell: str, name: str) -> bool:
    """Whether a heading cell is a pair column's name, a few characters naming its exam before or after it allowed
    ("Prior Se/Im", "akt. Se/Bild", "Se/Bild akt."), in brackets or not ("(se/im)")."""
    cell, name = cell.strip(" \t:()[]"), name.strip(" \t:()[]")
    return (cell.endswith(name) or cell.startswith(name)) and len(cell) - len(name) <= 12


def column_pairs(text: str) -> list[tuple[int, int, int, int, int | None, int, int | None]]:
    """(start, end, item start, item end, series, image, image_end) of every cell that holds a pair alone under a column
    headed as series/image pairs, in a pipe-, tab- or space-aligned table; the rows run from the heading to a blank
    line or a line of another shape. Under a column of this exam's and the prior's image ("Bild akt./VU", "Image
    (current / prior)"), both images of a cell (the cell, each image its item), without a series unless the cell gives
    each its own ("3:22 / 2:19")."""
    out = []
    for m in _EXAM_PAIR_HEAD.finditer(text):
        for a, b in _column_cells(text, m):
            p = _EXAM_PAIR_CELL.fullmatch(text, a, b)
            if p is not None and (p.group("sa") is None) == (p.group("sb") is None):
                for k, s in (("a", "sa"), ("b", "sb")):
                    series = int(p.group(s)) if p.group(s) else None
                    out.append((a, b, p.start(s) if series is not None else p.start(k), p.end(k), series,
                                int(p.group(k)), None))
    for m in _PAIR_HEAD.finditer(text):
        for a, b in _column_cells(text, m):
            p = _PAIR_CELL.fullmatch(text[a:b])
            if p is None or (m.group("rev") and p.group("b")):  # no range of image/series pairs is read
                continue
            e = a + p.end()
            if m.group("rev"):  # "98/3" under "Bild/Serie": image 98 of series 3
                out.append((a, e, a, e, int(p.group("a")), int(p.group("s")), None))
            else:
                first, last = int(p.group("a")), int(p.group("b")) if p.group("b") else None
                out.append((a, e, a, e, int(p.group("s")), first, last if last is not None and last > first else None))
    return out


#: A heading cell naming a column of series numbers ("Serie", "Series", "Se.", "Serie Nr."), and one naming a column of
#: image numbers ("Schicht", "Slice", "Bild", "Image", "Im"; a few characters naming its exam beside it: "Vorunt.
#: Schicht"): a table with both gives each row's image with the series of its row ("| 88 | 5 |" under "| Schicht | Serie
#: |", as measurement and nodule-detection software exports them).
#: The words a series column is headed with, and such a heading cell ("Serie Nr.").
_SERIES_WORDS = r"(?:series|serie|ser|se)"
_SERIES_CELL = _SERIES_WORDS + r"\.?(?:[ \t]*(?:nr\.?|no\.?|#))?"
#: The words an image column is headed with.
_IMAGE_WORDS = r"(?:image|img|im|ima|slice|schicht|bild)"
_IMAGE_COLUMN = re.compile(_IMAGE_WORDS + r"\.?(?:[ \t]*(?:nr\.?|no\.?|#))?", re.IGNORECASE)
#: A word naming an exam in a column heading ("Bild akt.", "BL Ser", "Image (prior)").
_EXAM_WORD = (r"(?:akt\.?|aktuell|current|curr?\.?|today|now|heute|jetzt|vu|vorunt\.?|voruntersuchung|prior|previous|baseline"
              r"|bl|bsl)")
#: A series word, and an image word ("Bild akt.", "Image (prior)", "Se/Im T1"), which a table's heading line holds.
_SERIES_WORD = re.compile(rf"\b{_SERIES_WORDS}\b", re.IGNORECASE)
_IMAGE_WORD = re.compile(rf"\b{_IMAGE_WORDS}\b", re.IGNORECASE)
_NUMBER_CELL = re.compile(r"\d{1,5}")


def _table_headings(text: str, word: re.Pattern):
    """(end, the line, its cell separator or None) of each line that may be a table's heading: it holds `word` and cells
    apart by pipes, tabs, two blanks or semicolons (three or more), in text order. (The separators are found first,
    then the word in their lines: a pattern for a heading cell was tried at every position, 130 us a report, and a scan
    for the words, "im" in every German report, cost 40-80.)"""
    starts = set()
    for sep in ("|", "\t", "  ", ";"):
        i = text.find(sep)
        while i >= 0:
            start, end = line_span(text, i)
            if sep != ";" or text.count(";", start, end) >= 3:  # a semicolon-separated export's line
                starts.add(start)
            i = text.find(sep, end)
    for start in sorted(starts):
        end = line_span(text, start)[1]
        if word.search(text, start, end):
            line = text[start:end]
            yield end, line, _separator(line)


def column_series_images(text: str) -> list[tuple[int, int, int, int, int | None, int, int | None]]:
    """`column_pairs` for tables with the image and its series in columns of their own (`_series_column`,
    `_IMAGE_COLUMN`): each row whose series and image cells both hold a number alone; the cell is the image's."""
    out = []
    for end, line, sep in _table_headings(text, _SERIES_WORD):
        if sep is not None:
            spans, a = [], 0
            for part in line.split(sep):
                spans.append((a, a + len(part)))
                a += len(part) + 1
        else:
            spans = _heading_cells(line)
            if spans is None:
                continue
        names = [line[a:b].strip(" \t:") for a, b in spans]
        series = [k for k, n in enumerate(names) if _series_column(n)]
        images = [k for k, n in enumerate(names) if any(
            _IMAGE_COLUMN.fullmatch(w) for w in (n, *n.split()[-1:], *n.split()[:1]))
            and len(n) <= 20 and not _PAIR_HEAD.search(n)]
        if not series or not images:
            continue
        # each image column's series column: the table's only one, else the one its exam word names ("BL Ser | BL Img |
        # CUR Ser | CUR Img", as a lesion tracker exports them), else none
        own = {k: series[0] if len(series) == 1 else next(
            (j for j in series if _exam_word(names[j]) is not None and _exam_word(names[j]) == _exam_word(names[k])), None)
            for k in images}
        images = [k for k in images if own[k] is not None]
        by_row: dict[int, dict[int, tuple[int, int]]] = {}
        for k in series + images:
            for a, b in _cells_below(text, end + 1, sep, k if sep else None, spans[k] if sep is None else (0, 0)):
                a, b = _stripped(text, a, b)
                by_row.setdefault(line_span(text, a)[0], {})[k] = (a, b)
        for cells in by_row.values():
            for k in images:
                ser = cells.get(own[k])
                if ser is None or not _NUMBER_CELL.fullmatch(text, *ser):
                    continue
                img = cells.get(k)
                if img is not None and _NUMBER_CELL.fullmatch(text, *img):
                    out.append((img[0], img[1], img[0], img[1], int(text[ser[0]:ser[1]]), int(text[img[0]:img[1]]), None))
    return sorted(out)


#: A series column's heading cell, its exam named before or after it or not ("BL Ser", "Serie VU"), and an exam word in
#: a heading cell.
_EXAM_NAMED = re.compile(rf"(?:(?P<a>{_EXAM_WORD})[ \t]+)?{_SERIES_CELL}(?:[ \t]+(?P<b>{_EXAM_WORD}))?", re.IGNORECASE)
_EXAM_IN = re.compile(rf"(?<!\w){_EXAM_WORD}(?!\w)", re.IGNORECASE)


def _series_column(name: str) -> bool:
    """Whether a heading cell names a column of series numbers, its exam named before or after it or not ("Serie", "BL
    Ser", "CUR Ser", "Serie VU")."""
    return _EXAM_NAMED.fullmatch(name) is not None


def _exam_word(name: str) -> str | None:
    """The exam word of a heading cell, lower-cased ("BL Img" -> "bl"), or None."""
    m = _EXAM_IN.search(name)
    return None if m is None else m.group(0).lower().rstrip(".")


#: A heading cell naming a column of image numbers alone, its exam named before or after it or not ("Bild akt.", "Bild
#: VU", "Image (prior)", "Current image", "Slice", "Schicht Nr."): its rows' numbers are images of the series the report
#: names for each exam, in a table with no series column of its own.
_IMAGE_ONLY = re.compile(rf"(?:{_EXAM_WORD}[ \t]+(?:[a-z]{{1,6}}\.?[ \t]+)?)?{_IMAGE_WORDS}\.?"
                         rf"(?:[ \t]*(?:nr\.?|no\.?|\#))?(?:[ \t]+\(?{_EXAM_WORD}\)?)?"
                         rf"(?:[ \t]*\({_SERIES_WORDS}\.?[ \t]*(?P<s>\d{{1,4}})\))?", re.IGNORECASE)

#: A cell under such a heading: the image number alone ("112"), after its word ("Im 112", "IM 156") or after its series
#: and word ("S5 Im 34").
_IMAGE_CELL = re.compile(rf"(?:(?:{_SERIES_WORDS}|s)\.?[ \t]*(?P<s>\d{{1,4}})[ \t]*[,/]?[ \t]*(?={_IMAGE_WORDS}))?"
                         rf"(?:{_IMAGE_WORDS}\.?[ \t]*)?(?P<i>\d{{1,5}})", re.IGNORECASE)


def column_images(text: str) -> list[tuple[int, int, int, int, int | None, int, int | None]]:
    """`column_pairs` for tables with image numbers in columns of their own and no series column ("| akt. (mm) | Bild
    akt. | VU (mm) | Bild VU |", "Size now   Size prior   Image now   Image prior", the series named above the table):
    each cell holding a number alone under such a heading is that image, of the series the heading names ("Bild (Serie
    4)"), else without one (which the report's series statements give)."""
    out = []
    for end, line, sep in _table_headings(text, _IMAGE_WORD):
        if sep is None:  # aligned with spaces: the heading's cells, each row's cell under one
            spans = _heading_cells(line)
            if spans is None:
                continue
            names = [line[a:b].strip(" \t:") for a, b in spans]
        else:
            names = [n.strip(" \t:") for n in line.split(sep)]
        if any(_series_column(n) or _PAIR_HEAD.search(n) or _EXAM_PAIR_HEAD.search(n) for n in names):
            continue  # `column_series_images` and `column_pairs` read those
        heads = {k: h for k, h in ((k, _IMAGE_ONLY.fullmatch(n)) for k, n in enumerate(names)) if h}
        for k, h in heads.items():
            series = int(h.group("s")) if h.group("s") else None  # "Bild (Serie 4)": the heading names it
            for a, b in _cells_below(text, end + 1, sep, k if sep else None, (0, 0) if sep else spans[k]):
                a, b = _stripped(text, a, b)
                c = _IMAGE_CELL.fullmatch(text, a, b)
                if c is not None:  # "112", "Im 112", "S5 Im 34": the cell's own series before the heading's
                    out.append((a, b, c.start("i"), b, int(c.group("s")) if c.group("s") else series, int(c.group("i")),
                                None))
    return sorted(out)


def _column_cells(text: str, m: re.Match):
    """(start, end), blanks stripped, of the cell of each row under the heading cell that pair heading `m` names (with a
    few characters naming its exam beside it: `_pair_heading`); nothing where `m` names no column."""
    start, end = line_span(text, m.start())
    line, head = text[start:end], (m.start() - start, m.end() - start)
    sep = _separator(line)
    if sep is not None:
        column = line.count(sep, 0, head[0])
        if not _pair_heading(line.split(sep)[column].strip(" \t:"), m.group(0).strip(" \t:")):
            return
    else:
        heads = _heading_cells(line)
        k = None if heads is None else _under(heads, head)
        if k is None or not _pair_heading(line[heads[k][0]:heads[k][1]], m.group(0).strip(" \t")):
            return
        column, head = None, heads[k]
    for a, b in _cells_below(text, end + 1, sep, column, head):
        a, b = _stripped(text, a, b)
        if b - a > 2 and text[a] + text[b - 1] in ("()", "[]"):  # "(2/31)" under "(se/im)"
            a, b = a + 1, b - 1
        yield a, b


#: A table's rule line: "---+------+---", "|----|:---:|", "=====".
RULE_LINE = re.compile(r"[ \t]*[-=+|:]*[-=]{3}[-=+|: \t]*")


def _cells_below(text: str, row: int, sep: str | None, column: int | None, head: tuple[int, int]):
    """(start, end) of the cell of each table row from offset `row` on, under column `column` of a `sep`-separated
    table or under heading cell span `head` of a table aligned with spaces; a row without such a cell is skipped, and
    so is a rule line."""
    while row < len(text):
        row_end = line_span(text, row)[1]
        line = text[row:row_end]
        if RULE_LINE.fullmatch(line):
            row = row_end + 1
            continue
        if sep is not None:
            parts = line.split(sep)
            if sep not in line or len(parts) <= column:
                return
            a = row + sum(len(p) + 1 for p in parts[:column])
            yield a, a + len(parts[column])
        else:
            cells = _cells(line)
            if len(cells) < _MIN_CELLS:
                return
            k = _under(cells, head)
            if k is not None:
                yield row + cells[k][0], row + cells[k][1]
        row = row_end + 1
