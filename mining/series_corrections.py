"""An addendum correcting the series that the report's references cite: "Series numbers in the chest findings below
should read series 5, not series 3. Abdominal references on series 2 are correct as written", "the left upper lobe
nodule reference above should read series 6, image 77, not series 4", "Die Bildangaben der Lungenbefunde beziehen sich
nicht auf Serie 3, sondern auf Serie 5". A wrong series puts a snippet on another slice, so the corrected one is kept
(`series_inferred`: the series is no longer the one written beside the image)."""
from __future__ import annotations

import re
from typing import NamedTuple

import regex

from mining.snippets import ROUND_BRACKET

_I = regex.IGNORECASE

#: Words without which a text holds no such correction (most reports: one search).
_GATE = regex.compile(r"\bshould\s+(?:read|be|refer)|\bsondern\b|\blauten\b|\b(?:statt|anstatt|anstelle)\b"
                     r"|\bnot\s+(?:to\s+)?(?:the\s+)?series|\bnicht\s+(?:auf\s+)?(?:die\s+)?serie", _I)

#: Words one of `_GATE`'s branches needs: a text without them is passed over in microseconds (`_GATE` itself: ~50 us a
#: report); its "not (to the) series" branches, however the words between are spaced, are looked for right before each
#: "serie" of the lower-cased text (most reports hold "not" or "nicht" and "serie": a scan of the whole text for them
#: cost ~35 us a report).
_GATE_WORDS = ("should", "sondern", "lauten", "statt", "anstelle")
_NOT_BEFORE = re.compile(r"\b(?:not\s+(?:to\s+)?(?:the\s+)?|nicht\s+(?:auf\s+)?(?:die\s+)?)\Z")


def _not_series(low: str) -> bool:
    """Whether the lower-cased text says "not (to the) series" or "nicht (auf die) Serie" anywhere."""
    i = low.find("serie")
    while i >= 0:
        if _NOT_BEFORE.search(low, max(0, i - 24), i):
            return True
        i = low.find("serie", i + 5)
    return False


#: One correction (what it corrects: the words before it in its sentence, and those after it), the series to read, the
#: series written ("not series 3", "rather than series 4"; "nicht auf Serie 3, sondern auf Serie 5"), and one image
#: where it names one ("should read series 6, image 77").
_CORRECTION = regex.compile(
    r"(?:\bshould\s+(?:read|be|refer\s+to)\s+(?:as\s+|to\s+|on\s+)?series\s*(?P<new>\d{1,5})"
    r"(?:\s*,\s*(?:image|im|img)\.?\s*(?P<img>\d{1,5}))?"
    r"|\bnicht\s+(?:auf\s+|in\s+|aus\s+)?(?:der\s+|die\s+)?serie\s*(?P<old>\d{1,5})[^.\n]{0,60}?\bsondern\s+"
    r"(?:auf\s+|in\s+|aus\s+)?(?:der\s+|die\s+)?serie\s*(?P<new>\d{1,5})"
    r"|\b(?:auf\s+|in\s+)?serie\s*(?P<new>\d{1,5})\s+(?:statt|anstatt|anstelle\s+von)\s+serie\s*(?P<old>\d{1,5})"
    r"|\b(?:sollte|sollten|muss|müssen)\s+(?:\w+\s+){0,3}?serie\s*(?P<new>\d{1,5})\s+(?:lauten|heißen)"
    # "... refer to series 5 (axial 2.5 mm), not series 2", "... beziehen sich auf Serie 5 (...), nicht auf Serie 3"
    r"|\b(?:refers?|relates?|corresponds?)\s+to\s+(?:the\s+)?series\s*(?P<new>\d{1,5})"
    r"(?=(?:\s*\([^()\n]{0,80}\))?\s*,?\s*(?:and\s+)?not\s+(?:to\s+)?(?:the\s+)?series\s*\d)"
    r"|\bbeziehen\s+sich\s+(?:\w+\s+)?auf\s+(?:die\s+)?serie\s*(?P<new>\d{1,5})"
    r"(?=(?:[^.\n;]|\.(?=\d)){0,80}?,?\s*nicht\s+(?:auf\s+)?(?:die\s+)?serie\s*\d))"
    # what follows, to the sentence's end; a line wrapped mid-sentence goes on in lower case
    r"(?P<rest>(?:[^.\n;]|\.(?=\d)|\n(?=(?-i:[a-zäöü]))){0,100})", _I)
_OLD = regex.compile(r"\b(?:not|rather\s+than|instead\s+of|nicht|statt|anstatt)\s+"
                     r"(?:on\s+|from\s+|to\s+|auf\s+|in\s+)?(?:the\s+|die\s+|der\s+)?(?:series|serie)\s*(?P<old>\d{1,5})", _I)

