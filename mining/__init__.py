"""Report mining: image references, snippets, prior flags and CT-RATE finding labels.

    from mining import extract, mine_report
    extract("Nodule (series 3, image 45).")   # -> [Reference(series_number=3, image_number=45, ...)]

spaCy components live in `mining.pipeline` (imported on demand, so `import mining` stays light).
"""
from __future__ import annotations


def __getattr__(name):
    if name in ("extract", "mine_report", "Reference", "MinedReport"):
        from mining import mine

        return getattr(mine, name)
    raise AttributeError(name)


__all__ = ["extract", "mine_report", "Reference", "MinedReport"]
