"""The rest of scikit-learn's metrics of predicted labels: same names, arguments, results.

``multilabel_confusion_matrix``, ``jaccard_score``, ``hamming_loss``, ``zero_one_loss``,
``cohen_kappa_score`` and ``classification_report`` count predicted labels (binary,
multiclass and, except ``cohen_kappa_score``, multilabel-indicator targets). Results equal
``sklearn.metrics`` 1.9.1 bit for bit (tested live in ``tests/test_metrics_more.py``); the
metrics of scores are in :mod:`tinyvision.metrics._more_scores`.

Empty input follows the rest of :mod:`tinyvision.metrics`: valid, zero counts; NaN with an
:class:`UndefinedMetricWarning` for a ratio of no samples.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinyvision._validate import check_choice
from tinyvision.metrics._labels import (
    check_average,
    labels_param,
)
from tinyvision.metrics._warnings import warn_undefined
from tinyvision.metrics.classification import (
    _any_targets,
    _check_zero_division,
    _class_sums,
    _indicator,  # noqa: F401  (re-exported for _more_scores)
    _is_indicator_shape,  # noqa: F401  (re-exported for _more_scores)
    _Multilabel,
    _multilabel_sums,
    _no_samples,
    _prf_divide,
    _prfs_from_sums,
    _select_columns,
    _select_labels,
    _set_wise_sums,
    _subset_accuracy,
    _Targets,
    accuracy_score,
    confusion_matrix,
)

__all__ = [
    "classification_report",
    "cohen_kappa_score",
    "hamming_loss",
    "jaccard_score",
    "multilabel_confusion_matrix",
    "zero_one_loss",
]

_AVERAGES = (None, "micro", "macro", "weighted", "binary", "samples")


# --------------------------------------------------------------------------------------
# multilabel_confusion_matrix
# --------------------------------------------------------------------------------------


def multilabel_confusion_matrix(
    y_true: Any,
    y_pred: Any,
    *,
    sample_weight: Any = None,
    labels: Any = None,
    samplewise: bool = False,
) -> np.ndarray:
    """One 2 x 2 confusion matrix ``[[tn, fp], [fn, tp]]`` per label (or per sample).

    Args:
        y_true, y_pred: class labels ``(n_samples,)`` (each class one-vs-rest) or
            multilabel indicators ``(n_samples, n_labels)``.
        sample_weight: ``(n_samples,)`` weights.
        labels: the classes (column indices for indicators) to report, in this order;
            default: the sorted classes present (every column).
        samplewise: one matrix per sample (multilabel targets only).

    Returns:
        ``ndarray[n_outputs, 2, 2]``: int64 counts, float64 when weighted (and, as in
        scikit-learn, when no prediction is right). Empty input gives zero counts.
    """
    data = _any_targets(y_true, y_pred, sample_weight)
    if isinstance(data, _Targets):
        if samplewise:
            raise ValueError(
                "samplewise=True needs multilabel-indicator targets (scikit-learn: Samplewise "
                "metrics are not available outside of multilabel classification.)"
            )
        sums = _class_sums(data)
        tp, pred, true = _select_labels(sums, None, labels, None)
        n = len(data.y_true)
    else:
        data = _select_columns(data, labels)
        tp, pred, true = _multilabel_sums(data, samplewise)
        n = data.y_true.shape[1] if samplewise else data.y_true.shape[0]
    return _stack_confusion(tp, pred, true, n, data.sample_weight, samplewise)


def _stack_confusion(
    tp: np.ndarray,
    pred: np.ndarray,
    true: np.ndarray,
    n: int,
    w: np.ndarray | None,
    samplewise: bool,
) -> np.ndarray:
    fp = pred - tp
    fn = true - tp
    if w is not None and samplewise:
        tn = w * n - tp - fp - fn
    elif w is not None:
        tn = np.sum(w) - tp - fp - fn
    else:
        tn = n - tp - fp - fn
    return np.stack([tn, fp, fn, tp]).T.reshape(-1, 2, 2)


# --------------------------------------------------------------------------------------
# jaccard_score
# --------------------------------------------------------------------------------------


def jaccard_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> Any:
    """Jaccard similarity ``tp / (tp + fp + fn)`` of predicted and true label sets.

    Args:
        y_true, y_pred: class labels ``(n_samples,)`` or multilabel indicators
            ``(n_samples, n_labels)``.
        labels, pos_label, average, sample_weight: as
            :func:`precision_recall_fscore_support`; ``average='samples'`` (multilabel
            only) averages the score of every sample.
        zero_division: ``'warn'``, 0.0 or 1.0 (NaN is not accepted, as in scikit-learn).

    Returns:
        A float, or ``ndarray[n_labels]`` of float64 when ``average`` is None. 0/0 gives
        ``zero_division`` (``'warn'``: 0.0 with an :class:`UndefinedMetricWarning`).
    """
    check_average(average, _AVERAGES)
    if not (isinstance(zero_division, str) and zero_division == "warn") and not (
        isinstance(zero_division, numbers.Real) and zero_division in (0, 1)
    ):
        raise ValueError(f"zero_division must be 'warn', 0.0 or 1.0, got {zero_division!r}")
    data = _any_targets(y_true, y_pred, sample_weight)
    tp, pred, true = _set_wise_sums(data, average, labels, pos_label)
    fp = pred - tp
    fn = true - tp
    numerator = tp
    denominator = tp + fp + fn
    if average == "micro":
        numerator = np.sum(numerator, keepdims=True)
        denominator = np.sum(denominator, keepdims=True)
    jaccard = _prf_divide(
        numerator,
        denominator,
        "jaccard",
        "true or predicted",
        average,
        ("jaccard",),
        zero_division,
    )
    if average is None:
        return jaccard
    if jaccard.size == 0:
        return _no_samples("Jaccard", stacklevel=3)
    weights = None
    if average == "weighted":
        weights = fn + tp
        if not np.any(weights):
            weights = None
    elif average == "samples":
        weights = data.sample_weight
    return float(np.average(jaccard, weights=weights))


# --------------------------------------------------------------------------------------
# hamming_loss, zero_one_loss
# --------------------------------------------------------------------------------------


def hamming_loss(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Fraction of wrong labels: ``y_true != y_pred`` per sample, or per (sample, label)
    of multilabel indicators ``(n_samples, n_labels)``.

    Empty input: NaN with an :class:`UndefinedMetricWarning` (scikit-learn raises).
    """
    data = _any_targets(y_true, y_pred, sample_weight)
    w = data.sample_weight
    if len(data.y_true) == 0:
        return _no_samples("Hamming loss", stacklevel=3)
    if isinstance(data, _Targets):
        return float(np.average(data.y_true != data.y_pred, weights=w))
    weight_average = 1.0 if w is None else np.average(w)
    wrong = np.count_nonzero(data.raw_true != data.raw_pred, axis=1)
    n_differences = int(wrong.sum()) if w is None else np.dot(wrong, w)
    n, n_labels = data.y_true.shape
    return float(n_differences) / (n * n_labels * weight_average)


