"""ConText/NegEx-style modifiers from `mining/rules/context.jsonl`.

Triggers are phrases (or a pattern) with a category (negated, uncertain, hypothetical, prior, current,
terminate, pseudo) and a direction; `list_break` patterns name what, right after a comma, starts a new
statement (the comma then ends a scope). One scan finds the phrase triggers (a phrase trie,
longest phrase at a position wins, so pseudo-triggers such as "no significant change" shadow
"no"), a second the pattern triggers and list breaks. A forward
trigger modifies finding mentions after it up to the next terminator or the sentence end;
a backward trigger those before it back to a terminator or the sentence start; a sentence trigger (an exam's label,
"Prior: ...") those after it to the sentence end, over terminators; an attribute trigger only a mention
right after it ("the previous consolidation"); when several apply, the nearest decides.
"""
from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass

import regex

from mining import rules as rules_mod
from mining.prefilter import re_agrees


_DATES = rules_mod.macros_of("context")  # the shipped rules' date macros, which the prior_date triggers use
#: The prior exam named in German: "in der Voruntersuchung", "aus der VU", after an image "der Voruntersuchung" (its
#: genitive: "Bild 40 der Voruntersuchung"), "im Vor-CT".
PRIOR_EXAM_DE = (r"(?:(?:in|auf|aus)\s+)?der\s+(?:voruntersuchung|vu|voraufnahme|vor-ct|vor-pet(?:[-/]ct)?|t0)\b"
                 r"|(?:im|des|aus\s+dem|auf\s+dem)\s+vor-(?:cts?|pets?|pet[-/]cts?)\b")
#: A time back from the exam: "2 years ago", "vor 3 Monaten".
AGO = r"\d{1,2}\s+(?:years?|months?|weeks?|days?)\s+ago\b|vor\s+\d{1,2}\s+(?:jahren|monaten|wochen|tagen)\b"
#: Words for an exam.
EXAM_WORD = (r"ct|cta|pet[-/]?ct|mri?|study|exam|examination|scan|chest\s+ct|ct\s+chest|untersuchung|voruntersuchung"
             r"|aufnahme")
#: A dated exam named after a reference, which dates it: "of the CT from 2 years ago", "of the 2023 CT", "in der CT vom
#: 02.05.2025".
DATED_EXAM = (rf"(?:of|on|from|in)\s+(?:the|a)\s+(?:(?:prior|previous|earlier|outside|baseline)\s+)?(?:{EXAM_WORD})\s+"
              rf"(?:from|of|dated|on)\s+(?:{_DATES['DATE_EN']}|{AGO})"
              rf"|(?:in|auf|aus)\s+(?:der|dem)\s+(?:{EXAM_WORD})\s+(?:vom|von|aus)\s+(?:{_DATES['DATE_DE']}|{AGO})"
              rf"|(?:of|on|from|in)\s+the\s+(?:19|20)\d{{2}}\s+(?:{EXAM_WORD})\b")
#: A date, or a dated exam, named after a reference: "(3:45) on 1/2/2020", "(Serie 3, Bild 45) vom 02.05.2025", "in 2023".
DATED = (rf"{DATED_EXAM}|(?:on|from|of|dated|in)\s+(?:(?:the|a)\s+)?(?:(?:{EXAM_WORD})\s+)?(?:{_DATES['DATE_EN']}|{AGO})"
         rf"|(?:vom|von|aus|am|in)\s+(?:{_DATES['DATE_DE']}|{AGO})")


@dataclass(slots=True, frozen=True)
class Trigger:
    start: int
    end: int
    category: str
    direction: str
    rule: str


