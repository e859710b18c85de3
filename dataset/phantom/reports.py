"""Report text for a phantom study, with the exact character span of every image reference.

Sections: CLINICAL HISTORY / TECHNIQUE / COMPARISON / FINDINGS / IMPRESSION (German:
Klinische Angaben / Technik / Vergleich / Befund / Beurteilung). Present findings are
described with their location and cited in a seeded variety of reference forms; absent
labels are negated, some labels are uncertain ("possible ...") and some are not mentioned.
Distractors that are not references are mixed in: measurements "3.4 x 2.1 cm", times
"10:30", dates, ratios "1:2", vertebral levels "T4-5" / "BWK 4/5", "image quality",
"a series of ...".

Span convention (truth_references.ref_start/ref_end, Python str offsets into the report
text): the span is the reference expression itself, from its first word or number to its
last number -- "series 3, image 45", "3:45", "S3: 45", "image 108", "IMA 42",
"Section No: 36/192", "Serie 3, Bild 45", "series 5, images 188, 202 and 236", "4:121-130".
It excludes surrounding parentheses, leading prepositions ("on", "see", "on the prior
study,") and trailing punctuation. A span may contain a line break ("series 3,\\nimage 45").
A list yields one truth row per cited image, all rows sharing the span of the whole list;
a range yields one row with image_number..image_number_end and z_mm = the z of the range's
middle plane (which is the finding's centre plane).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from data_contracts.labels import CT_RATE_LABELS

from .findings import EXTENDED, Finding
from .geometry import SeriesPlan


# ------------------------------------------------------------------------ text assembly
class TextBuilder:
    """Appends text pieces and records the offsets of reference spans."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.refs: list[dict] = []

    def add(self, s: str) -> None:
        self.parts.append(s)
        self.pos += len(s)

    def add_ref(self, span: str, rows: list[dict]) -> None:
        start = self.pos
        self.add(span)
        for r in rows:
            r["ref_start"], r["ref_end"], r["ref_text"] = start, self.pos, span
            self.refs.append(r)

    def text(self) -> str:
        return "".join(self.parts)


@dataclass
class Cite:
    """One planned citation: the span text with its surrounding text and truth rows."""

    pre: str
    span: str
    post: str
    rows: list[dict] = field(default_factory=list)


