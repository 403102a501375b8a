"""Box geometry on torch tensors: formats, areas, clipping and the IoU family.

Boxes are ``(x1, y1, x2, y2)`` in absolute, continuous coordinates unless a ``fmt=`` argument
says otherwise. Every function works on any device and is autograd-safe; names, arguments
and results are ``torchvision.ops``'s, including its dtype rules (half precision and integer
boxes give float32 IoUs).

On CPU, when no gradient is needed, the pairwise IoU matrices come from a compiled loop
(:mod:`tinyvision.ops._kernels`) that repeats torch's arithmetic operation for operation in
the input's dtype, so both paths return the same bits.

Rotated boxes (``fmt="cxcywhr"``, ``"xywhr"`` or ``"xyxyxyxy"``, torchvision's formats and
arithmetic) work in :func:`box_convert` and :func:`box_iou`; their angles are in degrees,
counter-clockwise in the image plane (x right, y down). On CPU their IoU comes from a
compiled copy of torchvision's polygon-intersection kernel (the same bits), elsewhere from a
vectorised torch computation of the same polygon (equal within rounding).

NaN and infinite coordinates are not rejected (checking would cost a pass over the data);
they propagate like torch's own operations do: a NaN coordinate makes every IoU that involves
its box NaN, and ``inf - inf`` gives NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

from tinyvision._validate import (
    check_choice,
    check_float,
    check_int,
    check_same_device,
    describe,
)
from tinyvision.ops import _kernels, _rotated_kernels
from tinyvision.ops._errors import (
    FormatConversionError,
    ShapeError,
    check_box_shape,
    check_choice_tv,
)

__all__ = [
    "BOX_FORMATS",
    "ROTATED_BOX_FORMATS",
    "FormatConversionError",
    "bbox_iou",
    "box_area",
    "box_convert",
    "box_iou",
    "clip_boxes_to_image",
    "complete_box_iou",
    "distance_box_iou",
    "generalized_box_iou",
    "remove_small_boxes",
]

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")
ROTATED_BOX_FORMATS = ("cxcywhr", "xywhr", "xyxyxyxy")
# Coordinates per box in each format.
_FORMAT_SIZE = {"xyxy": 4, "xywh": 4, "cxcywh": 4, "cxcywhr": 5, "xywhr": 5, "xyxyxyxy": 8}
# Pairs of rotated boxes per block of the vectorised (torch) rotated IoU.
_ROTATED_TORCH_PAIRS = 1 << 16
IOU_KINDS = ("iou", "giou", "diou", "ciou")

# Below this many pairs the torch ops are as fast as the compiled loop.
_COMPILED_MIN_PAIRS = 4096


# --------------------------------------------------------------------------- validation


def _check_box_tensor(value: object, name: str, *, min_ndim: int = 1, size: int = 4) -> Tensor:
    """``value`` must be a real tensor of shape ``[..., size]`` with at least ``min_ndim`` dims
    (:class:`~tinyvision.ops.BoxShapeError` otherwise, also torchvision's ``IndexError``)."""
    return check_box_shape(value, name, size=size, min_ndim=min_ndim, max_ndim=None)


def _check_pairwise(boxes1: object, boxes2: object) -> tuple[Tensor, Tensor]:
    """Two box sets ``[..., N, 4]`` and ``[..., M, 4]`` with equal leading dimensions."""
    b1 = _check_box_tensor(boxes1, "boxes1", min_ndim=2)
    b2 = _check_box_tensor(boxes2, "boxes2", min_ndim=2)
    if b1.shape[:-2] != b2.shape[:-2]:
        raise ShapeError(
            "boxes1 and boxes2 must have the same leading (batch) dimensions, got "
            f"{tuple(b1.shape)} and {tuple(b2.shape)} (the sizes must match)"
        )
    check_same_device("boxes1", b1, "boxes2", b2)
    return b1, b2


def _check_elementwise(boxes1: object, boxes2: object) -> tuple[Tensor, Tensor]:
    """Two box tensors ``[..., 4]`` whose shapes broadcast (``[N, 4]`` with ``[N, 4]``)."""
    b1 = _check_box_tensor(boxes1, "boxes1")
    b2 = _check_box_tensor(boxes2, "boxes2")
    try:
        torch.broadcast_shapes(b1.shape, b2.shape)
    except RuntimeError:
        raise ShapeError(
            "boxes1 and boxes2 must have the same shape [N, 4] (or broadcast), got "
            f"{tuple(b1.shape)} and {tuple(b2.shape)} (the sizes must match)"
        ) from None
    check_same_device("boxes1", b1, "boxes2", b2)
    return b1, b2


def _check_fmt(fmt: object, name: str = "fmt") -> str:
    return check_choice_tv(fmt, name, BOX_FORMATS, f"Unsupported format {fmt!r}")


# --------------------------------------------------------------------------- dtype helpers


def _upcast(t: Tensor) -> Tensor:
    """Half/bfloat16 -> float32, small integers -> int32 (torchvision's overflow guard)."""
    if t.is_floating_point():
        return t if t.dtype in (torch.float32, torch.float64) else t.float()
    return t if t.dtype in (torch.int32, torch.int64) else t.int()


def _upcast_non_float(t: Tensor) -> Tensor:
    """Anything but float32/float64 -> float32 (the losses' rule)."""
    return t if t.dtype in (torch.float32, torch.float64) else t.float()


def _legacy(boxes: Tensor) -> Tensor:
    """The "+1 pixel" convention as continuous boxes: ``(x1, y1, x2 + 1, y2 + 1)``.

    Inclusive pixel corners make every width ``x2 - x1 + 1``; shifting the far corner by one
    pixel gives exactly those widths, areas, intersections and enclosing boxes.
    """
    boxes = _upcast(boxes)
    return torch.cat((boxes[..., :2], boxes[..., 2:] + 1), dim=-1)


# --------------------------------------------------------------------------- formats


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """Convert boxes between ``"xyxy"``, ``"xywh"`` and ``"cxcywh"``, or between the rotated
    formats ``"cxcywhr"``, ``"xywhr"`` and ``"xyxyxyxy"``.

    ``xyxy`` is ``(x1, y1, x2, y2)``; ``xywh`` is ``(x1, y1, w, h)``; ``cxcywh`` is
    ``(cx, cy, w, h)``. Rotated: ``cxcywhr`` is ``(cx, cy, w, h, r)`` and ``xywhr`` is
    ``(x1, y1, w, h, r)`` with ``(x1, y1)`` the box's first ("top-left") corner and ``r`` the
    angle in degrees, counter-clockwise in the image plane; ``xyxyxyxy`` lists the four
    corners (top-left, top-right, bottom-right, bottom-left of the unrotated box). The
    arithmetic is torchvision's (integer boxes are rounded back to their dtype); an
    ``xyxyxyxy`` box that is not a rectangle keeps its first edge's direction and length
    and the length of its second edge.

    Args:
        boxes (Tensor[..., K]): boxes in ``in_fmt`` (K = 4, 5 or 8); any leading dimensions.
        in_fmt (str): format of ``boxes``.
        out_fmt (str): format of the result.

    Returns:
        Tensor[..., K']: the converted boxes (a copy when the formats are equal).

    Raises:
        FormatConversionError: between an axis-aligned and a rotated format.
    """
    words = f"Unsupported Bounding Box Conversions for given in_fmt {in_fmt} and out_fmt {out_fmt}"
    check_choice_tv(in_fmt, "in_fmt", _FORMAT_SIZE, words)
    check_choice_tv(out_fmt, "out_fmt", _FORMAT_SIZE, words)
    _check_box_tensor(boxes, "boxes", size=_FORMAT_SIZE[in_fmt])
    if in_fmt == out_fmt:
        return boxes.clone()
    if (in_fmt in ROTATED_BOX_FORMATS) != (out_fmt in ROTATED_BOX_FORMATS):
        raise FormatConversionError(
            f"box_convert cannot convert between an axis-aligned and a rotated format, "
            f"got in_fmt={in_fmt!r} and out_fmt={out_fmt!r} (Unsupported Bounding Box "
            "Conversions)"
        )
    if in_fmt in ROTATED_BOX_FORMATS:
        return _convert_rotated(boxes, in_fmt, out_fmt)
    xyxy = boxes if in_fmt == "xyxy" else _to_xyxy(boxes, in_fmt)
    return xyxy if out_fmt == "xyxy" else _from_xyxy(xyxy, out_fmt)


def _convert_rotated(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """torchvision's rotated conversions, through ``xywhr`` (each step rounded back to an
    integer dtype, as torchvision does)."""
    if in_fmt == "cxcywhr":
        xywhr = _rotated_step(boxes, _cxcywhr_to_xywhr)
    elif in_fmt == "xyxyxyxy":
        xywhr = _rotated_step(boxes, _xyxyxyxy_to_xywhr)
    else:
        xywhr = boxes
    if out_fmt == "xywhr":
        return xywhr
    if out_fmt == "cxcywhr":
        return _rotated_step(xywhr, _xywhr_to_cxcywhr)
    return _rotated_step(xywhr, _xywhr_to_xyxyxyxy)


def _rotated_step(boxes: Tensor, step: Callable[[Tensor], Tensor]) -> Tensor:
    out = step(boxes)
    if boxes.is_floating_point():
        return out
    return out.round_().to(boxes.dtype)


def _cos_sin(r: Tensor) -> tuple[Tensor, Tensor]:
    rad = r * torch.pi / 180.0
    return torch.cos(rad), torch.sin(rad)


def _cxcywhr_to_xywhr(boxes: Tensor) -> Tensor:
    cx, cy, w, h, r = boxes.unbind(-1)
    cos, sin = _cos_sin(r)
    x1 = cx - w / 2 * cos - h / 2 * sin
    y1 = cy - h / 2 * cos + w / 2 * sin
    return torch.stack((x1, y1, w, h, r), dim=-1)


def _xywhr_to_cxcywhr(boxes: Tensor) -> Tensor:
    x1, y1, w, h, r = boxes.unbind(-1)
    cos, sin = _cos_sin(r)
    cx = x1 + w / 2 * cos + h / 2 * sin
    cy = y1 - w / 2 * sin + h / 2 * cos
    return torch.stack((cx, cy, w, h, r), dim=-1)


def _xywhr_to_xyxyxyxy(boxes: Tensor) -> Tensor:
    x1, y1, w, h, r = boxes.unbind(-1)
    cos, sin = _cos_sin(r)
    x2 = x1 + w * cos
    y2 = y1 - w * sin
    x3 = x2 + h * sin
    y3 = y2 + h * cos
    x4 = x1 + h * sin
    y4 = y1 + h * cos
    return torch.stack((x1, y1, x2, y2, x3, y3, x4, y4), dim=-1)


def _xyxyxyxy_to_xywhr(boxes: Tensor) -> Tensor:
    x1, y1, x2, y2, x3, y3, _, _ = boxes.unbind(-1)
    r = torch.atan2(y1 - y2, x2 - x1) * 180 / torch.pi
    w = ((x2 - x1) ** 2 + (y1 - y2) ** 2).sqrt()
    h = ((x3 - x2) ** 2 + (y3 - y2) ** 2).sqrt()
    return torch.stack((x1, y1, w, h, r), dim=-1)


def _to_xyxy(boxes: Tensor, fmt: str) -> Tensor:
    a, b, w, h = boxes.unbind(-1)
    if fmt == "xywh":
        return torch.stack((a, b, a + w, b + h), dim=-1)
    # cxcywh
    return torch.stack((a - 0.5 * w, b - 0.5 * h, a + 0.5 * w, b + 0.5 * h), dim=-1)


def _from_xyxy(boxes: Tensor, fmt: str) -> Tensor:
    x1, y1, x2, y2 = boxes.unbind(-1)
    if fmt == "xywh":
        return torch.stack((x1, y1, x2 - x1, y2 - y1), dim=-1)
    # cxcywh
    return torch.stack(((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1), dim=-1)


def box_area(boxes: Tensor, fmt: str = "xyxy") -> Tensor:
    """Area of each box: ``(x2 - x1) * (y2 - y1)`` or ``w * h``.

    Inverted boxes (``x2 < x1``) give negative areas, as in torchvision; nothing is clamped.

    Args:
        boxes (Tensor[..., 4]): boxes in ``fmt``.
        fmt (str): ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.

    Returns:
        Tensor[...]: areas; float32 for half precision, int32 for 8/16-bit integers.
    """
    _check_box_tensor(boxes, "boxes")
    words = f"Unsupported Bounding Box area for given format {fmt}"
    check_choice_tv(fmt, "fmt", BOX_FORMATS, words)
    boxes = _upcast(boxes)
    if fmt == "xyxy":
        return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
    return boxes[..., 2] * boxes[..., 3]


def clip_boxes_to_image(boxes: Tensor, size: Sequence[int]) -> Tensor:
    """Clip ``(x1, y1, x2, y2)`` boxes to an image of ``size = (height, width)``.

    x coordinates are clamped to ``[0, width]`` and y coordinates to ``[0, height]``;
    NaN stays NaN.

    Args:
        boxes (Tensor[..., 4]): boxes in ``xyxy`` format.
        size (tuple[int, int]): ``(height, width)`` of the image.

    Returns:
        Tensor[..., 4]: clipped boxes, same dtype.
    """
    _check_box_tensor(boxes, "boxes")
    if isinstance(size, (str, bytes)) or not isinstance(size, Sequence) or len(size) != 2:
        raise ValueError(f"size must be a (height, width) pair, got {describe(size)}")
    height = check_int(size[0], "size[0] (height)", minimum=0)
    width = check_int(size[1], "size[1] (width)", minimum=0)
    xs = boxes[..., 0::2].clamp(min=0, max=width)
    ys = boxes[..., 1::2].clamp(min=0, max=height)
    return torch.stack((xs, ys), dim=-1).reshape(boxes.shape)


def remove_small_boxes(boxes: Tensor, min_size: float) -> Tensor:
    """Indices of the boxes whose width and height are both ``>= min_size``.

    Boxes with a NaN side are removed (the comparison is false).

    Args:
        boxes (Tensor[N, 4]): boxes in ``xyxy`` format.
        min_size (float): minimum side length.

    Returns:
        Tensor[K]: int64 indices of the boxes kept, increasing.
    """
    check_box_shape(boxes, "boxes")
    min_size = check_float(min_size, "min_size")
    ws = boxes[:, 2] - boxes[:, 0]
    hs = boxes[:, 3] - boxes[:, 1]
    return torch.where((ws >= min_size) & (hs >= min_size))[0]


# --------------------------------------------------------------------------- pairwise IoUs


def _use_compiled(boxes1: Tensor, boxes2: Tensor) -> bool:
    """The compiled loop serves plain CPU float32/float64 matrices that need no gradient."""
    return (
        boxes1.device.type == "cpu"
        and boxes1.ndim == 2
        and boxes1.dtype == boxes2.dtype
        and boxes1.dtype in (torch.float32, torch.float64)
        and boxes1.shape[0] * boxes2.shape[0] >= _COMPILED_MIN_PAIRS
        and not (torch.is_grad_enabled() and (boxes1.requires_grad or boxes2.requires_grad))
    )


def _compiled_pairwise(boxes1: Tensor, boxes2: Tensor, kind: int, eps: float) -> Tensor:
    a = boxes1.detach().contiguous().numpy()
    b = boxes2.detach().contiguous().numpy()
    if kind == _kernels.CIOU:
        atan1 = _aspect_atan(boxes1.detach()).contiguous().numpy()
        atan2 = _aspect_atan(boxes2.detach()).contiguous().numpy()
    else:
        atan1 = atan2 = np.empty(0, dtype=a.dtype)
    consts = _kernels.pairwise_constants(a.dtype, eps)
    return torch.from_numpy(_kernels.pairwise_iou(a, b, kind, consts, atan1, atan2))


def _aspect_atan(boxes: Tensor) -> Tensor:
    """``atan(w / h)`` per box: one atan per box for the CIoU aspect term."""
    return torch.atan((boxes[..., 2] - boxes[..., 0]) / (boxes[..., 3] - boxes[..., 1]))


def _box_inter_union(boxes1: Tensor, boxes2: Tensor, fmt: str = "xyxy") -> tuple[Tensor, Tensor]:
    """Intersections and unions ``[..., N, M]``, torchvision's arithmetic for each format."""
    area1 = box_area(boxes1, fmt=fmt)
    area2 = box_area(boxes2, fmt=fmt)
    a_lo, a_hi = _corners(boxes1[..., None, :], fmt)  # [..., N, 1, 2]
    b_lo, b_hi = _corners(boxes2[..., None, :, :], fmt)  # [..., 1, M, 2]
    wh = _upcast(torch.min(a_hi, b_hi) - torch.max(a_lo, b_lo)).clamp(min=0)  # [..., N, M, 2]
    inter = wh[..., 0] * wh[..., 1]
    union = area1[..., None] + area2[..., None, :] - inter
    return inter, union


def _corners(boxes: Tensor, fmt: str) -> tuple[Tensor, Tensor]:
    """Top-left and bottom-right corners ``[..., 2]`` computed as torchvision does per format."""
    if fmt == "xyxy":
        return boxes[..., :2], boxes[..., 2:]
    if fmt == "xywh":
        return boxes[..., :2], boxes[..., :2] + boxes[..., 2:]
    half = boxes[..., 2:] / 2
    return boxes[..., :2] - half, boxes[..., :2] + half


def _enclosing_wh(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Width and height ``[..., N, M, 2]`` of the smallest box enclosing each pair."""
    lti = torch.min(boxes1[..., None, :2], boxes2[..., None, :, :2])
    rbi = torch.max(boxes1[..., None, 2:], boxes2[..., None, :, 2:])
    return _upcast(rbi - lti).clamp(min=0)


def box_iou(
    boxes1: Tensor, boxes2: Tensor, fmt: str = "xyxy", *, legacy_pixel: bool = False
) -> Tensor:
    """Pairwise intersection over union (Jaccard index).

    ``IoU = |A ∩ B| / |A ∪ B|``. Two empty boxes give ``0 / 0 = NaN``, as in torchvision.
    The notes' "one ground truth against many predictions" is
    ``box_iou(gt[None], preds)[0]`` followed by ``.max(0)``.

    Rotated formats (``"cxcywhr"``, ``"xywhr"``, ``"xyxyxyxy"``; see :func:`box_convert`)
    give torchvision's rotated IoU: the area of the intersection polygon of the two
    rectangles over their union, float32, clamped to ``[0, 1]``, and 0 for a box whose area
    ``w * h`` is below ``1e-14``. Those take ``[N, K]`` boxes (no batch dimensions), compute
    in float64 for float64 boxes and in float32 otherwise, and carry no gradient.

    Args:
        boxes1 (Tensor[..., N, K]): first set of boxes (K = 4; 5 or 8 when rotated).
        boxes2 (Tensor[..., M, K]): second set of boxes.
        fmt (str): ``"xyxy"`` (default), ``"xywh"``, ``"cxcywh"``, or a rotated format.
        legacy_pixel (bool): the old VOC convention where ``(x1, y1, x2, y2)`` are inclusive
            pixel indices and every width is ``x2 - x1 + 1`` (``"xyxy"`` only).

    Returns:
        Tensor[..., N, M]: IoU of every pair; float32 for half and integer boxes.
    """
    check_choice_tv(fmt, "fmt", _FORMAT_SIZE, f"Unsupported format {fmt!r}")
    if fmt in ROTATED_BOX_FORMATS:
        _apply_legacy(boxes1, boxes2, legacy_pixel, fmt)
        return _rotated_box_iou(boxes1, boxes2, fmt)
    b1, b2 = _check_pairwise(boxes1, boxes2)
    b1, b2 = _apply_legacy(b1, b2, legacy_pixel, fmt)
    if fmt == "xyxy" and _use_compiled(b1, b2):
        return _compiled_pairwise(b1, b2, _kernels.IOU, 0.0)
    inter, union = _box_inter_union(b1, b2, fmt)
    return inter / union


def _rotated_box_iou(boxes1: object, boxes2: object, fmt: str) -> Tensor:
    """Checked ``[N, K]`` rotated boxes -> ``[N, M]`` float32 IoUs."""
    size = _FORMAT_SIZE[fmt]
    b1 = check_box_shape(boxes1, "boxes1", size=size)
    b2 = check_box_shape(boxes2, "boxes2", size=size)
    check_same_device("boxes1", b1, "boxes2", b2)
    b1, b2 = b1.detach(), b2.detach()
    if fmt != "cxcywhr":
        b1 = box_convert(b1, fmt, "cxcywhr")
        b2 = box_convert(b2, fmt, "cxcywhr")
    return rotated_iou_cxcywhr(b1, b2).float()


def rotated_iou_cxcywhr(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Unchecked pairwise IoU ``[N, M]`` of ``cxcywhr`` boxes ``[N, 5]`` and ``[M, 5]``.

    Computed in float64 for float64 boxes (the result too), in float32 otherwise.
    """
    dtype = torch.float64 if torch.float64 in (boxes1.dtype, boxes2.dtype) else torch.float32
    b1, b2 = boxes1.to(dtype), boxes2.to(dtype)
    n, m = b1.shape[0], b2.shape[0]
    if n == 0 or m == 0:
        return torch.zeros((n, m), dtype=dtype, device=b1.device)
    if b1.device.type == "cpu":
        a = b1.contiguous().numpy()
        b = b2.contiguous().numpy()
        consts = _rotated_kernels.rotated_constants(a.dtype)
        return torch.from_numpy(_rotated_kernels.rotated_pairwise_iou(a, b, consts))
    rows = max(1, _ROTATED_TORCH_PAIRS // m)
    return torch.cat([_rotated_iou_torch(chunk, b2) for chunk in b1.split(rows)])


def _rotated_corners(centre: Tensor, w: Tensor, h: Tensor, angle: Tensor) -> Tensor:
    """Corners ``[..., 4, 2]`` of ``cxcywhr`` boxes in torchvision's kernel order."""
    theta = angle.double() * 0.01745329251
    c2 = torch.cos(theta).to(w.dtype) * 0.5
    s2 = torch.sin(theta).to(w.dtype) * 0.5
    cx, cy = centre.unbind(-1)
    x0 = cx + s2 * h + c2 * w
    y0 = cy + c2 * h - s2 * w
    x1 = cx - s2 * h + c2 * w
    y1 = cy - c2 * h - s2 * w
    xs = torch.stack((x0, x1, 2 * cx - x0, 2 * cx - x1), dim=-1)
    ys = torch.stack((y0, y1, 2 * cy - y0, 2 * cy - y1), dim=-1)
    return torch.stack((xs, ys), dim=-1)


def _corners_inside(points: Tensor, corners: Tensor, edges: Tensor) -> Tensor:
    """``[..., 4]``: which of ``points`` lie in the rectangle ``corners`` (1e-5 tolerance)."""
    ab, da = edges[..., 0:1, :], edges[..., 3:4, :]
    ap = points - corners[..., 0:1, :]
    ap_ab = (ap * ab).sum(-1)
    ap_ad = -(ap * da).sum(-1)
    ab_ab = (ab * ab).sum(-1)
    ad_ad = (da * da).sum(-1)
    eps = 1e-5
    return (ap_ab > -eps) & (ap_ad > -eps) & (ap_ab < ab_ab + eps) & (ap_ad < ad_ad + eps)


def _rotated_iou_torch(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Vectorised rotated IoU ``[n, m]`` on any device: torchvision's candidate points (edge
    crossings and corners inside the other box, same tolerances); their convex polygon's
    area from the points sorted by angle around their mean (equal to torchvision's Graham
    scan within rounding)."""
    a, b = boxes1[:, None, :], boxes2[None, :, :]
    shift = (a[..., :2] + b[..., :2]) / 2
    pa = _rotated_corners(a[..., :2] - shift, a[..., 2], a[..., 3], a[..., 4])  # [n, m, 4, 2]
    pb = _rotated_corners(b[..., :2] - shift, b[..., 2], b[..., 3], b[..., 4])
    va = pa.roll(-1, dims=-2) - pa
    vb = pb.roll(-1, dims=-2) - pb
    v1, v2 = va[..., :, None, :], vb[..., None, :, :]  # [n, m, 4, 4, 2] by broadcasting
    d = pb[..., None, :, :] - pa[..., :, None, :]
    det = v2[..., 0] * v1[..., 1] - v1[..., 0] * v2[..., 1]
    t1 = (v2[..., 0] * d[..., 1] - d[..., 0] * v2[..., 1]) / det
    t2 = (v1[..., 0] * d[..., 1] - d[..., 0] * v1[..., 1]) / det
    eps = 1e-5
    crossing = (det.abs() > 1e-14) & (t1 > -eps) & (t1 < 1 + eps) & (t2 > -eps) & (t2 < 1 + eps)
    crossings = pa[..., :, None, :] + v1 * t1[..., None]
    points = torch.cat((crossings.flatten(-3, -2), pa, pb), dim=-2)  # [n, m, 24, 2]
    valid = torch.cat(
        (crossing.flatten(-2), _corners_inside(pa, pb, vb), _corners_inside(pb, pa, va)), dim=-1
    )
    points = torch.where(valid[..., None], points, 0)
    count = valid.sum(-1)
    mean = points.sum(-2) / count.clamp(min=1)[..., None]
    rel = points - mean[..., None, :]
    angle = torch.where(valid, torch.atan2(rel[..., 1], rel[..., 0]), torch.inf)
    order = angle.argsort(dim=-1)
    points = points.gather(-2, order[..., None].expand_as(points))
    valid = valid.gather(-1, order)
    first = points[..., :1, :]
    fan = torch.where(valid[..., None], points, first) - first
    cross = fan[..., :-1, 0] * fan[..., 1:, 1] - fan[..., 1:, 0] * fan[..., :-1, 1]
    inter = torch.where(count > 2, cross.sum(-1).abs() / 2, 0)
    area1, area2 = a[..., 2] * a[..., 3], b[..., 2] * b[..., 3]
    iou = (inter / (area1 + area2 - inter)).clamp(min=0, max=1)
    return torch.where((area1 < 1e-14) | (area2 < 1e-14), 0, iou)


def generalized_box_iou(
    boxes1: Tensor, boxes2: Tensor, *, fmt: str = "xyxy", legacy_pixel: bool = False
) -> Tensor:
    """Pairwise generalized IoU: ``IoU - (|C| - |A ∪ B|) / |C|``, ``C`` the enclosing box.

    Values lie in ``[-1, 1]`` for proper boxes.

    Args:
        boxes1 (Tensor[..., N, 4]): first set of boxes.
        boxes2 (Tensor[..., M, 4]): second set of boxes.
        fmt (str): ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``; other formats are
            converted to ``xyxy`` first (:func:`box_convert`'s arithmetic), as in :func:`bbox_iou`.
        legacy_pixel (bool): widths are ``x2 - x1 + 1`` (see :func:`box_iou`; ``"xyxy"`` only).

    Returns:
        Tensor[..., N, M]: GIoU of every pair.
    """
    b1, b2 = _check_pairwise(boxes1, boxes2)
    b1, b2 = _pairwise_as_xyxy(b1, b2, fmt, legacy_pixel)
    if _use_compiled(b1, b2):
        return _compiled_pairwise(b1, b2, _kernels.GIOU, 0.0)
    inter, union = _box_inter_union(b1, b2)
    iou = inter / union
    whi = _enclosing_wh(b1, b2)
    enclosing = whi[..., 0] * whi[..., 1]
    return iou - (enclosing - union) / enclosing


def distance_box_iou(
    boxes1: Tensor,
    boxes2: Tensor,
    eps: float = 1e-7,
    *,
    fmt: str = "xyxy",
    legacy_pixel: bool = False,
) -> Tensor:
    """Pairwise distance IoU: ``IoU - d^2 / (c^2 + eps)``.

    ``d`` is the distance between the box centres and ``c`` the diagonal of the enclosing
    box. Values lie in ``[-1, 1]``.

    Args:
        boxes1 (Tensor[..., N, 4]): first set of boxes.
        boxes2 (Tensor[..., M, 4]): second set of boxes.
        eps (float): added to ``c^2`` against division by zero. Default ``1e-7``.
        fmt (str): ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"`` (see
            :func:`generalized_box_iou`).
        legacy_pixel (bool): widths are ``x2 - x1 + 1`` (see :func:`box_iou`; ``"xyxy"`` only).

    Returns:
        Tensor[..., N, M]: DIoU of every pair (float32 for half and integer boxes).
    """
    b1, b2, eps = _distance_inputs(boxes1, boxes2, eps, fmt, legacy_pixel)
    if _use_compiled(b1, b2):
        return _compiled_pairwise(b1, b2, _kernels.DIOU, eps)
    return _box_diou_iou(b1, b2, eps)[0]


def complete_box_iou(
    boxes1: Tensor,
    boxes2: Tensor,
    eps: float = 1e-7,
    *,
    fmt: str = "xyxy",
    legacy_pixel: bool = False,
) -> Tensor:
    """Pairwise complete IoU: ``DIoU - alpha * v``.

    ``v = 4 / pi^2 * (atan(w1 / h1) - atan(w2 / h2))^2`` measures the difference in aspect
    ratio (one ``atan`` per box) and ``alpha = v / (1 - IoU + v + eps)`` is treated as a
    constant by autograd, as in the CIoU paper and torchvision.

    Args:
        boxes1 (Tensor[..., N, 4]): first set of boxes.
        boxes2 (Tensor[..., M, 4]): second set of boxes.
        eps (float): added to denominators against division by zero. Default ``1e-7``.
        fmt (str): ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"`` (see
            :func:`generalized_box_iou`).
        legacy_pixel (bool): widths are ``x2 - x1 + 1`` (see :func:`box_iou`; ``"xyxy"`` only).

    Returns:
        Tensor[..., N, M]: CIoU of every pair (float32 for half and integer boxes).
    """
    b1, b2, eps = _distance_inputs(boxes1, boxes2, eps, fmt, legacy_pixel)
    if _use_compiled(b1, b2):
        return _compiled_pairwise(b1, b2, _kernels.CIOU, eps)
    diou, iou = _box_diou_iou(b1, b2, eps)
    atan1 = _aspect_atan(b1)[..., :, None]  # [..., N, 1]
    atan2 = _aspect_atan(b2)[..., None, :]  # [..., 1, M]
    v = (4 / (torch.pi**2)) * torch.pow(atan1 - atan2, 2)
    with torch.no_grad():
        alpha = v / (1 - iou + v + eps)
    return diou - alpha * v


def _distance_inputs(
    boxes1: object, boxes2: object, eps: object, fmt: object, legacy_pixel: bool
) -> tuple[Tensor, Tensor, float]:
    """Checked, legacy-shifted, ``xyxy`` and upcast boxes (half/int8/int16 -> float32/int32)."""
    b1, b2 = _check_pairwise(boxes1, boxes2)
    eps_value = check_float(eps, "eps", minimum=0.0)
    b1, b2 = _pairwise_as_xyxy(b1, b2, fmt, legacy_pixel)
    return _upcast(b1), _upcast(b2), eps_value


def _pairwise_as_xyxy(
    boxes1: Tensor, boxes2: Tensor, fmt: object, legacy_pixel: bool
) -> tuple[Tensor, Tensor]:
    """Checked ``fmt`` and ``legacy_pixel``; the boxes legacy-shifted or converted to ``xyxy``."""
    fmt = _check_fmt(fmt)
    boxes1, boxes2 = _apply_legacy(boxes1, boxes2, legacy_pixel, fmt)
    if fmt == "xyxy":
        return boxes1, boxes2
    # upcast first so that small integer types cannot overflow in ``x + w``
    return _to_xyxy(_upcast(boxes1), fmt), _to_xyxy(_upcast(boxes2), fmt)


def _box_diou_iou(boxes1: Tensor, boxes2: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    """``(DIoU, IoU)`` matrices ``[..., N, M]`` of upcast boxes."""
    inter, union = _box_inter_union(boxes1, boxes2)
    iou = inter / union
    whi = _enclosing_wh(boxes1, boxes2)
    diagonal_squared = (whi[..., 0] ** 2) + (whi[..., 1] ** 2) + eps
    x_p = (boxes1[..., 0] + boxes1[..., 2]) / 2
    y_p = (boxes1[..., 1] + boxes1[..., 3]) / 2
    x_g = (boxes2[..., 0] + boxes2[..., 2]) / 2
    y_g = (boxes2[..., 1] + boxes2[..., 3]) / 2
    centers_squared = (_upcast(x_p[..., None] - x_g[..., None, :]) ** 2) + (
        _upcast(y_p[..., None] - y_g[..., None, :]) ** 2
    )
    return iou - (centers_squared / diagonal_squared), iou


def _apply_legacy(
    boxes1: Tensor, boxes2: Tensor, legacy_pixel: bool, fmt: str = "xyxy"
) -> tuple[Tensor, Tensor]:
    if not isinstance(legacy_pixel, bool):
        raise TypeError(f"legacy_pixel must be True or False, got {describe(legacy_pixel)}")
    if not legacy_pixel:
        return boxes1, boxes2
    if fmt != "xyxy":
        raise ValueError(f"legacy_pixel=True needs fmt='xyxy' (pixel corners), got fmt={fmt!r}")
    return _legacy(boxes1), _legacy(boxes2)


# --------------------------------------------------------------------------- aligned IoUs


def bbox_iou(
    boxes1: Tensor,
    boxes2: Tensor,
    kind: str = "iou",
    fmt: str = "xyxy",
    eps: float = 1e-7,
    *,
    legacy_pixel: bool = False,
) -> Tensor:
    """Element-wise IoU, GIoU, DIoU or CIoU of matched boxes, as a loss needs it.

    ``eps`` is added, consistently, to every denominator: ``IoU = I / (U + eps)``,
    ``GIoU = IoU - (|C| - U) / (|C| + eps)``, ``DIoU = IoU - d^2 / (c^2 + eps)`` and
    ``CIoU = DIoU - alpha * v`` with ``alpha = v / (1 - IoU + v + eps)`` (no gradient).
    With ``fmt="xyxy"``, ``1 - bbox_iou(a, b, "giou")`` is exactly torchvision's
    ``generalized_box_iou_loss(a, b)``; see :mod:`tinyvision.losses` for the losses.

    Args:
        boxes1 (Tensor[..., 4]): predicted boxes.
        boxes2 (Tensor[..., 4]): target boxes, same shape (or broadcastable).
        kind (str): ``"iou"``, ``"giou"``, ``"diou"`` or ``"ciou"``.
        fmt (str): ``"xyxy"`` (default) or ``"cxcywh"`` (YOLO predictions); ``"xywh"`` too.
        eps (float): small positive number against division by zero. Default ``1e-7``.
        legacy_pixel (bool): widths are ``x2 - x1 + 1`` (``"xyxy"`` only).

    Returns:
        Tensor[...]: one value per pair (float32 unless the boxes are float64).
    """
    b1, b2 = _check_elementwise(boxes1, boxes2)
    kind = check_choice(kind, "kind", IOU_KINDS)
    _check_fmt(fmt)
    eps = check_float(eps, "eps", minimum=0.0)
    b1, b2 = _upcast_non_float(b1), _upcast_non_float(b2)
    b1, b2 = _apply_legacy(b1, b2, legacy_pixel, fmt)
    if fmt != "xyxy":
        b1, b2 = _to_xyxy(b1, fmt), _to_xyxy(b2, fmt)
    inter, union = _loss_inter_union(b1, b2)
    iou = inter / (union + eps)
    if kind == "iou":
        return iou
    if kind == "giou":
        return iou - _giou_penalty(b1, b2, union, eps)
    diou = iou - _distance_penalty(b1, b2, eps)
    return diou if kind == "diou" else diou - _aspect_penalty(b1, b2, iou, eps)


# The helpers below repeat torchvision's loss code operation for operation, each stage with
# its own ``unbind``: autograd sums a tensor's gradient contributions per node, so the same
# graph shape is what makes the gradients equal to the last bit, not only the values.


def _loss_inter_union(boxes1: Tensor, boxes2: Tensor) -> tuple[Tensor, Tensor]:
    """Intersection and union of matched ``[..., 4]`` boxes (empty overlaps give 0)."""
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    xk1 = torch.max(x1, x1g)
    yk1 = torch.max(y1, y1g)
    xk2 = torch.min(x2, x2g)
    yk2 = torch.min(y2, y2g)
    # The product only where the boxes overlap; the zeros elsewhere carry no gradient.
    overlap = (yk2 > yk1) & (xk2 > xk1)
    inter = torch.where(overlap, xk2 - xk1, 0.0) * torch.where(overlap, yk2 - yk1, 0.0)
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    return inter, union


def _giou_penalty(boxes1: Tensor, boxes2: Tensor, union: Tensor, eps: float) -> Tensor:
    """``(|C| - U) / (|C| + eps)`` with ``C`` the smallest enclosing box."""
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    xc1 = torch.min(x1, x1g)
    yc1 = torch.min(y1, y1g)
    xc2 = torch.max(x2, x2g)
    yc2 = torch.max(y2, y2g)
    area_c = (xc2 - xc1) * (yc2 - yc1)
    return (area_c - union) / (area_c + eps)


def _distance_penalty(boxes1: Tensor, boxes2: Tensor, eps: float) -> Tensor:
    """``d^2 / (c^2 + eps)``: squared centre distance over the enclosing box's diagonal."""
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    xc1 = torch.min(x1, x1g)
    yc1 = torch.min(y1, y1g)
    xc2 = torch.max(x2, x2g)
    yc2 = torch.max(y2, y2g)
    diagonal_squared = ((xc2 - xc1) ** 2) + ((yc2 - yc1) ** 2) + eps
    x_p = (x2 + x1) / 2
    y_p = (y2 + y1) / 2
    x_g = (x1g + x2g) / 2
    y_g = (y1g + y2g) / 2
    centers_squared = ((x_p - x_g) ** 2) + ((y_p - y_g) ** 2)
    return centers_squared / diagonal_squared


def _aspect_penalty(boxes1: Tensor, boxes2: Tensor, iou: Tensor, eps: float) -> Tensor:
    """CIoU's ``alpha * v``; ``alpha = v / (1 - IoU + v + eps)`` carries no gradient."""
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    w_pred = x2 - x1
    h_pred = y2 - y1
    w_gt = x2g - x1g
    h_gt = y2g - y1g
    v = (4 / (math.pi**2)) * torch.pow(torch.atan(w_gt / h_gt) - torch.atan(w_pred / h_pred), 2)
    with torch.no_grad():
        alpha = v / (1 - iou + v + eps)
    return alpha * v
