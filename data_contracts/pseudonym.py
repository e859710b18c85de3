"""Keyed pseudonyms for the identifiers in published tables, and the key that makes them.

Matching needs the real PatientID, AccessionNumber and UIDs, so the pipeline works on them;
the tables it publishes carry keyed pseudonyms instead (unless the run was told
`--keep-identifiers`). A pseudonym is HMAC-SHA256(key, kind || value), so

* the same value always gets the same pseudonym under one key (joins between tables still
  work, and a later run with the same key agrees with an earlier one);
* values of different kinds never collide (a PatientID equal to an AccessionNumber gets two
  different pseudonyms);
* nobody without the key can go back, or test a guessed value (unlike a plain hash of a
  low-entropy accession number).

Forms (96 bits of the HMAC, hex): ``pt_…`` PatientID, ``acc_…`` AccessionNumber,
``uid_…`` any UID (study, series, SOP, frame of reference, SOP class excluded: it names a
standard class, not a person), ``rep_…`` report ids, ``pair_…`` pair ids,
``path_…<suffix>`` file paths (export layouts put PatientID, dates and accession numbers in
folder names). The prefixes let `radmine audit` tell a pseudonym from a leaked identifier.

Dates shift by a per-patient offset of 1 to 1095 days into the past, derived from the key
and the PatientID, so every interval between one patient's dates is kept while calendar
dates are not. A row without a PatientID shifts by the offset of the first identifier it
has (accession number, study UID, report id); with none, the date is dropped (null).

The key: ``RADMINE_PSEUDONYM_KEY`` (64 hex digits, or any text of 16+ bytes) wins; else the
key file ``RADMINE_PSEUDONYM_KEY_FILE``, by default ``$XDG_CONFIG_HOME/radmine/pseudonym.key``
(``~/.config/radmine/pseudonym.key``), created on first use with 32 random bytes, mode 0600
in a 0700 folder. It is deliberately *not* kept in the data folder: data folders get copied
and shared, and a key beside the tables would undo the pseudonyms. Keep a copy of the key
somewhere safe: without it, new runs cannot agree with published ones. The key is never
written to tables, logs or artifacts; `Pseudonymizer` does not show it in its repr.

Which column is which kind lives in `COLUMN_KINDS` below (the contract loader rejects unknown
keys, so the kinds cannot live in the contracts); a test checks that every string and date
column of every contract is listed, so a new column forces a decision.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import os
import re
import secrets
import stat
from pathlib import Path

KEY_ENV = "RADMINE_PSEUDONYM_KEY"
KEY_FILE_ENV = "RADMINE_PSEUDONYM_KEY_FILE"
MIN_KEY_BYTES = 16
DIGEST_HEX = 24  # 96 bits: collision chance ~1e-11 for a billion values
MAX_SHIFT_DAYS = 1095
CACHE_ENTRIES = 100_000  # pseudonyms memoised (~25 MB); cleared when full, so memory stays bounded

# Kinds handled here: identifiers become pseudonyms, dates shift.
ID_KINDS = {"patient": "pt_", "accession": "acc_", "uid": "uid_", "report": "rep_", "pair": "pair_", "path": "path_"}
DATE_KIND = "date"
# Kinds handled by the publish step (flows.privacy) with the text rules of mining.deid:
#   text         free text, scrubbed by rules (placeholders like [NAME]); UIDs inside become uid_ pseudonyms
#   report_text  reports.text: scrubbed, and every offset into it is remapped
#   offset       a character offset into reports.text, remapped after scrubbing
#   slice        reports.text[start:end] of the row, re-cut from the scrubbed text
#   text_sha256  recomputed over the scrubbed text
#   message      free text that names the row's path: the path is replaced by its pseudonym, then scrubbed
TEXT_KINDS = {"text", "report_text", "offset", "slice", "text_sha256", "message"}
KEEP = "keep"  # not identifying (numbers, geometry, closed lists, standard SOP class UIDs, ...)

COLUMN_KINDS: dict[str, dict[str, str]] = {
    "instances": {
        "path": "path", "sop_instance_uid": "uid", "sop_class_uid": KEEP, "study_instance_uid": "uid",
        "series_instance_uid": "uid", "frame_of_reference_uid": "uid", "accession_number": "accession",
        "patient_id": "patient", "study_date": DATE_KIND, "series_description": "text", "modality": KEEP,
        "image_type": KEEP, "transfer_syntax_uid": KEEP,
    },
    "series": {
        "series_instance_uid": "uid", "study_instance_uid": "uid", "accession_number": "accession",
        "patient_id": "patient", "study_date": DATE_KIND, "series_description": "text", "modality": KEEP,
        "geometry": KEEP, "instance_order": KEEP,
    },
    "index_errors": {"path": "path", "error_kind": KEEP, "message": "message"},
    "reports": {
        "report_id": "report", "accession_number": "accession", "patient_id": "patient",
        "study_date": DATE_KIND, "language": KEEP, "text": "report_text", "text_sha256": "text_sha256",
    },
    "references": {
        "report_id": "report", "section": KEEP, "sentence_start": "offset", "sentence_end": "offset",
        "ref_start": "offset", "ref_end": "offset", "ref_text": "slice", "plane": KEEP,
        "series_hint": "text", "snippet": "text", "snippet_start": "offset", "snippet_end": "offset",
        "language": KEEP, "rule": KEEP,
    },
    "labels": {
        "report_id": "report", "label": KEEP, "value": KEEP, "evidence_start": "offset",
        "evidence_end": "offset", "evidence_text": "slice", "rule": KEEP,
    },
    "snippet_labels": {"report_id": "report", "label": KEEP, "value": KEEP},
    "rejections": {"report_id": "report", "reason": KEEP, "detail": "text"},
    "snippet_slices": {
        "pair_id": "pair", "report_id": "report", "study_instance_uid": "uid",
        "referenced_sop_instance_uid": "uid", "referenced_series_instance_uid": "uid",
        "volume_series_instance_uid": "uid", "snippet": "text", "match_method": KEEP,
    },
    "volumes": {
        "series_instance_uid": "uid", "study_instance_uid": "uid", "patient_id": "patient",
        # array_path names a cache file under the data folder that training opens; it is kept, and
        # must therefore not contain identifiers (dataset.volumes names files by a digest; audit checks)
        "array_path": KEEP, "split": KEEP,
    },
    "runs": {"run_id": KEEP, "status": KEEP, "inputs": "text", "counts": KEEP, "radmine_version": KEEP},
}

# Offsets and slices into reports.text: (table, start column, end column, slice column or None).
OFFSET_SPANS = {
    "references": [("sentence_start", "sentence_end", None), ("ref_start", "ref_end", "ref_text"),
                   ("snippet_start", "snippet_end", None)],
    "labels": [("evidence_start", "evidence_end", "evidence_text")],
}


class PseudonymKeyError(RuntimeError):
    """The pseudonym key cannot be found, read or trusted; the message says what to do."""


def default_key_file() -> Path:
    if os.environ.get(KEY_FILE_ENV):
        return Path(os.environ[KEY_FILE_ENV]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "radmine" / "pseudonym.key"


def _parse_key(text: str, where: str) -> bytes:
    text = text.strip()
    if re.fullmatch(r"[0-9a-fA-F]{32,}", text) and len(text) % 2 == 0:
        key = bytes.fromhex(text)
    else:
        key = text.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymKeyError(f"the pseudonym key from {where} is shorter than {MIN_KEY_BYTES} bytes; "
                        f"use 64 hex digits (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)")
    return key


def load_key(create: bool = True, key_file: str | os.PathLike | None = None) -> bytes:
    """The pseudonym key: env RADMINE_PSEUDONYM_KEY, else the key file (created 0600 on first use)."""
    env = os.environ.get(KEY_ENV)
    if env:
        return _parse_key(env, f"${KEY_ENV}")
    path = Path(key_file) if key_file is not None else default_key_file()
    if not path.exists():
        if not create:
            raise PseudonymKeyError(f"no pseudonym key: set ${KEY_ENV} or create {path} (radmine creates it on first run)")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PseudonymKeyError(f"the pseudonym key file {path} is readable by others (mode {stat.S_IMODE(mode):o}); "
                        f"run `chmod 600 {path}`")
    try:
        return _parse_key(path.read_text(), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise PseudonymKeyError(f"cannot read the pseudonym key file {path}: {exc}") from None


class Pseudonymizer:
    """Keyed pseudonyms and date shifts under one key. Pure functions of (key, value)."""

    def __init__(self, key: bytes):
        if not isinstance(key, (bytes, bytearray)) or len(key) < MIN_KEY_BYTES:
            raise PseudonymKeyError(f"a pseudonym key needs at least {MIN_KEY_BYTES} bytes")
        self.__key = bytes(key)
        self._cache: dict[tuple[str, str], str] = {}

    @classmethod
    def from_environment(cls, create: bool = True) -> "Pseudonymizer":
        return cls(load_key(create=create))

    def __repr__(self) -> str:  # never show the key
        return "Pseudonymizer(key=<hidden>)"

    __str__ = __repr__

    def fingerprint(self) -> str:
        """An HMAC of a fixed text under the key: equal for equal keys, and tells nothing about the key.

        The publish step stores it beside a version's protected tables, so a later run knows
        whether it may re-use them (same key) or must protect everything again."""
        return "key_" + self._digest("fingerprint", "radmine").hex()[:DIGEST_HEX]

    def _digest(self, kind: str, value: str) -> bytes:
        return hmac.new(self.__key, kind.encode() + b"\x1f" + value.encode("utf-8", "surrogatepass"),
                        hashlib.sha256).digest()

    def token(self, kind: str, value: str | None) -> str | None:
        """The pseudonym of `value` as a `kind` identifier (patient, accession, uid, report, pair, path)."""
        if value is None:
            return None
        if kind not in ID_KINDS:
            raise ValueError(f"unknown identifier kind {kind!r}; one of {sorted(ID_KINDS)}")
        value = str(value)
        hit = self._cache.get((kind, value))
        if hit is not None:
            return hit
        if kind == "path":
            name = value.replace("\\", "/").rsplit("/", 1)[-1]
            suffix = re.search(r"\.[A-Za-z0-9]{1,5}$", name)
            out = "path_" + self._digest(kind, value).hex()[:DIGEST_HEX] + (suffix.group(0).lower() if suffix else "")
        else:
            out = ID_KINDS[kind] + self._digest(kind, value).hex()[:DIGEST_HEX]
        if len(self._cache) >= CACHE_ENTRIES:
            self._cache.clear()  # start again: the ids of the rows at hand are what repeat
        self._cache[(kind, value)] = out
        return out

    def patient(self, value):
        return self.token("patient", value)

    def accession(self, value):
        return self.token("accession", value)

    def uid(self, value):
        return self.token("uid", value)

    def report(self, value):
        return self.token("report", value)

    def date_offset(self, patient_key: str) -> int:
        """Days (negative, -1 to -MAX_SHIFT_DAYS) every date of this patient moves by."""
        n = int.from_bytes(self._digest("date-offset", str(patient_key))[:8], "big")
        return -(1 + n % MAX_SHIFT_DAYS)

    def shift_date(self, value: _dt.date | None, patient_key: str | None) -> _dt.date | None:
        if value is None or patient_key is None:
            return None
        try:
            return value + _dt.timedelta(days=self.date_offset(patient_key))
        except OverflowError:
            return _dt.date.min


def is_pseudonym(kind: str, value: str) -> bool:
    """True when `value` has the form of a `kind` pseudonym (what `radmine audit` expects)."""
    prefix = ID_KINDS[kind]
    pattern = rf"{prefix}[0-9a-f]{{{DIGEST_HEX}}}" + (r"(\.[a-z0-9]{1,5})?" if kind == "path" else "")
    return re.fullmatch(pattern, value) is not None


def column_kinds(table: str) -> dict[str, str]:
    """Column -> kind for `table`; columns not listed are kept (numbers, booleans, lists)."""
    return COLUMN_KINDS.get(table, {})


_DATE_FALLBACK = ("patient_id", "accession_number", "study_instance_uid", "report_id")


def pseudonymise_table(name: str, table, pz: Pseudonymizer):
    """Replace identifiers by pseudonyms and shift dates in pyarrow `table` of contract `name`.

    Only the identifier and date kinds are handled here; text kinds are left for the
    publish step (flows.privacy), which knows the scrubbing rules. Returns a new table.
    """
    import pyarrow as pa

    kinds = column_kinds(name)
    cols = {c: table.column(c) for c in table.column_names}
    out = {}
    date_keys = None
    for col, arr in cols.items():
        kind = kinds.get(col, KEEP)
        if kind in ID_KINDS:
            values = [pz.token(kind, v) for v in arr.to_pylist()]
            out[col] = pa.array(values, type=arr.type)
        elif kind == DATE_KIND:
            if date_keys is None:
                present = [c for c in _DATE_FALLBACK if c in cols]
                rows = zip(*(cols[c].to_pylist() for c in present)) if present else ([None] * table.num_rows)
                date_keys = []
                for row in rows:
                    key = None
                    for c, v in zip(present, row if present else ()):
                        if v not in (None, ""):
                            key = f"{c}:{v}" if c != "patient_id" else str(v)
                            break
                    date_keys.append(key)
            values = [pz.shift_date(v, k) for v, k in zip(arr.to_pylist(), date_keys)]
            out[col] = pa.array(values, type=arr.type)
        else:
            out[col] = arr
    return pa.table(out, schema=table.schema)
