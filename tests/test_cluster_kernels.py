"""The compiled kernels of tinyvision.cluster against their pure-Python twins (``reference``)."""

from __future__ import annotations

import numpy as np
import pytest

from tinyvision._numba import reference
from tinyvision.cluster import _kmeanspp as KPP
from tinyvision.cluster import _knn_kernels as KNN
from tinyvision.cluster import _lloyd as L
from tinyvision.cluster import _silhouette_kernels as S
from tinyvision.cluster.kmeans import _first_centre


def _transpose(X: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(X.T) if L.needs_transpose(X.shape[1]) else np.empty((0, 0))


@pytest.mark.parametrize("d", [1, 2, 3, 7, 8, 9, 17, 64])
@pytest.mark.parametrize("k", [1, 2, 5, 8, 13])
def test_lloyd_assign_matches_reference(d: int, k: int) -> None:
    # both code paths: d < SMALL_D vectorises over points, d >= SMALL_D over features
    rng = np.random.RandomState(d * 100 + k)
    X = rng.randn(301, d)  # odd n: the 2-row tiles have a remainder
    centers = rng.randn(k, d)
    labels = np.empty(301, dtype=np.int32)
    sums = np.empty((k, d))
    counts = np.empty(k)
    L.lloyd_assign(X, _transpose(X), centers, labels, sums, counts, True)
    ref_labels, ref_sums, ref_counts = reference(L.lloyd_assign)(X, centers)
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_allclose(sums, ref_sums, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(counts, ref_counts)


def test_lloyd_assign_first_centre_wins_a_tie() -> None:
    # x = 1 is at distance 1 from both centres 0 and 2: label 0 (the first), as argmin does
    X = np.array([[1.0], [3.0]])
    labels = np.empty(2, dtype=np.int32)
    centers = np.array([[0.0], [2.0]])
    L.lloyd_assign(X, _transpose(X), centers, labels, np.empty((2, 1)), np.empty(2), False)
    assert labels.tolist() == [0, 1]


@pytest.mark.parametrize("d", [2, 5, 8, 33])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_candidate_potentials_and_adoption_match_reference(d: int, dtype: type) -> None:
    rng = np.random.RandomState(d)
    X = rng.rand(700, d).astype(dtype)
    XT = _transpose(X)
    keeps = not L.needs_transpose(d)  # many features: the minima are stored, not recomputed
    for m in (1, 3, 4, 5):
        closest = (rng.rand(700) * d / 4).astype(dtype)
        rows = X[rng.randint(0, 700, m)]
        out = np.empty((m, 700 if keeps else 0), dtype=dtype)
        pots = KPP.candidate_potentials(X, XT, closest, rows, out)
        ref_pots, ref_mins = reference(KPP.candidate_potentials)(
            X.astype(np.float64), closest.astype(np.float64), rows.astype(np.float64)
        )
        ref_mins = ref_mins.astype(dtype)
        rtol = 1e-12 if dtype == np.float64 else 1e-6
        np.testing.assert_allclose(pots, ref_pots, rtol=rtol)
        if keeps:
            np.testing.assert_allclose(out, ref_mins, rtol=rtol)
        # adopting candidate t: closest becomes its minima, and the running-sum search
        # equals np.searchsorted(np.cumsum(closest), targets)
        t = m - 1
        total = float(ref_mins[t].astype(np.float64).sum())
        targets = np.sort(rng.uniform(size=4) * total)
        targets[-1] = total * 2  # never reached: n
        stored = out[t] if keeps else out[0, :0]
        found = KPP.adopt_candidate(X, XT, closest, rows[t : t + 1], stored, targets)
        np.testing.assert_allclose(closest, ref_mins[t], rtol=rtol)
        np.testing.assert_array_equal(found, np.searchsorted(np.cumsum(closest), targets))
        assert found[-1] == 700


def test_inertia_and_center_shift_hand_computed() -> None:
    # squared distances: (0-1)^2 + (0-1)^2 = 2 and (3-1)^2 + (4-1)^2 = 13 -> 15
    X = np.array([[0.0, 0.0], [3.0, 4.0]])
    centers = np.array([[1.0, 1.0]])
    assert L.inertia(X, _transpose(X), centers, np.array([0, 0], dtype=np.int32)) == 15.0
    shift = np.empty(1)
    L.center_shifts(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]]), shift)
    assert shift[0] == 5.0


