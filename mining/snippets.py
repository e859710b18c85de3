"""Snippets: the clause or sentence each reference belongs to, with every reference removed.

`removal_span` widens a reference to what must go with it: its parentheses when they hold
nothing but references ("(series 3, image 45)"), a leading preposition or pointer ("on image 108",
"see 3:45", "e.g. image 201"), and the space before. `partition` splits a sentence holding several reference
expressions into one part per expression, at the strongest clause break between two
expressions (";" > ", and"/", but"/", while" > " and" > ","); a part without a finding word of
its own borrows its neighbour's ("right upper (6:24) and right middle (6:53) nodules").
`render` removes the references from a source span and tidies whitespace and punctuation.
"""
from __future__ import annotations

import regex

from mining.context import DATED_EXAM, PRIOR_EXAM_DE
from mining.findings import finding_rules
from mining.prefilter import may_hold, span_stems

_PAREN_FILLER = regex.compile(
    r"^[\s,;:/&+()\[\]]*(?:(?:and|und|or|oder|see|siehe|vgl\.?|cf\.?|e\.g\.?|eg|ie|z\.\s?b\.?|on|auf|in|at|ref\.?|refs?|"
    r"the|der|die|dem|also|auch|prior|previous|previously|current|now|today(?:['’]?s)?|this|heute|heutige[nmrs]?|vorher|zuvor|"
    r"aktuell|aktuelle[nmrs]?|jetzt|as|best|seen|shown|visible|untersuchung|"
    r"noted|key|of|study|exam|examination|scan|ct|vu|voruntersuchung|voraufnahme|axial|coronal|sagittal|cor|sag|ax|"
    r"above|below|oben|unten|compare|compared|vergleiche|to|with|mit|"
    r"sowie|well|koronar|koronare[nr]?|sagittale[nr]?|axiale[nr]?|transversal|mpr|mip|"
    r"respectively|bzw\.?|ff\.?|s(?=\.)|u\.\s?a\.?|damals|vormals|dort|dortige[nmrs]?|dated|vom|from|vs\.?|versus|"
    # a window, kernel or reconstruction named beside the image: "(series 3, image 45 [lung window])"
    r"lung|lunge|windows?|\w*fenster|kernel|kern|soft|tissue|weichteil\w*|bone|knochen|"
    r"reconstructions?|recon|reformat\w*|rekonstruktion\w*|"
    r"\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})|(?:19|20)\d\d)\b[\s,;:/&+.()\[\]]*)*$",
    regex.IGNORECASE,
)
_EXAMPLE = r"(?:e\.\s?g\.|z\.\s?b\.|i\.\s?e\.|cf\.|for\s+example|for\s+instance|zum\s+beispiel)"
#: A word naming the exam an image is on, right before the reference, goes with it: "current image 90", "prior image 88".
_EXAM_WORD = r"(?:current|prior|previous|baseline|today['’]?s|comparison|aktuellen?|heutigen?|vorherigen?)"
_PREP_BEFORE = regex.compile(
    # "also seen on", "previously seen on" go with the reference, unless it is the sentence's verb ("The nodule is also
    # seen on image 45", "was previously seen on")
    # or follows "see" ("See also on image 45")
    # (the look ahead first: the look behind is then tried only where such a word starts)
    r"(?:\s|^|(?<=[(\[]))(?:(?:(?=(?:also|again|ebenfalls|auch|as|seen|shown|demonstrated|best|visible|noted|previously|"
    r"initially)\s)"
    r"(?<!\b(?:is|are|was|were|be|been|ist|sind|war|waren|see|siehe)\s+(?:(?:also|again|best|ebenfalls|auch|previously|"
    r"initially)\s+)?)"
    r"(?:(?:also|again|ebenfalls|auch)\s+|(?:previously|initially)\s+(?=(?:seen|shown|demonstrated|noted)\s))?"
    r"(?:(?:as\s+)?(?:seen|shown|demonstrated|best\s+seen|visible|noted)\s+)?)?"
    r"(?:(?:at\s+(?:the\s+)?level\s+of|(?:auf|in)\s+(?:der\s+)?höhe(?:\s+(?:von|des|der))?|on|at|in|see|siehe|vgl\.?|auf|from|between|zwischen|spanning|across|throughout|über)\s+)"
    rf"(?:{_EXAMPLE}\s*,?\s*)?"
    rf"(?:the\s+|der\s+|dem\s+|den\s+)?(?:(?:axial|coronal|sagittal|koronaren?|axialen?|sagittalen?|key|{_EXAM_WORD})\s+)?|(?:key|reference)\s+(?:images?\s*[:\-]?\s*)?|"
    # "Atelectasis at both bases, e.g. image 201": the pointer goes with the reference, not left dangling
    rf"{_EXAMPLE}\s*,?\s*(?:(?:on|at|in|auf)\s+)?(?:the\s+|der\s+|dem\s+)?(?:(?:axial|coronal|sagittal|koronaren?|axialen?|sagittalen?)\s+)?|"
    rf"(?:axial|coronal|sagittal|koronaren?|axialen?|sagittalen?|{_EXAM_WORD})\s+)\Z",
    regex.IGNORECASE,
)
#: The plane a reference names in parentheses after it, which goes with it: "in Bild 120 der Serie 4 (axial)".
PLANE_AFTER = regex.compile(r"[ \t]*\((?:axial|coronal|sagittal|transversal|koronar|ax|cor|sag)\w*\.?\)", regex.IGNORECASE)
#: The exam a reference names after it, which goes with it: "see image 45 of the prior study", "(2:40 for comparison)".
_EXAM_AFTER = regex.compile(
    rf"[ \t]+(?:{DATED_EXAM}|(?:of|on|from|in)\s+(?:the|a)\s+(?:prior|previous|comparison|outside|earlier|baseline|old)"
    rf"(?:\s+(?:study|exam|examination|ct|scan|ct\s+scan)\b|(?=\s*(?:[.,;:)\]]|$)))|{PRIOR_EXAM_DE}|for\s+comparison\b|"
    # the series an image is on, described rather than numbered: "image 45 of the thin-section series (series 5)"
    rf"(?:of|on|in|from)\s+the\s+(?:[\w-]+\s+){{0,3}}?series\b|(?:der|in\s+der|aus\s+der)\s+(?:[\w-]+\s+){{0,3}}?[\w-]*serie\b|"
    rf"zum\s+vergleich\b)",
    regex.IGNORECASE,
)
_CLAUSE_BREAKS = [
    regex.compile(r";"),
    regex.compile(r",\s+(?:and|but|while|whereas|und|aber|sowie|wobei|as\s+well\s+as)\b", regex.IGNORECASE),
    regex.compile(r"\s(?:and|und|as\s+well\s+as|sowie|while|whereas)\s", regex.IGNORECASE),
    regex.compile(r",(?!\d)"),  # not a decimal comma ("4,5 x 3,0 cm")
]
_LEAD_TRIM = regex.compile(r"(?:[\s,;:.\-–•*]+|(?:\d{1,2}[.)]\s+)|(?:[a-h]\)\s+)|(?:\#\d{1,2}[.):]?\s+)|(?:\(\d{1,2}\)\s+)|(?:(?-i:[a-h])\.\s+)|(?:and|und|but|aber|while|whereas|sowie|as\s+well\s+as)\b)+", regex.IGNORECASE)
#: What `trim_span` drops from a span's end, found from the end (`_trail_start`): blanks, ",;:", dashes, and a dangling
#: "and", "und", "or", "oder".
_TRAIL_CHAR = regex.compile(r"[\s,;:\-–]")
_TRAIL_WORDS = ("and", "und", "or", "oder")
_HEAD_EN = (
    r"\b(?:nodules?|masse?s?|lesions?|opacit(?:y|ies)|consolidation|effusions?|atelecta\w+|emphysema|cyst\w*|foc(?:us|i)|"
    r"calcifications?|thickening|bronchiectas\w+|nodes?|fractures?|hernia|densit(?:y|ies)|scar\w*|fibros\w+|"
    r"granulomas?|hypo(?:dens|attenuat)\w*|hyper(?:dens|attenuat)\w*|pneumothora(?:x|ces)|plug(?:s|ging)?|thromb\w*|emboli?\w*|"
    r"(?:filling\s+)?defects?|collapse|aneurysm\w*|stenos[ie]s|abscess\w*|cavit(?:y|ies|ation)|bullae?|blebs?|infarct\w*|"
    r"tumou?rs?|metasta\w*|pneumonia|(?:lymph)?adenopathy|plaques?|honeycomb\w*|reticulat\w*|ground[- ]glass|"
    r"tree[- ]in[- ]bud|bronchiolectas\w*|calcified|bands?|strands?|airspace|ggos?)"
)
# German words, also inside compounds ("Lungenrundherd", "Lungenembolie"): a substring is enough here
_HEAD_DE = (
    r"herd|knoten|knötchen|nodul(?:us|i)\b|granulom|läsion|verdichtung|erguss|ergüss|zyste|ektase|infiltrat|verkalkung|emphysem|"
    r"milchglas|trübung|fibros|hernie|"
    r"konsolidierung|raumforderung|metastase|hypodens|pneumothorax|kollaps|aneurysma|stenose|abszess|kaverne|verhalt|"
    r"füllungsdefekt|austritt|thromb|embol|tumor|adenopath|"
    r"\b(?:lk|rf)\b"  # Lymphknoten, Raumforderung as written in short
)
HEAD_WORD = regex.compile(f"{_HEAD_EN}|{_HEAD_DE}", regex.IGNORECASE)
_HEAD_WORD_EN = regex.compile(_HEAD_EN, regex.IGNORECASE)
_HEAD_DE_STEMS = span_stems(regex.compile(_HEAD_DE, regex.IGNORECASE))


