"""CT-RATE finding labels from the rules in `mining/rules/findings.jsonl` plus ConText modifiers.

`FindingRules.find(text)` scans once (one alternation of all finding rules, English and
German alike, overlapping so that "nodular opacity" is both a nodule and an opacity) and
returns `Mention`s. Every report is scanned with both languages' rules, as the ConText
triggers are: German reports keep English terms ("Mosaic attenuation", an English impression),
and the detected language is a majority vote over the whole report. `label_mentions(...)`
gives each mention its value: the rule's own value for normal statements ("heart size is
normal" -> absent), else absent when a negation trigger scopes over it, uncertain when an
uncertainty trigger does, else present.
`aggregate(...)` turns mentions into one value per label: present > uncertain > absent >
not_mentioned; the evidence is the first mention with the winning value.
"""
from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass

import regex

from data_contracts.labels import CT_RATE_LABELS
from mining import rules as rules_mod
from mining.context import Trigger, modifier_for
from mining.prefilter import lower_agrees, nested_alternatives, required_stems, stems_pattern, touches

#: Clause punctuation: a rule is scanned only in the chunks of the text between the delimiters it cannot see (most
#: rules: all of them) that hold one of its stems.
DELIMITERS = ".,;:()[]!?"
_DELIM = re.compile("[" + re.escape(DELIMITERS) + "]")
#: A rule's branch this long is scanned by its own branches where each has stems ("\\b(?:...)" holding thirty ways to
#: write a calcified wall, searched at ~1 us a character wherever one of its stems occurs); a shorter one is scanned
#: whole, since each part scanned costs its own jobs (splitting every branch so cost more than it saved)
SPLIT_FROM = 1000

RANK = {"present": 3, "uncertain": 2, "absent": 1, "not_mentioned": 0}


@dataclass(slots=True)
class Mention:
    start: int
    end: int
    label: str
    rule: str
    value: str = "present"
    modifier: str | None = None  # trigger rule id that decided the value
    slip: str | None = None  # read through a mended typing slip: its word's record in slips.jsonl (`mining.slips`)


class FindingRules:
    def __init__(self, path=None):
        rs = rules_mod.load("findings", path)
        labels = set(CT_RATE_LABELS)
        for r in rs:
            for label in [r.get("label"), *(r.get("also") or [])]:
                if label not in labels:
                    raise rules_mod.RuleError(f"findings: rule {r.id!r}: label {label!r} is not a CT-RATE label")
        self.rules = rs
        pat = "|".join(f"(?P<f{i}>{r.pattern})" for i, r in enumerate(rs))
        self.alternation = regex.compile(pat, regex.IGNORECASE | regex.VERBOSE)
        self.scan_plan = _ScanPlan(rs)
        missing = labels - {r.get("label") for r in rs}
        if missing:
            raise rules_mod.RuleError(f"findings: no rule for label(s) {sorted(missing)}")

    def find(self, text: str) -> list[Mention]:
        """Finding mentions: the matches of `find_full`, found by scanning each rule only in
        the chunks of the text that hold one of its stems (see `mining.prefilter`)."""
        return _mentions(self.rules, sorted(self.scan_plan.matches(text).values()), text)

    def find_full(self, text: str) -> list[Mention]:
        """The reference scan: the whole alternation tried at every position (slow)."""
        hits = []
        for m in self.alternation.finditer(text, overlapped=True, timeout=5.0):
            hits.append((m.start(), int(m.lastgroup[1:]), m.end()))
        return _mentions(self.rules, hits, text)


