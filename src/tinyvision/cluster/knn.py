"""K-nearest-neighbours classification (supervised), scikit-learn's ``KNeighborsClassifier``.

KNN and K-Means are often confused (the notes contrast them): KNN *classifies* a point by
the labels of its k nearest training points, so it needs labelled training data; K-Means
*clusters* unlabelled points into k groups. See the README for both on the same data.

The neighbour search is brute force (exact). It reproduces scikit-learn's brute-force
search including ties: among training points at the same distance, the set kept is the one
scikit-learn's max-heap keeps when fed the training points in index order (scikit-learn's
result when its search runs on one thread, or with at least as many queries as training
points, where it splits the work by query). Votes that tie go to the smallest class, as in
scikit-learn. ``weights="distance"`` weighs each neighbour by 1 / distance; a query at
distance 0 from training points takes only those points' votes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinyvision._validate import as_numpy, check_choice, check_int
from tinyvision.cluster import _knn_kernels as K
from tinyvision.cluster._common import as_feature_matrix


class KNeighborsClassifier:
    """Classify points by a vote of their ``n_neighbors`` nearest training points.

    ``KNeighborsClassifier(n_neighbors=5, *, weights="uniform")``; after :meth:`fit`:
    ``classes_`` (sorted class labels), ``n_features_in_``, ``n_samples_fit_``.
    """

    def __init__(self, n_neighbors: int = 5, *, weights: str = "uniform") -> None:
        self.n_neighbors = n_neighbors
        self.weights = weights

    def __repr__(self) -> str:
        return f"KNeighborsClassifier(n_neighbors={self.n_neighbors}, weights={self.weights!r})"

    def fit(self, X: Any, y: Any) -> KNeighborsClassifier:
        """Store the training points ``X`` ``[n, d]`` and their labels ``y`` ``[n]``."""
        k = check_int(self.n_neighbors, "n_neighbors", minimum=1)
        check_choice(self.weights, "weights", ("uniform", "distance"))
        data = as_feature_matrix(X, "X", copy=True)
        labels = as_numpy(y, "y", ndim=1)
        if labels.shape[0] != data.shape[0]:
            raise ValueError(
                f"X and y must have the same length, got {data.shape[0]} and {labels.shape[0]}"
            )
        if labels.dtype.kind == "f" and not np.isfinite(labels).all():
            raise ValueError("y must not contain NaN or infinity")
        if k > data.shape[0]:
            raise ValueError(
                f"n_neighbors must be <= the number of training points ({data.shape[0]}), got {k}"
            )
        self.classes_, self._codes = np.unique(labels, return_inverse=True)
        self._codes = self._codes.ravel()
        self._fit_X = data
        self.n_features_in_ = int(data.shape[1])
        self.n_samples_fit_ = int(data.shape[0])
        return self

    def _queries(self, X: Any) -> np.ndarray:
        if not hasattr(self, "_fit_X"):
            raise RuntimeError("this KNeighborsClassifier is not fitted yet: call fit(X, y)")
        data = as_feature_matrix(X, "X").astype(self._fit_X.dtype, copy=False)
        if data.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X must have {self.n_features_in_} features (as in fit), got shape {data.shape}"
            )
        return np.ascontiguousarray(data)

    def _neighbors(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Squared distances and indices ``[m, k]``, nearest first (ties by index)."""
        sq = np.empty((queries.shape[0], k))
        index = np.empty((queries.shape[0], k), dtype=np.int64)
        if queries.shape[0]:
            K.k_nearest(self._fit_X, queries, sq, index)
        order = np.lexsort((index, sq), axis=-1) if k > 1 else np.zeros_like(index)
        return np.take_along_axis(sq, order, 1), np.take_along_axis(index, order, 1)

    def kneighbors(
        self, X: Any, n_neighbors: int | None = None, return_distance: bool = True
    ) -> tuple[np.ndarray, np.ndarray] | np.ndarray:
        """Nearest training points of each row of ``X`` ``[m, d]``.

        Returns ``(distances [m, k], indices [m, k])`` sorted by distance (equal distances by
        training index), or only the indices when ``return_distance`` is False.
        """
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        k = check_int(k, "n_neighbors", minimum=1, maximum=getattr(self, "n_samples_fit_", None))
        sq, index = self._neighbors(self._queries(X), k)
        if not return_distance:
            return index
        return np.sqrt(np.maximum(sq, 0.0)), index

    def _votes(self, X: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """Neighbour classes ``[m, k]`` (codes) and weights ``[m, k]`` (None for uniform)."""
        sq, index = self._neighbors(self._queries(X), self.n_neighbors)
        classes = self._codes[index]
        if self.weights == "uniform":
            return classes, None
        distances = np.sqrt(np.maximum(sq, 0.0))
        with np.errstate(divide="ignore"):
            weights = 1.0 / distances
        at_zero = np.isinf(weights)
        rows = at_zero.any(axis=1)
        weights[rows] = at_zero[rows]
        return classes, weights

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``[m, n_classes]`` (columns in ``classes_`` order)."""
        classes, weights = self._votes(X)
        m = classes.shape[0]
        proba = np.zeros((m, len(self.classes_)))
        rows = np.arange(m)
        if weights is None:
            for i in range(classes.shape[1]):
                proba[rows, classes[:, i]] += 1.0
            return proba / classes.shape[1] if classes.shape[1] else proba
        for i in range(classes.shape[1]):
            proba[rows, classes[:, i]] += weights[:, i]
        total = proba.sum(axis=1)[:, None]
        total[total == 0.0] = 1.0
        return proba / total

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class of each row of ``X`` ``[m, d]`` -> ``[m]`` (values of ``classes_``)."""
        classes, weights = self._votes(X)
        if weights is None:
            counts = np.zeros((classes.shape[0], len(self.classes_)))
            for i in range(classes.shape[1]):
                counts[np.arange(classes.shape[0]), classes[:, i]] += 1.0
            return self.classes_[np.argmax(counts, axis=1)]
        # scikit-learn's weighted_mode: classes seen among the neighbours in ascending
        # order, a later class wins only with a strictly larger summed weight.
        best = np.zeros(classes.shape[0], dtype=np.int64)
        best_weight = np.zeros(classes.shape[0])
        for c in np.unique(classes):
            total = np.where(classes == c, weights, 0.0).sum(axis=1)
            best = np.where(total > best_weight, c, best)
            best_weight = np.maximum(total, best_weight)
        return self.classes_[best]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy of :meth:`predict` on ``X`` against the true labels ``y``."""
        truth = as_numpy(y, "y", ndim=1)
        predicted = self.predict(X)
        if truth.shape[0] != predicted.shape[0]:
            raise ValueError(
                f"X and y must have the same length, got {predicted.shape[0]} and {truth.shape[0]}"
            )
        return float(np.mean(predicted == truth)) if truth.shape[0] else float("nan")
