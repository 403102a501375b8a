"""What the result's methods compute from the stored matches and the accumulated arrays:
the summary numbers and text, per-class rows, PR curves, counts at a confidence, the best
F1, the confusion matrix and the error breakdown. :class:`DetectionEvaluation`'s methods
delegate here (one implementation each)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tinyvision._fileio import _json_safe
from tinyvision._validate import check_float
from tinyvision.metrics import _detection_kernels as _k
from tinyvision.metrics.coco.params import (
    _COCO_IOUS,
    EvaluationParams,
    _has_iou,
    _iou_index,
    _pct,
    _rule,
    _scalar,
)

if TYPE_CHECKING:
    from tinyvision.metrics.coco.evaluation import DetectionEvaluation


@dataclass(frozen=True)
class PRCurve:
    """A precision-recall curve: one point per distinct score, highest score first."""

    precision: np.ndarray  # float64[P]
    recall: np.ndarray  # float64[P]
    score: np.ndarray  # float64[P] the confidence threshold of each point
    num_gt: int  # ground truths that count


@dataclass(frozen=True)
class DetectionCounts:
    """Detections kept at ``score >= confidence``, compared to the ground truth."""

    confidence: float
    tp: int
    fp: int
    fn: int
    precision: float  # tp / (tp + fp), 0 when nothing is kept
    recall: float  # tp / (tp + fn), 0 without ground truth
    f1: float

    def to_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def _counts(confidence: float, tp: int, fp: int, n_gt: int) -> DetectionCounts:
    fn = n_gt - tp
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / n_gt if n_gt else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return DetectionCounts(float(confidence), int(tp), int(fp), int(fn), precision, recall, f1)


_COCO_STAT_NAMES = (
    "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl",
)  # fmt: skip


def _mean_valid(values: np.ndarray) -> float:
    valid = values[values > -1]
    return float(np.mean(valid)) if valid.size else -1.0


COCO_STATS0_MAX_DETS = 100  # the limit pycocotools' summarize() reads stats[0] at


_KPT_STAT_NAMES = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
COCO_KPT_MAX_DETS = 20  # the limit pycocotools' _summarizeKps reads every number at


def _coco_plan(params: EvaluationParams) -> list[tuple[int, float | None, str, int | None]]:
    """The (ap?, iou, area label, max dets) of ``summarize()`` for these parameters: 12
    for bbox and segm, 10 for keypoints (``_summarizeKps``)."""
    limits = params.max_dets
    if params.iou_type == "keypoints":
        # pycocotools reads them all at maxDets=20 (-1 when 20 was not evaluated);
        # "coco-fixed" at the largest limit.
        at = COCO_KPT_MAX_DETS if params.mode == "coco" else limits[-1]
        return [
            (ap, iou, area, at)
            for ap in (1, 0)
            for iou, area in ((None, "all"), (0.5, "all"), (0.75, "all"), (None, "medium"),
                              (None, "large"))
        ]  # fmt: skip
    top = limits[-1] if len(limits) < 3 else limits[2]
    first = limits[0]
    second = limits[1] if len(limits) > 1 else limits[-1]
    # pycocotools' summarize() reads stats[0] with _summarize's default maxDets=100, not
    # maxDets[2]: with maxDets [1, 5, 50] no limit matches and it reports -1 (a quirk;
    # "coco-fixed" reads it at the largest limit, like the other AP numbers).
    overall = COCO_STATS0_MAX_DETS if params.mode == "coco" else top
    return [
        (1, None, "all", overall),
        (1, 0.5, "all", top),
        (1, 0.75, "all", top),
        (1, None, "small", top),
        (1, None, "medium", top),
        (1, None, "large", top),
        (0, None, "all", first),
        (0, None, "all", second),
        (0, None, "all", top),
        (0, None, "small", top),
        (0, None, "medium", top),
        (0, None, "large", top),
    ]


def _coco_stat_names(params: EvaluationParams) -> tuple[str, ...]:
    if params.iou_type == "keypoints":
        return _KPT_STAT_NAMES
    plan = _coco_plan(params)
    if plan[6][3] == 1 and plan[7][3] == 10 and plan[8][3] == 100:
        return _COCO_STAT_NAMES
    names = list(_COCO_STAT_NAMES)
    for i in (6, 7, 8):
        names[i] = f"AR{'all' if plan[i][3] is None else plan[i][3]}"
    return tuple(names)


def _coco_summary(result: DetectionEvaluation, cats: slice) -> list[tuple[float, Any]]:
    """``COCOeval.summarize()._summarize`` for the 12 numbers, the same numpy operations
    in the same order so that the means round the same way."""
    p = result.params
    out = []
    for ap, iou, area, limit in _coco_plan(p):
        aind = [i for i, label in enumerate(p.area_labels) if label == area]
        mind = [i for i, m in enumerate(p.max_dets) if m == limit]
        if ap == 1:
            s = result.precision
            if iou is not None:
                s = s[np.where(iou == p.iou_thresholds)[0]]
            s = s[:, :, cats][:, :, :, aind, mind]
        else:
            s = result.recall
            if iou is not None:
                s = s[np.where(iou == p.iou_thresholds)[0]]
            s = s[:, cats][:, :, aind, mind]
        value = -1.0 if len(s[s > -1]) == 0 else float(np.mean(s[s > -1]))
        out.append((value, (ap, iou, area, limit)))
    return out


def is_coco(params: EvaluationParams) -> bool:
    """A COCO mode (the 12 numbers), not a VOC one."""
    return params.mode in ("coco", "coco-fixed")


def stat_names(params: EvaluationParams) -> tuple[str, ...]:
    """The names of :func:`stats`' numbers."""
    if is_coco(params):
        return _coco_stat_names(params)
    names = []
    for t in params.iou_thresholds:
        names += [f"AP{_pct(t)}", f"AR{_pct(t)}"]
    return tuple(names)


