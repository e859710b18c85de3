"""Report sections from the header rules in `mining/rules/sections.yaml`.

`find_sections(text)` returns `Section(start, end, name, header_end)` spans covering the whole
text in order. Text before the first header is OTHER; a report with no header at all is one
FINDINGS section (a headerless report is its findings).
"""
from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import regex

from mining import rules as rules_mod


@dataclass(slots=True, frozen=True)
class Section:
    start: int
    end: int
    name: str
    header_end: int  # where the body starts (== start for the implicit first section)


class SectionRules:
    def __init__(self, path=None):
        rs = rules_mod.load("sections", path)
        self.lookup: dict[str, tuple[str, str]] = {}
        self.subheadings = {r.id for r in rs if r.get("subheading")}
        self.one_line = {r.id for r in rs if r.get("one_line")}
        self.aside = {r.id for r in rs if r.get("aside")}
        self.lead_in = {r.id for r in rs if r.get("lead_in")}
        phrases: list[str] = []
        for r in rs:
            for p in r.get("phrases"):
                key = rules_mod.phrase_key(p)
                if key in self.lookup:
                    raise rules_mod.RuleError(f"sections: rule {r.id!r}: phrase {p!r} already belongs to {self.lookup[key][1]!r}")
                self.lookup[key] = (r.get("section"), r.id)
                phrases.append(p)
        alt = rules_mod.phrases_pattern(phrases, space=r"[ \t]+")  # a heading on one line: not "BEFUND\nLunge frei"
        body = (
            r"[ \t]*(?:[-*#>•_]+[ \t]*|(?P<num>\d{1,2}(?:\.\d{1,2})*\.?|[IVX]{1,4}\.)[ \t]+)?(?P<h>" + alt + r")(?![^\W_]|-)"
            # a combined header ("IMPRESSION/RECOMMENDATION:", "Findings and impression:") is its first part's section
            r"(?:[ \t]*(?:/|&|\band\b|\bund\b)[ \t]*(?:" + alt + r")(?![^\W_]|-))?"
            r"(?:\*{1,3}|_{1,3})?"  # the close of Markdown emphasis: "**FINDINGS**", "**Findings:**"
            # a dash after the header works as a colon at a line's start: "Findings - no nodules"
            # a parenthesis between the header and its colon: "ADDENDUM (12/05/2026):", "IMPRESSION (preliminary):", or
            # the line's end: "TARGET LESIONS (Se/Im = series/image)", "ZIEL-LÄSIONEN (TL)"
            # a date between them: "Korrektur vom 13.03.2024, 09:15 Uhr (Dr. med. S. Okafor):", "Addendum 12/05/2026:"
            r"(?P<tail>(?:[ \t]+(?:vom|from|of|dated|am)?[ \t]*\d{1,2}[./]\d{1,2}[./]\d{2,4}"
            r"(?:,?[ \t]*\d{1,2}:\d{2}(?:[ \t]*uhr)?)?)?(?:[ \t]*\([^()\n]{1,80}\))?[ \t]*:(?:\*{1,3}|_{1,3})?|[ \t]+[-–—](?=[ \t]|\r?\n|$)[ \t]*|(?:[ \t]*\([^()\n]{1,80}\))?[ \t]*(?=\r?\n|$)|(?=[ \t]+\S))"
        )
        self.regex = regex.compile(r"(?:^|(?<=\n)|(?<=[.!?]\s{1,4}))" + body, regex.IGNORECASE)
        # a report whose line breaks an export lost ("... Requesting MO: Dr. Prasad Examination: CT CHEST Clinical
        # notes: ..."): a header after any blank too, written with a capital and followed by a colon (`_flattened`)
        self.inline = regex.compile(r"(?<=\S[ \t]{1,4})" + body, regex.IGNORECASE)

    def _matches(self, text: str) -> Iterator[regex.Match]:
        """The matches of `self.regex` in text order, as its `finditer` gives them, tried only where a header may
        start (the text's start, after a line break, after sentence punctuation and one to four spaces): its
        leading lookbehinds would otherwise be tried at every position."""
        rx = self.regex
        end = 0
        starts: Iterator[int] = _header_starts(text)
        inline: set[int] = set()
        if _flattened(text):
            inline = {m.end() for m in _BLANK_BEFORE_CAPITAL.finditer(text)}
            starts = iter(sorted(set(starts) | inline))
        for pos in starts:
            if pos >= end:
                m = rx.match(text, pos)
                if m is None and pos in inline:
                    m = self.inline.match(text, pos)
                    if m is not None and (":" not in m.group("tail") or not m.group("h")[:1].isupper()):
                        m = None
                if m is not None:
                    end = m.end()
                    yield m

    def find(self, text: str) -> list[Section]:
        heads: list[tuple[int, int, str]] = []
        resume: tuple[int, int, str] | None = None  # where a one-line header's section ends, and which goes on
        in_capitals: bool | None = None  # whether the report is written in capitals (`_in_capitals`), once asked
        for m in self._matches(text):
            h = m.group("h")
            tail = m.group("tail")
            start = m.start("num") if m.group("num") else m.start("h")  # "3. Befund": the section holds its number
            line_start = m.start() == 0 or text[m.start() - 1] == "\n" or text[m.start():m.start("h")].strip(" \t-*#>•_") == ""
            at_line_start = line_start and (m.start() == 0 or text[m.start() - 1] == "\n")
            if at_line_start and tail.strip() in ("-", "–", "—"):
                tail = ":"  # "Findings - ...": a header as with a colon
            if ":" in tail:
                pass
            elif tail.strip()[:1] in ("", "(") and (m.end() == len(text) or text[m.end()] in "\r\n"):
                if not at_line_start:
                    continue
                # a word alone on its line: a header only if it is upper case or title case short line
                if not (h.isupper() or h[:1].isupper()):
                    continue
            else:
                # inline header without a colon: only upper case, at a line start, text following; not in a report
                # written in capitals, where a sentence opens with such words: "COMPARED WITH THE PREVIOUS STUDY, ..."
                if not (at_line_start and h.isupper() and len(h) >= 4):
                    continue
                if in_capitals is None:
                    in_capitals = _in_capitals(text)
                if in_capitals:
                    continue
            if not at_line_start and ":" not in tail:
                continue
            key = rules_mod.phrase_key(h)
            name = self.lookup.get(key)
            if name is None:
                continue
            if name[0] == "COMPARISON" and key.startswith("vorbefund") and _READ_AT.search(tail):
                name = ("FINDINGS", "preliminary_read")  # "Vorbefund (Ass. Dr. Lang, 21:20):": this exam's first read
            if resume is not None and resume[0] <= start:
                heads.append(resume)
                resume = None
            if name[1] in self.lead_in and heads and heads[-1][2] in ("FINDINGS", "IMPRESSION"):
                continue  # "Compared with 05/16/2023:" in the findings: the changes it lists are findings
            if name[1] in self.subheadings:
                # an organ heading ("Lungs:", or "LUNGS" in capitals alone on its line): findings where none are open
                # yet; its words stay in the body
                if not (at_line_start and (":" in tail or h.isupper() and _rest_of_line_blank(text, m.end()))) or (
                        heads and heads[-1][2] in ("FINDINGS", "IMPRESSION")):
                    continue  # "CORONARY ARTERY CALCIUM SCORE" in a title line is no "CORONARY" heading
                heads.append((start, m.start("h"), name[0]))
                continue
            resume = None  # a header before the next line: it decides what goes on
            heads.append((start, m.end(), name[0]))
            if ":" in tail and len(heads) > 1 and (name[1] in self.one_line or name[1] in self.aside and heads[-2][2] in (
                    "FINDINGS", "IMPRESSION")):
                # "Key images: 3:45." (or "Vergleich: keine." after "Befund:") inside the findings: its own section for
                # this line, then the section before goes on at the next line (unless a header comes first)
                eol = text.find("\n", m.end())
                if eol >= 0 and text[m.end():eol].strip():
                    resume = (eol + 1, eol + 1, heads[-2][2])
        if resume is not None:
            heads.append(resume)
        heads = _after_one_paragraph(text, heads, ("COMPARISON", "HISTORY", "TECHNIQUE"))
        heads = _after_one_line(text, heads)
        if not heads:
            return [Section(0, len(text), "FINDINGS", 0)]
        out: list[Section] = []
        if heads[0][0] > 0 and text[:heads[0][0]].strip():
            out.append(Section(0, heads[0][0], "OTHER", 0))
        for i, (s, he, name) in enumerate(heads):
            e = heads[i + 1][0] if i + 1 < len(heads) else len(text)
            out.append(Section(s if out or s == 0 else 0, e, name, he))
        return out


