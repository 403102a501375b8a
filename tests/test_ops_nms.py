"""tinyvision.ops NMS: hand cases, slow textbook references, compiled vs torch paths, bad input.

torchvision's own results are checked in test_ops_reference.py; here DIoU-NMS and Soft-NMS
(which torchvision lacks) are compared with slow loops written out below.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from tinyvision import ops
from tinyvision.data.synthetic import clustered_detections
from tinyvision.ops import _kernels
from tinyvision.ops.nms import _float32_floor, _greedy_keep_torch, _group, _soft_nms_torch


def exact(actual: torch.Tensor, expected: torch.Tensor) -> None:
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    torch.testing.assert_close(actual, expected, rtol=0, atol=0, equal_nan=True)


def scene(n_objects: int = 20, per: int = 15, classes: int = 3, seed: int = 0):
    s = clustered_detections(n_objects, per, num_classes=classes, seed=seed)
    return s.boxes, s.scores, s.labels


# --------------------------------------------------------------------------- slow references


def greedy_reference(criterion: torch.Tensor, scores: torch.Tensor, threshold: float) -> list:
    """Textbook greedy NMS over a precomputed ``[N, N]`` criterion matrix (float32 values,
    compared in double precision like torchvision)."""
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    keep: list[int] = []
    for i in order:
        if all(not (float(criterion[k, i]) > threshold) for k in keep):
            keep.append(i)
    return keep


def soft_nms_reference(boxes, scores, threshold, sigma, score_threshold, method) -> tuple:
    """Bodla et al.'s Soft-NMS, one box at a time, in float32 numpy scalars."""
    b = boxes.numpy().astype(np.float32)
    s = {i: np.float32(v) for i, v in enumerate(scores.numpy()) if v >= score_threshold}
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    keep, kept = [], []
    while s:
        top = max(s.values())
        p = min(i for i, v in s.items() if v == top)
        keep.append(p)
        kept.append(s.pop(p))
        for q in list(s):
            w = max(np.float32(0), min(b[p, 2], b[q, 2]) - max(b[p, 0], b[q, 0]))
            h = max(np.float32(0), min(b[p, 3], b[q, 3]) - max(b[p, 1], b[q, 1]))
            inter = w * h
            with np.errstate(invalid="ignore"):
                iou = inter / (area[p] + area[q] - inter)
            iou = np.float32(0) if np.isnan(iou) else iou
            if method == "gaussian":
                s[q] = s[q] * np.exp(-(iou * iou) / np.float32(sigma))
            elif iou > threshold:
                s[q] = s[q] * (np.float32(1) - iou)
            if not s[q] >= score_threshold:
                del s[q]
    return keep, kept


# --------------------------------------------------------------------------- hand cases


def test_pair_exactly_at_the_threshold_is_kept() -> None:
    # [0,0,2,1] and [0,0,1,1]: intersection 1, union 2 + 1 - 1 = 2 -> IoU exactly 0.5
    boxes = torch.tensor([[0.0, 0, 2, 1], [0, 0, 1, 1]])
    scores = torch.tensor([0.9, 0.8])
    exact(ops.nms(boxes, scores, 0.5), torch.tensor([0, 1]))  # 0.5 > 0.5 is false
    exact(ops.nms(boxes, scores, 0.4999), torch.tensor([0]))


def test_ties_keep_the_lower_index_first_and_nan_scores_sort_first() -> None:
    boxes = torch.tensor([[0.0, 0, 1, 1], [10, 10, 11, 11], [20, 20, 21, 21], [0, 0, 1, 1]])
    exact(ops.nms(boxes, torch.tensor([0.5, 0.5, 0.5, 0.5]), 0.5), torch.tensor([0, 1, 2]))
    scores = torch.tensor([0.5, float("nan"), 0.9, 0.7])
    # torch.sort puts NaN first; box 3 (0.7) is a copy of box 0 (0.5) and suppresses it
    exact(ops.nms(boxes, scores, 0.5), torch.tensor([1, 2, 3]))


