"""Read the header of one DICOM file into `instances` rows, or say why it cannot be indexed.

Two readers give the same rows:

* `read_header_pydicom` is the reference: pydicom parses the header
  (`stop_before_pixels=True`) from the file.
* `read_header_fast` walks the top-level data elements of the first 16 KiB itself (explicit
  or implicit VR little endian, the transfer syntaxes of nearly every CT file), decodes only
  the ~25 attributes the tables need and skips everything else by its length; of Enhanced
  and Legacy Converted Enhanced files it also reads the shared and per-frame functional
  groups (`_sequence`). Whenever it meets something it does not handle (no 'DICM' preamble,
  big endian or deflated transfer syntax, a malformed element or sequence, functional groups
  not encoded as SQ, a character set other than the default/Latin-1/UTF-8) it hands the file
  to the pydicom reader. `tests/test_index_samples.py` checks that both readers give the same
  rows on every sample file.

Both readers decode attribute values from the same raw bytes with the same functions
(`_decode`), so they agree by construction on values; they can only differ in which
elements they find.

A file becomes either a list of row dicts (one per frame) or one error
`(error_kind, message)` with `error_kind` from ERROR_KINDS.
"""
from __future__ import annotations

import datetime as _dt
import os
from math import isfinite as _isfinite
import struct

# error kinds of the index_errors contract
ERROR_KINDS = (
    "empty", "truncated", "not_dicom", "unreadable", "parse_error", "missing_attribute",
    "not_an_image", "directory_object", "decode_error", "timeout", "duplicate", "reader_died",
)

FIRST_READ = 16 * 1024  # bytes read before parsing; most CT headers fit
MAX_HEADER_READ = 8 * 1024 * 1024  # the fast reader never buffers more (nor more than the file); longer: pydicom
MAX_DEPTH = 32          # sequences nested deeper: the fast reader hands over (pydicom stops at its recursion limit)
DEFER_SIZE = 1024 * 1024  # pydicom reads values longer than this only when accessed (never for skipped ones)
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
BIG_ENDIAN = "1.2.840.10008.1.2.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
PIXEL_DATA = 0x7FE00010
ITEM, ITEM_END, SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD

# SOP classes known to carry no image (SR, key objects, presentation states, RT, documents...)
_NON_IMAGE_PREFIXES = (
    "1.2.840.10008.5.1.4.1.1.88.",   # structured reports, key object selection
    "1.2.840.10008.5.1.4.1.1.11.",   # presentation states
    "1.2.840.10008.5.1.4.1.1.104.",  # encapsulated documents
    "1.2.840.10008.5.1.4.1.1.481.",  # RT objects (plan, struct, dose handled below)
    "1.2.840.10008.5.1.4.1.1.66",    # raw data, registration, segmentation surfaces
    "1.2.840.10008.5.1.4.1.1.9.",    # waveforms
)

# tag -> (row field, how to decode)
TAGS: dict[int, tuple[str, str]] = {
    0x00080008: ("image_type", "multi"),
    0x00080016: ("sop_class_uid", "text"),
    0x00080018: ("sop_instance_uid", "text"),
    0x00080020: ("study_date", "date"),
    0x00080050: ("accession_number", "text"),
    0x00080060: ("modality", "text"),
    0x0008103E: ("series_description", "text"),
    0x00100020: ("patient_id", "text"),
    0x00180050: ("slice_thickness", "ds"),
    0x00181120: ("gantry_tilt", "ds"),
    0x0020000D: ("study_instance_uid", "text"),
    0x0020000E: ("series_instance_uid", "text"),
    0x00200011: ("series_number", "is"),
    0x00200013: ("instance_number", "is"),
    0x00200032: ("position", "dsn"),
    0x00200037: ("orientation", "dsn"),
    0x00200052: ("frame_of_reference_uid", "text"),
    0x00280008: ("number_of_frames", "is"),
    0x00280010: ("rows", "us"),
    0x00280011: ("columns", "us"),
    0x00280030: ("pixel_spacing", "dsn"),
    0x00281052: ("rescale_intercept", "ds"),
    0x00281053: ("rescale_slope", "ds"),
}
CHARSET_TAG = 0x00080005
PER_FRAME_SEQ = 0x52009230
SHARED_SEQ = 0x52009229
LAST_WANTED = max(TAGS)

