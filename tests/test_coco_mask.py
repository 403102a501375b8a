"""``tinyvision.coco.mask`` against pycocotools.mask, bit for bit, and the RLE kernels
against their reference twins."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinyvision.coco import mask as tv
from tinyvision.metrics import _rle as K

pc = pytest.importorskip("pycocotools.mask")

# pycocotools' decode under numpy 2 warns about its own __array__
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


# --------------------------------------------------------------------------------------
# Generated data
# --------------------------------------------------------------------------------------


def _blobs(rng: np.random.Generator, h: int, w: int, n: int) -> np.ndarray:
    """``uint8[h, w, n]`` Fortran masks: random ellipses, noise, and the special cases."""
    yy, xx = np.mgrid[0:h, 0:w]
    masks = np.zeros((h, w, n), dtype=np.uint8, order="F")
    for i in range(n):
        kind = i % 6 if h * w else 5
        if kind == 0:  # ellipse
            cy, cx = rng.uniform(-2, h + 2), rng.uniform(-2, w + 2)
            ry, rx = rng.uniform(0.5, h), rng.uniform(0.5, w)
            masks[:, :, i] = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        elif kind == 1:  # noise
            masks[:, :, i] = rng.random((h, w)) < rng.uniform(0.05, 0.95)
        elif kind == 2:  # full
            masks[:, :, i] = 1
        elif kind == 3 and h * w:  # one pixel
            masks[rng.integers(h), rng.integers(w), i] = 1
        elif kind == 4:  # rectangle
            y0, x0 = rng.integers(0, h + 1), rng.integers(0, w + 1)
            masks[y0 : y0 + rng.integers(1, h + 1), x0 : x0 + rng.integers(1, w + 1), i] = 1
        # kind 5: empty
    return masks


SHAPES = [(1, 1), (1, 9), (9, 1), (7, 5), (13, 31), (64, 48), (0, 0), (0, 5), (4, 0)]


def _assert_rles_equal(got, want) -> None:
    if isinstance(want, dict):
        got, want = [got], [want]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g == w and type(g["counts"]) is bytes
        assert [type(v) for v in g["size"]] == [int, int]


def _assert_arrays_equal(got, want) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got, want, equal_nan=True)


# --------------------------------------------------------------------------------------
# Masks: encode, decode, area, toBbox
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_encode_decode_area_bbox_match_pycocotools(shape) -> None:
    rng = np.random.default_rng(sum(shape) + 1)
    h, w = shape
    masks = _blobs(rng, h, w, 12)
    rles = tv.encode(masks)
    _assert_rles_equal(rles, pc.encode(masks))
    if h * w:
        decoded = tv.decode(rles)
        _assert_arrays_equal(decoded, pc.decode(rles))
        assert decoded.flags.f_contiguous and np.array_equal(decoded, masks)
    _assert_arrays_equal(tv.area(rles), pc.area(rles))
    _assert_arrays_equal(tv.toBbox(rles), pc.toBbox(rles))
    for i in range(masks.shape[2]):
        one = np.asfortranarray(masks[:, :, i])
        rle = tv.encode(one)
        _assert_rles_equal(rle, pc.encode(one))
        area = tv.area(rle)
        assert type(area) is np.uint32 and area == pc.area(rle)
        _assert_arrays_equal(tv.toBbox(rle), pc.toBbox(rle))
        if h * w:
            single = tv.decode(rle)
            _assert_arrays_equal(single, pc.decode(rle))
            assert single.flags.f_contiguous


def test_encode_breaks_runs_on_every_change_of_value_as_pycocotools() -> None:
    m = np.asfortranarray(np.array([[0, 255, 1, 1, 0, 2, 2, 0, 0]], dtype=np.uint8))
    assert tv.encode(m) == pc.encode(m)
    b = np.asfortranarray(np.random.default_rng(0).random((6, 7)) < 0.5)
    assert tv.encode(b) == pc.encode(b)  # bool masks as uint8


def test_counts_beyond_2_to_the_29_round_trip_as_pycocotools() -> None:
    for big in (2**29 + 7, 2**31 + 5, 2**32 - 10):
        obj = {"size": [big + 10, 1], "counts": [3, big, 7]}
        rle = tv.frPyObjects(obj, 1, 1)
        assert rle == pc.frPyObjects(obj, 1, 1)
        assert tv.area(rle) == pc.area(rle) == big


def test_compressed_counts_as_str_and_large_runs() -> None:
    rng = np.random.default_rng(3)
    masks = np.zeros((300, 400, 3), dtype=np.uint8, order="F")
    masks[5:290, 10:380, 0] = 1  # long runs: multi-character values, negative deltas
    masks[:, 200:, 1] = 1
    masks[:, :, 2] = rng.random((300, 400)) < 0.001
    rles = pc.encode(masks)
    as_str = [{"size": r["size"], "counts": r["counts"].decode()} for r in rles]
    _assert_rles_equal(tv.encode(masks), rles)
    _assert_arrays_equal(tv.area(as_str), pc.area(as_str))
    _assert_arrays_equal(tv.toBbox(as_str), pc.toBbox(as_str))
    _assert_arrays_equal(tv.decode(as_str), masks)


# --------------------------------------------------------------------------------------
# frPyObjects: polygons, boxes, uncompressed RLE
# --------------------------------------------------------------------------------------


def _random_polygons(rng: np.random.Generator, h: int, w: int, n: int) -> list[list[float]]:
    polys = []
    for i in range(n):
        k = int(rng.integers(3, 12))
        kind = i % 5
        if kind == 0:  # star-shaped around a centre: concave
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
            ang = np.sort(rng.uniform(0, 2 * np.pi, k))
            rad = rng.uniform(0.5, max(h, w) / 2, k)
            pts = np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1)
        elif kind == 1:  # arbitrary order: self-intersecting
            pts = np.stack([rng.uniform(0, w, k), rng.uniform(0, h, k)], 1)
        elif kind == 2:  # beyond the image on all sides
            pts = np.stack([rng.uniform(-10, w + 10, k), rng.uniform(-10, h + 10, k)], 1)
        elif kind == 3:  # on the pixel grid, on the border, half pixels, repeated points
            pts = np.stack([rng.integers(0, w + 1, k), rng.integers(0, h + 1, k)], 1) / 1.0
            pts[rng.random(k) < 0.3] += 0.5
            pts = np.repeat(pts, rng.integers(1, 3, k), axis=0)
        else:  # tiny
            pts = np.stack([rng.uniform(0, w, k), rng.uniform(0, h, k)], 1) * 0.05
        polys.append([float(v) for v in pts.ravel()])
    return polys


@pytest.mark.parametrize("h, w", [(7, 5), (40, 60), (61, 33), (1, 20), (20, 1)])
def test_polygons_rasterise_as_pycocotools(h, w) -> None:
    rng = np.random.default_rng(h * 100 + w)
    polys = _random_polygons(rng, h, w, 60)
    _assert_rles_equal(tv.frPyObjects(polys, h, w), pc.frPyObjects(polys, h, w))
    for poly in polys[:10]:  # one polygon in a list, and the odd number of coordinates
        _assert_rles_equal(tv.frPyObjects([poly], h, w), pc.frPyObjects([poly], h, w))
        odd = [*poly, 3.0]
        _assert_rles_equal(tv.frPyObjects([odd], h, w), pc.frPyObjects([odd], h, w))
    # polygons with fewer than 3 points after the first one (pycocotools keeps them)
    short = [polys[0], [1.0, 2.0], [3.0, 4.0, 5.0, 1.0], [], [2.5, 2.5, 2.5, 2.5, 2.5, 2.5]]
    _assert_rles_equal(tv.frPyObjects(short, h, w), pc.frPyObjects(short, h, w))


def test_polygon_single_object_and_fixed_cases() -> None:
    square = [1.0, 1.0, 4.0, 1.0, 4.0, 4.0, 1.0, 4.0]
    assert tv.frPyObjects(square, 6, 6) == pc.frPyObjects([square], 6, 6)[0]
    bowtie = [0.0, 0.0, 8.0, 8.0, 8.0, 0.0, 0.0, 8.0]
    assert tv.frPyObjects([bowtie], 9, 9) == pc.frPyObjects([bowtie], 9, 9)
    outside = [-5.0, -5.0, -1.0, -5.0, -1.0, -1.0]
    assert tv.frPyObjects([outside], 4, 4) == pc.frPyObjects([outside], 4, 4)
    assert tv.area(tv.frPyObjects([outside], 4, 4))[0] == 0


def test_boxes_rasterise_as_pycocotools() -> None:
    rng = np.random.default_rng(5)
    boxes = np.concatenate(
        [
            rng.uniform(-5, 30, (40, 2)),
            rng.uniform(0, 20, (40, 2)),
        ],
        axis=1,
    )
    boxes[:10] = np.round(boxes[:10])
    boxes[10:15, 2:] = 0  # empty boxes
    _assert_rles_equal(tv.frPyObjects(boxes, 25, 21), pc.frPyObjects(boxes, 25, 21))
    want = pc.frPyObjects(boxes[:3], 25, 21)
    _assert_rles_equal(tv.frPyObjects(boxes[:3].tolist(), 25, 21), want)  # list of boxes
    _assert_rles_equal(tv.frPyObjects(boxes[0].tolist(), 25, 21), want[0])  # one box
    ints = np.array([[1, 2, 3, 4]])
    _assert_rles_equal(tv.frPyObjects(ints, 9, 9), pc.frPyObjects(ints.astype(np.float64), 9, 9))


def test_uncompressed_rle_as_pycocotools() -> None:
    objs = [
        {"size": [3, 4], "counts": [0, 0, 12]},  # leading empty runs
        {"size": [3, 4], "counts": [2, 0, 3, 7]},  # an empty run in the middle
        {"size": [3, 4], "counts": [12]},
        {"size": [3, 4], "counts": [0, 12]},
        {"size": [2, 5], "counts": np.array([1, 3, 2, 4])},
        {"size": [30, 40], "counts": [100, 1000, 50, 50]},
    ]
    got, want = tv.frPyObjects(objs, 99, 99), pc.frPyObjects(objs, 99, 99)  # own size wins
    _assert_rles_equal(got, want)
    _assert_rles_equal(tv.frPyObjects(objs[1], 3, 4), pc.frPyObjects(objs[1], 3, 4))
    for rle in want[:4]:  # zero-length runs: pycocotools' quirky boxes, areas, decodes
        _assert_arrays_equal(tv.toBbox(rle), pc.toBbox(rle))
        _assert_arrays_equal(tv.area(rle), pc.area(rle))
        _assert_arrays_equal(tv.decode(rle), pc.decode(rle))


# --------------------------------------------------------------------------------------
# iou and merge
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1, 1), (1, 12), (12, 1), (23, 17), (50, 64)])
def test_mask_iou_with_crowd_matches_pycocotools(shape) -> None:
    rng = np.random.default_rng(shape[0] * 7 + shape[1])
    dt = tv.encode(_blobs(rng, *shape, 14))
    gt = tv.encode(_blobs(rng, *shape, 9))
    crowd = rng.integers(0, 2, len(gt)).tolist()
    got = tv.iou(dt, gt, crowd)
    _assert_arrays_equal(got, pc.iou(dt, gt, crowd))
    assert got.flags.f_contiguous
    _assert_arrays_equal(tv.iou(dt, dt, [0] * len(dt)), pc.iou(dt, dt, [0] * len(dt)))


def test_box_iou_matches_pycocotools() -> None:
    rng = np.random.default_rng(11)
    dt = np.concatenate([rng.uniform(0, 50, (30, 2)), rng.uniform(0, 30, (30, 2))], 1)
    gt = np.concatenate([rng.uniform(0, 50, (20, 2)), rng.uniform(0, 30, (20, 2))], 1)
    gt[0] = dt[0]
    gt[1, 2:] = 0
    crowd = (rng.random(20) < 0.3).tolist()
    _assert_arrays_equal(tv.iou(dt, gt, crowd), pc.iou(dt, gt, crowd))
    _assert_arrays_equal(tv.iou(dt.tolist(), gt, crowd), pc.iou(dt.tolist(), gt, crowd))
    assert tv.iou([], gt, crowd) == pc.iou([], gt, crowd) == []
    assert tv.iou(dt, [], []) == pc.iou(dt, [], []) == []


def test_iou_of_different_sizes_is_minus_one_where_boxes_overlap() -> None:
    a = tv.encode(np.ones((4, 4), dtype=np.uint8, order="F"))
    b = tv.encode(np.ones((5, 5), dtype=np.uint8, order="F"))
    c = tv.encode(np.asfortranarray(np.eye(4, dtype=np.uint8)))
    got = tv.iou([a, c], [b, a], [0, 1])
    _assert_arrays_equal(got, pc.iou([a, c], [b, a], [0, 1]))
    assert got[0, 0] == -1


@pytest.mark.parametrize("intersect", [0, 1, True])
def test_merge_matches_pycocotools(intersect) -> None:
    rng = np.random.default_rng(17)
    rles = tv.encode(_blobs(rng, 19, 23, 7))
    for k in (1, 2, 3, 7):
        _assert_rles_equal(tv.merge(rles[:k], intersect), pc.merge(rles[:k], intersect))
    zeros = pc.frPyObjects(
        [{"size": [3, 4], "counts": c} for c in ([0, 0, 12], [2, 0, 3, 7])], 3, 4
    )
    zeros.append(tv.encode(np.asfortranarray(rng.random((3, 4)) < 0.5).astype(np.uint8)))
    for pair in ([0, 1], [1, 2], [2, 0], [0, 1, 2]):
        objs = [zeros[i] for i in pair]
        _assert_rles_equal(tv.merge(objs, intersect), pc.merge(objs, intersect))
    mixed = [rles[0], tv.encode(np.ones((2, 2), dtype=np.uint8, order="F"))]
    assert tv.merge(mixed) == pc.merge(mixed) == {"size": [0, 0], "counts": b""}


# --------------------------------------------------------------------------------------
# Properties and kernels against their reference twins
# --------------------------------------------------------------------------------------

_masks = st.tuples(st.integers(1, 9), st.integers(1, 9), st.integers(1, 4)).flatmap(
    lambda s: hnp.arrays(np.uint8, s, elements=st.integers(0, 1))
)


@settings(max_examples=60, deadline=None)
@given(_masks)
def test_properties_of_encode(masks) -> None:
    masks = np.asfortranarray(masks)
    rles = tv.encode(masks)
    assert np.array_equal(tv.decode(rles), masks)
    assert np.array_equal(tv.area(rles), masks.sum(axis=(0, 1)))
    boxes = tv.toBbox(rles)
    for i in range(masks.shape[2]):
        ys, xs = np.nonzero(masks[:, :, i])
        want = (
            [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
            if xs.size
            else [0, 0, 0, 0]
        )
        assert boxes[i].tolist() == want
    union = tv.decode(tv.merge(rles))
    inter = tv.decode(tv.merge(rles, intersect=1))
    assert np.array_equal(union, masks.max(axis=2)) and np.array_equal(inter, masks.min(axis=2))
    ious = tv.iou(rles, rles, [0] * len(rles))
    nonempty = masks.reshape(-1, masks.shape[2], order="F").any(axis=0)
    assert np.array_equal(np.diag(ious), nonempty.astype(np.float64))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2**32 - 1), max_size=8), max_size=5))
def test_string_codec_round_trip_and_references(all_counts) -> None:
    offsets = np.zeros(len(all_counts) + 1, dtype=np.int64)
    np.cumsum([len(c) for c in all_counts], out=offsets[1:])
    flat = np.array([v for c in all_counts for v in c], dtype=np.uint32)
    buf, starts = K.counts_to_strings(flat, offsets)
    for i, c in enumerate(all_counts):
        assert buf[starts[i] : starts[i + 1]].tobytes() == K.counts_to_string_reference(c)
    back, back_offsets, bad = K.strings_to_counts(buf, starts)
    assert bad == -1 and np.array_equal(back, flat) and np.array_equal(back_offsets, offsets)
    for i, c in enumerate(all_counts):
        assert K.string_to_counts_reference(buf[starts[i] : starts[i + 1]].tobytes()) == c


@settings(max_examples=40, deadline=None)
@given(_masks, st.lists(st.booleans(), min_size=4, max_size=4))
def test_kernels_match_reference_twins(masks, crowd_flags) -> None:
    h, w, n = masks.shape
    rows = np.ascontiguousarray(np.asfortranarray(masks).reshape(h * w, n, order="F").T)
    counts, offsets = K.encode(rows)
    each = K.encode_reference(rows)
    assert all(np.array_equal(counts[offsets[i] : offsets[i + 1]], each[i]) for i in range(n))
    assert np.array_equal(K.decode(counts, offsets, h * w), rows)
    assert all(np.array_equal(K.decode_reference(c), rows[i]) for i, c in enumerate(each))
    assert np.array_equal(K.area(counts, offsets), [K.area_reference(c) for c in each])
    sizes = np.full(n, h, dtype=np.int64), np.full(n, w, dtype=np.int64)
    boxes = K.to_bbox(counts, offsets, *sizes)
    assert np.array_equal(boxes, [K.to_bbox_reference(c, h, w) for c in each])
    crowd = np.array(crowd_flags[:n], dtype=np.uint8)
    got = K.rle_iou(counts, offsets, boxes, counts, offsets, boxes, crowd)
    assert np.array_equal(got, K.rle_iou_reference(each, each, crowd))
    assert np.array_equal(
        K.bbox_iou(boxes, boxes, crowd), K.bbox_iou_reference(boxes, boxes, crowd)
    )
    for intersect in (False, True):
        assert np.array_equal(
            K.merge(counts, offsets, intersect), K.merge_reference(list(rows), intersect)
        )


def test_polygon_kernel_matches_its_python_twin() -> None:
    rng = np.random.default_rng(23)
    polys = _random_polygons(rng, 17, 29, 25)
    got = tv.frPyObjects(polys, 17, 29)
    for poly, rle in zip(polys, got):
        want = K.counts_to_string_reference(K.from_polygon_reference(poly, 17, 29).tolist())
        assert rle["counts"] == want
        xy = np.asarray(poly).reshape(-1, 2)
        assert np.array_equal(K._polygon(xy, 17, 29), K._polygon_walk(xy, 17, 29))


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------

GOOD = {"size": [2, 3], "counts": b"123"}  # counts 1, 2, 3


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: tv.encode(np.zeros((3, 4), dtype=np.uint8)), ValueError, "Fortran"),
        (lambda: tv.encode(np.zeros((3, 4), dtype=np.int64, order="F")), ValueError, "uint8"),
        (lambda: tv.encode(np.zeros(5, dtype=np.uint8)), ValueError, "[h, w]"),
        (lambda: tv.encode([[0, 1]]), TypeError, "bimask"),
        (lambda: tv.decode({"size": [2, 3], "counts": b"12"}), ValueError, "sum to"),
        (lambda: tv.decode({"size": [2, 3], "counts": b"1234"}), ValueError, "sum to"),
        (lambda: tv.area([GOOD, {"size": [2, 3], "counts": b"1 3"}]), ValueError, "[1]"),
        (lambda: tv.area({"size": [2, 3], "counts": b"1b"}), ValueError, "valid"),  # cut
        (lambda: tv.toBbox({"size": [2, 3], "counts": b"1\x003"}), ValueError, "valid"),
        (lambda: tv.toBbox({"size": [2, 3], "counts": "1é3"}), ValueError, "'counts'"),
        (lambda: tv.area({"size": [2, 3], "counts": b"1@3"}), ValueError, "valid"),  # -16
        (lambda: tv.area({"size": [2, 3], "counts": [1, 2, 3]}), TypeError, "frPyObjects"),
        (lambda: tv.area({"counts": b"0"}), ValueError, "'size'"),
        (lambda: tv.area({"size": [2], "counts": b"6"}), ValueError, "[height, width]"),
        (lambda: tv.area({"size": [-2, 3], "counts": b"6"}), ValueError, "[height, width]"),
        (lambda: tv.area([GOOD, 5]), TypeError, "rleObjs[1]"),
        (lambda: tv.decode([]), ValueError, "empty"),
        (lambda: tv.decode([GOOD, {"size": [3, 2], "counts": b"6"}]), ValueError, "one size"),
        (lambda: tv.merge([]), ValueError, "empty"),
        (lambda: tv.merge(GOOD), TypeError, "list"),
        (lambda: tv.merge([GOOD], None), TypeError, "intersect"),
        (lambda: tv.iou([GOOD], [GOOD], [0, 1]), ValueError, "pyiscrowd"),
        (lambda: tv.iou([GOOD], [GOOD], None), TypeError, "pyiscrowd"),
        (lambda: tv.iou([GOOD], [[0, 0, 1, 1]], [0]), TypeError, "one kind"),
        (lambda: tv.iou(GOOD, [GOOD], [0]), TypeError, "dt"),
        (lambda: tv.iou(np.zeros((2, 3)), np.zeros((1, 4)), [0]), ValueError, "[N, 4]"),
        (lambda: tv.iou([GOOD, [1, 2, 3]], [GOOD], [0]), TypeError, "dt"),
        (lambda: tv.frPyObjects([{"size": [2, 3], "counts": [1, 2]}], 2, 3), ValueError, "6"),
        (lambda: tv.frPyObjects({"size": [2, 3], "counts": [7, -1]}, 2, 3), ValueError, "0"),
        (lambda: tv.frPyObjects({"size": [2, 3], "counts": b"6"}, 2, 3), TypeError, "list"),
        (lambda: tv.frPyObjects([[1.0, 2.0]], 5, 5), TypeError, "polygons"),
        (lambda: tv.frPyObjects([[0, 0, 1, 0, np.nan, 1]], 5, 5), ValueError, "finite"),
        (lambda: tv.frPyObjects([[0, 0, 1, 0, 1, 1], ["a"]], 5, 5), TypeError, "pyobj[1]"),
        (lambda: tv.frPyObjects([[0, 0, 1, 0, 1, 1], ["a", "b"]], 5, 5), TypeError, "pyobj[1]"),
        (lambda: tv.frPyObjects({"size": [1, 3], "counts": [1.0, 2.0]}, 1, 3), TypeError, "ints"),
        (lambda: tv.frPyObjects({"size": [1, 3], "counts": [3, 2**64]}, 1, 3), ValueError, "2**32"),
        (lambda: tv.frPyObjects({"size": [1, 3], "counts": [3, 2**33]}, 1, 3), ValueError, "2**32"),
        (lambda: tv.frPyObjects([[0, 0, 1, 1]], -1, 5), ValueError, "h"),
        (lambda: tv.frPyObjects([[0, 0, 1, 1]], 5, 2.0), TypeError, "w"),
        (lambda: tv.frPyObjects(np.zeros((2, 3)), 5, 5), ValueError, "[N, 4]"),
        (lambda: tv.frPyObjects("x", 5, 5), TypeError, "pyobj"),
    ],
)
def test_bad_input_raises_naming_the_argument(call, error, words) -> None:
    with pytest.raises(error, match=None) as info:
        call()
    assert words in str(info.value)


def test_compiled_kernels_match_their_python_functions() -> None:
    rng = np.random.default_rng(29)
    masks = _blobs(rng, 9, 7, 6)
    rows = np.ascontiguousarray(masks.reshape(63, 6, order="F").T)
    counts, offsets = K.encode(rows)
    py_counts, py_offsets = K.encode.py_func(rows)
    assert np.array_equal(counts, py_counts) and np.array_equal(offsets, py_offsets)
    assert np.array_equal(K.decode.py_func(counts, offsets, 63), rows)
    assert np.array_equal(K.area.py_func(counts, offsets), K.area(counts, offsets))
    h, w = np.full(6, 9, dtype=np.int64), np.full(6, 7, dtype=np.int64)
    boxes = K.to_bbox(counts, offsets, h, w)
    assert np.array_equal(K.to_bbox.py_func(counts, offsets, h, w), boxes)
    crowd = np.array([0, 1, 0, 1, 0, 0], dtype=np.uint8)
    assert np.array_equal(
        K.rle_iou.py_func(counts, offsets, boxes, counts, offsets, boxes, crowd),
        K.rle_iou(counts, offsets, boxes, counts, offsets, boxes, crowd),
    )
    for intersect in (False, True):
        assert np.array_equal(
            K.merge.py_func(counts, offsets, intersect), K.merge(counts, offsets, intersect)
        )
    buf, starts = K.counts_to_strings(counts, offsets)
    py_buf, py_starts = K.counts_to_strings.py_func(counts, offsets)
    assert np.array_equal(buf, py_buf) and np.array_equal(starts, py_starts)
    back = K.strings_to_counts.py_func(buf, starts)
    assert np.array_equal(back[0], counts) and back[2] == -1


_coords = st.floats(-3, 14, allow_nan=False).map(lambda v: round(v * 4) / 4)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(_coords, min_size=6, max_size=16), min_size=1, max_size=3))
def test_polygons_rasterise_as_pycocotools_property(polys) -> None:
    assert tv.frPyObjects(polys, 11, 9) == pc.frPyObjects(polys, 11, 9)


def test_reciprocal_divmod_is_exact() -> None:
    rng = np.random.default_rng(31)
    for b in (1, 2, 3, 7, 360, 427, 480, 640, 4095, 65537, 2**31 - 1):
        q = rng.integers(0, 2**32 // b + 1, 200)
        for a in np.concatenate([q * b, q * b - 1, q * b + 1, rng.integers(0, 2**32, 50)]):
            if a >= 0:
                assert K._divmod(int(a), b, 1.0 / b) == divmod(int(a), b)
