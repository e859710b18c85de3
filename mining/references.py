"""Image references: the matches of the rules in `mining/rules/references.jsonl` as one alternation of them gives.

`find_references(text)` scans the text once and returns one `RawRef` per referenced image: a
list ("images 188, 202 and 236", "3:42, 121, 137") gives several, a range ("4:121-130")
one with `image_end`. Spans (`start`, `end`) are the whole reference expression as written,
without enclosing parentheses: "(series 3, image 45)" -> "series 3, image 45". Every image of
a list carries the span of the whole expression; `item_start`/`item_end` hold the span of
its own number(s).
"""
from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, replace

import regex

from mining import rules as rules_mod
from mining.prefilter import gate_words, lower_agrees, match_words
from mining.tables import column_images, column_pairs, column_series_images, heads_aligned_table, semicolon_rows

#: How a rule file without RANGE_OP / RANGE_KW macros writes a range (the shipped file's macros say the same).
_RANGE_OP = r"\s*(?:[-‐‑‒–—−]|to|through|thru|until|bis)\s*"
_RANGE_KW = r"\b(?:images?|imgs?\.?|ima|im\.?|slices?|bild(?:ern?)?|bi\.?)"


def _item_pattern(range_op: str, range_kw: str) -> regex.Pattern:
    """One image of a matched list: series (shorthand), image, '/N', 'of N' or '(of N)' count (none in a slash chain,
    "45/67/89", whose numbers are images), range end (and its '/N' count); its range
    written with the rule file's own RANGE_OP and RANGE_KW, so what a rule matches as a range is read as one."""
    return regex.compile(
        r"(?:(?P<s>\d{1,5})\s*[:;]\s*)?(?P<a>\d{1,5})"
        r"(?:(?<!/\s*\d{1,5})\s*/\s*(?P<cnt>\d{1,5})(?!\d|\s*/\s*\d|\s*:\s*\d)|\s+(?:of|von)\s+(?P<cnt2>\d{1,5})"
        r"|\s*\(\s*(?:of|von)\s+(?P<cnt4>\d{1,5})\s*\))?"
        rf"(?:(?:{range_op})(?:\d{{1,5}}\s*:\s*)?(?:(?:s(?:e|er|eries?|erie[ns])?\.?\s*\d{{1,5}}\s*[/,-]?|\d{{1,5}}\s*/)\s*(?=(?:{range_kw})))?(?:(?:{range_kw})\s*(?:-\s*)?)?"
        rf"(?P<b>\d{{1,5}})(?:\s*/\s*(?P<cnt3>\d{{1,5}}))?)?",
        regex.IGNORECASE | regex.VERBOSE,
    )


#: An explicit series mention; the short words without a full stop ("Se 4", "Ser 3", "S. 4") only before their image
#: ("Saum (Se 4, Bild 128) und Verdickung (Bild 131)": the second image is on series 4 too).
SERIES_ONLY = regex.compile(
    r"\b(?:series|serie[sn]?|ser\.|se\.|(?:ser|se|s\.)(?=\s*\d{1,5}\s*[,/]\s*(?:im|img|ima|image|bild|bi|b)\b)"
    r"|(?-i:S)(?=\d{1,5}[ \t]*/[ \t]*(?-i:B|Bi|I|Im)[ \t]?\d))"  # "S201/B131"
    r"\s*(?:-?(?:\#|no\.?|nr\.?))?\s*:?\s*\#?\s*(?P<ser>\d{1,5})(?![\d.,:/]\d)"
    # and what names the series right after it, which a snippet loses with it: "series 2 (lung window), image 77",
    # "Serie 4 [Lungenfenster]"
    r"(?:[ \t]*[(\[][^()\[\]\n]{0,30}?(?:window|fenster|kernel|kern|reformat\w*|\bmip|\bmpr|recon\w*|rekonstruktion\w*)\s*[)\]])?",
    regex.IGNORECASE,
)


@dataclass(slots=True)
class RawRef:
    start: int
    end: int
    item_start: int
    item_end: int
    series: int | None
    image: int
    image_end: int | None
    count: int | None
    rule: str
    shape: str
    group: int  # index of the expression (matches) in the text


