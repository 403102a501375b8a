"""Detector blocks (Conv, Bottleneck, C3, the notes' transformer, C3TR) and the detector:
shapes, the notes' formulation, decoding and post-processing by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from tinyvision.nn import (
    C3,
    C3TR,
    Bottleneck,
    Conv,
    DetectorConfig,
    TinyDetector,
    TransformerBlock,
    TransformerLayer,
    decode,
    postprocess,
)
from tinyvision.nn.detector import DEFAULT_ANCHORS
from tinyvision.ops import box_iou


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_conv_is_conv_bn_silu() -> None:
    layer = Conv(3, 8, 3, 2).eval()
    x = torch.randn(2, 3, 16, 16)
    expected = nn.functional.silu(layer.bn(layer.conv(x)))
    torch.testing.assert_close(layer(x), expected)
    assert layer(x).shape == (2, 8, 8, 8)  # "same" padding, stride 2
    assert isinstance(Conv(3, 8, act=False).act, nn.Identity)
    assert layer.conv.bias is None


def test_bottleneck_residual_only_when_shapes_match() -> None:
    x = torch.randn(1, 8, 6, 6)
    with_skip = Bottleneck(8, 8).eval()
    torch.testing.assert_close(with_skip(x), x + with_skip.cv2(with_skip.cv1(x)))
    assert not Bottleneck(8, 16).add and not Bottleneck(8, 8, shortcut=False).add


def test_c3_shapes_and_formula() -> None:
    block = C3(16, 32, n=2).eval()
    x = torch.randn(2, 16, 8, 8)
    expected = block.cv3(torch.cat((block.m(block.cv1(x)), block.cv2(x)), dim=1))
    torch.testing.assert_close(block(x), expected)
    assert block(x).shape == (2, 32, 8, 8) and len(block.m) == 2


def notes_transformer_layer(layer: TransformerLayer, x: torch.Tensor) -> torch.Tensor:
    """The notes' TransformerLayer.forward, line for line."""
    x = layer.ma(layer.q(x), layer.k(x), layer.v(x))[0] + x
    return layer.fc2(layer.fc1(x)) + x


def notes_transformer_block(block: TransformerBlock, x: torch.Tensor) -> torch.Tensor:
    """The notes' TransformerBlock.forward (its flatten/unsqueeze/transpose sequence)."""
    if not isinstance(block.conv, nn.Identity):
        x = block.conv(x)
    b, _, w, h = x.shape
    p = x.flatten(2).unsqueeze(0).transpose(0, 3).squeeze(3)
    e = block.linear(p)
    x = p + e
    for layer in block.tr:
        x = notes_transformer_layer(layer, x)
    return x.unsqueeze(3).transpose(0, 3).reshape(b, block.c2, w, h)


@pytest.mark.parametrize(("c1", "c2"), [(16, 16), (8, 16)])
def test_transformer_block_matches_the_notes(c1: int, c2: int) -> None:
    block = TransformerBlock(c1, c2, num_heads=4, num_layers=2).eval()
    x = torch.randn(2, c1, 3, 5)
    torch.testing.assert_close(block(x), notes_transformer_block(block, x))
    assert block(x).shape == (2, c2, 3, 5)


def test_transformer_layer_sequence_first_and_gradients() -> None:
    layer = TransformerLayer(8, 2)
    x = torch.randn(5, 3, 8, requires_grad=True)  # (S, B, c)
    y = layer(x)
    assert y.shape == (5, 3, 8)
    torch.testing.assert_close(y, notes_transformer_layer(layer, x))
    y.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_c3tr_is_a_c3_with_a_transformer() -> None:
    block = C3TR(32, 32, n=1).eval()
    assert isinstance(block, C3) and isinstance(block.m, TransformerBlock)
    x = torch.randn(1, 32, 4, 4)
    expected = block.cv3(torch.cat((block.m(block.cv1(x)), block.cv2(x)), dim=1))
    torch.testing.assert_close(block(x), expected)


def test_layer_bad_arguments() -> None:
    with pytest.raises(ValueError, match="divisible"):
        TransformerLayer(10, 4)
    with pytest.raises(ValueError, match="c1"):
        Conv(0, 4)
    with pytest.raises(ValueError, match="n must be"):
        C3(4, 4, n=0)


