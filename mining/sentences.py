"""A rule sentence splitter tuned for radiology text (rules in `mining/rules/sentences.jsonl`).

Splits after . ! ? when the next word starts a sentence (upper case, digit, bullet, a lettered item "a) "; any word
in a text written all in lower case), except
after abbreviations ("approx.", "Se.", "z.B."), decimals (3.4) and list numbers ("1."); at
blank lines and at new lines that start a bullet or follow terminal punctuation; keeps
wrapped lines together ("series 3,\\nimage 45"). Semicolons are clause, not sentence, ends.
Returns (start, end) character spans with surrounding whitespace trimmed, covering every
non-blank character of the text.
"""
from __future__ import annotations

import functools

import regex

from mining import rules as rules_mod
from mining.language import detect_language
from mining.tables import RULE_LINE

_CAND = regex.compile(r"[.!?]+[\"'’”)\]]*(?=\s)|\n")
#: A template's dot leader between a field and its value ("Größe VU ........ 7 x 6 mm"): no sentence ends there.
_LEADER = regex.compile(r"(?<=\s)\.{3,}|\.{4,}")
#: A series named right before "Im <number>." ("Series 3, Im 45."): the number is an image, not a German ordinal.
_SERIES_BEFORE = regex.compile(r"\b(?:series|serien|serie|ser|se|sequence|seq)\.?(?:-?nr\.)?\s*\#?\s*\d{1,5}\s*[,;:/-]?\s*im\s*\d{1,5}$",
                               regex.IGNORECASE)
#: A comparison right before a word: "... R > L. Patchy opacities", "re. > li. Erguss".
_COMPARED = regex.compile(r"(?:[<>=≥≤]|\bthan|\bals)[ \t]*$", regex.IGNORECASE)
_WORD_BEFORE = regex.compile(r"([\w.\-/]*)\Z")
_LETTER_ITEM = regex.compile(r"[a-h]\)[ \t]")
#: Shorthand that opens a statement in lower case: "... no focal lesion. s/p CCY, surgical clips", "h/o TB", "f/u in 3 mo".
_LOWER_OPENER = regex.compile(r"(?:s/p|h/o|f/u)\b")
#: A sign after a finding, "(-)" or "(+)" ("Emph. (-)", "Ao-Skl. (+)"): it belongs to the sentence before it.
_SIGN_MARK = regex.compile(r"\([ \t]*[-–−+][ \t]*\)")
#: In a report typed a statement a line (`Splitter._unpunctuated_lines`): a mark with more text after it on its line,
#: and a line that goes on with the one before (indented, or opening with a bracket: a wrapped item)
_STOP = regex.compile(r"[.!?](?=[ \t])")
_GOES_ON = regex.compile(r"[ \t]{2,}\S|[ \t]*[(\[]")
#: A day and month without a year ("VU 10.09."), and a series, an image or a size right after it: "(aktuell Se 3/Bi 62, VU 10.09.
#: Se 3/Bi 58)", "am 06.05. 38 mm (Se 201 Bild 412)", "Restpneumothorax vom 07.05. (Se 3 Bild 95)" label the image with its
#: exam's date and go on.
_DAY_MONTH = regex.compile(r"(?:0?[1-9]|[12]\d|3[01])\.(?:0?[1-9]|1[0-2])")
_REF_NEXT = regex.compile(r"(?:[(\[][ \t]*)?(?:series|serie|ser|se|s|bild|bi|b|image|img|im|ima)\.?[ \t]*\d"
                          r"|\d{1,3}(?:[.,]\d+)?[ \t]*(?:mm|cm)\b", regex.IGNORECASE)
_PART_SEP = regex.compile(r"[/-]")  # "Bild-Nr.": the abbreviation is the part after the last "/" or "-"
#: Words a statement cannot end with: a line ending with one goes on on the next line, whatever that line's case
#: ("NO\nPLEURAL EFFUSION" in a hard-wrapped report in capitals), unless the word answers a field ("Effusion: no").
_CONT_WORDS = frozenset("""
and or of the with without in into on at to a an by for from than as nor no not is are was were there which between
within along und oder mit ohne der die das des dem den im am zum zur von bei kein keine keinen keiner keines keinem
ein eine einer einem einen eines ist sind war waren nach bis auf aus sowie
possibly probably presumably perhaps consistent compatible suggestive suspicious concerning representing measuring
including containing such both either neither mildly moderately severely markedly slightly very
vereinbar verdächtig möglicherweise vermutlich
""".split())


#: A German adjective inflected as before its noun, in lower case: "abdominelle", "angrenzender", "vollständige".
_INFLECTED = regex.compile(r"[a-zäöüß]{2,}(?:e|er|es|em)")
#: German words after which an adjective in "-en" is inflected, so its noun follows: "keine lagebedingten\nDystelektasen"
_DETERMINERS_DE = frozenset("""
kein keine keinen keiner keines keinem der die das des dem den ein eine einer einem einen eines beide beiden mehrere
mehreren einige einigen wenige wenigen zahlreiche zahlreichen vereinzelte vereinzelten multiple multiplen
""".split())