def head_word(text: str, s: int = 0, e: int | None = None) -> regex.Match | None:
    """`HEAD_WORD.search(text, s, e)`. Its German words, substrings without a word boundary, make the engine try every
    position (8.6 us a sentence against 2.4 for the English words alone): they are scanned only where the span holds
    one of their stems."""
    e = len(text) if e is None else e
    return (HEAD_WORD if may_hold(_HEAD_DE_STEMS, text, s, e) else _HEAD_WORD_EN).search(text, s, e)


#: Words a sentence that only points at a finding named before it is made of ("Previously seen on the prior study,
#: series 2 image 40.", "Slightly larger than before (3:45).", "Bereits in der VU abgrenzbar (Bild 40)."); a sentence with
#: any other word of three or more letters says something of its own ("Patulous esophagus (series 4, image 95).").
ANAPHORIC_WORDS = frozenset("""
previously previous prior seen see also noted note the and with was were are been this that its these those there
here unchanged stable compared comparison exam examination study scan measured measures measuring measurement before
again now currently current same series image images slice slices section axial coronal sagittal reformat reformats
best shown demonstrated visible visualized visualised identified size similar new from since than for example key ref
refer refers reference slightly mildly minimally somewhat more less larger smaller bigger increased decreased grown
growth appearance morphology redemonstrated re-demonstrated persistent persists persisting progressive regressed
interval which when then finding findings lesion also not compare comparing has have had one them largest smallest
biggest dominant baseline nadir
bereits der die das dem den des voruntersuchung abgrenzbar sichtbar unverändert gleich gleichen serie bild bilder
schicht siehe auch vgl ebenfalls größenkonstant jetzt aktuell vorher zuvor damals mit und oder auf ist war wie
vorbeschrieben vorbekannt messend misst größe dort hier nachweisbar darstellbar größer kleiner größenprogredient
größenregredient regredient progredient leicht gering etwas konstant weiterhin persistierend befund vergleich
vergleiche verglichen zum zur dieser diese dieses größte größten kleinste kleinsten hat haben davon einer eine
""".replace("ß", "ss").split())  # looked up as `has_own_content` spells a word: Swiss "ss" for "ß"
_CONTENT_WORD = regex.compile(r"[^\W\d_]{3,}")


def has_own_content(s: str) -> bool:
    """Whether `s` (a sentence with its references cut out) holds a word beyond `ANAPHORIC_WORDS`."""
    for m in _CONTENT_WORD.finditer(s):  # (lazily: the first word of its own decides)
        if m.group().lower().replace("ß", "ss") not in ANAPHORIC_WORDS:
            return True
    return False