def stats(result: DetectionEvaluation, cats: slice = slice(None)) -> np.ndarray:
    """The summary numbers (float64[S]) over the categories ``cats``."""
    if is_coco(result.params):
        return np.array([value for value, _ in _coco_summary(result, cats)], dtype=np.float64)
    out = []
    for t in range(result.params.iou_thresholds.shape[0]):
        out.append(_mean_valid(result.ap[t, cats, 0, -1]))
        out.append(_mean_valid(result.recall[t, cats, 0, -1]))
    return np.array(out, dtype=np.float64)


def map50(result: DetectionEvaluation) -> float:
    """See :attr:`DetectionEvaluation.map50`."""
    params = result.params
    if is_coco(params):
        # the exact comparison summarize() makes when it picks stats[1]'s threshold
        return float(result.stats[1]) if np.any(params.iou_thresholds == 0.5) else math.nan
    if not _has_iou(params, 0.5):
        return math.nan
    return _mean_valid(result.ap[_iou_index(params, 0.5), :, 0, -1])


def map50_95(result: DetectionEvaluation) -> float:
    """See :attr:`DetectionEvaluation.map50_95`."""
    params = result.params
    if not is_coco(params):
        return math.nan
    if _coco_plan(params)[0][3] not in params.max_dets:
        return math.nan  # "coco" reads stats[0] at maxDets=100, which was not evaluated
    iou = params.iou_thresholds
    if iou.shape != _COCO_IOUS.shape or not np.allclose(iou, _COCO_IOUS, rtol=0, atol=1e-9):
        return math.nan
    return float(result.stats[0])


def report_iou_threshold(params: EvaluationParams) -> float:
    """0.5 when it was evaluated, else the first evaluated threshold."""
    return 0.5 if _has_iou(params, 0.5) else float(params.iou_thresholds[0])


