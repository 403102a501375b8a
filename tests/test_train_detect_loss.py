"""YOLOv5 target assignment and loss: against a slow reference loop, by hand, gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tinyvision.losses import sigmoid_focal_loss
from tinyvision.ops import bbox_iou
from tinyvision.train.detect_loss import LossConfig, build_targets, yolo_loss

ANCHORS = torch.tensor(
    [
        [[10, 13], [16, 30], [33, 23]],
        [[30, 61], [62, 45], [59, 119]],
        [[116, 90], [156, 198], [373, 326]],
    ],
    dtype=torch.float32,
)
STRIDES = (8, 16, 32)


def reference_assignment(targets, shapes, anchors, strides, anchor_t=4.0):
    """Textbook YOLOv5 assignment, one target, anchor and neighbour at a time: a set of
    (level, image, anchor, gy, gx, class, bx, by, bw, bh) tuples."""
    found = set()
    for level, ((h, w), stride) in enumerate(zip(shapes, strides)):
        for t in targets.tolist():
            image, cls, cx, cy, bw, bh = t
            gx, gy, gw, gh = cx * w, cy * h, bw * w, bh * h
            for a, (aw, ah) in enumerate((anchors[level] / stride).tolist()):
                ratios = [gw / aw, aw / gw, gh / ah, ah / gh]
                if not max(ratios) < anchor_t:
                    continue
                cells = [(0.0, 0.0)]
                if gx % 1 < 0.5 and gx > 1:
                    cells.append((0.5, 0.0))  # the left neighbour
                if gy % 1 < 0.5 and gy > 1:
                    cells.append((0.0, 0.5))  # the one above
                if (w - gx) % 1 < 0.5 and (w - gx) > 1:
                    cells.append((-0.5, 0.0))  # the right neighbour
                if (h - gy) % 1 < 0.5 and (h - gy) > 1:
                    cells.append((0.0, -0.5))  # the one below
                for ox, oy in cells:
                    cx_cell, cy_cell = math.floor(gx - ox), math.floor(gy - oy)
                    found.add((
                        level, int(image), a,
                        min(max(cy_cell, 0), h - 1), min(max(cx_cell, 0), w - 1), int(cls),
                        round(gx - cx_cell, 4), round(gy - cy_cell, 4), round(gw, 4), round(gh, 4),
                    ))  # fmt: skip
    return found


def as_set(levels):
    found = set()
    for level, t in enumerate(levels):
        for i in range(t.image.numel()):
            found.add((
                level, int(t.image[i]), int(t.anchor[i]), int(t.gy[i]), int(t.gx[i]), int(t.cls[i]),
                *(round(float(v), 4) for v in t.box[i]),
            ))  # fmt: skip
    return found


def random_targets(generator: torch.Generator, m: int, images: int = 3) -> torch.Tensor:
    wh = torch.rand(m, 2, generator=generator) * 0.5 + 0.02
    centre = wh / 2 + torch.rand(m, 2, generator=generator) * (1 - wh)
    image = torch.randint(0, images, (m, 1), generator=generator).float()
    cls = torch.randint(0, 4, (m, 1), generator=generator).float()
    return torch.cat((image, cls, centre, wh), dim=1)


@pytest.mark.parametrize("seed", range(5))
def test_build_targets_matches_reference_loop(seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    targets = random_targets(generator, 12)
    shapes = [(16, 16), (8, 8), (4, 4)]
    levels = build_targets(targets.double(), shapes, ANCHORS, STRIDES)
    expected = reference_assignment(targets.double(), shapes, ANCHORS, STRIDES)
    got = as_set(levels)
    assert got == expected
    # every row of the result is distinct (no double assignment of one neighbour)
    assert sum(t.image.numel() for t in levels) == len(got)


def test_build_targets_by_hand() -> None:
    # one 12x20-pixel box centred at (0.3, 0.7) of a 128 image; P3 is 16x16 cells of 8 px:
    # centre in cells (4.8, 11.2), size (1.5, 2.5) cells. Anchor 0 of P3 is (1.25, 1.625)
    # cells: ratios 1.2 and 1.54 < 4, fits; anchor 1 (2, 3.75) and 2 (4.125, 2.875) fit too.
    # x fraction .8 >= .5: right neighbour; y fraction .2 < .5: the cell above.
    targets = torch.tensor([[0, 2, 0.3, 0.7, 12 / 128, 20 / 128]], dtype=torch.float64)
    p3 = build_targets(targets, [(16, 16), (8, 8), (4, 4)], ANCHORS, STRIDES)[0]
    cells = sorted(zip(p3.anchor.tolist(), p3.gy.tolist(), p3.gx.tolist()))
    expected = sorted((a, gy, gx) for a in range(3) for gy, gx in ((11, 4), (10, 4), (11, 5)))
    assert cells == expected
    centre = p3.box[(p3.gy == 11) & (p3.gx == 4) & (p3.anchor == 0)][0]
    torch.testing.assert_close(centre, torch.tensor([0.8, 0.2, 1.5, 2.5], dtype=torch.float64))
    above = p3.box[(p3.gy == 10) & (p3.anchor == 0)][0]
    torch.testing.assert_close(above[:2], torch.tensor([0.8, 1.2], dtype=torch.float64))


def test_build_targets_size_ratio_limit() -> None:
    # a 40-pixel box against the P3 anchor (10, 13): 40 / 10 = 4.0 is not < 4: not assigned
    targets = torch.tensor([[0, 0, 0.5, 0.5, 40 / 128, 13 / 128]], dtype=torch.float64)
    p3 = build_targets(targets, [(16, 16), (8, 8), (4, 4)], ANCHORS, STRIDES)[0]
    assert 0 not in p3.anchor.tolist()


def test_build_targets_empty() -> None:
    levels = build_targets(torch.zeros((0, 6)), [(16, 16), (8, 8), (4, 4)], ANCHORS, STRIDES)
    assert all(t.image.numel() == 0 for t in levels)


def _outputs(batch: int = 2, classes: int = 4, size: int = 64, requires_grad: bool = True):
    generator = torch.Generator().manual_seed(0)
    return [
        torch.randn(batch, 3, size // s, size // s, 5 + classes, generator=generator)
        .mul_(0.5)
        .requires_grad_(requires_grad)
        for s in STRIDES
    ]


def test_loss_is_finite_and_has_gradients() -> None:
    outputs = _outputs()
    targets = torch.tensor([[0, 1, 0.5, 0.5, 0.3, 0.2], [1, 3, 0.2, 0.7, 0.1, 0.1]])
    loss, parts = yolo_loss(outputs, targets, ANCHORS, STRIDES)
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert parts.shape == (3,) and (parts > 0).all()
    torch.testing.assert_close(loss, parts.sum() * 2)  # times the batch size
    loss.backward()
    assert all(o.grad is not None and torch.isfinite(o.grad).all() for o in outputs)


def test_loss_without_targets_is_objectness_only() -> None:
    outputs = _outputs()
    loss, parts = yolo_loss(outputs, torch.zeros((0, 6)), ANCHORS, STRIDES)
    assert parts[0] == 0 and parts[2] == 0 and parts[1] > 0
    loss.backward()
    assert outputs[0].grad is not None


def test_loss_objectness_term_by_hand() -> None:
    # no targets: objectness is BCE(x, 0) averaged per level, times the level balance,
    # times the gain 1.0 * (64 / 640)^2 (image 64 px, 3 levels)
    outputs = _outputs(batch=1, size=64)
    _, parts = yolo_loss(outputs, torch.zeros((0, 6)), ANCHORS, STRIDES)
    expected = (
        sum(
            torch.nn.functional.binary_cross_entropy_with_logits(
                o[..., 4], torch.zeros_like(o[..., 4])
            )
            * b
            for o, b in zip(outputs, (4.0, 1.0, 0.4))
        )
        * (64 / 640) ** 2
    )
    torch.testing.assert_close(parts[1], expected.detach())


def test_loss_box_term_uses_ciou_of_decoded_boxes() -> None:
    # one target, P3 only (other levels have anchors too large or too small for it)
    outputs = _outputs(batch=1, size=64)
    targets = torch.tensor([[0, 0, 0.5, 0.5, 10 / 64, 13 / 64]])
    config = LossConfig()
    _, parts = yolo_loss(outputs, targets, ANCHORS, STRIDES, config)
    levels = build_targets(targets, [(8, 8), (4, 4), (2, 2)], ANCHORS, STRIDES)
    total = 0.0
    for raw, t in zip(outputs, levels):
        if t.image.numel():
            picked = raw[t.image, t.anchor, t.gy, t.gx].detach()
            pxy = picked[:, :2].sigmoid() * 2 - 0.5
            pwh = (picked[:, 2:4].sigmoid() * 2) ** 2 * t.anchor_wh + 1e-7
            total += (1 - bbox_iou(torch.cat((pxy, pwh), 1), t.box, "ciou", "cxcywh")).mean()
    torch.testing.assert_close(parts[0], total * config.box)


def test_vanishing_predicted_height_keeps_gradients_finite() -> None:
    # sigmoid(-60) underflows: the predicted height is 0 but for the eps; CIoU's atan(w / h)
    # without it gave NaN gradients (seen in training at raw values near -30)
    outputs = _outputs(batch=1, size=64)
    with torch.no_grad():
        for o in outputs:
            o[..., 3] = -60.0
    targets = torch.tensor([[0, 1, 0.5, 0.5, 0.3, 0.4]])
    loss, _ = yolo_loss(outputs, targets, ANCHORS, STRIDES)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(o.grad).all() for o in outputs)


def test_focal_flag_uses_sigmoid_focal_loss() -> None:
    outputs = _outputs(batch=1, size=64, requires_grad=False)
    empty = torch.zeros((0, 6))
    _, bce = yolo_loss(outputs, empty, ANCHORS, STRIDES, LossConfig(focal=False))
    _, focal = yolo_loss(outputs, empty, ANCHORS, STRIDES, LossConfig(focal=True))
    expected = (
        sum(
            sigmoid_focal_loss(o[..., 4], torch.zeros_like(o[..., 4]), 0.25, 1.5, "mean") * b
            for o, b in zip(outputs, (4.0, 1.0, 0.4))
        )
        * (64 / 640) ** 2
    )
    torch.testing.assert_close(focal[1], expected)
    assert focal[1] < bce[1]  # easy negatives are down-weighted


def test_loss_bad_input() -> None:
    outputs = _outputs()
    shape_words = r"targets must be a Tensor of shape \[M, 6\] \(image, class, cx, cy, w, h\)"
    with pytest.raises(ValueError, match=shape_words + r", got a Tensor of shape \(2, 5\)"):
        yolo_loss(outputs, torch.zeros((2, 5)), ANCHORS, STRIDES)
    with pytest.raises(ValueError, match=shape_words + r", got a Tensor of shape \(6,\)"):
        yolo_loss(outputs, torch.zeros(6), ANCHORS, STRIDES)
    with pytest.raises(TypeError, match="targets must have a floating point dtype, got .*int64"):
        yolo_loss(outputs, torch.zeros((2, 6), dtype=torch.long), ANCHORS, STRIDES)
    with pytest.raises(TypeError, match="targets must have a floating point dtype, got .*bool"):
        yolo_loss(outputs, torch.zeros((2, 6), dtype=torch.bool), ANCHORS, STRIDES)
    with pytest.raises(TypeError, match=r"targets must be a torch\.Tensor, got an array"):
        yolo_loss(outputs, np.zeros((2, 6)), ANCHORS, STRIDES)
    with pytest.raises(ValueError, match="one entry per level"):
        yolo_loss(outputs[:2], torch.zeros((0, 6)), ANCHORS, STRIDES)
    with pytest.raises(ValueError, match="anchor_t"):
        LossConfig(anchor_t=1.0)


def test_loss_bad_target_values_and_levels() -> None:
    # outputs of 2 images and 4 classes: image indices 0..1, classes 0..3 (checked on the CPU)
    outputs = _outputs(requires_grad=False)
    box = [0.5, 0.5, 0.2, 0.2]
    for row, pattern in [
        ([0, 4, *box], r"targets\[:, 1\] must hold whole class indices in 0\.\.3, got 4\.0"),
        ([0, -1, *box], r"targets\[:, 1\] .* got -1\.0"),
        ([0, 1.5, *box], r"targets\[:, 1\] .* got 1\.5"),
        ([2, 0, *box], r"targets\[:, 0\] must hold whole image indices in 0\.\.1, got 2\.0"),
        ([0, 0, math.nan, 0.5, 0.2, 0.2], "targets must be finite"),
        ([0, 0, 0.5, 0.5, math.inf, 0.2], "targets must be finite"),
    ]:
        with pytest.raises(ValueError, match=pattern):
            yolo_loss(outputs, torch.tensor([row]), ANCHORS, STRIDES)
    with pytest.raises(TypeError, match="anchors must be a torch.Tensor"):
        yolo_loss(outputs, torch.zeros((0, 6)), ANCHORS.tolist(), STRIDES)
    with pytest.raises(ValueError, match=r"with A = 2 anchors .* got a Tensor of shape \(2, 3,"):
        yolo_loss(outputs, torch.zeros((0, 6)), ANCHORS[:, :2], STRIDES)  # 2 anchors, outputs 3
    with pytest.raises(TypeError, match=r"outputs\[2\] must have a floating point dtype"):
        yolo_loss([*outputs[:2], outputs[2].long()], torch.zeros((0, 6)), ANCHORS, STRIDES)
    with pytest.raises(TypeError, match="config must be a LossConfig"):
        yolo_loss(outputs, torch.zeros((0, 6)), ANCHORS, STRIDES, {"box": 1.0})
    with pytest.raises(ValueError, match="image_size must be >= 1"):
        yolo_loss(outputs, torch.zeros((0, 6)), ANCHORS, STRIDES, image_size=0)
    # the edges of the ranges are accepted: image 1, class 3
    loss, _ = yolo_loss(outputs, torch.tensor([[1, 3, *box]]), ANCHORS, STRIDES)
    assert torch.isfinite(loss)
