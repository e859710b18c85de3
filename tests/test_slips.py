"""Finding words typed with one slip ("pleural efusion"), read through a mended view (`mining.slips`).

The rule file is data (mining/rules/slips.jsonl): each record's slips must mend to its words, checked when it loads;
the cases below are the forms typed reports were found to hold (the blind rounds 101 and 102) and the real words one
slip from a finding word that must stay as written."""
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mining import rules as rules_mod
from mining.findings import finding_rules
from mining.mine import mine_report
from mining.slips import SlipMender, mend_in_place, mended_text, read_through_slips, slip_mender, to_mended, to_text


def _labels(text: str) -> dict[str, str]:
    return {l.label: l.value for l in mine_report(text).labels if l.value != "not_mentioned"}


@pytest.mark.parametrize("text, want", [
    ("FINDINGS: Small pleual efusion on the right.", {"Pleural effusion": "present"}),
    ("FINDINGS: No pericardial effusin.", {"Pericardial effusion": "absent"}),
    ("FINDINGS: Mild dependent atelectais bilaterally.", {"Atelectasis": "present"}),
    ("FINDINGS: Small hital hernia.", {"Hiatal hernia": "present"}),
    ("FINDINGS: No cardiomegally.", {"Cardiomegaly": "absent"}),
    ("FINDINGS: Heart not enalrged.", {"Cardiomegaly": "absent"}),
    ("FINDINGS: No mediastinal lymphadenopahty.", {"Lymphadenopathy": "absent"}),
    ("FINDINGS: Mild interlobular septal thickning in the right upper lobe.", {"Interlobular septal thickening": "present"}),
    ("FINDINGS: Moderate coronry artery calcifications.", {"Coronary artery wall calcification": "present"}),
    ("FINDINGS: Centrilobular emphysma.", {"Emphysema": "present"}),
    ("FINDINGS: Stable 4 mm noduel in the right upper lobe.", {"Lung nodule": "present"}),
    ("FINDINGS: Small left plural efusion.", {"Pleural effusion": "present"}),  # 'plural': dictated for 'pleural'
    ("Befund: Bandförmige Atelektse im linken Unterlappen.", {"Atelectasis": "present"}),
    ("Befund: Keine Lymphadenopahtie. Kein Rundhherd.", {"Lymphadenopathy": "absent", "Lung nodule": "absent"}),
    ("Befund: Kleine Hiatusherine.", {"Hiatal hernia": "present"}),
    ("Befund: Kardiomeglie.", {"Cardiomegaly": "present"}),
    ("Befund: Ausgeprägte Koronarskerose.", {"Coronary artery wall calcification": "present"}),
    ("Befund: Schmaler Perikarderugss.", {"Pericardial effusion": "present"}),
    ("Befund: Zylindrische Bronchiektsen im Unterlappen.", {"Bronchiectasis": "present"}),
    # the end of a German compound
    ("Befund: Zentrilobuläre Milchglasknötchne.", {"Lung nodule": "present", "Lung opacity": "present"}),
    ("Befund: Unterlappenatelektse links.", {"Atelectasis": "present"}),
    ("Befund: Knotige Verdickung der interlobulären Septne.", {"Interlobular septal thickening": "present"}),
])
def test_a_finding_word_typed_with_one_slip_is_read(text, want):
    assert _labels(text) == want


@pytest.mark.parametrize("text, unwanted", [
    ("FINDINGS: Known carcinome canalaire infiltrant of the left breast.", "Lung opacity"),  # French, no 'Infiltrat'
    ("FINDINGS: Contrast opacifies the pulmonary arteries.", "Lung opacity"),
    ("Befund: Nodale Metastasen.", "Lung nodule"),
    ("Befund: Herz vergröbert konturiert.", "Cardiomegaly"),  # 'vergröbert' (coarsened) is no 'vergrößert'
    ("FINDINGS: The new software module is in use.", "Lung nodule"),
])
def test_a_real_word_one_slip_from_a_finding_word_is_left_as_written(text, unwanted):
    assert unwanted not in _labels(text)


