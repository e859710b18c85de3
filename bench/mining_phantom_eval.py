"""Score the report miner against a phantom export's answer key.

    python -m bench.mining_phantom_eval DIR        (DIR from `radmine synth --out DIR`)

References match on (report_id, series_number, image_number, image_number_end, ref_start,
ref_end) exactly; prior flags and label values are compared on the matched rows / all
(report, label) pairs; a matched reference's snippet must name the finding the key says it cites
(its snippet labels hold that label). Prints the misses so rules can be checked against the text.
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq


def evaluate(export_dir: str | Path, show: int = 15) -> dict:
    from mining.mine import mine_report
    from mining.text_clean import clean_text

    export_dir = Path(export_dir)
    reports = [json.loads(l) for l in (export_dir / "reports.jsonl").read_text().splitlines() if l.strip()]
    truth = pq.read_table(export_dir / "truth" / "truth_references.parquet").to_pylist()
    tlabels = pq.read_table(export_dir / "truth" / "truth_labels.parquet").to_pylist()
    texts = {r["report_id"]: clean_text(r["text"]) for r in reports}
    mined = {rid: mine_report(t, rid) for rid, t in texts.items()}
    key = lambda r: (r["report_id"], r["series_number"], r["image_number"], r["image_number_end"], r["ref_start"], r["ref_end"])
    got, named = {}, {}
    for rid, rep in mined.items():
        for r in rep.references:
            d = r.to_dict()
            got[key(d)] = d
            named[key(d)] = set(rep.snippet_labels.get(r.ref_id, {}))
    want = {key(r): r for r in truth}
    tp = set(got) & set(want)
    fp = set(got) - set(want)
    fn = set(want) - set(got)
    prior_ok = sum(bool(got[k]["is_prior"]) == bool(want[k].get("is_prior") or False) for k in tp)
    # the snippet a reference got names the finding the answer key says it cites (its labels hold that label)
    cited = [k for k in tp if want[k].get("label")]
    snippet_ok = [k for k in cited if want[k]["label"] in named[k]]
    lab_total = lab_ok = 0
    confusion = Counter()
    for t in tlabels:
        rep = mined.get(t["report_id"])
        if rep is None:
            continue
        v = rep.label_values()[t["label"]]
        lab_total += 1
        lab_ok += v == t["value"]
        if v != t["value"]:
            confusion[(t["label"], t["value"], v)] += 1
    res = {
        "reports": len(reports), "truth_refs": len(want), "mined_refs": len(got),
        "precision": len(tp) / max(1, len(got)), "recall": len(tp) / max(1, len(want)),
        "prior_accuracy": prior_ok / max(1, len(tp)), "label_accuracy": lab_ok / max(1, lab_total),
        "snippet_names_finding": len(snippet_ok) / max(1, len(cited)),
    }
    def ctx(k):
        t = texts[k[0]]
        return t[max(0, k[4] - 50):k[5] + 30].replace("\n", "\\n")
    for name, keys in (("false positive", fp), ("missed", fn)):
        for k in sorted(keys, key=str)[:show]:
            print(f"{name}: {k} ... {ctx(k)!r}")
    for k in tp:
        if bool(got[k]["is_prior"]) != bool(want[k].get("is_prior") or False) and show:
            print(f"prior wrong (truth {want[k].get('is_prior')}): {ctx(k)!r}")
            show -= 1
    for k in sorted(set(cited) - set(snippet_ok), key=str)[:show]:
        print(f"snippet without its finding ({want[k]['label']}): {got[k]['snippet']!r}")
    for (lab, tv, v), n in confusion.most_common(12):
        print(f"label {lab}: truth {tv}, mined {v} x{n}")
    return res


if __name__ == "__main__":
    print(json.dumps(evaluate(sys.argv[1]), indent=1))
