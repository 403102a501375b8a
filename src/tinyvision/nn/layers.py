"""Layers and functional building blocks shared by the classifier and detector networks.

``dropout`` is the notes' inverted dropout, written so that it never changes its input and
works on integer arrays (by promoting them to floating point).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

from tinyvision._validate import check_float, describe

__all__ = ["dropout"]

ArrayOrTensor = TypeVar("ArrayOrTensor", np.ndarray, torch.Tensor)


def dropout(
    x: ArrayOrTensor,
    p: float = 0.5,
    training: bool = True,
    *,
    generator: int | np.random.Generator | torch.Generator | None = None,
) -> ArrayOrTensor:
    """Inverted dropout: zero each element with probability ``p``, scale the rest by 1/(1-p).

    The expected value of every element is unchanged, so nothing needs rescaling at test
    time (``training=False`` returns a copy of ``x``, promoted to floating point).

    Args:
        x (ndarray or Tensor[...]): any shape. Integer and bool inputs are promoted to the
            default floating dtype (float64 for numpy, ``torch.get_default_dtype()`` for
            torch); floating inputs keep their dtype. ``x`` itself is never modified.
        p: probability of dropping an element, in [0, 1) as in the notes.
        training: apply dropout (True) or return the input unchanged (False).
        generator: randomness for the Bernoulli mask: an ``int`` seed, a
            ``numpy.random.Generator`` (numpy input) or a ``torch.Generator`` (tensor input,
            on the tensor's device). ``None`` uses the global generator of numpy or torch.

    Returns:
        the same kind of object as ``x`` (ndarray or Tensor), same shape, floating dtype.
        For tensors the result is differentiable with respect to ``x``.
    """
    p = check_float(p, "p", minimum=0.0, maximum=1.0, max_inclusive=False)
    if not isinstance(training, bool):
        raise TypeError(f"training must be a bool, got {describe(training)}")
    if isinstance(x, torch.Tensor):
        return _dropout_torch(x, p, training, generator)
    if isinstance(x, np.ndarray):
        return _dropout_numpy(x, p, training, generator)
    raise TypeError(f"x must be a numpy array or a torch.Tensor, got {describe(x)}")


def _dropout_numpy(x: np.ndarray, p: float, training: bool, generator: object) -> np.ndarray:
    if x.dtype.kind not in "biuf":
        raise TypeError(f"x must have a real or bool dtype, got {describe(x)}")
    out = x.astype(np.float64) if x.dtype.kind in "biu" else x.copy()
    if not training or p == 0.0 or out.size == 0:
        return out
    if isinstance(generator, torch.Generator):
        raise TypeError("generator must be an int seed or a numpy.random.Generator for numpy input")
    if generator is None or isinstance(generator, (int, np.integer)):
        rng = np.random.default_rng(generator)
    elif isinstance(generator, np.random.Generator):
        rng = generator
    else:
        raise TypeError(
            f"generator must be None, an int or a numpy.random.Generator, got {describe(generator)}"
        )
    keep = 1.0 - p
    mask = rng.random(out.shape) < keep  # Bernoulli(keep) for each element
    out *= mask
    out /= out.dtype.type(keep)
    return out


def _dropout_torch(x: torch.Tensor, p: float, training: bool, generator: object) -> torch.Tensor:
    if x.dtype.is_complex:
        raise TypeError(f"x must have a real or bool dtype, got {describe(x)}")
    out = x if x.dtype.is_floating_point else x.to(torch.get_default_dtype())
    if not training or p == 0.0 or out.numel() == 0:
        return out.clone()
    if isinstance(generator, np.random.Generator):
        raise TypeError("generator must be an int seed or a torch.Generator for tensor input")
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        gen = torch.Generator(device=out.device)
        gen.manual_seed(int(generator))
    elif generator is None or isinstance(generator, torch.Generator):
        gen = generator
    else:
        raise TypeError(
            f"generator must be None, an int or a torch.Generator, got {describe(generator)}"
        )
    keep = 1.0 - p
    mask = torch.rand(out.shape, generator=gen, device=out.device) < keep
    # Out of place, so the input (and its autograd history) is left untouched.
    return out * mask.to(out.dtype) / keep
