"""Exponential moving average of a model's weights (YOLOv5's ``ModelEMA``).

After each optimiser step ``ema = d * ema + (1 - d) * weights`` for every floating point
entry of the state dict (buffers such as batch-norm statistics included), with a decay
that ramps up from 0, ``d = decay * (1 - exp(-updates / tau))``, so the early average is
not dominated by the random initial weights. Integer buffers are copied.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import nn

from tinyvision._validate import check_float, check_int, describe

__all__ = ["ModelEMA", "ema_decay"]


def ema_decay(updates: int, decay: float = 0.9999, tau: float = 2000.0) -> float:
    """The decay used at update number ``updates`` (1 for the first update):
    ``decay * (1 - exp(-updates / tau))``."""
    updates = check_int(updates, "updates", minimum=0)
    return decay * (1 - math.exp(-updates / tau))


class ModelEMA:
    """A moving-average copy of ``model`` (in eval mode, no gradients).

    Args:
        model: the model being trained (unwrapped from DDP).
        decay: the decay the ramp tends to, in [0, 1).
        tau: ramp length in updates.
        updates: updates already made (when resuming).
    """

    def __init__(
        self, model: nn.Module, decay: float = 0.9999, tau: float = 2000.0, updates: int = 0
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {describe(model)}")
        self.decay = check_float(decay, "decay", minimum=0.0, maximum=1.0, max_inclusive=False)
        self.tau = check_float(tau, "tau", minimum=0.0, min_inclusive=False)
        self.updates = check_int(updates, "updates", minimum=0)
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Fold the current weights of ``model`` into the average."""
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {describe(model)}")
        current = model.state_dict()
        averaged = self.module.state_dict()
        if current.keys() != averaged.keys() or any(
            current[name].shape != value.shape for name, value in averaged.items()
        ):
            raise ValueError(
                "model must have the architecture of the averaged model (the same state dict "
                "names and shapes)"
            )
        self.updates += 1
        d = ema_decay(self.updates, self.decay, self.tau)
        for name, value in averaged.items():
            if value.dtype.is_floating_point:
                value.mul_(d).add_(current[name].detach(), alpha=1 - d)
            else:
                value.copy_(current[name])

    def state_dict(self) -> dict[str, Any]:
        """The averaged weights and the update count, for a checkpoint."""
        return {"weights": self.module.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state["weights"])
        self.updates = int(state["updates"])
