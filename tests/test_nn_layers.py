"""dropout: the notes' inverted dropout, without its bugs (mutation, integer input)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from _classify_helpers import one_thread  # noqa: F401 (autouse fixture)
from tinyvision.nn import dropout


def test_hand_computed_scaling() -> None:
    # p = 0.75 keeps 1/4 of the elements and multiplies them by 1 / (1 - 0.75) = 4.
    x = np.full(10_000, 2.0)
    y = dropout(x, 0.75, generator=0)
    assert set(np.unique(y)) <= {0.0, 8.0}
    assert abs((y == 8.0).mean() - 0.25) < 0.02


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_never_mutates_input(kind: str) -> None:
    data = np.arange(1.0, 101.0)
    x = data.copy() if kind == "numpy" else torch.tensor(data)
    before = x.copy() if kind == "numpy" else x.clone()
    y = dropout(x, 0.5, generator=1)
    assert np.array_equal(x, before) if kind == "numpy" else torch.equal(x, before)
    assert y is not x


def test_integer_input_is_promoted() -> None:
    # The notes' snippet fails here (x *= mask on an int array; x /= 0.5 casts).
    x = np.array([[1, 2], [3, 4]], dtype=np.int32)
    y = dropout(x, 0.5, generator=3)
    assert y.dtype == np.float64
    assert np.all((y == 0) | (y == 2 * x))
    t = torch.tensor([1, 2, 3], dtype=torch.int64)
    assert dropout(t, 0.5, generator=3).dtype == torch.get_default_dtype()
    assert dropout(np.array([True, False]), 0.0).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_dtype_is_kept(dtype: type) -> None:
    x = np.ones(8, dtype=dtype)
    assert dropout(x, 0.5, generator=0).dtype == dtype


def test_training_false_and_p_zero_are_identity_copies() -> None:
    x = torch.randn(5, 3)
    for y in (dropout(x, 0.9, training=False), dropout(x, 0.0)):
        assert torch.equal(y, x) and y.data_ptr() != x.data_ptr()


def test_seeded_is_reproducible() -> None:
    x = np.ones(100)
    assert np.array_equal(dropout(x, 0.3, generator=7), dropout(x, 0.3, generator=7))
    assert not np.array_equal(dropout(x, 0.3, generator=7), dropout(x, 0.3, generator=8))
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    t = torch.ones(100)
    assert torch.equal(dropout(t, 0.3, generator=g1), dropout(t, 0.3, generator=g2))


def test_gradient_is_mask_over_keep() -> None:
    x = torch.ones(1000, requires_grad=True)
    y = dropout(x, 0.2, generator=0)
    y.sum().backward()
    kept = y.detach() != 0
    assert torch.allclose(x.grad[kept], torch.tensor(1 / 0.8))
    assert torch.all(x.grad[~kept] == 0)


def test_expectation_is_preserved() -> None:
    x = np.full(200_000, 3.0)
    assert abs(dropout(x, 0.4, generator=2).mean() - 3.0) < 0.03


def test_empty_input() -> None:
    assert dropout(np.zeros((0, 3)), 0.5).shape == (0, 3)
    assert dropout(torch.zeros(0), 0.5).shape == (0,)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, float("nan")])
def test_p_out_of_range(p: float) -> None:
    with pytest.raises(ValueError, match="p must"):
        dropout(np.ones(3), p)


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="numpy array or a torch.Tensor"):
        dropout([1.0, 2.0], 0.5)
    with pytest.raises(TypeError, match="real or bool dtype"):
        dropout(np.array(["a"]), 0.5)
    with pytest.raises(TypeError, match="real or bool dtype"):
        dropout(torch.ones(2, dtype=torch.complex64), 0.5)
    with pytest.raises(TypeError, match="training must be a bool"):
        dropout(np.ones(2), 0.5, training=1)
    with pytest.raises(TypeError, match="torch.Generator"):
        dropout(torch.ones(2), 0.5, generator=np.random.default_rng(0))
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        dropout(np.ones(2), 0.5, generator=torch.Generator())
    with pytest.raises(TypeError, match="p must be a real number"):
        dropout(np.ones(2), "0.5")


@pytest.mark.parametrize("x", [np.ones(4), torch.ones(4)])
@pytest.mark.parametrize("generator", [True, False, np.bool_(True)])
def test_bool_generator_is_refused(x, generator) -> None:
    # True used to be taken as the seed 1 for numpy input
    with pytest.raises(TypeError, match="generator must be None, an int seed or a generator"):
        dropout(x, 0.5, generator=generator)


def test_no_generator_draws_fresh_entropy_and_leaves_numpy_global_state() -> None:
    # generator=None is np.random.default_rng(): seeding numpy's global generator does not
    # make the mask repeat, and the global state is not advanced.
    x = np.ones(64)
    saved = np.random.get_state()  # noqa: NPY002 (the legacy global state is the subject)
    try:
        np.random.seed(0)  # noqa: NPY002
        state = np.random.get_state()[1].copy()  # noqa: NPY002
        a = dropout(x, 0.5)
        np.random.seed(0)  # noqa: NPY002
        b = dropout(x, 0.5)
        assert not np.array_equal(a, b)  # equal with probability 2**-64
        assert np.array_equal(np.random.get_state()[1], state)  # noqa: NPY002
    finally:
        np.random.set_state(saved)  # noqa: NPY002


@settings(max_examples=40, deadline=None)
@given(
    p=st.floats(0.0, 0.95),
    shape=st.lists(st.integers(0, 5), min_size=1, max_size=3),
    seed=st.integers(0, 2**31),
)
def test_every_element_is_dropped_or_scaled(p: float, shape: list[int], seed: int) -> None:
    x = np.random.default_rng(seed).normal(size=shape)
    y = dropout(x, p, generator=seed)
    assert y.shape == x.shape
    assert np.all((y == 0) | np.isclose(y, x / (1 - p), rtol=1e-12, atol=0))