ROW_FIELDS = (
    "sop_instance_uid", "sop_class_uid", "frame_number", "number_of_frames", "study_instance_uid",
    "series_instance_uid", "frame_of_reference_uid", "accession_number", "patient_id", "study_date",
    "series_number", "series_description", "instance_number", "modality", "image_type", "position_x",
    "position_y", "position_z", "orientation", "pixel_spacing", "slice_thickness", "gantry_tilt", "rows",
    "columns", "rescale_slope", "rescale_intercept", "transfer_syntax_uid",
)
REQUIRED = ("sop_instance_uid", "study_instance_uid", "series_instance_uid")


class HeaderError(Exception):
    """A file that cannot be indexed: `kind` is one of ERROR_KINDS."""

    def __init__(self, kind: str, message: str):
        assert kind in ERROR_KINDS, kind
        super().__init__(message)
        self.kind = kind
        self.message = message


class _Fallback(Exception):
    """The fast reader cannot handle this file; use pydicom."""


# ---------------------------------------------------------------- value decoding (shared)

def _text(raw, codec: str) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, (bytes, bytearray)):
        s = bytes(raw).decode(codec, errors="replace")
    else:  # already converted by pydicom
        s = "\\".join(str(v) for v in raw) if isinstance(raw, (list, tuple)) or type(raw).__name__ == "MultiValue" else str(raw)
    s = s.strip(" \x00")
    return s or None


def _decode(kind: str, raw, codec: str, little: bool = True):
    """Decode one attribute value (raw bytes, or a value pydicom already converted)."""
    if raw is None:
        return None
    if kind == "us":
        if isinstance(raw, (bytes, bytearray)):
            if len(raw) < 2:
                return None
            return int.from_bytes(raw[:2], "little" if little else "big")
        try:
            return int(raw)
        except (TypeError, ValueError):
            return None
    if raw.__class__ is bytes:  # the fast reader's case: _text inlined
        s = raw.decode(codec, "replace").strip(" \x00")
        if not s:
            return None
    else:
        s = _text(raw, codec)
        if s is None:
            return None
    if kind == "text":
        return s
    if kind == "multi":
        return "\\".join(v.strip(" \x00") for v in s.split("\\")) if "\\" in s else s
    if kind == "date":
        d = s.replace(".", "")
        if len(d) == 8 and d.isdigit():
            try:
                return _dt.date(int(d[:4]), int(d[4:6]), int(d[6:8]))
            except ValueError:
                return None
        return None
    # float() ignores surrounding whitespace itself; NULs must go first
    parts = [p.strip(" \x00") for p in s.split("\\")] if "\x00" in s else s.split("\\")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        return None
    for x in nums:
        if not _isfinite(x):
            return None
    if kind == "ds":
        return nums[0]
    if kind == "is":
        return int(nums[0]) if nums[0].is_integer() else None
    return nums  # dsn


def _codec(raw) -> str:
    """Python codec for SpecificCharacterSet; pydicom's default repertoire is Latin-1."""
    s = _text(raw, "ascii") if raw is not None else None
    if not s or s in ("ISO_IR 6", "ISO_IR 100", "ISO 2022 IR 6", "ISO 2022 IR 100"):
        return "latin-1"
    if s == "ISO_IR 192":
        return "utf-8"
    import pydicom.charset

    encodings = pydicom.charset.convert_encodings([v.strip() for v in s.split("\\")])
    if len(encodings) == 1:
        return encodings[0]
    raise _Fallback("multi-byte character set")


def _row_from_values(values: dict, ts: str | None) -> dict:
    row = {f: None for f in ROW_FIELDS}
    for field, value in values.items():
        if field == "position":
            if value is not None and len(value) >= 3:
                row["position_x"], row["position_y"], row["position_z"] = value[:3]
        elif field == "orientation":
            row["orientation"] = value[:6] if value is not None and len(value) >= 6 else None
        elif field == "pixel_spacing":
            row["pixel_spacing"] = value[:2] if value is not None and len(value) >= 2 else None
        else:
            row[field] = value
    row["transfer_syntax_uid"] = ts
    row["rescale_slope"] = 1.0 if row["rescale_slope"] is None else row["rescale_slope"]
    row["rescale_intercept"] = 0.0 if row["rescale_intercept"] is None else row["rescale_intercept"]
    nf = row["number_of_frames"]
    row["number_of_frames"] = nf if isinstance(nf, int) and nf >= 1 else 1
    row["frame_number"] = 1
    return row


