"""Findings a report takes back: an addendum, an amended report or a second read saying that a finding described
before (by the preliminary read, the outside report, the report quoted) is not there or is something else ("The
previously described 5 mm nodule ... represents an obliquely oriented vessel", 'the "small right pleural effusion"
described below is not present', 'The outside "consolidation" represents plate-like atelectasis', 'Der voruntersuchte
„Rundherd“ entsprach einer Mukoidimpaktion'). Such a retraction decides its label for the whole report: the finding
it takes back, stated elsewhere in the report (the original read, the quoted report), no longer counts as present."""
from __future__ import annotations

import bisect

import regex

from mining.findings import Mention
from mining.snippets import ROUND_BRACKET

_I = regex.IGNORECASE

#: A sentence speaking of a finding as another read described it: "previously described", "described below", "the
#: outside/preliminary report", '"..."' quoted, "the apparent enlargement", "[AMENDED]", "der voruntersuchte „...“".
#: Each pattern is searched in the lower-cased text only where the text holds its word (as one alternation over the
#: whole text they took ~170 us a report).
_READS = r"\s+(?:report|read|reading|interpretation|impression|study)\b"
_CUES = [(w, regex.compile(p)) for w, p in (
    [("previously", r"previously\s+(?:described|reported|noted|mentioned|suspected|called)\b")]
    + [(w, w + r"\s+(?:above|below|previously|earlier)\b") for w in ("described", "reported", "mentioned")]
    + [(w, r"\b" + w + r"(?:'?s)?" + _READS) for w in ("outside", "preliminary", "provisional", "original", "initial",
                                                      "resident")]
    + [("outside", r"outside\s+[\"“']"), ("[amended]", r"\[amended\]"), ("apparent", r"\bthe\s+apparent\b"),
       ("voruntersucht", r"voruntersucht\w*\s*[„\"]"), ("vorbeschrieben", r"vorbeschrieben"),
       ("beschrieben", r"(?<=\b(?:vor|zuvor|im\s+vorbefund|in\s+der\s+(?:voruntersuchung|vu))\s+(?:als\s+)?"
                       r"(?:[\w-]+\s+){0,4}?)beschrieben"),
       # a point of the report's own list or text above: "Der unter 2. beschriebene Rundherd", "die oben genannte"
       ("beschrieben", r"\b(?:unter|in)\s+(?:punkt\s+)?\d{1,2}\.?\s+beschrieben"),
       ("oben", r"\boben\s+(?:beschrieben|genannt)"),
       ("genannt", r"\b(?:unter|in)\s+(?:punkt\s+)?\d{1,2}\.?\s+genannt")])]
_CUES_I = [(w, regex.compile(rx.pattern, _I)) for w, rx in _CUES]  # where lower-casing changes the text's length
#: A sentence that is its own cue: a finding withdrawn or struck through ("the reference to mosaic attenuation is
#: withdrawn"), or a quoted finding said to be another thing ('The left upper lobe "nodule" corresponds to a plaque').
_SELF_CUED = regex.compile(r"\bwithdrawn\b|\bstruck\s+through\b|\bzurückgenommen\b|[\"“„][^\"“”„\n]{1,40}[\"”“]"
                           r"[ \t]+(?:\w+[ \t]+){0,3}?(?:represents?|corresponds?\s+to|is\s+in\s+fact|entspricht|entsprach)\b",
                           _I)
_SELF_CUED_WORDS = ("withdrawn", "struck", "zurückgenommen", '"', "“", "„")
#: ... and saying that it is not there ...
_GONE = regex.compile(
    r"\b(?:(?:is|are)\s+not\s+present|(?:is|was|has\s+been)\s+withdrawn|(?:is|was)\s+(?:shown\s+as\s+)?struck\s+through"
    r"|(?:wird|wurde)\s+zurückgenommen|(?:hat|haben)\s+sich\s+nicht\s+bestätigt"
    r"|nicht\s+bestätigt|the\s+apparent\s+(?:\w+\s+){0,3}?(?:was|is)\s+(?:due\s+to|related\s+to|caused\s+by))\b", _I)
#: ... or that it is a normal structure or an artefact ("represents a vessel", "entsprach einer Mukoidimpaktion"), not
#: an interpretation of a finding that is there ("the opacity is favored to represent pulmonary infarction"); a quoted
#: finding it calls another thing ('The outside "consolidation" represents plate-like atelectasis') is taken back too.
_IS_ANOTHER = regex.compile(
    r"\b(?:represents?|representing|is\s+in\s+fact|was\s+in\s+fact|corresponds?\s+to|is|was|entspricht|entsprach"
    r"|entsprechen|entsprachen)\b", _I)
_NORMAL_THING = regex.compile(
    r"[ \t]+(?:an?\s+|einer?\s+|einem\s+|the\s+)?(?:[\w-]+\s+){0,8}?(?:vessels?|vein|artery|fat(?:\s+pad)?|artefact|artifact"
    r"|motion|partial\s+volume|mucus|mucous|mucoid|gefäß\w*|gefäss\w*|vene|arterie|fett\w*|artefakt\w*|mukoid\w*"
    r"|schleim\w*|summation\w*)\b", _I)
_QUOTED = regex.compile(r"[\"“„'][ \t]*(?:[\w-]+[ \t]+){0,4}?$")
#: Where a finding is: its lobe, side and size, to tell the finding taken back from others of its label.
_LOBE = regex.compile(r"\b(?:(?P<side>right|left|rechts?|links?)\w*\s+(?P<lobe>upper|middle|lower|ober|mittel|unter)"
                      r"|(?P<abbr>[RL][UML]L)\b|(?P<ling>lingul))", _I)
