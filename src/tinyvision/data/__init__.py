"""Data: image-classification data sets and whole-batch transforms, detection data set formats
(COCO json, YOLO txt, Pascal VOC xml), generated COCO-like data, the synthetic shapes
detection set, detection augmentation (mosaic, random perspective, HSV, flip) and the
threaded detection batch loader, and seeded synthetic detector output for NMS
(:func:`clustered_detections`).

See :mod:`tinyvision.data.images` for the one image reader (EXIF orientation applied),
:mod:`tinyvision.data.formats` for the detection readers, writers and their conventions,
:mod:`tinyvision.data.cifar` and :mod:`tinyvision.data.digits` for the classification data sets,
:mod:`tinyvision.data.folders` for a class-per-folder image set of one's own.
"""

from tinyvision.data.augment import (
    augment_hsv,
    hflip,
    letterbox,
    mosaic,
    random_perspective,
    resize_longest,
)
from tinyvision.data.cifar import CIFAR10_CLASSES, download_cifar10, load_cifar10
from tinyvision.data.cocolike import make_coco_like, make_coco_like_tables
from tinyvision.data.cocolike_instances import make_coco_like_keypoints, make_coco_like_segm
from tinyvision.data.dataset import ImageDataset, stratified_split
from tinyvision.data.digits import load_digits
from tinyvision.data.folders import BadImagesWarning, load_image_folder
from tinyvision.data.formats import (
    BadLabelsWarning,
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
from tinyvision.data.images import (
    IMAGE_SUFFIXES,
    decode_image,
    image_size,
    is_image_file,
    read_image,
)
from tinyvision.data.loader import AugmentConfig, DetectionLoader, LoadedImages, load_images
from tinyvision.data.shapes import SHAPE_CLASSES, ShapesConfig, make_shapes, render_shapes
from tinyvision.data.synthetic import DetectionScene, clustered_detections
from tinyvision.data.transforms import channel_stats, normalize, random_flip, random_translate

__all__ = [
    "CIFAR10_CLASSES",
    "IMAGE_SUFFIXES",
    "SHAPE_CLASSES",
    "AugmentConfig",
    "BadImagesWarning",
    "BadLabelsWarning",
    "DetectionDataset",
    "DetectionLoader",
    "DetectionScene",
    "Detections",
    "ImageDataset",
    "LoadedImages",
    "ShapesConfig",
    "augment_hsv",
    "channel_stats",
    "clustered_detections",
    "convert",
    "decode_image",
    "download_cifar10",
    "hflip",
    "image_size",
    "is_image_file",
    "letterbox",
    "load_cifar10",
    "load_dataset",
    "load_digits",
    "load_image_folder",
    "load_images",
    "load_predictions",
    "make_coco_like",
    "make_coco_like_keypoints",
    "make_coco_like_segm",
    "make_coco_like_tables",
    "make_shapes",
    "mosaic",
    "normalize",
    "random_flip",
    "random_perspective",
    "random_translate",
    "read_coco",
    "read_coco_results",
    "read_image",
    "read_matches",
    "read_voc",
    "read_voc_predictions",
    "read_yolo",
    "read_yolo_predictions",
    "render_shapes",
    "resize_longest",
    "stratified_split",
    "write_coco",
    "write_coco_results",
    "write_matches",
    "write_voc",
    "write_voc_predictions",
    "write_yolo",
    "write_yolo_predictions",
]
