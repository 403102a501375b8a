"""The rest of scikit-learn's classification metrics, live against scikit-learn 1.9.1.

Every case runs the tinyvision function and its scikit-learn twin on the same input and
compares value (bit for bit, dtype included), warnings and exception type
(``_metrics_compare.assert_same``). Empty input follows tinyvision's rule (metrics of
labels are valid, metrics of scores raise) and is tested against that rule.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
import sklearn.metrics as skm
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyvision.metrics as tvm
from _metrics_compare import assert_bitwise, assert_same
from tinyvision.metrics import UndefinedMetricWarning
from tinyvision.metrics._more_scores import _lrap_sum, _lrap_sum_reference

RNG = np.random.default_rng(0)


def _labels(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, k, n), rng.integers(0, k, n)


def _indicators(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2, (n, k)), rng.integers(0, 2, (n, k))


BIN = _labels(40, 2, 1)
MC = _labels(60, 4, 2)
ML = _indicators(30, 4, 3)
STR = (
    np.array(["cat", "dog", "ant", "cat", "dog", "dog", "ant", "bird"]),
    np.array(["cat", "cat", "ant", "dog", "dog", "ant", "ant", "cat"]),
)
W_FLOAT = RNG.random(60)
W_INT = RNG.integers(0, 4, 60)
NO_HITS = (np.array([0, 1, 0, 1]), np.array([1, 0, 1, 0]))
ONE_CLASS = (np.array([2, 2, 2]), np.array([2, 2, 2]))
ML_EMPTY_ROWS = (
    np.array([[0, 0, 0], [1, 0, 1], [0, 0, 0], [1, 1, 0]]),
    np.array([[0, 0, 0], [0, 0, 1], [1, 0, 0], [1, 1, 0]]),
)


def _w(y: np.ndarray, kind: str) -> Any:
    if kind == "none":
        return None
    n = len(y)
    return W_FLOAT[:n] if kind == "float" else W_INT[:n] + 1


LABEL_DATA = {
    "binary": BIN,
    "multiclass": MC,
    "strings": STR,
    "bool": (BIN[0].astype(bool), BIN[1].astype(bool)),
    "float-labels": (MC[0].astype(float), MC[1].astype(float)),
    "no-hits": NO_HITS,
    "one-class": ONE_CLASS,
    "torch": (torch.as_tensor(MC[0]), torch.as_tensor(MC[1])),
}
ML_DATA = {
    "multilabel": ML,
    "multilabel-empty-rows": ML_EMPTY_ROWS,
    "multilabel-bool": (ML[0].astype(bool), ML[1].astype(bool)),
    "multilabel-0-2": (ML[0] * 2, ML[1]),
}


def _cases(data: dict[str, tuple], weights: tuple[str, ...] = ("none", "float", "int")):
    return [
        pytest.param(y_true, y_pred, kind, id=f"{name}-{kind}")
        for name, (y_true, y_pred) in data.items()
        for kind in weights
    ]


ALL_LABEL_CASES = _cases({**LABEL_DATA, **ML_DATA})


# --------------------------------------------------------------------------------------
# Metrics of labels
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("y_true", "y_pred", "weights"), ALL_LABEL_CASES)
@pytest.mark.parametrize(
    "kwargs", [{}, {"labels": [0, 2]}, {"labels": [2, 0, 5]}, {"samplewise": True}]
)
def test_multilabel_confusion_matrix(y_true, y_pred, weights, kwargs) -> None:
    if isinstance(y_true, np.ndarray) and y_true.dtype.kind == "U" and "labels" in kwargs:
        kwargs = {"labels": ["dog", "ant", "zebra"]}
    if np.asarray(y_true).ndim == 2 and kwargs.get("labels") == [2, 0, 5]:
        kwargs = {"labels": [2, 0]}
    sw = _w(np.asarray(y_true), weights)
    assert_same(
        tvm.multilabel_confusion_matrix,
        skm.multilabel_confusion_matrix,
        y_true,
        y_pred,
        sample_weight=sw,
        **kwargs,
    )


@pytest.mark.parametrize(("y_true", "y_pred", "weights"), ALL_LABEL_CASES)
@pytest.mark.parametrize("average", [None, "binary", "micro", "macro", "weighted", "samples"])
@pytest.mark.parametrize("zero_division", ["warn", 0.0, 1.0, np.nan])
def test_jaccard_score(y_true, y_pred, weights, average, zero_division) -> None:
    sw = _w(np.asarray(y_true), weights)
    kwargs: dict[str, Any] = {"average": average, "zero_division": zero_division}
    if isinstance(y_true, np.ndarray) and y_true.dtype.kind == "U":
        kwargs["pos_label"] = "cat"
    assert_same(tvm.jaccard_score, skm.jaccard_score, y_true, y_pred, sample_weight=sw, **kwargs)


@pytest.mark.parametrize("labels", [[0, 2], [3, 1, 7], [1], [1.0, 3.0]])
@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_jaccard_score_labels(labels, average) -> None:
    assert_same(tvm.jaccard_score, skm.jaccard_score, MC[0], MC[1], labels=labels, average=average)
    ml_labels = [x for x in labels if x < 4]
    assert_same(
        tvm.jaccard_score, skm.jaccard_score, ML[0], ML[1], labels=ml_labels, average=average
    )


def test_jaccard_score_pos_label_warns_like_sklearn() -> None:
    out = assert_same(
        tvm.jaccard_score, skm.jaccard_score, MC[0], MC[1], average="macro", pos_label=2
    )
    assert out.warnings and "pos_label" in out.warnings[0][1]


@pytest.mark.parametrize(("y_true", "y_pred", "weights"), ALL_LABEL_CASES)
def test_hamming_loss(y_true, y_pred, weights) -> None:
    sw = _w(np.asarray(y_true), weights)
    assert_same(tvm.hamming_loss, skm.hamming_loss, y_true, y_pred, sample_weight=sw)


@pytest.mark.parametrize(("y_true", "y_pred", "weights"), ALL_LABEL_CASES)
@pytest.mark.parametrize("normalize", [True, False])
def test_zero_one_loss(y_true, y_pred, weights, normalize) -> None:
    sw = _w(np.asarray(y_true), weights)
    assert_same(
        tvm.zero_one_loss,
        skm.zero_one_loss,
        y_true,
        y_pred,
        normalize=normalize,
        sample_weight=sw,
    )


@pytest.mark.parametrize(("y_true", "y_pred", "weights"), _cases(LABEL_DATA))
@pytest.mark.parametrize("kw", [{}, {"weights": "linear"}, {"weights": "quadratic"}])
def test_cohen_kappa_score(y_true, y_pred, weights, kw) -> None:
    sw = _w(np.asarray(y_true), weights)
    assert_same(
        tvm.cohen_kappa_score, skm.cohen_kappa_score, y_true, y_pred, sample_weight=sw, **kw
    )


@pytest.mark.parametrize(
    ("y1", "y2", "kwargs"),
    [
        (MC[0], MC[1], {"labels": [0, 3]}),
        (MC[0], MC[1], {"labels": [1]}),
        (np.array([0, 0, 1]), np.array([2, 2, 2]), {"labels": [0, 1]}),
        (np.array([0, 0, 1]), np.array([2, 2, 2]), {"labels": [0, 1], "replace_undefined_by": 0.5}),
        (np.array([0, 0, 0]), np.array([0, 0, 0]), {"replace_undefined_by": -1.0}),
        (np.array([0, 0, 1]), np.array([1, 1, 1]), {"labels": [5, 6]}),
        (MC[0], MC[1], {"weights": "cubic"}),
        (MC[0], MC[1], {"replace_undefined_by": 2.0}),
    ],
)
def test_cohen_kappa_score_edges(y1, y2, kwargs) -> None:
    assert_same(tvm.cohen_kappa_score, skm.cohen_kappa_score, y1, y2, **kwargs)


REPORT_KW = [
    {},
    {"digits": 4},
    {"digits": 0},
    {"zero_division": 0.0},
    {"zero_division": np.nan},
    {"output_dict": True},
    {"labels": [0, 1, 2, 3, 9]},
    {"labels": [3, 1]},
    {"labels": [3, 1], "output_dict": True},
    {"target_names": ["a", "b", "c", "d"]},
    {"labels": [3, 1], "target_names": ["a", "b", "c"]},
]


@pytest.mark.parametrize(("y_true", "y_pred", "weights"), _cases({**LABEL_DATA, **ML_DATA}))
@pytest.mark.parametrize("kwargs", REPORT_KW)
def test_classification_report(y_true, y_pred, weights, kwargs) -> None:
    kwargs = dict(kwargs)
    arr = np.asarray(y_true)
    if arr.dtype.kind == "U" and "labels" in kwargs:
        kwargs["labels"] = ["dog", "ant"] if len(kwargs["labels"]) == 2 else ["ant", "zebra"]
    if arr.ndim == 2 and "labels" in kwargs:
        kwargs["labels"] = [x for x in kwargs["labels"] if x < arr.shape[1]]
    sw = _w(arr, weights)
    assert_same(
        tvm.classification_report,
        skm.classification_report,
        y_true,
        y_pred,
        sample_weight=sw,
        **kwargs,
    )


def test_classification_report_text_layout() -> None:
    """The text of a known case, so that a layout change is caught without scikit-learn."""
    text = tvm.classification_report([0, 1, 1, 2], [0, 1, 2, 2], target_names=["a", "b", "c"])
    assert text.splitlines()[0] == "              precision    recall  f1-score   support"
    assert "           b       1.00      0.50      0.67         2" in text.splitlines()
    assert "    accuracy                           0.75         4" in text.splitlines()


# --------------------------------------------------------------------------------------
# Metrics of scores
# --------------------------------------------------------------------------------------


def _scores(n: int, k: int, seed: int, *, ties: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    s = rng.random((n, k))
    return np.round(s, 1) if ties else s


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("weights", ["none", "float", "int"])
@pytest.mark.parametrize("normalize", [True, False])
def test_top_k_accuracy_multiclass(k, ties, weights, normalize) -> None:
    y = MC[0]
    scores = _scores(len(y), 4, 5, ties=ties)
    assert_same(
        tvm.top_k_accuracy_score,
        skm.top_k_accuracy_score,
        y,
        scores,
        k=k,
        normalize=normalize,
        sample_weight=_w(y, weights),
    )


@pytest.mark.parametrize(
    ("y_true", "y_score", "kwargs"),
    [
        (BIN[0], _scores(40, 1, 6)[:, 0], {"k": 1}),
        (BIN[0], _scores(40, 1, 6)[:, 0] * 4 - 2, {"k": 1}),
        (BIN[0], _scores(40, 1, 6), {"k": 1}),
        (BIN[0], _scores(40, 1, 6)[:, 0], {"k": 2}),
        (BIN[0], _scores(40, 2, 6), {"k": 1}),
        (np.array([0, 1, 2, 1]), _scores(4, 4, 7), {"labels": [0, 1, 2, 3]}),
        (np.array([0, 1, 2, 1]), _scores(4, 4, 7), {"labels": [0, 1, 3, 2]}),
        (np.array([0, 1, 2, 1]), _scores(4, 4, 7), {"labels": [0, 1, 1, 2]}),
        (np.array([0, 1, 2, 1]), _scores(4, 4, 7), {"labels": [0, 1, 3, 4]}),
        (np.array([0, 1, 2, 1]), _scores(4, 4, 7), {"labels": [0, 1, 2]}),
        (np.array([0, 1, 2, 1]), _scores(4, 4, 7), {}),
        (np.array([0, 1, 2, 1]), _scores(4, 3, 7)[:, 0], {}),
        (STR[0], _scores(8, 4, 8), {"k": 2}),
        (np.array([0, 1, 1, 0]), _scores(4, 3, 8), {"labels": [0, 1, 2]}),
        (MC[0], _scores(60, 4, 9), {"k": 0}),
    ],
)
def test_top_k_accuracy_cases(y_true, y_score, kwargs) -> None:
    assert_same(tvm.top_k_accuracy_score, skm.top_k_accuracy_score, y_true, y_score, **kwargs)


def _proba(n: int, k: int, seed: int, dtype: Any = np.float64) -> np.ndarray:
    s = np.random.default_rng(seed).random((n, k)) + 0.01
    return (s / s.sum(axis=1, keepdims=True)).astype(dtype)


PROBA_CASES = [
    pytest.param(BIN[0], _proba(40, 2, 10)[:, 1], {}, id="binary-1d"),
    pytest.param(BIN[0], _proba(40, 2, 10), {}, id="binary-2d"),
    pytest.param(BIN[0], _proba(40, 2, 10)[:, 1:], {}, id="binary-column"),
    pytest.param(MC[0], _proba(60, 4, 11), {}, id="multiclass"),
    pytest.param(MC[0], _proba(60, 4, 11, np.float32), {}, id="float32"),
    pytest.param(MC[0], _proba(60, 4, 11, np.float16), {}, id="float16"),
    pytest.param(MC[0], _proba(60, 4, 11), {"sample_weight": W_FLOAT}, id="weights"),
    pytest.param(MC[0], _proba(60, 4, 11), {"sample_weight": W_INT + 1}, id="int-weights"),
    pytest.param(STR[0], _proba(8, 4, 12), {}, id="strings"),
    pytest.param(MC[0], _proba(60, 5, 13), {"labels": [0, 1, 2, 3, 4]}, id="labels"),
    pytest.param(MC[0], _proba(60, 5, 13), {"labels": [4, 1, 2, 3, 0]}, id="unsorted-labels"),
    pytest.param(MC[0], _proba(60, 5, 13), {}, id="too-many-columns"),
    pytest.param(MC[0], _proba(60, 3, 13), {"labels": [0, 1, 2]}, id="label-missing"),
    pytest.param(MC[0], _proba(60, 4, 13) * 0.9, {}, id="not-summing-to-one"),
    pytest.param(np.array([1, 1, 1]), _proba(3, 2, 13), {}, id="one-class"),
    pytest.param(np.array([1, 1, 1]), _proba(3, 2, 13), {"labels": [1]}, id="one-label"),
    pytest.param(np.array([1, 1, 1]), _proba(3, 2, 13), {"labels": [0, 1]}, id="one-class-labels"),
    pytest.param(MC[0], _proba(60, 4, 14) * 2, {}, id="above-one"),
    pytest.param(MC[0], _proba(60, 4, 14) - 0.5, {}, id="below-zero"),
    pytest.param(MC[0], np.eye(4)[MC[0]], {}, id="certain"),
    pytest.param(MC[0], np.eye(4)[MC[1]], {}, id="certain-wrong"),
    pytest.param(MC[0], np.eye(4, dtype=int)[MC[1]], {}, id="int-proba"),
    pytest.param(ML[0], _scores(30, 4, 15), {}, id="multilabel"),
    pytest.param(ML[0][:, :2], _scores(30, 2, 15), {}, id="multilabel-2"),
    pytest.param(ML[0], _scores(30, 4, 15), {"labels": [0, 1, 2, 3]}, id="multilabel-labels"),
    pytest.param(ML[0], _scores(30, 3, 15), {}, id="multilabel-columns"),
]


@pytest.mark.parametrize(("y_true", "y_proba", "kwargs"), PROBA_CASES)
@pytest.mark.parametrize("normalize", [True, False])
def test_log_loss(y_true, y_proba, kwargs, normalize) -> None:
    assert_same(tvm.log_loss, skm.log_loss, y_true, y_proba, normalize=normalize, **kwargs)


def test_log_loss_y_pred_is_deprecated() -> None:
    y, p = MC[0], _proba(60, 4, 11)
    with pytest.warns(FutureWarning, match="y_proba"):
        assert tvm.log_loss(y, y_pred=p) == skm.log_loss(y, p)
    with pytest.raises(ValueError, match="Cannot use both"):
        tvm.log_loss(y, p, y_pred=p)


@pytest.mark.parametrize(("y_true", "y_proba", "kwargs"), PROBA_CASES)
@pytest.mark.parametrize("scale_by_half", ["auto", True, False])
def test_brier_score_loss(y_true, y_proba, kwargs, scale_by_half) -> None:
    assert_same(
        tvm.brier_score_loss,
        skm.brier_score_loss,
        y_true,
        y_proba,
        scale_by_half=scale_by_half,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("y_true", "kwargs"),
    [
        (np.array([0, 1, 1, 0]), {}),
        (np.array([-1, 1, 1, -1]), {}),
        (np.array([1, 2, 2, 1]), {}),
        (np.array([-1, 0, 0, -1]), {}),
        (np.array([1, 1, 1, 1]), {}),
        (np.array([0, 0, 0, 0]), {}),
        (np.array([True, False, True, True]), {}),
        (np.array(["a", "b", "b", "a"]), {}),
        (np.array(["a", "b", "b", "a"]), {"pos_label": "a"}),
        (np.array([1, 2, 2, 1]), {"pos_label": 1}),
        (np.array([1, 2, 3, 1]), {}),
    ],
)
def test_brier_score_loss_binary_pos_label(y_true, kwargs) -> None:
    p = np.array([0.1, 0.8, 0.6, 0.3])
    assert_same(tvm.brier_score_loss, skm.brier_score_loss, y_true, p, **kwargs)


DET_CASES = [
    pytest.param(BIN[0], _scores(40, 1, 20)[:, 0], {}, id="continuous"),
    pytest.param(BIN[0], _scores(40, 1, 20, ties=True)[:, 0], {}, id="ties"),
    pytest.param(BIN[0], _scores(40, 1, 20)[:, 0].astype(np.float32), {}, id="float32"),
    pytest.param(BIN[0], (_scores(40, 1, 20)[:, 0] * 5).astype(int), {}, id="int-scores"),
    pytest.param(BIN[0], _scores(40, 1, 20)[:, 0], {"sample_weight": W_FLOAT[:40]}, id="w"),
    pytest.param(BIN[0] + 3, _scores(40, 1, 20)[:, 0], {"pos_label": 4}, id="pos-label"),
    pytest.param(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]), {}, id="doc"),
    pytest.param(np.array([1, 1, 1]), np.array([0.1, 0.4, 0.35]), {}, id="one-class"),
    pytest.param(np.array([0, 1, 2]), np.array([0.1, 0.4, 0.35]), {}, id="multiclass"),
    pytest.param(np.array([0, 1, 1]), np.array([0.1, np.nan, 0.35]), {}, id="nan"),
]


@pytest.mark.parametrize(("y_true", "y_score", "kwargs"), DET_CASES)
@pytest.mark.parametrize("drop_intermediate", [False, True])
def test_det_curve(y_true, y_score, kwargs, drop_intermediate) -> None:
    assert_same(
        tvm.det_curve,
        skm.det_curve,
        y_true,
        y_score,
        drop_intermediate=drop_intermediate,
        **kwargs,
    )


LRAP_CASES = [
    pytest.param(ML[0], _scores(30, 4, 30), {}, id="continuous"),
    pytest.param(ML[0], _scores(30, 4, 30, ties=True), {}, id="ties"),
    pytest.param(ML[0], _scores(30, 4, 30), {"sample_weight": W_FLOAT[:30]}, id="w"),
    pytest.param(ML[0], _scores(30, 4, 30), {"sample_weight": W_INT[:30]}, id="int-w"),
    pytest.param(ML_EMPTY_ROWS[0], _scores(4, 3, 31), {}, id="empty-rows"),
    pytest.param(
        np.random.default_rng(32).integers(0, 2, (20, 300)), _scores(20, 300, 33), {}, id="wide"
    ),
    pytest.param(ML[0].astype(bool), _scores(30, 4, 30).astype(np.float32), {}, id="bool-f32"),
    pytest.param(np.array([[0, 1], [1, 0]]), np.array([[0.2, 0.5], [0.1, 0.3]]), {}, id="2x2"),
    pytest.param(np.array([[0], [1]]), np.array([[0.2], [0.1]]), {}, id="one-column"),
    pytest.param(torch.as_tensor(ML[0]), torch.as_tensor(_scores(30, 4, 30)), {}, id="torch"),
    pytest.param(ML[0], _scores(30, 5, 30), {}, id="shape-mismatch"),
    pytest.param(ML[0][:, 0], _scores(30, 1, 30)[:, 0], {}, id="1-d"),
    pytest.param(ML[0] * 2, _scores(30, 4, 30), {}, id="not-indicator"),
]


@pytest.mark.parametrize(("y_true", "y_score", "kwargs"), LRAP_CASES)
def test_label_ranking_average_precision_score(y_true, y_score, kwargs) -> None:
    assert_same(
        tvm.label_ranking_average_precision_score,
        skm.label_ranking_average_precision_score,
        y_true,
        y_score,
        **kwargs,
    )


def test_lrap_kernel_matches_its_reference() -> None:
    rng = np.random.default_rng(40)
    relevant = rng.integers(0, 2, (50, 12)).astype(bool)
    scores = np.round(rng.random((50, 12)), 1)
    weights = rng.random(50)
    assert _lrap_sum(relevant, scores, weights) == pytest.approx(
        _lrap_sum_reference(relevant, scores, weights), rel=1e-12
    )


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 3), min_size=n, max_size=n),
            st.lists(st.integers(0, 3), min_size=n, max_size=n),
            st.lists(st.integers(1, 5), min_size=n, max_size=n),
        )
    )
)
def test_label_metrics_property(data) -> None:
    y_true, y_pred, w = (np.asarray(x) for x in data)
    for ours, theirs, kw in (
        (tvm.multilabel_confusion_matrix, skm.multilabel_confusion_matrix, {}),
        (tvm.hamming_loss, skm.hamming_loss, {}),
        (tvm.zero_one_loss, skm.zero_one_loss, {}),
        (tvm.cohen_kappa_score, skm.cohen_kappa_score, {}),
        (tvm.jaccard_score, skm.jaccard_score, {"average": "macro"}),
        (tvm.classification_report, skm.classification_report, {"output_dict": True}),
        (tvm.classification_report, skm.classification_report, {"digits": 3}),
    ):
        assert_same(ours, theirs, y_true, y_pred, **kw)
        assert_same(ours, theirs, y_true, y_pred, sample_weight=w, **kw)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 12).flatmap(
        lambda n: st.tuples(
            st.lists(st.lists(st.integers(0, 1), min_size=3, max_size=3), min_size=n, max_size=n),
            st.lists(
                st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=3, max_size=3),
                min_size=n,
                max_size=n,
            ),
        )
    )
)
def test_multilabel_property(data) -> None:
    y_true, y_score = (np.asarray(x) for x in data)
    y_pred = (y_score >= 0.5).astype(int)
    assert_same(
        tvm.label_ranking_average_precision_score,
        skm.label_ranking_average_precision_score,
        y_true,
        y_score,
    )
    for average in (None, "micro", "macro", "samples"):
        assert_same(tvm.jaccard_score, skm.jaccard_score, y_true, y_pred, average=average)
    assert_same(tvm.hamming_loss, skm.hamming_loss, y_true, y_pred)
    assert_same(tvm.multilabel_confusion_matrix, skm.multilabel_confusion_matrix, y_true, y_pred)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 40).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 4), min_size=n, max_size=n),
            st.lists(st.lists(st.integers(0, 3), min_size=5, max_size=5), min_size=n, max_size=n),
            st.integers(1, 5),
        )
    )
)
def test_top_k_property(data) -> None:
    """Heavily tied scores: the rank of the true class matches the reversed stable sort."""
    y, scores, k = np.asarray(data[0]), np.asarray(data[1], dtype=float), data[2]
    assert_same(
        tvm.top_k_accuracy_score,
        skm.top_k_accuracy_score,
        y,
        scores,
        k=k,
        labels=[0, 1, 2, 3, 4],
    )


# --------------------------------------------------------------------------------------
# Empty input (tinyvision's rule: labels valid, scores raise) and bad input
# --------------------------------------------------------------------------------------


def test_empty_label_metrics() -> None:
    empty = np.zeros(0, dtype=np.int64)
    assert tvm.multilabel_confusion_matrix(empty, empty).shape == (0, 2, 2)
    mcm = tvm.multilabel_confusion_matrix(empty, empty, labels=[0, 1])
    assert mcm.shape == (2, 2, 2) and not mcm.any()
    for fn, name in (
        (tvm.hamming_loss, "Hamming loss"),
        (tvm.zero_one_loss, "Accuracy"),
    ):
        with pytest.warns(UndefinedMetricWarning, match=f"{name} is ill-defined.*no samples"):
            assert math.isnan(fn(empty, empty))
    assert tvm.zero_one_loss(empty, empty, normalize=False) == 0.0
    with pytest.warns(UndefinedMetricWarning, match="Jaccard is ill-defined.*no samples"):
        assert math.isnan(tvm.jaccard_score(empty, empty, average="macro"))
    with pytest.warns(UndefinedMetricWarning):
        assert tvm.jaccard_score(empty, empty) == 0.0
    with pytest.warns(UndefinedMetricWarning, match="replace_undefined_by"):
        assert math.isnan(tvm.cohen_kappa_score(empty, empty))


@pytest.mark.parametrize(
    ("fn", "args"),
    [
        (tvm.top_k_accuracy_score, ([], np.zeros((0, 3)))),
        (tvm.log_loss, ([], np.zeros((0, 3)))),
        (tvm.brier_score_loss, ([], [])),
        (tvm.det_curve, ([], [])),
        (tvm.label_ranking_average_precision_score, (np.zeros((0, 3)), np.zeros((0, 3)))),
    ],
)
def test_empty_score_metrics_raise(fn, args) -> None:
    with pytest.raises(ValueError, match="at least one sample"):
        fn(*args)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: tvm.hamming_loss([0, 1], [0, 1, 1]), ValueError, "y_true.*y_pred"),
        (lambda: tvm.hamming_loss(ML[0], ML[1][:, :3]), ValueError, "different numbers of labels"),
        (lambda: tvm.hamming_loss(ML[0], MC[1][:30]), ValueError, "can't handle a mix"),
        (lambda: tvm.hamming_loss(ML[0] + ML[1], ML[1]), ValueError, "multiclass-multioutput"),
        (lambda: tvm.hamming_loss([0, np.nan], [0, 1]), ValueError, "y_true must not contain NaN"),
        (lambda: tvm.hamming_loss([0, 1], [0, 1], sample_weight=[1]), ValueError, "sample_weight"),
        (lambda: tvm.jaccard_score(MC[0], MC[1]), ValueError, "average='binary'"),
        (lambda: tvm.jaccard_score(ML[0], ML[1]), ValueError, "multilabel-indicator but"),
        (lambda: tvm.jaccard_score(MC[0], MC[1], average="mean"), ValueError, "average"),
        (
            lambda: tvm.jaccard_score(ML[0], ML[1], average=None, labels=[5]),
            ValueError,
            "All labels",
        ),
        (lambda: tvm.jaccard_score(ML[0], ML[1], average=None, labels=[-1]), ValueError, "< 0"),
        (lambda: tvm.jaccard_score(BIN[0], BIN[1], pos_label=7), ValueError, "pos_label=7"),
        (lambda: tvm.jaccard_score(BIN[0], BIN[1], zero_division=3), ValueError, "zero_division"),
        (
            lambda: tvm.multilabel_confusion_matrix(MC[0], MC[1], samplewise=True),
            ValueError,
            "Samplewise",
        ),
        (lambda: tvm.cohen_kappa_score(MC[0], MC[1], labels=[9]), ValueError, "present in `y1`"),
        (lambda: tvm.classification_report(MC[0], MC[1], labels=[]), ValueError, "labels"),
        (lambda: tvm.jaccard_score([b"a"], [b"a"]), TypeError, "y_true holds bytes"),
        (
            lambda: tvm.hamming_loss(np.array(["a", 1], dtype=object), ["a", "b"]),
            ValueError,
            "y_true must hold labels of one kind",
        ),
        (lambda: tvm.log_loss([0, 1], [["a", "b"], ["c", "d"]]), TypeError, "y_proba"),
        (lambda: tvm.brier_score_loss([0, 1], [0.5, 1j]), TypeError, "y_proba"),
        (
            lambda: tvm.label_ranking_average_precision_score([[0, 2, 3]], [[0.1, 0.2, 0.3]]),
            ValueError,
            "y_true as a 2-D array",
        ),
        (
            lambda: tvm.log_loss([2, 2], [[0.5, 0.5]] * 2),
            ValueError,
            r"only one label \(2\)\. Please",
        ),
        (lambda: tvm.top_k_accuracy_score([0.5, 1.5], [0.1, 0.2]), ValueError, "got 'continuous'"),
        (
            lambda: tvm.det_curve([0, 1, 2], [0.1, 0.2, 0.3], pos_label=2),
            ValueError,
            "multiclass format",
        ),
        (lambda: tvm.cohen_kappa_score(MC[0], MC[1], weights="x"), ValueError, "weights"),
        (
            lambda: tvm.classification_report(MC[0], MC[1], target_names=["a"]),
            ValueError,
            "target_names",
        ),
        (lambda: tvm.top_k_accuracy_score(MC[0], _scores(60, 4, 1), k=0), ValueError, "k must"),
        (
            lambda: tvm.top_k_accuracy_score([0, 1, 2], _scores(3, 3, 1), labels=[0, 0, 1]),
            ValueError,
            "Parameter 'labels' must be unique",
        ),
        (
            lambda: tvm.top_k_accuracy_score([0, 1, 5], _scores(3, 3, 1), labels=[0, 1, 2]),
            ValueError,
            "'y_true' contains labels not in parameter 'labels'",
        ),
        (
            lambda: tvm.top_k_accuracy_score([0, 1, 2], [[0.1, np.nan, 0.2]] * 3),
            ValueError,
            "y_score",
        ),
        (lambda: tvm.top_k_accuracy_score([0, 1, 2], [["a", "b", "c"]] * 3), TypeError, "y_score"),
        (lambda: tvm.log_loss([0, 1], [[0.5, 0.5]]), ValueError, "y_prob.*y_true|y_true.*y_prob"),
        (lambda: tvm.log_loss([0, 1], [[1.5, -0.5], [0.5, 0.5]]), ValueError, "greater than 1"),
        (lambda: tvm.log_loss([0, 1], [[0.5, np.nan], [0.5, 0.5]]), ValueError, "y_proba"),
        (
            lambda: tvm.log_loss([0, 2], [[0.5, 0.5], [0.5, 0.5]], labels=[0, 1]),
            ValueError,
            "not belonging to the passed labels",
        ),
        (
            lambda: tvm.brier_score_loss([0, 1], [0.5, 0.5], scale_by_half="x"),
            ValueError,
            "scale_by_half",
        ),
        (
            lambda: tvm.brier_score_loss(["a", "b"], [0.5, 0.5]),
            ValueError,
            "pos_label is not specified",
        ),
        (lambda: tvm.det_curve([0, 1], [0.5]), ValueError, "y_true.*y_score|y_score.*y_true"),
        (
            lambda: tvm.label_ranking_average_precision_score([[0, 1]], [[0.1, np.inf]]),
            ValueError,
            "y_score",
        ),
    ],
)
def test_bad_input(call, error, match) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=match):
            call()


def test_results_are_plain_python_floats() -> None:
    for value in (
        tvm.hamming_loss(MC[0], MC[1]),
        tvm.jaccard_score(MC[0], MC[1], average="macro"),
        tvm.log_loss(MC[0], _proba(60, 4, 11)),
        tvm.top_k_accuracy_score(MC[0], _proba(60, 4, 11)),
    ):
        assert type(value) is float
    assert_bitwise(
        tvm.multilabel_confusion_matrix([0, 1], [0, 1]),
        np.array([[[1, 0], [0, 1]], [[1, 0], [0, 1]]]),
    )
