"""``COCOeval`` and ``Params``: pycocotools 2.0.11's evaluation API over tinyvision's evaluator.

``evaluate()`` hands the selected annotations and results to
:func:`tinyvision.metrics.match_images` (mode ``"coco"``), ``accumulate()`` to
:func:`tinyvision.metrics.accumulate_matches`; ``summarize()`` prints pycocotools' text from
``eval`` and sets ``stats``. The arrays are pycocotools' to the bit. ``evalImgs`` and
``ious`` (pycocotools' per-image records) are built on first access, not during
``evaluate()``.

How pycocotools' selection is reproduced:

* ``params.imgIds`` (made unique and sorted by ``evaluate``) are the evaluated images,
  ``params.catIds`` (unique, sorted) the categories, in that order in the arrays;
* ``useCats=0`` pools an image's objects of every category of ``params.catIds`` into one
  category (id -1, ``K = 1``), ground truths and tied detections in ``catIds`` order as
  pycocotools concatenates them;
* ground-truth ``area`` and the annotation ids are the file's (an id of 0 never matches, as
  in pycocotools); ``iscrowd`` sets ``ignore``.
"""

from __future__ import annotations

import copy
import datetime
import time
from typing import Any

import numpy as np

from tinyvision.coco import _records
from tinyvision.coco._log import say
from tinyvision.coco._prepare import POOLED, Selection, match, prepare
from tinyvision.metrics import ImageMatches, accumulate_matches

__all__ = ["COCOeval", "Params"]

_IOU_TYPES = ("segm", "bbox", "keypoints")


class Params:
    """pycocotools' evaluation parameters (the same fields and defaults).

    ``imgIds``, ``catIds``; ``iouThrs`` float64[T]; ``recThrs`` float64[R]; ``maxDets``
    (M limits); ``areaRng`` (A ``[lo, hi]`` pairs, pixels^2, closed) and ``areaRngLbl``;
    ``useCats``; for keypoints ``kpt_oks_sigmas`` float64[17].
    """

    def setDetParams(self) -> None:
        self.imgIds: list[Any] = []
        self.catIds: list[Any] = []
        self.iouThrs = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
        self.recThrs = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
        self.maxDets = [1, 10, 100]
        self.areaRng = [[0**2, 1e5**2], [0**2, 32**2], [32**2, 96**2], [96**2, 1e5**2]]
        self.areaRngLbl = ["all", "small", "medium", "large"]
        self.useCats = 1

    def setKpParams(self) -> None:
        self.imgIds = []
        self.catIds = []
        self.iouThrs = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
        self.recThrs = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
        self.maxDets = [20]
        self.areaRng = [[0**2, 1e5**2], [32**2, 96**2], [96**2, 1e5**2]]
        self.areaRngLbl = ["all", "medium", "large"]
        self.useCats = 1
        self.kpt_oks_sigmas = (
            np.array(
                [.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87,
                 .89, .89]
            )
            / 10.0
        )  # fmt: skip

    def __init__(self, iouType: str = "segm") -> None:
        if iouType in ("segm", "bbox"):
            self.setDetParams()
        elif iouType == "keypoints":
            self.setKpParams()
        else:
            raise ValueError(f"iouType must be one of {list(_IOU_TYPES)}, got {iouType!r}")
        self.iouType = iouType
        self.useSegm = None  # deprecated in pycocotools; 1 means "segm", 0 "bbox"


