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

__all__ = ["INSTALL_HINT", "TensorBoardLogger", "require_tensorboard"]

INSTALL_HINT = (
    "--tensorboard needs the tensorboard package: pip install 'tinyvision[tensorboard]' "
    "(or pip install tensorboard)"
)


def require_tensorboard() -> None:
    """Raise the one-line :class:`~tinyvision._errors.UserError` with the install hint when
    ``tensorboard`` cannot be imported (a check before a run reads any data)."""
    _summary_writer()


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

    Args:
        log_dir: the folder of the event files (created; a later logger on the same folder
            adds a file beside the earlier ones, and TensorBoard shows them as one run).
        purge_step: hide what earlier files of ``log_dir`` hold for steps ``>= purge_step``
            (a resumed run logs again from the epoch after its checkpoint; a fresh run
            passes 0); None keeps everything.
    """

    def __init__(self, log_dir: str | os.PathLike[str], *, purge_step: int | None = None) -> None:
        if purge_step is not None and (
            isinstance(purge_step, bool) or not isinstance(purge_step, int) or purge_step < 0
        ):
            raise ValueError(f"purge_step must be None or an int >= 0, got {purge_step!r}")
        writer_class = _summary_writer()
        self.log_dir = Path(log_dir)
        self._writer = writer_class(log_dir=str(self.log_dir), purge_step=purge_step)

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
