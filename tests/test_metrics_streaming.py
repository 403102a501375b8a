"""Accumulators in one process: batches, merge and compute equal one call on all the data."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sklearn.metrics as skm
import torch

import tinyvision.metrics as tvm
from _metrics_compare import assert_bitwise, run


def _labels(n: int, k: int, seed: int):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, k, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, k, n))
    return y_true, y_pred


def _batches(n: int, sizes: list[int]) -> list[slice]:
    edges = np.r_[0, np.cumsum(sizes)]
    assert edges[-1] == n
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(edges)]


def test_confusion_accumulator_equals_the_functions() -> None:
    y_true, y_pred = _labels(1000, 4, seed=1)
    acc = tvm.ConfusionMatrixAccumulator(num_classes=5)  # class 4 never occurs
    for part in _batches(1000, [1, 299, 0, 400, 300]):
        acc.update(torch.from_numpy(y_true[part]), y_pred[part].tolist())
    labels = [0, 1, 2, 3, 4]
    assert_bitwise(acc.compute(), skm.confusion_matrix(y_true, y_pred, labels=labels))
    assert acc.accuracy() == skm.accuracy_score(y_true, y_pred)
    assert acc.balanced_accuracy() == skm.balanced_accuracy_score(y_true, y_pred)
    assert acc.balanced_accuracy(adjusted=True) == skm.balanced_accuracy_score(
        y_true, y_pred, adjusted=True
    )
    assert acc.matthews_corrcoef() == skm.matthews_corrcoef(y_true, y_pred)
    for average in (None, "micro", "macro", "weighted"):
        # class 4 has no samples at all: warnings (except for micro), as scikit-learn
        ours = run(acc.precision_recall_fscore_support, average=average)
        theirs = run(
            skm.precision_recall_fscore_support, y_true, y_pred, labels=labels, average=average
        )
        assert_bitwise(ours.value, theirs.value)
        assert ours.warnings == theirs.warnings


def test_confusion_accumulator_with_string_labels_and_merge() -> None:
    names = np.array(["cat", "dog", "eel"])
    y_true, y_pred = _labels(600, 3, seed=2)
    y_true, y_pred = names[y_true], names[y_pred]
    labels = ["eel", "cat", "dog"]  # the matrix follows this order
    first = tvm.ConfusionMatrixAccumulator(labels)
    second = tvm.ConfusionMatrixAccumulator(labels)
    first.update(y_true[:250], y_pred[:250])
    second.update(y_true[250:], y_pred[250:])
    merged = first.merge(second)
    assert merged is first
    assert_bitwise(merged.compute(), skm.confusion_matrix(y_true, y_pred, labels=labels))


def test_confusion_accumulator_weights() -> None:
    y_true, y_pred = _labels(500, 3, seed=3)
    w = np.random.default_rng(3).random(500)
    acc = tvm.ConfusionMatrixAccumulator(num_classes=3)
    acc.update(y_true[:100], y_pred[:100], sample_weight=w[:100])
    acc.update(y_true[100:], y_pred[100:], sample_weight=w[100:])
    # in place, sample by sample: the same summation order as one call
    assert_bitwise(acc.compute(), skm.confusion_matrix(y_true, y_pred, sample_weight=w))
    ints = tvm.ConfusionMatrixAccumulator(num_classes=3)
    ints.update(y_true, y_pred, sample_weight=np.full(500, 2))
    assert ints.compute().dtype == np.int64
    assert np.array_equal(ints.compute(), 2 * skm.confusion_matrix(y_true, y_pred))


def test_confusion_accumulator_merge_weighted_within_tolerance_unweighted_exactly() -> None:
    y_true, y_pred = _labels(3000, 4, seed=4)
    w = np.random.default_rng(4).random(3000) * 10
    parts = _batches(3000, [700, 1, 1299, 1000])

    def merged(weights):
        accumulators = [tvm.ConfusionMatrixAccumulator(num_classes=4) for _ in parts]
        for acc, part in zip(accumulators, parts):
            acc.update(y_true[part], y_pred[part], None if weights is None else weights[part])
        for other in accumulators[1:]:
            accumulators[0].merge(other)
        return accumulators[0].compute()

    # float weights: each accumulator sums its own samples, merge adds the partial sums, so
    # the additions are reassociated and may differ from one pass in the last bits (here 12
    # of the 16 entries do, by up to 5e-12 on sums of about 900)
    expected = skm.confusion_matrix(y_true, y_pred, sample_weight=w)
    result = merged(w)
    assert result.dtype == np.float64
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=0)
    # integer counts (unweighted or integer weights) merge exactly
    assert_bitwise(merged(None), skm.confusion_matrix(y_true, y_pred))
    ints = np.random.default_rng(5).integers(0, 5, 3000)
    assert_bitwise(merged(ints), skm.confusion_matrix(y_true, y_pred, sample_weight=ints))


def test_confusion_accumulator_bad_input() -> None:
    with pytest.raises(ValueError, match="exactly one of labels and num_classes"):
        tvm.ConfusionMatrixAccumulator()
    with pytest.raises(ValueError, match="num_classes must be >= 1"):
        tvm.ConfusionMatrixAccumulator(num_classes=0)
    with pytest.raises(ValueError, match="labels must not contain duplicates"):
        tvm.ConfusionMatrixAccumulator([1, 1])
    acc = tvm.ConfusionMatrixAccumulator(num_classes=2)
    with pytest.raises(ValueError, match="y_pred holds labels not in this accumulator"):
        acc.update([0, 1], [0, 2])
    with pytest.raises(ValueError, match="y_true and y_pred must have the same length"):
        acc.update([0, 1], [0])
    with pytest.raises(ValueError, match="different labels"):
        acc.merge(tvm.ConfusionMatrixAccumulator(num_classes=3))
    with pytest.raises(TypeError, match="ConfusionMatrixAccumulator"):
        acc.merge(tvm.BinaryCurveAccumulator())
    assert acc.compute().sum() == 0  # failed updates left nothing behind
    acc.update([0, 1], [1, 1])
    acc.reset()
    assert acc.compute().sum() == 0
    with pytest.warns(tvm.UndefinedMetricWarning, match="Accuracy .* no samples"):
        assert np.isnan(acc.accuracy())


def test_sync_without_process_group_is_a_no_op() -> None:
    acc = tvm.ConfusionMatrixAccumulator(num_classes=2)
    acc.update([0, 1, 1], [0, 1, 0])
    before = acc.compute()
    acc.sync()
    assert np.array_equal(acc.compute(), before)
    curves = tvm.BinaryCurveAccumulator()
    curves.update([0, 1], [0.2, 0.7])
    curves.sync()
    assert curves.compute().roc_auc == 1.0


def _scores(n: int, seed: int):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    return y, np.round(rng.normal(size=n) + y, 2)


def test_curve_accumulator_equals_the_functions() -> None:
    y, scores = _scores(2000, seed=4)
    acc = tvm.BinaryCurveAccumulator()
    for part in _batches(2000, [700, 0, 1, 1299]):
        acc.update(torch.from_numpy(y[part]), torch.from_numpy(scores[part]))
    curves = acc.compute()
    assert_bitwise((curves.fpr, curves.tpr, curves.roc_thresholds), skm.roc_curve(y, scores))
    assert_bitwise(
        (curves.precision, curves.recall, curves.pr_thresholds),
        skm.precision_recall_curve(y, scores),
    )
    assert curves.roc_auc == skm.roc_auc_score(y, scores)
    assert curves.average_precision == skm.average_precision_score(y, scores)
    assert acc.roc_auc_ci() == tvm.roc_auc_ci(y, scores)
    assert acc.binary_metrics_at(0.5) == tvm.binary_metrics_at(y, scores, 0.5)
    assert acc.best_threshold("mcc") == tvm.best_threshold(y, scores, "mcc")


def test_curve_accumulator_weights_pos_label_and_merge() -> None:
    y, scores = _scores(900, seed=5)
    labels = np.array(["neg", "pos"])[y]
    w = np.random.default_rng(5).random(900)
    first = tvm.BinaryCurveAccumulator(pos_label="pos")
    second = tvm.BinaryCurveAccumulator(pos_label="pos")
    first.update(labels[:300], scores[:300], sample_weight=w[:300])
    second.update(labels[300:], scores[300:], sample_weight=w[300:])
    curves = first.merge(second).compute()
    # weighted sums follow the sample order, which merge keeps: bitwise equal
    expected = skm.roc_curve(labels, scores, pos_label="pos", sample_weight=w)
    assert_bitwise((curves.fpr, curves.tpr, curves.roc_thresholds), expected)
    assert curves.average_precision == skm.average_precision_score(
        labels, scores, pos_label="pos", sample_weight=w
    )


def test_curve_accumulator_bad_input_and_empty() -> None:
    acc = tvm.BinaryCurveAccumulator()
    with pytest.raises(ValueError, match="y_true takes value in"):
        acc.update([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="y_score must be finite"):
        acc.update([0, 1], [0.1, np.nan])
    with pytest.raises(TypeError, match="BinaryCurveAccumulator"):
        acc.merge(tvm.ConfusionMatrixAccumulator(num_classes=2))
    with pytest.raises(ValueError, match="y_true must hold at least one sample"):
        acc.compute()  # no samples: as roc_curve([], [])
    acc.update([0, 1], [0.1, 0.2])
    acc.reset()
    assert acc.arrays()[1].size == 0