# ------------------------------------------------------------------------ phrasing tables
NOUN_EN = {
    "Medical material": "indwelling medical material",
    "Arterial wall calcification": "aortic wall calcification",
    "Cardiomegaly": "cardiomegaly",
    "Pericardial effusion": "pericardial effusion",
    "Coronary artery wall calcification": "coronary artery calcification",
    "Hiatal hernia": "hiatal hernia",
    "Lymphadenopathy": "mediastinal or hilar lymphadenopathy",
    "Emphysema": "emphysema",
    "Atelectasis": "atelectasis",
    "Lung nodule": "pulmonary nodules",
    "Lung opacity": "ground-glass opacity",
    "Pulmonary fibrotic sequela": "fibrotic sequelae",
    "Pleural effusion": "pleural effusion",
    "Mosaic attenuation pattern": "mosaic attenuation",
    "Peribronchial thickening": "peribronchial thickening",
    "Consolidation": "consolidation",
    "Bronchiectasis": "bronchiectasis",
    "Interlobular septal thickening": "interlobular septal thickening",
}
# German: (noun phrase, negation article "Kein"/"Keine")
NOUN_DE = {
    "Medical material": ("Fremdmaterial", "Kein"),
    "Arterial wall calcification": ("Aortenwandverkalkungen", "Keine"),
    "Cardiomegaly": ("Kardiomegalie", "Keine"),
    "Pericardial effusion": ("Perikarderguss", "Kein"),
    "Coronary artery wall calcification": ("Koronarverkalkungen", "Keine"),
    "Hiatal hernia": ("Hiatushernie", "Keine"),
    "Lymphadenopathy": ("mediastinale Lymphadenopathie", "Keine"),
    "Emphysema": ("Lungenemphysem", "Kein"),
    "Atelectasis": ("Atelektasen", "Keine"),
    "Lung nodule": ("Lungenrundherde", "Keine"),
    "Lung opacity": ("Milchglastrübungen", "Keine"),
    "Pulmonary fibrotic sequela": ("fibrotischen Residuen", "Keine"),
    "Pleural effusion": ("Pleuraerguss", "Kein"),
    "Mosaic attenuation pattern": ("Mosaikperfusion", "Keine"),
    "Peribronchial thickening": ("peribronchialen Wandverdickungen", "Keine"),
    "Consolidation": ("Konsolidierungen", "Keine"),
    "Bronchiectasis": ("Bronchiektasen", "Keine"),
    "Interlobular septal thickening": ("Verdickung der interlobulären Septen", "Keine"),
}
PRESENT_EN = {
    "Medical material": ["A left pectoral pacemaker with its lead projecting over the right heart{R}.",
                         "Cardiac pacing device in the left chest wall{R}."],
    "Arterial wall calcification": ["Atherosclerotic calcifications of the descending thoracic aorta{R}.",
                                    "Calcified plaques along the aortic wall{R}."],
    "Cardiomegaly": ["The heart is enlarged{R}, cardiothoracic ratio 0.62.", "Cardiomegaly{R}."],
    "Pericardial effusion": ["Small pericardial effusion measuring up to {size} mm{R}.",
                             "A pericardial fluid rim is present{R}."],
    "Coronary artery wall calcification": ["Coronary artery calcifications in the LAD territory{R}.",
                                           "Dense coronary artery wall calcification{R}."],
    "Hiatal hernia": ["Moderate hiatal hernia with an air-fluid level{R}.",
                      "A hiatal hernia measuring {meas} is noted{R}."],
    "Lymphadenopathy": ["Enlarged mediastinal lymph nodes, the largest measuring {meas}{R}.",
                        "Mediastinal lymphadenopathy{R}."],
    "Emphysema": ["Centrilobular emphysema with bullae in the {loc}{R}.",
                  "Bullous emphysema, predominantly in the {loc}{R}."],
    "Atelectasis": ["Band-like atelectasis in the {loc}{R}.", "Subsegmental atelectasis of the {loc}{R}."],
    "Lung nodule": ["A {size} mm solid nodule in the {loc}{R}.",
                    "There is a {size} mm pulmonary nodule in the {loc}{R}."],
    "Lung opacity": ["Ground-glass opacity in the {loc}{R}.", "Patchy ground-glass opacification of the {loc}{R}."],
    "Pulmonary fibrotic sequela": ["Reticular fibrotic sequelae in the {loc}{R}.",
                                   "Fibrotic strands in the {loc}, likely post-inflammatory{R}."],
    "Pleural effusion": ["Moderate {side} pleural effusion layering dependently{R}.",
                         "There is a {side} pleural effusion with a depth of {size} mm{R}."],
    "Mosaic attenuation pattern": ["Mosaic attenuation pattern in the {loc}{R}.",
                                   "Heterogeneous lung attenuation with a mosaic pattern in the {loc}{R}."],
    "Peribronchial thickening": ["Peribronchial wall thickening in the {loc}{R}.",
                                 "Thickened bronchial walls in the {loc}{R}."],
    "Consolidation": ["Dense consolidation in the {loc}{R}.", "Airspace consolidation of the {loc}{R}."],
    "Bronchiectasis": ["Cylindrical bronchiectasis in the {loc}{R}.", "Dilated bronchi in the {loc} consistent with bronchiectasis{R}."],
    "Interlobular septal thickening": ["Smooth interlobular septal thickening in the {loc}{R}.",
                                       "Thickened interlobular septa in the {loc}{R}."],
}
PRESENT_MULTI_EN = {
    "Lung nodule": ["A series of nodules in the {loc}, the largest measuring {size} mm{R}.",
                    "Multiple solid nodules in the {loc}{R}, the largest {meas}."],
    "Lymphadenopathy": ["Several enlarged mediastinal lymph nodes{R}, the largest {meas}."],
    "Emphysema": ["Paraseptal emphysema with several bullae in the {loc}{R}."],
}
PRESENT_DE = {
    "Medical material": "Schrittmacheraggregat links pektoral{R}.",
    "Arterial wall calcification": "Verkalkungen der Aortenwand{R}.",
    "Cardiomegaly": "Kardiomegalie{R}.",
    "Pericardial effusion": "Schmaler Perikarderguss bis {size} mm{R}.",
    "Coronary artery wall calcification": "Koronarverkalkungen{R}.",
    "Hiatal hernia": "Axiale Hiatushernie{R}.",
    "Lymphadenopathy": "Vergrößerte mediastinale Lymphknoten, der größte {meas_de}{R}.",
    "Emphysema": "Zentrilobuläres Lungenemphysem mit Bullae {locde}{R}.",
    "Atelectasis": "Streifige Atelektase {locde}{R}.",
    "Lung nodule": "Solider Rundherd {locde} mit {size} mm{R}.",
    "Lung opacity": "Milchglastrübung {locde}{R}.",
    "Pulmonary fibrotic sequela": "Fibrotische Residuen {locde}{R}.",
    "Pleural effusion": "Pleuraerguss {side_de}{R}.",
    "Mosaic attenuation pattern": "Mosaikperfusion {locde}{R}.",
    "Peribronchial thickening": "Peribronchiale Wandverdickungen {locde}{R}.",
    "Consolidation": "Konsolidierung {locde}{R}.",
    "Bronchiectasis": "Bronchiektasen {locde}{R}.",
    "Interlobular septal thickening": "Verdickung der interlobulären Septen {locde}{R}.",
}
PRESENT_MULTI_DE = {
    "Lung nodule": "Mehrere Rundherde {locde}, der größte {size} mm{R}.",
    "Lymphadenopathy": "Mehrere vergrößerte mediastinale Lymphknoten{R}.",
    "Emphysema": "Lungenemphysem mit mehreren Bullae {locde}{R}.",
}
NEG_EN = ["No {n}.", "There is no {n}.", "Without evidence of {n}.", "{N} was not observed.", "No evidence of {n}."]
UNC_EN = ["Possible {n}.", "{N} cannot be excluded.", "Findings suggestive of {n}.", "Questionable {n}."]
UNC_DE = ["Fraglich {n}.", "V.a. {n}.", "{N} nicht sicher auszuschließen."]
NORMAL_EN = [
    "The trachea and central airways are patent.", "The thyroid gland is unremarkable.",
    "The visualized upper abdomen is unremarkable.", "No suspicious osseous lesions.",
    "The great vessels are of normal caliber.",
]
NORMAL_DE = ["Trachea und zentrale Atemwege frei.", "Schilddrüse unauffällig.",
             "Miterfasste Oberbauchorgane unauffällig.", "Keine suspekten ossären Läsionen."]
