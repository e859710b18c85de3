"""Disease prompt texts: the training pair and the seven zero-shot template pairs."""
from __future__ import annotations

from data_contracts.labels import CT_RATE_LABELS

TRAIN_TEMPLATE = ("There is {label}.", "There is no {label}.")

ZERO_SHOT_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("There is {label}.", "There is no {label}."),
    ("{label} is present.", "{label} is not present."),
    ("{label} is seen.", "No {label} is seen."),
    ("Findings consistent with {label}.", "No findings of {label}."),
    ("The scan shows {label}.", "The scan shows no {label}."),
    ("Evidence of {label}.", "No evidence of {label}."),
    ("{label}.", "No {label}."),
)


def prompt_pairs(template: tuple[str, str] = TRAIN_TEMPLATE, labels: tuple[str, ...] = CT_RATE_LABELS) -> list[str]:
    """2L prompts: the L positive prompts, then the L negative prompts."""
    pos, neg = template
    lab = [label.lower() for label in labels]
    return [pos.format(label=x) for x in lab] + [neg.format(label=x) for x in lab]
