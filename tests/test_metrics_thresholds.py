"""binary_metrics_at and best_threshold: scikit-learn on thresholded labels, brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sklearn.metrics as skm
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyvision.metrics as tvm


def _data(n: int = 200, seed: int = 0, decimals: int = 2):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    scores = np.round(rng.random(n) * 0.7 + 0.3 * y, decimals)
    return y, scores


@pytest.mark.parametrize("threshold", [-np.inf, 0.0, 0.3, 0.5, 0.55, 0.9, 1.5, np.inf])
def test_binary_metrics_at_equals_sklearn_on_thresholded_labels(threshold: float) -> None:
    y, scores = _data()
    predicted = (scores >= threshold).astype(int)
    result = tvm.binary_metrics_at(y, scores, threshold)
    assert result.precision == skm.precision_score(y, predicted, zero_division=0.0)
    assert result.recall == skm.recall_score(y, predicted, zero_division=0.0)
    assert result.accuracy == skm.accuracy_score(y, predicted)
    assert result.f1 == skm.f1_score(y, predicted, zero_division=0.0)
    tn, fp, fn, tp = skm.confusion_matrix(y, predicted, labels=[0, 1]).ravel().tolist()
    assert (result.tp, result.fp, result.tn, result.fn) == (tp, fp, tn, fn)
    assert result.threshold == threshold


def test_binary_metrics_at_hand_computed_and_no_division_by_zero() -> None:
    # scores >= 0.5 -> predicted [1, 0, 1, 0]; y = [1, 1, 0, 0]: tp 1, fp 1, fn 1, tn 1
    result = tvm.binary_metrics_at([1, 1, 0, 0], [0.9, 0.2, 0.5, 0.1], 0.5)
    assert (result.tp, result.fp, result.tn, result.fn) == (1, 1, 1, 1)
    assert (result.precision, result.recall, result.accuracy, result.f1) == (0.5, 0.5, 0.5, 0.5)
    # nothing predicted positive: precision is 0/0 -> zero_division, no warning, no error
    nothing = tvm.binary_metrics_at([1, 0], [0.2, 0.1], 0.5)
    assert nothing.precision == 0.0 and nothing.f1 == 0.0 and nothing.recall == 0.0
    assert math.isnan(
        tvm.binary_metrics_at([1, 0], [0.2, 0.1], 0.5, zero_division=np.nan).precision
    )
    assert tvm.binary_metrics_at([0, 0], [0.2, 0.1], 0.5, zero_division=1.0).recall == 1.0


def test_binary_metrics_at_does_not_touch_its_input() -> None:
    y, scores = _data()
    y_tensor = torch.from_numpy(y.copy())
    s_tensor = torch.from_numpy(scores.copy())
    w = np.ones(len(y))
    tvm.binary_metrics_at(y_tensor, s_tensor, 0.5, sample_weight=w)
    assert np.array_equal(y_tensor.numpy(), y) and np.array_equal(s_tensor.numpy(), scores)
    assert np.array_equal(w, np.ones(len(y)))


def test_binary_metrics_at_with_weights_and_pos_label() -> None:
    y = np.array(["pos", "neg", "pos", "neg"])
    scores = np.array([0.8, 0.7, 0.2, 0.1])
    w = np.array([2.0, 1.0, 1.0, 3.0])
    # predicted positive: samples 0, 1. tp = 2, fp = 1, fn = 1, tn = 3
    result = tvm.binary_metrics_at(y, scores, 0.5, pos_label="pos", sample_weight=w)
    assert (result.tp, result.fp, result.tn, result.fn) == (2.0, 1.0, 3.0, 1.0)
    assert result.precision == 2 / 3 and result.accuracy == 5 / 7


def _brute_force_best(y, scores, metric):
    """Try every candidate threshold, counting with plain comparisons (textbook formulas)."""
    candidates = np.r_[np.inf, np.unique(scores)[::-1]]
    positive = y == 1
    values = []
    for t in candidates:
        predicted = scores >= t
        tp = float(np.sum(predicted & positive))
        fp = float(np.sum(predicted & ~positive))
        fn = float(np.sum(~predicted & positive))
        tn = float(np.sum(~predicted & ~positive))
        if metric == "f1":
            value = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
        elif metric == "accuracy":
            value = (tp + tn) / len(y)
        elif metric == "balanced_accuracy":
            value = (tp / (tp + fn) + tn / (tn + fp)) / 2
        elif metric == "youden":
            value = tp / (tp + fn) - fp / (fp + tn)
        else:
            denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
            value = (tp * tn - fp * fn) / denominator if denominator else 0.0
        values.append(value)
    best = int(np.argmax(values))
    return candidates[best], values[best]


@pytest.mark.parametrize("metric", ["f1", "youden", "accuracy", "balanced_accuracy", "mcc"])
@pytest.mark.parametrize("decimals", [1, 2, 4])
def test_best_threshold_matches_brute_force(metric: str, decimals: int) -> None:
    y, scores = _data(300, seed=decimals, decimals=decimals)
    result = tvm.best_threshold(y, scores, metric)
    threshold, value = _brute_force_best(y, scores, metric)
    assert result.metric == metric
    assert result.score == pytest.approx(value, rel=1e-12)
    assert result.threshold == threshold


def test_best_threshold_can_be_infinity_and_takes_callables() -> None:
    # 1 positive in 100 with a bad score: predicting nothing positive is the most accurate
    y = np.r_[1, np.zeros(99, dtype=int)]
    scores = np.r_[0.0, np.linspace(0.1, 1, 99)]
    assert tvm.best_threshold(y, scores, "accuracy").threshold == np.inf

    def recall_minus_fpr(tp, fp, tn, fn):
        return tp / (tp + fn) - fp / (fp + tn)

    custom = tvm.best_threshold(y, scores, recall_minus_fpr)
    assert custom.metric == "recall_minus_fpr"
    assert custom.score == tvm.best_threshold(y, scores, "youden").score


def test_best_threshold_undefined_and_bad_input() -> None:
    with pytest.warns(tvm.UndefinedMetricWarning):
        result = tvm.best_threshold([1, 1], [0.2, 0.3], "youden")
    assert math.isnan(result.threshold) and math.isnan(result.score)
    with pytest.raises(ValueError, match="metric must be one of"):
        tvm.best_threshold([0, 1], [0.2, 0.3], "auc")
    with pytest.raises(ValueError, match="metric must return one value per threshold"):
        tvm.best_threshold([0, 1], [0.2, 0.3], lambda tp, fp, tn, fn: 1.0)
    with pytest.raises(ValueError, match="threshold must not be NaN"):
        tvm.binary_metrics_at([0, 1], [0.2, 0.3], np.nan)
    with pytest.raises(TypeError, match="threshold must be a real number"):
        tvm.binary_metrics_at([0, 1], [0.2, 0.3], "0.5")
    with pytest.raises(ValueError, match="y_score must be finite"):
        tvm.binary_metrics_at([0, 1], [0.2, np.nan], 0.5)
    with pytest.raises(ValueError, match="y_true and y_score must have the same length"):
        tvm.best_threshold([0, 1, 1], [0.2, 0.3])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 8)), min_size=2, max_size=50))
def test_best_f1_is_at_least_the_f1_at_any_score(pairs) -> None:
    y = np.array([int(p) for p, _ in pairs])
    scores = np.array([s for _, s in pairs], dtype=float) / 8
    best = tvm.best_threshold(y, scores, "f1")
    for t in np.unique(scores):
        assert tvm.binary_metrics_at(y, scores, t).f1 <= best.score
    assert tvm.binary_metrics_at(y, scores, best.threshold).f1 == best.score
