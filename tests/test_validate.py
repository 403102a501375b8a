"""The shared boundary checks name the argument, the expectation and the value."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tinyvision import _validate as v


def test_check_boxes_shape_and_dtype() -> None:
    good = torch.zeros(3, 4)
    assert v.check_boxes(good, "boxes") is good
    with pytest.raises(ValueError, match=r"boxes must be a Tensor of shape \[N, 4\].*\(3, 5\)"):
        v.check_boxes(torch.zeros(3, 5), "boxes")
    with pytest.raises(TypeError, match="boxes must be a torch.Tensor"):
        v.check_boxes([[0, 0, 1, 1]], "boxes")
    with pytest.raises(TypeError, match="boxes must have"):
        v.check_boxes(torch.zeros(2, 4, dtype=torch.bool), "boxes")
    with pytest.raises(TypeError, match="floating point"):
        v.check_boxes(torch.zeros(2, 4, dtype=torch.int64), "boxes", allow_integer=False)


def test_check_choice_lists_options() -> None:
    assert v.check_choice("iou", "kind", ("iou", "giou")) == "iou"
    with pytest.raises(ValueError, match="kind must be one of 'iou', 'giou', got 'x'"):
        v.check_choice("x", "kind", ("iou", "giou"))
    with pytest.raises(ValueError, match="kind"):
        v.check_choice(["iou"], "kind", ("iou",))


def test_check_int_and_float() -> None:
    assert v.check_int(np.int64(3), "k", minimum=1) == 3
    with pytest.raises(TypeError, match="k must be an integer"):
        v.check_int(True, "k")
    with pytest.raises(ValueError, match="k must be >= 1, got 0"):
        v.check_int(0, "k", minimum=1)
    assert v.check_float(0.5, "p", minimum=0, maximum=1) == 0.5
    with pytest.raises(ValueError, match="p must be < 1"):
        v.check_float(1.0, "p", maximum=1, max_inclusive=False)
    with pytest.raises(ValueError, match="p must not be NaN"):
        v.check_float(float("nan"), "p")
    with pytest.raises(TypeError, match="p must be a real number"):
        v.check_float("0.5", "p")


def test_as_numpy_and_finite() -> None:
    assert v.as_numpy(torch.arange(3), "x").tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="x must be 1-D"):
        v.as_numpy([[1, 2]], "x", ndim=1)
    with pytest.raises(TypeError, match="x must be an array-like"):
        v.as_numpy("abc", "x")
    with pytest.raises(ValueError, match="x must be finite.*NaN"):
        v.check_finite_array(np.array([1.0, np.nan]), "x")
    with pytest.raises(ValueError, match="a and b must have the same length, got 2 and 3"):
        v.check_same_length("a", [1, 2], "b", np.zeros(3))


def test_describe_prints_numpy_scalars_as_plain_numbers() -> None:
    assert v.describe(np.float64("nan")) == "nan (float64)"
    assert v.describe(np.int64(3)) == "3 (int64)"
    with pytest.raises(TypeError) as info:
        v.check_int(np.float64(2.5), "k")
    assert "np." not in str(info.value) and "2.5 (float64)" in str(info.value)
