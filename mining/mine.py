"""Mine one report: sections, sentences, references, snippets, prior flags and finding labels.

Everything here works on character offsets into the report text with compiled `regex`
scans; `mining.pipeline` wraps the same steps as spaCy components. `mine_report` returns
the reference rows (fields of the `references` contract), the 18 report labels and the
labels of each snippet. `extract(text)` is the short form returning `Reference`s.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import regex

from data_contracts.labels import CT_RATE_LABELS
from mining.context import (DATED, MODIFIERS, PRIOR_EXAM_DE, Trigger, compared_exam_before, context_rules,
                            temporal_for)
from mining.field_labels import drop_field_names, zero_scores
from mining.findings import MODIFIED_VALUE, RANK, Mention, aggregate, finding_rules, label_mentions, mosaic_as_named
from mining.language import detect_language
from mining.prefilter import may_hold, span_stems
from mining.priors import (DATE_LABELS, bracket_notes, compared_exam_kinds, dates_this_exam, in_noted_bracket,
                           latest_timepoint, may_note_brackets, names_compared_exam_after, on_prior_exam,
                           preliminary_read, prior_item_follows, same_session_planning, this_exams_dates,
                           with_named_exams)
from mining.references import RawRef, find_references, image_totals, series_mentions
from mining.retractions import take_back
from mining.sections import find_sections, joined_words, plain_headings, text_end
from mining.sentences import split_sentences
from mining.series_corrections import corrected_series, corrections
from mining.series_statements import NUMBERS_SENTENCE, exam_key, exam_label, exam_series, series_statements
from mining.slips import mend_in_place, read_through_slips, slip_mender, triggers_through_slips
from mining.snippets import (PLANE_AFTER, bracket_open, cut_out, has_own_content, head_word, partition, removal_span,
                             render, trim_span)
from mining.tables import column_exam

LABEL_SECTIONS = frozenset({"FINDINGS", "IMPRESSION", "OTHER"})
#: (German "koronar" is also "coronary": "Koronarsklerose (Bild 102)" names no plane.)
_PLANE = regex.compile(r"\b(?:(coronal|koronar(?:e[nmrs]?)?(?!\w)|koronal\w*|cor\.?)|(sagittal\w*|sag\.?)"
                       r"|(axial\w*|transversal\w*|ax\.?))(?!\w)", regex.IGNORECASE)
_HINT = regex.compile(
    r"\b(?:(?:lung|bone|soft[- ]tissue|mediastinal|pulmonary|parenchymal|abdominal|liver)\s+(?:windows?|kernels?|algorithms?|reconstructions?|settings?)|"
    r"(?:thin|thick)[- ](?:section|slice)s?|mip|minip|mpr|reformat\w*|reconstruction\w*|coronal|sagittal|axial|"
    r"lungenfenster|weichteilfenster|knochenfenster|mediastinalfenster|lungenkern|knochenkern"
    r"|koronar(?:e[nmrs]?)?(?!\w)|koronal\w*|sagittal\w*|axial\w*)(?!\w)",
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
    r"[ \t,]*(?:\r?\n[ \t]*+(?!(?-i:[A-ZÄÖÜ])|[-*\u2022\d]))?[ \t,]*(?:[-\u2013(][ \t]*)?(?:(?:on|from|of|dated)\s+(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})(?!\d)|(?:19|20)\d\d-\d\d-\d\d(?!\d)"
    r"|(?:0?[1-9]|[12]\d|3[01])[./](?:0?[1-9]|[12]\d|3[01])(?=[ \t]*[)\]]))|" + _PRIOR_EXAM
    + r"|for\s+comparison\b|zum\s+vergleich\b"
    + r"|(?:prior|previous(?:ly)?|prev|vorher|zuvor|voruntersuchung|vu|vor-?ct|fremd(?:-?ct|aufnahme|untersuchung)?"
    r"|pre-?op(?:erative(?:ly)?)?|präop(?:erativ)?"
    r"|de\s+l['’]examen\s+(?:antérieur|précédent))\b"
    r"(?!\s+(?:to|study\s+show)))"
    # not "(current 3:45, prior 2:40)", "(3:45, on the prior 2:40)", "(Se 3/Bi 45, in der VU Se 2/Bi 40)", "image 45
    # (series 3), on the prior on image 40": that names the next; but "(prior 04/20/2023)" is a date
    rf"(?!(?:\s+{_EXAM_NOUN})?\s*[:#]?\s*(?!\d{{1,2}}[./-]\d{{1,2}}[./-](?:\d{{4}}|\d{{2}})(?!\d))\d"
    r"|\s+(?:(?:on|in|at|auf)\s+(?:the\s+|der\s+)?)?(?:series|serie|image|bild|se|im|slice|schicht)\b)"
    rf"|[ \t]*[)\]]?[ \t]*(?:{_PRIOR_EXAM}|(?:{DATED})(?!,?\s*\d+(?:[.,]\d+)?\s*(?:mm|cm)\b))"
    r"|[ \t]*[;,][ \t]*(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2})(?=[ \t]*[)\]])"
    # an exam's kind and date in a parenthesis of their own: "Series 3, image 85 (LDCT 02/22/2023)" (not the report's own
    # exam's date: `dates_this_exam`)
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

#: An old size closing the item before (its own reference came before it) and a list going on: "segment VII 14 mm
#: (image 160/312), previously 19 mm, and segment IVb 8 mm (image 181/312)": the next item is this exam's again.
_PRIOR_SIZE_CLOSES = regex.compile(
    r"\b(?:previously|formerly|vorher|zuvor|vormals)\s+(?:(?:measured|measuring|gemessen)\s+)?(?:ca\.?\s*)?"
    r"\d+(?:[.,]\d+)?(?:\s*x\s*\d+(?:[.,]\d+)?)*\s*(?:mm|cm)\s*(?:,\s*(?:and|und|sowie)|;\s*(?:and|und)?)\s+",
    regex.IGNORECASE)
_WORDS = regex.compile(r"[^\W\d_]{2,}")
#: A PACS key image's number ("Key images 1-3 saved to PACS (series 601, ...)"), which `references`' key_image_label
#: keeps from being an image where the series and image it shows follow: cut from snippets, with the reference right
#: after it where it labels that one ("See key image 1 (series 5, image 212)").
_KEY = r"\bkey[ \t]+(?:images?|img)\.?[ \t]*\d{1,2}(?:[ \t]*[-\u2013][ \t]*\d{1,2})?"
_KEY_NUMBER = regex.compile(_KEY + r"(?![\d/])", regex.IGNORECASE)
_KEY_LABEL = regex.compile(r"(?:\bsee[ \t]+)?" + _KEY + r"[ \t]*:?[ \t]*$", regex.IGNORECASE)


def _with_key_label(text: str, span: tuple[int, int]) -> tuple[int, int]:
    """A reference's removal span widened over the key-image label right before it."""
    m = _KEY_LABEL.search(text, max(0, span[0] - 30), span[0])
    return (m.start(), span[1]) if m is not None else span


