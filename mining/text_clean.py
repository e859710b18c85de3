"""Turn whatever a report export holds into clean text: bytes decoded, UTF-8 decoded twice repaired ("Ã¼" -> "ü"),
RTF, HTML and HL7 escapes stripped, control characters made spaces. Plain text keeps its length (offsets stay valid): only
control characters are replaced, one for one; a lone CR becomes a line break, and so do the " | " that some exports
write for every line break of a report (one without a line break of its own) and the escapes a CSV export may leave in
such a report (backslash-n, backslash-r-backslash-n; backslash-t becomes a tab). A word hyphenated at a line's end, as
PDFs break them, is joined again, its line break moved before it (`join_hyphenated`); OCR's letters for digits in an
image reference are digits again (`repair_ocr_references`), a citation word typed with one slip is mended
(`repair_citation_slips`), and German punctuation dictated as words becomes marks (`spoken_punctuation`), all in
place. Repaired double-decoded UTF-8 is shorter than what came in, as text stripped of markup is: offsets count in the
cleaned text, which the `reports` table holds.
"""
from __future__ import annotations

import html
import re

import regex

_CTRL = regex.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff\u2028\u2029]")
_LONE_CR = regex.compile(r"\r(?!\n)")
_PIPE_BREAK = regex.compile(r"(?<= )\|(?= )")
#: Line breaks and tabs an export wrote as escapes ("\\r\\n", "\\n", "\\t"), in a text without a line break of its own
_ESCAPED_BREAK = regex.compile(r"\\r\\n|\\[nrt]")
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


#: OCR's confusions in an image reference read off a scanned printout: "Bi1d" for "Bild", and "l", "I", "O", "S" for "1",
#: "0", "5" in the number right after a series or image word ("Bi1d l80", "Bild 5l", "Bild 4S"): a token of digits and such
#: letters (an "S" only after a digit)
_OCR_BILD = re.compile(r"\bBi[1lI]d\b")
#: ... and "s1ice" for "slice", "lm"/"lma" for "Im"/"Ima" before a number ("(lma 52)", "(Se 5, lm 143)")
_OCR_SLICE = re.compile(r"\b([Ss])1ice")
_OCR_IM = re.compile(r"\blm(a?)\b(?=[ \t]*:?[ \t]*[0-9lIO]*\d)")
_OCR_TOKEN = re.compile(r"\b(?:\d+[lIOS]|[lIO]+\d)[0-9lIOS]{0,2}\b")  # `re`: ~60 us a 2 KB report here, `regex` ~90
#: a series or image word right before such a token, or before a list it ends ("Bilder 88 und 1O2")
_OCR_KEYWORD_BEFORE = re.compile(
    r"\b(?:[Ss]erie[ns]?|SERIE[NS]?|[Ss]e|SE|[Bb]ild(?:er)?|BILD(?:ER)?|[Bb]i|BI|[Ii]mages?|IMAGES?|[Ii]ma|IMA|[Ii]mg|IMG|"
    r"[Ss]chicht(?:en)?|SCHICHT(?:EN)?|Im|IM|[Ss]lices?)[.:]?[ \t]{0,2}(?:[Nn]r\.?[ \t]*)?(?:[0-9lIOS]{1,4}(?:,[ \t]*|[ \t]+(?:und|and|u\.)[ \t]+))?$")
_OCR_DIGITS = str.maketrans("lIOS", "1105")


def repair_ocr_references(text: str) -> str:
    """`text` with OCR's letter-for-digit confusions undone where they stand in an image reference ("(Serie 2, Bi1d l80)"
    -> "(Serie 2, Bild 180)", "(Se 3 Im 2l4)" -> "(Se 3 Im 214)", "(lma 52)" -> "(Ima 52)"); the same length."""
    if "Bi" in text:
        text = _OCR_BILD.sub("Bild", text)
    if "1ice" in text:
        text = _OCR_SLICE.sub(r"\1lice", text)
    if "lm" in text:
        text = _OCR_IM.sub(r"Im\1", text)

    def one(m: re.Match) -> str:
        keyword = _OCR_KEYWORD_BEFORE.search(text, max(0, m.start() - 24), m.start())
        return m.group(0) if keyword is None else m.group(0).translate(_OCR_DIGITS)
    return _OCR_TOKEN.sub(one, text)


