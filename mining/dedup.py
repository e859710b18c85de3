"""Near-duplicate snippets across reports (templated sentences), clustered with rapidfuzz.

Snippets are normalised (lower case, digits to 0, punctuation dropped, whitespace
collapsed); identical normalised snippets form a cluster at once, and distinct normalised
texts are compared with rapidfuzz's `fuzz.ratio` inside blocks (same first word, similar
length) so the cost stays near-linear. A cluster counts only when its snippets come from at
least `min_reports` different reports. Each reference row gets `duplicate_cluster` (an id
from 0, None when unique) and `duplicate_cluster_size` (snippets in the cluster, 1 when unique).
"""
from __future__ import annotations

from collections import defaultdict

import regex

_NORM_DIGIT = regex.compile(r"\d+")
_NORM_PUNCT = regex.compile(r"[^\w\s]+")
_NORM_WS = regex.compile(r"\s+")


def normalise(snippet: str) -> str:
    s = _NORM_DIGIT.sub("0", snippet.lower())
    s = _NORM_PUNCT.sub(" ", s)
    return _NORM_WS.sub(" ", s).strip()


def near_duplicate_groups(norms: list[str], threshold: float = 92.0, max_block: int = 3000) -> list[int]:
    """For distinct normalised snippets (in order of first appearance), a group index each:
    snippets whose rapidfuzz ratio reaches `threshold` (transitively) share one. Memory grows with
    the distinct texts only, not with the references holding them."""
    from rapidfuzz import fuzz, process

    parent = list(range(len(norms)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    blocks: dict[tuple, list[int]] = defaultdict(list)
    for i, n in enumerate(norms):
        blocks[(n.split(" ", 1)[0], len(n) // 16)].append(i)
    for key in list(blocks):  # each block with its neighbouring length bucket
        cand = (blocks[key] + blocks.get((key[0], key[1] + 1), []))[:max_block]
        if len(cand) < 2:
            continue
        scores = process.cdist([norms[i] for i in cand], [norms[i] for i in cand], scorer=fuzz.ratio,
                               score_cutoff=threshold, dtype="uint8")
        ii, jj = scores.nonzero()
        for a, b in zip(ii.tolist(), jj.tolist()):
            if a < b:
                ra, rb = find(cand[a]), find(cand[b])
                if ra != rb:
                    parent[rb] = ra
    return [find(i) for i in range(len(norms))]


def cluster_snippets(rows: list, threshold: float = 92.0, min_reports: int = 2, max_block: int = 3000) -> None:
    """Set duplicate_cluster / duplicate_cluster_size on reference rows (objects or dicts), in place.

    Holds every row: for an archive that does not fit, the pipeline runs the same steps in DuckDB
    (`flows.pipeline.finish_reports`)."""
    get = (lambda r, k: r[k]) if rows and isinstance(rows[0], dict) else getattr
    put = (lambda r, k, v: r.__setitem__(k, v)) if rows and isinstance(rows[0], dict) else setattr
    by_norm: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_norm[normalise(get(r, "snippet"))].append(i)
    norms = [n for n in by_norm if n]
    members: dict[int, list[int]] = defaultdict(list)
    for n, g in zip(norms, near_duplicate_groups(norms, threshold, max_block)):
        members[g].extend(by_norm[n])
    next_id = 0
    for r in rows:
        put(r, "duplicate_cluster", None)
        put(r, "duplicate_cluster_size", 1)
    for idxs in sorted(members.values(), key=min):
        reports = {get(rows[i], "report_id") for i in idxs}
        if len(reports) < min_reports:
            continue
        for i in idxs:
            put(rows[i], "duplicate_cluster", next_id)
            put(rows[i], "duplicate_cluster_size", len(idxs))
        next_id += 1