#: Between two references of one parenthesis that "and" joins: "(series 2, image 150 and series 2, image 233 on 1/5/2021)".
_AND_GAP = regex.compile(r"[ \t]*,?[ \t]*(?:and|und|&)[ \t]+", regex.IGNORECASE)
_BRACKET_SHUTS = regex.compile(r"[ \t.]*[)\]]")


def _dated_with_next(text: str, end: int, next_start: int, next_end: int) -> bool:
    """Whether the reference ending at `end` and the next one, which "and" joins to it in one parenthesis, are both
    dated by what follows the next one and closes the parenthesis: "compared to the prior (series 2, image 150 and
    series 2, image 233 on 1/5/2021)". Not where a semicolon parts them, nor "(3:45 and, previously, 2:40)"."""
    if _AND_GAP.fullmatch(text, end, next_start) is None:
        return False
    open_ = bracket_open(text, end, end)
    if open_ < 0 or bracket_open(text, next_start, next_start) != open_:
        return False
    after = _prior_after(text, next_end)
    return after is not None and _BRACKET_SHUTS.match(text, after.end()) is not None


def _prior_after(text: str, end: int) -> regex.Match | None:
    """`_PRIOR_AFTER` right after a reference ending at `end`, unless the date it names is the report's own exam's
    ("(CT 03/14/2024)")."""
    after = _PRIOR_AFTER.match(text, end, min(len(text), end + 60))
    if after is not None and after.group("date") and dates_this_exam(text, after.group("date")):
        return None
    return after


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
    # what section, finding and ConText rules read: offsets as in `text` (but inside a word joined across a line), the
    # letters of a negation, hedge or prior word typed swapped put back
    view, joins = joined_words(plain_headings(text))
    view, slips = mend_in_place(view, slip_mender().mends(view))  # "nciht"; the rest for the ConText and finding rules
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
    triggers = triggers_through_slips(ctx.scan, view, sentences, slips)
    if any(t.rule in DATE_LABELS for t in triggers):
        triggers = this_exams_dates(view, triggers)
    if any(t.rule == "prior_timepoint_label" for t in triggers):
        triggers = latest_timepoint(view, triggers)
    if any(t.category == "pseudo" and "planning" in view[t.start:t.end].lower() for t in triggers):
        triggers = same_session_planning(view, triggers)
    triggers = preliminary_read(view, triggers)
    kinds, names = compared_exam_kinds(view, sections)
    if kinds or names:
        triggers = with_named_exams(view, triggers, kinds, names, sections)
    trig_starts = [t.start for t in triggers]
    refs, cut_from = _build_references(text, report_id, lang, raws, sections, sec_starts, sentences, sent_starts,
                                       triggers, trig_starts)
    _correct_series(text, refs)
    label_rows: list[LabelRow] = []
    snippet_labels: dict[int, dict[str, str]] = {}
    if labels:
        rules = finding_rules()
        mentions = read_through_slips(view, rules.find(view), rules, slips)
        label_mentions(mentions, triggers, trig_starts, sentences, sent_starts, view)
        _modify_listed(view, mentions, triggers, trig_starts, sentences, sent_starts)
        take_back(view, mentions, sentences, sent_starts)
        drop_field_names(view, mentions)
        zero_scores(view, mentions)
        mosaic_as_named(view, mentions)
        in_body = [m for m in mentions if sections[max(0, bisect.bisect_right(sec_starts, m.start) - 1)].name in LABEL_SECTIONS]
        best = aggregate(in_body)
        for lab in CT_RATE_LABELS:
            m = best[lab]
            if m is None:
                label_rows.append(LabelRow(lab, "not_mentioned"))
            else:
                rule = m.rule if m.slip is None else f"{m.rule}+slips:{m.slip}"
                rule = rule if m.modifier in (None, m.rule) else f"{rule}+{m.modifier}"
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


