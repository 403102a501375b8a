"""Per-image matches merged over torch.distributed (gloo, 2 spawned processes) give the
result of one process. Timeouts everywhere, so a bug fails instead of hanging."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import torch.multiprocessing as mp

from tinyvision.data import make_coco_like
from tinyvision.metrics import accumulate_matches, evaluate_detections, gather_matches, match_images

WORLD = 2
KEYS = ("precision", "recall", "scores", "stats")


def _worker(rank: int, world: int, folder: str) -> None:
    import torch.distributed as dist

    base = Path(folder)
    dist.init_process_group(
        "gloo",
        init_method=f"file://{base / 'rendezvous'}",
        rank=rank,
        world_size=world,
        timeout=timedelta(seconds=120),
    )
    try:
        gt = json.loads((base / "gt.json").read_text())
        ids = sorted(im["id"] for im in gt["images"])
        mine = ids[rank::world]  # interleaved shards
        merged = gather_matches(match_images(gt, base / "dt.json", image_ids=mine))
        result = accumulate_matches(merged)
        np.savez(
            base / f"rank{rank}.npz",
            confusion=result.confusion_matrix(0.3),
            **{k: getattr(result, k) for k in KEYS},
        )
    finally:
        dist.destroy_process_group()


def test_gloo_two_processes_equal_one(tmp_path: Path) -> None:
    gt, dt = make_coco_like(70, 5, seed=13)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(dt))
    single = evaluate_detections(gt, dt)

    context = mp.start_processes(
        _worker, args=(WORLD, str(tmp_path)), nprocs=WORLD, join=False, start_method="spawn"
    )
    deadline = time.monotonic() + 300
    while not context.join(timeout=5):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail("distributed evaluation did not finish within 300 s")

    for rank in range(WORLD):
        with np.load(tmp_path / f"rank{rank}.npz") as got:
            for key in KEYS:
                assert np.array_equal(got[key], getattr(single, key)), (rank, key)
            assert np.array_equal(got["confusion"], single.confusion_matrix(0.3))


def test_gather_without_process_group_is_identity() -> None:
    gt, dt = make_coco_like(5, 2, seed=1)
    matches = match_images(gt, dt)
    assert gather_matches(matches) is matches
