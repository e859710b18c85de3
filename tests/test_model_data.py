"""Preprocessing geometry and the table adapter, on small tables written through the contracts."""
import dataclasses
import hashlib

import numpy as np
import pytest
import torch

import data_contracts
from data_contracts.labels import CT_RATE_LABELS
from model.config import tiny
from model.data import Collate, VolumeDataset, load_records, slice_targets, truncated_reports
from model.preprocess import (ClipScale, CropClip, CropClipScale, CropOrPad, Grid, Orient, Resample, run_pipeline,
                              slice_to_position, to_unit,
                              valid_positions, z_to_slice)
from model.tokenizer import ReportTokenizer

LEVELS = [("apical nodule in the right upper lobe", 4), ("nodule near the carina", 10),
          ("nodule in the left lower lobe", 17)]


def affine(dz=-3.0, z0=100.0, dxy=1.5):
    return np.array([[dxy, 0, 0, -20], [0, dxy, 0, -30], [0, 0, dz, z0], [0, 0, 0, 1]], dtype=float)


def make_tables(data_dir, n=12, shape=(24, 32, 32), seed=0):
    """n volumes (3 of 4 train, the rest test), each with a bright blob at two referenced slices."""
    rng = np.random.default_rng(seed)
    (data_dir / "arrays").mkdir(parents=True, exist_ok=True)
    vols, reports, labels, pairs, refs = [], [], [], [], []
    for v in range(n):
        arr = np.full(shape, -800, dtype=np.int16)
        chosen = [LEVELS[v % 3], LEVELS[(v + 1) % 3]]
        for _, k in chosen:
            arr[k - 1 : k + 2, 10:20, 10:20] = 400
        path = f"arrays/v{v}.npy"
        np.save(data_dir / path, arr)
        a = affine()
        split = "test" if v % 4 == 3 else "train"
        vols.append(dict(series_instance_uid=f"se{v}", study_instance_uid=f"st{v}", patient_id=f"p{v}",
                         array_path=path, shape=list(shape), spacing_mm=[3.0, 1.5, 1.5], affine=a.ravel().tolist(),
                         split=split))
        text = " ".join(f"{s} (series 2, image {k + 1})." for s, k in chosen)
        reports.append(dict(report_id=f"r{v}", accession_number=f"acc{v}", patient_id=f"p{v}", language="en",
                            text=text, text_sha256=hashlib.sha256(text.encode()).hexdigest()))
        for i, label in enumerate(CT_RATE_LABELS):
            labels.append(dict(report_id=f"r{v}", label=label,
                               value=["present", "absent", "uncertain", "not_mentioned"][(v + i) % 4]))
        for ref_id, (s, k) in enumerate(chosen):
            pairs.append(dict(pair_id=f"pr{v}_{ref_id}", report_id=f"r{v}", ref_id=ref_id, study_instance_uid=f"st{v}",
                              referenced_sop_instance_uid=f"sop{v}_{k}", referenced_series_instance_uid=f"se{v}",
                              referenced_frame_number=1, z_mm=100.0 - 3.0 * k, volume_series_instance_uid=f"se{v}",
                              slice_index=k, depth_mm=3.0 * k, snippet=s, is_prior=False, match_method="series_number",
                              confidence=1.0))
            refs.append(dict(report_id=f"r{v}", ref_id=ref_id, section="FINDINGS", sentence_start=0, sentence_end=1,
                             ref_start=0, ref_end=1, ref_text="x", series_inferred=False, image_number=k + 1,
                             is_prior=False, snippet=s, snippet_start=0, snippet_end=1, language="en", rule="r",
                             duplicate_cluster=v % 2 if ref_id == 0 else None,
                             duplicate_cluster_size=4 if ref_id == 0 else 1))
    snippet_labels = [dict(report_id=r["report_id"], ref_id=r["ref_id"], label="Lung nodule", value="present") for r in refs]
    snippet_labels += [dict(report_id=r["report_id"], ref_id=1, label="Cardiomegaly", value="absent") for r in refs
                       if r["ref_id"] == 1]
    for name, rows in (("volumes", vols), ("reports", reports), ("labels", labels), ("snippet_slices", pairs),
                       ("references", refs), ("snippet_labels", snippet_labels)):
        data_contracts.write_table(name, rows, data_dir)
    return data_dir


