"""`radmine review`: one self-contained HTML page to check mined pairs by eye.

For each sampled pair (snippet_slices): the report sentence with the reference highlighted,
the snippet the model sees, the referenced slice of the training volume in a lung window
(W 1500 / L -600) and a soft-tissue window (W 400 / L 40), and a coronal overview of the
volume with the slice's level marked. Then a few samples of each rejection reason with their
detail and sentence.

The page needs nothing else: images are PNG data URIs, styles inline, no scripts; a
Content-Security-Policy forbids any fetch. Every text is HTML-escaped (reports are hostile
input). It reads the published tables, so on a pseudonymised dataset it shows pseudonyms and
scrubbed text: what the model will see.
"""
from __future__ import annotations

import base64
import html
import io
import os
import random
from collections import defaultdict
from pathlib import Path

LUNG = (-600.0, 1500.0)  # level, width
SOFT = (40.0, 400.0)
MAX_PX = 320  # longest image side in the page
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


class ReviewError(RuntimeError):
    """Tables needed for the review are missing; the message says which step writes them."""


def window(arr, level: float, width: float):
    """HU array -> uint8 display values for a window."""
    import numpy as np

    lo = level - width / 2.0
    out = (arr.astype(np.float32) - lo) * (255.0 / width)
    return np.clip(out, 0, 255).astype(np.uint8)