class ContextRules:
    def __init__(self, path=None):
        rs = rules_mod.load("context", path)
        self.lookup: dict[str, tuple[str, str, str]] = {}
        phrases: list[str] = []
        # patterns beside the phrases: list breaks (a comma that starts a new statement, "No effusion, small nodule",
        # ends a scope as ';' does, while other commas continue a list under one trigger: "No effusion, pneumothorax
        # or consolidation") and triggers given as a pattern (a date: "4 mm on 1/2/2020 (2:40)" is the prior exam)
        extras: list[str] = []
        self.forward_breaks: list[tuple[regex.Pattern, str]] = []
        self.extra_info: dict[str, tuple[str, str, str, bool]] = {}  # group -> (category, direction, rule, comma only)
        for r in rs:
            if r.kind == "list_break":
                # "forward": the break ends only the scopes running forward over it ("No pneumothorax, effusion on
                # the right"), not a backward one that reaches back over it ("Erguss, Infiltrat rechts ausgeschlossen")
                direction = r.get("direction", "terminate")
                if direction not in ("terminate", "forward"):
                    raise rules_mod.RuleError(f"context: rule {r.id!r}: a list_break's direction is 'terminate' or "
                                              f"'forward', not {direction!r}")
                if direction == "forward":  # searched only after a forward modifier (`_forward_breaks`)
                    self.forward_breaks.append((r.compiled, r.id))
                    continue
                extras.append(r.pattern)  # the comma before it included (`rules.load`)
                self.extra_info[f"x{len(extras) - 1}"] = ("terminate", direction, r.id, True)
            elif r.kind == "trigger" and "phrases" not in r.data:
                extras.append(r.pattern)
                self.extra_info[f"x{len(extras) - 1}"] = (r.get("category"), r.get("direction"), r.id, False)
        # one alternation of them (the reference scan), and each compiled alone for `rules.leftmost_scan`
        self.extra = regex.compile("|".join(f"(?P<x{i}>{p})" for i, p in enumerate(extras)),
                                   regex.IGNORECASE | regex.VERBOSE) if extras else None
        self.extra_each = [regex.compile(p, regex.IGNORECASE | regex.VERBOSE) for p in extras]
        # what `pattern_matches` scans: each pattern's branches where it has them (`rules.BranchScan`: a branch opening
        # with words of its own is skipped to, and left out where the text lacks them, 'assessed' for "cannot be
        # assessed"), on the lower-cased text through their case-sensitive twins
        self.extra_scan = rules_mod.BranchScan(self.extra_each)
        for r in (r for r in rs if r.kind == "trigger" and "phrases" in r.data):
            for p in r.get("phrases"):
                key = rules_mod.phrase_key(p)
                if key in self.lookup:
                    raise rules_mod.RuleError(f"context: rule {r.id!r}: phrase {p!r} already belongs to rule {self.lookup[key][2]!r}")
                self.lookup[key] = (r.get("category"), r.get("direction"), r.id)
                phrases.append(p)
        # "(?<!\w)" before a phrase that starts with a word character is "\b", which the engine
        # tries only at word starts (a lookbehind is tried at every position)
        lead = r"\b" if all(regex.match(r"\w", p.strip()) for p in phrases) else r"(?<![\w])"
        # a phrase that opens a hyphenated word is no trigger: "Nicht-Zielläsionen", "nicht-verkalkter Rundherd"
        self.regex = regex.compile(lead + r"(?:" + rules_mod.phrases_pattern(phrases) + r")(?!\w|-\w)|;", regex.IGNORECASE)
        # the same pattern for Python's `re`, which scans a text several times faster (15x on German reports): its
        # phrases are in lower case, so it runs case-sensitive on the lower-cased text wherever both engines agree
        # on it (`prefilter.re_agrees`: ASCII and Latin-1 letters), else it runs ignoring case on ASCII texts only
        self.plain_lower = rules_mod.lower_literals(self.regex.pattern) == self.regex.pattern
        try:
            self.plain_regex = re.compile(self.regex.pattern, 0 if self.plain_lower else re.IGNORECASE)
        except re.error:
            self.plain_regex = None

    def scan(self, text: str, sentences: list[tuple[int, int]] | None = None) -> list[Trigger]:
        """Every trigger of `text`, in text order; `sentences` (start, end) bound the search for forward list breaks
        (`_forward_breaks`), else each line does."""
        out = []
        lookup = self.lookup
        low = text.lower()
        rx, hay = self.regex, text
        if self.plain_regex is not None:
            if self.plain_lower:
                if re_agrees(text, low):
                    rx, hay = self.plain_regex, low  # same offsets
            elif text.isascii():
                rx = self.plain_regex
        for m in rx.finditer(hay):
            g = m.group(0)
            if g == ";":
                out.append(Trigger(m.start(), m.end(), "terminate", "terminate", "semicolon"))
                continue
            hit = lookup.get(rules_mod.phrase_key(g))
            if hit:
                if out and out[-1].end > m.start():
                    continue  # inside the pseudo phrase that replaced the negation before it
                t = Trigger(m.start(), m.end(), hit[0], hit[1], hit[2])
                out.append(self._pseudo_within(hay, t, rx) if hit[0] == "negated" else t)
        if self.extra is not None:
            more = []
            for k, m in self.pattern_matches(text, low):
                category, direction, rule, comma = self.extra_info[f"x{k}"]
                more.append(Trigger(m.start(), m.start() + 1 if comma else m.end(), category, direction, rule))
            if more:
                # a prior-exam pattern contains no negation or hedge: "vs" in "(3:260 vs 2:255)" names the compared
                # image, not a differential
                spans = [(t.start, t.end) for t in more if t.category == "prior"]
                if spans:
                    out = [t for t in out if t.category not in MODIFIERS
                           or not any(a <= t.start and t.end <= b for a, b in spans)]
                # a pattern that reads a phrase's words in their place says which way they reach: "..., and resolved
                # left upper lobe consolidation" negates what follows, not the findings listed before it
                same = {(t.start, t.category) for t in more}
                # and a pseudo pattern shadows every phrase where it starts ("the previously straight margin") or
                # inside it ("im Vorbefund nicht beschrieben, zwei neue Noduli")
                pseudo = [(t.start, t.end) for t in more if t.category == "pseudo"]
                out = [t for t in out if (t.start, t.category) not in same
                       and not any(a <= t.start and (t.end <= b or a == t.start) for a, b in pseudo)]
                out = sorted(out + more, key=lambda t: t.start)
        if self.forward_breaks:
            breaks = self._forward_breaks(text, out, sentences)
            if breaks:
                out = sorted(out + breaks, key=lambda t: t.start)
        return out

    def pattern_matches(self, text: str, low: str | None = None):
        """(index, match) of the pattern triggers and list breaks (`self.extra_each`) as `rules.leftmost_scan` of them all
        gives them: on the lower-cased text through the twins of their parts where it agrees (at one start the first
        pattern's first branch, as the alternation of them all takes it), the parts whose gate words the text lacks left
        out (they cannot match). `low`: `text.lower()`, where the caller has it."""
        return self.extra_scan.scan(text, low)

    def _forward_breaks(self, text: str, triggers: list[Trigger], sentences) -> list[Trigger]:
        """The matches of the forward list breaks from each forward modifier to the end of its sentence (or line): they
        end only forward scopes, which reach no further, so elsewhere they change nothing (a scan of the whole text for
        them cost as much as all other pattern triggers together)."""
        out: list[Trigger] = []
        ends = [e for _, e in sentences] if sentences else None
        done = 0
        for t in triggers:
            if t.category not in MODIFIERS or t.direction not in ("forward", "bidirectional") or t.end < done:
                continue
            if ends:
                k = bisect.bisect_right(ends, t.start)
                stop = max(t.end, ends[k] if k < len(ends) else len(text))
            else:
                stop = text.find("\n", t.end)
                stop = len(text) if stop < 0 else stop
            # every list break opens with its comma (`rules.load`): each is tried at the commas of the window, and
            # read on the whole text, so that what it looks ahead at is the text's ("effusion on the\nright")
            c = text.find(",", t.end, stop)
            while c >= 0:
                for rx, rid in self.forward_breaks:
                    if rx.match(text, c) is not None:
                        out.append(Trigger(c, c + 1, "terminate", "forward", rid))
                c = text.find(",", c + 1, stop)
            done = stop
        return out

    def _pseudo_within(self, hay: str, t: Trigger, rx) -> Trigger:
        """A pseudo phrase that starts inside negation `t` and runs past it replaces it: the phrase scan takes the
        leftmost phrase, so "There is no" hid "no significant change" in "There is no significant change in the
        bronchiectasis", which negated the bronchiectasis. `hay`, `rx`: the text the phrase scan ran on (lower-cased
        for `plain_regex`; same offsets) and its pattern."""
        for w in _WORD_START.finditer(hay, t.start + 1, t.end):
            m = rx.match(hay, w.start())
            if m is not None and m.end() > t.end:
                hit = self.lookup.get(rules_mod.phrase_key(m.group(0)))
                if hit is not None and hit[0] == "pseudo":
                    return Trigger(m.start(), m.end(), hit[0], hit[1], hit[2])
        return t


