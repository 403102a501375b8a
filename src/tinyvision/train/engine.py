"""The training loop both trainers run: :class:`Engine` with a trainer's :class:`TrainTask`.

A trainer (:func:`~tinyvision.train.classify.train_classifier`,
:func:`~tinyvision.train.detect.train_detector`) supplies only what is its own: the model
and optimiser, the batches of an epoch, the loss of a batch, the validation and the
checkpoint record. The engine does the rest, once for both:

- epochs and steps, the learning rate of each step (``task.lr_at``), optional gradient
  clipping (a non-finite gradient skips its update), bfloat16 autocast on CUDA, the DDP
  wrap, an EMA update after each step (``task.after_update``);
- the NaN/inf stop (:class:`TrainingDiverged`, one message) before any file is written;
- validation every ``val_every`` epochs (rank 0; the other ranks receive the metrics), one
  row per epoch in ``results.csv``, ``best.pt`` when the fitness improves, early stopping
  after ``patience`` epochs without improvement;
- atomic checkpoints (``last.pt`` every ``checkpoint_every`` epochs and at the end, the
  task's snapshots at given steps) as typed records (:class:`TrainCheckpoint`), and resume:
  the history kept in ``last.pt`` (rows, best epoch and weights) carries on, so a resumed
  run writes the ``results.csv`` and ``best.pt`` of an uninterrupted one;
- :class:`TrainEvent` for callbacks (progress bars, loggers); with ``tensorboard`` set,
  rank 0 logs each epoch's results.csv row to ``out_dir/tensorboard/`` (a resumed run
  adds to the same log).

Validation runs in eval mode without touching any random stream of the training (the
trainers draw every random choice of epoch ``e`` from generators seeded with the epoch).
"""

from __future__ import annotations

import copy
import csv
import io
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import torch
from torch import nn

from tinyvision._errors import UserError
from tinyvision._fileio import atomic_write_text, remove_stale_temps
from tinyvision._validate import check_int, describe
from tinyvision.report.tensorboard import TensorBoardLogger, require_tensorboard
from tinyvision.train.checkpoint import save_checkpoint
from tinyvision.train.distributed import DistContext, all_reduce_sum, barrier, broadcast_object

__all__ = [
    "RESULTS_CSV",
    "Engine",
    "LoopConfig",
    "LoopResult",
    "TrainCheckpoint",
    "TrainEvent",
    "TrainTask",
    "TrainingDiverged",
    "Transfer",
    "diverged",
    "freeze_blocks",
    "load_weights",
    "model_blocks",
    "read_results_csv",
    "transfer_weights",
]

RESULTS_CSV = "results.csv"
RUN_FILES = ("last.pt", "best.pt", RESULTS_CSV)  # what every run writes into its out_dir
TOTALS = ("train_seconds", "val_seconds", "steps", "skipped_steps")  # summed over resumes


# ----------------------------------------------------------------------------- events
@dataclass(frozen=True)
class TrainEvent:
    """Progress of a run, passed to a trainer's ``callback``.

    ``kind`` is ``"start"``, ``"step"`` (after each optimiser step), ``"epoch"`` (after
    each epoch, with its mean training ``loss`` and, when it was validated, ``metrics``)
    or ``"stop"`` (early stopping, ``note`` says why). ``epoch`` counts completed epochs;
    an ``"epoch"`` event's ``row`` is the epoch's results.csv row.
    """

    kind: str
    epoch: int
    epochs: int
    step: int
    total_steps: int
    lr: float
    loss: float | None = None
    elapsed: float = 0.0  # seconds since this process started training
    checkpoint: str | None = None  # path written at this event, if any
    metrics: dict[str, float] | None = None  # validation of this epoch (results.csv names)
    best: bool = False  # this epoch's fitness is the best so far (best.pt written)
    note: str | None = None
    row: dict[str, float] | None = None  # an "epoch" event: its results.csv row


class TrainingDiverged(UserError):
    """The training loss (or the weights) became NaN or infinite."""