class COCOeval:
    """Evaluate results (``cocoDt``) against ground truth (``cocoGt``) as pycocotools does.

    >>> E = COCOeval(cocoGt, cocoDt, "bbox")   # doctest: +SKIP
    >>> E.evaluate(); E.accumulate(); E.summarize()
    >>> E.stats[0]                              # AP@[.5:.95]

    Attributes (after the calls that fill them):
        params (Params): what is evaluated; ``evaluate`` normalises ``imgIds``, ``catIds``
            and ``maxDets`` in place, as pycocotools does.
        eval (dict): ``params``, ``counts`` ``[T, R, K, A, M]``, ``date``, ``precision``
            float64[T, R, K, A, M], ``recall`` float64[T, K, A, M], ``scores``
            float64[T, R, K, A, M] (-1 where a category has no ground truth).
        stats (float64[12], keypoints [10]): the summary numbers.
        evalImgs (list): per (category, area range, image) dict or ``None``.
        ious (dict): ``{(imgId, catId): float64[D, G]}`` (``[]`` when both are empty).
    """

    def __init__(self, cocoGt: Any = None, cocoDt: Any = None, iouType: str = "segm") -> None:
        if not iouType:
            say("iouType not specified. use default iouType segm")
        self.cocoGt = cocoGt
        self.cocoDt = cocoDt
        self.eval: dict[str, Any] = {}
        self.params = Params(iouType=iouType)
        self._paramsEval: Any = {}
        self.stats: Any = []
        self._matches: ImageMatches | None = None
        self._selection: Selection | None = None
        self._cache: dict[str, Any] = {}
        if cocoGt is not None:
            self.params.imgIds = sorted(cocoGt.getImgIds())
            self.params.catIds = sorted(cocoGt.getCatIds())

    # ----- evaluate ----------------------------------------------------------------------
    def evaluate(self) -> None:
        """Match results to ground truth image by image (the arrays behind ``evalImgs``)."""
        tic = time.time()
        say("Running per image evaluation...")
        p = self.params
        if p.useSegm is not None:
            p.iouType = "segm" if p.useSegm == 1 else "bbox"
            say(f"useSegm (deprecated) is not None. Running {p.iouType} evaluation")
        say(f"Evaluate annotation type *{p.iouType}*")
        p.imgIds = list(np.unique(p.imgIds))
        if p.useCats:
            p.catIds = list(np.unique(p.catIds))
        p.maxDets = sorted(p.maxDets)
        self.params = p
        self._selection = prepare(self.cocoGt, self.cocoDt, p)
        self._matches = match(self._selection, p)
        self._cache = {}
        self.eval = {}
        self._paramsEval = copy.deepcopy(p)
        say(f"DONE (t={time.time() - tic:0.2f}s).")

    # ----- accumulate --------------------------------------------------------------------
    def accumulate(self, p: Params | None = None) -> None:
        """Fill ``eval`` from the matches of :meth:`evaluate` (``p``: parameters to read
        them with, by default ``params``; its images, categories, area ranges and limits
        are taken where :meth:`evaluate` had them, as pycocotools does)."""
        say("Accumulating evaluation results...")
        tic = time.time()
        if self._matches is None:
            say("Please run evaluate() first")
            raise RuntimeError("accumulate() needs evaluate() first")
        if p is None:
            p = self.params
        p.catIds = p.catIds if p.useCats == 1 else [POOLED]
        precision, recall, scores = self._accumulate(p)
        self.eval = {
            "params": p,
            "counts": [*precision.shape[:2], recall.shape[1], *recall.shape[2:]],
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "precision": precision,
            "recall": recall,
            "scores": scores,
        }
        say(f"DONE (t={time.time() - tic:0.2f}s).")

    def _accumulate(self, p: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pe = self._paramsEval
        assert self._matches is not None
        if _same_selection(p, pe):
            result = accumulate_matches(self._matches)
            return result.precision, result.recall, result.scores
        # Other parameters: pycocotools reads the evaluated records at the *positions* of
        # the entries of ``p`` that were evaluated (``p.catIds[n]`` in the evaluated set ->
        # the n-th evaluated category; limits by value), packed at the front of arrays
        # sized by ``p``. Matching again on that selection gives the same records (a
        # detection's match depends only on higher-scored ones).
        cats = pe.catIds if pe.useCats else [POOLED]
        k_list = _evaluated_positions(p.catIds, cats, cats)
        i_list = _evaluated_positions(p.imgIds, pe.imgIds, pe.imgIds)
        a_list = _evaluated_positions(
            [tuple(a) for a in p.areaRng], [tuple(a) for a in pe.areaRng], pe.areaRng
        )
        m_list = [m for m in p.maxDets if m in set(pe.maxDets)]
        T, R = len(p.iouThrs), len(p.recThrs)
        K = len(p.catIds) if p.useCats else 1
        A, M = len(p.areaRng), len(p.maxDets)
        precision = -np.ones((T, R, K, A, M))
        recall = -np.ones((T, K, A, M))
        scores = -np.ones((T, R, K, A, M))
        if not (k_list and m_list and a_list and i_list):
            return precision, recall, scores
        sub = copy.deepcopy(pe)
        sub.imgIds, sub.areaRng, sub.maxDets = i_list, a_list, sorted(m_list)
        if pe.useCats:
            sub.catIds = k_list
        sub.recThrs = p.recThrs
        result = accumulate_matches(match(prepare(self.cocoGt, self.cocoDt, sub), sub))
        limits = [sub.maxDets.index(m) for m in m_list]  # back to p's order of limits
        t = min(T, result.precision.shape[0])
        k, a, m = len(k_list), len(a_list), len(m_list)
        precision[:t, :, :k, :a, :m] = result.precision[:t][..., limits]
        recall[:t, :k, :a, :m] = result.recall[:t][..., limits]
        scores[:t, :, :k, :a, :m] = result.scores[:t][..., limits]
        return precision, recall, scores

    # ----- summarize ---------------------------------------------------------------------
    def summarize(self) -> None:
        """Print pycocotools' summary (12 lines; keypoints 10) and set ``stats``."""
        if not self.eval:
            raise RuntimeError("Please run accumulate() first")
        if self.params.iouType == "keypoints":
            plan = _KEYPOINT_PLAN
        else:
            m = self.params.maxDets
            plan = [
                (1, None, "all", 100),  # pycocotools' default maxDets, not maxDets[2]
                (1, 0.5, "all", m[2]),
                (1, 0.75, "all", m[2]),
                (1, None, "small", m[2]),
                (1, None, "medium", m[2]),
                (1, None, "large", m[2]),
                (0, None, "all", m[0]),
                (0, None, "all", m[1]),
                (0, None, "all", m[2]),
                (0, None, "small", m[2]),
                (0, None, "medium", m[2]),
                (0, None, "large", m[2]),
            ]
        stats = np.zeros((len(plan),))
        for i, (ap, iou, area, max_dets) in enumerate(plan):
            stats[i] = self._summarize(ap, iou, area, max_dets)
        self.stats = stats

    def _summarize(self, ap: int, iou: float | None, area: str, max_dets: int) -> Any:
        p = self.params
        mean = summary_value(self.eval, p, ap, iou, area, max_dets)
        title = "Average Precision" if ap == 1 else "Average Recall"
        kind = "(AP)" if ap == 1 else "(AR)"
        iou_text = f"{p.iouThrs[0]:0.2f}:{p.iouThrs[-1]:0.2f}" if iou is None else f"{iou:0.2f}"
        say(
            f" {title:<18} {kind} @[ IoU={iou_text:<9} | area={area:>6s} | "
            f"maxDets={max_dets:>3d} ] = {mean:0.3f}"
        )
        return mean

    def __str__(self) -> str:
        self.summarize()
        return ""

    # ----- per-image records, on demand --------------------------------------------------
    @property
    def evalImgs(self) -> list[Any]:
        """pycocotools' per (category, area range, image) records, built on first access."""
        if self._matches is None:
            return []
        if "evalImgs" not in self._cache:
            assert self._selection is not None
            self._cache["evalImgs"] = _records.eval_imgs(
                self._selection, self._matches, self._paramsEval
            )
        return self._cache["evalImgs"]

    @property
    def ious(self) -> dict[tuple[Any, Any], Any]:
        """``{(imgId, catId): float64[D, G]}`` as pycocotools' ``computeIoU``/``computeOks``."""
        if self._matches is None:
            return {}
        if "ious" not in self._cache:
            assert self._selection is not None
            self._cache["ious"] = _records.ious(self._selection, self._matches, self._paramsEval)
        return self._cache["ious"]

    @evalImgs.setter
    def evalImgs(self, value: Any) -> None:
        raise AttributeError(
            "COCOeval.evalImgs is read-only here: accumulate() reads the evaluator's matches, "
            "not per-image records (code that merges pycocotools' evalImgs by hand, as "
            "torchvision's detection references do, needs pycocotools itself)"
        )


def summary_value(
    eval_: dict[str, Any],
    p: Any,
    ap: int,
    iou: float | None,
    area: str,
    max_dets: int,
    cats: slice = slice(None),
) -> Any:
    """One number of ``summarize()``: the mean of the valid (> -1) entries of precision
    (``ap=1``) or recall at IoU ``iou`` (all when None), area label ``area`` and limit
    ``max_dets``, over categories ``cats``; -1 when none is valid. The same numpy
    operations as pycocotools', hence the same rounding."""
    aind = [i for i, label in enumerate(p.areaRngLbl) if label == area]
    mind = [i for i, m in enumerate(p.maxDets) if m == max_dets]
    s = eval_["precision"] if ap == 1 else eval_["recall"]
    if iou is not None:
        s = s[np.where(iou == p.iouThrs)[0]]
    s = s[:, :, cats][:, :, :, aind, mind] if ap == 1 else s[:, cats][:, :, aind, mind]
    return -1 if len(s[s > -1]) == 0 else np.mean(s[s > -1])


_KEYPOINT_PLAN = [
    (1, None, "all", 20),
    (1, 0.5, "all", 20),
    (1, 0.75, "all", 20),
    (1, None, "medium", 20),
    (1, None, "large", 20),
    (0, None, "all", 20),
    (0, 0.5, "all", 20),
    (0, 0.75, "all", 20),
    (0, None, "medium", 20),
    (0, None, "large", 20),
]


def _evaluated_positions(wanted: Any, evaluated: Any, values: Any) -> list[Any]:
    """``values[n]`` for each position ``n`` of ``wanted`` whose entry was evaluated."""
    known = set(evaluated)
    positions = [n for n, w in enumerate(wanted) if w in known]
    if positions and positions[-1] >= len(values):
        raise IndexError(
            f"accumulate(p): entry {positions[-1]} of p lies past the {len(values)} evaluated"
        )
    return [values[n] for n in positions]


def _same_selection(p: Params, pe: Params) -> bool:
    """Whether ``accumulate(p)`` reads exactly what ``evaluate`` matched."""
    cats = pe.catIds if pe.useCats else [POOLED]
    return (
        list(p.catIds) == list(cats)
        and list(p.imgIds) == list(pe.imgIds)
        and [list(a) for a in p.areaRng] == [list(a) for a in pe.areaRng]
        and list(p.maxDets) == list(pe.maxDets)
        and np.array_equal(p.recThrs, pe.recThrs)
        and np.array_equal(p.iouThrs, pe.iouThrs)
        and bool(p.useCats) == bool(pe.useCats)
    )
