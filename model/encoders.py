"""Volume and text encoders, and RadFinder: both encoders with projections into one space."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from model.config import LUNG_THRESHOLD_HU, RadFinderConfig


def _check_positive(**kwargs: int) -> None:
    for name, value in kwargs.items():
        if int(value) < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")


class SlabStem(nn.Module):
    """2D conv stem over one slab: the slab's slices are the input channels."""

    def __init__(self, slab_slices: int, channels: tuple[int, ...], out_width: int, pool: str = "mean"):
        super().__init__()
        if pool not in ("mean", "meanmax"):
            raise ValueError(f"pool must be 'mean' or 'meanmax', got {pool!r}")
        self.pool = pool
        _check_positive(slab_slices=slab_slices, out_width=out_width, stages=len(channels))
        layers: list[nn.Module] = []
        cin = slab_slices
        for c in channels:
            layers += [
                nn.Conv2d(cin, c, 3, stride=2, padding=1), nn.GroupNorm(min(8, c), c), nn.GELU(),
                nn.Conv2d(c, c, 3, padding=1), nn.GroupNorm(min(8, c), c), nn.GELU(),
            ]
            cin = c
        self.body = nn.Sequential(*layers)
        self.out = nn.Linear(cin * (2 if pool == "meanmax" else 1), out_width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (N, slab_slices, H, W) -> (N, out_width)
        h = self.body(x)
        if self.pool == "meanmax":  # the max keeps a small finding's response that the mean dilutes
            return self.out(torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1))
        return self.out(h.mean(dim=(2, 3)))


