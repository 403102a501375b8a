"""torchrun + DDP with two gloo processes on the CPU, against one process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from _classify_helpers import one_thread  # noqa: F401 (autouse fixture)
from tinyvision._errors import UserError
from tinyvision.nn import ToyNet
from tinyvision.train import DistContext, TrainConfig, resolve_device, train_classifier
from tinyvision.train.checkpoint import load_checkpoint

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
# An odd batch: the ranks get 8 and 7 images, and the loss scaling must still give the
# one-process update. ToyNet has no batch norm, so the two runs agree to rounding.
CONFIG = {"epochs": 2, "batch_size": 15, "lr": 0.1, "translate": 1, "flip": True, "seed": 5}


def toy_model() -> ToyNet:
    torch.manual_seed(0)
    return ToyNet(1, 2, 6, padding=2)


@pytest.mark.slow
def test_two_gloo_processes_train_like_one(tmp_path: Path) -> None:
    from test_train_classify import toy_data

    env = dict(os.environ, PYTHONPATH=str(SRC), OMP_NUM_THREADS="1")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        str(HERE / "_ddp_worker.py"),
        str(tmp_path),
    ]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
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