def test_orient_flips_an_inferior_first_volume_and_keeps_z():
    arr = np.arange(6 * 2 * 2, dtype=np.float32).reshape(6, 2, 2)
    a = affine(dz=3.0, z0=0.0)  # slice 0 is the most inferior: z = 3k
    g = Orient()(Grid(arr, a))
    assert np.array_equal(g.array[0], arr[5])
    assert z_to_slice(g, 15.0) == pytest.approx(0.0) and z_to_slice(g, 0.0) == pytest.approx(5.0)


def test_resample_crop_pad_keep_patient_z():
    arr = np.zeros((40, 8, 8), dtype=np.float32)
    g = Grid(arr, affine(dz=-1.5, z0=50.0, dxy=3.0))  # 1.5 mm slices, 3 mm pixels
    r = Resample((3.0, 1.5, 1.5))(g)
    assert r.array.shape == (20, 15, 15)
    # slice 10 of the source (z = 35) sits at 5 in the resampled grid
    assert z_to_slice(r, 35.0) == pytest.approx(5.0)
    c = CropOrPad((28, 16, 16))(r)  # pads 4 slices above
    assert c.valid_range == (4, 24)
    assert z_to_slice(c, 35.0) == pytest.approx(z_to_slice(r, 35.0) + 4, abs=1e-6)
    cropped = CropOrPad((12, 8, 8))(r)  # crops 4 slices from the top
    assert cropped.valid_range == (0, 12)
    assert z_to_slice(cropped, 35.0) == pytest.approx(z_to_slice(r, 35.0) - 4, abs=1e-6)


def test_clip_scale_and_positions():
    g = ClipScale((-1000.0, 1000.0))(Grid(np.array([[[-3000.0, 0.0, 3000.0]]], dtype=np.float32), np.eye(4)))
    assert g.array.ravel().tolist() == [0.0, 0.5, 1.0]
    assert [slice_to_position(k, 4) for k in (0, 3.4, 3.6, 7)] == [0, 0, 1, 1]
    padded = Grid(np.zeros((16, 2, 2), np.float32), np.eye(4), (5, 9))
    assert valid_positions(padded, 4).tolist() == [False, True, True, False]


def test_records_read_through_contracts(tmp_path):
    make_tables(tmp_path)
    cfg = tiny(crop_shape=(24, 32, 32), spacing_mm=(3.0, 1.5, 1.5), stem_channels=(8, 16))
    train = load_records(tmp_path, "train", cfg)
    test = load_records(tmp_path, "test", cfg)
    assert len(train) == 9 and len(test) == 3 and not {r.patient_id for r in train} & {r.patient_id for r in test}
    r0 = next(r for r in train if r.series_uid == "se0")
    assert r0.report_text.startswith("apical nodule") and len(r0.refs) == 2
    assert r0.targets[0] == 1 and r0.targets[1] == 0 and r0.targets[2] == -1 and r0.targets[3] == 0  # not_mentioned -> absent
    assert sorted(w for ref in r0.refs for w in ref.weights) == [0.25, 1.0]  # duplicate cluster of 4 down-weighted
    with pytest.raises(ValueError, match="split"):
        load_records(tmp_path, "holdout", cfg)


def test_records_without_volumes_say_which_option_builds_them(tmp_path):
    make_tables(tmp_path)
    for f in data_contracts.table_files("volumes", tmp_path):
        f.unlink()  # what a flow run without --volumes publishes: every table but volumes
    with pytest.raises(FileNotFoundError, match="--volumes"):
        load_records(tmp_path, "train", tiny(crop_shape=(24, 32, 32), spacing_mm=(3.0, 1.5, 1.5)))


def test_slice_targets_say_what_holds_at_a_referenced_slice():
    names = {name: i for i, name in enumerate(CT_RATE_LABELS)}
    report = np.full(len(CT_RATE_LABELS), -1, dtype=np.int8)
    report[names["Lung nodule"]] = 1
    report[names["Emphysema"]] = 1
    report[names["Pleural effusion"]] = 0
    t = slice_targets(report, {"Lung nodule": "present", "Atelectasis": "absent", "Consolidation": "uncertain"})
    want = np.full(len(CT_RATE_LABELS), -1)
    want[names["Lung nodule"]] = 1  # the snippet names it: seen at this slice
    want[names["Pleural effusion"]] = 0  # absent from the whole study, so from this slice
    want[names["Atelectasis"]] = 0  # the snippet says absent
    assert t.tolist() == want.tolist()  # Emphysema (present elsewhere in the study) and Consolidation (uncertain) masked
    assert slice_targets(None, {}).tolist() == [-1] * len(CT_RATE_LABELS)


