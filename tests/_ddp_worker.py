"""Run under torchrun by test_train_distributed.py: DDP-train ToyNet (``classify``, the
default) or the tiny detector (``detect``), save each rank's weights and epoch losses."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_train_classify import toy_data
from test_train_distributed import CONFIG, detector_setup, toy_model
from tinyvision.train import TrainConfig, setup_distributed, train_classifier, train_detector
from tinyvision.train.distributed import cleanup_distributed


def main(out: str, kind: str = "classify") -> None:
    torch.set_num_threads(1)
    ctx = setup_distributed("cpu")
    assert ctx.world_size == 2, ctx
    if kind == "detect":
        model, images, labels, config = detector_setup()
        result = train_detector(model, images, labels, config, ctx=ctx, out_dir=Path(out) / "run")
        weights = result.raw_model.state_dict()
    else:
        # validated on rank 0 only; every rank gets the metrics (rows, best epoch)
        val = toy_data(32, seed=1)
        config = TrainConfig(**CONFIG)
        result = train_classifier(
            toy_model(), toy_data(), config, val=val, ctx=ctx, out_dir=Path(out) / "run"
        )
        weights = result.model.state_dict()
        torch.save((result.rows, result.best_epoch), Path(out) / f"rows{ctx.rank}.pt")
    torch.save(weights, Path(out) / f"rank{ctx.rank}.pt")
    torch.save(result.epoch_losses, Path(out) / f"losses{ctx.rank}.pt")
    cleanup_distributed(ctx)


if __name__ == "__main__":
    main(*sys.argv[1:])
