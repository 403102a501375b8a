"""Rotated boxes: tinyvision's rotated ``box_iou`` and ``nms_rotated`` against torchvision.

Run in the reference venv (torch 2.14.1 + torchvision 0.29.1 with numba, so that tinyvision
imports), from the repository root::

    PYTHONPATH=src /work/tvref/bin/python benchmarks/rotated.py [--rounds 5]

Cases (float32 ``cxcywhr`` boxes, the same tensors for both sides, made from a seeded
generator: objects with jittered candidates, like oriented-detector output):

- ``box_iou`` 1000 x 1000, sparse (objects spread over a 4000 x 4000 image) and dense (all
  in 300 x 300, most pairs overlap): ``torchvision.ops.box_iou(a, b, fmt="cxcywhr")``
  against ``tinyvision.ops.box_iou``; the results must be identical to the bit.
- ``nms_rotated`` on 10 000 boxes, IoU threshold 0.5: torchvision 0.29.1 has no rotated NMS,
  so the reference is detectron2's greedy loop (visit by decreasing score, suppress every
  later box whose IoU with a kept one is ``>= threshold``) with each kept box's IoUs against
  the remaining boxes from ``torchvision.ops.box_iou``; the kept indices must be identical.

Timing protocol (``benchmarks/_protocol.py``): one thread (torch, numba, BLAS); a warm-up
call of each side first (numba's compiled kernels load from its cache; compilation is not
timed); then ``--rounds`` rounds that alternate the two sides, each timed by its own CPU time
(``time.process_time``, the headline) and by wall time; best and median of each. The load
average is printed before and after; ``--markdown`` prints the table with its command line.
Exit status 1 when an agreement check fails or torchvision is missing.
"""

from __future__ import annotations

import _protocol  # first: pins the thread pools before numpy and torch load

# isort: split
import argparse
import sys

import numpy as np
import torch

try:
    import torchvision
    from torchvision import ops as tv
except ImportError:  # pragma: no cover - depends on the venv
    torchvision = tv = None

import tinyvision
from tinyvision import ops as to


def rotated_scene(n: int, extent: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """About ``n`` float32 ``cxcywhr`` boxes and scores: objects of 20 to 120 pixels spread
    over an ``extent`` x ``extent`` image, 25 jittered candidates each."""
    rng = np.random.default_rng(seed)
    objects = max(1, n // 25)
    centre = rng.uniform(0, extent, (objects, 2))
    size = rng.uniform(20, 120, (objects, 2))
    angle = rng.uniform(-90, 90, objects)
    pick = rng.integers(0, objects, n)
    jitter = rng.normal(0, 1, (n, 5))
    boxes = np.column_stack(
        [
            centre[pick] + jitter[:, :2] * size[pick] * 0.08,
            size[pick] * np.exp(jitter[:, 2:4] * 0.1),
            angle[pick] + jitter[:, 4] * 8,
        ]
    )
    scores = rng.random(n)
    return torch.tensor(boxes, dtype=torch.float32), torch.tensor(scores, dtype=torch.float32)


def detectron2_style_nms(boxes: torch.Tensor, scores: torch.Tensor, thr: float) -> torch.Tensor:
    """Greedy rotated NMS: each kept box's IoUs against the remaining boxes from torchvision."""
    order = torch.sort(scores, stable=True, descending=True)[1]
    remaining = order
    keep = []
    while remaining.numel():
        i = remaining[0]
        keep.append(int(i))
        rest = remaining[1:]
        if not rest.numel():
            break
        iou = tv.box_iou(boxes[i : i + 1], boxes[rest], fmt="cxcywhr")[0]
        remaining = rest[~(iou.double() >= thr)]
    return torch.tensor(keep, dtype=torch.int64)


def identical(ours: torch.Tensor, ref: torch.Tensor) -> bool:
    return ours.dtype == ref.dtype and bool(torch.equal(ours, ref))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    _protocol.add_arguments(parser)
    args = parser.parse_args()
    bench = _protocol.Bench.from_args(args, anchor_name="reference")
    if tv is None:
        bench.missing(
            "every case",
            "torchvision 0.29.1",
            "PYTHONPATH=src /work/tvref/bin/python benchmarks/rotated.py",
        )
        return bench.finish()
    bench.note(
        f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
        f"tinyvision {tinyvision.__version__}, "
        f"cpu capability {torch.backends.cpu.get_cpu_capability()}"
    )
    for label, extent in (("sparse", 4000.0), ("dense", 300.0)):
        a, _ = rotated_scene(1000, extent, seed=1)
        b, _ = rotated_scene(1000, extent, seed=2)
        bench.compare(
            f"box_iou cxcywhr 1000 x 1000, {label}",
            anchor=lambda a=a, b=b: tv.box_iou(a, b, fmt="cxcywhr"),
            ours=lambda a=a, b=b: to.box_iou(a, b, fmt="cxcywhr"),
            repeat=args.rounds,
            check=identical,
            target=4.0,
        )
    boxes, scores = rotated_scene(10_000, 4000.0, seed=3)
    bench.compare(
        "nms_rotated 10000 boxes, iou_threshold 0.5 (reference: detectron2-style loop on "
        "torchvision's box_iou)",
        anchor=lambda: detectron2_style_nms(boxes, scores, 0.5),
        ours=lambda: to.nms_rotated(boxes, scores, 0.5),
        repeat=max(1, args.rounds // 2),
        check=identical,
        target=4.0,
    )
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