def _check_image(row: dict, reached_pixels: bool, pixel_end: int | None, size: int, name: str) -> None:
    """Raise HeaderError for files that are not indexable images."""
    missing = [f for f in REQUIRED if not row.get(f)]
    sop_class = row.get("sop_class_uid") or ""
    if not reached_pixels:
        if not sop_class and len(missing) == len(REQUIRED) and row.get("rows") is None and not row.get("transfer_syntax_uid"):
            raise HeaderError("parse_error", f"{name}: 'DICM' prefix but no recognisable image attributes; the header is corrupt, re-export the file")
        if row.get("rows") is None and (sop_class.startswith(_NON_IMAGE_PREFIXES) or sop_class and not missing):
            raise HeaderError("not_an_image", f"{name}: no pixel data (SOP class {sop_class or 'unknown'}); nothing to index, no action needed")
        raise HeaderError("truncated", f"{name}: the file ends before its pixel data ({size} bytes); copy it again from the PACS")
    if pixel_end is not None and pixel_end > size:
        raise HeaderError("truncated", f"{name}: pixel data needs {pixel_end} bytes but the file has {size}; copy it again from the PACS")
    if missing:
        raise HeaderError("missing_attribute", f"{name}: no {', '.join(missing)}; the file cannot be placed in a series")
    if row.get("rows") is None or row.get("columns") is None:
        raise HeaderError("not_an_image", f"{name}: pixel data without Rows/Columns; fix or remove the file")


def _classify_start(head: bytes, size: int, name: str) -> bool:
    """True if the bytes start a DICOM Part 10 file; False for a raw dataset; raise not_dicom."""
    if size == 0:
        raise HeaderError("empty", f"{name}: the file is empty (0 bytes); copy it again from the PACS or remove it")
    if len(head) >= 132 and head[128:132] == b"DICM":
        return True
    if len(head) >= 8:  # raw dataset without preamble: a group 0002 or 0008 element first
        group, elem = struct.unpack_from("<HH", head, 0)
        if group in (0x0002, 0x0008) and elem < 0x0100:
            return False
    if 128 < size < 132 and b"DICM".startswith(head[128:]):
        raise HeaderError("truncated", f"{name}: the file ends inside the DICOM preamble ({size} bytes); copy it again")
    kind = next((k for magic, k in _ARCHIVES if head.startswith(magic)), None)
    if kind:
        raise HeaderError("not_dicom", f"{name}: a {kind} archive, not a DICOM file; unpack it into the export folder "
                                       "(radmine reads DICOM files, not archives)")
    raise HeaderError("not_dicom", f"{name}: not a DICOM file (no 'DICM' prefix at byte 128); remove it from the export or ignore this row")


#: Archives a PACS export may arrive in, by their first bytes
_ARCHIVES = ((b"PK\x03\x04", "ZIP"), (b"\x1f\x8b", "gzip"), (b"7z\xbc\xaf\x27\x1c", "7-Zip"), (b"BZh", "bzip2"),
             (b"\xfd7zXZ\x00", "xz"), (b"Rar!\x1a\x07", "RAR"))


# ---------------------------------------------------------------- reference reader (pydicom)

def _open_read(path: str, n: int) -> tuple[bytes, int]:
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            return fh.read(n), size
    except (PermissionError, IsADirectoryError, OSError) as exc:
        raise HeaderError("unreadable", f"{path}: cannot be read ({exc.strerror or exc}); check its permissions") from None


def read_header_pydicom(path: str, name: str | None = None) -> list[dict]:
    """Rows of one file, parsed by pydicom (the reference reader)."""
    import warnings

    import pydicom
    from pydicom.errors import InvalidDicomError

    name = name or path
    head, size = _open_read(path, 132)
    part10 = _classify_start(head, size, name)
    try:
        with open(path, "rb") as fh, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # defer_size: a value claiming gigabytes is never read into memory (only its length is kept)
            ds = pydicom.dcmread(fh, stop_before_pixels=True, force=not part10, defer_size=DEFER_SIZE)
            offset = fh.tell()  # pydicom leaves the file at the pixel data element, if any
            tail = fh.read(12)
    except PermissionError as exc:
        raise HeaderError("unreadable", f"{name}: cannot be read ({exc.strerror}); check its permissions") from None
    except InvalidDicomError as exc:
        raise HeaderError("not_dicom", f"{name}: not a DICOM file ({exc}); remove it or ignore this row") from None
    except EOFError as exc:
        raise HeaderError("truncated", f"{name}: the file ends inside its header ({exc}); copy it again") from None
    except Exception as exc:  # pydicom raises many kinds on malformed headers
        raise HeaderError("parse_error", f"{name}: pydicom cannot parse the header ({type(exc).__name__}: {exc}); re-export the file") from None
    try:
        return _rows_from_dataset(ds, offset, tail, size, name)
    except HeaderError:
        raise
    except Exception as exc:
        raise HeaderError("parse_error", f"{name}: pydicom cannot parse the header ({type(exc).__name__}: {exc}); re-export the file") from None


