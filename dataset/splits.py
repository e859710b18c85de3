"""Train/val/test split by patient: a deterministic hash of patient_id, so a patient never spans two splits."""
from __future__ import annotations

import hashlib

SPLITS = ("train", "val", "test")
DEFAULT_FRACTIONS = (0.70, 0.15, 0.15)


def split_for_patient(patient_id: str | None, fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
                      salt: str = "radmine") -> str:
    """'train', 'val' or 'test' for a patient: SHA-256 of salt and patient_id mapped to [0, 1).

    The same patient always lands in the same split (for one salt and fractions); a missing
    patient id hashes as the empty string.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or sum(fractions) <= 0:
        raise ValueError(f"split fractions must be three non-negative numbers, got {fractions!r}")
    total = float(sum(fractions))
    u = int(hashlib.sha256(f"{salt}\x1f{patient_id or ''}".encode()).hexdigest()[:16], 16) / 2.0**64
    edge = 0.0
    for name, f in zip(SPLITS, fractions):
        edge += f / total
        if u < edge:
            return name
    return SPLITS[-1] if fractions[-1] > 0 else next(n for n, f in zip(reversed(SPLITS), reversed(fractions)) if f > 0)


def parse_fractions(text: str) -> tuple[float, float, float]:
    """'70,15,15' or '0.7,0.15,0.15' -> fractions (normalised by split_for_patient)."""
    parts = [float(p) for p in text.replace("/", ",").split(",") if p.strip()]
    if len(parts) != 3 or any(p < 0 for p in parts) or sum(parts) <= 0:
        raise ValueError(f"expected three non-negative numbers such as 70,15,15, got {text!r}")
    return parts[0], parts[1], parts[2]