def test_records_carry_each_snippets_slice_targets(tmp_path):
    make_tables(tmp_path)  # every snippet names a nodule; each volume's second snippet also says "no cardiomegaly"
    cfg = tiny(crop_shape=(24, 32, 32), spacing_mm=(3.0, 1.5, 1.5), stem_channels=(8, 16))
    r0 = next(r for r in load_records(tmp_path, "train", cfg) if r.series_uid == "se0")
    nodule, heart = CT_RATE_LABELS.index("Lung nodule"), CT_RATE_LABELS.index("Cardiomegaly")
    assert r0.targets[heart] == -1  # uncertain in the report of volume 0
    for ref in r0.refs:
        (t,) = ref.targets
        want = np.where(r0.targets == 0, 0, -1)
        want[nodule] = 1
        if ref.pair_ids == ["pr0_1"]:
            want[heart] = 0
        assert t.tolist() == want.tolist(), ref.pair_ids


def test_dataset_places_snippets_and_drops_those_outside_the_crop(tmp_path):
    make_tables(tmp_path)
    cfg = tiny(crop_shape=(24, 32, 32), spacing_mm=(3.0, 1.5, 1.5), stem_channels=(8, 16))
    recs = load_records(tmp_path, "train", cfg)
    item = VolumeDataset(recs, cfg)[(0, 0)]
    assert item["volume"].shape == (24, 32, 32) and item["valid"].all()
    assert sorted(item["positions"]) == [1, 2]  # slices 4 and 10 -> positions 1 and 2 at 4 slices each
    small = tiny(crop_shape=(12, 32, 32), spacing_mm=(3.0, 1.5, 1.5), stem_channels=(8, 16))  # keeps slices 6..17: slice 4 falls outside
    item = VolumeDataset(recs, small)[(0, 0)]
    assert item["positions"] == [1]  # slice 10 -> crop slice 4 -> position 1
    tok = ReportTokenizer.train([r.report_text for r in recs], 200)
    batch = Collate(tok, cfg)([VolumeDataset(recs, cfg)[(0, i)] for i in range(3)])
    assert batch["volume"].shape == (3, 24, 32, 32) and batch["snippet_owner"].tolist() == [0, 0, 1, 1, 2, 2]
    assert batch["targets"].shape == (3, len(CT_RATE_LABELS)) and batch["snippet_weight"].dtype == torch.float32
    assert batch["slice_targets"].shape == (6, len(CT_RATE_LABELS))
    assert (batch["slice_targets"][:, CT_RATE_LABELS.index("Lung nodule")] == 1).all()


def test_pipeline_end_to_end_geometry(tmp_path):
    cfg = tiny(crop_shape=(32, 32, 32), spacing_mm=(3.0, 1.5, 1.5), stem_channels=(8, 16))
    arr = np.full((24, 32, 32), -1000, dtype=np.int16)
    g = run_pipeline(arr, affine(), cfg)
    assert g.valid_range == (4, 28)
    assert z_to_slice(g, 100.0 - 3.0 * 10) == pytest.approx(14.0)


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.float32])
def test_pipeline_equals_the_plain_float_computation(dtype):
    """Crop-then-scale on the cache's integers gives what scale-then-crop on floats gives, flips and padding included."""
    cfg = tiny(crop_shape=(32, 16, 24), spacing_mm=(3.0, 1.5, 1.5), stem_channels=(8, 16))
    rng = np.random.default_rng(0)
    lo = 0 if dtype == np.uint16 else -1500
    arr = rng.integers(lo, 1500, (20, 24, 20)).astype(dtype)  # depth padded, rows cropped, columns padded
    a = affine(dz=3.0, z0=0.0)  # inferior first: Orient flips the depth axis
    got = run_pipeline(arr, a, cfg)
    ref = np.flip(arr.astype(np.float32), 0)
    ref = (np.clip(ref, -1000, 1000) + 1000) / 2000
    want = np.zeros(cfg.crop_shape, np.float32)
    want[6:26, :, 2:22] = ref[:, 4:20, :]
    assert got.array.dtype == np.float32 and got.valid_range == (6, 26)
    np.testing.assert_allclose(got.array, want, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.int16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(8, 10, 12), (14, 6, 20), (3, 16, 16)])  # crop all, crop/pad mixed, pad all
