"""tinyvision.ops / tinyvision.losses against torchvision.ops, CPU, one thread.

Run in the reference venv (torch 2.14.1 + torchvision 0.29.1, plus numba, matplotlib, tqdm,
pyyaml and opencv-python-headless so that tinyvision imports), from the repository root::

    PYTHONPATH=src /work/tvenv/venv/bin/python benchmarks/ops.py

Boxes are clustered like raw detector output (tens of jittered candidates per object plus
background boxes, tinyvision.data.synthetic). Each case times both libraries in one process,
alternating, best of several runs, checks that the outputs are identical and prints the
ratio torchvision time / tinyvision time (> 1: tinyvision is faster). Exit code 1 if an
output differs. Without torchvision the script says so and exits 0 (for ``make bench``).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import torch  # noqa: E402

try:
    import torchvision
    from torchvision import ops as tv
except ImportError:  # pragma: no cover - depends on the venv
    print("benchmarks/ops.py needs torchvision: run it in the reference venv, e.g.")
    print("  PYTHONPATH=src /work/tvenv/venv/bin/python benchmarks/ops.py")
    sys.exit(0)

import tinyvision  # noqa: E402
from tinyvision import losses as tl  # noqa: E402
from tinyvision import ops as to  # noqa: E402
from tinyvision.data.synthetic import clustered_detections  # noqa: E402

torch.set_num_threads(1)
FAILURES: list[str] = []


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


def best_of(fn_a: Callable, fn_b: Callable, *, rounds: int, budget_s: float = 30.0):
    """Alternate a and b; return (best a, best b) in seconds and their last outputs."""
    out_a, out_b = fn_a(), fn_b()  # warm-up (compiled kernels load here)
    best_a = best_b = math.inf
    start = time.perf_counter()
    for i in range(rounds):
        t0 = time.perf_counter()
        out_a = fn_a()
        t1 = time.perf_counter()
        out_b = fn_b()
        t2 = time.perf_counter()
        best_a, best_b = min(best_a, t1 - t0), min(best_b, t2 - t1)
        if i >= 2 and time.perf_counter() - start > budget_s:
            break
    return best_a, best_b, out_a, out_b


def report(name: str, t_tv: float, t_ours: float, same: bool, target: float | None) -> None:
    ratio = t_tv / t_ours
    goal = (
        ""
        if target is None
        else f"  (target >= {target:g}x: {'met' if ratio >= target else 'NOT met'})"
    )
    status = "identical" if same else "DIFFERENT"
    print(
        f"{name:<34} torchvision {t_tv * 1e3:9.2f} ms  tinyvision {t_ours * 1e3:9.2f} ms  "
        f"ratio {ratio:6.2f}x  {status}{goal}"
    )
    if not same:
        FAILURES.append(name)


def same_tensor(a: torch.Tensor, b: torch.Tensor) -> bool:
    return (
        a.dtype == b.dtype
        and a.shape == b.shape
        and bool(torch.equal(a, b) or torch.allclose(a, b, rtol=0, atol=0, equal_nan=True))
    )


def bench_nms() -> None:
    for dense in (False, True):
        for n, target, rounds in ((1_000, 2.0, 200), (10_000, 4.0, 30), (50_000, 4.0, 5)):
            boxes, scores, _ = scene(n, seed=n, dense=dense)
            t_tv, t_ours, ref, ours = best_of(
                lambda b=boxes, s=scores: tv.nms(b, s, 0.5),
                lambda b=boxes, s=scores: to.nms(b, s, 0.5),
                rounds=rounds,
            )
            name = f"nms N={len(boxes)} {'dense' if dense else 'sparse'}"
            report(name, t_tv, t_ours, same_tensor(ref, ours), target)


def bench_batched_nms() -> None:
    boxes, scores, labels = scene(30_000, classes=80, seed=7)
    t_tv, t_ours, ref, ours = best_of(
        lambda: tv.batched_nms(boxes, scores, labels, 0.5),
        lambda: to.batched_nms(boxes, scores, labels, 0.5),
        rounds=30,
    )
    # at this size torchvision runs nms per class (exact); its final sort is not stable,
    # so equal scores may come in another order: compare the sets and the score sequence
    same = sorted(ref.tolist()) == sorted(ours.tolist()) and torch.equal(scores[ref], scores[ours])
    report(f"batched_nms N={len(boxes)} C=80", t_tv, t_ours, same, 2.5)


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
        t_tv, t_ours, ref, ours = best_of(
            lambda f=f_tv: f(a, b), lambda f=f_ours: f(a, b), rounds=5
        )
        report(f"{name} 4000x4000", t_tv, t_ours, same_tensor(ref, ours), 2.0)


def bench_focal() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(1_000_000, generator=g) * 3
    targets = (torch.rand(1_000_000, generator=g) < 0.01).float()

    def run(fn) -> tuple[torch.Tensor, torch.Tensor]:
        x = logits.clone().requires_grad_(True)
        loss = fn(x, targets, alpha=0.25, gamma=2, reduction="sum")
        loss.backward()
        return loss.detach(), x.grad

    t_tv, t_ours, ref, ours = best_of(
        lambda: run(tv.sigmoid_focal_loss), lambda: run(tl.sigmoid_focal_loss), rounds=15
    )
    same = same_tensor(ref[0], ours[0]) and same_tensor(ref[1], ours[1])
    report("sigmoid_focal_loss fwd+bwd 1e6", t_tv, t_ours, same, 1.0)


def main() -> int:
    print(
        f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
        f"tinyvision {tinyvision.__version__}; threads: torch {torch.get_num_threads()}"
    )
    print("ratio = torchvision time / tinyvision time, best of alternating runs\n")
    bench_nms()
    bench_batched_nms()
    bench_pairwise()
    bench_focal()
    if FAILURES:
        print(f"\noutputs differ: {', '.join(FAILURES)}")
        return 1
    print("\nall outputs identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
