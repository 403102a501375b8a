"""The one jit helper of the package, and the way to reach a kernel's pure-Python twin.

Every compiled loop in tinyvision is written in a kernel file per concept and decorated with
:func:`jit`, used bare (``@jit``) or with options (``@jit(error_model="numpy")``)::

    from tinyvision._numba import jit

    @jit
    def lloyd_assign(X, ...):  # compiled
        ...

    def lloyd_assign_reference(X, ...):  # slow and simple, beside it
        ...

The options every kernel gets: ``cache=True`` (compiled machine code is stored next to the
module after the first call), ``nogil=True`` (the GIL is released while a kernel runs) and
no ``fastmath`` unless a kernel asks for named flags (e.g. ``{"contract"}``): results that
are compared bitwise with scikit-learn, torch or pycocotools must round in the written
order. ``error_model`` keeps numba's default ("python": a float division by zero raises
ZeroDivisionError) unless a kernel asks for ``"numpy"`` (IEEE: inf or NaN, as torch).

:func:`reference` gives a kernel's pure-Python twin: the function ``NAME_reference`` of the
kernel's module when there is one (a plain numpy statement of the same contract), otherwise
the kernel's own uncompiled Python (``kernel.py_func``), which the tests run as the
reference where a kernel is self-contained.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numba

_ERROR_MODELS = ("python", "numpy")


def _options(fastmath: bool | set[str], error_model: str) -> dict[str, Any]:
    if not isinstance(fastmath, (bool, set, frozenset)):
        raise TypeError(f"fastmath must be False or a set of flag names, got {fastmath!r}")
    if fastmath is True:
        raise ValueError("fastmath must name its flags (e.g. {'contract'}), got True")
    if error_model not in _ERROR_MODELS:
        raise ValueError(f"error_model must be one of {_ERROR_MODELS}, got {error_model!r}")
    options: dict[str, Any] = {"cache": True, "nogil": True, "error_model": error_model}
    if fastmath:
        options["fastmath"] = set(fastmath)
    return options


def jit(
    func: Callable[..., Any] | None = None,
    *,
    fastmath: bool | set[str] = False,
    error_model: str = "python",
    inline: bool = False,
) -> Any:
    """Compile ``func`` with numba's ``njit`` and the project's options.

    Args:
        func: the Python function (``@jit``); omitted when options are given
            (``@jit(fastmath={"contract"})``).
        fastmath: False, or the set of LLVM fast-math flags the kernel allows.
        error_model: ``"python"`` (numba's default) or ``"numpy"`` (IEEE division).
        inline: True to have numba inline the function into its compiled callers
            (``inline="always"``), for small helpers called in hot loops with array
            arguments, whose calls LLVM does not inline.

    Returns:
        The compiled dispatcher (``.py_func`` is the original), or a decorator.
    """
    options = _options(fastmath, error_model)
    if not isinstance(inline, bool):
        raise TypeError(f"inline must be True or False, got {inline!r}")
    if inline:
        options["inline"] = "always"
    if func is None:
        return lambda f: numba.njit(**options)(f)
    return numba.njit(**options)(func)


def reference(kernel: Any) -> Callable[..., Any]:
    """The pure-Python twin of a compiled kernel (see the module docstring).

    Args:
        kernel: a function decorated with :func:`jit`.

    Returns:
        ``NAME_reference`` from the kernel's module if it exists, else ``kernel.py_func``.
    """
    original = getattr(kernel, "py_func", None)
    if original is None:
        raise TypeError(f"kernel must be a function compiled with jit, got {kernel!r}")
    module = sys.modules.get(original.__module__)
    twin = getattr(module, original.__name__ + "_reference", None)
    return twin if twin is not None else original