def _raw(ds, tag):
    try:
        elem = ds.get_item(tag)
    except Exception:
        return None
    if elem is None:
        return None
    return elem.value


def _rows_from_dataset(ds, offset: int, tail: bytes, size: int, name: str) -> list[dict]:
    meta = getattr(ds, "file_meta", None)
    media_class = str(meta.get("MediaStorageSOPClassUID", "")) if meta is not None else ""
    ts = _text(meta.get("TransferSyntaxUID"), "ascii") if meta is not None and "TransferSyntaxUID" in meta else None
    if media_class == MEDIA_STORAGE_DIRECTORY or 0x00041220 in ds or str(ds.get("SOPClassUID", "")) == MEDIA_STORAGE_DIRECTORY:
        raise HeaderError("directory_object", f"{name}: a DICOMDIR / Media Storage Directory object; skipped by design")
    little = ts != BIG_ENDIAN
    codec = _codec(_raw(ds, CHARSET_TAG))
    values = {field: _decode(kind, _raw(ds, tag), codec, little) for tag, (field, kind) in TAGS.items()}
    row = _row_from_values(values, ts)
    reached, pixel_end = False, None
    if len(tail) >= 8:
        order = "<" if little else ">"
        group, elem = struct.unpack_from(order + "HH", tail, 0)
        if (group << 16 | elem) == PIXEL_DATA:
            reached = True
            implicit = ts == IMPLICIT_LE or (ts is None and not tail[4:6].isalpha())
            if implicit:
                length = struct.unpack_from(order + "I", tail, 4)[0]
                hdr = 8
            else:
                length = struct.unpack_from(order + "I", tail, 8)[0] if len(tail) >= 12 else 0xFFFFFFFF
                hdr = 12
            pixel_end = None if length == 0xFFFFFFFF else offset + hdr + length
    _check_image(row, reached, pixel_end, size, name)
    return _frames(ds, row, codec, little)


def _seq(ds, tag):
    """A sequence's items (pydicom keeps defined-length sequences raw until accessed)."""
    try:
        return ds[tag].value if tag in ds else None
    except Exception:
        return None


_FG = {  # functional group macro sequence -> [(tag, field, kind)]
    0x00209113: [(0x00200032, "position", "dsn")],                    # PlanePositionSequence
    0x00209116: [(0x00200037, "orientation", "dsn")],                 # PlaneOrientationSequence
    0x00289110: [(0x00280030, "pixel_spacing", "dsn"), (0x00180050, "slice_thickness", "ds")],  # PixelMeasures
    0x00289145: [(0x00281052, "rescale_intercept", "ds"), (0x00281053, "rescale_slope", "ds")],  # PixelValueTransformation
    0x00189329: [(0x00089007, "frame_type", "multi")],                # CTImageFrameTypeSequence
}


def _group_values(item, codec, little, seq=_seq, value=_raw) -> dict:
    out = {}
    if item is None:
        return out
    for seq_tag, attrs in _FG.items():
        items = seq(item, seq_tag)
        if not items:
            continue
        first = items[0]
        for tag, field, kind in attrs:
            v = _decode(kind, value(first, tag), codec, little)
            if v is not None:
                out[field] = v
    return out