HISTORY_EN = ["Cough and dyspnea for 3 weeks.", "Follow-up of known pulmonary nodule.",
              "Staging, history of colon carcinoma.", "Fever, rule out pneumonia.", "Chest pain, smoker."]
HISTORY_DE = ["Husten und Dyspnoe seit 3 Wochen.", "Verlaufskontrolle bekannter Rundherde.",
              "Staging bei Kolonkarzinom.", "Fieber, Frage nach Pneumonie."]


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _wrap(rng, span: str) -> str:
    """Sometimes break the line inside a reference (as report editors do)."""
    if rng.random() < 0.12 and " " in span:
        i = span.index(" ", span.index(" ") + 1) if span.count(" ") > 1 else span.index(" ")
        return span[:i] + "\n" + span[i + 1:]
    return span


def _join_list(nums: list[int], lang: str) -> str:
    if len(nums) == 1:
        return str(nums[0])
    conj = " und " if lang == "de" else " and "
    return ", ".join(str(n) for n in nums[:-1]) + conj + str(nums[-1])


def format_single(rng, lang: str, S: int | None, I: int, total: int | None = None) -> tuple[str, str, str, str]:
    """(pre, span, post, form) for one image; S None -> a form without series."""
    if S is None:
        if lang == "de":
            return " (", f"Bild {I}", ")", "de_image_only"
        form = ["on_image", "ima", "section_no"][int(rng.integers(3 if total else 2))]
        if form == "on_image":
            return " on ", f"image {I}", "", form
        if form == "ima":
            return " (", f"IMA {I}", ")", form
        return " (", f"Section No: {I}/{total}", ")", form
    if lang == "de":
        forms = [(" (", f"Serie {S}, Bild {I}", ")"), (" (", f"Se. {S}/Bi. {I}", ")"),
                 (" in ", f"Serie {S} Bild {I}", ""), (" (", f"{S}:{I}", ")")]
        i = int(rng.integers(len(forms)))
        return (*forms[i], f"de{i}")
    forms = [
        (" (", f"series {S}, image {I}", ")"), (" on ", f"series {S} image {I}", ""),
        (" on ", f"image {I} of series {S}", ""), (" (", f"{S}:{I}", ")"), (" (", f"{S}; {I}", ")"),
        (" (", f"S{S}: {I}", ")"), (" (", f"se {S}, im {I}", ")"), (" on ", f"series {S} section {I}", ""),
        (" (", f"Se {S} IMA {I}", ")"),
    ]
    i = int(rng.integers(len(forms)))
    return (*forms[i], f"en{i}")


