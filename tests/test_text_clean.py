"""Report text as exports hold it: HL7 v2 escapes (RTF, HTML and bytes are in the robustness strings of test_mining)."""
from hypothesis import given
from hypothesis import strategies as st

from mining.mine import mine_report
from mining.text_clean import clean_text, repair_citation_slips


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


def test_utf8_decoded_as_windows_1252_is_decoded_again():
    assert clean_text("PleuraergÃ¼sse beidseits, Herz vergrÃ¶ÃŸert, Ã–dem") == "Pleuraergüsse beidseits, Herz vergrößert, Ödem"
    assert clean_text("itâ€™s â€œstableâ€\x9d â€“ Â£5") == "it’s “stable” – £5"
    assert clean_text("Pleuraergüsse größer".encode("utf-8").decode("latin-1")) == "Pleuraergüsse größer"


def test_what_only_looks_like_double_decoded_utf8_is_left_alone():
    for text in ("Ãx and â€ alone", "Ã", "real ä, ö, ü and ß", "Â"):
        assert clean_text(text) == text


def test_pipes_for_line_breaks_become_line_breaks_of_the_same_length():
    text = "CT Chest | Findings: | Mass (series 4, image 86). | | Conclusion: | Mass."
    out = clean_text(text)
    assert out == "CT Chest \n Findings: \n Mass (series 4, image 86). \n \n Conclusion: \n Mass."
    assert len(out) == len(text)


def test_a_pipe_table_and_a_line_with_a_few_pipes_stay_as_they_are():
    for text in ("FINDINGS:\n| Lobe | Se/Im | Size |\n| RUL | 3/45 | 4 mm |", "Size 4 | 5 mm, stable | unchanged"):
        assert clean_text(text) == text


def test_a_word_hyphenated_at_a_lines_end_is_joined_and_the_text_keeps_its_length():
    cases = {
        "with partial atelec-\ntasis. Tree": "with partial\n  atelectasis. Tree",
        "Findings:\nBronchi-\nektasen bds.": "Findings:\n  Bronchiektasen bds.",
        "no calcifica- \n  tion": "no\n     calcification",
    }
    for text, want in cases.items():
        assert clean_text(text) == want and len(want) == len(text)


def test_a_hyphen_that_is_no_word_break_stays():
    for text in ("Ober-\nund Unterlappen", "CT-\nThorax", "T4-\n5", "(se-\nries 4, image 58)", "a-\nb", "Befund:\n-\nkeiner",
                 "mass - \nstable"):
        assert clean_text(text) == text


def test_plain_text_keeps_its_length_whatever_it_holds():
    """Offsets into a plain report (no markup, no double-decoded UTF-8) stay valid after cleaning."""
    from hypothesis import given, strategies as st

    pieces = st.sampled_from(["atelec", "-", "\n", " ", " | ", "tasis", "und", "Bronchi", "ektasen", "\t", "\r", "x",
                              "3", "(", ")", ":", "\x00", "é", "ß", "\\n", "\\r\\n", "Bi1d ", "Bild ", "l8", "1O", "4S"])

    @given(st.lists(pieces, max_size=40).map("".join))
    def check(text):
        assert len(clean_text(text)) == len(text)

    check()


def test_escaped_line_breaks_of_a_one_line_export_become_line_breaks_of_the_same_length():
    text = r"EXAM: CT CHEST\nFINDINGS:\r\nNodule (series 4, image 62).\tStable.\n\nIMPRESSION: Stable."
    out = clean_text(text)
    assert out == "EXAM: CT CHEST \nFINDINGS:   \nNodule (series 4, image 62). \tStable. \n \nIMPRESSION: Stable."
    assert len(out) == len(text)


def test_a_lone_backslash_n_or_one_in_a_text_with_line_breaks_stays():
    for text in (r"Path C:\new\data, file 3", "FINDINGS:\nSee C:\\new\\nodule\\report.", r"Only one \n here"):
        assert clean_text(text) == text


def test_ocr_letters_for_digits_in_image_references_are_digits_again():
    cases = {
        "(dort Serie 2, Bi1d l80)": "(dort Serie 2, Bild 180)",
        "(Serie 3, Bild 5l), (Serie 3, BiId 3l)": "(Serie 3, Bild 51), (Serie 3, Bild 31)",
        "(Serie 3, Bild 4S), (Serie 3, Bilder 88 und 1O2)": "(Serie 3, Bild 45), (Serie 3, Bilder 88 und 102)",
        "SE 3 IMG l2": "SE 3 IMG 12",
    }
    for text, want in cases.items():
        assert clean_text(text) == want


def test_letters_that_are_no_ocr_digits_stay():
    for text in ("T1O weighted", "Serie IO", "Bild S3", "Image Ol", "Bilder und Befunde", "LI0 station", "im 1O"):
        assert clean_text(text) == text


