"""Run a tinyvision metric and its scikit-learn twin on the same input and compare everything.

"Everything" is: the result bit for bit (values, NaN positions, signs of zeros, dtypes of
arrays), the warnings scikit-learn users filter on (``UndefinedMetricWarning`` and plain
``UserWarning``: category name and message), and, when scikit-learn raises, the exception
type (our message differs on purpose: it names the argument).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Outcome:
    value: Any
    error: BaseException | None
    warnings: list[tuple[str, str]]


def run(function: Any, *args: Any, **kwargs: Any) -> Outcome:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value, error = function(*args, **kwargs), None
        except Exception as exc:  # compared by the caller
            value, error = None, exc
    kept = [
        (w.category.__name__, str(w.message))
        for w in caught
        if w.category.__name__ in ("UndefinedMetricWarning", "UserWarning")
    ]
    return Outcome(value, error, kept)


def assert_bitwise(ours: Any, theirs: Any, *, check_dtype: bool = True, path: str = "") -> None:
    """Equal values including NaN positions and the sign of zeros; tuples elementwise."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_bitwise(a, b, check_dtype=check_dtype, path=f"{path}[{i}]")
        return
    if theirs is None:
        assert ours is None, path
        return
    a = np.asarray(ours)
    b = np.asarray(theirs)
    assert a.shape == b.shape, f"{path}: shape {a.shape} != {b.shape}"
    if check_dtype and isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray), f"{path}: {type(ours)} is not an ndarray"
        assert a.dtype == b.dtype, f"{path}: dtype {a.dtype} != {b.dtype}"
    if b.dtype.kind == "f" or a.dtype.kind == "f":
        a64 = a.astype(np.float64)
        b64 = b.astype(np.float64)
        same = (a64 == b64) | (np.isnan(a64) & np.isnan(b64))
        assert same.all(), f"{path}: values differ\nours  ={a!r}\ntheirs={b!r}"
        assert np.array_equal(np.signbit(a64), np.signbit(b64)), f"{path}: signs of zero differ"
    else:
        assert np.array_equal(a, b), f"{path}: {a!r} != {b!r}"


def assert_same(ours_fn: Any, theirs_fn: Any, *args: Any, **kwargs: Any) -> Outcome:
    """Run both; the outcomes must agree (value bitwise, warnings, exception type)."""
    check_dtype = kwargs.pop("check_dtype", True)
    ours = run(ours_fn, *args, **kwargs)
    theirs = run(theirs_fn, *args, **kwargs)
    if theirs.error is not None:
        assert ours.error is not None, (
            f"sklearn raised {theirs.error!r}, we returned {ours.value!r}"
        )
        assert isinstance(ours.error, (ValueError, TypeError, NotImplementedError))
        if isinstance(theirs.error, NotImplementedError):
            assert isinstance(ours.error, NotImplementedError)
        return ours
    if ours.error is not None:
        raise AssertionError(f"we raised {ours.error!r}, sklearn returned {theirs.value!r}")
    assert_bitwise(ours.value, theirs.value, check_dtype=check_dtype)
    assert ours.warnings == theirs.warnings, f"warnings: {ours.warnings} != {theirs.warnings}"
    return ours