_WS = regex.compile(r"[ \t\r\n\xa0\u2000-\u200a\u202f\u205f\u3000]+")  # no-break and thin spaces too
_SPACE_PUNCT = regex.compile(r"\s+([,.;:!?)\]])")
_OPEN_SPACE = regex.compile(r"([(\[])(?:\s*[,;:]+\s*|\s+)")  # "( , 4 mm)" -> "(4 mm)"
#: a comma or semicolon left before a parenthesis where a part was cut out: "lobe, (previously 9 mm)" -> "lobe (...)"
_PUNCT_OPEN = regex.compile(r"(?<=\w)[ \t]*[,;][ \t]*(?=[(\[])")
#: A round bracket on one line with no bracket inside: what the correction and retraction readers set aside ("(series 4,
#: image 212)", "(axial 2.5 mm)").
ROUND_BRACKET = regex.compile(r"\([^()\n]*\)")
_EMPTY_PARENS = regex.compile(r"\(\s*[,;:]*\s*\)|\[\s*[,;:]*\s*\]|\{\s*[,;:]*\s*\}")
_PUNCT_CLOSE = regex.compile(r"(?<=\S)\s*[,;:]+\s*(?=[)\]])")  # "(4 mm on the prior; )" -> "(4 mm on the prior)"
_DOUBLE_PUNCT = regex.compile(r"([,;:])[\s,;:]*([,;:.])")  # a run of them: ", , ." -> "."; ",, ;" -> ","
_DOUBLE_STOP = regex.compile(r"(?<!\.)\.[ ]?\.(?!\.)")  # "Nodule 4 mm. ." (a sentence of references only) -> "Nodule 4 mm."
_WORD_CHAR = regex.compile(r"\w")
#: The verb of a reference that is its clause's subject, which goes with it: "Image 45 shows a 5 mm nodule".
_SUBJECT_VERB = regex.compile(
    r"[ \t]*(?:shows?|demonstrates?|reveals?|depicts?|displays?|is\s+notable\s+for|zeigt|zeigen|demonstriert)\b",
    regex.IGNORECASE)
_BULLETS = " \t\r\n-–•*"
# "Nodules and.", also where a sentence goes on after it ("Nodule and. See also." from an antecedent sentence)
_DANGLING_CONJ = regex.compile(r"\s+(?:and|und|or|oder|sowie)(?=\s*(?:[.;!?)\]]|,?\s*$))"
                               r"|(?<=[(\[][ \t]*)(?:and|und|or|oder|sowie)\s+", regex.IGNORECASE)  # "(and on the left)"
_DOUBLE_DASH = regex.compile(r"([-–—])\s+[-–—](?=\s|$)")  # "Nodule - - unchanged." (a reference between dashes)
_LEADING_DASH = regex.compile(r"\A[-–—]+\s+")
_DANGLING_DASH = regex.compile(r"\s+[-–—]+\s*(?=[.;,!?)\]]|$)")  # "Nodule - series 3, image 45." -> "Nodule."
_COMMA_DASH = regex.compile(r"[,;][ \t]+(?=[-–—][ \t])")  # "6 mm nodule, im 45 se 3 - stable" -> "6 mm nodule - stable"


def _enclosing(text: str, start: int, end: int) -> tuple[int, int]:
    """(opening, closing) index of the parenthesis or bracket around [start, end) within reach, pairs nested in it
    skipped; (-1, -1) when there is none."""
    depth = 0
    for op in range(start - 1, max(0, start - 80) - 1, -1):
        c = text[op]
        if c in ")]":
            depth += 1
        elif c in "([":
            if not depth:
                break
            depth -= 1
    else:
        return -1, -1
    close = ")" if text[op] == "(" else "]"
    for cp in range(end, min(len(text), end + 120)):
        c = text[cp]
        if c in "([":
            depth += 1
        elif c in ")]":
            if not depth:
                return (op, cp) if c == close else (-1, -1)
            depth -= 1
    return -1, -1


def removal_span(text: str, start: int, end: int, others: list[tuple[int, int]] | None = None) -> tuple[int, int]:
    """The span to delete for the reference expression [start, end)."""
    # enclosing parentheses holding only references and filler words
    lp = text.rfind("(", max(0, start - 80), start)
    lb = text.rfind("[", max(0, start - 80), start)
    op = max(lp, lb)
    if op >= 0:
        close = ")" if op == lp else "]"
        cp = text.find(close, end, end + 120)
        opener = "(" if close == ")" else "["
        # the parenthesis must enclose the reference: not closed before it, not reopened after it; else one with a
        # pair nested in it may ("(series 3, images 45-52 (axial) and series 601, image 88 (coronal))")
        if cp >= 0 and (close in text[op + 1:start] or opener in text[end:cp]):
            op, cp = _enclosing(text, start, end)
        if cp >= 0 and "\n\n" not in text[op:cp]:
            inner = text[op + 1:cp]
            # blank out every reference inside (or reaching inside: "image 12 (series 5; see 4:30)"), then see
            # whether filler remains
            rel = [(max(s, op + 1) - op - 1, min(e, cp) - op - 1) for s, e in (others or [(start, end)])
                   if s < cp and e > op + 1]
            rel.append((start - op - 1, end - op - 1))
            rest = _blanked(inner, rel)
            if not rest.strip(" ") or _PAREN_FILLER.match(rest):  # (most hold the reference alone: blanks, a filler)
                s = op
                while s > 0 and text[s - 1] in " \t":
                    s -= 1
                plane = PLANE_AFTER.match(text, cp + 1)
                return s, (plane.end() if plane else cp + 1)
    s = start
    m = _PREP_BEFORE.search(text, max(0, start - 40), start)
    if m:
        s = m.start() + (1 if text[m.start()].isspace() else 0)
    while s > 0 and text[s - 1] in " \t":
        s -= 1
    m = _EXAM_AFTER.match(text, end) or PLANE_AFTER.match(text, end)
    return s, (m.end() if m else end)


def _blanked(s: str, spans: list[tuple[int, int]]) -> str:
    """`s` with each of `spans` (offsets into it, possibly overlapping or reaching past its ends) blanked out by spaces."""
    pieces, pos, n = [], 0, len(s)
    for a, b in sorted(spans):
        a, b = max(a, pos), min(b, n)
        if b <= a:
            continue
        pieces.append(s[pos:a])
        pieces.append(" " * (b - a))
        pos = b
    pieces.append(s[pos:])
    return "".join(pieces)


def trim_span(text: str, s: int, e: int) -> tuple[int, int]:
    m = _LEAD_TRIM.match(text, s, e)
    if m:
        s = m.end()
    e = _trail_start(text, s, e)
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def _trail_start(text: str, s: int, e: int) -> int:
    r"""Where the run of `_TRAIL_CHAR` and `_TRAIL_WORDS` (each a word of its own, any case) ending text[s:e] starts; `e`
    when there is none. The regex search `(?:[\s,;:\-–]+|\b(?:and|und|or|oder))+\Z` finds the same start (the tests
    compare them), but tries the whole span: 3.4 us a sentence, most of `trim_span`'s time."""
    j = e
    while j > s:
        c = text[j - 1]
        if _TRAIL_CHAR.match(c):
            j -= 1
            continue
        if c not in "dDrR":  # no trailing word ends here
            return j
        for w in _TRAIL_WORDS:
            a = j - len(w)
            if a >= s and text[a:j].lower() == w and (a == 0 or not _WORD_CHAR.match(text, a - 1)):
                j = a
                break
        else:
            return j
    return j


