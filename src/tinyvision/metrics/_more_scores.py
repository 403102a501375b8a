"""The rest of scikit-learn's metrics of scores and probabilities: same names and results.

``top_k_accuracy_score``, ``log_loss``, ``brier_score_loss``, ``det_curve`` and
``label_ranking_average_precision_score`` equal ``sklearn.metrics`` 1.9.1 bit for bit
(tested live in ``tests/test_metrics_more.py``). As the other metrics of scores, they raise
``ValueError`` naming the argument on empty input.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from tinyvision.metrics._kernels import _jit
from tinyvision.metrics._labels import (
    check_lengths,
    label_array,
    labels_param,
    require_samples,
    sample_weight_array,
    to_array,
)
from tinyvision.metrics._more_classification import _indicator, _is_indicator_shape
from tinyvision.metrics._ranking import (
    _check_default_pos_label,
    binary_input,
    curve_counts,
    score_array,
)
from tinyvision.metrics._warnings import warn_undefined

__all__ = [
    "brier_score_loss",
    "det_curve",
    "label_ranking_average_precision_score",
    "log_loss",
    "top_k_accuracy_score",
]


# --------------------------------------------------------------------------------------
# top_k_accuracy_score
# --------------------------------------------------------------------------------------


def _sorted_unique_labels(labels: Any) -> tuple[np.ndarray, np.ndarray]:
    array = labels_param(labels, unique=False)
    return array, np.unique(array)


def top_k_accuracy_score(
    y_true: Any,
    y_score: Any,
    *,
    k: int = 2,
    normalize: bool = True,
    sample_weight: Any = None,
    labels: Any = None,
) -> float:
    """Fraction of samples whose true class is among the ``k`` highest scores.

    Args:
        y_true: class labels ``(n_samples,)``.
        y_score: ``(n_samples, n_classes)`` scores, columns in the sorted order of the
            classes (or of ``labels``); for binary ``y_true``, ``(n_samples,)`` scores of
            the greater class.
        k: how many of the highest scores count; ties go to the class listed last (as
            scikit-learn's reversed stable sort).
        normalize: a fraction (True) or the number (weight) of hits.
        sample_weight: ``(n_samples,)`` weights.
        labels: all the classes, sorted (when ``y_true`` lacks some).
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    y = _class_labels(y_true)
    require_samples(y, "y_true")
    scores = score_array(y_score, "y_score", ndim=(1, 2))
    classes = np.unique(y)
    binary = len(classes) <= 2 and (labels is None or len(labels_param(labels, unique=False)) <= 2)
    if binary:
        if scores.ndim == 2 and scores.shape[1] != 1:
            raise ValueError(
                f"`y_true` is binary while y_score is 2d with {scores.shape[1]} classes. If "
                "`y_true` does not contain all the labels, `labels` must be provided."
            )
        scores = scores.reshape(len(scores), -1)[:, 0] if scores.ndim == 2 else scores
    elif scores.ndim != 2:
        raise ValueError(
            "`y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` contains "
            f"multiple classes. Got `y_score.shape={scores.shape}`."
        )
    check_lengths(y_true=y, y_score=scores)
    w = sample_weight_array(sample_weight, len(y))
    n_score_classes = scores.shape[1] if scores.ndim == 2 else 2
    if labels is None:
        if len(classes) != n_score_classes:
            raise ValueError(
                f"Number of classes in 'y_true' ({len(classes)}) not equal to the number of "
                f"classes in 'y_score' ({n_score_classes}).You can provide a list of all known "
                "classes by assigning it to the `labels` parameter."
            )
    else:
        given, classes = _sorted_unique_labels(labels)
        if len(classes) != len(given):
            raise ValueError(f"Parameter 'labels' must be unique, got {given.tolist()!r}")
        if not np.array_equal(classes, given):
            raise ValueError(f"Parameter 'labels' must be ordered, got {given.tolist()!r}")
        if len(classes) != n_score_classes:
            raise ValueError(
                f"Number of given labels ({len(classes)}) not equal to the number of classes "
                f"in 'y_score' ({n_score_classes})."
            )
        if not np.isin(y, classes).all():
            raise ValueError("'y_true' contains labels not in parameter 'labels'.")
    n_classes = len(classes)
    if k >= n_classes:
        warn_undefined(
            f"'k' ({k}) greater than or equal to 'n_classes' ({n_classes}) will result in a "
            "perfect score and is therefore meaningless.",
            stacklevel=2,
        )
    encoded = np.searchsorted(classes, y)
    hits = _top_k_hits(encoded, scores, k, binary)
    if normalize:
        return float(np.average(hits, weights=w))
    if w is None:
        return float(np.sum(hits))
    return float(np.dot(hits, w))


def _class_labels(y_true: Any) -> np.ndarray:
    """``y_true`` as 1-D class labels; other targets are refused with scikit-learn's words."""
    try:
        return label_array(y_true, "y_true")
    except ValueError as exc:
        kind = "continuous" if "continuous" in str(exc) else "multilabel-indicator"
        if "multilabel" not in str(exc) and "continuous" not in str(exc):
            raise
        raise ValueError(
            f"{exc} (scikit-learn: y type must be 'binary' or 'multiclass', got '{kind}' instead.)"
        ) from exc


def _top_k_hits(encoded: np.ndarray, scores: np.ndarray, k: int, binary: bool) -> np.ndarray:
    """Whether each true class ranks among the ``k`` first of a descending sort that puts
    tied columns in reverse order (scikit-learn's reversed stable argsort), without sorting."""
    if binary:
        if k != 1:
            return np.ones(len(scores), dtype=bool)
        threshold = 0.5 if scores.min() >= 0 and scores.max() <= 1 else 0
        return (scores > threshold).astype(np.int64) == encoded
    rows = np.arange(len(scores))
    true_score = scores[rows, encoded][:, None]
    columns = np.arange(scores.shape[1])[None, :]
    ahead = (scores > true_score) | ((scores == true_score) & (columns > encoded[:, None]))
    return np.count_nonzero(ahead, axis=1) < k


# --------------------------------------------------------------------------------------
# log_loss, brier_score_loss
# --------------------------------------------------------------------------------------


def _probabilities(value: Any, name: str = "y_proba") -> np.ndarray:
    """Finite probabilities in a float dtype (float16/32/64 kept, others float64)."""
    array = score_array(value, name, ndim=(1, 2))
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    require_samples(array, name)
    return array


def _one_hot(y: np.ndarray, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's ``LabelBinarizer`` encoding: ``(n_samples, K)`` indicators over the
    sorted classes (two columns for two classes) and the classes."""
    if labels is not None:
        given = labels_param(labels, unique=False)
        classes = np.unique(given)
        if classes.shape != given.shape or not np.array_equal(classes, given):
            warnings.warn(
                f"Labels passed were {labels}. But this function assumes labels are ordered "
                f"lexicographically. Pass the ordered labels={classes.tolist()} and ensure "
                "that the columns of y_prob correspond to this ordering.",
                UserWarning,
                stacklevel=4,
            )
        unknown = ~np.isin(y, classes)
        if unknown.any():
            raise ValueError(
                f"y_true contains values {set(np.unique(y[unknown]).tolist())} not belonging "
                f"to the passed labels {given.tolist()!r}."
            )
    else:
        classes = np.unique(y)
    if len(classes) == 1:
        if labels is None:
            raise ValueError(
                f"y_true contains only one label ({classes[0]}). Please provide the list of "
                "all expected class labels explicitly through the labels argument."
            )
        raise ValueError(
            f"The labels array needs to contain at least two labels, got {classes.tolist()!r}."
        )
    codes = np.searchsorted(classes, y)
    one_hot = np.zeros((len(y), len(classes)), dtype=np.int64)
    one_hot[np.arange(len(y)), codes] = 1
    return one_hot, classes


def _multiclass_probabilities(
    y_true: Any, y_prob: np.ndarray, sample_weight: Any, labels: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """scikit-learn's ``_validate_multiclass_probabilistic_prediction``:
    ``(one_hot, y_prob (n, K), sample_weight)``."""
    if y_prob.max() > 1:
        raise ValueError(f"y_prob contains values greater than 1: {y_prob.max()}")
    if y_prob.min() < 0:
        raise ValueError(f"y_prob contains values lower than 0: {y_prob.min()}")
    y = to_array(y_true, "y_true")
    if _is_indicator_shape(y):  # multilabel-indicator: one binary problem per column
        if labels is not None:
            raise ValueError(
                "labels cannot be given with multilabel-indicator y_true (scikit-learn: The "
                "object was not fitted with multilabel input.)"
            )
        y = _indicator(y, "y_true")
        check_lengths(y_prob=y_prob, y_true=y)
        w = sample_weight_array(sample_weight, len(y))
        one_hot, classes = (y != 0).astype(np.int64), np.arange(y.shape[1])
    else:
        y = label_array(y, "y_true")
        check_lengths(y_prob=y_prob, y_true=y)
        w = sample_weight_array(sample_weight, len(y))
        one_hot, classes = _one_hot(y, labels)
    if y_prob.ndim == 1:
        y_prob = y_prob[:, None]
    if y_prob.shape[1] == 1:
        y_prob = np.concatenate([1 - y_prob, y_prob], axis=1)
    eps = np.finfo(y_prob.dtype).eps
    if not np.all(np.isclose(y_prob.sum(axis=1), 1, rtol=math.sqrt(eps), atol=1e-8)):
        warnings.warn(
            "The y_prob values do not sum to one. Make sure to pass probabilities.",
            UserWarning,
            stacklevel=4,
        )
    if len(classes) != y_prob.shape[1]:
        if labels is None:
            raise ValueError(
                f"y_true and y_prob contain different number of classes: {len(classes)} vs "
                f"{y_prob.shape[1]}. Please provide the true labels explicitly through the "
                f"labels argument. Classes found in y_true: {classes}"
            )
        raise ValueError(
            "The number of classes in labels is different from that in y_prob. Classes "
            f"found in labels: {classes}"
        )
    return one_hot, y_prob, w


def log_loss(
    y_true: Any,
    y_proba: Any = None,
    *,
    normalize: bool = True,
    sample_weight: Any = None,
    labels: Any = None,
    y_pred: Any = "deprecated",
) -> float:
    """Cross-entropy of true labels under predicted probabilities (natural log).

    Args:
        y_true: class labels ``(n_samples,)``, or multilabel indicators
            ``(n_samples, n_labels)`` (each column a binary problem; no ``labels``).
        y_proba: ``(n_samples, n_classes)`` probabilities, columns in sorted class order
            (or ``(n_samples,)``: probability of the greater class). Clipped to
            ``[eps, 1 - eps]`` of their dtype.
        normalize: the mean (True) or the sum of the per-sample losses.
        sample_weight: ``(n_samples,)`` weights.
        labels: all the classes (when ``y_true`` lacks some).
        y_pred: the old name of ``y_proba`` (deprecated in scikit-learn 1.9).
    """
    if not (isinstance(y_pred, str) and y_pred == "deprecated"):
        if y_proba is not None:
            raise ValueError(
                "Cannot use both `y_pred` and `y_proba`. `y_pred` is deprecated, use "
                "`y_proba` instead."
            )
        warnings.warn(
            "`y_pred` was renamed to `y_proba` in version 1.9 and will be removed in 1.11. "
            "Use `y_proba` instead.",
            FutureWarning,
            stacklevel=2,
        )
        y_proba = y_pred
    prob = _probabilities(y_proba)
    one_hot, prob, w = _multiclass_probabilities(y_true, prob, sample_weight, labels)
    eps = np.finfo(prob.dtype).eps
    prob = np.clip(prob, eps, 1 - eps)
    one_hot = one_hot.astype(prob.dtype)
    with np.errstate(divide="ignore"):
        terms = np.where(one_hot == 0, prob.dtype.type(0), one_hot * np.log(prob))
    loss = -np.sum(terms, axis=1)
    if normalize:
        return float(np.average(loss, weights=w))
    return float(np.sum(loss) if w is None else np.dot(loss, w))


def _binary_pos_label(y: np.ndarray, pos_label: Any) -> Any:
    """scikit-learn's positive class of ``brier_score_loss``: ``pos_label``, else 1 for
    {0, 1}/{-1, 1} labels, else the greatest numeric label (strings need ``pos_label``)."""
    if pos_label is not None:
        return pos_label
    classes = np.unique(y)
    if y.dtype.kind == "U":
        _check_default_pos_label(y, "y_true")
    allowed = ([0, 1], [-1, 1], [0], [-1], [1])
    if any(np.array_equal(classes, a) for a in allowed):
        return 1
    return classes[-1]


def brier_score_loss(
    y_true: Any,
    y_proba: Any,
    *,
    sample_weight: Any = None,
    pos_label: Any = None,
    labels: Any = None,
    scale_by_half: bool | str = "auto",
) -> float:
    """Mean squared difference of predicted probabilities and one-hot true labels.

    Args:
        y_true: class labels ``(n_samples,)``.
        y_proba: ``(n_samples,)`` probabilities of the positive class, or
            ``(n_samples, n_classes)`` probabilities (columns in sorted class order).
        sample_weight: ``(n_samples,)`` weights.
        pos_label: the positive class of binary ``y_proba`` (default: 1 for {0, 1} or
            {-1, 1} labels, else the greatest label).
        labels: all the classes of 2-D ``y_proba`` (when ``y_true`` lacks some).
        scale_by_half: halve the sum over classes (``'auto'``: for 1-D or two-column
            ``y_proba``, so that the binary score lies in [0, 1]).
    """
    if not (scale_by_half == "auto" or isinstance(scale_by_half, (bool, np.bool_))):
        raise ValueError(f"scale_by_half must be 'auto', True or False, got {scale_by_half!r}")
    prob = _probabilities(y_proba)
    if prob.ndim == 1 or prob.shape[1] == 1:
        one_hot, prob, w = _binary_probabilities(y_true, prob, sample_weight, pos_label)
    else:
        one_hot, prob, w = _multiclass_probabilities(y_true, prob, sample_weight, labels)
    one_hot = one_hot.astype(prob.dtype)
    score = np.average(np.sum((one_hot - prob) ** 2, axis=1), weights=w)
    if scale_by_half == "auto":
        scale_by_half = prob.ndim == 1 or prob.shape[1] < 3
    if scale_by_half:
        score *= 0.5
    return float(score)


def _binary_probabilities(
    y_true: Any, y_prob: np.ndarray, sample_weight: Any, pos_label: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    y = label_array(y_true, "y_true")
    y_prob = y_prob.reshape(len(y_prob), -1)[:, 0] if y_prob.ndim == 2 else y_prob
    check_lengths(y_prob=y_prob, y_true=y)
    w = sample_weight_array(sample_weight, len(y))
    if len(np.unique(y)) > 2:
        raise ValueError(
            "The type of the target inferred from y_true is multiclass but should be binary "
            "according to the shape of y_prob."
        )
    if y_prob.max() > 1:
        raise ValueError(f"y_prob contains values greater than 1: {y_prob.max()}")
    if y_prob.min() < 0:
        raise ValueError(f"y_prob contains values less than 0: {y_prob.min()}")
    positive = y == _binary_pos_label(y, pos_label)
    y_pos = np.asarray(positive, dtype=np.int64)
    one_hot = np.stack((1 - y_pos, y_pos), axis=1)
    return one_hot, np.stack((1 - y_prob, y_prob), axis=1), w


# --------------------------------------------------------------------------------------
# det_curve
# --------------------------------------------------------------------------------------


def det_curve(
    y_true: Any,
    y_score: Any,
    pos_label: Any = None,
    sample_weight: Any = None,
    drop_intermediate: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Detection error tradeoff: false positive and false negative rates per threshold.

    Args:
        y_true: ``(n_samples,)`` binary labels ({0, 1} or {-1, 1} unless ``pos_label``).
        y_score: ``(n_samples,)`` scores, higher meaning more likely positive.
        pos_label: the positive class.
        sample_weight: ``(n_samples,)`` weights.
        drop_intermediate: drop thresholds where the true positive count does not change.

    Returns:
        ``(fpr, fnr, thresholds)``, each ``ndarray[n_thresholds]`` of float64, thresholds
        increasing (``inf`` last if kept), from the last threshold that has no false
        positives to the first that finds every positive.

    Raises:
        ValueError: empty input, or only one class in ``y_true``.
    """
    y = label_array(y_true, "y_true")
    if len(np.unique(y)) > 2:
        raise ValueError(
            f"y_true must hold two classes, got {len(np.unique(y))} (scikit-learn: multiclass "
            "format is not supported)"
        )
    problem = binary_input(y, y_score, pos_label=pos_label, sample_weight=sample_weight)
    thresholds, tps, fps = curve_counts(problem)
    tps = np.concatenate(([0.0], tps))
    fps = np.concatenate(([0.0], fps))
    thresholds = np.concatenate(([np.inf], thresholds.astype(np.float64)))
    if drop_intermediate and len(fps) > 2:
        keep = np.concatenate(([True], np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:])), [True]))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    if len(np.unique(y)) != 2:
        raise ValueError(
            "y_true must hold two classes: Only one class is present in y_true. Detection "
            "error tradeoff curve is not defined in that case."
        )
    fns = tps[-1] - tps
    p_count, n_count = tps[-1], fps[-1]
    first = np.searchsorted(fps, fps[0], side="right")
    first_ind = first - 1 if first > 0 else None
    last_ind = np.searchsorted(tps, tps[-1]) + 1
    sl = slice(first_ind, last_ind)
    with np.errstate(divide="ignore", invalid="ignore"):
        return fps[sl][::-1] / n_count, fns[sl][::-1] / p_count, thresholds[sl][::-1]


