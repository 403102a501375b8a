"""Binary metrics of thresholded scores, and the threshold that maximises one of them.

``binary_metrics_at`` is the notes' precision/recall/accuracy/F1 of ``score >= threshold``,
without touching its input and without dividing by zero. ``best_threshold`` scores every
distinct threshold from one sorted pass (the counts of the ROC curve) and picks the best.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinyvision._validate import check_float
from tinyvision.metrics._ranking import binary_input, curve_counts
from tinyvision.metrics._warnings import warn_undefined

__all__ = ["BestThreshold", "BinaryMetrics", "best_threshold", "binary_metrics_at"]


@dataclass(frozen=True)
class BinaryMetrics:
    """Counts and rates of the prediction ``score >= threshold``.

    Counts are ints (floats when weighted). ``precision = tp / (tp + fp)``,
    ``recall = tp / (tp + fn)``, ``accuracy = (tp + tn) / n``,
    ``f1 = 2 tp / (2 tp + fp + fn)``; a 0/0 takes the ``zero_division`` value.
    """

    threshold: float
    tp: float
    fp: float
    tn: float
    fn: float
    precision: float
    recall: float
    accuracy: float
    f1: float


def _ratio(numerator: float, denominator: float, zero_division: float) -> float:
    return numerator / denominator if denominator != 0 else zero_division


def binary_metrics_at(
    y_true: Any,
    y_score: Any,
    threshold: float,
    *,
    pos_label: Any = None,
    sample_weight: Any = None,
    zero_division: float = 0.0,
) -> BinaryMetrics:
    """Precision, recall, accuracy, F1 and the counts of predicting ``score >= threshold``.

    Args:
        y_true: ``(n_samples,)`` binary labels ({0, 1} or {-1, 1} unless ``pos_label``).
        y_score: ``(n_samples,)`` scores (not modified).
        threshold: the cut-off; ``inf`` predicts nothing positive, ``-inf`` everything.
        pos_label: the positive class.
        sample_weight: ``(n_samples,)`` weights (counts become weight sums).
        zero_division: value of a rate whose denominator is 0 (no warning).

    Returns:
        :class:`BinaryMetrics`. The rates equal scikit-learn's ``precision_score``,
        ``recall_score``, ``accuracy_score`` and ``f1_score`` of the thresholded labels.
        Empty input is valid: zero counts, every rate ``zero_division``.
    """
    threshold = check_float(threshold, "threshold")
    zero_division = check_float(zero_division, "zero_division", allow_nan=True)
    problem = binary_input(
        y_true, y_score, pos_label=pos_label, sample_weight=sample_weight, allow_empty=True
    )
    predicted = problem.scores >= threshold  # a new array: the input is never written
    is_pos = problem.is_pos
    w = problem.sample_weight
    if w is None:
        tp = int(np.count_nonzero(predicted & is_pos))
        n_pred = int(np.count_nonzero(predicted))
        n_true = int(np.count_nonzero(is_pos))
        total = len(is_pos)
    else:
        tp = float(np.sum(w[predicted & is_pos]))
        n_pred = float(np.sum(w[predicted]))
        n_true = float(np.sum(w[is_pos]))
        total = float(np.sum(w))
    fp = n_pred - tp
    fn = n_true - tp
    tn = total - tp - fp - fn
    return BinaryMetrics(
        threshold=threshold,
        tp=tp,
        fp=fp,
        tn=tn,
        fn=fn,
        precision=_ratio(tp, n_pred, zero_division),
        recall=_ratio(tp, n_true, zero_division),
        accuracy=_ratio(tp + tn, total, zero_division),
        f1=_ratio(2.0 * tp, 1.0 * n_true + n_pred, zero_division),
    )


# --------------------------------------------------------------------------------------
# best_threshold
# --------------------------------------------------------------------------------------

CountsMetric = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _f1(tp: np.ndarray, fp: np.ndarray, tn: np.ndarray, fn: np.ndarray) -> np.ndarray:
    return _safe_divide(2.0 * tp, 2.0 * tp + fp + fn)


def _youden(tp: np.ndarray, fp: np.ndarray, tn: np.ndarray, fn: np.ndarray) -> np.ndarray:
    # tpr - fpr; undefined (NaN) without positives or without negatives
    with np.errstate(divide="ignore", invalid="ignore"):
        return tp / (tp + fn) - fp / (fp + tn)


def _accuracy(tp: np.ndarray, fp: np.ndarray, tn: np.ndarray, fn: np.ndarray) -> np.ndarray:
    return _safe_divide(tp + tn, tp + fp + tn + fn)


def _balanced_accuracy(
    tp: np.ndarray, fp: np.ndarray, tn: np.ndarray, fn: np.ndarray
) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return (tp / (tp + fn) + tn / (tn + fp)) / 2.0


def _mcc(tp: np.ndarray, fp: np.ndarray, tn: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return _safe_divide(tp * tn - fp * fn, denominator)


_METRICS: dict[str, CountsMetric] = {
    "f1": _f1,
    "youden": _youden,
    "accuracy": _accuracy,
    "balanced_accuracy": _balanced_accuracy,
    "mcc": _mcc,
}


@dataclass(frozen=True)
class BestThreshold:
    """The threshold maximising a metric, the metric's value there, and its name."""

    threshold: float
    score: float
    metric: str


