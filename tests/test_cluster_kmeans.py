"""k-means against scikit-learn (run live), by hand, by property and on bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans as SkKMeans
from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus
from sklearn.datasets import make_blobs

from tinyvision.cluster import KMeans, KMeansResult, _torch_kmeans, kmeans, kmeans_plusplus
from tinyvision.cluster._common import check_random_state


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


def _blobs(n: int = 1500, d: int = 3, centers: int = 5, seed: int = 0) -> np.ndarray:
    return make_blobs(n, d, centers=centers, cluster_std=2.0, random_state=seed)[0]


def _assert_same_fit(ours: KMeans, ref: SkKMeans) -> None:
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.n_iter_ == ref.n_iter_
    assert _rel(ours.inertia_, ref.inertia_) < 1e-9
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-9, atol=1e-9)


# ----------------------------------------------------------------------------- exactness


@pytest.mark.parametrize(
    ("data", "k"),
    [
        ("blobs", 5),
        ("blobs", 9),
        ("uniform", 4),
        ("uniform", 12),
        ("wide", 6),
    ],
)
def test_explicit_init_matches_sklearn_lloyd(data: str, k: int) -> None:
    rng = np.random.RandomState(k)
    X = {
        "blobs": _blobs(),
        "uniform": rng.rand(2000, 2) * 10 + 100,  # far from the origin: centring matters
        "wide": rng.randn(800, 40),
    }[data]
    init = X[rng.choice(len(X), k, replace=False)] + 0.01
    ref = SkKMeans(k, init=init, n_init=1).fit(X)
    ours = KMeans(k, init=init, n_init=1).fit(X)
    _assert_same_fit(ours, ref)
    assert ours.n_iter_ > 2  # a real run, not an immediate stop


@pytest.mark.parametrize(("max_iter", "tol"), [(3, 1e-4), (300, 0.0), (300, 1e-2)])
def test_stopping_rules_match_sklearn(max_iter: int, tol: float) -> None:
    # max_iter stop and tol stop re-run the E-step; tol=0 runs to strict convergence
    X = np.random.RandomState(1).rand(3000, 2)
    init = X[:10].copy()
    ref = SkKMeans(10, init=init, n_init=1, max_iter=max_iter, tol=tol).fit(X)
    ours = KMeans(10, init=init, n_init=1, max_iter=max_iter, tol=tol).fit(X)
    _assert_same_fit(ours, ref)


def test_empty_cluster_is_relocated_like_sklearn() -> None:
    # Two initial centres are far from all data: their clusters start empty and are moved
    # onto the points farthest from their centres.
    X = _blobs(600, 2, 3)
    init = np.array([[0.0, 0.0], [500.0, 500.0], [-500.0, 500.0], [5.0, 5.0]])
    ref = SkKMeans(4, init=init, n_init=1).fit(X)
    ours = KMeans(4, init=init, n_init=1).fit(X)
    _assert_same_fit(ours, ref)
    assert len(np.unique(ours.labels_)) == 4


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_seeded_runs_match_sklearn_exactly(init: str) -> None:
    # Same random numbers drawn the same way: the same clustering for every seed.
    X = _blobs(800, 4, 6, seed=3)
    for seed in range(4):
        ref = SkKMeans(6, init=init, n_init=3, random_state=seed).fit(X)
        ours = KMeans(6, init=init, n_init=3, random_state=seed).fit(X)
        _assert_same_fit(ours, ref)


@pytest.mark.parametrize("data", ["blobs", "uniform"])
def test_mean_inertia_over_seeds_within_half_percent(data: str) -> None:
    X = _blobs(1200, 2, 8, seed=5) if data == "blobs" else np.random.RandomState(5).rand(1200, 3)
    ours = [KMeans(8, n_init=2, random_state=s).fit(X).inertia_ for s in range(10)]
    ref = [SkKMeans(8, n_init=2, random_state=s).fit(X).inertia_ for s in range(10)]
    assert abs(np.mean(ours) / np.mean(ref) - 1) < 0.005


@pytest.mark.parametrize("n_local_trials", [None, 1, 5])
def test_kmeans_plusplus_picks_sklearns_indices(n_local_trials: int | None) -> None:
    X = np.random.RandomState(2).randn(700, 5)
    for seed in range(4):
        centers, indices = kmeans_plusplus(X, 7, random_state=seed, n_local_trials=n_local_trials)
        ref_centers, ref_indices = sk_kmeans_plusplus(
            X, 7, random_state=seed, n_local_trials=n_local_trials
        )
        np.testing.assert_array_equal(indices, ref_indices)
        np.testing.assert_array_equal(centers, ref_centers)


def test_float32_is_clustered_in_float32() -> None:
    X = _blobs(1000, 3, 4).astype(np.float32)
    init = X[:4] + np.float32(0.5)
    ref = SkKMeans(4, init=init, n_init=1).fit(X)
    ours = KMeans(4, init=init, n_init=1).fit(X)
    assert ours.cluster_centers_.dtype == np.float32
    assert np.mean(ours.labels_ == ref.labels_) > 0.999
    assert _rel(ours.inertia_, ref.inertia_) < 1e-5
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-5, atol=1e-4)


def test_integer_data_and_lists_are_accepted() -> None:
    X = np.random.RandomState(0).randint(0, 50, (300, 2))
    ours = KMeans(3, n_init=2, random_state=1).fit(X.tolist())
    ref = SkKMeans(3, n_init=2, random_state=1).fit(X)
    _assert_same_fit(ours, ref)


def test_predict_transform_score_match_sklearn() -> None:
    X = _blobs(800, 3, 4)
    new = np.random.RandomState(9).randn(50, 3) * 5
    ours = KMeans(4, n_init=3, random_state=0).fit(X)
    ref = SkKMeans(4, n_init=3, random_state=0).fit(X)
    np.testing.assert_array_equal(ours.predict(new), ref.predict(new))
    np.testing.assert_allclose(ours.transform(new), ref.transform(new), rtol=1e-10)
    assert _rel(ours.score(new), ref.score(new)) < 1e-10
    np.testing.assert_array_equal(ours.fit_predict(X), ref.labels_)
    np.testing.assert_allclose(ours.fit_transform(X), ref.transform(X), rtol=1e-10)


# ----------------------------------------------------------------------------- by hand


def test_hand_computed_two_clusters() -> None:
    # Points 0, 1, 10, 11 from centres 0 and 10: iteration 1 labels [0, 0, 1, 1] and moves
    # the centres to 0.5 and 10.5; iteration 2 keeps the labels (strict convergence), so
    # n_iter = 2 and inertia = 4 * 0.5^2 = 1.
    X = np.array([[0.0], [1.0], [10.0], [11.0]])
    result = kmeans(X, 2, init=np.array([[0.0], [10.0]]))
    assert isinstance(result, KMeansResult)
    assert result.labels.tolist() == [0, 0, 1, 1]
    assert result.cluster_centers.ravel().tolist() == [0.5, 10.5]
    assert result.inertia == 1.0
    assert result.n_iter == 2


def test_k_equal_to_distinct_points_gives_zero_inertia() -> None:
    X = np.array([[1.0, 1.0], [1.0, 1.0], [4.0, 0.0], [9.0, 9.0], [4.0, 0.0]])
    result = kmeans(X, 3, random_state=0)
    assert result.inertia == 0.0
    assert len(np.unique(result.labels)) == 3


# ----------------------------------------------------------------------------- properties


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(6, 60),
    d=st.integers(1, 10),
    k=st.integers(1, 5),
)
def test_labels_are_nearest_centres_and_inertia_adds_up(seed: int, n: int, d: int, k: int) -> None:
    X = np.random.RandomState(seed).randn(n, d)
    result = kmeans(X, k, random_state=seed)
    dist = ((X[:, None, :] - result.cluster_centers[None]) ** 2).sum(axis=2)
    own = dist[np.arange(n), result.labels]
    assert np.all(own <= dist.min(axis=1) + 1e-9)
    assert result.inertia == pytest.approx(own.sum(), rel=1e-9, abs=1e-12)
    assert 1 <= result.n_iter <= 300


# ----------------------------------------------------------------------------- random_state


def test_random_state_forms() -> None:
    X = np.random.RandomState(0).rand(400, 2)
    a = KMeans(5, random_state=7).fit(X).labels_
    b = KMeans(5, random_state=7).fit(X).labels_
    np.testing.assert_array_equal(a, b)
    shared = np.random.RandomState(7)
    first = KMeans(5, random_state=shared).fit(X).inertia_
    assert first == pytest.approx(KMeans(5, random_state=7).fit(X).inertia_)
    # the shared RandomState has advanced: the next fit draws other candidates
    state = shared.get_state()[2]
    KMeans(5, random_state=shared).fit(X)
    assert shared.get_state()[2] != state
    np.random.seed(3)  # noqa: NPY002 (None means numpy's global RandomState)
    g1 = KMeans(5).fit(X).inertia_
    np.random.seed(3)  # noqa: NPY002 (None means numpy's global RandomState)
    assert KMeans(5).fit(X).inertia_ == g1


# ----------------------------------------------------------------------------- torch


def test_tensor_in_tensor_out_same_values() -> None:
    X = _blobs(500, 2, 3)
    ref = kmeans(X, 3, random_state=0)
    got = kmeans(torch.from_numpy(X), 3, random_state=0)
    assert isinstance(got.cluster_centers, torch.Tensor)
    assert got.labels.dtype == torch.int64
    np.testing.assert_array_equal(got.labels.numpy(), ref.labels)
    model = KMeans(3, random_state=0).fit(torch.from_numpy(X))
    assert isinstance(model.predict(torch.from_numpy(X[:5])), torch.Tensor)


@pytest.mark.parametrize("init", ["k-means++", "random", "array"])
def test_torch_path_matches_numpy_path(init: str) -> None:
    # The vectorised torch path (used for CUDA tensors) run here on CPU tensors.
    X = _blobs(1500, 4, 5, seed=2)
    start = X[:5] + 0.1 if init == "array" else init
    for seed in range(3):
        ref = kmeans(X, 5, init=start, n_init=1 if init == "array" else 2, random_state=seed)
        centers, labels, inertia, n_iter = _torch_kmeans.fit(
            torch.from_numpy(X),
            5,
            start,
            1 if init == "array" else 2,
            300,
            1e-4,
            check_random_state(seed),
        )
        np.testing.assert_array_equal(labels.numpy(), ref.labels)
        assert n_iter == ref.n_iter
        assert _rel(inertia, ref.inertia) < 1e-9
        np.testing.assert_allclose(centers.numpy(), ref.cluster_centers, rtol=1e-9, atol=1e-9)


def test_torch_path_relocates_empty_clusters() -> None:
    X = torch.from_numpy(_blobs(600, 2, 3))
    init = np.array([[0.0, 0.0], [500.0, 500.0], [-500.0, 500.0], [5.0, 5.0]])
    _, labels, _, _ = _torch_kmeans.fit(X, 4, init, 1, 300, 1e-4, check_random_state(0))
    ref = kmeans(X.numpy(), 4, init=init)
    np.testing.assert_array_equal(labels.numpy(), ref.labels)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("X", "k", "match"),
    [
        (np.ones((10, 2)), 2, "distinct points in X \\(1\\), got 2"),
        (np.array([[0.0], [1.0], [0.0], [1.0]]), 3, "distinct points in X \\(2\\), got 3"),
        (np.ones((3, 2)), 4, "n_clusters must be <= n_samples \\(3\\), got 4"),
        (np.zeros((0, 2)), 1, "n_samples \\(0\\)"),
        (np.array([[0.0, np.nan], [1.0, 1.0]]), 1, "X must be finite.*NaN"),
        (np.array([[0.0, np.inf], [1.0, 1.0]]), 1, "X must be finite.*infinity"),
        (np.arange(5.0), 2, "2-D .* shape \\(5,\\).*reshape"),
        (np.zeros((2, 2, 2)), 1, "2-D"),
        (np.zeros((4, 0)), 1, "at least one feature"),
    ],
)
def test_bad_data(X: np.ndarray, k: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        kmeans(X, k)


def test_bad_arguments() -> None:
    X = np.random.RandomState(0).rand(20, 2)
    with pytest.raises(ValueError, match="n_clusters must be >= 1, got 0"):
        kmeans(X, 0)
    with pytest.raises(TypeError, match="n_clusters must be an integer"):
        kmeans(X, 2.5)
    with pytest.raises(TypeError, match="X must hold real numbers"):
        kmeans(np.array([["a", "b"], ["c", "d"]]), 1)
    with pytest.raises(ValueError, match="init must be one of"):
        kmeans(X, 2, init="kmeans")
    with pytest.raises(
        ValueError,
        match=r"init must have shape \(2, 2\) \(n_clusters, n_features\), got .*\(3, 2\)",
    ):
        kmeans(X, 2, init=np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"init must have shape \(2, 2\) .*\(0,\)"):
        kmeans(X, 2, init=[])
    with pytest.raises(TypeError, match="init must hold real numbers, got .*complex"):
        kmeans(X, 2, init=np.ones((2, 2), complex))
    with pytest.raises(ValueError, match="init must be finite, got an array containing infinity"):
        kmeans(X.astype(np.float32), 2, init=np.array([[0.0, 1e300], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="init must be finite"):
        kmeans(X, 2, init=np.array([[0.0, np.nan], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="n_init must be >= 1"):
        kmeans(X, 2, n_init=0)
    with pytest.raises(ValueError, match="n_init must be one of 'auto'"):
        kmeans(X, 2, n_init="many")
    with pytest.raises(ValueError, match="max_iter must be >= 1"):
        kmeans(X, 2, max_iter=0)
    with pytest.raises(ValueError, match="tol must be >= 0"):
        kmeans(X, 2, tol=-1.0)
    with pytest.raises(TypeError, match="random_state must be None, an int or a numpy"):
        kmeans(X, 2, random_state="seed")
    with pytest.raises(RuntimeError, match="not fitted"):
        KMeans(2).predict(X)
    model = KMeans(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X must have 2 features"):
        model.predict(np.zeros((3, 3)))


def test_explicit_init_is_copied_and_may_be_bool_or_a_tensor() -> None:
    X = np.random.RandomState(0).rand(50, 2)
    init = X[[0, 1]].copy()
    before = init.copy()
    fitted = kmeans(X, 2, init=init, n_init=1)
    np.testing.assert_array_equal(init, before)  # the caller's centres are not moved
    again = kmeans(X, 2, init=torch.from_numpy(before), n_init=1)
    np.testing.assert_array_equal(again.cluster_centers, fitted.cluster_centers)
    boolean = kmeans(X, 2, init=np.array([[False, False], [True, True]]), n_init=1)
    expected = kmeans(X, 2, init=np.array([[0.0, 0.0], [1.0, 1.0]]), n_init=1)
    np.testing.assert_array_equal(boolean.cluster_centers, expected.cluster_centers)


def test_explicit_init_with_n_init_warns_and_runs_once() -> None:
    X = np.random.RandomState(0).rand(50, 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kmeans(X, 2, init=X[:2], n_init=5)
    assert any("only one init" in str(w.message) for w in caught)


@pytest.mark.parametrize(
    ("X", "k", "kwargs", "error", "match"),
    [
        (np.random.RandomState(0).rand(10, 2), 3, {"n_local_trials": 0}, ValueError,
         "n_local_trials must be >= 1, got 0"),
        (np.ones((5, 2)), 3, {}, ValueError,
         r"n_clusters must be <= the number of distinct points in X \(1\), got 3"),
        (np.array([[np.nan, 1.0], [1.0, 2.0], [3.0, 4.0]]), 2, {}, ValueError,
         "X must be finite"),
        (np.ones(5), 2, {}, ValueError, r"X must be 2-D .*shape \(5,\)"),
        (np.array([["a", "b"], ["c", "d"]]), 1, {}, TypeError, "X must hold real numbers"),
        (np.random.RandomState(0).rand(10, 2), 11, {}, ValueError,
         r"n_clusters must be <= n_samples \(10\), got 11"),
    ],
)  # fmt: skip
def test_kmeans_plusplus_bad_input(X, k, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        kmeans_plusplus(X, k, random_state=0, **kwargs)
