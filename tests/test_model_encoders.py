"""Encoder shapes, the depth resolution switch, tokenizer round trip and argument checks."""
import pytest
import torch

from model.config import RadFinderConfig, tiny
from model.encoders import RadFinder, TextEncoder, VolumeEncoder
from model.tokenizer import ReportTokenizer

torch.set_num_threads(1)

CORPUS = ["3 mm nodule in the right upper lobe.", "Small left pleural effusion.", "No pericardial effusion.",
          "Emphysema in both upper lobes.", "Hiatal hernia."] * 4


@pytest.mark.parametrize("feature_mm, positions", [(12.0, 4), (6.0, 8)])
def test_volume_encoder_shapes_at_12_and_6_mm(feature_mm, positions):
    cfg = tiny(crop_shape=(16, 32, 32), spacing_mm=(3.0, 1.5, 1.5), feature_mm=feature_mm, stem_channels=(8, 16))
    model = RadFinder(cfg, vocab_size=100)
    x = torch.rand(2, 16, 32, 32)
    valid = torch.ones(2, positions, dtype=torch.bool)
    valid[1, -1] = False
    g, d = model.encode_volume(x, valid)
    assert g.shape == (2, cfg.embed_dim) and d.shape == (2, positions, cfg.embed_dim)
    assert torch.allclose(g.norm(dim=-1), torch.ones(2), atol=1e-5)


def test_global_feature_ignores_padded_positions_and_keeps_a_single_bright_slab():
    torch.manual_seed(0)
    enc = VolumeEncoder((16, 32, 32), 4, (8,), 16, 1, 2, 8).eval()
    x = torch.rand(1, 16, 32, 32) * 0.5
    valid = torch.tensor([[True, True, True, False]])
    noisy = x.clone()
    noisy[:, 12:] = 1.0  # the padded position changes
    with torch.no_grad():
        g, _ = enc(x, valid)
        assert torch.allclose(g, enc(noisy, valid)[0], atol=1e-6)  # attention and max both mask it
        bright = x.clone()
        bright[:, 4:8, 10:14, 10:14] = 1.0  # a small finding at one real position
        s = enc.stem(bright.reshape(4, 4, 32, 32)).reshape(1, 4, -1)
        want = enc.pool(enc.norm(enc.blocks(s + enc.pos[:, :4], src_key_padding_mask=~valid)), valid) \
            + enc.max_proj(s[:, :3].amax(1))  # plain reference: max over the three real positions
        assert torch.allclose(enc(bright, valid)[0], want, atol=1e-5)