def test_the_evidence_is_the_slip_as_written_and_the_rule_names_its_word_record():
    text = "FINDINGS: Small pleural efusion on the left. No pericardial effusin."
    rows = {l.label: l for l in mine_report(text).labels if l.value != "not_mentioned"}
    assert {k: (r.value, r.evidence_text, r.rule) for k, r in rows.items()} == {
        "Pleural effusion": ("present", "pleural efusion", "pleural_en+slips:effusion_en"),
        "Pericardial effusion": ("absent", "pericardial effusin", "pericardial_en+slips:effusion_en+neg_pre_en")}
    assert all(text[r.evidence_start:r.evidence_end] == r.evidence_text for r in rows.values())


def test_a_finding_the_text_names_as_written_is_not_read_again_through_a_slip():
    text = "FINDINGS: Small pleual effusion."  # 'effusion' alone names a pleural effusion already
    as_written = finding_rules().find(text)
    assert read_through_slips(text, as_written, finding_rules()) == as_written
    assert [(text[m.start:m.end], m.slip) for m in as_written] == [("effusion", None)]


def test_a_snippet_is_labelled_through_its_slip_and_keeps_it():
    (ref,) = mine_report("FINDINGS: Mild atelectais in the left lower lobe (series 3, image 88).").references
    assert ref.snippet == "Mild atelectais in the left lower lobe."
    assert mine_report("FINDINGS: Mild atelectais in the left lower lobe (series 3, image 88).").snippet_labels == {
        ref.ref_id: {"Atelectasis": "present"}}


@pytest.mark.parametrize("word, want", [
    ("efusion", "effusion"), ("effussion", "effusion"), ("effsuion", "effusion"), ("effusoin", "effusion"),
    ("efgusion", "effusion"), ("effusion", None), ("effusions", None),  # dropped, doubled, swapped, replaced; listed
    ("verkalktes", None), ("rundherds", None),  # inflections: the finding rules read them as written
    ("pleuraergus", "pleuraerguss"), ("fibrosiss", "fibrosis"),  # a double letter dropped, a last one doubled: slips
    ("module", None), ("septa", None), ("pleurx", None), ("vergröberte", None), ("verdicht", None), ("herne", None),
    ("fibroes", None), ("coronare", None),  # real words (and names) one slip away: not_slips
    ("pleurlae", None),  # one slip from 'pleurale' (German) and from 'pleurae' (English): not guessed
    ("vergroessrt", "vergroessert"), ("vergössert", "vergrössert"),  # ASCII and Swiss spellings are listed too
    ("milchglasknötchne", "milchglasknötchen"),  # a compound's end
    ("randverkalkungen", None), ("mittellappennodulus", None), ("eierschalenartigen", None), ("neurofibrome", None),
    ("contrast", None), ("hila", None),
])
def test_which_words_are_slips(word, want):
    assert slip_mender().mend_word(word) == want


def test_a_mended_word_keeps_the_case_it_was_typed_in():
    text = "ATELECTAIS. Atelektse. atelctasis"
    assert mended_text(text, slip_mender().mends(text)) == "ATELECTASIS. Atelektase. atelectasis"


@given(st.lists(st.tuples(st.sampled_from(["Mild ", "No ", " ", "\n", "right ", "(3:45) ", "Kein ", "."]),
                          st.sampled_from(["efusion", "effusin", "Atelektse", "hital", "lymphadenopahty", "nodule",
                                           "enalrged", "Kardiomegalei", "contrast", "effussion"])), max_size=12))
def test_offsets_of_the_mended_text_stand_where_the_text_holds_the_same(parts):
    text = "".join(a + b for a, b in parts)
    mends = slip_mender().mends(text)
    mended = mended_text(text, mends)
    inside = {p for mn in mends for p in range(to_mended(mends, mn.start), to_mended(mends, mn.start) + len(mn.word))}
    for p in range(len(mended) + 1):
        if p not in inside:
            assert text[to_text(mends, p):to_text(mends, p) + 1] == mended[p:p + 1]
            assert to_mended(mends, to_text(mends, p)) == p
    for mn in mends:
        at = to_mended(mends, mn.start)
        assert mended[at:at + len(mn.word)] == mn.word
        assert (to_text(mends, at), to_text(mends, at + len(mn.word), end=True)) == (mn.start, mn.end)
        assert (to_text(mends, at + 1), to_text(mends, at + 1, end=True)) == (mn.start, mn.end)  # inside the word


