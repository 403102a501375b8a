"""Training curves for TensorBoard (``--tensorboard``): each epoch's ``results.csv`` row as
scalars, through ``torch.utils.tensorboard``.

``tensorboard`` is an optional extra (``pip install 'tinyvision[tensorboard]'``); without it
:class:`TensorBoardLogger` raises one :class:`~tinyvision._errors.UserError` saying so.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tinyvision._errors import UserError

__all__ = ["INSTALL_HINT", "TensorBoardLogger"]

INSTALL_HINT = (
    "--tensorboard needs the tensorboard package: pip install 'tinyvision[tensorboard]' "
    "(or pip install tensorboard)"
)


def _summary_writer() -> Any:
    try:
        import tensorboard  # noqa: F401  (torch.utils.tensorboard needs it)
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    return SummaryWriter


class TensorBoardLogger:
    """Write a run's per-epoch scalars as TensorBoard event files under ``log_dir``.

    >>> logger = TensorBoardLogger("runs/x/tensorboard")  # doctest: +SKIP
    >>> logger.log(1, {"train/loss": 0.9, "metrics/accuracy_top1": 0.71})  # doctest: +SKIP
    >>> logger.close()  # doctest: +SKIP

    Column names are TensorBoard tags as they are (``train/box_loss`` groups under
    ``train``); NaN values (a metric not computed that epoch) are left out.
    """

    def __init__(self, log_dir: str | os.PathLike[str]) -> None:
        writer_class = _summary_writer()
        self.log_dir = Path(log_dir)
        self._writer = writer_class(log_dir=str(self.log_dir))

    def log(self, epoch: int, row: Mapping[str, float]) -> None:
        """Record every finite value of ``row`` at step ``epoch`` (the ``epoch`` key itself
        is not a scalar)."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch must be an int >= 0, got {epoch!r}")
        for name, value in row.items():
            if name == "epoch":
                continue
            number = float(value)
            if math.isfinite(number):
                self._writer.add_scalar(name, number, global_step=epoch)
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self._writer.close()

    def __enter__(self) -> TensorBoardLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