@pytest.mark.parametrize("window", [(-1000.0, 1000.0), (-1000.5, 400.0)])
def test_crop_clip_scale_is_crop_or_pad_then_clip_scale(dtype, shape, window):
    """The fused step against the two steps it replaces, bit for bit, on a flipped (negative-stride) view, allocating
    or writing into a given array; a wrong output array is refused."""
    rng = np.random.default_rng(1)
    arr = np.flip(rng.integers(-2000, 2000, (10, 12, 14)).astype(dtype), (0, 2))
    grid = Grid(arr, affine(), (1, 9))
    want = ClipScale(window)(CropOrPad(shape, fill=window[0])(grid))
    got = CropClipScale(shape, window)(grid)
    into = np.full(shape, np.nan, np.float32)
    written = CropClipScale(shape, window)(grid, out=into)
    assert written.array is into
    for g in (got, written):
        assert g.array.dtype == np.float32 and np.array_equal(g.array, want.array)
        assert np.array_equal(g.affine, want.affine) and g.valid_range == want.valid_range
    with pytest.raises(ValueError, match="must be float32"):
        CropClipScale(shape, window)(grid, out=np.zeros(shape, np.float64))


@pytest.mark.parametrize("shape", [(8, 10, 12), (14, 6, 20)])
def test_hu_crops_scaled_on_the_device_are_the_float_crops(shape):
    """`CropClip` (int16 HU) then `to_unit` gives `CropClipScale`'s volume: bit for bit from an integer cache, within
    half an HU from a float (resampled) one; a window int16 cannot hold is refused."""
    rng = np.random.default_rng(2)
    window = (-1000.0, 400.0)
    ints = Grid(np.flip(rng.integers(-2000, 2000, (10, 12, 14)).astype(np.int16), 0), affine(), (1, 9))
    hu = CropClip(shape, window)(ints)
    want = CropClipScale(shape, window)(ints)
    assert hu.array.dtype == np.int16 and hu.valid_range == want.valid_range
    assert torch.equal(to_unit(torch.from_numpy(hu.array), window), torch.from_numpy(want.array))
    floats = Grid(rng.uniform(-2000, 2000, (10, 12, 14)).astype(np.float32), affine())
    got = to_unit(torch.from_numpy(CropClip(shape, window)(floats).array), window)
    np.testing.assert_allclose(got.numpy(), CropClipScale(shape, window)(floats).array, atol=0.5 / 1400 + 1e-7)
    as_float = torch.from_numpy(want.array)
    assert to_unit(as_float, window) is as_float  # a float batch passes as it is
    with pytest.raises(ValueError, match="whole HU"):
        CropClip(shape, (-1000.5, 400.0))


def test_a_batch_fetch_writes_the_volumes_in_place_and_equals_item_by_item(tmp_path):
    """`__getitems__` (how the DataLoader fetches) puts the batch's volumes in one tensor that `Collate` passes on
    uncopied, with what `__getitem__` gives item by item: plain, cached and augmented, and through DataLoader
    workers, whose batches arrive in shared memory."""
    make_tables(tmp_path)
    cfg = tiny(crop_shape=(24, 32, 32), spacing_mm=(3.0, 1.5, 1.5), stem_channels=(8, 16), cache_volumes=False)
    recs = load_records(tmp_path, "train", cfg)
    tok = ReportTokenizer.train([r.report_text for r in recs], 200)
    keys = [(1, 3), (1, 0), (1, 5)]
    for c, aug in ((cfg, False), (dataclasses.replace(cfg, cache_volumes=True), False),
                   (dataclasses.replace(cfg, augment_shift_px=2, augment_intensity=0.1), True)):
        ds = VolumeDataset(recs, c, augment=aug)
        items = ds.__getitems__(keys)
        batch = Collate(tok, c)(items)
        assert batch["volume"].data_ptr() == items[0]["volume"].data_ptr() and batch["volume"].shape == (3, 24, 32, 32)
        want = Collate(tok, c)([ds[k] for k in keys])
        assert want["volume"].data_ptr() != ds[keys[0]]["volume"].data_ptr()  # item by item: stacked
        for name in want:
            assert torch.equal(batch[name], want[name]), name
    plain = VolumeDataset(recs, cfg)
    for hu in (False, True):
        loader = torch.utils.data.DataLoader(VolumeDataset(recs, cfg, hu=hu), batch_sampler=[keys, keys[::-1]],
                                             num_workers=2, collate_fn=Collate(tok, cfg))
        for got, order in zip(loader, (keys, keys[::-1])):
            assert got["volume"].is_shared() and got["volume"].dtype == (torch.int16 if hu else torch.float32)
            assert torch.equal(to_unit(got["volume"], cfg.hu_window), torch.stack([plain[k]["volume"] for k in order]))
    with pytest.raises(ValueError, match="cannot be augmented"):
        VolumeDataset(recs, dataclasses.replace(cfg, augment_shift_px=2), augment=True, hu=True)


