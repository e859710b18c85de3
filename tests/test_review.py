"""`radmine review`: one self-contained page; headless Chromium loads every image; a screenshot is kept.

Chromium: Debian's `chromium` package (/usr/bin/chromium; override with RADMINE_CHROMIUM). The
screenshot lands in build/test-artifacts/review.png (or $RADMINE_TEST_ARTIFACTS).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import data_contracts as dc
from flows.cli import main

from flows.review import CSP, array_slice, write_review

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("RADMINE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("RADMINE_TEST_ARTIFACTS", REPO / "build" / "test-artifacts"))

# axis-aligned LPS array: 1.5 mm pixels, 3 mm slices, top slice at z = 0, k growing to the feet
AFFINE = [1.5, 0, 0, 0, 0, 1.5, 0, 0, 0, 0, -3.0, 0, 0, 0, 0, 1]


def make_dataset(d: Path, n_pairs: int = 4) -> None:
    """Tiny tables and one 20x32x32 HU volume (a bright sphere in air-filled 'lungs')."""
    z, y, x = np.mgrid[0:20, 0:32, 0:32]
    vol = np.full((20, 32, 32), 40, np.int16)
    vol[(y - 16) ** 2 + (x - 10) ** 2 < 60] = -850
    vol[(y - 16) ** 2 + (x - 22) ** 2 < 60] = -850
    vol[((z - 8) ** 2 + (y - 16) ** 2 + (x - 10) ** 2) < 9] = 60
    (d / "volumes").mkdir(parents=True)
    np.save(d / "volumes" / "v1.npy", vol)
    text = "FINDINGS: Nodule <b>in</b> the right lung (series 4, image 8) & more. Second finding (4:12)."
    dc.write_table("reports", [{"report_id": "r1", "language": "en", "text": text, "text_sha256": "0" * 64}], d)
    refs, pairs = [], []
    for i in range(n_pairs):
        s = text.index("(series 4") if i % 2 == 0 else text.index("(4:12)")
        e = text.index(")", s) + 1
        refs.append({"report_id": "r1", "ref_id": i, "section": "FINDINGS", "sentence_start": 10 if i % 2 == 0 else text.index("Second"),
                     "sentence_end": text.index(".", s) + 1, "ref_start": s + 1, "ref_end": e - 1, "ref_text": text[s + 1:e - 1],
                     "series_inferred": False, "image_number": 8, "is_prior": False, "snippet": "Nodule in the right lung",
                     "snippet_start": 10, "snippet_end": 30, "language": "en", "rule": "r", "duplicate_cluster_size": 1})
        pairs.append({"pair_id": f"p{i}", "report_id": "r1", "ref_id": i, "study_instance_uid": "st",
                      "referenced_sop_instance_uid": f"sop{i}", "referenced_series_instance_uid": "se",
                      "referenced_frame_number": 1, "z_mm": -3.0 * (8 + i), "volume_series_instance_uid": "se",
                      "slice_index": 8 + i, "depth_mm": 8.0 * i, "snippet": "Nodule in the right lung <script>x</script>",
                      "is_prior": False, "match_method": "series_number", "confidence": 0.9})
    refs.append({**refs[0], "ref_id": 99})
    dc.write_table("references", refs, d)
    dc.write_table("snippet_slices", pairs, d)
    dc.write_table("volumes", [{"series_instance_uid": "se", "study_instance_uid": "st", "patient_id": "p",
                                "array_path": "volumes/v1.npy", "shape": [20, 32, 32], "spacing_mm": [3.0, 1.5, 1.5],
                                "affine": AFFINE, "split": "train"}], d)
    dc.write_table("rejections", [{"report_id": "r1", "ref_id": 99, "reason": "no_series", "detail": "series 9 not in study st"},
                                  {"report_id": "r1", "ref_id": 98, "reason": "ambiguous_series", "detail": "two series numbered 4"}], d)


def test_level_comes_from_the_arrays_affine_not_the_native_slice_index():
    # 3 mm array whose top slice is at z = 0: z = -24 mm is array slice 8, whatever the native index was
    assert array_slice(AFFINE, (20, 32, 32), -24.0) == 8
    assert array_slice(AFFINE, (20, 32, 32), -25.4) == 8 and array_slice(AFFINE, (20, 32, 32), -25.6) == 9
    assert array_slice(AFFINE, (20, 32, 32), 50.0) == 0 and array_slice(AFFINE, (20, 32, 32), -500.0) == 19
    shifted = list(AFFINE)
    shifted[11] = 100.0  # top slice at z = 100 mm
    assert array_slice(shifted, (20, 32, 32), 100.0 - 3.0 * 5) == 5


def test_review_page_is_self_contained_and_escaped(tmp_path):
    make_dataset(tmp_path / "data")
    out = tmp_path / "review.html"
    summary = write_review(tmp_path / "data", out, n=3)
    assert summary == {**summary, "pairs": 3, "rejections": 2, "reasons": 2, "images": 9}
    page = out.read_text()
    assert len(re.findall(r"<img [^>]*src='data:image/png;base64,", page)) == 9
    assert not re.search(r"(src|href)=['\"](?!data:)", page)  # nothing fetched from anywhere
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;in&lt;/b&gt;" in page
    assert "<mark>series 4, image 8</mark>" in page
    assert "no_series" in page and "two series numbered 4" in page


def test_review_cli(tmp_path):
    make_dataset(tmp_path / "data")
    assert main(["review", str(tmp_path / "data"), "--n", "2", "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").exists()
    assert main(["review", str(tmp_path / "nothing"), "--out", str(tmp_path / "x.html")]) == 1


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"headless Chromium not found at {CHROMIUM}: apt-get install chromium")
def test_chromium_loads_every_image_and_keeps_a_screenshot(tmp_path):
    make_dataset(tmp_path / "data")
    out = tmp_path / "review.html"
    write_review(tmp_path / "data", out, n=4)
    page = out.read_text()
    # A probe copy: the same page plus a script that reports each image's load state into the DOM.
    # Its policy still allows images from data: URIs only, so an image needing a fetch fails here too.
    probe = tmp_path / "probe.html"
    probe_csp = CSP + "; script-src 'unsafe-inline'"
    script = ("<script>window.addEventListener('load',()=>{const im=[...document.images];"
              "const bad=im.filter(i=>!(i.complete&&i.naturalWidth>0)).length;"
              "const p=document.createElement('pre');p.id='probe';"
              "p.textContent='IMAGES '+im.length+' BROKEN '+bad;document.body.appendChild(p);});</script>")
    probe.write_text(page.replace(CSP, probe_csp).replace("</body>", script + "</body>"))
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-first-run", "--user-data-dir=" + str(tmp_path / "profile"), "--virtual-time-budget=5000"]
    dom = subprocess.run(common + ["--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    m = re.search(r"IMAGES (\d+) BROKEN (\d+)", dom.stdout)
    assert m, f"probe did not run: {dom.stderr[-2000:]}"
    assert int(m.group(1)) == 12 and int(m.group(2)) == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "review.png"
    shot.unlink(missing_ok=True)
    subprocess.run(common + ["--window-size=1200,2400", f"--screenshot={shot}", out.as_uri()],
                   capture_output=True, text=True, timeout=120, check=True)
    assert shot.exists() and shot.stat().st_size > 10_000
    shutil.copy(out, ARTIFACTS / "review.html")
