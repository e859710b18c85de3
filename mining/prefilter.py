"""Prefilters for rule scans: literal stems every match must contain, derived from the patterns.

A rule pattern tried at every position of a report is slow, above all when it starts with a
lookbehind (the regex engine cannot skip ahead to a first character). `required_stems(pattern)`
reads the pattern (Python's own regex parser, which reads the syntax the rule files use) and
returns a set of literal strings such that every match of the pattern contains at least one of
them, or None when it cannot tell (a rule that may match without any fixed text). One scan for
all stems then says which rules can match at all, and where.

`touches(pattern, chars)` says whether a match of the pattern, or one of its lookaheads or
anchors, can consume or look at any of `chars` (lookbehinds may: a chunk's scan starts at its
position in the whole text, and `regex` lets a lookbehind see what lies before it). A pattern
that touches none of the clause delimiters can only match inside one delimiter-free chunk of
the text, so scanning just the chunks that hold a stem gives exactly the matches of a scan of
the whole text.
"""
from __future__ import annotations

import functools
import re
import unicodedata

try:  # Python >= 3.11
    import re._constants as _c
    import re._parser as _parser
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _parser  # type: ignore[no-redef]

import regex

_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT}
if hasattr(_c, "POSSESSIVE_REPEAT"):
    _REPEATS.add(_c.POSSESSIVE_REPEAT)
_EDGE_ANCHORS = {_c.AT_BEGINNING, _c.AT_BEGINNING_LINE, _c.AT_BEGINNING_STRING, _c.AT_END, _c.AT_END_LINE,
                 _c.AT_END_STRING}

#: Characters for which str.lower() and case-insensitive matching may disagree (outside Latin-1,
#: the micro sign), unless they have no case at all (`_caseless`: arrows, "≥", Hangul).
CASE_ODD = re.compile("[^\\x00-\\xb4\\xb6-\\xff\\u2000-\\u206f]")


def lower_agrees(text: str, low: str) -> bool:
    """Whether `low` (text.lower()) finds what case-insensitive matching of `text` finds: its characters are ASCII,
    Latin-1 but the micro sign, general punctuation, or have no case (a text with "→" or "≥" in it is read as fast as
    any other; one with "µ", "ı" or "Σ" takes the slower scans)."""
    return len(low) == len(text) and (text.isascii() or not CASE_ODD.search(text)
                                       or all(map(_caseless, set(CASE_ODD.findall(text)))))


@functools.lru_cache(maxsize=4096)
def _caseless(c: str) -> bool:
    """Whether character `c` has no case, in Python's Unicode tables and in `regex`'s (which may be newer: they pair "ß"
    with U+1DF95, and give U+0264 a capital, neither of which Python's do): no other character is its lower, upper or
    folded case, nor has it as one, so it matches itself alone, ignoring case or not (tested over all of Unicode)."""
    return (c.lower() == c.upper() == c.casefold() == c and unicodedata.category(c) != "Cn"
            and _CASED.match(c) is None)


_CASED = regex.compile(r"[\p{Cased}\p{Changes_When_Casemapped}\p{Changes_When_Casefolded}]")


def _re_odd() -> re.Pattern:
    """The characters `lower_agrees` admits on which Python's `re` and `regex` disagree about \\w, \\d or \\s (so
    about \\b): superscript digits and vulgar fractions ("cm²", "½"), zero-width joiners, ties; `re` reads them as
    word characters."""
    admitted = [c for c in map(chr, [*range(0x80, 0x100), *range(0x2000, 0x2070)]) if not CASE_ODD.match(c)]
    return re.compile("[" + "".join(map(re.escape, filter(_engines_differ, admitted))) + "]")


@functools.lru_cache(maxsize=4096)
def _engines_differ(c: str) -> bool:
    """Whether Python's `re` and `regex` disagree about \\w, \\d or \\s on character `c`."""
    return any(bool(re.match(p, c)) != bool(regex.match(p, c)) for p in (r"\w", r"\d", r"\s"))


RE_ODD = _re_odd()


def re_agrees(text: str, low: str) -> bool:
    """Whether Python's `re`, case-sensitive on `low` (text.lower()), finds what `regex` ignoring case finds on
    `text` with a lower-case pattern both engines compile: the cases agree (`lower_agrees`) and so do the engines'
    \\w, \\d, \\s and \\b on every character of it (ASCII, Latin-1 letters such as ä, ö, ü, ß, é, the general
    punctuation "–", "„", characters without case, but not `RE_ODD` nor any other on which they differ)."""
    return lower_agrees(text, low) and (low.isascii() or (not RE_ODD.search(low) and not any(
        map(_engines_differ, set(CASE_ODD.findall(low))))))


