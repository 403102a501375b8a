"""Learning-rate schedules as pure functions of the step.

- :func:`one_cycle` is the notes' (YOLOv5's) cosine ramp from ``y1`` to ``y2`` over ``steps``.
- :func:`one_cycle_lr` is warm-up + anneal, the schedule of
  ``torch.optim.lr_scheduler.OneCycleLR`` (two phases), with its argument names and defaults.
- :func:`cosine_restarts_lr` is SGDR's cosine with warm restarts
  (``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts``); :func:`cycle_ends` lists the
  steps after which a snapshot ensemble saves its members.

A trainer sets ``group["lr"] = schedule(step)`` before each optimiser step, so resuming at
step ``s`` continues the schedule exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from tinyvision._validate import check_choice, check_float, check_int

__all__ = ["cosine_restarts_lr", "cycle_ends", "one_cycle", "one_cycle_lr"]


def one_cycle(y1: float = 0.0, y2: float = 1.0, steps: int = 100) -> Callable[[float], float]:
    """The notes' sinusoidal ramp: returns ``f(x) = ((1 - cos(x*pi/steps)) / 2) * (y2 - y1) + y1``.

    ``f(0) == y1``, ``f(steps) == y2`` (up to rounding) and ``f(steps / 2)`` is the midpoint.
    YOLOv5 uses it as a ``LambdaLR`` factor, ``one_cycle(1, lrf, epochs)``.
    """
    y1 = check_float(y1, "y1")
    y2 = check_float(y2, "y2")
    steps = check_int(steps, "steps", minimum=1)

    def ramp(x: float) -> float:
        return ((1 - math.cos(x * math.pi / steps)) / 2) * (y2 - y1) + y1

    return ramp


def _anneal(start: float, end: float, pct: float, strategy: str) -> float:
    # The same expressions as torch's OneCycleLR, so the two agree to the last bit.
    if strategy == "cos":
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    return (end - start) * pct + start


def one_cycle_lr(
    step: int,
    total_steps: int,
    *,
    max_lr: float,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    anneal_strategy: str = "cos",
) -> float:
    """Warm-up + one-cycle learning rate at ``step`` (0-based) of a ``total_steps`` run.

    Rises from ``max_lr / div_factor`` to ``max_lr`` over the first ``pct_start`` of the run,
    then falls to ``max_lr / div_factor / final_div_factor`` at the last step
    (``total_steps - 1``), both phases cosine (``"cos"``) or linear (``"linear"``). Equal to
    the learning rate of ``OneCycleLR(opt, max_lr, total_steps, pct_start, anneal_strategy,
    div_factor=div_factor, final_div_factor=final_div_factor, three_phase=False)`` after
    ``step`` calls of ``scheduler.step()``.
    """
    total_steps = check_int(total_steps, "total_steps", minimum=1)
    step = check_int(step, "step", minimum=0, maximum=total_steps - 1)
    max_lr = check_float(max_lr, "max_lr", minimum=0.0)
    pct_start = check_float(pct_start, "pct_start", minimum=0.0, maximum=1.0)
    div_factor = check_float(div_factor, "div_factor", minimum=0.0, min_inclusive=False)
    final_div_factor = check_float(
        final_div_factor, "final_div_factor", minimum=0.0, min_inclusive=False
    )
    check_choice(anneal_strategy, "anneal_strategy", ("cos", "linear"))
    initial = max_lr / div_factor
    final = initial / final_div_factor
    peak_step = float(pct_start * total_steps) - 1  # where torch's first phase ends
    last_step = total_steps - 1
    if step <= peak_step:
        pct = step / peak_step if peak_step > 0 else 1.0  # torch divides by zero here
        return _anneal(initial, max_lr, pct, anneal_strategy)
    span = last_step - peak_step
    pct = (step - peak_step) / span if span > 0 else 1.0
    return _anneal(max_lr, final, pct, anneal_strategy)


def cosine_restarts_lr(
    step: int, *, base_lr: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0
) -> float:
    """Cosine annealing with warm restarts (SGDR) at ``step`` (0-based).

    The first cycle lasts ``T_0`` steps, each next one ``T_mult`` times longer; within a cycle
    the rate falls from ``base_lr`` to (almost) ``eta_min`` as
    ``eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_i)) / 2``. Equal to
    ``CosineAnnealingWarmRestarts(opt, T_0, T_mult, eta_min)`` after ``step`` calls of
    ``scheduler.step()``.
    """
    step = check_int(step, "step", minimum=0)
    base_lr = check_float(base_lr, "base_lr", minimum=0.0)
    T_0 = check_int(T_0, "T_0", minimum=1)
    T_mult = check_int(T_mult, "T_mult", minimum=1)
    eta_min = check_float(eta_min, "eta_min", minimum=0.0)
    t, length = step, T_0
    while t >= length:  # at most log(step) iterations when T_mult > 1
        t -= length
        length *= T_mult
        if T_mult == 1:
            t %= length
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t / length)) / 2


def cycle_ends(total_steps: int, *, T_0: int, T_mult: int = 1) -> list[int]:
    """The 0-based steps that end a cycle of :func:`cosine_restarts_lr` within ``total_steps``.

    A snapshot taken after each of these steps holds a model at the bottom of its cycle.
    E.g. ``cycle_ends(12, T_0=4) == [3, 7, 11]``.
    """
    total_steps = check_int(total_steps, "total_steps", minimum=0)
    T_0 = check_int(T_0, "T_0", minimum=1)
    T_mult = check_int(T_mult, "T_mult", minimum=1)
    ends, start, length = [], 0, T_0
    while start + length <= total_steps:
        ends.append(start + length - 1)
        start += length
        length *= T_mult
    return ends