def test_volume_encoder_rejects_wrong_shape_and_mask():
    enc = VolumeEncoder((16, 32, 32), 4, (8,), 16, 1, 2, 8)
    with pytest.raises(ValueError, match="expected volumes of shape"):
        enc(torch.rand(1, 12, 32, 32), torch.ones(1, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="valid mask"):
        enc(torch.rand(1, 16, 32, 32), torch.ones(1, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="not divisible"):
        VolumeEncoder((15, 32, 32), 4, (8,), 16, 1, 2, 8)
    with pytest.raises(ValueError, match="heads"):
        VolumeEncoder((16, 32, 32), 4, (8,), 15, 1, 2, 8)


def test_text_encoder_ignores_padding():
    enc = TextEncoder(50, 16, 1, 2, 8).eval()
    ids = torch.tensor([[1, 5, 7, 0, 0, 0]])
    a = enc(ids, ids != 0)
    ids2 = torch.tensor([[1, 5, 7, 9, 9, 9]])
    b = enc(ids2, torch.tensor([[True, True, True, False, False, False]]))
    assert torch.allclose(a, b, atol=1e-5)
    with pytest.raises(ValueError, match="exceeds max_tokens"):
        enc(torch.zeros(1, 9, dtype=torch.long), torch.ones(1, 9, dtype=torch.bool))


def test_config_checks_and_round_trip(tmp_path):
    with pytest.raises(ValueError, match="whole multiple"):
        RadFinderConfig(feature_mm=10.0)
    with pytest.raises(ValueError, match="divisible"):
        RadFinderConfig(crop_shape=(130, 192, 192))
    with pytest.raises(ValueError, match="unknown config keys"):
        RadFinderConfig.from_dict({"nope": 1})
    with pytest.raises(ValueError, match="augment_zoom"):
        RadFinderConfig(augment_zoom=1.0)  # a scale of 1 - 1 = 0 would divide by zero
    with pytest.raises(ValueError, match="augment_rotate_deg"):
        RadFinderConfig(augment_rotate_deg=-5.0)
    cfg = tiny(feature_mm=6.0)
    assert RadFinderConfig.from_dict(cfg.to_dict()) == cfg
    p = tmp_path / "c.yaml"
    p.write_text("lr: 0.01\nsteps: 7\n")
    loaded = RadFinderConfig.load(p, base=cfg)
    assert loaded.lr == 0.01 and loaded.steps == 7 and loaded.feature_mm == 6.0


def test_tokenizer_trains_saves_and_pads(tmp_path):
    tok = ReportTokenizer.train(CORPUS, vocab_size=200)
    ids, mask = tok.encode(["Small nodule.", "No pericardial effusion in the right upper lobe."], max_len=6)
    assert ids.shape == (2, 6) and mask[0].sum() < 6 and mask[1].all()
    tok.save(tmp_path / "tok.json")
    again = ReportTokenizer.load(tmp_path / "tok.json")
    assert torch.equal(again.encode(["Small nodule."], 6)[0], ids[:1])
    with pytest.raises(ValueError, match="vocab_size"):
        ReportTokenizer.train(CORPUS, vocab_size=10)


def test_meanmax_stem_and_batch_centred_volume_embeddings():
    cfg = tiny(crop_shape=(16, 32, 32), spacing_mm=(3.0, 1.5, 1.5), stem_channels=(8, 16), stem_pool="meanmax",
               volume_embed_norm="batch")
    model = RadFinder(cfg, vocab_size=100)
    x = torch.rand(3, 16, 32, 32)
    valid = torch.ones(3, 4, dtype=torch.bool)
    valid[2, -1] = False
    g, d = model.encode_volume(x, valid)  # training mode: batch statistics
    assert g.shape == (3, cfg.embed_dim) and d.shape == (3, 4, cfg.embed_dim)
    assert torch.allclose(g.norm(dim=-1), torch.ones(3), atol=1e-5)
    model.eval()  # running statistics: one volume alone works
    g1, _ = model.encode_volume(x[:1], valid[:1])
    assert torch.isfinite(g1).all()
    with pytest.raises(ValueError, match="prompt_templates"):
        tiny(prompt_templates="some")
    with pytest.raises(ValueError, match="pool"):
        RadFinder(tiny(stem_pool="median"), vocab_size=100)


def test_masked_mean_ignores_padding_and_an_empty_row_is_zero():
    import torch

    from model.encoders import masked_mean

    h = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]], [[5.0, 5.0], [7.0, 7.0], [9.0, 9.0]]])
    mask = torch.tensor([[True, True, False], [False, False, False]])
    assert masked_mean(h, mask).tolist() == [[2.0, 3.0], [0.0, 0.0]]


def test_density_bands_are_log_scaled_voxel_fractions_per_slab():
    import math

    import numpy as np

    from model.encoders import DensityBands

    hu = torch.full((2, 2, 8, 8), -850.0)  # lung everywhere
    hu[0, 0, :2, :] = -980.0  # 16 of 128 voxels emphysematous in slab 0
    hu[1, 1, 0, 0] = 1000.0  # one calcified voxel in slab 1
    edges_hu = (-950.0, -500.0, 130.0)
    x = (hu + 1000.0) / 2000.0  # the model's [0, 1] input scale
    got = DensityBands(tuple((e + 1000.0) / 2000.0 for e in edges_hu))(x)
    for n in range(2):  # the plain way: numpy's histogram over the same edges
        counts, _ = np.histogram(hu[n].numpy(), bins=[-1e9, *edges_hu, 1e9])
        np.testing.assert_allclose(got[n].numpy(), np.log1p(1000.0 * counts / 128) / math.log1p(1000.0), rtol=1e-5)
    assert got[1, 3] > 0.3  # one voxel in 128 still counts
    with pytest.raises(ValueError, match="increasing"):
        DensityBands((0.5, 0.2))
    with pytest.raises(ValueError, match="hu_bands"):
        RadFinderConfig(hu_bands=(-400.0, -900.0))
    with pytest.raises(ValueError, match="hu_bands"):
        RadFinderConfig(hu_bands=(-1200.0,))


