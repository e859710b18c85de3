"""Whether a reference is on a prior exam: the words in and before it, a comparison opening its sentence, the exam labels
and dates the report gives (its own exam's dates, the compared exams it names, time points such as "FU2"), notes on
what brackets hold, and prior reports quoted inside this one."""
from __future__ import annotations

import bisect
import functools

import regex

from mining import rules
from mining.context import Trigger, temporal_for
from mining.references import RawRef
from mining.snippets import bracket_open, open_parens
from mining.tables import line_span


#: An exam's label: the trigger's word and a colon ("Prior: ...", "Current: ...", "VU: ...").
_LABEL_COLON = regex.compile(r"[ \t]*:")


_PRIOR_INSIDE = regex.compile(r"\b(?:prior|previous|previously|old|comparison|vu|voruntersuchung|vorher|zuvor|fremdbild\w*)\b",
                              regex.IGNORECASE)
#: A word for the compared exam labelling an image after another in one parenthesis: "(3:45, comparison 2:40)", "(image
#: 45 (series 3), comparison 2:40)", or its year: "(2:40; 2022 2:38)", "(aktuell Se/Bi 3/221, 08/2022 Se/Bi 5/214)".
_PRIOR_LABEL_WORDS = ("comparison", "before", "baseline", "vergleich")
_PRIOR_LABEL = regex.compile(rf"[(\[](?:[^()\[\]\n]|\([^()\[\]\n]*\))*[,;]\s*(?:{'|'.join(_PRIOR_LABEL_WORDS)}"
                             r"|(?:\d{1,2}[./]){0,2}(?:19|20)\d\d)\s*:?\s*$", regex.IGNORECASE)
#: The compared exam's word right before a reference names its exam (not after a comma: "On comparison, image 45 ...").
#: "(BL Se 3/Bild 168)", "(bsl 2/112; ...)": BL, Bsl, the baseline exam; "(was 3:198)": the image the finding had then;
#: "(Vorunters. Serie 4, IMA 91)"
_EXAM_BEFORE = regex.compile(r"\b(?:comparison|baseline|bsl)$|\((?:bl|was|were|vorunters\.|voruntersuchung)$")
#: A comparison opening its sentence or line with the compared exam and the reference in brackets right after it: "Im
#: Vergleich zur VU (Se5/Im 95) größenprogredient", "Im Vergleich zu 03/2023 (SE 4 IM 115) Zunahme", "Compared with the
#: prior CT (2:40), the nodule has grown": the image is that exam's, as the blind keys' writers read it; so is one after
#: this exam's image ("nodule (serie 3, imagen 41), stable compared with 2022 (serie 2, imagen 39)"); at a sentence's
#: end with no image before ("Unchanged since the prior (3:45)") an image stays this exam's.
_OPENING_COMPARISON = regex.compile(
    r"(?:(?:^|[.:;\n])[ \t]*(?:[-*•>][ \t]*|\d{1,2}[.)][ \t]*)?|\d[ \t]*[)\]][ \t]*,?[ \t]*(?:[^\W\d_][\w-]*,?[ \t]+){0,4}?)"
    r"(?:im\s+vergleich\s+(?:zu[rm]?|mit)|verglichen\s+mit|gegenüber|ggü\.?|(?<=[)\]][^()\[\]\n]{0,40})(?:vs\.?|versus)"
    r"|(?:when\s+)?compared\s+(?:to|with)|in\s+comparison\s+(?:to|with)|relative\s+to)\s+"
    r"(?:(?:the|der|dem|den|die)\s+)?(?:(?:prior|previous|most\s+recent|last|outside|comparison|baseline|letzten|vorherigen)\s+)?"
    r"(?:vu|voruntersuchung|vor-?ct|voraufnahme|vergleichsuntersuchung|study|exam(?:ination)?|ct|scan|prior|previous|baseline"
    r"|(?:(?:ct|study|exam|scan|untersuchung)\s+(?:of|from|on|dated|vom|von)\s+)?(?:\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{1,2}[./]\d{2,4}|(?:19|20)\d\d))"
    # the reference right after the bracket opens, or after the sizes the exam had: "gegenüber der VU (6,9 mm bzw. 142
    # mm³, Se 3/Im 181)"
    r"[ \t]*[(\[][ \t]*(?:[^()\[\]\n]{0,40}?\d[ \t]*(?:mm³?|cm|ml)[ \t]*[,;][ \t]*)?\Z", regex.IGNORECASE)
