"""The shared boundary checks name the argument, the expectation and the value."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

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


# ----------------------------------------------------------------------------- check_array
def test_check_array_passes_good_arrays_through_without_a_copy() -> None:
    boxes = np.zeros((3, 4))
    assert v.check_array(boxes, "boxes", shape=(None, 4)) is boxes
    assert v.check_array(boxes, "boxes", shape=(None, 4), dtype=np.float64) is boxes
    assert v.check_array(boxes, "boxes", shape=(3, 4), contiguous=True) is boxes
    ints = np.arange(4)
    assert v.check_array(ints, "x", shape=(None,), kinds="iu") is ints


def test_check_array_converts_lists_tensors_and_dtypes() -> None:
    out = v.check_array([[0, 0, 2, 3]], "boxes", shape=(None, 4), dtype=np.float64)
    assert out.dtype == np.float64 and out.tolist() == [[0.0, 0.0, 2.0, 3.0]]
    out = v.check_array(torch.ones(2, 4, dtype=torch.float16), "boxes", dtype=np.float32)
    assert out.dtype == np.float32 and out.shape == (2, 4)
    column = np.zeros((4, 3))[:, 1]  # a strided view
    out = v.check_array(column, "x", contiguous=True)
    assert out.flags.c_contiguous and out is not column and out.shape == (4,)


@pytest.mark.parametrize(
    ("value", "shape", "words"),
    [
        ([[1, 2, 3]], (None, 4), r"boxes must have shape \[N, 4\], got an array of shape \(1, 3\)"),
        ([1, 2, 3, 4], (None, 4), r"boxes must have shape \[N, 4\], got .*\(4,\) and dtype int64"),
        (np.zeros((2, 4, 1)), (None, 4), r"boxes must have shape \[N, 4\]"),
        (np.zeros((3, 2)), (4, None), r"boxes must have shape \[4, N\]"),
        (np.zeros((2, 3)), (None, None, 2), r"boxes must have shape \[N, M, 2\], got .*\(2, 3\)"),
        (
            np.zeros((2, 3)),
            (None, None, None),
            r"boxes must be 3-D, got an array of shape \(2, 3\)",
        ),
        (np.zeros((2, 3)), (2, 2), r"boxes must have shape \(2, 2\), got an array of shape"),
        (np.zeros(3), (2,), r"boxes must have shape \(2,\), got an array of shape \(3,\)"),
        (np.zeros((0, 3)), (None, 4), r"boxes must have shape \[N, 4\].*\(0, 3\)"),
        (np.zeros((1, 2, 3)), (None, None), r"boxes must be 2-D"),
    ],
)
def test_check_array_refuses_wrong_shapes(value: object, shape: tuple, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        v.check_array(value, "boxes", shape=shape)


def test_check_array_shape_message_names_the_layout_and_the_unknown_lengths() -> None:
    with pytest.raises(ValueError, match=r"must have shape \[N, 5\] \(class, x1, y1, x2, y2\), "):
        v.check_array(np.zeros((1, 4)), "labels", shape=(None, 5), layout="(class, x1, y1, x2, y2)")
    with pytest.raises(ValueError, match=r"x must have shape \[N, 3, M\], got"):
        v.check_array(np.zeros((1, 2, 2)), "x", shape=(None, 3, None))


@pytest.mark.parametrize(
    ("value", "kinds", "words"),
    [
        (np.array(["a", "b"]), "iuf", r"x must hold real numbers, got an array of shape \(2,\) "),
        (np.array([True]), "iuf", "x must hold real numbers, got .*dtype bool"),
        (np.array([1.5]), "iu", "x must hold integers, got .*dtype float64"),
        (np.array([1 + 2j]), "biuf", "x must hold real numbers, got .*complex128"),
        (np.array([1, None], dtype=object), "iuf", "x must hold real numbers, got .*object"),
        (np.array([1]), "b", "x must hold booleans"),
        (np.array([1]), "O", "x must hold values of dtype kinds 'O'"),
    ],
)
def test_check_array_refuses_dtype_kinds(value: object, kinds: str, words: str) -> None:
    with pytest.raises(TypeError, match=words):
        v.check_array(value, "x", kinds=kinds)


def test_check_array_holding_words_replace_the_kinds_words() -> None:
    with pytest.raises(TypeError, match="y must hold class indices, got"):
        v.check_array([0.5], "y", kinds="iu", holding="class indices")


def test_check_array_refuses_non_array_likes_and_ragged_lists() -> None:
    for bad in ("abc", None, {"a": 1}, {1, 2}):
        with pytest.raises(TypeError, match="x must be an array-like"):
            v.check_array(bad, "x")
    with pytest.raises(ValueError, match="x must be a rectangular array-like"):
        v.check_array([[1, 2], [3]], "x")


def test_check_array_finiteness() -> None:
    with pytest.raises(ValueError, match="x must be finite, got an array containing NaN"):
        v.check_array([1.0, np.nan], "x")
    with pytest.raises(ValueError, match="x must be finite, got an array containing infinity"):
        v.check_array(torch.tensor([1.0, -float("inf")]), "x")
    # NaN is caught before a cast to integers would hide it
    with pytest.raises(ValueError, match="x must be finite.*NaN"):
        v.check_array([np.nan], "x", dtype=np.int64)
    # a float64 beyond float32 becomes infinity in the cast: refused too
    with pytest.raises(ValueError, match="x must be finite.*infinity"):
        v.check_array([1e300], "x", dtype=np.float32)
    kept = v.check_array([np.nan, np.inf], "x", finite=False)
    assert np.isnan(kept[0]) and np.isinf(kept[1])


def test_check_array_empty_inputs() -> None:
    # [] is zero rows of an [N, 4] shape, in the dtype asked for
    empty = v.check_array([], "boxes", shape=(None, 4), dtype=np.float32)
    assert empty.shape == (0, 4) and empty.dtype == np.float32
    # an empty input is not refused for its dtype ([] is float64 to numpy)
    ids = v.check_array([], "ids", shape=(None,), kinds="iu")
    assert ids.shape == (0,) and ids.dtype == np.int64
    assert v.check_array(np.array([], dtype=str), "x", shape=(None, 2)).dtype == np.float64
    # other empty shapes must fit, unless any_empty
    with pytest.raises(ValueError, match=r"\[N, 4\]"):
        v.check_array(np.zeros((1, 0)), "boxes", shape=(None, 4))
    assert v.check_array(np.zeros((1, 0)), "boxes", shape=(None, 4), any_empty=True).shape == (
        0,
        4,
    )
    assert v.check_array(np.zeros((2, 0)), "w", shape=(0,), any_empty=True).shape == (0,)
    # [] is not zero columns of a [4, N] shape
    with pytest.raises(ValueError, match=r"\[4, N\]"):
        v.check_array([], "box", shape=(4, None))
    assert v.check_array(np.zeros((4, 0)), "box", shape=(4, None)).shape == (4, 0)
    with pytest.raises(ValueError, match=r"x must not be empty, got an array of shape \(0, 2\)"):
        v.check_array(np.zeros((0, 2)), "x", allow_empty=False)


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(0, 3), min_size=1, max_size=3),
    wildcards=st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_check_array_shape_rule_matches_a_reference(shape: list[int], wildcards: list) -> None:
    """A shape fits when every dimension is equal or a wildcard, and only then (or when an
    empty input stands for zero rows)."""
    array = np.zeros(shape)
    for want in ([None if w else s for s, w in zip(shape, wildcards, strict=False)], [*shape, 1]):
        fits = len(want) == len(shape) and all(
            w is None or w == s for s, w in zip(shape, want, strict=False)
        )
        if fits:
            assert v.check_array(array, "x", shape=tuple(want)) is array
        elif array.size == 0 and len(shape) == 1 and want[0] is None and len(want) > 1:
            assert v.check_array(array, "x", shape=tuple(want)).shape[0] == 0
        else:
            with pytest.raises(ValueError, match="x must "):
                v.check_array(array, "x", shape=tuple(want))


# ----------------------------------------------------------------------------- check_array_list
def test_check_array_list_checks_every_element_by_index() -> None:
    first = np.zeros((2, 5))
    out = v.check_array_list([first, [[0, 1, 1, 2, 2]], []], "labels", shape=(None, 5))
    assert out[0] is first and out[1].shape == (1, 5) and out[2].shape == (0, 5)
    assert v.check_array_list((), "labels") == []
    with pytest.raises(ValueError, match=r"labels\[1\] must have shape \[N, 5\], got"):
        v.check_array_list([first, np.zeros((1, 4))], "labels", shape=(None, 5))
    with pytest.raises(ValueError, match=r"labels\[0\] must be finite"):
        v.check_array_list([[[0, 1, np.nan, 2, 2]]], "labels", shape=(None, 5))
    with pytest.raises(TypeError, match=r"labels\[0\] must hold integers"):
        v.check_array_list([[0.5]], "labels", kinds="iu")
    out = v.check_array_list([[1, 2]], "x", dtype=np.float32)
    assert out[0].dtype == np.float32


@pytest.mark.parametrize("bad", [np.zeros((2, 2, 5)), torch.zeros(2, 2, 5), "abc", 3, None])
def test_check_array_list_refuses_non_sequences(bad: object) -> None:
    with pytest.raises(TypeError, match=r"labels must be a sequence of \[N, 5\] arrays, got"):
        v.check_array_list(bad, "labels", shape=(None, 5))


def test_check_array_list_length() -> None:
    with pytest.raises(ValueError, match="images must hold 4 arrays, got 3"):
        v.check_array_list([[1]] * 3, "images", length=4)
    with pytest.raises(TypeError, match="x must be a sequence of arrays, got 3 \\(int\\)"):
        v.check_array_list(3, "x")


def test_check_array_named_lengths() -> None:
    image = np.zeros((2, 3, 4, 4))
    assert v.check_array(image, "x", shape=("B", 3, "H", "W")) is image
    with pytest.raises(ValueError, match=r"x must have shape \[B, 3, H, W\], got .*\(2, 1, 4, 4\)"):
        v.check_array(np.zeros((2, 1, 4, 4)), "x", shape=("B", 3, "H", "W"))
    # numpy integers are lengths, not names
    assert v.check_array(np.zeros(3), "x", shape=(np.int64(3),)).shape == (3,)
    with pytest.raises(ValueError, match=r"x must have shape \(2,\)"):
        v.check_array(np.zeros(3), "x", shape=(np.int64(2),))


# ----------------------------------------------------------------------------- check_tensor_shape
def test_check_tensor_shape_passes_the_tensor_through() -> None:
    x = torch.zeros(2, 3, 4, 4)
    assert v.check_tensor_shape(x, "x", ("B", 3, "H", "W")) is x
    assert v.check_tensor_shape(x, "x", (None, 3, None, None), dtypes="float") is x
    ints = torch.zeros(2, 4, dtype=torch.int32)
    assert v.check_tensor_shape(ints, "boxes", (None, 4), dtypes="real") is ints


@pytest.mark.parametrize(
    ("value", "kwargs", "error", "words"),
    [
        (np.zeros((2, 4)), {}, TypeError, r"boxes must be a torch.Tensor, got an array"),
        ([[0, 0, 1, 1]], {}, TypeError, r"boxes must be a torch.Tensor, got \[\[0, 0, 1, 1\]\]"),
        (torch.zeros(2, 5), {}, ValueError, r"boxes must be a Tensor of shape \[N, 4\], got .*5\)"),
        (torch.zeros(4), {}, ValueError, r"boxes must be a Tensor of shape \[N, 4\]"),
        (
            torch.zeros(2, 5),
            {"layout": "(x1, y1, x2, y2)"},
            ValueError,
            r"shape \[N, 4\] \(x1, y1, x2, y2\), got",
        ),
        (torch.zeros(2, 4, dtype=torch.int64), {"dtypes": "float"}, TypeError, "floating point"),
        (torch.zeros(2, 4, dtype=torch.bool), {"dtypes": "real"}, TypeError, "real"),
        (torch.zeros(2, 4, dtype=torch.complex64), {"dtypes": "real"}, TypeError, "real"),
        (torch.zeros(2, 4), {"dtypes": "double"}, ValueError, "dtypes must be one of 'float'"),
    ],
)
def test_check_tensor_shape_refuses(value: object, kwargs: dict, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        v.check_tensor_shape(value, "boxes", (None, 4), **kwargs)