def _correct_series(text: str, refs: list[Reference]) -> None:
    """The series an addendum says the cited references should read ("... should read series 5, not series 3")."""
    corrected = set()
    for c in corrections(text):
        for r in refs:
            if r.ref_id in corrected:
                continue
            series = corrected_series(c, r.series_number, r.series_inferred, r.is_prior, r.image_number, r.ref_start,
                                      r.snippet)
            if series is not None:
                r.series_number, r.series_inferred = series, True
                corrected.add(r.ref_id)


def _names_prior(triggers: list[Trigger], trig_starts: list[int], start: int, end: int) -> bool:
    """Whether a prior trigger lies in text[start:end]."""
    return any(t.category == "prior" and t.end <= end
               for t in triggers[bisect.bisect_left(trig_starts, start):bisect.bisect_left(trig_starts, end)])


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

    removals = {g: _with_key_label(text, removal_span(text, s, e, near(s, e))) for g, (s, e) in groups.items()}
    notes = bracket_notes(text, sections, sec_starts) if may_note_brackets(text) else []
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
    ms_pos = [a for a, _, _ in series_spans]
    # a series named alone ("a mass on series 4 measures 2 cm on image 108") is cut from snippets as references are
    alone = [(a, b) for a, b, _ in series_spans if _exam_of(a, gstarts, gends, gorder, {}) is None]
    # and so is a key image's number that is no reference ("Key images 1-3 saved to PACS (series 601, ...)")
    alone += [m.span() for m in _KEY_NUMBER.finditer(text)
              if not any(gs < m.end() and m.start() < ge for gs, ge in zip(gstarts, gends))]
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
            nxt = bisect.bisect_right(gstarts, r.start)  # the group after this one
            prev_end = after_end.get(gorder[k], gends[k]) if k >= 0 and gstarts[k] >= sent[0] else sent[0]
            after = _prior_after(text, r.end)
            if after is not None and "," in text[r.end:after.end()].split(None, 1)[0] \
                    and not _CLAUSE_END.match(text, after.end()):
                after = None  # after a comma it opens a clause of its own: "on image 45, previously it measured 4 mm"
            if after is not None:
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
            is_prior = after is not None or on_prior_exam(text, r, seg, triggers, trig_starts, default,
                                                          sent[0] if column is None else None)
            if not is_prior and names_compared_exam_after(text, r.end, triggers, trig_starts):
                is_prior = True  # "(eg series 5 image 140 of the CTPA)", the CTPA the report compares with
            if not is_prior and notes and in_noted_bracket(text, r.start, notes):
                is_prior = True  # "VU-Angaben in eckigen Klammern" ... "[3/108]"
            if after is not None and ";" in text[r.start:groups[g][1]]:
                # a list whose items a semicolon parts: what dates it after its end dates its last item only ("(4:40;
                # 4:39 on 2023 study)"), the items before keep what their own words say
                undated[g] = on_prior_exam(text, r, seg, triggers, trig_starts, default)
            if not is_prior:  # a finding said to be gone cannot be shown on this exam
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
                    and gstarts[k + 2] < sent[1] and len(_WORDS.findall(text, gends[k + 1], gstarts[k + 2])) >= 2 \
                    and not _names_prior(triggers, trig_starts, gends[k + 1], gstarts[k + 2]):
                # so is one before another image of its sentence, in a clause of its own: "Compared to the prior
                # (series 2 image 40), the nodule has grown (series 3 image 45)"; alone ("Unchanged since the prior
                # (3:45)") or listed with more ("since the prior (3:45) and (3:88)") it is current, and so is one
                # whose next image the prior's name introduces ("unverändert zur VU (4/201; im Vorbefund 3/188)")
                is_prior = compared_exam_before(triggers, trig_starts, prev_end, r.start, text)
            if not is_prior and after is None and column is None:
                is_prior = nxt < len(gstarts) and _dated_with_next(text, groups[g][1], gstarts[nxt], gends[nxt])
            if is_prior and after is None and _NOW_AFTER.match(text, r.end):
                is_prior = False  # "increased from prior (4:212 today vs 4:205 on 03/04)": its own word says this exam
            if is_prior and after is None and column is None:
                if nxt < len(gstarts) and prior_item_follows(text, r.start, groups[g][1], gstarts[nxt]):
                    is_prior = False  # "die im Vor-CT noch nicht vorhanden war (Se 6/Bi 125; vgl. Vor-CT Se 5/Bi 110)"
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
                    r, sent, sec, series_spans, ms_pos, raws, text, statements,
                    lambda pos: _series_exam(pos, gstarts, gends, gorder, per_group, sentences, sent_starts, triggers,
                                             trig_starts, text), is_prior)
            series = inferred_series[g]
            if series is None and is_prior:
                # a prior exam of several, whose series the report names by the exam's year or kind: the heading of the
                # reference's column, else the last such label before it in its sentence, says which
                if exam_map is None:
                    exam_map = exam_series(text) if NUMBERS_SENTENCE.search(text) else {}
                if exam_map:
                    col = per_group[g][6]
                    label = exam_label(col.heading if col is not None else None, text, sent[0], r.start)
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


