"""Match mined image references to DICOM images and place them in each study's training volume.

Inputs are the published tables (`references`, `reports`, `instances`, `series`); outputs are
`snippet_slices` (one row per reference that became a pair) and `rejections` (one row, with a
reason from REJECTION_REASONS, per reference that did not). Every `references` row ends up in
exactly one of the two.

Steps for one reference (docs/dataset-matching.md has the full rules):

1. Study: the report's AccessionNumber; else the report's patient and study date. A prior-study
   reference (`is_prior`) goes to the patient's earlier study whose date the report's COMPARISON
   section names; when the report names no matching date, to the only earlier study when the
   patient has exactly one; else it is rejected (prior_study_unavailable).
2. Series: by SeriesNumber. When several series share the number, or the text names a plane or
   a kernel, candidates are narrowed by plane, then by rapidfuzz against SeriesDescription, then
   by preferring an axial volume, then by which ones hold the image number; when more than one
   is left the reference is ambiguous. A null series number uses the study's single axial volume.
3. Image: InstanceNumber (the frame number in a multi-frame series); a range uses its middle image.
4. Placement: the centre of the referenced image is carried by world (LPS) coordinates into the
   study's training volume (chosen by `choose_training_volumes`): the fractional slice index k
   comes from the inverse of the training series' affine; slice_index is round(k) and depth_mm
   is k times the slice spacing along the normal, both measured from the most superior slice of
   the chosen series (before any resampling).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

# The closed list of rejection reasons (the rejections contract repeats it), with what each means.
REJECTION_REASONS: dict[str, str] = {
    "no_study": "no study in the export has the report's accession number, nor its patient and study date",
    "no_series": "the study has no series with the referenced series number, or the reference names no "
                 "series and the study has not exactly one axial series to fall back on",
    "ambiguous_series": "several series fit the reference and neither plane, description, axial preference "
                        "nor image count tells them apart (also: no series named and several series hold the "
                        "stated N/M image count)",
    "no_image": "the series has no image with that number although the number lies within its range",
    "image_out_of_range": "the image number lies outside the series' image numbers (or the stated N/M "
                          "image count)",
    "non_axial": "the referenced series is coronal, sagittal or oblique: one image spans many axial slices",
    "localizer": "the referenced series is a scout/localizer",
    "not_a_volume": "the referenced series is not an image volume (secondary capture, dose report, "
                    "single images without geometry)",
    "outside_volume": "the referenced position lies outside the slices of the study's training volume",
    "prior_study_unavailable": "a reference to a prior exam whose study cannot be identified in the export",
    "no_volume": "the study has no series that qualifies as a training volume",
    "no_position": "the referenced image has no ImagePositionPatient, so it cannot be placed",
}

MATCH_METHODS = ("series_number", "series_fuzzy", "inferred_series", "inferred_series_fuzzy", "single_axial_volume",
                 "series_by_image_count")

# Confidence by match method (documented in docs/dataset-matching.md).
CONFIDENCE = {
    "series_number": 1.0,
    "series_fuzzy": 0.8,
    "inferred_series": 0.9,
    "inferred_series_fuzzy": 0.7,
    "single_axial_volume": 0.7,
    "series_by_image_count": 0.8,
}

NON_AXIAL = {"coronal", "sagittal", "oblique"}


@dataclass(frozen=True)
class MatchConfig:
    """Rules for the training volume and the fuzzy series pick."""

    min_slice_mm: float = 0.5  # training volume slice spacing range, inclusive
    max_slice_mm: float = 5.0
    min_slices: int = 8  # a training volume has at least this many slices
    coverage_fraction: float = 0.9  # of the study's widest axial z coverage
    fuzzy_min_score: float = 60.0  # rapidfuzz score (0-100) a description must reach
    fuzzy_margin: float = 10.0  # ... and by which it must beat the next one


def pair_id(report_id: str, ref_id: int) -> str:
    """Stable id of a pair: the first 32 hex digits of SHA-256 of 'report_id\\x1fref_id'."""
    return hashlib.sha256(f"{report_id}\x1f{int(ref_id)}".encode()).hexdigest()[:32]


# ---------------------------------------------------------------- training volumes

def _affine(value) -> np.ndarray | None:
    if value is None:
        return None
    a = np.asarray(list(value), dtype=np.float64)
    if a.size != 16 or not np.all(np.isfinite(a)):
        return None
    a = a.reshape(4, 4)
    if abs(np.linalg.det(a[:3, :3])) < 1e-9:
        return None
    return a


def slice_spacing_along_normal(affine: np.ndarray) -> float:
    """Distance between consecutive slices measured along the slice normal (row x column)."""
    n = np.cross(affine[:3, 0], affine[:3, 1])
    n = n / np.linalg.norm(n)
    return float(abs(np.dot(affine[:3, 2], n)))


def _volume_spacing(row) -> float | None:
    s = row.get("spacing_mm")
    if _missing(s) or not np.isfinite(s) or s <= 0:
        a = _affine(None if _missing(row.get("affine")) else row.get("affine"))
        return slice_spacing_along_normal(a) if a is not None else None
    return float(s)


def _missing(v) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v)) if np.ndim(v) == 0 else False
    except (TypeError, ValueError):
        return False


_ID_BLANKS = " \t\r\n"


def id_key(v) -> str | None:
    """An accession number or patient id as matching compares it: trimmed, and an all-digit one without its leading
    zeros, which spreadsheets and pandas drop ("0012345" in the DICOM headers is 12345 in a report export that passed
    through Excel); None when missing or blank."""
    if type(v) is not str:  # (a string is never missing: `_missing` costs a few µs a call)
        if _missing(v):
            return None
        v = str(v)
    s = v.strip(_ID_BLANKS)
    if not s:
        return None
    return (s.lstrip("0") or "0") if s.isascii() and s.isdigit() else s


def id_key_sql(column: str) -> str:
    """`id_key` of a string column, in DuckDB SQL."""
    t = f"trim({column}, ' ' || chr(9) || chr(13) || chr(10))"
    return (f"(CASE WHEN regexp_full_match({t}, '[0-9]+') THEN coalesce(nullif(ltrim({t}, '0'), ''), '0') "
            f"ELSE nullif({t}, '') END)")


def is_axial_volume(row: dict, cfg: "MatchConfig | None" = None) -> bool:
    """Axial CT stack usable as a volume: affine, enough slices, uniform gap-free spacing, no duplicates;
    with `cfg`, also a slice spacing within [cfg.min_slice_mm, cfg.max_slice_mm]."""
    cfg_min_slices = (cfg or MatchConfig()).min_slices
    modality = row.get("modality")
    if row.get("geometry") != "axial" or not (_missing(modality) or modality == "CT"):
        return False
    if _affine(None if _missing(row.get("affine")) else row.get("affine")) is None:
        return False
    if int(0 if _missing(row.get("n_images")) else row["n_images"]) < cfg_min_slices:
        return False
    if not bool(row.get("spacing_uniform")) or bool(row.get("has_gaps")):
        return False
    if int(0 if _missing(row.get("n_duplicate_positions")) else row["n_duplicate_positions"]) != 0:
        return False
    if _missing(row.get("z_min")) or _missing(row.get("z_max")):
        return False
    if cfg is not None:
        sp = _volume_spacing(row)
        if sp is None or not (cfg.min_slice_mm - 1e-6 <= sp <= cfg.max_slice_mm + 1e-6):
            return False
    return True


def training_volume_candidates(series: pd.DataFrame, cfg: MatchConfig = MatchConfig()) -> pd.DataFrame:
    """Series that qualify as a training volume (`is_axial_volume` with the configured spacing range)."""
    if series.empty:
        return series.iloc[0:0]
    ok = [is_axial_volume(r, cfg) for r in series.to_dict("records")]
    return series[np.asarray(ok, dtype=bool)]


def choose_training_volumes(series: pd.DataFrame, cfg: MatchConfig = MatchConfig()) -> dict[str, dict]:
    """study_instance_uid -> the series row chosen as the study's training volume.

    Among the candidates (`training_volume_candidates`), keep those covering at least
    `coverage_fraction` of the study's widest axial z extent, then take the thinnest slice
    spacing; ties go to the wider coverage, then the lower series number, then the UID.
    """
    by_study: dict[str, list[dict]] = {}
    for r in training_volume_candidates(series, cfg).to_dict("records"):  # once: iterrows per study took 0.4 s at 320
        if not _missing(r["study_instance_uid"]):
            by_study.setdefault(r["study_instance_uid"], []).append(r)
    chosen: dict[str, dict] = {}
    for study in sorted(by_study):
        rows = by_study[study]
        cover = [float(r["z_max"]) - float(r["z_min"]) for r in rows]
        widest = max(cover)
        full = [(r, c) for r, c in zip(rows, cover) if c >= cfg.coverage_fraction * widest - 1e-6]
        full.sort(key=lambda rc: (round(_volume_spacing(rc[0]), 4), -rc[1],
                                  1 << 62 if _missing(rc[0].get("series_number")) else int(rc[0]["series_number"]),
                                  rc[0]["series_instance_uid"]))
        chosen[study] = full[0][0]
    return chosen


# ---------------------------------------------------------------- dates in report text

_MONTHS = {
    "jan": 1, "january": 1, "januar": 1, "jänner": 1, "feb": 2, "february": 2, "februar": 2,
    "mar": 3, "march": 3, "märz": 3, "maerz": 3, "apr": 4, "april": 4, "may": 5, "mai": 5,
    "jun": 6, "june": 6, "juni": 6, "jul": 7, "july": 7, "juli": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "okt": 10, "oktober": 10,
    "nov": 11, "november": 11, "dec": 12, "december": 12, "dez": 12, "dezember": 12,
}
_MONTH_RE = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_DATE_PATTERNS = [
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), ("y", "m", "d")),
    (re.compile(r"\b(\d{4})(\d{2})(\d{2})\b"), ("y", "m", "d")),
    (re.compile(r"\b(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})\b"), ("d", "m", "y")),
    (re.compile(r"\b(\d{1,2})([/-])(\d{1,2})\2(\d{4})\b"), ("a", "sep", "b", "y")),  # US or UK order: `_slash_dates`
    (re.compile(rf"\b(\d{{1,2}})\.?\s+({_MONTH_RE})\.?\s+(\d{{4}})\b", re.I), ("d", "mon", "y")),
    (re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I), ("mon", "d", "y")),
]
_COMPARISON_HEADER = re.compile(
    r"^[ \t]*(comparison|comparisons|compared with|prior(?: studies| exams?)?|vergleich|voruntersuchung(?:en)?|"
    r"vergleichsuntersuchung(?:en)?)\b[^\n]*", re.I | re.M)
_ANY_HEADER = re.compile(r"^[ \t]*[A-ZÄÖÜa-zäöü][A-ZÄÖÜa-zäöü /-]{2,40}:", re.M)


def dates_in(text: str) -> list[date]:
    """Calendar dates written in `text` (ISO, DICOM, German dd.mm.yyyy, month names, and slash or dash dates in both
    orders: `_slash_dates`)."""
    found: list[tuple[int, date]] = []
    for pattern, order in _DATE_PATTERNS:
        for m in pattern.finditer(text or ""):
            parts = dict(zip(order, m.groups()))
            if "sep" in parts:
                found.extend((m.start(), d) for d in _slash_dates(int(parts["a"]), int(parts["b"]), int(parts["y"])))
                continue
            try:
                month = _MONTHS[parts["mon"].lower().rstrip(".")] if "mon" in parts else int(parts["m"])
                found.append((m.start(), date(int(parts["y"]), month, int(parts["d"]))))
            except (ValueError, KeyError):
                continue
    seen, out = set(), []
    for _, d in sorted(found, key=lambda t: t[0]):
        if d not in seen:
            seen.add(d)
            out.append(d)
    return out


def _slash_dates(a: int, b: int, year: int) -> list[date]:
    """The dates "a/b/year" can be: month first (US) and day first (UK, most of Europe); one when the other is no
    date ("25/03/2023") or both read the same. A report does not say which its hospital writes, and a prior study on
    each of two readings is rare: the patient's studies tell them apart."""
    out = []
    for month, day in ((a, b), (b, a)):
        try:
            d = date(year, month, day)
        except ValueError:
            continue
        if d not in out:
            out.append(d)
    return out


