"""Scrub identifiers from free text by rules, keeping offsets into the text usable.

The rules are data (`mining/rules/phi.jsonl`): each names the kind of identifier it finds
(NAME, DATE, PHONE, MRN, ADDRESS, AGE, EMAIL, UID), a `regex` pattern and examples it must
match (and counter-examples it must not); the file is checked when it is loaded, so a rule
that does not match its own example fails at start-up, never silently at run time.

Each match (or its `phi` group) is replaced by a typed placeholder: ``[NAME]``, ``[DATE]``,
``[PHONE]``, ``[MRN]``, ``[ADDRESS]``, ``[AGE>89]``, ``[EMAIL]``; UIDs by ``[UID]`` or, when the
caller passes a replacement function (the publish step does), by their keyed ``uid_``
pseudonym so the text still points at the published rows.

Offsets. Placeholders change the text's length, so offsets into the original text (where a
reference, sentence, snippet or label evidence starts and ends) would point to the wrong
characters. `scrub` therefore returns a `Scrubbed` that maps every original offset to the
scrubbed text: offsets outside scrubbed spans move by the length changes before them; a
start inside a scrubbed span moves to the placeholder's start and an end inside one to the
placeholder's end, so `new_text[map_start(a):map_end(b)]` is the scrubbed version of
`old_text[a:b]`. Slices such as `ref_text` are re-cut from the scrubbed text. We chose this
over length-preserving placeholders because short identifiers ("92 yo") cannot hold a typed
placeholder and padding would leave the text unreadable.

Hostile input: every pattern runs with a time limit; a text whose scrubbing times out is
replaced as a whole by ``[REDACTED]`` (kind TIMEOUT) rather than published unscrubbed.
"""
from __future__ import annotations

import bisect
import functools
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import regex

RULES_FILE = Path(__file__).with_name("rules") / "phi.jsonl"
PLACEHOLDERS = {
    "NAME": "[NAME]", "DATE": "[DATE]", "PHONE": "[PHONE]", "MRN": "[MRN]", "ADDRESS": "[ADDRESS]",
    "AGE": "[AGE>89]", "EMAIL": "[EMAIL]", "UID": "[UID]", "TIMEOUT": "[REDACTED]",
}
PHI_KINDS = tuple(k for k in PLACEHOLDERS if k != "TIMEOUT")
_RULE_KEYS = {"id", "kind", "phi", "pattern", "example", "examples", "counter_examples", "description", "case_sensitive"}
_MACRO_KEYS = {"id", "kind", "pattern", "description"}
_MACRO_RE = regex.compile(r"(?<!\\[pP])\{([A-Z][A-Z0-9_]*)\}")
TIMEOUT_S = 1.0  # per pattern and text


class PhiRuleError(ValueError):
    """A PHI rule file that cannot be used; the message names the file and the rule."""


@dataclass(frozen=True)
class PhiRule:
    id: str
    kind: str
    pattern: regex.Pattern
    description: str = ""


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str
    rule: str


def _expand(pattern: str, macros: dict[str, str], where: str, depth: int = 0) -> str:
    if depth > 10:
        raise PhiRuleError(f"{where}: macros nest too deep")

    def sub(m):
        name = m.group(1)
        if name not in macros:
            raise PhiRuleError(f"{where}: unknown macro {{{name}}}")
        return "(?:" + _expand(macros[name], macros, where, depth + 1) + ")"

    return _MACRO_RE.sub(sub, pattern)


