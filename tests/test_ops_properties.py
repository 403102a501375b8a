"""Hypothesis properties of tinyvision.ops: symmetry and range of the IoUs, round trips,
NMS survivors, idempotence, translation invariance and class-awareness.

The pairwise IoU properties run twice: once as drawn (small sets, the torch path) and once with
the compiled-kernel threshold lowered to 0, so that the same properties reach the compiled loop.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from unittest import mock

import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tinyvision import ops
from tinyvision.ops import boxes as boxes_module

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def box_sets(draw, min_size: int = 0, max_size: int = 40, integer: bool = False):
    """Proper float64 boxes (positive width and height); integer corners on request."""
    n = draw(st.integers(min_size, max_size))
    coord = (
        st.integers(-50, 200).map(float)
        if integer
        else st.floats(-50, 200, allow_nan=False, width=32)
    )
    side = st.integers(1, 60).map(float) if integer else st.floats(0.0625, 60, width=32)
    rows = draw(st.lists(st.tuples(coord, coord, side, side), min_size=n, max_size=n))
    boxes = torch.tensor(rows, dtype=torch.float64).reshape(-1, 4)
    return torch.cat([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], dim=1)


def scores_for(boxes: torch.Tensor, seed: int) -> torch.Tensor:
    return torch.rand(
        len(boxes), generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )


PAIRWISE = [ops.box_iou, ops.generalized_box_iou, ops.distance_box_iou, ops.complete_box_iou]
PATHS = ["torch", "compiled"]


@contextlib.contextmanager
def ops_path(path: str, a: torch.Tensor, b: torch.Tensor) -> Iterator[None]:
    """Run the block on the torch path as drawn, or force the compiled kernels for ``a x b``."""
    if path == "torch":
        assert not boxes_module._use_compiled(a, b)  # at most 40 x 40 < 4096 pairs
        yield
        return
    with mock.patch.object(boxes_module, "_COMPILED_MIN_PAIRS", 0):
        assert boxes_module._use_compiled(a, b)
        yield


@pytest.mark.parametrize("path", PATHS)
@SETTINGS
@given(box_sets(1), box_sets(1))
def test_pairwise_ious_are_symmetric(path: str, a: torch.Tensor, b: torch.Tensor) -> None:
    with ops_path(path, a, b):
        for fn in PAIRWISE:
            torch.testing.assert_close(fn(a, b), fn(b, a).T, rtol=0, atol=0)


@pytest.mark.parametrize("path", PATHS)
@SETTINGS
@given(box_sets(1), box_sets(1))
@example(
    torch.tensor([[0.0, 0.0, 17.0, 60.0]], dtype=torch.float64),
    torch.tensor([[0.0, 0.0, 1.1, 8.3916]], dtype=torch.float64),
)
def test_iou_ranges(path: str, a: torch.Tensor, b: torch.Tensor) -> None:
    with ops_path(path, a, b):
        _check_iou_ranges(a, b)


def _check_iou_ranges(a: torch.Tensor, b: torch.Tensor) -> None:
    # torchvision's arithmetic: with b inside a, the union (area_a + area_b - inter) can come
    # out one rounding step below the enclosing area, so GIoU may exceed IoU by a few ulps
    # (e.g. a = [0, 0, 17, 60], b = [0, 0, 1.1, 8.3916] in float64). Allow that, no more.
    ulps = 4 * torch.finfo(torch.promote_types(a.dtype, torch.float32)).eps
    iou = ops.box_iou(a, b)
    assert bool(((iou >= 0) & (iou <= 1)).all())
    giou = ops.generalized_box_iou(a, b)
    assert bool(((giou >= -1) & (giou <= iou + ulps)).all())
    diou = ops.distance_box_iou(a, b)
    assert bool(((diou >= -1) & (diou <= iou + ulps)).all())
    assert bool((ops.complete_box_iou(a, b) <= diou + ulps).all())
    self_iou = ops.box_iou(a, a).diagonal()
    torch.testing.assert_close(self_iou, torch.ones_like(self_iou))


@SETTINGS
@given(box_sets(), st.sampled_from(ops.BOX_FORMATS))
def test_conversions_round_trip(boxes: torch.Tensor, fmt: str) -> None:
    there = ops.box_convert(boxes, "xyxy", fmt)
    back = ops.box_convert(there, fmt, "xyxy")
    torch.testing.assert_close(back, boxes, rtol=1e-12, atol=1e-10)
    torch.testing.assert_close(
        ops.box_area(there, fmt=fmt), ops.box_area(boxes), rtol=1e-12, atol=1e-9
    )


@SETTINGS
@given(box_sets(), st.floats(0.0, 1.0), st.integers(0, 2**16))
def test_nms_survivors_overlap_at_most_the_threshold(boxes, threshold: float, seed: int) -> None:
    scores = scores_for(boxes, seed)
    keep = ops.nms(boxes, scores, threshold)
    kept_iou = ops.box_iou(boxes[keep], boxes[keep])
    off_diagonal = ~torch.eye(len(keep), dtype=torch.bool)
    assert bool((kept_iou[off_diagonal] <= threshold).all())
    # every suppressed box overlaps a kept, higher scoring box by more than the threshold
    suppressed = torch.ones(len(boxes), dtype=torch.bool)
    suppressed[keep] = False
    for j in torch.where(suppressed)[0].tolist():
        over = ops.box_iou(boxes[j : j + 1], boxes[keep])[0] > threshold
        assert bool((over & (scores[keep] >= scores[j])).any())
    # kept indices come by decreasing score
    assert bool((scores[keep][1:] <= scores[keep][:-1]).all())


@SETTINGS
@given(box_sets(), st.floats(0.0, 1.0), st.integers(0, 2**16))
def test_nms_of_its_own_output_keeps_everything(boxes, threshold: float, seed: int) -> None:
    scores = scores_for(boxes, seed)
    keep = ops.nms(boxes, scores, threshold)
    again = ops.nms(boxes[keep], scores[keep], threshold)
    assert again.tolist() == list(range(len(keep)))


@SETTINGS
@given(
    box_sets(integer=True),
    st.integers(-1000, 1000),
    st.integers(-1000, 1000),
    st.floats(0.0, 1.0),
    st.integers(0, 2**16),
)
def test_translation_invariance(boxes, dx: int, dy: int, threshold: float, seed: int) -> None:
    # integer corners and shifts: every coordinate and area is exact in float64
    shift = torch.tensor([dx, dy, dx, dy], dtype=torch.float64)
    moved = boxes + shift
    scores = scores_for(boxes, seed)
    assert torch.equal(ops.nms(moved, scores, threshold), ops.nms(boxes, scores, threshold))
    for path in PATHS:
        with ops_path(path, boxes, boxes):
            for fn in (ops.box_iou, ops.generalized_box_iou):
                assert torch.equal(fn(moved, moved), fn(boxes, boxes))


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.large_base_example, HealthCheck.too_slow],
)
@given(box_sets(70, 80), box_sets(70, 80))
def test_large_sets_reach_the_compiled_kernels(a: torch.Tensor, b: torch.Tensor) -> None:
    # >= 70 x 70 = 4900 pairs: the compiled loop at its real threshold, no patching
    assert boxes_module._use_compiled(a, b)
    _check_iou_ranges(a, b)
    for fn in PAIRWISE:
        torch.testing.assert_close(fn(a, b), fn(b, a).T, rtol=0, atol=0)


@SETTINGS
@given(box_sets(), st.integers(1, 4), st.floats(0.0, 1.0), st.integers(0, 2**16))
def test_batched_nms_never_suppresses_across_classes(boxes, classes, threshold, seed) -> None:
    g = torch.Generator().manual_seed(seed)
    scores = scores_for(boxes, seed)
    idxs = torch.randint(0, classes, (len(boxes),), generator=g)
    keep = ops.batched_nms(boxes, scores, idxs, threshold)
    for c in range(classes):
        members = torch.where(idxs == c)[0]
        mine = keep[idxs[keep] == c]
        assert torch.equal(mine, members[ops.nms(boxes[members], scores[members], threshold)])