def summary(result: DetectionEvaluation) -> str:
    """The text ``COCOeval.summarize()`` prints (VOC: one AP and recall line per IoU)."""
    p = result.params
    if is_coco(p):
        lines = []
        for value, (ap, iou, area, limit) in _coco_summary(result, slice(None)):
            title = "Average Precision" if ap else "Average Recall"
            kind = "(AP)" if ap else "(AR)"
            iou_text = (
                f"{p.iou_thresholds[0]:0.2f}:{p.iou_thresholds[-1]:0.2f}"
                if iou is None
                else f"{iou:0.2f}"
            )
            limit_text = "all" if limit is None else f"{limit:>3d}"
            lines.append(
                f" {title:<18} {kind} @[ IoU={iou_text:<9} | area={area:>6s} | "
                f"maxDets={limit_text:>3s} ] = {value:0.3f}"
            )
        return "\n".join(lines)
    rule = "11-point" if p.mode == "voc07" else "all-point"
    lines = []
    for t, iou in enumerate(p.iou_thresholds):
        ap = _mean_valid(result.ap[t, :, 0, -1])
        rc = _mean_valid(result.recall[t, :, 0, -1])
        lines.append(f" Average Precision  (AP) @[ IoU>{iou:0.2f} | VOC {rule} ] = {ap:0.3f}")
        lines.append(f" Average Recall     (AR) @[ IoU>{iou:0.2f} | VOC {rule} ] = {rc:0.3f}")
    return "\n".join(lines)


def per_class(result: DetectionEvaluation) -> list[dict[str, Any]]:
    """One row per category: id, name, counted ground truths, detections, and every
    summary number restricted to that category (-1 where it has no ground truth)."""
    n_det = np.diff(result._cat_start)
    names = result.stat_names
    rows = []
    for k, (cid, name) in enumerate(zip(result.category_ids, result.category_names)):
        row: dict[str, Any] = {
            "category_id": int(cid),
            "name": name,
            "gt": int(result.matches.npig[k, 0]),
            "dt": int(n_det[k]),
        }
        row.update(zip(names, stats(result, slice(k, k + 1)).tolist()))
        rows.append(row)
    return rows


def per_class_text(result: DetectionEvaluation) -> str:
    """The per-class table as aligned text."""
    rows = per_class(result)
    names = result.stat_names
    width = max([len("category")] + [len(r["name"]) for r in rows])
    head = f"{'category':<{width}} {'gt':>7} {'dt':>8} " + " ".join(f"{n:>6}" for n in names)
    lines = [head]
    for r in rows:
        values = " ".join(
            f"{'-':>6}" if r[n] < 0 or math.isnan(r[n]) else f"{r[n]:6.3f}" for n in names
        )
        lines.append(f"{r['name']:<{width}} {r['gt']:>7d} {r['dt']:>8d} {values}")
    return "\n".join(lines)