def diverged(what: str, epoch: int, lr: float, kept: str = "") -> TrainingDiverged:
    """The one divergence message: ``{what} in epoch {epoch} (learning rate {lr} too
    high?){kept}`` (``epoch`` 1-based, ``kept`` names the checkpoint left, if any)."""
    return TrainingDiverged(f"{what} in epoch {epoch} (learning rate {lr} too high?){kept}")


def load_weights(
    module: nn.Module, state: dict[str, Any], source: str = "the checkpoint", what: str = "model"
) -> None:
    """``module.load_state_dict(state)``, a mismatch as one line: ``{source} holds weights of
    another {what} (...)``.

    Raises:
        UserError: the names or shapes of ``state`` do not fit ``module``.
    """
    try:
        module.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{source} holds weights of another {what} ({first})") from exc


# ----------------------------------------------------------------------------- records
R = TypeVar("R", bound="TrainCheckpoint")


@dataclass
class TrainCheckpoint:
    """A training checkpoint as a typed record; a subclass per kind adds its own fields.

    ``to_payload()`` gives the dict :func:`~tinyvision.train.checkpoint.save_checkpoint`
    writes; ``from_payload()`` checks a loaded dict once (names and types) and builds the
    record. ``history`` is the run so far (``rows`` of results.csv, ``best_epoch``,
    ``best_fitness``, ``best_model`` and a trainer's totals); ``meta`` the caller's entries
    (model name, classes, data, ...), stored at the top level of the file.
    """

    KIND: ClassVar[str] = ""
    EXTRA: ClassVar[tuple[str, ...]] = ()  # the subclass's own fields, in the payload too

    model: dict[str, Any]
    optimizer: dict[str, Any]
    epoch: int
    step: int
    config: dict[str, Any]
    history: dict[str, Any] = field(default_factory=dict)
    ema: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            **self.meta,
            "model": self.model,
            "optimizer": self.optimizer,
            "epoch": self.epoch,
            "step": self.step,
            "config": self.config,
            "history": self.history,
            **{name: getattr(self, name) for name in self.EXTRA},
        }
        if self.ema is not None:
            payload["ema"] = self.ema
        return payload

    def restore(self, model: nn.Module, optimizer: torch.optim.Optimizer, ema: Any = None) -> None:
        """Load the record's weights, optimiser state (and EMA) into a run's objects.

        Raises:
            UserError: they do not fit (another model, or another config).
        """
        load_weights(model, self.model)
        try:
            optimizer.load_state_dict(self.optimizer)
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(
                f"the checkpoint's optimizer state does not fit this model and config ({exc})"
            ) from exc
        if ema is not None:
            if self.ema is None:
                raise UserError(f"the checkpoint has no EMA weights (not a {self.KIND} run?)")
            load_weights(ema.module, self.ema["weights"], what="model (its EMA)")
            ema.updates = int(self.ema.get("updates", 0))

    @classmethod
    def from_payload(cls: type[R], record: Any, source: str = "the resume checkpoint") -> R:
        """Check ``record`` (a loaded checkpoint dict) and build the record.

        Raises:
            UserError: an entry is missing or of the wrong type, or the history is damaged.
        """
        if not isinstance(record, dict):
            raise UserError(f"{source} is not a checkpoint record (got {describe(record)})")
        wanted = {"model": dict, "optimizer": dict, "epoch": int, "step": int, "config": dict}
        missing = [key for key in wanted if key not in record]
        if missing:
            raise UserError(
                f"{source} lacks {', '.join(repr(k) for k in missing)}: it cannot resume "
                f"training (not a complete tinyvision {cls.KIND} checkpoint)"
            )
        for key, kind in wanted.items():
            value = record[key]
            if not isinstance(value, kind) or isinstance(value, bool):
                raise UserError(
                    f"{source} holds entries of the wrong type: {key!r} should be "
                    f"{kind.__name__}, not {type(value).__name__}"
                )
        history = record.get("history") or {}
        if not isinstance(history, dict) or not isinstance(history.get("rows", []), list):
            raise UserError(f"{source}: 'history' should be a dict with a list of 'rows'")
        ema = record.get("ema")
        if ema is not None and not (isinstance(ema, dict) and "weights" in ema):
            raise UserError(f"{source}: 'ema' should be a dict with the averaged 'weights'")
        own = {"model", "optimizer", "epoch", "step", "config", "history", "ema", *cls.EXTRA}
        meta = {k: v for k, v in record.items() if k not in own and k not in _FILE_KEYS}
        extra = {name: record.get(name) for name in cls.EXTRA}
        return cls(
            model=record["model"],
            optimizer=record["optimizer"],
            epoch=record["epoch"],
            step=record["step"],
            config=record["config"],
            history=dict(history),
            ema=ema,
            meta=meta,
            **extra,
        )


