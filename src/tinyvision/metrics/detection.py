"""Detection building blocks: greedy matching in one image and average precision of a curve.

The full data-set evaluation (COCO and VOC protocols) is :mod:`tinyvision.metrics.coco`;
these two functions are the pieces one uses alone, e.g. inside a training loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tinyvision._validate import check_array, check_choice, check_float
from tinyvision.metrics import _detection_kernels as _k
from tinyvision.structures import xyxy_to_xywh

__all__ = ["DetectionMatch", "average_precision", "match_detections"]


@dataclass(frozen=True)
class DetectionMatch:
    """The outcome of :func:`match_detections` (``D`` detections, ``G`` ground truths).

    Attributes:
        tp (bool[D]): True where the detection matched a ground truth (a true positive),
            in the detections' input order.
        matched_gt (int64[D]): the index of the matched ground truth, -1 for a false positive.
        fn (int64[F]): indices of the ground truths nothing matched (false negatives), ascending.
    """

    tp: np.ndarray
    matched_gt: np.ndarray
    fn: np.ndarray

    @property
    def fp(self) -> np.ndarray:
        """bool[D]: the false positives."""
        return ~self.tp


def _boxes_xyxy(value: Any, name: str) -> np.ndarray:
    array = check_array(value, name, shape=(None, 4), dtype=np.float64, any_empty=True)
    if np.any(array[:, 2:] < array[:, :2]):
        row = int(np.flatnonzero(np.any(array[:, 2:] < array[:, :2], axis=1))[0])
        raise ValueError(
            f"{name} must be (x1, y1, x2, y2) with x2 >= x1 and y2 >= y1, "
            f"got {array[row].tolist()} at row {row}"
        )
    return array


def match_detections(
    det_boxes: Any,
    det_scores: Any,
    gt_boxes: Any,
    iou_threshold: float = 0.5,
) -> DetectionMatch:
    """Greedy matching of one image's detections to its ground truths.

    Detections are taken by decreasing score (ties in input order); each takes the free
    ground truth it overlaps most, if that IoU is at least ``iou_threshold`` (ties to the
    lower index), and each ground truth is used once. This is COCO's rule for one category
    without crowd regions or area ranges. A match always needs some overlap (IoU > 0):
    at ``iou_threshold=0`` disjoint or edge-touching boxes stay unmatched (pycocotools
    would match them; this is the ``"coco-fixed"`` rule).

    Args:
        det_boxes (array[D, 4]): detections, ``(x1, y1, x2, y2)``.
        det_scores (array[D]): their confidences.
        gt_boxes (array[G, 4]): ground truths, ``(x1, y1, x2, y2)``.
        iou_threshold: the least IoU of a match, in [0, 1] (and IoU > 0 always).

    Returns:
        :class:`DetectionMatch` with ``tp`` (bool[D]), ``matched_gt`` (int64[D]) and
        ``fn`` (int64[F]). Empty inputs give empty results (every ground truth a miss).
    """
    det = _boxes_xyxy(det_boxes, "det_boxes")
    gt = _boxes_xyxy(gt_boxes, "gt_boxes")
    scores = check_array(det_scores, "det_scores", shape=(None,), dtype=np.float64)
    if scores.shape[0] != det.shape[0]:
        raise ValueError(
            f"det_scores must have one score per detection ({det.shape[0]}), got {scores.shape[0]}"
        )
    thr = check_float(iou_threshold, "iou_threshold", minimum=0.0, maximum=1.0)
    n_det, n_gt = det.shape[0], gt.shape[0]
    order = np.argsort(-scores, kind="stable")
    state, _, rows, _ = _k.match_groups(
        gkey=np.zeros(n_gt, dtype=np.int64),
        gbox=xyxy_to_xywh(gt),
        garea=np.zeros(n_gt),
        gignore=np.zeros(n_gt, dtype=bool),
        gcrowd=np.zeros(n_gt, dtype=bool),
        gcounts=np.ones(n_gt, dtype=bool),
        dkey=np.zeros(n_det, dtype=np.int64),
        dbox=xyxy_to_xywh(det[order]),
        darea=np.zeros(n_det),
        dscore=scores[order],
        area_rng=np.array([[-np.inf, np.inf]]),
        closed=True,
        iou_thr=np.array([thr]),
        rule=_k.RULE_COCO_FIXED,
        n_cats=1,
        keep_rows=True,
        use_given=False,
        given=np.zeros(0),
    )
    tp = np.zeros(n_det, dtype=bool)
    matched = np.full(n_det, -1, dtype=np.int64)
    tp[order] = state[:, 0, 0] == _k.TP
    matched[order] = rows[:, 0, 0]
    used = np.zeros(n_gt, dtype=bool)
    used[matched[matched >= 0]] = True
    return DetectionMatch(tp=tp, matched_gt=matched, fn=np.flatnonzero(~used).astype(np.int64))


_AP_METHODS = ("coco101", "voc07", "voc2010")


def average_precision(recall: Any, precision: Any, method: str = "coco101") -> float:
    """Area under a precision-recall curve, as COCO or Pascal VOC define it.

    Args:
        recall (array[N]): recall after each detection in decreasing score order
            (non-decreasing, in [0, 1]).
        precision (array[N]): precision at the same points, in [0, 1].
        method: ``"coco101"``: precision envelope sampled at recall 0, 0.01, ..., 1 (the
            first point reaching each recall; 0 past the end), averaged;
            ``"voc07"``: 11-point rule, the best precision at recall >= 0, 0.1, ..., 1,
            summed as ``p / 11`` like the devkit; ``"voc2010"``: the exact area under the
            precision envelope (VOC2010 and later).

    Returns:
        AP in [0, 1]; 0 for an empty curve.
    """
    check_choice(method, "method", _AP_METHODS)
    rec = check_array(recall, "recall", shape=(None,), dtype=np.float64)
    prec = check_array(precision, "precision", shape=(None,), dtype=np.float64)
    if rec.shape[0] != prec.shape[0]:
        raise ValueError(
            f"recall and precision must have the same length, got {rec.shape[0]} and "
            f"{prec.shape[0]}"
        )
    if rec.size == 0:
        return 0.0
    for name, arr in (("recall", rec), ("precision", prec)):
        if np.any(arr < 0) or np.any(arr > 1):
            raise ValueError(f"{name} must lie in [0, 1], got values in [{arr.min()}, {arr.max()}]")
    if np.any(np.diff(rec) < 0):
        raise ValueError("recall must be non-decreasing (points in decreasing score order)")
    envelope = np.maximum.accumulate(prec[::-1])[::-1]
    if method == "voc2010":
        changed = np.flatnonzero(np.diff(np.concatenate([[0.0], rec])) != 0)
        widths = rec[changed] - np.concatenate([[0.0], rec])[changed]
        terms = widths * envelope[changed]
        return float(np.cumsum(terms)[-1]) if terms.size else 0.0
    thresholds = np.arange(0.0, 1.1, 0.1) if method == "voc07" else np.linspace(0.0, 1.0, 101)
    index = np.searchsorted(rec, thresholds, side="left")
    sampled = np.where(index < rec.size, envelope[np.minimum(index, rec.size - 1)], 0.0)
    if method == "voc07":
        return float(np.cumsum(sampled / thresholds.size)[-1])
    return float(np.mean(sampled))