def _frames(ds, row: dict, codec: str, little: bool, seq=_seq, value=_raw) -> list[dict]:
    """One row per frame: Enhanced / Legacy Converted Enhanced files from their functional groups.

    `ds` is a pydicom dataset, or the fast reader's parse (dicts of sequences and raw values,
    read with seq=value=dict.get): both decode the same raw bytes the same way."""
    per_frame = seq(ds, PER_FRAME_SEQ)
    nframes = row["number_of_frames"]
    if not per_frame:
        if nframes == 1:
            return [row]
        # classic multi-frame without per-frame geometry: frames share no known position
        rows = []
        for i in range(nframes):
            r = dict(row, frame_number=i + 1, position_x=None, position_y=None, position_z=None)
            rows.append(r)
        return rows
    shared_seq = seq(ds, SHARED_SEQ)
    shared = _group_values(shared_seq[0] if shared_seq else None, codec, little, seq, value)
    rows = []
    for i, item in enumerate(per_frame):  # frame order = item order, not DimensionIndexValues
        vals = dict(shared)
        vals.update(_group_values(item, codec, little, seq, value))
        r = dict(row)
        r["frame_number"] = i + 1
        r["number_of_frames"] = len(per_frame)
        pos = vals.get("position")
        r["position_x"], r["position_y"], r["position_z"] = (pos[:3] if pos and len(pos) >= 3 else (None, None, None))
        ori = vals.get("orientation", row["orientation"])
        r["orientation"] = ori[:6] if ori and len(ori) >= 6 else None
        ps = vals.get("pixel_spacing", row["pixel_spacing"])
        r["pixel_spacing"] = ps[:2] if ps and len(ps) >= 2 else None
        r["slice_thickness"] = vals.get("slice_thickness", row["slice_thickness"])
        r["rescale_slope"] = vals.get("rescale_slope", row["rescale_slope"])
        r["rescale_intercept"] = vals.get("rescale_intercept", row["rescale_intercept"])
        if vals.get("frame_type"):
            r["image_type"] = vals["frame_type"]
        rows.append(r)
    return rows


# ---------------------------------------------------------------- fast reader

