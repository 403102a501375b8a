"""tinyvision.ops / tinyvision.losses against torchvision.ops, CPU, one thread.

Run with the reference venv's python (torch 2.14.1 + torchvision 0.29.1, plus numba so that
tinyvision.ops imports), from the repository root::

    PYTHONPATH=src /work/tvref/bin/python benchmarks/ops.py [--repeat-scale 0.2] [--markdown]

Boxes are clustered like raw detector output (tens of jittered candidates per object plus
background boxes, tinyvision.data.synthetic). Each case follows ``benchmarks/_protocol.py``:
one thread, both libraries on the same tensors in one process, a warm-up call each, then
alternating calls timed by CPU time (the headline) and wall time, best and median; the
outputs must be identical. Ratio = torchvision time / tinyvision time (> 1: tinyvision is
faster). Exit status 1 when an output differs or torchvision is missing.
"""

from __future__ import annotations

import _protocol  # first: pins the thread pools before numpy and torch load

# isort: split
import argparse
import math
import sys

import torch

try:
    import torchvision
    from torchvision import ops as tv
except ImportError:  # pragma: no cover - depends on the venv
    torchvision = tv = None

import tinyvision
from tinyvision import losses as tl
from tinyvision import ops as to
from tinyvision.data.synthetic import clustered_detections

BENCH: _protocol.Bench
SCALE = 1.0


def scene(n: int, classes: int = 1, seed: int = 0, dense: bool = False):
    """About n detections, 27 candidates per object + 10% background boxes.

    sparse (COCO-like): objects of 24 to 144 pixels on an image whose area grows with their
    number (20 objects per 640x480, covering about half of it).
    dense (low-confidence detector output): 20 objects on one 640x480 image, n / 22
    candidates each.
    """
    if dense:
        s = clustered_detections(20, n // 22, num_classes=classes, seed=seed)
    else:
        objects = max(1, round(n / 29.7))
        side = math.sqrt(objects / 20)
        image = (round(480 * side), round(640 * side))
        s = clustered_detections(
            objects, 27, num_classes=classes, image_size=image, object_size=(24, 144), seed=seed
        )
    return s.boxes, s.scores, s.labels


def rounds(n: int) -> int:
    """``n`` timed rounds scaled by ``--repeat-scale``, at least 2."""
    return max(2, round(n * SCALE))


def same_tensor(a: torch.Tensor, b: torch.Tensor) -> bool:
    return (
        a.dtype == b.dtype
        and a.shape == b.shape
        and bool(torch.equal(a, b) or torch.allclose(a, b, rtol=0, atol=0, equal_nan=True))
    )


def bench_nms() -> None:
    for dense in (False, True):
        for n, target, repeat in ((1_000, 2.0, 200), (10_000, 4.0, 30), (50_000, 4.0, 5)):
            boxes, scores, _ = scene(n, seed=n, dense=dense)
            BENCH.compare(
                f"nms N={len(boxes)} {'dense' if dense else 'sparse'}",
                anchor=lambda b=boxes, s=scores: tv.nms(b, s, 0.5),
                ours=lambda b=boxes, s=scores: to.nms(b, s, 0.5),
                repeat=rounds(repeat),
                check=same_tensor,
                target=target,
            )


def bench_batched_nms() -> None:
    boxes, scores, labels = scene(30_000, classes=80, seed=7)

    def same_kept(ours: torch.Tensor, ref: torch.Tensor) -> bool:
        # at this size torchvision runs nms per class (exact); its final sort is not stable,
        # so equal scores may come in another order: compare the sets and the score sequence
        return sorted(ref.tolist()) == sorted(ours.tolist()) and bool(
            torch.equal(scores[ref], scores[ours])
        )

    BENCH.compare(
        f"batched_nms N={len(boxes)} C=80",
        anchor=lambda: tv.batched_nms(boxes, scores, labels, 0.5),
        ours=lambda: to.batched_nms(boxes, scores, labels, 0.5),
        repeat=rounds(30),
        check=same_kept,
        target=2.5,
    )


def bench_pairwise() -> None:
    a, _, _ = scene(4_000, seed=11)
    b, _, _ = scene(4_000, seed=12)
    a, b = a[:4000], b[:4000]
    fns = (
        ("box_iou", tv.box_iou, to.box_iou),
        ("generalized_box_iou", tv.generalized_box_iou, to.generalized_box_iou),
        ("distance_box_iou", tv.distance_box_iou, to.distance_box_iou),
        ("complete_box_iou", tv.complete_box_iou, to.complete_box_iou),
    )
    for name, f_tv, f_ours in fns:
        BENCH.compare(
            f"{name} 4000x4000",
            anchor=lambda f=f_tv: f(a, b),
            ours=lambda f=f_ours: f(a, b),
            repeat=rounds(5),
            check=same_tensor,
            target=2.0,
        )


def bench_focal() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(1_000_000, generator=g) * 3
    targets = (torch.rand(1_000_000, generator=g) < 0.01).float()

    def run(fn) -> tuple[torch.Tensor, torch.Tensor]:
        x = logits.clone().requires_grad_(True)
        loss = fn(x, targets, alpha=0.25, gamma=2, reduction="sum")
        loss.backward()
        return loss.detach(), x.grad

    BENCH.compare(
        "sigmoid_focal_loss fwd+bwd 1e6",
        anchor=lambda: run(tv.sigmoid_focal_loss),
        ours=lambda: run(tl.sigmoid_focal_loss),
        repeat=rounds(15),
        check=lambda ours, ref: same_tensor(ours[0], ref[0]) and same_tensor(ours[1], ref[1]),
        target=1.0,
    )


def main() -> int:
    global BENCH, SCALE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat-scale",
        type=float,
        default=1.0,
        help="multiply every case's number of timed rounds (at least 2 each); 0.1: a smoke run",
    )
    _protocol.add_arguments(parser)
    args = parser.parse_args()
    SCALE = args.repeat_scale
    BENCH = _protocol.Bench.from_args(args, anchor_name="torchvision")
    if tv is None:
        BENCH.missing(
            "every case",
            "torchvision 0.29.1",
            "run with the reference venv: PYTHONPATH=src /work/tvref/bin/python benchmarks/ops.py",
        )
        return BENCH.finish()
    BENCH.note(
        f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
        f"tinyvision {tinyvision.__version__}; torch threads {torch.get_num_threads()}"
    )
    bench_nms()
    bench_batched_nms()
    bench_pairwise()
    bench_focal()
    return BENCH.finish()


if __name__ == "__main__":
    sys.exit(main())