def test_count_distinct_rows_stops_at_limit() -> None:
    X = np.array([[0.0, 1.0], [0.0, 1.0], [2.0, 1.0], [0.0, 1.0], [5.0, 5.0]])
    assert L.count_distinct_rows_upto(X, 10) == 3
    assert L.count_distinct_rows_upto(X, 2) == 2


def test_same_clustering_is_up_to_permutation() -> None:
    a = np.array([0, 0, 1, 2], dtype=np.int32)
    assert L.same_clustering(a, np.array([2, 2, 0, 1], dtype=np.int32), 3)
    assert not L.same_clustering(a, np.array([2, 1, 0, 1], dtype=np.int32), 3)


@pytest.mark.parametrize("d", [1, 2, 16])
def test_cluster_distance_sums_match_bincount_reference(d: int) -> None:
    rng = np.random.RandomState(d)
    X = rng.randn(157, d)
    codes = rng.randint(0, 4, 157)
    ref = reference(S.cluster_distance_sums)(X, codes, 4)
    XT = np.ascontiguousarray(X.T)
    # column blocks, two labelings at once (offsets 0 and 4)
    out = np.zeros((8, 60))
    both = np.stack([codes, rng.randint(0, 4, 157) + 4])
    S.cluster_distance_sums(X, XT, both, 50, 110, out)
    np.testing.assert_allclose(out[:4], ref[:, 50:110], rtol=1e-13)
    # symmetric pass on points sorted by cluster
    order = np.argsort(codes, kind="stable")
    Xs = np.ascontiguousarray(X[order])
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=4))])
    sym = np.zeros((4, 157))
    S.cluster_distance_sums_sorted(Xs, np.ascontiguousarray(Xs.T), codes[order], bounds, sym)
    np.testing.assert_allclose(sym, ref[:, order], rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_k_nearest_matches_python_heap(dtype: type) -> None:
    rng = np.random.RandomState(0)
    train = rng.randint(0, 3, (40, 2)).astype(dtype)  # many equal distances
    queries = rng.randint(0, 3, (15, 2)).astype(dtype)
    for k in (1, 2, 5, 40):
        sq = np.empty((15, k))
        index = np.empty((15, k), dtype=np.int64)
        KNN.k_nearest(train, queries, sq, index)
        ref_sq, ref_index = reference(KNN.k_nearest)(train, queries, k)
        np.testing.assert_array_equal(index, ref_index)
        np.testing.assert_array_equal(sq, ref_sq)


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 16, 19])
def test_two_row_distances_equal_one_row_distances_bitwise(d: int) -> None:
    # pairing rows is a speed-up only: every value must be computed the same way
    X = np.random.RandomState(d).randn(9, d)
    XT = np.ascontiguousarray(X.T)
    one_a, one_b, two_a, two_b = (np.empty(7) for _ in range(4))
    S._sq_distance_row(X[0], XT, 2, 9, one_a)
    S._sq_distance_row(X[1], XT, 2, 9, one_b)
    S._sq_distance_rows2(X[0], X[1], XT, 2, 9, two_a, two_b)
    np.testing.assert_array_equal(one_a, two_a)
    np.testing.assert_array_equal(one_b, two_b)
    np.testing.assert_allclose(one_a, ((X[2:] - X[0]) ** 2).sum(axis=1), rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [1, 2, 3, 10, 999, 4097])
