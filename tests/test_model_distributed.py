"""The SigLIP loss across 2 gloo processes (DDP) equals one process on the same global batch."""
import math
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from model.distributed import siglip_loss_distributed
from model.losses import siglip_loss

B_LOCAL, WORLD, E_IN, E = 3, 2, 7, 5


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
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD)
    model = nn.parallel.DistributedDataParallel(Pair())
    xi, xt = _data()
    sl = slice(rank * B_LOCAL, (rank + 1) * B_LOCAL)
    img, txt = model(xi[sl], xt[sl])
    loss = siglip_loss_distributed(img, txt, model.module.t, model.module.b)
    loss.backward()
    mean_loss = loss.detach().clone()
    dist.all_reduce(mean_loss)
    torch.save({"loss": mean_loss / WORLD, "grads": {n: p.grad for n, p in model.module.named_parameters()}},
               os.path.join(out, f"rank{rank}.pt"))
    dist.destroy_process_group()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_siglip_matches_single_process(tmp_path):
    mp.spawn(_worker, args=(_free_port(), str(tmp_path)), nprocs=WORLD, join=True)
    model = Pair()
    xi, xt = _data()
    img, txt = model(xi, xt)
    loss = siglip_loss(img, txt, model.t, model.b)
    loss.backward()
    for rank in range(WORLD):
        got = torch.load(tmp_path / f"rank{rank}.pt")
        assert torch.allclose(got["loss"], loss.detach(), atol=1e-6)
        for name, p in model.named_parameters():
            assert torch.allclose(got["grads"][name], p.grad, atol=1e-6), name
