"""Silhouette coefficients with scikit-learn's results and bounded memory.

For a point i in cluster A, ``a(i)`` is its mean distance to the other points of A and
``b(i)`` the smallest mean distance to the points of another cluster; its silhouette is
``(b - a) / max(a, b)``, and 0 for a point alone in its cluster (scikit-learn's convention).

scikit-learn materialises rows of the full ``n x n`` distance matrix (up to 1 GiB at a time);
here a compiled loop walks the points once per block of columns and only keeps, for that
block, the per-cluster sums of distances: ``working_memory`` (MiB, default 100) bounds that
work space whatever ``n`` is. The sums run over the points in index order, as scikit-learn's
``np.bincount`` does, and distances are computed directly (``sqrt(sum (x - y)^2)``), so
results agree with scikit-learn to ~1e-15. The same pass can serve several labelings of the
same points at once (:func:`tinyvision.cluster.choose_k` uses it to score every K while
computing each distance once). CUDA tensors are handled with torch on their device, in
blocks of columns under the same ``working_memory`` bound (the distance block, its copy in
cluster order and the per-cluster sums); its values agree with the numpy path and with
scikit-learn to ~1e-15 (tested at 1e-12), not bit for bit (torch's distances round
differently).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from tinyvision._validate import as_numpy, check_float, check_int, check_same_length
from tinyvision.cluster import _silhouette_kernels as K
from tinyvision.cluster._common import (
    RandomStateLike,
    as_feature_matrix,
    as_feature_tensor,
    check_random_state,
    is_device_tensor,
    like_input,
)

DEFAULT_WORKING_MEMORY_MIB = 100.0
_MAX_BLOCK = 2048  # columns per block: keeps the per-cluster sums of a block in cache


def _encode_labels(labels: Any, n_samples: int, name: str = "labels") -> tuple[np.ndarray, int]:
    """Labels -> codes 0..k-1 (in sorted label order, like LabelEncoder) and k, validated."""
    values = as_numpy(labels, name, ndim=1)
    if values.shape[0] != n_samples:
        raise ValueError(
            f"X and {name} must have the same length, got {n_samples} and {values.shape[0]}"
        )
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise ValueError(f"{name} must not contain NaN or infinity")
    _, codes = np.unique(values, return_inverse=True)
    n_labels = int(codes.max()) + 1 if codes.size else 0
    if not 1 < n_labels < n_samples:
        raise ValueError(
            f"{name} must have between 2 and n_samples - 1 = {n_samples - 1} distinct values "
            f"(the silhouette needs at least two clusters and one cluster with two points), "
            f"got {n_labels}"
        )
    return codes.astype(np.int64).ravel(), n_labels


def _block_columns(total_clusters: int, working_memory: float) -> int:
    """Columns per block so that the block's work space fits in ``working_memory`` MiB."""
    per_column = (2 * total_clusters + 4) * 8  # sums + their finalisation + one distance row
    budget = int(working_memory * 2**20) // per_column
    return max(1, min(budget, _MAX_BLOCK))