class Matcher:
    """The compiled reference rules: one alternation plus the reject rules by shape."""

    def __init__(self, path=None):
        rs = rules_mod.load("references", path)
        self.rules = [r for r in rs if r.kind == "rule"]
        self.rejects = [r for r in rs if r.kind == "reject"]
        # (where, search) of the reject rules that apply to each shape, in file order
        # (`from`: matched at the match's start, not searched in a context cut around it)
        self._reject_plan = {shape: [(rj.get("where"), rj.compiled.match if rj.get("where") == "from"
                                      else rj.compiled.search)
                                     for rj in self.rejects if not rj.get("shape") or rj.get("shape") == shape]
                             for shape in {r.get("shape") for r in self.rules}}
        # each rule compiled on its own: the engine's literal-prefix and first-character shortcuts work per
        # pattern and are lost in one alternation of them all (`scan` gives that alternation's matches)
        self.compiled = [r.compiled for r in self.rules]  # as loaded: case-insensitive unless the rule says otherwise
        # each rule's case-sensitive twin for the lower-cased text, where it has one (faster; `rules.lowercase_twin`)
        self.twins, self.twin_of = rules_mod.lowercase_twins(self.compiled)
        # where each can start a match: its anchor, found once for all rules sharing it (`rules.leftmost_scan`)
        self.anchors, self.twin_anchors = rules_mod.anchors(self.compiled), rules_mod.anchors(self.twins)
        for r, rx in zip(self.rules, self.compiled):  # the groups `_rows` reads, checked now rather than at match time
            need = _body_group(r.get("shape"))
            if need not in rx.groupindex:
                raise rules_mod.RuleError(f"references: rule {r.id!r}: a {r.get('shape')!r} rule needs the group (?P<{need}>...)")
        # the words a rule needs in the text (its lookbehinds' too: 'between' for "between images 45 and 52"), where
        # each is one a report seldom holds: a report without any of them skips the rule's scan
        self.gates = [gate_words(rx) for rx in self.compiled]
        # rules whose matches count only in a report that declares the form they read ("Bildangaben: Serie-Bild" for
        # "(4-22)"): the declaration is searched once per report, and a report without it is not scanned for them
        self.declared: dict[int, regex.Pattern] = {}
        for i, r in enumerate(self.rules):
            if r.get("declared_by"):
                try:
                    self.declared[i] = regex.compile(r.get("declared_by"), regex.IGNORECASE)
                except regex.error as e:
                    raise rules_mod.RuleError(f"references: rule {r.id!r}: declared_by: {e}") from None
                for ex in r.examples:
                    if not self.declared[i].search(ex):
                        raise rules_mod.RuleError(f"references: rule {r.id!r}: its example {ex!r} declares nothing")
        # the literals one of which a declared rule's every match holds ("#" for "(#38)"), lower-cased: a report without
        # any cannot hold its form, and its declaration is not searched for (hash_image_paren's cost ~280 us a report)
        self.declared_needs = {i: match_words(self.compiled[i]) for i in self.declared}
        # rules whose matches count only where another reference or a series mention of the text names their series, or
        # where the text cites its images that way throughout (`_with_echoes`)
        self.echo = {i for i, r in enumerate(self.rules) if r.get("echo")}
        self.regex = self._alternation(range(len(self.rules)))
        macros = rules_mod.macros_of("references", path)
        # the rule file's PAREN_CLOSE macro; a rule file of one's own without it closes on a bare ')'
        self.close_paren = regex.compile(macros.get("PAREN_CLOSE", r"[ \t]*\)"), regex.IGNORECASE)
        range_op = macros.get("RANGE_OP", _RANGE_OP)
        self.item = _item_pattern(range_op, macros.get("RANGE_KW", _RANGE_KW))
        # one "series/image" pair of a list of them ("Se/Bi 4/142 und 4/150", "4/86-4/120"), or "series-image" where a
        # report declares that form ("4-18 bis 4-26")
        self.pair_item = regex.compile(
            rf"(?P<s>\d{{1,5}})\s*(?P<sep>[/-])\s*(?P<a>\d{{1,5}})(?:(?:{range_op})(?:\d{{1,5}}\s*(?P=sep)\s*)?(?P<b>\d{{1,5}}))?",
            regex.IGNORECASE)

    def _rejected(self, text: str, m: regex.Match, shape: str) -> bool:
        for where, search in self._reject_plan[shape]:
            if where == "before":
                ctx = text[max(0, m.start() - 40):m.start()]
            elif where == "through":  # the words before it and the match: "Key Image 1"
                ctx = text[max(0, m.start() - 40):m.end()]
            elif where == "after":
                ctx = text[m.end():m.end() + 20]
            elif where == "from":  # matched at the match's start, seeing 40 characters past it (and, behind, the text)
                if search(text, m.start(), min(len(text), m.end() + 40)):
                    return True
                continue
            else:
                ctx = m.group(0)
            if search(ctx):
                return True
        return False

    def _alternation(self, rules) -> regex.Pattern:
        """The alternation of the rules `rules` (indices), each its own group `r<i>`."""
        return regex.compile("|".join(f"(?P<r{i}>{'(?-i:' + self.rules[i].pattern + ')' if self.rules[i].get('case_sensitive') else self.rules[i].pattern})"
                                      for i in rules), regex.IGNORECASE | regex.VERBOSE)

    def undeclared(self, text: str, low: str | None = None) -> set[int]:
        """The declared rules that count nowhere in `text`: those whose declaration it lacks (`declared_by`), and those
        that cannot match in it (it lacks every literal their matches hold), whose declaration is not searched for.
        `low`: `text.lower()`, where the caller has it."""
        low = text.lower() if low is None else low
        agree = lower_agrees(text, low)  # lower() agrees with the rules' case-insensitive matching here
        needs = self.declared_needs
        return {i for i, rx in self.declared.items()
                if (agree and needs[i] is not None and not any(w in low for w in needs[i])) or rx.search(text) is None}

    def alternation_for(self, text: str) -> regex.Pattern:
        """`self.regex` without the rules that cannot count in `text` (`undeclared`): what `scan` gives the matches of."""
        off = self.undeclared(text)
        return self._alternation([i for i in range(len(self.rules)) if i not in off]) if off else self.regex

    def scan(self, text: str, low: str | None = None) -> Iterator[tuple[int, regex.Match]]:
        """(rule index, match) of every match of `alternation_for(text)`, the alternation of the rules that can count in
        the text, in text order, each rule searched on its own and only where its anchor matches (`rules.leftmost_scan`:
        the same matches; on the bench's reports 1.4x faster than the alternation, and the anchors 1.44x faster again),
        the rules whose gate words the text lacks left out (they cannot match), and those whose declaration it lacks
        (a declared form's scan costs as much as any other rule's), on the lower-cased text where it agrees (a match's
        text is then in lower case). `low`: `text.lower()`, where the caller has it."""
        low = text.lower() if low is None else low
        off = self.undeclared(text, low) if self.declared else ()
        if lower_agrees(text, low):
            rxs, anchors = self.twins, self.twin_anchors
            active = [i for i, g in enumerate(self.gates) if (g is None or any(w in low for w in g)) and i not in off]
            hays = [low if self.twin_of[i] else text for i in active]  # a twin's matches hold offsets, digits, lower case
        else:
            rxs, anchors = self.compiled, self.anchors
            active = [i for i in range(len(rxs)) if i not in off]
            hays = None
        if len(active) == len(rxs):
            return rules_mod.leftmost_scan(rxs, text, hays, anchors)
        return ((active[j], m) for j, m in rules_mod.leftmost_scan(
            [rxs[i] for i in active], text, hays, [anchors[i] for i in active]))

    def find(self, text: str) -> list[RawRef]:
        out: list[RawRef] = []
        echoes: list[list[RawRef]] = []
        group = 0
        low = text.lower()
        for idx, m in self.scan(text, low):
            rule = self.rules[idx]
            shape = rule.get("shape")
            if self._rejected(text, m, shape) or ("\n" in m.group(0) and heads_aligned_table(text, m.start())):
                continue
            rows = _rows(m, rule.id, shape, group, _closing_end(text, m, self.close_paren),
                         self.pair_item if shape == "pairs" else self.item)
            if rows:
                if idx in self.echo:
                    echoes.append(rows)
                else:
                    out.extend(rows)
                group += 1
        if ("image/" in low or "bild/" in low or "im/" in low) and _DECLARED_IMAGE_SERIES.search(text):
            out, echoes = _image_first(out), [_image_first(g) for g in echoes]
        cells = column_pairs(text) if any(h in low for h in _PAIR_HEAD_HINTS) else []
        if "|" in text or "\t" in text or "  " in text or semicolon_rows(text):
            # where a table may have a "Serie" column, or an image column of its own ("| Bild akt. | ... | Bild VU |",
            # "Image now   Image prior", "Datum;Serie;Bild;...")
            cells = sorted(cells + column_series_images(text) + column_images(text))
        if cells:
            out, echoes = _with_columns(out, echoes, cells)
        if echoes:
            out = _with_echoes(text, out, echoes)
        return _joined_ranges(text, _counts_as_series(text, out))