#: One of these is in each of `_OPENING_COMPARISON`'s phrases.
_COMPARISON_WORDS = ("vergleich", "verglichen", "compar", "gegenüber", "ggü", "relative", "vs", "versus")


def _opening_comparison(text: str, start: int) -> bool:
    """`_OPENING_COMPARISON` before a reference at `start`, tried only after a bracket and a comparison word (a search
    of the window cost ~10 us a reference)."""
    k = start
    while k > 0 and text[k - 1] in " \t":
        k -= 1
    if k and text[k - 1] in ",;":  # after the sizes in the bracket: "(6,9 mm bzw. 142 mm³, Se 3/Im 181)"
        k = bracket_open(text, k, k) + 1
    if not k or text[k - 1] not in "([":
        return False
    window = text[max(0, start - 120):start].lower()
    return any(w in window for w in _COMPARISON_WORDS) and _OPENING_COMPARISON.search(text, max(0, start - 120),
                                                                                       start) is not None


#: Where a report gives its own exam's date: a header field ("Exam date: 2024-05-21", "Untersuchungsdatum: 15.05.2024"),
#: a title line ("CT Thorax mit KM vom 08.05.2025", "Untersuchung: CT Thorax nativ vom 22.04.2024") or an exam listed as
#: the current one ("(A) CT chest with contrast 03/11/2024 - current").
_DATE = r"\d{1,2}[./-]\d{1,2}[./-]\d{4}|\d{4}-\d{2}-\d{2}"
_EXAM_DATE = regex.compile(
    rf"\b(?:(?:exam(?:ination)?|study|scan|service|procedure)\s+date|date\s+of\s+(?:the\s+)?"
    rf"(?:exam(?:ination)?|study|scan|service|procedure)|untersuchungsdatum|datum\s+der\s+untersuchung)\s*:?\s*"
    rf"(?P<d>{_DATE})"
    rf"|^[ \t]*(?:untersuchung\s*:\s*)?(?:ct|cta|hrct|ldct|mdct)\b[^\n:]{{0,80}}?\b(?:vom|from|of|dated|on)\s+"
    rf"(?P<t>{_DATE})(?![ \t]*(?:\([^()\n]*\))?[ \t]*:)"  # not an exam's label: 'CT vom 20.06.2022: "..."'
    rf"|(?P<c>{_DATE})[ \t]*(?:[-\u2013(][ \t]*)?(?:current|aktuell|this\s+exam)\b",
    regex.IGNORECASE | regex.MULTILINE)


def _day_readings(date: str) -> set[tuple[int, ...]]:
    """The (year, month, day) a date may be, (year, month) for a month, (year,) for a year: "03/11/2024" both ways round,
    "15.05.2024" day first, "2024-05-21" year first."""
    n = [int(x) for x in regex.findall(r"\d+", date)]
    if len(n) == 1:
        return {(n[0],)}
    if len(n) == 2:
        return {(n[1], n[0])}
    if n[0] > 31:
        return {(n[0], n[1], n[2])}
    return {(n[2], n[1], n[0])} if "." in date else {(n[2], n[0], n[1]), (n[2], n[1], n[0])}


def _exam_days(text: str) -> set[tuple[int, ...]]:
    """The readings (`_day_readings`) of the dates the report gives its own exam (`_EXAM_DATE`)."""
    days: set[tuple[int, ...]] = set()
    for m in _EXAM_DATE.finditer(text):
        days |= _day_readings(m.group("d") or m.group("t") or m.group("c"))
    return days


def dates_this_exam(text: str, date: str) -> bool:
    """Whether `date` may be the report's own exam's date."""
    return bool(_exam_days(text) & _day_readings(date))


#: An exam named by its kind: a compound ("Akut-CT", "Staging-CT", "Polytrauma-CT (Schockraum)"), an acronym ("CTPA") or
#: an intervention's series ("Abschlussserie").
#: Group "key": what names it again later ("akut" in "in der Akut-CT"; "schockraum" also for "Schockraum-CT").
_EXAM_KIND = regex.compile(
    r"\b(?P<key>[a-zäöü]{4,})-(?:ct|cta|mrt|mri)\b(?:[ \t]*\((?P<alias>[a-zäöü]{4,})\))?"
    r"|\b(?P<acronym>ctpa|ctca|cta|pet[-/]?ct|hrct|ldct)\b"
    # an intervention's series named as an exam: "Interventions-CT vom 02.02.2024 (Planungs- und Abschlussserie)"
    r"|\b(?P<stage>planungs|abschluss)-?serie\b", regex.IGNORECASE)
