"""Metrics over array-likes (numpy arrays, torch tensors, lists).

- Classification: scikit-learn-compatible metrics (names, arguments, defaults, results,
  warnings of ``sklearn.metrics`` 1.9.1), confidence intervals, accumulators; see
  ``docs/metrics.md``.
- Detection: :func:`evaluate_detections` (COCO-exact, pycocotools 2.0.11 bit for bit,
  ``coco-fixed`` and the VOC protocols, per-image matches that merge across processes),
  :func:`match_detections` (one image, greedy) and :func:`average_precision` (COCO 101-point,
  VOC2007 11-point, VOC2010 all-point); see ``docs/detection.md``.
- :class:`MeanAveragePrecision`: torchmetrics' detection metric for training loops (the same
  arguments, keys and values), synced over ``torch.distributed``.
"""

from tinyvision.metrics._delong import DeLongTest, RocAucCI, delong_test, roc_auc_ci
from tinyvision.metrics._more_classification import (
    classification_report,
    cohen_kappa_score,
    hamming_loss,
    jaccard_score,
    multilabel_confusion_matrix,
    zero_one_loss,
)
from tinyvision.metrics._more_scores import (
    brier_score_loss,
    det_curve,
    label_ranking_average_precision_score,
    log_loss,
    top_k_accuracy_score,
)
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
from tinyvision.metrics.coco import (
    DetectionCounts,
    DetectionEvaluation,
    EvaluationParams,
    ImageMatches,
    PRCurve,
    accumulate_matches,
    evaluate_detections,
    gather_matches,
    match_images,
    merge_matches,
)
from tinyvision.metrics.detection import DetectionMatch, average_precision, match_detections
from tinyvision.metrics.mean_ap import MeanAveragePrecision
from tinyvision.metrics.streaming import (
    BinaryCurveAccumulator,
    BinaryCurves,
    ConfusionMatrixAccumulator,
)
from tinyvision.structures import DetectionDataset, Detections

__all__ = [
    "BestThreshold",
    "BinaryCurveAccumulator",
    "BinaryCurves",
    "BinaryMetrics",
    "ConfusionMatrixAccumulator",
    "DeLongTest",
    "DetectionCounts",
    "DetectionDataset",
    "DetectionEvaluation",
    "DetectionMatch",
    "Detections",
    "EvaluationParams",
    "ImageMatches",
    "MeanAveragePrecision",
    "PRCurve",
    "RocAucCI",
    "UndefinedMetricWarning",
    "accumulate_matches",
    "accuracy_score",
    "auc",
    "average_precision",
    "average_precision_score",
    "balanced_accuracy_score",
    "best_threshold",
    "binary_metrics_at",
    "brier_score_loss",
    "classification_report",
    "cohen_kappa_score",
    "confusion_matrix",
    "delong_test",
    "det_curve",
    "evaluate_detections",
    "f1_score",
    "fbeta_score",
    "gather_matches",
    "hamming_loss",
    "jaccard_score",
    "label_ranking_average_precision_score",
    "log_loss",
    "match_detections",
    "match_images",
    "matthews_corrcoef",
    "merge_matches",
    "multilabel_confusion_matrix",
    "precision_recall_curve",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
    "roc_auc_ci",
    "roc_auc_score",
    "roc_curve",
    "top_k_accuracy_score",
    "zero_one_loss",
]
