"""Detection data set formats: COCO json, YOLO txt folders, Pascal VOC xml.

Every reader returns the same in-memory form, a :class:`DetectionDataset` (ground truth)
or :class:`Detections` (a detector's results): numpy columns with boxes as COCO's
``[x, y, w, h]`` in absolute pixels. Writers take the same objects, so converting is
reading one format and writing another (:func:`convert`).

==========  ===================================  =====================================
format      ground truth                         predictions
==========  ===================================  =====================================
COCO        :func:`read_coco` / :func:`write_coco`  :func:`read_coco_results` /
                                                 :func:`write_coco_results`
YOLO        :func:`read_yolo` / :func:`write_yolo`  :func:`read_yolo_predictions` /
                                                 :func:`write_yolo_predictions`
VOC         :func:`read_voc` / :func:`write_voc`    :func:`read_voc_predictions` /
                                                 :func:`write_voc_predictions`
==========  ===================================  =====================================

:func:`load_dataset` and :func:`load_predictions` recognise the format of a path.

One module per format: :mod:`~tinyvision.data.formats.coco`,
:mod:`~tinyvision.data.formats.yolo`, :mod:`~tinyvision.data.formats.voc`; any of them:
:mod:`~tinyvision.data.formats.auto`; match shards: :mod:`~tinyvision.data.formats.shards`.
This package re-exports their public names. Images are read by :mod:`tinyvision.data.images`.

Conventions:

* YOLO: ``data.yaml`` (``path``, ``train``/``val``/``test``, ``names``); labels at
  ``.../labels/...`` beside ``.../images/...``, one ``class cx cy w h`` line per object,
  normalised to [0, 1] (a polygon line ``class x1 y1 x2 y2 ...`` is a box by its bounds
  and a ``segmentation`` polygon for ``iou_type="segm"``);
  predictions as YOLOv5 ``--save-txt --save-conf`` writes them (``class cx cy w h conf``).
  Category ids are the class indices 0..nc-1; image sizes come from the image headers.
* VOC: ``Annotations/*.xml``, ``ImageSets/Main/<split>.txt``, ``JPEGImages/``; boxes
  are 1-based inclusive pixel indices, so ``xmin..xmax`` becomes ``x = xmin - 1``,
  ``w = xmax - xmin + 1``; ``difficult`` objects are ``ignore``\\ d. Category ids are
  0..K-1 over the class names sorted (VOC's own class list is alphabetical).
  Predictions are the devkit's per-class files ``<anything>_<class>.txt`` with lines
  ``<image> <score> <xmin> <ymin> <xmax> <ymax>``.
* Image ids: COCO's own; for YOLO and VOC the file stem when every stem is an integer,
  else 1..N in sorted file order.
* Match shards of a distributed evaluation: :func:`write_matches` / :func:`read_matches`.
"""

from tinyvision.data.formats._common import check_split_name
from tinyvision.data.formats.auto import (
    convert,
    detect_format,
    input_files,
    load_dataset,
    load_predictions,
    write_dataset,
)
from tinyvision.data.formats.coco import (
    read_coco,
    read_coco_results,
    to_coco,
    write_coco,
    write_coco_results,
)
from tinyvision.data.formats.shards import read_matches, write_matches
from tinyvision.data.formats.voc import (
    read_voc,
    read_voc_predictions,
    write_voc,
    write_voc_predictions,
)
from tinyvision.data.formats.yolo import (
    BadLabelsWarning,
    read_yolo,
    read_yolo_predictions,
    write_yolo,
    write_yolo_predictions,
)
from tinyvision.data.images import IMAGE_SUFFIXES, image_size
from tinyvision.structures import DetectionDataset, Detections

__all__ = [
    "IMAGE_SUFFIXES",
    "BadLabelsWarning",
    "DetectionDataset",
    "Detections",
    "check_split_name",
    "convert",
    "detect_format",
    "image_size",
    "input_files",
    "load_dataset",
    "load_predictions",
    "read_coco",
    "read_coco_results",
    "read_matches",
    "read_voc",
    "read_voc_predictions",
    "read_yolo",
    "read_yolo_predictions",
    "to_coco",
    "write_coco",
    "write_coco_results",
    "write_dataset",
    "write_matches",
    "write_voc",
    "write_voc_predictions",
    "write_yolo",
    "write_yolo_predictions",
]
