"""K-means clustering with scikit-learn's semantics: greedy k-means++, Lloyd, best of n_init.

What matches :class:`sklearn.cluster.KMeans` (``algorithm="lloyd"``), step by step:

- the data are copied and centred (the column means are subtracted, and added back to the
  centres at the end) before anything else; ``tol`` is multiplied by the mean of the
  per-feature variances;
- k-means++ is the greedy variant: the first centre is drawn uniformly, each next one is
  the best (lowest potential) of ``2 + int(ln k)`` candidates drawn with probability
  proportional to the squared distance to the nearest centre;
- the random numbers are drawn from one ``np.random.RandomState`` in the same order and with
  the same calls as scikit-learn, so the same ``random_state`` gives the same candidates;
- a Lloyd iteration assigns each point to the first centre minimising
  ``||c||^2 - 2 x.c``, moves each centre to the mean of its points, and moves the centre of
  an empty cluster onto the point farthest from its own centre (that point's contribution
  is taken out of its old cluster);
- it stops when the labels do not change ("strict convergence") or when the summed squared
  centre shift is <= tol; after a tol stop the labels are recomputed for the final centres;
- of ``n_init`` runs the one with the lowest inertia wins, unless it is the same clustering
  as the best so far (up to a permutation of labels);
- float32 data are clustered in float32, everything else in float64.

On a CUDA (or other accelerator) tensor the same algorithm runs vectorised in torch on that
device (:mod:`tinyvision.cluster._torch_kmeans`); elsewhere the loops are compiled with numba.
Inputs that are tensors give tensors back (on the same device); anything else gives numpy.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from tinyvision._validate import (
    as_numpy,
    check_array,
    check_choice,
    check_float,
    check_int,
    describe,
)
from tinyvision.cluster import _kmeanspp as KPP
from tinyvision.cluster import _lloyd as L
from tinyvision.cluster._common import (
    RandomStateLike,
    as_feature_matrix,
    as_feature_tensor,
    check_random_state,
    is_device_tensor,
    like_input,
)

Array = np.ndarray | torch.Tensor


@dataclass(frozen=True)
class KMeansResult:
    """The outcome of :func:`kmeans`.

    Attributes:
        cluster_centers: ``[k, d]`` centres (same dtype as the data: float32 or float64).
        labels: ``[n]`` index of each point's centre (int32 numpy, int64 tensor).
        inertia: sum of squared distances of the points to their centres.
        n_iter: Lloyd iterations of the winning run.
    """

    cluster_centers: Array
    labels: Array
    inertia: float
    n_iter: int


# ----------------------------------------------------------------------------- validation


def _check_n_clusters(n_clusters: Any, X: np.ndarray | torch.Tensor) -> int:
    k = check_int(n_clusters, "n_clusters", minimum=1)
    n = int(X.shape[0])
    if n < k:
        raise ValueError(f"n_clusters must be <= n_samples ({n}), got {k}")
    if isinstance(X, torch.Tensor):
        distinct = int(torch.unique(X, dim=0).shape[0]) if n else 0
    else:
        distinct = int(L.count_distinct_rows_upto(X, k))
    if distinct < k:
        raise ValueError(
            f"n_clusters must be <= the number of distinct points in X ({distinct}), got {k}"
        )
    return k


def _check_init(init: Any, k: int, n_features: int, dtype: np.dtype) -> str | np.ndarray:
    if isinstance(init, str):
        return check_choice(init, "init", ("k-means++", "random"))
    if callable(init) and not isinstance(init, (np.ndarray, torch.Tensor)):
        raise TypeError(f"init must be 'k-means++', 'random' or an array, got {describe(init)}")
    return check_array(  # no copy: both paths subtract the mean into a new array
        init,
        "init",
        shape=(k, n_features),
        kinds="biuf",
        dtype=dtype,
        contiguous=True,
        layout="(n_clusters, n_features)",
    )


def _check_n_init(n_init: Any, init: str | np.ndarray) -> int:
    if isinstance(n_init, str):
        check_choice(n_init, "n_init", ("auto",))
        return 10 if isinstance(init, str) and init == "random" else 1
    runs = check_int(n_init, "n_init", minimum=1)
    if not isinstance(init, str) and runs != 1:
        warnings.warn(
            f"Explicit initial center position passed: performing only one init instead of "
            f"n_init={runs}.",
            RuntimeWarning,
            stacklevel=3,
        )
        return 1
    return runs


def _tolerance(X: np.ndarray, tol: float) -> float:
    """scikit-learn's data-dependent tolerance: ``tol`` times the mean per-feature variance."""
    if tol == 0:
        return 0.0
    # np.var's arithmetic, without its temporary copy of X (one column: numpy sums pairwise)
    variances = L.column_variances(X) if X.shape[1] >= 2 else np.var(X, axis=0)
    return float(np.mean(variances) * tol)