#: Between two references that are a range's ends: "Im 45/Se 4 through Im 88/Se 4", "[4:88]–[4:126]"
_RANGE_WORD = r"[ \t]*(?:through|thru|to|until|bis|[-\u2013\u2014])[ \t]*"
_RANGE_BETWEEN = regex.compile(rf"{_RANGE_WORD}|\]{_RANGE_WORD}\[", regex.IGNORECASE)


def _joined_ranges(text: str, rows: list[RawRef]) -> list[RawRef]:
    """`rows` with two single images of one series, each a reference of its own, that a range word joins ("(Im 45/Se 4
    through Im 88/Se 4)", "(Schicht 178 (Serie 3) bis Sch. 224)": the second names no series) made one range."""
    out: list[RawRef] = []
    for r in rows:
        a = out[-1] if out else None
        if (a is not None and a.group != r.group and a.series is not None and r.series in (a.series, None)
                and a.image_end is None and r.image_end is None and a.image < r.image and a.count is None
                and r.count is None and _RANGE_BETWEEN.fullmatch(text, a.end, r.start)):
            out[-1] = replace(a, end=r.end, item_end=r.item_end, image_end=r.image)
        else:
            out.append(r)
    return out


#: What a series/image column heading holds ("Ser/Img", "Se/Bi", "Ser:Img", "Se / Im", "Bild/Serie"), or a column of this
#: exam's and the prior's image ("Bild akt./VU"), lower-cased: `tables.column_pairs` runs only then (the substring tests
#: cost ~2 us a report, a pattern for them 11).
_PAIR_HEAD_HINTS = ("/i", "/b", ":i", ":b", "/ i", "/ b", "/se", ":se", "/ se", "/vu", "/ vu", "/vor", "/ vor", "/pr", "/ pr")


