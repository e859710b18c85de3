"""The dataset summary (`radmine stats`): counts through DuckDB over the current version, and PNG plots.

`dataset_stats(data_dir)` returns a plain dict; `write_plots(stats_dict, data_dir, out_dir)` writes
depths.png (distribution of referenced depths), rejections.png (rejections by reason) and
pairs_per_label.png (pairs whose snippet states a finding present, per label).
"""
from __future__ import annotations

import os
from pathlib import Path

TABLES_NEEDED = ("reports", "references", "snippet_slices", "rejections")


def _q(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def dataset_stats(data_dir: str | os.PathLike) -> dict:
    import data_contracts as dc

    sources = dc.table_sources(data_dir)
    missing = [t for t in TABLES_NEEDED if t not in sources]
    if missing:
        raise FileNotFoundError(f"{data_dir} has no {', '.join(missing)} table; run `radmine mine` first")
    con = dc.connect(data_dir)
    try:
        s: dict = {"version": _version(data_dir)}
        s["reports"] = _q(con, "SELECT count(*) FROM reports")[0][0]
        s["references"] = _q(con, "SELECT count(*) FROM \"references\"")[0][0]
        s["pairs"] = _q(con, "SELECT count(*) FROM snippet_slices")[0][0]
        s["rejections"] = _q(con, "SELECT count(*) FROM rejections")[0][0]
        s["studies_with_pairs"] = _q(con, "SELECT count(DISTINCT study_instance_uid) FROM snippet_slices")[0][0]
        if "instances" in sources:
            s["studies"] = _q(con, "SELECT count(DISTINCT study_instance_uid) FROM instances")[0][0]
            s["images"] = _q(con, "SELECT count(*) FROM instances")[0][0]
        per = _q(con, "SELECT n, count(*) FROM (SELECT study_instance_uid, count(*) AS n FROM snippet_slices "
                      "GROUP BY 1) GROUP BY n ORDER BY n")
        s["pairs_per_study"] = {int(n): int(c) for n, c in per}
        agg = _q(con, "SELECT avg(n), median(n), max(n) FROM (SELECT count(*) AS n FROM snippet_slices GROUP BY "
                      "study_instance_uid)")[0]
        s["pairs_per_study_mean"] = float(agg[0] or 0.0)
        s["pairs_per_study_median"] = float(agg[1] or 0.0)
        s["pairs_per_study_max"] = int(agg[2] or 0)
        s["rejections_by_reason"] = dict(_q(con, "SELECT reason, count(*) FROM rejections GROUP BY 1 "
                                                 "ORDER BY 2 DESC, 1"))
        s["labels"] = {}
        if "labels" in sources:
            for label, value, n in _q(con, "SELECT label, value, count(*) FROM labels GROUP BY 1, 2 ORDER BY 1, 2"):
                s["labels"].setdefault(label, {})[value] = int(n)
        s["pairs_per_label"] = {}
        if "snippet_labels" in sources:
            s["pairs_per_label"] = dict(_q(con, "SELECT l.label, count(*) FROM snippet_slices p JOIN snippet_labels l "
                                                "USING (report_id, ref_id) WHERE l.value = 'present' "
                                                "GROUP BY 1 ORDER BY 2 DESC, 1"))
        s["depths_mm"] = [float(r[0]) for r in _q(con, "SELECT depth_mm FROM snippet_slices ORDER BY depth_mm")]
        return s
    finally:
        con.close()


def _version(data_dir) -> str | None:
    pointer = Path(data_dir) / "CURRENT"
    return pointer.read_text().strip() if pointer.is_file() else None


def write_plots(s: dict, out_dir: str | os.PathLike) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []

    fig, ax = plt.subplots(figsize=(7, 4))
    depths = s["depths_mm"]
    ax.hist(depths, bins=max(5, min(40, len(depths) // 3 or 5)), color="#4477aa")
    ax.set_xlabel("depth below the most superior slice (mm)")
    ax.set_ylabel("pairs")
    ax.set_title(f"Referenced depths ({len(depths)} pairs)")
    written.append(_save(fig, out / "depths.png"))

    written.append(_barh(plt, s["rejections_by_reason"], "Rejections by reason", "references",
                         out / "rejections.png", "#cc6677"))
    written.append(_barh(plt, s["pairs_per_label"], "Pairs per label (finding present in the snippet)", "pairs",
                         out / "pairs_per_label.png", "#228833"))
    return written


def _barh(plt, counts: dict, title: str, xlabel: str, path: Path, color: str) -> Path:
    items = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]))
    fig, ax = plt.subplots(figsize=(7, 0.9 + 0.3 * max(1, len(items))))
    if items:
        ax.barh([k for k, _ in items], [v for _, v in items], color=color)
    else:
        ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def render_text(s: dict) -> str:
    """The summary as plain text lines (the CLI prints it with rich)."""
    lines = [f"version           {s['version'] or '(unversioned folder)'}",
             f"reports           {s['reports']:,}",
             f"references        {s['references']:,}",
             f"pairs             {s['pairs']:,}  ({s['studies_with_pairs']:,} studies"
             + (f" of {s['studies']:,}" if "studies" in s else "") + ")",
             f"pairs per study   mean {s['pairs_per_study_mean']:.2f}, median {s['pairs_per_study_median']:.1f}, "
             f"max {s['pairs_per_study_max']}",
             f"rejections        {s['rejections']:,}"]
    for reason, n in s["rejections_by_reason"].items():
        lines.append(f"  {reason:<24}{n:,}")
    if s["labels"]:
        lines.append("labels (reports: present / uncertain / absent; pairs present)")
        for label, values in s["labels"].items():
            lines.append(f"  {label:<36}{values.get('present', 0):>5} /{values.get('uncertain', 0):>4} /"
                         f"{values.get('absent', 0):>5};{s['pairs_per_label'].get(label, 0):>6}")
    return "\n".join(lines)