_FILE_KEYS = ("format", "kind", "version")  # added by save_checkpoint


# ----------------------------------------------------------------------------- the task
class TrainTask:
    """What a trainer supplies to :class:`Engine` (subclass it; the defaults are no-ops).

    Attributes:
        model: the model being trained (unwrapped), on its device.
        optimizer: its optimiser (learning rates are set by the engine each step).
        steps_per_epoch: optimiser steps in one epoch.
        loss_columns: results.csv names of the parts :meth:`loss` returns.
        metric_columns: results.csv names of the values :meth:`validate` returns.
        lr_prefix: results.csv prefix of the learning rate of each parameter group.
    """

    model: nn.Module
    optimizer: torch.optim.Optimizer
    steps_per_epoch: int = 0
    loss_columns: tuple[str, ...] = ("train/loss",)
    metric_columns: tuple[str, ...] = ()
    lr_prefix: str = "lr/pg"

    def lr_at(self, step: int) -> float:
        """The learning rate of ``step`` (0-based)."""
        raise NotImplementedError

    def batches(self, epoch: int) -> Iterable[Any]:
        """The batches of ``epoch`` (0-based), in order."""
        raise NotImplementedError

    def loss(self, forward: Callable[[Any], Any], batch: Any) -> tuple[torch.Tensor, Any, Any]:
        """``(loss to backpropagate, detached parts Tensor[len(loss_columns)], weight)`` of a
        batch; ``forward`` runs the (DDP-wrapped) model under autocast. The epoch's parts
        are ``sum(parts) / sum(weight)`` over the batches and the ranks."""
        raise NotImplementedError

    def snapshot_name(self, step: int) -> str | None:
        """The name of an extra checkpoint to write after ``step`` (0-based), or None."""
        return None

    def after_update(self) -> None:
        """After each optimiser step (an EMA update)."""

    def eval_model(self) -> nn.Module:
        """The model that is validated and kept as the best (the EMA, or the model)."""
        return self.model

    def can_validate(self) -> bool:
        return bool(self.metric_columns)

    def validate(self) -> dict[str, float]:
        """The metrics of :meth:`eval_model` on the validation data (rank 0 only)."""
        return {}

    def fitness(self, metrics: dict[str, float]) -> float:
        """The number ``best.pt`` maximises."""
        raise NotImplementedError

    def record(self, epoch: int, step: int, history: dict[str, Any]) -> TrainCheckpoint:
        """The checkpoint record of the current state (``epoch`` epochs done)."""
        raise NotImplementedError


@dataclass(frozen=True)
class LoopConfig:
    """The engine's settings (taken from a trainer's config)."""

    epochs: int
    lr: float  # the peak learning rate, named by the divergence message
    checkpoint_every: int = 1
    val_every: int = 1
    patience: int = 0  # epochs without a better fitness before stopping; 0 = never
    amp: bool = False  # bfloat16 autocast on CUDA
    grad_clip: float | None = None  # None: no clipping; else max norm (0 = inf) + skip
    tensorboard: bool = False  # rank 0 logs each results.csv row to out_dir/tensorboard/

    @classmethod
    def of(cls, config: Any, grad_clip: float | None = None) -> LoopConfig:
        """The loop settings of a trainer's config (its fields of the same names)."""
        names = ("epochs", "lr", "checkpoint_every", "val_every", "patience", "amp")
        return cls(
            **{name: getattr(config, name) for name in names},
            grad_clip=grad_clip,
            tensorboard=getattr(config, "tensorboard", False),
        )

    def __post_init__(self) -> None:
        check_int(self.epochs, "epochs", minimum=1)
        check_int(self.checkpoint_every, "checkpoint_every", minimum=1)
        check_int(self.val_every, "val_every", minimum=1, maximum=self.epochs)
        check_int(self.patience, "patience", minimum=0)
        if not isinstance(self.tensorboard, bool):
            raise TypeError(f"tensorboard must be a bool, got {describe(self.tensorboard)}")