_WORD_START = regex.compile(r"\b\w")


@functools.lru_cache(maxsize=4)
def context_rules(path: str | None = None) -> ContextRules:
    return ContextRules(path)


MODIFIERS = ("negated", "uncertain", "hypothetical", "alternative")


#: What may stand between an attribute and the mention it modifies: nothing, or the word right after the attribute and
#: a conjunction ("the previous consolidation and effusion", "vormals ... Milchglasverdichtungen und Konsolidierungen").
_ATTRIBUTE_GAP = regex.compile(r"\s?(?:[\w-]+,?\s+(?:and|or|und|oder|sowie|bzw\.)\s+)?", regex.IGNORECASE)

#: German "nicht" before an inflected adjective and then the mention: it negates the adjective ("nicht verkalkter
#: Rundherd", "nicht lageabhängige Konsolidierung"); where the mention opens with the adjective ("nicht vergrößerte
#: Lymphknoten") it is negated.
_NOT_ITS_ADJECTIVE = regex.compile(r"(?i:nicht)[ \t]+[a-zäöüß][a-zäöüß-]*(?:e|er|en|es|em)[ \t]+")

#: "and" joining the mention to another finding: a differential after that one ("versus") reaches back no further. Not
#: "with" (a feature of the finding: "consolidation with air bronchograms versus mass"), nor German "und", which German
#: "wahrscheinlich" after a list reaches over ("Erguss und Atelektase wahrscheinlich").
_CONJUNCTION = regex.compile(r"\s(?:and|as\s+well\s+as)\s", regex.IGNORECASE)


