"""torchrun + DDP with two gloo processes on the CPU, against one process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from _classify_helpers import one_thread  # noqa: F401 (autouse fixture)
from tinyvision._errors import UserError
from tinyvision.data.loader import AugmentConfig
from tinyvision.nn import ToyNet
from tinyvision.nn.detector import DetectorConfig, TinyDetector
from tinyvision.train import (
    DetectTrainConfig,
    DistContext,
    TrainConfig,
    resolve_device,
    train_classifier,
    train_detector,
)
from tinyvision.train.checkpoint import load_checkpoint

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
# An odd batch: the ranks get 8 and 7 images, and the loss scaling must still give the
# one-process update. ToyNet has no batch norm, so the two runs agree to rounding.
CONFIG = {"epochs": 2, "batch_size": 15, "lr": 0.1, "translate": 1, "flip": True, "seed": 5}


def toy_model() -> ToyNet:
    torch.manual_seed(0)
    return ToyNet(1, 2, 6, padding=2)


def detector_setup() -> tuple[TinyDetector, list[np.ndarray], list[np.ndarray], DetectTrainConfig]:
    """The tiny detector, 8 copies of one 64-pixel image and a config without augmentation.

    DDP averages the gradients of per-rank losses, while one process takes one loss over the
    whole batch: batch norm statistics and the loss's means over targets and grid cells are
    per rank. They agree with one process's when every rank sees the same statistics, which
    identical, unaugmented images give; then 2 ranks of 2 images train like 1 process of 4
    to float rounding. SGD, as Adam would hide a wrongly scaled gradient.
    """
    torch.manual_seed(0)
    anchors = ((8, 8, 12, 12, 18, 18), (24, 24, 32, 32, 44, 44))
    model = TinyDetector(DetectorConfig(3, width=4, anchors=anchors, num_heads=2), image_size=64)
    image = np.full((64, 64, 3), 114, dtype=np.uint8)
    image[8:30, 10:40] = (220, 40, 40)  # a red box
    image[36:60, 34:58] = (30, 30, 200)  # a blue square
    boxes = np.array([[0, 10, 8, 40, 30], [2, 34, 36, 58, 60]], dtype=np.float64)
    still = AugmentConfig(
        mosaic=0.0, translate=0.0, scale=0.0, hsv_h=0.0, hsv_s=0.0, hsv_v=0.0, fliplr=0.0
    )
    config = DetectTrainConfig(
        epochs=2,
        batch_size=4,
        img_size=64,
        optimizer="sgd",
        lr=0.02,
        warmup=0.0,
        close_mosaic=0,
        augment=still,
        workers=0,
    )
    return model, [image.copy() for _ in range(8)], [boxes.copy() for _ in range(8)], config


def _torchrun_worker(out: Path, *args: str) -> None:
    """``_ddp_worker.py out *args`` in two gloo processes under torchrun."""
    env = dict(os.environ, PYTHONPATH=str(SRC), OMP_NUM_THREADS="1")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        str(HERE / "_ddp_worker.py"),
        str(out),
        *args,
    ]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.slow
def test_two_gloo_processes_train_like_one(tmp_path: Path) -> None:
    from test_train_classify import toy_data

    _torchrun_worker(tmp_path)
    rank0 = torch.load(tmp_path / "rank0.pt")
    rank1 = torch.load(tmp_path / "rank1.pt")
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)  # DDP keeps replicas equal
    single = train_classifier(toy_model(), toy_data(), TrainConfig(**CONFIG)).model.state_dict()
    for name, value in single.items():
        assert torch.allclose(rank0[name], value, rtol=1e-4, atol=1e-6), name
    losses = torch.load(tmp_path / "losses0.pt")
    assert losses == torch.load(tmp_path / "losses1.pt")  # the loss is summed over ranks
    # Only rank 0 wrote the checkpoint, and it holds the trained weights.
    record = load_checkpoint(tmp_path / "run" / "last.pt")
    assert record["epoch"] == 2
    assert all(torch.equal(record["model"][k], rank0[k]) for k in rank0)
    # rank 0 validated, and both ranks agree on the rows and the best epoch
    rows0, best0 = torch.load(tmp_path / "rows0.pt")
    assert (rows0, best0) == torch.load(tmp_path / "rows1.pt")
    assert len(rows0) == 2 and 1 <= best0 <= 2
    assert (tmp_path / "run" / "best.pt").is_file()
    assert (tmp_path / "run" / "results.csv").read_text().count("\n") == 3


@pytest.mark.slow
def test_detector_two_gloo_processes_train_like_one(tmp_path: Path) -> None:
    _torchrun_worker(tmp_path, "detect")
    rank0 = torch.load(tmp_path / "rank0.pt")
    rank1 = torch.load(tmp_path / "rank1.pt")
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)  # DDP keeps replicas equal
    model, images, labels, config = detector_setup()
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    single = train_detector(model, images, labels, config)
    assert single.steps == 4  # 2 epochs of 2 steps; each rank: 2 images of every 4
    weights = single.raw_model.state_dict()
    compared = 0
    for name, value in weights.items():
        if name.endswith("running_var"):
            # the unbiased running variance divides by n - 1 over this process's n values:
            # 2 images per rank against 4 in one process
            continue
        if not value.is_floating_point():
            assert torch.equal(rank0[name], value), name  # num_batches_tracked
            continue
        # float32 rounding of sums over 2 and over 4 images, through 4 SGD steps (largest
        # difference measured: 1.2e-7)
        assert torch.allclose(rank0[name], value, rtol=1e-4, atol=1e-6), name
        compared += 1
    # the training moved the weights by far more than the tolerance
    moved = [k for k in weights if weights[k].is_floating_point() and "running" not in k]
    assert len(moved) > 50 and compared > len(moved)
    change = max(float((weights[k] - initial[k]).abs().max()) for k in moved)
    assert change > 1e-2
    # the epoch losses (box, obj, cls), summed over the ranks, are one process's
    losses = torch.load(tmp_path / "losses0.pt")
    assert losses == torch.load(tmp_path / "losses1.pt")
    assert np.allclose(losses, single.epoch_losses, rtol=1e-5, atol=0)
    assert load_checkpoint(tmp_path / "run" / "last.pt", kind="detector")["epoch"] == 2
    # rank 0 drew the labels and its share of the first batch (2 images of 64 px side by side)
    assert (tmp_path / "run" / "labels.png").read_bytes()[:4] == b"\x89PNG"
    assert cv2.imread(str(tmp_path / "run" / "train_batch0.jpg")).shape == (64, 128, 3)


def test_one_process_context() -> None:
    ctx = DistContext()
    assert ctx.is_main and not ctx.distributed and ctx.device == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_without_gpu_is_a_user_error() -> None:
    with pytest.raises(UserError, match="no CUDA GPU is available here"):
        resolve_device("cuda")
    assert resolve_device("auto") == torch.device("cpu")


def test_bad_device_name() -> None:
    with pytest.raises(ValueError, match="device must be 'auto', 'cpu'"):
        resolve_device("tpu9")
