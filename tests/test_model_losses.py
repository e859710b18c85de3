"""Each RadFinder loss against a direct, loop-by-loop reference computation, forward and backward."""
import math

import pytest
import torch
import torch.nn.functional as F

from model.losses import gaussian_depth_target, label_pos_weight, localization_loss, prompt_loss, siglip_loss


def _unit(*shape, seed):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(*shape, generator=g, dtype=torch.float64), dim=-1).requires_grad_(True)


def _sig(x):
    return 1.0 / (1.0 + math.exp(-x))


def test_siglip_matches_loop_reference_forward_and_backward():
    img, txt = _unit(5, 8, seed=0), _unit(5, 8, seed=1)
    t = torch.tensor(math.log(10.0), dtype=torch.float64, requires_grad=True)
    b = torch.tensor(-10.0, dtype=torch.float64, requires_grad=True)
    ref = 0.0
    for i in range(5):
        for j in range(5):
            z = 1.0 if i == j else -1.0
            logit = torch.exp(t) * (img[i] * txt[j]).sum() + b
            ref = ref - torch.log(torch.sigmoid(z * logit))
    ref = ref / 5
    got = siglip_loss(img, txt, t, b)
    assert torch.allclose(got, ref)
    g_ref = torch.autograd.grad(ref, (img, txt, t, b))
    g_got = torch.autograd.grad(siglip_loss(img, txt, t, b), (img, txt, t, b))
    for a, c in zip(g_got, g_ref):
        assert torch.allclose(a, c)


def test_siglip_rejects_mismatched_batches():
    with pytest.raises(ValueError, match="batch sizes differ"):
        siglip_loss(torch.zeros(3, 4), torch.zeros(2, 4), torch.tensor(0.0), torch.tensor(0.0))


def test_prompt_loss_matches_reference_with_masking_and_pos_weight():
    img, pos, neg = _unit(4, 6, seed=2), _unit(3, 6, seed=3), _unit(3, 6, seed=4)
    t = torch.tensor(math.log(10.0), dtype=torch.float64, requires_grad=True)
    b = torch.tensor(-10.0, dtype=torch.float64, requires_grad=True)
    targets = torch.tensor([[1, 0, -1], [0, 0, 1], [-1, 1, 0], [0, -1, 0]])
    pw = label_pos_weight(targets, cap=20.0)
    assert pw.tolist() == [2.0, 2.0, 2.0]  # label 0: 2 neg / 1 pos; label 1: 2/1; label 2: 2/1
    terms = []
    for i in range(4):
        for k in range(3):
            if targets[i, k] < 0:
                continue
            x = (torch.exp(t) * (img[i] @ pos[k]) + b) - (torch.exp(t) * (img[i] @ neg[k]) + b)
            y = float(targets[i, k])
            terms.append(-(pw[k] * y * torch.log(torch.sigmoid(x)) + (1 - y) * torch.log(1 - torch.sigmoid(x))))
    ref = torch.stack(terms).mean()
    got = prompt_loss(img, pos, neg, t, b, targets, pw)
    assert torch.allclose(got, ref)
    for a, c in zip(torch.autograd.grad(got, (img, pos, neg, t)), torch.autograd.grad(ref, (img, pos, neg, t))):
        assert torch.allclose(a, c)


def test_pos_weight_is_capped():
    targets = torch.tensor([[1]] + [[0]] * 50)
    assert label_pos_weight(targets, cap=20.0).item() == 20.0


def test_gaussian_target_masks_invalid_positions():
    valid = torch.tensor([[True, True, True, True, False]])
    tgt = gaussian_depth_target(torch.tensor([1]), valid, sigma=2.0)
    w = [math.exp(-0.5 * ((p - 1) / 2.0) ** 2) for p in range(4)]
    assert torch.allclose(tgt[0, :4], torch.tensor([v / sum(w) for v in w]))
    assert tgt[0, 4] == 0