def _write(tmp_path, records):
    p = tmp_path / "slips.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return p


GOOD = {"id": "effusion_en", "kind": "words", "phrases": ["effusion", "effusions"], "example": "pleural effusion",
        "slips": ["efusion"]}


@pytest.mark.parametrize("bad, match", [
    ({**GOOD, "slips": ["efsion"]}, "effusion_en.*'efsion' is read as None"),  # two slips: no slip
    ({**GOOD, "phrases": ["effusion", "fluid"]}, "effusion_en.*'fluid' is not one word of 6"),
    ({**GOOD, "phrases": ["effusion", "pleural effusion"]}, "effusion_en.*not one word"),
    ({**GOOD, "not_slips": ["diffusion"]}, "effusion_en.*not_slip 'diffusion'.*no slip"),
    ({**GOOD, "not_slips": ["effusions"]}, "effusion_en.*not_slip 'effusions' is listed"),
    ({**GOOD, "odd": 1}, "effusion_en.*unknown key"),
    ({k: v for k, v in GOOD.items() if k != "slips"}, "effusion_en.*missing key"),
])
def test_a_bad_slips_record_fails_at_load_naming_its_id(tmp_path, bad, match):
    with pytest.raises(rules_mod.RuleError, match=match):
        SlipMender(_write(tmp_path, [bad]))


def test_a_word_listed_by_two_records_fails_at_load(tmp_path):
    with pytest.raises(rules_mod.RuleError, match="'effusion' is listed by 'effusion_en' too"):
        SlipMender(_write(tmp_path, [GOOD, {**GOOD, "id": "other", "phrases": ["effusion"]}]))


def test_a_good_slips_file_loads_and_mends(tmp_path):
    m = SlipMender(_write(tmp_path, [GOOD]))
    assert [(x.start, x.end, x.word, x.record) for x in m.mends("No efusion.")] == [(3, 10, "effusion", "effusion_en")]


@pytest.mark.parametrize("text, want", [
    ("FINDINGS: Thoracic aorta normal in calibre wihtout mural calcification.", {"Arterial wall calcification": "absent"}),
    ("FINDINGS: The right lower lobe consolidation has resovled.", {"Consolidation": "absent"}),
    ("FINDINGS: Posisble early fibrosis at the bases.", {"Pulmonary fibrotic sequela": "uncertain"}),
    ("FINDINGS: Small pleural effusion, likley reactive. Pericardial effusion cannto be excluded.",
     {"Pleural effusion": "present", "Pericardial effusion": "uncertain"}),
    ("Befund: Perikarderguss nciht nachweisbar.", {"Pericardial effusion": "absent"}),
    ("Befund: Kiene Lymphadenopathie.", {"Lymphadenopathy": "absent"}),
    ("Befund: Fraglcih diskrete Verkalkung des RIVA.", {"Coronary artery wall calcification": "uncertain"}),
    ("Befund: Infiltrat im Unterlappen, in der Voruntresuchung nicht vorhanden.", {"Lung opacity": "present"}),
    ("Befund: Kien Perikarderguss.", {"Pericardial effusion": "absent"}),
    # a letter dropped or added: read by the ConText triggers over the mended text
    ("FINDINGS: Early fibrosis in the lower lobes cannot be exclued.", {"Pulmonary fibrotic sequela": "uncertain"}),
    ("FINDINGS: Patchy consolidation in the lingula has clered.", {"Consolidation": "absent"}),
    ("FINDINGS: Lymph nodes witthout enlargement. No pericardial effusion.", {"Pericardial effusion": "absent"}),
    ("Befund: Fragliceh Mosaikperfusion in beiden Unterlappen.", {"Mosaic attenuation pattern": "uncertain"}),
    # and a finding word's slip too, for the alternative it stands in
    ("FINDINGS: Small area of linear atelctasis/scarring in the lingula.",
     {"Atelectasis": "uncertain", "Pulmonary fibrotic sequela": "uncertain"}),
    # words a dictation split in two
    ("Befund: Die Konsolidierung ist vollständig Rück läufig.", {"Consolidation": "absent"}),
    ("Befund: Frag lich beginnende Bronchiektasen.", {"Bronchiectasis": "uncertain"}),
    ("Befund: Bronchialwand Verdickungen beidseits. Keine Rund Herde.",
     {"Peribronchial thickening": "present", "Lung nodule": "absent"}),
    ("Befund: Mediastinale Lymph Knoten vergrößert, bis 16 mm.", {"Lymphadenopathy": "present"}),
    # a dictation's homophones, listed as they are mended (records `exact`)
    ("Befund: Hertz normal groß, kein Perikarderguss.", {"Cardiomegaly": "absent", "Pericardial effusion": "absent"}),
    ("FINDINGS: Heart normal in size. Know pericardial effusion.",
     {"Cardiomegaly": "absent", "Pericardial effusion": "absent"}),
    # real words one slip from a trigger word stay
    ("Befund: Kleinen Rundherd rechts. In einer Voruntersuchung kleiner Rundherd.", {"Lung nodule": "present"}),
    ("FINDINGS: Pleural effusion, may resolve with treatment.", {"Pleural effusion": "present"}),
])
def test_a_negation_hedge_or_prior_word_typed_with_a_slip_is_read(text, want):
    assert _labels(text) == want