def zero_one_loss(
    y_true: Any, y_pred: Any, *, normalize: bool = True, sample_weight: Any = None
) -> float:
    """Fraction (or, with ``normalize=False``, number or weight) of wrong predictions.

    A multilabel sample ``(n_samples, n_labels)`` is wrong unless all its labels are right.
    Empty input: NaN with an :class:`UndefinedMetricWarning` (0.0 with ``normalize=False``).
    """
    data = _any_targets(y_true, y_pred, sample_weight)
    if isinstance(data, _Multilabel):
        score = _subset_accuracy(data, normalize)
    else:
        score = accuracy_score(
            data.y_true, data.y_pred, normalize=normalize, sample_weight=data.sample_weight
        )
    if normalize:
        return 1 - score
    w = data.sample_weight
    n_samples = len(data.y_true) if w is None else np.sum(w)
    return n_samples - score


# --------------------------------------------------------------------------------------
# cohen_kappa_score
# --------------------------------------------------------------------------------------


def cohen_kappa_score(
    y1: Any,
    y2: Any,
    *,
    labels: Any = None,
    weights: str | None = None,
    sample_weight: Any = None,
    replace_undefined_by: float = np.nan,
) -> float:
    """Cohen's kappa: agreement of two annotators beyond chance, in [-1, 1].

    Args:
        y1, y2: the labels of each annotator, ``(n_samples,)``.
        labels: the classes to use (at least one must occur in ``y1``); default: all.
        weights: None, ``'linear'`` or ``'quadratic'`` (penalty by class distance).
        sample_weight: ``(n_samples,)`` weights.
        replace_undefined_by: the result when kappa is undefined (NaN, or a float in
            [-1, 1]), with an :class:`UndefinedMetricWarning`.
    """
    check_choice(weights, "weights", (None, "linear", "quadratic"))
    _check_replacement(replace_undefined_by)
    try:
        confusion = confusion_matrix(y1, y2, labels=labels, sample_weight=sample_weight)
    except ValueError as exc:
        if "at least one label occurring in y_true" in str(exc):
            raise ValueError(
                f"labels must include at least one label occurring in y1, got {labels!r} "
                "(scikit-learn: At least one label in `labels` must be present in `y1`)"
            ) from exc
        raise
    n_classes = confusion.shape[0]
    confusion = confusion.astype(np.float64, copy=False)
    sum0 = np.sum(confusion, axis=0)
    sum1 = np.sum(confusion, axis=1)
    total = np.sum(sum0)
    if total == 0:
        warn_undefined(
            "`y2` contains no labels that are present in both `y1` and `labels`."
            "`cohen_kappa_score` is undefined and set to the value defined by the "
            f"`replace_undefined_by` param, which is set to {replace_undefined_by}.",
            stacklevel=3,
        )
        return replace_undefined_by
    expected = np.outer(sum0, sum1) / total
    if weights is None:
        w_mat = np.ones((n_classes, n_classes), dtype=np.float64)
        np.fill_diagonal(w_mat, 0)
    else:
        w_mat = np.zeros((n_classes, n_classes), dtype=np.float64)
        w_mat += np.arange(n_classes)
        w_mat = np.abs(w_mat - w_mat.T) if weights == "linear" else (w_mat - w_mat.T) ** 2
    observed = np.sum(w_mat * confusion)
    chance = np.sum(w_mat * expected)
    if chance == 0:
        warn_undefined(
            "`y1`, `y2` and `labels` have only one label in common. `cohen_kappa_score` is "
            "undefined and set to the value defined by the the `replace_undefined_by` param, "
            f"which is set to {replace_undefined_by}.",
            stacklevel=3,
        )
        return replace_undefined_by
    return float(1 - observed / chance)