# --------------------------------------------------------------------------------------
# label_ranking_average_precision_score
# --------------------------------------------------------------------------------------


@_jit
def _block_sum(values: np.ndarray, start: int, n: int) -> float:
    """numpy's summation of at most 128 values: 8 partial sums, then the rest in order."""
    if n < 8:
        total = 0.0
        for i in range(n):
            total += values[start + i]
        return total
    r = np.empty(8)
    for j in range(8):
        r[j] = values[start + j]
    i = 8
    while i < n - (n % 8):
        for j in range(8):
            r[j] += values[start + i + j]
        i += 8
    total = (r[0] + r[1]) + (r[2] + r[3]) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        total += values[start + i]
        i += 1
    return total


@_jit
def _pairwise_sum(values: np.ndarray, start: int, n: int) -> float:
    """numpy's pairwise summation of ``values[start:start + n]`` (same rounding): blocks
    of at most 128 values, halves (rounded down to a multiple of 8) added recursively. The
    recursion runs on an explicit stack."""
    if n <= 128:
        return _block_sum(values, start, n)
    starts = np.empty(128, dtype=np.int64)
    sizes = np.empty(128, dtype=np.int64)
    expanded = np.zeros(128, dtype=np.bool_)
    sums = np.empty(128)
    top, n_sums = 0, 0
    starts[0], sizes[0] = start, n
    while top >= 0:
        s, size = starts[top], sizes[top]
        if size <= 128:
            sums[n_sums] = _block_sum(values, s, size)
            n_sums += 1
            top -= 1
        elif expanded[top]:
            sums[n_sums - 2] = sums[n_sums - 2] + sums[n_sums - 1]
            n_sums -= 1
            expanded[top] = False
            top -= 1
        else:
            expanded[top] = True
            half = size // 2
            half -= half % 8
            starts[top + 1], sizes[top + 1] = s + half, size - half  # right, evaluated second
            starts[top + 2], sizes[top + 2] = s, half
            expanded[top + 1] = False
            expanded[top + 2] = False
            top += 2
    return sums[0]


