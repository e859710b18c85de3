"""radmine's spaCy components and the batch miner.

Importing this module registers three factories, so they can be added to any pipeline:

    import spacy, mining.pipeline
    nlp = spacy.blank("en")
    nlp.add_pipe("radmine_sentences")   # rule sentence splitter tuned for radiology text
    nlp.add_pipe("radmine_sections")    # doc.spans["radmine_sections"], labelled FINDINGS, ...
    nlp.add_pipe("radmine_references")  # doc.spans["radmine_refs"] and doc._.radmine (a MinedReport)
    doc = nlp("FINDINGS: 3 mm nodule (6:24).")

`make_nlp(lang)` builds that pipeline on `spacy.blank(lang)` with tokenizer exceptions for
radiology abbreviations; `mine_docs(texts, ids)` runs it with `nlp.pipe`. The batch miner
`mine_texts(texts, ids)` yields the same `MinedReport`s without building Docs (optionally in
several processes).
"""
from __future__ import annotations

import itertools
import sys
from typing import Iterable, Iterator

import numpy as np
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from data_contracts.pools import stopping
from mining.language import detect_language
from mining.mine import MinedReport, mine_report
from mining.sections import find_sections
from mining.sentences import split_sentences

if not Doc.has_extension("radmine"):
    Doc.set_extension("radmine", default=None)
if not Doc.has_extension("radmine_sentences"):
    Doc.set_extension("radmine_sentences", default=None)
if not Doc.has_extension("radmine_language"):
    Doc.set_extension("radmine_language", default=None)

ABBREVIATIONS = ["approx.", "e.g.", "i.e.", "vs.", "Se.", "Bi.", "Ser.", "Img.", "No.", "Nr.", "z.B.", "bzw.", "ca.",
                 "ggf.", "evtl.", "V.a.", "v.a.", "li.", "re.", "Z.n.", "u.a.", "bds.", "sog.", "vgl."]


class RadSentences:
    """Sets sentence starts from `mining.sentences` (char spans kept in doc._.radmine_sentences; the report's language,
    which the splitter asks, in doc._.radmine_language)."""

    def __call__(self, doc: Doc) -> Doc:
        doc._.radmine_language = language = detect_language(doc.text)
        spans = split_sentences(doc.text, german=language == "de")
        doc._.radmine_sentences = spans
        n = len(doc)
        if n:
            idx = doc.to_array("IDX")
            starts = np.searchsorted(idx, np.fromiter((s for s, _ in spans), dtype=idx.dtype, count=len(spans)))
            arr = np.full(n, -1, dtype=np.int32)
            arr[0] = 1
            arr[starts[starts < n]] = 1
            doc.from_array([SENT_START], arr.reshape(-1, 1).astype("uint64"))
        return doc


class RadSections:
    """doc.spans["radmine_sections"]: one span per report section, labelled with its name."""

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for s in find_sections(doc.text):
            sp = doc.char_span(s.start, s.end, label=s.name, alignment_mode="expand")
            if sp is not None:
                spans.append(sp)
        doc.spans["radmine_sections"] = spans
        return doc


class RadReferences:
    """Mines references, snippets, prior flags and labels into doc._.radmine and doc.spans["radmine_refs"]."""

    def __init__(self, labels: bool = True, report_id_key: str = "report_id"):
        self.labels = labels
        self.report_id_key = report_id_key

    def __call__(self, doc: Doc) -> Doc:
        rid = str(doc.user_data.get(self.report_id_key, "")) if doc.user_data else ""
        rep = mine_report(doc.text, rid, language=doc._.radmine_language, sentences=doc._.radmine_sentences,
                          labels=self.labels)
        doc._.radmine = rep
        spans, seen = [], set()
        for r in rep.references:
            if (r.ref_start, r.ref_end) in seen:
                continue
            seen.add((r.ref_start, r.ref_end))
            sp = doc.char_span(r.ref_start, r.ref_end, label=r.rule, alignment_mode="expand")
            if sp is not None:
                spans.append(sp)
        doc.spans["radmine_refs"] = spans
        return doc


@Language.factory("radmine_sentences")
def _make_sentences(nlp: Language, name: str) -> RadSentences:
    return RadSentences()


@Language.factory("radmine_sections")
def _make_sections(nlp: Language, name: str) -> RadSections:
    return RadSections()


@Language.factory("radmine_references", default_config={"labels": True})
def _make_references(nlp: Language, name: str, labels: bool) -> RadReferences:
    return RadReferences(labels=labels)


def make_nlp(lang: str = "en", labels: bool = True, sections_spans: bool = False) -> Language:
    """spacy.blank(lang) with radiology tokenizer exceptions and radmine's components."""
    import spacy

    nlp = spacy.blank(lang)
    nlp.max_length = 50_000_000
    for a in ABBREVIATIONS:
        nlp.tokenizer.add_special_case(a, [{"ORTH": a}])
    nlp.add_pipe("radmine_sentences")
    if sections_spans:
        nlp.add_pipe("radmine_sections")
    nlp.add_pipe("radmine_references", config={"labels": labels})
    return nlp