def _with_columns(rows: list[RawRef], echoes: list[list[RawRef]], cells) -> tuple[list[RawRef], list[list[RawRef]]]:
    """`rows` and `echoes` with the pairs of table columns headed series/image (`tables.column_pairs`): such a cell is
    certainly a series and an image, so it replaces an echo rule's reading of it and is kept whatever the report's
    other references say; a cell another rule read stays that rule's. Groups are numbered in text order again."""
    spans = [(r.start, r.end) for r in rows]
    new = [RawRef(s, e, i, j, ser, a, b, None, "table_column", "pairs", -1) for s, e, i, j, ser, a, b in cells
           if not any(x < e and s < y for x, y in spans)]
    if not new:
        return rows, echoes
    echoes = [g for g in echoes if not any(r.start < e and s < r.end for r in g for s, e, *_ in cells)]
    order = sorted({(r.start, r.item_start, r.group) for r in rows + [r for g in echoes for r in g]} |
                   {(r.start, r.item_start, -1 - i) for i, r in enumerate(new)})
    number: dict[int, int] = {}
    for *_, g in order:
        number.setdefault(g, len(number))

    def renumbered(r: RawRef, g: int) -> RawRef:
        return RawRef(r.start, r.end, r.item_start, r.item_end, r.series, r.image, r.image_end, r.count, r.rule,
                      r.shape, number[g])

    out = sorted([renumbered(r, r.group) for r in rows] + [renumbered(r, -1 - i) for i, r in enumerate(new)],
                 key=lambda r: (r.group, r.item_start))
    return out, [[renumbered(r, r.group) for r in g] for g in echoes]