def test_augment_shifts_in_plane_only_and_is_reproducible():
    import numpy as np

    from model.data import augment

    vol = np.zeros((4, 8, 8), np.float32)
    vol[1, 3, 3] = 1.0
    a = augment(vol, np.random.default_rng(0), 2, 0.0)
    b = augment(vol, np.random.default_rng(0), 2, 0.0)
    assert np.array_equal(a, b) and a.shape == vol.shape
    assert a[1].sum() == 1.0 and a[[0, 2, 3]].sum() == 0.0  # the slice keeps its depth
    c = augment(vol, np.random.default_rng(1), 0, 0.1)
    assert c.dtype == np.float32 and abs(float(c[1, 3, 3]) - 1.0) < 0.5


def test_augment_rotates_and_zooms_in_plane_about_the_centre():
    import numpy as np

    from model.data import _rotate_zoom, augment

    vol = np.zeros((3, 9, 9), np.float32)
    vol[1, 4, 6] = 1.0  # two voxels right of the centre, on the middle slice
    np.testing.assert_allclose(_rotate_zoom(vol, 0.0, 0.0), vol, atol=1e-6)
    quarter = _rotate_zoom(vol, 90.0, 0.0)
    assert quarter[[0, 2]].sum() == 0.0  # depth untouched
    assert np.unravel_index(quarter[1].argmax(), (9, 9)) in {(2, 4), (6, 4)}  # now above or below the centre
    assert abs(float(quarter[1].max()) - 1.0) < 1e-4
    wide = np.zeros((1, 15, 25), np.float32)
    wide[0, 7, 16] = 1.0  # four voxels right of the centre (7, 12) of a non-square slice
    turned = _rotate_zoom(wide, 90.0, 0.0)[0]
    assert np.unravel_index(turned.argmax(), turned.shape) in {(3, 12), (11, 12)}  # still four voxels away, in voxels
    blob = np.zeros((2, 16, 24), np.float32)
    blob[:, 6:10, 10:14] = 1.0  # a 4 x 4 square at the centre of a non-square slice
    bigger = _rotate_zoom(blob, 0.0, 0.5)
    assert bigger.sum() > 1.8 * blob.sum() and bigger[:, 7:9, 11:13].min() > 0.99  # magnified, still centred
    a = augment(blob, np.random.default_rng(3), 0, 0.0, rotate_deg=10.0, zoom=0.1)
    b = augment(blob, np.random.default_rng(3), 0, 0.0, rotate_deg=10.0, zoom=0.1)
    assert np.array_equal(a, b) and a.dtype == np.float32 and a.shape == blob.shape and not np.array_equal(a, blob)


def test_truncated_reports_counts_the_reports_the_tokenizer_cuts():
    texts = ["No pleural effusion.", "Right upper lobe nodule (6:24). " * 3, "Emphysema in both upper lobes. " * 40]
    tok = ReportTokenizer.train(texts * 3, vocab_size=120)
    lengths = [int(tok.encode([t], 1000)[1].sum()) for t in texts]  # [CLS] + tokens, uncut
    assert lengths[0] < lengths[1] < lengths[2] < 1000
    for max_tokens in (lengths[0] - 1, lengths[0], lengths[1], lengths[2] - 1, lengths[2]):
        assert truncated_reports(tok, texts, max_tokens) == sum(n > max_tokens for n in lengths), max_tokens