def modifier_for(triggers: list[Trigger], starts: list[int], sent_start: int, sent_end: int,
                 m_start: int, m_end: int, text: str = "") -> Trigger | None:
    """The negation/uncertainty/hypothetical trigger that modifies the mention [m_start, m_end), or None.

    A forward trigger may overlap the mention's start ("no pathologically" before "pathologically enlarged
    nodes"), and reaches no mention past the bracket it stands in ("Coronary arteries (not a dedicated study):
    calcification"); German "nicht" before an adjective negates the adjective, not the noun after it
    (`_NOT_ITS_ADJECTIVE`); a bidirectional one ("versus") reaches back over no comma ("opacity, atelectasis versus
    pneumonia") and no conjunction ("emphysema and atelectasis versus scarring"). An alternative
    ("atelectasis/scarring", "and/or", "versus") hedges only a mention that no other trigger modifies: a negation of the
    alternatives negates each ("no atelectasis/scarring", "effusion or consolidation is not seen"). An attribute ("the
    previous consolidation") modifies only a mention right after it, or right after that word and a conjunction
    (`_ATTRIBUTE_GAP`), or one opening inside it ("die vormals vergrößerten LK": the mention "vergrößerten LK"), and
    only where no other trigger does ("the previous consolidation has resolved": absent)."""
    lo = bisect.bisect_left(starts, sent_start)
    hi = bisect.bisect_left(starts, sent_end)
    run_on = sent_end - sent_start > _RUN_ON  # a "sentence" that long is text without punctuation (`_far`)
    best: Trigger | None = None
    best_dist = 1 << 30
    alternative: Trigger | None = None
    attribute: Trigger | None = None
    # forward triggers before the mention (walk backwards until a terminator)
    i = bisect.bisect_left(starts, m_start, lo, hi) - 1
    while i >= lo:
        t = triggers[i]
        if t.direction == "attribute":  # modifies only the word right after it ("the previous consolidation")
            if t.category in MODIFIERS and (t.start < m_start < t.end  # a mention opening with its adjective
                                            or m_start >= t.end and _ATTRIBUTE_GAP.fullmatch(text, t.end, m_start)):
                attribute = attribute or t
            i -= 1
            continue
        if t.end > m_start and t.category not in MODIFIERS:
            i -= 1
            continue
        if t.category == "terminate":
            best = _reaching_sentence(triggers, lo, i)  # a label's modifier reaches over it ("Prior: ..., with ...")
            if best is not None:
                best_dist = m_start - best.end
            break
        if t.category in MODIFIERS and t.direction in ("forward", "bidirectional", "sentence"):
            if t.category == "alternative":
                alternative = alternative or t
                i -= 1
                continue
            if ")" in text[t.end:m_start] and text.count(")", t.end, m_start) > text.count("(", t.end, m_start):
                i -= 1  # in brackets closed before the mention: "Coronary arteries (not a dedicated study): calcification"
                continue
            if t.category == "negated" and _NOT_ITS_ADJECTIVE.fullmatch(text, t.start, m_start):
                i -= 1  # "nicht verkalkter Rundherd": the adjective is negated, not the nodule
                continue
            if run_on and _far(text, t.end, m_start):
                break  # an unpunctuated run-on: "KEIN INFILTRAT IM LI UL SUBPLEURAL 4 MM KNOETCHEN ... VERKALKUNGEN"
            d = m_start - t.end
            if d < best_dist:
                best, best_dist = t, d
            break
        i -= 1
    # backward triggers after the mention (walk forwards until a terminator)
    i = bisect.bisect_left(starts, m_end, lo, hi)
    while i < hi:
        t = triggers[i]
        if t.category == "terminate":
            if t.direction == "forward":  # ends forward scopes only
                i += 1
                continue
            break
        if t.category in MODIFIERS and t.direction in ("backward", "bidirectional"):
            if t.direction == "bidirectional" and ("," in text[m_end:t.start] or _CONJUNCTION.search(text, m_end, t.start)):
                break
            if t.category == "negated" and _about_prior_exam(triggers, i, lo, hi, m_end, text):
                break
            if _clause_in_aside(text, m_end, t.start):
                break
            if t.category == "uncertain" and _STAGE.search(text, m_end, t.start) is not None:
                break  # it hedges the stage between: "Lymphknoten 11R und 7 vergrößert → cN2 (Station 7) möglich"
            if t.category == "alternative":
                alternative = alternative or t
                i += 1
                continue
            if run_on and _far(text, m_end, t.start):
                break
            d = t.start - m_end
            if d < best_dist:
                best, best_dist = t, d
            break
        i += 1
    return best or attribute or alternative


