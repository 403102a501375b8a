"""roc_auc_ci and delong_test against an O(m * n) textbook DeLong computation."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyvision.metrics as tvm


def brute_force_placements(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """V10_i = mean_j psi(X_i, Y_j), V01_j = mean_i psi(X_i, Y_j); psi = 1, 1/2, 0."""
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    return psi.mean(axis=1), psi.mean(axis=0)


def brute_force_ci(y: np.ndarray, scores: np.ndarray, confidence: float):
    pos, neg = scores[y == 1], scores[y == 0]
    v10, v01 = brute_force_placements(pos, neg)
    auc = v10.mean()
    variance = v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    se = math.sqrt(variance)
    return auc, se, max(0.0, auc - z * se), min(1.0, auc + z * se)


def brute_force_test(y: np.ndarray, a: np.ndarray, b: np.ndarray):
    pa, na = brute_force_placements(a[y == 1], a[y == 0])
    pb, nb = brute_force_placements(b[y == 1], b[y == 0])
    m, n = len(pa), len(na)
    s10 = np.cov(np.stack([pa, pb]))
    s01 = np.cov(np.stack([na, nb]))
    cov = s10 / m + s01 / n
    se = math.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    z = (pa.mean() - pb.mean()) / se
    p = 2 * (1 - NormalDist().cdf(abs(z)))
    return z, p, se


def _data(n: int, seed: int, decimals: int | None = None):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    y[:2], y[2:4] = 1, 0
    a = rng.normal(size=n) + y
    b = 0.7 * a + rng.normal(size=n) * 0.7 + 0.3 * y
    if decimals is not None:
        a, b = np.round(a, decimals), np.round(b, decimals)
    return y, a, b


@pytest.mark.parametrize("decimals", [None, 1, 0], ids=["continuous", "tied", "heavily-tied"])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_roc_auc_ci_matches_brute_force(decimals, confidence) -> None:
    y, scores, _ = _data(300, seed=1, decimals=decimals)
    result = tvm.roc_auc_ci(y, scores, confidence=confidence)
    auc, se, lower, upper = brute_force_ci(y, scores, confidence)
    assert result.auc == skm.roc_auc_score(y, scores)  # the point estimate is roc_auc_score
    assert result.auc == pytest.approx(auc, rel=1e-12)
    assert result.std_error == pytest.approx(se, rel=1e-9)
    assert result.lower == pytest.approx(lower, rel=1e-9)
    assert result.upper == pytest.approx(upper, rel=1e-9)
    assert result.confidence == confidence


@pytest.mark.parametrize("decimals", [None, 1, 0], ids=["continuous", "tied", "heavily-tied"])
def test_delong_test_matches_brute_force(decimals) -> None:
    y, a, b = _data(250, seed=2, decimals=decimals)
    result = tvm.delong_test(y, a, b)
    z, p, se = brute_force_test(y, a, b)
    assert result.auc_a == skm.roc_auc_score(y, a)
    assert result.auc_b == skm.roc_auc_score(y, b)
    assert result.z == pytest.approx(z, rel=1e-9)
    assert result.p_value == pytest.approx(p, rel=1e-6, abs=1e-15)
    assert result.std_error == pytest.approx(se, rel=1e-9)
    swapped = tvm.delong_test(y, b, a)
    assert swapped.z == pytest.approx(-result.z, rel=1e-12)
    assert swapped.p_value == pytest.approx(result.p_value, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(0, 6), st.integers(0, 6)), min_size=4, max_size=40
    )
)
def test_random_tied_inputs_match_brute_force(rows) -> None:
    y = np.array([int(r[0]) for r in rows])
    a = np.array([r[1] for r in rows], dtype=float)
    b = np.array([r[2] for r in rows], dtype=float)
    if min((y == 1).sum(), (y == 0).sum()) < 2:
        return
    result = tvm.roc_auc_ci(y, a)
    _, se, lower, upper = brute_force_ci(y, a, 0.95)
    assert result.std_error == pytest.approx(se, rel=1e-9, abs=1e-12)
    assert result.lower == pytest.approx(lower, rel=1e-9, abs=1e-12)
    assert result.upper == pytest.approx(upper, rel=1e-9, abs=1e-12)
    test = tvm.delong_test(y, a, b)
    pa, na = brute_force_placements(a[y == 1], a[y == 0])
    pb, nb = brute_force_placements(b[y == 1], b[y == 0])
    cov = np.cov(np.stack([pa, pb])) / len(pa) + np.cov(np.stack([na, nb])) / len(na)
    variance = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    assert test.std_error == pytest.approx(math.sqrt(max(variance, 0)), rel=1e-7, abs=1e-9)


def test_hand_computed_interval() -> None:
    # X (positives) = [2, 3], Y (negatives) = [1, 2]:
    # psi = [[1, 1/2], [1, 1]] -> V10 = [3/4, 1], V01 = [1, 3/4], AUC = 7/8
    # S10 = S01 = var([3/4, 1], ddof=1) = 1/32; var(AUC) = 1/32/2 + 1/32/2 = 1/32
    result = tvm.roc_auc_ci([1, 1, 0, 0], [2, 3, 1, 2], confidence=0.95)
    assert result.auc == 7 / 8
    assert result.std_error == pytest.approx(math.sqrt(1 / 32))
    assert result.upper == 1.0  # 7/8 + 1.96 * 0.177 > 1: clipped
    assert result.lower == pytest.approx(7 / 8 - 1.959963984540054 * math.sqrt(1 / 32))


def test_identical_models_and_degenerate_inputs() -> None:
    y, a, _ = _data(100, seed=3)
    same = tvm.delong_test(y, a, a)
    assert (same.z, same.p_value, same.std_error) == (0.0, 1.0, 0.0)
    # a perfect model against a constant one: zero variance, different AUCs
    y = np.array([0, 0, 1, 1])
    result = tvm.delong_test(y, [0.1, 0.2, 0.8, 0.9], [0.5, 0.5, 0.5, 0.5])
    assert result.z == math.inf and result.p_value == 0.0
    with pytest.warns(tvm.UndefinedMetricWarning):
        one_class = tvm.roc_auc_ci([1, 1, 1], [0.1, 0.2, 0.3])
    assert math.isnan(one_class.auc) and math.isnan(one_class.lower)
    with pytest.warns(tvm.UndefinedMetricWarning, match="at least two positive"):
        single = tvm.roc_auc_ci([1, 0, 0], [0.9, 0.2, 0.3])
    assert single.auc == 1.0 and math.isnan(single.std_error)
    with pytest.warns(tvm.UndefinedMetricWarning):
        assert math.isnan(tvm.delong_test([1, 1], [0.1, 0.2], [0.3, 0.4]).z)


def test_bad_input_names_the_argument() -> None:
    with pytest.raises(ValueError, match="confidence must be <"):
        tvm.roc_auc_ci([0, 1], [0.1, 0.2], confidence=1.0)
    with pytest.raises(ValueError, match="confidence must be >"):
        tvm.roc_auc_ci([0, 1], [0.1, 0.2], confidence=0.0)
    with pytest.raises(ValueError, match="y_score must be finite"):
        tvm.roc_auc_ci([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match="y_score_a and y_score_b must have the same length"):
        tvm.delong_test([0, 1, 1], [0.1, 0.2, 0.3], [0.1, 0.2])
    with pytest.raises(ValueError, match="y_score_b must be finite"):
        tvm.delong_test([0, 1], [0.1, 0.2], [0.1, np.inf])
    with pytest.raises(ValueError, match="pos_label"):
        tvm.delong_test([1, 2], [0.1, 0.2], [0.1, 0.2])


def test_interval_covers_the_true_auc_about_as_often_as_promised() -> None:
    # 200 simulated studies of a binormal model (true AUC = Phi(1 / sqrt(2))): a 90% interval
    # should cover it in about 180; the binomial sd is ~4, so 165..195 is a loose check.
    rng = np.random.default_rng(4)
    true_auc = NormalDist().cdf(1 / math.sqrt(2))
    covered = 0
    for _ in range(200):
        y = np.r_[np.ones(60, dtype=int), np.zeros(90, dtype=int)]
        scores = rng.normal(size=150) + y
        result = tvm.roc_auc_ci(y, scores, confidence=0.9)
        covered += result.lower <= true_auc <= result.upper
    assert 165 <= covered <= 195
