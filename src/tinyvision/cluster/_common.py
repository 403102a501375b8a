"""Input handling shared by the clustering functions: feature matrices, random states,
and returning arrays of the same kind (numpy or torch, same device) as the input."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from tinyvision._validate import check_array, describe

RandomStateLike = int | np.random.RandomState | None


def check_random_state(value: Any, name: str = "random_state") -> np.random.RandomState:
    """Turn ``None``, an int seed or a ``np.random.RandomState`` into a RandomState.

    Mirrors scikit-learn's ``check_random_state``: ``None`` is numpy's global RandomState,
    an int seeds a new one, a RandomState is used (and advanced) as it is.
    """
    if value is None:
        return np.random.mtrand._rand
    if isinstance(value, np.random.RandomState):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if not 0 <= int(value) < 2**32:
            raise ValueError(f"{name} must be an int in [0, 2**32), got {int(value)}")
        return np.random.RandomState(int(value))
    raise TypeError(
        f"{name} must be None, an int or a numpy.random.RandomState, got {describe(value)}"
    )


def is_device_tensor(value: Any) -> bool:
    """True for a torch tensor that lives on an accelerator (computed there with torch)."""
    return isinstance(value, torch.Tensor) and value.device.type != "cpu"


def float_dtype_of(dtype: np.dtype) -> np.dtype:
    """float32 stays float32, every other real dtype computes in float64 (as scikit-learn)."""
    return np.dtype(np.float32) if dtype == np.float32 else np.dtype(np.float64)


def _check_matrix_shape(shape: tuple[int, ...], name: str) -> None:
    """Raise ``ValueError`` unless ``shape`` is (n_samples, n_features >= 1)."""
    if len(shape) != 2:
        hint = " (reshape 1-D data with X.reshape(-1, 1))" if len(shape) == 1 else ""
        raise ValueError(
            f"{name} must be 2-D of shape (n_samples, n_features), got an array of shape "
            f"{shape}{hint}"
        )
    if shape[1] == 0:
        raise ValueError(f"{name} must have at least one feature, got shape {shape}")


def as_feature_matrix(value: Any, name: str, *, copy: bool = False) -> np.ndarray:
    """Return ``value`` as a finite, C-contiguous float32/float64 array of shape (n, d).

    Lists, numpy arrays and torch tensors (any device) are accepted; integers and bools
    become float64. Raises ``ValueError`` for a wrong number of dimensions, no features,
    NaN or infinity, and ``TypeError`` for non-numeric data.
    """
    array = check_array(value, name, kinds="biuf")  # the shape after: its words and hint
    _check_matrix_shape(tuple(array.shape), name)
    dtype = float_dtype_of(array.dtype)
    if copy or array.dtype != dtype or not array.flags.c_contiguous:
        array = np.array(array, dtype=dtype, order="C", copy=True)
    return array


def as_feature_tensor(value: torch.Tensor, name: str) -> torch.Tensor:
    """The tensor twin of :func:`as_feature_matrix` for accelerator tensors (no copy to host)."""
    if value.dtype == torch.bool or value.dtype.is_complex:
        raise TypeError(f"{name} must hold real numbers, got {describe(value)}")
    _check_matrix_shape(tuple(value.shape), name)
    if value.dtype not in (torch.float32, torch.float64):
        value = value.to(torch.float64)
    if not bool(torch.isfinite(value).all()):
        bad = "NaN" if bool(torch.isnan(value).any()) else "infinity"
        raise ValueError(f"{name} must be finite, got an array containing {bad}")
    return value.contiguous()


def like_input(array: np.ndarray, reference: Any) -> np.ndarray | torch.Tensor:
    """Return ``array`` as a tensor on ``reference``'s device if ``reference`` is a tensor."""
    if isinstance(reference, torch.Tensor):
        return torch.from_numpy(np.ascontiguousarray(array)).to(reference.device)
    return array