def comparison_section(text: str) -> str | None:
    """Text of the report's COMPARISON section (header line to the next header), or None."""
    m = _COMPARISON_HEADER.search(text or "")
    if not m:
        return None
    rest = text[m.end():]
    nxt = _ANY_HEADER.search(rest)
    return text[m.start(): m.end() + (nxt.start() if nxt else len(rest))]


def comparison_dates(text: str) -> list[date]:
    """Dates named in the COMPARISON section; the whole text's dates when there is no such section."""
    section = comparison_section(text)
    return dates_in(section if section is not None else text)


def _as_date(value) -> date | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError):
        return None


def pick_prior_study(studies: list[dict], report_date: date | None, text: str) -> tuple[dict | None, str]:
    """The prior study a report compares with, from the patient's studies; (study, detail).

    Earlier studies are those dated before the report's study date. The study whose date the
    COMPARISON section names wins; when dates are named but none is in the export, there is no
    prior; when no date is named, the only earlier study is used if there is exactly one.
    """
    if report_date is None:
        return None, "the report has no study date, so no earlier study can be told"
    earlier = [s for s in studies if s["study_date"] is not None and s["study_date"] < report_date]
    named = [d for d in comparison_dates(text) if d < report_date]
    if named:
        hits = [s for s in earlier if s["study_date"] in named]
        by_date = {s["study_date"] for s in hits}
        if len(hits) == 1 or (len(by_date) == 1 and len(hits) > 1 and len({s["study_instance_uid"] for s in hits}) == 1):
            return hits[0], f"comparison date {hits[0]['study_date']}"
        if len(hits) > 1:
            # several named dates present: the most recent named one is the comparison exam
            latest = max(by_date)
            same = [s for s in hits if s["study_date"] == latest]
            if len(same) == 1:
                return same[0], f"latest comparison date {latest}"
            return None, f"{len(same)} earlier studies on the comparison date {latest}"
        return None, (f"comparison date(s) {', '.join(map(str, named))} match none of the patient's "
                      f"{len(earlier)} earlier studies")
    if len(earlier) == 1:
        return earlier[0], f"only earlier study ({earlier[0]['study_date']})"
    if not earlier:
        return None, "the patient has no earlier study in the export"
    return None, f"no comparison date in the report and {len(earlier)} earlier studies"


