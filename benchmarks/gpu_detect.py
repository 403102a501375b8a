"""The detector's training on a GPU: `tinyvision detect train` on shapes at a larger size.

The same training as the CPU default (shapes, mosaic + random perspective, CIoU + BCE,
AdamW one-cycle, EMA) at 256 px instead of 128 (objects scaled with the image), a wider
model, a larger batch and more epochs, with bfloat16 autocast and as many loader threads
as the machine has cores to spare. Prints the wall time of the training and the COCO mAP of
the validation split. Run on a GPU machine from the repository root:

    PYTHONPATH=src python3 benchmarks/gpu_detect.py

``--tiny`` trains a few steps at 64 px on whatever device there is (a CPU smoke test);
without it and without a CUDA device the script fails (exit 1). The load average and the
process CPU time are printed beside the wall time.
It should finish in under about 4 minutes on one H100 (data generation included).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import torch

from tinyvision.cli import main as cli


def arguments(args: argparse.Namespace, data_dir: Path, out: Path) -> list[str]:
    workers = max(1, min(12, (os.cpu_count() or 2) - 2))
    if args.tiny:
        settings = {"img-size": 64, "epochs": 2, "batch-size": 8, "width": 4,
                    "train-images": 32, "val-images": 16, "workers": 1}  # fmt: skip
    else:
        settings = {"img-size": args.img_size, "epochs": args.epochs, "batch-size": 64,
                    "width": 24, "train-images": 2000, "val-images": 300,
                    "workers": workers}  # fmt: skip
    argv = ["detect", "train", "--data-dir", str(data_dir), "--out", str(out)]
    for key, value in settings.items():
        argv += [f"--{key}", str(value)]
    return [*argv, "--device", args.device]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a few CPU steps at 64 px")
    parser.add_argument("--img-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    if not args.tiny and args.device == "auto" and not torch.cuda.is_available():
        print("gpu_detect: FAIL: no CUDA GPU here (--tiny runs a CPU smoke test)")
        return 1
    torch.backends.cudnn.benchmark = True
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        argv = arguments(args, Path(tmp) / "data", out)
        print("tinyvision " + " ".join(argv), flush=True)
        load_before = os.getloadavg()
        cpu, start = time.process_time(), time.perf_counter()
        code = cli(argv)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        if code != 0:
            return code
        metrics = json.loads((out / "metrics.json").read_text())
    training = metrics["training"]
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    print(
        f"gpu_detect: {device}, {training['img_size']} px, {training['epochs']} epochs: "
        f"training {training['train_seconds']:.1f} s, whole command {wall:.1f} s "
        f"({cpu:.1f} s process CPU time); "
        f"mAP@0.5 {metrics['map50']:.4f}, mAP@0.5:0.95 {metrics['map50_95']:.4f}; "
        f"loader build share {training['data_loading']['build_share_of_step']:.1%}, "
        f"wait share {training['data_loading']['wait_share_of_step']:.1%}"
    )
    load = " -> ".join(" ".join(f"{v:.2f}" for v in x) for x in (load_before, os.getloadavg()))
    print(f"load average (1, 5, 15 min) during the run: {load}; {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
