"""Text scrubbing: rules checked at load, typed placeholders, offsets mapped, hostile text survived."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mining import deid

REPORT = ("Patient: DOE, JOHN   MRN: 00123456\n"
          "COMPARISON: CT chest 03/14/2019.\n"
          "FINDINGS: A 92-year-old woman. Spiculated nodule in the right upper lobe (series 4, image 23), 14 mm.\n"
          "Findings discussed with Dr. Jane Smith at (555) 123-4567 on March 15, 2020.\n"
          "Address: 221 Baker Street, Springfield, IL 62704\n"
          "Electronically signed by: Alice Walker")


def test_rules_load_and_every_kind_has_a_rule():
    rules = deid.load_rules()
    kinds = {r.kind for r in rules}
    assert {"NAME", "DATE", "PHONE", "MRN", "ADDRESS", "AGE"} <= kinds


def test_bad_rules_fail_at_load():
    good = '{"id": "r", "kind": "rule", "phi": "DATE", "pattern": "\\\\d{4}", "examples": ["in 2019"]}'
    assert deid.parse_rules([good], "t")
    with pytest.raises(deid.PhiRuleError, match="does not match its example"):
        deid.parse_rules(['{"id": "r", "kind": "rule", "phi": "DATE", "pattern": "x", "examples": ["y"]}'], "t")
    with pytest.raises(deid.PhiRuleError, match="counter-example"):
        deid.parse_rules(['{"id": "r", "kind": "rule", "phi": "DATE", "pattern": "x", "examples": ["x"], "counter_examples": ["xx"]}'], "t")
    with pytest.raises(deid.PhiRuleError, match="phi must be"):
        deid.parse_rules(['{"id": "r", "kind": "rule", "phi": "SHOE", "pattern": "x", "examples": ["x"]}'], "t")
    with pytest.raises(deid.PhiRuleError, match="unknown keys"):
        deid.parse_rules(['{"id": "r", "kind": "rule", "phi": "DATE", "pattern": "x", "examples": ["x"], "colour": 1}'], "t")
    with pytest.raises(deid.PhiRuleError, match="unknown macro"):
        deid.parse_rules(['{"id": "r", "kind": "rule", "phi": "DATE", "pattern": "{NOPE}", "examples": ["x"]}'], "t")


def test_report_is_scrubbed_with_typed_placeholders():
    s = deid.scrub(REPORT)
    for leaked in ("DOE", "JOHN", "00123456", "03/14/2019", "92-year", "Jane", "Smith", "555", "March 15",
                   "Baker", "62704", "Alice", "Walker"):
        assert leaked not in s.text, (leaked, s.text)
    for kept in ("series 4, image 23", "14 mm", "Spiculated nodule in the right upper lobe", "COMPARISON", "Dr. "):
        assert kept in s.text
    c = s.counts
    assert c["NAME"] >= 3 and c["DATE"] == 2 and c["MRN"] == 1 and c["PHONE"] == 1 and c["AGE"] == 1 and c["ADDRESS"] >= 1
    assert "[AGE>89]" in s.text and "[NAME]" in s.text
    assert deid.detect(s.text) == {}  # nothing identifier-like left, placeholders do not count


@pytest.mark.parametrize("text", [
    "Series 4 image 23: 5 mm nodule.", "4:121-130 and 3/45", "images 12/120", "measures 1.5 x 2.3 cm",
    "a 45-year-old man", "Lung-RADS 4A", "no change since the prior exam", "Patient positioned supine.",
    "Bild 34 der Serie 5", "HU 95", "Series 202, image 1001.",
])
def test_clinical_text_is_left_alone(text):
    assert deid.scrub_text(text) == text


def test_offsets_map_to_the_same_words():
    text = REPORT
    start = text.index("series 4, image 23")
    end = start + len("series 4, image 23")
    s = deid.scrub(text)
    assert s.text[s.map_start(start):s.map_end(end)] == "series 4, image 23"
    sent = text.index("FINDINGS")
    sent_end = text.index("\n", sent)
    assert s.text[s.map_start(sent):s.map_end(sent_end)] == "FINDINGS: A [AGE>89] woman. Spiculated nodule in the right upper lobe (series 4, image 23), 14 mm."
    # offsets inside a scrubbed span move to the placeholder's edges
    inside = text.index("Jane") + 2
    assert s.text[s.map_start(inside):s.map_end(inside + 3)] == "[NAME]"
    assert s.map_start(0) == 0 and s.map_end(len(text)) == len(s.text)


def test_uid_replacement_callback():
    s = deid.scrub("see 1.2.840.113619.2.55.3.604688119 now", replace=lambda k, v: "uid_x" if k == "UID" else None)
    assert s.text == "see uid_x now"


def test_pathological_text_times_out_to_a_full_redaction():
    rules = deid.parse_rules(['{"id": "slow", "kind": "rule", "phi": "NAME", "pattern": "(?:(?:a|a)+)+b", "examples": ["ab"]}'], "t")
    s = deid.scrub("a" * 40 + "c", rules=rules, timeout=0.05)
    assert s.text == "[REDACTED]" and s.counts == {"TIMEOUT": 1}
    assert s.map_start(5) == 0 and s.map_end(10) == len("[REDACTED]")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400), st.integers(0, 400), st.integers(0, 400))
def test_fuzz_scrub_never_fails_and_maps_monotonically(text, a, b):
    s = deid.scrub(text)
    assert isinstance(s.text, str)
    a, b = sorted((min(a, len(text)), min(b, len(text))))
    assert 0 <= s.map_start(a) <= s.map_end(b) <= len(s.text)
    assert deid.scrub(s.text).text == s.text  # idempotent: placeholders are not identifiers
    assert s.cut(text[a:b], a, b) == s.text[s.map_start(a):s.map_end(b)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["Dr. Jane Smith", " 03/14/2019", "(555) 123-4567", "MRN: 1234567", " series 4 image 2",
                                 " ", "x", "\n", "92 yo", "1.2.840.10008.5.1.4"]), max_size=20),
       st.integers(0, 300), st.integers(0, 300))
def test_fuzz_cut_agrees_with_the_map(parts, a, b):
    text = "".join(parts)
    s = deid.scrub(text)
    a, b = sorted((min(a, len(text)), min(b, len(text))))
    assert s.cut(text[a:b], a, b) == s.text[s.map_start(a):s.map_end(b)]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["Dr. ", "Smith", " 03/14/2019", "MRN: ", "123", "4567", " series 4 image 2",
                                 ", ", "IL 62704", " 92 yo", "\n", "Jane ", "(555) 123-4567", "Street"]), max_size=30))
def test_fuzz_identifier_soup(parts):
    text = "".join(parts)
    s = deid.scrub(text)
    assert deid.detect(s.text) == {}
