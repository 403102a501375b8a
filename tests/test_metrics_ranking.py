"""Curves, ROC AUC and average precision against scikit-learn 1.9.1, live and bitwise."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyvision.metrics as tvm
from _metrics_compare import assert_bitwise, assert_same, run


def _binary(n: int, *, seed: int, positive_rate: float = 0.5, decimals: int | None = None):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < positive_rate).astype(int)
    scores = rng.normal(size=n) + 0.8 * y
    if decimals is not None:
        scores = np.round(scores, decimals)
    return y, scores


CASES = {
    "continuous": _binary(400, seed=1),
    "heavily-tied": _binary(500, seed=2, decimals=0),
    "rounded-2": _binary(500, seed=3, decimals=2),
    "imbalanced": _binary(2000, seed=4, positive_rate=0.01),
    "tiny": (np.array([0, 1]), np.array([0.3, 0.3])),
    "all-tied": (np.array([0, 1, 1, 0, 1]), np.zeros(5)),
    "perfect": (np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9])),
    "inverted": (np.array([1, 1, 0, 0]), np.array([0.1, 0.2, 0.8, 0.9])),
    "minus-one-one": (np.array([-1, 1, 1, -1, 1]), np.array([0.5, 0.5, 0.9, 0.1, 0.2])),
    "bool": (np.array([False, True, True, False]), np.array([0.2, 0.4, 0.4, 0.9])),
    "int-scores": (np.array([0, 1, 1, 0, 1, 0]), np.array([3, 5, 5, 3, 9, 1])),
    "float32-scores": (
        np.array([0, 1, 1, 0, 1]),
        np.array([0.1, 0.35, 0.35, 0.7, 0.2], dtype=np.float32),
    ),
    "float16-scores": (np.array([0, 1, 1, 0]), np.array([0.1, 0.3, 0.3, 0.2], dtype=np.float16)),
    "bool-scores": (np.array([0, 1, 1, 0]), np.array([False, True, False, False])),
    "negative-zeros": (np.array([0, 1, 1, 0, 1]), np.array([0.0, -0.0, 0.5, -0.0, 0.0])),
    "positives-only": (np.ones(6, dtype=int), np.linspace(0, 1, 6)),
    "negatives-only": (np.zeros(6, dtype=int), np.linspace(0, 1, 6)),
}


def _large_cases() -> dict:
    """Inputs past ``RADIX_MIN_SIZE``: the radix sort path."""
    rng = np.random.default_rng(7)
    n = 3000
    y = (rng.random(n) < 0.4).astype(int)
    extremes = np.array([-1.7e308, -1.0, -1e-300, -5e-324, 0.0, 5e-324, 2.2e-308, 1.0, 1.7e308])
    zeros = rng.choice(np.array([-0.0, 0.0, 0.25, -0.25]), n)
    return {
        "large-continuous": _binary(5000, seed=5),
        "large-tied": _binary(6000, seed=6, decimals=1),
        "large-float32": (y, (rng.normal(size=n) + y).astype(np.float32)),
        "large-float32-tied": (y, np.round(rng.normal(size=n) + y, 1).astype(np.float32)),
        "large-int-scores": (y, rng.integers(-(10**12), 10**12, n) // 10**10 * (1 + y)),
        "large-extremes": (y, rng.choice(extremes, n)),
        "large-negative-zeros": (y, zeros),
        "large-all-tied": (y, np.full(n, 0.5)),
        "large-imbalanced": _binary(4000, seed=8, positive_rate=0.002),
        # ties first, distinct scores later: the counting sort gives up part-way
        "large-ties-then-continuous": (
            y,
            np.r_[np.round(rng.normal(size=n - 1500), 1), rng.normal(size=1500)],
        ),
    }


CASES.update(_large_cases())


def _float_weights(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = rng.random(n)
    w[rng.random(n) < 0.1] = 0.0  # zero weights are filtered by scikit-learn
    w[0] = 1.0
    return w


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_curves_auc_ap_match_sklearn(case: str, weighted: bool) -> None:
    y, scores = CASES[case]
    w = _float_weights(len(y)) if weighted else None
    for drop in (True, False):
        assert_same(
            tvm.roc_curve, skm.roc_curve, y, scores, sample_weight=w, drop_intermediate=drop
        )
        assert_same(
            tvm.precision_recall_curve,
            skm.precision_recall_curve,
            y,
            scores,
            sample_weight=w,
            drop_intermediate=drop,
        )
    assert_same(tvm.roc_auc_score, skm.roc_auc_score, y, scores, sample_weight=w)
    for max_fpr in (0.1, 0.5, 1.0):
        assert_same(
            tvm.roc_auc_score, skm.roc_auc_score, y, scores, sample_weight=w, max_fpr=max_fpr
        )
    pos_label = {"bool": True, "minus-one-one": 1}.get(case, 1)
    assert_same(
        tvm.average_precision_score,
        skm.average_precision_score,
        y,
        scores,
        sample_weight=w,
        pos_label=pos_label,
    )


def test_negative_zero_thresholds_keep_sklearns_sign() -> None:
    y, scores = CASES["negative-zeros"]
    ours = tvm.precision_recall_curve(y, scores)[2]
    theirs = skm.precision_recall_curve(y, scores)[2]
    assert np.array_equal(np.signbit(ours), np.signbit(theirs))


@pytest.mark.parametrize("pos_label", ["cat", "dog", "eel"])
def test_string_labels_with_pos_label(pos_label: str) -> None:
    rng = np.random.default_rng(5)
    y = np.array(["cat", "dog"])[rng.integers(0, 2, 300)]
    scores = np.round(rng.random(300), 1)
    assert_same(tvm.roc_curve, skm.roc_curve, y, scores, pos_label=pos_label)
    assert_same(
        tvm.precision_recall_curve, skm.precision_recall_curve, y, scores, pos_label=pos_label
    )
    assert_same(
        tvm.average_precision_score, skm.average_precision_score, y, scores, pos_label=pos_label
    )
    assert_same(tvm.roc_auc_score, skm.roc_auc_score, y, scores)  # 'dog' > 'cat' is positive


def test_labels_two_and_three_use_the_greater_as_positive_in_roc_auc() -> None:
    y, scores = CASES["continuous"]
    assert_same(tvm.roc_auc_score, skm.roc_auc_score, y + 2, scores)
    outcome = assert_same(tvm.roc_curve, skm.roc_curve, y + 2, scores)  # needs pos_label
    assert "pos_label" in str(outcome.error) and "y_true" in str(outcome.error)
    assert_same(tvm.roc_curve, skm.roc_curve, y + 2, scores, pos_label=3)


def test_auc_of_one_class_warns_and_is_nan_like_sklearn() -> None:
    outcome = assert_same(tvm.roc_auc_score, skm.roc_auc_score, [1, 1, 1], [0.1, 0.2, 0.3])
    assert outcome.warnings[0][0] == "UndefinedMetricWarning"
    assert np.isnan(outcome.value)
    outcome = assert_same(tvm.roc_curve, skm.roc_curve, [0, 0], [0.1, 0.2])
    assert "No positive samples" in outcome.warnings[0][1]


# --------------------------------------------------------------------------------------
# Multiclass and multilabel
# --------------------------------------------------------------------------------------


def _multiclass(n: int, k: int, *, seed: int, decimals: int | None = None):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    if decimals is not None:
        logits = np.round(logits, decimals)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    return y, probs


MULTICLASS = {
    "random": _multiclass(300, 4, seed=7),
    "tied": _multiclass(300, 3, seed=8, decimals=0),
    "strings": (
        np.array(["a", "b", "c"])[_multiclass(200, 3, seed=9)[0]],
        _multiclass(200, 3, seed=9)[1],
    ),
}


@pytest.mark.parametrize("case", sorted(MULTICLASS))
@pytest.mark.parametrize("multi_class", ["ovr", "ovo"])
@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted", "samples"])
def test_multiclass_roc_auc_matches_sklearn(case: str, multi_class: str, average) -> None:
    y, probs = MULTICLASS[case]
    assert_same(
        tvm.roc_auc_score, skm.roc_auc_score, y, probs, multi_class=multi_class, average=average
    )
    if multi_class == "ovr":
        w = _float_weights(len(y), seed=3)
        assert_same(
            tvm.roc_auc_score,
            skm.roc_auc_score,
            y,
            probs,
            multi_class="ovr",
            average=average,
            sample_weight=w,
        )


def _roc_auc_modes() -> dict[str, tuple[tuple, dict]]:
    y, scores = CASES["continuous"]
    y3, probs = MULTICLASS["random"]
    rng = np.random.default_rng(11)
    multilabel, ml_scores = rng.integers(0, 2, (80, 3)), rng.random((80, 3))
    modes: dict[str, tuple[tuple, dict]] = {
        "binary": ((y, scores), {}),
        "binary/max_fpr": ((y, scores), {"max_fpr": 0.3}),
        "binary/weighted": ((y, scores), {"sample_weight": _float_weights(len(y))}),
        "binary/one-class": ((np.ones(5, int), np.linspace(0, 1, 5)), {}),
    }
    for average in ("macro", "weighted", "micro", None):
        modes[f"ovr/{average}"] = ((y3, probs), {"multi_class": "ovr", "average": average})
    for average in ("macro", "weighted"):
        modes[f"ovo/{average}"] = ((y3, probs), {"multi_class": "ovo", "average": average})
    for average in ("macro", "weighted", "micro", "samples", None):
        modes[f"multilabel/{average}"] = ((multilabel, ml_scores), {"average": average})
    return modes


@pytest.mark.parametrize("mode", sorted(_roc_auc_modes()))
def test_roc_auc_score_return_types_match_sklearn(mode: str) -> None:
    # scikit-learn 1.9.1 gives a Python float in most modes, numpy.float64 for 'ovo' and an
    # ndarray for average=None: code that checks types or pickles results sees no change
    args, kwargs = _roc_auc_modes()[mode]
    ours = run(tvm.roc_auc_score, *args, **kwargs)
    theirs = run(skm.roc_auc_score, *args, **kwargs)
    assert theirs.error is None and ours.error is None, (theirs.error, ours.error)
    assert type(ours.value) is type(theirs.value), (type(ours.value), type(theirs.value))
    if isinstance(theirs.value, np.ndarray):
        assert ours.value.dtype == theirs.value.dtype
    if mode.startswith("ovo/"):
        assert type(ours.value) is np.float64  # the one mode where sklearn gives numpy's
    assert_bitwise(ours.value, theirs.value)


@pytest.mark.parametrize("case", sorted(MULTICLASS))
@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted", "samples"])
def test_multiclass_average_precision_matches_sklearn(case: str, average) -> None:
    y, probs = MULTICLASS[case]
    if average == "samples":  # one binary problem per row: fewer rows keep this quick
        y, probs = y[:60], probs[:60]
    assert_same(tvm.average_precision_score, skm.average_precision_score, y, probs, average=average)
    w = _float_weights(len(y), seed=4)
    assert_same(
        tvm.average_precision_score,
        skm.average_precision_score,
        y,
        probs,
        average=average,
        sample_weight=w,
    )


def test_multiclass_labels_argument_matches_sklearn() -> None:
    y, probs = MULTICLASS["random"]
    y3 = np.where(y == 3, 2, y)  # classes 0, 1, 2 present; 4 columns: labels name the 4th
    probs3 = probs
    for multi_class in ("ovr", "ovo"):
        assert_same(
            tvm.roc_auc_score,
            skm.roc_auc_score,
            y3,
            probs3,
            multi_class=multi_class,
            labels=[0, 1, 2, 3],
        )
        for labels in ([3, 2, 1, 0], [0, 1, 2], [0, 1, 2, 5], [0, 0, 1, 2]):
            assert_same(
                tvm.roc_auc_score,
                skm.roc_auc_score,
                y3,
                probs3,
                multi_class=multi_class,
                labels=labels,
            )


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted", "samples"])
def test_multilabel_matches_sklearn(average) -> None:
    rng = np.random.default_rng(11)
    n = 60 if average == "samples" else 200  # "samples": one binary problem per row
    y = (rng.random((n, 4)) < [0.5, 0.2, 0.05, 0.0]).astype(int)  # last column: no positives
    scores = np.round(rng.random((n, 4)) + 0.5 * y, 2)
    w = _float_weights(n, seed=5)
    for weights in (None, w):
        assert_same(
            tvm.roc_auc_score, skm.roc_auc_score, y, scores, average=average, sample_weight=weights
        )
        assert_same(
            tvm.average_precision_score,
            skm.average_precision_score,
            y,
            scores,
            average=average,
            sample_weight=weights,
        )


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("convert", ["list", "torch", "torch-half", "torch-bfloat16", "column"])
def test_lists_tensors_and_column_vectors(convert: str) -> None:
    y, scores = CASES["rounded-2"]
    if convert == "list":
        a, b = y.tolist(), scores.tolist()
        ref = scores
    elif convert == "torch":
        a, b = torch.from_numpy(y), torch.from_numpy(scores)
        ref = scores
    elif convert == "torch-half":
        a, b = torch.from_numpy(y), torch.from_numpy(scores).half()
        ref = b.numpy()
    elif convert == "torch-bfloat16":
        a, b = torch.from_numpy(y).bool(), torch.from_numpy(scores).bfloat16()
        ref = b.float().numpy()
    else:
        a, b = y[:, None], scores[:, None]
        ref = scores
    assert_bitwise(tvm.roc_curve(a, b), skm.roc_curve(y, ref))
    assert tvm.roc_auc_score(a, b) == skm.roc_auc_score(y, ref)
    assert tvm.average_precision_score(a, b) == skm.average_precision_score(y, ref)


def test_auc_matches_sklearn() -> None:
    x = np.array([0.0, 0.1, 0.4, 1.0])
    y = np.array([0.0, 0.5, 0.7, 1.0])
    assert_same(tvm.auc, skm.auc, x, y)
    assert_same(tvm.auc, skm.auc, x[::-1], y[::-1])
    outcome = assert_same(tvm.auc, skm.auc, [0.0, 1.0, 0.5], [0.0, 1.0, 1.0])
    assert "x must be monotonic" in str(outcome.error)
    with pytest.raises(ValueError, match="x must hold at least 2 points"):
        tvm.auc([1.0], [1.0])


def test_auc_bad_input() -> None:
    cases = [
        (([0.0, 1.0, 2.0], [0.0, 1.0]), ValueError, "x and y must have the same length"),
        ((np.zeros((3, 2)), np.zeros((3, 2))), ValueError, "x must be 1-D"),
        (([0.0, 1.0, 2.0], np.zeros((3, 2))), ValueError, "y must be 1-D"),
        ((["a", "b", "c"], [0.0, 1.0, 2.0]), TypeError, "x must hold real numbers"),
        (([0.0, 1.0, 2.0], ["a", "b", "c"]), TypeError, "y must hold real numbers"),
        (([1.0], [1.0]), ValueError, "x must hold at least 2 points.*got 1"),
        (([], []), ValueError, "x must hold at least 2 points.*got 0"),
    ]
    for args, error, message in cases:
        assert run(skm.auc, *args).error is not None, args  # scikit-learn refuses these too
        with pytest.raises(error, match=message):
            tvm.auc(*args)
    # a deliberate difference (docs/metrics.md): scikit-learn integrates NaN and inf into a
    # NaN or infinite area; tinyvision refuses them, naming the argument
    nonfinite = [
        (([0.0, np.nan, 1.0], [0.0, 1.0, 1.0]), "x must be finite.*NaN"),
        (([0.0, 0.5, 1.0], [0.0, np.nan, 1.0]), "y must be finite.*NaN"),
        (([0.0, 1.0, np.inf], [0.0, 1.0, 1.0]), "x must be finite.*infinity"),
        (([0.0, 0.5, 1.0], [0.0, -np.inf, 1.0]), "y must be finite.*infinity"),
    ]
    for args, message in nonfinite:
        theirs = run(skm.auc, *args)
        assert theirs.error is None and not np.isfinite(theirs.value), args
        with pytest.raises(ValueError, match=message):
            tvm.auc(*args)
    # a column vector is 1-D enough for both
    column = np.array([[0.0], [1.0], [2.0]])
    assert tvm.auc(column, column) == skm.auc(column, column) == 2.0


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------

SCORE_FUNCTIONS = [
    tvm.roc_curve,
    tvm.precision_recall_curve,
    tvm.roc_auc_score,
    tvm.average_precision_score,
]


@pytest.mark.parametrize("function", SCORE_FUNCTIONS, ids=lambda f: f.__name__)
def test_bad_scores_and_labels_raise_naming_the_argument(function) -> None:
    y = [0, 1, 1, 0]
    cases = [
        (([0, 1, 1], [0.1, 0.2, 0.3, 0.4]), ValueError, "y_true and y_score must have the same"),
        ((y, [0.1, np.nan, 0.3, 0.4]), ValueError, "y_score must be finite.*NaN"),
        ((y, [0.1, np.inf, 0.3, 0.4]), ValueError, "y_score must be finite.*infinity"),
        ((y, ["a", "b", "c", "d"]), TypeError, "y_score must hold real numbers"),
        ((y, np.zeros((4, 1, 1))), ValueError, "y_score must be"),
        (([0.5, 1, 1, 0], [0.1, 0.2, 0.3, 0.4]), ValueError, "y_true must hold class labels"),
        (([0, np.nan, 1, 0], [0.1, 0.2, 0.3, 0.4]), ValueError, "y_true must not contain NaN"),
    ]
    for args, error, message in cases:
        sk = run(getattr(skm, function.__name__), *args)
        assert sk.error is not None, args  # scikit-learn refuses these too
        with pytest.raises(error, match=message):
            function(*args)
    with pytest.raises(ValueError, match="sample_weight must have one weight per sample"):
        function(y, [0.1, 0.2, 0.3, 0.4], sample_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="sample_weight must be finite"):
        function(y, [0.1, 0.2, 0.3, 0.4], sample_weight=[1.0, 2.0, np.nan, 1.0])


@pytest.mark.parametrize("function", SCORE_FUNCTIONS, ids=lambda f: f.__name__)
def test_scores_of_other_dtypes(function) -> None:
    y = [0, 1, 1, 0]
    floats = function(y, [0.1, 0.7, 0.4, 0.2])
    objects = function(y, np.array([0.1, 0.7, 0.4, 0.2], dtype=object))
    assert_bitwise(objects, floats)  # numbers held as objects are read as float64
    with pytest.raises(TypeError, match="y_score must hold numbers, got .*object"):
        function(y, np.array([0.1, "a", 0.4, 0.2], dtype=object))
    with pytest.raises(ValueError, match="y_score must be finite, got .*NaN"):
        function(y, np.array([0.1, None, 0.4, 0.2], dtype=object))
    with pytest.raises(TypeError, match="y_score must hold real numbers, got .*complex"):
        function(y, np.array([0.1, 0.7, 0.4, 0.2], dtype=complex))
    # no scores at all is the empty-input error, whatever dtype the empty array has
    with pytest.raises(ValueError, match="at least one sample"):
        function([], np.array([], dtype=str))


def test_bad_options_and_multiclass_inputs_raise_like_sklearn() -> None:
    y, probs = MULTICLASS["random"]
    for kwargs, needle in (
        ({"multi_class": "ovr", "average": "bogus"}, "average"),
        ({"multi_class": "bogus"}, "multi_class"),
        ({}, "multi_class"),  # the default 'raise'
        ({"multi_class": "ovo", "average": "micro"}, "average"),
        ({"multi_class": "ovr", "max_fpr": 0.5}, "max_fpr"),
        ({"multi_class": "ovo", "sample_weight": np.ones(len(y))}, "sample_weight"),
    ):
        outcome = assert_same(tvm.roc_auc_score, skm.roc_auc_score, y, probs, **kwargs)
        assert needle in str(outcome.error), (kwargs, outcome.error)
    outcome = assert_same(
        tvm.roc_auc_score, skm.roc_auc_score, y, probs, multi_class="ovo", average=None
    )
    assert isinstance(outcome.error, NotImplementedError)
    # rows not summing to 1
    outcome = assert_same(tvm.roc_auc_score, skm.roc_auc_score, y, probs * 0.5, multi_class="ovr")
    assert "y_score" in str(outcome.error) and "sum to 1" in str(outcome.error)
    # wrong number of columns, 1-D scores for multiclass
    outcome = assert_same(tvm.roc_auc_score, skm.roc_auc_score, y, probs[:, :3], multi_class="ovr")
    assert "y_score" in str(outcome.error)
    outcome = assert_same(tvm.roc_auc_score, skm.roc_auc_score, y, probs[:, 0], multi_class="ovr")
    assert "y_score" in str(outcome.error)
    for max_fpr in (0, -0.5, 1.5):
        with pytest.raises(ValueError, match="max_fpr must be"):
            tvm.roc_auc_score([0, 1], [0.1, 0.9], max_fpr=max_fpr)
    # average precision: pos_label fixed to 1 for multiclass, shape check, unknown pos_label
    outcome = assert_same(
        tvm.average_precision_score, skm.average_precision_score, y, probs, pos_label=2
    )
    assert "pos_label" in str(outcome.error)
    outcome = assert_same(tvm.average_precision_score, skm.average_precision_score, y, probs[:, :2])
    assert "y_score" in str(outcome.error)
    outcome = assert_same(
        tvm.average_precision_score, skm.average_precision_score, [2, 3, 3], [0.1, 0.5, 0.7]
    )
    assert "pos_label" in str(outcome.error)
    with pytest.raises(ValueError, match="average must be one of"):
        tvm.average_precision_score([0, 1], [0.1, 0.2], average="bogus")
    with pytest.raises(ValueError, match="y_true as a 2-D array must be a multilabel indicator"):
        tvm.roc_auc_score(np.array([[0, 2], [1, 0]]), np.ones((2, 2)))


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(-3, 3)), min_size=1, max_size=60),
    st.integers(0, 3),
)
def test_random_tied_inputs_match_sklearn(pairs, scale) -> None:
    y = np.array([int(p) for p, _ in pairs])
    scores = np.array([s for _, s in pairs], dtype=np.float64) / (10.0**scale)
    assert_same(tvm.roc_curve, skm.roc_curve, y, scores)
    assert_same(tvm.roc_curve, skm.roc_curve, y, scores, drop_intermediate=False)
    assert_same(tvm.precision_recall_curve, skm.precision_recall_curve, y, scores)
    assert_same(tvm.roc_auc_score, skm.roc_auc_score, y, scores)
    assert_same(tvm.average_precision_score, skm.average_precision_score, y, scores)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False, width=64), min_size=2, max_size=80))
def test_random_continuous_scores_match_sklearn(values) -> None:
    scores = np.array(values)
    y = (np.arange(len(values)) * 7919 % 5 < 2).astype(int)
    assert_same(tvm.roc_curve, skm.roc_curve, y, scores)
    assert_same(tvm.roc_auc_score, skm.roc_auc_score, y, scores)
    assert_same(tvm.average_precision_score, skm.average_precision_score, y, scores)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 5)), min_size=2, max_size=40))
def test_auc_is_the_probability_of_correct_ranking(pairs) -> None:
    # AUC = P(score+ > score-) + P(score+ == score-) / 2, by counting all pairs
    y = np.array([int(p) for p, _ in pairs])
    scores = np.array([s for _, s in pairs], dtype=float)
    pos, neg = scores[y == 1], scores[y == 0]
    if len(pos) == 0 or len(neg) == 0:
        return
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert tvm.roc_auc_score(y, scores) == pytest.approx(wins / (len(pos) * len(neg)), abs=1e-12)
    # and it does not depend on the order of the samples
    order = np.argsort(-scores, kind="stable")
    assert tvm.roc_auc_score(y[order], scores[order]) == tvm.roc_auc_score(y, scores)


def test_inputs_are_not_modified() -> None:
    y, scores = CASES["rounded-2"]
    w = _float_weights(len(y))
    y_tensor, s_tensor = torch.from_numpy(y.copy()), torch.from_numpy(scores.copy())
    for function in SCORE_FUNCTIONS:
        function(y, scores)
        function(y, scores, sample_weight=w)
        function(y_tensor, s_tensor)
    assert np.array_equal(y, CASES["rounded-2"][0]) and np.array_equal(w, _float_weights(len(y)))
    assert np.array_equal(s_tensor.numpy(), scores) and np.array_equal(y_tensor.numpy(), y)
    assert np.array_equal(scores, _binary(500, seed=3, decimals=2)[1])