def partition(text: str, sent: tuple[int, int],
              groups: list[tuple[int, int]]) -> tuple[list[tuple[int, int]], list[list[tuple[int, int]]]]:
    """Split sentence `sent` into one source span per reference group (spans given as removal spans), and per group the
    spans of other groups' items inside its span, to cut from its snippet."""
    s0, s1 = sent
    if groups:  # another finding before the first reference is no part of what it shows
        s0 = _foreign_lead(text, s0, groups[0][0])
    if len(groups) <= 1:  # nor a negated finding after the last
        s1 = _negated_tail(text, s0, groups[-1][1], s1) if groups else s1
        return [trim_span(text, s0, s1)] * len(groups), [[] for _ in groups]
    cuts = [s0]
    shared = [False] * len(groups)  # a group inside the same parenthesis as the one before ("(4:302; coronal 601:140)")
    opened: list[int] = []  # the parentheses open at `scanned`, from the sentence's start on (`open_parens`)
    scanned = s0
    for k, ((a0, a1), (b0, b1)) in enumerate(zip(groups, groups[1:])):
        if b0 < a1:
            shared[k + 1] = True
            cuts.append(a1)
            continue
        # the next group still inside a parenthesis open at this one's end, with words between them ("14 mm (Se 201/Bi
        # 188; VU 6 mm, Se 2/Bi 180)"): both show one finding
        if a1 >= scanned:  # = open_parens(text, s0, a1), in one pass over the sentence
            opened, scanned = open_parens(text, scanned, a1, opened), a1
            open_at_a1 = opened
        else:  # a group ending inside the one before
            open_at_a1 = open_parens(text, s0, a1)
        shared[k + 1] = bool(open_at_a1) and _CLOSER.search(text, a1, b0) is None
        cut = None
        for rx in _CLAUSE_BREAKS:
            ms = list(rx.finditer(text, a1, b0))
            if ms:
                cut = ms[-1].start()
                break
        if cut is None:
            cuts.append(_past_own_paren(text, cuts[-1], a1, b0))
        elif (own := open_parens(text, cuts[-1], a1)) and _CLOSER.search(text, a1, cut) is None:
            close = _closing(text, a1, b0, len(own))
            if close is None:
                # the break lies inside the part's own parenthesis, which holds the next reference too ("effusions
                # (2:150 on the right, 2:152 on the left)"): the part ends with its reference, and its dangling "(" goes
                # when it is rendered
                cuts.append(a1)
            else:  # ... which closes before it: the part keeps its parenthesis, and a break after it divides the two
                # ("11 mm (Serie 5, Bild 210; VU: nicht vorhanden), weitere 6 mm (S5/B88)")
                after = [ms for rx in _CLAUSE_BREAKS if (ms := list(rx.finditer(text, close + 1, b0)))]
                cuts.append(_before_open_paren(text, close + 1, after[0][-1].start()) if after else close + 1)
        else:
            cuts.append(_before_open_paren(text, a1, cut))
    cuts.append(_negated_tail(text, cuts[-1], groups[-1][1], s1))  # the findings the last part names before it
    parts = [trim_span(text, cuts[i], cuts[i + 1]) for i in range(len(groups))]
    for i in range(1, len(parts)):
        if shared[i]:  # the finding is the one the parenthesis belongs to: from its part's start to this part's end
            parts[i] = (parts[i - 1][0], max(parts[i][1], parts[i - 1][1]))
    for i in range(len(parts) - 1, 0, -1):
        if shared[i]:  # ... and the groups before in that parenthesis show the same finding, up to the same end
            parts[i - 1] = parts[i]
    # parts without a finding head word borrow the following (else preceding) part; when none has one, the first part
    # stands for the finding ("TL2 Lunge li. Unterlappen: 9 mm (Se 4, Im 141) – Baseline 17 mm (Se 5, Im 139)": the
    # baseline's snippet is the row up to it)
    heads: dict[tuple[int, int], bool] = {}  # the parts of one parenthesis are one span: looked at once
    has_head = [heads[p] if p in heads else heads.setdefault(p, _heads_part(text, *p)) for p in parts]
    if not any(has_head):
        has_head[0] = True
    out, cuts = [], []
    items: dict[tuple[int, int], int | None] = {}  # a head part's first item, by span
    trails: dict[int, tuple[int, int] | None] = {}  # a head part's elliptic places and their noun, by index

    def trail_of(h: int) -> tuple[int, int] | None:  # once a head: every part after it asks again
        if h not in trails:
            trails[h] = _elliptic_trail(text, parts, groups, has_head, shared, h)
        return trails[h]

    for i, (p0, p1) in enumerate(parts):
        cut: list[tuple[int, int]] = []
        before = [k for k in range(i) if has_head[k]]
        after = next((k for k in range(i + 1, len(parts)) if has_head[k]), None)
        if has_head[i]:
            # a part that attaches its finding to the one before ("Bronchiectasis (3:120) with mucus plugging (3:125)")
            # keeps that one as its subject; not after a comma, nor one placed elsewhere ("a nodule in the RUL (3:45)
            # with consolidation in the left lower lobe (3:88)"): that is a finding of its own. A part in which the
            # finding before acts on something keeps it wherever it places that ("Hilar mass (3:88) encasing the RUL
            # bronchus with atelectasis (3:70)")
            attached = i and not shared[i] and (
                _ACTS_ON.match(text, p0, p1) is not None
                or (_ATTACHED.match(text, p0, p1) and "," not in text[parts[i - 1][1]:p0] and not _PLACE.search(text, p0, p1)))
            first = _elliptic_first(text, parts, groups, has_head, shared, i) if not attached else None
            place = _final_places(text, parts, groups, first).start() if first is not None else 0
            trail = trail_of(i) if not attached and first is None else None
            if first is not None and place > parts[first][0]:  # "Unchanged right upper (6:24) and right middle (6:53)
                # nodules": the words before the first place lead this part too, the places before its own cut
                out.append((parts[first][0], p1))
                cut = [(place, p0)]
            elif trail is not None:  # "Nodules in the right upper (3:45) and left lower (3:200) lobes": the place noun
                # after the last place ends this part too, the places between cut
                k, noun = trail
                out.append((p0, parts[k][1]))
                cut = [(groups[i][1], noun)]
            elif not attached and (member := _member_of(text, parts, shared, i)) is not None:
                # "Enlarged mediastinal lymph nodes, including a 15 mm subcarinal node (2:60) and a 12 mm paratracheal
                # node (2:42)": a further member of the set the head names keeps the head, the members before cut
                k, lead_end = member
                out.append((parts[k][0], p1))
                cut = [(lead_end, p0)]
            else:
                out.append((out[i - 1][0], p1) if attached else (p0, p1))
        elif after is not None and not (before and _LOOKS_BACK.match(text, p0, p1)):
            out.append((p0, parts[after][1]))
            first = _elliptic_first(text, parts, groups, has_head, shared, after)
            if first is not None and first <= i:  # "Unchanged right upper (6:24) and right middle (6:53) nodules"
                cut = [(groups[i][1], _LEADING_PLACES.match(text, parts[after][0]).end())] + _parts_between(parts, i + 1, after)
        else:  # no head after it, or a part that speaks of the finding before ("..., previously 3 mm (2:38)")
            j = before[-1]
            out.append((parts[j][0], p1))
            # a list under one head ("Multiple nodules: 4 mm RUL (3:45), 5 mm RLL (3:200)"): the head and this item,
            # without the items before it (each up to the next one's start), when the head ends at a break of its own
            # and its first item names no finding ("Target lesion 1: right lower lobe mass, 23 mm" is the finding); a
            # part that speaks of the item before it ("..., the largest 1.8 cm (5:210), previously 1.2 cm (4:198)")
            # keeps that item (not a size then or now: "Nodule, previously 4 mm (2:40), now 6 mm (3:45)")
            if parts[j] not in items:
                items[parts[j]] = _item_after_head(text, *parts[j])
            item = items[parts[j]]
            upto = i - 1 if item is not None and _LOOKS_BACK.match(text, p0, p1) and _names_an_item(
                text, *trim_span(text, item if i - 1 == j else parts[i - 1][0], parts[i - 1][1])) else i
            # a further place of the head's finding: "Nodule in the RUL, 6 mm (3:45), and in the LLL, 4 mm (3:190)"
            # repeats the place the head names before its first break, so it replaces that place rather than following
            # it as an item ("Neue Rundherde, z.B. im Oberlappen 8 mm (...) und im Mittellappen 6 mm" lists items)
            places = (_other_places(text, parts, j, i) if not any(shared[j + 1:i + 1])
                      and (item is None or _PLACE_PREP.match(text, p0)) else [])
            if places and item is not None and places[0][0] >= item:
                places = []
            if not places and item is not None:
                if upto > j and not shared[i] and not head_word(text, item, parts[j][1]):
                    cut = [(a, b) for a, b in [(item, parts[j + 1][0])] + _parts_between(parts, j + 1, upto)
                           if a < b]  # a part sharing the parenthesis before it starts where that one does
            else:
                cut = places
                trail = trail_of(j) if cut else None
                if trail is not None and i < trail[0]:  # "Nodules in the right upper (3:45), right middle (3:120)
                    # and left lower (3:200) lobes": a place before the last takes the shared noun too
                    out[-1] = (parts[j][0], parts[trail[0]][1])
                    cut = cut + [(groups[i][1], trail[1])]
        cuts.append(cut)
    return out, cuts