_BLANK_LINE = regex.compile(r"\n[ \t]*\n\s*")
#: A clock time in the brackets after a "Vorbefund" header: the time a reader read this exam ("Vorbefund (Dr. Vogt,
#: 00:59 Uhr):"), which makes it this exam's first read, not the prior exam's report.
_READ_AT = regex.compile(r"\([^()\n]*\b\d{1,2}:\d{2}\b")
#: A line opening with a label of its own before a colon ("Prior impression (03/08/2023), quoted verbatim:", "CONSENT:",
#: "Vorbefund vom 14.05.2024 (Dr. A.), Beurteilung:"): a header radmine does not know, whose block is not the findings.
_LABELLED_LINE = regex.compile(r"[ \t]*[^\W\d_][^\n:]{0,60}:")


#: A label that goes on with the technique ("Dose:", "Kontrastmittel:", "Rekonstruktionen:"): after a technique
#: paragraph, a block under any other label ("PV ANATOMY:", "Lunge:") is the findings.
_TECHNIQUE_LABEL = regex.compile(
    r"\b(?:dose|dosis|dlp|ctdi\w*|radiation|strahlen\w*|contrast|kontrast\w*|km|protocol|protokoll|reconstructions?|"
    r"rekonstruktion\w*|kernel|sedation|consent|aufklärung|premedication|prämedikation|acquisition|akquisition|scan\w*|"
    r"series|serien?)\b", regex.IGNORECASE)


