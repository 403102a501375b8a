"""Validation at the public boundary: turn user input into tensors/arrays or a clear error.

Every public function checks its arguments once, through these helpers, and raises
``TypeError`` (wrong kind of object or dtype) or ``ValueError`` (wrong shape, range or
value) with a message that names the argument, what was expected and what was given::

    boxes1 must be a Tensor of shape [N, 4], got a Tensor of shape (3, 5)

Internal helpers trust their callers and do not re-validate.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch


def describe(value: Any) -> str:
    """A short description of ``value`` for error messages (shape and dtype for arrays)."""
    if isinstance(value, torch.Tensor):
        return f"a Tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    # numpy scalars as plain numbers: 'nan (float64)', not 'np.float64(nan) (float64)'
    text = repr(value.item() if isinstance(value, np.generic) else value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def check_instance(value: Any, kind: type | tuple[type, ...], name: str) -> Any:
    """Return ``value`` if it is an instance of ``kind``, else raise ``TypeError``."""
    if not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        expected = " or ".join(k.__name__ for k in kinds)
        article = "an" if expected[0].lower() in "aeiou" else "a"
        raise TypeError(f"{name} must be {article} {expected}, got {describe(value)}")
    return value


def check_tensor(value: Any, name: str) -> torch.Tensor:
    """Return ``value`` if it is a ``torch.Tensor``, else raise ``TypeError``."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {describe(value)}")
    return value


def check_boxes(value: Any, name: str, *, allow_integer: bool = True) -> torch.Tensor:
    """Check that ``value`` is a ``Tensor[N, 4]`` of boxes and return it.

    Floating point dtypes are always accepted; integer dtypes when ``allow_integer``;
    bool and complex never.
    """
    check_tensor(value, name)
    if value.ndim != 2 or value.shape[-1] != 4:
        raise ValueError(f"{name} must be a Tensor of shape [N, 4], got {describe(value)}")
    check_real_dtype(value, name, allow_integer=allow_integer)
    return value


def check_real_dtype(value: torch.Tensor, name: str, *, allow_integer: bool = True) -> None:
    """Raise ``TypeError`` unless ``value`` has a real floating (or, if allowed, integer) dtype."""
    dtype = value.dtype
    if dtype.is_floating_point:
        return
    if dtype == torch.bool or dtype.is_complex or not allow_integer:
        expected = "a floating point" if not allow_integer else "a real (floating or integer)"
        raise TypeError(f"{name} must have {expected} dtype, got {describe(value)}")


def check_same_device(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    """Raise ``ValueError`` if two tensors live on different devices."""
    if a.device != b.device:
        raise ValueError(
            f"{name_a} and {name_b} must be on the same device, got {a.device} and {b.device}"
        )


def check_same_length(name_a: str, a: Any, name_b: str, b: Any) -> None:
    """Raise ``ValueError`` unless ``len(a) == len(b)`` (first dimension for arrays)."""
    len_a, len_b = _length(a), _length(b)
    if len_a != len_b:
        raise ValueError(
            f"{name_a} and {name_b} must have the same length, got {len_a} and {len_b}"
        )


def _length(value: Any) -> int:
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return int(value.shape[0]) if value.ndim > 0 else 1
    return len(value)


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError`` listing them."""
    options = tuple(choices)
    if not isinstance(value, (str, int, float, bool, type(None))) or value not in options:
        listed = ", ".join(repr(c) for c in options)
        raise ValueError(f"{name} must be one of {listed}, got {value!r}")
    return value


def check_int(
    value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Return ``value`` as ``int`` if it is an integer (not bool) within the bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_float(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
    allow_nan: bool = False,
) -> float:
    """Return ``value`` as ``float`` if it is a real number within the bounds.

    NaN is refused unless ``allow_nan``; the bounds are inclusive unless told otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, (torch.Tensor, np.ndarray)) and value.ndim == 0:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a real number, got {describe(value)}")
    value = float(value)
    if math.isnan(value):
        if allow_nan:
            return value
        raise ValueError(f"{name} must not be NaN, got nan")
    if minimum is not None and (value < minimum or (not min_inclusive and value == minimum)):
        op = ">=" if min_inclusive else ">"
        raise ValueError(f"{name} must be {op} {minimum}, got {value}")
    if maximum is not None and (value > maximum or (not max_inclusive and value == maximum)):
        op = "<=" if max_inclusive else "<"
        raise ValueError(f"{name} must be {op} {maximum}, got {value}")
    return value


def as_numpy(value: Any, name: str, *, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Turn a list, numpy array or torch tensor (any device) into a numpy array.

    ``ndim`` (an int or a tuple of allowed ints) checks the number of dimensions.
    Object arrays (e.g. strings) are kept as they are.
    """
    if isinstance(value, torch.Tensor):
        array = value.detach().cpu().numpy()
    elif isinstance(value, np.ndarray):
        array = value
    elif isinstance(value, (str, bytes)) or value is None or isinstance(value, (dict, set)):
        raise TypeError(
            f"{name} must be an array-like (list, numpy array or tensor), got {describe(value)}"
        )
    else:
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"{name} must be a rectangular array-like, got {describe(value)}"
            ) from exc
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got an array of shape {array.shape}")
    return array


def check_finite_array(array: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` if a numeric array holds NaN or infinity."""
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        bad = "NaN" if np.isnan(array).any() else "infinity"
        raise ValueError(f"{name} must be finite, got an array containing {bad}")
