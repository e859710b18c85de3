"""CT-RATE finding labels from the rules in `mining/rules/findings.jsonl` plus ConText modifiers.

`find_mentions(text, language)` scans once (one alternation of all finding rules for the
language, overlapping so that "nodular opacity" is both a nodule and an opacity) and
returns `Mention`s. `label_mentions(...)` gives each mention its value: the rule's own value
for normal statements ("heart size is normal" -> absent), else absent when a negation
trigger scopes over it, uncertain when an uncertainty trigger does, else present.
`aggregate(...)` turns mentions into one value per label: present > uncertain > absent >
not_mentioned; the evidence is the first mention with the winning value.
"""
from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass

import regex

from data_contracts.labels import CT_RATE_LABELS
from mining import rules as rules_mod
from mining.context import Trigger, modifier_for

RANK = {"present": 3, "uncertain": 2, "absent": 1, "not_mentioned": 0}


@dataclass(slots=True)
class Mention:
    start: int
    end: int
    label: str
    rule: str
    value: str = "present"
    modifier: str | None = None  # trigger rule id that decided the value


class FindingRules:
    def __init__(self, path=None):
        rs = rules_mod.load("findings", path)
        labels = set(CT_RATE_LABELS)
        for r in rs:
            if r.get("label") not in labels:
                raise rules_mod.RuleError(f"findings: rule {r.id!r}: label {r.get('label')!r} is not a CT-RATE label")
        self.rules = rs
        self.by_lang = {}
        for lang in ("en", "de"):
            sel = [r for r in rs if r.get("lang", "any") in (lang, "any")]
            pat = "|".join(f"(?P<f{i}>{r.pattern})" for i, r in enumerate(sel))
            self.by_lang[lang] = (regex.compile(pat, regex.IGNORECASE | regex.VERBOSE), sel)
        missing = labels - {r.get("label") for r in rs}
        if missing:
            raise rules_mod.RuleError(f"findings: no rule for label(s) {sorted(missing)}")

    def find(self, text: str, language: str = "en") -> list[Mention]:
        rx, sel = self.by_lang.get(language, self.by_lang["en"])
        out: list[Mention] = []
        last_end: dict[str, int] = {}
        for m in rx.finditer(text, overlapped=True, timeout=5.0):
            name = m.lastgroup
            r = sel[int(name[1:])]
            label = r.get("label")
            s, e = m.span()
            if e <= s:
                continue
            if last_end.get(label, -1) > s:  # same label overlapping: keep the first
                continue
            last_end[label] = e
            mention = Mention(s, e, label, r.id)
            if r.get("value") == "absent":
                mention.value = "absent"
                mention.modifier = r.id
            out.append(mention)
        return out


@functools.lru_cache(maxsize=4)
def finding_rules(path: str | None = None) -> FindingRules:
    return FindingRules(path)


def label_mentions(mentions: list[Mention], triggers: list[Trigger], trigger_starts: list[int],
                   sentences: list[tuple[int, int]], sent_starts: list[int]) -> None:
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
        t = modifier_for(triggers, trigger_starts, s0, s1, mn.start, mn.end)
        if t is not None:
            mn.value = "absent" if t.category == "negated" else "uncertain"
            mn.modifier = t.rule


def aggregate(mentions: list[Mention]) -> dict[str, Mention | None]:
    """One deciding mention per label (None: not mentioned)."""
    best: dict[str, Mention | None] = {lab: None for lab in CT_RATE_LABELS}
    for mn in mentions:
        cur = best[mn.label]
        if cur is None or RANK[mn.value] > RANK[cur.value]:
            best[mn.label] = mn
    return best
