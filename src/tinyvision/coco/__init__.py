"""pycocotools' API over tinyvision's evaluator: a drop-in for existing evaluation code.

``from tinyvision.coco import COCO, COCOeval, mask`` replaces
``from pycocotools.coco import COCO``, ``from pycocotools.cocoeval import COCOeval`` and
``from pycocotools import mask``; the results are pycocotools 2.0.11's, bit for bit (see
``docs/detection.md``, "Drop-in for pycocotools and torchmetrics").
"""

from __future__ import annotations

import importlib
from typing import Any

from tinyvision.coco.coco import COCO
from tinyvision.coco.cocoeval import COCOeval, Params

__all__ = ["COCO", "COCOeval", "Params", "mask"]


def __getattr__(name: str) -> Any:
    # ``mask`` is imported on first use (its kernels compile with numba).
    if name == "mask":
        return importlib.import_module("tinyvision.coco.mask")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