def test_localization_matches_reference_forward_and_backward():
    N, P, E = 3, 6, 5
    snip, depth = _unit(N, E, seed=5), _unit(N, P, E, seed=6)
    valid = torch.ones(N, P, dtype=torch.bool)
    valid[1, 4:] = False
    valid[2, :1] = False
    target = torch.tensor([2, 0, 5])
    weight = torch.tensor([1.0, 0.5, 0.25], dtype=torch.float64)
    ref_terms = []
    for n in range(N):
        ps = [p for p in range(P) if valid[n, p]]
        logits = torch.stack([(snip[n] @ depth[n, p]) / 0.1 for p in ps])
        logp = logits - torch.logsumexp(logits, 0)
        w = torch.tensor([math.exp(-0.5 * ((p - target[n].item()) / 2.0) ** 2) for p in ps], dtype=torch.float64)
        ref_terms.append(-(w / w.sum() * logp).sum() * weight[n])
    ref = torch.stack(ref_terms).sum() / weight.sum()
    got = localization_loss(snip, depth, valid, target, weight, tau=0.1, sigma=2.0)
    assert torch.allclose(got.double(), ref)
    for a, c in zip(torch.autograd.grad(got, (snip, depth)), torch.autograd.grad(ref, (snip, depth))):
        assert torch.allclose(a.double(), c, atol=1e-10)


def test_localization_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"\(N, P, E\)"):
        localization_loss(torch.zeros(2, 4), torch.zeros(3, 5, 4), torch.ones(3, 5, dtype=torch.bool), torch.zeros(3))


def test_slice_prompts_add_the_prompt_loss_at_each_snippets_depth_feature(tmp_path):
    """`w_prompt_slice` adds, per snippet and label known at its slice, the prompt BCE on the depth feature there."""
    from data_contracts.labels import CT_RATE_LABELS
    from model.config import tiny
    from model.data import Collate, VolumeDataset, load_records
    from model.encoders import RadFinder
    from model.objective import training_losses
    from model.prompts import prompt_pairs
    from model.tokenizer import ReportTokenizer
    from test_model_data import make_tables

    make_tables(tmp_path)
    shape = dict(crop_shape=(24, 32, 32), spacing_mm=(3.0, 1.5, 1.5), stem_channels=(8, 16))
    off, on = tiny(**shape), tiny(**shape, w_prompt_slice=2.0)
    recs = load_records(tmp_path, "train", off)
    tok = ReportTokenizer.train([r.report_text for r in recs] + prompt_pairs(), 200)
    batch = Collate(tok, off)([VolumeDataset(recs, off)[(0, i)] for i in range(4)])
    prompt_ids, prompt_mask = tok.encode(prompt_pairs(), off.snippet_tokens)
    torch.manual_seed(0)
    model = RadFinder(on, tok.vocab_size)
    pw = torch.linspace(1.0, 4.0, len(CT_RATE_LABELS))
    args = (model, batch, prompt_ids, prompt_mask, pw)
    base = training_losses(*args, off, model.logit_scale, model.logit_bias)
    full = training_losses(*args, on, model.logit_scale, model.logit_bias)
    assert "prompt_slice" not in base and set(full) == set(base) | {"prompt_slice"}

    out = model(batch["volume"], batch["valid"], batch["report_ids"], batch["report_mask"], prompt_ids, prompt_mask,
                batch["snippet_ids"], batch["snippet_mask"])
    n_labels, t, b = len(CT_RATE_LABELS), model.logit_scale, model.logit_bias
    terms = []
    for n, (owner, pos) in enumerate(zip(batch["snippet_owner"].tolist(), batch["snippet_pos"].tolist())):
        d = out["depth"][owner, pos]  # the depth feature at snippet n's slice
        for k in range(n_labels):
            y = int(batch["slice_targets"][n, k])
            if y < 0:
                continue
            x = torch.exp(t) * (d @ out["prompt"][k]) - torch.exp(t) * (d @ out["prompt"][n_labels + k])
            terms.append(-(pw[k] * y * F.logsigmoid(x) + (1 - y) * F.logsigmoid(-x)))
    assert len(terms) > batch["snippet_owner"].numel()  # nodule present and the report's absent labels at each slice
    ref = torch.stack(terms).mean()
    assert torch.allclose(full["prompt_slice"], ref.detach(), atol=1e-6)
    extra = full["loss"] - base["loss"]
    assert torch.allclose(extra, 2.0 * ref, atol=1e-5)
    stem = model.volume.stem.body[0].weight
    g_got, = torch.autograd.grad(extra, stem, retain_graph=True)
    g_ref, = torch.autograd.grad(2.0 * ref, stem)
    assert g_got.abs().sum() > 0 and torch.allclose(g_got, g_ref, atol=1e-6)