#: What opens a reading of the finding, not the finding: "(3:215), compatible with organizing pneumonia".
_READING = regex.compile(
    r"\b(?:(?:compatible|consistent)\s+with|suggestive\s+of|in\s+keeping\s+with|concerning\s+for|suspicious\s+for|"
    r"representing|reflecting|due\s+to|vereinbar\s+mit|im\s+sinne\s+(?:einer?|eines|von)|"
    r"a\.\s?e\.|am\s+ehesten|verdächtig\s+auf|passend\s+zu)", regex.IGNORECASE)


#: A German compound saying what a finding is suspicious of: "metastasenverdächtig", "malignomverdächtig".
_SUSPECT_WORD = regex.compile(r"\w+verdächtig", regex.IGNORECASE)


#: What opens the members of a set a finding's head names: "lymph nodes, including a 15 mm subcarinal node".
_MEMBERS_LEAD = regex.compile(r",?\s*\b(?:including|such\s+as|namely|e\.\s?g\.,?|for\s+example|einschließlich|darunter|"
                              r"u\.\s?a\.|z\.\s?b\.)\s+", regex.IGNORECASE)


def _member_of(text: str, parts: list[tuple[int, int]], shared: list[bool], i: int) -> tuple[int, int] | None:
    """(k, where its members start) when part i, with a finding word of its own, is a further member of the set that
    part k before it names and lists ("Enlarged mediastinal lymph nodes, including a 15 mm subcarinal node (2:60) and a
    12 mm paratracheal node (2:42)"): k's finding word, then a word opening members (`_MEMBERS_LEAD`), and part i's
    finding word the same noun (its first four letters: "nodes" and "node", not "nodules"); None otherwise."""
    own = head_word(text, *parts[i])
    if own is None or shared[i]:
        return None
    noun = own.group(0).lower()[:4]
    for k in range(i - 1, -1, -1):  # back over the members before it, each the same noun
        head = head_word(text, *parts[k])
        if head is None:
            continue
        same = head.group(0).lower()[:4] == noun
        lead = _MEMBERS_LEAD.search(text, head.end(), parts[k][1])
        if lead is not None:
            return (k, lead.end()) if same and lead.end() < parts[k][1] else None
        if not same:
            return None
    return None


def _heads_part(text: str, p0: int, p1: int) -> bool:
    """Whether text[p0:p1] names its own finding: a head word before any reading of it ("left lower lobe (3:215),
    compatible with organizing pneumonia" names none: it reads the finding of the part before)."""
    for m in HEAD_WORD.finditer(text, p0, p1):
        if _SUSPECT_WORD.match(text, m.start()):  # "metastasenverdächtig" reads a finding, as "verdächtig auf" does
            continue
        return _READING.search(text, p0, m.start()) is None
    return False


_HEAD_BREAK = regex.compile(r"[:;]|,(?!\d)")
#: Words opening a part that speaks of the finding named before it: its size then or now, its change.
_LOOKS_BACK = regex.compile(
    r"(?:previously|prior|formerly|before|was|were|now|currently|up\s+from|down\s+from|compared|versus|vs\.?|then|"
    r"vormals|zuvor|damals|vorher|früher|aktuell|jetzt|derzeit)\b", regex.IGNORECASE)


