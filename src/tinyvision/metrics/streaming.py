"""Accumulators for streaming and distributed evaluation.

Feed batches with ``update()``, combine accumulators of the same process with
``merge(other)``, combine the ranks of a ``torch.distributed`` job with ``sync()``, and
read the result with ``compute()``. Each is a thin shell over the functions of
:mod:`tinyvision.metrics`, so the numbers are the same as one call on all the data:

- :class:`ConfusionMatrixAccumulator` keeps a confusion matrix over fixed ``labels``
  (integer counts: merging and syncing are exact; with float weights the sums are
  reassociated and may differ in the last bits).
- :class:`BinaryCurveAccumulator` keeps the scores and labels themselves (the ROC and PR
  curves need every distinct score), and computes the curves, ROC AUC, average precision,
  DeLong interval and thresholded metrics on demand. Without weights the results do not
  depend on the order of the samples, so after ``sync()`` they equal the single-process
  results exactly.

``sync()`` is a collective: every rank must call it, the same number of times, but ranks may
have called ``update()`` any number of times (sizes are exchanged first, then the data,
padded to the largest rank). It does not change the local state: ``compute()`` reports all
ranks until the next ``update()``/``merge()``, and calling ``sync()`` again is harmless.
Without an initialised process group ``sync()`` does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from tinyvision.metrics import _kernels, _ranking
from tinyvision.metrics._delong import RocAucCI, roc_auc_ci
from tinyvision.metrics._labels import (
    check_label_kinds,
    check_lengths,
    label_array,
    labels_param,
    match_labels,
    require_samples,
    sample_weight_array,
)
from tinyvision.metrics._thresholds import BestThreshold, BinaryMetrics
from tinyvision.metrics._thresholds import best_threshold as _best_threshold
from tinyvision.metrics._thresholds import binary_metrics_at as _binary_metrics_at
from tinyvision.metrics.classification import (
    _balanced_accuracy,
    _check_prf_options,
    _matthews_corrcoef,
    _no_samples,
    _prfs_from_sums,
)

__all__ = ["BinaryCurveAccumulator", "BinaryCurves", "ConfusionMatrixAccumulator"]


# --------------------------------------------------------------------------------------
# torch.distributed helpers
# --------------------------------------------------------------------------------------


def _distributed(group: Any) -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size(group) > 1


def _comm_device(group: Any) -> torch.device:
    """NCCL needs CUDA tensors; gloo (and others) take CPU tensors."""
    if dist.get_backend(group) == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _all_gather_rows(values: np.ndarray, group: Any) -> list[np.ndarray]:
    """Gather a small same-shaped int64/float64 array from every rank."""
    device = _comm_device(group)
    tensor = torch.from_numpy(np.ascontiguousarray(values)).to(device)
    out = [torch.empty_like(tensor) for _ in range(dist.get_world_size(group))]
    dist.all_gather(out, tensor, group=group)
    return [t.cpu().numpy() for t in out]


def _all_gather_varlen(values: np.ndarray, sizes: list[int], group: Any) -> np.ndarray:
    """Concatenate every rank's 1-D array (rank order), padding to the largest size."""
    device = _comm_device(group)
    longest = max(sizes)
    padded = np.zeros(longest, dtype=values.dtype)
    padded[: len(values)] = values
    tensor = torch.from_numpy(padded).to(device)
    out = [torch.empty_like(tensor) for _ in sizes]
    dist.all_gather(out, tensor, group=group)
    return np.concatenate([t.cpu().numpy()[:size] for t, size in zip(out, sizes)])


def _check_same_labels(labels: np.ndarray, group: Any) -> None:
    """Raise ``ValueError`` on every rank unless all ranks hold equal ``labels``.

    The labels themselves are gathered (they are few), so equal counts with different
    values or a different order are caught too; labels compare as Python values
    (``1 == 1.0``, as ``merge`` compares them).
    """
    mine = labels.tolist()
    gathered: list[Any] = [None] * dist.get_world_size(group)
    dist.all_gather_object(gathered, mine, group=group)
    if all(other == mine for other in gathered):
        return
    listed = "; ".join(f"rank {rank}: {_short(other)}" for rank, other in enumerate(gathered))
    raise ValueError(f"ranks hold accumulators with different labels ({listed})")


def _short(values: list[Any], limit: int = 10) -> str:
    """``repr`` of a label list, the first ``limit`` labels only."""
    if len(values) <= limit:
        return repr(values)
    return repr(values[:limit])[:-1] + f", ... ({len(values)} labels)]"


