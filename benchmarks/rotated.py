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

Timing protocol: one thread (torch, numba, BLAS); a warm-up call of each side first (numba's
compiled kernels load from its cache; compilation is not timed); then ``--rounds`` rounds
that alternate the two sides, each timed by its own CPU time (``time.process_time``, the
headline) and by wall time; best and median of each. The load average is printed before and
after. Exit status 1 when an agreement check fails or torchvision is missing.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

try:
    import torchvision
    from torchvision import ops as tv
except ImportError:  # pragma: no cover - depends on the venv
    print("benchmarks/rotated.py needs torchvision 0.29.1 (a missing reference is a failure):")
    print("  PYTHONPATH=src /work/tvref/bin/python benchmarks/rotated.py")
    sys.exit(1)

import tinyvision  # noqa: E402
from tinyvision import ops as to  # noqa: E402

torch.set_num_threads(1)
FAILURES: list[str] = []


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


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def compare(name: str, reference: Callable, ours: Callable, rounds: int, target: float) -> None:
    expected, actual = reference(), ours()  # warm-up, and the agreement check
    same = expected.dtype == actual.dtype and torch.equal(expected, actual)
    if not same:
        FAILURES.append(name)
    times: dict[str, list[tuple[float, float]]] = {"ref": [], "ours": []}
    for _ in range(rounds):
        times["ref"].append(timed(reference))
        times["ours"].append(timed(ours))
    stats = {}
    for side, values in times.items():
        cpu = [v[0] for v in values]
        wall = [v[1] for v in values]
        stats[side] = (min(cpu), statistics.median(cpu), min(wall), statistics.median(wall))
    ratio_cpu = stats["ref"][0] / stats["ours"][0]
    ratio_wall = stats["ref"][2] / stats["ours"][2]
    verdict = "ok" if ratio_cpu >= target else f"below the {target:g}x target"
    print(f"{name}")
    for side, label in (("ref", "reference"), ("ours", "tinyvision")):
        b_cpu, m_cpu, b_wall, m_wall = stats[side]
        print(
            f"  {label:<10} cpu best {b_cpu * 1e3:9.1f} ms  median {m_cpu * 1e3:9.1f} ms"
            f"   wall best {b_wall * 1e3:9.1f} ms  median {m_wall * 1e3:9.1f} ms"
        )
    print(
        f"  ratio (reference / tinyvision): cpu {ratio_cpu:.1f}x  wall {ratio_wall:.1f}x"
        f"  [{verdict}]  identical: {same}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(
        f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
        f"tinyvision {tinyvision.__version__}, one thread, "
        f"cpu capability {torch.backends.cpu.get_cpu_capability()}"
    )
    print("load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    for label, extent in (("sparse", 4000.0), ("dense", 300.0)):
        a, _ = rotated_scene(1000, extent, seed=1)
        b, _ = rotated_scene(1000, extent, seed=2)
        compare(
            f"box_iou cxcywhr 1000 x 1000, {label}",
            lambda a=a, b=b: tv.box_iou(a, b, fmt="cxcywhr"),
            lambda a=a, b=b: to.box_iou(a, b, fmt="cxcywhr"),
            args.rounds,
            target=4.0,
        )
    boxes, scores = rotated_scene(10_000, 4000.0, seed=3)
    compare(
        "nms_rotated 10000 boxes, iou_threshold 0.5 (reference: detectron2-style loop on "
        "torchvision's box_iou)",
        lambda: detectron2_style_nms(boxes, scores, 0.5),
        lambda: to.nms_rotated(boxes, scores, 0.5),
        max(1, args.rounds // 2),
        target=4.0,
    )
    print("load average (1, 5, 15 min) after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if FAILURES:
        print(f"FAILED agreement: {FAILURES}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