# ---------------------------------------------------------------- geometry helpers

def image_centre(inst: dict) -> np.ndarray | None:
    """LPS position of the image's centre pixel; the ImagePositionPatient when orientation is missing."""
    p = [inst.get("position_x"), inst.get("position_y"), inst.get("position_z")]
    if any(v is None or not np.isfinite(v) for v in p):
        return None
    p = np.asarray(p, dtype=np.float64)
    o, ps = inst.get("orientation"), inst.get("pixel_spacing")
    rows, cols = inst.get("rows"), inst.get("columns")
    if o is None or ps is None or rows is None or cols is None or len(o) != 6 or len(ps) != 2:
        return p
    if pd.isna(rows) or pd.isna(cols):
        return p
    o = np.asarray(list(o), dtype=np.float64)
    return p + o[:3] * float(ps[1]) * (int(cols) - 1) / 2.0 + o[3:] * float(ps[0]) * (int(rows) - 1) / 2.0


def place_in_volume(point: np.ndarray, affine: np.ndarray, n_slices: int) -> tuple[float, int, float] | None:
    """(fractional slice k, nearest slice index, depth mm) of an LPS point; None outside the slices."""
    k = float((np.linalg.inv(affine) @ np.append(point, 1.0))[2])
    if not (-0.5 <= k < n_slices - 0.5):
        return None
    return k, int(np.clip(np.floor(k + 0.5), 0, n_slices - 1)), k * slice_spacing_along_normal(affine)


