"""Exception classes and checks of :mod:`tinyvision.ops` and :mod:`tinyvision.losses` that
are also torchvision's exception classes.

tinyvision raises ``ValueError`` for a bad shape and ``TypeError`` for a bad dtype;
torchvision raises ``RuntimeError`` from its C++ kernels and from torch's broadcasting,
``IndexError`` from indexing a box's missing column and ``NotImplementedError`` for a dtype
without a kernel. The classes below derive from both, so ``except ValueError`` and
``except RuntimeError`` (torchvision's own tests use ``pytest.raises(RuntimeError)``) both
catch them. Their messages name the argument first and then carry torchvision's key words
(``should be a 2d tensor``, ``should have 4 elements in dimension 1``, ``Invalid Value for
arg 'reduction'``, ``not implemented for 'Int'``, ...).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor

from tinyvision._validate import check_tensor, describe

__all__ = [
    "BoxShapeError",
    "DTypeError",
    "FormatConversionError",
    "ShapeError",
    "check_box_shape",
    "check_choice_tv",
    "check_float_dtype",
    "check_real",
    "check_same_size",
    "check_vector",
]


class ShapeError(ValueError, RuntimeError):
    """A tensor of the wrong shape, or two tensors whose sizes do not match (torchvision
    raises ``RuntimeError`` for these; this is also a ``ValueError``)."""


class BoxShapeError(ShapeError, IndexError):
    """Boxes that are not ``[N, K]`` (or ``[..., K]``); also an ``IndexError``, which
    torchvision's ``box_area`` and ``box_iou`` raise for a missing column."""


class DTypeError(TypeError, NotImplementedError):
    """A dtype that the operation has no kernel for (torchvision raises ``RuntimeError`` or
    ``NotImplementedError``, a ``RuntimeError`` subclass; this is also a ``TypeError``)."""


class FormatConversionError(ValueError, NotImplementedError):
    """A conversion between an axis-aligned and a rotated box format (torchvision raises
    ``NotImplementedError`` for these; this is also a ``ValueError``)."""


# torch's C++ names of the dtypes, as its "not implemented for 'Int'" messages print them
_SCALAR_TYPE_NAMES = {
    torch.bool: "Bool",
    torch.uint8: "Byte",
    torch.int8: "Char",
    torch.int16: "Short",
    torch.int32: "Int",
    torch.int64: "Long",
    torch.complex64: "ComplexFloat",
    torch.complex128: "ComplexDouble",
}


def check_box_shape(
    value: Any, name: str, *, size: int = 4, min_ndim: int = 2, max_ndim: int | None = 2
) -> Tensor:
    """``value`` as a real tensor of boxes ``[..., size]`` with ``min_ndim`` to ``max_ndim``
    dimensions (``None``: no maximum); the default is ``[N, size]``.

    Raises:
        TypeError: not a tensor.
        DTypeError: a bool or complex dtype.
        BoxShapeError: another shape; the message says which dimension is wrong in
            torchvision's words (``should be a 2d tensor``, ``should have 4 elements in
            dimension 1``).
    """
    tensor = check_tensor(value, name)
    exact = max_ndim == 2 and min_ndim == 2
    ndim_ok = tensor.ndim >= min_ndim and (max_ndim is None or tensor.ndim <= max_ndim)
    if not ndim_ok or tensor.shape[-1] != size:
        shape = f"[N, {size}]" if min_ndim == 2 else f"[..., {size}]"
        if not ndim_ok and exact:
            detail = f"{name} should be a 2d tensor, got {tensor.ndim}D"
        elif not ndim_ok:
            detail = f"{name} should be at least {min_ndim}D, got {tensor.ndim}D"
        else:
            dim = "1" if exact else "-1"
            got = tensor.shape[-1]
            detail = f"{name} should have {size} elements in dimension {dim}, got {got}"
        raise BoxShapeError(
            f"{name} must be a Tensor of shape {shape}, got {describe(tensor)} ({detail})"
        )
    check_real(tensor, name)
    return tensor


def check_vector(value: Any, name: str) -> Tensor:
    """``value`` as a tensor of shape ``[N]``; :class:`ShapeError` (``should be a 1d
    tensor``) otherwise, ``TypeError`` for a non-tensor."""
    tensor = check_tensor(value, name)
    if tensor.ndim != 1:
        raise ShapeError(
            f"{name} must be a Tensor of shape [N], got {describe(tensor)} "
            f"({name} should be a 1d tensor, got {tensor.ndim}D)"
        )
    return tensor


def check_same_size(name_a: str, a: Tensor, name_b: str, b: Tensor) -> None:
    """:class:`ShapeError` unless ``a`` and ``b`` have the same size in dimension 0."""
    if a.shape[0] != b.shape[0]:
        raise ShapeError(
            f"{name_a} and {name_b} must have the same length, got {a.shape[0]} and "
            f"{b.shape[0]} ({name_a} and {name_b} should have same number of elements in "
            "dimension 0)"
        )


def check_real(tensor: Tensor, name: str) -> None:
    """:class:`DTypeError` for a bool or complex ``tensor`` (torch has no box arithmetic
    for them: ``-`` of bool tensors, ``maximum`` of complex ones)."""
    if tensor.dtype == torch.bool or tensor.dtype.is_complex:
        kind = _SCALAR_TYPE_NAMES.get(tensor.dtype, str(tensor.dtype))
        raise DTypeError(
            f"{name} must have a real (floating or integer) dtype, got {describe(tensor)} "
            f"(not implemented for '{kind}')"
        )


def check_float_dtype(tensor: Tensor, name: str, operation: str) -> None:
    """:class:`DTypeError` unless ``tensor`` has a floating point dtype.

    ``operation`` names what has no kernel for it, as in torch's ``"nms" not implemented
    for 'Int'``.
    """
    if not tensor.dtype.is_floating_point:
        kind = _SCALAR_TYPE_NAMES.get(tensor.dtype, str(tensor.dtype))
        raise DTypeError(
            f"{name} must have a floating point dtype, got {describe(tensor)} "
            f"({operation} not implemented for '{kind}')"
        )


def check_choice_tv(value: Any, name: str, choices: Iterable[str], words: str) -> str:
    """``value`` if it is one of ``choices``; otherwise a ``ValueError`` that lists them and
    ends with torchvision's ``words`` for the same mistake."""
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(c) for c in options)
        raise ValueError(f"{name} must be one of {listed}, got {value!r} ({words})")
    return value