def test_a_citation_word_typed_with_one_slip_is_mended_in_place():
    cases = {
        "(seires 4 imgae 212, 230)": "(series 4 image 212, 230)",
        "(Sereie 3, Bild 42)": "(Series 3, Bild 42)",
        "(Serie 5, Bidl 38), (Se 5 Bld 220)": "(Serie 5, Bild 38), (Se 5 Bi  220)",
        "(sries 5 image 60, 74)": "(serie 5 image 60, 74)",
        "(Bidl 160 Se.4)": "(Bild 160 Se.4)",
        "(series 3 imagee 102)": "(series 3 images 102)",
        "SEIRES 3 IMGAE 4": "SERIES 3 IMAGE 4",
    }
    for text, want in cases.items():
        assert clean_text(text) == want


def test_words_one_slip_from_a_citation_word_stay_without_the_other_word_or_when_real():
    for text in ("sereis 3 mm apart", "imgae 45", "mild 3 mm, image 4", "build 3 of series 4",
                 "auf den Bildern 45-50 der Serie 3", "the imaged 3 series 4", "Serie 3, Bilder 45"):
        assert clean_text(text) == text


@given(st.text(alphabet="seriagmbldSIEB 0123456789,()", max_size=60))
def test_mending_slips_keeps_the_length(text):
    assert len(repair_citation_slips(text)) == len(text)


def test_dictated_german_punctuation_becomes_marks_of_the_same_length():
    text = ("misst 9 x 8 mm Komma Serie 4 Bild 63 Komma zuvor 8 x 7 mm Klammer auf Serie 3 Bild 60 Klammer zu Punkt "
            "Spikulierte Randkontur Punkt neuer Absatz\nKeine Infiltrate.")
    out = clean_text(text)
    assert out == ("misst 9 x 8 mm,      Serie 4 Bild 63,      zuvor 8 x 7 mm            (Serie 3 Bild 60)          .      "
                   "Spikulierte Randkontur.                 \n\nKeine Infiltrate.")
    assert len(out) == len(text)


def test_a_word_punkt_or_komma_alone_is_no_dictated_mark():
    for text in ("Am Punkt der stärksten Einengung 3 mm.", "Patient im Koma Punkt", "Punkt Komma"):
        assert clean_text(text) == text


def test_a_word_hyphenated_at_an_escaped_line_break_is_joined_too():
    """The line breaks come back before words broken at them are joined."""
    text = r"FINDINGS:\npartial atelec-\ntasis (series 4, image 3).\nEnd"
    assert clean_text(text) == "FINDINGS: \npartial\n   atelectasis (series 4, image 3). \nEnd"


def test_numbers_dictated_as_words_after_series_and_image_words_become_digits():
    """Uncorrected speech recognition writes the numbers of a reference as words and hears "series" as "serious", "two"
    as "to"; the digits take the words' place and blanks the rest, so offsets stay valid."""
    cases = {
        "nodule (serious 3 image 42).": "nodule (series  3 image 42).",
        "(SERIOUS 3 IMAGE 88)": "(SERIES  3 IMAGE 88)",
        "(serious three image 88)": "(series  3     image 88)",
        "(series 2 imagine 58)": "(series 2 image   58)",
        "node (series to image 51), (series for image 38), (serious to image 58)":
            "node (series 2  image 51), (series 4   image 38), (series  2  image 58)",
        "series four image 122, previously": "series 4    image 122, previously",
        "image one hundred eighteen of the prior": "image 118                  of the prior",
        "image one hundred and twelve, stable": "image 112                   , stable",
        "(series three, image forty-five).": "(series 3    , image 45        ).",
        "(Serie drei Bild 64 bis 70).": "(Serie 3    Bild 64 bis 70).",
        "Se. vier Ima. 210 Punkt": "Se. 4    Ima. 210 Punkt",
        "Bild achtundvierzig. Ein": "Bild 48            . Ein",
        "Bild Nummer einhundertzwölf)": "Bild Nummer 112            )",
        "Bild vierhundertachtundvierzig;": "Bild 448                      ;",
    }
    for text, want in cases.items():
        assert clean_text(text) == want


def test_number_words_in_prose_stay_words():
    for text in ("a series of nodules", "image quality is poor", "series to the left", "images for comparison",
                 "a serious complication (series 3, image 4)", "on these images two nodules", "Bilder und Befunde",
                 "in allen Schichten drei Herde", "Im Bild zwei Herde", "the serious one", "image one hundred percent",
                 "Imagine 3 nodules", "series 3 imagine the", "a serious infection in image 4",
                 "no serious bleeding, image 4"):
        assert clean_text(text) == text