# ---------------------------------------------------------------- window / kernel vocabulary

# Words naming a reconstruction kind, in report text or in SeriesDescription (kernels by vendor family).
SERIES_CLASSES: dict[str, tuple[str, ...]] = {
    "lung": ("lung", "lungs", "lunge", "lungen", "lungenfenster", "pulmonary", "pulmo", "parenchyma", "b60f",
             "b70f", "b70s", "b80f", "br60", "bl57", "bl64", "i70f", "yb", "fc51", "fc52", "fc86", "lung window"),
    "soft tissue": ("soft", "soft tissue", "soft-tissue", "weichteil", "weichteile", "weichteilfenster", "mediastinum",
                    "mediastinal", "mediastinalfenster", "standard", "b30f", "b31f", "b30s", "b31s", "br36", "br40",
                    "i30f", "i31f", "fc08", "fc18"),
    "bone": ("bone", "bones", "knochen", "knochenfenster", "osseous", "b60s", "b70s bone", "br64", "h60s", "fc30"),
}


def _phrases(text: str | None) -> set[str]:
    words = re.findall(r"[a-zäöüß0-9-]+", (text or "").lower())
    return set(words) | {" ".join(p) for p in zip(words, words[1:])}


def hint_class(hint: str | None) -> str | None:
    """The reconstruction kind a report phrase names (lung, soft tissue, bone), or None."""
    found = {c for c, aliases in SERIES_CLASSES.items() if _phrases(hint) & set(aliases)}
    return found.pop() if len(found) == 1 else None


_WINDOW_PHRASE = re.compile(
    r"\b(lung|lungs|pulmonary|parenchymal|soft[- ]tissue|mediastinal|bone|osseous)\s+(?:windows?|kernel|settings?|"
    r"reconstructions?)\b|\b(lungen|weichteil|mediastinal|knochen)-?fenster\w*", re.I)


def window_in_sentence(sentence: str | None) -> str | None:
    """The window a sentence names explicitly ('on lung windows', 'im Weichteilfenster'), or None.

    Only explicit window phrases count: 'lung' alone is anatomy, not a reconstruction."""
    found = {hint_class(m.group(0).replace("-", " ")) for m in _WINDOW_PHRASE.finditer(sentence or "")}
    found.discard(None)
    return found.pop() if len(found) == 1 else None


def description_classes(description: str | None) -> set[str]:
    """Reconstruction kinds a SeriesDescription names (by word or kernel)."""
    return {c for c, aliases in SERIES_CLASSES.items() if _phrases(description) & set(aliases)}


# ---------------------------------------------------------------- matching

class _Reject(Exception):
    def __init__(self, reason: str, detail: str):
        assert reason in REJECTION_REASONS, reason
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def _clean(v):
    if v is None:
        return None
    if isinstance(v, float) and np.isnan(v):
        return None
    if v is pd.NA or v is pd.NaT:
        return None
    return v


# integer columns of the input tables; pandas upcasts them to float when a column holds a null, so they are
# turned back into ints here and every detail text names series and images as "2", never "2.0"
_INTEGER_COLUMNS = frozenset({"ref_id", "series_number", "image_number", "image_number_end", "image_count",
                              "n_images", "instance_number", "frame_number", "number_of_frames", "rows", "columns"})


def _records(df) -> list[dict]:
    """Rows as dicts of plain values (None for missing, ints as ints), from a DataFrame or an Arrow table (whose
    rows need no cleaning but NaN: a tenth of the time for the images of a night's studies)."""
    if not isinstance(df, pd.DataFrame):
        rows = df.to_pylist()
        for rec in rows:
            for k, v in rec.items():
                if isinstance(v, float) and v != v:
                    rec[k] = None
        return rows
    out = []
    for r in df.to_dict("records"):
        rec = {k: _clean(v) for k, v in r.items()}
        for k in _INTEGER_COLUMNS.intersection(rec):
            if rec[k] is not None:
                rec[k] = int(rec[k])
        out.append(rec)
    return out


def _column_names(table) -> list[str]:
    return list(table.columns) if isinstance(table, pd.DataFrame) else table.column_names


#: The instances columns matching reads.
IMAGE_COLUMNS = ("path", "frame_number", "number_of_frames", "sop_instance_uid", "series_instance_uid",
                 "instance_number", "position_x", "position_y", "position_z", "orientation", "pixel_spacing",
                 "rows", "columns")


