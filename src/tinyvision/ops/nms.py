"""Non-maximum suppression: greedy (torchvision's), class-aware, DIoU-NMS and Soft-NMS.

Greedy NMS visits the boxes by decreasing score (a stable sort: equal scores keep the lower
index first; NaN scores sort first, as ``torch.sort`` puts them) and keeps a box unless an
already kept box overlaps it with ``IoU > iou_threshold``; a pair exactly at the threshold is
kept. The IoU is computed in the boxes' dtype with torchvision's CPU kernel arithmetic and
compared with the threshold in double precision, so :func:`nms` returns the indices of
``torchvision.ops.nms`` on every input: ties, zero-area and inverted boxes (their areas are
not clamped), NaN coordinates (a box with one has a NaN area, so it neither suppresses nor is
suppressed) and negative thresholds (every box with a number for an IoU is suppressed).

On CPU the loop is compiled (:func:`tinyvision.ops._kernels.greedy_nms`); on other devices a
vectorised torch path gives the same indices. Half precision boxes are computed in float32.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from tinyvision._validate import (
    check_choice,
    check_float,
    check_real_dtype,
    check_same_device,
    describe,
)
from tinyvision.ops import _kernels, _rotated_kernels
from tinyvision.ops._errors import (
    ShapeError,
    check_box_shape,
    check_float_dtype,
    check_real,
    check_same_size,
    check_vector,
)
from tinyvision.ops.boxes import rotated_iou_cxcywhr

__all__ = ["batched_nms", "diou_nms", "nms", "nms_rotated", "soft_nms"]

# Rows of the within-block suppression matrix of the vectorised (torch) path.
_TORCH_BLOCK = 1024
# Elements of one [kept, later] criterion matrix in the vectorised path.
_TORCH_CHUNK_ELEMENTS = 1 << 22


# --------------------------------------------------------------------------- public API


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Greedy non-maximum suppression, identical to ``torchvision.ops.nms``.

    Args:
        boxes (Tensor[N, 4]): floating point ``(x1, y1, x2, y2)`` boxes.
        scores (Tensor[N]): one score per box.
        iou_threshold (float): a box is discarded when its IoU with a kept, higher scoring
            box is ``> iou_threshold`` (a pair exactly at the threshold is kept).

    Returns:
        Tensor[K]: int64 indices of the kept boxes, by decreasing score (ties: lower index
        first).
    """
    boxes, scores = _check_detections(boxes, scores)
    threshold = check_float(iou_threshold, "iou_threshold")
    return _greedy_nms(boxes, scores, threshold)


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """Class-aware NMS: boxes of different categories never suppress each other.

    Exactly :func:`nms` run on each category separately, at every size: unlike
    ``torchvision.ops.batched_nms`` below 4000 elements, no coordinate offset is added to the
    boxes, so rounding cannot change a result.

    Args:
        boxes (Tensor[N, 4]): floating point ``(x1, y1, x2, y2)`` boxes.
        scores (Tensor[N]): one score per box.
        idxs (Tensor[N]): the category of each box (integer or floating values, no NaN).
        iou_threshold (float): as in :func:`nms`.

    Returns:
        Tensor[K]: int64 indices of the kept boxes of all categories together, by decreasing
        score; equal scores keep the lower index first (the order :func:`nms` uses).
        Empty ``boxes`` (any shape) give an empty result whatever the other arguments are,
        as in torchvision.
    """
    if isinstance(boxes, Tensor) and boxes.numel() == 0:
        return torch.empty(0, dtype=torch.int64, device=boxes.device)
    boxes, scores = _check_detections(boxes, scores)
    labels = _check_idxs(idxs, boxes)
    threshold = check_float(iou_threshold, "iou_threshold")
    return _greedy_nms(boxes, scores, threshold, labels=labels)