#: Python's `re` flags for the `regex` flags the rule files use.
def _re_flags(flags: int) -> int:
    out = 0
    if flags & regex.IGNORECASE:
        out |= re.IGNORECASE
    if flags & regex.VERBOSE:
        out |= re.VERBOSE
    return out


def _parse(pattern: str, flags: int):
    try:
        return _parser.parse(pattern, _re_flags(flags))
    except Exception:  # syntax only `regex` reads: no prefilter for this rule
        return None


def _best(cands: list[frozenset[str]], weigh=len) -> frozenset[str] | None:
    if not cands:
        return None
    return max(cands, key=lambda f: (min(map(weigh, f)), -len(f)))


def _rarity(s: str) -> int:
    """A gate word's worth (`gate_words`): its length, but three, as much as a word of three letters, for a symbol
    few texts hold: one outside ASCII ("☐", "→", "≥") or a run of ASCII punctuation ("->", "=>"); not a single ASCII
    mark, which nearly every report holds."""
    if any(not c.isascii() and not c.isalnum() and not c.isspace() for c in s) or (
            len(s) >= 2 and not any(c.isalnum() or c.isspace() for c in s)):
        return max(len(s), 3)
    return len(s)


def _lead(items) -> str:
    """The literal characters an alternative starts with."""
    out = []
    for op, av in items:
        if op is not _c.LITERAL:
            break
        out.append(chr(av))
    return "".join(out)


def _spellings(branches) -> list[str] | None:
    """The strings an alternation of plain literals matches ("(?:ü|ue)", "(?:ß|ss)", as `rules.german_spellings`
    writes every umlaut; the parser flattens the group), else None."""
    alts = []
    for b in branches:
        if not b or any(op is not _c.LITERAL for op, _ in b):
            return None
        alts.append("".join(chr(av) for _, av in b))
    return alts


def _stems(items, lookarounds: bool = False) -> frozenset[str] | None:
    cands: list[frozenset[str]] = []
    runs: list[str] = [""]  # the literal text right before, one string per spelling ("fr(?:ü|ue)h": "früh", "frueh")

    def flush():
        if runs[0]:
            cands.append(frozenset(runs))
        runs[:] = [""]

    for op, av in items:
        if op is _c.LITERAL:
            runs[:] = [r + chr(av) for r in runs]
            continue
        if op is _c.BRANCH:
            alts = _spellings(av[1])
            if alts and len(runs) * len(alts) <= 16:  # a word's spellings go on as literals
                runs[:] = [r + a for r in runs for a in alts]
                continue
        prefix = runs[0] if len(runs) == 1 else ""
        flush()
        f = None
        if op is _c.SUBPATTERN:
            f = _stems(av[-1], lookarounds)
        elif op is _c.BRANCH:
            subs = [_stems(b, lookarounds) for b in av[1]]
            f = None if any(s is None for s in subs) else frozenset().union(*subs)
            leads = [_lead(b) for b in av[1]]
            if prefix and all(leads):  # the parser factors a common start out: "uip|usual" is "u" + (ip|sual)
                cands.append(frozenset(prefix + x for x in leads))
        elif op in _REPEATS:
            f = _stems(av[2], lookarounds) if av[0] >= 1 else None
        elif op is getattr(_c, "ATOMIC_GROUP", None):
            f = _stems(av, lookarounds)
        elif lookarounds and op is _c.ASSERT:  # what a positive lookaround needs is in the text, not in the match
            f = _stems(av[1], True)
        elif op is _c.IN and av and all(o is _c.LITERAL for o, _ in av) and len(av) <= 4:
            f = frozenset(chr(a) for _, a in av)
        if f is not None:
            cands.append(f)
    flush()
    return _best(cands, _rarity if lookarounds else len)


def required_stems(pattern: str, flags: int = 0, lookarounds: bool = False) -> frozenset[str] | None:
    """Literal strings one of which every match of `pattern` contains; None if unknown. With `lookarounds`, one of
    which the text holds wherever the pattern matches (a positive lookaround's text counts too)."""
    tree = _parse(pattern, flags)
    if tree is None:
        return None
    f = _stems(tree, lookarounds)
    if f is None or not all(f):
        return None
    return f