#: Where a report names the exams it compares with, outside a comparison section: "Vergleich mit der Akut-CT",
#: "compared to the CTPA"
_COMPARED_WITH = regex.compile(r"\b(?:(?:im\s+)?vergleich\s+(?:mit|zu)(?:r|m)?|compared\s+(?:to|with)|comparison\s+with)"
                               r"\s+(?:der|dem|den|the)?\s*", regex.IGNORECASE)


_ACRONYMS = frozenset({"ctpa", "ctca", "cta", "pet-ct", "hrct", "ldct"})
#: An English comparison section's name for an exam: the word before its modality ("Staging PET-CT", "Interim CT
#: thorax") or its label in brackets ("CTPA 22/08/2023 (index)", "CT thorax 2024-01-03 (admission)", "(3-month)").
_EXAM_NAME_EN = regex.compile(
    r"(?:^|[\n:;,.]|\d)[ \t]*(?:\d\.[ \t]*)?(?P<word>[a-z][a-z-]{3,})[ \t]+(?:ct|cta|ctpa|hrct|pet[-/]?ct)\b"
    r"|\([ \t]*(?P<label>[a-z0-9][a-z0-9-]{2,}(?:[ \t]+[a-z][a-z-]{2,})?)[ \t]*[),;]", regex.IGNORECASE)
#: A comparison section's exams numbered in brackets: "(1) CT Thorax 19.11.2023", "(2) HRCT 26.02.2024".
_NUMBERED_EXAM = regex.compile(r"^[ \t]*\(([1-9])\)[ \t]+\S", regex.MULTILINE)
#: Names that say nothing of which exam: a region, a technique, a place.
_NOT_EXAM_NAMES = frozenset({"chest", "thorax", "thoracic", "contrast", "non-contrast", "low-dose", "unenhanced",
                             "enhanced", "outside", "external", "this", "same", "previous", "prior", "images",
                             "imported", "report", "reports", "none", "helical", "spiral", "axial", "dual-energy"})


def _kind_keys(text: str, start: int = 0, end: int | None = None) -> set[str]:
    out = set()
    for m in _EXAM_KIND.finditer(text, start, len(text) if end is None else end):
        out.update(k.lower().replace("/", "-") for k in m.group("key", "alias", "acronym", "stage") if k)
    return out


def compared_exam_kinds(text: str, sections) -> tuple[set[str], set[str]]:
    """The kinds of the exams a report compares with ("Voruntersuchung: Polytrauma-CT (Schockraum)", "Comparison: CTPA
    21/08/2022", "Vergleich mit der Akut-CT"), less those of its own exam (its title, before the first section): a later
    "in der Akut-CT", "(Akut-CT 4/150)", "of the CTPA" names that prior exam. And the names a comparison section gives
    its exams (`_EXAM_NAME_EN`: "Staging PET-CT", "CTPA 22/08/2023 (index)", "CT 18.01.2025 (Aufnahme)")."""
    lower = text.lower()
    if "ct" not in lower and "mr" not in lower:
        return set(), set()
    kinds: set[str] = set()
    names: set[str] = set()
    for sec in sections:
        if sec.name == "COMPARISON":
            kinds |= _kind_keys(text, sec.header_end, sec.end)
            names |= {" ".join(k.lower().split()) for m in _EXAM_NAME_EN.finditer(text, sec.header_end, sec.end)
                      for k in m.group("word", "label") if k and k.split()[0].lower() not in _NOT_EXAM_NAMES
                      and not k.isdigit()}
            names |= {f"({m.group(1)})" for m in _NUMBERED_EXAM.finditer(text, sec.header_end, sec.end)}
    for word in ("vergleich", "compar"):  # the phrase's scan, only where its word stands (a tenth of a whole scan)
        i = lower.find(word)
        while i >= 0:
            m = _COMPARED_WITH.search(text, max(0, i - 4), i + 40)
            if m is not None and _EXAM_KIND.match(text, m.end()):
                kinds |= _kind_keys(text, m.end(), m.end() + 30)
            i = lower.find(word, i + 1)
    if not kinds and not names:
        return kinds, names
    title_end = next((sec.start for sec in sections if sec.name != "OTHER"), min(len(text), 400))
    own = _kind_keys(text, 0, title_end)
    return kinds - own, names - own - kinds  # (a kind's alias is no name: "Polytrauma-CT (Schockraum)")


