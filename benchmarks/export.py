"""Exported models in ONNX Runtime (CPU) against PyTorch eager: images per second.

The anchor is the model in PyTorch eager mode (``torch.inference_mode``), ours the ONNX
file that ``tinyvision.train.export.export`` writes, run by ONNX Runtime's CPU provider
(default graph optimisations). Both take the same float32 batch; the check is that their
outputs agree within 1e-4. Models (random weights: speed does not depend on them):

* detector: ``TinyDetector(DetectorConfig(80, width=16))`` (the YOLOv5n-like default scale,
  2 levels), letterboxed ``S x S`` input (``--img-size``, 256 by default), raw decoded
  output ``[B, N, 85]`` (no NMS: the graphs compared are the same work);
* classifier: ``FastNet()`` (widths 64, 256, 256) on 32 x 32 CIFAR-sized images, with the
  normalisation inside (logits out).

Each at batch 1 and 32, with one thread (``torch.set_num_threads(1)``, ONNX Runtime
``intra_op_num_threads=1``) and with all threads (both set to the logical core count). The
protocol is ``benchmarks/_protocol.py``'s: the sides alternate, best and median of N, CPU
and wall time; with several threads the CPU time adds up the threads' time, so the wall
time is the figure to read there. Images per second are printed from the best CPU time
(one thread) or the best wall time (all threads).

    python benchmarks/export.py              # a few minutes on 2 cores
    python benchmarks/export.py --quick      # a smoke run: img 64, 3 repeats
"""

from __future__ import annotations

import _protocol  # first: pins the thread pools before numpy and torch load

# isort: split
import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from tinyvision.nn.classifier import FastNet
from tinyvision.nn.detector import DetectorConfig, TinyDetector
from tinyvision.train.export import ClassifierGraph, DetectorGraph, export

BATCHES = (1, 32)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--img-size", type=int, default=256, help="detector input side (256)")
    parser.add_argument("--repeat", type=int, default=10, help="timed calls at batch 1 (10)")
    parser.add_argument("--quick", action="store_true", help="img 64, 3 repeats: a smoke run")
    _protocol.add_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.img_size, args.repeat = 64, 3
    bench = _protocol.Bench.from_args(
        args, anchor_name="pytorch", ours_name="onnxruntime", threads=1
    )
    try:
        import onnxruntime as ort
    except ImportError:
        bench.missing("every case", "onnxruntime", "pip install 'tinyvision[export]'")
        return bench.finish()
    all_threads = os.cpu_count() or 1
    bench.note(f"torch {torch.__version__}, onnxruntime {ort.__version__}; random weights")
    bench.note(
        f"'{all_threads} threads' rows: torch.set_num_threads({all_threads}) and ONNX Runtime "
        f"intra_op_num_threads={all_threads}; their CPU times sum the threads: read the wall"
    )
    torch.manual_seed(0)
    detector = TinyDetector(DetectorConfig(80, width=16), image_size=args.img_size).eval()
    classifier = FastNet().eval()
    models = {
        f"detector {args.img_size}px": (
            detector,
            DetectorGraph(detector),
            (3, args.img_size, args.img_size),
            {"img_size": args.img_size},
        ),
        "classifier 32px": (
            _classifier_record(classifier, [0.5] * 3, [0.25] * 3),
            ClassifierGraph(classifier, [0.5] * 3, [0.25] * 3),
            (3, 32, 32),
            {},
        ),
    }
    rates: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        for name, (model, graph, shape, options) in models.items():
            path = export(model, Path(folder) / f"{name.split()[0]}.onnx", **options)
            for threads in (1, all_threads):
                _protocol.pin_runtime_threads(threads)
                session = _session(ort, path, threads)
                for batch in BATCHES:
                    label = f"{name}, batch {batch}, {threads} thread{'s' * (threads > 1)}"
                    rates += _compare(
                        bench, label, graph, session, (batch, *shape), args.repeat, threads
                    )
        _protocol.pin_runtime_threads(1)
    for line in rates:
        bench.note(line)
    return bench.finish()


def _classifier_record(model: FastNet, mean: list[float], std: list[float]) -> dict:
    """A classifier checkpoint record of ``model`` (what ``classify train`` saves)."""
    import dataclasses

    from tinyvision.train.classify import TrainConfig

    return {
        "kind": "classifier",
        "model": model.state_dict(),
        "config": dataclasses.asdict(TrainConfig()),
        "mean": mean,
        "std": std,
        "model_name": "fast",
        "model_kwargs": {},
        "image_shape": [3, 32, 32],
        "classes": [str(k) for k in range(10)],
    }


def _session(ort, path: Path, threads: int):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _compare(bench, label, graph, session, shape, repeat, threads) -> list[str]:
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(0))
    feed = {"images": x.numpy()}
    batch = shape[0]

    def eager() -> np.ndarray:
        with torch.inference_mode():
            return graph(x).numpy()

    def onnxruntime() -> np.ndarray:
        return session.run(None, feed)[0]

    def check(ours: np.ndarray, anchor: np.ndarray) -> bool:
        np.testing.assert_allclose(ours, anchor, atol=1e-4, rtol=0)
        return True

    runs = max(3, repeat if batch == 1 else repeat // 3)
    row = bench.compare(label, ours=onnxruntime, anchor=eager, repeat=runs, check=check)
    if row is None:
        return []
    # one thread: CPU time (steady on a shared machine); several: wall time (CPU time sums them)
    clock = "cpu" if threads == 1 else "wall"
    ours = batch / getattr(row.ours, f"{clock}_best")
    anchor = batch / getattr(row.anchor, f"{clock}_best")
    return [
        f"{label}: onnxruntime {ours:.1f} images/s, pytorch eager {anchor:.1f} images/s "
        f"(best {clock} time)"
    ]


if __name__ == "__main__":
    sys.exit(main())