def png_data_uri(img_u8, size: tuple[int, int] | None = None, marker_row: int | None = None) -> str:
    """A grey uint8 image (optionally resized to (width, height), with a red line at marker_row) as a data URI."""
    from PIL import Image, ImageDraw

    im = Image.fromarray(img_u8, mode="L")
    if size is not None and size != im.size:
        scale_y = size[1] / im.size[1]
        im = im.resize(size, Image.BILINEAR)
        marker_row = None if marker_row is None else int(round((marker_row + 0.5) * scale_y - 0.5))
    if marker_row is not None:
        im = im.convert("RGB")
        d = ImageDraw.Draw(im)
        y = max(0, min(im.size[1] - 1, marker_row))
        d.line([(0, y), (im.size[0] - 1, y)], fill=(255, 40, 40), width=max(1, im.size[1] // 160))
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _fit(w: float, h: float, limit: int = MAX_PX) -> tuple[int, int]:
    s = limit / max(w, h)
    return max(1, int(round(w * s))), max(1, int(round(h * s)))


def _resolve_array(data_dir: Path, version: Path, rel: str) -> Path | None:
    rel_p = Path(rel)
    if rel_p.is_absolute() or ".." in rel_p.parts:  # never open files outside the data folder
        return None
    for base in (version, data_dir, data_dir / "cache"):
        p = base / rel_p
        if p.is_file():
            return p
    return None


def array_slice(affine: list[float], shape: tuple[int, int, int], z_mm: float) -> int:
    """Index of the array slice nearest patient z `z_mm` (at the array's centre column and row).

    `snippet_slices.slice_index` counts slices of the chosen series before resampling; the cached
    array is resampled, so the level is found through the array's own affine instead.
    """
    a = [float(v) for v in affine]
    d, h, w = shape
    # z = a[8]*i + a[9]*j + a[10]*k + a[11]; solve for k at the centre (i, j)
    if abs(a[10]) < 1e-9:
        raise ValueError("the volume's slice axis does not move along patient z")
    k = (z_mm - a[11] - a[8] * (w - 1) / 2 - a[9] * (h - 1) / 2) / a[10]
    return int(max(0, min(d - 1, round(k))))


def volume_images(array_path: Path, z_mm: float, affine: list[float], spacing_mm: list[float] | None):
    """(lung, soft, coronal) data URIs for the slice at patient z `z_mm` of a (D, H, W) int16 HU volume."""
    import numpy as np

    vol = np.load(array_path, mmap_mode="r")
    if vol.ndim != 3:
        raise ValueError(f"{array_path.name}: expected a (D, H, W) array, found shape {vol.shape}")
    d, h, w = vol.shape
    k = array_slice(affine, (d, h, w), z_mm)
    sz, sy, sx = (list(spacing_mm) + [1.0, 1.0, 1.0])[:3] if spacing_mm else (1.0, 1.0, 1.0)
    axial = np.asarray(vol[k])
    size = _fit(w * sx, h * sy)
    lung = png_data_uri(window(axial, *LUNG), size)
    soft = png_data_uri(window(axial, *SOFT), size)
    coronal = np.asarray(vol[:, h // 2, :])  # (D, W): superior at the top
    csize = _fit(w * sx, d * sz)
    cor = png_data_uri(window(coronal, *SOFT), csize, marker_row=k)
    return lung, soft, cor


def _highlight(text: str, sent: tuple[int, int] | None, ref: tuple[int, int] | None) -> str:
    """The sentence, HTML-escaped, with the reference in <mark>."""
    if not text or sent is None:
        return ""
    s0, s1 = max(0, sent[0]), min(len(text), sent[1])
    if ref is None:
        return html.escape(text[s0:s1])
    r0, r1 = max(s0, min(ref[0], s1)), max(s0, min(ref[1], s1))
    return (html.escape(text[s0:r0]) + "<mark>" + html.escape(text[r0:r1]) + "</mark>" + html.escape(text[r1:s1]))


def _esc(v) -> str:
    return html.escape("" if v is None else str(v))


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.4em} h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}
.pair,.rej{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8em;margin:.8em 0}
.meta{color:#666;font-size:.85em} .sentence{margin:.4em 0} mark{background:#ffe066;padding:0 .1em}
.snippet{font-family:ui-monospace,monospace;background:#f0f4ff;padding:.3em .5em;border-radius:4px}
.imgs{display:flex;gap:.8em;flex-wrap:wrap;align-items:flex-start;margin-top:.5em}
figure{margin:0} figcaption{font-size:.8em;color:#555;text-align:center} img{display:block;background:#000}
.missing{color:#a00}
"""


def write_review(data_dir: str | os.PathLike, out: str | os.PathLike, n: int = 50, seed: int = 0,
                 per_reason: int = 3) -> dict:
    """Write the review page to `out`; returns counts (pairs, rejections, reasons, images)."""
    import data_contracts as dc

    data_dir = Path(data_dir)
    version = dc.current_dir(data_dir)
    if not dc.has_table("snippet_slices", data_dir) and not dc.has_table("rejections", data_dir):
        raise ReviewError(f"no snippet_slices or rejections table in {data_dir}; run `radmine match` (or `radmine mine`) first")

    def table(name, cols=None):
        return dc.read_table(name, data_dir, columns=cols).to_pylist() if dc.has_table(name, data_dir) else []

    pairs = sorted(table("snippet_slices"), key=lambda r: r["pair_id"])
    rng = random.Random(seed)
    sample = rng.sample(pairs, min(n, len(pairs)))
    rejections = table("rejections")
    by_reason = defaultdict(list)
    for r in sorted(rejections, key=lambda r: (r["report_id"], r["ref_id"])):
        by_reason[r["reason"]].append(r)
    rej_sample = {reason: rng.sample(rows, min(per_reason, len(rows))) for reason, rows in sorted(by_reason.items())}

    needed = {(r["report_id"], r["ref_id"]) for r in sample}
    needed |= {(r["report_id"], r["ref_id"]) for rows in rej_sample.values() for r in rows}
    refs = {(r["report_id"], r["ref_id"]): r for r in table("references", ["report_id", "ref_id", "sentence_start",
                                                                            "sentence_end", "ref_start", "ref_end", "section"])
            if (r["report_id"], r["ref_id"]) in needed}
    report_ids = {k[0] for k in needed}
    texts = {r["report_id"]: r["text"] for r in table("reports", ["report_id", "text"]) if r["report_id"] in report_ids}
    vols = {r["series_instance_uid"]: r for r in table("volumes")}

    images = 0
    parts = ["<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
             f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">",
             "<title>radmine review</title>", f"<style>{_STYLE}</style></head><body>",
             f"<h1>radmine review: {_esc(data_dir.name)}</h1>",
             f"<p class='meta'>version {_esc(version.name)}; {len(sample)} of {len(pairs)} pairs sampled (seed {seed}); "
             f"{len(rejections)} rejections in {len(by_reason)} reasons. Lung window W1500/L-600, soft tissue W400/L40; "
             "the red line on the coronal overview marks the referenced slice.</p>",
             f"<h2 id='pairs'>Pairs ({len(sample)})</h2>"]
    for i, p in enumerate(sample, 1):
        key = (p["report_id"], p["ref_id"])
        ref = refs.get(key)
        text = texts.get(p["report_id"], "")
        sentence = _highlight(text, (ref["sentence_start"], ref["sentence_end"]) if ref else None,
                              (ref["ref_start"], ref["ref_end"]) if ref else None)
        parts.append(f"<div class='pair' id='pair-{i}'>")
        parts.append(f"<div class='meta'>#{i} pair {_esc(p['pair_id'])} · report {_esc(p['report_id'])} ref {p['ref_id']} · "
                     f"{_esc(p['match_method'])} · confidence {p['confidence']:.2f} · slice {p['slice_index']} "
                     f"(depth {p['depth_mm']:.1f} mm){' · prior study' if p['is_prior'] else ''}</div>")
        parts.append(f"<div class='sentence'>{sentence or '<span class=missing>sentence not available</span>'}</div>")
        parts.append(f"<div class='snippet'>{_esc(p['snippet'])}</div>")
        vol = vols.get(p["volume_series_instance_uid"])
        arr = _resolve_array(data_dir, version, vol["array_path"]) if vol else None
        if arr is None:
            parts.append("<div class='missing'>no training volume for this pair (run `radmine volumes`)</div>")
        else:
            try:
                lung, soft, cor = volume_images(arr, p["z_mm"], vol["affine"], vol.get("spacing_mm"))
            except (OSError, ValueError) as exc:
                parts.append(f"<div class='missing'>volume unreadable: {_esc(exc)}</div>")
            else:
                images += 3
                parts.append("<div class='imgs'>"
                             f"<figure><img alt='slice {p['slice_index']}, lung window' src='{lung}'><figcaption>lung</figcaption></figure>"
                             f"<figure><img alt='slice {p['slice_index']}, soft-tissue window' src='{soft}'><figcaption>soft tissue</figcaption></figure>"
                             f"<figure><img alt='coronal overview' src='{cor}'><figcaption>coronal, level marked</figcaption></figure>"
                             "</div>")
        parts.append("</div>")
    parts.append(f"<h2 id='rejections'>Rejections ({len(rejections)}; up to {per_reason} per reason)</h2>")
    for reason, rows in rej_sample.items():
        parts.append(f"<h3>{_esc(reason)} ({len(by_reason[reason])})</h3>")
        for r in rows:
            ref = refs.get((r["report_id"], r["ref_id"]))
            text = texts.get(r["report_id"], "")
            sentence = _highlight(text, (ref["sentence_start"], ref["sentence_end"]) if ref else None,
                                  (ref["ref_start"], ref["ref_end"]) if ref else None)
            parts.append(f"<div class='rej'><div class='meta'>report {_esc(r['report_id'])} ref {r['ref_id']}</div>"
                         f"<div>{_esc(r['detail'])}</div><div class='sentence'>{sentence}</div></div>")
    parts.append("</body></html>")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text("\n".join(parts), encoding="utf-8")
    os.replace(tmp, out)
    return {"pairs": len(sample), "rejections": sum(len(v) for v in rej_sample.values()),
            "reasons": len(rej_sample), "images": images, "path": str(out)}