def as_written(word: str, written: str) -> str:
    """Lower-case `word` in the case `written` is in: upper, capitalised or lower."""
    return word.upper() if written.isupper() else word.capitalize() if written[0].isupper() else word


def _slips(word: str) -> set[str]:
    """`word` typed with one slip: two neighbouring letters swapped, one left out, or one doubled or added; in a word of
    five letters or more, one replaced too ("imagw")."""
    letters = "abcdefghijklmnopqrstuvwxyzäöü"
    out = {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)}
    out |= {word[:i] + word[i + 1:] for i in range(len(word))}
    out |= {word[:i] + c + word[i:] for i in range(len(word) + 1) for c in letters}
    if len(word) >= 5:
        out |= {word[:i] + c + word[i + 1:] for i in range(len(word)) for c in letters}
    return out


#: The citation words a typed report slips on ("seires 4 imgae 212", "(Sereie 3, Bidl 42)", "sries 5 image 60"), each
#: with the words of its own length that the reference rules read, by family: a slip is mended to the one of its length
#: (padded with a blank after it where it is longer than all)
_TYPO_WORDS = {"series": ("series", "serie"), "image": ("image", "images"), "bild": ("bild", "bilder"),
               "schicht": ("schicht",)}
_TYPO_MENDED = {"series": {3: "ser", 4: "ser.", 5: "serie", 6: "series"}, "image": {3: "img", 4: "img.", 5: "image",
                                                                                       6: "images"},
                "bild": {3: "Bi ", 4: "bild", 5: "bild ", 6: "bilder"},
                "schicht": {6: "sch.  ", 7: "schicht", 8: "schicht "}}
#: the short forms typed with two letters swapped ("sre 2 img 96"), and a dictation's homophones ("ceases 4 image 180",
#: "Serie 4 wild 170")
_SHORT_SWAPS = {"sre": "series", "esr": "series", "mig": "image", "igm": "image", "ceases": "series", "wild": "bild"}
#: real words one slip from a citation word, and the words the rules read already
_NOT_SLIPS = {"serie", "series", "serien", "seriell", "sories", "sires", "seres", "image", "images", "imaged", "imager",
              "imagen", "imago", "mage", "bild", "bilde", "bilder", "bildern", "bildes", "build", "bilds", "bildet", "blid",
              "bilden", "bilt", "serif", "wilder", "gilder", "milder", "bidder", "schlicht", "schichte", "schichten",
              "seria", "imaging"}
_SLIP_FAMILY = {slip: family for family, words in _TYPO_WORDS.items() for word in words for slip in _slips(word)
                if (len(slip) >= 4 or slip == "bld") and slip not in _NOT_SLIPS} | _SHORT_SWAPS
_SLIP = re.compile(r"\b([^\W\d_]{3,8})(?=[ \t]*[.:#]?[ \t]*\d{1,5}(?![\d.,]*[ \t]*(?:mm|cm|ml|%|x\b|×)))")
#: the other citation word beside it, with its number: "(Sereie 3, Bild 42)", "(Bidl 160 Se.4)"
_PARTNER = {"series": re.compile(r"(?i)\b(?:images?|img|ima|im|bild(?:er)?|bi|b|slices?|sl|schicht|sch)\b\.?[ \t]*[:#]?"
                                 r"[ \t]*\d"),
            "image": re.compile(r"(?i)\b(?:series|serie|ser|se|sr|s)\b\.?[ \t]*:?[ \t]*\d")}