def with_named_exams(text: str, triggers: list[Trigger], kinds: set[str], names: set[str], sections) -> list[Trigger]:
    """`triggers` with a prior trigger at each later naming of a compared exam's kind or name (`compared_exam_kinds`) in
    the report's body: "in der Akut-CT an gleicher Stelle Konsolidierung, Serie 4, Bild 188", "(Akut-CT 4/150)", "Im
    Staging-CT Lunge dort frei (Ser. 5 Img. 150)"; "On the index CTPA it was 7.8 mm", "at the interim CT", "at staging"
    (not "the index lesion"), "bei Aufnahme", "(Aufnahme max. 55 mm, ...)", "..., interim 71 x 40 mm (Se. 4, ...)".
    The matches are those of the alternation of the exams' patterns, longest pattern first (`rules.leftmost_scan`); each
    pattern is compiled once per process (`_exam_word`), not per report (a report's alternation compiled took ~2.5 ms)."""
    body = [(sec.header_end, sec.end) for sec in sections if sec.name not in ("COMPARISON", "HISTORY", "TECHNIQUE", "OTHER")]
    words = sorted([_exam_word(k, True) for k in kinds] + [_exam_word(k, False) for k in names],
                   key=lambda rx: (-len(rx.pattern), rx.pattern))
    new = [Trigger(m.start(), m.end(), "prior", "forward", "compared_exam_kind")
           for a, b in body for _, m in rules.leftmost_scan(words, text, start=a, end=b)]
    return sorted(triggers + new, key=lambda t: t.start) if new else triggers


@functools.lru_cache(maxsize=4096)
def _exam_word(k: str, kind: bool) -> regex.Pattern:
    """The pattern of one compared exam's kind (`kind`) or name, as `with_named_exams` looks for it."""
    if kind:  # "Schockraum-CT", not the trauma room's "(Schockraum)"
        word = r"\b" + regex.escape(k) + ("" if k in _ACRONYMS else r"-?(?:ct|cta|mrt|mri|serie)")
    elif k[0] == "(":  # a numbered exam: "in (2) noch diffuses Milchglas", "gegenüber (3) unverändert"
        word = (r"(?<=\b(?:in|gegenüber|zu|vs\.?|seit|since|on|than|aus|from|compared\s+(?:to|with))[ \t]+)"
                + regex.escape(k))
    else:
        k = r"\b" + regex.escape(k).replace(r"\ ", r"[ \t]+")
        word = (r"(?:(?<=\b(?:the|at)[ \t]+)" + k
                + r"(?:[ \t-]+(?:ct|cta|ctpa|hrct|pet[-/]?ct|scan|study|exam|examination)\b"
                r"|(?<=\bat[ \t]+[\w-]+))|(?<=\bbei[ \t]+(?:der[ \t]+)?)" + k
                + r"|(?<=\()" + k + r"(?=[ \t]+(?:max\.?|ca\.?)?[ \t]*\d|[ \t]*[,:])"
                # labelling a size after a comma: "aktuell 52 x 21 mm (...), interim 71 x 40 mm (...)"
                + r"|(?<=[,;][ \t]*)" + k + r"(?=[ \t]*:?[ \t]*(?:ca\.?[ \t]*)?\d+(?:[.,]\d+)?"
                r"(?:[ \t]*[x×][ \t]*\d+(?:[.,]\d+)?)*[ \t]*(?:mm|cm)\b))")
    return regex.compile(r"(?:" + word + r")(?![\w-])", regex.IGNORECASE)


#: Between a reference and the compared exam named right after it: "image 140 of the CTPA", "Bild 88 der Akut-CT"
_OF_EXAM = regex.compile(r"[ \t]*(?:of|on|in|from|der|des|in\s+der|aus\s+der|im)[ \t]+(?:the[ \t]+)?", regex.IGNORECASE)


def names_compared_exam_after(text: str, end: int, triggers: list[Trigger], trig_starts: list[int]) -> bool:
    """Whether a compared exam's kind (`with_named_exams`) is named right after a reference ending at `end`."""
    i = bisect.bisect_right(trig_starts, end)
    while i < len(triggers) and triggers[i].start <= end + 16:
        t = triggers[i]
        if t.rule == "compared_exam_kind" and _OF_EXAM.fullmatch(text, end, t.start):
            return True
        i += 1
    return False


