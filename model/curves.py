"""PNG training curves from metrics.jsonl."""
from __future__ import annotations

import json
from pathlib import Path


def plot_curves(metrics_path: str | Path, png_path: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in Path(metrics_path).read_text().splitlines() if line.strip()]
    keys = [("loss", "total"), ("siglip", "SigLIP"), ("prompt", "disease prompts"), ("loc", "localization"), ("lr", "learning rate")]
    if rows and "prompt_slice" in rows[0]:
        keys.insert(3, ("prompt_slice", "prompts at referenced slices"))
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3))
    steps = [r["step"] for r in rows]
    for ax, (key, title) in zip(axes, keys):
        ax.plot(steps, [r[key] for r in rows])
        ax.set_title(title)
        ax.set_xlabel("step")
    fig.tight_layout()
    fig.savefig(png_path, dpi=80)
    plt.close(fig)
    return Path(png_path)
