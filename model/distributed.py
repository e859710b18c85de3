"""Multi-process helpers: the SigLIP loss across ranks with an autograd-aware all-gather.

Each rank scores its own volumes against every rank's reports. With `L_r = S_r / B_local`
(S_r: rank r's pair sum) and DDP averaging gradients over W ranks, gradients and the mean
loss equal the single-process `siglip_loss` over the global batch (tests/test_model_distributed.py).
"""
from __future__ import annotations

import os
import socket
from datetime import timedelta

import torch
import torch.distributed as dist
import torch.distributed._functional_collectives as funcol

from model.losses import siglip_loss, siglip_pair_sum


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank_and_world() -> tuple[int, int]:
    if is_distributed():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def bind_gloo_to_loopback_on_one_machine() -> str | None:
    """On one machine, gloo talks over the loopback unless GLOO_SOCKET_IFNAME says otherwise.

    gloo binds to the address the host name resolves to; in containers and sandboxes that can be an
    address the ranks cannot reach, and the rendezvous then waits out its timeout (30 min by default)
    instead of failing. torchrun sets LOCAL_WORLD_SIZE == WORLD_SIZE when every rank is on this machine.
    Returns the interface gloo will use, or None where gloo resolves the host name itself.
    """
    if os.environ.get("GLOO_SOCKET_IFNAME"):
        return os.environ["GLOO_SOCKET_IFNAME"]
    if os.environ.get("LOCAL_WORLD_SIZE") != os.environ.get("WORLD_SIZE"):
        return None
    names = {name for _, name in socket.if_nameindex()}
    loopback = next((n for n in ("lo", "lo0") if n in names), None)
    if loopback is not None:
        os.environ["GLOO_SOCKET_IFNAME"] = loopback
    return loopback


def init_from_env(timeout: timedelta | None = None) -> bool:
    """Join the process group `torchrun` describes (WORLD_SIZE > 1); returns whether it did.

    timeout: how long a collective, the rendezvous included, may wait (torch's default when None).
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or is_distributed():
        return is_distributed()
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "gloo":
        bind_gloo_to_loopback_on_one_machine()
    dist.init_process_group(backend, timeout=timeout)
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return True


def leave() -> None:
    """Leave the process group when in one: every rank waits for the others, then tears down.

    destroy_process_group is meant to be called by all ranks together; a rank that tears down while
    a peer still talks to it can hang (pytorch/pytorch#75097).
    """
    if is_distributed():
        dist.barrier()
        dist.destroy_process_group()


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """Concatenate x (B, ...) from every rank in rank order; gradients flow back to each owner.

    torch's functional collective (autograd-aware since 2.9; `torch.distributed.nn.functional.all_gather`,
    the public one, warns that it is deprecated in its favour).
    """
    return funcol.all_gather_single(x.contiguous(), 0, dist.group.WORLD).wait()  # (W*B, ...)


def siglip_loss_distributed(img: torch.Tensor, txt: torch.Tensor, logit_scale: torch.Tensor,
                            logit_bias: torch.Tensor) -> torch.Tensor:
    """Rank-local SigLIP loss against all ranks' texts; equal local batch sizes required."""
    if not is_distributed():
        return siglip_loss(img, txt, logit_scale, logit_bias)
    rank, _ = rank_and_world()
    all_txt = gather_with_grad(txt)  # (W*B, E)
    return siglip_pair_sum(img, all_txt, logit_scale, logit_bias, positive_offset=rank * img.shape[0]) / img.shape[0]
