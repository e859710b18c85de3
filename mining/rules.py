"""Rule files: load, validate and compile the data files under `mining/rules/` at start-up.

Every rule is one record with an `id`, a `pattern` (a `regex` pattern, case-insensitive
unless the record says otherwise) or `phrases`, and an `example` (or `examples`) that the
compiled pattern must match. Records may use macros written `{NAME}`; macros are records
of kind `macro` in the same file. A rule file that names an unknown key, lacks a required
one, fails to compile or does not match its own example raises `RuleError` naming the file
and the rule id when it is loaded, never at match time.

Files are JSONL (one JSON object a line; blank lines and lines starting with `//` are
skipped) or YAML (a list of records).
"""
from __future__ import annotations

import functools
import heapq
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex

from mining.prefilter import alternatives, gate_words, leading_anchor, lower_agrees

RULES_DIR = Path(__file__).with_name("rules")


#: Keys each kind of record accepts (all files). "id" and "kind" are always allowed.
SCHEMAS: dict[str, dict[str, set[str]]] = {
    "references": {
        "macro": {"pattern", "description"},
        "rule": {"pattern", "example", "examples", "counter_examples", "description", "lang",
                 "case_sensitive", "shape", "echo", "declared_by"},
        "reject": {"pattern", "example", "examples", "counter_examples", "description", "where", "shape"},
    },
    "sections": {
        "section": {"section", "phrases", "example", "examples", "description", "lang", "subheading", "one_line", "aside",
                    "lead_in"},
    },
    "findings": {
        "macro": {"pattern", "description"},
        "finding": {"label", "pattern", "phrases", "example", "examples", "counter_examples", "value",
                    "description", "lang", "also", "scan"},
    },
    "context": {
        "macro": {"pattern", "description"},
        "trigger": {"category", "direction", "pattern", "phrases", "example", "examples", "counter_examples",
                    "description", "lang"},
        "list_break": {"pattern", "example", "examples", "counter_examples", "description", "lang", "direction"},
    },
    "sentences": {
        "macro": {"pattern", "description"},
        "abbreviation": {"phrases", "example", "examples", "description", "lang", "before"},
        "rule": {"pattern", "example", "examples", "counter_examples", "description", "action"},
    },
    "slips": {
        "words": {"phrases", "example", "examples", "slips", "not_slips", "description", "lang", "trigger", "not_split", "exact"},
    },
}
REQUIRED: dict[str, set[str]] = {
    "macro": {"pattern"},
    "rule": {"pattern"},
    "reject": {"pattern"},
    "section": {"section", "phrases"},
    "finding": {"label"},
    "trigger": {"category", "direction"},
    "list_break": {"pattern"},
    "abbreviation": {"phrases"},
    "words": {"phrases", "slips"},
}
CHOICES: dict[str, set[str]] = {
    "direction": {"forward", "backward", "bidirectional", "attribute", "terminate", "pseudo", "sentence"},
    "category": {"negated", "uncertain", "hypothetical", "alternative", "prior", "current", "terminate", "pseudo"},
    "section": {"HISTORY", "TECHNIQUE", "COMPARISON", "FINDINGS", "IMPRESSION", "OTHER"},
    "lang": {"en", "de", "any"},
    "where": {"before", "after", "inside", "through", "from"},
    "action": {"split", "nosplit"},
    "shape": {"series_image", "image_series", "shorthand", "image_only", "compact", "pairs", "between"},
    "value": {"present", "absent", "uncertain"},
    "before": {"number", "word"},
    "echo": {True, False},
    "scan": {"whole"},
    "trigger": {True},
    "exact": {True},
}


class RuleError(ValueError):
    """A rule file that cannot be used: the message names the file and the rule id."""


@dataclass
class Rule:
    id: str
    kind: str
    source: str
    data: dict[str, Any]
    pattern: str | None = None  # macro-expanded pattern text
    compiled: Any = None
    examples: list[str] = field(default_factory=list)

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


def _records(path: Path) -> list[tuple[int, dict]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text) or []
        except yaml.YAMLError as exc:
            raise RuleError(f"{path.name}: not valid YAML: {exc}") from None
        if not isinstance(data, list):
            raise RuleError(f"{path.name}: expected a list of rule records")
        return [(i + 1, rec) for i, rec in enumerate(data)]
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("//"):
            continue
        try:
            out.append((lineno, json.loads(s)))
        except json.JSONDecodeError as exc:
            raise RuleError(f"{path.name}:{lineno}: not valid JSON: {exc.msg}") from None
    return out


_MACRO = regex.compile(r"\{([A-Z][A-Z0-9_]*)\}")