#: A sentence longer than this is a run of text without its full stops (legacy systems' one-paragraph reports in
#: capitals, dictation without punctuation); in it a trigger reaches a mention only over `_WINDOW` words or fewer
#: without a mark between, NegEx's window: its scope cannot end at a sentence's end that is not written.
_RUN_ON = 400
_WINDOW = 6
_GAP_WORD = regex.compile(r"[^\W_]+")
_GAP_MARK = regex.compile(r"[.,;:](?=\s)|[()\n]")


def _far(text: str, a: int, b: int) -> bool:
    """Whether more than `_WINDOW` words and no punctuation stand between `a` and `b`."""
    if b - a <= 2 * _WINDOW or _GAP_MARK.search(text, a, b):  # more words need at least 2 * _WINDOW + 1 characters
        return False
    return sum(1 for _ in _GAP_WORD.finditer(text, a, b)) > _WINDOW


#: A word of two letters or more: a parenthesis holding two before a trigger holds a clause of its own.
_ASIDE_WORD = regex.compile(r"[^\W\d_]{2,}")


def _reaching_sentence(triggers: list[Trigger], lo: int, i: int) -> Trigger | None:
    """The last modifier before `triggers[i]` (from `lo`, the sentence's first) whose scope runs to the sentence's end
    over every terminator (direction "sentence": "Lungs – Prior: wedge-shaped opacity ... compatible with infarction,
    with a small right pleural effusion. Current: ...")."""
    for j in range(i - 1, lo - 1, -1):
        t = triggers[j]
        if t.direction == "sentence" and t.category in MODIFIERS:
            return t
    return None


def _clause_in_aside(text: str, m_end: int, t_start: int) -> bool:
    """Whether a trigger at `t_start` after a mention ending at `m_end` stands in a parenthesis opened between them
    after words of its own: it hedges them, not the mention before the parenthesis ("Verkalkungen der Aorta (die
    ascendierend mit 39 mm grenzwertig weit ist)"), or a stage ("Vergrößerte Lymphknoten 4R und 7 (cN2 nicht
    auszuschließen)"); alone in it, it does ("Erguss (fraglich)")."""
    p = text.rfind("(", m_end, t_start)
    return p >= 0 and text.find(")", p, t_start) < 0 and (len(_ASIDE_WORD.findall(text, p + 1, t_start)) >= 2
                                                          or _STAGE.search(text, p + 1, t_start) is not None)