class _SeriesImages:
    """The images of each series, kept as one columnar table sorted by (series, path, frame): matching asks a series
    for its image (or frame) numbers and for one image's row, so no series ever becomes Python rows (they took
    ~2 KB an image; the table ~350 bytes)."""

    def __init__(self, instances):
        import pyarrow as pa
        import pyarrow.compute as pc

        self._table, self._where, self._numbers, self._multi = None, {}, {}, {}
        if instances is None or not len(instances):
            return
        cols = [c for c in IMAGE_COLUMNS if c in _column_names(instances)]
        table = pa.Table.from_pandas(instances[cols], preserve_index=False) if isinstance(instances, pd.DataFrame) \
            else instances.select(cols)
        frame = pc.fill_null(table.column("frame_number"), 1) if "frame_number" in cols else pa.nulls(len(table))
        order = pc.sort_indices(table.select(["series_instance_uid", "path"]).append_column("frame", frame),
                                [("series_instance_uid", "ascending"), ("path", "ascending"), ("frame", "ascending")])
        self._table = table = table.take(order)  # one take; each series is then a slice
        uids = table.column("series_instance_uid")
        starts = [0] + (pc.indices_nonzero(pc.not_equal(uids[1:], uids[:-1])).to_numpy() + 1).tolist()
        self._where = dict(zip(pc.take(uids, pa.array(starts)).to_pylist(), zip(starts, starts[1:] + [len(table)])))

    def _slice(self, uid: str):
        a, b = self._where[uid]
        return self._table.slice(a, b - a)

    def multiframe(self, uid: str) -> bool:
        """Whether the series is one multi-frame file."""
        if uid not in self._multi:
            part = self._slice(uid) if uid in self._where else None
            self._multi[uid] = part is not None and "number_of_frames" in part.column_names and \
                len(part.column("path").unique()) == 1 and (part.column("number_of_frames")[0].as_py() or 1) > 1
        return self._multi[uid]

    def numbers(self, uid: str, key: str) -> tuple[list[int], list[int]]:
        """(the non-null values of column `key` in (path, frame) order, their rows' offsets in the series)."""
        got = self._numbers.get((uid, key))
        if got is None:
            values = self._slice(uid).column(key).to_pylist() if uid in self._where and key in self._table.column_names \
                else []
            kept = [(int(v), i) for i, v in enumerate(values) if v is not None and v == v]
            got = self._numbers[(uid, key)] = ([v for v, _ in kept], [i for _, i in kept])
        return got

    def row(self, uid: str, offset: int) -> dict:
        return _records(self._slice(uid).slice(offset, 1))[0]


