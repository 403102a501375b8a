"""Accumulation (``COCOeval.accumulate``): :func:`accumulate_matches`,
:func:`evaluate_detections` and the result, :class:`DetectionEvaluation`, whose methods
delegate to :mod:`tinyvision.metrics.coco.analysis`."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinyvision._validate import check_instance
from tinyvision.metrics import _detection_kernels as _k
from tinyvision.metrics.coco import analysis as _an
from tinyvision.metrics.coco.analysis import DetectionCounts, PRCurve
from tinyvision.metrics.coco.matching import ImageMatches, _regroup, match_images
from tinyvision.metrics.coco.params import EvaluationParams, _limits

__all__ = ["DetectionEvaluation", "accumulate_matches", "evaluate_detections"]


def accumulate_matches(matches: ImageMatches) -> DetectionEvaluation:
    """Accumulate per-image matches into a :class:`DetectionEvaluation`."""
    check_instance(matches, ImageMatches, "matches")
    m = _regroup(matches)
    p = m.params
    n_cat = m.category_ids.shape[0]
    counts = np.bincount(m.dt_cat, minlength=n_cat) if m.dt_cat.size else np.zeros(n_cat, np.int64)
    cat_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    # Per category by decreasing score, ties by image and rank: pycocotools' mergesort
    # of the detections concatenated image by image.
    by_score = _k.radix_argsort(
        _k.descending_keys(m.dt_score), np.arange(m.dt_score.shape[0], dtype=np.int64)
    )
    order = _k.radix_argsort(m.dt_cat.astype(np.uint64), by_score)
    ap_method = {"voc07": _k.AP_VOC07, "voc2010": _k.AP_ALL_POINT}.get(p.mode, _k.AP_NONE)
    # Gathered once into that order, the kernel's passes read memory sequentially.
    precision, recall, scores, ap = _k.accumulate(
        cat_start=cat_start,
        order=np.arange(order.shape[0], dtype=np.int64),
        score=m.dt_score[order],
        rank=m.dt_rank[order],
        state=m.dt_state[order],
        npig=m.npig,
        rec_thr=p.recall_thresholds,
        max_dets=_limits(p),
        spacing=p.mode == "coco",
        collapse_ties=p.mode == "coco-fixed",
        ap_method=ap_method,
    )
    return DetectionEvaluation(
        params=p,
        category_ids=m.category_ids,
        category_names=m.category_names,
        precision=precision,
        recall=recall,
        scores=scores,
        ap=ap,
        matches=m,
        _order=order,
        _cat_start=cat_start,
    )


def evaluate_detections(
    gt: Any,
    dt: Any,
    *,
    mode: str = "coco",
    iou_thresholds: Any = None,
    max_dets: Any = None,
    area_ranges: Any = None,
    recall_thresholds: Any = None,
    iou_type: str = "bbox",
    use_cats: bool = True,
    kpt_oks_sigmas: Any = None,
) -> DetectionEvaluation:
    """Evaluate detections against ground truth: the COCO numbers and much more.

    ``gt``, ``dt`` and the options are those of :func:`match_images`. With the defaults
    and ``mode="coco"``, ``stats``, ``precision``, ``recall`` and ``scores`` equal
    pycocotools 2.0.11's ``COCOeval`` (``iouType`` = ``iou_type``: ``"bbox"``,
    ``"segm"`` or ``"keypoints"``; ``useCats`` = ``use_cats``) to the last bit.

    >>> result = evaluate_detections("instances_val2017.json", "detections.json")
    >>> print(result.summary())            # doctest: +SKIP
    >>> result.stats[0], result.map50       # doctest: +SKIP
    """
    matches = match_images(
        gt,
        dt,
        mode=mode,
        iou_thresholds=iou_thresholds,
        max_dets=max_dets,
        area_ranges=area_ranges,
        recall_thresholds=recall_thresholds,
        iou_type=iou_type,
        use_cats=use_cats,
        kpt_oks_sigmas=kpt_oks_sigmas,
    )
    return accumulate_matches(matches)


@dataclass(frozen=True, eq=False)
class DetectionEvaluation:
    """The result of :func:`evaluate_detections`.

    Attributes:
        params (EvaluationParams): thresholds, limits and area ranges used.
        category_ids (int64[K]), category_names: the categories, ids ascending.
        precision (float64[T, R, K, A, M]): interpolated precision at each recall point,
            -1 where a category has no ground truth (``COCOeval.eval["precision"]``).
        recall (float64[T, K, A, M]): final recall (``COCOeval.eval["recall"]``).
        scores (float64[T, R, K, A, M]): the score at each precision point.
        ap (float64[T, K, A, M]): per-category AP of the VOC modes (-1 in COCO modes,
            whose AP is the mean of ``precision`` over recall points).
        stats (float64[S]): the summary numbers, named by ``stat_names``: COCO's 12 in
            ``COCOeval.stats`` order, or per IoU threshold AP and recall for VOC.
    """

    params: EvaluationParams
    category_ids: np.ndarray
    category_names: tuple[str, ...]
    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray
    ap: np.ndarray
    matches: ImageMatches = field(repr=False)
    _order: np.ndarray = field(repr=False)
    _cat_start: np.ndarray = field(repr=False)

    # ----- summary numbers ---------------------------------------------------------
    @property
    def is_coco(self) -> bool:
        return _an.is_coco(self.params)

    @property
    def stat_names(self) -> tuple[str, ...]:
        return _an.stat_names(self.params)

    @functools.cached_property
    def stats(self) -> np.ndarray:
        return _an.stats(self)

    @property
    def map50(self) -> float:
        """mAP at IoU 0.5 (COCO: ``stats[1]``; VOC: the mean of per-class AP).

        NaN when 0.5 is not one of the evaluated ``iou_thresholds`` (``stats[1]`` is then
        pycocotools' -1 sentinel, which would read as a score); -1 when no category has
        ground truth, as in ``stats``.
        """
        return _an.map50(self)

    @property
    def map50_95(self) -> float:
        """COCO's AP averaged over IoU 0.50:0.05:0.95 (``stats[0]``).

        NaN in the VOC modes, when the evaluated ``iou_thresholds`` are not exactly the
        ten thresholds 0.50, 0.55, ..., 0.95 (``stats[0]``, "AP", is then the mean over the
        thresholds that were evaluated, not mAP@0.5:0.95), and in ``"coco"`` mode when 100
        is not one of ``max_dets`` (pycocotools reads ``stats[0]`` at ``maxDets=100`` and
        reports -1 then).
        """
        return _an.map50_95(self)

    @property
    def report_iou_threshold(self) -> float:
        """The IoU threshold of :meth:`to_dict`'s counts, errors and confusion matrix (and of
        the report's curves): 0.5 when it was evaluated, else the first evaluated threshold."""
        return _an.report_iou_threshold(self.params)

    def summary(self) -> str:
        """The text ``COCOeval.summarize()`` prints (VOC: one AP and recall line per IoU)."""
        return _an.summary(self)

    # ----- per class ---------------------------------------------------------------
    def per_class(self) -> list[dict[str, Any]]:
        """One row per category: id, name, counted ground truths, detections, and every
        summary number restricted to that category (-1 where it has no ground truth)."""
        return _an.per_class(self)

    def per_class_text(self) -> str:
        """The per-class table as aligned text."""
        return _an.per_class_text(self)

    # ----- curves and counts -------------------------------------------------------
    def pr_curve(self, category_id: int | None = None, *, iou_threshold: float = 0.5) -> PRCurve:
        """The raw precision-recall curve at ``iou_threshold`` (one of ``iou_thresholds``)
        over the first area range, for one category or all pooled (``None``); a point at
        each distinct score, whose detections at or above that score are kept."""
        return _an.pr_curve(self, category_id, iou_threshold=iou_threshold)

    def counts(
        self,
        confidence: float = 0.0,
        *,
        iou_threshold: float = 0.5,
        category_id: int | None = None,
    ) -> DetectionCounts:
        """TP, FP, FN, precision, recall and F1 of the detections with ``score >= confidence``."""
        return _an.counts(self, confidence, iou_threshold=iou_threshold, category_id=category_id)

    def best_f1(
        self, *, iou_threshold: float = 0.5, category_id: int | None = None
    ) -> DetectionCounts:
        """The counts at the confidence with the highest F1 (the highest such confidence)."""
        return _an.best_f1(self, iou_threshold=iou_threshold, category_id=category_id)

    def confusion_matrix(
        self, confidence: float = 0.25, *, iou_threshold: float = 0.5
    ) -> np.ndarray:
        """Detection confusion matrix, int64[K + 1, K + 1]: rows true class, columns
        predicted class, the last row and column "background".

        Built from the evaluation's own matches at ``iou_threshold`` over the first area
        range, for the detections with ``score >= confidence``: a true positive adds to
        its diagonal cell; a false positive overlapping (IoU >= ``iou_threshold``) a still
        unmatched ground truth of another class is a confusion of that class, else a
        background false positive; unmatched ground truths are background misses. Ignored
        detections and ground truths (crowd, out of range) are left out.
        """
        return _an.confusion_matrix(self, confidence, iou_threshold=iou_threshold)

    def error_breakdown(
        self, confidence: float = 0.25, *, iou_threshold: float = 0.5, loc_threshold: float = 0.1
    ) -> dict[str, int]:
        """Why detections and objects were wrong, at ``score >= confidence``.

        ``tp``; false positives split into ``fp_confusion`` (on an object of another class,
        as in :meth:`confusion_matrix`), ``fp_duplicate`` (on an object of its class that a
        better detection took), ``fp_localization`` (best overlap with its class in
        [``loc_threshold``, ``iou_threshold``)) and ``fp_background``; false negatives into
        ``fn_confused`` (taken for another class) and ``fn_missed``.
        """
        return _an.error_breakdown(
            self, confidence, iou_threshold=iou_threshold, loc_threshold=loc_threshold
        )

    # ----- export --------------------------------------------------------------------
    def to_dict(
        self, *, confidence: float = 0.25, iou_threshold: float | None = None
    ) -> dict[str, Any]:
        """Everything a report needs, as strict-JSON values (-1: no ground truth; None for
        infinity and NaN, e.g. ``map50`` when IoU 0.5 was not evaluated).

        The ``counts``, ``errors`` and ``confusion_matrix`` sections are computed at
        ``iou_threshold`` (one of the evaluated thresholds), by default
        :attr:`report_iou_threshold` (0.5 when evaluated, else the first evaluated one); each
        section and the top-level ``"iou_threshold"`` record the value used.
        """
        return _an.to_dict(self, confidence=confidence, iou_threshold=iou_threshold)