@dataclass
class LoopResult:
    """What :meth:`Engine.run` returns (times of this call; ``rows`` of the whole run)."""

    rows: list[dict[str, float]] = field(default_factory=list)  # results.csv, per epoch
    epoch_parts: list[list[float]] = field(default_factory=list)  # this call's loss parts
    best_epoch: int = 0  # 0: never validated
    best_fitness: float | None = None
    best_model: dict[str, Any] | None = None  # weights of eval_model at best_epoch
    stopped: str | None = None  # why the run stopped early (patience), else None
    train_seconds: float = 0.0  # the loop's wall time to its last epoch's end, with validation
    val_seconds: float = 0.0  # of which validation
    steps: int = 0
    skipped_steps: int = 0  # non-finite gradients, no update made
    checkpoints: list[str] = field(default_factory=list)  # files written in this call
    snapshots: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- the loop
class Engine:
    """Runs a :class:`TrainTask` for ``config.epochs`` epochs (see the module docstring).

    Args:
        task: the trainer's part.
        config: the loop's settings.
        ctx: process and device.
        out_dir: where rank 0 writes last.pt, best.pt, results.csv, snapshots and (with
            ``config.tensorboard``) the TensorBoard log (None: nothing is written; the best
            weights are still kept in the result).
        start_epoch: epochs already trained (a resumed run), ``history`` their record.
        callback: receives a :class:`TrainEvent` at the start, after each step and epoch.

    Raises:
        UserError: ``config.tensorboard`` is set (with an ``out_dir``) and the
            ``tensorboard`` package is missing (checked here, before any training).
    """

    def __init__(
        self,
        task: TrainTask,
        config: LoopConfig,
        *,
        ctx: DistContext | None = None,
        out_dir: str | os.PathLike[str] | None = None,
        start_epoch: int = 0,
        history: dict[str, Any] | None = None,
        callback: Callable[[TrainEvent], None] | None = None,
    ) -> None:
        self.task, self.config = task, config
        self.ctx = ctx or DistContext()
        self.out = Path(out_dir) if out_dir is not None else None
        self.start_epoch = check_int(start_epoch, "start_epoch", minimum=0)
        self.callback = callback
        self.board: Any = None  # the TensorBoard logger while run() runs (rank 0)
        if config.tensorboard and self.out is not None:
            require_tensorboard()
        self.history = dict(history or {})
        self.result = LoopResult(
            rows=[dict(r) for r in self.history.get("rows", [])],
            best_epoch=int(self.history.get("best_epoch", 0)),
            best_fitness=self.history.get("best_fitness"),
            best_model=self.history.get("best_model"),
            stopped=self.history.get("stopped"),
        )
        self.step = start_epoch * task.steps_per_epoch
        self.total_steps = task.steps_per_epoch * config.epochs
        self.finite = torch.ones((), dtype=torch.bool, device=self.ctx.device)
        self.last_good: list[str] = []
        self.fresh = False  # set by _prepare_folder
        self.net = task.model
        if self.ctx.distributed:
            device = self.ctx.device
            ids = [device.index] if device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(task.model, device_ids=ids)
        self.t0 = time.perf_counter()

    # ----- events and files
    def emit(self, kind: str, epoch: int, **extra: Any) -> None:
        """Send a :class:`TrainEvent` to the TensorBoard log (its rows) and the callback."""
        if kind == "epoch" and extra.get("row") is not None:
            self._log_board(epoch, extra["row"])
        if self.callback is None:
            return
        lr = self.task.optimizer.param_groups[0]["lr"]
        elapsed = time.perf_counter() - self.t0
        config = self.config
        event = TrainEvent(
            kind, epoch, config.epochs, self.step, self.total_steps, lr, elapsed=elapsed, **extra
        )
        self.callback(event)

    def _log_board(self, epoch: int, row: dict[str, float]) -> None:
        """Rank 0 with ``tensorboard``: the row into ``out/tensorboard``, opened at the first
        row (a run that fails before leaves an earlier log as it was). What earlier calls
        logged from this call's first epoch on is hidden (a fresh run: all of it; a resumed
        one: the epochs after its checkpoint, logged again)."""
        if not (self.config.tensorboard and self.out is not None and self.ctx.is_main):
            return
        if self.board is None:
            first = 0 if self.start_epoch == 0 and not self.history else self.start_epoch + 1
            if first == 0:  # a fresh run: an earlier run's event files go (its own folder)
                for old in (self.out / "tensorboard").glob("events.out.tfevents.*"):
                    old.unlink()
            self.board = TensorBoardLogger(self.out / "tensorboard", purge_step=first)
        self.board.log(epoch, row)

    def _history(self) -> dict[str, Any]:
        """The whole run so far, for a checkpoint: the earlier calls' history carried on."""
        r, earlier = self.result, self.history
        totals = {name: earlier.get(name, 0) + getattr(r, name) for name in TOTALS}
        losses = [*earlier.get("epoch_losses", []), *r.epoch_parts]
        return {
            **earlier,
            **totals,
            "epoch_losses": [list(v) for v in losses],
            "rows": [dict(row) for row in r.rows],
            "best_epoch": r.best_epoch,
            "best_fitness": r.best_fitness,
            "best_model": r.best_model,
            "stopped": r.stopped,
        }

    def save(self, name: str, epoch: int, step: int) -> str:
        """Write the task's record of ``epoch`` to ``out/name`` (rank 0)."""
        assert self.out is not None
        self._first_write()
        record = self.task.record(epoch, step, self._history())
        path = str(save_checkpoint(self.out / name, record.KIND, record.to_payload()))
        self.result.checkpoints.append(path)
        if name == "last.pt":
            self.last_good.append(path)
        return path

    def _prepare_folder(self) -> None:
        """Rank 0: clear temporaries of a killed run; note whether this run is fresh (its
        first write removes an earlier run's best.pt and results.csv)."""
        if self.out is None or not self.ctx.is_main:
            return
        remove_stale_temps(self.out, (*RUN_FILES, "snapshot_*.pt"))
        self.fresh = self.start_epoch == 0 and not self.history
        if not self.fresh and (self.out / "last.pt").is_file():
            self.last_good.append(str(self.out / "last.pt"))

    def _first_write(self) -> None:
        """Before a fresh run writes its first file: an earlier run's best.pt and
        results.csv go (they must not pass for this run's; a run that fails before writing
        leaves the folder as it was)."""
        if self.fresh and self.out is not None:
            (self.out / "best.pt").unlink(missing_ok=True)
            (self.out / RESULTS_CSV).unlink(missing_ok=True)
            self.fresh = False

    # ----- the loop
    def run(self) -> LoopResult:
        """Train from ``start_epoch`` to the end (or an early stop); return the result."""
        self._prepare_folder()
        # a run that stopped early is complete: resuming it trains no further
        first = self.config.epochs if self.result.stopped else self.start_epoch
        try:
            self.t0 = time.perf_counter()
            self.emit("start", self.start_epoch)
            for epoch in range(first, self.config.epochs):
                parts, skipped = self._train_epoch(epoch)
                if self._end_epoch(epoch, parts, skipped):
                    break
        finally:
            if self.board is not None:
                self.board.close()
                self.board = None
        self.task.model.eval()
        return self.result

    def _forward(self, inputs: Any) -> Any:
        device = self.ctx.device
        amp = self.config.amp and device.type == "cuda"
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            return self.net(inputs)

    def _train_epoch(self, epoch: int) -> tuple[list[float], int]:
        """One pass: ``(mean loss parts, steps skipped)``."""
        task, optimizer, clip = self.task, self.task.optimizer, self.config.grad_clip
        self.net.train()
        k = len(task.loss_columns)
        sums = torch.zeros(k + 1, dtype=torch.float64, device=self.ctx.device)
        skipped = 0
        for batch in task.batches(epoch):
            lr = task.lr_at(self.step)
            for group in optimizer.param_groups:
                group["lr"] = lr
            loss, parts, weight = task.loss(self._forward, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            ok = True
            if clip is not None:
                norm = nn.utils.clip_grad_norm_(task.model.parameters(), clip or math.inf)
                ok = bool(torch.isfinite(norm))
            if ok:
                optimizer.step()
                task.after_update()
            else:  # one bad batch (an overflow): skip its update, as AMP's scaler does
                skipped += 1
                self.result.skipped_steps += 1
            sums[:k] += parts.to(sums)
            sums[k] += weight
            self.finite &= torch.isfinite(parts).all()
            name = task.snapshot_name(self.step)
            snapshot = self._snapshot(epoch, name, sums) if name is not None else None
            self.step += 1
            self.result.steps += 1
            self.emit("step", epoch, checkpoint=snapshot)
        all_reduce_sum(sums, self.ctx)
        return (sums[:k] / sums[k].clamp(min=1)).tolist(), skipped

    def _snapshot(self, epoch: int, name: str, sums: torch.Tensor) -> str | None:
        """The task's extra checkpoint after this step (finiteness checked first)."""
        if self.out is None:
            return None
        # a NaN mid-epoch must not reach (or replace) a file
        self._check_finite(epoch, name, float(sums[:-1].sum()) / max(float(sums[-1]), 1.0))
        if not self.ctx.is_main:
            return None
        path = self.save(name, epoch + 1, self.step + 1)
        self.result.snapshots.append(path)
        return path

    def _check_finite(self, epoch: int, before: str | None, loss: float) -> None:
        """Before writing ``before`` (or at an epoch end): stop if a loss or a weight is not
        finite on any rank, naming the file kept."""
        bad = (~(self.finite & _state_is_finite(self.task.model, self.ctx.device))).double()
        all_reduce_sum(bad, self.ctx)
        if float(bad) == 0 and math.isfinite(loss):
            return
        what = (
            "the weights became nan or inf"
            if math.isfinite(loss)
            else f"the training loss became {loss}"
        )
        raise diverged(what, epoch + 1, self.config.lr, self._kept(before))

    def _kept(self, before: str | None) -> str:
        kept = ""
        if self.out is not None:
            kept = (
                f"; the last good checkpoint is {self.last_good[-1]}"
                if self.last_good
                else "; no checkpoint of this run was saved"
            )
        if before is not None:
            kept = f"; {before} was not written{kept.replace(';', ',', 1)}"
        return kept

    def _end_epoch(self, epoch: int, parts: list[float], skipped: int) -> bool:
        """Divergence check, validation, results.csv, best.pt, last.pt; True to stop."""
        config, done = self.config, epoch + 1
        loss = sum(parts)
        due = self.out is not None and (
            done % config.checkpoint_every == 0 or done == config.epochs
        )
        if not math.isfinite(loss):
            self._check_finite(epoch, "last.pt" if due else None, loss)
        if 2 * skipped > self.task.steps_per_epoch:
            what = f"{skipped} of the {self.task.steps_per_epoch} steps had non-finite gradients"
            raise diverged(what, done, config.lr, self._kept(None))
        metrics = self._validate(done)
        improved = self._track_best(done, metrics)
        stop = self._patience_spent(done, metrics)
        save = due or (self.out is not None and stop is not None)
        if save or improved:
            self._check_finite(epoch, "last.pt" if save else "best.pt", loss)
        self.result.epoch_parts.append(parts)
        self.result.rows.append(self._row(done, parts, metrics))
        self.result.train_seconds = time.perf_counter() - self.t0  # to the end of this epoch
        self.result.stopped = stop  # kept in last.pt: a resumed run knows it is complete
        saved = self._write_epoch(done, save, improved)
        barrier(self.ctx)
        row = dict(self.result.rows[-1])
        self.emit(
            "epoch", done, loss=loss, checkpoint=saved, metrics=metrics, best=improved, row=row
        )
        if stop is not None:
            self.emit("stop", done, note=stop)
        return stop is not None

    def _validate(self, done: int) -> dict[str, float] | None:
        every = self.config.val_every
        if not self.task.can_validate() or (done % every and done != self.config.epochs):
            return None
        start = time.perf_counter()
        metrics = self.task.validate() if self.ctx.is_main else None
        metrics = broadcast_object(metrics, self.ctx)
        self.result.val_seconds += time.perf_counter() - start
        return metrics

    def _track_best(self, done: int, metrics: dict[str, float] | None) -> bool:
        if metrics is None:
            return False
        fitness = float(self.task.fitness(metrics))
        best = self.result.best_fitness
        if best is not None and not fitness > best:
            return False
        self.result.best_epoch, self.result.best_fitness = done, fitness
        state = self.task.eval_model().state_dict()
        self.result.best_model = {k: v.detach().clone() for k, v in state.items()}
        return True

    def _patience_spent(self, done: int, metrics: dict[str, float] | None) -> str | None:
        patience = self.config.patience
        if not patience or metrics is None or done - self.result.best_epoch < patience:
            return None
        if done == self.config.epochs:
            return None  # the run ends here anyway
        return (
            f"stopping early after epoch {done}: the fitness has not improved for {patience} "
            f"epochs (--patience {patience}); the best was epoch {self.result.best_epoch} "
            f"({self.result.best_fitness:.4f})"
        )

    def _row(self, done: int, parts: list[float], metrics: dict[str, float] | None) -> dict:
        row: dict[str, float] = {"epoch": done}
        row.update(zip(self.task.loss_columns, parts))
        for name in self.task.metric_columns:
            row[name] = metrics[name] if metrics is not None else math.nan
        for i, group in enumerate(self.task.optimizer.param_groups):
            row[f"{self.task.lr_prefix}{i}"] = group["lr"]
        return row

    def _write_epoch(self, done: int, save: bool, improved: bool) -> str | None:
        """Rank 0: results.csv, best.pt when improved, last.pt when due."""
        if self.out is None or not self.ctx.is_main:
            return None
        self._first_write()
        atomic_write_text(self.out / RESULTS_CSV, results_csv_text(self.result.rows))
        if improved:
            self.save("best.pt", done, self.step)
        return self.save("last.pt", done, self.step) if save else None


def _state_is_finite(model: nn.Module, device: torch.device) -> torch.Tensor:
    """A bool scalar on ``device``: every floating weight and buffer of ``model`` is finite."""
    values = [t for t in model.state_dict().values() if t.is_floating_point()]
    if not values:
        return torch.ones((), dtype=torch.bool, device=device)
    return torch.stack([torch.isfinite(t).all() for t in values]).all()


# ----------------------------------------------------------------------------- results.csv
def results_csv_text(rows: Sequence[dict[str, float]]) -> str:
    """The rows as CSV: the first row's columns; numbers written exactly (``repr``), an
    epoch without validation leaves its metric cells empty."""
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = list(rows[0])
    writer.writerow(columns)
    for row in rows:
        cells = []
        for name in columns:
            value = row.get(name, math.nan)
            if name == "epoch":
                cells.append(str(int(value)))
            else:
                cells.append("" if math.isnan(value) else repr(float(value)))
        writer.writerow(cells)
    return buffer.getvalue()


def read_results_csv(path: str | os.PathLike[str]) -> list[dict[str, float]]:
    """The rows of a results.csv as dicts of floats (an empty cell is NaN).

    Raises:
        UserError: the file is missing or not a results.csv.
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            rows = [{k: (float(v) if v else math.nan) for k, v in row.items()} for row in reader]
    except (OSError, ValueError, TypeError) as exc:
        raise UserError(f"{path} is not a readable results.csv ({exc})") from exc
    if rows and "epoch" not in rows[0]:
        raise UserError(f"{path} is not a results.csv (no 'epoch' column)")
    return rows


# ----------------------------------------------------------------------------- fine-tuning
@dataclass(frozen=True)
class Transfer:
    """What :func:`transfer_weights` did: state-dict entries copied, those kept as
    initialised because the source lacks them or their shape differs (``remade``), and
    those excluded on purpose (``kept``)."""

    copied: tuple[str, ...]
    remade: tuple[str, ...]
    kept: tuple[str, ...] = ()

    def summary(self, source: str) -> str:
        """One line for the user, naming the re-made layers."""
        layers = sorted({name.rsplit(".", 1)[0] for name in self.remade})
        total = len(self.copied) + len(self.remade) + len(self.kept)
        line = f"transferred {len(self.copied)}/{total} "
        line += f"weight tensors from {source}"
        if layers:
            line += f"; re-made (classes or shapes differ): {', '.join(layers)}"
        if self.kept:
            line += f"; kept this model's {', '.join(self.kept)}"
        return line


def transfer_weights(
    model: nn.Module, state: dict[str, Any], *, exclude: Sequence[str] = ()
) -> Transfer:
    """Copy the entries of ``state`` whose name and shape match ``model``'s into it (the
    rest keeps its initialisation: a head for other classes is re-made).

    Args:
        model: the new model.
        state: a state dict (another run's weights).
        exclude: names whose last component is one of these are never copied (e.g.
            ``"anchors"``: a fine-tuning run keeps its own).

    Raises:
        TypeError: ``model`` is not a module or ``state`` not a dict.
        UserError: no entry fits (the weights are of another kind of model).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {describe(model)}")
    if not isinstance(state, dict):
        raise TypeError(f"state must be a state dict, got {describe(state)}")
    own = model.state_dict()
    copied, remade, kept = [], [], []
    for name, value in own.items():
        source = state.get(name)
        if name.rsplit(".", 1)[-1] in exclude:
            kept.append(name)
        elif isinstance(source, torch.Tensor) and source.shape == value.shape:
            copied.append(name)
        else:
            remade.append(name)
    if not any(own[name].is_floating_point() for name in copied):
        raise UserError("the weights fit no layer of this model (weights of another model?)")
    with torch.no_grad():
        for name in copied:
            own[name].copy_(state[name].to(own[name].device, own[name].dtype))
    return Transfer(tuple(copied), tuple(remade), tuple(kept))


def model_blocks(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The model's blocks in forward order: its top-level modules that hold parameters, an
    ``nn.Sequential`` among them counting as its items."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {describe(model)}")
    blocks = []
    for name, child in model.named_children():
        items = child.named_children() if isinstance(child, nn.Sequential) else [("", child)]
        for sub, module in items:
            if any(True for _ in module.parameters()):
                blocks.append((f"{name}.{sub}" if sub else name, module))
    return blocks


def freeze_blocks(model: nn.Module, n: int) -> list[str]:
    """Stop the gradients of the first ``n`` blocks (:func:`model_blocks`); return their
    names. ``n`` must leave at least one block to train.

    Raises:
        ValueError: ``n`` is negative or not below the number of blocks.
    """
    blocks = model_blocks(model)
    n = check_int(n, "freeze", minimum=0, maximum=max(len(blocks) - 1, 0))
    for _, module in blocks[:n]:
        for p in module.parameters():
            p.requires_grad_(False)
    return [name for name, _ in blocks[:n]]


def clone_model(model: nn.Module, state: dict[str, Any]) -> nn.Module:
    """A copy of ``model`` holding ``state`` (eval mode)."""
    other = copy.deepcopy(model)
    other.load_state_dict(state)
    return other.eval()