_SIZE = regex.compile(r"\b\d+(?:[.,]\d+)?\s*(?:mm|cm)\b", _I)


def _subject_of(text: str, end: int, verb: int) -> bool:
    """Whether the finding ending at `end` is what the verb at `verb` speaks of: at most 80 characters between, and no
    clause between ("... perifissural nodule and needs no follow-up; the PET-CT recommendation is withdrawn")."""
    # (a bracket's commas break no clause: "(series 4, image 212)")
    return verb - end <= 80 and _CLAUSE_BREAK.search(ROUND_BRACKET.sub(" ", text[end:verb])) is None


_CLAUSE_BREAK = regex.compile(r"[;:]|,\s+(?!\d)|\b(?:and|but|und|aber|sowie)\b", _I)


def _is_normal_thing(text: str, verb: regex.Match, end: int) -> bool:
    """Whether a normal structure or an artefact follows `verb`: "represents an obliquely oriented vessel", "is a
    branching vessel" (after "is"/"was" only with an article: not "is adjacent to a vessel")."""
    # (brackets out: "entspricht bei Durchsicht der MIP (Serie 8, Bild 41) einem angeschnittenen Gefäß")
    m = _NORMAL_THING.match(ROUND_BRACKET.sub(" ", text[verb.end():end]))
    return m is not None and (verb.group().lower() not in ("is", "was") or _ARTICLE.match(text, verb.end()) is not None)


_ARTICLE = regex.compile(r"[ \t]+(?:an?|the)\s", _I)


def _where(text: str, a: int, b: int) -> set[str]:
    """The lobes and sizes named in text[a:b]: {"RUL", "7mm"}."""
    out = set()
    for m in _LOBE.finditer(text, a, b):
        if m.group("abbr"):
            out.add(m.group("abbr").upper())
        elif m.group("ling"):
            out.add("LUL")
        else:
            side = "R" if m.group("side")[0] in "rR" else "L"
            out.add(side + {"u": "U", "o": "U", "m": "M", "l": "L"}[m.group("lobe")[0].lower()] + "L")
    out |= {regex.sub(r"\s", "", m.group()).replace(",", ".").lower() for m in _SIZE.finditer(text, a, b)}
    return out


#: A present finding the retraction leaves standing: "New 4 mm nodule in the left lower lobe", "In addition, ...".
_NEW = regex.compile(r"\b(?:new|newly|additional|also|in\s+addition|another|neu\w*|zusätzlich\w*|weitere\w*)\b", _I)


def take_back(text: str, mentions: list[Mention], sentences: list[tuple[int, int]], sent_starts: list[int]) -> None:
    """Apply the report's retractions to `mentions` (in place): in a sentence with one of `_CUES` that says a finding
    named before it is not there (`_GONE`) or is a normal thing (`_IS_ANOTHER` `_NORMAL_THING`, or any other thing when the
    finding is quoted), that finding is absent; each label such a sentence states absent or uncertain takes that value
    wherever else the report states it present at the same place (lobe, size), or, when the retraction names no place,
    anywhere except beside a word for a new finding."""
    low = text.lower()
    hay, rxs = (low, _CUES) if len(low) == len(text) else (text, _CUES_I)
    cues = sorted(m.start() for w, rx in rxs if w in low for m in rx.finditer(hay))
    if not cues and not any(w in low for w in _SELF_CUED_WORDS):
        return
    decided: dict[str, tuple[str, set[str]]] = {}
    in_retraction: set[int] = set()
    starts = [m.start for m in mentions]
    for s0, s1 in sentences:
        k = bisect.bisect_left(cues, s0 - 24)  # (a cue may open a sentence the splitter cut: "unter 2. | beschriebene")
        cued = k < len(cues) and cues[k] < s1
        if not cued and _SELF_CUED.search(text, s0, s1) is None:
            continue
        gone = _GONE.search(text, s0, s1)
        another = [m for m in _IS_ANOTHER.finditer(text, s0, s1)]
        if gone is None and not another:
            continue
        where = _where(text, s0, s1)
        lo = bisect.bisect_left(starts, s0)
        hi = bisect.bisect_left(starts, s1, lo)
        for j in range(lo, hi):
            mn = mentions[j]
            nxt = mentions[j + 1].start if j + 1 < hi else s1  # the verb must follow this mention before the next one
            if mn.value == "present" and (
                    gone is not None and mn.end <= gone.start() < nxt and _subject_of(text, mn.end, gone.start())
                    or any(mn.end <= v.start() < nxt and _subject_of(text, mn.end, v.start())
                           and (_is_normal_thing(text, v, s1) or _QUOTED.search(text, s0, mn.start) is not None)
                           for v in another)):
                mn.value, mn.modifier = "absent", "retracted"
            if mn.modifier == "retracted" or gone is not None and mn.value in ("absent", "uncertain"):
                in_retraction.add(j)
                decided[mn.label] = (mn.value, where)
    for j, mn in enumerate(mentions):
        if j in in_retraction or mn.label not in decided or mn.value != "present":
            continue
        value, where = decided[mn.label]
        k = bisect.bisect_right(sent_starts, mn.start) - 1
        s0, s1 = sentences[k] if k >= 0 else (mn.start, mn.end)
        if where & _where(text, s0, s1) if where else _NEW.search(text, s0, s1) is None:
            mn.value, mn.modifier = value, "retracted"