_PARTNER["bild"] = _PARTNER["schicht"] = _PARTNER["image"]
#: a slip alone in its brackets with its number ("(imaeg 71)", "(Bidl 230)") is mended too where the report cites
#: images so with the word spelled right ("(image 142)"): the family's words in brackets before a number
_ALONE = re.compile(r"(?<=\()[ \t]*$")
_ALONE_AFTER = re.compile(r"[ \t]*[.:#]?[ \t]*\d{1,5}[ \t]*[),;]")
_CITED_SO = {family: re.compile(rf"(?i)\([ \t]*(?:{'|'.join(words)})\b\.?[ \t]*:?[ \t]*\d")
             for family, words in _TYPO_WORDS.items()}


def repair_citation_slips(text: str) -> str:
    """`text` with one-slip misspellings of "series", "image" and "Bild" mended where a number follows and the other
    citation word with its number (or its own slip) stands beside it ("seires 4 imgae 212" -> "series 4 image 212",
    "(Sereie 3, Bidl 42)" -> "(Series 3, Bild 42)"), or it stands alone in brackets with its number where the report
    cites images so with the word spelled right ("(imaeg 71)" beside "(image 142)"); the same length: a slip is mended
    to its family's word of its length, the rules' short form ("sries 5" -> "serie 5", "imge 88" -> "img. 88", "Bld 220" -> "Bi  220") or the
    longest word and a blank ("imagees 4" -> "images  4")."""
    found = {m.start(): (m, _SLIP_FAMILY[m.group(1).lower()]) for m in _SLIP.finditer(text)
             if m.group(1).lower() in _SLIP_FAMILY}
    if not found:
        return text
    parts, last = [], 0
    for start, (m, family) in found.items():
        partnered = _PARTNER[family].search(text[max(0, start - 30):m.end() + 40]) is not None or any(
            abs(other - start) <= 40 and fam != family for other, (_, fam) in found.items())
        alone = (_ALONE.search(text, max(0, start - 3), start) and _ALONE_AFTER.match(text, m.end())
                 and _CITED_SO[family].search(text))
        if not (partnered or alone):
            continue
        word = m.group(1)
        mended = _TYPO_MENDED[family].get(len(word)) or _TYPO_MENDED[family][6] + " " * (len(word) - 6)
        if len(mended) != len(word):  # shorter than any word of its family
            continue
        parts += [text[last:start], as_written(mended.lower(), word)]
        last = m.end()
    return "".join(parts) + text[last:] if parts else text


#: Punctuation a German speech recognition wrote out as the words dictated ("... 9 x 8 mm Komma Serie 4 Bild 63 Punkt
#: Spikulierte Randkontur ... neuer Absatz"): a mark closing what stands before it, or opening what follows
_SPOKEN_CLOSE = {"Punkt": ".", "Komma": ",", "Doppelpunkt": ":", "Klammer zu": ")"}
_SPOKEN_MARK = re.compile(r"[ \t]*\b(Punkt|Komma|Doppelpunkt|Klammer zu)\b(?=[ \t\n]|$)"
                          r"|\b(Klammer auf|[Nn]euer Absatz|[Nn]eue Zeile)\b[ \t]*")


def spoken_punctuation(text: str) -> str:
    """`text` with German dictated punctuation made marks, in a text that shows three or more of them and two kinds
    ("Komma", "Punkt"): "... mm Komma Serie 4 Bild 63 Punkt Spikulierte" -> "... mm,      Serie 4 Bild 63.      Spikulierte";
    the same length (a mark takes the word's place, blanks the rest). Negations then end at their sentence's end."""
    found = _SPOKEN_MARK.findall(text)
    if len(found) < 3 or len({a or b.lower() for a, b in found}) < 2:
        return text

    def one(m: re.Match) -> str:
        n = len(m.group(0))
        if m.group(1):
            return _SPOKEN_CLOSE[m.group(1)] + " " * (n - 1)
        return " " * (n - 1) + ("(" if m.group(2) == "Klammer auf" else "\n")
    return _SPOKEN_MARK.sub(one, text)