#: The triggers that are a date alone, which may be the report's own exam's.
DATE_LABELS = frozenset({"prior_date_label", "prior_timepoint_date"})


def this_exams_dates(text: str, triggers: list[Trigger]) -> list[Trigger]:
    """`triggers` with a date labelling a size ("- 03/11/2024: 2.2 x 1.6 cm (series 4, image 47)", `prior_date_label`)
    or a time point ("at 9 months (11/2023)", `prior_timepoint_date`) that is the report's own exam's date
    (`_EXAM_DATE`) made a current trigger: a follow-up list names every exam by its date, this one's too."""
    days = _exam_days(text)
    if not days:
        return triggers
    months, years = {d[:2] for d in days}, {d[:1] for d in days}
    out = []
    for t in triggers:
        if t.rule in DATE_LABELS:
            said = text[t.start:t.end]
            seen = _day_readings(said[said.rfind("(") + 1:])  # a time point's date in its brackets
            if seen & days or any(len(d) == 2 and d in months or len(d) == 1 and d in years for d in seen):
                t = Trigger(t.start, t.end, "current", t.direction, "current_date_label")
        out.append(t)
    return out


_TIMEPOINT = regex.compile(r"(?-i:\b(FU|TP|V|[Ww]k|[Ww]eek)[ \t]?(\d{1,2})\b)")


#: This exam labelling a size as the time points label theirs: "aktuell 14 mm", "current: 9 mm".
_CURRENT_SIZE = regex.compile(
    r"\b(?:aktuell|akt\.|current(?:ly)?|today|heute|now|jetzt)[ \t]*:?[ \t]*\d+(?:[.,]\d+)?[ \t]*(?:mm|cm)\b",
    regex.IGNORECASE)


def _timepoint_kind(m: regex.Match) -> str:
    """A time point's kind: "FU", "TP", "V", or "W" for a week ("wk9", "Week 18")."""
    return "W" if m.group(1)[0] in "Ww" else m.group(1)


def latest_timepoint(text: str, triggers: list[Trigger]) -> list[Trigger]:
    """`triggers` with each time-point label ("FU2 24 mm (Se 3/Im 187)", `prior_timepoint_label`) of the latest time
    point the report names ("BL ... | FU1 ... | FU2 ...") made a current trigger: a sheet lists every exam by its
    time point, this one's last; unless the report names this exam on a time point's line ("aktuell 14 mm (5/187); FU2
    13 mm (5/184)")."""
    if any(_TIMEPOINT.search(text, *line_span(text, m.start()))
           for m in _CURRENT_SIZE.finditer(text)):  # this exam named on a time point's line: every time point a prior
        return triggers
    latest: dict[str, int] = {}
    for m in _TIMEPOINT.finditer(text):
        latest[_timepoint_kind(m)] = max(latest.get(_timepoint_kind(m), 0), int(m.group(2)))
    out = []
    for t in triggers:
        if t.rule == "prior_timepoint_label":
            m = _TIMEPOINT.match(text, t.start)
            if m is not None and int(m.group(2)) == latest[_timepoint_kind(m)]:
                t = Trigger(t.start, t.end, "current", t.direction, "current_timepoint_label")
        out.append(t)
    return out


def same_session_planning(text: str, triggers: list[Trigger]) -> list[Trigger]:
    """`triggers` without the prior ones naming a planning scan, in a report whose own procedure took one ("Limited
    planning scan through the left upper lobe": a CT-guided biopsy's): "on the planning scan (image 23)" is then this
    session's, where a follow-up's "on the planning CT" is the radiotherapy plan's, an earlier exam."""
    return [t for t in triggers if not (t.category == "prior" and "plan" in text[t.start:t.end].lower())]


#: A clock time inside the bracket that opens here: the time a reader read this exam ("(Ass. Dr. Lang, 21:20)").
_CLOCK_IN = r"[^()\n]*\b\d{1,2}:\d{2}\b"
#: This exam's preliminary read, a line headed by its reader and clock time in brackets: "Vorbefund (Ass. Dr. Lang, 21:20):",
#: "Kurzbefund (Nachtdienst AA, 04:40 Uhr):", "Vorläufiger Befund (Ass. Dr. Huber, 23:15):". (A "Vorbefund" is
#: otherwise the prior exam's report.)
_PRELIMINARY_READ = regex.compile(
    r"[ \t]*(?:[^\W\d_][\w-]*[ \t]+)?(?:vorbefund|kurzbefund|vorläufiger[ \t]+befund)[ \t]*"
    r"\((?=" + _CLOCK_IN + r")[^()\n]*\)[ \t]*:", regex.IGNORECASE)
