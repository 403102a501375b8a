"""Metrics: scikit-learn-compatible classification metrics, confidence intervals, accumulators.

The functions mirror ``sklearn.metrics`` 1.9.1 (names, arguments, defaults, results,
warnings) and accept lists, numpy arrays and torch tensors. See ``docs/metrics.md``.
"""

from tinyvision.metrics._delong import DeLongTest, RocAucCI, delong_test, roc_auc_ci
from tinyvision.metrics._ranking import (
    auc,
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from tinyvision.metrics._thresholds import (
    BestThreshold,
    BinaryMetrics,
    best_threshold,
    binary_metrics_at,
)
from tinyvision.metrics._warnings import UndefinedMetricWarning
from tinyvision.metrics.classification import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    fbeta_score,
    matthews_corrcoef,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)
from tinyvision.metrics.streaming import (
    BinaryCurveAccumulator,
    BinaryCurves,
    ConfusionMatrixAccumulator,
)

__all__ = [
    "BestThreshold",
    "BinaryCurveAccumulator",
    "BinaryCurves",
    "BinaryMetrics",
    "ConfusionMatrixAccumulator",
    "DeLongTest",
    "RocAucCI",
    "UndefinedMetricWarning",
    "accuracy_score",
    "auc",
    "average_precision_score",
    "balanced_accuracy_score",
    "best_threshold",
    "binary_metrics_at",
    "confusion_matrix",
    "delong_test",
    "f1_score",
    "fbeta_score",
    "matthews_corrcoef",
    "precision_recall_curve",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
    "roc_auc_ci",
    "roc_auc_score",
    "roc_curve",
]