class Splitter:
    def __init__(self, path=None):
        rs = rules_mod.load("sentences", path)
        self.abbrevs = frozenset(p.lower().rstrip(".") for r in rs if r.kind == "abbreviation" for p in r.get("phrases"))
        # abbreviations that stand only before a number ("No. 45"): elsewhere their full stop may end a sentence
        self.number_abbrevs = frozenset(p.lower().rstrip(".") for r in rs if r.kind == "abbreviation" and r.get("before") == "number"
                                        for p in r.get("phrases"))
        # abbreviations that always stand before a word ("gg.", "deutl."): no sentence ends after them, not even at a
        # line's end (a hard-wrapped report: "rückläufig gg.\nRö-Vorbefund")
        self.word_abbrevs = frozenset(p.lower().rstrip(".") for r in rs
                                      if r.kind == "abbreviation" and r.get("before") == "word" for p in r.get("phrases"))
        self.split_rules = [r.compiled for r in rs if r.kind == "rule" and r.get("action", "split") == "split"]

    def split(self, text: str, german: bool = False) -> list[tuple[int, int]]:
        """Sentence spans of `text`; `german`: the text is German, where a line ending with an inflected adjective goes on
        at the capitalised noun it qualifies (`_newline_splits`)."""
        n = len(text)
        cuts: list[int] = []
        all_lower = text.islower()  # dictation typed without capitals: a lower-case word may start a sentence
        by_line = text.count("\n") >= 3 and self._unpunctuated_lines(text)
        for m in _CAND.finditer(text):
            e = m.end()
            if m.group(0) == "\n":
                if (by_line and not _GOES_ON.match(text, m.end())) or self._newline_splits(text, m.start(), german):
                    cuts.append(e)
                continue
            # sentence punctuation: look at the word before and the text after
            j = e
            while j < n and text[j] in " \t\r\n":
                j += 1
            if j >= n:
                cuts.append(e)
                continue
            nxt = text[j]
            if m.group(0).startswith("...") and "\n" not in text[e:j] and _LEADER.match(text, m.start()):
                continue
            if m.group(0)[0] == ".":
                wb, stem = self._abbrev_before(text, m.start())
                holds = stem in self.abbrevs and (stem not in self.number_abbrevs or nxt.isdigit() or nxt == "#")
                if holds and _COMPARED.search(text, max(0, m.start() - len(wb) - 12), m.start() - len(wb)):
                    holds = False  # "R > L." ends what it compares: it is no "L." for "left" before a word
                if not holds and len(stem) <= 3 and m.start() > len(wb) and text[m.start() - len(wb) - 1] in "([":
                    holds = True  # a short word opening a parenthesis ends no sentence: "(s. Serie 3, Bild 62)"
                if holds and (stem in self.word_abbrevs
                              or not ("\n" in text[e:j] and self._newline_splits(text, text.index("\n", e), german))):
                    continue
                if wb.isdigit() and len(wb) <= 2:
                    # "1." list number at line start: never a sentence end after it
                    ls = text.rfind("\n", 0, m.start()) + 1
                    if text[ls:m.start()].strip() == wb:
                        continue
                    prev = text[max(0, m.start() - 8):m.start() - len(wb)].lower().split()[-1:] or [""]
                    prev = prev[0]
                    if prev in ("im", "am", "zum", "vom", "der", "die", "das", "des", "dem", "den", "seit", "ab") and not (
                            prev == "im" and _SERIES_BEFORE.search(text, max(0, m.start() - 40), m.start())):
                        continue  # a German ordinal ("im 3. Segment"), not an image after its series ("Se 3 Im 45.")
                if len(wb) == 1 and wb.isalpha() and nxt.islower():
                    continue
                if _DAY_MONTH.fullmatch(wb) and _REF_NEXT.match(text, j):
                    continue
            if nxt == "(" and _SIGN_MARK.match(text, j):
                continue
            if (nxt.isupper() or nxt.isdigit() or nxt in "-•*([\"'" or "\n" in text[e:j] or (all_lower and nxt.isalpha())
                    or _LETTER_ITEM.match(text, j)  # "... consolidation. a) Bronchiectasis": a lettered item
                    or _LOWER_OPENER.match(text, j)):
                cuts.append(e)
        # trim into spans
        spans: list[tuple[int, int]] = []
        prev = 0
        for c in cuts + [n]:
            if c <= prev:
                continue
            s, e = prev, c
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e > s:
                spans.append((s, e))
            prev = c
        return spans

    def _unpunctuated_lines(self, text: str) -> bool:
        """Is `text` typed a statement a line without punctuation ("no effusion no pneumothorax\nmild emphysema ...")?
        Four lines or more, none holding a full stop that ends a sentence (an abbreviation's may: "Dr. med.", "Z.n.",
        "v.a."), at most one in five a question or exclamation ("lae? infiltrat?"): then every line ends a sentence."""
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        asked = len(lines) // 5
        if len(lines) < 4:
            return False
        for line in lines:
            marks = [m.start() for m in _STOP.finditer(line)] + ([len(line) - 1] if line[-1] in ".!?" else [])
            for i in marks:
                if line[i] != ".":
                    asked -= 1
                    if asked < 0:
                        return False
                    break
                if not self._abbrev_stop(line, i):
                    return False
        return True

    def _abbrev_stop(self, line: str, i: int) -> bool:
        """May the mark at line[i] be an abbreviation's full stop ("Dr.", "z.n.", "J.", "bzw.", "gez.", "Prim.")? Any word of
        five letters or fewer may be one here: a text that ends its sentences with full stops ends some after longer words."""
        if line[i] != ".":
            return False
        wb, stem = self._abbrev_before(line, i)
        return stem in self.abbrevs or len(stem) <= 5 or "." in stem or stem.isdigit()

    def _abbrev_before(self, text: str, dot: int) -> tuple[str, str]:
        """The word before the full stop at `dot` (lower case) and the abbreviation it may be: the word, or in
        "Bild-Nr." the part after the last "/" or "-"."""
        wb = _WORD_BEFORE.search(text, max(0, dot - 12), dot).group(1).lower()
        stem = wb.rstrip(".")
        return wb, stem if stem in self.abbrevs else _PART_SEP.split(wb)[-1].rstrip(".")

    def _newline_splits(self, text: str, i: int, german: bool = False) -> bool:
        """Does the line break at text[i] end a sentence?"""
        n = len(text)
        j = i + 1
        while j < n and text[j] in " \t\r":
            j += 1
        if j >= n or text[j] == "\n":
            return True  # blank line or end
        k = i - 1
        while k >= 0 and text[k] in " \t\r":
            k -= 1
        if k < 0:
            return True
        eol = text.find("\n", j)
        if "|" in text[text.rfind("\n", 0, i) + 1:i] and "|" in text[j:n if eol < 0 else eol]:
            return True  # a pipe table's row is a sentence of its own: "| narbiger Strang |\n| nicht mehr abgrenzbar |"
        last = text[k]
        if last == "." and self.word_abbrevs and self._abbrev_before(text, k)[1] in self.word_abbrevs:
            return False
        if last in ".!?:":
            return True
        if last in "-=|" and RULE_LINE.fullmatch(text, text.rfind("\n", 0, i) + 1, k + 1):
            return True  # a table's rule line ("---+-----", "|---|---|") is no word broken at its hyphen
        if last in ",;(/&+-":
            return False
        nxt = text[j]
        if nxt in "-•*▪–" or (nxt.isdigit() and regex.match(r"\d{1,2}[.)]\s", text[j:j + 4])):
            return True
        if nxt.islower() or nxt in "(,;)":
            return False
        # a line without terminal punctuation followed by a capitalised line: a new line of its own
        # unless the line ends with a word that cannot end a sentence, or inside a parenthesis it opened (a hard-wrapped
        # German report: "(im Vorbefund\nBildnummer 231)")
        ls = text.rfind("\n", 0, i) + 1
        if text.count("(", ls, k + 1) > text.count(")", ls, k + 1):
            return False
        words = text[ls:k + 1].rsplit(None, 1)
        if german and words and nxt.isupper() and _INFLECTED.fullmatch(words[-1].lower()) and (
                words[-1][0].islower() or len(words) == 1 or words[0].endswith((".", "!", "?", ":"))):
            # "Keine abdominelle\nLymphadenopathie", "... abgrenzbar. Vollständige\nRückbildung": a predicate adjective
            # is not inflected in German (capitalised only where it opens the sentence)
            return False
        if (german and nxt.isupper() and len(words) == 2 and words[1][0].islower() and words[1].endswith("en")
                and words[0].rsplit(None, 1)[-1].lower() in _DETERMINERS_DE):
            return False  # "keine lagebedingten\nDystelektasen": an "-en" adjective after its article or "keine"
        last_word = words[-1].lower() if words else ""
        return last_word not in _CONT_WORDS or (len(words) == 2 and words[0].endswith(":"))


@functools.lru_cache(maxsize=4)
def splitter(path: str | None = None) -> Splitter:
    return Splitter(path)


def split_sentences(text: str, german: bool | None = None) -> list[tuple[int, int]]:
    """Sentence spans of `text`; `german` None: as `mining.language.detect_language` says."""
    if german is None:
        german = detect_language(text) == "de"
    return splitter().split(text, german)