def test_density_bands_reach_the_global_feature_only():
    torch.manual_seed(0)
    cfg = tiny(crop_shape=(16, 32, 32), spacing_mm=(3.0, 1.5, 1.5), stem_channels=(8, 16), hu_bands=(-950.0, 130.0))
    assert RadFinderConfig.from_dict(cfg.to_dict()) == cfg
    enc = RadFinder(cfg, vocab_size=100).volume.eval()
    valid = torch.ones(1, 4, dtype=torch.bool)
    valid[0, -1] = False  # slices 12-15 are padding
    x = torch.rand(1, 16, 32, 32) * 0.4 + 0.05  # (-900, -100) HU: the middle band
    x[0, 0, :4, :4] = 0.9  # a little calcium in the first slab
    x[0, 12:, :8, :8] = 0.01  # air on the padding only
    with torch.no_grad():
        g, h = enc(x, valid)
        # by hand: the slabs' bands, mean and max over the three real positions, projected
        bands = enc.bands(x.reshape(4, 4, 32, 32))[:3]  # (3 real positions, 3 bands)
        assert bands[:, 0].sum() == 0 and bands[0, 2] > 0 and bands[1:, 2].sum() == 0  # padding's air not counted
        want = enc.band_proj(torch.cat([bands.mean(0), bands.amax(0)])[None])
        enc.band_proj.weight.zero_()
        enc.band_proj.bias.zero_()
        g_without, h_without = enc(x, valid)
    torch.testing.assert_close(g - g_without, want)
    torch.testing.assert_close(h, h_without)  # depth features never see the bands
    x4 = torch.rand(2, 16, 32, 32, requires_grad=True)
    g, d = RadFinder(cfg, vocab_size=100).encode_volume(x4, torch.ones(2, 4, dtype=torch.bool))
    g.sum().backward()
    assert torch.isfinite(x4.grad).all()


def _lung_field_reference(hu, threshold_hu: float, close_px: int):
    """The plain way, one slice at a time: flood fill from the border through low pixels (a queue), then closing: the
    max, then the min, over each pixel's window (pixels outside the image ignored)."""
    import collections

    import numpy as np

    out = np.zeros(hu.shape, bool)
    for n in np.ndindex(hu.shape[:-2]):
        low = hu[n] < threshold_hu
        H, W = low.shape
        seen = np.zeros_like(low)
        queue = collections.deque((i, j) for i in range(H) for j in range(W)
                                  if (i in (0, H - 1) or j in (0, W - 1)) and low[i, j])
        for i, j in queue:
            seen[i, j] = True
        while queue:
            i, j = queue.popleft()
            for a in (-1, 0, 1):
                for b in (-1, 0, 1):
                    p, q = i + a, j + b
                    if 0 <= p < H and 0 <= q < W and low[p, q] and not seen[p, q]:
                        seen[p, q] = True
                        queue.append((p, q))
        field = low & ~seen

        def window(m, agg):
            return np.array([[agg(m[max(i - close_px, 0):i + close_px + 1, max(j - close_px, 0):j + close_px + 1])
                              for j in range(W)] for i in range(H)])

        out[n] = window(window(field, np.max), np.min) if close_px else field
    return out


def _chest_slice():
    """HU slice 40 x 48: air, a soft-tissue body with two lungs, a nodule in the right lung, and a bent notch of air
    reaching into the body from outside (outside air that no straight line from the border finds)."""
    import numpy as np

    yy, xx = np.mgrid[:40, :48]
    hu = np.full((40, 48), -1000.0)
    hu[((yy - 20) / 16) ** 2 + ((xx - 24) / 20) ** 2 <= 1] = 40.0
    for cx in (15, 33):
        hu[((yy - 20) / 11) ** 2 + ((xx - cx) / 7) ** 2 <= 1] = -860.0
    hu[18:21, 13:16] = 35.0  # nodule, 3 x 3 pixels inside the right lung
    hu[4:6, 24] = -1000.0  # notch: down from the body's top edge...
    hu[5, 24:28] = -1000.0  # ...then sideways, under soft tissue
    return hu