def _check_replacement(value: Any) -> None:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok and (math.isnan(value) or -1.0 <= value <= 1.0):
        return
    raise ValueError(
        f"replace_undefined_by must be np.nan or a float in [-1.0, 1.0], got {value!r}"
    )


# --------------------------------------------------------------------------------------
# classification_report
# --------------------------------------------------------------------------------------


def _report_rows(
    data: _Targets | _Multilabel,
    labels: np.ndarray | None,
    zero_division: Any,
) -> tuple[tuple[Any, ...], Any]:
    """``(per_label, averaged)``: per-label P/R/F/support and a function of ``average``
    giving the averaged P/R/F."""

    def averaged(average: str | None) -> tuple[Any, ...]:
        tp, pred, true = _set_wise_sums(data, average, labels, None)
        return _prfs_from_sums(
            tp,
            pred,
            true,
            beta=1.0,
            average=average,
            warn_for=("precision", "recall", "f-score"),
            zero_division=zero_division,
            sample_weight=data.sample_weight,
        )

    return averaged(None), averaged


def classification_report(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    target_names: Sequence[str] | None = None,
    sample_weight: Any = None,
    digits: int = 2,
    output_dict: bool = False,
    zero_division: Any = "warn",
) -> str | dict[str, Any]:
    """Precision, recall, F1 and support per class, plus accuracy and averages.

    Args:
        y_true, y_pred: class labels ``(n_samples,)`` or multilabel indicators
            ``(n_samples, n_labels)``.
        labels: the classes to report (default: the sorted classes present).
        target_names: a display name per label.
        sample_weight: ``(n_samples,)`` weights.
        digits: decimals of the text report.
        output_dict: return ``{name: {'precision', 'recall', 'f1-score', 'support'}}``
            (and ``'accuracy'``, a float) instead of text.
        zero_division: value of 0/0 (``'warn'``: 0.0 and an ``UndefinedMetricWarning``).

    Returns:
        The text table of scikit-learn's ``classification_report`` (same layout), or the
        dictionary. The ``accuracy`` row replaces ``micro avg`` for binary and multiclass
        targets when ``labels`` covers every class present.
    """
    _check_zero_division(zero_division)
    data = _any_targets(y_true, y_pred, sample_weight)
    multilabel = isinstance(data, _Multilabel)
    present = _present_labels(data)
    labels_given = labels is not None
    labels = labels_param(labels, unique=False) if labels_given else present
    if labels.size == 0:
        raise ValueError("labels must contain at least one label, got an empty list")
    micro_is_accuracy = not multilabel and (
        not labels_given or set(labels.tolist()) >= set(present.tolist())
    )
    if target_names is not None and len(labels) != len(target_names):
        if labels_given:
            warnings.warn(
                f"labels size, {len(labels)}, does not match size of target_names, "
                f"{len(target_names)}",
                UserWarning,
                stacklevel=2,
            )
        else:
            raise ValueError(
                f"target_names must have one name per class: Number of classes, "
                f"{len(labels)}, does not match size of target_names, {len(target_names)}. "
                "Try specifying the labels parameter"
            )
    if target_names is None:
        target_names = [f"{label}" for label in labels.tolist()]
    per_label, averaged = _report_rows(data, labels, zero_division)
    p, r, f1, s = per_label
    rows = list(zip(target_names, p, r, f1, s))
    averages = ("micro", "macro", "weighted") + (("samples",) if multilabel else ())
    total = np.sum(s)
    summary = []
    for average in averages:
        heading = "accuracy" if average == "micro" and micro_is_accuracy else f"{average} avg"
        avg_p, avg_r, avg_f1, _ = averaged(average)
        summary.append((heading, [avg_p, avg_r, avg_f1, total]))
    if output_dict:
        return _report_dict(rows, summary)
    return _report_text(rows, summary, target_names, digits)


