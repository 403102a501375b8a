"""COCO-exact detection evaluation, its documented fixes, and the VOC metrics.

One module per step: :mod:`.params` (what is measured), :mod:`.matching`,
:mod:`.evaluation` and :mod:`.analysis` (what the result's methods compute). Three steps, as
pycocotools' ``COCOeval`` (``evaluate`` -> ``accumulate`` -> ``summarize``):

* :func:`match_images` matches detections to ground truths image by image and returns
  :class:`ImageMatches`, which merge across processes (:meth:`ImageMatches.merge`,
  :func:`gather_matches` for ``torch.distributed``; ``tinyvision.data.formats`` writes and
  reads shards on disk);
* :func:`accumulate_matches` turns matches into a :class:`DetectionEvaluation`: the 12
  COCO numbers and the ``precision``/``recall``/``scores`` arrays laid out as
  ``COCOeval.eval``, per-class tables, PR curves, counts at a confidence and a confusion
  matrix;
* :func:`evaluate_detections` does both.

Modes:

``"coco"``
    pycocotools 2.0.11, bit for bit, quirks included (see ``docs/detection.md``).
``"coco-fixed"``
    The same protocol without the quirks: ``ignore`` honoured, ground truths with id 0
    match, half-open area ranges, max detections per image over all categories, tied
    scores form one point of the curve, an equal IoU keeps the earlier ground truth, a
    match needs IoU > 0 (even at threshold 0), no ``spacing(1)`` in precision, thresholds
    exactly 0.50, 0.55, ...
``"voc07"``, ``"voc2010"``
    The Pascal VOC devkit: IoU at least 0.5 with the best-overlapping ground truth
    (no fallback to the next one), "difficult" (and crowd) objects ignored, no area ranges
    or detection limit; AP by the 11-point rule (2007) or the area under the precision
    envelope (2010 and later).
"""

from tinyvision.metrics.coco.analysis import DetectionCounts, PRCurve
from tinyvision.metrics.coco.evaluation import (
    DetectionEvaluation,
    accumulate_matches,
    evaluate_detections,
)
from tinyvision.metrics.coco.matching import (
    ImageMatches,
    gather_matches,
    match_images,
    merge_matches,
)
from tinyvision.metrics.coco.params import MODES, EvaluationParams

__all__ = [
    "MODES",
    "DetectionCounts",
    "DetectionEvaluation",
    "EvaluationParams",
    "ImageMatches",
    "PRCurve",
    "accumulate_matches",
    "evaluate_detections",
    "gather_matches",
    "match_images",
    "merge_matches",
]
