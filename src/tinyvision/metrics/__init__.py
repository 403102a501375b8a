"""Metrics over array-likes (numpy arrays, torch tensors, lists): detection evaluation.

- :mod:`tinyvision.metrics.detection`: :func:`match_detections` (one image, greedy) and
  :func:`average_precision` (COCO 101-point, VOC2007 11-point, VOC2010 all-point).
- :mod:`tinyvision.metrics.coco`: :func:`evaluate_detections`, COCO-exact (pycocotools
  2.0.11 bit for bit), ``coco-fixed`` and the VOC protocols, with per-image matches that
  merge across processes.
"""

from tinyvision.metrics._tables import DetectionDataset, Detections
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

__all__ = [
    "DetectionCounts",
    "DetectionDataset",
    "DetectionEvaluation",
    "DetectionMatch",
    "Detections",
    "EvaluationParams",
    "ImageMatches",
    "PRCurve",
    "accumulate_matches",
    "average_precision",
    "evaluate_detections",
    "gather_matches",
    "match_detections",
    "match_images",
    "merge_matches",
]
