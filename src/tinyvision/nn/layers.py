"""Layers and functional building blocks shared by the classifier and detector networks.

``dropout`` is the notes' inverted dropout, written so that it never changes its input and
works on integer arrays (by promoting them to floating point).

The detector's blocks are YOLOv5's (the notes' ViT section): :class:`Conv` (convolution,
batch norm, SiLU), :class:`Bottleneck`, the CSP block :class:`C3`, the notes'
:class:`TransformerLayer` and :class:`TransformerBlock`, and :class:`C3TR` (a C3 whose
bottlenecks are a transformer block). Shapes are ``(B, C, H, W)`` unless stated.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch
from torch import Tensor, nn

from tinyvision._validate import check_array, check_float, check_int, describe

__all__ = [
    "C3",
    "C3TR",
    "Bottleneck",
    "Conv",
    "TransformerBlock",
    "TransformerLayer",
    "autopad",
    "dropout",
]

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
            on the tensor's device). ``None``: for numpy input a fresh
            ``np.random.default_rng()`` seeded from operating-system entropy (a different
            mask on every call; numpy's global ``np.random`` state is neither used nor
            changed); for tensor input torch's global generator (``torch.manual_seed``).
            A bool is refused (``TypeError``), not taken as the seed 0 or 1.

    Returns:
        the same kind of object as ``x`` (ndarray or Tensor), same shape, floating dtype.
        For tensors the result is differentiable with respect to ``x``.
    """
    p = check_float(p, "p", minimum=0.0, maximum=1.0, max_inclusive=False)
    if not isinstance(training, bool):
        raise TypeError(f"training must be a bool, got {describe(training)}")
    if isinstance(generator, (bool, np.bool_)):
        raise TypeError(
            f"generator must be None, an int seed or a generator, got {describe(generator)}"
        )
    if isinstance(x, torch.Tensor):
        return _dropout_torch(x, p, training, generator)
    if isinstance(x, np.ndarray):
        return _dropout_numpy(x, p, training, generator)
    raise TypeError(f"x must be a numpy array or a torch.Tensor, got {describe(x)}")


def _dropout_numpy(x: np.ndarray, p: float, training: bool, generator: object) -> np.ndarray:
    check_array(x, "x", kinds="biuf", finite=False, holding="numbers of a real or bool dtype")
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


# ----------------------------------------------------------------------------- detector blocks
def autopad(kernel: int, padding: int | None = None, dilation: int = 1) -> int:
    """The padding that keeps the spatial size at stride 1 ("same"), unless given."""
    if padding is not None:
        return padding
    return (dilation * (kernel - 1) + 1) // 2


class Conv(nn.Module):
    """Convolution (no bias) -> BatchNorm -> activation (SiLU by default).

    ``(B, c1, H, W) -> (B, c2, H / s, W / s)`` with "same" padding.
    ``act=False`` (or ``act_layer=None``) leaves the activation out.
    """

    def __init__(
        self,
        c1: int,
        c2: int,
        k: int = 1,
        s: int = 1,
        p: int | None = None,
        g: int = 1,
        d: int = 1,
        act: bool = True,
        *,
        act_layer: type[nn.Module] | None = nn.SiLU,
    ) -> None:
        super().__init__()
        c1, c2 = check_int(c1, "c1", minimum=1), check_int(c2, "c2", minimum=1)
        self.conv = nn.Conv2d(c1, c2, k, s, autopad(k, p, d), dilation=d, groups=g, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03)  # YOLOv5's BN settings
        self.act = act_layer() if act and act_layer is not None else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    """1x1 conv to ``c2 * e`` channels, 3x3 conv back to ``c2``; residual when shapes allow."""

    def __init__(self, c1: int, c2: int, shortcut: bool = True, g: int = 1, e: float = 0.5) -> None:
        super().__init__()
        hidden = max(1, int(c2 * e))
        self.cv1 = Conv(c1, hidden, 1, 1)
        self.cv2 = Conv(hidden, c2, 3, 1, g=g)
        self.add = shortcut and c1 == c2

    def forward(self, x: Tensor) -> Tensor:
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C3(nn.Module):
    """CSP bottleneck with 3 convolutions: ``cv3(cat(m(cv1(x)), cv2(x)))``.

    ``(B, c1, H, W) -> (B, c2, H, W)``; ``n`` bottlenecks on half (``e``) of the channels.
    """

    def __init__(
        self, c1: int, c2: int, n: int = 1, shortcut: bool = True, g: int = 1, e: float = 0.5
    ) -> None:
        super().__init__()
        n = check_int(n, "n", minimum=1)
        hidden = max(1, int(c2 * e))
        self.cv1 = Conv(c1, hidden, 1, 1)
        self.cv2 = Conv(c1, hidden, 1, 1)
        self.cv3 = Conv(2 * hidden, c2, 1)
        self.m: nn.Module = nn.Sequential(
            *(Bottleneck(hidden, hidden, shortcut, g, e=1.0) for _ in range(n))
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), dim=1))


