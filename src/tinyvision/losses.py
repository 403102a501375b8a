"""Detection losses: sigmoid focal loss and the IoU-family box regression losses.

Names, arguments, defaults and results are ``torchvision.ops``'s: the same values and the
same gradients. Every loss takes ``reduction="none" | "mean" | "sum"``; for the box losses
the mean of an empty input is ``0`` with a gradient (``0.0 * loss.sum()``), so a batch
without matched boxes still backpropagates.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from tinyvision._validate import (
    check_float,
    check_real_dtype,
    check_same_device,
    check_tensor,
    describe,
)
from tinyvision.ops._errors import ShapeError, check_choice_tv, check_float_dtype
from tinyvision.ops.boxes import (
    _aspect_penalty,
    _check_elementwise,
    _distance_penalty,
    _giou_penalty,
    _loss_inter_union,
    _upcast_non_float,
)

__all__ = [
    "complete_box_iou_loss",
    "distance_box_iou_loss",
    "generalized_box_iou_loss",
    "sigmoid_focal_loss",
]

REDUCTIONS = ("none", "mean", "sum")


def sigmoid_focal_loss(
    inputs: Tensor,
    targets: Tensor,
    alpha: float = 0.25,
    gamma: float = 2,
    reduction: str = "none",
) -> Tensor:
    """Focal loss of RetinaNet (Lin et al., 2017), torchvision's formula.

    ``FL = alpha_t * (1 - p_t)^gamma * BCE(inputs, targets)`` with ``p = sigmoid(inputs)``,
    ``p_t = p * t + (1 - p) * (1 - t)`` and ``alpha_t = alpha * t + (1 - alpha) * (1 - t)``:
    ``alpha`` balances positives against negatives, ``gamma`` down-weights easy examples
    (``gamma = 0`` and ``alpha = -1`` give plain binary cross-entropy).

    Args:
        inputs (Tensor[...]): logits, floating point, any shape.
        targets (Tensor[...]): labels in [0, 1], same shape (integer or bool is converted).
        alpha (float): weight of the positives in [0, 1], or -1 for no weighting.
            Default 0.25.
        gamma (float): focusing exponent, >= 0. Default 2.
        reduction (str): ``"none"`` (default), ``"mean"`` or ``"sum"``.

    Returns:
        Tensor: the loss per element (``"none"``) or its mean/sum (a scalar; the mean of an
        empty input is NaN, as ``torch.mean`` gives).
    """
    check_tensor(inputs, "inputs")
    check_tensor(targets, "targets")
    check_float_dtype(inputs, "inputs", "sigmoid_focal_loss")
    if targets.shape != inputs.shape:
        raise ShapeError(
            f"targets must have the shape of inputs {tuple(inputs.shape)}, got {describe(targets)}"
            f" (Target size {tuple(targets.shape)} must be the same as input size "
            f"{tuple(inputs.shape)})"
        )
    check_same_device("inputs", inputs, "targets", targets)
    if not targets.is_floating_point():
        if targets.dtype != torch.bool:
            check_real_dtype(targets, "targets")
        targets = targets.to(inputs.dtype)
    alpha = check_float(alpha, "alpha")
    if not (0 <= alpha <= 1) and alpha != -1:
        raise ValueError(f"alpha must be in [0, 1] or -1 (no weighting), got {alpha}")
    gamma_value = check_float(gamma, "gamma", minimum=0.0)
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)):
        gamma = gamma_value  # an int exponent stays int: torch.pow's gradient follows it
    _check_reduction(reduction)

    # torchvision's operations in its order, so values and gradients match to the bit; fewer
    # passes over memory: 1 - targets once, and in place where autograd keeps no copy
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    negatives = 1 - targets
    p_t = (p * targets).add_((1 - p) * negatives)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = (alpha * targets).add_((1 - alpha) * negatives)
        # mul_ needs no saved input unless alpha_t itself wants a gradient
        loss = alpha_t * loss if alpha_t.requires_grad else loss.mul_(alpha_t)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def generalized_box_iou_loss(
    boxes1: Tensor, boxes2: Tensor, reduction: str = "none", eps: float = 1e-7
) -> Tensor:
    """``1 - GIoU`` of matched boxes (Rezatofighi et al., 2019); symmetric in its arguments.

    Args:
        boxes1 (Tensor[N, 4] or Tensor[4]): predicted ``xyxy`` boxes.
        boxes2 (Tensor[N, 4] or Tensor[4]): target ``xyxy`` boxes, same shape.
        reduction (str): ``"none"`` (default), ``"mean"`` or ``"sum"``.
        eps (float): added to the union and the enclosing area. Default ``1e-7``.

    Returns:
        Tensor: the loss per pair, or its mean/sum; float32 unless the boxes are float64.
    """
    b1, b2, eps = _check_box_loss(boxes1, boxes2, reduction, eps)
    inter, union = _loss_inter_union(b1, b2)
    iou = inter / (union + eps)
    return _reduce(1 - (iou - _giou_penalty(b1, b2, union, eps)), reduction)


def distance_box_iou_loss(
    boxes1: Tensor, boxes2: Tensor, reduction: str = "none", eps: float = 1e-7
) -> Tensor:
    """``1 - IoU + d^2 / c^2`` of matched boxes (Zheng et al., 2020); symmetric.

    ``d`` is the distance between the box centres, ``c`` the diagonal of the enclosing box.

    Args:
        boxes1 (Tensor[N, 4] or Tensor[4]): predicted ``xyxy`` boxes.
        boxes2 (Tensor[N, 4] or Tensor[4]): target ``xyxy`` boxes, same shape.
        reduction (str): ``"none"`` (default), ``"mean"`` or ``"sum"``.
        eps (float): added to the union and to ``c^2``. Default ``1e-7``.

    Returns:
        Tensor: the loss per pair, or its mean/sum.
    """
    b1, b2, eps = _check_box_loss(boxes1, boxes2, reduction, eps)
    return _reduce(_diou_loss(b1, b2, eps)[0], reduction)


def complete_box_iou_loss(
    boxes1: Tensor, boxes2: Tensor, reduction: str = "none", eps: float = 1e-7
) -> Tensor:
    """``1 - IoU + d^2 / c^2 + alpha * v`` of matched boxes (Zheng et al., 2020).

    ``v = 4 / pi^2 * (atan(w_gt / h_gt) - atan(w / h))^2`` compares aspect ratios and
    ``alpha = v / (1 - IoU + v + eps)`` carries no gradient.

    torchvision's version adds its default ``1e-7`` (not ``eps``) to the union and ``c^2``;
    here ``eps`` is used everywhere, so the two agree exactly at the default ``eps``.

    Args:
        boxes1 (Tensor[N, 4] or Tensor[4]): predicted ``xyxy`` boxes.
        boxes2 (Tensor[N, 4] or Tensor[4]): target ``xyxy`` boxes, same shape.
        reduction (str): ``"none"`` (default), ``"mean"`` or ``"sum"``.
        eps (float): small number against division by zero. Default ``1e-7``.

    Returns:
        Tensor: the loss per pair, or its mean/sum.
    """
    b1, b2, eps = _check_box_loss(boxes1, boxes2, reduction, eps)
    diou_loss, iou = _diou_loss(b1, b2, eps)
    return _reduce(diou_loss + _aspect_penalty(b1, b2, iou, eps), reduction)


def _diou_loss(boxes1: Tensor, boxes2: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    """``(1 - IoU + d^2 / (c^2 + eps), IoU)``, in torchvision's order of operations."""
    inter, union = _loss_inter_union(boxes1, boxes2)
    iou = inter / (union + eps)
    return 1 - iou + _distance_penalty(boxes1, boxes2, eps), iou


def _check_box_loss(
    boxes1: object, boxes2: object, reduction: object, eps: object
) -> tuple[Tensor, Tensor, float]:
    b1, b2 = _check_elementwise(boxes1, boxes2)
    _check_reduction(reduction)
    eps_value = check_float(eps, "eps", minimum=0.0)
    return _upcast_non_float(b1), _upcast_non_float(b2), eps_value


def _check_reduction(reduction: object) -> str:
    """``reduction`` if it is one of :data:`REDUCTIONS`; a ``ValueError`` with torchvision's
    words (``Invalid Value for arg 'reduction'``) otherwise."""
    modes = ", ".join(repr(mode) for mode in REDUCTIONS)
    words = f"Invalid Value for arg 'reduction'; Supported reduction modes: {modes}"
    return check_choice_tv(reduction, "reduction", REDUCTIONS, words)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean() if loss.numel() > 0 else 0.0 * loss.sum()
    if reduction == "sum":
        return loss.sum()
    return loss
