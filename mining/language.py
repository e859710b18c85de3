"""Report language (en or de) from function-word counts: cheap, and good on whole reports."""
from __future__ import annotations

import re

import regex

_DE = regex.compile(
    r"\b(?:der|die|das|und|mit|kein|keine|keinen|nicht|ist|sind|im|zur|zum|vom|bei|eine?|einer|beidseits|"
    r"links|rechts|befund|beurteilung|unauffällig|regelrecht|serie|bild|lunge|herz|kein|ohne|auf|des|den|dem)\b",
    regex.IGNORECASE,
)
_EN = regex.compile(
    r"\b(?:the|and|with|no|not|is|are|of|in|on|there|to|a|an|without|left|right|lobe|lung|heart|findings|"
    r"impression|series|image|normal|seen|noted)\b",
    regex.IGNORECASE,
)


_UMLAUT = regex.compile(r"[äöüßÄÖÜ]")
# on ASCII-only samples Python's `re` reads these patterns exactly as `regex` does, and faster
_DE_ASCII = re.compile(_DE.pattern, re.IGNORECASE)
_EN_ASCII = re.compile(_EN.pattern, re.IGNORECASE)


def detect_language(text: str) -> str:
    sample = text[:4000]
    de_rx, en_rx = (_DE_ASCII, _EN_ASCII) if sample.isascii() else (_DE, _EN)
    de = len(de_rx.findall(sample))
    en = len(en_rx.findall(sample))
    if de == en:
        return "de" if _UMLAUT.search(sample) else "en"
    return "de" if de > en else "en"