@pytest.mark.parametrize("levels", [2, 3])
def test_detector_output_shapes_and_decode(levels: int) -> None:
    config = DetectorConfig(num_classes=3, width=4, levels=levels, num_heads=2)
    model = TinyDetector(config, image_size=64)
    assert model.strides == (8, 16, 32)[:levels]
    x = torch.rand(2, 3, 64, 96)
    outputs = model(x)
    expected = [(2, 3, 8, 12, 8), (2, 3, 4, 6, 8), (2, 3, 2, 3, 8)][:levels]
    assert [tuple(o.shape) for o in outputs] == expected
    decoded = decode(outputs, model.anchor_tensor(), model.strides)
    assert decoded.shape == (2, 3 * sum(h * w for _, _, h, w, _ in expected), 8)
    assert ((decoded[..., 4:] >= 0) & (decoded[..., 4:] <= 1)).all()
    # the C3TR sits at the lowest level: P4 for two levels, P5 for three
    lowest = model.stage4[1] if levels == 2 else model.stage5[1]
    assert isinstance(lowest, C3TR)
    assert not hasattr(model, "stage5") if levels == 2 else isinstance(model.stage4[1], C3)
    # the objectness prior is log(4 objects / cells): at 128 px the P3 level has 4 times
    # the cells of 64 px, so the same seed gives a bias lower by log 4
    torch.manual_seed(1)
    small = TinyDetector(config, image_size=64)
    torch.manual_seed(1)
    large = TinyDetector(config, image_size=128)
    difference = small.detect.m[0].bias.view(3, 8) - large.detect.m[0].bias.view(3, 8)
    torch.testing.assert_close(difference[:, 4], torch.full((3,), math.log(4)))
    torch.testing.assert_close(difference[:, 5:], torch.zeros(3, 3))


def test_decode_by_hand() -> None:
    # one level, stride 8, one anchor 16x24 px, a 2x2 grid; raw zeros: sigmoid 0.5
    # xy = (0.5 * 2 - 0.5 + cell) * 8 = (cell + 0.5) * 8; wh = (0.5 * 2)^2 * anchor
    raw = torch.zeros(1, 1, 2, 2, 6)
    anchors = torch.tensor([[[16.0, 24.0]]])
    out = decode([raw], anchors, strides=(8,))
    assert out.shape == (1, 4, 6)
    torch.testing.assert_close(out[0, :, :2], torch.tensor([[4.0, 4], [12, 4], [4, 12], [12, 12]]))
    torch.testing.assert_close(out[0, :, 2:4], torch.tensor([[16.0, 24.0]] * 4))
    torch.testing.assert_close(out[0, :, 4:], torch.full((4, 2), 0.5))


def test_postprocess_by_hand() -> None:
    # cx cy w h obj p0 p1
    rows = torch.tensor(
        [
            [50, 50, 20, 20, 0.9, 0.9, 0.1],  # conf 0.81 class 0
            [51, 50, 20, 20, 0.8, 0.9, 0.1],  # conf 0.72 class 0, IoU 0.9 with the first
            [51, 50, 20, 20, 0.8, 0.1, 0.9],  # conf 0.72 class 1: other class, kept
            [10, 10, 4, 4, 0.1, 0.5, 0.5],  # conf 0.05: below 0.25
        ]
    ).unsqueeze(0)
    ((boxes, scores, labels),) = postprocess(rows, 0.25, 0.5, multi_label=False)
    torch.testing.assert_close(scores, torch.tensor([0.81, 0.72]))
    assert labels.tolist() == [0, 1]
    torch.testing.assert_close(boxes[0], torch.tensor([40.0, 40, 60, 60]))
    # multi-label: class 1 of row 0 (0.09) is below 0.25 too: the same result
    ((boxes_m, scores_m, _),) = postprocess(rows, 0.25, 0.5, multi_label=True)
    torch.testing.assert_close(boxes_m, boxes)
    torch.testing.assert_close(scores_m, scores)
    # at 0.05 multi-label adds row 0 class 1 (0.09), row 1 class 1 (0.08) and row 2 class
    # 0 (0.08); each overlaps (IoU 380 / 420 = 0.905 or 1) the best box of its class: gone
    ((low_boxes, low, low_labels),) = postprocess(rows, 0.05, 0.5)
    torch.testing.assert_close(low, torch.tensor([0.81, 0.72]))
    assert low_labels.tolist() == [0, 1]
    assert box_iou(low_boxes[:1], low_boxes[1:]).item() > 0.5  # other classes: both kept


def test_postprocess_top_k_and_empty() -> None:
    rows = torch.zeros(2, 10, 7)
    rows[0, :, 0] = torch.arange(10) * 30.0  # far apart: NMS keeps all
    rows[0, :, 2:4] = 10
    rows[0, :, 4] = torch.linspace(0.5, 0.9, 10)
    rows[0, :, 5] = 1.0
    first, second = postprocess(rows, 0.25, 0.5, max_det=3)
    assert first[1].numel() == 3
    torch.testing.assert_close(first[1], torch.tensor([0.9, 0.9 - 0.4 / 9, 0.9 - 0.8 / 9]))
    assert second[0].shape == (0, 4) and second[1].numel() == 0


