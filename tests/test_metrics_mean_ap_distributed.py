"""``MeanAveragePrecision.sync()`` over two real gloo processes on the CPU.

The ranks call ``update()`` different numbers of times (one of them never in the second
scenario); ``sync()`` must neither hang nor lose images, and ``compute()`` afterwards must
equal one process's result on every rank's images in rank order, to the bit. A bug fails on
the collective's timeout or the test's deadline instead of hanging.
"""

from __future__ import annotations

import socket
import time
from datetime import timedelta

import pytest
import torch.distributed as dist
import torch.multiprocessing as mp

WORLD_SIZE = 2


def _shards(rank: int, scenario: str) -> list[int]:
    """Which of the 4 batches each rank updates with: 3 and 1, or 4 and none."""
    if scenario == "uneven":
        return [0, 1, 2] if rank == 0 else [3]
    return [0, 1, 2, 3] if rank == 0 else []


def _worker(rank: int, port: int) -> None:
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=WORLD_SIZE,
        timeout=timedelta(seconds=60),
    )
    try:
        for scenario in ("uneven", "idle-rank"):
            _check(rank, scenario, {"class_metrics": True})
        _check(rank, "uneven", {"iou_type": ("bbox", "segm"), "class_metrics": True})
    finally:
        dist.destroy_process_group()


def _check(rank: int, scenario: str, kwargs: dict) -> None:
    # the single-process metric is checked against torchmetrics in test_metrics_mean_ap.py
    from _torchmetrics_reference import random_batches
    from test_metrics_mean_ap import assert_same_result
    from tinyvision.metrics import MeanAveragePrecision

    batches = random_batches(4, 3, masks="segm" in kwargs.get("iou_type", ()), seed=7)
    metric = MeanAveragePrecision(**kwargs)
    for i in _shards(rank, scenario):
        metric.update(*batches[i])
    local = metric.compute()
    metric.sync()
    metric.sync()  # a second sync gathers the local images again, not the gathered ones
    single = MeanAveragePrecision(**kwargs)
    for i in _shards(0, scenario) + _shards(1, scenario):  # rank 0's images, then rank 1's
        single.update(*batches[i])
    assert_same_result(metric.compute(), single.compute())
    if scenario == "uneven":
        # a further update makes compute() local again until the next sync
        metric.update(*batches[0])
        again = MeanAveragePrecision(**kwargs)
        for i in [*_shards(rank, scenario), 0]:
            again.update(*batches[i])
        assert_same_result(metric.compute(), again.compute())
        assert local.keys() == again.compute().keys()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")
def test_sync_over_two_gloo_processes_with_uneven_updates() -> None:
    context = mp.start_processes(
        _worker,
        args=(_free_port(),),
        nprocs=WORLD_SIZE,
        join=False,
        start_method="spawn",
    )
    deadline = time.monotonic() + 240
    while not context.join(timeout=2):  # raises ProcessRaisedException if a rank failed
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail("the two ranks did not finish in time: sync() hung")
