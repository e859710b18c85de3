"""Slips in the words finding and ConText rules read, read through mended views of the report.

A report typed and never proofread writes "pleural efusion", "atelectais", "Lymphadenopahtie", "wihtout": one letter
dropped, added, doubled, replaced or two swapped; a dictation writes "Rück läufig", "Hertz".
`mining/rules/slips.jsonl` lists the words (with their inflections) and the real words one slip from them that are no
slips ("module"). `SlipMender.mends(text)` finds each word of the text that is no listed or known word itself, nor an
inflection of one, and one slip (optimal string alignment distance 1) from the listed words of exactly one record, the
end of a long German compound that is such a slip, two words that make one listed word, and the homophones records
list as such. Negation, hedge and prior words with two letters swapped are mended in the text itself
(`mend_in_place`); the ConText triggers are read over the text with every other slip mended too
(`triggers_through_slips`); `read_through_slips` scans the finding rules again around the slips and adds the mentions
only the mended words give, with offsets into the text as written (its evidence is the slip itself, "pleural
efusion"). The report and its snippets never change.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from rapidfuzz.distance import OSA

from mining import rules as rules_mod
from mining.context import Trigger
from mining.findings import FindingRules, Mention
from mining.text_clean import as_written

#: The shortest listed word: shorter ones have too many real words one slip away ("nodes", "notes"); four letters for
#: the words of `trigger` records, where only two letters swapped count in words shorter than six ("nciht", "Kien";
#: not "dicht").
MIN_WORD = 6
MIN_TRIGGER = 4
#: The shortest listed word a German compound's end is mended to: shorter ones end common words ("-artig", "narbig").
MIN_COMPOUND = 8
#: Words of the text looked at: three letters or more (a split word's part, "frag lich"; "kien"; "hital").
_TEXT_WORD = re.compile(r"[a-zäöüß]{3,}")  # (in lower-cased text; faster than any letter, [^\W\d_])
_ONE_WORD = re.compile(r"[^\W\d_]+")
#: The ASCII spellings of German words (as `rules.german_spellings` reads them): listed words are known in these and in
#: the Swiss spelling ("vergrössert").
_ASCII = str.maketrans({"ß": "ss", "ä": "ae", "ö": "oe", "ü": "ue"})


@dataclass(frozen=True, slots=True)
class Mend:
    start: int
    end: int
    word: str  # the listed word, in the case the slip was written in
    record: str  # the id of its record in slips.jsonl
    in_place: bool = False  # two letters swapped in a word of a `trigger` record: mended in the text itself


def _deletes(w: str) -> list[str]:
    return [w[:i] + w[i + 1:] for i in range(len(w))]


#: Endings by which inflections of one word differ ("verkalkte", "verkalktes"; "effusion", "effusions").
_ENDINGS = frozenset({"", "e", "en", "em", "er", "es", "n", "m", "r", "s"})


def _swapped(w: str, listed: str) -> bool:
    """Whether `w` is `listed` with two neighbouring letters swapped."""
    diff = [i for i in range(len(w)) if w[i] != listed[i]] if len(w) == len(listed) else []
    return len(diff) == 2 and diff[1] == diff[0] + 1 and w[diff[0]] == listed[diff[1]] and w[diff[1]] == listed[diff[0]]


def _inflection(w: str, listed: str) -> bool:
    """Whether `w` is `listed` with another inflection's ending: no slip, and the finding rules read inflections
    themselves. Not a last letter doubled or a double one dropped ("fibrosiss", "pleuraergus" for "pleuraerguss")."""
    n = 0
    while n < len(w) and n < len(listed) and w[n] == listed[n]:
        n += 1
    a, b = w[n:], listed[n:]
    if a not in _ENDINGS or b not in _ENDINGS:
        return False
    return not (len(a + b) == 1 and n and w[n - 1] == a + b)


class SlipMender:
    def __init__(self, path=None):
        rs = rules_mod.load("slips", path)
        self.record_of: dict[str, str] = {}  # listed word (and its Swiss and ASCII spellings) -> record id
        own: dict[str, set[str]] = {}
        not_slips: set[str] = set()
        self.triggers = frozenset(r.id for r in rs if r.get("trigger"))  # records of the words ConText triggers read
        # records `exact`: only their own slips, each mended as listed (a dictation's homophones: "Hertz", "know")
        exact = {r.id for r in rs if r.get("exact")}
        self._exact = {s.lower(): (r.get("phrases")[0].lower(), r.id)
                       for r in rs if r.id in exact for s in r.get("slips")}
        self.german = frozenset(r.id for r in rs if r.get("lang") == "de" and not r.get("trigger"))  # (compounds)
        for r in rs:
            where = f"slips: rule {r.id!r}"
            shortest = 2 if r.get("exact") else MIN_TRIGGER if r.id in self.triggers else MIN_WORD
            for w in r.get("phrases"):
                w = w.lower()
                if not _ONE_WORD.fullmatch(w) or len(w) < shortest:
                    raise rules_mod.RuleError(f"{where}: {w!r} is not one word of {shortest} letters or more")
                for spelled in {w, w.replace("ß", "ss"), w.translate(_ASCII)}:  # German, Swiss, ASCII
                    other = self.record_of.setdefault(spelled, r.id)
                    if other != r.id:
                        raise rules_mod.RuleError(f"{where}: {spelled!r} is listed by {other!r} too")
                    own.setdefault(r.id, set()).add(spelled)
            for w in r.get("not_slips", []):
                not_slips.update((w.lower(), w.lower().translate(_ASCII)))
        self.known = frozenset(self.record_of) | frozenset(not_slips)
        self._targets = frozenset(w for w, rid in self.record_of.items() if rid not in exact)  # what slips are read as
        self._dropped: dict[str, set[str]] = {}  # each listed word with one letter dropped -> the listed words
        for w in self._targets:
            for d in _deletes(w):
                self._dropped.setdefault(d, set()).add(w)
        # a listed word a dictation wrote as two ("frag lich", "Bronchialwand Verdickungen"): its parts of three letters
        # or more, not both listed words themselves (the rules read those) nor one of a record's `not_split`
        not_split = {tuple(p.lower().split()) for r in rs for p in r.get("not_split", [])}
        self._joined: dict[tuple[str, str], str] = {}
        self._after: dict[str, set[str]] = {}
        for w in self._targets:
            for i in range(3, len(w) - 2):
                a, b = w[:i], w[i:]
                if (a, b) not in not_split and not (a in self.record_of and b in self.record_of):
                    self._joined.setdefault((a, b), w)
                    self._after.setdefault(a, set()).add(b)
        self._firsts = frozenset(self._after)
        self._memo: dict[str, tuple[str, str] | None] = {}  # words looked at: their mended word and its record, or None
        self._clean: set[str] = set()  # the words looked at that are no slips
        for r in rs:  # each record mends its slips to its own words, and its not_slips would have been mended
            where = f"slips: rule {r.id!r}"
            for s in r.get("slips"):
                got = self.mend_word(s.lower())
                if got not in own[r.id]:
                    why = (" (trigger: no letter replaced, and only two swapped under six)"
                           if r.id in self.triggers else "")
                    raise rules_mod.RuleError(f"{where}: slip {s!r} is read as {got!r}, not as one of its words{why}")
            for p in r.get("not_split", []):
                if len(p.split()) != 2 or "".join(p.lower().split()) not in own[r.id]:
                    raise rules_mod.RuleError(f"{where}: not_split {p!r} is not one of its words in two")
            for s in r.get("not_slips", []):
                spelled = (s.lower(), s.lower().translate(_ASCII))
                if set(spelled) & set(self.record_of) or not any(
                        OSA.distance(x, w) == 1 for x in spelled for w in own[r.id]):
                    raise rules_mod.RuleError(f"{where}: not_slip {s!r} is listed, or no slip from its words")

    def mend_word(self, w: str) -> str | None:
        """The listed word that lower-case `w` is a slip of; None for a listed or known word, a word no slip from a
        listed one, or one slip from the words of two records. A long German word may end in the slip of a German
        finding word ("milchglasknötchne": "milchglasknötchen")."""
        got = self._memo.get(w, 0)
        if got == 0:
            got = self._exact.get(w) or (None if w in self.known else self._one_slip(w))
            if got is None and len(w) >= 10 and w not in self.known:
                for i in range(3, len(w) - MIN_WORD + 1):  # the longest end first
                    tail = w[i:]
                    if tail in self.known:  # it ends in a listed word as written: no slip
                        break
                    end = self._one_slip(tail)
                    if (end is not None and len(end[0]) >= MIN_COMPOUND and end[0][:2] == tail[:2]
                            and self.record_of[end[0]] in self.german):  # (not the word before it's last letter taken
                        # for a slip: "randverkalkungen" is no "verkalkungen", "mittellappennodulus" no slip)
                        got = (w[:i] + end[0], end[1])
                        break
            if len(self._memo) > 100_000:
                self._memo.clear()
                self._clean.clear()
            self._memo[w] = got
            if got is None:
                self._clean.add(w)
        return None if got is None else got[0]

    def _one_slip(self, w: str) -> tuple[str, str] | None:
        """(listed word, its record) that `w`, no known word, is one slip of, as `mend_word` reads it."""
        cands = set(self._dropped.get(w, ()))  # a letter dropped
        for d in _deletes(w):
            if d in self._targets:  # a letter added or doubled
                cands.add(d)
            cands.update(self._dropped.get(d, ()))  # one replaced or two swapped (or two apart: checked)
        cands = [c for c in cands if OSA.distance(w, c) == 1]
        if not cands or len({self.record_of[c] for c in cands}) != 1 or any(_inflection(w, c) for c in cands):
            return None
        # of two words, one a letter replaced, the other (a letter swapped: "septne" is "septen", not "septae"); of two
        # more, the longer (a letter dropped: "exclued" is "excluded", not "exclude")
        got = max(sorted(cands), key=lambda c: (len(c) != len(w) or _swapped(w, c), len(c)))
        if self.record_of[got] in self.triggers and not _swapped(w, got) and (
                len(w) == len(got) or len(got) < MIN_WORD):  # a letter replaced makes real words too often
            return None
        return got, self.record_of[got]

    def mends(self, text: str) -> list[Mend]:
        """The slips of `text` in text order, and the listed words a dictation split in two ("Rück läufig")."""
        low = text.lower()
        words = set(_TEXT_WORD.findall(low))
        new = words.difference(self._clean)
        slipped = {w for w in new if self.mend_word(w) is not None} if new else ()
        pairs = [(a, b) for a in words & self._firsts for b in self._after[a] & words]
        if not (slipped or pairs) or len(low) != len(text):  # (lower() changed a letter's length: offsets would move)
            return []
        out = []
        if slipped:
            for m in _TEXT_WORD.finditer(low):
                if m.group(0) in slipped:
                    word, record = self._memo[m.group(0)]
                    out.append(Mend(m.start(), m.end(), as_written(word, text[m.start():m.end()]), record,
                                    record in self.triggers and _swapped(m.group(0), word)))
        for a, b in pairs:
            for m in _two_words(a, b).finditer(low):
                word = self._joined[(a, b)]
                out = [x for x in out if not (x.start < m.end() and m.start() < x.end)]
                out.append(Mend(m.start(), m.end(), as_written(word, text[m.start():m.end()]), self.record_of[word]))
        return sorted(out, key=lambda x: x.start)


@functools.lru_cache(maxsize=1024)
def _two_words(a: str, b: str) -> re.Pattern:
    return re.compile(rf"\b{re.escape(a)}[ \t]+{re.escape(b)}\b")


@functools.lru_cache(maxsize=4)
def slip_mender(path: str | None = None) -> SlipMender:
    return SlipMender(path)


def mended_text(text: str, mends: list[Mend]) -> str:
    parts, last = [], 0
    for mn in mends:
        parts += [text[last:mn.start], mn.word]
        last = mn.end
    parts.append(text[last:])
    return "".join(parts)


def mend_in_place(text: str, mends: list[Mend]) -> tuple[str, list[Mend]]:
    """`text` with its words of two letters swapped mended where they stand (the same length: every offset holds), and
    the other mends, for `read_through_slips`."""
    if not any(mn.in_place for mn in mends):
        return text, mends
    chars = list(text)
    for mn in mends:
        if mn.in_place:
            chars[mn.start:mn.end] = mn.word
    return "".join(chars), [mn for mn in mends if not mn.in_place]


def to_mended(mends: list[Mend], pos: int) -> int:
    """Where offset `pos` of the text, outside the slips, stands in `mended_text(text, mends)`."""
    return pos + sum(len(mn.word) - (mn.end - mn.start) for mn in mends if mn.end <= pos)


def to_text(mends: list[Mend], pos: int, end: bool = False) -> int:
    """Where offset `pos` of `mended_text(text, mends)` stands in `text`: a start inside a mended word at the slip's
    start, an end inside it at the slip's end."""
    shift = 0  # how much longer the mended words before `pos` are than their slips
    for mn in mends:
        a = mn.start + shift  # the mended word's place in the mended text
        b = a + len(mn.word)
        if pos < a or (end and pos == a):
            break
        if pos < b or (end and pos == b):
            return mn.end if end else mn.start
        shift += len(mn.word) - (mn.end - mn.start)
    return pos - shift


