"""CUDA check of tinyvision.ops and tinyvision.losses: CUDA results against the CPU path.

On a machine with a CUDA device, from the repository root::

    PYTHONPATH=src python3 benchmarks/gpu_ops_check.py

Needs torch, numpy and numba (torchvision is optional: when present, CUDA NMS is also compared
with torchvision's CPU kernel). Prints one PASS/FAIL line per check and a summary; exit code 1
if a check fails. Finishes in well under a minute (most of it is compiling the CPU kernels on
first use). Without a CUDA device it fails (exit 1): it exists to check one (``--device cpu``
runs the comparisons CPU against CPU, a smoke test of the script).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import torch

from tinyvision import losses, ops
from tinyvision.data.synthetic import clustered_detections

RESULTS: list[tuple[str, bool, str]] = []
# ``--device cpu`` runs the same comparisons CPU against CPU: a smoke test of this script.
DEVICE = torch.device(
    sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cuda"
)


def check(name: str, fn: Callable[[], str | None]) -> None:
    """Run one check; ``fn`` raises AssertionError on failure, may return a detail string."""
    start = time.perf_counter()
    try:
        detail = fn() or ""
        ok = True
    except AssertionError as exc:
        detail, ok = f"{exc}", False
    except Exception as exc:  # an unexpected error is a failure too, with its type
        detail, ok = f"{type(exc).__name__}: {exc}", False
    elapsed = time.perf_counter() - start
    RESULTS.append((name, ok, detail))
    print(f"{'PASS' if ok else 'FAIL'}  {name:<46} {elapsed:6.2f} s  {detail}", flush=True)


def _sync() -> None:
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def scene(n: int, classes: int = 1, seed: int = 0, dtype: torch.dtype = torch.float32):
    objects = max(1, n // 30)
    side = max(1.0, (objects / 20) ** 0.5)
    s = clustered_detections(
        objects,
        27,
        num_classes=classes,
        seed=seed,
        dtype=dtype,
        image_size=(round(480 * side), round(640 * side)),
    )
    return s.boxes, s.scores, s.labels


def awkward(boxes: torch.Tensor) -> torch.Tensor:
    """Inverted, zero-area, NaN and infinite boxes mixed in."""
    boxes = boxes.clone()
    boxes[::41] = boxes[::41].flip(1)
    boxes[3::53, 2] = boxes[3::53, 0]
    boxes[5::97, 0] = float("nan")
    boxes[7::89, 3] = float("inf")
    return boxes


def same_indices(cpu: torch.Tensor, other: torch.Tensor) -> None:
    assert other.device.type == DEVICE.type, f"result on {other.device}"
    assert other.dtype == torch.int64, f"dtype {other.dtype}"
    other = other.cpu()
    if not torch.equal(cpu, other):
        common = min(len(cpu), len(other))
        where = (cpu[:common] != other[:common]).nonzero()
        at = int(where[0]) if len(where) else common
        raise AssertionError(f"{len(cpu)} vs {len(other)} kept, first difference at {at}")


def close(cpu: torch.Tensor, cuda: torch.Tensor, rtol: float, atol: float, what: str) -> float:
    assert cuda.device.type == DEVICE.type, f"{what} on {cuda.device}"
    cpu, cuda = cpu.detach(), cuda.detach()
    diff = (cpu - cuda.cpu()).abs().nan_to_num(0.0)
    nan_same = torch.equal(cpu.isnan(), cuda.cpu().isnan())
    assert nan_same, f"{what}: NaN positions differ"
    torch.testing.assert_close(cuda.cpu(), cpu, rtol=rtol, atol=atol, equal_nan=True, msg=what)
    return float(diff.max()) if diff.numel() else 0.0


def main() -> int:
    if DEVICE.type == "cuda" and not torch.cuda.is_available():
        print("FAIL  no CUDA device: torch.cuda.is_available() is False (--device cpu: smoke test)")
        return 1
    dev = DEVICE
    name = torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu (smoke test)"
    print(f"torch {torch.__version__} on {name}")
    try:
        import torchvision
        from torchvision import ops as tv
    except ImportError:
        tv = None
    else:
        print(f"torchvision {torchvision.__version__} found: CUDA NMS is also compared with it")

    # ------------------------------------------------------------------ NMS family
    for n in (1000, 10000, 30000):
        for dtype in (torch.float32, torch.float64):
            boxes, scores, _ = scene(n, seed=n, dtype=dtype)
            if n == 1000:
                boxes = awkward(boxes)
            for thr in (0.5, 0.7, 0.0, -0.1):

                def run(b=boxes, s=scores, t=thr) -> str:
                    cpu = ops.nms(b, s, t)
                    cuda = ops.nms(b.to(dev), s.to(dev), t)
                    same_indices(cpu, cuda)
                    if tv is not None:
                        assert torch.equal(tv.nms(b, s, t), cpu), "CPU path != torchvision"
                    return f"{len(cpu)} kept"

                name = f"nms N={len(boxes)} {str(dtype)[6:]} iou>{thr}"
                check(name, run)

    def nms_ties_nan_half() -> str:
        boxes, scores, _ = scene(2000, seed=1)
        scores = (scores * 4).floor() / 4  # many ties
        scores[::37] = float("nan")
        for b in (boxes, boxes.half()):
            same_indices(ops.nms(b, scores, 0.5), ops.nms(b.to(dev), scores.to(dev), 0.5))
        return "ties, NaN scores, float16 boxes"

    check("nms ties / NaN scores / half", nms_ties_nan_half)

    def batched() -> str:
        boxes, scores, labels = scene(30000, classes=80, seed=2)
        cpu = ops.batched_nms(boxes, scores, labels, 0.5)
        _sync()
        start = time.perf_counter()
        cuda = ops.batched_nms(boxes.to(dev), scores.to(dev), labels.to(dev), 0.5)
        _sync()
        same_indices(cpu, cuda)
        return f"{len(cpu)} kept, CUDA {1e3 * (time.perf_counter() - start):.1f} ms"

    check("batched_nms N=30k C=80", batched)

    def diou() -> str:
        boxes, scores, labels = scene(5000, classes=5, seed=3)
        for idxs in (None, labels):
            cpu = ops.diou_nms(boxes, scores, 0.5, idxs=idxs)
            cuda_idxs = None if idxs is None else idxs.to(dev)
            same_indices(cpu, ops.diou_nms(boxes.to(dev), scores.to(dev), 0.5, idxs=cuda_idxs))
        return "class-agnostic and per class"

    check("diou_nms N=5k", diou)

    def soft() -> str:
        boxes, scores, _ = scene(600, seed=4)
        details = []
        for method in ("linear", "gaussian"):
            keep, kept = ops.soft_nms(boxes, scores, method=method)
            keep_c, kept_c = ops.soft_nms(boxes.to(dev), scores.to(dev), method=method)
            same_indices(keep, keep_c)
            details.append(f"{method} max|ds| {close(kept, kept_c, 1e-5, 1e-7, 'scores'):.1e}")
        return ", ".join(details)

    check("soft_nms N=600", soft)

    def nms_timing() -> str:
        boxes, scores, _ = scene(30000, seed=5)
        b, s = boxes.to(dev), scores.to(dev)
        ops.nms(b, s, 0.5)
        _sync()
        start = time.perf_counter()
        ops.nms(b, s, 0.5)
        _sync()
        ours = time.perf_counter() - start
        text = f"tinyvision CUDA {1e3 * ours:.1f} ms"
        if tv is not None:
            tv.nms(b, s, 0.5)
            _sync()
            start = time.perf_counter()
            tv.nms(b, s, 0.5)
            _sync()
            text += f", torchvision CUDA {1e3 * (time.perf_counter() - start):.1f} ms"
        return text

    check("nms N=30k CUDA timing (information)", nms_timing)

    # ------------------------------------------------------------------ IoUs
    pairwise = {
        "box_iou": ops.box_iou,
        "generalized_box_iou": ops.generalized_box_iou,
        "distance_box_iou": ops.distance_box_iou,
        "complete_box_iou": ops.complete_box_iou,
    }
    a, _, _ = scene(1500, seed=6)
    b, _, _ = scene(1200, seed=7)
    a, b = awkward(a), awkward(b)
    for name, fn in pairwise.items():

        def run_pair(fn=fn) -> str:
            worst = close(fn(a, b), fn(a.to(dev), b.to(dev)), 1e-5, 1e-6, "values")
            ga = a[:200].nan_to_num(0.0, 1e4, -1e4).clone().requires_grad_(True)
            gb = b[:150].nan_to_num(0.0, 1e4, -1e4)
            fn(ga, gb).sum().backward()
            gc = ga.detach().to(dev).requires_grad_(True)
            fn(gc, gb.to(dev)).sum().backward()
            close(ga.grad, gc.grad, 1e-4, 1e-5, "gradients")
            return f"max|diff| {worst:.1e}"

        check(f"{name} 1500x1200 values+grads", run_pair)

    def aligned() -> str:
        x, y = a[:500].nan_to_num(0.0, 1e4, -1e4), b[:500].nan_to_num(0.0, 1e4, -1e4)
        for kind in ("iou", "giou", "diou", "ciou"):
            close(
                ops.bbox_iou(x, y, kind), ops.bbox_iou(x.to(dev), y.to(dev), kind), 1e-5, 1e-6, kind
            )
        return "iou, giou, diou, ciou"

    check("bbox_iou element-wise", aligned)

    # ------------------------------------------------------------------ losses
    def focal() -> str:
        g = torch.Generator().manual_seed(0)
        x = torch.randn(100_000, generator=g) * 3
        t = (torch.rand(100_000, generator=g) < 0.05).float()
        for reduction in ("none", "mean", "sum"):
            xc = x.clone().requires_grad_(True)
            lc = losses.sigmoid_focal_loss(xc, t, reduction=reduction)
            lc.sum().backward()
            xg = x.to(dev, copy=True).requires_grad_(True)
            lg = losses.sigmoid_focal_loss(xg, t.to(dev), reduction=reduction)
            lg.sum().backward()
            close(lc.detach(), lg.detach(), 1e-5, 1e-6, f"{reduction} values")
            close(xc.grad, xg.grad, 1e-5, 1e-7, f"{reduction} gradients")
        return "none, mean, sum"

    check("sigmoid_focal_loss values+grads", focal)

    def box_losses() -> str:
        x = a[:400].nan_to_num(0.0, 1e4, -1e4)
        y = x + torch.randn(400, 4, generator=torch.Generator().manual_seed(1)) * 5
        for fn in (
            losses.generalized_box_iou_loss,
            losses.distance_box_iou_loss,
            losses.complete_box_iou_loss,
        ):
            xc = x.clone().requires_grad_(True)
            fn(xc, y, reduction="mean").backward()
            xg = x.to(dev, copy=True).requires_grad_(True)
            lg = fn(xg, y.to(dev), reduction="mean")
            lg.backward()
            close(fn(x, y), fn(x.to(dev), y.to(dev)), 1e-5, 1e-6, fn.__name__)
            close(xc.grad, xg.grad, 1e-4, 1e-7, fn.__name__ + " gradients")
            empty = torch.zeros(0, 4, device=dev, requires_grad=True)
            zero = fn(empty, empty.detach(), reduction="mean")
            zero.backward()
            assert zero.item() == 0.0 and empty.grad is not None
        return "giou, diou, ciou (+ empty input)"

    check("IoU losses values+grads", box_losses)

    failed = [name for name, ok, _ in RESULTS if not ok]
    print(f"\n{len(RESULTS) - len(failed)} of {len(RESULTS)} checks passed")
    if failed:
        print("FAILED: " + "; ".join(failed))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