#: A TNM stage: "cN2", "pT1b", "M1a", "ypN0".
_STAGE = regex.compile(r"\b(?:y?[cpr])?[TNM][0-4x][a-c]?\b")


#: A past tense before "measuring" in its clause: "On 05/03/2023 it was a ground-glass nodule measuring 14 mm".
_PAST = regex.compile(r"\b(?:was|were|had\s+been)\b", regex.IGNORECASE)


def _past_measuring(text: str, t: Trigger, seg_start: int) -> bool:
    """Whether current trigger `t` is a "measuring" (its size too: "measuring 14 mm") that a past tense before it in its
    segment puts in the past: the size of what the report says it was then, not a size now."""
    return (bool(text) and text[t.start:t.start + 9].lower() == "measuring"
            and _PAST.search(text, seg_start, t.start) is not None)


def _right_after_prior(triggers: list[Trigger], i: int) -> bool:
    """Whether a prior-exam trigger ends right before `triggers[i]` starts (one blank at most), whatever else starts
    in it ("prior" in "on the prior" is also a finding's attribute) or where it does ("measuring" and "measuring 4 mm");
    not a prior size before a current one, a change from one to the other ("increased from 2.8 cm to 4.1 cm")."""
    t = triggers[i]
    k = i - 1
    while k >= 0 and triggers[k].start > t.start - 200:  # a trigger is a few words: one that ends here starts near
        p = triggers[k]
        if (p.start < t.start and p.category == "prior" and 0 <= t.start - p.end <= 1
                and not (p.rule in _PRIOR_SIZES and t.rule in _CURRENT_SIZES)):
            return True
        k -= 1
    return False


_PRIOR_SIZES = frozenset({"prior_measure_en", "prior_measure_de"})
_CURRENT_SIZES = frozenset({"current_measure_en", "current_measure_de"})


#: Words of a negation saying that a finding went away, which the prior exam named beside it had.
_WENT_AWAY = ("mehr", "longer", "resolv", "rückgebild", "zurückgebild", "resorb", "regredient", "verschwunden", "cleared",
              "disappeared")


def _about_prior_exam(triggers: list[Trigger], i: int, lo: int, hi: int, m_end: int, text: str) -> bool:
    """Whether the negation `triggers[i]` after a mention speaks of the prior exam: a prior-exam trigger right next
    to it ("new infiltrate, in der VU nicht vorhanden", "new nodule, not present on the prior exam"); one that says
    the finding went away ("nicht mehr", "no longer", "resolved", "vollständig rückgebildet (zuvor Se 5/Bi 71 der
    Voruntersuchung)") still negates it now."""
    t = triggers[i]
    said = text[t.start:t.end].lower()
    if any(w in said for w in _WENT_AWAY):
        return False
    before = triggers[i - 1] if i - 1 >= lo else None
    after = triggers[i + 1] if i + 1 < hi else None
    return ((before is not None and before.category == "prior" and before.start >= m_end and t.start - before.end <= 4)
            or (after is not None and after.category == "prior" and after.start - t.end <= 4))


#: A size, or a volume: "(previously 38 mm)", "(prev 71 mm3)".
_SIZE = regex.compile(r"\d\s*(?:mm|cm|ml)(?:\^?[23]|[²³])?(?![^\W\d_])", regex.IGNORECASE)


def _aside(text: str, t: Trigger, b: int, seg_start: int | None = None) -> bool:
    """Whether trigger `t` sits in a parenthesis that closes before `b` and gives a size, "(previously 38 mm), series 3
    image 56" (an aside on the old size; "(on the prior study) measured 4 mm (2:40)" says which exam the sentence
    speaks of), or was open at `seg_start` already, the previous reference's: "(Serie 5, Bild 210; VU: nicht
    vorhanden), weitere 6 mm (S5/B88)"."""
    a = t.end
    if ")" not in text[a:b]:
        return False
    depth = 0
    for k in range(a, b):
        ch = text[k]
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                if _SIZE.search(text, t.start, k) is not None:
                    return True
                return seg_start is not None and seg_start < t.start and _opened_in(text, seg_start, t.start) <= 0
            depth -= 1
    return False