def _curve_data(
    result: DetectionEvaluation, iou_threshold: float, category_id: int | None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Scores (descending) and states at one IoU (area range 0, all kept detections)."""
    t = _iou_index(result.params, iou_threshold)
    m = result.matches
    if category_id is None:
        score = m.dt_score[result._order]
        state = m.dt_state[result._order, 0, t]
        order = np.argsort(-score, kind="stable")
        return score[order], state[order], int(m.npig[:, 0].sum())
    k = _category_index(result, category_id)
    s, e = result._cat_start[k], result._cat_start[k + 1]
    rows = result._order[s:e]
    return m.dt_score[rows], m.dt_state[rows, 0, t], int(m.npig[k, 0])


def _category_index(result: DetectionEvaluation, category_id: int) -> int:
    hits = np.flatnonzero(result.category_ids == category_id)
    if hits.size == 0:
        raise ValueError(
            f"category_id must be one of the evaluated categories, got {_scalar(category_id)!r}"
        )
    return int(hits[0])


def pr_curve(
    result: DetectionEvaluation, category_id: int | None = None, *, iou_threshold: float = 0.5
) -> PRCurve:
    """See :meth:`DetectionEvaluation.pr_curve`."""
    score, state, n_gt = _curve_data(result, iou_threshold, category_id)
    counted = state != _k.IGNORED
    score, state = score[counted], state[counted]
    tp = np.cumsum(state == _k.TP)
    fp = np.cumsum(state == _k.FP)
    last = np.flatnonzero(np.append(score[1:] != score[:-1], True)) if score.size else score
    last = last.astype(np.int64)
    tp, fp, pts = tp[last], fp[last], score[last]
    precision = np.divide(tp, tp + fp, out=np.zeros(tp.shape), where=(tp + fp) > 0)
    recall = tp / n_gt if n_gt else np.zeros(tp.shape)
    return PRCurve(precision, recall.astype(np.float64), pts, n_gt)


def counts(
    result: DetectionEvaluation,
    confidence: float = 0.0,
    *,
    iou_threshold: float = 0.5,
    category_id: int | None = None,
) -> DetectionCounts:
    """See :meth:`DetectionEvaluation.counts`."""
    confidence = check_float(confidence, "confidence")
    score, state, n_gt = _curve_data(result, iou_threshold, category_id)
    kept = score >= confidence
    return _counts(
        confidence,
        int(np.count_nonzero(state[kept] == _k.TP)),
        int(np.count_nonzero(state[kept] == _k.FP)),
        n_gt,
    )


def best_f1(
    result: DetectionEvaluation, *, iou_threshold: float = 0.5, category_id: int | None = None
) -> DetectionCounts:
    """See :meth:`DetectionEvaluation.best_f1`."""
    curve = pr_curve(result, category_id, iou_threshold=iou_threshold)
    if curve.score.size == 0:
        return _counts(math.inf, 0, 0, curve.num_gt)
    denom = curve.precision + curve.recall
    f1 = np.divide(
        2 * curve.precision * curve.recall, denom, out=np.zeros(denom.shape), where=denom > 0
    )
    best = int(np.argmax(f1))
    return counts(
        result, float(curve.score[best]), iou_threshold=iou_threshold, category_id=category_id
    )


def confusion_matrix(
    result: DetectionEvaluation, confidence: float = 0.25, *, iou_threshold: float = 0.5
) -> np.ndarray:
    """See :meth:`DetectionEvaluation.confusion_matrix`."""
    return _explain(result, confidence, iou_threshold)[0]


def error_breakdown(
    result: DetectionEvaluation,
    confidence: float = 0.25,
    *,
    iou_threshold: float = 0.5,
    loc_threshold: float = 0.1,
) -> dict[str, int]:
    """See :meth:`DetectionEvaluation.error_breakdown`."""
    loc = check_float(loc_threshold, "loc_threshold", minimum=0.0, maximum=1.0)
    matrix, kind, n_tp = _explain(result, confidence, iou_threshold, loc)
    k = matrix.shape[0] - 1
    confused = int(matrix[:k, :k].sum() - np.trace(matrix[:k, :k]))
    return {
        "tp": n_tp,
        "fp_confusion": int(np.count_nonzero(kind == _k.ERR_CONFUSION)),
        "fp_duplicate": int(np.count_nonzero(kind == _k.ERR_DUPLICATE)),
        "fp_localization": int(np.count_nonzero(kind == _k.ERR_LOCALIZATION)),
        "fp_background": int(np.count_nonzero(kind == _k.ERR_BACKGROUND)),
        "fn_confused": confused,
        "fn_missed": int(matrix[:k, k].sum()),
    }


def _explain(
    result: DetectionEvaluation, confidence: float, iou_threshold: float, loc_threshold: float = 0.1
) -> tuple[np.ndarray, np.ndarray, int]:
    confidence = check_float(confidence, "confidence")
    iou = check_float(iou_threshold, "iou_threshold", minimum=0.0, maximum=1.0)
    m = result.matches
    p = result.params
    n_img = max(m.image_ids.shape[0], 1)
    n_cat = m.category_ids.shape[0]
    g_img = np.searchsorted(m.image_ids, m.gt_image)
    d_img = np.searchsorted(m.image_ids, m.dt_image)
    state, taken = _matches_at(result, iou, g_img, d_img)
    kept = m.dt_score >= confidence
    matrix = np.zeros((n_cat + 1, n_cat + 1), dtype=np.int64)
    tp = kept & (state == _k.TP)
    np.add.at(matrix, (m.dt_cat[tp], m.dt_cat[tp]), 1)
    # Ground truths that count in the first area range, and those no kept TP took.
    lo, hi = p.area_ranges[0]
    if p.mode in ("voc07", "voc2010"):
        counted = ~m.gt_ignore
    else:
        inside = (m.gt_area <= hi) if p.mode == "coco" else (m.gt_area < hi)
        counted = ~m.gt_ignore & (m.gt_area >= lo) & inside
    free = counted & ~(taken >= confidence)
    img_start = np.searchsorted(g_img, np.arange(n_img + 1)).astype(np.int64)
    fp = np.flatnonzero(kept & (state == _k.FP))
    fp = fp[np.argsort(-m.dt_score[fp], kind="stable")]
    confusions, kind = _k.confuse(
        img_start=img_start,
        g_cat=m.gt_cat,
        g_box=m.gt_box,
        g_counted=counted,
        g_free=free,
        d_img=d_img[fp],
        d_cat=m.dt_cat[fp],
        d_box=m.dt_box[fp],
        iou_thr=iou,
        loc_thr=loc_threshold,
        n_cats=n_cat,
    )
    return matrix + confusions, kind, int(np.count_nonzero(tp))


def _matches_at(
    result: DetectionEvaluation, iou: float, g_img: np.ndarray, d_img: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each detection's state (uint8[D]) and each ground truth's taker score (float64[G])
    at ``iou`` in the first area range: the stored matches when ``iou`` was evaluated,
    else the box matching run again at that threshold (rows are grouped by image, then
    category, as the evaluation made them)."""
    m = result.matches
    p = result.params
    if _has_iou(p, iou):
        t = _iou_index(p, iou)
        return m.dt_state[:, 0, t], m.gt_taken[:, t]
    if p.iou_type != "bbox":
        raise ValueError(
            f"iou_threshold must be one of the evaluated thresholds "
            f"{np.round(p.iou_thresholds, 4).tolist()} for iou_type {p.iou_type!r}, "
            f"got {_scalar(iou)!r}"
        )
    n_cat = m.category_ids.shape[0]
    state, _, _, taken = _k.match_groups(
        gkey=g_img * n_cat + m.gt_cat,
        gbox=m.gt_box,
        garea=m.gt_area,
        gignore=m.gt_ignore,
        gcrowd=m.gt_crowd,
        gcounts=m.gt_counts,
        dkey=d_img * n_cat + m.dt_cat,
        dbox=m.dt_box,
        darea=m.dt_area,
        dscore=m.dt_score,
        area_rng=p.area_ranges[:1],
        closed=p.mode == "coco",
        iou_thr=np.array([iou]),
        rule=_rule(p.mode),
        n_cats=n_cat,
        keep_rows=False,
        use_given=False,
        given=np.zeros(0),
    )
    return state[:, 0, 0], taken[:, 0]


def to_dict(
    result: DetectionEvaluation, *, confidence: float = 0.25, iou_threshold: float | None = None
) -> dict[str, Any]:
    """See :meth:`DetectionEvaluation.to_dict`."""
    p = result.params
    if iou_threshold is None:
        iou = report_iou_threshold(p)
    else:
        iou = check_float(iou_threshold, "iou_threshold", minimum=0.0, maximum=1.0)
        iou = float(p.iou_thresholds[_iou_index(p, iou)])
    m = result.matches
    best = best_f1(result, iou_threshold=iou)
    return _json_safe(
        {
            "mode": p.mode,
            "map50": result.map50,
            "map50_95": result.map50_95,
            "stats": dict(zip(result.stat_names, result.stats.tolist())),
            "params": p.to_dict(),
            "iou_threshold": iou,
            "num_images": int(m.image_ids.shape[0]),
            "num_gt": int(m.npig[:, 0].sum()),
            "num_detections": int(m.dt_score.shape[0]),
            "counts": {
                "iou_threshold": iou,
                "at_confidence": counts(result, confidence, iou_threshold=iou).to_dict(),
                "at_best_f1": best.to_dict(),
            },
            "per_class": per_class(result),
            "categories": [
                {"id": int(c), "name": n}
                for c, n in zip(result.category_ids, result.category_names)
            ],
            "errors": {
                "confidence": confidence,
                "iou_threshold": iou,
                **error_breakdown(result, confidence, iou_threshold=iou),
            },
            "confusion_matrix": {
                "confidence": confidence,
                "iou_threshold": iou,
                "labels": [*result.category_names, "background"],
                "matrix": confusion_matrix(result, confidence, iou_threshold=iou).tolist(),
            },
        }
    )