def _with_echoes(text: str, rows: list[RawRef], echoes: list[list[RawRef]]) -> list[RawRef]:
    """`rows` and those matches of echo rules all of whose series another reference or a series mention names, in
    text order (groups are numbered in text order). Where the report cites its images that way throughout
    (`_bare_pair_series`), the series it cites so count as named, and a pair whose image can be no date either; so does
    such a pair where the report says it cites its images so ("(Serie/Bild)", "given as series/image"). Where one bare
    pair's series is named ("Bild 98, Serie 4" and "(4/156)"), the report cites so, and a pair whose image can be no date
    and is above its series counts too ("(6/201)"; not "(135/85)"); where it says so, a reformat's ("(601/11)") too. A
    pair whose second number is an image count the report states for a series ("(Serie 3, 402 Bilder)" and "(188/402)")
    is image 188 of 402, whatever else it says."""
    totals = image_totals(text) if "/" in text else {}
    if totals:  # "188/402" where the report says a series holds 402 images: image 188 of 402
        counted = [g for g in echoes if all(r.series is not None and 0 < r.series <= r.image and r.image in totals
                                            for r in g)]
        if counted:
            rows = sorted(rows + [replace(r, series=None, image=r.series, count=r.image) for g in counted for r in g],
                          key=lambda r: r.group)
            echoes = [g for g in echoes if g not in counted]
    named = {r.series for r in rows} | {s for _, _, s in series_mentions(text)}
    shown = any(all(r.series in named for r in group) for group in echoes)
    habit = _bare_pair_series(echoes)
    named |= habit
    dateless = bool(habit) or _DECLARED_PAIRS.search(text) is not None  # a pair whose image can be no date counts

    def counts(r: RawRef) -> bool:
        return r.series in named or _no_date_part(r.image) and (
            dateless or shown and r.series is not None and r.series < r.image) or (
            dateless and r.series is not None and r.series > _NO_PRESSURE)
    kept = rows + [r for group in echoes if all(counts(r) for r in group) for r in group]
    if len(kept) > len(rows):
        kept.sort(key=lambda r: r.group)  # stable: a list's images stay in order
    return kept


def _counts_as_series(text: str, rows: list[RawRef]) -> list[RawRef]:
    """`rows`, with "Bild 5/123" (image 5 of 123) read as series 5, image 123 where the report says it writes them so
    ("Bildangaben als (Bild Serie/Bildnummer)"), cites one such pair with its series elsewhere ("(IMA 4/88)" and
    "Bild 88 der Serie 4"), writes them as no counts can be (`_firsts_repeat`: "(image 4/86)", "(image 4/120)",
    "(image 2/54)"), or cites one's first number as a series in the same form (`_pairs_around`: "Key images: 3/45 RUL
    nodule; 3/88 effusion", "Sl. 3/187" and "Sl. 3/201-3/214"): then every image-of-count of the report is a series and
    an image. A series named in another form is no evidence: "(image 5/340)" of a thyroid nodule is image 5 of 340
    beside "series 5, image 112"."""
    counted = [r for r in rows if r.series is None and r.count is not None]
    if not counted:
        return rows
    named = {(r.series, r.image) for r in rows if r.series is not None}
    if not (_DECLARED_SERIES_IMAGE.search(text) or any((r.image, r.count) in named for r in counted)
            or _firsts_repeat(counted) or any(_pairs_around(r, rows) for r in counted)):
        return rows
    return [replace(r, series=r.image, image=r.count, count=None) if r.series is None and r.count is not None else r
            for r in rows]


def _pairs_around(r: RawRef, rows: list[RawRef]) -> bool:
    """Whether image-of-count `r`'s first number is the series of a pair in its own form: one of its rule read as a
    series and images ("Sl. 3/201-3/214"), or a bare pair right after it in its list ("images: 3/45 RUL nodule; 3/88")."""
    return any(o.series == r.image and (o.rule == r.rule or o.shape == "pairs" and 0 <= o.start - r.end <= 60)
               for o in rows if o is not r)