# --------------------------------------------------------------------------------------
# Confusion matrix
# --------------------------------------------------------------------------------------


class ConfusionMatrixAccumulator:
    """A confusion matrix over fixed classes, built batch by batch.

    Args:
        labels: the classes (rows and columns of the matrix, in this order), or
        num_classes: shorthand for ``labels = range(num_classes)``.

    ``update(y_true, y_pred, sample_weight=None)`` refuses labels outside ``labels``.
    ``compute()`` returns the ``(n_labels, n_labels)`` matrix as
    :func:`~tinyvision.metrics.confusion_matrix` with ``labels=labels`` would (int64, or
    float64 once float weights were seen). The metric methods give the same values as the
    functions called on all the samples, also with no samples: ``compute()`` is all zeros,
    ``accuracy()``, ``balanced_accuracy()`` and ``matthews_corrcoef()`` are NaN with an
    :class:`~tinyvision.metrics.UndefinedMetricWarning`, P/R/F follow ``zero_division``.
    """

    def __init__(self, labels: Any = None, *, num_classes: int | None = None) -> None:
        if (labels is None) == (num_classes is None):
            raise ValueError("give exactly one of labels and num_classes")
        if num_classes is not None:
            if isinstance(num_classes, bool) or not isinstance(num_classes, int):
                raise TypeError(f"num_classes must be an int, got {num_classes!r}")
            if num_classes < 1:
                raise ValueError(f"num_classes must be >= 1, got {num_classes}")
            labels = np.arange(num_classes)
        self.labels = labels_param(labels)
        if self.labels.size == 0:
            raise ValueError("labels must contain at least one label")
        self._order = np.argsort(self.labels, kind="stable")
        self._sorted = self.labels[self._order]
        self._local = np.zeros((len(self.labels), len(self.labels)), dtype=np.int64)
        self._synced: np.ndarray | None = None

    def _codes(self, y: np.ndarray, name: str) -> np.ndarray:
        pos = match_labels(self._sorted, y)
        if np.any(pos < 0):
            unknown = y[pos < 0][:5].tolist()
            raise ValueError(f"{name} holds labels not in this accumulator's labels: {unknown}")
        return self._order[pos].astype(np.int64)

    def update(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add a batch: ``y_true``, ``y_pred`` labels ``(n,)``, optional weights ``(n,)``."""
        t = label_array(y_true, "y_true")
        p = label_array(y_pred, "y_pred")
        check_lengths(y_true=t, y_pred=p)
        check_label_kinds(t, "y_true", p, "y_pred")
        w = sample_weight_array(sample_weight, len(t))
        t_codes, p_codes = self._codes(t, "y_true"), self._codes(p, "y_pred")
        n_labels = len(self.labels)
        if w is None:
            self._local += _kernels.confusion_counts(t_codes, p_codes, 0, n_labels)
        else:
            if w.dtype.kind == "f" and self._local.dtype != np.float64:
                self._local = self._local.astype(np.float64)
            weights = np.ascontiguousarray(w, dtype=self._local.dtype)
            # in place, sample by sample: the order confusion_matrix adds them in
            _kernels.confusion_sums(t_codes, p_codes, 0, n_labels, weights, self._local)
        self._synced = None

    def merge(self, other: ConfusionMatrixAccumulator) -> ConfusionMatrixAccumulator:
        """Add ``other``'s local counts (same labels required); returns ``self``."""
        if not isinstance(other, ConfusionMatrixAccumulator):
            raise TypeError(f"other must be a ConfusionMatrixAccumulator, got {type(other)}")
        if not np.array_equal(other.labels, self.labels):
            raise ValueError("cannot merge accumulators with different labels")
        dtype = np.result_type(self._local, other._local)
        self._local = self._local.astype(dtype) + other._local
        self._synced = None
        return self

    def sync(self, group: Any = None) -> None:
        """Sum the matrices of all ranks (a collective; see the module docstring).

        Raises ``ValueError`` on every rank, naming each rank's labels, when the ranks'
        ``labels`` differ (in value or order).
        """
        if not _distributed(group):
            self._synced = None
            return
        _check_same_labels(self.labels, group)
        header = np.array([int(self._local.dtype == np.float64)], np.int64)
        is_float = any(int(h[0]) for h in _all_gather_rows(header, group))
        local = self._local.astype(np.float64 if is_float else np.int64)
        tensor = torch.from_numpy(local.copy()).to(_comm_device(group))
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM, group=group)
        self._synced = tensor.cpu().numpy()

    def compute(self) -> np.ndarray:
        """The ``(n_labels, n_labels)`` confusion matrix (all ranks after ``sync()``)."""
        return (self._local if self._synced is None else self._synced).copy()

    def reset(self) -> None:
        """Forget every sample."""
        self._local = np.zeros_like(self._local, dtype=np.int64)
        self._synced = None

    # metrics of the accumulated matrix --------------------------------------------------

    def _present(self) -> np.ndarray:
        """The matrix restricted to the classes that occurred (as the functions see them)."""
        matrix = self.compute()
        occurs = (matrix.sum(axis=0) != 0) | (matrix.sum(axis=1) != 0)
        order = self._order[occurs[self._order]]  # sorted class order, like the functions
        return matrix[np.ix_(order, order)]

    def accuracy(self) -> float:
        """Fraction of correct predictions, as ``accuracy_score`` (NaN and a warning when
        empty)."""
        matrix = self.compute()
        total = matrix.sum()
        if total == 0:
            return _no_samples("Accuracy", stacklevel=4)
        return float(np.trace(matrix) / total)

    def balanced_accuracy(self, *, adjusted: bool = False) -> float:
        """As :func:`~tinyvision.metrics.balanced_accuracy_score`."""
        return _balanced_accuracy(self._present(), adjusted)

    def matthews_corrcoef(self) -> float:
        """As :func:`~tinyvision.metrics.matthews_corrcoef`."""
        return _matthews_corrcoef(self._present())

    def precision_recall_fscore_support(
        self, *, beta: float = 1.0, average: str | None = None, zero_division: Any = "warn"
    ) -> tuple[Any, Any, Any, Any]:
        """Per-label (in ``labels`` order) or averaged P/R/F and support.

        ``average``: None, ``'micro'``, ``'macro'``, ``'weighted'`` over all ``labels``, as
        :func:`~tinyvision.metrics.precision_recall_fscore_support` with ``labels=labels``.
        """
        beta = _check_prf_options(beta, average, zero_division)
        if average == "binary":
            raise ValueError("average='binary' is not available here; use labels=[pos_label]")
        matrix = self.compute()
        tp = np.diagonal(matrix).copy()
        if matrix.dtype == np.int64 and tp.sum() == 0:
            tp = np.zeros(len(tp))  # as scikit-learn when nothing is predicted right
        return _prfs_from_sums(
            tp,
            matrix.sum(axis=0),
            matrix.sum(axis=1),
            beta=beta,
            average=average,
            warn_for=("precision", "recall", "f-score"),
            zero_division=zero_division,
        )


