"""Silhouettes against scikit-learn (run live), a textbook loop, by hand and in bounded memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import silhouette_samples as sk_samples
from sklearn.metrics import silhouette_score as sk_score

from tinyvision.cluster import silhouette_samples, silhouette_score
from tinyvision.cluster._silhouette_kernels import silhouette_samples_reference
from tinyvision.cluster.silhouette import _encode_labels, _silhouettes_numpy, _silhouettes_torch


def _random_labeling(seed: int, n: int, d: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d) * rng.uniform(0.5, 3.0, d)
    labels = rng.randint(0, k, n)
    labels[:2] = [k, k + 1]  # two one-point clusters
    return X, labels


@pytest.mark.parametrize(
    ("n", "d", "k"), [(60, 2, 2), (300, 2, 5), (400, 3, 12), (250, 16, 4), (120, 5, 60)]
)
@pytest.mark.parametrize("working_memory", [None, 0.02])
def test_matches_sklearn_on_random_labelings(
    n: int, d: int, k: int, working_memory: float | None
) -> None:
    # None: the symmetric pass (all sums in memory); 0.02 MiB: blocks of a few columns
    for seed in range(3):
        X, labels = _random_labeling(seed, n, d, k)
        ours = silhouette_samples(X, labels, working_memory=working_memory)
        ref = sk_samples(X, labels)
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)
        assert ours[0] == 0.0 and ours[1] == 0.0  # one-point clusters score 0
        score = silhouette_score(X, labels, working_memory=working_memory)
        assert abs(score - sk_score(X, labels)) < 1e-12


def test_several_labelings_in_one_pass_match_separate_ones() -> None:
    X, a = _random_labeling(0, 200, 3, 4)
    b = np.random.RandomState(1).randint(0, 7, 200)
    together = _silhouettes_numpy(X, [_encode_labels(a, 200), _encode_labels(b, 200)], 0.05)
    np.testing.assert_allclose(together[0], sk_samples(X, a), atol=1e-12)
    np.testing.assert_allclose(together[1], sk_samples(X, b), atol=1e-12)


def test_matches_textbook_loop() -> None:
    X, labels = _random_labeling(4, 80, 3, 5)
    np.testing.assert_allclose(
        silhouette_samples(X, labels), silhouette_samples_reference(X, labels), atol=1e-12
    )


def test_sample_size_draws_the_same_points_as_sklearn() -> None:
    X, labels = _random_labeling(2, 500, 2, 3)
    for seed in (0, 5):
        ours = silhouette_score(X, labels, sample_size=120, random_state=seed)
        assert abs(ours - sk_score(X, labels, sample_size=120, random_state=seed)) < 1e-12


def test_hand_computed_line() -> None:
    # Points 0, 1 (cluster a) and 4, 5 (cluster b) on a line.
    # point 0: a = 1, b = (4 + 5) / 2 = 4.5 -> 1 - 1/4.5 = 7/9
    # point 1: a = 1, b = (3 + 4) / 2 = 3.5 -> 1 - 1/3.5 = 5/7
    # points 4 and 5 mirror points 1 and 0.
    X = np.array([[0.0], [1.0], [4.0], [5.0]])
    values = silhouette_samples(X, ["a", "a", "b", "b"])
    np.testing.assert_allclose(values, [7 / 9, 5 / 7, 5 / 7, 7 / 9], rtol=1e-15)
    assert silhouette_score(X, [3, 3, 8, 8]) == pytest.approx((7 / 9 + 5 / 7) / 2, rel=1e-15)


def test_duplicate_points_in_different_clusters_score_zero() -> None:
    # a = b = 0 for the duplicates: 0 / 0 -> 0, as scikit-learn's nan_to_num gives
    X = np.array([[0.0], [0.0], [0.0], [0.0], [3.0]])
    labels = [0, 0, 1, 1, 1]
    np.testing.assert_allclose(silhouette_samples(X, labels), sk_samples(X, labels), atol=1e-15)


def test_work_space_is_bounded() -> None:
    # 3000 points: the full distance matrix would be 72 MB; 1 MiB of work space is enough.
    X, labels = _random_labeling(0, 3000, 2, 4)
    silhouette_samples(X[:50], labels[:50], working_memory=1)  # compile outside the window
    tracemalloc.start()
    values = silhouette_samples(X, labels, working_memory=1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 3 * 2**20
    np.testing.assert_allclose(values[:200], sk_samples(X, labels)[:200], atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(3, 40), k=st.integers(2, 6))
def test_properties_range_shuffle_relabel(seed: int, n: int, k: int) -> None:
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 2)
    labels = rng.randint(0, k, n)
    if not 1 < len(np.unique(labels)) < n:
        return
    values = silhouette_samples(X, labels)
    assert np.all(values >= -1 - 1e-12) and np.all(values <= 1 + 1e-12)
    perm = rng.permutation(n)
    np.testing.assert_allclose(silhouette_samples(X[perm], labels[perm]), values[perm], atol=1e-12)
    renamed = np.array([f"c{9 - v}" for v in labels])
    np.testing.assert_allclose(silhouette_samples(X, renamed), values, atol=1e-15)


def test_tensors() -> None:
    X, labels = _random_labeling(3, 150, 3, 4)
    got = silhouette_samples(torch.from_numpy(X), torch.from_numpy(labels))
    assert isinstance(got, torch.Tensor)
    np.testing.assert_allclose(got.numpy(), sk_samples(X, labels), atol=1e-12)
    # the torch path (used for CUDA tensors), here on CPU, in small blocks
    encoded = _encode_labels(labels, 150)
    via_torch = _silhouettes_torch(torch.from_numpy(X), [encoded], 0.05)[0]
    np.testing.assert_allclose(via_torch.numpy(), sk_samples(X, labels), atol=1e-12)


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        ([0, 0, 0, 0], "between 2 and n_samples - 1 = 3 distinct values.*got 1"),
        ([0, 1, 2, 3], "got 4"),
        ([0, 1, 0], "X and labels must have the same length, got 4 and 3"),
        ([0.0, np.nan, 1.0, 1.0], "labels must not contain NaN"),
        ([[0, 1], [0, 1]], "labels must be 1-D"),
    ],
)
def test_bad_labels(labels: list, match: str) -> None:
    X = np.arange(8.0).reshape(4, 2)
    with pytest.raises(ValueError, match=match):
        silhouette_samples(X, labels)


def test_bad_data_and_options() -> None:
    labels = [0, 0, 1, 1]
    with pytest.raises(ValueError, match="X must be finite"):
        silhouette_score(np.array([[0.0], [np.nan], [1.0], [2.0]]), labels)
    with pytest.raises(ValueError, match="X must be 2-D"):
        silhouette_score(np.arange(4.0), labels)
    with pytest.raises(ValueError, match="working_memory must be > 0"):
        silhouette_score(np.arange(4.0).reshape(4, 1), labels, working_memory=0)
    with pytest.raises(ValueError, match="sample_size must be >= 1"):
        silhouette_score(np.arange(4.0).reshape(4, 1), labels, sample_size=0)


def test_torch_path_several_labelings_match_numpy_and_sklearn() -> None:
    # choose_k's use: several labelings of the same points in one pass, in small blocks.
    X, a = _random_labeling(5, 200, 3, 4)
    b = np.random.RandomState(6).randint(0, 9, 200)
    labelings = [_encode_labels(a, 200), _encode_labels(b, 200)]
    via_torch = _silhouettes_torch(torch.from_numpy(X), labelings, 0.02)
    via_numpy = _silhouettes_numpy(X, labelings, 0.02)
    for labels, t, m in zip((a, b), via_torch, via_numpy):
        np.testing.assert_allclose(t.numpy(), m, rtol=0, atol=1e-12)
        np.testing.assert_allclose(t.numpy(), sk_samples(X, labels), rtol=0, atol=1e-12)


def test_torch_path_blocks_honour_working_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    # The work space per block: the (n, b) distances, their copy in cluster order and the
    # (k, b) sums; it must fit working_memory, and no k x n one-hot matrix is made.
    from tinyvision.cluster.silhouette import _torch_block_columns

    n, k, memory = 3000, 40, 0.5  # MiB
    X = np.random.RandomState(0).randn(n, 2)
    labels = np.arange(n) % k
    widths: list[int] = []
    cdist = torch.cdist

    def recording_cdist(a: torch.Tensor, b: torch.Tensor, **kwargs: object) -> torch.Tensor:
        widths.append(b.shape[0])
        return cdist(a, b, **kwargs)

    def no_one_hot(*args: object, **kwargs: object) -> None:
        raise AssertionError("a dense one-hot of the labels was made")

    monkeypatch.setattr(torch, "cdist", recording_cdist)
    monkeypatch.setattr(torch.nn.functional, "one_hot", no_one_hot)
    got = _silhouettes_torch(torch.from_numpy(X), [_encode_labels(labels, n)], memory)[0]
    width = _torch_block_columns(n, k, memory)
    assert widths[0] == width and max(widths) == width and sum(widths) == n
    assert (2 * n + 2 * k) * width * 8 <= memory * 2**20  # 10 columns of 48672 B <= 512 KiB
    assert 1 < width < n
    np.testing.assert_allclose(got.numpy(), sk_samples(X, labels), rtol=0, atol=1e-12)