#: Words opening a part that attaches its finding to the finding before: "... (3:120) with mucus plugging (3:125)".
_ATTACHED = regex.compile(r"(?:with|mit|containing|including)\b", regex.IGNORECASE)
#: Words opening a part in which the finding before acts on what it names, wherever that lies: "Right hilar mass (3:88)
#: encasing the right upper lobe bronchus with postobstructive atelectasis (3:70)" is one finding and its effect.
_ACTS_ON = regex.compile(r"(?:encasing|obstructing|occluding|compressing|narrowing|invading|infiltrating|causing|"
                         r"resulting\s+in|leading\s+to|ummauert|verlegt|komprimiert|infiltriert|mit\s+konsekutiver)\b",
                         regex.IGNORECASE)
#: Words that place a finding: a side, lobe, base or apex.
_PLACE = regex.compile(r"\b(?:right|left|bilateral\w*|lobes?|bases?|basal|apex|apices|apical|lingula\w*|R[UML]L|L[UL]L|"
                       r"rechts\w*|links\w*|(?:recht|link)e[mnrs]?|beidseit\w*|\w*lappen\w*|apikal\w*)\b", regex.IGNORECASE)


#: A word of three letters or more: what an item says beyond its size ("the largest in the RLL", "RUL", not "6 mm").
_WORD3 = regex.compile(r"[^\W\d_]{3,}")


def _names_an_item(text: str, a: int, b: int) -> bool:
    """Whether text[a:b], a part after a list's head, says which item it is (a place, "the largest"), not only a size
    then or now ("6 mm", "previously 4 mm")."""
    return not _LOOKS_BACK.match(text, a, b) and _WORD3.search(text, a, b) is not None


#: A word placing a finding as an adjective: "right", "upper", "linken", "oberen", a node station ("subcarinal").
_PLACE_ADJECTIVE = (r"(?:right|left|upper|middle|lower|bilateral|(?:recht|link|beid|ober|unter|mittler)e[mnrs]?|"
                    r"(?:peri)?hilar|hiläre?[mnrs]?|subcarinal|subkarinale?[mnrs]?|paratracheale?[mnrs]?|prevascular|"
                    r"prävaskuläre?[mnrs]?|aortopulmonary|aortopulmonale?[mnrs]?|paraesophageal|paraösophageale?[mnrs]?|"
                    r"axillary|axilläre?[mnrs]?|supraclavicular|supraklavikuläre?[mnrs]?|mediastinale?[mnrs]?)\b")
#: The place adjectives a part opens with: "[right middle ]nodules", "[right middle ]lobe nodules".
_LEADING_PLACES = regex.compile(rf"(?:{_PLACE_ADJECTIVE}\s+)+", regex.IGNORECASE)
#: The place adjectives a part ends with, right before its reference: "Unchanged [right upper] (6:24)".
_FINAL_PLACES = regex.compile(rf"\b(?:{_PLACE_ADJECTIVE}\s+)*{_PLACE_ADJECTIVE}\s*$", regex.IGNORECASE)


def _final_places(text: str, parts: list[tuple[int, int]], groups: list[tuple[int, int]], k: int) -> regex.Match | None:
    """The place adjectives part k ends with right before its reference ("Unchanged [right upper] (6:24)")."""
    return _FINAL_PLACES.search(text, parts[k][0], groups[k][0])


def _elliptic_first(text: str, parts: list[tuple[int, int]], groups: list[tuple[int, int]], has_head: list[bool],
                    shared: list[bool], h: int) -> int | None:
    """The first of the parts before head part h that name only places of its finding, elliptically ("right upper
    (6:24) and right middle (6:53) nodules": "right upper" is a place of "nodules"), when h opens with a place too; None
    otherwise. Each such part holds no finding of its own and ends with a place adjective right before its reference
    (`groups`: each part's reference, as a removal span)."""
    if h == 0 or shared[h] or not _LEADING_PLACES.match(text, parts[h][0]):
        return None
    k = h
    while k > 0 and not has_head[k - 1] and not shared[k - 1] \
            and _final_places(text, parts, groups, k - 1):
        k -= 1
    return k if k < h else None


#: The words after the last reference of an elliptic list of places: the place noun they share ("lobes").
_TRAIL_NOUN = regex.compile(r"\s*(?P<noun>[^\W\d_]+(?:[ \t]+[^\W\d_]+)?)\s*(?:[.,;:]|$)")
#: A conjunction opening a place of such a list: "[and ]left lower (3:200) lobes".
_CONJ_LEAD = regex.compile(r"(?:(?:and|und|or|oder|as\s+well\s+as|sowie)\s+)?", regex.IGNORECASE)


def _elliptic_trail(text: str, parts: list[tuple[int, int]], groups: list[tuple[int, int]], has_head: list[bool],
                    shared: list[bool], h: int) -> tuple[int, int] | None:
    """(k, where the noun starts) when head part h ends with a place adjective right before its reference and the parts
    after it up to k name only places, each ending with place adjectives before its reference, k's reference followed by
    the place noun they share ("Nodules in the right upper (3:45) and left lower (3:200) lobes": "lobes"); else None."""
    def ends_at_reference(k: int) -> bool:
        return not text[groups[k][1]:parts[k][1]].strip(" \t,;.")

    if not _final_places(text, parts, groups, h) or not ends_at_reference(h):
        return None
    k = h + 1
    while k < len(parts) and not has_head[k] and not shared[k] and _final_places(text, parts, groups, k) \
            and _LEADING_PLACES.match(text, _CONJ_LEAD.match(text, parts[k][0]).end()):
        m = _TRAIL_NOUN.match(text, groups[k][1], parts[k][1])
        if m is not None:
            return k, m.start("noun")
        if not ends_at_reference(k):
            return None
        k += 1
    return None


#: Where a head part places its finding: "Nodules in the right upper lobe", "Rundherde im rechten Oberlappen".
_PLACE_PREP = regex.compile(r"\b(?P<prep>(?:in|within|at|along|im|am|in\s+der|in\s+den)\s+)(?P<art>(?:the|der|dem|den)\s+)?",
                            regex.IGNORECASE)
_ARTICLE = regex.compile(r"(?:the|der|dem|den)\s", regex.IGNORECASE)
#: A place right after a finding's word, without a preposition: "Nodule[ RUL] 6 mm", "Rundherd[ rechts]".
_BARE_PLACE = regex.compile(r"[ \t]+(?=(?:R[UML]L|L[UL]L|right|left|rechts|links|(?:recht|link)e[mnrs]?)\b)",
                            regex.IGNORECASE)
