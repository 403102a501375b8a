"""Write torchvision's results for tinyvision's box ops, NMS and losses to tests/fixtures/.

Run in a reference venv outside the repository (torch 2.14.1 + torchvision 0.29.1, e.g.
``python3 -m venv ../tvref && ../tvref/bin/pip install torch==2.14.1 torchvision==0.29.1 numpy
numba scipy``), from the repository root::

    ../tvref/bin/python scripts/make_reference_fixtures.py

``--only torchvision_nonfinite.pt`` (repeatable) writes just the named file(s); the others are
computed all the same, so every file stays what a full run writes.
``torchvision_rotated.pt`` (rotated ``box_convert``/``box_iou`` and a detectron2-style rotated
NMS loop on torchvision's rotated IoU) draws from its own generator, so adding it changed no
other file.

The tests only read the files written here; they never import torchvision. Each case stores
its inputs next to torchvision's outputs (and gradients), so a test replays the inputs through
tinyvision and compares. Everything is seeded, and the inputs avoid numpy's SIMD-dispatched
functions (``np.exp`` differs in the last bit between its AVX2 and AVX-512 variants), so they
are the same on every machine.

The outputs are not: ATen picks a kernel per CPU capability (``DEFAULT``, ``AVX2``,
``AVX512`` on x86-64; NEON/SVE paths on aarch64), and results that go through vectorised
transcendental functions (``exp``, ``log1p``, ``pow``, ``atan``: focal loss, CIoU) can differ
by a few units in the last place between them. Each file's ``meta`` therefore records the
``cpu_capability`` (``torch.backends.cpu.get_cpu_capability()``) and ``machine`` it was made
on; tests/test_ops_reference.py compares those results bit for bit on that capability and
within stated ulps elsewhere (everything else bit for bit everywhere). Force a capability
with ``ATEN_CPU_CAPABILITY=avx2`` (or ``default``, ``avx512``) to regenerate or to check the
bounds; the current files were made with the native ``AVX512`` of an x86-64 machine.
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import numpy as np
import torch
import torchvision
from torchvision import ops

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures"
SEED = 20240611
BOX_LOSSES = {
    "giou": ops.generalized_box_iou_loss,
    "diou": ops.distance_box_iou_loss,
    "ciou": ops.complete_box_iou_loss,
}


# --------------------------------------------------------------------------- inputs


def random_boxes(rng: np.random.Generator, n: int, scale: float = 100.0) -> np.ndarray:
    """Proper boxes with a few overlapping ones, float64."""
    xy = rng.uniform(0, scale, (n, 2))
    wh = rng.uniform(0.5, scale / 3, (n, 2))
    return np.concatenate([xy, xy + wh], axis=1)


def adversarial_boxes() -> np.ndarray:
    """Degenerate and boundary boxes: zero area, inverted, identical, touching, nested, lines."""
    return np.array(
        [
            [0, 0, 10, 10],
            [0, 0, 10, 10],  # identical
            [10, 0, 20, 10],  # touching along an edge
            [2, 2, 8, 8],  # nested
            [5, 5, 5, 5],  # a point
            [0, 5, 10, 5],  # a horizontal line
            [3, 0, 3, 10],  # a vertical line
            [10, 10, 0, 0],  # inverted (negative width and height)
            [8, 0, 2, 10],  # inverted in x only
            [0, 0, 20, 5],  # wide
            [0, 0, 5, 20],  # tall
            [-5, -5, 5, 5],  # negative coordinates
            [1e4, 1e4, 1e4 + 1, 1e4 + 1],  # far away, small
            [0.1, 0.2, 0.30000001, 0.4],  # tiny
        ],
        dtype=np.float64,
    )


def clustered(rng: np.random.Generator, n: int, scale: float = 1000.0) -> np.ndarray:
    """Detector-like output: jittered boxes around n // 30 objects, float64."""
    k = max(1, n // 30)
    centre = rng.uniform(0, scale, (k, 2))
    size = rng.uniform(0.02, 0.2, (k, 2)) * scale
    which = rng.integers(0, k, n)
    c = centre[which] + rng.normal(0, 0.1, (n, 2)) * size[which]
    wh = size[which] * exp_series(rng.normal(0, 0.1, (n, 2)))
    return np.concatenate([c - wh / 2, c + wh / 2], axis=1)


def exp_series(z: np.ndarray) -> np.ndarray:
    """About ``exp(z)`` for small ``z`` (a Taylor polynomial), with additions, multiplications
    and divisions only: exactly rounded, so the same on every CPU. numpy's ``np.exp`` has a
    SIMD variant per CPU, and they differ in the last bit."""
    return 1 + z * (1 + z / 2 * (1 + z / 3 * (1 + z / 4)))


def t(array: np.ndarray, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.as_tensor(np.asarray(array), dtype=dtype).contiguous()


# --------------------------------------------------------------------------- box ops


def box_cases(rng: np.random.Generator) -> dict:
    a = np.concatenate([random_boxes(rng, 26), adversarial_boxes()])  # [40, 4]
    b = np.concatenate([random_boxes(rng, 21), adversarial_boxes()[::-1]])  # [35, 4]
    out: dict = {"a": t(a, torch.float64), "b": t(b, torch.float64), "pairwise": {}}
    fns = {
        "box_iou": ops.box_iou,
        "generalized_box_iou": ops.generalized_box_iou,
        "distance_box_iou": ops.distance_box_iou,
        "complete_box_iou": ops.complete_box_iou,
    }
    dtypes = {
        "float32": torch.float32,
        "float64": torch.float64,
        "float16": torch.float16,
        "bfloat16": torch.bfloat16,
        "int64": torch.int64,
        "int32": torch.int32,
        "int16": torch.int16,
    }
    ai, bi = np.round(a), np.round(b)
    for dname, dtype in dtypes.items():
        src_a, src_b = (ai, bi) if not dtype.is_floating_point else (a, b)
        ta, tb = t(src_a, dtype), t(src_b, dtype)
        for fname, fn in fns.items():
            out["pairwise"][f"{fname}/{dname}"] = fn(ta, tb)
    # large enough for tinyvision's compiled path (> 4096 pairs), clustered like detections
    big_a, big_b = clustered(rng, 90), clustered(rng, 80)
    out["big_a"], out["big_b"] = t(big_a, torch.float64), t(big_b, torch.float64)
    for dname in ("float32", "float64"):
        ta, tb = t(big_a, dtypes[dname]), t(big_b, dtypes[dname])
        for fname, fn in fns.items():
            out["pairwise"][f"{fname}/big/{dname}"] = fn(ta, tb)
    # eps other than the default
    ta, tb = t(a), t(b)
    out["pairwise"]["distance_box_iou/eps1e-3/float32"] = ops.distance_box_iou(ta, tb, eps=1e-3)
    out["pairwise"]["complete_box_iou/eps1e-3/float32"] = ops.complete_box_iou(ta, tb, eps=1e-3)
    # formats of box_iou
    for fmt in ("xywh", "cxcywh"):
        conv_a = ops.box_convert(t(random_boxes(rng, 12)), "xyxy", fmt)
        conv_b = ops.box_convert(t(random_boxes(rng, 9)), "xyxy", fmt)
        out[f"fmt/{fmt}/a"], out[f"fmt/{fmt}/b"] = conv_a, conv_b
        out[f"fmt/{fmt}/box_iou"] = ops.box_iou(conv_a, conv_b, fmt=fmt)
        out[f"fmt/{fmt}/box_area"] = ops.box_area(conv_a, fmt=fmt)
    # leading batch dimensions
    ba, bb = t(random_boxes(rng, 10).reshape(2, 5, 4)), t(random_boxes(rng, 12).reshape(2, 6, 4))
    out["batched/a"], out["batched/b"] = ba, bb
    for fname, fn in fns.items():
        out[f"batched/{fname}"] = fn(ba, bb)
    # gradients of a weighted sum, through torch autograd
    w = t(rng.uniform(-1, 1, (40, 35)), torch.float64)
    for fname, fn in fns.items():
        for dname in ("float32", "float64"):
            ga = t(a[:26], dtypes[dname]).requires_grad_(True)
            gb = t(b[:21], dtypes[dname]).requires_grad_(True)
            (fn(ga, gb) * w[:26, :21].to(dtypes[dname])).sum().backward()
            out[f"grad/{fname}/{dname}/a"] = ga.grad
            out[f"grad/{fname}/{dname}/b"] = gb.grad
    out["grad/weights"] = w[:26, :21]
    # conversions, areas, clipping, small boxes
    ta = t(a)
    for i_fmt in ("xyxy", "xywh", "cxcywh"):
        for o_fmt in ("xyxy", "xywh", "cxcywh"):
            out[f"convert/{i_fmt}/{o_fmt}"] = ops.box_convert(ta, i_fmt, o_fmt)
    out["convert/int64/xyxy/cxcywh"] = ops.box_convert(t(ai, torch.int64), "xyxy", "cxcywh")
    out["convert/int64/xywh/xyxy"] = ops.box_convert(t(ai, torch.int64), "xywh", "xyxy")
    out["area/float32"] = ops.box_area(ta)
    out["area/float16"] = ops.box_area(t(a, torch.float16))
    out["area/int16"] = ops.box_area(t(ai, torch.int16))
    out["clip/float32"] = ops.clip_boxes_to_image(ta, (50, 70))
    out["clip/int64"] = ops.clip_boxes_to_image(t(ai, torch.int64), (50, 70))
    out["small/1.0"] = ops.remove_small_boxes(ta, 1.0)
    out["small/5.0"] = ops.remove_small_boxes(ta, 5.0)
    out["small/0.0"] = ops.remove_small_boxes(ta, 0.0)
    return out


# --------------------------------------------------------------------------- NMS


def nms_cases(rng: np.random.Generator) -> list[dict]:
    cases: list[dict] = []

    def add(name: str, boxes: torch.Tensor, scores: torch.Tensor, thresholds) -> None:
        for thr in thresholds:
            keep = ops.nms(boxes, scores, thr)
            cases.append(
                {"name": name, "boxes": boxes, "scores": scores, "iou_threshold": thr, "keep": keep}
            )

    for n in (50, 500, 3000):
        boxes = t(clustered(rng, n))
        add(f"clustered/{n}", boxes, t(rng.uniform(0, 1, n)), (0.3, 0.5, 0.7))
    boxes64 = t(clustered(rng, 2000), torch.float64)
    add("clustered/2000/float64", boxes64, t(rng.uniform(0, 1, 2000), torch.float64), (0.5,))
    add("uniform/1500", t(random_boxes(rng, 1500, 300)), t(rng.uniform(0, 1, 1500)), (0.5,))
    # ties: scores from four values; identical boxes with equal scores
    tied = t(clustered(rng, 400))
    add("ties/400", tied, t(rng.integers(0, 4, 400) / 4.0), (0.5, 0.0))
    dup = t(np.repeat(random_boxes(rng, 5), 4, axis=0))
    add("duplicates", dup, t(np.repeat([0.9, 0.5, 0.5, 0.1, 0.7], 4)), (0.5,))
    # degenerate boxes mixed with proper ones
    adv = np.concatenate([adversarial_boxes(), clustered(rng, 40, 20.0)])
    add("adversarial", t(adv), t(rng.uniform(0, 1, len(adv))), (0.5, 0.0, 1.0, 1.5))
    add(
        "adversarial/float64",
        t(adv, torch.float64),
        t(rng.uniform(0, 1, len(adv)), torch.float64),
        (0.5,),
    )
    # NaN scores (sorted first by torch.sort) and -0.0 / 0.0 ties
    scores = rng.uniform(0, 1, 200)
    scores[rng.choice(200, 20, replace=False)] = np.nan
    scores[:10] = 0.0
    scores[10:20] = -0.0
    add("nan_scores", t(clustered(rng, 200, 200)), t(scores), (0.5,))
    # NaN and infinite coordinates
    coords = clustered(rng, 120, 100)
    coords[3, 0] = np.nan
    coords[7] = np.nan
    coords[11, 2] = np.inf
    coords[13, 0] = -np.inf
    coords[17] = [-np.inf, -np.inf, np.inf, np.inf]
    coords[19, 1] = np.inf
    add("nonfinite_coords", t(coords), t(rng.uniform(0, 1, 120)), (0.5, 0.0, -0.5))
    # the same at >= 128 boxes, where tinyvision's CPU kernel prunes pairs with a grid
    for n, dtype in ((128, torch.float32), (1000, torch.float32), (600, torch.float64)):
        boxes, scores = nonfinite_detections(rng, n)
        name = f"nonfinite_grid/{n}/{str(dtype).removeprefix('torch.')}"
        add(name, t(boxes, dtype), t(scores, dtype), (0.5, 0.0, 0.7, -0.5))
    # widths, spans or sums beyond the float range, and subnormal boxes
    for dtype in (torch.float32, torch.float64):
        boxes = extreme_boxes(rng, dtype)
        scores = t(rng.uniform(0, 1, len(boxes)), dtype)
        add(
            f"extreme_grid/{str(dtype).removeprefix('torch.')}", t(boxes, dtype), scores, (0.5, 0.0)
        )
    # negative thresholds: everything with a number for an IoU is suppressed
    add(
        "negative_threshold",
        t(clustered(rng, 300)),
        t(rng.uniform(0, 1, 300)),
        (-0.1, -1.0, -1e-12),
    )
    # pairs exactly at the threshold: IoU 1/2, 1/3, 1/4 (float32 1/3 > double 1/3)
    exact = t(
        [[0, 0, 1, 1], [0, 0, 2, 1], [10, 0, 11, 1], [10, 0, 13, 1], [20, 0, 21, 1], [20, 0, 22, 2]]
    )
    exact_scores = t([0.9, 0.8, 0.9, 0.8, 0.9, 0.8])
    add(
        "exact_threshold",
        exact,
        exact_scores,
        (0.5, 1 / 3, 0.25, float(np.float32(1 / 3)), 0.49999999, float(np.nextafter(0.5, 0))),
    )
    # empty and single
    add("empty", torch.zeros(0, 4), torch.zeros(0), (0.5,))
    add("single", t([[1, 2, 3, 4]]), t([0.3]), (0.5,))
    return cases


def nonfinite_detections(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` clustered boxes, an eighth of them with a NaN or +-inf coordinate (a few wholly
    NaN or infinite), and scores of which a tenth are NaN or +-inf."""
    specials = np.array([np.nan, np.inf, -np.inf])
    boxes = clustered(rng, n, 100.0)
    rows = rng.choice(n, n // 8, replace=False)
    boxes[rows, rng.integers(0, 4, len(rows))] = rng.choice(specials, len(rows))
    whole = rng.choice(n, 4, replace=False)
    boxes[whole[0]] = np.nan
    boxes[whole[1]] = [-np.inf, -np.inf, np.inf, np.inf]
    boxes[whole[2]] = [np.inf, np.inf, -np.inf, -np.inf]
    boxes[whole[3]] = [0.0, 0.0, np.inf, 50.0]
    scores = rng.uniform(0, 1, n)
    odd = rng.choice(n, n // 10, replace=False)
    scores[odd] = rng.choice(specials, len(odd))
    return boxes, scores


def extreme_boxes(rng: np.random.Generator, dtype: torch.dtype) -> np.ndarray:
    """Finite boxes at the ends of the dtype's range, clustered so that some suppress others.

    Two groups far right and far left (their span, and for float64 the sum of their widths,
    is beyond the float64 range, while their areas stay finite: they are very flat), boxes
    spanning the whole range (width inf in the dtype), and a group of subnormal boxes.
    """
    big = float(torch.finfo(dtype).max)
    flat = clustered(rng, 120, 100.0)
    right, left = flat[:60].copy(), flat[60:].copy()
    for group, side in ((right, 1.0), (left, -1.0)):
        group[:, [0, 2]] = side * 0.8 * big + group[:, [0, 2]] * (big * 1e-4)
        group[:, [1, 3]] *= 1e-10 if dtype == torch.float64 else 1e-34
    spanning = np.array(
        [[-big, -big, big, big], [-big, 0.0, big, 10.0], [0.0, -big, 10.0, big], [0, 0, big, big]]
    )
    tiny = clustered(rng, 60, 100.0) * (1e-310 if dtype == torch.float64 else 1e-40)
    proper = clustered(rng, 60, 100.0)
    return np.concatenate([right, spanning, left, tiny, proper])


def per_class_nms(boxes, scores, idxs, thr) -> torch.Tensor:
    """Exact class-aware NMS with torchvision: nms per class, merged by (score desc, index)."""
    keep = []
    for c in torch.unique(idxs):
        members = torch.where(idxs == c)[0]
        keep.append(members[ops.nms(boxes[members], scores[members], thr)])
    if not keep:
        return torch.zeros(0, dtype=torch.int64)
    kept = torch.sort(torch.cat(keep))[0]
    return kept[torch.sort(scores[kept], stable=True, descending=True)[1]]


def batched_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    # around torchvision's switch: coordinate trick while boxes.numel() <= 4000 (N <= 1000)
    for n, classes in ((200, 5), (999, 10), (1000, 10), (1001, 10), (5000, 80)):
        boxes = t(clustered(rng, n))
        scores = t(rng.uniform(0, 1, n))
        idxs = torch.as_tensor(rng.integers(0, classes, n))
        for thr in (0.5,):
            cases.append(
                {
                    "name": f"batched/{n}",
                    "boxes": boxes,
                    "scores": scores,
                    "idxs": idxs,
                    "iou_threshold": thr,
                    "torchvision": ops.batched_nms(boxes, scores, idxs, thr),
                    "per_class": per_class_nms(boxes, scores, idxs, thr),
                }
            )
    cases.append(offset_trick_case(rng))
    return cases


def offset_trick_case(rng: np.random.Generator) -> dict:
    """A small input where torchvision's coordinate offset changes the result by rounding."""
    for _ in range(10_000):
        n = 40
        base = rng.uniform(900, 1000, (n // 2, 2)).astype(np.float32)
        wh = rng.uniform(0.5, 3, (n // 2, 2)).astype(np.float32)
        first = np.concatenate([base, base + wh], axis=1)
        # partner boxes whose IoU with the first is just around 0.5
        shrink = rng.uniform(0.49, 0.51, (n // 2, 1)).astype(np.float32)
        second = first.copy()
        second[:, 2] = first[:, 0] + (first[:, 2] - first[:, 0]) * shrink[:, 0]
        boxes = t(np.concatenate([first, second]))
        scores = t(rng.uniform(0, 1, n))
        idxs = torch.as_tensor(np.concatenate([rng.integers(0, 30, n // 2)] * 2))
        tv = ops.batched_nms(boxes, scores, idxs, 0.5)
        exact = per_class_nms(boxes, scores, idxs, 0.5)
        if not torch.equal(tv, exact):
            return {
                "name": "batched/offset_trick",
                "boxes": boxes,
                "scores": scores,
                "idxs": idxs,
                "iou_threshold": 0.5,
                "torchvision": tv,
                "per_class": exact,
            }
    raise RuntimeError("no input found where the coordinate trick changes the result")


# --------------------------------------------------------------------------- losses


def loss_cases(rng: np.random.Generator) -> dict:
    out: dict = {}
    logits = np.concatenate([rng.normal(0, 3, 190), [-30, -12, -1e-3, 0, 1e-3, 12, 30, 80, -80, 5]])
    hard = (rng.uniform(0, 1, 200) < 0.3).astype(np.float64)
    soft = rng.uniform(0, 1, 200)
    out["focal/inputs"] = t(logits, torch.float64)
    out["focal/hard"], out["focal/soft"] = t(hard, torch.float64), t(soft, torch.float64)
    for dname, dtype in (("float32", torch.float32), ("float64", torch.float64)):
        for tname, target in (("hard", hard), ("soft", soft)):
            for alpha in (0.25, -1.0, 0.0, 1.0):
                for gamma in (2, 0, 1.5):
                    for reduction in ("none", "mean", "sum"):
                        x = t(logits, dtype).requires_grad_(True)
                        loss = ops.sigmoid_focal_loss(x, t(target, dtype), alpha, gamma, reduction)
                        loss.sum().backward()
                        key = f"focal/{dname}/{tname}/{alpha}/{gamma}/{reduction}"
                        out[key] = loss.detach()
                        out[key + "/grad"] = x.grad

    a = np.concatenate([random_boxes(rng, 44, 50), adversarial_boxes()[:6]])
    b = np.concatenate([random_boxes(rng, 44, 50), adversarial_boxes()[2:8]])
    b[:8] = a[:8] + rng.normal(0, 2, (8, 4))  # overlapping pairs
    b[8] = a[8]  # identical pair
    out["box/a"], out["box/b"] = t(a, torch.float64), t(b, torch.float64)
    fns = BOX_LOSSES
    for fname, fn in fns.items():
        for dname, dtype in (("float32", torch.float32), ("float64", torch.float64)):
            for reduction in ("none", "mean", "sum"):
                for eps in (1e-7, 1e-3):
                    if fname == "ciou" and eps != 1e-7:
                        continue  # torchvision's CIoU ignores eps in its DIoU part
                    x = t(a, dtype).requires_grad_(True)
                    y = t(b, dtype).requires_grad_(True)
                    loss = fn(x, y, reduction=reduction, eps=eps)
                    loss.sum().backward()
                    key = f"{fname}/{dname}/{reduction}/{eps}"
                    out[key] = loss.detach()
                    out[key + "/grad_a"], out[key + "/grad_b"] = x.grad, y.grad
        for reduction in ("none", "mean", "sum"):
            x = torch.zeros(0, 4, requires_grad=True)
            loss = fn(x, torch.zeros(0, 4), reduction=reduction)
            out[f"{fname}/empty/{reduction}"] = loss.detach()
        # half and integer boxes are computed in float32
        out[f"{fname}/float16"] = fn(t(a, torch.float16), t(b, torch.float16))
        out[f"{fname}/int64"] = fn(t(np.round(a), torch.int64), t(np.round(b), torch.int64))
    return out


# --------------------------------------------------------------------------- NaN and inf


def nonfinite_pairs() -> tuple[np.ndarray, np.ndarray]:
    """Matched box pairs with NaN or +-inf at every coordinate of either box, float64.

    Row 0 is a finite pair; then each of the 8 coordinates (4 of each box) set in turn to
    NaN, +inf and -inf; then whole NaN boxes and boxes spanning the whole plane.
    """
    base_a, base_b = [0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 3.0, 3.0]
    a, b = [base_a], [base_b]
    for value in (np.nan, np.inf, -np.inf):
        for which in range(8):
            row_a, row_b = list(base_a), list(base_b)
            (row_a if which < 4 else row_b)[which % 4] = value
            a.append(row_a)
            b.append(row_b)
    everything = [-np.inf, -np.inf, np.inf, np.inf]
    a += [[np.nan] * 4, base_a, everything, base_a, everything, [0, 0, np.inf, 2]]
    b += [base_b, [np.nan] * 4, base_b, everything, everything, [1, 1, 3, np.inf]]
    return np.array(a, dtype=np.float64), np.array(b, dtype=np.float64)


def nonfinite_cases() -> dict:
    """torchvision's box losses, clipping, small-box removal and focal loss on NaN/inf."""
    a, b = nonfinite_pairs()
    out: dict = {"box/a": t(a, torch.float64), "box/b": t(b, torch.float64)}
    fns = BOX_LOSSES
    for fname, fn in fns.items():
        for dname, dtype in (("float32", torch.float32), ("float64", torch.float64)):
            for reduction in ("none", "mean", "sum"):
                x = t(a, dtype).requires_grad_(True)
                y = t(b, dtype).requires_grad_(True)
                loss = fn(x, y, reduction=reduction)
                loss.sum().backward()
                key = f"{fname}/{dname}/{reduction}"
                out[key] = loss.detach()
                out[key + "/grad_a"], out[key + "/grad_b"] = x.grad, y.grad
    for dname, dtype in (("float32", torch.float32), ("float64", torch.float64)):
        # the plain IoU of each matched pair: the diagonal of the pairwise matrix
        out[f"box_iou_diagonal/{dname}"] = torch.diagonal(ops.box_iou(t(a, dtype), t(b, dtype)))
    boxes = np.concatenate([a, b])
    out["boxes"] = t(boxes, torch.float64)
    for dname, dtype in (("float32", torch.float32), ("float64", torch.float64)):
        out[f"clip/{dname}"] = ops.clip_boxes_to_image(t(boxes, dtype), (5, 7))
        out[f"small/{dname}"] = ops.remove_small_boxes(t(boxes, dtype), 1.0)
    # focal loss: +-inf logits against both targets, next to finite ones
    logits = np.array([np.inf, np.inf, -np.inf, -np.inf, 0.0, 3.0, -3.0, np.nan])
    targets = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0])
    out["focal/inputs"], out["focal/targets"] = t(logits, torch.float64), t(targets, torch.float64)
    for dname, dtype in (("float32", torch.float32), ("float64", torch.float64)):
        for alpha, gamma in ((0.25, 2), (-1.0, 0)):
            for reduction in ("none", "mean", "sum"):
                x = t(logits, dtype).requires_grad_(True)
                loss = ops.sigmoid_focal_loss(x, t(targets, dtype), alpha, gamma, reduction)
                loss.sum().backward()
                key = f"focal/{dname}/{alpha}/{gamma}/{reduction}"
                out[key] = loss.detach()
                out[key + "/grad"] = x.grad
    return out


# --------------------------------------------------------------------------- rotated boxes


ROTATED_FORMATS = ("cxcywhr", "xywhr", "xyxyxyxy")


def random_rotated(rng: np.random.Generator, n: int, scale: float = 100.0) -> np.ndarray:
    """``(cx, cy, w, h, angle)`` boxes, float64, angles in degrees in [-180, 180)."""
    centre = rng.uniform(0, scale, (n, 2))
    wh = rng.uniform(0.5, scale / 3, (n, 2))
    angle = rng.integers(-1800, 1800, (n, 1)) / 10  # tenths of degrees: exact in float32
    return np.concatenate([centre, wh, angle], axis=1)


def adversarial_rotated() -> np.ndarray:
    """Degenerate and boundary ``cxcywhr`` boxes (all against all in the fixtures)."""
    nan, inf = float("nan"), float("inf")
    return np.array(
        [
            [10, 10, 8, 4, 0],
            [10, 10, 8, 4, 0],  # identical
            [10, 10, 8, 4, 180],  # the same rectangle, turned half way
            [10, 10, 4, 8, 90],  # the same rectangle, turned a quarter
            [10, 10, 8, 4, 45],  # same centre, rotated
            [10, 10, 8, 4, 1e-4],  # almost identical
            [18, 10, 8, 4, 0],  # touching along an edge
            [10, 10, 2, 1, 30],  # nested
            [10, 10, 0, 4, 10],  # zero width
            [10, 10, 1e-8, 1e-7, 0],  # area below 1e-14
            [10, 10, 8, -4, 0],  # negative height (negative area)
            [10, 10, -8, -4, 0],  # both negative (positive area)
            [1e4, 1e4, 3, 2, 33],  # far away
            [0.1, 0.2, 1e-3, 2e-3, 5],  # tiny
            [10, 10, 8, 4, 360],  # a full turn
            [10, 10, 8, 4, -725.5],  # several turns
            [10, 10, 8, 4, nan],  # NaN angle
            [10, 10, 8, 4, inf],  # infinite angle
            [nan, 10, 8, 4, 0],  # NaN centre
            [10, 10, inf, 4, 0],  # infinite width
        ],
        dtype=np.float64,
    )


def rotated_nms_reference(boxes: torch.Tensor, scores: torch.Tensor, thr: float) -> torch.Tensor:
    """detectron2's greedy ``nms_rotated`` (IoU >= threshold suppresses) as a plain loop over
    torchvision's rotated ``box_iou``. torchvision's IoU is float32, detectron2 compares the
    IoU in the boxes' dtype: the cases use float32 boxes, where the two agree."""
    order = torch.sort(scores, stable=True, descending=True)[1]
    iou = ops.box_iou(boxes, boxes, fmt="cxcywhr").double()
    removed = torch.zeros(len(boxes), dtype=torch.bool)
    keep = []
    for i in order.tolist():
        if not removed[i]:
            keep.append(i)
            removed |= iou[i] >= thr
    return torch.tensor(keep, dtype=torch.int64)


def rotated_cases() -> dict:
    """torchvision 0.29.1's rotated ``box_convert`` and ``box_iou(fmt=...)``, and rotated NMS.

    Its own generator (seeded from SEED), so the other files' random inputs stay the same.
    """
    rng = np.random.default_rng(SEED + 15)
    iou, convert, nms_cases = [], [], []
    sets = {
        "random": (random_rotated(rng, 60), random_rotated(rng, 50)),
        "dense": (random_rotated(rng, 40, scale=20.0), random_rotated(rng, 40, scale=20.0)),
        "adversarial": (adversarial_rotated(), adversarial_rotated()),
    }
    for set_name, (a64, b64) in sets.items():
        for dname, dtype in (("float32", torch.float32), ("float64", torch.float64)):
            a, b = t(a64, dtype), t(b64, dtype)
            for fmt in ROTATED_FORMATS:
                a_fmt = ops.box_convert(a, "cxcywhr", fmt)
                b_fmt = ops.box_convert(b, "cxcywhr", fmt)
                iou.append(
                    {
                        "name": f"{set_name}/{dname}/{fmt}",
                        "fmt": fmt,
                        "boxes1": a_fmt,
                        "boxes2": b_fmt,
                        "iou": ops.box_iou(a_fmt, b_fmt, fmt=fmt),
                    }
                )
    for dname, dtype in (("float32", torch.float32), ("float64", torch.float64), ("int64", None)):
        boxes = random_rotated(rng, 30)
        source = t(boxes, dtype) if dtype is not None else torch.round(t(boxes, torch.float64))
        if dtype is None:
            source = source.to(torch.int64)
        for in_fmt in ROTATED_FORMATS:
            inputs = ops.box_convert(source, "cxcywhr", in_fmt)
            for out_fmt in ROTATED_FORMATS:
                convert.append(
                    {
                        "name": f"{dname}/{in_fmt}->{out_fmt}",
                        "in_fmt": in_fmt,
                        "out_fmt": out_fmt,
                        "boxes": inputs,
                        "out": ops.box_convert(inputs, in_fmt, out_fmt),
                    }
                )
    for name, count, scale in (("sparse", 300, 400.0), ("dense", 300, 100.0), ("crowd", 200, 30.0)):
        boxes = t(random_rotated(rng, count, scale=scale), torch.float32)
        scores = t(rng.integers(0, 50, count) / 50, torch.float32)  # with ties
        for thr in (0.0, 0.1, 0.3, 0.5, 0.7, 1.0):
            nms_cases.append(
                {
                    "name": f"{name}/thr={thr}",
                    "boxes": boxes,
                    "scores": scores,
                    "iou_threshold": thr,
                    "keep": rotated_nms_reference(boxes, scores, thr),
                }
            )
    return {"box_iou": iou, "box_convert": convert, "nms_rotated": nms_cases}


def numpy_features() -> list[str]:
    """The CPU features numpy uses here (informational: the inputs do not depend on them)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # numpy < 2
        from numpy.core._multiarray_umath import __cpu_features__ as features
    return sorted(name for name, enabled in features.items() if enabled)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--only", action="append", metavar="FILE", help="write only this file (repeatable)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)
    meta = {
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "machine": platform.machine(),
        "numpy_cpu_features": numpy_features(),
        "torch": str(torch.__version__),
        "torchvision": str(torchvision.__version__),
        "numpy": np.__version__,
        "seed": SEED,
        "script": "scripts/make_reference_fixtures.py",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    files = {
        "torchvision_boxes.pt": box_cases(rng),
        "torchvision_nms.pt": {"nms": nms_cases(rng), "batched_nms": batched_cases(rng)},
        "torchvision_losses.pt": loss_cases(rng),
        "torchvision_nonfinite.pt": nonfinite_cases(),  # fixed inputs, no random numbers
        "torchvision_rotated.pt": rotated_cases(),  # its own generator
    }
    unknown = set(args.only or ()) - set(files)
    if unknown:
        parser.error(f"--only: unknown file(s) {sorted(unknown)}; known: {sorted(files)}")
    for name, payload in files.items():
        if args.only and name not in args.only:
            continue
        path = args.out / name
        torch.save({"meta": meta, **payload}, path)
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