def diou_nms(
    boxes: Tensor,
    scores: Tensor,
    iou_threshold: float,
    *,
    idxs: Tensor | None = None,
    eps: float = 1e-7,
) -> Tensor:
    """DIoU-NMS: suppress a box when ``IoU - d^2 / (c^2 + eps) > iou_threshold``.

    ``d`` is the distance between the two box centres and ``c`` the diagonal of their
    enclosing box; the criterion is :func:`~tinyvision.ops.distance_box_iou` of the pair, so
    boxes whose centres lie far apart survive where plain NMS would drop them (crowds).

    Args:
        boxes (Tensor[N, 4]): floating point ``(x1, y1, x2, y2)`` boxes.
        scores (Tensor[N]): one score per box.
        iou_threshold (float): threshold on the DIoU of a pair.
        idxs (Tensor[N], optional): categories; when given, suppression stays within each
            category as in :func:`batched_nms`.
        eps (float): added to ``c^2``. Default ``1e-7``.

    Returns:
        Tensor[K]: int64 indices of the kept boxes, by decreasing score (ties: lower index).
    """
    boxes, scores = _check_detections(boxes, scores)
    labels = None if idxs is None else _check_idxs(idxs, boxes)
    threshold = check_float(iou_threshold, "iou_threshold")
    eps = check_float(eps, "eps", minimum=0.0)
    return _greedy_nms(boxes, scores, threshold, labels=labels, diou=True, eps=eps)


def soft_nms(
    boxes: Tensor,
    scores: Tensor,
    iou_threshold: float = 0.3,
    sigma: float = 0.5,
    score_threshold: float = 0.001,
    method: str = "linear",
) -> tuple[Tensor, Tensor]:
    """Soft-NMS (Bodla et al., 2017): decay the scores of overlapping boxes instead of dropping.

    Repeatedly keep the remaining box with the highest current score (ties: lower index) and
    multiply the score of every other remaining box by

    - ``1 - IoU`` when ``IoU > iou_threshold`` (``method="linear"``), or
    - ``exp(-IoU^2 / sigma)`` (``method="gaussian"``; ``iou_threshold`` is not used),

    then drop the boxes whose score is now ``< score_threshold``. The IoU of two empty boxes
    (``0 / 0``) counts as 0. Arithmetic is in float32 (float64 when boxes or scores are).
    Cost: O(N) per kept box (every remaining box is decayed), compiled on CPU.

    Args:
        boxes (Tensor[N, 4]): floating point ``(x1, y1, x2, y2)`` boxes, finite.
        scores (Tensor[N]): one score per box, not NaN.
        iou_threshold (float): overlap above which the linear method decays. Default 0.3.
        sigma (float): width of the gaussian decay, > 0. Default 0.5.
        score_threshold (float): boxes scoring below it are dropped. Default 0.001.
        method (str): ``"linear"`` (default) or ``"gaussian"``.

    Returns:
        tuple[Tensor[K], Tensor[K]]: int64 indices of the kept boxes in the order they were
        selected (non-increasing decayed score), and their decayed scores (no gradient).
    """
    boxes, scores = _check_detections(boxes, scores)
    threshold = check_float(iou_threshold, "iou_threshold")
    sigma = check_float(sigma, "sigma", minimum=0.0, min_inclusive=False)
    score_threshold = check_float(score_threshold, "score_threshold")
    method = check_choice(method, "method", ("linear", "gaussian"))
    if boxes.numel() and not bool(torch.isfinite(boxes).all()):
        raise ValueError("boxes must be finite for soft_nms, got a tensor containing NaN or inf")
    if scores.is_floating_point() and bool(torch.isnan(scores).any()):
        raise ValueError("scores must not contain NaN for soft_nms")
    dtype = torch.float64 if torch.float64 in (boxes.dtype, scores.dtype) else torch.float32
    work_boxes = boxes.detach().to(dtype)
    work_scores = scores.detach().to(dtype)
    gaussian = method == "gaussian"
    if boxes.device.type != "cpu":
        return _soft_nms_torch(work_boxes, work_scores, threshold, sigma, score_threshold, gaussian)
    array = work_boxes.contiguous().numpy()
    keep, kept_scores = _kernels.soft_nms_kernel(
        array,
        work_scores.contiguous().numpy(),
        threshold,
        _kernels.soft_nms_constants(array.dtype, sigma),
        score_threshold,
        gaussian,
    )
    return torch.from_numpy(keep), torch.from_numpy(kept_scores)


# --------------------------------------------------------------------------- validation


