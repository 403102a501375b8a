"""Bad input to ops and losses raises torchvision's exception class as well as ours.

torchvision raises ``RuntimeError`` (its C++ kernels, torch's broadcasting), ``IndexError``
(a missing box column) or ``NotImplementedError`` (a dtype without a kernel) where tinyvision
raises ``ValueError``/``TypeError``; each error here must be catchable as both, and its
message must name the argument and carry torchvision's key words.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from tinyvision import losses, ops

BOXES = torch.tensor([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 2.0, 2.0]])
SCORES = torch.tensor([0.9, 0.8])
LOGITS = torch.zeros(3, 4)

# (call, our class, torchvision's class, words of ours, words of torchvision's message)
CASES: list[tuple[str, Callable[[], object], type, type, str, str]] = [
    (
        "nms 1-D boxes",
        lambda: ops.nms(torch.rand(4), torch.rand(3), 0.5),
        ValueError,
        RuntimeError,
        r"boxes must be a Tensor of shape \[N, 4\]",
        "boxes should be a 2d tensor, got 1D",
    ),
    (
        "nms 5 columns",
        lambda: ops.nms(torch.rand(3, 5), torch.rand(3), 0.5),
        ValueError,
        RuntimeError,
        r"boxes must be a Tensor of shape \[N, 4\]",
        "boxes should have 4 elements in dimension 1, got 5",
    ),
    (
        "nms 2-D scores",
        lambda: ops.nms(torch.rand(3, 4), torch.rand(3, 2), 0.5),
        ValueError,
        RuntimeError,
        r"scores must be a Tensor of shape \[N\]",
        "scores should be a 1d tensor, got 2D",
    ),
    (
        "nms lengths",
        lambda: ops.nms(torch.rand(3, 4), torch.rand(4), 0.5),
        ValueError,
        RuntimeError,
        "boxes and scores must have the same length, got 3 and 4",
        "should have same number of elements in dimension 0",
    ),
    (
        "nms integer boxes",
        lambda: ops.nms(BOXES.int(), SCORES, 0.5),
        TypeError,
        RuntimeError,
        "boxes must have a floating point dtype",
        "not implemented for 'Int'",
    ),
    (
        "batched_nms idxs length",
        lambda: ops.batched_nms(BOXES, SCORES, torch.tensor([0, 1, 2]), 0.5),
        ValueError,
        RuntimeError,
        "boxes and idxs must have the same length, got 2 and 3",
        "must match",
    ),
    (
        "batched_nms 2-D idxs",
        lambda: ops.batched_nms(BOXES, SCORES, torch.tensor([[0, 1]]), 0.5),
        ValueError,
        RuntimeError,
        r"idxs must be a Tensor of shape \[N\]",
        "idxs should be a 1d tensor",
    ),
    (
        "nms_rotated 4 columns",
        lambda: ops.nms_rotated(BOXES, SCORES, 0.5),
        ValueError,
        RuntimeError,
        r"boxes must be a Tensor of shape \[N, 5\]",
        "boxes should have 5 elements in dimension 1",
    ),
    (
        "diou_nms lengths (shares the checks)",
        lambda: ops.diou_nms(torch.rand(3, 4), torch.rand(4), 0.5),
        ValueError,
        RuntimeError,
        "boxes and scores must have the same length",
        "same number of elements",
    ),
    (
        "soft_nms 1-D boxes (shares the checks)",
        lambda: ops.soft_nms(torch.rand(4), torch.rand(1)),
        ValueError,
        RuntimeError,
        r"boxes must be a Tensor of shape \[N, 4\]",
        "should be a 2d tensor",
    ),
    (
        "bbox_iou shapes (shares the checks)",
        lambda: ops.bbox_iou(BOXES, BOXES[:1].expand(3, 4)),
        ValueError,
        RuntimeError,
        "boxes1 and boxes2 must have the same shape",
        "must match",
    ),
    (
        "box_iou bool boxes",
        lambda: ops.box_iou(BOXES.bool(), BOXES.bool()),
        TypeError,
        NotImplementedError,
        r"boxes1 must have a real \(floating or integer\) dtype",
        "not implemented for 'Bool'",
    ),
    (
        "box_convert complex boxes",
        lambda: ops.box_convert(BOXES.to(torch.complex64), "xyxy", "cxcywh"),
        TypeError,
        RuntimeError,
        "boxes must have a real",
        "not implemented for 'ComplexFloat'",
    ),
    (
        "nms bool scores",
        lambda: ops.nms(BOXES, SCORES > 0.85, 0.5),
        TypeError,
        RuntimeError,
        "scores must have a real",
        "not implemented for 'Bool'",
    ),
    (
        "box_area 3 columns",
        lambda: ops.box_area(BOXES[:, :3]),
        ValueError,
        IndexError,
        r"boxes must be a Tensor of shape \[\.\.\., 4\]",
        "should have 4 elements",
    ),
    (
        "box_iou 3 columns",
        lambda: ops.box_iou(BOXES, BOXES[:, :3]),
        ValueError,
        IndexError,
        r"boxes2 must be a Tensor of shape \[N, 4\]",
        "boxes2 should have 4 elements",
    ),
    (
        "generalized_box_iou batch sizes",
        lambda: ops.generalized_box_iou(BOXES.expand(2, 2, 4), BOXES.expand(3, 2, 4)),
        ValueError,
        RuntimeError,
        "boxes1 and boxes2 must have the same leading",
        "must match",
    ),
    (
        "box_iou rotated 4 columns",
        lambda: ops.box_iou(BOXES, BOXES, fmt="cxcywhr"),
        ValueError,
        RuntimeError,
        r"boxes1 must be a Tensor of shape \[N, 5\]",
        "boxes1 should have 5 elements in dimension 1",
    ),
    (
        "clip_boxes_to_image 3 columns",
        lambda: ops.clip_boxes_to_image(BOXES[:, :3], (10, 10)),
        ValueError,
        RuntimeError,
        "boxes must be a Tensor of shape",
        "should have 4 elements",
    ),
    (
        "remove_small_boxes 3 columns",
        lambda: ops.remove_small_boxes(BOXES[:, :3], 1.0),
        ValueError,
        IndexError,
        r"boxes must be a Tensor of shape \[N, 4\]",
        "should have 4 elements in dimension 1",
    ),
    (
        "box_convert axis-aligned to rotated",
        lambda: ops.box_convert(BOXES, "xyxy", "cxcywhr"),
        ValueError,
        NotImplementedError,
        "in_fmt='xyxy' and out_fmt='cxcywhr'",
        "Unsupported Bounding Box Conversions",
    ),
    (
        "generalized_box_iou_loss shapes",
        lambda: losses.generalized_box_iou_loss(BOXES, BOXES[:1].expand(3, 4)),
        ValueError,
        RuntimeError,
        "boxes1 and boxes2 must have the same shape",
        "must match",
    ),
    (
        "distance_box_iou_loss shapes",
        lambda: losses.distance_box_iou_loss(BOXES, BOXES[:1].expand(3, 4)),
        ValueError,
        RuntimeError,
        "boxes1 and boxes2 must have the same shape",
        "must match",
    ),
    (
        "complete_box_iou_loss shapes",
        lambda: losses.complete_box_iou_loss(BOXES, BOXES[:1].expand(3, 4)),
        ValueError,
        RuntimeError,
        "boxes1 and boxes2 must have the same shape",
        "must match",
    ),
    (
        "sigmoid_focal_loss integer inputs",
        lambda: losses.sigmoid_focal_loss(LOGITS.long(), LOGITS),
        TypeError,
        NotImplementedError,
        "inputs must have a floating point dtype",
        "not implemented for 'Long'",
    ),
    (
        "sigmoid_focal_loss shapes",
        lambda: losses.sigmoid_focal_loss(LOGITS, LOGITS[:2]),
        ValueError,
        ValueError,
        "targets must have the shape of inputs",
        r"Target size \(2, 4\) must be the same as input size \(3, 4\)",
    ),
]


@pytest.mark.parametrize(
    ("call", "ours", "theirs", "our_words", "their_words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_is_both_classes(
    call: Callable[[], object], ours: type, theirs: type, our_words: str, their_words: str
) -> None:
    with pytest.raises(ours, match=our_words):
        call()
    with pytest.raises(theirs, match=their_words):
        call()


LOSSES = [
    losses.generalized_box_iou_loss,
    losses.distance_box_iou_loss,
    losses.complete_box_iou_loss,
]


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
def test_box_loss_reduction_message(loss: Callable[..., object]) -> None:
    # torchvision's tests match "Invalid"; ours names the argument and the modes
    with pytest.raises(ValueError, match="Invalid Value for arg 'reduction'") as info:
        loss(BOXES, BOXES, reduction="xyz")
    assert "reduction must be one of 'none', 'mean', 'sum', got 'xyz'" in str(info.value)


def test_focal_loss_reduction_message() -> None:
    with pytest.raises(ValueError, match="Invalid Value for arg 'reduction'") as info:
        losses.sigmoid_focal_loss(LOGITS, LOGITS, 0.25, 2, "xyz")
    assert "Supported reduction modes: 'none', 'mean', 'sum'" in str(info.value)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: ops.box_convert(BOXES, "xwyh", "xyxy"), "Unsupported Bounding Box Conversions"),
        (lambda: ops.box_convert(BOXES, "xyxy", "xhwcy"), "Unsupported Bounding Box Conversions"),
        (lambda: ops.box_area(BOXES, fmt="abc"), "Unsupported Bounding Box area"),
        (lambda: ops.box_iou(BOXES, BOXES, fmt="abc"), "Unsupported format 'abc'"),
        (lambda: ops.generalized_box_iou(BOXES, BOXES, fmt="abc"), "Unsupported format"),
    ],
)
def test_bad_format_message(call: Callable[[], object], words: str) -> None:
    with pytest.raises(ValueError, match=words) as info:
        call()
    assert "fmt must be one of" in str(info.value)


def test_batched_nms_of_empty_boxes_ignores_the_rest() -> None:
    # torchvision returns an empty result for empty boxes before looking at anything else
    empty = torch.empty((0,), dtype=torch.int64)
    keep = ops.batched_nms(empty, None, None, None)  # type: ignore[arg-type]
    assert keep.dtype == torch.int64 and keep.shape == (0,)


@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor")
def test_nms_of_quantized_tensors_is_nms_of_their_values() -> None:
    generator = torch.Generator().manual_seed(0)
    boxes = torch.rand(200, 4, generator=generator) * 100
    boxes[:, 2:] += boxes[:, :2]
    scores = torch.rand(200, generator=generator) * 100
    qboxes = torch.quantize_per_tensor(boxes, scale=2, zero_point=50, dtype=torch.quint8)
    qscores = torch.quantize_per_tensor(scores, scale=2, zero_point=50, dtype=torch.quint8)
    expected = ops.nms(qboxes.dequantize(), qscores.dequantize(), 0.5)
    assert torch.equal(ops.nms(qboxes, qscores, 0.5), expected)
    assert torch.equal(ops.batched_nms(qboxes, qscores, torch.zeros(200), 0.5), expected)


def test_dropin_script_patches_only_names_we_have() -> None:
    # scripts/torchvision_dropin.py replaces these torchvision.ops names with ours
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "torchvision_dropin.py"
    spec = importlib.util.spec_from_file_location("torchvision_dropin", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in module.OPS_NAMES:
        assert callable(getattr(ops, name)), name
    for name in module.LOSS_NAMES:
        assert callable(getattr(losses, name)), name
    assert module.known_reason("test_ops.py::TestBoxIou::test_iou_jit") is not None
    assert module.known_reason("test_ops.py::TestBoxIou::test_iou") is None