_PRELIMINARY_WORD = regex.compile(r"vorbefund|kurzbefund|vorläufig", regex.IGNORECASE)


def preliminary_read(text: str, triggers: list[Trigger]) -> list[Trigger]:
    """`triggers` without the prior ones naming a "Vorbefund", in a report with a `_PRELIMINARY_READ`: "im Vorbefund
    nicht beschrieben, zwei neue Noduli (5/88)" speaks of the night's first read of this exam."""
    low = text.lower()
    if "vorbefund" not in low and "kurzbefund" not in low and "vorläufiger" not in low:
        return triggers  # (a search of every line start cost ~100 us a report)
    if not any(_PRELIMINARY_READ.match(text, text.rfind("\n", 0, m.start()) + 1)
               for m in _PRELIMINARY_WORD.finditer(text)):
        return triggers
    return [t for t in triggers if not (t.category == "prior" and _PRELIMINARY_WORD.search(text, t.start, t.end))]


#: A report's note that brackets hold the prior exam's images: "VU-Angaben in eckigen Klammern", "(Serie 2,
#: Voruntersuchung in Klammer)", "(current; baseline in brackets)".
_BRACKET_NOTE = regex.compile(
    r"\b(?:vu|voruntersuchung|vorbefund|vorwerte|prior|previous|baseline|comparison)(?:-?angaben|-?werte|\s+(?:values?|"
    r"images?|measurements?))?\s+(?:(?:stehen|sind|jeweils|are|given)\s+)?in\s+(?P<kind>(?P<square>eckigen\s+klammern?|"
    r"square\s+brackets?)|(?P<round>runden\s+klammern?|round\s+brackets?|parenthes[ie]s)|klammern?|brackets?)\b"
    # or shown by its form: "Current refs (series:image); prior refs [series:image]."
    r"|\b(?:vu|voruntersuchung|prior|previous|baseline|comparison)(?:-?angaben|\s+(?:refs?|references?|images?))\s*"
    r"(?:(?:are|as|given\s+as|als)\s+)?(?P<square>\[)[^\]\n]{1,25}\]",
    regex.IGNORECASE)
_NOTE_WORD = regex.compile(r"klammer|bracket|parenthes", regex.IGNORECASE)
_SHOWN_NOTE = regex.compile(r"\b(?:refs?|references?|images?|angaben)\s*(?:as\s+)?\[", regex.IGNORECASE)


def may_note_brackets(text: str) -> bool:
    """Whether `text` may hold a note that a bracket holds the prior exam's images (`bracket_notes`): a word for
    brackets, or a bracket shown after a word for images (looked for only where the text holds a "[")."""
    return _NOTE_WORD.search(text) is not None or ("[" in text and _SHOWN_NOTE.search(text) is not None)


def bracket_notes(text: str, sections, sec_starts) -> list[tuple[int, int, str]]:
    """(from, to, bracket) of each note that a bracket holds the prior exam's images (`_BRACKET_NOTE`): square ones for
    the rest of the report, round ones for the rest of the note's section (or of the next one, where the note is in
    the technique); a bare "brackets"/"Klammer" is the square one where its stretch has images in square brackets."""
    out = []
    for m in _BRACKET_NOTE.finditer(text):
        k = max(0, bisect.bisect_right(sec_starts, m.start()) - 1)
        if sections[k].name == "TECHNIQUE" and k + 1 < len(sections):
            k += 1
        end = len(text) if m.group("square") else sections[k].end
        kind = "[" if m.group("square") else "(" if m.group("round") else None
        if kind is None:
            kind = "[" if regex.search(r"\[[^\]\n]*\d", text[m.end():end]) else "("
        out.append((m.end(), end, kind))
    return out


def in_noted_bracket(text: str, pos: int, notes: list[tuple[int, int, str]]) -> bool:
    """Whether `pos` stands in a bracket a note (`bracket_notes`) says holds the prior exam's images."""
    opened = open_parens(text, text.rfind("\n", 0, pos) + 1, pos)  # the brackets open at `pos` on its line
    return bool(opened) and any(a <= pos < b and text[opened[-1]] == kind for a, b, kind in notes)