def nms_rotated(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Greedy non-maximum suppression of rotated boxes (detectron2's ``nms_rotated``).

    Boxes are visited by decreasing score (stable: ties keep the lower index first); a box is
    discarded when its rotated IoU (:func:`tinyvision.ops.box_iou` with ``fmt="cxcywhr"``,
    computed in the boxes' dtype, float32 for half precision) with a kept, higher scoring
    box is ``>= iou_threshold``. Note the ``>=``: detectron2's rotated NMS suppresses a pair
    exactly at the threshold, where :func:`nms` keeps it.

    Args:
        boxes (Tensor[N, 5]): floating point ``(cx, cy, w, h, angle)`` boxes, the angle in
            degrees, counter-clockwise.
        scores (Tensor[N]): one score per box.
        iou_threshold (float): the suppression threshold.

    Returns:
        Tensor[K]: int64 indices of the kept boxes, by decreasing score.
    """
    b, s = _check_detections(boxes, scores, size=5, operation="nms_rotated")
    threshold = check_float(iou_threshold, "iou_threshold")
    if b.shape[0] == 0:
        return torch.empty(0, dtype=torch.int64, device=b.device)
    b = b.detach()
    if b.dtype not in (torch.float32, torch.float64):
        b = b.float()
    order = torch.sort(s.detach(), stable=True, descending=True)[1]
    if b.device.type == "cpu":
        array = b.contiguous().numpy()
        consts = _rotated_kernels.rotated_constants(array.dtype)
        return torch.from_numpy(
            _rotated_kernels.rotated_nms(array, order.numpy(), threshold, consts)
        )
    return order[_rotated_keep_torch(b[order], threshold)]


def _rotated_keep_torch(boxes: Tensor, threshold: float) -> Tensor:
    """Positions kept by greedy rotated NMS of score-sorted boxes (any device): the
    ``IoU >= threshold`` matrix from the vectorised IoU, then one pass over its rows."""
    suppress = rotated_iou_cxcywhr(boxes, boxes).double() >= threshold
    suppress = suppress.triu(diagonal=1).cpu().numpy()
    n = boxes.shape[0]
    removed = np.zeros(n, dtype=np.bool_)
    keep = []
    for i in range(n):
        if not removed[i]:
            keep.append(i)
            removed |= suppress[i]
    return torch.tensor(keep, dtype=torch.int64, device=boxes.device)


def _check_detections(
    boxes: object, scores: object, size: int = 4, operation: str = "nms"
) -> tuple[Tensor, Tensor]:
    """Checked ``[N, size]`` floating point boxes and ``[N]`` real scores.

    Quantized tensors (torchvision's quantized NMS) are dequantized. Shape errors are
    :class:`~tinyvision.ops.ShapeError` (also ``RuntimeError``, as torchvision's kernel
    raises), integer boxes a :class:`~tinyvision.ops.DTypeError`.
    """
    b = check_box_shape(_dequantized(boxes), "boxes", size=size)
    check_float_dtype(b, "boxes", operation)
    s = check_vector(_dequantized(scores), "scores")
    check_real(s, "scores")
    check_same_size("boxes", b, "scores", s)
    check_same_device("boxes", b, "scores", s)
    return b, s


def _dequantized(value: object) -> object:
    """A quantized tensor's float values; anything else unchanged."""
    if isinstance(value, Tensor) and value.is_quantized:
        return value.dequantize()
    return value


def _check_idxs(idxs: object, boxes: Tensor) -> Tensor:
    labels = check_vector(idxs, "idxs")
    if labels.dtype == torch.bool:
        raise TypeError(f"idxs must hold integer or floating categories, got {describe(labels)}")
    check_real_dtype(labels, "idxs")
    if labels.shape[0] != boxes.shape[0]:
        raise ShapeError(
            f"boxes and idxs must have the same length, got {boxes.shape[0]} and "
            f"{labels.shape[0]} (the size of idxs must match the number of boxes)"
        )
    check_same_device("boxes", boxes, "idxs", labels)
    if labels.is_floating_point() and bool(torch.isnan(labels).any()):
        raise ValueError("idxs must not contain NaN")
    return labels


# --------------------------------------------------------------------------- greedy NMS


def _greedy_nms(
    boxes: Tensor,
    scores: Tensor,
    threshold: float,
    *,
    labels: Tensor | None = None,
    diou: bool = False,
    eps: float = 0.0,
) -> Tensor:
    """Kept indices by decreasing score; per category when ``labels`` is given."""
    n = boxes.shape[0]
    if n == 0:
        return torch.empty(0, dtype=torch.int64, device=boxes.device)
    boxes = boxes.detach()
    if boxes.dtype not in (torch.float32, torch.float64):
        boxes = boxes.float()
    if boxes.device.type != "cpu":
        order = torch.sort(scores.detach(), stable=True, descending=True)[1]
        sorted_labels = None if labels is None else labels[order]
        keep = _greedy_keep_torch(boxes[order], threshold, diou=diou, eps=eps, labels=sorted_labels)
        return order[keep]
    order_np = _descending_order(scores.detach())
    if labels is None:
        perm, segments, positions = order_np, np.array([0, n], dtype=np.int64), None
    else:
        # Group by category, keeping the score order inside each group.
        if labels.dtype == torch.bfloat16:  # numpy has no bfloat16; widening is exact
            labels = labels.float()
        positions, segments = _group(labels.detach().numpy()[order_np])
        perm = order_np[positions]
    array = boxes.contiguous().numpy()
    constants = _kernels.nms_constants(array.dtype, eps)
    kept = _kernels.greedy_nms(array, perm, segments, threshold, diou, constants)
    if positions is None:
        return torch.from_numpy(perm[kept])
    in_order = np.zeros(n, dtype=np.bool_)
    in_order[positions[kept]] = True  # back to the global score order
    return torch.from_numpy(order_np[in_order])


def _descending_order(scores: Tensor) -> np.ndarray:
    """``torch.sort(scores, stable=True, descending=True)[1]`` as numpy (CPU); float32 scores
    go through the compiled radix sort, which gives the same order in O(N)."""
    if scores.dtype == torch.float32:
        return _kernels.descending_order(scores.contiguous().view(torch.int32).numpy())
    return torch.sort(scores, stable=True, descending=True)[1].numpy()


def _group(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stable grouping of ``labels``: positions sorted by label, and the group bounds."""
    if labels.dtype.kind in "iu" and labels.size:
        positions, bounds = _kernels.group_by_label(labels.astype(np.int64, copy=False))
        if positions.size == labels.size:
            return positions, bounds
    positions = np.argsort(labels, kind="stable")
    grouped = labels[positions]
    cuts = np.flatnonzero(grouped[1:] != grouped[:-1]) + 1
    return positions, np.concatenate(([0], cuts, [labels.size])).astype(np.int64)


def _greedy_keep_torch(
    boxes: Tensor,
    threshold: float,
    *,
    diou: bool = False,
    eps: float = 0.0,
    labels: Tensor | None = None,
) -> Tensor:
    """Vectorised greedy NMS of boxes already in processing order -> ``Tensor[N]`` bool.

    Blocks of rows are resolved by fixed-point iteration: ``keep[b] = not any(keep[a] and
    suppresses(a, b) for a < b)`` has one solution, reached after at most one sweep per
    suppression chain; each block's survivors then suppress the rest at once.
    """
    n = boxes.shape[0]
    keep = torch.ones(n, dtype=torch.bool, device=boxes.device)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    for start in range(0, n, _TORCH_BLOCK):
        stop = min(n, start + _TORCH_BLOCK)
        block, block_area = boxes[start:stop], area[start:stop]
        block_labels = None if labels is None else labels[start:stop]
        suppress = _suppression(
            block, block_area, block_labels, block, block_area, block_labels, threshold, diou, eps
        ).triu_(1)
        base = keep[start:stop]
        current = base.clone()
        while True:
            updated = base & ~(suppress & current[:, None]).any(0)
            if torch.equal(updated, current):
                break
            current = updated
        keep[start:stop] = current
        if stop == n or not bool(current.any()):
            continue
        kept_boxes, kept_area = block[current], block_area[current]
        kept_labels = None if block_labels is None else block_labels[current]
        step = max(1, _TORCH_CHUNK_ELEMENTS // kept_boxes.shape[0])
        for lo in range(stop, n, step):
            hi = min(n, lo + step)
            later_labels = None if labels is None else labels[lo:hi]
            hit = _suppression(
                kept_boxes,
                kept_area,
                kept_labels,
                boxes[lo:hi],
                area[lo:hi],
                later_labels,
                threshold,
                diou,
                eps,
            )
            keep[lo:hi] &= ~hit.any(0)
    return keep


def _suppression(
    a: Tensor,
    area_a: Tensor,
    labels_a: Tensor | None,
    b: Tensor,
    area_b: Tensor,
    labels_b: Tensor | None,
    threshold: float,
    diou: bool,
    eps: float,
) -> Tensor:
    """``[A, B]`` bool: would box ``a[i]``, if kept, suppress ``b[j]``?"""
    crit = _criterion_matrix(a, area_a, b, area_b, diou, eps)
    hit = _strictly_above(crit, threshold)
    if labels_a is not None and labels_b is not None:
        hit &= labels_a[:, None] == labels_b[None, :]
    return hit


def _criterion_matrix(
    a: Tensor, area_a: Tensor, b: Tensor, area_b: Tensor, diou: bool, eps: float
) -> Tensor:
    """IoU (or DIoU) ``[A, B]`` with the compiled kernel's arithmetic, in the boxes' dtype."""
    ax1, ay1, ax2, ay2 = (a[:, k, None] for k in range(4))
    bx1, by1, bx2, by2 = (b[None, :, k] for k in range(4))
    # std::max(p, q) is (p < q ? q : p) and std::min(p, q) is (q < p ? q : p)
    xx1 = torch.where(ax1 < bx1, bx1, ax1)
    yy1 = torch.where(ay1 < by1, by1, ay1)
    xx2 = torch.where(bx2 < ax2, bx2, ax2)
    yy2 = torch.where(by2 < ay2, by2, ay2)
    w = xx2 - xx1
    h = yy2 - yy1
    inter = torch.where(w > 0, w, 0.0) * torch.where(h > 0, h, 0.0)
    ovr = inter / (area_a[:, None] + area_b[None, :] - inter)
    if not diou:
        return ovr
    ew = (torch.maximum(ax2, bx2) - torch.minimum(ax1, bx1)).clamp(min=0)
    eh = (torch.maximum(ay2, by2) - torch.minimum(ay1, by1)).clamp(min=0)
    diagonal = ew * ew + eh * eh + eps
    dx = (ax1 + ax2) / 2 - (bx1 + bx2) / 2
    dy = (ay1 + ay2) / 2 - (by1 + by2) / 2
    return ovr - (dx * dx + dy * dy) / diagonal


def _strictly_above(values: Tensor, threshold: float) -> Tensor:
    """``values > threshold`` with the threshold in double precision, as torchvision compares.

    For float32 values, ``x > t`` (t a double) equals ``x > f`` where ``f`` is the largest
    float32 not above ``t``; that ``f`` is exact in float32, so torch's comparison is exact.
    """
    if values.dtype == torch.float64:
        return values > threshold
    return values > _float32_floor(threshold)


def _float32_floor(value: float) -> float:
    """The largest float32 ``<= value`` (``-inf`` below the float32 range)."""
    limit = float(np.finfo(np.float32).max)
    if value > limit:
        return limit
    if value < -limit:
        return float("-inf")
    rounded = np.float32(value)
    if float(rounded) > value:
        rounded = np.nextafter(rounded, np.float32(-np.inf))
    return float(rounded)


# --------------------------------------------------------------------------- Soft-NMS


def _soft_nms_torch(
    boxes: Tensor,
    scores: Tensor,
    threshold: float,
    sigma: float,
    score_threshold: float,
    gaussian: bool,
) -> tuple[Tensor, Tensor]:
    """Soft-NMS with torch ops (any device); the compiled kernel's arithmetic."""
    s = scores.clone()
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    live = torch.nonzero(s.double() >= score_threshold).flatten()  # increasing index
    keep, kept_scores = [], []
    while live.numel() > 0:
        best = int(torch.argmax(s[live]))  # first maximum: the lowest index
        p = live[best]
        keep.append(p)
        kept_scores.append(s[p].clone())
        rest = torch.cat((live[:best], live[best + 1 :]))
        if rest.numel() == 0:
            break
        ovr = _criterion_matrix(boxes[p][None], area[p][None], boxes[rest], area[rest], False, 0.0)[
            0
        ]
        ovr = torch.where(torch.isnan(ovr), 0.0, ovr)
        if gaussian:
            decayed = s[rest] * torch.exp(-(ovr * ovr) / sigma)
        else:
            decayed = torch.where(_strictly_above(ovr, threshold), s[rest] * (1 - ovr), s[rest])
        s[rest] = decayed
        live = rest[decayed.double() >= score_threshold]
    device = boxes.device
    if not keep:
        return torch.empty(0, dtype=torch.int64, device=device), scores.new_empty(0)
    return torch.stack(keep), torch.stack(kept_scores)
