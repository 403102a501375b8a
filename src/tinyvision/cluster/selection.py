"""Choosing the number of clusters K by the silhouette coefficient (the notes' method).

``choose_k`` runs k-means for every K of a range, then scores all the clusterings in one
pass over the pairwise distances (each distance is computed once and added to every
clustering's per-cluster sums), and picks the K with the highest mean silhouette. The
inertia per K is reported too, for an elbow plot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from tinyvision._validate import check_int, describe
from tinyvision.cluster._common import (
    RandomStateLike,
    as_feature_matrix,
    as_feature_tensor,
    check_random_state,
    is_device_tensor,
)
from tinyvision.cluster.kmeans import KMeansResult, kmeans
from tinyvision.cluster.silhouette import (
    _check_working_memory,
    _silhouettes_numpy,
    _silhouettes_torch,
)


@dataclass(frozen=True)
class ChooseKResult:
    """The outcome of :func:`choose_k`.

    Attributes:
        k_values: the K tried, in the order given.
        inertia: k-means inertia for each K (same order).
        silhouette: mean silhouette for each K (same order); NaN where it is undefined
            (a clustering with fewer than two distinct labels).
        best_k: the K with the highest silhouette (the smallest such K on ties).
        results: the k-means result for each K (same order).
    """

    k_values: tuple[int, ...]
    inertia: tuple[float, ...]
    silhouette: tuple[float, ...]
    best_k: int
    results: tuple[KMeansResult, ...]

    @property
    def best(self) -> KMeansResult:
        """The k-means result of :attr:`best_k`."""
        return self.results[self.k_values.index(self.best_k)]

    def rows(self) -> list[tuple[int, float, float]]:
        """``(k, inertia, silhouette)`` per K, the table the CLI prints."""
        return list(zip(self.k_values, self.inertia, self.silhouette))


def _check_k_range(k_range: Any, n_samples: int) -> tuple[int, ...]:
    if isinstance(k_range, (str, bytes)) or not isinstance(k_range, Iterable):
        raise TypeError(f"k_range must be an iterable of integers, got {describe(k_range)}")
    values = tuple(check_int(k, "k_range values", minimum=2) for k in k_range)
    if not values:
        raise ValueError("k_range must contain at least one K, got an empty range")
    if len(set(values)) != len(values):
        raise ValueError(f"k_range must not repeat a K, got {values}")
    if max(values) > n_samples - 1:
        raise ValueError(
            f"k_range values must be <= n_samples - 1 = {n_samples - 1} (the silhouette "
            f"needs a cluster with two points), got K = {max(values)}"
        )
    return values


def choose_k(
    X: Any,
    k_range: Iterable[int] = range(2, 11),
    *,
    init: str = "k-means++",
    n_init: int | str = "auto",
    max_iter: int = 300,
    tol: float = 1e-4,
    random_state: RandomStateLike = None,
    sample_size: int | None = None,
    working_memory: float | None = None,
) -> ChooseKResult:
    """Run k-means for each K in ``k_range`` and pick K by the mean silhouette.

    Args:
        X: ``[n, d]`` points (array-like or tensor; a CUDA tensor stays on its GPU).
        k_range: the K to try (each >= 2 and <= n - 1).
        init, n_init, max_iter, tol: as in :func:`tinyvision.cluster.kmeans`.
        random_state: an int seed gives every K its own ``RandomState(seed)`` (so each
            clustering equals ``kmeans(X, k, random_state=seed)``); a RandomState is shared
            in K order; None uses numpy's global RandomState.
        sample_size: score the silhouettes on this many randomly chosen points (the same
            points for every K; drawn as :func:`silhouette_score` draws them).
        working_memory: MiB of work space for the silhouette pass (default 100).

    Returns:
        :class:`ChooseKResult` with the per-K table and the chosen K.
    """
    memory = _check_working_memory(working_memory)
    on_device = is_device_tensor(X)
    data = as_feature_tensor(X, "X") if on_device else as_feature_matrix(X, "X")
    n = int(data.shape[0])
    ks = _check_k_range(k_range, n)
    if sample_size is not None:
        sample_size = check_int(sample_size, "sample_size", minimum=2)

    check_random_state(random_state)  # validate before the (long) k-means runs
    results = [
        kmeans(
            X, k, init=init, n_init=n_init, max_iter=max_iter, tol=tol, random_state=random_state
        )
        for k in ks
    ]

    indices = None
    if sample_size is not None:
        indices = check_random_state(random_state).permutation(n)[:sample_size]
    points = data if indices is None else data[torch.as_tensor(indices) if on_device else indices]
    m = int(points.shape[0])

    labelings: list[tuple[np.ndarray, int]] = []
    scored: list[int] = []
    for q, result in enumerate(results):
        labels = result.labels
        labels = labels.cpu().numpy() if isinstance(labels, torch.Tensor) else labels
        if indices is not None:
            labels = labels[indices]
        _, codes = np.unique(labels, return_inverse=True)
        n_labels = int(codes.max()) + 1 if codes.size else 0
        if 1 < n_labels < m:
            labelings.append((codes.astype(np.int64).ravel(), n_labels))
            scored.append(q)

    silhouettes = [float("nan")] * len(ks)
    if labelings:
        if on_device:
            values = [float(v.mean()) for v in _silhouettes_torch(points, labelings, memory)]
        else:
            values = [
                float(np.mean(v))
                for v in _silhouettes_numpy(points.astype(np.float64), labelings, memory)
            ]
        for q, value in zip(scored, values):
            silhouettes[q] = value

    finite = [(s, -k) for k, s in zip(ks, silhouettes) if np.isfinite(s)]
    if not finite:
        raise ValueError(
            f"no K could be scored: every clustering of the {m} scored points has fewer than "
            f"2 distinct labels (sample_size={sample_size})"
        )
    best_k = -max(finite)[1]
    return ChooseKResult(
        k_values=ks,
        inertia=tuple(r.inertia for r in results),
        silhouette=tuple(silhouettes),
        best_k=best_k,
        results=tuple(results),
    )