def test_a_trigger_word_is_mended_in_place_when_two_letters_are_swapped_and_for_conText_when_one_is_dropped_or_added():
    m = slip_mender()
    assert [(x.word, x.in_place) for x in m.mends("nciht Kien wihtout likley wihout witthout exclued clered")] == [
        ("nicht", True), ("Kein", True), ("without", True), ("likely", True), ("without", False), ("without", False),
        ("excluded", False), ("cleared", False)]
    # a letter replaced is no trigger's slip, nor one dropped or added in a word under six letters; and real words
    assert [m.mend_word(w) for w in ("licht", "dicht", "wighout", "nichts", "einer", "kleinen", "resolve", "vereinbart",
                                     "enlarge", "hone")] == [None] * 10


def test_a_swap_mended_in_place_keeps_every_offset():
    text = "Befund: Kein Erguss (Serie 3, Bild 45), nciht vergrößert; wihtout change (Serie 3, Bild 60)."
    mends = slip_mender().mends(text)
    mended, rest = mend_in_place(text, mends)
    assert (len(mended), rest) == (len(text), [])
    assert mended == text.replace("nciht", "nicht").replace("wihtout", "without")
    rep = mine_report(text)
    assert [text[r.ref_start:r.ref_end] for r in rep.references] == [r.ref_text for r in rep.references] == [
        "Serie 3, Bild 45", "Serie 3, Bild 60"]


def test_a_trigger_record_with_a_letter_replaced_fails_at_load(tmp_path):
    bad = {"id": "negation_en", "kind": "words", "trigger": True, "phrases": ["without"], "example": "without",
           "slips": ["wighout"]}
    with pytest.raises(rules_mod.RuleError, match="negation_en.*'wighout' is read as None.*trigger: no letter replaced"):
        SlipMender(_write(tmp_path, [bad]))


def test_two_words_are_joined_only_where_they_make_a_listed_word_and_are_not_both_listed():
    m = slip_mender()
    text = "Frag lich; Lymph Knoten; PLEURA ERGUSS; 3 Tage vor Untersuchung; Pleura effusion"
    assert [(text[x.start:x.end], x.word) for x in m.mends(text)] == [("Frag lich", "Fraglich"),
                                                                      ("Lymph Knoten", "Lymphknoten")]
    # ('pleura' and 'erguss' are listed words the rules read; 'vor untersuchung' is a not_split: a time before an exam)


def test_a_not_split_must_be_one_of_its_words_in_two(tmp_path):
    bad = {**GOOD, "not_split": ["eff usions x"]}
    with pytest.raises(rules_mod.RuleError, match="effusion_en.*not_split 'eff usions x'"):
        SlipMender(_write(tmp_path, [bad]))


def test_an_exact_record_mends_only_the_slips_it_lists():
    m = slip_mender()
    assert [m.mend_word(w) for w in ("hertz", "know", "hetz", "herzz", "knew")] == ["herz", "no", None, None, None]