#: A label that goes on with the comparison ("Prior impression (03/08/2023), quoted verbatim:", "Vorbefund vom
#: 14.05.2024, Beurteilung:"): after a comparison paragraph, a block under any other label ("CAD OUTPUT
#: (auto-imported):") is the findings.
_PRIOR_LABEL = regex.compile(
    r"\b(?:prior|previous|earlier|old|comparison|compared|baseline|outside|external|vor\w*|vergleich\w*|extern\w*|"
    r"quoted|zitiert|dated)\b|\d{1,2}[./]\d{1,2}[./]\d{2,4}|\b(?:19|20)\d\d\b",
    regex.IGNORECASE)
#: A label that names this exam beside the prior ("Aortic measurements (current / prior):", "Maße (aktuell/VU):"): a
#: table of both, which is the findings.
_CURRENT_LABEL = regex.compile(r"\b(?:current|now|today|this\s+(?:exam|study)|aktuell\w*|jetzt|heute)\b",
                               regex.IGNORECASE)


def _after_one_paragraph(text: str, heads: list[tuple[int, int, str]],
                         names: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """`heads` with FINDINGS opened after a blank line that ends a `names` section whose header has its text on its own
    line ("Comparison: CT 06/11/2023.\n\n<a lesion table with no header>", "Zuweisungsdiagnose: Husten.\n\n<a
    letter's findings>"): such a section is that paragraph, and what follows under no header of its own is the report's
    findings (as a report with no header at all is); not a block that opens with a label and a colon, a header radmine
    does not know, unless after a technique paragraph the label is no technique's ("PV ANATOMY:", not "Dose:"), or
    after a comparison paragraph none of a prior's ("CAD OUTPUT (auto-imported):", not "Prior impression, quoted
    verbatim:") or one naming this exam too ("Aortic measurements (current / prior):")."""
    out = []
    for i, (start, header_end, name) in enumerate(heads):
        out.append((start, header_end, name))
        if name not in names or _rest_of_line_blank(text, header_end):
            continue
        end = heads[i + 1][0] if i + 1 < len(heads) else len(text)
        gap = _BLANK_LINE.search(text, header_end, end)
        if gap is None or gap.end() >= end or not text[gap.end():end].strip():
            continue
        label = _LABELLED_LINE.match(text, gap.end())
        if (label is None or name == "TECHNIQUE" and not _TECHNIQUE_LABEL.search(label.group(0))
                or name == "COMPARISON" and (not _PRIOR_LABEL.search(label.group(0))
                                             or _CURRENT_LABEL.search(label.group(0)))):
            out.append((gap.end(), gap.end(), "FINDINGS"))
    return out


#: A line that goes on with a comparison: another exam ("CT 03/04/2024.", "- PET-CT 2023"), a date, or a lower-case
#: continuation of a wrapped line.
_COMPARISON_GOES_ON = regex.compile(r"[ \t]*(?:[-*\u2022][ \t]*)?(?:(?:ct|cta|hrct|ldct|mrt?|mri|pet|cxr|rö\w*|x-?ray|"
                                    r"chest|thorax|prior|previous|and|und)\b|\d|(?-i:[a-zäöü(]))", regex.IGNORECASE)


def _after_one_line(text: str, heads: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """`heads` with FINDINGS opened at the line after a comparison whose text ends its line with a full stop, in a
    report that has no findings header ("Prior: LDCT 5/2/2023.\nLung-RADS 2. 4 mm RLL nodule, stable (Ser 201 Img
    144).", "Vergleich: CT vom 14.02.2023.\nSolider Nodulus ..."): a terse report goes on with its findings there; not
    where the next line names another exam, a date, or goes on in lower case."""
    if any(name == "FINDINGS" for _, _, name in heads):
        return heads
    out = []
    for i, (start, header_end, name) in enumerate(heads):
        out.append((start, header_end, name))
        if name != "COMPARISON" or _rest_of_line_blank(text, header_end):
            continue
        eol = text.find("\n", header_end)
        end = heads[i + 1][0] if i + 1 < len(heads) else len(text)
        if eol < 0 or eol + 1 >= end or not text[header_end:eol].rstrip().endswith("."):
            continue
        nxt = text[eol + 1:end].split("\n", 1)[0]
        if nxt.strip() and not _COMPARISON_GOES_ON.match(nxt):
            out.append((eol + 1, eol + 1, "FINDINGS"))
    return out


def _rest_of_line_blank(text: str, i: int) -> bool:
    """Whether the line holding text[i] has nothing but blanks from there on."""
    eol = text.find("\n", i)
    return not text[i:eol if eol >= 0 else len(text)].strip()


def _in_capitals(text: str) -> bool:
    """Whether `text` is written in capitals: under 5 % of its cased letters in lower case ("45 X 30 mm" may slip in)."""
    lower, upper = sum(map(str.islower, text)), sum(map(str.isupper, text))
    return upper > 0 and lower < 0.05 * (lower + upper)


_START_MARK = regex.compile(r"\n|[.!?]\s{1,4}")
#: Blanks after a word and before a capital: where a header may stand in a `_flattened` report.
_BLANK_BEFORE_CAPITAL = regex.compile(r"(?<=\S)[ \t]{1,4}(?=\p{Lu})")


def _flattened(text: str) -> bool:
    """Whether an export took the report's line breaks: 600 characters or more on one line, and at most three lines."""
    return len(text) >= 600 and text.count("\n") <= 2 and max(map(len, text.split("\n"))) >= 600


def _header_starts(text: str) -> Iterator[int]:
    """Every position where `SectionRules.regex` may start, in order: 0, after a line break, after [.!?] and 1-4 spaces."""
    yield 0
    for c in _START_MARK.finditer(text):
        if text[c.start()] == "\n":
            yield c.end()
        else:
            yield from range(c.start() + 2, c.end() + 1)


@functools.lru_cache(maxsize=4)
def section_rules(path: str | None = None) -> SectionRules:
    return SectionRules(path)


def find_sections(text: str) -> list[Section]:
    return section_rules().find(text)


#: A heading a template left in square brackets at a line's start: "[Lungs]: ...", "[Coronary Arteries]: Mild ...", or
#: alone on its line ("[Finding]").
_BRACKETED_HEADING = regex.compile(r"(?m)^[ \t]*\[[^\W\d_][^\[\]\n\d]{0,39}\][ \t]*(?::|$)")
#: A heading framed alone on its line, as reporting software exports them: "== TECHNIK ==", "--- FINDINGS ---",
#: "*** IMPRESSION ***", "~~ Lunge ~~".
_FRAMED_HEADING = regex.compile(
    r"(?m)^[ \t]*(?P<o>={2,}|-{2,}|\*{3,}|~{2,}|\#{2,})[ \t]*[^\W\d_][^\n=*~\#]{0,50}?[ \t]*"
    r"(?P<c>={2,}|-{2,}|\*{3,}|~{2,}|\#{2,})[ \t]*:?[ \t]*$")


def plain_headings(text: str) -> str:
    """`text` with the square brackets of headings a template left in ("[Heart]: Normal size.", "[Finding]") and the
    frames of headings alone on their line ("== TECHNIK ==") made blanks, so that section, finding and ConText rules
    read them as the plain headings they are (" Heart : Normal size.", "   TECHNIK   "); the same length, so every
    offset holds for `text`. The text itself where it has none."""
    bracketed = "[" in text and _BRACKETED_HEADING.search(text) is not None
    framed = ("==" in text or "--" in text or "***" in text or "~~" in text or "##" in text) and \
        _FRAMED_HEADING.search(text) is not None
    if not (bracketed or framed):
        return text
    chars = list(text)
    if bracketed:
        for m in _BRACKETED_HEADING.finditer(text):
            chars[text.index("[", m.start())] = " "
            chars[text.rindex("]", m.start(), m.end())] = " "
    if framed:
        for m in _FRAMED_HEADING.finditer(text):
            for g in ("o", "c"):
                chars[m.start(g):m.end(g)] = " " * (m.end(g) - m.start(g))
    return "".join(chars)


#: A word hyphenated at a hard-wrapped line's end, its rest on the next line: "ATELEC-\nTASIS", "Lymph-\nknoten".
_WRAPPED_WORD = regex.compile(r"(?<=[^\W\d_]{2})-\n([ \t]*)([a-zäöüß]+|(?<=[A-ZÄÖÜ]-\n[ \t]*)[A-ZÄÖÜ]+)\b")


def joined_words(text: str) -> tuple[str, list[tuple[int, int, int]]]:
    """`text` with each word hyphenated at a line's end made whole ("ATELEC-\nTASIS OF" -> "ATELECTASIS \n OF"), so
    that finding and ConText rules read it; the same length, so offsets hold except inside the word's rest. With the
    joins (start of the rest as moved, its end, how far it moved back) for `text_end`."""
    if "-\n" not in text:
        return text, []
    out, joins, last = [], [], 0
    for m in _WRAPPED_WORD.finditer(text):
        indent, rest = m.group(1), m.group(2)
        out.append(text[last:m.start()])
        out.append(rest + " " + "\n" + indent)
        joins.append((m.start(), m.start() + len(rest), m.end() - m.start() - len(rest)))
        last = m.end()
    if not joins:
        return text, []
    out.append(text[last:])
    return "".join(out), joins


def text_end(end: int, joins: list[tuple[int, int, int]]) -> int:
    """Where a match ending at `end` of `joined_words`' view ends in the text: past the line break of a joined word."""
    for a, b, shift in joins:
        if a < end <= b:
            return end + shift
    return end


def section_at(sections: list[Section], offset: int) -> str:
    for s in sections:
        if s.start <= offset < s.end:
            return s.name
    return sections[-1].name if sections else "OTHER"