def test_empty_and_single_inputs() -> None:
    for fn in (ops.nms, ops.diou_nms):
        out = fn(torch.zeros(0, 4), torch.zeros(0), 0.5)
        assert out.dtype == torch.int64 and out.shape == (0,)
    out = ops.batched_nms(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, dtype=torch.int64), 0.5)
    assert out.shape == (0,)
    keep, kept = ops.soft_nms(torch.zeros(0, 4), torch.zeros(0))
    assert keep.shape == (0,) and kept.shape == (0,)
    exact(ops.nms(torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([0.1]), 0.5), torch.tensor([0]))


def test_zero_area_and_inverted_boxes_never_suppress() -> None:
    # A point box has area 0: IoU with itself is 0 / 0 = NaN, never > threshold.
    # An inverted box intersects nothing: IoU 0 (or -0), kept at any threshold >= 0.
    boxes = torch.tensor([[5.0, 5, 5, 5], [5, 5, 5, 5], [4, 4, 2, 2], [0, 0, 10, 10]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    exact(ops.nms(boxes, scores, 0.0), torch.tensor([0, 1, 2, 3]))
    # a negative threshold suppresses every box whose IoU is a number (here 0 > -0.1)
    exact(ops.nms(boxes[2:], scores[2:], -0.1), torch.tensor([0]))


def test_float32_threshold_compared_in_double() -> None:
    # IoU([0,0,1,1], [0,0,3,1]) = 1/3, which is 0.3333333432... in float32: above the double
    # 1/3 (suppressed) but not above float32(1/3) itself (kept).
    boxes = torch.tensor([[0.0, 0, 1, 1], [0, 0, 3, 1]])
    scores = torch.tensor([0.9, 0.8])
    exact(ops.nms(boxes, scores, 1 / 3), torch.tensor([0]))
    exact(ops.nms(boxes, scores, float(np.float32(1 / 3))), torch.tensor([0, 1]))
    exact(ops.nms(boxes.double(), scores.double(), 1 / 3), torch.tensor([0, 1]))  # exact 1/3
    # the helper behind the vectorised path
    for value in (1 / 3, 0.5, -0.7, 0.1, 1e-30, 3.5e38, -3.5e38):
        f = _float32_floor(value)
        assert f <= value and float(np.float32(f)) == f
        with np.errstate(over="ignore"):  # the float32 maximum steps to inf
            assert float(np.nextafter(np.float32(f), np.float32(np.inf))) > value


def test_half_precision_boxes_are_computed_in_float32() -> None:
    boxes, scores, _ = scene()
    half = boxes.half()
    exact(ops.nms(half, scores, 0.5), ops.nms(half.float(), scores, 0.5))


def test_boxes_that_require_grad_are_accepted() -> None:
    boxes, scores, _ = scene()
    exact(ops.nms(boxes.requires_grad_(True), scores, 0.5), ops.nms(boxes.detach(), scores, 0.5))


def test_radix_order_equals_torch_sort() -> None:
    # NaN of any sign and payload first, +inf .. -inf, -0.0 tied with 0.0, ties by index
    nan, inf = float("nan"), float("inf")
    special = torch.tensor([0.5, nan, 0.7, 0.5, -nan, -0.0, 0.0, inf, -inf, 1e-45, -1e-45, 0.5])
    g = torch.Generator().manual_seed(9)
    bit_patterns = torch.randint(-(2**31), 2**31 - 1, (5000,), generator=g).to(torch.int32)
    for scores in (
        special,
        bit_patterns.view(torch.float32),
        torch.rand(3000, generator=g),
        torch.zeros(0),
        torch.ones(7),
    ):
        expected = torch.sort(scores, stable=True, descending=True)[1].numpy()
        got = _kernels.descending_order(scores.view(torch.int32).numpy())
        assert np.array_equal(got, expected)


def test_grouping_equals_stable_sort() -> None:
    g = torch.Generator().manual_seed(10)
    cases = [
        torch.randint(0, 80, (2000,), generator=g),
        torch.randint(-5, 5, (300,), generator=g),
        torch.tensor([7, 7, 7]),
        torch.tensor([0, 10**15, -(10**15), 0]),  # too wide a span: falls back to a sort
        torch.randint(0, 4, (50,), generator=g).double() / 2,  # float categories
    ]
    for labels in cases:
        positions, bounds = _group(labels.numpy())
        expected = torch.sort(labels, stable=True)[1].numpy()
        assert np.array_equal(positions, expected)
        grouped = labels.numpy()[positions]
        assert bounds[0] == 0 and bounds[-1] == len(labels)
        assert len(bounds) - 1 == len(np.unique(grouped))
        for lo, hi in itertools.pairwise(bounds):
            assert (grouped[lo:hi] == grouped[lo]).all()


# --------------------------------------------------------------------------- batched_nms


def test_batched_nms_is_nms_per_class_in_score_order() -> None:
    boxes, scores, labels = scene(30, 20, classes=4, seed=1)
    keep = ops.batched_nms(boxes, scores, labels, 0.5)
    per_class = []
    for c in labels.unique():
        members = torch.where(labels == c)[0]
        per_class += members[ops.nms(boxes[members], scores[members], 0.5)].tolist()
    expected = sorted(per_class, key=lambda i: (-float(scores[i]), i))
    assert keep.tolist() == expected


def test_batched_nms_ties_keep_lower_index_first() -> None:
    boxes = torch.tensor([[0.0, 0, 1, 1], [5, 5, 6, 6], [0, 0, 1, 1], [9, 9, 10, 10]])
    scores = torch.tensor([0.5, 0.5, 0.5, 0.5])
    idxs = torch.tensor([1, 0, 2, 1])
    # box 2 duplicates box 0 but is another class: nothing is suppressed; order = index order
    exact(ops.batched_nms(boxes, scores, idxs, 0.5), torch.tensor([0, 1, 2, 3]))
    exact(ops.batched_nms(boxes, scores, torch.tensor([1, 0, 1, 1]), 0.5), torch.tensor([0, 1, 3]))


def test_batched_nms_accepts_float_negative_and_huge_categories() -> None:
    boxes, scores, labels = scene(10, 10, classes=3, seed=2)
    expected = ops.batched_nms(boxes, scores, labels, 0.5)
    mapping = torch.tensor([-7, 10**12, 3])
    exact(ops.batched_nms(boxes, scores, mapping[labels], 0.5), expected)
    exact(ops.batched_nms(boxes, scores, labels.float() * 0.5, 0.5), expected)
    exact(ops.batched_nms(boxes, scores, labels.bfloat16(), 0.5), expected)
    exact(ops.batched_nms(boxes, scores, labels.to(torch.uint8), 0.5), expected)


# --------------------------------------------------------------------------- DIoU-NMS


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.0, -0.2])
def test_diou_nms_matches_slow_reference(threshold: float) -> None:
    boxes, scores, labels = scene(25, 12, seed=3)
    criterion = ops.distance_box_iou(boxes, boxes)  # float32, the same arithmetic
    expected = greedy_reference(criterion, scores, threshold)
    assert ops.diou_nms(boxes, scores, threshold).tolist() == expected
    # class-aware: never across categories
    same = labels[:, None] == labels[None, :]
    masked = torch.where(same, criterion, torch.tensor(float("-inf")))
    expected = greedy_reference(masked, scores, threshold)
    assert ops.diou_nms(boxes, scores, threshold, idxs=labels).tolist() == expected


