"""The SigLIP loss across 2 gloo processes (DDP) equals one process on the same global batch.

The workers join through `init_from_env` with the variables torchrun sets, as `radmine train` does.
The run has a deadline: a rendezvous that cannot connect fails the test in about a minute, never hangs it.
"""
import math
import os
import socket
import time
from datetime import timedelta

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from model.distributed import bind_gloo_to_loopback_on_one_machine, init_from_env, leave, siglip_loss_distributed
from model.losses import siglip_loss

B_LOCAL, WORLD, E_IN, E = 3, 2, 7, 5
DEADLINE_S = 120


class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.img = nn.Linear(E_IN, E)
        self.txt = nn.Linear(E_IN, E)
        self.t = nn.Parameter(torch.tensor(math.log(10.0)))
        self.b = nn.Parameter(torch.tensor(-10.0))

    def forward(self, xi, xt):
        return (nn.functional.normalize(self.img(xi), dim=-1), nn.functional.normalize(self.txt(xt), dim=-1))


def _data():
    g = torch.Generator().manual_seed(1)
    return torch.randn(B_LOCAL * WORLD, E_IN, generator=g), torch.randn(B_LOCAL * WORLD, E_IN, generator=g)


def _worker(rank, port, out):
    torch.set_num_threads(1)
    os.environ.pop("GLOO_SOCKET_IFNAME", None)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(WORLD), LOCAL_WORLD_SIZE=str(WORLD))
    assert init_from_env(timeout=timedelta(seconds=60))
    model = nn.parallel.DistributedDataParallel(Pair())
    xi, xt = _data()
    sl = slice(rank * B_LOCAL, (rank + 1) * B_LOCAL)
    img, txt = model(xi[sl], xt[sl])
    loss = siglip_loss_distributed(img, txt, model.module.t, model.module.b)
    loss.backward()
    mean_loss = loss.detach().clone()
    dist.all_reduce(mean_loss)
    grads = {n: p.grad for n, p in model.module.named_parameters()}
    path = os.path.join(out, f"rank{rank}.pt")
    torch.save({"loss": mean_loss / WORLD, "ifname": os.environ.get("GLOO_SOCKET_IFNAME"), "grads": grads},
               path + ".part")
    os.replace(path + ".part", path)  # whole or absent: the parent reads it as soon as it appears
    leave()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill(ctx) -> None:
    for p in ctx.processes:
        p.kill()


def test_two_process_siglip_matches_single_process(tmp_path):
    ctx = mp.spawn(_worker, args=(_free_port(), str(tmp_path)), nprocs=WORLD, join=False, daemon=True)
    deadline = time.monotonic() + DEADLINE_S
    done = [tmp_path / f"rank{rank}.pt" for rank in range(WORLD)]
    # Wait for both results, not for the processes: in one full-suite run (tests/ on a fresh clone,
    # 2026-11-30) both workers wrote theirs and then never exited (at teardown), which once hung CI.
    while not all(p.exists() for p in done):
        if ctx.join(timeout=1):  # raises when a worker fails
            break
        if time.monotonic() > deadline:
            _kill(ctx)
            pytest.fail(f"the two gloo workers did not finish in {DEADLINE_S} s")
    if not ctx.join(timeout=10):
        _kill(ctx)
    model = Pair()
    xi, xt = _data()
    img, txt = model(xi, xt)
    loss = siglip_loss(img, txt, model.t, model.b)
    loss.backward()
    for rank in range(WORLD):
        got = torch.load(tmp_path / f"rank{rank}.pt")
        assert got["ifname"] in ("lo", "lo0")
        assert torch.allclose(got["loss"], loss.detach(), atol=1e-6)
        for name, p in model.named_parameters():
            assert torch.allclose(got["grads"][name], p.grad, atol=1e-6), name


@pytest.mark.parametrize("env, want", [
    ({"WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2"}, "lo"),  # every rank on this machine: loopback
    ({"WORLD_SIZE": "4", "LOCAL_WORLD_SIZE": "2"}, None),  # two machines: gloo resolves the host name
    ({"WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2", "GLOO_SOCKET_IFNAME": "eth7"}, "eth7"),  # the user's choice wins
])
def test_gloo_interface(monkeypatch, env, want):
    for name in ("WORLD_SIZE", "LOCAL_WORLD_SIZE", "GLOO_SOCKET_IFNAME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert bind_gloo_to_loopback_on_one_machine() == want
    assert os.environ.get("GLOO_SOCKET_IFNAME") == want