_SIZE = r"\d+(?:[.,]\d+)?(?:\s*(?:x|×)\s*\d+(?:[.,]\d+)?)*\s*(?:mm|cm)\b"
#: A part that opens with a size and then places it: "4 mm in the LLL".
_SIZE_AT_PLACE = regex.compile(rf"{_SIZE}\s+(?=(?:in|within|at|im|am)\b)", regex.IGNORECASE)
#: A size right before a place: "measuring [6 mm ]in the RUL".
_SIZE_BEFORE = regex.compile(rf"{_SIZE}\s*$", regex.IGNORECASE)


def _other_places(text: str, parts: list[tuple[int, int]], j: int, i: int) -> list[tuple[int, int]]:
    """The spans to cut from the snippet of part i, a further place of the finding head part j names ("Nodules in the
    right upper lobe (3:45) and left lower lobe (3:200)" -> "Nodules in the left lower lobe"): the head's place and the
    places between; none unless every part after the head up to i is a place without a finding of its own."""
    if any(not _PLACE.search(text, *parts[k]) or _LOOKS_BACK.match(text, parts[k][0]) for k in range(j + 1, i + 1)):
        return []
    h0, h1 = parts[j]
    head = head_word(text, h0, h1)
    if head is None:
        return []
    own = parts[i][0]
    m = _PLACE_PREP.search(text, head.end(), h1)
    if m is None or not _PLACE.search(text, m.end(), h1):
        # no preposition: the place right after the finding's word ("Nodule RUL 6 mm (3:45) and LLL 4 mm (3:190)")
        bare = _BARE_PLACE.match(text, head.end(), h1)
        if bare is None or not (_PLACE.match(text, own) or _LEADING_PLACES.match(text, own)):
            return []
        return [(bare.end(), parts[j + 1][0])] + _parts_between(parts, j + 1, i)
    sized = _SIZE_AT_PLACE.match(text, own)
    if sized is not None:  # "Nodules measuring 6 mm in the RUL (3:45) and 4 mm in the LLL (3:190)": from the size before
        # the head's place, when there is one
        before = _SIZE_BEFORE.search(text, head.end(), m.start())
        return [(before.start(), parts[j + 1][0])] + _parts_between(parts, j + 1, i) if before else []
    # this part's own words: from the head's preposition when it repeats one, else its article
    if _PLACE_PREP.match(text, own):
        start = m.start("prep")
    elif _ARTICLE.match(text, own):
        start = m.end("prep")
    elif _PLACE.match(text, own) or _LEADING_PLACES.match(text, own):  # "lingula", "linken Unterlappen"
        start = m.end()
    else:  # "... and another in the left lower lobe (3:200)": a finding of its own words
        return []
    return [(start, parts[j + 1][0])] + _parts_between(parts, j + 1, i)