#: What a class's category matches, for the characters a class is asked about.
_CATEGORY_HAS = {
    _c.CATEGORY_WORD: lambda ch: ch.isalnum() or ch == "_", _c.CATEGORY_UNI_WORD: lambda ch: ch.isalnum() or ch == "_",
    _c.CATEGORY_DIGIT: str.isdigit, _c.CATEGORY_UNI_DIGIT: str.isdigit,
    _c.CATEGORY_SPACE: str.isspace, _c.CATEGORY_UNI_SPACE: str.isspace,
}


def _class_has(av, ch: str) -> bool | None:
    """Whether the (not negated) class items `av` match `ch`; None when this cannot tell."""
    for op, a in av:
        if op is _c.LITERAL:
            if chr(a) == ch:
                return True
        elif op is _c.RANGE:
            if a[0] <= ord(ch) <= a[1]:
                return True
        elif op is _c.CATEGORY and a in _CATEGORY_HAS:
            if _CATEGORY_HAS[a](ch):
                return True
        else:
            return None
    return False


def _class_touches(av, chars: str) -> bool:
    """Whether the character class `av` may match one of `chars` (where `_class_has` cannot tell, it may)."""
    if av and av[0][0] is _c.NEGATE:  # "[^.;:]": it touches a character it does not exclude
        return any(_class_has(av[1:], ch) is not True for ch in chars)
    return any(_class_has(av, ch) is not False for ch in chars)


def _touches(items, chars: str) -> bool:
    for op, av in items:
        if op is _c.LITERAL:
            if chr(av) in chars or chr(av).swapcase() in chars:
                return True
        elif op is _c.IN:
            if _class_touches(av, chars):
                return True
        elif op is _c.AT:
            if av in _EDGE_ANCHORS:
                return True
        elif op is _c.SUBPATTERN:
            if _touches(av[-1], chars):
                return True
        elif op is _c.BRANCH:
            if any(_touches(b, chars) for b in av[1]):
                return True
        elif op in _REPEATS:
            if _touches(av[2], chars):
                return True
        elif op in (_c.ASSERT, _c.ASSERT_NOT):
            # a lookbehind sees the text before the search's start position (`regex` does not cut the string there,
            # only at the end position), so scanning a chunk gives it what a scan of the whole text gives it
            if av[0] >= 0 and _touches(av[1], chars):
                return True
        elif op is getattr(_c, "ATOMIC_GROUP", None):
            if _touches(av, chars):
                return True
        else:  # ANY, NOT_LITERAL, group references, ...: may see anything
            return True
    return False


def touches(pattern: str, chars: str, flags: int = 0) -> bool:
    """Can a match of `pattern` (or its lookarounds/anchors) consume or see any of `chars`?"""
    tree = _parse(pattern, flags)
    return True if tree is None else _touches(tree, chars)


def reduce_stems(stem_sets: list[frozenset[str] | None]) -> list[frozenset[str] | None]:
    """Replace every stem that contains another stem by the shorter one, so that no stem of
    the final set contains another: then at most one stem starts at any position and one
    overlapped scan of their alternation finds every occurrence of every stem."""
    allst = sorted({s.lower() for f in stem_sets if f for s in f}, key=len)
    short: dict[str, str] = {}
    kept: list[str] = []
    for s in allst:
        inner = next((k for k in kept if k in s), None)
        if inner is None:
            kept.append(s)
            short[s] = s
        else:
            short[s] = inner
    return [None if f is None else frozenset(short[s.lower()] for s in f) for f in stem_sets]


def gate_words(rx: regex.Pattern) -> tuple[str, ...] | None:
    """Lower-cased words one of which the text holds wherever `rx` matches, when each has 3 characters or more (a
    shorter one is in nearly every report); else None. A scan leaves out a pattern whose gate words its text lacks."""
    words = required_stems(rx.pattern, rx.flags, lookarounds=True)
    if not words or min(map(_rarity, words)) < 3:
        return None
    return _lowered(words)


def match_words(rx: regex.Pattern) -> tuple[str, ...] | None:
    """Lower-cased literals one of which every match of `rx` holds (`required_stems` without lookarounds: a match inside
    a span holds one inside it); None when unknown. A text that holds none of them (lower-cased, where lower-casing
    agrees with case-insensitive matching) holds no match."""
    words = required_stems(rx.pattern, rx.flags)
    return _lowered(words) if words else None


def span_stems(rx: regex.Pattern) -> re.Pattern | None:
    """`match_words` as a trie for Python's `re` (a scan of a lower-cased span: faster than testing each); None when
    unknown."""
    from mining.rules import literal_trie  # (rules imports this module)

    words = match_words(rx)
    return re.compile(literal_trie(words)) if words else None