#: After a correction: a reference said to stand as written ("The mediastinal node reference on series 3 is correct",
#: "the reticulation reference remains on series 4", "Die Angabe zum Lymphknoten ist korrekt").
_KEPT = regex.compile(
    r"(?P<what>[^.\n;]{0,100}?)\b(?:references?|refs?|angaben?|bildangaben?|referenz(?:en)?)\b[^.\n;]{0,60}?"
    r"\b(?:(?:is|are)\s+(?:correct|unchanged|right|accurate)|remains?\s+(?:on\s+)?series\s*\d{1,5}|stands?\s+as\s+written"
    r"|(?:ist|sind|bleibt|bleiben)\s+(?:korrekt|richtig|unverändert))\b", _I)

#: What the findings of the lung, and nodules, are called; a correction naming them corrects only their references.
_LUNG_TOPIC = regex.compile(r"\b(?:lung|pulmonary|parenchym\w*|lunge\w*|lungenbefund\w*|pulmonal\w*)\b", _I)
_NODULE_TOPIC = regex.compile(r"\b(?:nodul\w*|rundherd\w*|knötchen|herde?)\b", _I)
_LUNG_WORDS = regex.compile(
    r"lobe|lung|lingul|pulmon|nodul|ground|consolidat|emphysem|bronch|atelecta|scar|fibro|reticul|septal|opacit|bulla"
    r"|cavit|airspace|honeycomb|parenchym|apical|fissur|lappen|lunge|rundherd|knötchen|milchglas|konsolid|atelekt|narb"
    r"|retikul|septen|verdicht|infiltrat|kavern", _I)
_NODULE_WORDS = regex.compile(r"nodul|rundherd|knötchen|\bherd", _I)
#: Words that say nothing about which references: left out when a kept reference's words are compared with a snippet.
_PLAIN = {"the", "this", "that", "above", "below", "current", "study", "reference", "references", "series", "image",
          "images", "numbers", "number", "finding", "findings", "also", "der", "die", "das", "zum", "zur", "and", "und",
          "correct", "correction", "addendum", "study's", "current-study", "comparison", "prior", "for", "all", "not",
          "was", "were", "has", "have", "with"}
_IMAGE = regex.compile(r"\b(?:image|img|im|bild|ima)\.?\s*(\d{1,5})\b", _I)
_PRIOR_TOPIC = regex.compile(r"\b(?:voruntersuchung|vu|vorbefund\w*|prior|previous|comparison)\b", _I)


class Correction(NamedTuple):
    start: int
    end: int
    new: int
    old: int | None
    images: frozenset[int]  # the images it names ("should read series 6, image 77", "(Bild 45 und Bild 61)"); none: all
    priors: bool  # about the prior exam's references ("Die Bildangaben zur Voruntersuchung ..."), else this exam's
    topic: regex.Pattern | None  # the words a corrected reference's snippet holds; None: every reference
    kept: tuple[frozenset[str], ...]  # the words of each reference said to stand as written (a snippet holding all)


def corrections(text: str) -> list[Correction]:
    """Every correction of the series of cited references in `text`, in text order."""
    low = text.lower()
    if not (any(w in low for w in _GATE_WORDS) or _not_series(low)) or _GATE.search(text) is None:
        return []
    out = []
    for m in _CORRECTION.finditer(text):
        new = int(m.group("new"))
        start = max(text.rfind(".", 0, m.start()), text.rfind("\n", 0, m.start()), m.start() - 161) + 1
        what = text[start:m.start()]  # what it corrects: the words before it in its sentence
        about = ROUND_BRACKET.sub(" ", what + " " + m.group("rest"))  # not what the new series shows
        old = m.group("old") or (o.group("old") if (o := _OLD.search(m.group("rest"))) else None)
        topic = (_NODULE_WORDS if _NODULE_TOPIC.search(about) else _LUNG_WORDS if _LUNG_TOPIC.search(about) else None)
        kept = tuple(frozenset(w.lower() for w in regex.findall(r"\w{3,}", k.group("what")) if w.lower() not in _PLAIN)
                     for k in _KEPT.finditer(text, m.end(), min(len(text), m.end() + 400)))
        images = {int(x) for x in _IMAGE.findall(what)} | ({int(m.group("img"))} if m.group("img") else set())
        out.append(Correction(start, m.end(), new, int(old) if old else None, frozenset(images),
                              _PRIOR_TOPIC.search(what) is not None, topic, tuple(k for k in kept if k)))
    return out


def corrected_series(c: Correction, series: int | None, inferred: bool, is_prior: bool, image: int, start: int,
                     snippet: str) -> int | None:
    """The series `c` gives a reference (of the exam `c` is about) that cites `series`, or None where `c` is not about
    it. A series the reference took from a statement ("Image numbers quoted refer to series 2") is corrected only where
    `c` names the series it replaces."""
    if series is None or is_prior != c.priors or series == c.new or c.start <= start < c.end:
        return None
    if (c.old is not None and series != c.old) or (inferred and c.old is None) or (c.images and image not in c.images):
        return None
    if not c.images and c.topic is not None and c.topic.search(snippet) is None:
        return None
    low = snippet.lower()
    if any(all(w[:5] in low for w in words) for words in c.kept):
        return None
    return c.new