_SHORT_VRS = frozenset((b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT", b"PN", b"SH",
                        b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US"))
_LONG_VRS = frozenset((b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN", b"OD", b"OL", b"OV", b"SV", b"UV", b"UC", b"UR"))
_U16 = struct.Struct("<HH")
_EXPL = struct.Struct("<HH2sH")
_U32 = struct.Struct("<I")
_TAG_LEN = struct.Struct("<II")


def _le(tag: int) -> int:
    """A tag as a little-endian file stores it, read as one uint32: group | element << 16."""
    return (tag & 0xFFFF) << 16 | tag >> 16


_EXPL_LE = struct.Struct("<I2sH")
_WANTED_LE = {_le(t): t for t in (*TAGS, CHARSET_TAG)}  # stored tag -> tag
# groups whose elements need a second look: directory records (a DICOMDIR), delimiters (at the top
# level: malformed), functional groups (5200), pixel data (7FE0)
_CHECK_GROUPS = frozenset((0x0004, 0xFFFE, PER_FRAME_SEQ >> 16, PIXEL_DATA >> 16))
_PIXEL_LE = _le(PIXEL_DATA)
_ITEM_LE, _ITEM_END_LE, _SEQ_END_LE = _le(ITEM), _le(ITEM_END), _le(SEQ_END)
_FG_SEQ_LE = {_le(t): t for t in _FG}  # functional group macro sequences, kept from a frame's item
_FG_ATTR_LE = {_le(tag): tag for attrs in _FG.values() for tag, _, _ in attrs}  # their attributes
_ODD_TAG = {_le(PER_FRAME_SEQ): PER_FRAME_SEQ, _le(SHARED_SEQ): SHARED_SEQ}  # multi-frame functional groups


class _NeedMore(Exception):
    pass


def _skip_undefined(buf: bytes, pos: int, implicit: bool, depth: int = 0) -> int:
    """Position after an undefined-length value (sequence or encapsulated), from `pos` (its first item)."""
    if depth > MAX_DEPTH:
        raise _Fallback("sequences nested too deep")
    n = len(buf)
    while True:
        if pos + 8 > n:
            raise _NeedMore
        group, elem = _U16.unpack_from(buf, pos)
        tag = group << 16 | elem
        length = _U32.unpack_from(buf, pos + 4)[0]
        pos += 8
        if tag == SEQ_END:
            return pos
        if tag != ITEM:
            raise _Fallback("malformed sequence")
        if length == 0xFFFFFFFF:
            pos = _skip_dataset(buf, pos, implicit, until_item_end=True, depth=depth + 1)
        else:
            pos += length


def _skip_dataset(buf: bytes, pos: int, implicit: bool, until_item_end: bool, depth: int = 0) -> int:
    n = len(buf)
    while True:
        if pos + 8 > n:
            raise _NeedMore
        group, elem = _U16.unpack_from(buf, pos)
        tag = group << 16 | elem
        if tag == ITEM_END:
            return pos + 8
        if group == 0xFFFE:
            raise _Fallback("unexpected delimiter")
        if implicit:
            length = _U32.unpack_from(buf, pos + 4)[0]
            pos += 8
        else:
            vr = buf[pos + 4:pos + 6]
            if vr in _LONG_VRS:
                if pos + 12 > n:
                    raise _NeedMore
                length = _U32.unpack_from(buf, pos + 8)[0]
                pos += 12
            elif vr.isalpha() and vr.isupper():
                length = _EXPL.unpack_from(buf, pos)[3]
                pos += 8
            else:
                raise _Fallback("bad VR")
        if length == 0xFFFFFFFF:
            pos = _skip_undefined(buf, pos, implicit, depth)
        else:
            pos += length


def _fast_parse(buf: bytes):
    """Walk the top level of a Part 10 file in `buf`.

    Returns (raw values by tag, transfer syntax, media storage class, pixel (offset, header, length) or None).
    Raises _NeedMore when the buffer ends before the pixel data, _Directory for a DICOMDIR,
    _Fallback for anything unusual.
    """
    n = len(buf)
    pos = 132
    ts = media = None
    meta_end = None
    while pos + 8 <= n:
        group, elem, vr, short = _EXPL.unpack_from(buf, pos)
        if group != 0x0002:
            break
        if vr in _LONG_VRS:
            length = _U32.unpack_from(buf, pos + 8)[0]
            pos += 12
        else:
            length = short
            pos += 8
        if pos + length > n:
            raise _NeedMore
        if elem == 0x0010:
            ts = buf[pos:pos + length].decode("ascii", "replace").strip(" \x00")
        elif elem == 0x0002:
            media = buf[pos:pos + length].decode("ascii", "replace").strip(" \x00")
        elif elem == 0x0000 and length == 4:
            meta_end = pos + 4 + _U32.unpack_from(buf, pos)[0]
        pos += length
    else:
        raise _NeedMore
    if meta_end is not None and meta_end != pos:
        raise _Fallback("group length disagrees")
    if ts in (BIG_ENDIAN, DEFLATED) or ts is None:
        raise _Fallback("transfer syntax")
    raw: dict[int, bytes] = {}
    if ts == IMPLICIT_LE:
        return _walk_implicit(buf, pos, raw, ts, media)
    # Tags are compared as the file stores them: one little-endian uint32 = group | element << 16
    # (`_LE`), which saves composing group and element for each of the ~90 elements.
    wanted, odd, groups, pixel_tag = _WANTED_LE, _ODD_TAG, _CHECK_GROUPS, _PIXEL_LE
    short_vrs, long_vrs = _SHORT_VRS, _LONG_VRS
    unpack = _EXPL_LE.unpack_from
    u32 = _U32.unpack_from
    try:  # the buffer's end shows as struct.error (no bounds test per element)
        while True:
            tag, vr, length = unpack(buf, pos)
            if vr in short_vrs:
                start = pos + 8
            elif vr in long_vrs:
                length = u32(buf, pos + 8)[0]
                start = pos + 12
            else:
                raise _Fallback("bad VR")
            if tag & 0xFFFF in groups:  # one test per element for the pixel data and the odd cases
                if tag == pixel_tag:
                    return raw, ts, media, (pos, start - pos, length)
                if tag in odd:  # the multi-frame functional groups: their items, as dicts
                    if vr != b"SQ":
                        raise _Fallback("functional groups not encoded as SQ")
                    raw[odd[tag]], pos = _sequence(buf, start, length, False, 0)
                    continue
                _check_odd(tag)
            if length == 0xFFFFFFFF:
                pos = _skip_undefined(buf, start, False)
                continue
            pos = start + length
            if tag in wanted:
                if pos > n:
                    raise _NeedMore
                raw[wanted[tag]] = buf[start:pos]
    except struct.error:
        raise _NeedMore from None


class _Directory(Exception):
    """Directory records met: the file is a DICOMDIR."""


def _check_odd(tag: int) -> None:
    """Directory records, or a delimiter at the top level."""
    group = tag & 0xFFFF
    if group == 0x0004:
        raise _Directory
    if group == 0xFFFE:
        raise _Fallback("a delimiter at the top level")


def _sequence(buf: bytes, pos: int, length: int, implicit: bool, depth: int) -> tuple[list[dict], int]:
    """The items of a functional-group sequence whose value starts at `pos` (defined or undefined
    length): each a dict of the functional group sequences in it (their items, recursively) and of
    their attributes (raw bytes). Returns (items, position after the sequence)."""
    if depth > MAX_DEPTH:
        raise _Fallback("sequences nested too deep")
    end = None if length == 0xFFFFFFFF else pos + length
    if end is not None and end > len(buf):
        raise _NeedMore
    items = []
    while end is None or pos < end:
        tag, item_length = _TAG_LEN.unpack_from(buf, pos)
        pos += 8
        if tag == _SEQ_END_LE and end is None:
            return items, pos
        if tag != _ITEM_LE:
            raise _Fallback("malformed sequence")
        item, pos = _item(buf, pos, item_length, implicit, depth + 1)
        items.append(item)
    if pos != end:
        raise _Fallback("an item overruns its sequence")
    return items, pos


def _item(buf: bytes, pos: int, length: int, implicit: bool, depth: int) -> tuple[dict, int]:
    """One item of `_sequence`: (its kept elements, position after it)."""
    n = len(buf)
    end = None if length == 0xFFFFFFFF else pos + length
    if end is not None and end > n:
        raise _NeedMore
    out: dict = {}
    while end is None or pos < end:
        tag = _U32.unpack_from(buf, pos)[0]
        if tag & 0xFFFF == 0xFFFE:
            if tag == _ITEM_END_LE and end is None:
                return out, pos + 8
            raise _Fallback("unexpected delimiter")
        if implicit:
            value_length = _U32.unpack_from(buf, pos + 4)[0]
            start, vr = pos + 8, None
        else:
            vr = buf[pos + 4:pos + 6]
            if vr in _SHORT_VRS:
                value_length = _EXPL.unpack_from(buf, pos)[3]
                start = pos + 8
            elif vr in _LONG_VRS:
                value_length = _U32.unpack_from(buf, pos + 8)[0]
                start = pos + 12
            else:
                raise _Fallback("bad VR")
        if tag in _FG_SEQ_LE:
            if vr is not None and vr != b"SQ":
                raise _Fallback("functional group not encoded as SQ")
            out[_FG_SEQ_LE[tag]], pos = _sequence(buf, start, value_length, implicit, depth)
            continue
        if value_length == 0xFFFFFFFF:
            pos = _skip_undefined(buf, start, implicit, depth)
            continue
        pos = start + value_length
        if tag in _FG_ATTR_LE:
            if pos > n:
                raise _NeedMore
            out[_FG_ATTR_LE[tag]] = buf[start:pos]
    if pos != end:
        raise _Fallback("an element overruns its item")
    return out, pos


def _walk_implicit(buf: bytes, pos: int, raw: dict, ts: str, media):
    n = len(buf)
    unpack = _TAG_LEN.unpack_from
    wanted, odd, groups, pixel_tag = _WANTED_LE, _ODD_TAG, _CHECK_GROUPS, _PIXEL_LE
    try:
        while True:
            tag, length = unpack(buf, pos)
            start = pos + 8
            if tag & 0xFFFF in groups:
                if tag == pixel_tag:
                    return raw, ts, media, (pos, 8, length)
                if tag in odd:
                    raw[odd[tag]], pos = _sequence(buf, start, length, True, 0)
                    continue
                _check_odd(tag)
            if length == 0xFFFFFFFF:
                pos = _skip_undefined(buf, start, True)
                continue
            pos = start + length
            if tag in wanted:
                if pos > n:
                    raise _NeedMore
                raw[wanted[tag]] = buf[start:pos]
    except struct.error:
        raise _NeedMore from None


class FastReaderDeclined(Exception):
    """Raised instead of falling back when `read_header_fast(..., fallback=False)`."""


def read_header_fast(path: str, name: str | None = None, fallback: bool = True) -> list[dict]:
    """Rows of one file from the fast reader, falling back to pydicom when needed.

    With `fallback=False` it raises FastReaderDeclined where it would hand over (tests, bench).
    """
    name = name or path

    def read_header_pydicom(path, name):  # noqa: F811 - the hand-over point
        if not fallback:
            raise FastReaderDeclined(name)
        return _pydicom_reader(path, name)
    try:  # os-level calls: a Python file object costs more than the read itself
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise HeaderError("unreadable", f"{name}: cannot be read ({exc.strerror or exc}); check its permissions") from None
    try:
        try:
            size = os.fstat(fd).st_size
            buf = os.read(fd, FIRST_READ)
        except OSError as exc:
            raise HeaderError("unreadable", f"{name}: cannot be read ({exc.strerror or exc}); check its permissions") from None
        part10 = _classify_start(buf, size, name)
        if not part10:
            return read_header_pydicom(path, name)
        while True:
            try:
                raw, ts, media, pixel = _fast_parse(buf)
                break
            except _NeedMore:
                if len(buf) >= size or len(buf) >= MAX_HEADER_READ:
                    return read_header_pydicom(path, name)  # ends early or too long: let the reference decide
                more = os.read(fd, min(max(len(buf) * 3, FIRST_READ), MAX_HEADER_READ - len(buf)))
                if not more:  # the file shrank since fstat
                    return read_header_pydicom(path, name)
                buf += more
            except (_Fallback, struct.error, ValueError, RecursionError):
                return read_header_pydicom(path, name)
            except _Directory:
                media = MEDIA_STORAGE_DIRECTORY
                break
    finally:
        os.close(fd)
    if media == MEDIA_STORAGE_DIRECTORY:
        raise HeaderError("directory_object", f"{name}: a DICOMDIR / Media Storage Directory object; skipped by design")
    try:
        codec, row = _fast_row(raw, ts)
    except _Fallback:
        return read_header_pydicom(path, name)
    if row["sop_class_uid"] == MEDIA_STORAGE_DIRECTORY:
        return read_header_pydicom(path, name)
    pixel_end = None
    if pixel is not None:
        offset, hdr, length = pixel
        pixel_end = None if length == 0xFFFFFFFF else offset + hdr + length
    _check_image(row, pixel is not None, pixel_end, size, name)
    if row["number_of_frames"] == 1 and PER_FRAME_SEQ not in raw:
        return [row]
    return _frames(raw, row, codec, True, seq=dict.get, value=dict.get)


# Attributes that differ from one image of a series to the next; the rest (UIDs of study and
# series, patient, orientation, spacing, rescale...) repeat, so their decoded part of the row is
# kept by their raw bytes (`_fast_row`).
_PER_IMAGE = {0x00080018: "sop_instance_uid", 0x00200013: "instance_number", 0x00200032: "position"}
_REPEATED = tuple(t for t in (*TAGS, CHARSET_TAG) if t not in _PER_IMAGE)
_ROWS_BY_RAW: dict = {}
_ROWS_KEPT = 4096  # entries before the memo starts over (a few series' worth; bounded memory)


def _fast_row(raw: dict, ts: str) -> tuple[str, dict]:
    """(codec, row) of raw values: `_decode` + `_row_from_values`, with the repeated part memoised."""
    key = (ts, *map(raw.get, _REPEATED))
    hit = _ROWS_BY_RAW.get(key)
    if hit is None:
        codec = _codec(raw.get(CHARSET_TAG))  # raises _Fallback
        values = {TAGS[t][0]: _decode(TAGS[t][1], raw[t], codec) for t in _REPEATED if t in raw and t in TAGS}
        if len(_ROWS_BY_RAW) >= _ROWS_KEPT:
            _ROWS_BY_RAW.clear()
        hit = _ROWS_BY_RAW[key] = (codec, _row_from_values(values, ts))
    codec, base = hit
    row = base.copy()
    for k in ("orientation", "pixel_spacing"):  # no list shared between rows
        if row[k].__class__ is list:
            row[k] = row[k].copy()
    v = raw.get(0x00080018)
    row["sop_instance_uid"] = None if v is None else _decode("text", v, codec)
    v = raw.get(0x00200013)
    row["instance_number"] = None if v is None else _decode("is", v, codec)
    v = raw.get(0x00200032)
    pos = None if v is None else _decode("dsn", v, codec)
    if pos is not None and len(pos) >= 3:
        row["position_x"], row["position_y"], row["position_z"] = pos[:3]
    return codec, row


_pydicom_reader = read_header_pydicom


def read_header(path: str, name: str | None = None, fast: bool = True, fallback: bool = True) -> list[dict]:
    """Rows of one file (one per frame); raises HeaderError saying why it cannot be indexed.

    fast: the fast reader first; with `fallback=False` it raises FastReaderDeclined where it
    would hand the file to pydicom."""
    return read_header_fast(path, name, fallback) if fast else read_header_pydicom(path, name)


__all__ = ["ERROR_KINDS", "FastReaderDeclined", "HeaderError", "ROW_FIELDS", "read_header", "read_header_fast", "read_header_pydicom"]