def _sum_blocks(
    X: np.ndarray, codes: np.ndarray, total_clusters: int, working_memory: float
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield ``(start, end, sums)`` with ``sums[c, j - start]`` the summed distance from
    point j to the points of (offset) cluster c, for consecutive blocks of columns j."""
    n = X.shape[0]
    XT = np.ascontiguousarray(X.T)
    width = _block_columns(total_clusters, working_memory)
    sums = np.empty((total_clusters, width))
    for start in range(0, n, width):
        end = min(start + width, n)
        block = sums[:, : end - start]
        block[:] = 0.0
        K.cluster_distance_sums(X, XT, codes, start, end, block)
        yield start, end, block


def _silhouette_from_sums(sums: np.ndarray, own: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """Silhouettes of a block of points from their per-cluster distance sums (k, b).

    Follows scikit-learn's ``_silhouette_reduce`` and ``silhouette_samples`` operation by
    operation (same divisions, same order), so the rounding is the same.
    """
    columns = np.arange(sums.shape[1])
    intra = sums[own, columns].copy()
    sums[own, columns] = np.inf
    sums /= freqs[:, None]
    inter = sums.min(axis=0)
    denom = (freqs - 1)[own]
    with np.errstate(divide="ignore", invalid="ignore"):
        intra /= denom
        sil = inter - intra
        sil /= np.maximum(intra, inter)
    return np.nan_to_num(sil)


def _check_working_memory(working_memory: Any) -> float:
    if working_memory is None:
        return DEFAULT_WORKING_MEMORY_MIB
    return check_float(working_memory, "working_memory", minimum=0.0, min_inclusive=False)


def _silhouettes_numpy(
    X: np.ndarray, labelings: Sequence[tuple[np.ndarray, int]], working_memory: float
) -> list[np.ndarray]:
    """Silhouette of every point for each ``(codes, k)`` labeling of the same points."""
    n = X.shape[0]
    if len(labelings) == 1 and (labelings[0][1] + 4) * n * 8 <= working_memory * 2**20:
        return [_silhouette_symmetric(X, *labelings[0])]
    offsets = np.cumsum([0] + [k for _, k in labelings])
    codes = np.empty((len(labelings), n), dtype=np.int64)
    freqs = []
    for q, (c, k) in enumerate(labelings):
        codes[q] = c + offsets[q]
        freqs.append(np.bincount(c, minlength=k).astype(np.float64))
    out = [np.empty(n) for _ in labelings]
    for start, end, block in _sum_blocks(X, codes, int(offsets[-1]), working_memory):
        for q, (c, _) in enumerate(labelings):
            part = block[offsets[q] : offsets[q + 1]]
            out[q][start:end] = _silhouette_from_sums(part, c[start:end], freqs[q])
    return out


def _silhouette_symmetric(X: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """One labeling, all per-cluster sums in memory ((k, n)): each distance computed once."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    freqs = np.bincount(codes, minlength=k)
    bounds = np.concatenate([[0], np.cumsum(freqs)]).astype(np.int64)
    Xs = np.ascontiguousarray(X[order])
    sums = np.zeros((k, X.shape[0]))
    K.cluster_distance_sums_sorted(Xs, np.ascontiguousarray(Xs.T), sorted_codes, bounds, sums)
    result = np.empty(X.shape[0])
    result[order] = _silhouette_from_sums(sums, sorted_codes, freqs.astype(np.float64))
    return result


def _torch_block_columns(n: int, total_clusters: int, working_memory: float) -> int:
    """Columns per block of the torch path so that its work space fits ``working_memory``
    MiB: the ``(n, b)`` distance block and its copy in cluster order dominate, plus the
    ``(k, b)`` per-cluster sums and a few rows."""
    per_column = (2 * n + 2 * total_clusters + 4) * 8
    return max(1, min(int(working_memory * 2**20) // per_column, n))


def _silhouettes_torch(
    X: torch.Tensor, labelings: Sequence[tuple[np.ndarray, int]], working_memory: float
) -> list[torch.Tensor]:
    """:func:`_silhouettes_numpy` in torch on X's device: distance blocks, gathered into
    each labeling's cluster order and summed per cluster (``segment_reduce``: in index
    order, as the numpy path, and deterministic). The work space is ``(n, b)`` twice plus
    ``(k, b)``; nothing of size ``k x n`` is made."""
    n = X.shape[0]
    Xd = X.to(torch.float64)
    orders = []
    freqs = []
    for c, k in labelings:
        codes = torch.as_tensor(c, device=X.device)
        orders.append(torch.argsort(codes, stable=True))
        freqs.append(torch.bincount(codes, minlength=k))
    total = sum(k for _, k in labelings)
    width = _torch_block_columns(n, total, working_memory)
    gathered = torch.empty((n, width), dtype=torch.float64, device=X.device)
    out = [torch.empty(n, dtype=torch.float64, device=X.device) for _ in labelings]
    for start in range(0, n, width):
        end = min(start + width, n)
        dist = torch.cdist(Xd, Xd[start:end], compute_mode="donot_use_mm_for_euclid_dist")
        block = gathered[:, : end - start]
        for q, (c, _) in enumerate(labelings):
            torch.index_select(dist, 0, orders[q], out=block)
            sums = torch.segment_reduce(block, "sum", lengths=freqs[q], axis=0)  # (k, b)
            own = torch.as_tensor(c[start:end], device=X.device)
            columns = torch.arange(end - start, device=X.device)
            counts = freqs[q].to(torch.float64)
            intra = sums[own, columns].clone()
            sums[own, columns] = torch.inf
            sums /= counts[:, None]
            inter = sums.min(dim=0).values
            intra /= counts[own] - 1
            sil = (inter - intra) / torch.maximum(intra, inter)
            out[q][start:end] = torch.nan_to_num(sil, nan=0.0)
    return out


def silhouette_samples(X: Any, labels: Any, *, working_memory: float | None = None) -> Any:
    """Silhouette coefficient of every point (scikit-learn's ``silhouette_samples``).

    Args:
        X: ``[n, d]`` points (array-like or tensor; a CUDA tensor is processed on its GPU).
        labels: ``[n]`` cluster label of each point (any sortable values), with between 2 and
            n - 1 distinct values.
        working_memory: MiB of work space for the per-cluster distance sums (default 100);
            the distance matrix itself is never stored.

    Returns:
        ``[n]`` float64 values in [-1, 1]; 0 for points alone in their cluster. A tensor on
        X's device if X is a tensor, else numpy.
    """
    memory = _check_working_memory(working_memory)
    if is_device_tensor(X):
        data = as_feature_tensor(X, "X")
        encoded = _encode_labels(labels, int(data.shape[0]))
        return _silhouettes_torch(data, [encoded], memory)[0]
    data = as_feature_matrix(X, "X")
    encoded = _encode_labels(labels, data.shape[0])
    return like_input(_silhouettes_numpy(data.astype(np.float64), [encoded], memory)[0], X)


def silhouette_score(
    X: Any,
    labels: Any,
    *,
    sample_size: int | None = None,
    random_state: RandomStateLike = None,
    working_memory: float | None = None,
) -> float:
    """Mean silhouette coefficient over all points (scikit-learn's ``silhouette_score``).

    Args:
        X: ``[n, d]`` points; labels: ``[n]`` cluster labels (2 to n - 1 distinct values).
        sample_size: if given, score a random subset of this many points (drawn as
            scikit-learn does: ``random_state.permutation(n)[:sample_size]``).
        random_state: None, an int seed or a RandomState (only used with ``sample_size``).
        working_memory: MiB of work space, as in :func:`silhouette_samples`.

    Returns:
        The mean silhouette, a float in [-1, 1].
    """
    if sample_size is not None:
        n = int(X.shape[0]) if hasattr(X, "shape") else len(X)
        sample_size = check_int(sample_size, "sample_size", minimum=1)
        check_same_length("X", X, "labels", labels)
        indices = check_random_state(random_state).permutation(n)[:sample_size]
        if isinstance(X, torch.Tensor):
            X = X[torch.as_tensor(indices, device=X.device)]
        else:
            X = as_numpy(X, "X")[indices]
        labels = as_numpy(labels, "labels", ndim=1)[indices]
    values = silhouette_samples(X, labels, working_memory=working_memory)
    if isinstance(values, torch.Tensor):
        return float(values.mean())
    return float(np.mean(values))