def expand(pattern: str, macros: dict[str, str], where: str) -> str:
    """Replace `{NAME}` with `(?:macro)`, recursively; unknown macros are errors."""
    for _ in range(10):
        def sub(m: regex.Match) -> str:
            name = m.group(1)
            if name not in macros:
                raise RuleError(f"{where}: unknown macro {{{name}}}")
            return "(?:" + macros[name] + ")"

        new = _MACRO.sub(sub, pattern)
        if new == pattern:
            return new
        pattern = new
    raise RuleError(f"{where}: macros nest too deep (a cycle?)")


def phrases_pattern(phrases: list[str], space: str = r"\s+") -> str:
    """A pattern for literal phrases (`space` between words: any whitespace unless told), built as a trie so that a
    long phrase list scans fast; at each position the longest phrase wins."""
    trie: dict = {}
    for p in phrases:
        node = trie
        for ch in " ".join(p.lower().split()):
            node = node.setdefault(ch, {})
        node[""] = {}
    return german_spellings(_trie_pattern(trie, space)) or "(?!)"


def phrase_key(text: str) -> str:
    """The lookup key of a phrase or of the text a phrase pattern matched: lower case, single spaces, "ß", "ä", "ö", "ü"
    in their ASCII spellings (which `german_spellings` lets every pattern match)."""
    return " ".join(text.lower().split()).translate(_KEY_SPELLINGS)


