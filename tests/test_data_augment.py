"""Augmentation: mosaic, random perspective, HSV jitter, flip, letterbox.

The central property: labels follow their pixels. Each test image holds filled rectangles
of distinct pure colours; after the transform, the pixels of each colour must fill the
transformed label box (up to interpolation at the edges).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyvision.data.augment import (
    augment_hsv,
    box_candidates,
    hflip,
    letterbox,
    mosaic,
    random_perspective,
    resize_longest,
)

COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255)]


def painted(
    rng: np.random.Generator, h: int, w: int, count: int, first_colour: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """An image of non-overlapping filled rectangles on grey 0 and their [N, 5] labels
    (class = index into COLOURS); integer corners, so pixels and boxes agree exactly."""
    image = np.zeros((h, w, 3), dtype=np.uint8)
    rows: list[list[float]] = []
    for k in range(count):
        for _ in range(50):
            bw, bh = int(rng.integers(6, max(7, w // 2))), int(rng.integers(6, max(7, h // 2)))
            x1, y1 = int(rng.integers(0, w - bw + 1)), int(rng.integers(0, h - bh + 1))
            box = [x1, y1, x1 + bw, y1 + bh]
            # one pixel of background between rectangles
            if all(
                box[0] >= r[3] + 1 or box[2] + 1 <= r[1] or box[1] >= r[4] + 1 or box[3] + 1 <= r[2]
                for r in rows
            ):
                c = first_colour + k
                image[box[1] : box[3], box[0] : box[2]] = COLOURS[c % len(COLOURS)]
                rows.append([c, *box])
                break
    return image, np.array(rows, dtype=np.float64).reshape(-1, 5)


def colour_extent(image: np.ndarray, colour: tuple[int, int, int], tol: int = 60) -> np.ndarray:
    """Bounds ``(x1, y1, x2, y2)`` (continuous) of the pixels within ``tol`` of ``colour``."""
    close = (np.abs(image.astype(int) - np.array(colour)).max(axis=2) <= tol).nonzero()
    ys, xs = close
    if xs.size == 0:
        return np.full(4, np.nan)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=float)


def assert_labels_follow_pixels(
    image: np.ndarray, labels: np.ndarray, slack: float, *, tilted: bool = False
) -> None:
    """Each label box is the extent of its colour's pixels, within ``slack``. A ``tilted``
    (rotated or sheared) box cut by the image edge is the clipped box of all 4 corners, so
    it only contains the visible pixels (YOLOv5's boxes behave the same) and may contain
    none: the corner of a tilted rectangle's bounds can reach into the image while the
    rectangle itself lies outside."""
    h, w = image.shape[:2]
    for row in labels:
        extent = colour_extent(image, COLOURS[int(row[0]) % len(COLOURS)])
        box = row[1:]
        at_edge = box[0] <= 0 or box[1] <= 0 or box[2] >= w or box[3] >= h
        if tilted and at_edge:
            if np.isfinite(extent).all():
                assert (extent[:2] >= box[:2] - slack).all()
                assert (extent[2:] <= box[2:] + slack).all()
        else:
            assert np.isfinite(extent).all(), f"class {row[0]}: no pixels left for box {row[1:]}"
            np.testing.assert_allclose(extent, box, atol=slack, err_msg=f"class {row[0]}")


def assert_boxes_valid(labels: np.ndarray, h: int, w: int) -> None:
    assert labels.ndim == 2 and labels.shape[1] == 5
    assert (labels[:, 1] >= 0).all() and (labels[:, 3] <= w).all()
    assert (labels[:, 2] >= 0).all() and (labels[:, 4] <= h).all()
    assert (labels[:, 3] > labels[:, 1]).all() and (labels[:, 4] > labels[:, 2]).all()


# ----------------------------------------------------------------------------- mosaic
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.sampled_from([32, 48, 64]))
def test_mosaic_boxes_inside_canvas_and_follow_pixels(seed: int, size: int) -> None:
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for i in range(4):
        h, w = int(rng.integers(size // 2, size + 1)), int(rng.integers(size // 2, size + 1))
        image, lab = painted(rng, h, w, 1, first_colour=i)  # one colour per tile
        images.append(image)
        labels.append(lab)
    canvas, out = mosaic(images, labels, size, seed=seed)
    assert canvas.shape == (2 * size, 2 * size, 3) and canvas.dtype == np.uint8
    assert_boxes_valid(out, 2 * size, 2 * size)
    assert_labels_follow_pixels(canvas, out, slack=0)  # integer shifts: exact
    # a box cut away entirely leaves no label and no pixels
    for i in range(4):
        if i not in out[:, 0]:
            assert np.isnan(colour_extent(canvas, COLOURS[i], tol=0)).all()


def test_mosaic_tile_placement_by_hand() -> None:
    # s = 4, centre (4, 4): four 4x4 tiles exactly fill the 8x8 canvas
    tiles = [np.full((4, 4, 1), v, dtype=np.uint8) for v in (10, 20, 30, 40)]
    boxes = [np.array([[k, 1, 1, 3, 3]], dtype=float) for k in range(4)]
    canvas, out = mosaic(tiles, boxes, 4, center=(4, 4))
    assert (canvas[:4, :4] == 10).all() and (canvas[:4, 4:] == 20).all()
    assert (canvas[4:, :4] == 30).all() and (canvas[4:, 4:] == 40).all()
    # top-left shifted by (0, 0), top-right by (4, 0), bottom-left (0, 4), bottom-right (4, 4)
    expected = [[0, 1, 1, 3, 3], [1, 5, 1, 7, 3], [2, 1, 5, 3, 7], [3, 5, 5, 7, 7]]
    np.testing.assert_array_equal(out, expected)
    # centre (2, 6): the top-left tile shows only its bottom-right 2x4 corner -> its box
    # [1, 1, 3, 3] moves by (-2, 2) to [-1, 3, 1, 5] and is clipped to [0, 3, 1, 5]
    canvas, out = mosaic(tiles, boxes, 4, center=(2, 6), fill=0)
    assert out[0].tolist() == [0, 0, 3, 1, 5]
    assert (canvas[:2] == 0).all()  # above the top tiles: fill


def test_mosaic_seeded_and_inputs_untouched() -> None:
    rng = np.random.default_rng(0)
    pairs = [painted(rng, 40, 40, 2) for _ in range(4)]
    images = [p[0] for p in pairs]
    labels = [p[1] for p in pairs]
    copies = [x.copy() for x in images + labels]
    a = mosaic(images, labels, 40, seed=3)
    b = mosaic(images, labels, 40, seed=3)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    for before, after in zip(copies, images + labels):
        np.testing.assert_array_equal(before, after)


def test_mosaic_empty_labels() -> None:
    images = [np.zeros((8, 8, 3), np.uint8)] * 4
    canvas, out = mosaic(images, [np.zeros((0, 5))] * 4, 8, seed=0)
    assert canvas.shape == (16, 16, 3) and out.shape == (0, 5)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"images": [np.zeros((4, 4, 3), np.uint8)] * 3}, ValueError, "4 images"),
        ({"images": [np.zeros((4, 4, 3), np.float32)] * 4}, TypeError, "uint8"),
        ({"images": [np.zeros((4, 4), np.uint8)] * 4}, ValueError, r"\[H, W, C\]"),
        ({"labels": [np.zeros((1, 4))] * 4}, ValueError, r"\[N, 5\]"),
        ({"labels": [np.array([[0, 1, 1, np.nan, 2]])] * 4}, ValueError, "finite"),
        ({"labels": [np.array([[0, 3, 1, 2, 2]])] * 4}, ValueError, "x1 <= x2"),
        ({"size": 0}, ValueError, "size"),
        ({"center": (20, 0)}, ValueError, "center"),
        ({"seed": "x"}, TypeError, "seed"),
    ],
)
def test_mosaic_bad_input(kwargs: dict, error: type, match: str) -> None:
    args = {
        "images": [np.zeros((4, 4, 3), np.uint8)] * 4,
        "labels": [np.zeros((0, 5))] * 4,
        "size": 4,
        **kwargs,
    }
    with pytest.raises(error, match=match):
        mosaic(**args)


# ----------------------------------------------------------------------------- perspective
@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    degrees=st.sampled_from([0.0, 10.0, 45.0]),
    scale=st.sampled_from([0.0, 0.5]),
    shear=st.sampled_from([0.0, 5.0]),
    border=st.sampled_from([0, -16]),
)
def test_perspective_boxes_inside_and_follow_pixels(
    seed: int, degrees: float, scale: float, shear: float, border: int
) -> None:
    rng = np.random.default_rng(seed)
    image, labels = painted(rng, 64, 64, 4)
    warped, out = random_perspective(
        image, labels, degrees, 0.1, scale, shear, border=(border, border), fill=0, seed=seed
    )
    side = 64 + 2 * border
    assert warped.shape == (side, side, 3)
    assert_boxes_valid(out, side, side)
    w, h = out[:, 3] - out[:, 1], out[:, 4] - out[:, 2]
    assert (w > 2).all() and (h > 2).all()  # none thinner than 2 px
    assert (np.maximum(w / h, h / w) < 100).all()
    # the box of 4 warped corners of a rectangle is the bounds of its warped pixels
    assert_labels_follow_pixels(warped, out, slack=1.5, tilted=bool(degrees or shear))


def test_perspective_with_perspective_term_follows_pixels() -> None:
    rng = np.random.default_rng(5)
    image, labels = painted(rng, 64, 64, 3)
    warped, out = random_perspective(
        image, labels, 5, 0.05, 0.2, 2, perspective=0.0005, fill=0, seed=1
    )
    assert out.shape[0] >= 1
    assert_labels_follow_pixels(warped, out, slack=1.5, tilted=True)


def test_perspective_identity_and_pure_translation_by_hand() -> None:
    image = np.zeros((10, 10, 3), np.uint8)
    image[2:5, 3:7] = 255
    labels = np.array([[0, 3, 2, 7, 5]], float)
    # no rotation/zoom/shear and translate 0: the centre goes back to the centre
    out_img, out = random_perspective(image, labels, 0, 0, 0, 0, seed=0)
    np.testing.assert_array_equal(out_img, image)
    np.testing.assert_allclose(out, labels)
    # border -2: output 6x6, the 10x10 image's centre (5, 5) lands on (3, 3): shift by -2
    out_img, out = random_perspective(image, labels, 0, 0, 0, 0, border=(-2, -2), seed=0)
    np.testing.assert_allclose(out, [[0, 1, 0, 5, 3]])
    np.testing.assert_array_equal(out_img, image[2:8, 2:8])


def test_box_candidates_thresholds() -> None:
    before = np.array([[0, 0, 10, 10]] * 4, float).T
    after = np.array(
        [
            [0, 0, 10, 10],  # kept
            [0, 0, 2, 10],  # width exactly 2: not > 2, dropped
            [0, 0, 3, 3],  # 9% of the area: dropped
            [0, 0, 3.2, 3.2],  # 10.24%: kept
        ],
        float,
    ).T
    assert box_candidates(before, after).tolist() == [True, False, False, True]


def test_perspective_drops_boxes_pushed_out() -> None:
    image = np.zeros((40, 40, 3), np.uint8)
    labels = np.array([[0, 0, 0, 6, 6]], float)
    # border -15 keeps the middle 10x10: the corner box is gone
    _, out = random_perspective(image, labels, 0, 0, 0, 0, border=(-15, -15), seed=0)
    assert out.shape == (0, 5)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"degrees": -1}, ValueError, "degrees"),
        ({"translate": 0.7}, ValueError, "translate"),
        ({"scale": 1.0}, ValueError, "scale"),
        ({"shear": float("nan")}, ValueError, "shear"),
        ({"border": (-40, -40)}, ValueError, "border"),
        ({"image": np.zeros((8, 8, 3), np.int32)}, TypeError, "uint8"),
        ({"labels": np.zeros((2, 6))}, ValueError, r"\[N, 5\]"),
    ],
)
def test_perspective_bad_input(kwargs: dict, error: type, match: str) -> None:
    args = {"image": np.zeros((8, 8, 3), np.uint8), "labels": np.zeros((0, 5)), **kwargs}
    with pytest.raises(error, match=match):
        random_perspective(**args)


# ----------------------------------------------------------------------------- flip, HSV
def test_hflip_by_hand_and_twice_is_identity() -> None:
    image = np.zeros((4, 10, 3), np.uint8)
    image[:, 1:3] = 255
    labels = np.array([[2, 1, 0, 3, 4]], float)
    flipped, out = hflip(image, labels)
    assert out.tolist() == [[2, 7, 0, 9, 4]]  # x1, x2 = 10 - 3, 10 - 1
    assert (flipped[:, 7:9] == 255).all() and flipped[:, :7].max() == 0
    back, again = hflip(flipped, out)
    np.testing.assert_array_equal(back, image)
    np.testing.assert_array_equal(again, labels)


def test_augment_hsv_seeded_zero_gain_and_input_untouched() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    copy = image.copy()
    np.testing.assert_array_equal(augment_hsv(image, 0, 0, 0, seed=1), image)
    a = augment_hsv(image, 0.015, 0.7, 0.4, seed=2)
    np.testing.assert_array_equal(a, augment_hsv(image, 0.015, 0.7, 0.4, seed=2))
    assert a.shape == image.shape and a.dtype == np.uint8 and not np.array_equal(a, image)
    np.testing.assert_array_equal(image, copy)
    # value gain only, on grey pixels: brightness scales, hue and saturation stay
    grey = np.full((2, 2, 3), 100, np.uint8)
    brighter = augment_hsv(grey, 0, 0, 0.5, seed=np.random.default_rng(4))
    assert np.unique(brighter).size == 1


def test_augment_hsv_bad_input() -> None:
    with pytest.raises(ValueError, match="3 channels"):
        augment_hsv(np.zeros((4, 4, 1), np.uint8))
    with pytest.raises(ValueError, match="hgain"):
        augment_hsv(np.zeros((4, 4, 3), np.uint8), hgain=-0.1)


# ----------------------------------------------------------------------------- resize
def test_letterbox_maps_points_by_ratio_and_pad() -> None:
    image = np.zeros((50, 100, 3), np.uint8)
    image[10:20, 40:60] = 255  # a box at [40, 10, 60, 20]
    out, ratio, (pad_x, pad_y) = letterbox(image, 64)
    assert out.shape == (64, 64, 3)
    assert ratio == 0.64 and (pad_x, pad_y) == (0, 16)  # 100x50 -> 64x32, centred
    extent = colour_extent(out, (255, 255, 255), tol=100)
    np.testing.assert_allclose(extent, [40 * ratio, 10 * ratio + 16, 60 * ratio, 20 * ratio + 16],
                               atol=1.0)  # fmt: skip
    assert (out[:16] == 114).all() and (out[48:] == 114).all()


def test_resize_longest_keeps_aspect() -> None:
    out, ratio = resize_longest(np.zeros((30, 60, 3), np.uint8), 120)
    assert out.shape == (60, 120, 3) and ratio == 2.0
    same, r = resize_longest(np.zeros((30, 60, 3), np.uint8), 60)
    assert same.shape == (30, 60, 3) and r == 1.0


# ----------------------------------------------------------------------------- bad input
IMAGE = np.zeros((8, 8, 3), np.uint8)


@pytest.mark.parametrize(
    ("labels", "error", "match"),
    [
        (np.zeros((0, 3)), ValueError, r"shape \[N, 5\]"),
        (np.zeros((5, 0)), ValueError, r"shape \[N, 5\]"),
        (np.zeros((2, 5, 1)), ValueError, r"shape \[N, 5\]"),
        ([[0.5, 1, 1, 2, 2]], ValueError, r"whole numbers >= 0\), got 0.5"),
        ([[-1, 1, 1, 2, 2]], ValueError, r"whole numbers >= 0\), got -1"),
        ([[0, np.nan, 1, 2, 2]], ValueError, "finite"),
        ([[0, 3, 1, 2, 2]], ValueError, "x1 <= x2"),
        (np.array([["a"] * 5]), TypeError, "real numbers"),
    ],
)
def test_hflip_bad_labels(labels: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        hflip(IMAGE, labels)


def test_empty_labels_forms() -> None:
    for empty in ([], np.zeros((0, 5)), np.zeros(0, dtype=np.int64)):
        _, out = hflip(IMAGE, empty)
        assert out.shape == (0, 5)


@pytest.mark.parametrize(
    ("func", "args", "error", "match"),
    [
        (hflip, ([[1, 2]], np.zeros((0, 5))), TypeError, "image must be a numpy array"),
        (hflip, (np.zeros((8, 8)), np.zeros((0, 5))), ValueError, r"image must have shape"),
        (hflip, (np.zeros((8, 8, 3)), np.zeros((0, 5))), TypeError, "dtype uint8"),
        (letterbox, (IMAGE, 0), ValueError, "size"),
        (letterbox, (IMAGE, 16, 256), ValueError, "fill"),
        (letterbox, (IMAGE, 16.5), TypeError, "size"),
        (letterbox, (np.zeros((0, 8, 3), np.uint8), 16), ValueError, "H, W, C > 0"),
        (resize_longest, (IMAGE, 0), ValueError, "size"),
        (resize_longest, (IMAGE, "8"), TypeError, "size"),
        (resize_longest, (IMAGE.astype(np.float32), 8), TypeError, "dtype uint8"),
    ],
)
def test_geometry_bad_input(func: object, args: tuple, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        func(*args)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"box1": np.zeros((3, 2))}, ValueError, r"box1 must have shape \[4, N\]"),
        ({"box2": np.zeros(4)}, ValueError, r"box2 must have shape \[4, N\]"),
        ({"box2": np.zeros((4, 3))}, ValueError, "same shape"),
        ({"box1": np.full((4, 2), np.nan)}, ValueError, "box1 must be finite"),
        ({"box1": np.full((4, 2), "x")}, TypeError, "box1 must hold real numbers"),
        ({"wh_thr": -1}, ValueError, "wh_thr"),
        ({"ar_thr": 0.5}, ValueError, "ar_thr"),
        ({"area_thr": float("nan")}, ValueError, "area_thr"),
        ({"eps": "1"}, TypeError, "eps"),
    ],
)
def test_box_candidates_bad_input(kwargs: dict, error: type, match: str) -> None:
    args = {"box1": np.zeros((4, 2)), "box2": np.zeros((4, 2)), **kwargs}
    with pytest.raises(error, match=match):
        box_candidates(**args)


def test_box_candidates_empty() -> None:
    assert box_candidates(np.zeros((4, 0)), np.zeros((4, 0))).shape == (0,)