def test_diou_nms_keeps_distant_centres_that_nms_drops() -> None:
    # Two 10x10 boxes overlapping 6x10: IoU = 60 / 140 = 0.4286. Centres 4 apart; enclosing
    # box 14x10 has c^2 = 196 + 100 = 296: DIoU = 0.4286 - 16/296 = 0.3745.
    boxes = torch.tensor([[0.0, 0, 10, 10], [4, 0, 14, 10]])
    scores = torch.tensor([0.9, 0.8])
    exact(ops.nms(boxes, scores, 0.4), torch.tensor([0]))
    exact(ops.diou_nms(boxes, scores, 0.4), torch.tensor([0, 1]))


# --------------------------------------------------------------------------- Soft-NMS


@pytest.mark.parametrize("method", ["linear", "gaussian"])
@pytest.mark.parametrize("score_threshold", [0.001, 0.2])
def test_soft_nms_matches_slow_reference(method: str, score_threshold: float) -> None:
    boxes, scores, _ = scene(8, 10, seed=4)
    keep, kept = ops.soft_nms(
        boxes, scores, 0.3, sigma=0.5, score_threshold=score_threshold, method=method
    )
    ref_keep, ref_kept = soft_nms_reference(boxes, scores, 0.3, 0.5, score_threshold, method)
    assert keep.tolist() == ref_keep
    # exp() of float32 may differ in the last bit between libm and numpy
    torch.testing.assert_close(kept, torch.tensor(ref_kept), rtol=2e-6, atol=0)
    assert bool((kept[1:] <= kept[:-1]).all())  # selection order = non-increasing score
    assert bool((kept >= score_threshold).all())