class Matcher:
    """Index of the export's studies, series and images for matching references."""

    def __init__(self, instances, series: pd.DataFrame, cfg: MatchConfig = MatchConfig()):
        """instances: a DataFrame or an Arrow table (the same rows either way) holding every image of the
        series given (or of those that matching may consult: the studies and patients of the reports)."""
        self.cfg = cfg
        self.series = {r["series_instance_uid"]: r for r in _records(series)}
        for r in self.series.values():
            r["study_date"] = _as_date(r.get("study_date"))
        self.volumes = {study: self.series[v["series_instance_uid"]]
                        for study, v in choose_training_volumes(series, cfg).items()}
        self.studies: dict[str, dict] = {}
        for r in self.series.values():
            st = self.studies.setdefault(r["study_instance_uid"], {
                "study_instance_uid": r["study_instance_uid"], "accession_number": None,
                "patient_id": None, "study_date": None, "series": []})
            st["series"].append(r)
            for key in ("accession_number", "patient_id", "study_date"):
                if st[key] is None and r.get(key) is not None:
                    st[key] = r[key]
        self.by_accession: dict[str, list[str]] = {}
        self.by_patient: dict[str, list[str]] = {}
        for uid, st in sorted(self.studies.items()):
            if acc := id_key(st["accession_number"]):
                self.by_accession.setdefault(acc, []).append(uid)
            if pid := id_key(st["patient_id"]):
                self.by_patient.setdefault(pid, []).append(uid)
        self.images = _SeriesImages(instances)

    # ---- study
    def find_study(self, report: dict) -> dict:
        acc = report.get("accession_number")
        if (key := id_key(acc)) in self.by_accession:
            return self._merge(self.by_accession[key])
        pid, sdate = report.get("patient_id"), _as_date(report.get("study_date"))
        if pid and sdate:
            uids = [u for u in self.by_patient.get(id_key(pid), []) if self.studies[u]["study_date"] == sdate]
            if uids:
                return self._merge(uids)
        raise _Reject("no_study", f"no study with accession number {acc!r}, nor for patient {pid!r} on {sdate}")

    def _merge(self, uids: list[str]) -> dict:
        # one accession may be split into several DICOM studies; match across all of them
        first = dict(self.studies[uids[0]])
        first["series"] = [s for u in uids for s in self.studies[u]["series"]]
        first["study_uids"] = list(uids)
        return first

    def find_prior(self, report: dict, current: dict | None) -> dict:
        pid = report.get("patient_id") or (current or {}).get("patient_id")
        rdate = _as_date(report.get("study_date")) or (current or {}).get("study_date")
        if not pid:
            raise _Reject("prior_study_unavailable", "the report has no patient id to look for earlier studies")
        studies = [self.studies[u] for u in self.by_patient.get(id_key(pid), [])]
        if current is not None:
            studies = [s for s in studies if s["study_instance_uid"] not in current.get("study_uids", [])]
        study, detail = pick_prior_study(studies, rdate, report.get("text") or "")
        if study is None:
            raise _Reject("prior_study_unavailable", f"patient {pid}: {detail}")
        out = self._merge([study["study_instance_uid"]])
        out["prior_detail"] = detail
        return out

    # ---- series
    def _holds(self, s: dict, number: int) -> bool:
        return any(n == number for n in self._numbers(s["series_instance_uid"]))

    def _multiframe(self, uid: str) -> bool:
        return self.images.multiframe(uid)

    def _numbers(self, uid: str) -> list[int]:
        return self.images.numbers(uid, "frame_number" if self._multiframe(uid) else "instance_number")[0]

    def find_series(self, ref: dict, study: dict) -> tuple[dict, str]:
        number = ref.get("series_number")
        inferred = bool(ref.get("series_inferred"))
        if number is None:
            count = ref.get("image_count")
            if count is not None:
                # "image N/M": the series holding exactly M images
                same = [s for s in study["series"] if int(s.get("n_images") or 0) == int(count)]
                if len(same) == 1:
                    return same[0], "series_by_image_count"
                if same:
                    raise _Reject("ambiguous_series", f"the reference names no series and {len(same)} series hold "
                                  f"{count} images: series " + ", ".join(str(s.get("series_number")) for s in same))
            vols = [s for s in study["series"]
                    if s.get("geometry") == "axial" and int(s.get("n_images") or 0) >= self.cfg.min_slices]
            if len(vols) == 1:
                return vols[0], "single_axial_volume"
            if not vols:
                raise _Reject("no_series", "the reference names no series and the study has no axial volume")
            raise _Reject("no_series", "the reference names no series (nor an image count that tells one) and the "
                          f"study has {len(vols)} axial series: " + ", ".join(str(s.get("series_number")) for s in vols))
        cands = [s for s in study["series"] if s.get("series_number") is not None and int(s["series_number"]) == int(number)]
        if not cands:
            have = sorted({int(s["series_number"]) for s in study["series"] if s.get("series_number") is not None})
            raise _Reject("no_series", f"no series {number} in study {study['study_instance_uid']} (series: {have})")
        if len(cands) == 1:
            return cands[0], "inferred_series" if inferred else "series_number"
        method = "inferred_series_fuzzy" if inferred else "series_fuzzy"
        return self._narrow(ref, cands, number), method

    def _narrow(self, ref: dict, cands: list[dict], number) -> dict:
        from rapidfuzz import fuzz

        steps = []
        plane = ref.get("plane")
        if plane:
            same = [s for s in cands if s.get("geometry") == plane
                    or plane[:3].lower() in (s.get("series_description") or "").lower()]
            if same:
                cands = same
            steps.append(f"plane {plane}")
        hint = (ref.get("series_hint") or "").strip()
        if not hint and len(cands) > 1:
            hint = window_in_sentence(ref.get("_sentence")) or ""
        if hint and len(cands) > 1:
            cls = hint_class(hint)
            by_class = [s for s in cands if cls is not None and cls in description_classes(s.get("series_description"))]
            if cls is not None and by_class:
                cands = by_class
                steps.append(f"hint {hint!r} = {cls}")
            else:
                scored = sorted(((max(fuzz.token_set_ratio(hint.lower(), (s.get("series_description") or "").lower()),
                                      fuzz.partial_ratio(hint.lower(), (s.get("series_description") or "").lower())), i)
                                 for i, s in enumerate(cands)), reverse=True)
                best = scored[0][0]
                second = scored[1][0] if len(scored) > 1 else -1
                if best >= self.cfg.fuzzy_min_score and best - second >= self.cfg.fuzzy_margin:
                    cands = [cands[scored[0][1]]]
                else:
                    top = [cands[i] for sc, i in scored
                           if sc >= best - self.cfg.fuzzy_margin and sc >= self.cfg.fuzzy_min_score]
                    if top:
                        cands = top
                steps.append(f"hint {hint!r} best score {best:.0f}")
        if len(cands) > 1:
            axial = [s for s in cands if s.get("geometry") == "axial"]
            if axial:
                cands = axial
        if len(cands) > 1 and ref.get("image_count") is not None:
            same_n = [s for s in cands if int(s.get("n_images") or 0) == int(ref["image_count"])]
            if same_n:
                cands = same_n
        if len(cands) > 1:
            holding = [s for s in cands if self._holds(s, int(ref["image_number"]))]
            if holding:
                cands = holding
        if len(cands) == 1:
            return cands[0]
        raise _Reject("ambiguous_series", f"{len(cands)} series numbered {number} fit"
                      + (f" ({'; '.join(steps)})" if steps else "") + ": "
                      + "; ".join(f"{s.get('series_description')!r} ({s.get('geometry')})" for s in cands))

    # ---- image
    def find_image(self, ref: dict, s: dict) -> dict:
        uid = s["series_instance_uid"]
        multi = self._multiframe(uid)
        key = "frame_number" if multi else "instance_number"
        what = "frame" if multi else "image"
        values, offsets = self.images.numbers(uid, key)
        if not values:
            raise _Reject("no_image", f"series {s.get('series_number')} has no numbered images")
        numbers = sorted(set(values))
        lo, hi = numbers[0], numbers[-1]
        first = int(ref["image_number"])
        last = int(ref["image_number_end"]) if ref.get("image_number_end") is not None else first
        if last < first:
            first, last = last, first
        count = ref.get("image_count")
        if count is not None and first > int(count):
            raise _Reject("image_out_of_range", f"{what} {first} of {count} stated images")
        if first < lo or last > hi:
            raise _Reject("image_out_of_range", f"{what} {first}" + (f"-{last}" if last != first else "")
                          + f" outside series {s.get('series_number')}'s {what}s {lo}-{hi}")
        wanted = (first + last) // 2
        present = [n for n in numbers if first <= n <= last]
        if not present:
            raise _Reject("no_image", f"series {s.get('series_number')} has no {what} {first}"
                          + (f"-{last}" if last != first else "") + f" (numbers {lo}-{hi}, {len(numbers)} present)")
        number = min(present, key=lambda n: (abs(n - wanted), n))
        return self.images.row(uid, offsets[values.index(number)])  # the first such image in (path, frame) order

    # ---- one reference
    def match_one(self, ref: dict, report: dict | None) -> dict:
        if report is None:
            raise _Reject("no_study", f"report {ref['report_id']!r} is not in the reports table")
        text = report.get("text") or ""
        if ref.get("sentence_start") is not None and ref.get("sentence_end") is not None:
            ref = dict(ref, _sentence=text[int(ref["sentence_start"]):int(ref["sentence_end"])])
        current = None
        try:
            current = self.find_study(report)
        except _Reject:
            if not ref.get("is_prior"):
                raise
        study = self.find_prior(report, current) if ref.get("is_prior") else current
        s, method = self.find_series(ref, study)
        geometry = s.get("geometry")
        if geometry == "localizer":
            raise _Reject("localizer", f"series {s.get('series_number')} ({s.get('series_description')!r}) is a localizer")
        if geometry == "not_a_volume":
            raise _Reject("not_a_volume", f"series {s.get('series_number')} ({s.get('series_description')!r}) is not a volume")
        if geometry in NON_AXIAL:
            raise _Reject("non_axial", f"series {s.get('series_number')} ({s.get('series_description')!r}) is {geometry}")
        img = self.find_image(ref, s)
        centre = image_centre(img)
        if centre is None:
            raise _Reject("no_position", f"image {img.get('sop_instance_uid')} has no ImagePositionPatient")
        vol = self.volumes.get(s["study_instance_uid"])
        if vol is None:
            for uid in study.get("study_uids", [study["study_instance_uid"]]):
                vol = self.volumes.get(uid)
                if vol is not None:
                    break
        if vol is None:
            raise _Reject("no_volume", f"study {s['study_instance_uid']} has no axial series with uniform "
                          f"{self.cfg.min_slice_mm}-{self.cfg.max_slice_mm} mm slices and full coverage")
        affine = _affine(vol["affine"])
        placed = place_in_volume(centre, affine, int(vol["n_images"]))
        if placed is None:
            raise _Reject("outside_volume", f"z {centre[2]:.1f} mm lies outside the training volume "
                          f"(series {vol.get('series_number')}, z {vol.get('z_min'):.1f} to {vol.get('z_max'):.1f} mm)")
        _, index, depth = placed
        return {
            "pair_id": pair_id(ref["report_id"], ref["ref_id"]),
            "report_id": ref["report_id"],
            "ref_id": int(ref["ref_id"]),
            "study_instance_uid": s["study_instance_uid"],
            "referenced_sop_instance_uid": img["sop_instance_uid"],
            "referenced_series_instance_uid": s["series_instance_uid"],
            "referenced_frame_number": int(img.get("frame_number") or 1),
            "z_mm": float(img["position_z"]),
            "volume_series_instance_uid": vol["series_instance_uid"],
            "slice_index": index,
            "depth_mm": float(depth),
            "snippet": ref.get("snippet") or "",
            "is_prior": bool(ref.get("is_prior")),
            "match_method": method,
            "confidence": CONFIDENCE[method],
        }