def _parts_between(parts: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    """Parts lo .. hi-1, each up to the next one's start (what lies between them goes with them)."""
    return [(parts[k][0], parts[k + 1][0]) for k in range(lo, hi)]


def _item_after_head(text: str, p0: int, p1: int) -> int | None:
    """Where the first item starts in a part that opens with a list's head ("Multiple nodules: 4 mm RUL", "Several
    nodules, 4 mm in the RUL"): just after the first break after its first finding word, outside parentheses; None
    when there is none."""
    m = head_word(text, p0, p1)
    if m is None:
        return None
    depth = 0
    for k in range(m.end(), p1):
        c = text[k]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth = max(0, depth - 1)
        elif depth == 0 and _HEAD_BREAK.match(text, k):
            return k + 1
    return None


#: A clause after a reference that states a finding absent: "Nodule in the RUL (3:45), no effusion.", "..., links kein Erguss."
_NEGATED_CLAUSE = regex.compile(r"[ \t]*[;,][ \t]*(?:(?:and|but|und|aber)\s+)?(?:(?:on\s+the\s+)?(?:left|right)(?:\s+side)?,?\s+|"
                                r"(?:links|rechts|li\.|re\.)\s+)?(?:no|without|negative\s+for|kein\w*|ohne)\b",
                                regex.IGNORECASE)


def _negated_tail(text: str, s0: int, a: int, s1: int) -> int:
    """Where the snippet source text[s0:s1] ends: at the break before a clause, after the reference ending at `a`, that
    states another labelled finding absent ("4 mm RUL nodule (3:45); no consolidation": the image shows the nodule); a
    negated quality of the finding stays ("Bronchiectasis (3:140), without mucus plugging"). After a semicolon, a clause
    of its own, any finding word the part before does not hold counts ("Small effusion (2:140); no pneumothorax")."""
    head: set[str] | None = None  # the labels before the reference, read once and only when a negated clause follows
    k = _CLAUSE_START.search(text, a, s1)
    while k is not None:
        m = _NEGATED_CLAUSE.match(text, k.start(), s1)
        if m is not None:
            tail = _labels(text[m.end():s1])
            if tail and head is None:
                head = _labels(text[s0:a])
            if tail and not tail <= head:
                return k.start()
            if not tail and text[k.end() - 1] == ";":
                word = head_word(text, m.end(), s1)
                if word is not None and word.group(0).lower() not in text[s0:a].lower():
                    return k.start()
        k = _CLAUSE_START.search(text, k.end(), s1)
    return s1


_CLAUSE_START = regex.compile(r"[ \t]*[;,](?!\d)")


def _labels(text: str) -> set[str]:
    """The CT-RATE labels the finding rules find in `text`."""
    return {x.label for x in finding_rules().find(text)}


def _foreign_lead(text: str, s0: int, a: int) -> int:
    """Where the snippet source starting at `s0` starts when the first reference starts at `a`: after the last
    semicolon before it (outside parentheses) when the clause from there names a finding of its own and the clauses
    before it name a labelled finding that clause does not ("Paraseptal emphysema; 3 mm nodule in the RUL (3:102)":
    the image shows the nodule); else `s0`. A clause without a finding word of its own keeps what comes before
    ("Multiple nodules; the largest measures 6 mm (3:45)")."""
    k = text.rfind(";", s0, a)
    # a semicolon inside a parenthesis that closes before the reference is that parenthesis' own
    if k < 0 or _closing(text, k + 1, a, 1) is not None or head_word(text, k + 1, a) is None:
        return s0
    lead = _labels(text[s0:k])
    if not lead or lead <= _labels(text[k + 1:a]):
        return s0
    return k + 1


def _past_own_paren(text: str, p0: int, a1: int, b0: int) -> int:
    """Where a part ending at `a1` ends when no clause break follows it: past the ')' that closes a parenthesis it left
    open ("Lymphknoten 4L (VU: 14 mm, Se 3/Bi 50) aktuell 8 mm (Se 4/Bi 52)": the first part keeps its ')'), when that
    ')' comes before the next reference at `b0`; else `a1`."""
    if open_parens(text, p0, a1):
        m = _CLOSER.search(text, a1, b0)
        if m is not None:
            return m.end()
    return a1


_CLOSER = regex.compile(r"[)\]]")


def _closing(text: str, a: int, b: int, depth: int) -> int | None:
    """Where in text[a:b] the `depth` parentheses open at `a` are all closed (the last ')' or ']'), or None."""
    for k in range(a, b):
        c = text[k]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
            if depth == 0:
                return k
    return None


def bracket_open(text: str, a: int, b: int) -> int:
    """Where the parenthesis (or bracket) holding both `a` and `b` (a <= b) opens, on their line; -1 where none does."""
    open_ = max(text.rfind("(", 0, a), text.rfind("[", 0, a))
    return -1 if open_ < 0 or any(c in "()[]\n" for c in text[open_ + 1:b]) else open_


def open_parens(text: str, a: int, b: int, opened: list[int] | None = None) -> list[int]:
    """Where the parentheses opened in text[a:b] and still open at `b` start, outermost first; `opened`: those open at
    `a` (a scan that goes on where an earlier one stopped; the list is updated and returned)."""
    opened = [] if opened is None else opened
    for k in range(a, b):
        c = text[k]
        if c in "([":
            opened.append(k)
        elif c in ")]" and opened:
            opened.pop()
    return opened


def _before_open_paren(text: str, a: int, cut: int) -> int:
    """`cut`, or the opening of a parenthesis left open between `a` and `cut`: a clause break inside "(previously 4 mm,
    series 2 image 40)" cuts before the parenthesis, not inside it."""
    opened = open_parens(text, a, cut)
    return opened[0] if opened else cut


def render(text: str, s: int, e: int, removals: list[tuple[int, int]]) -> str:
    """text[s:e] with the removal spans cut out, whitespace and punctuation tidied."""
    # each tidy step runs only when its characters are there (a snippet is rendered per reference expression)
    out = _one_space(cut_out(text, s, e, _with_subject_verbs(text, s, e, removals)))
    if "|" in out:
        out = _table_row(out)
    if "(" in out or "[" in out or "{" in out:
        out = _EMPTY_PARENS.sub("", out)
    if ")" in out or "]" in out:
        out = _PUNCT_CLOSE.sub("", out)
    out = _SPACE_PUNCT.sub(r"\1", out)
    if "(" in out or "[" in out:
        out = _OPEN_SPACE.sub(r"\1", out)
        out = _PUNCT_OPEN.sub(" ", out)
    if "-" in out or "–" in out or "—" in out:
        out = _DOUBLE_DASH.sub(r"\1", out)
        out = _DANGLING_DASH.sub("", out)
        out = _COMMA_DASH.sub(" ", out)
    out = _DOUBLE_PUNCT.sub(_keep_one_punct, out)
    if _has_conjunction(out):
        cut = _DANGLING_CONJ.sub("", out)
        if cut != out:  # "Nodule, and ." -> "Nodule, ." -> "Nodule."
            out = _DOUBLE_PUNCT.sub(_keep_one_punct, _SPACE_PUNCT.sub(r"\1", cut))
    if ".." in out or ". ." in out:
        out = _DOUBLE_STOP.sub(".", out)
    if "  " in out:  # the steps above only delete, so a run of blanks left behind is spaces
        out = _WS.sub(" ", out)
    out = out.strip(" ,;:")
    if out.startswith(("-", "–", "—")):  # a dash after a reference that opened the snippet: "series 3 image 45 - RUL nodule"
        out = _LEADING_DASH.sub("", out)
    if out.endswith(("(", "[")):  # a part cut before the first reference of a parenthesis: "Nodule 6 mm (" -> "Nodule 6 mm"
        out = out.rstrip(" ([,;:")
    return out if _WORD_CHAR.search(out) else ""  # nothing but punctuation left: no snippet text


def _one_space(s: str) -> str:
    """`_WS.sub(" ", s)`, without the substitution's 2 us where it changes nothing: ASCII text whose only blanks are
    single spaces."""
    if s.isascii() and "  " not in s and "\n" not in s and "\t" not in s and "\r" not in s:
        return s
    return _WS.sub(" ", s)


def _table_row(out: str) -> str:
    """A pipe table's row as its cells joined by commas, without empty cells or a leading row number: "| 1 | RUL nodule
    | | 6 mm |" -> "RUL nodule, 6 mm"."""
    cells = [c.strip() for c in out.split("|")]
    cells = [c for c in cells if c]
    if len(cells) > 1 and cells[0].rstrip(".)").isdigit():
        cells = cells[1:]
    return ", ".join(cells)


def _with_subject_verbs(text: str, s: int, e: int, removals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`removals`, each that opens a clause of the snippet (at its start, or after ':', ';' or '.') taking the verb it
    is the subject of: "Image 45 shows a 5 mm nodule" -> "a 5 mm nodule", not "shows a 5 mm nodule"."""
    out = removals
    for k, (r0, r1) in enumerate(removals):
        if not (r0 < e and s < r1 < e):
            continue
        j = max(s, r0)
        while j > s and text[j - 1] in _BULLETS:
            j -= 1
        if j > s and text[j - 1] not in ":;.":
            continue
        m = _SUBJECT_VERB.match(text, r1, e)
        if m:
            out = out[:k] + [(r0, m.end())] + out[k + 1:]
    return out


def _has_conjunction(out: str) -> bool:
    """Whether `out` holds one of the words `_DANGLING_CONJ` removes (a cheap test before it runs)."""
    low = out.lower()
    return "and" in low or "und" in low or "or" in low or "oder" in low or "sowie" in low


def cut_out(text: str, s: int, e: int, removals: list[tuple[int, int]]) -> str:
    """text[s:e] with each removal span inside it replaced by one space."""
    pieces = []
    pos = s
    for r0, r1 in sorted(removals):
        if r1 <= pos or r0 >= e:
            continue
        if r0 > pos:
            pieces.append(text[pos:r0])
        pieces.append(" ")
        pos = max(pos, r1)
    if pos < e:
        pieces.append(text[pos:e])
    return "".join(pieces)


def _keep_one_punct(m: regex.Match) -> str:
    return m.group(2) if m.group(2) == "." else m.group(1)
