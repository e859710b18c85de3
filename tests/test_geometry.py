"""Series geometry on in-memory cases: classes, slice order, spacing, gaps, duplicates, tilt, affine."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataset.geometry import affine_matrix, classify_normal, series_geometry, slice_normal, sort_key

AXIAL = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
CORONAL = [1.0, 0.0, 0.0, 0.0, 0.0, -1.0]
SAGITTAL = [0.0, 1.0, 0.0, 0.0, 0.0, -1.0]


def stack(zs, orientation=AXIAL, origin=(-100.0, -100.0, 0.0), image_type="ORIGINAL\\PRIMARY\\AXIAL", instances=None,
          sops=None, paths=None, tilt=None, spacing=(0.5, 0.5)):
    """Images at `origin + z * normal` for each z (z is the offset along the slice normal)."""
    n = slice_normal(orientation)
    rows = []
    for i, z in enumerate(zs):
        p = np.asarray(origin) + z * n
        rows.append({
            "position_x": p[0], "position_y": p[1], "position_z": p[2], "orientation": list(orientation),
            "pixel_spacing": list(spacing), "image_type": image_type,
            "instance_number": (instances[i] if instances is not None else i + 1),
            "sop_instance_uid": (sops[i] if sops else f"1.2.{i}"), "path": (paths[i] if paths else f"f{i}"),
            "slice_thickness": 1.0, "gantry_tilt": tilt, "rows": 8, "columns": 8,
        })
    return rows


def test_axial_order_superior_first_and_affine():
    g = series_geometry(stack([0, 10, 5, 15, 20]))  # shuffled input
    assert g["geometry"] == "axial" and g["n_images"] == 5
    assert g["order"] == [4, 3, 1, 2, 0] and g["slice_index"] == [4, 2, 3, 1, 0]
    assert g["spacing_mm"] == 5 and g["spacing_uniform"] and not g["has_gaps"]
    assert g["z_min"] == 0 and g["z_max"] == 20 and g["tilt_deg"] == 0
    a = affine_matrix(g["affine"])
    assert np.allclose(a @ [0, 0, 0, 1], [-100, -100, 20, 1])
    assert np.allclose(a @ [0, 0, 4, 1], [-100, -100, 0, 1])
    assert np.allclose(a @ [2, 3, 0, 1], [-100 + 2 * 0.5, -100 + 3 * 0.5, 20, 1])


def test_instance_order():
    assert series_geometry(stack([0, 5, 10]))["instance_order"] == "feet_to_head"
    assert series_geometry(stack([10, 5, 0]))["instance_order"] == "head_to_feet"
    assert series_geometry(stack([0, 10, 5]))["instance_order"] == "mixed"
    assert series_geometry(stack([0]))["instance_order"] == "single"
    # gaps in InstanceNumber do not matter, only their direction
    assert series_geometry(stack([10, 5, 0], instances=[18, 180, 181]))["instance_order"] == "head_to_feet"


def test_class_from_orientation_never_image_type():
    g = series_geometry(stack([0, 2, 4], orientation=SAGITTAL, image_type="DERIVED\\SECONDARY\\AXIAL"))
    assert g["geometry"] == "sagittal"
    assert series_geometry(stack([0, 2, 4], orientation=CORONAL))["geometry"] == "coronal"
    c, s = math.cos(math.radians(45)), math.sin(math.radians(45))
    oblique = [1, 0, 0, 0, c, -s]  # normal halfway between y and z
    assert series_geometry(stack([0, 2, 4], orientation=oblique))["geometry"] == "oblique"


def test_sagittal_and_coronal_k_order():
    g = series_geometry(stack([0, 2, 4], orientation=SAGITTAL, origin=(0, 0, 0)))
    xs = [r for r in g["order"]]
    assert xs == [2, 1, 0]  # k = 0 is the patient's leftmost (+x) slice
    g = series_geometry(stack([0, 2, 4], orientation=CORONAL, origin=(0, 0, 0)))
    assert slice_normal(CORONAL)[1] > 0 and g["order"] == [2, 1, 0]  # most posterior first


@pytest.mark.parametrize("n", [
    [0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, math.sin(math.radians(30)), math.cos(math.radians(30))],
])
def test_classify_normal(n):
    expect = {2: "axial", 1: "coronal", 0: "sagittal"}[int(np.argmax(np.abs(n)))]
    assert classify_normal(n) == expect


def gantry_tilted(n_slices=10, step_z=5.0, tilt_deg=20.0, header=None):
    """GE-style tilt: positions move along z only, the image plane is rotated about x."""
    t = math.radians(tilt_deg)
    ori = [1.0, 0.0, 0.0, 0.0, math.cos(t), -math.sin(t)]
    rows = []
    for i in range(n_slices):
        rows.append({"position_x": -125.0, "position_y": -120.0, "position_z": i * step_z, "orientation": ori,
                     "pixel_spacing": [0.5, 0.5], "image_type": "ORIGINAL\\PRIMARY\\AXIAL", "instance_number": i + 1,
                     "sop_instance_uid": f"u{i}", "path": f"p{i}", "gantry_tilt": header})
    return rows


@pytest.mark.parametrize("tilt", [18.5, -18.5, 30.0, 7.0])
def test_tilt_from_geometry_without_header(tilt):
    g = series_geometry(gantry_tilted(tilt_deg=tilt))
    assert g["geometry"] == "axial"
    assert g["tilt_deg"] == pytest.approx(tilt, abs=1e-6)
    assert g["spacing_mm"] == pytest.approx(5.0 * math.cos(math.radians(tilt)))  # along the normal
    assert g["tilt_header_deg"] is None and g["tilt_agrees"] is None
    a = affine_matrix(g["affine"])  # sheared: still lands on every slice position
    for k in range(10):
        assert np.allclose(a @ [0, 0, k, 1], [-125, -120, 45 - 5 * k, 1])


def test_tilt_cross_checked_with_header():
    g = series_geometry(gantry_tilted(tilt_deg=18.5, header=18.5))
    assert g["tilt_agrees"] is True
    g = series_geometry(gantry_tilted(tilt_deg=18.5, header=0.0))
    assert g["tilt_agrees"] is False and g["tilt_deg"] == pytest.approx(18.5)


def test_gaps_and_uneven_spacing():
    g = series_geometry(stack([0, 1, 2, 3, 6, 7]))
    assert g["spacing_mm"] == 1 and g["has_gaps"] and not g["spacing_uniform"]
    g = series_geometry(stack([0, 4, 8, 9.08, 16.08]))  # 4 mm then 7 mm (GE-like variable spacing)
    assert not g["spacing_uniform"]
    g = series_geometry(stack([0, 1.004, 2.0]))  # within 1% / 0.01 mm
    assert g["spacing_uniform"] and not g["has_gaps"]


def test_duplicates():
    rows = stack([0, 0, 0, 5], sops=["a", "a", "b", "c"], paths=["x", "y", "z", "w"])
    g = series_geometry(rows)
    assert g["n_duplicate_positions"] == 3 and g["n_duplicate_sops"] == 2
    assert g["slice_index"] == [1, 1, 1, 0]
    # one SOP in two rows of the same file (multi-frame) is not a duplicate
    assert series_geometry(stack([0, 5], sops=["a", "a"], paths=["x", "x"]))["n_duplicate_sops"] == 0


def test_not_a_volume():
    assert series_geometry(stack([3, 3, 3]))["geometry"] == "not_a_volume"
    assert series_geometry(stack([3]))["geometry"] == "not_a_volume"
    g = series_geometry([{"path": "a", "sop_instance_uid": "1", "image_type": "DERIVED\\SECONDARY"}])
    assert g["geometry"] == "not_a_volume" and g["affine"] is None and g["z_min"] is None
    mixed = stack([0, 5, 10, 15]) + stack([10, 15, 20, 25], orientation=SAGITTAL)  # two stacks in one series
    g = series_geometry(mixed)
    assert g["geometry"] == "not_a_volume" and g["affine"] is None


def test_missing_positions_are_left_out_of_the_volume():
    rows = stack([0, 5, 10]) + [{"path": "n", "sop_instance_uid": "n", "orientation": AXIAL, "image_type": "ORIGINAL"}]
    g = series_geometry(rows)
    assert g["geometry"] == "axial" and g["n_images"] == 4 and g["slice_index"][3] is None and len(g["order"]) == 3


def test_localizers():
    g = series_geometry(stack([0], orientation=SAGITTAL, image_type="ORIGINAL\\PRIMARY\\LOCALIZER"))
    assert g["geometry"] == "localizer" and g["affine"] is None
    # tri-plane scout without LOCALIZER in ImageType: few images in several orientations
    tri = stack([0], orientation=SAGITTAL, image_type="ORIGINAL") + stack([0], orientation=CORONAL, image_type="ORIGINAL")
    assert series_geometry(tri)["geometry"] == "localizer"
    # a single large non-axial image
    big = stack([0], orientation=CORONAL, image_type="ORIGINAL", spacing=(1.0, 1.0))
    big[0]["rows"], big[0]["columns"] = 512, 512
    assert series_geometry(big)["geometry"] == "localizer"
    # an axial volume whose ImageType does not say LOCALIZER stays a volume
    assert series_geometry(stack([0, 5, 10]))["geometry"] == "axial"


def test_sort_key_matches_series_order():
    rows = stack([3, 9, 0, 6])
    keys = [sort_key((r["position_x"], r["position_y"], r["position_z"]), r["orientation"]) for r in rows]
    assert list(np.argsort(keys)) == series_geometry(rows)["order"]
    assert math.isnan(sort_key(None, AXIAL))


def test_columns_input_equals_rows_input():
    rows = stack([0, 5, 10, 20])
    cols = {k: [r[k] for r in rows] for k in rows[0]}
    assert series_geometry(rows) == series_geometry(cols)


def _rotation(a, b, c):
    def rx(t):
        return np.array([[1, 0, 0], [0, math.cos(t), -math.sin(t)], [0, math.sin(t), math.cos(t)]])

    def rz(t):
        return np.array([[math.cos(t), -math.sin(t), 0], [math.sin(t), math.cos(t), 0], [0, 0, 1]])

    return rz(a) @ rx(b) @ rz(c)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(-math.pi, math.pi), st.floats(-math.pi, math.pi), st.floats(-math.pi, math.pi),
    st.integers(2, 30), st.floats(0.3, 10.0), st.floats(0.2, 2.0), st.floats(0.2, 2.0),
    st.tuples(*(st.floats(-500, 500),) * 3), st.randoms(use_true_random=False),
)
def test_affine_lands_on_every_slice(a, b, c, n, step, ps_r, ps_c, origin, rnd):
    r = _rotation(a, b, c)
    ori = list(r[:, 0]) + list(r[:, 1])
    normal = np.cross(r[:, 0], r[:, 1])
    positions = [np.asarray(origin) + k * step * normal for k in range(n)]
    rows = [{"position_x": p[0], "position_y": p[1], "position_z": p[2], "orientation": ori,
             "pixel_spacing": [ps_r, ps_c], "image_type": "ORIGINAL", "instance_number": i + 1,
             "sop_instance_uid": str(i), "path": str(i)} for i, p in enumerate(positions)]
    rnd.shuffle(rows)
    g = series_geometry(rows)
    assert g["geometry"] in ("axial", "coronal", "sagittal", "oblique")
    assert g["spacing_mm"] == pytest.approx(step) and g["spacing_uniform"] and g["tilt_deg"] == 0
    A = affine_matrix(g["affine"])
    for k, i in enumerate(g["order"]):
        p = [rows[i]["position_x"], rows[i]["position_y"], rows[i]["position_z"]]
        assert np.allclose(A @ [0, 0, k, 1], p + [1], atol=1e-6)
        assert g["slice_index"][i] == k
    keys = [sort_key(A[:3, 3] + A[:3, 2] * k, ori) for k in range(n)]
    assert all(x < y for x, y in zip(keys, keys[1:]))  # k follows sort_key
    assert np.allclose(A[:3, 0], r[:, 0] * ps_c) and np.allclose(A[:3, 1], r[:, 1] * ps_r)
    assert g["geometry"] == classify_normal(slice_normal(ori))