def test_config_checks_and_round_trip() -> None:
    config = DetectorConfig(num_classes=2, width=8, anchors=((1, 2, 3, 4),) * 2)
    assert config.num_anchors == 2 and config.levels == 2
    assert DetectorConfig.from_dict(config.to_dict()) == config
    assert DetectorConfig(2).anchors == DEFAULT_ANCHORS[:2]
    assert DetectorConfig(2, levels=3).anchors == DEFAULT_ANCHORS
    with pytest.raises(ValueError, match="3 levels"):
        DetectorConfig(2, levels=3, anchors=((1, 2),) * 2)
    with pytest.raises(ValueError, match="levels must be <= 3"):
        DetectorConfig(2, levels=4)
    with pytest.raises(ValueError, match="even number"):
        DetectorConfig(2, anchors=((1, 2, 3),) * 2)
    with pytest.raises(ValueError, match="positive"):
        DetectorConfig(2, anchors=((1, -2),) * 2)
    with pytest.raises(ValueError, match="divisible by num_heads"):
        DetectorConfig(2, width=3, num_heads=8)
    with pytest.raises(ValueError, match="num_classes"):
        DetectorConfig(0)
    with pytest.raises(TypeError, match="DetectorConfig"):
        TinyDetector({"num_classes": 2})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\[B, N, 5 \+ K\]"):
        postprocess(torch.zeros(3, 7))


def test_set_anchors_updates_buffer_and_config() -> None:
    model = TinyDetector(DetectorConfig(2, width=4, levels=3, num_heads=2))
    new = torch.arange(1, 19, dtype=torch.float32).view(9, 2)
    model.set_anchors(new)
    torch.testing.assert_close(model.anchor_tensor(), new.view(3, 3, 2))
    assert model.config.anchors[2] == (13.0, 14.0, 15.0, 16.0, 17.0, 18.0)
    assert math.isclose(model.state_dict()["detect.anchors"][0, 0, 0].item(), 1.0)


def test_forward_bad_input() -> None:
    model = TinyDetector(DetectorConfig(2, width=4, num_heads=2))  # 2 levels: strides 8, 16
    for size in (65, 40):  # not multiples of 16: torch.cat failed deep inside the neck
        with pytest.raises(ValueError, match=r"x must have a height and width that are multip"):
            model(torch.zeros(1, 3, size, size))
    with pytest.raises(ValueError, match=r"multiples of 32"):
        TinyDetector(DetectorConfig(2, width=4, levels=3, num_heads=2))(torch.zeros(1, 3, 48, 48))
    with pytest.raises(TypeError, match=r"x must have a floating point dtype.*uint8"):
        model(torch.zeros(1, 3, 64, 64, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"x must be a Tensor of shape \[B, 3, H, W\]"):
        model(torch.zeros(3, 64, 64))
    with pytest.raises(ValueError, match=r"\[B, 3, H, W\].*\(1, 4, 64, 64\)"):
        model(torch.zeros(1, 4, 64, 64))
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        model(np.zeros((1, 3, 64, 64), np.float32))
    assert [o.shape[2] for o in model(torch.zeros(1, 3, 48, 48))] == [6, 3]  # 48 = 3 * 16


def test_decode_bad_input() -> None:
    anchors = torch.tensor([[[16.0, 24.0]]])  # one level, one anchor
    good = torch.zeros(1, 1, 2, 2, 6)
    with pytest.raises(TypeError, match="outputs must be a non-empty list"):
        decode(good, anchors, (8,))
    with pytest.raises(TypeError, match="outputs must be a non-empty list"):
        decode([], anchors, (8,))
    with pytest.raises(ValueError, match=r"outputs\[0\] must be a Tensor of shape \[B, A, H, W"):
        decode([torch.zeros(1, 1, 2, 2)], anchors, (8,))  # 4-D
    with pytest.raises(ValueError, match=r"A = 1 anchors"):
        decode([torch.zeros(1, 2, 2, 2, 6)], anchors, (8,))
    with pytest.raises(ValueError, match=r"anchors must be a Tensor of shape \[L, A, 2\]"):
        decode([good], torch.ones(2, 1, 2), (8, 16))  # two levels of anchors, one output
    with pytest.raises(TypeError, match=r"outputs\[0\] must have a floating point dtype"):
        decode([good.long()], anchors, (8,))
    with pytest.raises(ValueError, match="strides must give one stride per level"):
        decode([good], anchors, ())
    with pytest.raises(TypeError, match="anchors must be a torch.Tensor"):
        decode([good], [[[16.0, 24.0]]], (8,))
    two = torch.ones(2, 1, 2)
    with pytest.raises(ValueError, match=r"outputs\[1\] must have the batch size"):
        decode([good, torch.zeros(2, 1, 1, 1, 6)], two, (8, 16))