def _lowered(words: frozenset[str]) -> tuple[str, ...]:
    """`words` lower-cased, each that holds another left out ('ima' for 'image' and 'ima'), sorted."""
    return tuple(sorted(reduce_stems([frozenset(w.lower() for w in words)])[0]))


def may_hold(stems: re.Pattern | None, text: str, s: int, e: int) -> bool:
    """Whether text[s:e] may hold a match of the pattern whose `span_stems` are `stems`: False only when it holds
    none of them (lower-cased, where lower-casing agrees with case-insensitive matching)."""
    if stems is None:
        return True
    seg = text[s:e]
    low = seg.lower()
    return not lower_agrees(seg, low) or stems.search(low) is not None


def stems_pattern(stems) -> str:
    """An alternation of literal stems, longest first."""
    return "|".join(regex.escape(s) for s in sorted(stems, key=lambda s: (-len(s), s)))


# -- leading anchors: where a match can start -------------------------------------------------------------------------

_QUANTIFIER = regex.compile(r"(?:[*+?]|\{\d*(?:,\d*)?\})[?+]?")
#: Atoms that match no text: a pattern's anchor goes on past them.
_ZERO_WIDTH = {r"\b", r"\B", "^", "$", r"\A", r"\Z", r"\G"}
_INLINE_FLAGS = regex.compile(r"\(\?[a-zA-Z-]+\)")


def _skip_verbose(p: str, i: int) -> int:
    """The position after the whitespace and '#' comments at `i` of a verbose pattern."""
    while i < len(p):
        if p[i].isspace():
            i += 1
        elif p[i] == "#":
            j = p.find("\n", i)
            i = len(p) if j < 0 else j
        else:
            break
    return i


#: An escape longer than two characters: a property or name ("\\p{Lu}", "\\N{...}", "\\x{e9}"), a hex or octal code.
_LONG_ESCAPE = regex.compile(r"\\(?:[pPNx]\{[^}]*\}|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|0[0-7]{0,2}|[1-7][0-7]{2})")


def _escape_end(p: str, i: int) -> int:
    """The position after the escape at `i`."""
    m = _LONG_ESCAPE.match(p, i)
    return m.end() if m else i + 2


def _class_end(p: str, i: int) -> int:
    """The position after the character class opening at `i` ("[^]a-z[:alpha:]\\]]")."""
    j = i + 1
    if p[j] == "^":
        j += 1
    if p[j] == "]":
        j += 1
    while p[j] != "]":
        if p[j] == "\\":
            j += 2
        elif p.startswith("[:", j):
            j = p.index(":]", j) + 2
        else:
            j += 1
    return j + 1


