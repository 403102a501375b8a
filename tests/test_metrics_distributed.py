"""Accumulators synced over torch.distributed: two real gloo processes on the CPU.

The ranks call ``update()`` different numbers of times (one of them not at all in the second
scenario); ``sync()`` must neither hang nor lose samples, and ``compute()`` afterwards must
equal the single-process result on all the data exactly. A bug fails on the collective's
timeout or the test's deadline instead of hanging.
"""

from __future__ import annotations

import socket
import time
from datetime import timedelta

import numpy as np
import pytest
import torch.distributed as dist
import torch.multiprocessing as mp

WORLD_SIZE = 2
N = 1200


def _data():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, N)
    y_pred = np.where(rng.random(N) < 0.6, y_true, rng.integers(0, 4, N))
    is_pos = (y_true == 1).astype(int)
    scores = np.round(rng.normal(size=N) + is_pos, 2)
    weights = rng.random(N)
    return y_true, y_pred, is_pos, scores, weights


def _shards(rank: int, scenario: str) -> list[slice]:
    """Rank 0: three batches; rank 1: one batch, or nothing at all ('idle-rank')."""
    if scenario == "uneven":
        return [slice(0, 100), slice(100, 101), slice(101, 800)] if rank == 0 else [slice(800, N)]
    return [slice(0, 500), slice(500, N)] if rank == 0 else []


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
            _check_scenario(rank, scenario)
        _check_weighted_confusion(rank)
        _check_different_labels(rank)
    finally:
        dist.destroy_process_group()


def _check_scenario(rank: int, scenario: str) -> None:
    # the single-process functions are checked against scikit-learn elsewhere; comparing
    # with them keeps the two worker processes light
    import tinyvision.metrics as tvm

    y_true, y_pred, is_pos, scores, weights = _data()
    confusion = tvm.ConfusionMatrixAccumulator(num_classes=4)
    curves = tvm.BinaryCurveAccumulator()
    weighted = tvm.BinaryCurveAccumulator()
    for part in _shards(rank, scenario):
        confusion.update(y_true[part], y_pred[part])
        curves.update(is_pos[part], scores[part])
        weighted.update(is_pos[part], scores[part], sample_weight=weights[part])
    for accumulator in (confusion, curves, weighted):
        accumulator.sync()
    confusion.sync()  # a second sync must give the same totals, not double them

    assert np.array_equal(confusion.compute(), tvm.confusion_matrix(y_true, y_pred))
    assert confusion.accuracy() == tvm.accuracy_score(y_true, y_pred)
    assert confusion.matthews_corrcoef() == tvm.matthews_corrcoef(y_true, y_pred)
    result = curves.compute()
    fpr, tpr, thresholds = tvm.roc_curve(is_pos, scores)
    assert np.array_equal(result.fpr, fpr) and np.array_equal(result.tpr, tpr)
    assert np.array_equal(result.roc_thresholds, thresholds)
    precision, recall, pr_thresholds = tvm.precision_recall_curve(is_pos, scores)
    assert np.array_equal(result.precision, precision) and np.array_equal(result.recall, recall)
    assert np.array_equal(result.pr_thresholds, pr_thresholds)
    assert result.roc_auc == tvm.roc_auc_score(is_pos, scores)
    assert result.average_precision == tvm.average_precision_score(is_pos, scores)
    assert curves.roc_auc_ci() == tvm.roc_auc_ci(is_pos, scores)
    # the ranks' samples are concatenated in rank order, i.e. the original order here:
    # even the order-dependent weighted sums are bitwise equal
    result = weighted.compute()
    expected = tvm.roc_curve(is_pos, scores, sample_weight=weights)
    assert np.array_equal(result.fpr, expected[0]) and np.array_equal(result.tpr, expected[1])
    assert result.average_precision == tvm.average_precision_score(
        is_pos, scores, sample_weight=weights
    )
    # a further update makes compute() local again until the next sync
    confusion.update([0], [0])
    local_total = sum(s.stop - s.start for s in _shards(rank, scenario)) + 1
    assert confusion.compute().sum() == local_total


def _check_weighted_confusion(rank: int) -> None:
    """Float weights: the ranks' sums are added in another order than one pass adds them."""
    import tinyvision.metrics as tvm

    y_true, y_pred, _, _, weights = _data()
    confusion = tvm.ConfusionMatrixAccumulator(num_classes=4)
    for part in _shards(rank, "uneven"):
        confusion.update(y_true[part], y_pred[part], sample_weight=weights[part])
    confusion.sync()
    expected = tvm.confusion_matrix(y_true, y_pred, sample_weight=weights)
    assert confusion.compute().dtype == np.float64
    # equal up to reassociation: a few ulps of sums of ~300 (documented in docs/metrics.md)
    np.testing.assert_allclose(confusion.compute(), expected, rtol=1e-12, atol=0)


def _check_different_labels(rank: int) -> None:
    """Ranks whose labels differ (same count, other values or order) get a ValueError."""
    import tinyvision.metrics as tvm

    cases = [
        ([0, 1, 2], [0, 1, 3]),  # same count, one other label
        ([0, 1, 2], [2, 1, 0]),  # same labels, another order: another matrix layout
        (["cat", "dog"], [0, 1]),  # strings against integers
        ([0, 1], [0, 1, 2]),  # another count
    ]
    for mine, theirs in cases:
        labels = mine if rank == 0 else theirs
        confusion = tvm.ConfusionMatrixAccumulator(labels)
        confusion.update(labels[:1], labels[:1])
        with pytest.raises(ValueError, match="ranks hold accumulators with different labels") as e:
            confusion.sync()
        # every rank names every rank's labels
        assert f"rank 0: {mine!r}" in str(e.value) and f"rank 1: {theirs!r}" in str(e.value)
        assert confusion.compute().sum() == 1  # the local counts are left alone
    # equal labels still sync afterwards (the failed syncs left the ranks in step)
    confusion = tvm.ConfusionMatrixAccumulator(["cat", "dog"])
    confusion.update(["cat"], ["dog" if rank else "cat"])
    confusion.sync()
    assert np.array_equal(confusion.compute(), [[1, 1], [0, 0]])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")
def test_sync_over_two_gloo_processes() -> None:
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