def parse_rules(lines: list[str], where: str) -> tuple[PhiRule, ...]:
    """Parse, compile and check PHI rule records (JSONL lines); raises PhiRuleError."""
    macros: dict[str, str] = {}
    records = []
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("//"):
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PhiRuleError(f"{where}:{n}: not JSON: {exc}") from None
        rid = rec.get("id")
        if not rid:
            raise PhiRuleError(f"{where}:{n}: every record needs an id")
        kind = rec.get("kind")
        if kind == "macro":
            unknown = set(rec) - _MACRO_KEYS
            if unknown:
                raise PhiRuleError(f"{where}: macro {rid}: unknown keys {sorted(unknown)}")
            macros[rid] = rec["pattern"]
        elif kind == "rule":
            unknown = set(rec) - _RULE_KEYS
            if unknown:
                raise PhiRuleError(f"{where}: rule {rid}: unknown keys {sorted(unknown)}")
            records.append(rec)
        else:
            raise PhiRuleError(f"{where}: record {rid}: kind must be 'macro' or 'rule', not {kind!r}")
    rules, seen = [], set()
    for rec in records:
        rid = rec["id"]
        if rid in seen:
            raise PhiRuleError(f"{where}: rule id {rid} used twice")
        seen.add(rid)
        if rec.get("phi") not in PHI_KINDS:
            raise PhiRuleError(f"{where}: rule {rid}: phi must be one of {list(PHI_KINDS)}, not {rec.get('phi')!r}")
        flags = regex.V0 | (0 if rec.get("case_sensitive") else regex.IGNORECASE)
        try:
            pat = regex.compile(_expand(rec["pattern"], macros, f"{where}: rule {rid}"), flags)
        except (regex.error, KeyError) as exc:
            raise PhiRuleError(f"{where}: rule {rid}: pattern does not compile: {exc}") from None
        examples = list(rec.get("examples") or []) + ([rec["example"]] if rec.get("example") else [])
        if not examples:
            raise PhiRuleError(f"{where}: rule {rid}: give at least one example it must match")
        for ex in examples:
            m = pat.search(ex)
            if m is None or (("phi" in pat.groupindex) and not m.group("phi")):
                raise PhiRuleError(f"{where}: rule {rid}: does not match its example {ex!r}")
        for ex in rec.get("counter_examples") or []:
            m = pat.search(ex)
            if m is not None:
                raise PhiRuleError(f"{where}: rule {rid}: matches its counter-example {ex!r} at {m.group(0)!r}")
        rules.append(PhiRule(rid, rec["phi"], pat, rec.get("description", "")))
    return tuple(rules)


@functools.cache
def load_rules(path: str | None = None) -> tuple[PhiRule, ...]:
    """The PHI rules of `path` (default mining/rules/phi.jsonl), compiled and checked."""
    p = Path(path) if path else RULES_FILE
    return parse_rules(p.read_text(encoding="utf-8").splitlines(), p.name)


# placeholders and the keyed pseudonyms of data_contracts.pseudonym: never identifiers themselves
_PLACEHOLDER_RE = regex.compile("|".join(regex.escape(p) for p in PLACEHOLDERS.values())
                                + r"|\b(?:pt|acc|uid|rep|pair|path)_[0-9a-f]{24}(?:\.[a-z0-9]{1,5})?\b")


def _has_content(span: str) -> bool:
    """False for spans made only of placeholders (and punctuation): those are already scrubbed."""
    return regex.search(r"\w", _PLACEHOLDER_RE.sub("", span)) is not None


def find_phi(text: str, rules: tuple[PhiRule, ...] | None = None, timeout: float = TIMEOUT_S) -> list[Span]:
    """Non-overlapping identifier spans in `text`, leftmost first (the longest wins a tie).

    Raises TimeoutError when a pattern runs past `timeout` seconds on this text.
    """
    rules = load_rules() if rules is None else rules
    found = []
    for order, rule in enumerate(rules):
        has_group = "phi" in rule.pattern.groupindex
        for m in rule.pattern.finditer(text, timeout=timeout):
            s, e = m.span("phi") if has_group else m.span()
            if e > s and _has_content(text[s:e]):
                found.append((s, -(e - s), order, Span(s, e, rule.kind, rule.id)))
    if found and ("[" in text or "_" in text):  # drop matches inside a placeholder or pseudonym
        tokens = [m.span() for m in _PLACEHOLDER_RE.finditer(text)]
        if tokens:
            starts = [t[0] for t in tokens]

            def inside(s, e):
                i = bisect.bisect_right(starts, s) - 1
                return i >= 0 and tokens[i][0] <= s and e <= tokens[i][1]

            found = [f for f in found if not inside(f[3].start, f[3].end)]
    found.sort(key=lambda t: t[:3])
    spans, last_end = [], 0
    for s, _, _, span in found:
        if s >= last_end:
            spans.append(span)
            last_end = span.end
    return spans