# ----------------------------------------------------------------------------- k-means++


def _transpose_for_assign(X: np.ndarray) -> np.ndarray:
    """``X.T`` C-contiguous if the assignment kernel uses it for X's width, else a stub."""
    if L.needs_transpose(X.shape[1]):
        return np.ascontiguousarray(X.T)
    return np.empty((0, 0), dtype=X.dtype)


def _first_centre(n: int, dtype: np.dtype, random_state: np.random.RandomState) -> int:
    """scikit-learn's ``random_state.choice(n, p=weights / weights.sum())`` with unit weights
    of X's dtype: the same random draw and the same index, without the O(n) arrays."""
    if dtype == np.float32 and n >= 2**24:  # the float32 sum of ones may be inexact
        weights = np.ones(n, dtype=dtype)
        return int(random_state.choice(n, p=weights / weights.sum()))
    p = float(dtype.type(1) / dtype.type(n))  # exact sum of n ones below 2**24 (2**53)
    return int(KPP.uniform_choice(n, p, random_state.random_sample()))


def _kmeans_plusplus(
    X: np.ndarray,
    n_clusters: int,
    random_state: np.random.RandomState,
    n_local_trials: int | None = None,
    XT: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy k-means++ on a validated, C-contiguous float array: (centres, row indices).

    ``XT`` comes from :func:`_transpose_for_assign` (computed here if not given).
    """
    n = X.shape[0]
    if XT is None:
        XT = _transpose_for_assign(X)
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    first = _first_centre(n, X.dtype, random_state)
    indices = np.full(n_clusters, -1, dtype=np.int64)
    indices[0] = first
    # closest[i]: squared distance of point i to its nearest chosen centre (X's dtype).
    closest = np.full(n, np.inf, dtype=X.dtype)
    # With many features the candidates' distances are kept (recomputing costs more).
    trial = np.empty((n_local_trials, 0 if L.needs_transpose(X.shape[1]) else n), X.dtype)
    chosen = X[first : first + 1]
    potential = KPP.candidate_potentials(X, XT, closest, chosen, trial[:1])[0]
    stored = trial[0]
    for c in range(1, n_clusters):
        # Candidates: where the running sum of `closest` reaches uniform * potential (the
        # random numbers are drawn in scikit-learn's order: one batch per new centre).
        rand_vals = random_state.uniform(size=n_local_trials) * potential
        order = np.argsort(rand_vals, kind="stable")
        found = KPP.adopt_candidate(X, XT, closest, chosen, stored, rand_vals[order])
        candidates = np.empty(n_local_trials, dtype=np.int64)
        candidates[order] = np.minimum(found, n - 1)
        pots = KPP.candidate_potentials(X, XT, closest, X[candidates], trial)
        best = int(np.argmin(pots))
        potential = pots[best]
        chosen = X[candidates[best] : candidates[best] + 1]
        stored = trial[best]
        indices[c] = candidates[best]
    return X[indices].copy(), indices


def kmeans_plusplus(
    X: Any,
    n_clusters: int,
    *,
    random_state: RandomStateLike = None,
    n_local_trials: int | None = None,
) -> tuple[Array, Array]:
    """Pick initial centres with greedy k-means++ (scikit-learn's ``kmeans_plusplus``).

    Args:
        X: ``[n, d]`` data (array-like or tensor).
        n_clusters: number of centres k.
        random_state: None (numpy's global RandomState), an int seed or a RandomState.
        n_local_trials: candidates tried per centre; default ``2 + int(ln k)``.

    Returns:
        ``(centers [k, d], indices [k])`` with ``X[indices] == centers``.
    """
    data = as_feature_matrix(X, "X")
    k = _check_n_clusters(n_clusters, data)
    if n_local_trials is not None:
        n_local_trials = check_int(n_local_trials, "n_local_trials", minimum=1)
    centers, indices = _kmeans_plusplus(data, k, check_random_state(random_state), n_local_trials)
    return like_input(centers, X), like_input(indices, X)


# ----------------------------------------------------------------------------- Lloyd


def _relocate_empty_clusters(
    X: np.ndarray,
    centers_old: np.ndarray,
    centers_sum: np.ndarray,
    counts: np.ndarray,
    labels: np.ndarray,
) -> None:
    """Move each empty cluster onto one of the points farthest from their own centres."""
    empty = np.flatnonzero(counts == 0)
    n_empty = empty.shape[0]
    if n_empty == 0:
        return
    distances = ((X - centers_old[labels]) ** 2).sum(axis=1)
    # The same selection (and order) as scikit-learn's _relocate_empty_clusters_dense.
    far = np.argpartition(distances, -n_empty)[: -n_empty - 1 : -1]
    if np.max(distances) == 0:
        return  # fewer distinct points than clusters: nothing to move
    for new_id, far_idx in zip(empty, far):
        old_id = labels[far_idx]
        centers_sum[old_id] -= X[far_idx]
        centers_sum[new_id] = X[far_idx]
        counts[new_id] = 1
        counts[old_id] -= 1


def _lloyd(
    X: np.ndarray, XT: np.ndarray, centers_init: np.ndarray, max_iter: int, tol: float
) -> tuple[np.ndarray, float, np.ndarray, int]:
    """One run of Lloyd's algorithm: (labels [n] int32, inertia, centres [k, d], n_iter).

    ``XT`` comes from :func:`_transpose_for_assign`.
    """
    n = X.shape[0]
    k = centers_init.shape[0]
    centers = np.array(centers_init, dtype=X.dtype, order="C", copy=True)
    centers_new = np.zeros_like(centers)
    labels = np.full(n, -1, dtype=np.int32)
    labels_old = labels.copy()
    counts = np.zeros(k, dtype=X.dtype)
    shift = np.zeros(k, dtype=X.dtype)
    # Many features: bounds let settled points skip the comparisons (same labels).
    bounded = not L.needs_transpose(X.shape[1])
    bounds = np.empty((3, n if bounded else 0))
    eps = float(np.finfo(X.dtype).eps)
    strict_convergence = False
    iteration = 0
    for iteration in range(max_iter):
        if bounded:
            fresh = iteration == 0
            L.lloyd_assign_bounded(
                X, centers, labels, centers_new, counts, bounds, shift, eps, fresh
            )
        else:
            L.lloyd_assign(X, XT, centers, labels, centers_new, counts, True)
        _relocate_empty_clusters(X, centers, centers_new, counts, labels)
        L.average_centers(centers_new, counts)
        L.center_shifts(centers, centers_new, shift)
        centers, centers_new = centers_new, centers
        if np.array_equal(labels, labels_old):
            strict_convergence = True
            break
        if (shift**2).sum() <= tol:
            break
        labels_old[:] = labels
    if not strict_convergence:
        L.lloyd_assign(X, XT, centers, labels, centers_new, counts, False)
    return labels, float(L.inertia(X, XT, centers, labels)), centers, iteration + 1


def _fit_numpy(
    X: np.ndarray,
    k: int,
    init: str | np.ndarray,
    n_init: int,
    max_iter: int,
    tol: float,
    random_state: np.random.RandomState,
) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Best of ``n_init`` runs on a private copy ``X`` (centred in place)."""
    tol = _tolerance(X, tol)
    X_mean = X.mean(axis=0)
    X -= X_mean
    XT = _transpose_for_assign(X)
    if not isinstance(init, str):
        init = init - X_mean
    best: tuple[np.ndarray, float, np.ndarray, int] | None = None
    for _ in range(n_init):
        if isinstance(init, str) and init == "k-means++":
            centers_init = _kmeans_plusplus(X, k, random_state, XT=XT)[0]
        elif isinstance(init, str):  # "random"
            weights = np.ones(X.shape[0], dtype=X.dtype)
            seeds = random_state.choice(
                X.shape[0], size=k, replace=False, p=weights / weights.sum()
            )
            centers_init = X[seeds]
        else:
            centers_init = init
        labels, inertia, centers, n_iter = _lloyd(X, XT, centers_init, max_iter, tol)
        if best is None or (inertia < best[1] and not L.same_clustering(labels, best[0], k)):
            best = (labels, inertia, centers, n_iter)
    assert best is not None
    labels, inertia, centers, n_iter = best
    centers += X_mean
    return centers, labels, inertia, n_iter


# ----------------------------------------------------------------------------- public API


def kmeans(
    X: Any,
    n_clusters: int,
    *,
    init: str | Any = "k-means++",
    n_init: int | str = "auto",
    max_iter: int = 300,
    tol: float = 1e-4,
    random_state: RandomStateLike = None,
) -> KMeansResult:
    """Cluster ``X`` into ``n_clusters`` groups (scikit-learn's ``k_means`` with Lloyd).

    Args:
        X: ``[n, d]`` data: array-like, or a tensor (a CUDA tensor is clustered on its GPU).
        n_clusters: number of clusters k; at most the number of distinct points.
        init: ``"k-means++"`` (greedy), ``"random"`` (k distinct rows) or a ``[k, d]`` array.
        n_init: runs with different seeds, the best inertia is kept; ``"auto"`` is 1 for
            k-means++ and an explicit array, 10 for ``"random"``.
        max_iter: Lloyd iterations per run.
        tol: relative tolerance: a run stops when the summed squared centre shift is at
            most ``tol`` times the mean per-feature variance of X.
        random_state: None (numpy's global RandomState), an int seed or a RandomState.

    Returns:
        :class:`KMeansResult` (centres ``[k, d]``, labels ``[n]``, inertia, n_iter).
    """
    centers, labels, inertia, n_iter = _fit(
        X, n_clusters, init, n_init, max_iter, tol, random_state
    )
    return KMeansResult(centers, labels, inertia, n_iter)


def _fit(
    X: Any,
    n_clusters: Any,
    init: Any,
    n_init: Any,
    max_iter: Any,
    tol: Any,
    random_state: Any,
) -> tuple[Array, Array, float, int]:
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    tol = check_float(tol, "tol", minimum=0.0)
    if is_device_tensor(X):
        from tinyvision.cluster import _torch_kmeans

        data = as_feature_tensor(X, "X")
        k = _check_n_clusters(n_clusters, data)
        init_checked = _check_init(init, k, data.shape[1], np.dtype(_np_dtype(data)))
        runs = _check_n_init(n_init, init_checked)
        rs = check_random_state(random_state)
        return _torch_kmeans.fit(data, k, init_checked, runs, max_iter, tol, rs)
    data = as_feature_matrix(X, "X", copy=True)
    k = _check_n_clusters(n_clusters, data)
    init_checked = _check_init(init, k, data.shape[1], data.dtype)
    runs = _check_n_init(n_init, init_checked)
    rs = check_random_state(random_state)
    centers, labels, inertia, n_iter = _fit_numpy(data, k, init_checked, runs, max_iter, tol, rs)
    if isinstance(X, torch.Tensor):
        return torch.from_numpy(centers), torch.from_numpy(labels.astype(np.int64)), inertia, n_iter
    return centers, labels, inertia, n_iter


def _np_dtype(tensor: torch.Tensor) -> type:
    return np.float32 if tensor.dtype == torch.float32 else np.float64


def _predict_numpy(X: np.ndarray, centers: np.ndarray) -> np.ndarray:
    labels = np.empty(X.shape[0], dtype=np.int32)
    if X.shape[0]:
        XT = _transpose_for_assign(X)
        L.lloyd_assign(X, XT, centers, labels, centers, np.empty(0, X.dtype), False)
    return labels


def _distances_numpy(X: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """``[n, k]`` Euclidean distances, computed directly (not from the norm expansion)."""
    out = np.empty((X.shape[0], centers.shape[0]), dtype=X.dtype)
    for j in range(centers.shape[0]):
        diff = X - centers[j]
        out[:, j] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return out


class KMeans:
    """K-means clustering, a thin shell over :func:`kmeans` with scikit-learn's interface.

    ``KMeans(n_clusters=8, *, init="k-means++", n_init="auto", max_iter=300, tol=1e-4,
    random_state=None)``; after :meth:`fit`: ``cluster_centers_`` ``[k, d]``, ``labels_``
    ``[n]``, ``inertia_``, ``n_iter_``, ``n_features_in_``. See the module docstring for the
    algorithm; results match scikit-learn's ``KMeans(algorithm="lloyd")`` for the same
    arguments.
    """

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: str | Any = "k-means++",
        n_init: int | str = "auto",
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state: RandomStateLike = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def __repr__(self) -> str:
        return (
            f"KMeans(n_clusters={self.n_clusters}, init={self.init!r}, n_init={self.n_init!r}, "
            f"max_iter={self.max_iter}, tol={self.tol}, random_state={self.random_state!r})"
        )

    def fit(self, X: Any, y: Any = None) -> KMeans:
        """Cluster ``X`` ``[n, d]``; ``y`` is ignored (scikit-learn's convention)."""
        centers, labels, inertia, n_iter = _fit(
            X, self.n_clusters, self.init, self.n_init, self.max_iter, self.tol, self.random_state
        )
        self.cluster_centers_ = centers
        self.labels_ = labels
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        self.n_features_in_ = int(centers.shape[1])
        return self

    def fit_predict(self, X: Any, y: Any = None) -> Array:
        """``fit(X).labels_``."""
        return self.fit(X).labels_

    def _check_fitted(self) -> None:
        if not hasattr(self, "cluster_centers_"):
            raise RuntimeError("this KMeans is not fitted yet: call fit(X) first")

    def _test_data(self, X: Any) -> tuple[Any, bool]:
        self._check_fitted()
        on_device = isinstance(self.cluster_centers_, torch.Tensor) and is_device_tensor(
            self.cluster_centers_
        )
        if on_device:
            data = as_feature_tensor(torch.as_tensor(X, device=self.cluster_centers_.device), "X")
            data = data.to(self.cluster_centers_.dtype)
        else:
            centers = np.asarray(as_numpy(self.cluster_centers_, "cluster_centers_"))
            data = as_feature_matrix(X, "X").astype(centers.dtype, copy=False)
        if data.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X must have {self.n_features_in_} features (as in fit), got shape "
                f"{tuple(data.shape)}"
            )
        return data, on_device

    def predict(self, X: Any) -> Array:
        """Index of the nearest centre for each row of ``X`` ``[m, d]`` -> ``[m]``."""
        data, on_device = self._test_data(X)
        if on_device:
            from tinyvision.cluster import _torch_kmeans

            return _torch_kmeans.assign(data, self.cluster_centers_)
        centers = np.ascontiguousarray(as_numpy(self.cluster_centers_, "cluster_centers_"))
        labels = _predict_numpy(data, centers)
        return torch.from_numpy(labels.astype(np.int64)) if isinstance(X, torch.Tensor) else labels

    def transform(self, X: Any) -> Array:
        """Euclidean distance of each row of ``X`` ``[m, d]`` to every centre -> ``[m, k]``."""
        data, on_device = self._test_data(X)
        if on_device:
            return torch.cdist(
                data, self.cluster_centers_, compute_mode="donot_use_mm_for_euclid_dist"
            )
        centers = np.ascontiguousarray(as_numpy(self.cluster_centers_, "cluster_centers_"))
        return like_input(_distances_numpy(data, centers), X)

    def fit_transform(self, X: Any, y: Any = None) -> Array:
        """``fit(X).transform(X)``."""
        return self.fit(X).transform(X)

    def score(self, X: Any, y: Any = None) -> float:
        """Minus the inertia of ``X`` with respect to the fitted centres (higher is better)."""
        data, on_device = self._test_data(X)
        if on_device:
            from tinyvision.cluster import _torch_kmeans

            labels = _torch_kmeans.assign(data, self.cluster_centers_)
            return -float(((data - self.cluster_centers_[labels]) ** 2).sum())
        centers = np.ascontiguousarray(as_numpy(self.cluster_centers_, "cluster_centers_"))
        if data.shape[0] == 0:
            return -0.0
        XT = _transpose_for_assign(data)
        labels = np.empty(data.shape[0], dtype=np.int32)
        L.lloyd_assign(data, XT, centers, labels, centers, np.empty(0, data.dtype), False)
        return -float(L.inertia(data, XT, centers, labels))
