"""k-means in torch for accelerator tensors: the algorithm of :mod:`tinyvision.cluster.kmeans`
vectorised over points (matrix products, ``argmin``, ``index_add_``).

The random numbers come from the same ``np.random.RandomState`` calls as the numpy path (a
few scalars per centre, moved to the device), so a seed picks the same k-means++ candidates
on the GPU as on the CPU; distances come from ``||x||^2 - 2 x.c + ||c||^2`` matrix products,
so labels can differ from the CPU path only for points (nearly) equidistant from two centres.
"""

from __future__ import annotations

import numpy as np
import torch


def _sq_distances(X: torch.Tensor, x_sq: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """``[n, m]`` squared distances from the points to ``rows`` (m, d), clipped at 0."""
    r_sq = (rows * rows).sum(dim=1)
    dist = x_sq[:, None] - 2.0 * (X @ rows.T) + r_sq[None, :]
    return dist.clamp_(min=0.0)


def kmeans_plusplus(X: torch.Tensor, k: int, rs: np.random.RandomState) -> torch.Tensor:
    """Greedy k-means++ on the device; returns the chosen row indices (k,) on the CPU."""
    n = X.shape[0]
    trials = 2 + int(np.log(k))
    weights = np.ones(n, dtype=np.float32 if X.dtype == torch.float32 else np.float64)
    first = int(rs.choice(n, p=weights / weights.sum()))
    x_sq = (X * X).sum(dim=1)
    closest = _sq_distances(X, x_sq, X[first : first + 1])[:, 0]
    potential = closest.sum()
    indices = [first]
    for _ in range(1, k):
        rand = torch.as_tensor(rs.uniform(size=trials), dtype=X.dtype, device=X.device)
        candidates = torch.searchsorted(torch.cumsum(closest, 0), rand * potential)
        candidates.clamp_(max=n - 1)
        dist = torch.minimum(_sq_distances(X, x_sq, X[candidates]), closest[:, None])
        pots = dist.sum(dim=0)
        best = int(torch.argmin(pots))
        potential = pots[best]
        closest = dist[:, best].contiguous()
        indices.append(int(candidates[best]))
    return torch.tensor(indices)


def assign(X: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Index (int64) of the first nearest centre for every point."""
    c_sq = (centers * centers).sum(dim=1)
    return torch.argmin(c_sq[None, :] - 2.0 * (X @ centers.T), dim=1)


def _relocate_empty(
    X: torch.Tensor,
    centers: torch.Tensor,
    sums: torch.Tensor,
    counts: torch.Tensor,
    labels: torch.Tensor,
) -> None:
    """Move empty clusters onto the points farthest from their centres (numpy path's rule)."""
    empty = torch.nonzero(counts == 0).flatten()
    if empty.numel() == 0:
        return
    distances = ((X - centers[labels]) ** 2).sum(dim=1)
    if float(distances.max()) == 0:
        return
    far = torch.topk(distances, empty.numel()).indices
    for new_id, far_idx in zip(empty.tolist(), far.tolist()):
        old_id = int(labels[far_idx])
        sums[old_id] -= X[far_idx]
        sums[new_id] = X[far_idx]
        counts[new_id] = 1
        counts[old_id] -= 1


def lloyd(
    X: torch.Tensor, centers: torch.Tensor, max_iter: int, tol: float
) -> tuple[torch.Tensor, float, torch.Tensor, int]:
    """One Lloyd run: (labels, inertia, centres, n_iter), stopping rules as the numpy path."""
    k = centers.shape[0]
    labels_old = torch.full((X.shape[0],), -1, dtype=torch.int64, device=X.device)
    strict = False
    iteration = 0
    for iteration in range(max_iter):  # noqa: B007 (the count is returned)
        labels = assign(X, centers)
        counts = torch.bincount(labels, minlength=k).to(X.dtype)
        sums = torch.zeros_like(centers).index_add_(0, labels, X)
        _relocate_empty(X, centers, sums, counts, labels)
        filled = counts > 0
        new = torch.where(filled[:, None], sums / counts.clamp(min=1)[:, None], 0.0)
        if not bool(filled.all()):
            new[~filled] = new[int(torch.argmax(counts))]
        shift = float(((new - centers) ** 2).sum())
        centers = new
        if torch.equal(labels, labels_old):
            strict = True
            break
        if shift <= tol:
            break
        labels_old = labels
    if not strict:
        labels = assign(X, centers)
    inertia = float(((X - centers[labels]) ** 2).sum())
    return labels, inertia, centers, iteration + 1


def _same_clustering(a: torch.Tensor, b: torch.Tensor, k: int) -> bool:
    """True if two labelings agree up to a permutation of label values."""
    pairs = torch.unique(a * k + b)
    return int(pairs.numel()) == int(torch.unique(a).numel())


def fit(
    X: torch.Tensor,
    k: int,
    init: str | np.ndarray,
    n_init: int,
    max_iter: int,
    tol: float,
    rs: np.random.RandomState,
) -> tuple[torch.Tensor, torch.Tensor, float, int]:
    """Best of ``n_init`` runs on the device: (centres, labels, inertia, n_iter)."""
    tol = 0.0 if tol == 0 else float(torch.var(X, dim=0, unbiased=False).mean()) * tol
    mean = X.mean(dim=0)
    Xc = X - mean
    best = None
    for _ in range(n_init):
        if isinstance(init, str) and init == "k-means++":
            start = Xc[kmeans_plusplus(Xc, k, rs).to(X.device)]
        elif isinstance(init, str):
            weights = np.ones(X.shape[0], dtype=np.float32 if X.dtype == torch.float32 else None)
            seeds = rs.choice(X.shape[0], size=k, replace=False, p=weights / weights.sum())
            start = Xc[torch.as_tensor(seeds, device=X.device)]
        else:
            start = torch.as_tensor(init, dtype=X.dtype, device=X.device) - mean
        labels, inertia, centers, n_iter = lloyd(Xc, start.clone(), max_iter, tol)
        if best is None or (inertia < best[1] and not _same_clustering(labels, best[0], k)):
            best = (labels, inertia, centers, n_iter)
    assert best is not None
    labels, inertia, centers, n_iter = best
    return centers + mean, labels, inertia, n_iter
