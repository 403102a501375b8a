"""pycocotools' API over tinyvision's evaluator: a drop-in for existing evaluation code.

``from tinyvision.coco import COCO, COCOeval, mask`` replaces
``from pycocotools.coco import COCO``, ``from pycocotools.cocoeval import COCOeval`` and
``from pycocotools import mask``; the results are pycocotools 2.0.11's, bit for bit (see
``docs/detection.md``, "Drop-in for pycocotools and torchmetrics").
"""

from tinyvision.coco import mask
from tinyvision.coco.coco import COCO
from tinyvision.coco.cocoeval import COCOeval, Params

__all__ = ["COCO", "COCOeval", "Params", "mask"]