#: Numbers a speech recognition wrote as words ("series four image 122", "image one hundred twelve", "Serie drei Bild
#: 96", "Bild achtundvierzig"): English words one to ninety-nine and their hundreds, and German numbers as one word
_EN_UNITS = {w: i for i, w in enumerate("one two three four five six seven eight nine".split(), 1)}
_EN_TEENS = {w: i for i, w in enumerate("ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen"
                                        .split(), 10)}
_EN_TENS = {w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
_EN_WORD = "|".join(sorted([*_EN_UNITS, *_EN_TEENS, *_EN_TENS, "hundred"], key=len, reverse=True))
_DE_UNIT = {"ein": 1, "eins": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "fuenf": 5, "sechs": 6, "sieben": 7,
            "acht": 8, "neun": 9}
_DE_TEEN = {"zehn": 10, "elf": 11, "zwölf": 12, "zwoelf": 12, "dreizehn": 13, "vierzehn": 14, "fünfzehn": 15,
            "fuenfzehn": 15, "sechzehn": 16, "siebzehn": 17, "achtzehn": 18, "neunzehn": 19}
_DE_TENS = {"zwanzig": 20, "dreißig": 30, "dreissig": 30, "vierzig": 40, "fünfzig": 50, "fuenfzig": 50, "sechzig": 60,
            "siebzig": 70, "achtzig": 80, "neunzig": 90}


def _alt(words) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_DE_BELOW_100 = f"(?:(?:{_alt(_DE_UNIT)})und(?:{_alt(_DE_TENS)})|{_alt(_DE_TEEN)}|{_alt(_DE_TENS)}|{_alt(_DE_UNIT)})"
#: a German number as one word, its hundreds and the rest in groups (`_german_number`): "vier", "achtundvierzig",
#: "einhundertzwölf"
_DE_NUMBER_WORD = f"(?:(?P<h>{_alt(_DE_UNIT)})?hundert(?:und)?(?P<r1>{_DE_BELOW_100})?|(?P<r2>{_DE_BELOW_100}))"
_DE_NUMBER = regex.compile(_DE_NUMBER_WORD, regex.IGNORECASE)
_NUMBER_WORDS = f"(?:{_EN_WORD})(?:(?:[ \\t]+|-)(?:and[ \\t]+)?(?:{_EN_WORD}))*|{_DE_NUMBER_WORD}"
_IMAGE_WORD = r"(?:(?:image|img|ima|bild|slice|schicht)\b\.?|(?:im|bi|b)\.)"
_NR = r"(?:[ \t]*(?:no\.|nr\.|number\b|nummer\b))?[ \t]*"
#: a number in words after a series word, before an image word ("series four image 122", "Se. vier Ima. 210"), or
#: after an image word, before punctuation (or a dictated mark left as a word, "Bild fünfundvierzig Punkt") or "of",
#: "bis", "to" ("image forty one,", "Bild achtundvierzig."): so words
#: of prose ("on these images two nodules", "in allen Schichten drei Herde") stay words; speech recognition's "to" and
#: "for" for "two" and "four" between a series word and an image word ("series to image 51")
_SPOKEN_NUMBER = regex.compile(
    rf"\b(?:(?:series|serie|sequenz)\b|(?:ser|se)\.){_NR}(?P<num>{_NUMBER_WORDS}|to|too|for)\b"
    rf"(?=[ \t]*,?[ \t]*{_IMAGE_WORD})"
    rf"|\b{_IMAGE_WORD}{_NR}(?P<num>{_NUMBER_WORDS})\b"
    r"(?=[ \t]*(?:[.,;:)\]]|\n|$|(?:of|on|in|bis|to|through|and|und|punkt|komma|klammer|period|comma|full[ \t]+stop)\b))",
    regex.IGNORECASE)
#: "serious" for "series" before a series number and an image word ("serious 3 image 42", "SERIOUS to image 58")
_SERIOUS = regex.compile(rf"\bserious(?=[ \t]+(?:\d{{1,4}}|{_NUMBER_WORDS}|to|too|for)[ \t]*,?[ \t]*(?:images?|img|im)\b)",
                         regex.IGNORECASE)
#: "imagine" for "image" after a series number, before an image number ("series 2 imagine 58")
_IMAGINE = regex.compile(r"(?<=\bseri(?:es|ous)[ \t]*\d{1,4}[ \t]*,?[ \t]*)imagine(?=[ \t]*\d)", regex.IGNORECASE)
_HOMOPHONES = {"to": 2, "too": 2, "for": 4}


def _english_number(words: list[str]) -> tuple[int, int] | None:
    """(value, how many of `words` it takes) of the English number `words` start with ("one hundred and twelve" ->
    (112, 4)); None when they start with none."""
    i, value = 0, 0
    if len(words) > 1 and words[0] in _EN_UNITS and words[1] == "hundred":
        value, i = 100 * _EN_UNITS[words[0]], 2
        if i < len(words) and words[i] == "and":
            i += 1
    if i < len(words) and words[i] in _EN_TENS:
        value += _EN_TENS[words[i]]
        i += 1
        if i < len(words) and words[i] in _EN_UNITS:
            value += _EN_UNITS[words[i]]
            i += 1
    elif i < len(words) and (words[i] in _EN_TEENS or words[i] in _EN_UNITS):
        value += _EN_TEENS.get(words[i]) or _EN_UNITS[words[i]]
        i += 1
    if i and words[i - 1] == "and":  # "one hundred and" before something else: the hundred alone
        i -= 1
    return (value, i) if value else None


def _german_number(word: str) -> int | None:
    m = _DE_NUMBER.fullmatch(word.lower())
    if m is None:
        return None
    value = 100 * (_DE_UNIT[m.group("h")] if m.group("h") else 1) if m.group("r2") is None else 0
    rest = m.group("r1") or m.group("r2") or ""
    if rest in _DE_TEEN or rest in _DE_TENS or rest in _DE_UNIT:
        value += _DE_TEEN.get(rest) or _DE_TENS.get(rest) or _DE_UNIT[rest]
    elif rest:
        unit, tens = rest.split("und", 1)
        value += _DE_UNIT[unit] + _DE_TENS[tens]
    return value


def spoken_numbers(text: str) -> str:
    """`text` with numbers dictated as words after a series or image word written as digits, and speech recognition's
    "serious" for "series" and "imagine" for "image" in a reference undone: "serious 3 image 42" -> "series  3 image 42",
    "series four image 122" -> "series 4    image 122", "Bild achtundvierzig" -> "Bild 48"; the same length (the
    digits take the words' place, blanks the rest)."""
    def serious(m: regex.Match) -> str:
        return ("SERIES " if m.group(0).isupper() else m.group(0)[0] + "eries ")

    if "erious" in text or "ERIOUS" in text:
        text = _SERIOUS.sub(serious, text)
    if "magine" in text or "MAGINE" in text:
        text = _IMAGINE.sub(lambda m: m.group(0)[:4] + ("E  " if m.group(0).isupper() else "e  "), text)

    def one(m: regex.Match) -> str:
        num = m.group("num")
        low = num.lower()
        if low in _HOMOPHONES:
            value, used = _HOMOPHONES[low], num
        elif (de := _german_number(num)) is not None:
            value, used = de, num
        else:
            parts = regex.split(r"([ \t]+|-)", num)  # words and their separators
            words = [w.lower() for w in parts[::2]]
            en = _english_number(words)
            if en is None:
                return m.group(0)
            value, n_words = en
            used = "".join(parts[:2 * n_words - 1])
        digits = str(value)
        head = m.group(0)[:m.start("num") - m.start()]
        return head + digits + " " * (len(used) - len(digits)) + num[len(used):]
    return _SPOKEN_NUMBER.sub(one, text)


def _blank_escape(m: regex.Match) -> str:
    """The line break or tab an escape stands for, padded with blanks before it to the escape's length."""
    return " " * (len(m.group(0)) - 1) + ("\t" if m.group(0) == "\\t" else "\n")


def _cp1252_byte(c: str) -> int:
    try:
        return c.encode("cp1252")[0]
    except UnicodeEncodeError:
        return ord(c)  # Latin-1's C1 controls, where cp1252 leaves a byte undefined


#: How UTF-8's continuation bytes (0x80-0xBF) read in Windows-1252 or Latin-1, and back
_CONT = {c: _cp1252_byte(c) for b in range(0x80, 0xC0)
         for c in {bytes([b]).decode("cp1252", errors="ignore") or chr(b), chr(b)}}
_CONT_CLASS = "[" + regex.escape("".join(sorted(_CONT))) + "]"
#: UTF-8 text decoded once too often as Windows-1252 ("Ã¤" for "ä", "ÃŸ" for "ß", "â€™" for "’"): a lead byte of
#: Latin-1's letters (0xC2, 0xC3) and one continuation, or of general punctuation (0xE2) and two
_MOJIBAKE = regex.compile(f"[\u00c2\u00c3]{_CONT_CLASS}|\u00e2{_CONT_CLASS}{{2}}")


#: A word hyphenated at a line's end, as text copied from a PDF keeps it ("partial atelec-\ntasis"): the word's head
#: after a blank or at a line's start, two lower-case letters after the break; not a compound's first part before "und",
#: "oder", "and", "or" ("Ober-\nund Unterlappen")
_SOFT_HYPHEN_BREAK = regex.compile(
    r"(?P<pre>[ \t]|(?<=^|\n))(?P<head>[^\W\d_]{2,})-[ \t]*\n[ \t]*"
    r"(?!(?:und|oder|bzw|sowie|bis|and|or|to|nor)\b)(?P<tail>[a-zäöüß][^\W\d_]+)")


def join_hyphenated(text: str) -> str:
    """`text` with each word hyphenated at a line's end whole again, the line break moved before it and the text's
    length kept ("with partial atelec-\ntasis." -> "with partial\n  atelectasis."): the label rules and the snippets see
    the word, and offsets stay valid. A hyphen of the word's own is lost ("well-\ndefined" -> "welldefined")."""
    def one(m: regex.Match) -> str:
        word = m.group("head") + m.group("tail")
        lead = "\n" if m.group("pre") else ""
        return lead + " " * (len(m.group(0)) - len(lead) - len(word)) + word
    return _SOFT_HYPHEN_BREAK.sub(one, text)


def repair_mojibake(text: str) -> str:
    """`text` with each UTF-8 sequence that was decoded as Windows-1252 (or Latin-1) decoded again ("PleuraergÃ¼sse" ->
    "Pleuraergüsse"); a sequence that is no valid UTF-8 stays as it is. Shortens the text: call before offsets count."""
    def one(m: regex.Match) -> str:
        raw = bytes(_CONT.get(c, ord(c)) for c in m.group(0))
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return m.group(0)
    return _MOJIBAKE.sub(one, text)


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
    if "\u00c3" in text or "\u00c2" in text or "\u00e2" in text:
        text = repair_mojibake(text)
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
    if "\n" not in text.strip() and text.count("\\n") >= 2:
        text = _ESCAPED_BREAK.sub(_blank_escape, text)  # "\\n" written for line breaks by a CSV export: same length
    if "\n" not in text.strip() and text.count(" | ") >= 3:
        text = _PIPE_BREAK.sub("\n", text)  # an export's line breaks as " | " (no table is one line): same length
    text = repair_ocr_references(text)
    text = repair_citation_slips(text)
    if "Punkt" in text or "Komma" in text:
        text = spoken_punctuation(text)
    text = spoken_numbers(text)
    if "-\n" in text or "- \n" in text:  # after the line breaks are back, so a word broken at one is joined
        text = join_hyphenated(text)
    return text