class DensityBands(nn.Module):
    """Per-slab tissue histogram: the fraction of voxels between consecutive `edges` (in the [0, 1] input scale),
    log-scaled to [0, 1] so that a few calcified or air voxels count: (N, s, H, W) -> (N, len(edges) + 1).
    Counted edge by edge (one comparison and sum each), not by bucketize and scatter: no index tensor the size of
    the batch (2.4 GB at 64 x 128 x 192 x 192)."""

    def __init__(self, edges: tuple[float, ...]):
        super().__init__()
        if not edges or any(b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError(f"edges must be a non-empty increasing sequence, got {edges}")
        self.edges = tuple(float(e) for e in edges)
        self.bands = len(edges) + 1

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """With `mask` (bool, x's shape): the histogram of the masked voxels alone, then the masked fraction of the
        slab: (N, len(edges) + 2); a slab with nothing masked has all-zero fractions."""
        flat = x.detach().reshape(x.shape[0], -1)  # (N, V)
        keep = None if mask is None else mask.reshape(x.shape[0], -1)  # (N, V)
        below = torch.stack([((flat <= e) if keep is None else (flat <= e) & keep).sum(1) for e in self.edges],
                            1).float()  # (N, K): voxels at or below each edge
        total = below.new_full((below.shape[0], 1), float(flat.shape[1])) if keep is None else \
            keep.sum(1, keepdim=True).float()  # (N, 1): voxels counted
        counts = torch.diff(below, dim=1, prepend=below.new_zeros(below.shape[0], 1), append=total)  # (N, K + 1)
        frac = counts / total.clamp_min(1.0)
        if keep is not None:
            frac = torch.cat([frac, total / flat.shape[1]], dim=1)  # (N, K + 2): and how much of the slab is masked
        return torch.log1p(1000.0 * frac) / math.log1p(1000.0)


def _dilate(m: torch.Tensor, r: int) -> torch.Tensor:
    """Binary dilation of (N, H, W) bool masks by a (2r + 1)^2 square; outside the image counts as False."""
    for dim in (1, 2):  # separable: along H, then along W
        out = m.clone()
        n = m.shape[dim]
        for d in range(1, min(r, n - 1) + 1):
            out.narrow(dim, d, n - d).logical_or_(m.narrow(dim, 0, n - d))
            out.narrow(dim, 0, n - d).logical_or_(m.narrow(dim, d, n - d))
        m = out
    return m


@torch.no_grad()
def lung_field(x: torch.Tensor, threshold: float, close_px: int) -> torch.Tensor:
    """Bool mask of the lung field, slice by slice: (N, s, H, W) -> (N, s, H, W).

    Voxels below `threshold` that the border's air cannot reach through other such voxels (the air the body
    encloses: lungs and airways), then closed with a (2 `close_px` + 1)^2 square so that lesions up to about that
    size inside the lung count as lung field. A lung cut by the image border counts as outside air."""
    N, s, H, W = x.shape
    low = x.detach().reshape(N * s, H, W) < threshold  # (N*s, H, W)
    # seed: low voxels with a straight run of low voxels to the border along their row or column (all the air round
    # a convex body), then grow through low voxels until nothing changes (geodesic reconstruction: pockets)
    lowf = low.to(torch.uint8)
    outside = torch.zeros_like(low)
    for dim in (1, 2):
        outside |= lowf.cumprod(dim).bool() | lowf.flip(dim).cumprod(dim).flip(dim).bool()
    for _ in range(H * W):
        grown = _dilate(outside, 1) & low
        if torch.equal(grown, outside):
            break
        outside = grown
    field = low & ~outside
    if close_px > 0:  # dilation, then erosion as the complement's dilation
        field = ~_dilate(~_dilate(field, close_px), close_px)
    return field.reshape(N, s, H, W)


class AttentionPool(nn.Module):
    """One learned query attending over the valid positions."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.query = nn.Parameter(torch.randn(1, 1, width) * 0.02)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        # x: (B, P, W), valid: (B, P) bool -> (B, W)
        q = self.query.expand(x.shape[0], -1, -1)
        out, _ = self.attn(q, x, x, key_padding_mask=~valid, need_weights=False)
        return out[:, 0]


def _transformer(width: int, heads: int, layers: int) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(width, heads, 4 * width, dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=True)
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


class VolumeEncoder(nn.Module):
    """(B, D, H, W) in [0, 1] -> global feature (B, W) and one feature per depth position (B, P, W).

    The global feature is attention pooling over the depth transformer's output plus a projected max over depth
    of the slab features, plus (with `band_edges`) the projected mean and max over depth of the slabs' tissue
    histograms (`DensityBands`), and (with `lung_close_px`) of the same histograms over each slab's lung field
    (`lung_field`: voxels below `lung_threshold` that the body encloses)."""

    def __init__(self, crop_shape: tuple[int, int, int], slab_slices: int, stem_channels: tuple[int, ...],
                 width: int, layers: int, heads: int, max_positions: int, stem_pool: str = "mean",
                 band_edges: tuple[float, ...] = (), lung_threshold: float = 0.3, lung_close_px: int = 0):
        super().__init__()
        _check_positive(slab_slices=slab_slices, width=width, layers=layers, heads=heads, max_positions=max_positions)
        if len(crop_shape) != 3:
            raise ValueError(f"crop_shape must be (D, H, W), got {crop_shape}")
        if crop_shape[0] % slab_slices:
            raise ValueError(f"crop depth {crop_shape[0]} is not divisible by slab_slices {slab_slices}")
        if crop_shape[0] // slab_slices > max_positions:
            raise ValueError(f"{crop_shape[0] // slab_slices} depth positions exceed max_positions {max_positions}")
        if width % heads:
            raise ValueError(f"width {width} must be divisible by heads {heads}")
        self.crop_shape = tuple(crop_shape)
        self.slab = slab_slices
        self.stem = SlabStem(slab_slices, stem_channels, width, stem_pool)
        # and the tissue histogram (mean and max over depth of the slabs' bands) for the global feature only: density
        # defines many findings (emphysema, calcium, ground glass) that a small stem learns slowly from few volumes
        self.bands = DensityBands(band_edges) if band_edges else None
        self.band_proj = nn.Linear(2 * self.bands.bands, width) if band_edges else None
        # and (with `lung_close_px`) the same histogram over the lung field alone, plus the field's share of the slab
        if lung_close_px and not band_edges:
            raise ValueError("lung_close_px needs band_edges")
        if lung_close_px < 0 or not 0 < lung_threshold < 1:
            raise ValueError(f"lung_close_px must be >= 0 and lung_threshold in (0, 1), got {lung_close_px}, {lung_threshold}")
        self.lung = (lung_threshold, int(lung_close_px)) if lung_close_px else None
        self.lung_proj = nn.Linear(2 * (self.bands.bands + 1), width) if lung_close_px else None
        self.pos = nn.Parameter(torch.randn(1, max_positions, width) * 0.02)
        self.blocks = _transformer(width, heads, layers)
        self.norm = nn.LayerNorm(width)
        self.pool = AttentionPool(width, heads)
        # and a max over depth of the slab features: "is it anywhere in the volume" survives for a finding seen at one
        # or two positions, which attention starting uniform dilutes (Medical material: test AUROC 1.0 vs 0.57-0.88)
        self.max_proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.ndim != 4 or tuple(x.shape[1:]) != self.crop_shape:
            raise ValueError(f"expected volumes of shape (B, {', '.join(map(str, self.crop_shape))}), got {tuple(x.shape)}")
        B, D, H, W = x.shape
        P = D // self.slab
        if valid.shape != (B, P):
            raise ValueError(f"valid mask must be (B, P) = ({B}, {P}), got {tuple(valid.shape)}")
        slabs = x.reshape(B * P, self.slab, H, W)  # (B*P, s, H, W): consecutive slices of one position
        s = self.stem(slabs).reshape(B, P, -1)  # (B, P, width)
        h = self.norm(self.blocks(s + self.pos[:, :P], src_key_padding_mask=~valid))  # (B, P, width)
        s_max = s.masked_fill(~valid[..., None], torch.finfo(s.dtype).min).amax(1)  # (B, width): real positions only
        g = self.pool(h, valid) + self.max_proj(s_max)  # (B, width)
        if self.bands is not None:
            g = g + self.band_proj(_over_depth(self.bands(slabs).reshape(B, P, -1), valid))  # bands (B, P, K+1)
        if self.lung is not None:  # the lung field's bands and share, (B, P, K+2)
            g = g + self.lung_proj(_over_depth(self.bands(slabs, lung_field(slabs, *self.lung)).reshape(B, P, -1), valid))
        return g, h


def _over_depth(d: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Histogram features (B, P, F) -> their mean and max over the real positions, (B, 2F)."""
    d_max = (d * valid[..., None]).amax(1)  # fractions are >= 0, so masked positions (0) never win
    return torch.cat([masked_mean(d, valid), d_max], dim=1)


class TextEncoder(nn.Module):
    """Token ids (N, L) and mask (N, L) -> mean-pooled feature (N, width)."""

    def __init__(self, vocab_size: int, width: int, layers: int, heads: int, max_tokens: int):
        super().__init__()
        _check_positive(vocab_size=vocab_size, width=width, layers=layers, heads=heads, max_tokens=max_tokens)
        if width % heads:
            raise ValueError(f"width {width} must be divisible by heads {heads}")
        self.max_tokens = max_tokens
        self.embed = nn.Embedding(vocab_size, width)
        self.pos = nn.Parameter(torch.randn(1, max_tokens, width) * 0.02)
        self.blocks = _transformer(width, heads, layers)
        self.norm = nn.LayerNorm(width)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if ids.ndim != 2 or ids.shape != mask.shape:
            raise ValueError(f"ids and mask must both be (N, L), got {tuple(ids.shape)} and {tuple(mask.shape)}")
        if ids.shape[1] > self.max_tokens:
            raise ValueError(f"sequence length {ids.shape[1]} exceeds max_tokens {self.max_tokens}")
        h = self.embed(ids) + self.pos[:, : ids.shape[1]]  # (N, L, width)
        h = self.norm(self.blocks(h, src_key_padding_mask=~mask))
        return masked_mean(h, mask)


def _unit(cfg: RadFinderConfig, hu: float) -> float:
    """HU -> the [0, 1] input scale of `hu_window`."""
    return (hu - cfg.hu_window[0]) / (cfg.hu_window[1] - cfg.hu_window[0])


def masked_mean(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over real tokens: h (N, L, D), mask (N, L) True on real tokens -> (N, D)."""
    m = mask.unsqueeze(-1).to(h.dtype)  # (N, L, 1)
    return (h * m).sum(1) / m.sum(1).clamp_min(1.0)


class RadFinder(nn.Module):
    """Volume and text encoders projected to one L2-normalised space, with SigLIP's t and b."""

    def __init__(self, cfg: RadFinderConfig, vocab_size: int, text_model_dir: str | None = None):
        """`text_model_dir`: where a checkpoint keeps its Hugging Face text model's config (weights come later)."""
        super().__init__()
        self.cfg = cfg
        self.volume = VolumeEncoder(cfg.crop_shape, cfg.slab_slices, cfg.stem_channels, cfg.vision_width,
                                    cfg.vision_layers, cfg.vision_heads, cfg.max_depth_positions, cfg.stem_pool,
                                    tuple(_unit(cfg, v) for v in cfg.hu_bands), _unit(cfg, LUNG_THRESHOLD_HU),
                                    max(1, round(cfg.lung_bands_close_mm / cfg.spacing_mm[1])) if cfg.lung_bands_close_mm else 0)
        if cfg.text_model:
            from model.hf_text import HFTextEncoder

            self.text = HFTextEncoder(text_model_dir or cfg.text_model, pretrained=text_model_dir is None)
            text_width = self.text.width
        else:
            self.text = TextEncoder(vocab_size, cfg.text_width, cfg.text_layers, cfg.text_heads,
                                    max(cfg.report_tokens, cfg.snippet_tokens))
            text_width = cfg.text_width
        self.volume_proj = nn.Linear(cfg.vision_width, cfg.embed_dim, bias=False)
        self.depth_proj = nn.Linear(cfg.vision_width, cfg.embed_dim, bias=False)
        self.text_proj = nn.Linear(text_width, cfg.embed_dim, bias=False)
        # centring of the volume embeddings over the batch (running statistics at evaluation): chests share most of
        # their anatomy, so uncentred volume embeddings start nearly identical and the losses' gradients cancel
        self.volume_norm = nn.BatchNorm1d(cfg.embed_dim, affine=False) if cfg.volume_embed_norm == "batch" else None
        self.depth_norm = nn.BatchNorm1d(cfg.embed_dim, affine=False) if cfg.volume_embed_norm == "batch" else None
        self.logit_scale = nn.Parameter(torch.tensor(float(cfg.init_logit_scale)))
        self.logit_bias = nn.Parameter(torch.tensor(float(cfg.init_logit_bias)))

    def encode_volume(self, x: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised global (B, E) and depth (B, P, E) embeddings."""
        g, h = self.volume(x, valid)
        g, h = self.volume_proj(g), self.depth_proj(h)
        if self.volume_norm is not None:
            g = self.volume_norm(g)
            flat = h.reshape(-1, h.shape[-1])
            if self.training:  # statistics over the real depth positions only
                m = valid.reshape(-1)
                normed = torch.zeros_like(flat)
                normed[m] = self.depth_norm(flat[m])
                h = normed.reshape(h.shape)
            else:
                h = self.depth_norm(flat).reshape(h.shape)
        return F.normalize(g, dim=-1), F.normalize(h, dim=-1)

    def encode_text(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Normalised text embeddings (N, E)."""
        return F.normalize(self.text_proj(self.text(ids, mask)), dim=-1)

    def forward(self, volume: torch.Tensor, valid: torch.Tensor, report_ids: torch.Tensor, report_mask: torch.Tensor,
                prompt_ids: torch.Tensor, prompt_mask: torch.Tensor, snippet_ids: torch.Tensor,
                snippet_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every embedding one training step needs, in one call (so DDP sees all parameters used)."""
        img, depth = self.encode_volume(volume, valid)
        return {"img": img, "depth": depth, "report": self.encode_text(report_ids, report_mask),
                "prompt": self.encode_text(prompt_ids, prompt_mask),
                "snippet": self.encode_text(snippet_ids, snippet_mask) if snippet_ids.shape[0] else img[:0]}