class _ScanPlan:
    """How to find the first-listed rule matching at each position without trying every rule
    at every position: one overlapped scan for the rules' stems, then each rule whose stem
    occurs only in the delimiter-free chunks holding it (or the whole text, for a rule that
    can see delimiters or has no stem). A rule whose branches each have stems of their own is
    scanned branch by branch (`prefilter.alternatives`): a chunk holding "stent" is searched
    for the branch naming stents, not for the sixty other devices of its rule."""

    def __init__(self, sel):
        flags = regex.IGNORECASE | regex.VERBOSE
        self.rules = sel
        self.compiled = [regex.compile(r.pattern, flags) for r in sel]
        # the parts scanned: each rule's branches where every branch has stems (of three letters or more, below), else
        # the rule whole; `part_rule` maps each to its rule, in rule order, then branch order
        self.parts, self.part_rule, stems = [], [], []
        for i, r in enumerate(sel):
            if r.get("scan") == "whole":  # (a short form whose stem, 'nod', common words hold: see `findings.jsonl`)
                self.parts.append(regex.compile(r.pattern, flags))
                self.part_rule.append(i)
                stems.append(None)
                continue
            branches = nested_alternatives(r.pattern, flags, lambda b: _stemmed(required_stems(b, flags)), SPLIT_FROM)
            got = [required_stems(b, flags) for b in branches]
            self.parts += [regex.compile(b, flags) for b in branches]
            self.part_rule += [i] * len(branches)
            stems += got
        # each part's case-sensitive twin for the lower-cased text (`rules.lowercase_twin`: faster), or the part itself
        self.twins, self.twin_of = rules_mod.lowercase_twins(self.parts)
        # a part whose stems include one of two letters ("lk") is scanned over the whole text: such a stem is in nearly
        # every chunk
        stems = [None if st is None or any(len(x) < 3 for x in st) else frozenset(x.lower() for x in st) for st in stems]
        # the delimiters each part cannot see, at which its scan is cut: all of them for most, fewer for one that can
        # match across a comma or a full stop ("Verkalkungen der Aorta, Aa. iliacae": a chunk between colons, brackets
        # and the like), none for one that can match across all (the whole text)
        self.cuts = [DELIMITERS if not touches(rx.pattern, DELIMITERS, flags)
                     else "".join(d for d in DELIMITERS if not touches(rx.pattern, d, flags)) for rx in self.parts]
        self.always = [k for k, st in enumerate(stems) if st is None]
        self.by_stem: dict[str, list[int]] = {}
        for k, st in enumerate(stems):
            for x in st or ():
                self.by_stem.setdefault(x, []).append(k)
        self.filtered = [k for k, st in enumerate(stems) if st is not None]
        # a scan of the stems finds the longest at each start ("erguss"); the parts of the stems it begins with ("erg",
        # a short form's) are tried there too. Each part is tried only where its own stems are: "erguss" no longer
        # stands for "erg", which is in every "Ergebnis" and "Vergleich" (~100 parts a German report tried for it)
        # the same stems scanned for by Python's `re` on lower-cased text (much faster than `regex` here)
        self.stem_scan = rules_mod.LiteralScan(self.by_stem)
        self.at_stem = {x: sorted({k for y in self.stem_scan.prefixes[x] for k in self.by_stem[y]}) for x in self.by_stem}
        self.stem_rx = regex.compile(stems_pattern(self.by_stem), regex.IGNORECASE) if self.by_stem else None
        for i, r in enumerate(sel):  # every example's match must hold a stem of the part that matches it
            for ex in r.examples:
                m = self.compiled[i].search(ex)
                if m is None:
                    continue
                k = next(k for k, ri in enumerate(self.part_rule) if ri == i and self.parts[k].match(ex, m.start()))
                if stems[k] is not None and not any(x in m.group(0).lower() for x in stems[k]):
                    raise rules_mod.RuleError(f"findings: rule {r.id!r}: prefilter stems {sorted(stems[k])} miss {ex!r}")

    def stem_hits(self, text: str, low: str | None = None) -> list[tuple[int, str]]:
        """(offset, stem) of every offset where a stem starts, with the longest starting there (those it begins with start
        there too: `at_stem`), overlapping ones included, in text order; `low`: the lower-cased text, if known."""
        low = text.lower() if low is None else low
        if lower_agrees(text, low):  # lower() agrees with the rules' matching here
            return self.stem_scan.hits(low)
        out = []
        search = self.stem_rx.search  # texts whose lower case may disagree: the slower scan
        m = search(text)
        while m is not None:  # the longest stem at each offset (the alternation, longest first)
            s = m.start()
            out.append((s, m.group(0).lower()))
            m = search(text, s + 1)
        return out

    def matches(self, text: str) -> dict[int, tuple[int, int, int]]:
        """{start: (start, rule index, end)}: per position the first-listed rule that matches there (the first-listed part
        that does: a rule's first branch matching there)."""
        n = len(text)
        low = text.lower()
        agree = lower_agrees(text, low)
        jobs: set[tuple[int, int, int]] = {(i, 0, n) for i in self.always}
        if self.stem_rx is not None:
            hits = self.stem_hits(text, low)
            if hits:
                delims = [m.start() for m in _DELIM.finditer(text)]
                nd = len(delims)
                at_stem, cuts, filtered = self.at_stem, self.cuts, self.filtered
                for h, stem in hits:
                    k = bisect.bisect_left(delims, h)
                    chunk = {DELIMITERS: (delims[k - 1] + 1 if k else 0, delims[k] if k < nd else n), "": (0, n)}
                    for i in at_stem.get(stem, filtered):
                        c = cuts[i]
                        ab = chunk.get(c)
                        if ab is None:  # walk out to the nearest delimiters of this part's set
                            lo, hi = k - 1, k
                            while lo >= 0 and text[delims[lo]] not in c:
                                lo -= 1
                            while hi < nd and text[delims[hi]] not in c:
                                hi += 1
                            ab = chunk[c] = (delims[lo] + 1 if lo >= 0 else 0, delims[hi] if hi < nd else n)
                        jobs.add((i, *ab))
        found: dict[int, tuple[int, int, int]] = {}  # start -> (start, part, end): the first-listed part there
        parts, twins, twin_of = self.parts, self.twins, self.twin_of
        for i, a, b in jobs:
            rx, hay = (twins[i], low) if agree and twin_of[i] else (parts[i], text)
            # overlapped: the next try starts one past the last match's start; long spans guarded against runaway
            # backtracking, as the full scan is
            for m in (rx.finditer(hay, a, b, overlapped=True, timeout=5.0) if b - a > 4000
                      else rx.finditer(hay, a, b, overlapped=True)):
                s = m.start()
                cur = found.get(s)
                if cur is None or i < cur[1]:
                    found[s] = (s, i, m.end())
        part_rule = self.part_rule
        return {s: (s, part_rule[k], e) for s, (_, k, e) in found.items()}


