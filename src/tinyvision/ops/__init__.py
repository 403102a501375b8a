"""Box geometry and non-maximum suppression on torch tensors (any device, autograd-safe).

Names, arguments and results follow ``torchvision.ops``; the CPU hot loops are compiled.
"""

from tinyvision.ops._errors import BoxShapeError, DTypeError, FormatConversionError, ShapeError
from tinyvision.ops.boxes import (
    BOX_FORMATS,
    ROTATED_BOX_FORMATS,
    bbox_iou,
    box_area,
    box_convert,
    box_iou,
    clip_boxes_to_image,
    complete_box_iou,
    distance_box_iou,
    generalized_box_iou,
    remove_small_boxes,
)
from tinyvision.ops.nms import batched_nms, diou_nms, nms, nms_rotated, soft_nms

__all__ = [
    "BOX_FORMATS",
    "ROTATED_BOX_FORMATS",
    "BoxShapeError",
    "DTypeError",
    "FormatConversionError",
    "ShapeError",
    "batched_nms",
    "bbox_iou",
    "box_area",
    "box_convert",
    "box_iou",
    "clip_boxes_to_image",
    "complete_box_iou",
    "diou_nms",
    "distance_box_iou",
    "generalized_box_iou",
    "nms",
    "nms_rotated",
    "remove_small_boxes",
    "soft_nms",
]