def match_references(references: pd.DataFrame, reports: pd.DataFrame, instances: pd.DataFrame,
                     series: pd.DataFrame, cfg: MatchConfig = MatchConfig(),
                     matcher: "Matcher | None" = None) -> tuple[list[dict], list[dict]]:
    """(snippet_slices rows, rejections rows): exactly one row in one of them per references row.
    `matcher`: an index of the export built before (then `instances` and `series` are not read)."""
    matcher = matcher or Matcher(instances, series, cfg)
    by_report = {r["report_id"]: r for r in _records(reports)}
    pairs, rejections = [], []
    for ref in _records(references):
        try:
            pairs.append(matcher.match_one(ref, by_report.get(ref["report_id"])))
        except _Reject as rej:
            rejections.append({"report_id": ref["report_id"], "ref_id": int(ref["ref_id"]),
                               "reason": rej.reason, "detail": rej.detail})
    return pairs, rejections


MATCH_BATCH_REPORTS = 1000  # reports matched at a time; a batch holds every image of its reports' studies and
#                            patients, ~350 bytes an image (twice that while they are read and sorted)


def report_batches(data_dir, batch_reports: int = MATCH_BATCH_REPORTS, report_ids=None) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """(references, reports) of `data_dir` in batches of about `batch_reports` reports, in report order,
    read through DuckDB so neither table is held whole (both are stored sorted by report_id).
    report_ids: only these reports (an Arrow array of strings)."""
    import pyarrow as pa

    import data_contracts
    from data_contracts.sql import bounded_connection, read_parquet_sql

    src = data_contracts.current_dir(data_dir)
    files = {name: data_contracts.table_files(name, src) for name in ("references", "reports")}
    if not files["references"] or not files["reports"]:
        return
    con = bounded_connection()
    try:
        for name, paths in files.items():
            con.execute(f"CREATE TEMP VIEW \"{name}\" AS SELECT * FROM {read_parquet_sql(paths)}")
        only = ""
        if report_ids is not None:
            con.register("wanted", pa.table({"report_id": pa.array(report_ids, pa.string())}))
            only = "SEMI JOIN wanted USING (report_id)"
        con.execute(f'CREATE TEMP TABLE ids AS SELECT report_id, row_number() OVER (ORDER BY report_id) - 1 AS rn '
                    f'FROM (SELECT DISTINCT report_id FROM "references" {only})')
        (n,), = con.execute("SELECT count(*) FROM ids").fetchall()
        for start in range(0, n, max(1, batch_reports)):
            (lo, hi), = con.execute("SELECT min(report_id), max(report_id) FROM ids WHERE rn >= ? AND rn < ?",
                                    [start, start + batch_reports]).fetchall()
            # a range of ids: both tables are sorted by report_id, so Parquet statistics skip the rest
            where = f"WHERE report_id BETWEEN $lo AND $hi {'AND report_id IN (SELECT report_id FROM wanted)' if only else ''}"
            refs = con.sql(f'SELECT * FROM "references" {where} ORDER BY report_id, ref_id', params={"lo": lo, "hi": hi})
            reps = con.sql(f"SELECT * FROM reports {where}", params={"lo": lo, "hi": hi})
            # through the contract schema, so the frames are typed as read_table(...).to_pandas() types them
            yield (data_contracts.conform("references", refs.to_arrow_table()).to_pandas(),
                   data_contracts.conform("reports", reps.to_arrow_table()).to_pandas())
    finally:
        con.close()


