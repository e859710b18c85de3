"""One training step's weighted loss from a collated batch."""
from __future__ import annotations

import torch
from torch import nn

from model.config import RadFinderConfig
from model.distributed import siglip_loss_distributed
from model.losses import localization_loss, prompt_loss


def training_losses(model: nn.Module, batch: dict, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor,
                    pos_weight: torch.Tensor, cfg: RadFinderConfig, scale: torch.Tensor,
                    bias: torch.Tensor) -> dict[str, torch.Tensor]:
    """{"loss", "siglip", "prompt", "loc"} (and "prompt_slice" when `cfg.w_prompt_slice`); `model` may be
    DDP-wrapped, `scale`/`bias` are its t and b."""
    out = model(batch["volume"], batch["valid"], batch["report_ids"], batch["report_mask"], prompt_ids, prompt_mask,
                batch["snippet_ids"], batch["snippet_mask"])
    img, depth = out["img"].float(), out["depth"].float()
    n_labels = prompt_ids.shape[0] // 2
    prompts = out["prompt"].float()
    siglip = siglip_loss_distributed(img, out["report"].float(), scale, bias)
    prompt = prompt_loss(img, prompts[:n_labels], prompts[n_labels:], scale, bias, batch["targets"], pos_weight)
    owner = batch["snippet_owner"]
    loc = localization_loss(out["snippet"].float(), depth[owner], batch["valid"][owner], batch["snippet_pos"],
                            batch["snippet_weight"], tau=cfg.loc_tau, sigma=cfg.loc_sigma)
    loss = cfg.w_siglip * siglip + cfg.w_prompt * prompt + cfg.w_loc * loc
    out = {"siglip": siglip.detach(), "prompt": prompt.detach(), "loc": loc.detach()}
    if cfg.w_prompt_slice:  # the same prompts on the depth feature at each snippet's slice
        at = depth[owner, batch["snippet_pos"]]  # (N, E)
        prompt_slice = prompt_loss(at, prompts[:n_labels], prompts[n_labels:], scale, bias, batch["slice_targets"],
                                   pos_weight)
        loss = loss + cfg.w_prompt_slice * prompt_slice
        out["prompt_slice"] = prompt_slice.detach()
    return {"loss": loss, **out}
