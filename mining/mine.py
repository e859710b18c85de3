"""Mine one report: sections, sentences, references, snippets, prior flags and finding labels.

Everything here works on character offsets into the report text with compiled `regex`
scans; `mining.pipeline` wraps the same steps as spaCy components. `mine_report` returns
the reference rows (fields of the `references` contract), the 18 report labels and the
labels of each snippet. `extract(text)` is the short form returning `Reference`s.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import NamedTuple

import regex

from data_contracts.labels import CT_RATE_LABELS
from mining.context import (DATED, MODIFIERS, PRIOR_EXAM_DE, Trigger, compared_exam_before, context_rules,
                            temporal_for)
from mining.findings import MODIFIED_VALUE, RANK, Mention, aggregate, finding_rules, label_mentions
from mining.language import detect_language
from mining.prefilter import may_hold, span_stems
from mining.references import RawRef, find_references, image_totals, series_mentions
from mining.rules import BranchScan
from mining.sections import find_sections, joined_words, plain_headings, text_end
from mining.sentences import split_sentences
from mining.snippets import (PLANE_AFTER, cut_out, has_own_content, head_word, open_parens, partition, removal_span,
                             render, trim_span)
from mining.tables import column_exam, line_span

LABEL_SECTIONS = frozenset({"FINDINGS", "IMPRESSION", "OTHER"})
_PLANE = regex.compile(r"\b(?:(coronal|koronar\w*|cor\.?)|(sagittal\w*|sag\.?)|(axial\w*|transversal\w*|ax\.?))(?!\w)", regex.IGNORECASE)
_HINT = regex.compile(
    r"\b(?:(?:lung|bone|soft[- ]tissue|mediastinal|pulmonary|parenchymal|abdominal|liver)\s+(?:windows?|kernels?|algorithms?|reconstructions?|settings?)|"
    r"(?:thin|thick)[- ](?:section|slice)s?|mip|minip|mpr|reformat\w*|reconstruction\w*|coronal|sagittal|axial|"
    r"lungenfenster|weichteilfenster|knochenfenster|mediastinalfenster|lungenkern|knochenkern|koronar\w*|sagittal\w*|axial\w*)(?!\w)",
    regex.IGNORECASE,
)
_PLANE_STEMS, _HINT_STEMS = span_stems(_PLANE), span_stems(_HINT)
#: The prior exam named after a reference: "on the prior", "on the outside study", "in der Voruntersuchung".
_PRIOR_EXAM = (rf"(?:on|in|from|of)\s+(?:the\s+)?(?:prior|previous|comparison|old|earlier|baseline"
               rf"|(?:outside|external)(?=\s+(?:study|exam|examination|ct|scan|imaging)\b))\b"
               # the exam the sentence named: "(series 3 image 198 on that study)"
               rf"|(?:on|in|of)\s+that\s+(?:study|exam|examination|ct|scan)\b|{PRIOR_EXAM_DE}")
#: The nouns for an exam that may stand between an exam word and the image it names ("prior exam 2:40").
_EXAM_NOUN = r"(?:exam|examination|study|ct|scan|untersuchung)"
#: What, right after a reference, says it is on the prior exam: "image 45 of the prior study", "(3:40 prior)", and a
#: date or dated exam next to it ("(3:45) on the prior study", "(2:40) on 01/02/2023", "image 45 (series 3) in 2023",
#: "(3:45; 02/05/2023)"); not one after a comma ("6 mm (4:50), in 2023 4 mm (3:45)": that dates what follows), nor one
#: followed by a size ("(4:50) on 1/2/2020 4 mm").
_PRIOR_AFTER = regex.compile(
    # on the reference's line, or the next when that goes on with no capital nor list marker ("image 45\non the prior";
    # not "Bild-Nr. 201\nIn der VU vom 29.01. ...", the next sentence), after a comma, a dash ("[Se 3, Im 58 - prior]")
    # or a parenthesis ("Series 4, image 205 (prior 04/20/2023)")
    r"[ \t,]*(?:\r?\n[ \t]*+(?!(?-i:[A-ZÄÖÜ])|[-*\u2022\d]))?[ \t,]*(?:[-\u2013(][ \t]*)?(?:(?:on|from|of|dated)\s+(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})(?!\d)"
    r"|(?:0?[1-9]|[12]\d|3[01])[./](?:0?[1-9]|[12]\d|3[01])(?=[ \t]*[)\]]))|" + _PRIOR_EXAM
    + r"|for\s+comparison\b|zum\s+vergleich\b"
    + r"|(?:prior|previous(?:ly)?|prev|vorher|zuvor|voruntersuchung|vu|fremd(?:-?ct|aufnahme|untersuchung)?"
    r"|de\s+l['’]examen\s+(?:antérieur|précédent))\b"
    r"(?!\s+(?:to|study\s+show)))"
    # not "(current 3:45, prior 2:40)", "(3:45, on the prior 2:40)", "(Se 3/Bi 45, in der VU Se 2/Bi 40)", "image 45
    # (series 3), on the prior on image 40": that names the next; but "(prior 04/20/2023)" is a date
    rf"(?!(?:\s+{_EXAM_NOUN})?\s*[:#]?\s*(?!\d{{1,2}}[./-]\d{{1,2}}[./-](?:\d{{4}}|\d{{2}})(?!\d))\d"
    r"|\s+(?:(?:on|in|at|auf)\s+(?:the\s+|der\s+)?)?(?:series|serie|image|bild|se|im|slice|schicht)\b)"
    rf"|[ \t]*[)\]]?[ \t]*(?:{_PRIOR_EXAM}|(?:{DATED})(?!,?\s*\d+(?:[.,]\d+)?\s*(?:mm|cm)\b))"
    r"|[ \t]*[;,][ \t]*(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2})(?=[ \t]*[)\]])"
    # an exam's kind and date in a parenthesis of their own: "Series 3, image 85 (LDCT 02/22/2023)" (not the report's own
    # exam's date: `_dates_this_exam`)
    r"|[ \t]*\([ \t]*(?:ld|hr)?(?:ct|cta|ctpa|pet[-/]?ct|mri?|study|exam|scan)[ \t]+(?:(?:of|from|vom|dated)[ \t]+)?"
    r"(?P<date>\d{1,2}[./-]\d{1,2}[./-]\d{4}|\d{4}-\d{2}-\d{2})(?=[ \t]*\))",
    regex.IGNORECASE,
)
#: Between an exam phrase and the reference right after it, which the phrase then names: "prior exam 2:40".
_NAMES_NEXT = regex.compile(rf"[ \t]*(?:{_EXAM_NOUN}\b[ \t]*)?"
                            r"(?:(?:vom|from|of|on|dated)[ \t]+\d{1,2}[./-]\d{1,2}[./-]\d{2,4}[ \t]*)?:?[ \t]*"
                            r"(?:(?:on|in|at|auf|of)[ \t]+(?:the[ \t]+|der[ \t]+)?)?", regex.IGNORECASE)
#: What may follow a prior-exam phrase after a comma for it to date the reference before it: the clause's end ("image 40,
#: on the prior study, and ...", "(3:45, prior)"), not more words of a clause of its own ("image 45, previously it
#: measured").
_CLAUSE_END = regex.compile(rf"[ \t]*(?:{_EXAM_NOUN}\b[ \t]*)?(?:[)\].;:,]|\n|$)", regex.IGNORECASE)

#: An exam's label: the trigger's word and a colon ("Prior: ...", "Current: ...", "VU: ...").
_LABEL_COLON = regex.compile(r"[ \t]*:")
#: An old size closing the item before (its own reference came before it) and a list going on: "segment VII 14 mm
#: (image 160/312), previously 19 mm, and segment IVb 8 mm (image 181/312)": the next item is this exam's again.
_PRIOR_SIZE_CLOSES = regex.compile(
    r"\b(?:previously|formerly|vorher|zuvor|vormals)\s+(?:(?:measured|measuring|gemessen)\s+)?(?:ca\.?\s*)?"
    r"\d+(?:[.,]\d+)?(?:\s*x\s*\d+(?:[.,]\d+)?)*\s*(?:mm|cm)\s*(?:,\s*(?:and|und|sowie)|;\s*(?:and|und)?)\s+",
    regex.IGNORECASE)
_WORDS = regex.compile(r"[^\W\d_]{2,}")
#: What, after a reference in its clause, says its finding is gone: the image then shows it on an earlier exam
#: ("Previously noted nodule (2:40) has resolved", "Rundherd (Se 2/Bi 40) nicht mehr abgrenzbar"); not a change that
#: leaves some ("has partially resolved", "has not resolved").
_GONE_AFTER = regex.compile(
    r"[^.;,\n]{0,60}?\b(?:(?:has|have)\s+(?:(?!partially|nearly|almost|largely|mostly|incompletely|not\b)\w+\s+)?"
    r"(?:resolved|disappeared)|(?:is\s+|are\s+)?(?:now\s+)?no\s+longer\s+(?:seen|visible|present|identified|evident|apparent|"
    r"demonstrated|visuali[sz]ed|detectable|depicted)|(?:ist\s+|sind\s+)?(?:jetzt\s+|aktuell\s+|heute\s+)?nicht\s+mehr\s+"
    r"(?:abgrenzbar|nachweisbar|sichtbar|darstellbar|erkennbar|vorhanden|zu\s+sehen)|(?:ist\s+|sind\s+)?(?:vollständig|"
    r"komplett)\s+(?:rückläufig|regredient|resorbiert|rückgebildet))\b", regex.IGNORECASE)
#: What, between a reference and `_GONE_AFTER`'s words, makes them another finding's: "Nodule (3:45) stable and the
#: effusion has resolved".
_OTHER_SUBJECT = regex.compile(r"\b(?:and|but|while|whereas|und|aber|während|sowie)\b", regex.IGNORECASE)
_PRIOR_INSIDE = regex.compile(r"\b(?:prior|previous|previously|old|comparison|vu|voruntersuchung|vorher|zuvor|fremdbild\w*)\b",
                              regex.IGNORECASE)
#: A word for the compared exam labelling an image after another in one parenthesis: "(3:45, comparison 2:40)", "(image
#: 45 (series 3), comparison 2:40)".
_PRIOR_LABEL_WORDS = ("comparison", "before", "baseline", "vergleich")
_PRIOR_LABEL = regex.compile(rf"[(\[](?:[^()\[\]\n]|\([^()\[\]\n]*\))*[,;]\s*(?:{'|'.join(_PRIOR_LABEL_WORDS)}|(?:19|20)\d\d)\s*:?\s*$",
                             regex.IGNORECASE)
#: The compared exam's word right before a reference names its exam (not after a comma: "On comparison, image 45 ...").
#: "(BL Se 3/Bild 168)", "(bsl 2/112; ...)": BL, Bsl, the baseline exam; "(was 3:198)": the image the finding had then
_EXAM_BEFORE = regex.compile(r"\b(?:comparison|baseline|bsl)$|\((?:bl|was|were)$")
#: A comparison opening its sentence or line with the compared exam and the reference in brackets right after it: "Im
#: Vergleich zur VU (Se5/Im 95) größenprogredient", "Im Vergleich zu 03/2023 (SE 4 IM 115) Zunahme", "Compared with the
#: prior CT (2:40), the nodule has grown": the image is that exam's, as the blind keys' writers read it; so is one after
#: this exam's image ("nodule (serie 3, imagen 41), stable compared with 2022 (serie 2, imagen 39)"); at a sentence's
#: end with no image before ("Unchanged since the prior (3:45)") an image stays this exam's.
_OPENING_COMPARISON = regex.compile(
    r"(?:(?:^|[.:;\n])[ \t]*(?:[-*•>][ \t]*|\d{1,2}[.)][ \t]*)?|\d[ \t]*[)\]][ \t]*,?[ \t]*(?:[^\W\d_][\w-]*,?[ \t]+){0,4}?)"
    r"(?:im\s+vergleich\s+(?:zu[rm]?|mit)|verglichen\s+mit|gegenüber|ggü\.?|(?<=[)\]][^()\[\]\n]{0,40})(?:vs\.?|versus)"
    r"|(?:when\s+)?compared\s+(?:to|with)|in\s+comparison\s+(?:to|with)|relative\s+to)\s+"
    r"(?:(?:the|der|dem|den|die)\s+)?(?:(?:prior|previous|most\s+recent|last|outside|comparison|baseline|letzten|vorherigen)\s+)?"
    r"(?:vu|voruntersuchung|vor-?ct|voraufnahme|vergleichsuntersuchung|study|exam(?:ination)?|ct|scan|prior|previous|baseline"
    r"|(?:(?:ct|study|exam|scan|untersuchung)\s+(?:of|from|on|dated|vom|von)\s+)?(?:\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{1,2}[./]\d{2,4}|(?:19|20)\d\d))"
    # the reference right after the bracket opens, or after the sizes the exam had: "gegenüber der VU (6,9 mm bzw. 142
    # mm³, Se 3/Im 181)"
    r"[ \t]*[(\[][ \t]*(?:[^()\[\]\n]{0,40}?\d[ \t]*(?:mm³?|cm|ml)[ \t]*[,;][ \t]*)?\Z", regex.IGNORECASE)
#: One of these is in each of `_OPENING_COMPARISON`'s phrases.
_COMPARISON_WORDS = ("vergleich", "verglichen", "compar", "gegenüber", "ggü", "relative", "vs", "versus")


def _opening_comparison(text: str, start: int) -> bool:
    """`_OPENING_COMPARISON` before a reference at `start`, tried only after a bracket and a comparison word (a search
    of the window cost ~10 us a reference)."""
    k = start
    while k > 0 and text[k - 1] in " \t":
        k -= 1
    if k and text[k - 1] in ",;":  # after the sizes in the bracket: "(6,9 mm bzw. 142 mm³, Se 3/Im 181)"
        k = _bracket_open(text, k, k) + 1
    if not k or text[k - 1] not in "([":
        return False
    window = text[max(0, start - 120):start].lower()
    return any(w in window for w in _COMPARISON_WORDS) and _OPENING_COMPARISON.search(text, max(0, start - 120),
                                                                                       start) is not None


#: A word right after a reference saying it is on this exam: "(4:212 today vs 4:205 on 03/04)", "(3:45 aktuell)".
_NOW_AFTER = regex.compile(r"[ \t]*(?:today|now|currently|current|heute|aktuell|jetzt|akt\.)(?![\w:])", regex.IGNORECASE)


@dataclass
class Reference:
    report_id: str
    ref_id: int
    section: str
    sentence_start: int
    sentence_end: int
    ref_start: int
    ref_end: int
    ref_text: str
    series_number: int | None
    series_inferred: bool
    image_number: int
    image_number_end: int | None
    image_count: int | None
    plane: str | None
    series_hint: str | None
    is_prior: bool
    snippet: str
    snippet_start: int
    snippet_end: int
    language: str
    rule: str
    duplicate_cluster: int | None = None
    duplicate_cluster_size: int = 1

    def to_dict(self) -> dict:
        return dict(self.__dict__)  # every field is a scalar: asdict's recursive deep copy cost ~20 % of mining


@dataclass
class LabelRow:
    label: str
    value: str
    evidence_start: int | None = None
    evidence_end: int | None = None
    evidence_text: str | None = None
    rule: str | None = None


@dataclass
class MinedReport:
    report_id: str
    language: str
    references: list[Reference]
    labels: list[LabelRow]
    snippet_labels: dict[int, dict[str, str]] = field(default_factory=dict)

    def label_values(self) -> dict[str, str]:
        return {r.label: r.value for r in self.labels}


def _sentence_index(sent_starts: list[int], pos: int) -> int:
    return max(0, bisect.bisect_right(sent_starts, pos) - 1)


def mine_report(text: str, report_id: str = "", language: str | None = None,
                sentences: list[tuple[int, int]] | None = None, labels: bool = True) -> MinedReport:
    """Mine one (clean) report text. `sentences` may come from a spaCy doc."""
    text = text if isinstance(text, str) else str(text)
    lang = language or detect_language(text)
    if not text.strip():
        return MinedReport(report_id, lang, [], [LabelRow(lab, "not_mentioned") for lab in CT_RATE_LABELS])
    # what section, finding and ConText rules read: offsets as in `text` (but inside a word joined across a line)
    view, joins = joined_words(plain_headings(text))
    sections = find_sections(view)
    sec_starts = [s.start for s in sections]
    if sentences is None:
        sentences = split_sentences(text, german=lang == "de")
    # headers are sentences of their own: cut sentences at section boundaries
    sentences = _cut_at_sections(sentences, sections, text)
    raws = find_references(text)
    sentences = _join_across_references(sentences, raws)
    sent_starts = [s for s, _ in sentences]
    ctx = context_rules()
    triggers = ctx.scan(view, sentences)
    if any(t.rule in _DATE_LABELS for t in triggers):
        triggers = _this_exams_dates(view, triggers)
    if any(t.rule == "prior_timepoint_label" for t in triggers):
        triggers = _latest_timepoint(view, triggers)
    if any(t.category == "pseudo" and "planning" in view[t.start:t.end].lower() for t in triggers):
        triggers = _same_session_planning(view, triggers)
    kinds, names = compared_exam_kinds(view, sections)
    if kinds or names:
        triggers = _with_named_exams(view, triggers, kinds, names, sections)
    trig_starts = [t.start for t in triggers]
    refs, cut_from = _build_references(text, report_id, lang, raws, sections, sec_starts, sentences, sent_starts,
                                       triggers, trig_starts)
    label_rows: list[LabelRow] = []
    snippet_labels: dict[int, dict[str, str]] = {}
    if labels:
        mentions = finding_rules().find(view)
        label_mentions(mentions, triggers, trig_starts, sentences, sent_starts, view)
        _modify_listed(view, mentions, triggers, trig_starts, sentences, sent_starts)
        in_body = [m for m in mentions if sections[max(0, bisect.bisect_right(sec_starts, m.start) - 1)].name in LABEL_SECTIONS]
        best = aggregate(in_body)
        for lab in CT_RATE_LABELS:
            m = best[lab]
            if m is None:
                label_rows.append(LabelRow(lab, "not_mentioned"))
            else:
                rule = m.rule if m.modifier in (None, m.rule) else f"{m.rule}+{m.modifier}"
                end = text_end(m.end, joins) if joins else m.end
                label_rows.append(LabelRow(lab, m.value, m.start, end, text[m.start:end], rule))
        if refs and mentions:
            mstarts = [m.start for m in mentions]
            for r in refs:
                i = bisect.bisect_left(mstarts, r.snippet_start)
                got: dict[str, str] = {}
                cuts = cut_from.get(r.ref_id, ())
                while i < len(mentions) and mentions[i].start < r.snippet_end:
                    mn = mentions[i]
                    if (mn.end <= r.snippet_end and RANK[mn.value] > RANK[got.get(mn.label, "not_mentioned")]
                            and not any(a <= mn.start and mn.end <= b for a, b in cuts)):  # not in a part cut out
                        got[mn.label] = mn.value
                    i += 1
                if got:
                    snippet_labels[r.ref_id] = got
    return MinedReport(report_id, lang, refs, label_rows, snippet_labels)


def _cut_at_sections(sentences, sections, text=""):
    text_ws = lambda i: text[i].isspace()
    if not sections or (len(sections) == 1 and sections[0].header_end == 0):
        return sentences
    cuts = sorted({s.header_end for s in sections if s.header_end} | {s.start for s in sections})
    out = []
    for s, e in sentences:
        i = bisect.bisect_right(cuts, s)
        pos = s
        while i < len(cuts) and cuts[i] < e:
            c = cuts[i]
            if c > pos:
                out.append((pos, c))
            pos = c
            i += 1
        out.append((pos, e))
    # trim whitespace, drop empty
    res = []
    for s, e in out:
        s2, e2 = s, e
        while s2 < e2 and text_ws(s2):
            s2 += 1
        if e2 > s2:
            res.append((s2, e2))
    return res


def _join_across_references(sentences: list[tuple[int, int]], raws: list[RawRef]) -> list[tuple[int, int]]:
    """The sentences with every sentence start that falls inside a reference expression joined to the sentence
    before it: no rule for sentence ends foresees every abbreviation of a reference ("(S. 4, B. 88), unchanged")."""
    if not raws or len(sentences) < 2:
        return sentences
    spans = sorted({(r.start, r.end) for r in raws})
    starts = [a for a, _ in spans]
    out = [sentences[0]]
    for s, e in sentences[1:]:
        k = bisect.bisect_left(starts, s) - 1  # the last expression starting before this sentence
        if k >= 0 and spans[k][1] > s:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _build_references(text, report_id, lang, raws: list[RawRef], sections, sec_starts, sentences, sent_starts,
                      triggers, trig_starts) -> tuple[list[Reference], dict[int, list[tuple[int, int]]]]:
    if not raws:
        return [], {}
    # group spans (one per expression) and their removal spans
    groups: dict[int, tuple[int, int]] = {}
    for r in raws:
        groups.setdefault(r.group, (r.start, r.end))
    gorder = sorted(groups)  # groups are numbered in text order
    gstarts = [groups[g][0] for g in gorder]
    gends = [groups[g][1] for g in gorder]

    def near(s: int, e: int, pad: int = 200) -> list[tuple[int, int]]:
        lo = bisect.bisect_left(gends, s - pad)
        hi = bisect.bisect_right(gstarts, e + pad)
        return [groups[gorder[k]] for k in range(lo, hi)]

    removals = {g: removal_span(text, s, e, near(s, e)) for g, (s, e) in groups.items()}
    notes = _bracket_notes(text, sections, sec_starts) if _BRACKET_NOTE_WORD.search(text) else []
    rstarts = [removals[g][0] for g in gorder]
    # sentence of each group (a group straddling a sentence end widens that sentence)
    by_sent: dict[int, list[int]] = {}
    for g, (s, e) in groups.items():
        by_sent.setdefault(_sentence_index(sent_starts, s), []).append(g)
    snippet_span: dict[int, tuple[int, int]] = {}
    group_sent: dict[int, tuple[int, int]] = {}
    sibling_cuts: dict[int, list[tuple[int, int]]] = {}  # other items of a list under one head, cut from a snippet
    for k, gs in by_sent.items():
        s0, s1 = sentences[k] if sentences else (0, len(text))
        s1 = max([s1] + [groups[g][1] for g in gs])
        sec = sections[max(0, bisect.bisect_right(sec_starts, s0) - 1)]
        if sec.header_end > s0 and sec.header_end <= groups[gs[0]][0]:
            s0 = sec.header_end
        gs.sort(key=lambda g: groups[g][0])
        parts, cuts = partition(text, (s0, s1), [removals[g] for g in gs])
        record = _record_line(text, k, (s0, s1), sentences, sent_starts, sec, [removals[g] for g in gs])
        back = _antecedent(text, k, (s0, s1), sentences, sec, [removals[g] for g in gs]) if record is None else None
        head = _list_heading(text, k, sentences, sec) if back is None and record is None else None
        for g, p, cut in zip(gs, parts, cuts):
            snippet_span[g] = record or ((back, p[1]) if back is not None else p)
            group_sent[g] = (s0, s1)
            if head is not None and not _names_finding_noun(text, p[0], p[1]):
                # an item under a heading that names its finding: "Nodules:" / "2. LLL: 4 mm (3:88)" -> the heading
                # leads the snippet, the items between cut out, and the item's marker with them
                marker = _line_marker(text, p[0])
                snippet_span[g] = (head[0], p[1])
                cut = list(cut) + [(head[1], max(p[0], marker.end()) if marker else p[0])]
            elif back is not None:  # the sentence before leads the snippet: a list marker between them goes
                marker = _line_marker(text, s0)
                if marker and marker.end() > s0:
                    cut = list(cut) + [(s0, marker.end())]
            if cut:
                sibling_cuts[g] = cut
    series_spans = series_mentions(text)
    mentions_series = [(a, ser) for a, _, ser in series_spans]
    ms_pos = [a for a, _ in mentions_series]
    # a series named alone ("a mass on series 4 measures 2 cm on image 108") is cut from snippets as references are
    alone = [(a, b) for a, b, _ in series_spans if _exam_of(a, gstarts, gends, gorder, {}) is None]
    alone_removals = sorted(removal_span(text, a, b, near(a, b)) for a, b in alone)
    alone_starts = [a for a, _ in alone_removals]
    # what depends on the expression only (the images of a list share it): snippet, section, exam, plane, hint
    per_group: dict[int, tuple] = {}
    undated: dict[int, bool] = {}  # group -> the exam of its items before a semicolon, where what follows it dates it
    after_end: dict[int, int] = {}  # group -> end of what dates it after it
    statements = None
    exam_map: dict[str, int] | None = None  # each prior exam's series, where the report names them (`exam_series`)
    totals: dict[int, int | None] | None = None  # image counts the report states, with their series (`image_totals`)
    inferred_series: dict[int, int | None] = {}  # group -> its inferred series
    out: list[Reference] = []
    cut_from: dict[int, list[tuple[int, int]]] = {}  # ref_id -> spans cut from its snippet (its labels skip them)
    for i, r in enumerate(raws):
        g = r.group
        sp0, sp1 = snippet_span[g]
        sent = group_sent[g]
        if g not in per_group:
            lo = max(0, bisect.bisect_left(rstarts, sp0) - 1)
            hi = bisect.bisect_left(rstarts, sp1)
            inside = [removals[gorder[k]] for k in range(lo, hi) if removals[gorder[k]][1] > sp0]
            inside.extend(sibling_cuts.get(g, ()))
            if alone_removals:
                j = bisect.bisect_left(alone_starts, sp0)
                if j and alone_removals[j - 1][1] > sp0:  # one reaching in from before ("- Series 3: nodule (image 45)")
                    j -= 1
                while j < len(alone_removals) and alone_starts[j] < sp1:
                    inside.append(alone_removals[j])
                    j += 1
            sec = sections[max(0, bisect.bisect_right(sec_starts, r.start) - 1)]
            # which exam: triggers between the previous group (or sentence start) and this one
            k = bisect.bisect_right(gends, r.start) - 1
            prev_end = after_end.get(gorder[k], gends[k]) if k >= 0 and gstarts[k] >= sent[0] else sent[0]
            after = _PRIOR_AFTER.match(text, r.end, min(len(text), r.end + 60))
            if after is not None and after.group("date") and _dates_this_exam(text, after.group("date")):
                after = None  # "(CT 03/14/2024)" of the report's own exam
            if after is not None and "," in text[r.end:after.end()].split(None, 1)[0] \
                    and not _CLAUSE_END.match(text, after.end()):
                after = None  # after a comma it opens a clause of its own: "on image 45, previously it measured 4 mm"
            if after is not None:
                nxt = bisect.bisect_right(gstarts, r.start)
                if nxt < len(gstarts) and _NAMES_NEXT.fullmatch(text, after.end(), gstarts[nxt]):
                    after = None  # the exam named right before the next reference is that one's: "(3:45, prior S2/I40)"
                else:  # what dates this reference does not date the next one
                    after_end[g] = after.end()
            # in a table the heading of its column names the exam of a cell whose own words say none
            column = column_exam(text, r.item_start) if after is None else None  # (a cell's image, not the cell)
            seg, default = (prev_end, sec.name == "COMPARISON") if column is None else (max(prev_end, column[1]), column[0])
            if k >= 0 and gstarts[k] >= sent[0] and seg == prev_end:  # after an item with its own reference
                closes = None
                for closes in _PRIOR_SIZE_CLOSES.finditer(text, seg, r.start):
                    pass  # (the last one)
                if closes is not None:
                    seg = closes.end()
            is_prior = after is not None or _is_prior(text, r, seg, triggers, trig_starts, default,
                                                      sent[0] if column is None else None)
            if not is_prior and _names_compared_exam_after(text, r.end, triggers, trig_starts):
                is_prior = True  # "(eg series 5 image 140 of the CTPA)", the CTPA the report compares with
            if not is_prior and notes and _in_noted_bracket(text, r.start, notes):
                is_prior = True  # "VU-Angaben in eckigen Klammern" ... "[3/108]"
            if after is not None and ";" in text[r.start:groups[g][1]]:
                # a list whose items a semicolon parts: what dates it after its end dates its last item only ("(4:40;
                # 4:39 on 2023 study)"), the items before keep what their own words say
                undated[g] = _is_prior(text, r, seg, triggers, trig_starts, default)
            if not is_prior:  # a finding said to be gone cannot be shown on this exam
                nxt = bisect.bisect_right(gstarts, r.start)
                is_prior = _gone_after(text, r.end, min(sent[1], gstarts[nxt] if nxt < len(gstarts) else sent[1]))
            if (not is_prior and column is None and k >= 0 and gstarts[k] >= sent[0] and per_group[gorder[k]][2] is True
                    and (_ITEM_GAP.fullmatch(text, gends[k], r.start)
                         or gorder[k] not in after_end and _SIZE_LIST_GAP.fullmatch(text, gends[k], r.start))):
                # the next item of a list of the prior exam's images: "(dort Se. 2 Im. 47 bzw. Se. 2 Im. 55)", or its
                # next size and image: "On 2023-02-15 these measured 22 mm [5:58] and 25 mm [5:66]"
                is_prior = True
            if not is_prior and k >= 0 and gstarts[k] >= sent[0] and per_group[gorder[k]][2] is False:
                # after a current image in its sentence, an image cited right after the compared exam is that exam's:
                # "Consolidation (3:90) has improved since the prior (2:85)"
                is_prior = compared_exam_before(triggers, trig_starts, prev_end, r.start, text)
            elif not is_prior and not (k >= 0 and gstarts[k] >= sent[0]) and k + 2 < len(gorder) \
                    and gstarts[k + 2] < sent[1] and len(_WORDS.findall(text, gends[k + 1], gstarts[k + 2])) >= 2:
                # so is one before another image of its sentence, in a clause of its own: "Compared to the prior
                # (series 2 image 40), the nodule has grown (series 3 image 45)"; alone ("Unchanged since the prior
                # (3:45)") or listed with more ("since the prior (3:45) and (3:88)") it is current
                is_prior = compared_exam_before(triggers, trig_starts, prev_end, r.start, text)
            if is_prior and after is None and _NOW_AFTER.match(text, r.end):
                is_prior = False  # "increased from prior (4:212 today vs 4:205 on 03/04)": its own word says this exam
            if (not is_prior and column is None and k >= 0 and per_group[gorder[k]][2] is False
                    and _SLASH_GAP.fullmatch(text, gends[k], r.start) and slash_order(text)):
                # the second of "A / B" where the report cites each finding so, this exam's image first: "9 mm (Se 2/Bi
                # 31)  /  13 mm (Se 2/Bi 33)" under "(Kurzachse, aktuell / VU)"
                is_prior = True
            w0 = max(prev_end, r.start - 60)
            before = PLANE_AFTER.match(text, w0)  # the plane in parentheses after the reference before is that one's
            plane, hint = _plane_hint(text, before.end() if before else w0, r)
            per_group[g] = (render(text, sp0, sp1, inside), sec, is_prior, plane, hint, inside, column)
        snippet, sec, is_prior, plane, hint, inside, _ = per_group[g]
        if g in undated and any(x.group == g and ";" in text[r.item_end:x.item_start] for x in raws[i + 1:i + 8]):
            is_prior = undated[g]
        if (not is_prior and i and raws[i - 1].group == g and r.series is not None and raws[i - 1].series is not None
                and _SLASH_GAP.fullmatch(text, raws[i - 1].item_end, r.item_start) and slash_order(text)):
            is_prior = True  # "(3:45 / 2:40)" where the report cites "(current series:image / prior series:image)"
        if inside:
            cut_from[i] = inside
        series, inferred = r.series, False
        if series is None and r.count is not None:  # "188/402" where the report says series 3 holds 402 images
            if totals is None:
                totals = image_totals(text)
            series = totals.get(r.count)
            inferred = series is not None
        if series is None:
            if g not in inferred_series:  # the images of a list share their expression's span, hence its inference
                if statements is None:
                    statements = series_statements(text)
                inferred_series[g] = _infer_series(
                    r, sent, sec, mentions_series, ms_pos, raws, text, statements,
                    lambda pos: _series_exam(pos, gstarts, gends, gorder, per_group, sentences, sent_starts, triggers,
                                             trig_starts, text), is_prior)
            series = inferred_series[g]
            if series is None and is_prior:
                # a prior exam of several, whose series the report names by the exam's year or kind: the heading of the
                # reference's column, else the last such label before it in its sentence, says which
                if exam_map is None:
                    exam_map = exam_series(text) if _NUMBERS_SENTENCE.search(text) else {}
                if exam_map:
                    col = per_group[g][6]
                    label = _exam_label(col.heading if col is not None else None, text, sent[0], r.start)
                    series = exam_map.get(exam_key(label)) if label is not None else None
            inferred = series is not None
        out.append(Reference(
            report_id=report_id, ref_id=i, section=sec.name, sentence_start=sent[0], sentence_end=sent[1],
            ref_start=r.start, ref_end=r.end, ref_text=text[r.start:r.end], series_number=series,
            series_inferred=inferred, image_number=r.image, image_number_end=r.image_end, image_count=r.count,
            plane=plane, series_hint=hint, is_prior=is_prior, snippet=snippet, snippet_start=sp0,
            snippet_end=sp1, language=lang, rule=r.rule,
        ))
    return out, cut_from


def _gone_after(text: str, a: int, b: int) -> bool:
    """Whether text[a:b], what follows a reference up to the next one or its sentence's end, says in the reference's
    clause that its finding is gone (`_GONE_AFTER`), naming no other finding first."""
    m = _GONE_AFTER.match(text, a, b)
    return m is not None and not _OTHER_SUBJECT.search(text, a, m.end()) and not head_word(text, a, m.end())


def _names_finding(text: str, s: int, e: int) -> bool:
    """Whether text[s:e] names a finding: a head noun, else a finding rule's match in either language
    (references hold neither; an English sentence under a German header is still a finding)."""
    return bool(head_word(text, s, e)) or bool(finding_rules().find(text[s:e]))


#: Words that describe a finding's make-up rather than name one: "ground glass", "calcified" in "2. LLL, ground glass, 9 mm".
_ATTRIBUTE = regex.compile(r"\b(?:ground[- ]glass|calcified|(?:part[- ]|sub|non[- ]?|teil)?solid\w*|spiculated|"
                           r"milchglas(?:artig\w*)?|verkalkt\w*)\b", regex.IGNORECASE)


def _names_finding_noun(text: str, s: int, e: int) -> bool:
    """`_names_finding` with the words that only describe a finding's make-up left out (`_ATTRIBUTE`): a list item
    "Left lower lobe, ground glass, 9 mm" under "Nodules:" names no finding of its own, the heading does."""
    seg = _ATTRIBUTE.sub(" ", text[s:e])
    return _names_finding(seg, 0, len(seg))


#: A list item's marker ("- ", "2. ", "#2.", "(2)", "a) ", "b. "), or a pipe table row's opening pipe with its row-number cell ("| 1 | ").
_LIST_ITEM = regex.compile(r"[ \t]*(?:(?:[-*•]|\d{1,2}[.)]|\#\d{1,2}[.):]?|\(\d{1,2}\)|[a-h][.)])[ \t]+|\|(?:[ \t]*\#?\d{0,3}[ \t]*\|)?[ \t]*)")


def _line_marker(text: str, pos: int) -> regex.Match | None:
    """The list-item marker ("- ", "2. ", "a) ", a table row's "| 1 | ") opening the line that holds `pos`, if any."""
    return _LIST_ITEM.match(text, text.rfind("\n", 0, pos) + 1)


def _modify_listed(text: str, mentions: list[Mention], triggers, trig_starts, sentences, sent_starts) -> None:
    """Each mention, unmodified, in an item of a list whose heading line modifies it takes the heading's modifier (in
    place): "No evidence of:", "The following are not seen:", "Kein Nachweis von:" above "- pleural effusion" /
    "- pneumothorax" negate them, "Differential diagnosis:" or "Cannot be excluded:" hedge them. A heading is the line
    above the items, ending in a colon, holding a ConText modifier and no finding of its own ("Nodules:" or "No
    effusion. Nodules:" modify nothing; the modifier nearest the colon counts); a line that is no item ends the list,
    a terminator on an item ("but", ";") ends the heading's scope there, and it overrides an item's alternative ("-
    pleural or pericardial effusion" under "No evidence of:" negates both), as a modifier in the sentence would. An
    item ending in a colon heads the items below it that are indented more ("4. No evidence of:" above "   a.
    lymphadenopathy"). On one line, semicolons after such a heading separate its items, not clauses ("No evidence of:
    pleural effusion; pericardial effusion")."""
    heads: dict[int, Trigger | None] = {}  # the list's first item line -> its heading's modifier, or None
    alternatives = {t.rule for t in triggers if t.category == "alternative"}  # they yield to any other modifier
    for mn in mentions:
        if mn.modifier is not None and mn.modifier not in alternatives:
            continue
        t = _colon_lead(text, mn, triggers, trig_starts, sentences, sent_starts)
        if t is not None:
            mn.value, mn.modifier = MODIFIED_VALUE[t.category], t.rule
            continue
        line0 = text.rfind("\n", 0, mn.start) + 1
        if not _line_marker(text, line0):
            continue
        lo, hi = bisect.bisect_left(trig_starts, line0), bisect.bisect_left(trig_starts, mn.start)
        if any(t.category == "terminate" for t in triggers[lo:hi]):  # "- pleural effusion, but small pericardial ..."
            continue
        top, indent = line0, _indent(text, line0)
        while top > 0:  # up over the items above it to the list's first item
            above = text.rfind("\n", 0, top - 1) + 1
            if not _line_marker(text, above):
                break
            if text[above:top - 1].rstrip().endswith(":") and _indent(text, above) < indent:
                break  # an item ending in a colon, indented less, heads the sublist this item is in
            top = above
        if top not in heads:
            heads[top] = _heading_modifier(text, top, mentions, triggers, trig_starts)
        t = heads[top]
        if t is not None:
            mn.value, mn.modifier = MODIFIED_VALUE[t.category], t.rule


def _colon_lead(text: str, mn: Mention, triggers, trig_starts, sentences, sent_starts) -> Trigger | None:
    """The forward modifier ending a heading right before its colon earlier in the mention's sentence ("No evidence
    of: pleural effusion; pericardial effusion", "Not seen: ..."), when only semicolons (its items' separators) stand
    among the terminators between them; else None."""
    k = bisect.bisect_right(sent_starts, mn.start) - 1
    s0 = sentences[k][0] if k >= 0 else 0
    lo, hi = bisect.bisect_left(trig_starts, s0), bisect.bisect_left(trig_starts, mn.start)
    for t in reversed(triggers[lo:hi]):
        if t.category == "terminate":
            if t.rule == "semicolon":
                continue
            return None
        if t.category in MODIFIERS and t.direction in ("forward", "bidirectional"):
            ends_heading = text[t.start:t.end].rstrip().endswith(":") or text[t.end:mn.start].lstrip(" \t").startswith(":")
            return t if ends_heading and t.end <= mn.start else None
    return None


def _indent(text: str, line0: int) -> int:
    """The number of blanks opening the line that starts at `line0`."""
    k = line0
    while k < len(text) and text[k] in " \t":
        k += 1
    return k - line0


def _heading_modifier(text: str, first_item: int, mentions: list[Mention], triggers, trig_starts) -> Trigger | None:
    """The modifier trigger nearest the colon of the heading line right above the list item line at `first_item`, when
    that line ends in a colon and names no finding of its own; else None."""
    if first_item == 0:
        return None
    h0 = text.rfind("\n", 0, first_item - 1) + 1
    h1 = first_item - 1
    if not text[h0:h1].rstrip().endswith(":") or any(h0 <= m.start < h1 for m in mentions):
        return None
    lo, hi = bisect.bisect_left(trig_starts, h0), bisect.bisect_left(trig_starts, h1)
    return next((t for t in reversed(triggers[lo:hi]) if t.category in MODIFIERS), None)


def _list_heading(text: str, k: int, sentences, sec) -> tuple[int, int] | None:
    """(start, end) of the heading line above list item `k` ("Nodules:" above "1. RUL: 5 mm (3:45)"), when it names a
    finding, is a line of its own ending in a colon, lies in the item's section (not its header), and only list items
    lie between them."""
    if not sentences or not _line_marker(text, sentences[k][0]):
        return None
    for j in range(k - 1, -1, -1):
        a, b = sentences[j]
        if a < sec.header_end or a < sec.start:
            return None
        line0 = text.rfind("\n", 0, a) + 1
        line1 = text.find("\n", b)
        whole_line = not text[line0:a].strip() and not text[b:line1 if line1 >= 0 else len(text)].strip()
        if whole_line and text[a:b].rstrip().endswith(":"):
            return (a, b) if _names_finding(text, a, b) else None
        if not _line_marker(text, a):
            return None
    return None


_FIELD = regex.compile(r"[ \t]*(?:(?:[-*•]|\d{1,2}[.)])[ \t]+)?[^\W\d_][\w/ #()-]{0,30}?[ \t]*:[ \t]*\S")


def _record_line(text: str, k: int, sent: tuple[int, int], sentences, sent_starts, sec, removals=()) -> tuple[int, int] | None:
    """(start, end) of the line that holds sentence `k` when that line is a record of fields ("Nodule 1: Location: RUL.
    Series/Image: 3/45. Size: 6 mm."): at least two sentences, each "Label: value", in the section's body, and
    sentence `k` a field that only points at the record's finding (its words, references cut out, are all
    `ANAPHORIC_WORDS`). Its reference cites the whole record, fields before and after it; None otherwise."""
    if not sentences or not _FIELD.match(text, sent[0]) or has_own_content(cut_out(text, sent[0], sent[1], removals)):
        return None
    line0 = max(text.rfind("\n", 0, sent[0]) + 1, sec.header_end, sec.start)
    line1 = text.find("\n", sent[1])
    line1 = len(text) if line1 < 0 else line1
    fields = [(a, b) for a, b in sentences[_sentence_index(sent_starts, line0):_sentence_index(sent_starts, line1 - 1) + 1]
              if b > line0 and a < line1]
    if len(fields) < 2 or not all(_FIELD.match(text, max(a, line0), b) for a, b in fields):
        return None
    span = trim_span(text, max(fields[0][0], line0), min(fields[-1][1], line1))
    return span if _names_finding(text, *span) else None


#: A sentence opening with a pronoun for a finding named before it: "Its solid component measures 6 mm", "Sein solider
#: Anteil misst 6 mm", "These have not changed".
_POINTS_BACK = regex.compile(
    r"[ \t]*(?:(?:[-*•]|\d{1,2}[.)])[ \t]+)?(?:its|their|these|those|the\s+latter|sein(?:e[mnrs]?)?|ihr(?:e[mnrs]?)?|dessen|"
    r"deren|letztere[mnrs]?)\b", regex.IGNORECASE)


def _antecedent(text: str, k: int, sent: tuple[int, int], sentences, sec, removals=()) -> int | None:
    """Start of the sentence before sentence `k` when sentence `k` names no finding of its own and only points at one
    (its words, references cut out, are all `ANAPHORIC_WORDS`, or it opens with a pronoun for it: `_POINTS_BACK`), and
    that one names a finding, within the same section: "3 mm nodule in the right upper lobe. Previously seen on the
    prior study, series 2 image 40." and "Part-solid nodule, 14 mm. Its solid component measures 6 mm (image 63)." cite
    the nodule; "No emphysema. Patulous esophagus (series 4, image 95)." does not. None otherwise (the snippet stays in
    its own sentence)."""
    if k == 0 or not sentences:
        return None
    if has_own_content(cut_out(text, sent[0], sent[1], removals)) and not _POINTS_BACK.match(text, sent[0], sent[1]):
        return None
    if _names_finding(text, sent[0], sent[1]):  # (asked last: the costlier test)
        return None
    p0, p1 = sentences[k - 1]
    if p0 < sec.header_end or p0 < sec.start or not _names_finding(text, p0, p1):
        return None
    return trim_span(text, p0, p1)[0]


def _series_exam(pos: int, gstarts, gends, gorder, per_group, sentences, sent_starts, triggers, trig_starts,
                 text: str) -> bool | str | None:
    """For a series named at `pos`: the is_prior flag of the reference expression it is part of (`_exam_of`), else,
    standing alone, True when its sentence dates it to the prior exam before it ("On the prior study (series 2), the
    nodule was 4 mm on image 40; now 6 mm on image 45": series 2 is no series for image 45), False when to this one,
    None when nothing does."""
    got = _exam_of(pos, gstarts, gends, gorder, per_group)
    if got is not None:
        return got
    s0 = sentences[_sentence_index(sent_starts, pos)][0] if sentences else 0
    t = temporal_for(triggers, trig_starts, s0, pos, text)
    return None if t is None else t.category == "prior"


def _exam_of(pos: int, gstarts, gends, gorder, per_group) -> bool | str | None:
    """For a series named at `pos`: None when it stands alone ("on series 4"), else the is_prior flag of the reference
    expression it is part of ("?" for one not built yet)."""
    k = bisect.bisect_right(gstarts, pos) - 1
    if k < 0 or gends[k] <= pos:
        return None
    got = per_group.get(gorder[k])
    return "?" if got is None else got[2]


def _infer_series(r: RawRef, sent, sec, mentions_series, ms_pos, raws, text="", statements=(),
                  exam_of=None, is_prior=False) -> int | None:
    # same sentence: nearest explicit series before the reference (one of another reference only on the same exam:
    # "6 mm on image 45, previously 4 mm on series 2 image 40" gives image 45 no series), else a series standing
    # alone after it ("on image 108 of the lung window series (series 7)"; not "see also coronal series 601 image 45")
    lo = bisect.bisect_left(ms_pos, sent[0])
    hi = bisect.bisect_left(ms_pos, sent[1])
    reformat = _REFORMAT_BEFORE.search(text, max(sent[0], r.start - 40), r.start) is not None
    before = [(p, s) for p, s in mentions_series[lo:hi] if p < r.start and (
        exam_of is None or exam_of(p) in (None, is_prior) or _same_bracket(text, p, r.start))
        and (reformat or not _REFORMAT_NAMED.search(text, max(sent[0], p - 25), p))]
    if before:
        return before[-1][1]
    # an image of the other exam cited after one with its series in one parenthesis ("(Se 4 Im 290 today vs Im 281 on 2023)")
    earlier = [x for x in raws if x.series is not None and sent[0] <= x.start and x.end <= r.start]
    if earlier and _same_bracket(text, earlier[-1].start, r.start) and not _OWN_WORD.search(text, earlier[-1].start,
                                                                                            earlier[-1].end):
        return earlier[-1].series
    after = [(p, s) for p, s in mentions_series[lo:hi]
             if p > r.end and (exam_of is None or exam_of(p) is None or _listed_with(text, r, raws, p)
                               or _for_each_in_bracket(text, r.start, p))]
    if after:
        return after[0][1]
    # the sentence says it continues on an earlier series ("on the same series", "also on image 108",
    # "gleiche Serie"): the nearest explicit series before the sentence, in the same section
    if _SAME_SERIES.search(text, sent[0], sent[1]):
        k = bisect.bisect_left(ms_pos, sent[0]) - 1
        if k >= 0 and mentions_series[k][0] >= sec.start:
            return mentions_series[k][1]
    # the report names one series for its images ("All images refer to series 3", often in the technique): the last
    # such statement before the reference, else one after it (a closing note); a list heading ("Images from series 4:")
    # names the series of its own section only, a line's label ("Series 3: nodule (image 45). ...") that line's
    # such statements speak of this exam's images, unless one says it holds for the prior's too, or names the prior's own
    statements = [st for st in statements if (st.priors if is_prior else st.current)]
    fixed = [st for st in statements if st.scope == "correction"]
    if fixed:
        return fixed[-1].series
    if statements and reformat:
        # "(coronal image 33)" beside "Slice numbers are from the post contrast series (series 5)": a reformat's image
        # is on the series only a statement naming that reformat gives
        statements = [st for st in statements if _REFORMAT_WORD.search(text, st.start, st.end)]
    for st in reversed(statements):
        if st.end <= r.start and (st.scope == "report" or st.scope == "section" and st.start >= sec.start
                                  or st.scope == "line" and r.start < st.until):
            return st.series
    for st in statements:
        if st.start >= r.end and st.scope == "report":
            return st.series
    return None


#: A reformat named right before an image ("coronal image 33", "(sag. MPR Bild 40"), and such a word anywhere.
_REFORMAT = r"\b(?:coronal|sagittal|cor|sag|kor|koronar\w*|sagittal\w*)\b\.?"
_REFORMAT_BEFORE = regex.compile(
    _REFORMAT + r"(?:[ \t]+(?:reformat\w*|mpr|recon\w*|rekonstruktion\w*|reko))?[ \t(]*(?:on[ \t]+)?"
    r"(?:image|img|im|ima|bild|slice|schicht)?\.?[ \t]*$", regex.IGNORECASE)
_REFORMAT_WORD = regex.compile(_REFORMAT, regex.IGNORECASE)
#: A reformat named right before a series ("(koronar Se 7/Ima 64)"): that series is lent to no image of another plane.
_REFORMAT_NAMED = regex.compile(_REFORMAT + r"(?:[ \t]+(?:reformat\w*|mpr|mip|recon\w*|rekonstruktion\w*|reko))?[ \t]*:?[ \t]*$",
                                regex.IGNORECASE)


def _bracket_open(text: str, a: int, b: int) -> int:
    """Where the parenthesis (or bracket) holding both `a` and `b` (a <= b) opens, on their line; -1 where none does."""
    open_ = max(text.rfind("(", 0, a), text.rfind("[", 0, a))
    return -1 if open_ < 0 or any(c in "()[]\n" for c in text[open_ + 1:b]) else open_


def _same_bracket(text: str, a: int, b: int) -> bool:
    """Whether the series named at `a` holds for the image at `b` of the other exam: both in one parenthesis, the series
    not named as this exam's own ("on the current series 4") and the image's item not opening with its exam's label
    ("; VU vom 02.03.2023: Bild 85"): "(Se 4 Im 290 today vs Im 281 on 2023)", "(series 4, image 150 today; image 148
    on the 2022 study)" cite both exams' images on the series named once."""
    open_ = _bracket_open(text, a, b)
    if open_ < 0:
        return False
    lead = _ITEM_LEAD.search(text, a, b)
    return _OWN_SERIES.search(text, max(open_, a - 12), a) is None and (
        lead is None or _EXAM_LABEL.search(text, lead.end(), b) is None)


#: Words naming a series as this exam's own ("on the current series 4", "der aktuellen Serie 3"), right before it and
#: anywhere in a reference.
_OWN = r"\b(?:current|today'?s|aktuellen?|heutigen?)"
_OWN_SERIES = regex.compile(_OWN + r"\s+$", regex.IGNORECASE)
_OWN_WORD = regex.compile(_OWN + r"\b", regex.IGNORECASE)
#: The last separator of a parenthesis's items before an image, and an exam labelling that item.
_ITEM_LEAD = regex.compile(r"(?r)[,;]|\b(?:vs\.?|versus|bzw\.)(?!\w)", regex.IGNORECASE)
_EXAM_LABEL = regex.compile(r"\b(?:vu|voruntersuchung|vorbefund|prior|previous|comparison|baseline|outside|fremd\w*)\b|"
                            r"\d{1,2}[./]\d{1,2}[./]\d{2,4}|\b(?:19|20)\d\d\b", regex.IGNORECASE)


#: Every exam of the report: "of each study", "on all three studies", "for both exams".
_EACH_EXAM = (r"(?:of|on|in|for)\s+(?:the\s+)?(?:each|every|both|all(?:\s+(?:two|three|four|\d))?)\s+"
              r"(?:studies|study|exams?|examinations?|scans?|cts?)\b")
#: After a series statement, in its sentence: it holds for the prior exam's images too.
_PRIORS_TOO = regex.compile(
    r"[^.;\n]{0,80}?\b(?:(?:auch|ebenso|gleichermaßen)\s+(?:für|in|auf)\s+(?:die|der|den)\s+(?:vorauf|voruntersuch|vu\b|vergleichs)"
    r"|(?:also|too|as\s+well|including)\s+(?:for|on|in|to|für|auf)?\s*(?:the\s+|die\s+|der\s+)?(?:prior|previous|comparison|"
    r"vorauf|voruntersuch|vergleichs)"
    # each exam's own series of that number: "Bildangaben jeweils Serie 3 der betreffenden Untersuchung"
    r"|(?:der|in\s+der)\s+(?:jeweiligen|betreffenden|entsprechenden)\s+untersuchung"
    # both exams named: "Bildnummern beziehen sich jeweils auf Serie 3 der aktuellen bzw. der Voruntersuchung"
    r"|(?:der\s+)?aktuellen\s+(?:und|bzw\.?|sowie|wie)\s+(?:der\s+|auf\s+die\s+)?(?:vorauf|voruntersuch|vu\b|vergleichs|vor-?ct)"
    r"|(?:of|on|in|for)\s+(?:both\s+)?(?:the\s+)?current\s+(?:and|&)\s+(?:the\s+)?(?:prior|previous|comparison)"
    r"|(?:of|on|in)\s+(?:the\s+)?(?:respective|each|corresponding)\s+(?:study|exam|examination|scan|ct)"
    # "(series 4 on all three studies)"
    r"|" + _EACH_EXAM +
    # both exams named: "(Bildangaben: Serie 3, akt. / VU jeweils Serie 3)"
    r"|(?:akt\.|aktuell|current)\s*/\s*(?:vu|voruntersuchung|prior)"
    # "(aktuell wie Baseline)"
    r"|(?:akt\.|aktuell|current)\s+(?:wie|ebenso\s+wie|as\s+well\s+as|and|und)\s+(?:(?:die|der|the)\s+)?(?:baseline|vu|"
    r"voruntersuchung|vorbefund|prior)\b"
    # "Bildnummern beziehen sich auf Serie 2 (Lungenfenster 1 mm), jeweils aktuell und VU"
    r"|(?:jeweils|both|each)\s+(?:akt\.|aktuell|current)\s+(?:und|and|&|bzw\.|sowie)\s+(?:(?:die|der|the)\s+)?"
    r"(?:vu|voruntersuchung|vorbefund|prior|previous|comparison)\b"
    # the prior exam's the same: "Bildnummern aus der axialen Lungenserie (Serie 3), Vorbefund ebenso Serie 3"
    r"|(?:vorbefund|voruntersuchung|vu|voraufnahme|vergleichsuntersuchung|prior|previous)\s+(?:ebenso|ebenfalls|likewise)\b)",
    regex.IGNORECASE)

#: A series named, then a statement that the report's images are of it: "Serie 3 (320 Bilder), alle Bildangaben im Befund
#: beziehen sich auf diese Serie", "series 3; all image numbers refer to this series".
_THIS_SERIES = regex.compile(
    r"\b(?:serie|series)\s*(?P<ser>\d{1,5})\b[^.;\n]{0,40}?\b(?:alle\s+|all\s+)?(?:bildangaben|bildnummern|bild-?nrn?\.|"
    r"schichtnummern|image\s+numbers|images|image\s+references)\b[^.;\n]{0,30}?\b(?:beziehen\s+sich\s+auf|refer\s+to|are\s+from)"
    r"\s+(?:diese|this|that)\s+(?:serie|series)\b", regex.IGNORECASE)

#: An addendum correcting the series of the report's images: "Die oben genannten Bildnummern beziehen sich nicht auf
#: Serie 4 (Weichteil), sondern auf Serie 5", "the image numbers above refer not to series 4 but to series 5".
_SERIES_CORRECTED = regex.compile(
    r"\b(?:bildnummern|bildangaben|bilder|image\s+numbers|images)\b[^.\n]{0,60}?\b(?:beziehen\s+sich\s+nicht\s+auf"
    r"|refer\s+not\s+to|do\s+not\s+refer\s+to|are\s+not\s+(?:on|from))\s+(?:die\s+|the\s+)?(?:serie|series)\s*\d{1,5}"
    r"[^.\n]{0,40}?(?:,\s*)?\b(?:sondern\s+auf|but\s+(?:to|on|from))\s+(?:die\s+|the\s+)?(?:serie|series)\s*"
    r"(?P<ser>\d{1,5})\b",
    regex.IGNORECASE)

#: "Se."/"Ser."/"S." for a series word: where a text has neither it nor "serie" (nor "Bildangaben Se 3"), it names no
#: series for its images.
_SE_DOT = re.compile(r"\b[Ss](?:[Ee][Rr]?)?\.")
_SE_NAMED = re.compile(r"(?i:bildangaben|bildnummern)\s*:?\s*[Ss][Ee]\b")

#: A series named as the rule with its exceptions: "(axial series 4 unless stated)", "Serie 2, soweit nicht anders
#: angegeben", "Sl.-Nummer in Lungenfenster (Serie 6), wenn nicht andere angegeben".
_SERIES_UNLESS = regex.compile(
    r"\b(?:series|serie)\s*(?P<ser>\d{1,5})\s*\)?\s*,?\s*"
    r"(?:unless\s+(?:otherwise\s+)?(?:stated|noted|specified|indicated)"
    r"|(?:soweit|sofern|wenn|falls)\s+nicht\s+andere?s?\s+(?:angegeben|vermerkt|bezeichnet|genannt|gekennzeichnet))\b",
    regex.IGNORECASE)

#: After a series statement, in its sentence: the prior exam's images are of another series ("..., bzw. auf Serie 4 der
#: Voruntersuchung", "and to series 2 of the prior study", "series 3 (current) and series 2 (prior)").
_PRIOR_SERIES = regex.compile(
    r"[^.;\n]{0,60}?(?:\bbzw\.|\b(?:und|sowie|and)\b|,)\s*(?:auf\s+|to\s+)?(?:die\s+|the\s+)?\b(?:serie|series)\s*(?P<ser>\d{1,5})"
    r"(?:\s+(?:der|in\s+der|für\s+die|of\s+the|on\s+the|for\s+the)\s+|\s*\(\s*)(?:voruntersuchung|vu|voraufnahme|"
    r"vergleichsuntersuchung|prior|previous|comparison)\b", regex.IGNORECASE)

#: ... or after a label of the prior exam: "Bildnummern aktuell: Serie 4; Voruntersuchung 18.10.2023: Serie 3",
#: "Bildnummern: aktuell Serie 201, Voruntersuchung Serie 3", "IMA-Nummern aktuell Serie 3, Voruntersuchung T1 ebenfalls
#: Serie 3", "..., in beiden Voruntersuchungen jeweils Serie 2".
_PRIOR_SERIES_LABELLED = regex.compile(
    r"[ \t]*[;,][ \t]*(?:(?:in|auf|bei|on)[ \t]+(?:der|den|beiden|allen|both|all|the)[ \t]+)?"
    r"(?:voruntersuchung(?:en)?|vorunt\.|vu|prior(?:[ \t]+(?:studies|study|exams?))?|previous|comparison)(?:[ \t]+(?:vom[ \t]+|of[ \t]+)?"
    r"\d{1,2}[./]\d{1,2}[./]\d{2,4}|[ \t]+(?-i:T|FU|TP)\d{1,2})?[ \t]*:?[ \t]*(?:(?:ebenfalls|ebenso|auch|jeweils|likewise|also)[ \t]+)?"
    r"(?:serie|series)[ \t]*(?P<ser>\d{1,5})\b", regex.IGNORECASE)

#: ... or after "those of the prior": "Die Bildangaben beziehen sich auf Serie 3 (Lunge), die der Voruntersuchung auf
#: deren Serie 2", "image numbers refer to series 3, those of the prior to series 2".
_PRIOR_SERIES_THOSE = regex.compile(
    r"[ \t]*(?:\([^()\n]{0,40}\))?[ \t]*[;,][ \t]*(?:die|diejenigen|those)[ \t]+(?:der|of[ \t]+the)[ \t]+"
    r"(?:voruntersuchung|vu|voraufnahme|vergleichsuntersuchung|prior|previous|comparison)(?:[ \t]+(?:study|exam|ct))?"
    r"[ \t]+(?:auf|to|refer[ \t]+to|are[ \t]+(?:on|from))[ \t]+(?:deren[ \t]+|die[ \t]+|its[ \t]+|the[ \t]+)?"
    r"(?:serie|series)[ \t]*(?P<ser>\d{1,5})\b", regex.IGNORECASE)

#: Between two items of one list of images, with nothing that names another exam: "Se. 2 Im. 47 bzw. Se. 2 Im. 55".
#: What stands between this exam's image and the prior's where a report cites both as "A / B": "(3:45 / 2:40)", "9 mm
#: (Se 2/Bi 31)  /  13 mm (Se 2/Bi 33)".
_SLASH_GAP = regex.compile(r"[ \t)\]]*/[ \t]*(?:\d{1,3}(?:[.,]\d)?[ \t]*(?:mm|cm)[ \t]*)?[(\[]?[ \t]*", regex.IGNORECASE)
#: Between two sizes of one list, each with its image: "these measured 22 mm [5:58] and 25 mm [5:66]" (the second is
#: of the exam the first is of)
_SIZE_LIST_GAP = regex.compile(r"[ \t)\]]*(?:,|,?[ \t]+(?:and|und|sowie))[ \t]+\d{1,3}(?:[.,]\d)?(?:[ \t]*[x×][ \t]*"
                               r"\d{1,3}(?:[.,]\d)?)*[ \t]*(?:mm|cm)[ \t]*[(\[]?[ \t]*", regex.IGNORECASE)
#: A report's statement that it cites this exam's image and then the prior's, apart by a slash: "Image references are
#: given as (current series:image / prior series:image)", "(Kurzachse, aktuell / VU; ...)", "Image no. (Current / Prev)".
_SLASH_ORDER = regex.compile(
    r"\b(?:current|curr\.|aktuell|akt\.|today|now|heute|jetzt)(?:[ \t]+[\w:.-]+){0,2}[ \t]*/[ \t]*"
    r"(?:prior|previous|prev\.?|comparison|baseline|vu|voruntersuchung|vorbefund|vor-?ct)\b", regex.IGNORECASE)


def slash_order(text: str) -> bool:
    """Whether the report says it gives this exam's image and then the prior's as "A / B" (`_SLASH_ORDER`)."""
    return _SLASH_ORDER.search(text) is not None


_ITEM_GAP = regex.compile(r"[ \t]*(?:[,;]|&|\b(?:and|und|bzw\.|or|oder|sowie)(?!\w))[ \t\n]*"
                          r"(?:(?:and|und|bzw\.|or|oder)(?!\w)[ \t\n]*)?", regex.IGNORECASE)
_LIST_GAP = regex.compile(r"\s*,?\s*(?:and|und|&|sowie|as\s+well\s+as)?\s*", regex.IGNORECASE)


#: Words before a series that name it for every image listed before it: "(aktuell Serie 2, Schicht 88; 2024 Schicht 86,
#: 2023 Schicht 87, jeweils Serie 2)"
_EACH_BEFORE = regex.compile(r"\b(?:jeweils|each|all|both|beide|alle)[ \t]+(?:(?:on|in|auf)[ \t]+)?(?:the[ \t]+)?$",
                             regex.IGNORECASE)


def _for_each_in_bracket(text: str, a: int, pos: int) -> bool:
    """Whether the series named at `pos` is named for each image of the parenthesis holding `a` and `pos`."""
    return _bracket_open(text, a, pos) >= 0 and _EACH_BEFORE.search(text, max(a, pos - 25), pos) is not None


def _listed_with(text: str, r: RawRef, raws, pos: int) -> bool:
    """Whether the reference holding the series named at `pos` follows `r` as the next item of one list ("image 45 and
    image 60 (series 3)": both on series 3)."""
    nxt = next((x for x in raws if x.start <= pos < x.end), None)
    return nxt is not None and nxt.start >= r.end and _LIST_GAP.fullmatch(text, r.end, nxt.start) is not None


#: A sentence that places its image on the series named before it.
_SAME_SERIES = regex.compile(
    r"\b(?:(?:the\s+)?same\s+series|(?:gleichen?|selben?|derselben|dieselbe)\s+serie|"
    r"also\s+(?:seen\s+|visible\s+|noted\s+)?(?:on|in|at)\s+(?:the\s+)?(?:images?|slices?|section)\b|"
    r"ebenfalls\s+(?:auf|in)\s+(?:bild|schicht)|auf\s+bild\s+\d+\s+ebenfalls)",
    regex.IGNORECASE,
)
#: An aside a series statement may hold: "Bildnummern (IMA) beziehen sich, soweit nicht anders angegeben, auf Serie 6".
_UNLESS = (r"\s*[,\u2013\u2014-]\s*(?:(?:soweit|sofern|wenn|falls)\s+nicht\s+anders|unless\s+otherwise)\s+"
           r"(?:angegeben|angeführt|aufgeführt|erwähnt|vermerkt|bezeichnet|genannt|gekennzeichnet|stated|noted|specified|indicated)"
           r"\s*[,\u2013\u2014-]")
_ASIDE = r"(?:\s*\([^()\n]{1,30}\))?(?:" + _UNLESS + ")?"
#: A statement naming the series the report's image numbers refer to, or (group "head") a list heading naming the series
#: of its section's images.
_SERIES_STATEMENT = regex.compile(
    r"\b(?:(?:all\s+)?(?:(?:image|ima|img)\s+(?:numbers?|nos?\.)"
    # not the images of one series named by what they show: "Expiratory images are series 7"
    r"|(?<!\b(?:expiratory|inspiratory|prone|coronal|sagittal|mip|mpr|reformatted|delayed|venous|arterial|bone)"
    r"\s+)images?"
    r"|image\s+references?|references|slice\s+numbers?)"
    r"(?:\s+(?:below|herein|cited|quoted|given|listed|mentioned|used|in\s+this\s+report"
    r"|in\s+(?:the\s+|this\s+)?(?:[\w-]+\s+)?section|(?:of|for|on|in)\s+(?:the\s+)?current"
    r"\s+(?:study|exam|examination|ct|scan)))?" + _ASIDE + r"\s+"
    r"(?:refers?|are|is|relates?|corresponds?)" + _ASIDE
    # "Image numbers are quoted as image/total of axial series 3"
    + r"(?:\s+(?:quoted|given|cited|stated|listed|written)\s+as\s+(?:\"[^\"\n]{1,30}\"|[\w/-]+(?:\s+[\w/-]+)?)"
    r"\s+(?:of|on|in|from))?"
    r"\s+(?:to\s+|from\s+|on\s+|in\s+)?"
    r"(?:the\s+)?(?:(?:(?:\d+[.,]\d+|[\w/-]+)\s+){0,5}?(?:series|reconstructions?)(?:\s+" + _EACH_EXAM + ")?"
    # or what it shows and its number in brackets: "refer to the axial CT (series 3, 3 mm)"
    r"|(?:[\w-]+\s+){0,2}?[\w-]+(?=\s*\(\s*series\s*\d))|"
    r"(?:image\s+numbers?|image\s+references?|bildnummern|bildangaben)(?:\s+(?:aktuell|akt\.|current))?\s*:\s*(?:the\s+|die\s+)?(?:(?:\d+[.,]\d+|[\w-]+)\s+){0,3}?[\w-]*series?|(?P<head>(?:images?|image\s+numbers?)\s+(?:from|of|on)\s+(?:the\s+)?(?:axial\s+)?series(?=\s*\#?\s*\d+\s*:))|"
    r"(?:alle\s+)?(?:bildangaben|bildnummern|bildverweise|bilder|bildnummer|schichtangaben|schichtnummern|bild-?nrn?\.|(?:ima|img|bildnr)\.?-?angaben|ima-?nummern)"
    r"(?:\s+(?:der|zur|für\s+die)\s+(?:aktuellen\s+|akt\.\s*)untersuchung"
    r"|\s+ohne\s+(?:serie|serienangabe|serienbezeichnung|seriennummer|seriennennung|angabe\s+der\s+serie)\b|\s+im\s+befund|\s+(?P<vu>der\s+(?:vu|voruntersuchung)))?"
    + _ASIDE + r"\s+(?:beziehen\s+sich" + _ASIDE + r"\s+(?:(?:ebenfalls|auch|jeweils|stets|immer)\s+)?)?(?:auf|aus)\s+(?:die\s+|der\s+)?"
    # the series, or what it shows and its number in brackets: "auf die Rückenlage (Serie 2)"
    r"(?:(?:(?:\d+[.,]\d+|[\w-]+)\s+){0,3}?[\w-]*(?:serie|rekonstruktion)|(?:se|ser|s)\.|(?-i:SE|Se)(?=\s*\d)"
    r"|(?:[\w-]+\s+){0,2}?[\w-]+(?=\s*\(\s*serie\s*\d))"
    # and then this exam's: "auf die axiale Lungenrekonstruktion 1 mm, aktuell Serie 3, in beiden Voruntersuchungen ..."
    r"(?:\s+\d+(?:[.,]\d+)?\s*mm\s*,\s*(?:aktuell|akt\.|current)\s+(?:serie|series))?|"
    # the series alone after the word: "Aktueller Befund (Bildangaben Se 3, Lungenkern 1 mm):", "Bildnummern: Serie 4"
    r"(?:bildangaben|bildnummern)\s*:?\s*(?:serie|ser\.?|se\.?)(?=\s*\d)|"
    # the exam's, without a verb: "Bildangaben akt. Unters. Serie 4 (Lunge 1,5mm)", "Bildnummern der aktuellen
    # Untersuchung: Serie 3"
    r"(?:bildangaben|bildnummern|schichtangaben)\s+(?:der\s+)?(?:akt\.|aktuellen?)\s*(?:unters\.|untersuchung)\s*:?\s*"
    r"(?:serie|se\.)|"
    # without a verb: "Note: image numbers from series 5.", "Alle Bildnummern in Serie 4."
    r"(?:image\s+numbers|image\s+references|slice\s+numbers)\s+(?:are\s+)?(?:from|on|in)\s+(?:the\s+)?(?:(?:\d+[.,]\d+|[\w-]+)\s+){0,3}?series|"
    r"(?:alle\s+)?(?:bildangaben|bildnummern|schichtangaben)\s+(?:jeweils\s+(?:(?:in|der|von|zu|aus)\s+(?:der\s+)?)?|"
    r"(?:in|der|von|zu)\s+(?:der\s+)?)(?:(?:\d+[.,]\d+|[\w-]+)\s+){0,3}?[\w-]*serie|"
    # or with an aside for a verb: "Bildangaben, sofern nicht anders vermerkt, Serie 4", "Bildnummern im Text – soweit
    # nicht anders genannt – Serie 5"
    r"(?:bildangaben|bildnummern|schichtangaben|image\s+numbers)(?:\s+(?:im\s+(?:text|befund)|in\s+the\s+(?:text|report)))?"
    + _UNLESS + r"\s*(?:(?:in|aus|auf|from|on)\s+)?(?:der\s+|the\s+)?"
    r"(?:serie|series)|"
    # the series a pasted analysis names: "Analysierte Serie: 4 | Schichtdicke 1,0 mm", "Analyzed series: 4"
    r"(?:analysierte|ausgewertete|analy[sz]ed|evaluated)\s+(?:serie|series)\s*:)"
    # (a described series may give its slice thickness: "the 3.0 mm axial series (series 2)", "die 1,5 mm Lungenserie")
    # the number, or the series described and then numbered: "the lung window series (series 4)", "venöse Serie (Serie 6)",
    # "the axial lung series, series 3"
    # "the axial lung series: series 3 (current) and series 2 (prior)"
    r"\s*(?:[(,:]\s*(?:series|serie|ser\.?|se\.?)\s*)?(?:\#|no\.?|nr\.?)?\s*(?P<ser>\d{1,5})\b"
    # not one of several: "image numbers in series 3 and 4 differ" (but "(Serie 5, 1 mm, 680 Bilder)" is one)
    # nor a slice thickness: "auf die axiale Lungenrekonstruktion 1 mm"
    r"(?!\s*(?:and|or|und|oder|/)\s*\d|\s*,\s*\d+(?![.,]?\d*\s*(?:mm|cm|bilder|images|slices|schichten)\b)|(?:[.,]\d+)?\s*mm\b)",
    regex.IGNORECASE,
)
_EACH_EXAM_RX = regex.compile(_EACH_EXAM, regex.IGNORECASE)
#: The statement's scan, branch by branch (`rules.BranchScan`: 96 -> 79 us a report, 120 -> 82 on the blind reports).
_STATEMENT_SCAN = BranchScan([_SERIES_STATEMENT])


#: A line that only names a series, heading the list of images below it ("Series 4:", "- Serie 6:", "Nodules (series
#: 4):", "Lunge (Se. 6):"), tried only on lines that end in a colon (`_heading_lines`: tried on every line start it cost
#: 85 us a 2 KB report).
_SERIES_HEADING_LINE = regex.compile(
    r"[ \t]*(?:[-*\u2022][ \t]*)?(?:[^\n:()]{1,60}?\([^()\n]{0,60}?\b)?(?:series|serie|ser\.?|se\.?)\s*(?:\#|no\.?|nr\.?)?\s*(?P<ser>\d{1,5})(?!\d)"
    # and what the brackets say of it: "Pulmonale Metastasen (Serie 3 in beiden Untersuchungen; Bildnummer aktuell / VU):"
    r"(?:\s*\)|(?P<aside>[ \t;,][^()\n]{0,80})\))?\s*:",
    regex.IGNORECASE,
)
#: ... saying it holds for both exams' images.
_BOTH_EXAMS = regex.compile(r"\b(?:(?:in|für|auf)\s+)?beiden\s+untersuchungen\b|\b(?:in|on|for)\s+both\s+(?:studies|exams|examinations|scans)\b"
                            r"|\b" + _EACH_EXAM, regex.IGNORECASE)  # "(axial series 3 on all studies; ...):"
_LINE_ENDS_IN_COLON = regex.compile(r":[ \t]*(?=\n|\Z)")


#: A line opening with a series label, its findings after it on the same line: "Series 3: 4 mm nodule (image 45). ...".
#: (Python's `re`: its scan of line starts is twice as fast here.)
_SERIES_LINE_LABEL = re.compile(
    r"^[ \t]*(?:[-*\u2022][ \t]*)?(?:series|serie)[ \t]*(?:\#|no\.?|nr\.?)?[ \t]*(?P<ser>\d{1,5})[ \t]*:[ \t]+(?=\S)",
    re.IGNORECASE | re.MULTILINE)
#: ... or a label naming its series in brackets, opening a line or a sentence: "Planungsscan (Serie 2, 3 mm): Rundherd ...
#: auf Bild 57"; scanned only where a text has a bracket closed before a colon (`_BRACKET_COLON`: 60 us a report saved).
_SERIES_BRACKET_LABEL = re.compile(
    r"(?:^|(?<=[.!?][ \t]))[ \t]*[^\W\d_][^\n:()]{0,40}?\([ \t]*(?:series|serie)[ \t]*(?P<ser>\d{1,5})(?![\d/:])[^()\n]{0,30}\)"
    r"[ \t]*:[ \t]+(?=\S)",
    re.IGNORECASE | re.MULTILINE)
_BRACKET_COLON = re.compile(r"\)[ \t]*:")


#: A series statement naming each exam's series ("series 3 on this study, series 3 on the 2022 HRCT and series 2 on the
#: 2019 CT", "baseline CT series 2; interim PET-CT (low-dose CT) series 4", "Baseline Serie 3, Interim Serie 4"): one
#: item, the series after or before its exam's label (a year, a date, or the exam's kind).
_EXAM_LABEL_WORD = r"(?:19|20)\d\d-\d\d-\d\d|\d{1,2}[./]\d{1,2}[./](?:19|20)\d\d|(?:19|20)\d\d|baseline|interim|nadir"
_EXAM_SERIES_ITEM = regex.compile(
    rf"\b(?:series|serie)[ \t]*(?P<ser>\d{{1,5}})[ \t]+(?:on|of|in|for|der|in[ \t]+der)[ \t]+(?:the[ \t]+)?"
    rf"(?P<label>{_EXAM_LABEL_WORD})\b"
    rf"|\b(?P<label2>{_EXAM_LABEL_WORD})(?:[ \t]+(?:ct|hrct|cta|pet-?ct|study|scan|exam|untersuchung))?"
    rf"(?:[ \t]*\([^()\n]{{0,30}}\))?[ \t]*:?[ \t]*(?:series|serie)[ \t]*(?P<ser2>\d{{1,5}})\b", regex.IGNORECASE)
#: ... in a sentence about the report's image numbers.
_NUMBERS_SENTENCE = regex.compile(r"image\s+(?:numbers?|references?)|images?\s+(?:quoted|cited)|series\s+used|bildangaben"
                                  r"|bildnummern|ima-nummern", regex.IGNORECASE)
_KIND = regex.compile(r"\b(?:baseline|interim|nadir)\b", regex.IGNORECASE)
#: The last exam label before a reference in its sentence: its exam's key (`exam_key`).
_LABEL_BEFORE = regex.compile(rf"(?r)\b(?:{_EXAM_LABEL_WORD})\b", regex.IGNORECASE)
#: An exam's date and its kind named together: "CT 19.09.2023 (Baseline)", "Baseline: CT vom 19.09.2023".
_DATE_KIND = regex.compile(
    r"(?P<date>\d{1,2}\.\d{1,2}\.(?:19|20)\d\d|(?:19|20)\d\d-\d\d-\d\d)[ \t]*\([ \t]*(?P<kind>baseline|interim|nadir)\b"
    r"|\b(?P<kind2>baseline|interim|nadir)[ \t]*:?[ \t]*(?:ct[ \t]+)?(?:vom[ \t]+|from[ \t]+|of[ \t]+)?"
    r"(?P<date2>\d{1,2}\.\d{1,2}\.(?:19|20)\d\d|(?:19|20)\d\d-\d\d-\d\d)", regex.IGNORECASE)
_SENTENCE_START = regex.compile(r"(?r)[.!?](?=\s)|\n")


def exam_key(label: str) -> str:
    """The key of a prior exam's label: its kind ("baseline", "interim", "nadir"), its date (day, month, year), else its
    year."""
    low = label.lower()
    if _KIND.fullmatch(low):
        return low
    n = regex.findall(r"\d+", low)
    if len(n) == 3:
        return "-".join(n) if len(n[0]) == 4 else "-".join(reversed(n)) if "." in low else low
    return n[0] if n else low


def exam_series(text: str) -> dict[str, int]:
    """{exam key: series} from the report's statements naming each prior exam's series (`_EXAM_SERIES_ITEM`), where one
    key names one series; an exam named both by its date and its kind ("CT 19.09.2023 (Baseline)") under both."""
    found: dict[str, set[int]] = {}
    for m in _EXAM_SERIES_ITEM.finditer(text):
        start = _SENTENCE_START.search(text, 0, m.start())
        if _NUMBERS_SENTENCE.search(text, start.end() if start else 0, m.start()) is None:
            continue
        label = m.group("label") or m.group("label2")
        found.setdefault(exam_key(label), set()).add(int(m.group("ser") or m.group("ser2")))
    out = {k: next(iter(v)) for k, v in found.items() if len(v) == 1}
    for m in _DATE_KIND.finditer(text):
        date, kind = exam_key(m.group("date") or m.group("date2")), (m.group("kind") or m.group("kind2")).lower()
        for a, b in ((date, kind), (kind, date)):
            if a not in out and b in out:
                out[a] = out[b]
    return out


def _exam_label(heading: str | None, text: str, start: int, end: int) -> str | None:
    """The label naming the exam of a prior reference: its column heading's kind or date, else the last label before it
    in its sentence (`text[start:end]`)."""
    if heading is not None:
        m = _KIND.search(heading) or _LABEL_BEFORE.search(heading)
        if m is not None:
            return m.group(0)
    m = _LABEL_BEFORE.search(text, start, end)
    return None if m is None else m.group(0)


class SeriesStatement(NamedTuple):
    """Where the report names the series of its images, and how far that holds: the whole report ("All images refer to
    series 3"), the section of a heading line ("Series 4:" above a list), or the rest of a line it labels."""

    start: int
    end: int
    series: int
    scope: str  # "report", "section", "line", or "correction" (an addendum's: it holds for every image of the report)
    until: int = 0  # a "line" label's line end
    priors: bool = False  # it says it holds for the prior exam's images too ("..., auch für die Voraufnahme")
    current: bool = True  # it holds for this exam's images (not one naming the prior exam's own series)


def _heading_lines(text: str) -> list[SeriesStatement]:
    """Every line that is a `_SERIES_HEADING_LINE`."""
    out = []
    for m in _LINE_ENDS_IN_COLON.finditer(text):
        start = text.rfind("\n", 0, m.start()) + 1
        h = _SERIES_HEADING_LINE.fullmatch(text, start, m.start() + 1)
        if h:
            both = h.group("aside") is not None and _BOTH_EXAMS.search(h.group("aside")) is not None
            out.append(SeriesStatement(h.start(), h.end(), int(h.group("ser")), "section", priors=both))
    return out


def _line_labels(text: str) -> list[SeriesStatement]:
    """Every `_SERIES_LINE_LABEL` and `_SERIES_BRACKET_LABEL`, holding to its line's end. (The two cannot overlap: a
    line label's match ends at its colon, which a bracket label's lead may not hold.)"""
    found = list(_SERIES_LINE_LABEL.finditer(text))
    if _BRACKET_COLON.search(text):
        found = sorted(found + list(_SERIES_BRACKET_LABEL.finditer(text)), key=lambda m: m.start())
    out = []
    for m in found:
        until = text.find("\n", m.end())
        out.append(SeriesStatement(m.start(), m.end(), int(m.group("ser")), "line", len(text) if until < 0 else until))
    return out


#: A series marked as the prior exam's right after its number: "series 2 (prior)".
_PRIOR_MARK = regex.compile(r"\s*\(\s*(?:prior|previous|comparison|vu|voruntersuchung|vorbefund)\s*\)", regex.IGNORECASE)


def series_statements(text: str) -> list[SeriesStatement]:
    """Every statement naming the series of the report's images, in text order."""
    if "erie" not in text and "ERIE" not in text and _SE_DOT.search(text) is None and _SE_NAMED.search(text) is None:
        return []
    found = []
    for _, m in _STATEMENT_SCAN.scan(text):
        got = m.groupdict()  # (a branch's groups: "vu" and "head" are some branches' only)
        if got.get("vu") or _PRIOR_MARK.match(text, m.end()):
            # "Bildangaben der VU beziehen sich ebenfalls auf Serie 4", "... series 2 (prior)": the prior exam's images only
            found.append(SeriesStatement(m.start(), m.end(), int(m.group("ser")), "report", priors=True, current=False))
            continue
        found.append(SeriesStatement(m.start(), m.end(), int(m.group("ser")),
                                     "section" if got.get("head") is not None else "report",
                                     priors=_PRIORS_TOO.match(text, m.end()) is not None
                                     or _EACH_EXAM_RX.search(text, m.start(), m.end()) is not None))
        other = (_PRIOR_SERIES.match(text, m.end()) or _PRIOR_SERIES_LABELLED.match(text, m.end())
                 or _PRIOR_SERIES_THOSE.match(text, m.end()))
        if other is not None:  # "... auf Serie 5 der aktuellen Untersuchung bzw. auf Serie 4 der Voruntersuchung"
            found.append(SeriesStatement(m.start(), other.end(), int(other.group("ser")), "report", priors=True,
                                         current=False))
    found += [SeriesStatement(m.start(), m.end(), int(m.group("ser")), "report")
              for rx in (_THIS_SERIES, _SERIES_UNLESS) for m in rx.finditer(text)]
    found += [SeriesStatement(m.start(), m.end(), int(m.group("ser")), "correction")
              for m in _SERIES_CORRECTED.finditer(text)]
    return sorted(found + _heading_lines(text) + _line_labels(text))


#: Where a report gives its own exam's date: a header field ("Exam date: 2024-05-21", "Untersuchungsdatum: 15.05.2024"),
#: a title line ("CT Thorax mit KM vom 08.05.2025", "Untersuchung: CT Thorax nativ vom 22.04.2024") or an exam listed as
#: the current one ("(A) CT chest with contrast 03/11/2024 - current").
_DATE = r"\d{1,2}[./-]\d{1,2}[./-]\d{4}|\d{4}-\d{2}-\d{2}"
_EXAM_DATE = regex.compile(
    rf"\b(?:(?:exam(?:ination)?|study|scan|service|procedure)\s+date|date\s+of\s+(?:the\s+)?"
    rf"(?:exam(?:ination)?|study|scan|service|procedure)|untersuchungsdatum|datum\s+der\s+untersuchung)\s*:?\s*"
    rf"(?P<d>{_DATE})"
    rf"|^[ \t]*(?:untersuchung\s*:\s*)?(?:ct|cta|hrct|ldct|mdct)\b[^\n:]{{0,80}}?\b(?:vom|from|of|dated|on)\s+"
    rf"(?P<t>{_DATE})(?![ \t]*(?:\([^()\n]*\))?[ \t]*:)"  # not an exam's label: 'CT vom 20.06.2022: "..."'
    rf"|(?P<c>{_DATE})[ \t]*(?:[-\u2013(][ \t]*)?(?:current|aktuell|this\s+exam)\b",
    regex.IGNORECASE | regex.MULTILINE)


def _day_readings(date: str) -> set[tuple[int, ...]]:
    """The (year, month, day) a date may be, (year, month) for a month, (year,) for a year: "03/11/2024" both ways round,
    "15.05.2024" day first, "2024-05-21" year first."""
    n = [int(x) for x in regex.findall(r"\d+", date)]
    if len(n) == 1:
        return {(n[0],)}
    if len(n) == 2:
        return {(n[1], n[0])}
    if n[0] > 31:
        return {(n[0], n[1], n[2])}
    return {(n[2], n[1], n[0])} if "." in date else {(n[2], n[0], n[1]), (n[2], n[1], n[0])}


def _exam_days(text: str) -> set[tuple[int, ...]]:
    """The readings (`_day_readings`) of the dates the report gives its own exam (`_EXAM_DATE`)."""
    days: set[tuple[int, ...]] = set()
    for m in _EXAM_DATE.finditer(text):
        days |= _day_readings(m.group("d") or m.group("t") or m.group("c"))
    return days


def _dates_this_exam(text: str, date: str) -> bool:
    """Whether `date` may be the report's own exam's date."""
    return bool(_exam_days(text) & _day_readings(date))


#: An exam named by its kind: a compound ("Akut-CT", "Staging-CT", "Polytrauma-CT (Schockraum)") or an acronym ("CTPA").
#: Group "key": what names it again later ("akut" in "in der Akut-CT"; "schockraum" also for "Schockraum-CT").
_EXAM_KIND = regex.compile(
    r"\b(?P<key>[a-zäöü]{4,})-(?:ct|cta|mrt|mri)\b(?:[ \t]*\((?P<alias>[a-zäöü]{4,})\))?"
    r"|\b(?P<acronym>ctpa|ctca|cta|pet[-/]?ct|hrct|ldct)\b", regex.IGNORECASE)
#: Where a report names the exams it compares with, outside a comparison section: "Vergleich mit der Akut-CT",
#: "compared to the CTPA"
_COMPARED_WITH = regex.compile(r"\b(?:(?:im\s+)?vergleich\s+(?:mit|zu)(?:r|m)?|compared\s+(?:to|with)|comparison\s+with)"
                               r"\s+(?:der|dem|den|the)?\s*", regex.IGNORECASE)


_ACRONYMS = frozenset({"ctpa", "ctca", "cta", "pet-ct", "hrct", "ldct"})
#: An English comparison section's name for an exam: the word before its modality ("Staging PET-CT", "Interim CT
#: thorax") or its label in brackets ("CTPA 22/08/2023 (index)", "CT thorax 2024-01-03 (admission)", "(3-month)").
_EXAM_NAME_EN = regex.compile(
    r"(?:^|[\n:;,.]|\d)[ \t]*(?:\d\.[ \t]*)?(?P<word>[a-z][a-z-]{3,})[ \t]+(?:ct|cta|ctpa|hrct|pet[-/]?ct)\b"
    r"|\([ \t]*(?P<label>[a-z0-9][a-z0-9-]{2,}(?:[ \t]+[a-z][a-z-]{2,})?)[ \t]*[),;]", regex.IGNORECASE)
#: A comparison section's exams numbered in brackets: "(1) CT Thorax 19.11.2023", "(2) HRCT 26.02.2024".
_NUMBERED_EXAM = regex.compile(r"^[ \t]*\(([1-9])\)[ \t]+\S", regex.MULTILINE)
#: Names that say nothing of which exam: a region, a technique, a place.
_NOT_EXAM_NAMES = frozenset({"chest", "thorax", "thoracic", "contrast", "non-contrast", "low-dose", "unenhanced",
                             "enhanced", "outside", "external", "this", "same", "previous", "prior", "images",
                             "imported", "report", "reports", "none", "helical", "spiral", "axial", "dual-energy"})


def _kind_keys(text: str, start: int = 0, end: int | None = None) -> set[str]:
    out = set()
    for m in _EXAM_KIND.finditer(text, start, len(text) if end is None else end):
        out.update(k.lower().replace("/", "-") for k in m.group("key", "alias", "acronym") if k)
    return out


def compared_exam_kinds(text: str, sections) -> tuple[set[str], set[str]]:
    """The kinds of the exams a report compares with ("Voruntersuchung: Polytrauma-CT (Schockraum)", "Comparison: CTPA
    21/08/2022", "Vergleich mit der Akut-CT"), less those of its own exam (its title, before the first section): a later
    "in der Akut-CT", "(Akut-CT 4/150)", "of the CTPA" names that prior exam. And the names a comparison section gives
    its exams (`_EXAM_NAME_EN`: "Staging PET-CT", "CTPA 22/08/2023 (index)", "CT 18.01.2025 (Aufnahme)")."""
    lower = text.lower()
    if "ct" not in lower and "mr" not in lower:
        return set(), set()
    kinds: set[str] = set()
    names: set[str] = set()
    for sec in sections:
        if sec.name == "COMPARISON":
            kinds |= _kind_keys(text, sec.header_end, sec.end)
            names |= {" ".join(k.lower().split()) for m in _EXAM_NAME_EN.finditer(text, sec.header_end, sec.end)
                      for k in m.group("word", "label") if k and k.split()[0].lower() not in _NOT_EXAM_NAMES
                      and not k.isdigit()}
            names |= {f"({m.group(1)})" for m in _NUMBERED_EXAM.finditer(text, sec.header_end, sec.end)}
    for word in ("vergleich", "compar"):  # the phrase's scan, only where its word stands (a tenth of a whole scan)
        i = lower.find(word)
        while i >= 0:
            m = _COMPARED_WITH.search(text, max(0, i - 4), i + 40)
            if m is not None and _EXAM_KIND.match(text, m.end()):
                kinds |= _kind_keys(text, m.end(), m.end() + 30)
            i = lower.find(word, i + 1)
    if not kinds and not names:
        return kinds, names
    title_end = next((sec.start for sec in sections if sec.name != "OTHER"), min(len(text), 400))
    own = _kind_keys(text, 0, title_end)
    return kinds - own, names - own - kinds  # (a kind's alias is no name: "Polytrauma-CT (Schockraum)")


def _with_named_exams(text: str, triggers: list[Trigger], kinds: set[str], names: set[str], sections) -> list[Trigger]:
    """`triggers` with a prior trigger at each later naming of a compared exam's kind or name (`compared_exam_kinds`) in
    the report's body: "in der Akut-CT an gleicher Stelle Konsolidierung, Serie 4, Bild 188", "(Akut-CT 4/150)", "Im
    Staging-CT Lunge dort frei (Ser. 5 Img. 150)"; "On the index CTPA it was 7.8 mm", "at the interim CT", "at staging"
    (not "the index lesion"), "bei Aufnahme", "(Aufnahme max. 55 mm, ...)", "..., interim 71 x 40 mm (Se. 4, ...)"."""
    body = [(sec.header_end, sec.end) for sec in sections if sec.name not in ("COMPARISON", "HISTORY", "TECHNIQUE", "OTHER")]
    # "Schockraum-CT", not the trauma room's "(Schockraum)"
    words = [r"\b" + regex.escape(k) + ("" if k in _ACRONYMS else r"-?(?:ct|cta|mrt|mri)") for k in kinds]
    for k in names:
        if k[0] == "(":  # a numbered exam: "in (2) noch diffuses Milchglas", "gegenüber (3) unverändert"
            words.append(r"(?<=\b(?:in|gegenüber|zu|vs\.?|seit|since|on|than|aus|from|compared\s+(?:to|with))[ \t]+)"
                         + regex.escape(k))
            continue
        k = r"\b" + regex.escape(k).replace(r"\ ", r"[ \t]+")
        words.append(r"(?:(?<=\b(?:the|at)[ \t]+)" + k
                     + r"(?:[ \t-]+(?:ct|cta|ctpa|hrct|pet[-/]?ct|scan|study|exam|examination)\b"
                     r"|(?<=\bat[ \t]+[\w-]+))|(?<=\bbei[ \t]+(?:der[ \t]+)?)" + k
                     + r"|(?<=\()" + k + r"(?=[ \t]+(?:max\.?|ca\.?)?[ \t]*\d|[ \t]*[,:])"
                     # labelling a size after a comma: "aktuell 52 x 21 mm (...), interim 71 x 40 mm (...)"
                     + r"|(?<=[,;][ \t]*)" + k + r"(?=[ \t]*:?[ \t]*(?:ca\.?[ \t]*)?\d+(?:[.,]\d+)?"
                     r"(?:[ \t]*[x×][ \t]*\d+(?:[.,]\d+)?)*[ \t]*(?:mm|cm)\b))")
    rx = regex.compile(r"(?:" + "|".join(sorted(words, key=len, reverse=True)) + r")(?![\w-])", regex.IGNORECASE)
    new = [Trigger(m.start(), m.end(), "prior", "forward", "compared_exam_kind")
           for a, b in body for m in rx.finditer(text, a, b)]
    return sorted(triggers + new, key=lambda t: t.start) if new else triggers


#: Between a reference and the compared exam named right after it: "image 140 of the CTPA", "Bild 88 der Akut-CT"
_OF_EXAM = regex.compile(r"[ \t]*(?:of|on|in|from|der|des|in\s+der|aus\s+der|im)[ \t]+(?:the[ \t]+)?", regex.IGNORECASE)


def _names_compared_exam_after(text: str, end: int, triggers: list[Trigger], trig_starts: list[int]) -> bool:
    """Whether a compared exam's kind (`_with_named_exams`) is named right after a reference ending at `end`."""
    i = bisect.bisect_right(trig_starts, end)
    while i < len(triggers) and triggers[i].start <= end + 16:
        t = triggers[i]
        if t.rule == "compared_exam_kind" and _OF_EXAM.fullmatch(text, end, t.start):
            return True
        i += 1
    return False


#: The triggers that are a date alone, which may be the report's own exam's.
_DATE_LABELS = frozenset({"prior_date_label", "prior_timepoint_date"})


def _this_exams_dates(text: str, triggers: list[Trigger]) -> list[Trigger]:
    """`triggers` with a date labelling a size ("- 03/11/2024: 2.2 x 1.6 cm (series 4, image 47)", `prior_date_label`)
    or a time point ("at 9 months (11/2023)", `prior_timepoint_date`) that is the report's own exam's date
    (`_EXAM_DATE`) made a current trigger: a follow-up list names every exam by its date, this one's too."""
    days = _exam_days(text)
    if not days:
        return triggers
    months, years = {d[:2] for d in days}, {d[:1] for d in days}
    out = []
    for t in triggers:
        if t.rule in _DATE_LABELS:
            said = text[t.start:t.end]
            seen = _day_readings(said[said.rfind("(") + 1:])  # a time point's date in its brackets
            if seen & days or any(len(d) == 2 and d in months or len(d) == 1 and d in years for d in seen):
                t = Trigger(t.start, t.end, "current", t.direction, "current_date_label")
        out.append(t)
    return out


_TIMEPOINT = regex.compile(r"(?-i:\b(FU|TP|V|[Ww]k|[Ww]eek)[ \t]?(\d{1,2})\b)")


#: This exam labelling a size as the time points label theirs: "aktuell 14 mm", "current: 9 mm".
_CURRENT_SIZE = regex.compile(
    r"\b(?:aktuell|akt\.|current(?:ly)?|today|heute|now|jetzt)[ \t]*:?[ \t]*\d+(?:[.,]\d+)?[ \t]*(?:mm|cm)\b",
    regex.IGNORECASE)


def _timepoint_kind(m: regex.Match) -> str:
    """A time point's kind: "FU", "TP", "V", or "W" for a week ("wk9", "Week 18")."""
    return "W" if m.group(1)[0] in "Ww" else m.group(1)


def _latest_timepoint(text: str, triggers: list[Trigger]) -> list[Trigger]:
    """`triggers` with each time-point label ("FU2 24 mm (Se 3/Im 187)", `prior_timepoint_label`) of the latest time
    point the report names ("BL ... | FU1 ... | FU2 ...") made a current trigger: a sheet lists every exam by its
    time point, this one's last; unless the report names this exam on a time point's line ("aktuell 14 mm (5/187); FU2
    13 mm (5/184)")."""
    if any(_TIMEPOINT.search(text, *line_span(text, m.start()))
           for m in _CURRENT_SIZE.finditer(text)):  # this exam named on a time point's line: every time point a prior
        return triggers
    latest: dict[str, int] = {}
    for m in _TIMEPOINT.finditer(text):
        latest[_timepoint_kind(m)] = max(latest.get(_timepoint_kind(m), 0), int(m.group(2)))
    out = []
    for t in triggers:
        if t.rule == "prior_timepoint_label":
            m = _TIMEPOINT.match(text, t.start)
            if m is not None and int(m.group(2)) == latest[_timepoint_kind(m)]:
                t = Trigger(t.start, t.end, "current", t.direction, "current_timepoint_label")
        out.append(t)
    return out


def _same_session_planning(text: str, triggers: list[Trigger]) -> list[Trigger]:
    """`triggers` without the prior ones naming a planning scan, in a report whose own procedure took one ("Limited
    planning scan through the left upper lobe": a CT-guided biopsy's): "on the planning scan (image 23)" is then this
    session's, where a follow-up's "on the planning CT" is the radiotherapy plan's, an earlier exam."""
    return [t for t in triggers if not (t.category == "prior" and "plan" in text[t.start:t.end].lower())]


#: A report's note that brackets hold the prior exam's images: "VU-Angaben in eckigen Klammern", "(Serie 2,
#: Voruntersuchung in Klammer)", "(current; baseline in brackets)".
_BRACKET_NOTE = regex.compile(
    r"\b(?:vu|voruntersuchung|vorbefund|vorwerte|prior|previous|baseline|comparison)(?:-?angaben|-?werte|\s+(?:values?|"
    r"images?|measurements?))?\s+(?:(?:stehen|sind|jeweils|are|given)\s+)?in\s+(?P<kind>(?P<square>eckigen\s+klammern?|"
    r"square\s+brackets?)|(?P<round>runden\s+klammern?|round\s+brackets?|parenthes[ie]s)|klammern?|brackets?)\b",
    regex.IGNORECASE)
_BRACKET_NOTE_WORD = regex.compile(r"klammer|bracket|parenthes", regex.IGNORECASE)


def _bracket_notes(text: str, sections, sec_starts) -> list[tuple[int, int, str]]:
    """(from, to, bracket) of each note that a bracket holds the prior exam's images (`_BRACKET_NOTE`): square ones for
    the rest of the report, round ones for the rest of the note's section (or of the next one, where the note is in
    the technique); a bare "brackets"/"Klammer" is the square one where its stretch has images in square brackets."""
    out = []
    for m in _BRACKET_NOTE.finditer(text):
        k = max(0, bisect.bisect_right(sec_starts, m.start()) - 1)
        if sections[k].name == "TECHNIQUE" and k + 1 < len(sections):
            k += 1
        end = len(text) if m.group("square") else sections[k].end
        kind = "[" if m.group("square") else "(" if m.group("round") else None
        if kind is None:
            kind = "[" if regex.search(r"\[[^\]\n]*\d", text[m.end():end]) else "("
        out.append((m.end(), end, kind))
    return out


def _in_noted_bracket(text: str, pos: int, notes: list[tuple[int, int, str]]) -> bool:
    """Whether `pos` stands in a bracket a note (`_bracket_notes`) says holds the prior exam's images."""
    opened = open_parens(text, text.rfind("\n", 0, pos) + 1, pos)  # the brackets open at `pos` on its line
    return bool(opened) and any(a <= pos < b and text[opened[-1]] == kind for a, b, kind in notes)


#: A quotation on one line, and what introduces a prior exam's report quoted: "CT vom 20.06.2022: "..."", "Prior report
#: stated: "..."", "Im Vorbefund vom 10.07.2024 beschrieben: "..."", "previous report (HRCT 15/05/2023): "..."".
_QUOTE_SPAN = regex.compile(r'["\u201c\u201e][^"\u201c\u201d\u201e\n]{1,1000}["\u201d\u201c]')
_QUOTED_PRIOR_LEAD = regex.compile(
    r"\b(?:vorbefund\w*|voruntersuchung|vu|(?:prior|previous|earlier)\s+(?:report|study|exam|examination|ct)"
    r"|(?:ct|hrct|ldct|cta)\s+(?:vom|of|from|dated)\s+(?P<d>" + _DATE + r"))\b[^\"\u201c\u201e\n]{0,60}?"
    r"(?::|\b(?:stated|read|described|reported|beschrieben|zitiert|lautete)\b:?)[ \t]*$", regex.IGNORECASE)


def _in_quoted_prior(text: str, pos: int) -> bool:
    """Whether `pos` stands in a quotation of a prior exam's report (`_QUOTED_PRIOR_LEAD`): its words ("neu", "now")
    speak of that exam's time, and its images are that exam's."""
    if '"' not in text and "\u201c" not in text and "\u201e" not in text:
        return False
    line, end = line_span(text, pos)
    for q in _QUOTE_SPAN.finditer(text, line, end):
        if q.start() < pos < q.end():
            lead = _QUOTED_PRIOR_LEAD.search(text, line, q.start())
            return lead is not None and not (lead.group("d") and _dates_this_exam(text, lead.group("d")))
    return False


def _is_prior(text, r: RawRef, seg_start: int, triggers, trig_starts, default: bool,
              label_from: int | None = None) -> bool:
    """Whether `r`, with nothing after it that dates it (`_PRIOR_AFTER`), is on a prior exam; `default` when nothing
    from `seg_start` on says (the section's: COMPARISON is the prior exam's; a table column's heading), unless an exam's
    label from `label_from` on does ("Prior: emboli (Se 5 Im 141) and thrombus (Se 5 Im 118). Current: ...")."""
    inside = text[r.start:r.end]
    if _PRIOR_INSIDE.search(inside) or _in_quoted_prior(text, r.start):
        return True
    before = text[max(0, r.start - 14):r.start].rstrip(" \t:").lower()
    if _EXAM_BEFORE.search(before):  # "comparison image 40", "baseline series 2, image 40"
        return True
    if ((before.endswith(_PRIOR_LABEL_WORDS) or (before[-4:-2] in ("19", "20") and before[-4:].isdigit()))
            and _PRIOR_LABEL.search(text, max(0, r.start - 80), r.start)):
        return True
    if _opening_comparison(text, r.start):
        return True
    t = temporal_for(triggers, trig_starts, seg_start, r.start, text)
    if t is None and label_from is not None and label_from < seg_start:
        t = temporal_for(triggers, trig_starts, label_from, seg_start, text)
        # a label ("Prior: ..."), or what opens the sentence ("Im März 2024 hilär rechts 24 mm (Im. 60, Se. 2),
        # subcarinal 19 mm (Im. 71, Se. 2)."), outside brackets (not "(S5/B210, VU: S5/B206)")
        labels = t is not None and (_LABEL_COLON.match(text, t.end) is not None or not text[label_from:t.start].strip())
        if not labels or text.count("(", label_from, t.start) != text.count(")", label_from, t.start):
            t = None
    if t is not None:
        return t.category == "prior"
    return default


def _plane_hint(text, w0, r: RawRef):
    """The plane and series hint named before the reference, in it, or in parentheses right after it."""
    after = PLANE_AFTER.match(text, r.end + 1 if text.startswith((")", "]"), r.end) else r.end)
    w1 = after.end() if after else r.end
    plane = None
    if may_hold(_PLANE_STEMS, text, w0, w1):  # (most windows hold no such word: each scan tries every position)
        for m in _PLANE.finditer(text, w0, w1):  # on the text, not a slice: a window cut mid-word ("THOR|AX:") names no plane
            plane = "coronal" if m.group(1) else "sagittal" if m.group(2) else "axial"
    hints = ([" ".join(m.group(0).lower().split()) for m in _HINT.finditer(text, w0, w1)]
             if may_hold(_HINT_STEMS, text, w0, w1) else [])
    hint = ", ".join(dict.fromkeys(hints)) if hints else None
    return plane, hint


def extract(text: str, report_id: str = "") -> list[Reference]:
    """Every image reference in `text` (cleaned first), one `Reference` per referenced image."""
    from mining.text_clean import clean_text

    return mine_report(clean_text(text), report_id, labels=False).references