@_jit
def _lrap_sum(relevant: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> float:
    """Sum over samples of ``weight * mean over relevant labels j of (relevant labels
    scored >= s_j) / (labels scored >= s_j)``; 1 for samples with none or all relevant."""
    n, k = relevant.shape
    ratios = np.empty(k)
    total = 0.0
    for i in range(n):
        m = 0
        for j in range(k):
            if relevant[i, j]:
                n_ge = 0
                n_rel_ge = 0
                for c in range(k):
                    if scores[i, c] >= scores[i, j]:
                        n_ge += 1
                        if relevant[i, c]:
                            n_rel_ge += 1
                ratios[m] = n_rel_ge / n_ge
                m += 1
        aux = 1.0 if m == 0 or m == k else _pairwise_sum(ratios, 0, m) / m
        total += aux * weights[i]
    return total


def _lrap_sum_reference(relevant: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> float:
    """Slow twin of :func:`_lrap_sum` (scikit-learn's loop with numpy)."""
    total = 0.0
    n_labels = relevant.shape[1]
    for i in range(len(relevant)):
        cols = np.nonzero(relevant[i])[0]
        if cols.size in (0, n_labels):
            aux = 1.0
        else:
            rank = (scores[i][None, :] >= scores[i][cols][:, None]).sum(axis=1)
            own = (scores[i][cols][None, :] >= scores[i][cols][:, None]).sum(axis=1)
            aux = (own / rank).mean()
        total += aux * weights[i]
    return total


def label_ranking_average_precision_score(
    y_true: Any, y_score: Any, *, sample_weight: Any = None
) -> float:
    """Label ranking average precision of multilabel scores, in (0, 1].

    For each sample and each true label, the fraction of the labels scored at least as
    high that are true; averaged per sample, then over samples (weighted).

    Args:
        y_true: ``(n_samples, n_labels)`` 0/1 indicators.
        y_score: ``(n_samples, n_labels)`` scores.
        sample_weight: ``(n_samples,)`` weights.
    """
    t = to_array(y_true, "y_true")
    scores = score_array(y_score, "y_score", ndim=(1, 2))
    if t.ndim != 2:
        raise ValueError(
            f"y_true must be a 2-D multilabel indicator matrix, got an array of shape "
            f"{t.shape} (scikit-learn: {'binary' if t.ndim == 1 else 'this'} format is not "
            "supported)"
        )
    require_samples(t, "y_true")
    check_lengths(y_true=t, y_score=scores)
    if t.shape != scores.shape:
        raise ValueError(f"y_true and y_score have different shape: {t.shape} and {scores.shape}")
    relevant = _indicator(t, "y_true") != 0
    w = sample_weight_array(sample_weight, len(t))
    weights = np.ones(len(t)) if w is None else w.astype(np.float64)
    total = _lrap_sum(
        np.ascontiguousarray(relevant), np.ascontiguousarray(scores, dtype=np.float64), weights
    )
    return float(total / (len(t) if w is None else np.sum(w)))