def _group_end(p: str, i: int, verbose: bool) -> int:
    """The position after the group opening at `i`."""
    depth, j = 0, i
    while True:
        ch = p[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "[":
            j = _class_end(p, j)
            continue
        if verbose and ch == "#":
            j = _skip_verbose(p, j)
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1


def _token_end(p: str, i: int, verbose: bool) -> int:
    """The position after the escape, class, group or single character at `i`."""
    c = p[i]
    if c == "\\":
        return _escape_end(p, i)
    if c == "[":
        return _class_end(p, i)
    if c == "(":
        return _group_end(p, i, verbose)
    return i + 1


def _atoms(p: str, verbose: bool) -> list[tuple[str, bool, bool]] | None:
    """The top-level atoms of `p`, each (its text with its quantifier, whether it may match no text, whether it is
    quantified); None when `p` is an alternation at its top level."""
    out = []
    i, n = 0, len(p)
    while True:
        if verbose:
            i = _skip_verbose(p, i)
        if i >= n:
            return out
        if p[i] == "|":
            return None
        j = _token_end(p, i, verbose)
        atom = p[i:j]
        empty = atom in _ZERO_WIDTH or atom.startswith(("(?=", "(?!", "(?<=", "(?<!")) or bool(_INLINE_FLAGS.fullmatch(atom))
        q = _QUANTIFIER.match(p, _skip_verbose(p, j) if verbose else j)
        if q:
            empty = empty or q.group(0)[0] in "*?" or q.group(0).startswith(("{0", "{,"))
            j = q.end()
        out.append((p[i:j], empty, q is not None))
        i = j


def leading_anchor(pattern: str, flags: int = 0) -> str | None:
    """The leading atoms of `pattern` up to its first that takes text or looks ahead (an opening "(?:...)" read as its
    atoms): every match of the pattern starts where this matches, so a scan need try the pattern only there
    (`rules.leftmost_scan`). None when the pattern has a top-level '|' or a \\K, runs in reverse, or opens with
    nothing that narrows where a match starts."""
    if "\\K" in pattern or flags & regex.REVERSE:
        return None
    verbose = bool(flags & regex.VERBOSE)
    atoms = _atoms(pattern, verbose)
    while atoms and atoms[0][0].startswith("(?:") and not atoms[0][2]:  # "(?:A B)C" is "A B C"
        inner = _atoms(atoms[0][0][3:-1], verbose)
        if inner is None:
            break
        atoms = inner + atoms[1:]
    atoms = atoms or []
    for k, (atom, empty, quantified) in enumerate(atoms):
        if empty and not (atom.startswith("(?=") and not quantified):
            continue
        try:
            narrows = regex.compile(atom, flags).fullmatch("") is None  # "(?:a?)" or "(?=a*)" narrow nothing
        except regex.error:  # an atom that needs the rest of the pattern (a reference to a later group)
            return None
        if narrows:
            k += 1
            while k < len(atoms) and _literal(atoms[k]):  # "\bnone" rather than "\bn"
                k += 1
            return "".join(a for a, _, _ in atoms[:k])
    return None


def _literal(atom: tuple[str, bool, bool]) -> bool:
    """Whether an atom is one character standing for itself, unquantified."""
    text, _, quantified = atom
    return not quantified and (len(text) == 1 and text.isalnum() or len(text) == 2 and text[0] == "\\" and not text[1].isalnum())


# -- alternatives: a pattern as the patterns of its branches ----------------------------------------------------------

def _split_top(p: str, verbose: bool) -> list[str] | None:
    """`p` split at its top-level '|' (not inside a group, a class or an escape), or None when it has none."""
    parts, i, last = [], 0, 0
    while i < len(p):
        if verbose and p[i] == "#":
            i = _skip_verbose(p, i)
            continue
        if p[i] == "|":
            parts.append(p[last:i])
            last = i + 1
        i = _token_end(p, i, verbose)
    return None if not parts else parts + [p[last:]]


#: What ties a branch to the rest of its pattern: a reference to a group (by number or name) or a call of one, a flag for
#: the whole pattern ("(?i)"), a branch reset or a condition. (A named group is no tie: a branch without it matches
#: where the pattern would with that group unset.)
_WHOLE_PATTERN = regex.compile(r"\(\?P[=>]|\(\?&|\(\?[0-9R+-]\d*\)|\\[1-9]|\\g<|\(\?[a-zA-Z-]+\)|\(\?\||\(\?\(")


def alternatives(pattern: str, flags: int = 0) -> list[str] | None:
    """Patterns that between them match what `pattern` matches, branch by branch: its top-level alternatives, or, where
    its first unquantified "(?:...)" holds an alternation, that group's alternatives each with what stands before and
    after the group ("\\b(?:a|b)s" -> "\\b(?:a)s", "\\b(?:b)s"); None when it has neither, or anything a branch would
    need from the rest (`_WHOLE_PATTERN`). At a position where the pattern matches, its match is that of its
    first branch that matches there (alternatives are tried in order), so a scan of the branches, each in the chunks
    its own stems say (`required_stems`), finds the pattern's matches while trying far fewer words."""
    verbose = bool(flags & regex.VERBOSE)
    if _WHOLE_PATTERN.search(pattern):
        return None
    top = _split_top(pattern, verbose)
    if top is not None:
        return top
    atoms = _atoms(pattern, verbose) or []
    for k, (atom, _, quantified) in enumerate(atoms):
        if atom.startswith("(?:") and not quantified:
            inner = _split_top(atom[3:-1], verbose)
            if inner is not None:
                before, after = "".join(a for a, _, _ in atoms[:k]), "".join(a for a, _, _ in atoms[k + 1:])
                return [f"{before}(?:{b}){after}" for b in inner]
    return None


def nested_alternatives(pattern: str, flags: int, usable, split_from: int = 0) -> list[str]:
    """`pattern`'s branches (`alternatives`), each at least `split_from` characters long split again into its own where
    every one of those is `usable`, and so on down: "\\b(?:a|b)s|e" -> "\\b(?:a)s", "\\b(?:b)s", "e", in the order the
    alternation tries them; `[pattern]` where it has no branches or one of them is not `usable`."""
    parts = alternatives(pattern, flags)
    if not parts or not all(usable(b) for b in parts):
        return [pattern]
    return [b for part in parts
            for b in (nested_alternatives(part, flags, usable, split_from) if len(part) >= split_from else [part])]