def _infer_series(r: RawRef, sent, sec, series_spans, ms_pos, raws, text="", statements=(),
                  exam_of=None, is_prior=False) -> int | None:
    # same sentence: nearest explicit series before the reference (one of another reference only on the same exam:
    # "6 mm on image 45, previously 4 mm on series 2 image 40" gives image 45 no series), else a series standing
    # alone after it ("on image 108 of the lung window series (series 7)"; not "see also coronal series 601 image 45")
    lo = bisect.bisect_left(ms_pos, sent[0])
    hi = bisect.bisect_left(ms_pos, sent[1])
    named = _NAMED_BEFORE.search(text, max(sent[0], r.start - 40), r.start)
    kind = None if named is None else named.lastgroup  # "coronal image 33": on a coronal series, not the axial one
    before = [(p, s) for p, e, s in series_spans[lo:hi] if p < r.start and (
        exam_of is None or exam_of(p) in (None, is_prior) or _same_bracket(text, p, r.start))
        and (_series_kind(text, max(sent[0], p - 25), p) == kind
             or named is not None and _LEAD_GAP.fullmatch(text, e, named.start()) is not None)]
    if before:
        return before[-1][1]
    # an image of the other exam cited after one with its series in one parenthesis ("(Se 4 Im 290 today vs Im 281 on 2023)")
    earlier = [x for x in raws if x.series is not None and sent[0] <= x.start and x.end <= r.start]
    if (earlier and kind is None and _same_bracket(text, earlier[-1].start, r.start)
            and not _OWN_WORD.search(text, earlier[-1].start, earlier[-1].end)):
        return earlier[-1].series
    after = [(p, s) for p, _, s in series_spans[lo:hi]
             if p > r.end and (exam_of is None or exam_of(p) is None or _listed_with(text, r, raws, p)
                               or _for_each_in_bracket(text, r.start, p))]
    if kind is not None:  # "(cMPR Bild 14); sagittal (Serie 8 (sag. MPR), Bild 64)": not on the series named after it
        after = [(p, s) for p, s in after if _series_kind(text, max(sent[0], p - 25), p) == kind]
    if after:
        return after[0][1]
    # the sentence says it continues on an earlier series ("on the same series", "also on image 108",
    # "gleiche Serie"): the nearest explicit series before the sentence, in the same section
    if _SAME_SERIES.search(text, sent[0], sent[1]):
        k = bisect.bisect_left(ms_pos, sent[0]) - 1
        if k >= 0 and series_spans[k][0] >= sec.start:
            return series_spans[k][2]
    # the report names one series for its images ("All images refer to series 3", often in the technique): the last
    # such statement before the reference, else one after it (a closing note); a list heading ("Images from series 4:")
    # names the series of its own section only, a line's label ("Series 3: nodule (image 45). ...") that line's
    # such statements speak of this exam's images, unless one says it holds for the prior's too, or names the prior's own
    statements = [st for st in statements if (st.priors if is_prior else st.current)]
    fixed = [st for st in statements if st.scope == "correction"]
    if fixed:
        return fixed[-1].series
    if statements and kind is not None:
        # "(coronal image 33)", "(MIP image 40)" beside "Slice numbers are from the post contrast series (series 5)": such
        # an image is on the series only a statement naming that kind of series gives
        statements = [st for st in statements
                      if any(m.lastgroup == kind for m in _SERIES_NAME_RX.finditer(text, st.start, st.end))]
    for st in reversed(statements):
        if st.end <= r.start and (st.scope == "report" or st.scope == "section" and st.start >= sec.start
                                  or st.scope == "line" and r.start < st.until):
            return st.series
    for st in statements:
        if st.start >= r.end and st.scope == "report":
            return st.series
    return None