def test_first_centre_is_random_state_choice_with_its_draw(n: int, dtype: type) -> None:
    # same index as RandomState.choice with scikit-learn's unit weights, same RNG state after
    for seed in range(20):
        ours, theirs = np.random.RandomState(seed), np.random.RandomState(seed)
        weights = np.ones(n, dtype=dtype)
        expected = theirs.choice(n, p=weights / weights.sum())
        assert _first_centre(n, np.dtype(dtype), ours) == expected
        assert ours.random_sample() == theirs.random_sample()
    p, u = 1.0 / 7, 0.5
    assert KPP.uniform_choice(7, p, u) == reference(KPP.uniform_choice)(7, p, u) == 3
    assert KPP.uniform_choice(7, p, 0.0) == 0


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 7, 9])
def test_inertia_by_blocks_equals_inertia_by_rows_bitwise(d: int) -> None:
    rng = np.random.RandomState(d)
    X = rng.randn(601, d) * 1e3  # beyond one block of points
    centers = rng.randn(6, d)
    labels = rng.randint(0, 6, 601).astype(np.int32)
    by_rows = L.inertia(X, np.empty((0, 0)), centers, labels)
    by_blocks = L.inertia(X, np.ascontiguousarray(X.T), centers, labels)
    assert by_blocks == by_rows
    expected = sum(L.sq_euclidean_unrolled(X[i], centers[labels[i]]) for i in range(601))
    assert by_rows == expected
    np.testing.assert_allclose(by_rows, ((X - centers[labels]) ** 2).sum(), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("d", [2, 3, 8, 17, 64])
def test_column_variances_equal_numpy_var_bitwise(d: int, dtype: type) -> None:
    rng = np.random.RandomState(d)
    for n in (1, 2, 9, 1000, 20001):
        X = (rng.randn(n, d) * 37.0 + rng.randn(d) * 1e3).astype(dtype)
        got = L.column_variances(X)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, reference(L.column_variances)(X))


def _datasets_for_bounds():
    rng = np.random.RandomState(7)
    blobs = rng.randn(5, 12) * 6
    yield (blobs[rng.randint(0, 5, 900)] + rng.randn(900, 12)), 5  # settles quickly
    yield rng.rand(700, 9), 7  # no structure: bounds rarely settle
    grid = rng.randint(0, 3, (800, 8)).astype(np.float64)  # many ties and duplicates
    yield grid, 6
    yield (blobs[rng.randint(0, 5, 900)] + rng.randn(900, 12)).astype(np.float32), 4
    yield rng.randn(301, 33) * 1e4, 1  # one centre


@pytest.mark.parametrize("case", range(5))
def test_bounded_assignment_equals_the_full_one_every_iteration(case: int) -> None:
    X, k = list(_datasets_for_bounds())[case]
    X = np.ascontiguousarray(X)
    n, d = X.shape
    stub = np.empty((0, 0), dtype=X.dtype)
    centers = X[np.random.RandomState(case).choice(n, k, replace=False)].copy()
    bounds = np.empty((3, n))
    shift = np.zeros(k, dtype=X.dtype)
    labels, full_labels = np.empty(n, np.int32), np.empty(n, np.int32)
    sums, full_sums = np.empty((k, d), X.dtype), np.empty((k, d), X.dtype)
    counts, full_counts = np.empty(k, X.dtype), np.empty(k, X.dtype)
    eps = float(np.finfo(X.dtype).eps)
    compared = []
    for iteration in range(8):
        L.lloyd_assign(X, stub, centers, full_labels, full_sums, full_counts, True)
        fresh = iteration == 0
        args = (X, centers, labels, sums, counts, bounds, shift, eps, fresh)
        compared.append(L.lloyd_assign_bounded(*args))
        np.testing.assert_array_equal(labels, full_labels)
        np.testing.assert_array_equal(sums, full_sums)
        np.testing.assert_array_equal(counts, full_counts)
        # the bounds hold: upper >= distance to the own centre, lower <= to any other
        dist = np.sqrt(((X[:, None, :].astype(np.float64) - centers[None]) ** 2).sum(2))
        own = dist[np.arange(n), labels]
        assert (bounds[1] >= own * (1 - 1e-9)).all()
        if k > 1:
            dist[np.arange(n), labels] = np.inf
            assert (bounds[2] <= dist.min(axis=1) * (1 + 1e-9)).all()
        new = full_sums / np.maximum(full_counts, 1)[:, None]
        new[full_counts == 0] = centers[full_counts == 0]
        new = new.astype(X.dtype)
        L.center_shifts(centers, new, shift)
        centers = new
    assert compared[0] == n
    if case in (0, 3, 4):  # clustered data (or one centre): most points settle
        assert min(compared[1:]) < n // 2


def test_bounded_lloyd_gives_scikit_learns_result_with_many_features() -> None:
    from sklearn.cluster import KMeans as SkKMeans

    from tinyvision.cluster import KMeans

    X = np.random.RandomState(3).randn(3000, 16) + np.repeat(np.eye(16) * 8, 188, axis=0)[:3000]
    ours = KMeans(12, n_init=3, random_state=1).fit(X)
    ref = SkKMeans(12, n_init=3, random_state=1).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=1e-12)