def format_list(rng, lang: str, S: int, nums: list[int]) -> tuple[str, str, str, str]:
    if lang == "de":
        return " (", f"Serie {S}, Bild {_join_list(nums, 'de')}", ")", "de_list"
    if rng.random() < 0.5:
        return " (", f"series {S}, images {_join_list(nums, 'en')}", ")", "en_list"
    return " (", f"{S}:" + ", ".join(str(n) for n in nums), ")", "colon_list"


def format_range(rng, lang: str, S: int | None, a: int, b: int) -> tuple[str, str, str, str]:
    if S is None:
        return (" on ", f"Bilder {a}-{b}", "", "de_range_only") if lang == "de" else (" on ", f"images {a}-{b}", "", "range_only")
    if lang == "de":
        return " (", f"Serie {S}, Bilder {a}-{b}", ")", "de_range"
    forms = [(" (", f"{S}:{a}-{b}", ")"), (" (", f"series {S}, images {a}-{b}", ")"), (" on ", f"series {S} images {a}-{b}", "")]
    i = int(rng.integers(len(forms)))
    return (*forms[i], f"range{i}")


# ------------------------------------------------------------------------ the report
@dataclass
class StudyContext:
    """What the report writer needs to know about the study and its series."""

    accession: str
    study_uid: str
    study_date: str  # YYYY-MM-DD
    lang: str
    plans: dict[str, SeriesPlan]  # by key: localizer, ax5, ax5soft, thin, coronal
    shift: np.ndarray  # anatomic -> patient
    labels: dict[str, str]
    findings: list[Finding]  # rendered (centres in anatomic mm)
    prior: "StudyContext | None" = None
    prior_written: bool = False
    time_hhmm: str = "10:30"


def _row(ctx: StudyContext, f: Finding, center_anat, plan: SeriesPlan | None, image: int | None,
         rejection: str | None, *, image_end=None, is_prior=False, series_number=None, hint=None, form="") -> dict:
    p = np.asarray(center_anat, float) + ctx.shift
    return {
        "label": f.label,
        "series_number": series_number,
        "image_number": image,
        "image_number_end": image_end,
        "x_mm": float(p[0]), "y_mm": float(p[1]), "z_mm": float(p[2]),
        "expected_rejection": rejection,
        "is_prior": is_prior,
        "study_instance_uid": ctx.study_uid,
        "series_instance_uid": plan.series_uid if plan is not None else None,
        "plane": plan.plane if plan is not None else None,
        "series_hint": hint,
        "form": form,
    }