@pytest.mark.parametrize("method", ["linear", "gaussian"])
def test_soft_nms_torch_path_matches_compiled(method: str) -> None:
    boxes, scores, _ = scene(8, 10, seed=5)
    keep, kept = ops.soft_nms(boxes, scores, method=method)
    t_keep, t_kept = _soft_nms_torch(boxes, scores, 0.3, 0.5, 0.001, method == "gaussian")
    exact(t_keep, keep)
    torch.testing.assert_close(t_kept, kept, rtol=2e-6, atol=0)


def test_soft_nms_by_hand() -> None:
    # Boxes 0 and 1 overlap with IoU 0.5 ([0,0,2,1] vs [0,0,1,1]); box 2 is far away.
    boxes = torch.tensor([[0.0, 0, 2, 1], [0, 0, 1, 1], [5, 5, 6, 6]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    # linear: 0.5 > 0.3 -> box 1's score 0.8 * (1 - 0.5) = 0.4, kept after box 2
    keep, kept = ops.soft_nms(boxes, scores, 0.3, method="linear")
    exact(keep, torch.tensor([0, 2, 1]))
    torch.testing.assert_close(kept, torch.tensor([0.9, 0.7, 0.4]))
    # gaussian, sigma 0.5: 0.8 * exp(-0.25 / 0.5) = 0.8 * 0.6065 = 0.4852
    keep, kept = ops.soft_nms(boxes, scores, method="gaussian", sigma=0.5)
    torch.testing.assert_close(kept, torch.tensor([0.9, 0.7, 0.8 * math.exp(-0.5)]))
    # a score threshold above the decayed score drops box 1
    keep, _ = ops.soft_nms(boxes, scores, 0.3, score_threshold=0.45)
    exact(keep, torch.tensor([0, 2]))


def test_soft_nms_without_overlap_decay_is_a_sort() -> None:
    boxes, scores, _ = scene(5, 10, seed=6)
    keep, kept = ops.soft_nms(boxes, scores, iou_threshold=1.0, score_threshold=0.0)
    order = torch.sort(scores, stable=True, descending=True)[1]
    exact(keep, order)
    exact(kept, scores[order])


# --------------------------------------------------------------------------- paths agree


@pytest.mark.parametrize("threshold", [0.0, 0.45, 0.7, -0.3])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_compiled_kernel_equals_vectorised_torch_path(threshold: float, dtype) -> None:
    boxes, scores, labels = scene(60, 12, classes=3, seed=7)  # 792 boxes: the grid is used
    boxes = boxes.to(dtype)
    boxes[::50] = boxes[::50].flip(1)  # inverted boxes
    boxes[5::97, 0] = float("nan")
    boxes[7::89, 2] = float("inf")
    order = torch.sort(scores, stable=True, descending=True)[1]
    for diou in (False, True):
        fn = ops.diou_nms if diou else ops.nms
        expected = order[_greedy_keep_torch(boxes[order], threshold, diou=diou, eps=1e-7)]
        exact(fn(boxes, scores, threshold), expected)
    expected = order[_greedy_keep_torch(boxes[order], threshold, labels=labels[order])]
    exact(ops.batched_nms(boxes, scores, labels, threshold), expected)


def test_grid_handles_a_huge_box_and_tiny_ones() -> None:
    g = torch.Generator().manual_seed(8)
    xy = torch.rand(600, 2, generator=g) * 1000
    boxes = torch.cat([xy, xy + torch.rand(600, 2, generator=g) * 3], 1)
    boxes[0] = torch.tensor([-1e6, -1e6, 1e6, 1e6])  # covers everything
    boxes[1] = torch.tensor([0, 0, 1e-30, 1e-30])
    scores = torch.rand(600, generator=g)
    order = torch.sort(scores, stable=True, descending=True)[1]
    for threshold in (0.0, 1e-9, 0.5):
        expected = order[_greedy_keep_torch(boxes[order], threshold)]
        exact(ops.nms(boxes, scores, threshold), expected)


# --------------------------------------------------------------------------- bad input


BOXES = torch.tensor([[0.0, 0, 1, 1], [0, 0, 2, 2]])
SCORES = torch.tensor([0.9, 0.8])


def _batched_nms_two_classes(boxes, scores, iou_threshold):
    """``batched_nms`` with valid categories, so the checks of the other arguments are hit."""
    return ops.batched_nms(boxes, scores, torch.tensor([0, 1]), iou_threshold)


def _soft_nms_positional(boxes, scores, iou_threshold):
    return ops.soft_nms(boxes, scores, iou_threshold)


@pytest.mark.parametrize(
    "fn",
    [ops.nms, ops.diou_nms, _batched_nms_two_classes, _soft_nms_positional],
    ids=["nms", "diou_nms", "batched_nms", "soft_nms"],
)
def test_nms_bad_input(fn) -> None:
    with pytest.raises(TypeError, match="boxes must have a floating point dtype"):
        fn(BOXES.long(), SCORES, 0.5)
    with pytest.raises(ValueError, match="boxes must be a Tensor of shape \\[N, 4\\]"):
        fn(BOXES[:, :3], SCORES, 0.5)
    with pytest.raises(TypeError, match="boxes must be a torch.Tensor"):
        fn(BOXES.tolist(), SCORES, 0.5)
    with pytest.raises(ValueError, match="scores must be a Tensor of shape \\[N\\]"):
        fn(BOXES, SCORES[:, None], 0.5)
    with pytest.raises(ValueError, match="boxes and scores must have the same length"):
        fn(BOXES, SCORES[:1], 0.5)
    with pytest.raises(TypeError, match="scores"):
        fn(BOXES, SCORES > 0.85, 0.5)
    with pytest.raises(ValueError, match="iou_threshold must not be NaN"):
        fn(BOXES, SCORES, float("nan"))
    with pytest.raises(TypeError, match="iou_threshold"):
        fn(BOXES, SCORES, "0.5")
    with pytest.raises(ValueError, match="same device"):
        fn(BOXES, SCORES.to("meta"), 0.5)


def test_batched_nms_bad_input() -> None:
    with pytest.raises(TypeError, match="idxs must be a torch.Tensor"):
        ops.batched_nms(BOXES, SCORES, [0, 1], 0.5)
    with pytest.raises(ValueError, match="idxs must be a Tensor of shape \\[N\\]"):
        ops.batched_nms(BOXES, SCORES, torch.zeros(2, 1), 0.5)
    with pytest.raises(ValueError, match="boxes and idxs must have the same length"):
        ops.batched_nms(BOXES, SCORES, torch.zeros(3), 0.5)
    with pytest.raises(TypeError, match="idxs"):
        ops.batched_nms(BOXES, SCORES, torch.tensor([True, False]), 0.5)
    with pytest.raises(ValueError, match="idxs must not contain NaN"):
        ops.batched_nms(BOXES, SCORES, torch.tensor([0.0, float("nan")]), 0.5)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        ops.diou_nms(BOXES, SCORES, 0.5, eps=-1.0)


def test_soft_nms_bad_input() -> None:
    with pytest.raises(ValueError, match="sigma must be > 0"):
        ops.soft_nms(BOXES, SCORES, sigma=0.0)
    with pytest.raises(ValueError, match="method must be one of 'linear', 'gaussian'"):
        ops.soft_nms(BOXES, SCORES, method="hard")
    with pytest.raises(ValueError, match="boxes must be finite"):
        ops.soft_nms(torch.tensor([[0.0, 0, float("nan"), 1]]), SCORES[:1])
    with pytest.raises(ValueError, match="scores must not contain NaN"):
        ops.soft_nms(BOXES, torch.tensor([0.5, float("nan")]))
    with pytest.raises(ValueError, match="score_threshold must not be NaN"):
        ops.soft_nms(BOXES, SCORES, score_threshold=float("nan"))
    with pytest.raises(TypeError, match="boxes must have a floating point dtype"):
        ops.soft_nms(BOXES.int(), SCORES)
