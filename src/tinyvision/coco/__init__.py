"""pycocotools' API on tinyvision's evaluator (``from tinyvision.coco import mask``).

Minimal version on the masks branch: only :mod:`tinyvision.coco.mask`; the ``COCO`` and
``COCOeval`` classes come with the cocoface branch, whose version of this file wins.
"""

from tinyvision.coco import mask

__all__ = ["mask"]
