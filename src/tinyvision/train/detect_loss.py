"""The YOLOv5 detection loss: target assignment, CIoU box loss, objectness and class terms.

Target assignment (:func:`build_targets`): a ground-truth box is given to every anchor
whose size ratio to it is below ``anchor_t`` (``max(w/aw, aw/w, h/ah, ah/h) < 4``) on each
level, in the cell holding its centre and the two neighbouring cells nearest to the centre
(left or right, up or down) — up to 3 cells per anchor, so more positives per object.

Loss (:func:`yolo_loss`): for the assigned predictions, ``1 - CIoU`` of the decoded box
and the target box (:func:`tinyvision.ops.bbox_iou`), and binary cross-entropy (or sigmoid
focal loss, :func:`tinyvision.losses.sigmoid_focal_loss`) of the classes; objectness is
cross-entropy against the detached IoU on assigned cells and 0 elsewhere, weighted per
level (4, 1, 0.4 for strides 8, 16, 32). The sum is multiplied by the batch size, as in
YOLOv5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from tinyvision._validate import (
    check_float,
    check_int,
    check_tensor,
    check_tensor_shape,
    describe,
)
from tinyvision.losses import sigmoid_focal_loss
from tinyvision.nn.detector import check_head_outputs
from tinyvision.ops import bbox_iou

__all__ = ["LevelTargets", "LossConfig", "build_targets", "yolo_loss"]

# The four neighbours a target may also be assigned to, as offsets of half a cell:
# left, up, right, down (YOLOv5's order after the centre cell).
_EPS = 1e-7  # added to predicted widths and heights (in cells)
_OFFSETS = torch.tensor([[0.0, 0.0], [0.5, 0.0], [0.0, 0.5], [-0.5, 0.0], [0.0, -0.5]])


@dataclass(frozen=True)
class LossConfig:
    """Weights of the loss terms (YOLOv5's hyp.scratch-low), before :meth:`gains` scales
    them for the number of classes and the image size."""

    box: float = 0.05  # CIoU box term
    obj: float = 1.0  # objectness term (at 640 pixels)
    cls: float = 0.5  # class term (at 80 classes)
    anchor_t: float = 4.0  # size ratio below which an anchor takes a target
    focal: bool = False  # sigmoid focal loss for objectness and classes instead of BCE
    focal_gamma: float = 1.5  # focal loss gamma (YOLOv5's fl_gamma)
    focal_alpha: float = 0.25  # focal loss alpha
    balance: tuple[float, ...] = (4.0, 1.0, 0.4)  # objectness weight of P3, P4, P5

    def __post_init__(self) -> None:
        for name in ("box", "obj", "cls"):
            check_float(getattr(self, name), name, minimum=0.0)
        check_float(self.anchor_t, "anchor_t", minimum=1.0, min_inclusive=False)
        check_float(self.focal_gamma, "focal_gamma", minimum=0.0)
        check_float(self.focal_alpha, "focal_alpha", minimum=0.0, maximum=1.0)

    def gains(self, num_classes: int, image_size: int, num_levels: int = 3) -> tuple[float, ...]:
        """``(box, obj, cls)`` as YOLOv5's train.py scales them: by ``3 / levels``, the class
        term by ``classes / 80``, objectness by ``(image_size / 640)^2``."""
        levels = 3 / num_levels
        return (
            self.box * levels,
            self.obj * (image_size / 640) ** 2 * levels,
            self.cls * num_classes / 80 * levels,
        )


@dataclass(frozen=True)
class LevelTargets:
    """The positives of one level (``P`` rows): where, what and which anchor."""

    image: Tensor  # int64[P] image index in the batch
    anchor: Tensor  # int64[P] anchor index on this level
    gy: Tensor  # int64[P] cell row
    gx: Tensor  # int64[P] cell column
    box: Tensor  # float[P, 4] (x, y) offset from the cell's corner and (w, h), in cells
    cls: Tensor  # int64[P] class index
    anchor_wh: Tensor  # float[P, 2] the anchor's (w, h) in cells


def _check_targets(targets: object) -> Tensor:
    return check_tensor_shape(
        targets, "targets", ("M", 6), dtypes="float", layout="(image, class, cx, cy, w, h)"
    )


def _check_target_values(targets: Tensor, batch: int, num_classes: int) -> None:
    """Finite values, whole image indices in ``[0, batch)`` and class indices in
    ``[0, num_classes)``. Run on CPU tensors only: on a GPU the checks would wait for the
    device at every step, and the data loaders already check the labels they build."""
    if not bool(torch.isfinite(targets).all()):
        raise ValueError("targets must be finite, got NaN or infinity")
    for column, name, limit in ((0, "image indices", batch), (1, "class indices", num_classes)):
        values = targets[:, column]
        bad = (values < 0) | (values >= limit) | (values != values.floor())
        if bool(bad.any()):
            value = values[bad][0].item()
            raise ValueError(
                f"targets[:, {column}] must hold whole {name} in 0..{limit - 1}, got {value}"
            )


def build_targets(
    targets: Tensor,
    grid_shapes: Sequence[tuple[int, int]],
    anchors: Tensor,
    strides: Sequence[float],
    anchor_t: float = 4.0,
) -> list[LevelTargets]:
    """YOLOv5's target assignment.

    Args:
        targets (Tensor[M, 6]): ``(image index, class, cx, cy, w, h)``, box normalised by
            the input size.
        grid_shapes: ``(H_i, W_i)`` cells per level.
        anchors (Tensor[L, A, 2]): anchors in pixels.
        strides: pixels per cell per level.
        anchor_t: size ratio limit.

    Returns:
        one :class:`LevelTargets` per level.
    """
    targets = _check_targets(targets)
    device = targets.device
    num_anchors = anchors.shape[1]
    m = targets.shape[0]
    anchor_index = torch.arange(num_anchors, device=device, dtype=targets.dtype)
    # (A, M, 7): every target once per anchor, the anchor index appended
    tiled = torch.cat(
        (targets.repeat(num_anchors, 1, 1), anchor_index.view(-1, 1, 1).expand(-1, m, 1)), dim=2
    )
    offsets = _OFFSETS.to(device=device, dtype=targets.dtype)
    levels = []
    for i, ((h, w), stride) in enumerate(zip(grid_shapes, strides)):
        level_anchors = anchors[i].to(device=device, dtype=targets.dtype) / stride  # cells
        gain = torch.tensor([1, 1, w, h, w, h, 1], device=device, dtype=targets.dtype)
        t = tiled * gain  # boxes in cells
        if m:
            ratio = t[..., 4:6] / level_anchors[:, None]  # (A, M, 2)
            fits = torch.max(ratio, 1 / ratio).max(dim=2).values < anchor_t
            t = t[fits]  # (P, 7)
            gxy = t[:, 2:4]
            gxy_inverse = gain[[2, 3]] - gxy
            left, up = ((gxy % 1 < 0.5) & (gxy > 1)).T
            right, down = ((gxy_inverse % 1 < 0.5) & (gxy_inverse > 1)).T
            chosen = torch.stack((torch.ones_like(left), left, up, right, down))  # (5, P)
            t = t.repeat((5, 1, 1))[chosen]
            shift = (torch.zeros_like(gxy)[None] + offsets[:, None])[chosen]
        else:
            t = tiled[0]
            shift = torch.zeros_like(t[:, 2:4])
        gxy = t[:, 2:4]
        cell = (gxy - shift).long()
        gx = cell[:, 0].clamp(0, w - 1)
        gy = cell[:, 1].clamp(0, h - 1)
        a = t[:, 6].long()
        levels.append(
            LevelTargets(
                image=t[:, 0].long(),
                anchor=a,
                gy=gy,
                gx=gx,
                box=torch.cat((gxy - cell, t[:, 4:6]), dim=1),
                cls=t[:, 1].long(),
                anchor_wh=level_anchors[a],
            )
        )
    return levels


def _bce(logits: Tensor, target: Tensor, config: LossConfig) -> Tensor:
    if config.focal:
        return sigmoid_focal_loss(
            logits, target, alpha=config.focal_alpha, gamma=config.focal_gamma, reduction="mean"
        )
    return F.binary_cross_entropy_with_logits(logits, target)


def yolo_loss(
    outputs: Sequence[Tensor],
    targets: Tensor,
    anchors: Tensor,
    strides: Sequence[float],
    config: LossConfig | None = None,
    *,
    image_size: int | None = None,
) -> tuple[Tensor, Tensor]:
    """The YOLOv5 loss of one batch.

    Args:
        outputs: per level ``(B, A, H_i, W_i, 5 + K)`` raw head outputs.
        targets (Tensor[M, 6]): ``(image index, class, cx, cy, w, h)``, boxes normalised.
        anchors (Tensor[L, A, 2]): anchors in pixels.
        strides: pixels per cell of each level.
        config: term weights and options (default :class:`LossConfig`).
        image_size: input size for the objectness gain (default: from the first level).

    Returns:
        ``(loss, parts)``: the scalar to minimise (sum of the terms times the batch size)
        and ``Tensor[3]`` of the detached box, objectness and class terms.
    """
    config = config or LossConfig()
    if not isinstance(config, LossConfig):
        raise TypeError(f"config must be a LossConfig, got {describe(config)}")
    check_tensor(anchors, "anchors")
    if (
        not isinstance(outputs, Sequence)
        or isinstance(strides, (str, bytes))
        or not isinstance(strides, Sequence)
        or anchors.ndim < 1
        or len(outputs) != len(strides)
        or len(outputs) != anchors.shape[0]
    ):
        raise ValueError(
            "outputs, strides and anchors must have one entry per level, got "
            f"{describe(outputs)}, {describe(strides)} and {describe(anchors)}"
        )
    check_head_outputs(outputs, anchors, strides)
    first = outputs[0]
    batch, num_classes = first.shape[0], first.shape[-1] - 5
    if image_size is not None:
        check_int(image_size, "image_size", minimum=1)
    targets = _check_targets(targets)
    if targets.device.type == "cpu":
        _check_target_values(targets, batch, num_classes)
    size = image_size or int(first.shape[3] * strides[0])
    box_gain, obj_gain, cls_gain = config.gains(num_classes, size, len(outputs))
    shapes = [(int(o.shape[2]), int(o.shape[3])) for o in outputs]
    assigned = build_targets(targets, shapes, anchors, strides, config.anchor_t)
    zero = first.new_zeros((), dtype=torch.float32)
    box_loss, obj_loss, cls_loss = zero, zero, zero
    # YOLOv5: (4, 1, 0.4) for 3 levels, its first entries for fewer
    balance = config.balance[: len(outputs)] if len(config.balance) >= len(outputs) else None
    balance = balance or (1.0,) * len(outputs)
    for level, (raw, t) in enumerate(zip(outputs, assigned)):
        raw = raw.float()
        tobj = torch.zeros(raw.shape[:4], dtype=raw.dtype, device=raw.device)
        if t.image.numel():
            picked = raw[t.image, t.anchor, t.gy, t.gx]  # (P, 5 + K)
            pxy = picked[:, 0:2].sigmoid() * 2 - 0.5
            # + eps as YOLOv5: CIoU's atan(w / h) has no eps (torchvision's formula), and a
            # height that underflows to 0 would give an infinite or NaN gradient
            pwh = (picked[:, 2:4].sigmoid() * 2) ** 2 * t.anchor_wh + _EPS
            iou = bbox_iou(torch.cat((pxy, pwh), 1), t.box, kind="ciou", fmt="cxcywh")
            box_loss = box_loss + (1.0 - iou).mean()
            tobj[t.image, t.anchor, t.gy, t.gx] = iou.detach().clamp(0).to(tobj.dtype)
            if num_classes > 1:
                target_cls = torch.zeros_like(picked[:, 5:])
                target_cls[torch.arange(t.cls.numel(), device=raw.device), t.cls] = 1.0
                cls_loss = cls_loss + _bce(picked[:, 5:], target_cls, config)
        obj_loss = obj_loss + _bce(raw[..., 4], tobj, config) * balance[level]
    parts = torch.stack((box_loss * box_gain, obj_loss * obj_gain, cls_loss * cls_gain))
    return parts.sum() * batch, parts.detach()