#: A series named by what it shows rather than by its number, each kind a group of its own: a reformat ("coronal",
#: "sag.", "MIP", "cMPR", "curved"), a derived image ("VNC", "iodine overlay", "Jodkarte", "Ca-Score"), an acquisition
#: ("expiratory", "Exsp.", "prone", "Bauchlage") or a reconstruction's kernel ("soft tissue", "Weichteil", "bone window",
#: "Knochenfenster"); not the lung series, whose images the reports' series statements mostly name.
_SERIES_NAME = (r"\b(?:(?P<cor>coronal|cor|kor|koronar(?:e[nmrs]?)?(?!\w)|koronal\w*)|(?P<sag>sagittal\w*|sag)|(?P<mip>mip)"
                r"|(?P<minip>min-?ip)"
                r"|(?P<mpr>c?mpr|curved(?:[ \t]+(?:mpr|reformat\w*))?)|(?P<vnc>vnc|virtual[ \t]+non-?contrast|virtuell[ \t]+nativ\w*)"
                r"|(?P<iodine>iodine[ \t]+(?:map|overlay)|jod-?(?:karte|bild)\w*)|(?P<score>ca-score|calcium[ \t]+score)"
                r"|(?P<exp>expiratory|expiration|exspirat\w*|exsp)|(?P<prone>prone|bauchlage)"
                r"|(?P<soft>soft[- ]tissue(?=[ \t]+(?:window|kernel|algorithm|series))|weichteil(?:fenster|kern\w*)?(?!\w))"
                r"|(?P<bone>bone(?=[ \t]+(?:window|kernel|algorithm|series))|knochen(?:fenster|kern\w*)?(?!\w)))\b\.?")
