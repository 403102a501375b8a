"""Learning-rate schedules: the notes' one_cycle, warm-up + one-cycle, cosine restarts."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyvision.train.schedule import cosine_restarts_lr, cycle_ends, one_cycle, one_cycle_lr


def notes_one_cycle(y1=0.0, y2=1.0, steps=100):
    # The notes' (YOLOv5's) function, verbatim.
    return lambda x: ((1 - math.cos(x * math.pi / steps)) / 2) * (y2 - y1) + y1


@pytest.mark.parametrize(("y1", "y2", "steps"), [(0.0, 1.0, 100), (1.0, 0.01, 300), (0.2, 0.2, 7)])
def test_one_cycle_equals_the_notes(y1: float, y2: float, steps: int) -> None:
    ours, theirs = one_cycle(y1, y2, steps), notes_one_cycle(y1, y2, steps)
    for x in [*range(steps + 1), 0.5, steps / 3]:
        assert ours(x) == theirs(x)


def test_one_cycle_start_middle_end() -> None:
    f = one_cycle(1.0, 0.01, 100)
    assert f(0) == 1.0  # cos(0) = 1 -> (1 - 1) / 2 = 0 -> y1
    assert f(50) == pytest.approx(0.505, abs=1e-15)  # cos(pi/2) = 0 -> halfway
    assert f(100) == pytest.approx(0.01, abs=1e-15)  # cos(pi) = -1 -> y2


def test_one_cycle_bad_input() -> None:
    with pytest.raises(ValueError, match="steps must be >= 1"):
        one_cycle(0, 1, 0)
    with pytest.raises(ValueError, match="y1 must not be NaN"):
        one_cycle(float("nan"), 1, 10)


def torch_one_cycle(total: int, **kwargs) -> list[float]:
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=0.1)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, total_steps=total, cycle_momentum=False, **kwargs
    )
    lrs = []
    for _ in range(total):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


@pytest.mark.parametrize(
    ("total", "kwargs"),
    [
        (100, {"max_lr": 0.1}),
        (37, {"max_lr": 2.0, "pct_start": 0.25, "anneal_strategy": "linear"}),
        (10, {"max_lr": 0.4, "pct_start": 0.5, "div_factor": 10.0, "final_div_factor": 100.0}),
        (1000, {"max_lr": 1.0, "pct_start": 0.05}),
    ],
)
def test_one_cycle_lr_equals_torch_onecyclelr(total: int, kwargs: dict) -> None:
    expected = torch_one_cycle(total, **kwargs)
    ours = [one_cycle_lr(step, total, **kwargs) for step in range(total)]
    assert ours == expected  # bit for bit: the same expressions


def test_one_cycle_lr_start_peak_end() -> None:
    # 100 steps, pct_start 0.3: the peak is at step 0.3 * 100 - 1 = 29.
    # torch's expression end + (start - end) / 2 * (cos(0) + 1) rounds the start by 1 ulp-ish.
    assert one_cycle_lr(0, 100, max_lr=1.0) == pytest.approx(1.0 / 25, rel=1e-14)
    assert one_cycle_lr(29, 100, max_lr=1.0) == 1.0
    assert one_cycle_lr(99, 100, max_lr=1.0) == pytest.approx(1.0 / 25 / 1e4, rel=1e-12)
    lrs = [one_cycle_lr(s, 100, max_lr=1.0) for s in range(100)]
    assert max(lrs) == lrs[29]
    assert all(a <= b for a, b in pairwise(lrs[:30]))  # rising to the peak
    assert all(a >= b for a, b in pairwise(lrs[29:]))  # falling after it


def test_one_cycle_lr_edge_cases() -> None:
    # A one-step run: the peak is at 0.3 - 1 < 0, so step 0 is already the end of the decay.
    assert one_cycle_lr(0, 1, max_lr=0.5) == pytest.approx(0.5 / 25 / 1e4, rel=1e-12)
    assert one_cycle_lr(0, 10, max_lr=0.5, pct_start=0.1) == 0.5  # peak at step 0
    assert one_cycle_lr(9, 10, max_lr=0.5, pct_start=1.0) == 0.5  # warm-up only


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: one_cycle_lr(10, 10, max_lr=1.0), "step must be <= 9"),
        (lambda: one_cycle_lr(-1, 10, max_lr=1.0), "step must be >= 0"),
        (lambda: one_cycle_lr(0, 0, max_lr=1.0), "total_steps must be >= 1"),
        (lambda: one_cycle_lr(0, 10, max_lr=-1.0), "max_lr must be >= 0"),
        (lambda: one_cycle_lr(0, 10, max_lr=1.0, pct_start=1.5), "pct_start must be <= 1"),
        (lambda: one_cycle_lr(0, 10, max_lr=1.0, div_factor=0), "div_factor must be > 0"),
        (lambda: one_cycle_lr(0, 10, max_lr=1.0, anneal_strategy="exp"), "anneal_strategy"),
        (lambda: one_cycle_lr(1.5, 10, max_lr=1.0), "step must be an integer"),
    ],
)
def test_one_cycle_lr_bad_input(call, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        call()


@pytest.mark.parametrize(("T_0", "T_mult", "eta_min"), [(10, 1, 0.0), (4, 2, 0.001), (7, 3, 0.0)])
def test_cosine_restarts_equals_torch(T_0: int, T_mult: int, eta_min: float) -> None:
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=0.3)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0, T_mult, eta_min)
    for step in range(100):
        expected = opt.param_groups[0]["lr"]
        assert (
            cosine_restarts_lr(step, base_lr=0.3, T_0=T_0, T_mult=T_mult, eta_min=eta_min)
            == expected
        )
        opt.step()
        sched.step()


def test_cosine_restarts_start_bottom_restart() -> None:
    lr = [cosine_restarts_lr(s, base_lr=1.0, T_0=4) for s in range(9)]
    # 1, (1+cos(pi/4))/2, 1/2, (1+cos(3pi/4))/2, then a restart at step 4.
    assert lr[0] == 1.0 and lr[2] == pytest.approx(0.5) and lr[4] == 1.0 and lr[8] == 1.0
    assert lr[3] == pytest.approx((1 - math.sqrt(0.5)) / 2)


def test_cycle_ends() -> None:
    assert cycle_ends(12, T_0=4) == [3, 7, 11]
    assert cycle_ends(10, T_0=4) == [3, 7]  # the third cycle is cut short: no snapshot
    assert cycle_ends(15, T_0=1, T_mult=2) == [0, 2, 6, 14]  # cycles of 1, 2, 4, 8
    assert cycle_ends(0, T_0=3) == []
    for end in cycle_ends(40, T_0=5, T_mult=2):  # the lr is at its lowest at each end
        assert cosine_restarts_lr(end + 1, base_lr=1.0, T_0=5, T_mult=2) == 1.0


@settings(max_examples=60, deadline=None)
@given(
    total=st.integers(1, 500),
    pct=st.floats(0.0, 1.0),
    max_lr=st.floats(1e-4, 10.0),
    strategy=st.sampled_from(["cos", "linear"]),
)
def test_one_cycle_lr_stays_between_its_ends(
    total: int, pct: float, max_lr: float, strategy: str
) -> None:
    final = max_lr / 25 / 1e4
    for step in range(0, total, max(1, total // 20)):
        lr = one_cycle_lr(step, total, max_lr=max_lr, pct_start=pct, anneal_strategy=strategy)
        assert final * (1 - 1e-9) <= lr <= max_lr * (1 + 1e-9)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"step": -1}, ValueError, "step must be >= 0"),
        ({"step": 1.5}, TypeError, "step must be an integer"),
        ({"step": True}, TypeError, "step must be an integer"),
        ({"T_0": 0}, ValueError, "T_0 must be >= 1"),
        ({"T_0": 2.0}, TypeError, "T_0 must be an integer"),
        ({"T_mult": 0}, ValueError, "T_mult must be >= 1"),
        ({"base_lr": float("nan")}, ValueError, "base_lr must not be NaN"),
        ({"base_lr": -0.1}, ValueError, "base_lr must be >= 0"),
        ({"base_lr": "0.1"}, TypeError, "base_lr must be a real number"),
        ({"eta_min": -1e-3}, ValueError, "eta_min must be >= 0"),
        ({"eta_min": float("nan")}, ValueError, "eta_min must not be NaN"),
    ],
)
def test_cosine_restarts_lr_bad_input(kwargs: dict, error: type, message: str) -> None:
    args = {"step": 0, "base_lr": 0.1, "T_0": 4, **kwargs}
    with pytest.raises(error, match=message):
        cosine_restarts_lr(**args)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((-1,), {"T_0": 2}, ValueError, "total_steps must be >= 0"),
        ((2.5,), {"T_0": 2}, TypeError, "total_steps must be an integer"),
        ((10,), {"T_0": 0}, ValueError, "T_0 must be >= 1"),
        ((10,), {"T_0": None}, TypeError, "T_0 must be an integer"),
        ((10,), {"T_0": 2, "T_mult": 0}, ValueError, "T_mult must be >= 1"),
        ((10,), {"T_0": 2, "T_mult": False}, TypeError, "T_mult must be an integer"),
    ],
)
def test_cycle_ends_bad_input(args: tuple, kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        cycle_ends(*args, **kwargs)
