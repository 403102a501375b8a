"""Data: detection data set formats (COCO json, YOLO txt, Pascal VOC xml) and generated
COCO-like data.

See :mod:`tinyvision.data.formats` for the readers, writers and their conventions.
"""

from tinyvision.data.cocolike import make_coco_like, make_coco_like_tables
from tinyvision.data.formats import (
    DetectionDataset,
    Detections,
    convert,
    load_dataset,
    load_predictions,
    read_coco,
    read_coco_results,
    read_matches,
    read_voc,
    read_voc_predictions,
    read_yolo,
    read_yolo_predictions,
    write_coco,
    write_coco_results,
    write_matches,
    write_voc,
    write_voc_predictions,
    write_yolo,
    write_yolo_predictions,
)

__all__ = [
    "DetectionDataset",
    "Detections",
    "convert",
    "load_dataset",
    "load_predictions",
    "make_coco_like",
    "make_coco_like_tables",
    "read_coco",
    "read_coco_results",
    "read_matches",
    "read_voc",
    "read_voc_predictions",
    "read_yolo",
    "read_yolo_predictions",
    "write_coco",
    "write_coco_results",
    "write_matches",
    "write_voc",
    "write_voc_predictions",
    "write_yolo",
    "write_yolo_predictions",
]
