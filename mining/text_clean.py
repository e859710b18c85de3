"""Turn whatever a report export holds into clean text: bytes decoded, RTF, HTML and HL7 escapes
stripped, control characters made spaces. Plain text keeps its length (offsets stay valid): only
control characters are replaced, one for one; a lone CR becomes a line break.
"""
from __future__ import annotations

import html

import regex

_CTRL = regex.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff\u2028\u2029]")
_LONE_CR = regex.compile(r"\r(?!\n)")
_HTML_HINT = regex.compile(r"<(?:/?(?:p|br|div|span|b|i|u|li|ul|ol|html|body|table|tr|td|font|strong|em|h\d)\b[^>]*|!--)", regex.IGNORECASE)
_HTML_BREAK = regex.compile(r"<\s*(?:br\s*/?|/p|/div|/li|/tr|/h\d|p\b[^>]*|li\b[^>]*)\s*>", regex.IGNORECASE)
_HTML_TAG = regex.compile(r"<[^>]{0,1000}>")
_HTML_DROP = regex.compile(r"<(script|style)\b.*?</\1\s*>", regex.IGNORECASE | regex.DOTALL)
#: HL7 v2 formatted text (a report as an ORU message's OBX-5 carries it): a line break or a hex-coded CR/LF
_HL7_HINT = regex.compile(r"\\\.br\\|\\\.sp\s*\d*\\|\\X0[DA](?:0[DA])?\\", regex.IGNORECASE)
#: every HL7 escape: formatting commands (.br, .sp N, .in N, ...), delimiters (F S T R E), highlighting (H N), hex (Xhh),
#: and local ones (Z...)
_HL7_ESCAPE = regex.compile(r"\\(?:\.((?i:[a-z]{2}))\s*([+-]?\d+)?|([FSTREHN])|X((?:[0-9A-Fa-f]{2})+)|Z[^\\\r\n]{0,40})\\")
_HL7_DELIMITERS = {"F": "|", "S": "^", "T": "&", "R": "~", "E": "\\", "H": "", "N": ""}


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM); else Windows-1252; never raises."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("utf-8", errors="replace")


def strip_rtf(text: str) -> str:
    out = []
    i, n = 0, len(text)
    depth_skip: list[int] = []
    depth = 0
    while i < n:
        c = text[i]
        if c == "{":
            depth += 1
            i += 1
            continue
        if c == "}":
            if depth_skip and depth_skip[-1] == depth:
                depth_skip.pop()
            depth -= 1
            i += 1
            continue
        if c == "\\":
            m = regex.match(r"\\(?:([a-zA-Z]+)(-?\d+)? ?|'([0-9a-fA-F]{2})|(.))", text[i:i + 40], regex.DOTALL)
            if not m:
                i += 1
                continue
            word, _arg, hexc, sym = m.groups()
            i += m.end()
            if depth_skip:
                continue
            if word:
                if word in ("par", "line", "row"):
                    out.append("\n")
                elif word == "tab":
                    out.append("\t")
                elif word in ("fonttbl", "colortbl", "stylesheet", "info", "pict", "header", "footer", "generator"):
                    depth_skip.append(depth)
            elif hexc:
                out.append(bytes([int(hexc, 16)]).decode("cp1252", errors="replace"))
            elif sym == "*":
                depth_skip.append(depth)
            elif sym in "{}\\":
                out.append(sym)
            elif sym == "\n":
                out.append("\n")
            continue
        if not depth_skip and c not in "\r\n":
            out.append(c)
        i += 1
    return "".join(out)


def strip_html(text: str) -> str:
    text = _HTML_DROP.sub(" ", text)
    text = _HTML_BREAK.sub("\n", text)
    text = _HTML_TAG.sub("", text)
    return html.unescape(text)


def strip_hl7(text: str) -> str:
    """HL7 v2 formatted text as plain text: "\\.br\\" and hex CR/LF are line breaks, "\\.sp N\\" skips N lines (3 at most),
    escaped delimiters are themselves, other formatting is dropped."""
    def one(m: regex.Match) -> str:
        command, number, delimiter, hexes = m.group(1, 2, 3, 4)
        if command:
            command = command.lower()
            if command == "br":
                return "\n"
            if command == "sp":
                return "\n" * (1 + min(max(1, int(number or 1)), 3))
            return " " if command == "sk" else ""
        if delimiter:
            return _HL7_DELIMITERS[delimiter]
        if hexes:
            return decode(bytes.fromhex(hexes)).replace("\r\n", "\n").replace("\r", "\n")
        return ""
    return _HL7_ESCAPE.sub(one, text)


def clean_text(text: str | bytes | None) -> str:
    """Clean report text; markup-free text keeps its length and offsets."""
    if text is None:
        return ""
    if isinstance(text, (bytes, bytearray)):
        text = decode(bytes(text))
    if not isinstance(text, str):
        text = str(text)
    head = text.lstrip()[:10]
    if head.startswith("{\\rtf"):
        text = strip_rtf(text)
    elif _HTML_HINT.search(text[:5000]):
        text = strip_html(text)
    if "\\" in text and _HL7_HINT.search(text):
        text = strip_hl7(text)
    if _CTRL.search(text):
        text = _CTRL.sub(" ", text)
    if "\r" in text:
        text = _LONE_CR.sub("\n", text)
    return text
