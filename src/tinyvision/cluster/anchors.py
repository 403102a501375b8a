"""Anchor boxes for YOLO-style detectors: k-means on box sizes, then a genetic refinement.

YOLOv5's autoanchor metric: a label of size (w, h) *fits* an anchor (aw, ah) when both
ratios r = w / aw and h / ah satisfy ``max(r, 1 / r) < thr`` (default thr = 4). Writing
``x = min(r, 1 / r)`` over width and height and taking the worse of the two, a label fits
when ``x > 1 / thr``; its best anchor is the one with the largest x.

- :func:`best_possible_recall` (BPR): the fraction of labels that fit at least one anchor,
  the recall a detector could reach if every fitting anchor were matched.
- :func:`anchor_fitness`: the mean over labels of the best x, counting labels that fit no
  anchor as 0; the quantity the refinement maximises.
- :func:`anchor_kmeans`: YOLOv5's ``kmean_anchors``: k-means on the sizes divided by their
  standard deviation (whitened), then ``generations`` rounds of mutation (each anchor
  coordinate multiplied by a random factor with probability 0.9) keeping a mutation only if
  it raises the fitness; anchors are returned sorted by area, smallest first.

The metric is scale-free, so ``best_possible_recall`` and ``anchor_fitness`` take sizes
and anchors in any one unit (pixels, or fractions of the image).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from tinyvision._validate import check_array, check_float, check_int
from tinyvision.cluster._anchor_kernels import best_ratios
from tinyvision.cluster._common import RandomStateLike, check_random_state
from tinyvision.cluster.kmeans import KMeans

MIN_PIXELS = 2.0  # YOLOv5: boxes below 2 pixels in both sides are left out of the k-means


def _check_sizes(value: Any, name: str) -> np.ndarray:
    """``[N, 2]`` positive finite widths and heights as float64."""
    array = check_array(
        value, name, shape=(None, 2), dtype=np.float64, contiguous=True, layout="(width, height)"
    )
    if array.size and array.min() <= 0:
        row, col = np.unravel_index(int(np.argmin(array)), array.shape)
        side = "width" if col == 0 else "height"
        raise ValueError(
            f"{name} must hold widths and heights > 0, got {side} {array[row, col]:g} in row {row}"
        )
    return array


def _check_thr(thr: Any) -> float:
    return check_float(thr, "thr", minimum=1.0, min_inclusive=False)


def _fitness(wh: np.ndarray, anchors: np.ndarray, thr: float) -> float:
    best = best_ratios(wh, anchors)
    return float(np.mean(np.where(best > 1.0 / thr, best, 0.0)))


def _metric_inputs(wh: Any, anchors: Any, thr: Any) -> tuple[np.ndarray, np.ndarray, float]:
    return _check_sizes(wh, "wh"), _check_sizes(anchors, "anchors"), _check_thr(thr)


def best_possible_recall(wh: Any, anchors: Any, thr: float = 4.0) -> float:
    """Fraction of labels that fit at least one anchor (YOLOv5's BPR).

    Args:
        wh: ``[N, 2]`` label widths and heights (> 0).
        anchors: ``[A, 2]`` anchor widths and heights (> 0), same unit as ``wh``.
        thr: a label fits an anchor when both side ratios are within ``(1/thr, thr)``.

    Returns:
        BPR in [0, 1]; NaN for no labels.
    """
    sizes, boxes, limit = _metric_inputs(wh, anchors, thr)
    if sizes.shape[0] == 0:
        return float("nan")
    if boxes.shape[0] == 0:
        return 0.0
    return float(np.mean(best_ratios(sizes, boxes) > 1.0 / limit))


def anchor_fitness(wh: Any, anchors: Any, thr: float = 4.0) -> float:
    """YOLOv5's anchor fitness: mean best ratio metric, 0 for labels that fit no anchor.

    Args:
        wh: ``[N, 2]`` label widths and heights (> 0).
        anchors: ``[A, 2]`` anchor widths and heights (> 0), same unit as ``wh``.
        thr: the fit threshold, as in :func:`best_possible_recall`.

    Returns:
        Fitness in [0, 1] (1 when every label has an anchor of exactly its size); NaN for
        no labels.
    """
    sizes, boxes, limit = _metric_inputs(wh, anchors, thr)
    if sizes.shape[0] == 0:
        return float("nan")
    if boxes.shape[0] == 0:
        return 0.0
    return _fitness(sizes, boxes, limit)


def anchor_kmeans(
    wh: Any,
    n_anchors: int = 9,
    img_size: int = 640,
    *,
    thr: float = 4.0,
    generations: int = 1000,
    mutation_prob: float = 0.9,
    sigma: float = 0.1,
    random_state: RandomStateLike = None,
) -> Any:
    """Anchors for a training set: k-means on whitened sizes, then genetic refinement.

    Args:
        wh: ``[N, 2]`` label widths and heights as fractions of the image's longer side
            (YOLO-normalised ``w h`` for square images; for an image of width W and height H
            multiply the normalised w by ``W / max(W, H)`` and h by ``H / max(W, H)``).
        n_anchors: number of anchors.
        img_size: training image size in pixels; sizes and anchors are scaled to it.
        thr: fit threshold of the metric (YOLOv5's ``anchor_t``).
        generations: mutation rounds (0 keeps the k-means anchors).
        mutation_prob: probability that an anchor coordinate is mutated in a round.
        sigma: scale of the mutation noise.
        random_state: None, an int seed or a RandomState; the same seed gives the same anchors.

    Returns:
        ``[n_anchors, 2]`` anchors (width, height) in pixels, float32, sorted by area; a
        tensor if ``wh`` is a tensor, else numpy.

    Labels smaller than 2 pixels in both sides are left out of the k-means (YOLOv5's filter).
    When the remaining sizes have fewer than ``n_anchors`` distinct values the k-means is
    skipped and the refinement starts from random anchors, as YOLOv5 does (with a
    ``UserWarning``). Sizes above 1 (pixels rather than fractions) are used as given,
    with a ``UserWarning``: at ``img_size`` they would be scaled far past the image.

    Raises:
        TypeError: ``wh`` does not hold real numbers.
        ValueError: ``wh`` is not ``[N, 2]``, empty, or holds sizes <= 0, NaN or infinity;
            an option is out of range.
    """
    sizes = _check_sizes(wh, "wh")
    if sizes.shape[0] == 0:
        raise ValueError("wh must hold at least one box to fit anchors to, got an empty array")
    if sizes.max() > 1.0:
        warnings.warn(
            f"wh should hold sizes as fractions of the image (<= 1), got a largest size of "
            f"{sizes.max():g}: pixel sizes? Divide them by the image size (anchors come out "
            f"in pixels at img_size={img_size})",
            UserWarning,
            stacklevel=2,
        )
    n = check_int(n_anchors, "n_anchors", minimum=1)
    size = check_int(img_size, "img_size", minimum=1)
    limit = _check_thr(thr)
    rounds = check_int(generations, "generations", minimum=0)
    prob = check_float(mutation_prob, "mutation_prob", minimum=0.0, maximum=1.0)
    scale = check_float(sigma, "sigma", minimum=0.0)
    rs = check_random_state(random_state)

    pixels = sizes * size
    kept = pixels[(pixels >= MIN_PIXELS).any(axis=1)]
    anchors = _initial_anchors(kept, n, size, rs)
    fitness_set = kept if kept.shape[0] else pixels
    anchors = _evolve(fitness_set, anchors, limit, rounds, prob, scale, rs)
    anchors = anchors[np.argsort(anchors.prod(axis=1), kind="stable")].astype(np.float32)
    return torch.from_numpy(anchors) if isinstance(wh, torch.Tensor) else anchors


def _initial_anchors(
    wh: np.ndarray, n: int, img_size: int, rs: np.random.RandomState
) -> np.ndarray:
    """k-means++ / Lloyd on sizes divided by their standard deviation, scaled back."""
    distinct = np.unique(wh, axis=0).shape[0] if wh.shape[0] else 0
    if distinct >= n:
        std = wh.std(axis=0)
        std[std == 0] = 1.0
        model = KMeans(n, n_init=10, random_state=rs).fit(wh / std)
        return np.asarray(model.cluster_centers_) * std
    # Too few distinct sizes for n clusters: random anchors (YOLOv5's fallback).
    warnings.warn(
        f"n_anchors={n} is more than the {distinct} distinct box size(s) in wh (at least "
        f"{MIN_PIXELS:g} px at img_size={img_size}): k-means skipped, the refinement starts "
        "from random anchors",
        UserWarning,
        stacklevel=3,
    )
    return np.sort(rs.random_sample(n * 2)).reshape(n, 2) * img_size


def _evolve(
    wh: np.ndarray,
    anchors: np.ndarray,
    thr: float,
    generations: int,
    prob: float,
    sigma: float,
    rs: np.random.RandomState,
) -> np.ndarray:
    """Mutate-and-keep-if-better refinement of the anchors' fitness (YOLOv5's evolution)."""
    best = anchors.copy()
    best_fitness = _fitness(wh, best, thr)
    shape = best.shape
    for _ in range(generations):
        factor = np.ones(shape)
        if prob > 0 and sigma > 0:
            while (factor == 1).all():  # mutate until something changes
                mask = rs.random_sample(shape) < prob
                factor = (mask * rs.random_sample() * rs.randn(*shape) * sigma + 1).clip(0.3, 3.0)
        candidate = (best * factor).clip(min=MIN_PIXELS)
        value = _fitness(wh, candidate, thr)
        if value > best_fitness:
            best, best_fitness = candidate, value
    return best