def _opened_in(text: str, a: int, b: int) -> int:
    """How many parentheses text[a:b] leaves open (negative: how many it closes that opened before it)."""
    return text.count("(", a, b) - text.count(")", a, b)


_RIGHT_BEFORE_REF = regex.compile(  # the exam word may be described: "the prior abdominal CT (series 2, image 9)"; a
    # pointer may open the parenthesis: "new since 10/09/2024 (compare series 4, image 115)", "(vgl. Serie 2, Bild 40)"
    r"\s*(?:(?:[\w/-]+\s+){0,2}?(?:study|exam|examination|scan|ct|cta|untersuchung)\s*)?[(\[]?\s*"
    r"(?:(?:on|auf|compare|cf\.|vgl\.|see|siehe)\s+)?$",
    regex.IGNORECASE)


_EXAM_LAST = regex.compile(r"\b(?:prior|previous|vu|voruntersuchung|voraufnahme|vorbefund)$", regex.IGNORECASE)


def compared_exam_before(triggers: list[Trigger], starts: list[int], seg_start: int, ref_start: int, text: str) -> bool:
    """Whether the reference at `ref_start` comes right after the exam a comparison names ("improved since the prior
    (2:85)", "unchanged from the previous study (series 2, image 40)"): the prior trigger `temporal_for` passes over as
    the comparison's object, with nothing but an exam word or an opening parenthesis between it and the reference."""
    i = bisect.bisect_left(starts, ref_start) - 1
    while i >= 0 and triggers[i].start >= seg_start:
        t = triggers[i]
        if t.end <= ref_start and t.category in ("prior", "pseudo"):
            if _RIGHT_BEFORE_REF.match(text, t.end, ref_start) is None:
                return False
            if t.category == "pseudo":  # the phrase names the exam itself: "since the prior", "gegenüber der VU"
                return _EXAM_LAST.search(text, t.start, t.end) is not None
            p = triggers[i - 1] if i > 0 else None
            return p is not None and p.start >= seg_start and _comparison_object(text, p, t)
        i -= 1
    return False


def _comparison_object(text: str, p: Trigger | None, t: Trigger) -> bool:
    """Whether the exam trigger `t` is the object of the comparison phrase `p` right before it ("since the prior",
    "stable from previous"), not an exam of its own ("unchanged, previously image 255"; "on the prior"); a size after
    one ("compared to 4 mm") is the prior exam's value, not its object."""
    said = text[t.start:t.end].lower()
    return (p is not None and p.category == "pseudo" and t.start - p.end <= 5
            and not any(c in ",;:()" for c in text[p.end:t.start])
            and not said.startswith(("on ", "in ", "auf ", "at ")) and not said.endswith(("mm", "cm")))


def temporal_for(triggers: list[Trigger], starts: list[int], seg_start: int, ref_start: int, text: str = "") -> Trigger | None:
    """The last prior/current trigger in [seg_start, ref_start), after the last semicolon outside parentheses, not
    shadowed by a pseudo-trigger, nor in a parenthesised aside on an old size that closes before the reference ("42 mm
    (previously 38 mm), series 3 image 56"), nor a current one right after a prior one ("on the prior measuring 4
    mm")."""
    i = bisect.bisect_left(starts, ref_start) - 1
    while i >= 0 and triggers[i].start >= seg_start:
        t = triggers[i]
        if t.rule == "semicolon" and text and text.count("(", seg_start, t.start) <= text.count(")", seg_start, t.start):
            break  # a clause of its own: "previously 13 mm; subcarinal node 9 mm (3:66)" (not "(prior: 2/40; 2/44)")
        if t.end <= ref_start and t.category in ("prior", "current") and not _aside(text, t, ref_start, seg_start):
            if _comparison_object(text, triggers[i - 1] if i > 0 else None, t):  # "since the prior": passed over
                i -= 1
                continue
            if t.category == "current" and (_right_after_prior(triggers, i)  # "on the prior measuring 4 mm": its size
                                            or _past_measuring(text, t, seg_start)):
                i -= 1
                continue
            return t
        i -= 1
    return None
