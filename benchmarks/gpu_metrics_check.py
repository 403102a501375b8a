"""CUDA tensors in, same numbers out: tinyvision.metrics on GPU inputs against CPU inputs.

    PYTHONPATH=src python3 benchmarks/gpu_metrics_check.py

The metrics copy CUDA tensors to the CPU once (no device path of their own); this script
checks that path on a real GPU: float32/half/bfloat16 scores, int64/bool labels, both
accumulators fed with CUDA batches. Prints one PASS/FAIL line per check and exits non-zero
on any failure, also without a CUDA device (``--device cpu``: a dry run with CPU tensors).
Takes a few seconds.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

import tinyvision.metrics as tvm


def _same(a, b) -> bool:
    if isinstance(a, tuple):
        return all(_same(x, y) for x, y in zip(a, b))
    if hasattr(a, "__dataclass_fields__"):
        return all(_same(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    if a is None or b is None:
        return a is b
    return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))


def main() -> int:
    # ``--device cpu`` runs the same comparisons with CPU tensors (a dry run of the script)
    device = torch.device(
        sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cuda"
    )
    if device.type == "cuda" and not torch.cuda.is_available():
        print("FAIL: no CUDA device: torch.cuda.is_available() is False (--device cpu: dry run)")
        return 1
    start = time.perf_counter()
    generator = torch.Generator().manual_seed(0)
    n = 200_000
    y = (torch.rand(n, generator=generator) < 0.2).long()
    scores = torch.randn(n, generator=generator) + y
    classes = torch.randint(0, 10, (n,), generator=generator)
    predicted = torch.where(torch.rand(n, generator=generator) < 0.7, classes, classes.roll(1))
    failures = 0

    def check(name: str, ours, reference) -> None:
        nonlocal failures
        ok = _same(ours, reference)
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'}: {name}")

    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        s_cpu = scores.to(dtype)
        s_gpu = s_cpu.to(device)
        ref = s_cpu.float().numpy() if dtype == torch.bfloat16 else s_cpu.numpy()
        check(f"roc_curve {dtype}", tvm.roc_curve(y.to(device), s_gpu), tvm.roc_curve(y, ref))
        check(
            f"precision_recall_curve {dtype}",
            tvm.precision_recall_curve(y.to(device).bool(), s_gpu),
            tvm.precision_recall_curve(y.numpy(), ref),
        )
        check(
            f"roc_auc_score {dtype}",
            tvm.roc_auc_score(y.to(device), s_gpu),
            tvm.roc_auc_score(y.numpy(), ref),
        )
        check(f"roc_auc_ci {dtype}", tvm.roc_auc_ci(y.to(device), s_gpu), tvm.roc_auc_ci(y, ref))
    check(
        "confusion_matrix",
        tvm.confusion_matrix(classes.to(device), predicted.to(device)),
        tvm.confusion_matrix(classes.numpy(), predicted.numpy()),
    )
    check(
        "precision_recall_fscore_support",
        tvm.precision_recall_fscore_support(classes.to(device), predicted.to(device)),
        tvm.precision_recall_fscore_support(classes.numpy(), predicted.numpy()),
    )
    probs = torch.softmax(torch.randn(n, 10, generator=generator, dtype=torch.float64), 1)
    check(
        "roc_auc_score ovr",
        tvm.roc_auc_score(classes.to(device), probs.to(device), multi_class="ovr"),
        tvm.roc_auc_score(classes.numpy(), probs.numpy(), multi_class="ovr"),
    )
    confusion = tvm.ConfusionMatrixAccumulator(num_classes=10)
    curves = tvm.BinaryCurveAccumulator()
    for part in torch.split(torch.arange(n), 50_000):
        confusion.update(classes[part].to(device), predicted[part].to(device))
        curves.update(y[part].to(device), scores[part].to(device))
    check(
        "ConfusionMatrixAccumulator",
        confusion.compute(),
        tvm.confusion_matrix(classes.numpy(), predicted.numpy()),
    )
    check("BinaryCurveAccumulator", curves.compute().roc_auc, tvm.roc_auc_score(y, scores))
    seconds = time.perf_counter() - start
    print(f"{'FAIL' if failures else 'PASS'}: {failures} failures, {seconds:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