def test_references_dictated_with_words_are_read():
    text = ("FINDINGS:\nSpiculated nodule in the right upper lobe (serious 3 image 42). Node (series to image 51).\n"
            "Nodule in the left lower lobe, series four image one hundred twelve, stable.\n"
            "Befund:\nRundherd im Unterlappen (Serie drei Bild 64 bis 70). Knoten Se. vier Ima. 210.")
    got = [(r.series_number, r.image_number, r.image_number_end) for r in mine_report(clean_text(text)).references]
    assert got == [(3, 42, None), (2, 51, None), (4, 112, None), (3, 64, 70), (4, 210, None)]


_EN = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen " \
      "eighteen nineteen".split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_DE = "null eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn vierzehn fünfzehn sechzehn siebzehn " \
      "achtzehn neunzehn".split()
_DE_TENS = "_ _ zwanzig dreißig vierzig fünfzig sechzig siebzig achtzig neunzig".split()


def _english(n: int, sep: str) -> str:
    head = f"{_EN[n // 100]} hundred" if n >= 100 else ""
    n %= 100
    tail = _EN[n] if n < 20 else _EN_TENS[n // 10] + (sep + _EN[n % 10] if n % 10 else "")
    return " ".join(p for p in (head, tail if n else "") if p)


def _german(n: int) -> str:
    head = ("ein" if n // 100 == 1 else _DE[n // 100]) + "hundert" if n >= 100 else ""
    n %= 100
    unit = "ein" if n % 10 == 1 else _DE[n % 10]
    tail = "" if n == 0 else _DE[n] if n < 20 else (unit + "und" if n % 10 else "") + _DE_TENS[n // 10]
    return head + tail


@given(st.integers(1, 999), st.sampled_from([" ", "-"]), st.sampled_from(["image", "Image", "IMAGE", "im."]),
       st.sampled_from([",", ".", ")", " of the prior"]))
def test_any_english_number_in_words_after_an_image_word_is_its_digits(n, sep, word, after):
    words = _english(n, sep)
    assert clean_text(f"nodule ({word} {words}{after}") == f"nodule ({word} {n}{' ' * (len(words) - len(str(n)))}{after}"


@given(st.integers(1, 999), st.sampled_from(["Bild", "Bi.", "Ima."]))
def test_any_german_number_in_words_after_an_image_word_is_its_digits(n, word):
    words = _german(n)
    assert clean_text(f"Herd ({word} {words})") == f"Herd ({word} {n}{' ' * (len(words) - len(str(n)))})"


@given(st.text(max_size=300))
def test_spoken_numbers_keeps_any_texts_length(text):
    from mining.text_clean import spoken_numbers

    assert len(spoken_numbers(text)) == len(text)


def test_a_citation_slip_alone_in_its_brackets_is_mended_where_the_report_cites_so_spelled_right():
    assert repair_citation_slips("Nodule (image 142). Another (imaeg 71).") == "Nodule (image 142). Another (image 71)."
    assert repair_citation_slips("(Bild 212) und (Bidl 230, 240).") == "(Bild 212) und (Bild 230, 240)."
    for text in ("Another (imaeg 71).",  # the report never cites '(image N)'
                 "Nodule (image 142). Another (imaeg 7 mm).",  # a size
                 "Nodule (image 142), imaeg 71 of the prior."):  # not alone in brackets
        assert repair_citation_slips(text) == text


def test_a_replaced_letter_a_swapped_short_form_and_schicht_are_citation_slips_too():
    assert repair_citation_slips("(series 2 imagw 41)") == "(series 2 image 41)"
    assert repair_citation_slips("(sre 2 img 96)") == "(ser 2 img 96)"
    assert repair_citation_slips("(Serie 5, Scicht 118)") == "(Serie 5, Sch.   118)"
    assert repair_citation_slips("(Schicht 88) und (Schihct 112)") == "(Schicht 88) und (Schicht 112)"
    for text in ("Serie 3, wilder 4", "Serie 3 serif 4", "Serie 3, schlicht 4", "Serie 3, mild 4"):  # real words
        assert repair_citation_slips(text) == text


def test_a_dictations_homophones_of_citation_words_and_a_number_before_a_dictated_mark():
    assert clean_text("Mucus plugging (ceases 4 image 180).") == "Mucus plugging (series 4 image 180)."
    assert clean_text("Erguss Klammer auf Serie 4 wild 170 Klammer zu.") == "Erguss Klammer auf Serie 4 bild 170 Klammer zu."
    assert clean_text("Rundherd Serie drei Bild fünfundvierzig Punkt Angrenzend") == (
        "Rundherd Serie 3    Bild 45             Punkt Angrenzend")
    for text in ("The effusion ceases 4 weeks later.", "Serie 4, wild 3 mm"):  # no citation: no image word, a size
        assert clean_text(text) == text