# --------------------------------------------------------------------------------------
# Binary curves
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BinaryCurves:
    """ROC and precision-recall curves with their summaries (see ``roc_curve`` etc.).

    ``fpr``, ``tpr``, ``roc_thresholds``: as :func:`~tinyvision.metrics.roc_curve`;
    ``precision``, ``recall``, ``pr_thresholds``: as
    :func:`~tinyvision.metrics.precision_recall_curve`; ``roc_auc``, ``average_precision``.
    """

    fpr: np.ndarray
    tpr: np.ndarray
    roc_thresholds: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    pr_thresholds: np.ndarray
    roc_auc: float
    average_precision: float


class BinaryCurveAccumulator:
    """Scores and binary labels, collected batch by batch, for curves and AUCs.

    Args:
        pos_label: the positive class; None means labels in {0, 1} or {-1, 1} (checked per
            batch), as for :func:`~tinyvision.metrics.roc_curve`.

    Scores are kept as float64 (8 bytes a sample, plus 1 for the label and 8 for a weight).
    ``update()`` takes empty batches; ``compute()``, ``roc_auc_ci()`` and ``best_threshold()``
    raise ``ValueError`` while no sample was collected, as the functions do on empty input
    (``binary_metrics_at()`` gives zero counts, as its function).
    """

    def __init__(self, pos_label: Any = None) -> None:
        self.pos_label = pos_label
        self._scores: list[np.ndarray] = []
        self._labels: list[np.ndarray] = []
        self._weights: list[np.ndarray | None] = []
        self._synced: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None

    def update(self, y_true: Any, y_score: Any, sample_weight: Any = None) -> None:
        """Add a batch: labels ``(n,)``, scores ``(n,)`` (tensors on any device), weights."""
        problem = _ranking.binary_input(
            y_true, y_score, pos_label=self.pos_label, sample_weight=sample_weight, allow_empty=True
        )
        self._scores.append(problem.scores.astype(np.float64))
        self._labels.append(problem.is_pos.copy())
        self._weights.append(problem.sample_weight)
        self._synced = None

    def merge(self, other: BinaryCurveAccumulator) -> BinaryCurveAccumulator:
        """Add ``other``'s local samples; returns ``self``."""
        if not isinstance(other, BinaryCurveAccumulator):
            raise TypeError(f"other must be a BinaryCurveAccumulator, got {type(other)}")
        self._scores.extend(other._scores)
        self._labels.extend(other._labels)
        self._weights.extend(other._weights)
        self._synced = None
        return self

    def reset(self) -> None:
        """Forget every sample."""
        self.__init__(self.pos_label)

    def _local_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        scores = np.concatenate(self._scores) if self._scores else np.zeros(0)
        labels = np.concatenate(self._labels) if self._labels else np.zeros(0, dtype=bool)
        if all(w is None for w in self._weights):
            return scores, labels, None
        weights = [np.ones(len(s)) if w is None else w for s, w in zip(self._scores, self._weights)]
        return scores, labels, np.concatenate(weights)

    def sync(self, group: Any = None) -> None:
        """Gather every rank's samples (a collective; see the module docstring)."""
        if not _distributed(group):
            self._synced = None
            return
        scores, labels, weights = self._local_arrays()
        header = np.array([len(scores), int(weights is not None)], dtype=np.int64)
        headers = _all_gather_rows(header, group)
        sizes = [int(h[0]) for h in headers]
        any_weights = any(int(h[1]) for h in headers)
        if max(sizes) == 0:
            self._synced = (scores, labels, np.zeros(0) if any_weights else None)
            return
        all_scores = _all_gather_varlen(scores, sizes, group)
        all_labels = _all_gather_varlen(labels.astype(np.uint8), sizes, group).astype(bool)
        all_weights = None
        if any_weights:
            local = np.ones(len(scores)) if weights is None else weights
            all_weights = _all_gather_varlen(local, sizes, group)
        self._synced = (all_scores, all_labels, all_weights)

    def _problem(self, *, allow_empty: bool = True) -> _ranking.BinaryInput:
        scores, labels, weights = self._local_arrays() if self._synced is None else self._synced
        if not allow_empty:
            require_samples(labels, "the collected y_true", hint=": call update() with data first")
        return _ranking.make_binary(labels, scores, weights)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(is_positive, scores, sample_weight)`` collected so far (all ranks after sync)."""
        problem = self._problem()
        return problem.is_pos.copy(), problem.scores.copy(), problem.sample_weight

    def compute(self, *, drop_intermediate: bool = True) -> BinaryCurves:
        """Both curves, ROC AUC and average precision of everything collected.

        Raises ``ValueError`` when nothing was collected (as ``roc_curve`` on empty input).
        """
        problem = self._problem(allow_empty=False)
        fpr, tpr, roc_thresholds = _ranking.binary_roc(problem, drop_intermediate)
        precision, recall, pr_thresholds = _ranking.binary_precision_recall(problem, False)
        return BinaryCurves(
            fpr=fpr,
            tpr=tpr,
            roc_thresholds=roc_thresholds,
            precision=precision,
            recall=recall,
            pr_thresholds=pr_thresholds,
            roc_auc=_ranking.binary_roc_auc(problem),
            average_precision=_ranking.binary_average_precision(problem),
        )

    def roc_auc_ci(self, *, confidence: float = 0.95) -> RocAucCI:
        """DeLong interval of the unweighted ROC AUC, as ``tinyvision.metrics.roc_auc_ci``."""
        problem = self._problem(allow_empty=False)
        return roc_auc_ci(problem.is_pos, problem.scores, confidence=confidence)

    def binary_metrics_at(self, threshold: float, *, zero_division: float = 0.0) -> BinaryMetrics:
        """As :func:`~tinyvision.metrics.binary_metrics_at` on everything collected."""
        is_pos, scores, weights = self.arrays()
        return _binary_metrics_at(
            is_pos, scores, threshold, sample_weight=weights, zero_division=zero_division
        )

    def best_threshold(self, metric: Any = "f1") -> BestThreshold:
        """As :func:`~tinyvision.metrics.best_threshold` on everything collected."""
        problem = self._problem(allow_empty=False)
        return _best_threshold(
            problem.is_pos, problem.scores, metric, sample_weight=problem.sample_weight
        )