#: A quotation on one line, and what introduces a prior exam's report quoted: "CT vom 20.06.2022: "..."", "Prior report
#: stated: "..."", "Im Vorbefund vom 10.07.2024 beschrieben: "..."", "previous report (HRCT 15/05/2023): "..."".
_QUOTE_SPAN = regex.compile(r'["\u201c\u201e][^"\u201c\u201d\u201e\n]{1,1000}["\u201d\u201c]')
_QUOTED_PRIOR_LEAD = regex.compile(
    r"\b(?:vorbefund\w*|voruntersuchung|vu|(?:prior|previous|earlier)\s+(?:report|study|exam|examination|ct)"
    r"|(?:ct|hrct|ldct|cta)\s+(?:vom|of|from|dated)\s+(?P<d>" + _DATE + r"))\b[^\"\u201c\u201e\n]{0,60}?"
    r"(?::|\b(?:stated|read|described|reported|beschrieben|zitiert|lautete)\b:?)[ \t]*$", regex.IGNORECASE)


def _in_quoted_prior(text: str, pos: int) -> bool:
    """Whether `pos` stands in a quotation of a prior exam's report (`_QUOTED_PRIOR_LEAD`): its words ("neu", "now")
    speak of that exam's time, and its images are that exam's."""
    if '"' not in text and "\u201c" not in text and "\u201e" not in text:
        return False
    line, end = line_span(text, pos)
    for q in _QUOTE_SPAN.finditer(text, line, end):
        if q.start() < pos < q.end():
            lead = _QUOTED_PRIOR_LEAD.search(text, line, q.start())
            return lead is not None and not (lead.group("d") and dates_this_exam(text, lead.group("d")))
    return False


#: A field line about the prior exam: "Prior size: 10 x 8 mm; volume 348 mm3; Series/Image: 4/91", "- Prior (01/24/2024):
#: total mean 15.0 mm; Se/Im 4/108"; its references, past the semicolons that end a trigger's reach, are that exam's (not
#: a night's first read of this exam: "Vorbefund (Ass. Dr. Lang, 21:20): ...").
_PRIOR_LINE_LABEL = regex.compile(
    r"[ \t]*(?:[-*\u2022][ \t]*)?(?:prior|previous|baseline|comparison|vu|voruntersuchung|vorbefund)\b"
    r"(?:[ \t]+(?:size|sizes|measurements?|study|exam|ct|scan|größe|maße|messung))?"
    r"(?:[ \t]*\((?!" + _CLOCK_IN + r")[^()\n]{0,40}\))?[ \t]*:", regex.IGNORECASE)
#: The words naming the exam just named, "then" or "there".
_THEN_WORD = r"(?:damals|seinerzeit|dort)"
#: A bracket opening with the exam just named, then: "(damals ...)", "(seinerzeit ...)", "(dort ...)"; its images are that
#: exam's unless the bracket names this one before them ("(damals 4 mm, jetzt Serie 4: Bild 90)").
_BRACKET_THEN = regex.compile(r"[ \t]*(?:damals|seinerzeit|dort(?:ige[nmrs]?)?)\b", regex.IGNORECASE)
#: ... or opening the bracket's item that holds the reference: "(Split-Pleura-Zeichen, dort Se 5/Bi 71)", or giving that
#: exam's size anywhere in the bracket before it: "(Station 7 dort 16 mm, 3/60)" (not "(Messung dort am Rand des Herdes, s.
#: Markierung in Serie 4, Bild 157)", where "dort" is a report's)
_ITEM_THEN = regex.compile(r"[,;][ \t]*" + _THEN_WORD + r"[ \t]*:?[ \t]*$", regex.IGNORECASE)
_THEN_SIZE = regex.compile(r"\b" + _THEN_WORD + r"[ \t]+(?:(?:noch|nur|ca\.|etwa|bis)[ \t]+)?\d+(?:[.,]\d+)?[ \t]*(?:mm|cm)\b",
                           regex.IGNORECASE)
#: ... or right before the bracket: "Retikulationen, welche dort (2/180) lediglich diskret waren".
_THEN_BEFORE = regex.compile(r"\b" + _THEN_WORD + r"[ \t]*[(\[]\Z", regex.IGNORECASE)
_NOW_WORD = regex.compile(r"\b(?:jetzt|aktuell|heute|now|currently|today)\b", regex.IGNORECASE)


