"""Argparse ``type=`` factories with bounds: every numeric flag of the CLI is parsed here.

A value outside its range stops the command while the arguments are parsed, before any
work, as one line that names the flag (argparse adds ``argument --seed:``)::

    tinyvision nms-demo: error: argument --seed: must be an integer in 0..4294967295, got -1

The bounds below are chosen so that no accepted value overflows a C integer, a seed, or
asks for an absurd allocation on its own; sizes that together exceed the memory (a huge
batch of huge images) end as one ``out of memory`` line in :func:`tinyvision.cli.main`.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = [
    "BATCH_MAX",
    "EPOCHS_MAX",
    "IMAGES_MAX",
    "IMG_SIZE_MAX",
    "K_MAX",
    "K_VALUES_MAX",
    "LR_MAX",
    "SEED_MAX",
    "THREADS_MAX",
    "detector_img_size",
    "float_in",
    "int_in",
    "int_or_auto",
    "k_values",
    "multiple_of",
    "probability",
    "seed",
    "threads",
]

SEED_MAX = 2**32 - 1  # numpy's legacy seeds and sklearn's random_state stop here
THREADS_MAX = 512  # CPU threads for PyTorch
EPOCHS_MAX = 100_000
BATCH_MAX = 65_536  # images per step
IMAGES_MAX = 1_000_000  # images of a generated data set
IMG_SIZE_MAX = 4096  # pixels, a square input side
LR_MAX = 10.0  # a peak learning rate above this only diverges
K_MAX = 100_000  # clusters
K_VALUES_MAX = 1000  # K values tried by one `cluster` run


def _fail(message: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(message)


def _parse_int(text: str, expected: str) -> int:
    try:
        return int(text)
    except ValueError:  # also the digits past Python's int-from-string limit
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise _fail(f"must be {expected}, got {shown!r}") from None


def _int_type(name: str, expected: str, accept: Callable[[int], bool]) -> Callable[[str], int]:
    """A flag type named ``name``: an integer that ``accept`` takes, else "must be
    ``expected``"."""

    def parse(text: str) -> int:
        value = _parse_int(text, expected)
        if not accept(value):
            raise _fail(f"must be {expected}, got {_short(value)}")
        return value

    parse.__name__ = name
    return parse


def int_in(low: int, high: int) -> Callable[[str], int]:
    """A flag type: an integer in ``low..high`` (both included)."""
    return _int_type("int_in", f"an integer in {low}..{high}", lambda v: low <= v <= high)


def multiple_of(step: int, low: int, high: int) -> Callable[[str], int]:
    """A flag type: an integer in ``low..high`` that is a multiple of ``step``."""
    return _int_type(
        "multiple_of",
        f"a multiple of {step} in {low}..{high}",
        lambda v: low <= v <= high and v % step == 0,
    )


def int_or_auto(low: int, high: int) -> Callable[[str], int | str]:
    """A flag type: ``auto`` or an integer in ``low..high``."""
    number = _int_type(
        "int_or_auto", f"'auto' or an integer in {low}..{high}", lambda v: low <= v <= high
    )

    def parse(text: str) -> int | str:
        return text if text == "auto" else number(text)

    parse.__name__ = "int_or_auto"
    return parse


def float_in(
    low: float, high: float, *, low_open: bool = False, high_open: bool = False
) -> Callable[[str], float]:
    """A flag type: a finite number in the interval from ``low`` to ``high``; ``low_open``
    and ``high_open`` leave that end out. NaN and infinities are refused."""
    interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    expected = f"a number in {interval}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise _fail(f"must be {expected}, got {text[:40]!r}") from None
        inside = (low < value if low_open else low <= value) and (
            value < high if high_open else value <= high
        )
        if not (math.isfinite(value) and inside):
            raise _fail(f"must be {expected}, got {value:g}")
        return value

    parse.__name__ = "float_in"
    return parse


seed = int_in(0, SEED_MAX)
threads = int_in(1, THREADS_MAX)
probability = float_in(0.0, 1.0)  # confidence and IoU thresholds
detector_img_size = multiple_of(32, 32, IMG_SIZE_MAX)  # the detector's largest stride is 32


def k_values(text: str) -> list[int]:
    """The ``--k`` type: ``"2..10"`` -> [2, ..., 10]; ``"2,4,8"`` -> [2, 4, 8]; ``"5"`` -> [5].

    Every K is in ``2..K_MAX`` and there are at most ``K_VALUES_MAX`` of them; a range is
    checked by its ends before its list is built."""
    try:
        if ".." in text:
            low, high = (int(part) for part in text.split("..", 1))
            count = high - low + 1
            values = None
        else:
            values = [int(part) for part in text.split(",") if part.strip()]
            low, high = min(values, default=2), max(values, default=2)
            count = len(values)
    except ValueError:
        raise _fail(f"must look like 2..10 or 2,3,5, got {text[:40]!r}") from None
    if count < 1:
        raise _fail(f"gives no K values, got {text!r}")
    if low < 2:
        raise _fail(f"values must be >= 2 (one cluster has no silhouette), got {text!r}")
    if high > K_MAX:
        raise _fail(f"values must be <= {K_MAX}, got {_short(high)}")
    if count > K_VALUES_MAX:
        raise _fail(f"must give at most {K_VALUES_MAX} K values, got {_short(count)}")
    if values is None:
        values = list(range(low, high + 1))
    if len(set(values)) != len(values):
        raise _fail(f"must not repeat a K, got {text!r}")
    return values


def _short(value: int) -> str:
    """An integer for a message: in full unless it is very long."""
    text = str(value)
    return text if len(text) <= 24 else f"{text[:10]}...({len(text)} digits)"
