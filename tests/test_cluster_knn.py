"""KNN classification against scikit-learn (run live) on digits and on tie-heavy data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.neighbors import KNeighborsClassifier as SkKNN
from threadpoolctl import threadpool_limits

from tinyvision.cluster import KNeighborsClassifier


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    order = np.random.RandomState(0).permutation(len(X))
    train, test = order[:1000], order[1000:]
    return X[train], y[train], X[test], y[test]


def _sklearn(k: int, weights: str, Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray):
    # One thread: scikit-learn's tie handling then does not depend on how it splits work.
    with threadpool_limits(1):
        model = SkKNN(k, weights=weights).fit(Xtr, ytr)
        distances, indices = model.kneighbors(Xte)
        return model.predict(Xte), model.predict_proba(Xte), distances, indices


@pytest.mark.parametrize("weights", ["uniform", "distance"])
@pytest.mark.parametrize("k", [1, 3, 6, 10])
def test_digits_identical_to_sklearn(digits, k: int, weights: str) -> None:
    Xtr, ytr, Xte, _ = digits
    pred, proba, distances, indices = _sklearn(k, weights, Xtr, ytr, Xte)
    ours = KNeighborsClassifier(k, weights=weights).fit(Xtr, ytr)
    np.testing.assert_array_equal(ours.predict(Xte), pred)
    np.testing.assert_allclose(ours.predict_proba(Xte), proba, rtol=0, atol=1e-15)
    got_d, got_i = ours.kneighbors(Xte)
    np.testing.assert_allclose(got_d, distances, rtol=1e-15)
    # the same neighbours, equidistant ones included (digits pixels are integers: many ties)
    assert all(set(a) == set(b) for a, b in zip(got_i, indices))


def test_digits_accuracy_is_high(digits) -> None:
    Xtr, ytr, Xte, yte = digits
    assert KNeighborsClassifier(3).fit(Xtr, ytr).score(Xte, yte) > 0.97


def test_tie_heavy_data_identical_to_sklearn_brute_force() -> None:
    # Points on a 3 x 3 grid: distances tie all the time, and which equidistant neighbours
    # are kept changes the vote (a stable sort by distance disagrees with scikit-learn on
    # about 3% of these queries; the heap reproduces it).
    disagreements = 0
    for seed in range(40):
        rng = np.random.RandomState(seed)
        Xtr = rng.randint(0, 3, (40, 2)).astype(float)
        ytr = rng.randint(0, 3, 40)
        Xte = rng.randint(0, 3, (30, 2)).astype(float)
        for k in (2, 3, 5):
            with threadpool_limits(1):
                ref = SkKNN(k, algorithm="brute").fit(Xtr, ytr).predict(Xte)
            ours = KNeighborsClassifier(k).fit(Xtr, ytr).predict(Xte)
            disagreements += int((ours != ref).sum())
    assert disagreements == 0


def test_equal_votes_go_to_the_smallest_class() -> None:
    # Query 1 is at distance 1 from both training points: one vote each for classes 7 and
    # 3 (and equal 1/1 weights): the smallest class, 3, wins, as in scikit-learn.
    Xtr, ytr = np.array([[0.0], [2.0]]), np.array([7, 3])
    for weights in ("uniform", "distance"):
        model = KNeighborsClassifier(2, weights=weights).fit(Xtr, ytr)
        assert model.predict([[1.0]]).tolist() == [3]
        np.testing.assert_array_equal(model.predict_proba([[1.0]]), [[0.5, 0.5]])


def test_distance_weights_hand_computed() -> None:
    # query 0: neighbours at 1 (class a) and 3, 3 (class b): weights 1 vs 1/3 + 1/3 -> a
    # proba: a = 1 / (5/3) = 0.6, b = 0.4. A query on a training point takes only its vote.
    Xtr = np.array([[1.0], [3.0], [-3.0], [10.0]])
    ytr = np.array(["a", "b", "b", "b"])
    model = KNeighborsClassifier(3, weights="distance").fit(Xtr, ytr)
    assert model.predict([[0.0]]).tolist() == ["a"]
    np.testing.assert_allclose(model.predict_proba([[0.0]]), [[0.6, 0.4]], rtol=1e-15)
    np.testing.assert_array_equal(model.predict_proba([[3.0]]), [[0.0, 1.0]])
    assert KNeighborsClassifier(3).fit(Xtr, ytr).predict([[0.0]]).tolist() == ["b"]


def test_float32_training_data_matches_sklearn(digits) -> None:
    Xtr, ytr, Xte, _ = digits
    Xtr32, Xte32 = (Xtr / 7).astype(np.float32), (Xte / 7).astype(np.float32)
    with threadpool_limits(1):
        ref = SkKNN(5).fit(Xtr32, ytr).predict(Xte32)
    np.testing.assert_array_equal(KNeighborsClassifier(5).fit(Xtr32, ytr).predict(Xte32), ref)


def test_bad_input() -> None:
    X, y = np.random.RandomState(0).rand(6, 2), [0, 1, 0, 1, 0, 1]
    with pytest.raises(
        ValueError, match="n_neighbors must be <= the number of training points \\(6\\), got 7"
    ):
        KNeighborsClassifier(7).fit(X, y)
    with pytest.raises(ValueError, match="n_neighbors must be >= 1, got 0"):
        KNeighborsClassifier(0).fit(X, y)
    with pytest.raises(ValueError, match="weights must be one of 'uniform', 'distance'"):
        KNeighborsClassifier(weights="gaussian").fit(X, y)
    with pytest.raises(ValueError, match="X and y must have the same length, got 6 and 3"):
        KNeighborsClassifier(2).fit(X, y[:3])
    with pytest.raises(ValueError, match="X must be finite"):
        KNeighborsClassifier(2).fit(np.full((6, 2), np.nan), y)
    with pytest.raises(ValueError, match="X must be 2-D"):
        KNeighborsClassifier(2).fit(np.arange(6.0), y)
    with pytest.raises(RuntimeError, match="not fitted"):
        KNeighborsClassifier(2).predict(X)
    model = KNeighborsClassifier(2).fit(X, y)
    with pytest.raises(ValueError, match="X must have 2 features"):
        model.predict(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="n_neighbors must be <= 6"):
        model.kneighbors(X, n_neighbors=9)
    assert model.predict(np.zeros((0, 2))).shape == (0,)
