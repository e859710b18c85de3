"""The 18 CT-RATE finding labels, spelled and ordered as CT-RATE publishes them.

This is the one place the label vocabulary lives: the report miner, the phantom generator
and the model all import `CT_RATE_LABELS` from here.
"""
from __future__ import annotations

CT_RATE_LABELS: tuple[str, ...] = (
    "Medical material",
    "Arterial wall calcification",
    "Cardiomegaly",
    "Pericardial effusion",
    "Coronary artery wall calcification",
    "Hiatal hernia",
    "Lymphadenopathy",
    "Emphysema",
    "Atelectasis",
    "Lung nodule",
    "Lung opacity",
    "Pulmonary fibrotic sequela",
    "Pleural effusion",
    "Mosaic attenuation pattern",
    "Peribronchial thickening",
    "Consolidation",
    "Bronchiectasis",
    "Interlobular septal thickening",
)

__all__ = ["CT_RATE_LABELS"]
