"""tinyvision.losses: hand-computed values, BCE equivalence, empty inputs and bad input.

Equality with torchvision (values and gradients) is checked in test_ops_reference.py.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from tinyvision import losses, ops

BOX_LOSSES = [
    losses.generalized_box_iou_loss,
    losses.distance_box_iou_loss,
    losses.complete_box_iou_loss,
]


def test_focal_loss_by_hand() -> None:
    # logit 0 -> p = 0.5. Target 1: BCE = ln 2, p_t = 0.5, (1 - p_t)^2 = 0.25, alpha_t = 0.25
    # -> 0.25 * 0.25 * ln 2. Target 0: alpha_t = 0.75 -> 0.75 * 0.25 * ln 2.
    loss = losses.sigmoid_focal_loss(torch.zeros(2), torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(loss, torch.tensor([0.0625, 0.1875]) * math.log(2))
    # logit ln 3 -> p = 0.75, target 1: BCE = -ln 0.75, (1 - 0.75)^2 = 1/16, alpha_t = 0.25
    loss = losses.sigmoid_focal_loss(torch.tensor([math.log(3)]), torch.ones(1), reduction="sum")
    torch.testing.assert_close(loss, torch.tensor(-math.log(0.75) / 64))


def test_focal_loss_with_gamma_0_and_no_alpha_is_bce_values_and_gradients() -> None:
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(500, generator=g) * 4).requires_grad_(True)
    t = (torch.rand(500, generator=g) > 0.7).float()
    focal = losses.sigmoid_focal_loss(x, t, alpha=-1, gamma=0, reduction="mean")
    (grad_focal,) = torch.autograd.grad(focal, x)
    bce = F.binary_cross_entropy_with_logits(x, t)
    (grad_bce,) = torch.autograd.grad(bce, x)
    torch.testing.assert_close(focal, bce)
    torch.testing.assert_close(grad_focal, grad_bce)


def test_focal_loss_gradient_with_respect_to_targets() -> None:
    # soft targets that require a gradient take the out-of-place path; compare with the
    # formula written out
    x = torch.tensor([-2.0, 0.5, 3.0], dtype=torch.float64)
    t = torch.tensor([0.2, 0.9, 0.6], dtype=torch.float64, requires_grad=True)
    losses.sigmoid_focal_loss(x, t, reduction="sum").backward()
    t2 = t.detach().clone().requires_grad_(True)
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, t2, reduction="none")
    p_t = p * t2 + (1 - p) * (1 - t2)
    (((0.25 * t2 + 0.75 * (1 - t2)) * ce * (1 - p_t) ** 2).sum()).backward()
    torch.testing.assert_close(t.grad, t2.grad)


def test_focal_loss_targets_may_be_bool_or_integer() -> None:
    x = torch.tensor([-2.0, 0.5, 3.0])
    t = torch.tensor([0.0, 1.0, 1.0])
    expected = losses.sigmoid_focal_loss(x, t)
    torch.testing.assert_close(losses.sigmoid_focal_loss(x, t.bool()), expected)
    torch.testing.assert_close(losses.sigmoid_focal_loss(x, t.long()), expected)


def test_focal_loss_reductions_and_empty_input() -> None:
    x = torch.tensor([-1.0, 2.0])
    t = torch.tensor([1.0, 0.0])
    none = losses.sigmoid_focal_loss(x, t)
    torch.testing.assert_close(losses.sigmoid_focal_loss(x, t, reduction="sum"), none.sum())
    torch.testing.assert_close(losses.sigmoid_focal_loss(x, t, reduction="mean"), none.mean())
    empty = torch.zeros(0)
    assert losses.sigmoid_focal_loss(empty, empty).shape == (0,)
    assert losses.sigmoid_focal_loss(empty, empty, reduction="sum").item() == 0.0
    assert math.isnan(losses.sigmoid_focal_loss(empty, empty, reduction="mean").item())


def test_focal_loss_bad_input() -> None:
    x, t = torch.zeros(3), torch.ones(3)
    for alpha in (1.5, -0.5, -2):
        with pytest.raises(ValueError, match="alpha must be in \\[0, 1\\] or -1"):
            losses.sigmoid_focal_loss(x, t, alpha=alpha)
    with pytest.raises(ValueError, match="reduction must be one of 'none', 'mean', 'sum'"):
        losses.sigmoid_focal_loss(x, t, reduction="average")
    with pytest.raises(ValueError, match="gamma must be >= 0"):
        losses.sigmoid_focal_loss(x, t, gamma=-1)
    with pytest.raises(ValueError, match="targets must have the shape of inputs"):
        losses.sigmoid_focal_loss(x, torch.ones(4))
    with pytest.raises(TypeError, match="inputs must have a floating point dtype"):
        losses.sigmoid_focal_loss(x.long(), t)
    with pytest.raises(TypeError, match="targets must be a torch.Tensor"):
        losses.sigmoid_focal_loss(x, [1, 1, 1])
    with pytest.raises(TypeError, match="alpha must be a real number"):
        losses.sigmoid_focal_loss(x, t, alpha="0.25")


def test_box_losses_by_hand() -> None:
    # A = [0,0,2,2], B = [1,1,3,3]: IoU 1/7, GIoU -5/63, DIoU 2/63 (see test_ops_boxes), v = 0
    a = torch.tensor([[0.0, 0, 2, 2]], dtype=torch.float64)
    b = torch.tensor([[1.0, 1, 3, 3]], dtype=torch.float64)
    assert losses.generalized_box_iou_loss(a, b, eps=0).item() == pytest.approx(68 / 63)
    assert losses.distance_box_iou_loss(a, b, eps=0).item() == pytest.approx(61 / 63)
    assert losses.complete_box_iou_loss(a, b, eps=0).item() == pytest.approx(61 / 63)
    # identical boxes: IoU = 4 / (4 + eps) ~ 1, no penalty -> loss ~ 0
    for fn in BOX_LOSSES:
        assert fn(a, a).item() == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("fn", BOX_LOSSES, ids=lambda f: f.__name__)
def test_box_losses_empty_input_is_zero_with_gradient(fn) -> None:
    boxes = torch.zeros(0, 4, requires_grad=True)
    for reduction in ("mean", "sum"):
        loss = fn(boxes, torch.zeros(0, 4), reduction=reduction)
        assert loss.item() == 0.0
        (grad,) = torch.autograd.grad(loss, boxes)
        assert grad.shape == (0, 4)
    assert fn(boxes, torch.zeros(0, 4)).shape == (0,)


def test_one_minus_bbox_iou_is_the_loss() -> None:
    g = torch.Generator().manual_seed(1)
    xy = torch.rand(50, 2, generator=g) * 10
    a = torch.cat([xy, xy + torch.rand(50, 2, generator=g) * 5 + 0.1], 1)
    b = a + torch.randn(50, 4, generator=g)
    torch.testing.assert_close(
        1 - ops.bbox_iou(a, b, "giou"), losses.generalized_box_iou_loss(a, b), rtol=0, atol=0
    )
    torch.testing.assert_close(1 - ops.bbox_iou(a, b, "diou"), losses.distance_box_iou_loss(a, b))
    torch.testing.assert_close(1 - ops.bbox_iou(a, b, "ciou"), losses.complete_box_iou_loss(a, b))


def test_complete_loss_uses_eps_everywhere() -> None:
    # torchvision adds 1e-7 to the union whatever eps is; here eps=1 visibly changes the IoU
    a = torch.tensor([[0.0, 0, 2, 2]])
    b = torch.tensor([[1.0, 1, 3, 3]])
    # IoU = 1 / (7 + 1) = 1/8, d^2 / (c^2 + 1) = 2 / 19, v = 0
    expected = 1 - 1 / 8 + 2 / 19
    assert losses.complete_box_iou_loss(a, b, eps=1.0).item() == pytest.approx(expected)


@pytest.mark.parametrize("fn", BOX_LOSSES, ids=lambda f: f.__name__)
def test_box_losses_bad_input(fn) -> None:
    a = torch.tensor([[0.0, 0, 2, 2]])
    with pytest.raises(ValueError, match="reduction must be one of"):
        fn(a, a, reduction="avg")
    with pytest.raises(ValueError, match="eps must be >= 0"):
        fn(a, a, eps=-1e-3)
    with pytest.raises(ValueError, match="same shape"):
        fn(torch.zeros(3, 4), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="boxes2 must be a Tensor of shape"):
        fn(a, torch.zeros(1, 5))
    with pytest.raises(TypeError, match="boxes1 must be a torch.Tensor"):
        fn(None, a)
    with pytest.raises(TypeError, match="boxes1"):
        fn(a.bool(), a)