class TransformerLayer(nn.Module):
    """The notes' transformer layer (ViT without LayerNorm): q/k/v projections, multi-head
    self-attention and two linear layers, each with a residual connection.

    ``(S, B, c) -> (S, B, c)``: a sequence of ``S`` tokens (sequence first, as
    ``nn.MultiheadAttention`` takes it by default).
    """

    def __init__(self, c: int, num_heads: int) -> None:
        super().__init__()
        c = check_int(c, "c", minimum=1)
        num_heads = check_int(num_heads, "num_heads", minimum=1)
        if c % num_heads:
            raise ValueError(f"c ({c}) must be divisible by num_heads ({num_heads})")
        self.q = nn.Linear(c, c, bias=False)
        self.k = nn.Linear(c, c, bias=False)
        self.v = nn.Linear(c, c, bias=False)
        self.ma = nn.MultiheadAttention(embed_dim=c, num_heads=num_heads)
        self.fc1 = nn.Linear(c, c, bias=False)
        self.fc2 = nn.Linear(c, c, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        x = self.ma(self.q(x), self.k(x), self.v(x), need_weights=False)[0] + x
        return self.fc2(self.fc1(x)) + x


class TransformerBlock(nn.Module):
    """Optional :class:`Conv` to ``c2`` channels, a learned position embedding (a linear
    map of the tokens), then ``num_layers`` :class:`TransformerLayer`\\ s over the ``H * W``
    positions. ``(B, c1, H, W) -> (B, c2, H, W)``."""

    def __init__(self, c1: int, c2: int, num_heads: int, num_layers: int) -> None:
        super().__init__()
        num_layers = check_int(num_layers, "num_layers", minimum=1)
        self.conv: nn.Module = Conv(c1, c2) if c1 != c2 else nn.Identity()
        self.linear = nn.Linear(c2, c2)  # learned position embedding
        self.tr = nn.Sequential(*(TransformerLayer(c2, num_heads) for _ in range(num_layers)))
        self.c2 = c2

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        b, _, h, w = x.shape
        p = x.flatten(2).permute(2, 0, 1)  # (H*W, B, c2)
        y = self.tr(p + self.linear(p))
        return y.permute(1, 2, 0).reshape(b, self.c2, h, w)


class C3TR(C3):
    """:class:`C3` with a :class:`TransformerBlock` (``num_heads`` heads, ``n`` layers) in
    place of its bottlenecks. ``(B, c1, H, W) -> (B, c2, H, W)``."""

    def __init__(
        self,
        c1: int,
        c2: int,
        n: int = 1,
        shortcut: bool = True,
        g: int = 1,
        e: float = 0.5,
        num_heads: int = 4,
    ) -> None:
        super().__init__(c1, c2, n, shortcut, g, e)
        hidden = max(1, int(c2 * e))
        self.m = TransformerBlock(hidden, hidden, num_heads, n)