#: The ASCII spellings German text is also written in: Swiss German writes no "ß" ("vergrössert", "Grösse"), and
#: exports through systems without umlauts write "ae", "oe", "ue" ("Rueckbildung", "vergroessert", "Knoetchen").
_SPELLINGS = {"ß": "ss", "ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
_KEY_SPELLINGS = str.maketrans({c: a for c, a in _SPELLINGS.items() if c.islower()})


def german_spellings(pattern: str) -> str:
    """`pattern` with each literal "ß", "ä", "ö", "ü" (and capital umlaut) outside a character class matching its ASCII
    spelling too (idempotent): a rule is written once, in the German spelling, and also reads the Swiss and the
    transliterated one (`_SPELLINGS`)."""
    if not any(c in pattern for c in _SPELLINGS):
        return pattern
    out, i, n, open_at = [], 0, len(pattern), -1  # open_at: where the character class we are in opened
    while i < n:
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if open_at < 0 and c == "(" and pattern.startswith("(?:", i) and pattern[i + 3:i + 4] in _SPELLINGS:
            spelled = f"(?:{pattern[i + 3]}|{_SPELLINGS[pattern[i + 3]]})"
            if pattern.startswith(spelled, i):  # spelled so already
                out.append(spelled)
                i += len(spelled)
                continue
        if open_at < 0:
            if c == "[":
                open_at = i
            out.append(f"(?:{c}|{_SPELLINGS[c]})" if c in _SPELLINGS else c)
        else:  # "]" right after "[" or "[^" is a literal, not the class's end
            if c == "]" and i > open_at + 1 + (pattern[open_at + 1] == "^"):
                open_at = -1
            out.append(c)
        i += 1
    return "".join(out)


def literal_trie(words) -> str:
    """An exact (case-sensitive) alternation of literal strings built as a trie, for fast scans."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _trie_pattern(trie, None) or "(?!)"


def _trie_pattern(node: dict, space: str | None) -> str:
    end = "" in node
    alts = []
    for ch in sorted(k for k in node if k):
        piece = space if ch == " " and space else regex.escape(ch)
        alts.append(piece + _trie_pattern(node[ch], space))
    if not alts:
        return ""
    body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
    return "(?:" + body + ")?" if end else body


_NAMED = regex.compile(r"P?<(?![=!])[^>]*>|P=[^)]*\)|P>[^)]*\)|&[^)]*\)|\([^)]*\)|[=!:>|#]|<[=!]")
_INLINE_FLAGS = regex.compile(r"[a-zA-Z0-9^-]+[:)]")
#: A property or POSIX class ("\p{Lu}", "[[:upper:]]"), which lower-cased text may not match as the text matched.
_CASED_CLASS = regex.compile(r"\\[pP]\{|\[:\^?\w+:\]")


def lower_literals(pattern: str) -> str | None:
    """`pattern` with its literal letters lower-cased (escapes, group names and flags kept), or None when an inline flag
    turns case-insensitivity on or off ("(?-i:[A-Z])"): it cannot be matched on lower-cased text."""
    out = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:  # an escape: "\S", "\p{Lu}", "\N{...}", "\g<name>" stay as written
            close = {"p": "}", "P": "}", "N": "}", "g": ">", "k": ">"}.get(pattern[i + 1])
            j = pattern.index(close, i + 2) + 1 if close and i + 2 < n and pattern[i + 2] in "{<" else i + 2
            out.append(pattern[i:j])
            i = j
        elif pattern.startswith("(?", i):
            m = _NAMED.match(pattern, i + 2)  # a group's name, a lookaround, a reference: as written
            if m is None:
                m = _INLINE_FLAGS.match(pattern, i + 2)
                if m is None or "i" in m.group(0):
                    return None
            out.append(pattern[i:m.end()])
            i = m.end()
        else:
            out.append(c.lower())
            i += 1
    return "".join(out)


def lowercase_twin(rx: regex.Pattern) -> regex.Pattern | None:
    """A case-sensitive pattern that finds on `text.lower()` the spans that case-insensitive `rx` finds on `text`, where
    the two agree (`prefilter.lower_agrees`); None for a case-sensitive pattern, one that sets case inline or one with
    a property or POSIX class. The
    `regex` engine tries a case-insensitive pattern more slowly (20-40 % on the reference rules)."""
    if not rx.flags & regex.IGNORECASE or _CASED_CLASS.search(rx.pattern):
        return None
    low = lower_literals(rx.pattern)
    return None if low is None else regex.compile(low, rx.flags & ~regex.IGNORECASE)


def lowercase_twins(rxs: list[regex.Pattern]) -> tuple[list[regex.Pattern], list[bool]]:
    """Each pattern's `lowercase_twin`, or the pattern itself where it has none; and which are twins (to be searched on
    the lower-cased text)."""
    twins = [lowercase_twin(rx) or rx for rx in rxs]
    return twins, [tw is not rx for tw, rx in zip(twins, rxs)]


def anchors(rxs: list[regex.Pattern]) -> list[regex.Pattern | None]:
    """Each pattern's `prefilter.leading_anchor`, compiled with its flags (one object for equal anchors, whose places a
    scan finds once), or None."""
    out = []
    for rx in rxs:
        a = leading_anchor(rx.pattern, rx.flags)
        out.append(None if a is None else _compiled(a, rx.flags))
    return out


@functools.lru_cache(maxsize=None)
def _compiled(pattern: str, flags: int) -> regex.Pattern:
    return regex.compile(pattern, flags)


def leftmost_scan(rxs: list[regex.Pattern], text: str, hays: list[str] | None = None,
                  anchored: list[regex.Pattern | None] | None = None, start: int = 0, end: int | None = None):
    """(pattern index, match) of every match that the alternation of `rxs` would give with `finditer`, in text order:
    the leftmost match, at a tie the first pattern, then on from its end. Each pattern is searched on its own and its
    next match kept until the scan passes its start: the engine's first-character and literal shortcuts work per
    pattern and are lost in one alternation of them all. `hays`: the string each pattern searches, where not `text`
    (its lower-cased form for a `lowercase_twin`: same length, same offsets). `anchored`: each pattern's anchor
    (`anchors`) or None; a pattern with one is tried only where its anchor matches, and only once the scan has got
    there: a try inside a match already taken is never made (the same matches; the reference rules' scan 1.44x faster
    on the bench's reports, 1.27x on the phantom's). `start`, `end`: scan `text[start:end]` only (as `search`'s pos
    and endpos: lookarounds still see the text around it)."""
    hays = hays or [text] * len(rxs)
    anchored = anchored or [None] * len(rxs)
    end = len(text) if end is None else end
    eager = [i for i, a in enumerate(anchored) if a is None]
    nxt = {i: rxs[i].search(hays[i], start, end, timeout=5.0) for i in eager}
    places: dict[tuple[int, int], list[int]] = {}  # (anchor, haystack) -> where the anchor matches
    heap = []  # (next place to try, pattern index, the pattern's places, that place's index in them)
    for i, a in enumerate(anchored):
        if a is not None:
            key = (id(a), id(hays[i]))
            got = places.get(key)
            if got is None:
                got = places[key] = [m.start() for m in a.finditer(hays[i], start, end, overlapped=True)]
            if got:
                heap.append((got[0], i, got, 0))
    heapq.heapify(heap)
    pos = start
    while True:
        best, best_start, bm = -1, end + 1, None
        for i in eager:
            m = nxt[i]
            if m is None:
                continue
            if m.start() < pos:  # overlapped by the match taken: search on from its end
                m = nxt[i] = rxs[i].search(hays[i], pos, end, timeout=5.0)
                if m is None:
                    continue
            if m.start() < best_start:
                best, best_start, bm = i, m.start(), m
        while heap and (heap[0][0] < best_start or heap[0][0] == best_start and heap[0][1] < best):
            c, i, got, k = heapq.heappop(heap)  # the leftmost untried place (at a tie, the first pattern)
            if k + 1 < len(got):
                heapq.heappush(heap, (got[k + 1], i, got, k + 1))
            if c < pos:  # inside the match taken
                continue
            m = rxs[i].match(hays[i], c, end, timeout=5.0)
            if m is not None:  # every place before it failed: the leftmost match
                best, best_start, bm = i, c, m
                break
        if best < 0:
            return
        if bm.end() == best_start:  # an empty match holds nothing: step over it
            pos = best_start + 1
            if pos > end:  # (a search from past the end finds the empty match at the end again)
                return
            continue
        yield best, bm
        pos = bm.end()


def load(name: str, path: Path | None = None) -> list[Rule]:
    """Load, validate and compile rule file `name` (references, sections, findings, context, sentences, slips)."""
    return list(_load(name, str(path) if path else "")[0])


def macros_of(name: str, path: Path | str | None = None) -> dict[str, str]:
    """The expanded macros of rule file `name` (the shipped one unless `path`), for patterns composed in code;
    loaded, validated and cached with its rules."""
    return dict(_load(name, str(path) if path else "")[1])


@functools.lru_cache(maxsize=None)
def _load(name: str, path: str) -> tuple[tuple[Rule, ...], tuple[tuple[str, str], ...]]:
    """(rules, macros as (id, expanded pattern) pairs) of a rule file."""
    if name not in SCHEMAS:
        raise RuleError(f"unknown rule file kind {name!r}")
    if path:
        p = Path(path)
    else:
        cands = [RULES_DIR / f"{name}{ext}" for ext in (".jsonl", ".yaml", ".yml")]
        found = [c for c in cands if c.is_file()]
        if not found:
            raise RuleError(f"no rule file for {name!r} in {RULES_DIR}")
        p = found[0]
    schema = SCHEMAS[name]
    macros: dict[str, str] = {}
    rules: list[Rule] = []
    seen: set[str] = set()
    for lineno, rec in _records(p):
        where = f"{p.name}:{lineno}"
        if not isinstance(rec, dict):
            raise RuleError(f"{where}: a rule record must be an object")
        rid = rec.get("id")
        if not isinstance(rid, str) or not rid:
            raise RuleError(f"{where}: rule without an id")
        where = f"{p.name}: rule {rid!r}"
        if rid in seen:
            raise RuleError(f"{where}: duplicate id")
        seen.add(rid)
        kind = rec.get("kind", next(iter(k for k in schema if k != "macro")))
        if kind not in schema:
            raise RuleError(f"{where}: unknown kind {kind!r}; expected one of {sorted(schema)}")
        allowed = schema[kind] | {"id", "kind"}
        unknown = sorted(set(rec) - allowed)
        if unknown:
            raise RuleError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")
        missing = sorted(REQUIRED.get(kind, set()) - set(rec))
        if missing:
            raise RuleError(f"{where}: missing key(s) {missing}")
        for key, choices in CHOICES.items():
            if key in rec and rec[key] not in choices:
                raise RuleError(f"{where}: {key}={rec[key]!r} is not one of {sorted(choices)}")
        if kind == "macro":
            if not regex.fullmatch(r"[A-Z][A-Z0-9_]*", rid):
                raise RuleError(f"{where}: macro ids are UPPER_CASE")
            macros[rid] = expand(rec["pattern"], macros, where)
            continue
        if kind in ("finding", "trigger") and "pattern" not in rec and "phrases" not in rec:
            raise RuleError(f"{where}: needs a pattern or phrases")
        examples = list(rec.get("examples", []))
        if "example" in rec:
            examples.insert(0, rec["example"])
        if not examples or not all(isinstance(e, str) and e for e in examples):
            raise RuleError(f"{where}: needs an example (a non-empty string) that the rule must match")
        rule = Rule(id=rid, kind=kind, source=p.name, data=rec, examples=examples)
        if "pattern" in rec:
            pat = rec["pattern"]
            if "phrases" in rec:
                raise RuleError(f"{where}: give a pattern or phrases, not both")
        else:
            phrases = rec.get("phrases")
            if not isinstance(phrases, list) or not phrases or not all(isinstance(x, str) and x.strip() for x in phrases):
                raise RuleError(f"{where}: phrases must be a non-empty list of strings")
            pat = phrases_pattern(phrases)
        if not isinstance(pat, str) or not pat:
            raise RuleError(f"{where}: pattern must be a non-empty string")
        pat = german_spellings(expand(pat, macros, where))
        if kind == "list_break":  # what starts a new statement right after a comma: compiled, and its examples
            pat = r",[ \t]*(?:" + pat + ")"  # checked, with the comma before it
        flags = regex.VERBOSE if "pattern" in rec else 0
        if not rec.get("case_sensitive"):
            flags |= regex.IGNORECASE
        try:
            compiled = regex.compile(pat, flags)
        except regex.error as exc:
            raise RuleError(f"{where}: pattern does not compile: {exc}") from None
        for ex in examples:
            if not compiled.search(ex):
                raise RuleError(f"{where}: pattern does not match its example {ex!r}")
        for ex in rec.get("counter_examples", []):
            if compiled.search(ex):
                raise RuleError(f"{where}: pattern matches its counter-example {ex!r}")
        rule.pattern = pat
        rule.compiled = compiled
        rule.data["_flags"] = flags
        rules.append(rule)
    if not rules:
        raise RuleError(f"{p.name}: no rules")
    return tuple(rules), tuple(macros.items())


class LiteralScan:
    """Every offset of a lower-cased text where one of `words` starts, with the longest starting there: one pass of
    their trie (Python's `re`), then only the offsets inside each hit where another word may start (`inside`: its text
    there begins that word, or holds it whole); a search restarted one past every hit cost twice as much.
    `prefixes[w]`: the words `w` begins with, which start where it does."""

    def __init__(self, words):
        words = sorted(set(words))
        self.rx = re.compile(literal_trie(words)) if words else None
        self.inside = {x: tuple(o for o in range(1, len(x))
                                if any(y.startswith(x[o:]) or x.startswith(y, o) for y in words))
                       for x in words}
        self.prefixes = {x: frozenset(y for y in words if x.startswith(y)) for x in words}

    def hits(self, low: str) -> list[tuple[int, str]]:
        """(offset, longest word starting there) for every offset of `low` where a word starts, in text order."""
        out: list[tuple[int, str]] = []
        if self.rx is None:
            return out
        match, inside = self.rx.match, self.inside
        for m in self.rx.finditer(low):
            s, word = m.start(), m.group()
            out.append((s, word))
            for o in inside[word]:
                n = match(low, s + o)
                if n is not None:
                    out.append((s + o, n.group()))
        out.sort()
        return out


class Gates:
    """Which of many patterns a text may match, by their gate words (`prefilter.gate_words`; None: always): the words
    the text holds found in one scan of them all (`LiteralScan`), instead of a substring search per word (188 ConText
    parts with 219 words: ~320 -> ~160 us a blind report)."""

    def __init__(self, gates: list[tuple[str, ...] | None]):
        self.gates = [None if g is None else frozenset(g) for g in gates]
        self.words = LiteralScan(set().union(*(g for g in self.gates if g)))

    def open(self, low: str) -> list[int]:
        """The indices of the patterns whose gate words lower-cased text `low` holds, or that have none."""
        prefixes = self.words.prefixes
        held = set().union(*(prefixes[w] for _, w in self.words.hits(low)))
        return [k for k, g in enumerate(self.gates) if g is None or not g.isdisjoint(held)]


class BranchScan:
    """The matches `rules.leftmost_scan` gives for `rxs` (for one pattern, its `finditer`), as (pattern index, match),
    found branch by branch (`prefilter.alternatives`): each branch searched on its own through its lower-case twin
    (`lowercase_twin`), those whose gate words the text lacks left out (`prefilter.gate_words`), the matches merged as the
    alternation of them all takes them (at one start the first pattern's first branch). A match's groups are its
    branch's: `groupdict().get(name)` for a group of some branches only; on the lower-cased text a match's text is in
    lower case."""

    def __init__(self, rxs: list[regex.Pattern]):
        self.rxs = rxs
        parts = [(k, b) for k, rx in enumerate(rxs) for b in alternatives(rx.pattern, rx.flags) or [rx.pattern]]
        self.part_of = [k for k, _ in parts]
        self.parts = [regex.compile(b, rxs[k].flags) for k, b in parts]
        self.twins, self.twin_of = lowercase_twins(self.parts)
        self.gates = Gates([gate_words(p) for p in self.parts])

    def scan(self, text: str, low: str | None = None):
        """(pattern index, match) in text order; `low`: `text.lower()`, where the caller has it."""
        low = text.lower() if low is None else low
        if not lower_agrees(text, low):
            return leftmost_scan(self.rxs, text)
        active = self.gates.open(low)
        part_of = self.part_of
        return ((part_of[active[j]], m) for j, m in leftmost_scan(
            [self.twins[k] for k in active], text, [low if self.twin_of[k] else text for k in active]))