def test_lung_field_matches_a_flood_fill_and_closing_done_the_plain_way():
    import numpy as np

    from model.encoders import lung_field

    hu = _chest_slice()
    hu_cut = hu.copy()
    hu_cut[:, 40:] = -860.0  # a lung cut by the image border: its air reaches the border, so it is outside
    rng = np.random.default_rng(0)
    blobs = np.where(rng.random((3, 40, 48)) < 0.45, -900.0, 50.0)  # random mazes
    stack = np.concatenate([hu[None], hu_cut[None], blobs])[None]  # (1, 5, 40, 48): one 5-slice slab
    x = torch.from_numpy((stack + 1000.0) / 2000.0).float()
    for close_px in (0, 1, 2):
        got = lung_field(x, (-400.0 + 1000.0) / 2000.0, close_px).numpy()
        np.testing.assert_array_equal(got, _lung_field_reference(stack, -400.0, close_px))
    got = lung_field(x, 0.3, 2)[0, 0].numpy()
    assert got[19, 14] and got[20, 33]  # the nodule (closed over) and the left lung
    assert not got[0, 0] and not got[5, 26] and not got[20, 4]  # outside air, the bent notch, the body wall
    assert not lung_field(x, 0.3, 0)[0, 0, 19, 14]  # without closing the nodule is not lung field


def test_density_bands_over_a_mask_count_the_masked_voxels_and_the_masked_share():
    import math

    import numpy as np

    from model.encoders import DensityBands

    hu = torch.full((2, 2, 8, 8), 40.0)  # soft tissue...
    hu[:, :, 2:6, 2:6] = -850.0  # ...round a lung of 32 voxels per slab
    hu[0, 0, 2, 2] = 30.0  # one soft-tissue voxel in the lung of slab 0
    mask = torch.zeros(2, 2, 8, 8, dtype=torch.bool)
    mask[0, :, 2:6, 2:6] = True  # slab 1 has no lung field
    edges_hu = (-500.0, 0.0)
    bands = DensityBands(tuple((e + 1000.0) / 2000.0 for e in edges_hu))
    got = bands((hu + 1000.0) / 2000.0, mask)
    counts, _ = np.histogram(hu[0][mask[0]].numpy(), bins=[-1e9, *edges_hu, 1e9])
    want = np.log1p(1000.0 * np.array([*counts / 32, 32 / 128])) / math.log1p(1000.0)
    np.testing.assert_allclose(got[0].numpy(), want, rtol=1e-5)
    assert got[1].tolist() == [0.0, 0.0, 0.0, 0.0]  # nothing masked: zero fractions, zero share


def test_lung_bands_reach_the_global_feature_only_and_are_checked():
    import math

    torch.manual_seed(0)
    cfg = tiny(crop_shape=(8, 40, 48), spacing_mm=(3.0, 1.5, 1.5), stem_channels=(8, 16), hu_bands=(-950.0, 130.0),
               lung_bands_close_mm=3.0)
    assert RadFinderConfig.from_dict(cfg.to_dict()) == cfg
    enc = RadFinder(cfg, vocab_size=100).volume.eval()
    assert enc.lung == (0.3, 2)  # -400 HU on the [0, 1] scale; 3 mm at 1.5 mm pixels
    import numpy as np

    slab = np.stack([_chest_slice()] * 8)  # (8, 40, 48)
    x = torch.from_numpy((slab[None] + 1000.0) / 2000.0).float()
    valid = torch.ones(1, 2, dtype=torch.bool)
    with torch.no_grad():
        g, h = enc(x, valid)
        from model.encoders import lung_field

        slabs = x.reshape(2, 4, 40, 48)
        d = enc.bands(slabs, lung_field(slabs, 0.3, 2))  # (2 positions, 3 bands + the share)
        share = torch.expm1(d[:, -1] * math.log1p(1000.0)) / 1000.0  # back from the log scale
        assert ((share > 0.22) & (share < 0.28)).all()  # two 22 x 14 pixel lungs: about a quarter of 40 x 48
        want = enc.lung_proj(torch.cat([d.mean(0), d.amax(0)])[None])
        enc.lung_proj.weight.zero_()
        enc.lung_proj.bias.zero_()
        g_without, h_without = enc(x, valid)
    torch.testing.assert_close(g - g_without, want)
    torch.testing.assert_close(h, h_without)
    with pytest.raises(ValueError, match="lung_bands_close_mm"):
        tiny(lung_bands_close_mm=18.0)  # no hu_bands
    with pytest.raises(ValueError, match="lung_bands_close_mm"):
        tiny(hu_bands=(-950.0,), lung_bands_close_mm=-1.0)
    with pytest.raises(ValueError, match="lung_bands_close_mm"):
        tiny(hu_bands=(0.0,), hu_window=(-300.0, 1000.0), lung_bands_close_mm=18.0)  # -400 HU outside the window
    with pytest.raises(ValueError, match="lung_close_px"):
        VolumeEncoder((16, 32, 32), 4, (8,), 16, 1, 2, 8, lung_close_px=2)  # no band edges