def on_prior_exam(text, r: RawRef, seg_start: int, triggers, trig_starts, default: bool,
                  label_from: int | None = None) -> bool:
    """Whether `r`, with nothing after it that dates it (`mine._PRIOR_AFTER`), is on a prior exam; `default` when nothing
    from `seg_start` on says (the section's: COMPARISON is the prior exam's; a table column's heading), unless an exam's
    label from `label_from` on does ("Prior: emboli (Se 5 Im 141) and thrombus (Se 5 Im 118). Current: ...")."""
    inside = text[r.start:r.end]
    if _PRIOR_INSIDE.search(inside) or _in_quoted_prior(text, r.start):
        return True
    before = text[max(0, r.start - 14):r.start].rstrip(" \t:").lower()
    if _EXAM_BEFORE.search(before):  # "comparison image 40", "baseline series 2, image 40"
        return True
    if ((before.endswith(_PRIOR_LABEL_WORDS) or (before[-4:-2] in ("19", "20") and before[-4:].isdigit()))
            and _PRIOR_LABEL.search(text, max(0, r.start - 80), r.start)):
        return True
    if _opening_comparison(text, r.start):
        return True
    open_ = bracket_open(text, r.start, r.start)
    if open_ >= 0 and not _NOW_WORD.search(text, open_, r.start) and (
            _BRACKET_THEN.match(text, open_ + 1) or _ITEM_THEN.search(text, open_, r.start)
            or _THEN_SIZE.search(text, open_, r.start)
            or _THEN_BEFORE.search(text, max(0, open_ - 12), open_ + 1)):
        return True  # "(damals v. a. Milchglas, Serie 4: Bild 90)", "(dort Serie 3, Bild 77)", "(..., dort Se 5/Bi 71)",
        # "Retikulationen, welche dort (2/180) lediglich diskret waren"
    t = temporal_for(triggers, trig_starts, seg_start, r.start, text)
    if t is None and label_from is not None and label_from < seg_start:
        t = temporal_for(triggers, trig_starts, label_from, seg_start, text)
        # a label ("Prior: ..."), or what opens the sentence ("Im März 2024 hilär rechts 24 mm (Im. 60, Se. 2),
        # subcarinal 19 mm (Im. 71, Se. 2)."), outside brackets (not "(S5/B210, VU: S5/B206)")
        labels = t is not None and (_LABEL_COLON.match(text, t.end) is not None or not text[label_from:t.start].strip())
        if not labels or text.count("(", label_from, t.start) != text.count(")", label_from, t.start):
            t = None
    if t is not None:
        return t.category == "prior"
    if _PRIOR_LINE_LABEL.match(text, text.rfind("\n", 0, r.start) + 1, r.start):
        return True
    return default


#: The prior exam's label opening the next item of a reference's parenthesis: "(Se 6/Bi 125; vgl. Vor-CT Se 5/Bi 110)",
#: "(6:125; prior 5:110)", "(Serie 5, Bild 77; präoperativ Serie 3, Bild 70)", "(se 5 im 210, previously se 3 im 198)";
#: the item before it is then this exam's, whatever the words before the parenthesis said.
_PRIOR_NEXT_ITEM = regex.compile(
    r"[ \t]*[;,][ \t]*(?:(?:vgl\.|cf\.|compare|siehe|see)[ \t]+)?(?:(?:im|in[ \t]+der|on[ \t]+the|auf[ \t]+der)[ \t]+)?"
    r"(?:vor-?ct|vu|voruntersuchung|voraufnahme|präoperativ|präop|preoperative(?:ly)?|preop|pre-op(?:erative(?:ly)?)?|prior"
    r"|previous(?:ly)?|comparison|zuvor|vormals|damals)\b\.?[^()\n;]{0,30}", regex.IGNORECASE)


def prior_item_follows(text: str, start: int, end: int, next_start: int) -> bool:
    """Whether the reference text[start:end] stands in a parenthesis whose next item, at `next_start`, opens with the
    prior exam's label, nothing in the parenthesis before the reference naming the prior: then the reference is this
    exam's."""
    if _PRIOR_NEXT_ITEM.fullmatch(text, end, next_start) is None:
        return False
    open_ = bracket_open(text, start, start)
    return open_ >= 0 and _PRIOR_INSIDE.search(text, open_, start) is None