#: Another series named right before an image ("coronal image 33", "(sag. MPR Bild 40", "MIP image 40", "VNC IMA 61",
#: "Exsp. Schnitt 45", "curved MPR RIVA Bild 6").
_NAMED_BEFORE = regex.compile(
    _SERIES_NAME + r"(?:[ \t]+(?:reformat\w*|mpr|mip|recon\w*|rekonstruktion\w*|reko|window|fenster|kernel|images?"
    r"|(?-i:[A-ZÄÖÜ]{2,5})))?[ \t(]*(?:on[ \t]+)?(?:image|img|im|ima|bild|slice|schicht|schnitt)?\.?[ \t]*$",
    regex.IGNORECASE)
_SERIES_NAME_RX = regex.compile(_SERIES_NAME, regex.IGNORECASE)
#: Such a name right before a series ("(koronar Se 7/Ima 64)", "MIP series 9"): that series is lent to no image named
#: otherwise.
_NAMED_SERIES = regex.compile(_SERIES_NAME + r"(?:[ \t]+(?:reformat\w*|mpr|mip|recon\w*|rekonstruktion\w*|reko))?[ \t]*:?"
                              r"[ \t]*$", regex.IGNORECASE)

#: Between a series mention and the name of an image's series right after it: "(Serie 5 koronar Bild 48)", "(series 3,
#: coronal image 45)".
_LEAD_GAP = regex.compile(r"[ \t]*[,;]?[ \t]*")


def _series_kind(text: str, a: int, p: int) -> str | None:
    """The kind of series (`_SERIES_NAME`'s group) named right before the series number at `p`, from `a` on, or None."""
    m = _NAMED_SERIES.search(text, a, p)
    return None if m is None else m.lastgroup


def _same_bracket(text: str, a: int, b: int) -> bool:
    """Whether the series named at `a` holds for the image at `b` of the other exam: both in one parenthesis, the series
    not named as this exam's own ("on the current series 4") and the image's item not opening with its exam's label
    ("; VU vom 02.03.2023: Bild 85"): "(Se 4 Im 290 today vs Im 281 on 2023)", "(series 4, image 150 today; image 148
    on the 2022 study)" cite both exams' images on the series named once."""
    open_ = bracket_open(text, a, b)
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
_EXAM_LABEL = regex.compile(r"\b(?:vu|voruntersuchung|vorbefund|prior|previous|comparison|baseline|outside|fremd\w*"
                            r"|planungs-?(?:ct|serie)|abschluss-?(?:ct|serie))\b|"
                            r"\d{1,2}[./]\d{1,2}[./]\d{2,4}|\b(?:19|20)\d\d\b", regex.IGNORECASE)


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
    return bracket_open(text, a, pos) >= 0 and _EACH_BEFORE.search(text, max(a, pos - 25), pos) is not None


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