@dataclass
class Scrubbed:
    """A scrubbed text and the map from offsets in the original text to offsets in it.

    Scrubbing runs in passes until nothing more is found (a placeholder can expose a new
    match next to it, e.g. a phone number glued to a date); each pass keeps its own spans and
    offsets are mapped through the passes in order.
    """

    text: str
    original_length: int
    # (orig_start, orig_end, new_start, new_end, kind, replacement) per replaced span, in text order, of each pass
    spans: list[tuple] = field(default_factory=list)
    passes: list[tuple[int, list[tuple]]] = field(default_factory=list)

    def __post_init__(self):
        if not self.passes:
            self.passes = [(self.original_length, self.spans)]

    @property
    def counts(self) -> Counter:
        return Counter(s[4] for _, spans in self.passes for s in spans)

    @staticmethod
    def _map_pass(length: int, spans, offset: int, end: bool) -> int:
        offset = max(0, min(int(offset), length))
        i = bisect.bisect_right([s[0] for s in spans], offset) - 1
        if i < 0:
            return offset
        o_s, o_e, n_s, n_e = spans[i][:4]
        if offset == o_s:
            return n_s
        if offset < o_e:  # strictly inside a replaced span
            return n_e if end else n_s
        return n_e + (offset - o_e)

    def _map(self, offset: int, end: bool) -> int:
        if offset is None:
            return None
        for length, spans in self.passes:
            offset = self._map_pass(length, spans, offset, end)
        return offset

    def map_start(self, offset: int) -> int:
        return self._map(offset, end=False)

    def map_end(self, offset: int) -> int:
        return self._map(offset, end=True)

    def cut(self, piece: str, start: int, end: int) -> str:
        """`text[map_start(start):map_end(end)]`, computed from `piece` = original[start:end] alone.

        Lets a caller re-cut slices (ref_text, evidence_text) without keeping the whole text.
        """
        for length, spans in self.passes:
            start = max(0, min(int(start), length))
            end = max(start, min(int(end), length))
            out, pos = [], start
            i = max(0, bisect.bisect_right([s[0] for s in spans], start) - 1)
            for o_s, o_e, _, _, _, rep in spans[i:]:
                if o_s >= end:
                    break
                if o_e <= start:
                    continue
                out.append(piece[max(0, pos - start):max(0, o_s - start)] if o_s > pos else "")
                out.append(rep)
                pos = max(pos, o_e)
            if pos < end:
                out.append(piece[pos - start:end - start])
            piece, start, end = "".join(out), self._map_pass(length, spans, start, False), self._map_pass(length, spans, end, True)
        return piece


def placeholder(kind: str) -> str:
    return PLACEHOLDERS[kind]


MAX_PASSES = 4


def _one_pass(text, replace, rules, timeout):
    spans = find_phi(text, rules, timeout)
    out, mapped, pos, new_pos = [], [], 0, 0
    for sp in spans:
        out.append(text[pos:sp.start])
        new_pos += sp.start - pos
        rep = replace(sp.kind, text[sp.start:sp.end]) if replace else None
        rep = PLACEHOLDERS[sp.kind] if rep is None else rep
        out.append(rep)
        mapped.append((sp.start, sp.end, new_pos, new_pos + len(rep), sp.kind, rep))
        new_pos += len(rep)
        pos = sp.end
    out.append(text[pos:])
    return "".join(out), mapped


def scrub(text: str, replace: Callable[[str, str], str] | None = None,
          rules: tuple[PhiRule, ...] | None = None, timeout: float = TIMEOUT_S) -> Scrubbed:
    """Replace every identifier in `text` by its placeholder; `replace(kind, value)` may override one.

    A `replace` that returns None falls back to the placeholder. Runs until no rule finds
    anything more (at most MAX_PASSES passes; what is left then is redacted as a whole).
    """
    if text is None:
        return None
    passes, current = [], text
    try:
        for _ in range(MAX_PASSES):
            new, mapped = _one_pass(current, replace, rules, timeout)
            if not mapped:
                break
            passes.append((len(current), mapped))
            current = new
        else:
            if find_phi(current, rules, timeout):
                raise TimeoutError("no fixpoint")
    except TimeoutError:
        red = PLACEHOLDERS["TIMEOUT"]
        return Scrubbed(red, len(text), [(0, len(text), 0, len(red), "TIMEOUT", red)])
    if not passes:
        return Scrubbed(text, len(text), [])
    flat = passes[0][1] if len(passes) == 1 else [s for _, sp in passes for s in sp]
    return Scrubbed(current, len(text), flat, passes)


def scrub_text(text: str, replace: Callable[[str, str], str] | None = None) -> str:
    """Just the scrubbed text."""
    return None if text is None else scrub(text, replace).text


def detect(text: str, rules: tuple[PhiRule, ...] | None = None) -> Counter:
    """Counts by kind of identifier-like content left in `text` (placeholders themselves do not count)."""
    if not text:
        return Counter()
    try:
        return Counter(sp.kind for sp in find_phi(text, rules))
    except TimeoutError:
        return Counter({"TIMEOUT": 1})