def _firsts_repeat(counted: list[RawRef]) -> bool:
    """Whether a report's "image N/M" cannot all be image N of M: one N stands with two different M (a series has one
    count of images) and the M are more varied than the N ("image 4/86", "4/120", "4/40", "2/54", "2/132": series 4
    and 2, the UK's "image S/I"). Counts of a few series ("45/232", "80/232", "12/120") keep their reading."""
    counts: dict[int, set[int]] = {}
    for r in counted:
        counts.setdefault(r.image, set()).add(r.count)
    return (any(len(c) >= 2 for c in counts.values())
            and len(counts) < len(set().union(*counts.values())))


#: A report saying its "Bild N/M" are series/image pairs: "Bildangaben als (Bild Serie/Bildnummer)", "IMA Serie/Bild",
#: "Image references are series/image".
_DECLARED_SERIES_IMAGE = regex.compile(
    r"\b(?:(?:bild|ima|image|img)\.?|(?:image|bild)\w*[ \t]+(?:references?|numbers?|angaben|nummern)[ \t]+(?:are|sind|as|als)"
    r"(?:[ \t]+(?:given|written|angegeben)[ \t]+(?:as|als))?)[ \t]*\(?[ \t]*(?:serie|series|se)\.?[ \t]*/[ \t]*"
    r"(?:bild(?:nummer)?|image(?:\s+number)?|ima|img|im)\b", regex.IGNORECASE)


#: A report saying its bare slash pairs name the image first: "Note: references are given as image/series", "Bildangaben
#: als (Bild/Serie)", "Image references: image/series".
_DECLARED_IMAGE_SERIES = regex.compile(
    r"\b(?:references?|refs?|bildangaben|bildnummern|angaben|numbers?|zitiert|cited|given|written|as|als|format)\b"
    r"[^.\n]{0,20}?\(?[ \t]*(?:image|img|im|bild|bi)\.?[ \t]*/[ \t]*(?:series|serie|ser|se)\b", regex.IGNORECASE)
#: The rules that read a bare slash pair ("(45/4)"), series first unless the report declares otherwise.
_BARE_SLASH_RULES = frozenset({"slash_exam", "slash_echo", "slash_prose"})


def _image_first(rows: list[RawRef]) -> list[RawRef]:
    """`rows` with each bare slash pair of one image read image first: "(45/4)" is image 45 of series 4."""
    return [replace(r, series=r.image, image=r.series) if r.rule in _BARE_SLASH_RULES and r.image_end is None
            and r.series is not None and r.count is None else r for r in rows]


#: A report saying it cites its images as bare slash pairs: "Bildangaben im Folgenden als (Serie/Bild)", "image
#: references below are given as series/image", a table column "Se/Im".
_DECLARED_PAIRS = regex.compile(r"\b(?:series\s*/\s*image|serie\s*/\s*bild|se\.?\s*/\s*(?:im|bi)\.?)(?![^\W\d_])",
                                regex.IGNORECASE)


#: How many images a report says a series holds, and which: "(Serie 3, 402 Bilder)", "series 4: 312 images", "Serie 5, 1
#: mm, 680 Bilder", "402 images"
_IMAGE_TOTAL = regex.compile(
    r"(?:\b(?:series|serie|ser|se)\.?[ \t]*(?P<ser>\d{1,4})[ \t]*[,:(][ \t]*(?:\d+(?:[.,]\d+)?[ \t]*mm[ \t]*,[ \t]*)?)?"
    r"(?<![\d.,])(?P<n>\d{2,5})[ \t]*(?:bilder|images|slices|schichten|schnittbilder)\b", regex.IGNORECASE)


def image_totals(text: str) -> dict[int, int | None]:
    """The image counts a report states, each with the series it names for it (None where it names none, or two
    series hold that many)."""
    named: dict[int, set[int]] = {}
    for m in _IMAGE_TOTAL.finditer(text):
        named.setdefault(int(m.group("n")), set()).update([int(m.group("ser"))] if m.group("ser") else [])
    return {n: next(iter(sers)) if len(sers) == 1 else None for n, sers in named.items()}


#: Above this, a declared pair's first number is a reformat's series ("(601/11)"), neither a day nor a blood pressure.
_NO_PRESSURE = 300


def _no_date_part(n: int) -> bool:
    """Whether `n` can be neither a day or month nor a year."""
    return 31 < n < 1900 or n > 2100