def best_threshold(
    y_true: Any,
    y_score: Any,
    metric: str | CountsMetric = "f1",
    *,
    pos_label: Any = None,
    sample_weight: Any = None,
) -> BestThreshold:
    """The cut-off ``t`` for which predicting ``score >= t`` maximises ``metric``.

    Args:
        y_true: ``(n_samples,)`` binary labels ({0, 1} or {-1, 1} unless ``pos_label``).
        y_score: ``(n_samples,)`` scores.
        metric: ``'f1'``, ``'youden'`` (tpr - fpr), ``'accuracy'``, ``'balanced_accuracy'``,
            ``'mcc'``, or a function ``f(tp, fp, tn, fn) -> scores`` of float64 count arrays.
        pos_label: the positive class.
        sample_weight: ``(n_samples,)`` weights.

    Returns:
        :class:`BestThreshold`. The candidates are ``inf`` (nothing positive) and every
        distinct score; among equal best values the highest threshold wins. A metric that is
        NaN everywhere (e.g. Youden's J with one class) gives NaN and a warning.

    Raises:
        ValueError: empty input (no samples), as ``roc_curve``.
    """
    if callable(metric):
        function, name = metric, getattr(metric, "__name__", "custom")
    elif isinstance(metric, str) and metric in _METRICS:
        function, name = _METRICS[metric], metric
    else:
        options = ", ".join(repr(k) for k in _METRICS)
        raise ValueError(f"metric must be one of {options} or a callable, got {metric!r}")
    problem = binary_input(y_true, y_score, pos_label=pos_label, sample_weight=sample_weight)
    thresholds, tps, fps = curve_counts(problem)  # one sorted pass, decreasing thresholds
    tp = np.r_[0.0, tps]
    fp = np.r_[0.0, fps]
    n_pos = tp[-1]
    n_neg = fp[-1]
    values = np.asarray(function(tp, fp, n_neg - fp, n_pos - tp), dtype=np.float64)
    if values.shape != tp.shape:
        raise ValueError(
            f"metric must return one value per threshold, shape {tp.shape}, got {values.shape}"
        )
    if np.all(np.isnan(values)):
        warn_undefined(f"The {name} metric is undefined at every threshold; returning nan.")
        return BestThreshold(math.nan, math.nan, name)
    best = int(np.nanargmax(values))
    candidates = np.r_[np.inf, thresholds.astype(np.float64)]
    return BestThreshold(float(candidates[best]), float(values[best]), name)
