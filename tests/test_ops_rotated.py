"""Rotated boxes: box_convert's rotated formats, rotated box_iou and nms_rotated.

Reference values come from ``tests/fixtures/torchvision_rotated.pt``
(``scripts/make_reference_fixtures.py --only torchvision_rotated.pt``, torch 2.14.1 and
torchvision 0.29.1): torchvision's ``box_convert`` between ``cxcywhr``, ``xywhr`` and
``xyxyxyxy``, its ``box_iou(..., fmt=...)`` on random, dense and degenerate boxes (NaN and
infinite angles, zero and negative sizes, identical and touching boxes), and detectron2's
greedy rotated NMS as a plain loop over torchvision's rotated IoU.

What is exact. The compiled CPU IoU of ``cxcywhr`` boxes repeats torchvision's C++ kernel
operation for operation with the C library's ``cos``/``sin``: bit for bit on every machine.
The conversions go through torch's vectorised ``cos``/``sin``/``atan2``, which differ by an
ulp or so between ATen's CPU capabilities: bit for bit on the fixtures' capability, within
``TRANSCENDENTAL_ULPS`` elsewhere; IoUs of converted (``xywhr``, ``xyxyxyxy``) boxes likewise
bit for bit there and within ``CONVERTED_IOU_ATOL`` elsewhere. The torch path (other devices)
sorts the polygon's points by angle instead of torchvision's Graham scan: within
``TORCH_PATH_ATOL``. NMS indices are exact everywhere.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import torch

from test_ops_reference import assert_same, assert_transcendental, same_cpu_as
from tinyvision import ops
from tinyvision.ops import _rotated_kernels as _kernels
from tinyvision.ops.boxes import _rotated_iou_torch

nms_module = importlib.import_module("tinyvision.ops.nms")

FIXTURES = Path(__file__).parent / "fixtures"
# IoUs of xywhr/xyxyxyxy boxes off the fixtures' CPU capability: the converted centres and
# angles move by an ulp or two; measured under ATEN_CPU_CAPABILITY=default/avx2/avx512.
CONVERTED_IOU_ATOL = 1e-5
# The vectorised torch path against torchvision's float32 IoUs (largest measured: 2.2e-7).
TORCH_PATH_ATOL = 1e-6


@cache
def fixture() -> dict:
    return torch.load(FIXTURES / "torchvision_rotated.pt", weights_only=True)


def _ids(section: str) -> list[str]:
    return [case["name"] for case in fixture()[section]]


def test_fixture_metadata_and_coverage() -> None:
    data = fixture()
    assert data["meta"]["torchvision"].startswith("0.29.1")
    names = _ids("box_iou")
    assert {n.split("/")[0] for n in names} == {"random", "dense", "adversarial"}
    adversarial = next(c for c in data["box_iou"] if c["name"] == "adversarial/float32/cxcywhr")
    iou = adversarial["iou"]
    # the degenerate rows say what torchvision does: clamp to 1, zero for degenerate boxes
    assert float(iou[0, 1]) == 1.0 and float(iou[0, 2]) == 1.0
    assert float(iou[8].abs().max()) == 0.0  # zero width
    assert float(iou[18].abs().max()) == 0.0  # NaN centre: no intersection point, 0 / union
    # pairs the pruning answers at once and pairs it must not: sparse cases keep few boxes
    kept = {c["name"]: len(c["keep"]) for c in data["nms_rotated"]}
    assert kept["sparse/thr=0.5"] > kept["crowd/thr=0.5"] > 1


@pytest.mark.parametrize("index", range(len(_ids("box_iou"))), ids=_ids("box_iou"))
def test_box_iou_matches_torchvision(index: int) -> None:
    case = fixture()["box_iou"][index]
    actual = ops.box_iou(case["boxes1"], case["boxes2"], fmt=case["fmt"])
    if case["fmt"] == "cxcywhr" or same_cpu_as(fixture()["meta"]):
        assert_same(actual, case["iou"])
    else:
        torch.testing.assert_close(
            actual, case["iou"], rtol=0, atol=CONVERTED_IOU_ATOL, equal_nan=True
        )


@pytest.mark.parametrize("index", range(len(_ids("box_iou"))), ids=_ids("box_iou"))
def test_torch_path_matches_torchvision(index: int) -> None:
    """Within TORCH_PATH_ATOL everywhere but where torchvision's own kernel loses hull points:
    boxes that coincide (same centre and sides, angles 180 degrees apart up to float32
    rounding) give torchvision 0.36 instead of 1; the torch path gives the geometric 1."""
    case = fixture()["box_iou"][index]
    boxes1, boxes2 = case["boxes1"], case["boxes2"]
    if case["fmt"] != "cxcywhr":
        boxes1 = ops.box_convert(boxes1, case["fmt"], "cxcywhr")
        boxes2 = ops.box_convert(boxes2, case["fmt"], "cxcywhr")
    actual = _rotated_iou_torch(boxes1, boxes2).float()
    expected = case["iou"]
    assert torch.equal(actual.isnan(), expected.isnan())
    off = ((actual - expected).abs() > TORCH_PATH_ATOL).nonzero().tolist()
    assert len(off) <= 4, off
    for i, j in off:
        a, b = boxes1[i].double(), boxes2[j].double()
        assert float(actual[i, j]) == 1.0 and float(expected[i, j]) < 0.5
        assert (
            float((a[:4] - b[:4]).abs().max()) < 1e-5 or float((a[:2] - b[:2]).abs().max()) < 1e-5
        )
        assert sorted(a[2:4].tolist()) == sorted(b[2:4].tolist())


@pytest.mark.parametrize("index", range(len(_ids("box_convert"))), ids=_ids("box_convert"))
def test_box_convert_matches_torchvision(index: int) -> None:
    case = fixture()["box_convert"][index]
    actual = ops.box_convert(case["boxes"], case["in_fmt"], case["out_fmt"])
    assert_transcendental(actual, case["out"], fixture()["meta"])


@pytest.mark.parametrize("index", range(len(_ids("nms_rotated"))), ids=_ids("nms_rotated"))
def test_nms_rotated_matches_reference_loop(index: int) -> None:
    case = fixture()["nms_rotated"][index]
    boxes, scores, thr = case["boxes"], case["scores"], case["iou_threshold"]
    assert_same(ops.nms_rotated(boxes, scores, thr), case["keep"])
    order = torch.sort(scores, stable=True, descending=True)[1]
    assert_same(order[nms_module._rotated_keep_torch(boxes[order], thr)], case["keep"])


def test_pruning_changes_no_pair() -> None:
    """The compiled matrix skips pairs too far apart to meet; every entry must equal the
    full polygon computation. torchvision's tolerance is absolute (1e-5 on dot products), so
    tiny boxes "contain" corners far outside them: a 1e-3 box sees one 4e-3 away."""
    rng = np.random.default_rng(7)
    n = 60
    centre = rng.uniform(0, 30, (n, 2))
    size = rng.uniform(1, 9, (n, 2))
    tiny_centre = rng.uniform(0, 0.02, (30, 2))
    tiny_size = rng.uniform(5e-4, 2e-3, (30, 2))
    boxes = np.concatenate(
        [
            np.concatenate([centre, tiny_centre]),
            np.concatenate([size, tiny_size]),
            rng.uniform(-180, 180, (n + 30, 1)),
        ],
        axis=1,
    )
    for dtype in (np.float32, np.float64):
        b = np.ascontiguousarray(boxes, dtype=dtype)
        consts = _kernels.rotated_constants(b.dtype)
        matrix = _kernels.rotated_pairwise_iou(b, b, consts)
        scratch = np.empty((64, 3), dtype=dtype)
        trig = _kernels._rotated_trig(b, consts)
        pair = _kernels._rotated_iou_pair
        rows = range(len(b))
        full = np.array(
            [[pair(b[i], b[j], trig[i], trig[j], scratch, consts) for j in rows] for i in rows]
        )
        np.testing.assert_array_equal(matrix, full.astype(dtype))
        # pairs whose circumscribed circles are apart, yet torchvision's IoU is not 0
        half_diagonal = np.hypot(b[:, 2], b[:, 3]) / 2
        apart = np.hypot(*(b[:, None, :2] - b[None, :, :2]).transpose(2, 0, 1)) > (
            half_diagonal[:, None] + half_diagonal[None, :]
        )
        assert (apart & (matrix > 0)).sum() > 10


def test_known_values() -> None:
    """Hand-checkable IoUs: identical boxes, a square shifted by half its side, a rectangle
    turned a quarter (the same set), disjoint boxes, and a square against itself at 45°
    (the intersection is a regular octagon of area 8 (sqrt(2) - 1))."""
    boxes = torch.tensor(
        [[0, 0, 2, 2, 0], [1, 0, 2, 2, 0], [0, 0, 2, 2, 90], [5, 5, 2, 2, 30], [0, 0, 2, 2, 45]],
        dtype=torch.float64,
    )
    iou = ops.box_iou(boxes, boxes, fmt="cxcywhr")
    assert iou.dtype == torch.float32
    octagon = 8 * (2**0.5 - 1)
    expected = torch.tensor([1.0, 1 / 3, 1.0, 0.0, octagon / (8 - octagon)], dtype=torch.float32)
    torch.testing.assert_close(iou[0], expected, rtol=0, atol=1e-6)
    torch.testing.assert_close(iou, iou.T, rtol=0, atol=1e-6)
    rect = torch.tensor([[3.0, 4.0, 6.0, 2.0, 0.0]])
    turned = torch.tensor([[3.0, 4.0, 2.0, 6.0, 90.0]])
    assert float(ops.box_iou(rect, turned, fmt="cxcywhr")) == pytest.approx(1.0, abs=1e-6)


def test_angle_sign_and_corner_order() -> None:
    """Counter-clockwise in the image plane (y down): a positive angle lifts the first edge."""
    box = torch.tensor([[0.0, 0.0, 4.0, 2.0, 90.0]], dtype=torch.float64)
    corners = ops.box_convert(box, "xywhr", "xyxyxyxy")[0]
    # (x1, y1) stays, (x2, y2) is w along the rotated first edge: up in the image
    torch.testing.assert_close(
        corners[:4], torch.tensor([0.0, 0.0, 0.0, -4.0], dtype=torch.float64), atol=1e-12, rtol=0
    )
    back = ops.box_convert(corners[None], "xyxyxyxy", "xywhr")
    torch.testing.assert_close(back, box, atol=1e-12, rtol=0)


def test_empty_inputs() -> None:
    empty = torch.zeros((0, 5))
    some = torch.tensor([[1.0, 1.0, 2.0, 2.0, 0.0]])
    assert ops.box_iou(empty, some, fmt="cxcywhr").shape == (0, 1)
    assert ops.box_iou(some, empty, fmt="xywhr").shape == (1, 0)
    assert (
        ops.box_iou(torch.zeros((0, 8)), torch.zeros((2, 8)), fmt="xyxyxyxy").dtype == torch.float32
    )
    keep = ops.nms_rotated(empty, torch.zeros(0), 0.5)
    assert keep.dtype == torch.int64 and keep.numel() == 0


def test_other_dtypes_compute_in_float32() -> None:
    boxes = torch.tensor([[10.0, 10.0, 8.0, 4.0, 30.0], [12.0, 10.0, 8.0, 4.0, 0.0]])
    expected = ops.box_iou(boxes, boxes, fmt="cxcywhr")
    for dtype in (torch.float16, torch.bfloat16, torch.int64):
        actual = ops.box_iou(boxes.to(dtype), boxes.to(dtype), fmt="cxcywhr")
        assert actual.dtype == torch.float32
        assert actual.shape == (2, 2)
    assert_same(
        ops.box_iou(boxes.half(), boxes.half(), fmt="cxcywhr"),
        ops.box_iou(boxes.half().float(), boxes.half().float(), fmt="cxcywhr"),
    )
    assert float(expected[0, 0]) == 1.0


def test_nms_rotated_threshold_is_inclusive() -> None:
    """detectron2 suppresses at IoU >= threshold (torchvision's nms keeps IoU == threshold)."""
    boxes = torch.tensor(
        [[0.0, 0.0, 2.0, 2.0, 0.0], [1.0, 0.0, 2.0, 2.0, 0.0]], dtype=torch.float64
    )
    scores = torch.tensor([0.9, 0.8], dtype=torch.float64)
    iou = float(
        _kernels.rotated_pairwise_iou(
            boxes.numpy(), boxes.numpy(), _kernels.rotated_constants(np.float64)
        )[0, 1]
    )
    assert iou == pytest.approx(1 / 3)
    assert ops.nms_rotated(boxes, scores, iou).tolist() == [0]
    assert ops.nms_rotated(boxes, scores, np.nextafter(iou, 1.0)).tolist() == [0, 1]
    # stable order: equal scores keep the lower index first
    assert ops.nms_rotated(boxes, torch.ones(2, dtype=torch.float64), 0.9).tolist() == [0, 1]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: ops.box_convert(torch.zeros(3, 4), "cxcywhr", "xywhr"),
            ValueError,
            r"boxes must be a Tensor of shape \[\.\.\., 5\]",
        ),
        (
            lambda: ops.box_convert(torch.zeros(3, 5), "xyxyxyxy", "xywhr"),
            ValueError,
            r"\[\.\.\., 8\]",
        ),
        (
            lambda: ops.box_convert(torch.zeros(3, 5), "xywhr", "xyxy"),
            NotImplementedError,
            "axis-aligned and a rotated",
        ),
        (
            lambda: ops.box_convert(torch.zeros(3, 4), "xyxy", "cxcywhr"),
            ValueError,
            "axis-aligned and a rotated",
        ),
        (
            lambda: ops.box_convert(torch.zeros(3, 5), "xywha", "xywhr"),
            ValueError,
            "in_fmt must be one of",
        ),
        (
            lambda: ops.box_iou(torch.zeros(3, 4), torch.zeros(2, 4), fmt="cxcywhr"),
            ValueError,
            r"boxes1 must be a Tensor of shape \[N, 5\]",
        ),
        (
            lambda: ops.box_iou(torch.zeros(1, 3, 5), torch.zeros(1, 2, 5), fmt="cxcywhr"),
            ValueError,
            r"boxes1 must be a Tensor of shape \[N, 5\]",
        ),
        (
            lambda: ops.box_iou(torch.zeros(3, 5), torch.zeros(2, 4), fmt="xywhr"),
            ValueError,
            "boxes2",
        ),
        (
            lambda: ops.box_iou(
                torch.zeros(3, 5), torch.zeros(2, 5), fmt="cxcywhr", legacy_pixel=True
            ),
            ValueError,
            "legacy_pixel",
        ),
        (
            lambda: ops.box_iou(
                torch.zeros(3, 5, dtype=torch.bool), torch.zeros(2, 5), fmt="cxcywhr"
            ),
            TypeError,
            "boxes1",
        ),
        (
            lambda: ops.nms_rotated(torch.zeros(3, 4), torch.zeros(3), 0.5),
            ValueError,
            r"boxes must be a Tensor of shape \[N, 5\]",
        ),
        (
            lambda: ops.nms_rotated(torch.zeros(3, 5), torch.zeros(2), 0.5),
            ValueError,
            "same length|same number",
        ),
        (
            lambda: ops.nms_rotated(torch.zeros(3, 5), torch.zeros(3, 1), 0.5),
            ValueError,
            r"scores must be a Tensor of shape \[N\]",
        ),
        (
            lambda: ops.nms_rotated(torch.zeros(3, 5, dtype=torch.int64), torch.zeros(3), 0.5),
            TypeError,
            "floating point",
        ),
        (
            lambda: ops.nms_rotated(torch.zeros(3, 5), torch.zeros(3), float("nan")),
            ValueError,
            "iou_threshold",
        ),
        (
            lambda: ops.nms_rotated([[0, 0, 1, 1, 0]], torch.zeros(1), 0.5),
            TypeError,
            "boxes must be a torch.Tensor",
        ),
    ],
)
def test_bad_input(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call()


def _pair_scratch(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The scratch rows of the pair ``a``, ``b`` as the matrix kernel fills them before the
    candidate points: the shifted centres and the eight corners."""
    boxes = np.stack([a, b])
    consts = _kernels.rotated_constants(boxes.dtype)
    trig = _kernels._rotated_trig(boxes, consts)
    s = np.zeros((64, 3), dtype=boxes.dtype)
    shift = (boxes[0, :2] + boxes[1, :2]).astype(np.float64) / 2.0
    centres = (boxes[:, :2].astype(np.float64) - shift).astype(boxes.dtype)
    for k in range(2):
        _kernels._rotated_corners(
            centres[k, 0], centres[k, 1], *boxes[k, 2:4], *trig[k], s, 4 * k, consts[2]
        )
    return s


def test_branch_free_points_equal_torchvisions_loops() -> None:
    """The compiled candidate points (written without branches) equal a plain statement
    of torchvision's loops, count, values and order, bit for bit: random pairs, identical
    and edge-sharing boxes, right angles (parallel edges), zero sizes and a NaN angle."""
    rng = np.random.default_rng(11)
    n = 300
    boxes = np.column_stack(
        [
            rng.uniform(0, 10, (n, 2)),
            rng.uniform(0, 6, (n, 2)) * (rng.random((n, 2)) > 0.05),
            np.where(rng.random(n) < 0.5, rng.integers(-4, 5, n) * 45.0, rng.uniform(-180, 180, n)),
        ]
    )
    boxes[:30] = boxes[30:60]  # identical pairs
    boxes[60:90, :2] = boxes[90:120, :2] + boxes[90:120, 2:4] * [1, 0]  # touching sides
    boxes[60:90, 2:] = boxes[90:120, 2:]
    boxes[5, 4] = np.nan
    counts = []
    for dtype in (np.float32, np.float64):
        b = boxes.astype(dtype)
        for i in range(0, n, 2):
            for j in (i, i + 1, i + 30, n - 1 - i):
                s = _pair_scratch(b[i], b[j % n])
                num = _kernels._intersection_points(s)
                expected = s.copy()
                expected_num = _kernels._intersection_points_reference(expected)
                assert num == expected_num, (dtype, i, j)
                np.testing.assert_array_equal(
                    s[16 : 16 + num, :2].view(np.uint8), expected[16 : 16 + num, :2].view(np.uint8)
                )
                counts.append(num)
    assert min(counts) == 0 and max(counts) >= 8
