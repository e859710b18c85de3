"""Report text as exports hold it: HL7 v2 escapes (RTF, HTML and bytes are in the robustness strings of test_mining)."""
from mining.mine import mine_report
from mining.text_clean import clean_text


def test_hl7_formatted_text_becomes_lines_and_its_delimiters_themselves():
    raw = (r"FINDINGS:\.br\Nodule (3:45) \T\ scarring.\.BR\Size 4 \F\ 5 mm.\.sp 1\IMPRESSION:\.br\\H\Stable\N\ nodule."
           r"\X0D0A\End\Zlocal\ \E\ done")
    assert clean_text(raw) == ("FINDINGS:\nNodule (3:45) & scarring.\nSize 4 | 5 mm.\n\nIMPRESSION:\nStable nodule.\n"
                               "End \\ done")


def test_an_hl7_report_is_mined_by_its_lines():
    rep = mine_report(clean_text(r"FINDINGS:\.br\Nodule in the right upper lobe (3:45).\.br\IMPRESSION:\.br\No effusion."))
    (ref,) = rep.references
    assert (ref.section, ref.snippet) == ("FINDINGS", "Nodule in the right upper lobe.")


def test_backslashes_without_an_hl7_line_break_are_left_alone():
    for text in (r"C:\F\reports", r"series 3\image 45 \T\ more", "a \\.b\\ c"):
        assert clean_text(text) == text


def test_any_hl7_escape_soup_cleans_without_raising():
    from hypothesis import given, strategies as st

    pieces = st.sampled_from(["\\", ".br", ".sp", ".sp -", ".sp 999999", ".in +4", "X0D", "X0", "XZZ", "F", "Z", "a", " ", "\n"])

    @given(st.lists(pieces, max_size=30).map("".join))
    def check(text):
        out = clean_text(r"\.br\ " + text)
        assert isinstance(out, str) and len(out) <= 4 * len(text) + 8

    check()