def plan_citation(rng, ctx: StudyContext, f: Finding) -> Cite | None:
    """Choose how (and whether) a present finding is cited; None = no reference."""
    plans = ctx.plans
    u = rng.random()
    if u < 0.10:
        return None
    lang = ctx.lang
    centers = f.centers
    # which series
    v = rng.random()
    if "coronal" in plans and v < 0.15:
        key = "coronal"
    elif f.label == "Medical material" and v < 0.25:
        key = "localizer"
    elif v < 0.62 or "thin" not in plans:
        key = "ax5"
    else:
        key = "thin"
    plan = plans[key]
    hint = None
    rejection = None
    if key == "ax5" and "ax5soft" in plans:  # two series share this SeriesNumber
        if rng.random() < 0.6:
            hint = "lung" if rng.random() < 0.5 else "soft tissue"
            if hint == "soft tissue":
                plan = plans["ax5soft"]
        else:
            rejection = "ambiguous_series"
    if key == "coronal":
        rejection = "non_axial"
    if key == "localizer":
        rejection = "localizer"
    S = plan.series_number
    ks = []
    for c in centers:
        k = 0 if key == "localizer" else plan.nearest_slice(np.asarray(c) + ctx.shift)
        if k is not None and k not in ks:
            ks.append(k)
    if not ks:
        return None
    cite: Cite
    w = rng.random()
    if len(ks) > 1 and key != "localizer":
        nums = sorted(plan.image_number(k) for k in ks)
        pre, span, post, form = format_list(rng, lang, S, nums)
        rows = []
        # map each centre to its slice
        for c in centers:
            k = plan.nearest_slice(np.asarray(c) + ctx.shift)
            if k is None:
                continue
            n = plan.image_number(k)
            if any(r["image_number"] == n for r in rows):
                continue
            rows.append(_row(ctx, f, c, plan, n, rejection, series_number=S, hint=hint, form=form))
        return Cite(pre, _wrap(rng, span), post, rows)
    k = ks[0]
    c = centers[0]
    if f.label in EXTENDED and w < 0.4 and key in ("ax5", "thin"):
        h = max(1, int(f.half_extent_z // plan.spacing))
        h = min(h, k, plan.n_slices - 1 - k)
        if h >= 1:
            a, b = sorted((plan.image_number(k - h), plan.image_number(k + h)))
            no_series = rng.random() < 0.12
            pre, span, post, form = format_range(rng, lang, None if no_series else S, a, b)
            rej = "no_series" if no_series else rejection
            row = _row(ctx, f, c, plan, a, rej, image_end=b, series_number=None if no_series else S,
                       hint=hint, form=form)
            return Cite(pre, _wrap(rng, span), post, [row])
    n = plan.image_number(k)
    if key in ("ax5", "thin") and rejection is None and rng.random() < 0.07:
        n = plan.n_slices + int(rng.integers(3, 120))
        rejection = "image_out_of_range"
    if key in ("ax5", "thin") and rejection is None and rng.random() < 0.16:
        total = plan.n_slices
        pre, span, post, form = format_single(rng, lang, None, n, total=total)
        if form == "section_no":
            counts = [p.n_slices for p in plans.values()]
            rej = None if counts.count(total) == 1 else "ambiguous_series"
        else:
            rej = "no_series"
        row = _row(ctx, f, c, plan, n, rej, hint=hint, form=form)
        row["total_images"] = total if form == "section_no" else None
        return Cite(pre, span, post, [row])
    pre, span, post, form = format_single(rng, lang, S, n)
    row = _row(ctx, f, c, plan, n, rejection, series_number=S, hint=hint, form=form)
    return Cite(pre, _wrap(rng, span), post, [row])


def _fill(template: str, f: Finding, rng, lang: str) -> str:
    a = round(f.size_mm / 10 + float(rng.uniform(0.1, 0.6)), 1)
    b = round(max(0.5, a - float(rng.uniform(0.3, 1.2))), 1)
    side_de = "rechts" if f.side == "right" else "links"
    return template.format(
        loc=f.location_en or "lungs", locde=f.location_de or "", size=int(round(f.size_mm)),
        meas=f"{a} x {b} cm", meas_de=f"{a:.1f} x {b:.1f} cm".replace(".", ","),
        side=f.side, side_de=side_de, R="{R}",
    )


def _hint_text(hint: str | None, lang: str) -> str:
    if hint is None:
        return ""
    if lang == "de":
        return "Im Lungenfenster: " if hint == "lung" else "Im Weichteilfenster: "
    return "On lung windows, " if hint == "lung" else "On soft tissue windows, "


def _emit_sentence(tb: TextBuilder, template: str, cite: Cite | None, hint: str | None, lang: str) -> None:
    head, _, tail = template.partition("{R}")
    lead = _hint_text(hint, lang)
    if lead:
        head = lead + head[:1].lower() + head[1:] if not head[:2].isupper() else lead + head
    tb.add(head)
    if cite is not None:
        tb.add(cite.pre)
        tb.add_ref(cite.span, cite.rows)
        tb.add(cite.post)
    tb.add(tail + " ")


def write_report(rng: np.random.Generator, ctx: StudyContext) -> tuple[str, list[dict]]:
    """The report text and its reference rows (offsets filled in)."""
    de = ctx.lang == "de"
    tb = TextBuilder()
    H = (["Klinische Angaben:", "Technik:", "Vergleich:", "Befund:", "Beurteilung:"] if de else
         ["CLINICAL HISTORY:", "TECHNIQUE:", "COMPARISON:", "FINDINGS:", "IMPRESSION:"])
    by_label = {f.label: f for f in ctx.findings}

    tb.add(H[0] + "\n")
    tb.add((HISTORY_DE if de else HISTORY_EN)[int(rng.integers(len(HISTORY_DE if de else HISTORY_EN)))] + "\n\n")

    tb.add(H[1] + "\n")
    ax5, thin = ctx.plans["ax5"], ctx.plans.get("thin")
    if de:
        tb.add(f"Nativ-CT des Thorax, Untersuchung um {ctx.time_hhmm} Uhr. Rekonstruktionen in "
               f"{ax5.thickness:g} mm" + (f" und {thin.thickness:g} mm" if thin else "") + " Schichtdicke"
               + (", koronare Reformationen" if "coronal" in ctx.plans else "") + ". Bildqualität gut.\n\n")
    else:
        tb.add(f"CT of the chest without IV contrast, scan started at {ctx.time_hhmm}. A series of axial images "
               f"was reconstructed at {ax5.thickness:g} mm" + (f" and {thin.thickness:g} mm" if thin else "")
               + (" with coronal reformats" if "coronal" in ctx.plans else "") + ". "
               + ["The image quality is adequate.", "Image quality is mildly limited by respiratory motion."][int(rng.integers(2))]
               + " DLP 412 mGy*cm.\n\n")

    tb.add(H[2] + "\n")
    if ctx.prior is not None:
        d = ctx.prior.study_date
        dd = f"{d[8:10]}.{d[5:7]}.{d[0:4]}" if de else f"{d[5:7]}/{d[8:10]}/{d[0:4]}"
        tb.add((f"CT Thorax vom {dd}." if de else f"CT chest dated {dd}.") + "\n\n")
    else:
        tb.add(("Keine Voruntersuchung." if de else "None.") + "\n\n")

    tb.add(H[3] + "\n")
    order = sorted(CT_RATE_LABELS, key=lambda L: (0 if L in EXTENDED or L in ("Lung nodule", "Emphysema") else 1))
    normals = list(NORMAL_DE if de else NORMAL_EN)
    for i, L in enumerate(order):
        v = ctx.labels[L]
        if v == "present" and L in by_label:
            f = by_label[L]
            multi = len(f.centers) > 1
            if de:
                tpl = PRESENT_MULTI_DE.get(L) if multi and L in PRESENT_MULTI_DE else PRESENT_DE[L]
            else:
                opts = PRESENT_MULTI_EN.get(L) if multi and L in PRESENT_MULTI_EN else PRESENT_EN[L]
                tpl = opts[int(rng.integers(len(opts)))]
            tpl = _fill(tpl, f, rng, ctx.lang)
            cite = plan_citation(rng, ctx, f)
            hint = cite.rows[0]["series_hint"] if cite and cite.rows else None
            _emit_sentence(tb, tpl, cite, hint, ctx.lang)
            if ctx.prior is not None and rng.random() < 0.6:
                _prior_sentence(rng, tb, ctx, f)
        elif v == "absent":
            if de:
                n, art = NOUN_DE[L]
                tb.add(f"{art} {n}. " if rng.random() < 0.7 else f"{_cap(n)}: nicht nachweisbar. ")
            else:
                t = NEG_EN[int(rng.integers(len(NEG_EN)))]
                n = NOUN_EN[L]
                tb.add(t.format(n=n, N=_cap(n)) + " ")
        elif v == "uncertain":
            n = NOUN_DE[L][0] if de else NOUN_EN[L]
            pool = UNC_DE if de else UNC_EN
            tb.add(pool[int(rng.integers(len(pool)))].format(n=n, N=_cap(n)) + " ")
        if i % 5 == 4:
            tb.add("\n")
            if normals:
                tb.add(normals.pop(int(rng.integers(len(normals)))) + " ")
    # distractors
    if de:
        tb.add("\nDegenerative Veränderungen der BWS, betont BWK 4/5. ")
        if ctx.labels["Cardiomegaly"] in ("absent", "not_mentioned"):
            tb.add("Herz normal groß, Verhältnis unter 1:2. ")
            ctx.labels["Cardiomegaly"] = "absent"  # a normal-sized heart negates cardiomegaly
    else:
        tb.add("\nDegenerative changes of the thoracic spine, most pronounced at T4-5. ")
        if ctx.labels["Cardiomegaly"] in ("absent", "not_mentioned"):
            tb.add("Heart size is normal, cardiothoracic ratio below 1:2. ")
            ctx.labels["Cardiomegaly"] = "absent"  # a normal-sized heart negates cardiomegaly
    tb.add("\n\n")

    tb.add(H[4] + "\n")
    present = [L for L in CT_RATE_LABELS if ctx.labels[L] == "present"]
    for j, L in enumerate(present[:4], 1):
        f = by_label.get(L)
        loc = (f.location_de if de else f.location_en) if f else ""
        if de:
            tb.add(f"{j}. {_cap(NOUN_DE[L][0])}" + (f" {loc}" if loc else "") + ".\n")
        else:
            tb.add(f"{j}. {_cap(NOUN_EN[L])}" + (f" in the {loc}" if loc else "") + ".\n")
    if not present:
        tb.add("Kein akuter Befund.\n" if de else "No acute cardiopulmonary abnormality.\n")
    if "Lung nodule" in present and not de:
        tb.add("Follow-up CT in 6 months is recommended.\n")
    return tb.text(), tb.refs


def _prior_sentence(rng, tb: TextBuilder, ctx: StudyContext, f: Finding) -> None:
    """Cite the same finding on the prior study (prior's own series and image numbers)."""
    prior = ctx.prior
    plan = prior.plans["ax5"]
    pf = next((g for g in prior.findings if g.label == f.label), None)
    if pf is None:
        return
    c = pf.centers[0]
    k = plan.nearest_slice(np.asarray(c) + prior.shift)
    if k is None:
        return
    n = plan.image_number(k)
    S = plan.series_number
    rej = None if ctx.prior_written else "prior_study_unavailable"
    if "ax5soft" in prior.plans and rej is None:
        rej = "ambiguous_series"
    row = _row(prior, pf, c, plan, n, rej, is_prior=True, series_number=S, form="prior")
    if ctx.lang == "de":
        tb.add("Bereits in der Voruntersuchung abgrenzbar (")
        tb.add_ref(f"Serie {S}, Bild {n}", [row])
        tb.add("). ")
    elif rng.random() < 0.5:
        tb.add("Previously seen on the prior study, ")
        tb.add_ref(_wrap(rng, f"series {S} image {n}"), [row])
        tb.add(". ")
    else:
        tb.add("Unchanged compared with the prior exam (")
        tb.add_ref(f"{S}:{n}", [row])
        tb.add(" on the prior). ")


__all__ = ["write_report", "StudyContext", "TextBuilder", "format_single", "format_list", "format_range"]