def _present_labels(data: _Targets | _Multilabel) -> np.ndarray:
    if isinstance(data, _Multilabel):
        return np.arange(data.y_true.shape[1])
    return _class_sums(data).classes


_HEADERS = ("precision", "recall", "f1-score", "support")


def _report_dict(rows: list[tuple], summary: list[tuple[str, list]]) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for name, *scores in rows:
        report[name] = dict(zip(_HEADERS, [float(v) for v in scores]))
    for heading, values in summary:
        report[heading] = dict(zip(_HEADERS, [float(v) for v in values]))
    if "accuracy" in report:
        report["accuracy"] = report["accuracy"]["precision"]
    return report


def _report_text(
    rows: list[tuple], summary: list[tuple[str, list]], names: Sequence[str], digits: int
) -> str:
    longest_heading = "weighted avg"
    width = max(max((len(n) for n in names), default=0), len(longest_heading), digits)
    text = f"{'':>{width}s} " + "".join(f" {h:>9}" for h in _HEADERS) + "\n\n"
    for name, p, r, f, s in rows:
        text += _report_line(name, p, r, f, s, width, digits)
    text += "\n"
    for heading, (p, r, f, s) in summary:
        if heading == "accuracy":
            text += (
                f"{heading:>{width}s} " + f" {'':>9.{digits}}" * 2 + f" {f:>9.{digits}f} {s:>9}\n"
            )
        else:
            text += _report_line(heading, p, r, f, s, width, digits)
    return text


def _report_line(name: str, p: Any, r: Any, f: Any, s: Any, width: int, digits: int) -> str:
    return f"{name:>{width}s} " + "".join(f" {v:>9.{digits}f}" for v in (p, r, f)) + f" {s:>9}\n"