def _key_values(values):
    """Accession numbers or patient ids as the Matcher keys them (`id_key`), for a SQL filter."""
    import pyarrow as pa

    return pa.array(sorted({id_key(v) for v in values} - {None}), pa.string())


def study_index(con, data_dir, reports: pd.DataFrame) -> tuple:
    """(instances, series) that matching may consult for `reports`: every study holding a series with one of their
    accession numbers or patient ids, or with the patient of one of those accession numbers (study by patient and
    date, prior studies); whole studies, with every image of their series. instances: an Arrow table of
    IMAGE_COLUMNS; series: a DataFrame typed as its contract types it. `con`: a DuckDB connection."""
    import pyarrow as pa

    import data_contracts
    from data_contracts.sql import read_parquet_sql, read_rows

    src = data_contracts.current_dir(data_dir)
    con.register("batch_acc", pa.table({"v": _key_values(reports["accession_number"])}))
    con.register("batch_pat", pa.table({"v": _key_values(reports["patient_id"])}))
    try:
        acc, pat = id_key_sql("accession_number"), id_key_sql("patient_id")
        named = f"({acc} IN (SELECT v FROM batch_acc) OR {pat} IN (SELECT v FROM pats))"
        series = con.sql(
            f"WITH s AS (SELECT * FROM {read_parquet_sql(data_contracts.table_files('series', src))}), "
            f"pats AS (SELECT v FROM batch_pat UNION SELECT {pat} FROM s "
            f"         WHERE {acc} IN (SELECT v FROM batch_acc)) "
            f"SELECT * FROM s WHERE study_instance_uid IN (SELECT study_instance_uid FROM s WHERE {named}) "
            "ORDER BY series_instance_uid").to_arrow_table()
    finally:
        con.unregister("batch_acc")
        con.unregister("batch_pat")
    images = read_rows("instances", src, "series_instance_uid", series.column("series_instance_uid").to_pylist(),
                       list(IMAGE_COLUMNS))
    return images, data_contracts.conform("series", series).to_pandas()


def match_batches(data_dir, cfg: MatchConfig = MatchConfig(), batch_reports: int = MATCH_BATCH_REPORTS,
                  report_ids=None) -> Iterator[tuple[int, list[dict], list[dict]]]:
    """(references matched, snippet_slices rows, rejections rows) per batch of `batch_reports` reports (report_ids:
    only these, an Arrow array of strings). Each batch is matched against its own `study_index`, so memory follows
    the batch, never the size of the export."""
    import data_contracts
    from data_contracts.sql import bounded_connection

    src = data_contracts.current_dir(data_dir)
    for name in ("instances", "series"):
        if not data_contracts.has_table(name, src):
            raise FileNotFoundError(f"no {name} table in {src}; index the export first (radmine index)")
    con = bounded_connection()
    try:
        for refs, reps in report_batches(src, batch_reports, report_ids):
            matcher = Matcher(*study_index(con, src, reps), cfg)
            pairs, rejections = match_references(refs, reps, None, None, cfg, matcher=matcher)
            yield len(refs), pairs, rejections
    finally:
        con.close()


def run_match(data_dir, cfg: MatchConfig = MatchConfig(), batch_reports: int = MATCH_BATCH_REPORTS) -> dict[str, int]:
    """Read the tables of `data_dir`, match, and write `snippet_slices` and `rejections` beside them, batch by
    batch of reports (`match_batches`): neither the reports side nor the export's index is held whole."""
    import data_contracts

    src = data_contracts.current_dir(data_dir)
    counts: dict[str, int] = {"references": 0, "pairs": 0}
    with data_contracts.TableWriter("snippet_slices", src) as pw, data_contracts.TableWriter("rejections", src) as rw:
        for n, pairs, rejections in match_batches(src, cfg, batch_reports):
            pw.write(pairs)
            rw.write(rejections)
            counts["references"] += n
            counts["pairs"] += len(pairs)
            for r in rejections:
                counts[r["reason"]] = counts.get(r["reason"], 0) + 1
    return counts


__all__: Iterable[str] = [
    "CONFIDENCE", "IMAGE_COLUMNS", "MATCH_BATCH_REPORTS", "MatchConfig", "Matcher", "REJECTION_REASONS",
    "choose_training_volumes", "comparison_dates", "dates_in", "image_centre", "match_batches", "match_references",
    "pair_id", "pick_prior_study", "place_in_volume", "run_match", "slice_spacing_along_normal", "study_index",
    "training_volume_candidates",
]
