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
from collections.abc import Iterable, Sequence
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


def _is_scipy_sparse(value: Any) -> bool:
    """A scipy.sparse matrix or array (recognised without importing scipy)."""
    return type(value).__module__.startswith("scipy.sparse") and hasattr(value, "toarray")


def as_numpy(value: Any, name: str, *, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Turn a list, numpy array, torch tensor (any device) or scipy.sparse matrix (made
    dense) into a numpy array.

    ``ndim`` (an int or a tuple of allowed ints) checks the number of dimensions.
    Object arrays (e.g. strings) are kept as they are.
    """
    if isinstance(value, torch.Tensor):
        array = value.detach().cpu().numpy()
    elif _is_scipy_sparse(value):  # e.g. a multilabel indicator matrix: taken as dense
        array = np.asarray(value.toarray())
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


# words for the dtype kinds an array may hold, as in "boxes must hold real numbers"
_KIND_WORDS = {
    "iu": "integers",
    "biu": "integers or booleans",
    "iuf": "real numbers",
    "biuf": "real numbers",
    "f": "floating point numbers",
    "b": "booleans",
}
_SIZE_NAMES = "NMKLPQRS"


Shape = tuple[int | str | None, ...]


def _known(size: int | str | None) -> bool:
    """A length given as a number, not ``None`` or a name."""
    return size is not None and not isinstance(size, str)


def _shape_text(shape: Shape) -> str:
    """``(None, 4)`` as ``[N, 4]`` (each unnamed unknown length gets the next letter of
    N, M, K...; a string is an unknown length's name, ``("B", 3, "H", "W")``); a shape
    without unknowns as numpy writes it, ``(2, 3)``."""
    if all(_known(s) for s in shape):
        return str(tuple(int(s) for s in shape))
    letters = iter(_SIZE_NAMES)
    return "[" + ", ".join(next(letters) if s is None else str(s) for s in shape) + "]"


def _shape_error(name: str, shape: Shape, layout: str, array: np.ndarray) -> str:
    if all(s is None for s in shape):  # only the number of dimensions matters
        return f"{name} must be {len(shape)}-D, got an array of shape {array.shape}"
    columns = f" {layout}" if layout else ""
    return f"{name} must have shape {_shape_text(shape)}{columns}, got {describe(array)}"


def _fits(array: np.ndarray | torch.Tensor, shape: Shape) -> bool:
    if array.ndim != len(shape):
        return False
    for got, want in zip(array.shape, shape, strict=True):
        if _known(want) and got != want:
            return False
    return True


def _empty_dtype(kinds: str) -> type:
    """The dtype of an empty input whose own dtype is not one of ``kinds``."""
    for kind, dtype in (("f", np.float64), ("i", np.int64), ("u", np.uint64), ("b", np.bool_)):
        if kind in kinds:
            return dtype
    return np.float64


def check_array(
    value: Any,
    name: str,
    *,
    shape: Shape | None = None,
    kinds: str = "iuf",
    finite: bool = True,
    dtype: Any = None,
    allow_empty: bool = True,
    any_empty: bool = False,
    contiguous: bool = False,
    layout: str = "",
    holding: str | None = None,
) -> np.ndarray:
    """Turn a list, numpy array or tensor into a checked numpy array.

    Args:
        value: the input (lists, numpy arrays, tensors on any device).
        name: the argument's name for messages.
        shape: the shape wanted, ``None`` or a name for any length (``(None, 4)``:
            ``[N, 4]``; ``("B", 3)``: ``[B, 3]``); ``None`` for any shape. A 1-D empty
            input (``[]``) stands for zero rows when the shape has two or more dimensions,
            the first of any length and the others fixed.
        kinds: the numpy dtype kinds allowed (``"iuf"``: integers and floats, no bools).
            An empty input is never refused for its dtype (``[]`` is float64 to numpy).
        finite: refuse NaN and infinity.
        dtype: cast the result to this dtype (no copy when it already has it).
        allow_empty: when False, an input without elements is a ``ValueError``.
        any_empty: an empty input of any shape (``[0, 3]``, ``[1, 0]``) stands for an
            empty array of ``shape`` (``None`` as 0), not only ``[]``.
        contiguous: return a C-contiguous array.
        layout: words after the shape in messages, e.g. ``"(x1, y1, x2, y2)"``.
        holding: what the array must hold in messages (default: words for ``kinds``).

    Returns:
        the array (the input itself when no change was needed). An empty input that
        stands for zero rows comes back with ``shape``'s ``None`` as 0, in ``dtype`` or a
        dtype of ``kinds``.

    Raises:
        TypeError: not an array-like, or a dtype kind outside ``kinds``.
        ValueError: a ragged list, the wrong shape, no elements, NaN or infinity.
    """
    array = as_numpy(value, name)
    if array.size == 0:
        if not allow_empty:
            raise ValueError(f"{name} must not be empty, got {describe(array)}")
        array = _empty_as_rows(array, shape, any_empty)
        if array.dtype.kind not in kinds:
            array = array.astype(dtype if dtype is not None else _empty_dtype(kinds))
    if shape is not None and not _fits(array, shape):
        raise ValueError(_shape_error(name, shape, layout, array))
    if array.dtype.kind not in kinds:
        words = holding or _KIND_WORDS.get(kinds, f"values of dtype kinds {kinds!r}")
        raise TypeError(f"{name} must hold {words}, got {describe(array)}")
    target = array.dtype if dtype is None else np.dtype(dtype)
    if finite and target.kind not in "fc":  # before a cast to integers hides NaN
        check_finite_array(array, name)
    if target != array.dtype or (contiguous and not array.flags.c_contiguous):
        array = _cast(array, target, contiguous)
    if finite and target.kind in "fc":  # after: a narrower float can overflow to infinity
        check_finite_array(array, name)
    return array


def _cast(array: np.ndarray, dtype: np.dtype, contiguous: bool) -> np.ndarray:
    order = "C" if contiguous else None
    if dtype.kind == "f" and dtype.itemsize < 8:  # may overflow to infinity: refused after
        with np.errstate(over="ignore"):
            return np.asarray(array, dtype=dtype, order=order)
    return np.asarray(array, dtype=dtype, order=order)


def _empty_as_rows(array: np.ndarray, shape: Shape | None, any_empty: bool) -> np.ndarray:
    """An empty input reshaped to zero rows of ``shape``, when it stands for them."""
    if shape is None:
        return array
    rows = tuple(int(s) if _known(s) else 0 for s in shape)
    if any_empty and math.prod(rows) == 0:
        return array.reshape(rows)
    known_columns = all(_known(s) for s in shape[1:])
    if array.shape == (0,) and len(shape) >= 2 and not _known(shape[0]) and known_columns:
        return array.reshape(rows)
    return array


def check_array_list(
    values: Any, name: str, *, length: int | None = None, **checks: Any
) -> list[np.ndarray]:
    """Check a sequence (list or tuple) of arrays with :func:`check_array`.

    Args:
        values: the sequence; a numpy array, a tensor or a string is not one.
        name: the argument's name; element ``i`` is named ``name[i]`` in messages.
        length: the number of arrays wanted, or None for any.
        **checks: :func:`check_array`'s keyword arguments, applied to every element.

    Returns:
        a new list of the checked arrays.
    """
    if isinstance(values, (np.ndarray, torch.Tensor, str, bytes)) or not isinstance(
        values, Sequence
    ):
        shape = checks.get("shape")
        what = "arrays" if shape is None else f"{_shape_text(shape)} arrays"
        raise TypeError(f"{name} must be a sequence of {what}, got {describe(values)}")
    if length is not None and len(values) != length:
        raise ValueError(f"{name} must hold {length} arrays, got {len(values)}")
    return [check_array(v, f"{name}[{i}]", **checks) for i, v in enumerate(values)]


def check_tensor_shape(
    value: Any, name: str, shape: Shape, *, dtypes: str | None = None, layout: str = ""
) -> torch.Tensor:
    """Check that ``value`` is a ``Tensor`` of ``shape`` and return it (no copy, any device).

    Args:
        shape: as :func:`check_array`'s: ``None`` or a name for any length, e.g.
            ``("B", 3, "H", "W")`` (``[B, 3, H, W]`` in messages).
        dtypes: ``"float"`` (floating point only), ``"real"`` (floating or integer; no
            bool or complex) or None (any dtype).
        layout: words after the shape in messages.

    Raises:
        TypeError: not a tensor, or a dtype outside ``dtypes``.
        ValueError: the wrong shape.
    """
    check_tensor(value, name)
    if not _fits(value, shape):
        columns = f" {layout}" if layout else ""
        raise ValueError(
            f"{name} must be a Tensor of shape {_shape_text(shape)}{columns}, got {describe(value)}"
        )
    if dtypes is not None:
        check_choice(dtypes, "dtypes", ("float", "real"))
        check_real_dtype(value, name, allow_integer=dtypes == "real")
    return value