def triggers_through_slips(scan: Callable[[str, list[tuple[int, int]]], list[Trigger]], text: str,
                           sentences: list[tuple[int, int]], mends: list[Mend]) -> list[Trigger]:
    """`scan(text, sentences)` (`ContextRules.scan`) read over the text with its slips mended ("cannot be exclued",
    "atelctasis/scarring"), each trigger's offsets back in `text`."""
    if not mends:
        return scan(text, sentences)
    found = scan(mended_text(text, mends), [(to_mended(mends, a), to_mended(mends, b)) for a, b in sentences])
    return [replace(t, start=to_text(mends, t.start), end=to_text(mends, t.end, end=True)) for t in found]


#: How far around a mended word the finding rules read the mended text again (from the start of its line and to the
#: end of its line, at least): more than any finding rule spans or looks around.
_AROUND = 250


def read_through_slips(text: str, mentions: list[Mention], rules: FindingRules,
                       mends: list[Mend] | None = None) -> list[Mention]:
    """`mentions` (`rules.find(text)`) and, in text order with them, those the finding rules read only with the text's
    slips mended (`mends`: those of `slip_mender().mends(text)` unless given): offsets into `text`, `slip` naming the
    record of the mended word. The same list when there is no slip."""
    mends = slip_mender().mends(text) if mends is None else mends
    if not mends:
        return mentions
    mended = mended_text(text, mends)
    windows: list[list[int]] = []  # where in `mended` to read again: the lines around each mended word
    for mn in mends:
        at = to_mended(mends, mn.start)
        a = mended.rfind("\n", 0, max(0, at - _AROUND)) + 1
        b = mended.find("\n", min(len(mended), at + len(mn.word) + _AROUND))
        b = len(mended) if b < 0 else b
        if windows and a <= windows[-1][1]:
            windows[-1][1] = b
        else:
            windows.append([a, b])
    added = []
    for a, b in windows:
        for mn in rules.find(mended[a:b]):
            s, e = to_text(mends, mn.start + a), to_text(mends, mn.end + a, end=True)
            through = [x for x in mends if x.start < e and s < x.end]
            if not through or any(o.label == mn.label and o.start < e and s < o.end for o in mentions):
                continue  # read as written, or a finding the text as written already names there
            mn.start, mn.end, mn.slip = s, e, through[0].record
            added.append(mn)
    return sorted(mentions + added, key=lambda m: m.start) if added else mentions
