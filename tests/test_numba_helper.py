"""The one jit helper: options, bad options, and each kernel's pure-Python twin."""

from __future__ import annotations

import numpy as np
import pytest

from tinyvision._numba import jit, reference
from tinyvision.cluster import _lloyd
from tinyvision.metrics import _detection_kernels


def _halve(x):
    return x / 2.0


def test_bare_and_configured_jit_compile_and_keep_the_python_original() -> None:
    bare = jit(_halve)
    ieee = jit(error_model="numpy")(_halve)
    assert bare(3.0) == 1.5 == ieee(3.0)
    assert bare.py_func is _halve
    assert bare.targetoptions["nogil"] and bare.targetoptions["error_model"] == "python"
    assert ieee.targetoptions["error_model"] == "numpy"
    assert "fastmath" not in bare.targetoptions
    assert jit(fastmath={"contract"})(_halve).targetoptions["fastmath"] == {"contract"}
    assert "inline" not in bare.targetoptions


def _double(x):
    return 2.0 * x


def _quadruple(x):
    return _inlined_double(_inlined_double(x))


_inlined_double = jit(inline=True)(_double)


def test_inline_helpers_are_inlined_into_their_callers() -> None:
    assert _inlined_double.targetoptions["inline"] == "always"
    caller = jit(_quadruple)
    assert caller(1.5) == 6.0 == _quadruple(1.5)
    assert _inlined_double(2.0) == 4.0  # still callable on its own


def _divide_ieee(a, b):
    return a / b


def _divide_python(a, b):  # a separate function: numba's disk cache is per function
    return a / b


def test_error_models_differ_on_division_by_zero() -> None:
    assert jit(error_model="numpy")(_divide_ieee)(1.0, 0.0) == np.inf
    with pytest.raises(ZeroDivisionError):
        jit(_divide_python)(1.0, 0.0)


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"fastmath": True}, ValueError, "fastmath must name its flags"),
        ({"fastmath": "contract"}, TypeError, "fastmath must be False or a set"),
        ({"error_model": "ieee"}, ValueError, "error_model must be one of"),
        ({"inline": "always"}, TypeError, "inline must be True or False"),
    ],
)
def test_bad_options_are_refused(options: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        jit(**options)


def test_reference_prefers_the_twin_beside_then_the_python_original() -> None:
    assert reference(_lloyd.lloyd_assign) is _lloyd.lloyd_assign_reference
    kernel = _detection_kernels.longest_run
    assert reference(kernel) is kernel.py_func
    with pytest.raises(TypeError, match="kernel must be a function compiled with jit"):
        reference(_halve)
