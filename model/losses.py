"""RadFinder's three objectives on L2-normalised embeddings.

- `siglip_loss`: sigmoid loss over all report-volume pairs of a batch (Zhai et al. 2023).
- `prompt_loss`: per-label BCE on exp(t)*(cos(v, positive prompt) - cos(v, negative prompt)).
- `localization_loss`: softmax over depth of cos(snippet, depth feature)/tau against a
  Gaussian-blurred one-hot target, invalid depths masked.
The distributed SigLIP path lives in `model.distributed` and is tested against `siglip_loss`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def siglip_pair_sum(img: torch.Tensor, txt: torch.Tensor, logit_scale: torch.Tensor, logit_bias: torch.Tensor,
                    positive_offset: int = 0) -> torch.Tensor:
    """Sum of -log sigmoid(z_ij * logit_ij) over img (B, E) x txt (M, E); img row i pairs with txt row i + offset."""
    if img.ndim != 2 or txt.ndim != 2 or img.shape[1] != txt.shape[1]:
        raise ValueError(f"img (B, E) and txt (M, E) must share E, got {tuple(img.shape)} and {tuple(txt.shape)}")
    if positive_offset + img.shape[0] > txt.shape[0]:
        raise ValueError("positive pairs run past the text batch")
    logits = logit_scale.exp() * img @ txt.T + logit_bias  # (B, M)
    z = -torch.ones_like(logits)
    idx = torch.arange(img.shape[0], device=img.device)
    z[idx, idx + positive_offset] = 1.0
    return -F.logsigmoid(z * logits).sum()


def siglip_loss(img: torch.Tensor, txt: torch.Tensor, logit_scale: torch.Tensor, logit_bias: torch.Tensor) -> torch.Tensor:
    """SigLIP loss of one batch: the pair sum divided by the batch size."""
    if img.shape[0] != txt.shape[0]:
        raise ValueError(f"img and txt batch sizes differ: {img.shape[0]} vs {txt.shape[0]}")
    return siglip_pair_sum(img, txt, logit_scale, logit_bias) / img.shape[0]


def label_pos_weight(targets: torch.Tensor, cap: float = 20.0) -> torch.Tensor:
    """Per-label positive weight n_neg / n_pos from targets (N, L) in {1, 0, -1 = masked}, capped."""
    pos = (targets == 1).sum(0).float()
    neg = (targets == 0).sum(0).float()
    return (neg / pos.clamp_min(1.0)).clamp(min=1.0, max=cap)


def prompt_loss(img: torch.Tensor, pos_prompts: torch.Tensor, neg_prompts: torch.Tensor, logit_scale: torch.Tensor,
                logit_bias: torch.Tensor, targets: torch.Tensor, pos_weight: torch.Tensor) -> torch.Tensor:
    """Masked BCE over (B, L) labels. img (B, E); prompts (L, E); targets (B, L) in {1, 0, -1 = masked}."""
    if pos_prompts.shape != neg_prompts.shape or pos_prompts.shape[1] != img.shape[1]:
        raise ValueError("positive and negative prompts must be (L, E) with the image's E")
    if targets.shape != (img.shape[0], pos_prompts.shape[0]):
        raise ValueError(f"targets must be (B, L) = ({img.shape[0]}, {pos_prompts.shape[0]}), got {tuple(targets.shape)}")
    scale = logit_scale.exp()
    logit_pos = scale * img @ pos_prompts.T + logit_bias  # (B, L)
    logit_neg = scale * img @ neg_prompts.T + logit_bias  # (B, L)
    known = targets >= 0
    if not known.any():
        return img.sum() * 0.0
    bce = F.binary_cross_entropy_with_logits(logit_pos - logit_neg, targets.clamp_min(0).to(img.dtype),
                                             pos_weight=pos_weight.to(img.dtype), reduction="none")
    return bce[known].mean()


def gaussian_depth_target(target: torch.Tensor, valid: torch.Tensor, sigma: float) -> torch.Tensor:
    """(N,) integer target positions and (N, P) valid mask -> (N, P) distributions over valid positions."""
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    pos = torch.arange(valid.shape[1], device=valid.device, dtype=torch.float32)  # (P,)
    d = pos[None, :] - target[:, None].float()  # (N, P)
    w = torch.exp(-0.5 * (d / sigma) ** 2) * valid
    return w / w.sum(1, keepdim=True).clamp_min(1e-12)


def localization_loss(snippets: torch.Tensor, depth: torch.Tensor, valid: torch.Tensor, target: torch.Tensor,
                      weight: torch.Tensor | None = None, tau: float = 0.1, sigma: float = 2.0) -> torch.Tensor:
    """Weighted CE over depth. snippets (N, E); depth (N, P, E), each snippet's own volume; valid (N, P); target (N,)."""
    if depth.ndim != 3 or depth.shape[0] != snippets.shape[0] or depth.shape[2] != snippets.shape[1]:
        raise ValueError(f"depth must be (N, P, E) matching snippets (N, E), got {tuple(depth.shape)} and {tuple(snippets.shape)}")
    if valid.shape != depth.shape[:2] or target.shape != (snippets.shape[0],):
        raise ValueError("valid must be (N, P) and target (N,)")
    if tau <= 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    if snippets.shape[0] == 0:
        return depth.sum() * 0.0
    logits = torch.einsum("ne,npe->np", snippets, depth) / tau  # (N, P)
    logits = logits.masked_fill(~valid, float("-inf"))
    logp = torch.log_softmax(logits.float(), dim=1).masked_fill(~valid, 0.0)
    ce = -(gaussian_depth_target(target, valid, sigma) * logp).sum(1)  # (N,)
    if weight is None:
        return ce.mean()
    return (ce * weight).sum() / weight.sum().clamp_min(1e-12)
