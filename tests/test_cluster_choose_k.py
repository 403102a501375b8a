"""choose_k: per-K k-means and silhouettes equal scikit-learn's, one shared distance pass."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans as SkKMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_score as sk_score

from tinyvision.cluster import ChooseKResult, choose_k


def _data() -> np.ndarray:
    return make_blobs(400, 2, centers=[[0, 0], [6, 0], [0, 6], [6, 6]], random_state=0)[0]


def test_table_matches_sklearn_per_k() -> None:
    X = _data()
    result = choose_k(X, range(2, 7), random_state=3)
    assert isinstance(result, ChooseKResult)
    assert result.k_values == (2, 3, 4, 5, 6)
    for k, inertia, sil in result.rows():
        ref = SkKMeans(k, random_state=3).fit(X)
        assert inertia == pytest.approx(ref.inertia_, rel=1e-9)
        assert abs(sil - sk_score(X, ref.labels_)) < 1e-12
    assert result.best_k == 4  # four well separated blobs
    np.testing.assert_array_equal(result.best.labels, SkKMeans(4, random_state=3).fit(X).labels_)


def test_sample_size_scores_the_same_points_for_every_k() -> None:
    X = _data()
    result = choose_k(X, [2, 4], random_state=1, sample_size=150)
    for k, _, sil in result.rows():
        labels = SkKMeans(k, random_state=1).fit(X).labels_
        assert abs(sil - sk_score(X, labels, sample_size=150, random_state=1)) < 1e-12


def test_small_working_memory_gives_the_same_table() -> None:
    X = _data()
    a = choose_k(X, range(2, 6), random_state=0)
    b = choose_k(X, range(2, 6), random_state=0, working_memory=0.01)
    np.testing.assert_allclose(a.silhouette, b.silhouette, atol=1e-13)


def test_shared_random_state_advances_in_k_order() -> None:
    X = _data()
    rs = np.random.RandomState(5)
    result = choose_k(X, [3, 5], random_state=rs)
    rs2 = np.random.RandomState(5)
    first = SkKMeans(3, random_state=rs2).fit(X)
    second = SkKMeans(5, random_state=rs2).fit(X)
    assert result.inertia == pytest.approx((first.inertia_, second.inertia_), rel=1e-9)


@pytest.mark.parametrize(
    ("k_range", "error", "match"),
    [
        ([], ValueError, "at least one K"),
        ([1, 2], ValueError, "k_range values must be >= 2, got 1"),
        ([2, 2], ValueError, "must not repeat"),
        ([2, 9], ValueError, "<= n_samples - 1 = 7.*got K = 9"),
        (["2"], TypeError, "k_range values must be an integer"),
        ("2..5", TypeError, "k_range must be an iterable of integers"),
    ],
)
def test_bad_k_range(k_range: object, error: type, match: str) -> None:
    X = np.random.RandomState(0).rand(8, 2)
    with pytest.raises(error, match=match):
        choose_k(X, k_range)


def test_more_clusters_than_distinct_points() -> None:
    X = np.array([[0.0, 0.0]] * 5 + [[1.0, 1.0]] * 5)
    with pytest.raises(ValueError, match="distinct points in X \\(2\\), got 3"):
        choose_k(X, [2, 3])