def _bare_pair_series(echoes: list[list[RawRef]]) -> set[int | None]:
    """The series a report cites as bare slash pairs ("(4/77) ... (4/180)"): each first number with two or more second
    numbers, one of them no day of a month nor a year. Dates ("(3/12)", "(3/15)"), fractions and a lone pair give none."""
    seen: dict[int | None, set[int]] = {}
    for group in echoes:
        for r in group:
            seen.setdefault(r.series, set()).add(r.image)
    return {s for s, images in seen.items() if len(images) >= 2 and any(_no_date_part(i) for i in images)}


def _int(s: str | None) -> int | None:
    return int(s) if s else None


def _closing_end(text: str, m: regex.Match, close: regex.Pattern) -> int:
    """The match's end, past the ')' of a parenthesis it opened ("image 45 (series 3)", "(series 5, coronal)")."""
    end = m.end()
    if m.group(0).count("(") > m.group(0).count(")"):
        closed = close.match(text, end)
        if closed:
            return closed.end()
    return end


def _body_group(shape: str | None) -> str:
    """The group holding a rule's list of images: a shorthand or pairs rule's items carry their own series."""
    return {"shorthand": "sh", "pairs": "pairs"}.get(shape, "imgs")


def _rows(m: regex.Match, rule_id: str, shape: str, group: int, end: int, item: regex.Pattern) -> list[RawRef]:
    start = m.start()
    rows: list[RawRef] = []
    key = _body_group(shape)
    ser = _int(m.group("ser")) if key == "imgs" and "ser" in m.re.groupindex else None  # else each item names its own
    body_start = m.start(key)
    body = m.group(key)
    if shape == "between":  # "between images 45 and 52": one range
        a, b = int(m.group("a")), int(m.group("b"))
        if b <= a:
            return []
        return [RawRef(start, end, body_start, m.end(key), ser, a, b, None, rule_id, shape, group)]
    for it in item.finditer(body):
        s = _int(it.group("s"))
        if s is not None:
            ser = s
        if ser is None and shape == "shorthand":
            continue
        a = int(it.group("a"))
        b = _int(it.group("b"))
        cnt3 = it.group("cnt3") if shape != "pairs" else None
        if b is not None and b == ser and b < a and cnt3 and int(cnt3) > a:
            b, cnt3 = int(cnt3), None  # "Se 3/Bi 145 - 3/160": the range's end repeats the series
        elif ser is None and b is not None and b == a and it.group("cnt") and cnt3 and int(cnt3) > int(it.group("cnt")):
            # "images 3/120-3/162": no count runs from one image to another, so a series and its images
            rows.append(RawRef(start, end, body_start + it.start(), body_start + it.end(), a, int(it.group("cnt")),
                               int(cnt3), None, rule_id, shape, group))
            continue
        if b is not None and b <= a:
            b = None if b == a else b
            if b is not None and b < a:
                # "120-12" reads as 120-(1)12? keep the first image only.
                b = None
        cnt = _int(it.group("cnt") or it.group("cnt2") or cnt3 or it.group("cnt4")) if shape != "pairs" else None
        if rows and shape == "series_image" and a == ser and b is None and it.group("cnt"):
            a, cnt = int(it.group("cnt")), None  # "(Se 4/Im 58, 4/63)": a later item opening with the series is a pair
        if cnt is not None and cnt < a:
            if ser is None and b is None and it.group("cnt") and shape == "image_only":
                # "(img 602/44)": no image is above its count, so a series and its image
                rows.append(RawRef(start, end, body_start + it.start(), body_start + it.end(), a, cnt, None, None,
                                   rule_id, shape, group))
                continue
            cnt = None
        rows.append(RawRef(start, end, body_start + it.start(), body_start + it.end(), ser, a, b, cnt,
                           rule_id, shape, group))
    return rows


@functools.lru_cache(maxsize=4)
def matcher(path: str | None = None) -> Matcher:
    return Matcher(path)


def find_references(text: str) -> list[RawRef]:
    """Every image reference in `text`, one row per referenced image, in text order."""
    return matcher().find(text)


def series_mentions(text: str) -> list[tuple[int, int, int]]:
    """(start, end, series number) of every explicit series mention, with or without an image."""
    return [(m.start(), m.end(), int(m.group("ser"))) for m in SERIES_ONLY.finditer(text)]