def _stemmed(stems) -> bool:
    """Whether a branch has stems to scan it by: each of three letters or more."""
    return stems is not None and all(len(x) >= 3 for x in stems)


def _mentions(sel, hits, text) -> list[Mention]:
    out: list[Mention] = []
    last_end: dict[str, int] = {}
    for s, i, e in hits:
        r = sel[i]
        if e <= s:
            continue
        # a rule names its label, and `also` the others its words name ("ground-glass nodule": a nodule and an opacity)
        for label in (r.get("label"), *(r.get("also") or ())):
            if last_end.get(label, -1) > s:  # same label overlapping: keep the first
                continue
            last_end[label] = e
            mention = Mention(s, e, label, r.id)
            value = r.get("value")
            if value == "absent":  # fixed: a normal finding's own words ("nodes are not enlarged") say it
                mention.value = "absent"
                mention.modifier = r.id
            elif value == "uncertain":  # the default a trigger may still change ("no borderline nodes")
                mention.value = "uncertain"
            out.append(mention)
    return out


@functools.lru_cache(maxsize=4)
def finding_rules(path: str | None = None) -> FindingRules:
    return FindingRules(path)


#: A mention's value under each modifier category; a hypothetical mention ("to assess for effusion") names no finding.
MODIFIED_VALUE = {"negated": "absent", "uncertain": "uncertain", "hypothetical": "not_mentioned", "alternative": "uncertain"}


def label_mentions(mentions: list[Mention], triggers: list[Trigger], trigger_starts: list[int],
                   sentences: list[tuple[int, int]], sent_starts: list[int], text: str = "") -> None:
    """Set each mention's value from the ConText triggers of its sentence (in place)."""
    for mn in mentions:
        if mn.modifier is not None:
            continue
        k = bisect.bisect_right(sent_starts, mn.start) - 1
        if k < 0:
            s0, s1 = 0, mn.end
        else:
            s0, s1 = sentences[k]
            s1 = max(s1, mn.end)
        t = modifier_for(triggers, trigger_starts, s0, s1, mn.start, mn.end, text)
        if t is not None:
            mn.value = MODIFIED_VALUE[t.category]
            mn.modifier = t.rule


def mosaic_as_named(text: str, mentions: list[Mention]) -> None:
    """Air trapping stands for a mosaic attenuation pattern only where the report does not speak of the pattern itself
    (in place): "No mosaic attenuation. Air trapping on expiratory images ..." states the pattern absent."""
    mosaic = [mn for mn in mentions if mn.label == MOSAIC and mn.value != "not_mentioned"]
    if not any("mosai" in text[mn.start:mn.end].lower() for mn in mosaic):
        return
    for mn in mosaic:
        if "trapping" in text[mn.start:mn.end].lower():
            mn.value, mn.modifier = "not_mentioned", "mosaic_named"


MOSAIC = "Mosaic attenuation pattern"


def aggregate(mentions: list[Mention]) -> dict[str, Mention | None]:
    """One deciding mention per label (None: not mentioned)."""
    best: dict[str, Mention | None] = {lab: None for lab in CT_RATE_LABELS}
    for mn in mentions:
        cur = best[mn.label]
        if mn.value == "not_mentioned":
            continue
        if cur is None or RANK[mn.value] > RANK[cur.value]:
            best[mn.label] = mn
    return best