DEATH_CHECK_S = 0.5  # how often `mine_texts` waiting for its processes looks whether one died


def mine_texts(texts: Iterable[str], ids: Iterable[str], lang: str = "en", labels: bool = True,
               batch_size: int = 64, n_process: int = 1,
               languages: Iterable[str | None] | None = None) -> Iterator[MinedReport]:
    """Mine clean texts; yields one MinedReport per text, in order.

    The batch path builds no spaCy Doc: every rule works on character offsets, so tokens would
    only be thrown away (measured: the tokenizer alone costs more than the whole mining path).
    `n_process > 1` spreads batches of `batch_size` texts over worker processes. `lang` is kept
    for the spaCy path (`mine_docs`); the rules detect each report's own language unless
    `languages` gives it (`read_reports` has detected it already)."""
    triples = zip(texts, ids, languages if languages is not None else itertools.repeat(None))
    if n_process <= 1:
        for t, i, language in triples:
            yield mine_report(t, str(i), language=language, labels=labels)
        return
    import multiprocessing as mp
    from collections import deque
    from functools import partial

    fed: deque = deque()  # batches handed to the pool and not yet answered, in order

    def feed():
        while batch := list(itertools.islice(triples, max(1, batch_size))):
            fed.append(batch)
            yield batch

    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    with stopping(ctx.Pool(n_process)) as pool:  # not `with pool`: its terminate() can hang on a dead process's lock
        workers = list(getattr(pool, "_pool", ()))  # CPython's Pool; elsewhere a death goes unseen
        answers = pool.imap(partial(_mine_batch, labels=labels), feed())
        while True:
            try:
                reps = answers.next(DEATH_CHECK_S)
            except StopIteration:
                return
            except mp.TimeoutError:
                # a process that dies (the out-of-memory killer, say) loses its batch without a word and the pool
                # only starts another: without this look its answer would be awaited forever
                dead = [w.exitcode for w in workers if w.exitcode is not None]
                if not dead:
                    continue
                print(f"radmine: a mining process died (exit code {', '.join(map(str, sorted(set(dead))))}); "
                      f"mining the {sum(map(len, fed))} reports not yet answered, and the rest, in this process",
                      file=sys.stderr)
                break
            fed.popleft()
            yield from reps
    for t in itertools.chain(itertools.chain.from_iterable(fed), triples):  # the pool is gone: nothing else reads them
        yield _mine_one(t, labels=labels)


def mined_rows(rows: list[dict], n_process: int = 1) -> dict[str, list[dict]]:
    """Mine report rows (`reports_io.read_reports`'s) into the rows of the reports, references,
    labels and snippet_labels tables, in report order (near-duplicate clusters not yet set).
    A row without a language gets the one mining detects."""
    refs, labels, snip, reports = [], [], [], []
    for row, rep in zip(rows, mine_texts((r["text"] for r in rows), (r["report_id"] for r in rows),
                                         n_process=max(1, n_process), languages=(r.get("language") for r in rows))):
        reports.append({**row, "language": row.get("language") or rep.language})
        refs.extend(r.to_dict() for r in rep.references)
        for lr in rep.labels:
            labels.append({"report_id": rep.report_id, "label": lr.label, "value": lr.value,
                           "evidence_start": lr.evidence_start, "evidence_end": lr.evidence_end,
                           "evidence_text": lr.evidence_text, "rule": lr.rule})
        for ref_id, labs in rep.snippet_labels.items():
            for lab, val in labs.items():
                snip.append({"report_id": rep.report_id, "ref_id": ref_id, "label": lab, "value": val})
    return {"reports": reports, "references": refs, "labels": labels, "snippet_labels": snip}


def _mine_one(item: tuple[str, str, str | None], labels: bool = True) -> MinedReport:
    text, report_id, language = item
    return mine_report(text, str(report_id), language=language, labels=labels)


def _mine_batch(batch: list[tuple[str, str, str | None]], labels: bool = True) -> list[MinedReport]:
    return [_mine_one(item, labels) for item in batch]


def mine_docs(texts: Iterable[str], ids: Iterable[str], lang: str = "en", labels: bool = True,
              batch_size: int = 64, n_process: int = 1) -> Iterator[MinedReport]:
    """The same through the spaCy pipeline (`make_nlp` + nlp.pipe): tokens, sentence starts and
    span groups are built for every report. For callers that want the Docs' work too."""
    nlp = make_nlp(lang, labels=labels)
    pairs = ((t, {"report_id": i}) for t, i in zip(texts, ids))
    for doc, ctx in nlp.pipe(pairs, as_tuples=True, batch_size=batch_size, n_process=n_process):
        rep = doc._.radmine
        rep.report_id = ctx["report_id"]
        for r in rep.references:
            r.report_id = ctx["report_id"]
        yield rep
