"""`tinyvision classify train|eval|export`: train an image classifier, evaluate one, export it.

``train`` loads a data set (the offline digits by default, CIFAR-10 from its official
files, or a folder of one's own images: ``_classify_folder``), builds the fast recipe's
network or the notes' ToyNet, trains it (checkpoints in ``--out``, ``--resume`` to
continue) and ends with the evaluation that ``eval`` does:
``metrics.json``, PNG plots, ``report.html`` and ``predictions.csv`` in the output folder,
and a short table on stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tinyvision._cli import _classify_folder, _flags
from tinyvision._cli._checks import check_out, refuse_overwrite
from tinyvision._errors import UserError

if TYPE_CHECKING:  # imported where used: `tinyvision --help` stays fast
    import numpy as np
    import torch

DEFAULT_OUT = "runs/classify"
OVERRIDES = ("epochs", "batch_size", "lr", "schedule", "cycles")
DATA_CHOICES = ("digits", "cifar10")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "classify",
        help="train and evaluate image classifiers",
        description="Train an image classifier (digits, CIFAR-10 or a folder of your images) "
        "or evaluate one.",
    )
    actions = parser.add_subparsers(dest="classify_command", metavar="<action>")
    _register_train(actions)
    _register_eval(actions)
    from tinyvision._cli import _classify_predict  # classify predict

    _classify_predict.register(actions)
    from tinyvision._cli import _export  # classify export

    _export.register(actions, "classify")


def _register_train(actions: argparse._SubParsersAction) -> None:
    train = actions.add_parser(
        "train",
        help="train a classifier, then evaluate it",
        description="Train the fast recipe or the notes' ToyNet, then evaluate it on the "
        "test split (metrics.json, plots, report.html).",
    )
    add = train.add_argument
    add(
        "--data",
        type=_classify_folder.data_argument,
        metavar="{digits,cifar10,DIR}",
        help="data set (default digits: offline 8x8 digits), or a folder of your images: "
        "DIR/train/<class>/*, DIR/val/<class>/* (or DIR/<class>/*, split by --val-split); "
        "decoded once, cached in DIR/.tinyvision-cache/",
    )
    add("--model", choices=("fast", "toy"), help="our FastNet or the notes' ToyNet (default fast)")
    add(
        "--recipe",
        choices=("tuned", "notes"),
        help="our settings (tuned, default) or the notes' (batch 4, lr 0.001, 2 epochs)",
    )
    add("--epochs", type=_flags.int_in(1, _flags.EPOCHS_MAX), help="passes over the training set")
    add(
        "--batch-size",
        type=_flags.int_in(1, _flags.BATCH_MAX),
        help="images per step, all processes together",
    )
    add(
        "--lr",
        type=_flags.float_in(0.0, _flags.LR_MAX, low_open=True),
        help=f"peak learning rate, in (0, {_flags.LR_MAX:g}]",
    )
    add(
        "--schedule",
        choices=("one_cycle", "restarts", "constant"),
        help="learning-rate schedule; 'restarts' saves a snapshot at the end of each cycle",
    )
    add(
        "--cycles",
        type=_flags.int_in(1, _flags.EPOCHS_MAX),
        help="cycles of the restarts schedule, at most the epochs (default 3, or 2, whichever "
        "divides the epochs)",
    )
    add(
        "--seed",
        type=_flags.seed,
        default=0,
        help=f"seed of weights, order and augmentation, 0..{_flags.SEED_MAX}",
    )
    add("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    add_threads_argument(train)
    add("--out", help=f"output folder (default {DEFAULT_OUT}/DATA-MODEL)")
    add_resume_argument(train)
    add_engine_arguments(train, "the top-1 accuracy")
    _add_data_arguments(train)
    _classify_folder.add_folder_arguments(train)
    train.set_defaults(func=run_train)


def _register_eval(actions: argparse._SubParsersAction) -> None:
    evaluate = actions.add_parser(
        "eval",
        help="evaluate checkpoints or a predictions CSV",
        description="Evaluate a checkpoint, several (their probabilities averaged: a snapshot "
        "ensemble), or a predictions CSV with a 'label' column and one score column per class.",
    )
    source = evaluate.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", nargs="+", metavar="CKPT", help="checkpoint file(s)")
    source.add_argument("--predictions", metavar="CSV", help="true labels and class scores")
    evaluate.add_argument(
        "--data",
        type=_classify_folder.data_argument,
        metavar="{digits,cifar10,DIR}",
        help="data set or image folder to evaluate on (default: the checkpoint's)",
    )
    evaluate.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    add_threads_argument(evaluate)
    evaluate.add_argument("--out", help="output folder (default: eval/ beside the input)")
    _add_data_arguments(evaluate)
    _classify_folder.add_folder_arguments(evaluate, evaluating=True)
    evaluate.set_defaults(func=run_eval)


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        default="data",
        help="CIFAR-10: folder with cifar-10-python.tar.gz or cifar-10-batches-py/",
    )
    parser.add_argument(
        "--download", action="store_true", help="CIFAR-10: download it if it is missing"
    )


def add_threads_argument(parser: argparse.ArgumentParser, default: int | None = None) -> None:
    what = "PyTorch's default" if default is None else str(default)
    parser.add_argument(
        "--threads",
        type=_flags.threads,
        default=default,
        help=f"CPU threads for PyTorch, 1..{_flags.THREADS_MAX} (default {what})",
    )


def add_resume_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--resume",
        nargs="?",
        const=True,
        metavar="CKPT",
        help="continue an interrupted run from CKPT (default OUT/last.pt)",
    )


def add_engine_arguments(parser: argparse.ArgumentParser, fitness: str) -> None:
    """``--val-every``, ``--patience``, ``--weights``, ``--freeze`` and ``--tensorboard``
    (both trainers)."""
    epochs = _flags.int_in(1, _flags.EPOCHS_MAX)
    add = parser.add_argument
    add("--val-every", type=epochs, help="epochs between validations, the last always (1)")
    add("--patience", type=epochs, help=f"stop when {fitness} has not improved for N epochs")
    add("--weights", metavar="CKPT", help="fine-tune from another run's weights (best.pt)")
    add(
        "--freeze",
        type=_flags.int_in(0, FREEZE_MAX),
        help="blocks frozen from the input side when fine-tuning (0)",
    )
    add(
        "--tensorboard",
        action="store_true",
        help="log each epoch's results.csv row to OUT/tensorboard/ (pip install tensorboard)",
    )


FREEZE_MAX = 1000  # blocks; a model has far fewer (the trainer names the limit)
ENGINE_OPTIONS = ("val_every", "patience", "freeze", "weights")  # a resumed run keeps its own


def engine_changes(args: argparse.Namespace, epochs: int) -> dict[str, Any]:
    """The config changes of ``--val-every``, ``--patience``, ``--freeze`` and
    ``--tensorboard`` (its package checked now, before any data is read)."""
    from tinyvision.report.tensorboard import require_tensorboard

    if args.val_every is not None and args.val_every > epochs:
        raise ValueError(f"--val-every must be <= the epochs ({epochs}), got {args.val_every}")
    names = ("val_every", "patience", "freeze")
    changes = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    if args.tensorboard:
        require_tensorboard()
        changes["tensorboard"] = True
    return changes


def weights_record(args: argparse.Namespace, kind: str) -> dict[str, Any] | None:
    """The checkpoint ``--weights`` names, read and checked to be of ``kind`` (before any
    data is read)."""
    from tinyvision.train.checkpoint import load_checkpoint

    if args.weights is None:
        return None
    try:
        record = load_checkpoint(args.weights, kind=kind)
    except UserError as exc:
        raise UserError(f"--weights: {exc}") from exc
    weights = record.get("ema", {}).get("weights") if kind == "detector" else None
    if not isinstance(weights if weights is not None else record.get("model"), dict):
        raise UserError(f"--weights {args.weights}: the checkpoint holds no model weights")
    return record


def resume_record(
    args: argparse.Namespace, given: Sequence[str], kind: str, default_out: Path | None = None
) -> tuple[Path, Any]:
    """The checkpoint ``--resume`` names (or ``--out``/last.pt, else ``default_out``/last.pt)
    and its record; the options in ``given`` (set on the command line) are refused: a resumed
    run keeps its settings."""
    from tinyvision.train.checkpoint import load_checkpoint

    if given:
        raise UserError(f"--resume continues the run as it was set up; drop {' '.join(given)}")
    if isinstance(args.resume, str):
        path = Path(args.resume)
    elif args.out:
        path = Path(args.out) / "last.pt"
    elif default_out is not None:
        path = default_out / "last.pt"
        if not path.is_file():
            raise UserError(
                f"--resume: no checkpoint at {path} (the default --out); give --out DIR "
                "or the checkpoint: --resume CKPT"
            )
    else:
        raise UserError("--resume needs --out DIR (or the checkpoint: --resume CKPT)")
    record = load_checkpoint(path, kind=kind)
    config = record.get("config")
    if isinstance(config, dict) and config.get("tensorboard") is True:
        from tinyvision.report.tensorboard import require_tensorboard

        require_tensorboard()  # the run logs on (before any data is read)
    elif getattr(args, "tensorboard", False):
        raise UserError(f"--resume continues the run as it was set up ({path} was trained "
                        "without --tensorboard); drop --tensorboard")  # fmt: skip
    return path, record


def set_threads(threads: int | None) -> None:
    """Apply ``--threads``: PyTorch's intra-op threads on the CPU."""
    if threads is None:
        return
    if threads < 1:
        raise ValueError(f"--threads must be >= 1, got {threads}")
    import torch

    torch.set_num_threads(threads)


def load_data(
    name: str,
    *,
    data_dir: str = "data",
    download: bool = False,
    folder: dict[str, Any] | None = None,
) -> tuple[Any, Any]:
    """The ``(train, test)`` :class:`~tinyvision.data.dataset.ImageDataset` pair of ``name``
    (a folder's path: its ``(train, val)``, loaded with the options ``folder``)."""
    if _classify_folder.is_folder(name):
        return _classify_folder.load_folder(name, folder or {})
    if name == "digits":
        from tinyvision.data.digits import load_digits

        return load_digits()
    from tinyvision.data.cifar import load_cifar10

    return load_cifar10(data_dir, download=download)


# ----------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------


@dataclass
class TrainJob:
    """A training run, resolved from the command line (a recipe) or from a checkpoint."""

    model: str  # "fast" or "toy"
    data: str  # "digits", "cifar10" or an image folder's absolute path
    variant: str  # recipe variant: "tuned" or "notes"
    out: Path  # output folder
    config: Any  # TrainConfig
    model_kwargs: dict[str, Any]  # without in_channels/num_classes (added from the data)
    upscale: int
    seed: int
    resume: dict[str, Any] | None = None  # checkpoint record to continue from
    label: str = ""  # progress label
    weights: dict[str, Any] | None = None  # --weights: a checkpoint record to fine-tune from
    weights_path: str = ""
    data_options: dict[str, Any] = dataclasses.field(default_factory=dict)  # image folder's


@dataclass
class TrainedRun:
    job: TrainJob
    result: Any  # TrainResult
    train: Any  # ImageDataset, upscaled as trained
    test: Any


def job_from_args(args: argparse.Namespace) -> TrainJob:
    """Resolve the training job: a recipe with the command line's overrides, or a resumed run."""
    from tinyvision.train.recipes import get_recipe

    if args.resume is not None:
        return _resumed_job(args)
    model, data, variant = args.model or "fast", args.data or "digits", args.recipe or "tuned"
    data_options = _classify_folder.folder_options(args, data)
    recipe = get_recipe(model, "folder" if data_options else data, variant)
    changes = {name: getattr(args, name) for name in OVERRIDES if getattr(args, name) is not None}
    epochs = changes.get("epochs", recipe.config.epochs)
    if changes.get("cycles", 1) > epochs:
        raise ValueError(f"--cycles must be <= the epochs ({epochs}), got {changes['cycles']}")
    if changes.get("schedule") == "restarts" and "cycles" not in changes:
        changes["cycles"] = next(c for c in (3, 2, 1) if epochs % c == 0)
    changes.update(engine_changes(args, epochs))
    config = dataclasses.replace(recipe.config, seed=args.seed, **changes)
    name = Path(data).name if data_options else data
    out = Path(args.out) if args.out else Path(DEFAULT_OUT) / f"{name}-{model}"
    job = TrainJob(
        model,
        data,
        variant,
        out,
        config,
        dict(recipe.model_kwargs),
        recipe.upscale,
        args.seed,
        label=f"{name}/{model}",
        data_options=data_options,
    )
    job.weights = weights_record(args, "classifier")
    job.weights_path = str(args.weights or "")
    return job


def _resumed_job(args: argparse.Namespace) -> TrainJob:
    from tinyvision.train.classify import CHECKPOINT_KIND, TrainConfig, check_classifier_record

    options = (*OVERRIDES, *ENGINE_OPTIONS)
    given = [f"--{name.replace('_', '-')}" for name in options if getattr(args, name, None)]
    path, record = resume_record(args, given, CHECKPOINT_KIND)
    check_classifier_record(record, str(path), resume=True)
    stored = {
        "model": record.get("model_name"),
        "data": record.get("data"),
        "recipe": record.get("recipe"),
    }
    for option, value in stored.items():
        wanted = getattr(args, option)
        if wanted is not None and wanted != value:
            raise UserError(
                f"{path} is a checkpoint of {option} {value!r}, not {wanted!r}: "
                "it cannot resume this run"
            )
    if args.seed not in (0, record.get("seed")):
        raise UserError(f"{path} was trained with --seed {record.get('seed')}, not {args.seed}")
    kwargs = {
        k: v for k, v in record["model_kwargs"].items() if k not in ("in_channels", "num_classes")
    }
    return TrainJob(
        model=str(record["model_name"]),
        data=str(record["data"]),
        variant=str(record.get("recipe", "tuned")),
        out=Path(args.out) if args.out else path.parent,
        config=TrainConfig.from_dict(record["config"]),
        model_kwargs=kwargs,
        upscale=int(record.get("upscale", 1)),
        seed=int(record.get("seed", 0)),
        resume=record,
        data_options=dict(record.get("data_options") or {}),
    )


def train_job(
    job: TrainJob,
    ctx: Any,
    *,
    data: tuple[Any, Any] | None = None,
    data_dir: str = "data",
    download: bool = False,
    stream: IO[str] | None = None,
    lines: bool = True,
) -> TrainedRun:
    """Load the data (unless given), build the model, train; rank 0 writes checkpoints."""
    import torch

    from tinyvision._cli._progress import TrainProgress
    from tinyvision.nn.classifier import build_classifier
    from tinyvision.train.classify import TrainingDiverged, train_classifier
    from tinyvision.train.engine import transfer_weights

    train_set, test_set = data or load_data(
        job.data, data_dir=data_dir, download=download, folder=job.data_options
    )
    train_set, test_set = train_set.upscale(job.upscale), test_set.upscale(job.upscale)
    c, h, _ = train_set.image_shape
    kwargs = {"in_channels": c, "num_classes": train_set.num_classes, **job.model_kwargs}
    if job.model == "toy":
        kwargs.setdefault("image_size", h)
    meta = {
        "model_name": job.model,
        "model_kwargs": kwargs,
        "data": job.data,
        "recipe": job.variant,
        "classes": list(train_set.classes),
        "upscale": job.upscale,
        "image_shape": list(train_set.image_shape),
        "seed": job.seed,
    }
    if job.data_options:
        meta["data_options"] = dict(job.data_options)
    if job.resume is not None and list(job.resume.get("image_shape", [])) != meta["image_shape"]:
        raise UserError("the checkpoint was trained on images of another shape than this data set")
    torch.manual_seed(job.seed)
    model = build_classifier(job.model, **kwargs)
    if job.weights is not None and ctx.is_main:
        print(transfer_weights(model, job.weights["model"]).summary(job.weights_path))
    elif job.weights is not None:
        transfer_weights(model, job.weights["model"])
    # A fresh run sets the earlier run's checkpoints aside (its snapshots must not join this
    # run's ensemble) and puts them back if it fails; a resumed run continues in place.
    earlier = set_aside_earlier_run(job.out) if job.resume is None and ctx.is_main else None
    label = job.label or f"{job.data}/{job.model}"
    progress = TrainProgress(label, stream=stream, enabled=ctx.is_main, lines=lines)
    try:
        result = train_classifier(
            model,
            train_set,
            job.config,
            val=test_set,
            ctx=ctx,
            out_dir=job.out,
            resume=job.resume,
            meta=meta,
            callback=progress,
        )
    except BaseException as exc:
        # An interrupted run that saved a checkpoint stays resumable (the earlier run's
        # files wait in PREVIOUS_RUN); any other failure leaves --out as it was.
        resumable = not isinstance(exc, Exception) and (job.out / "last.pt").is_file()
        if earlier is not None and not resumable:
            restore_earlier_run(job.out, earlier)
            if isinstance(exc, TrainingDiverged):
                what = str(exc).split("; ", 1)[0]
                raise TrainingDiverged(
                    f"{what}; the earlier run's checkpoints in {job.out} were kept"
                ) from exc
        raise
    finally:
        progress.close()
    if ctx.is_main:
        import shutil

        shutil.rmtree(job.out / PREVIOUS_RUN, ignore_errors=True)
    return TrainedRun(job, result, train_set, test_set)


PREVIOUS_RUN = ".previous-run"  # in --out: an earlier run's checkpoints while a fresh run trains


def run_checkpoints(out: Path) -> list[Path]:
    """The files a run's training leaves in ``out``: ``last.pt``, ``best.pt``,
    ``results.csv`` and ``snapshot_<k>.pt``."""
    import re

    files = [out / name for name in ("last.pt", "best.pt", "results.csv") if (out / name).is_file()]
    files += [
        p for p in sorted(out.glob("snapshot_*.pt")) if re.fullmatch(r"snapshot_\d+\.pt", p.name)
    ]
    return files


def set_aside_earlier_run(out: Path) -> Path | None:
    """Move the checkpoints an earlier run left in ``out`` into ``out/.previous-run/``; return
    that folder, or None when there is nothing to keep.

    A folder left by a fresh run that was killed before it saved anything still holds the
    earlier run's files and is kept; otherwise an older one is replaced.
    """
    import shutil

    keep = out / PREVIOUS_RUN
    files = run_checkpoints(out)
    if not files:
        return keep if keep.is_dir() else None
    if keep.exists():
        shutil.rmtree(keep)
    keep.mkdir(parents=True)
    for path in files:
        os.replace(path, keep / path.name)
    return keep


def restore_earlier_run(out: Path, keep: Path) -> None:
    """Undo :func:`set_aside_earlier_run` after a failed fresh run: delete the checkpoints
    the failed run wrote and put the earlier run's back."""
    for path in run_checkpoints(out):
        path.unlink()
    for path in sorted(keep.iterdir()):
        os.replace(path, out / path.name)
    keep.rmdir()


def run_train(args: argparse.Namespace) -> int:
    from tinyvision.train.distributed import cleanup_distributed, setup_distributed

    set_threads(args.threads)
    job = job_from_args(args)
    ctx = setup_distributed(args.device)
    try:
        data = load_data(
            job.data, data_dir=args.data_dir, download=args.download, folder=job.data_options
        )
        if ctx.is_main:  # after the data (its errors leave nothing behind), before the work
            _classify_folder.check_out_not_in_folder(job.out, job.data)
            check_out(job.out)
        run = train_job(job, ctx, data=data)
        if ctx.is_main:
            seconds = run.result.train_seconds
            print(f"trained {job.model} on {job.data} in {seconds:.1f}s -> {job.out / 'last.pt'}")
            print_best(run.result, job.out, "top-1")
            plot_results_hook(job.out)
            evaluate_run(run, job.out, ctx.device)
    finally:
        cleanup_distributed(ctx)
    return 0


def print_best(result: Any, out: Path, fitness: str) -> None:
    """The early-stopping line (if the run stopped early) and the best epoch's."""
    if result.stopped:
        print(result.stopped)
    if result.best_model is not None:
        print(
            f"best: epoch {result.best_epoch} ({fitness} {result.best_fitness:.4f}) -> "
            f"{out / 'best.pt'}; results per epoch in {out / 'results.csv'}"
        )


def plot_results_hook(out: Path) -> None:
    """results.png (the curves) beside a run's results.csv (both trainers)."""
    from tinyvision.report.run_plots import write_results_png

    if (out / "results.csv").is_file():
        write_results_png(out / "results.csv", out / "results.png")


def evaluate_run(run: TrainedRun, out: Path, device: torch.device) -> Any:
    """Evaluate a finished run on its test split (its snapshots too) and write the report."""
    from tinyvision.train.classify import model_from_checkpoint

    job, result = run.job, run.result
    images = run.test.float_images(device)
    final = result.best_model if result.best_model is not None else result.model
    probs = _probabilities(final, result.mean, result.std, images, job.config)
    members = []
    # Exactly this run's snapshots, in cycle order (snapshot_2 before snapshot_10).
    cycles = job.config.cycles if job.config.schedule == "restarts" else 0
    snapshots = [out / f"snapshot_{k}.pt" for k in range(1, cycles + 1)]
    if len(snapshots) > 1:
        for path in snapshots:
            record = _snapshot_of_run(path, job)
            model = model_from_checkpoint(record, str(path)).to(device)
            members.append(
                (
                    path.name,
                    _probabilities(model, record["mean"], record["std"], images, job.config),
                )
            )
    if members:
        evaluated: dict[str, Any] = {
            "evaluated": f"snapshot ensemble of {len(members)} (mean probabilities)",
            "snapshots": [str(p) for p in snapshots],
            "last_checkpoint": str(out / "last.pt"),
        }
    elif result.best_model is not None:
        evaluated = {
            "evaluated": f"best.pt (epoch {result.best_epoch} of {job.config.epochs})",
            "checkpoint": str(out / "best.pt"),
            "best_epoch": result.best_epoch,
            "last_checkpoint": str(out / "last.pt"),
        }
    else:
        evaluated = {"evaluated": "last.pt", "checkpoint": str(out / "last.pt")}
    extra = {
        **evaluated,
        "model": job.model,
        "data": job.data,
        "recipe": job.variant,
        "epochs": job.config.epochs,
        "seed": job.seed,
        "train_seconds": round(result.train_seconds, 3),
        "val_seconds": round(result.val_seconds, 3),
    }
    return report(
        run.test.labels.numpy(),
        probs if not members else None,
        run.test.classes,
        out,
        title=f"{job.model} on {job.data}",
        extra=extra,
        members=members,
        run_dir=out,
    )


def _snapshot_of_run(path: Path, job: TrainJob) -> dict[str, Any]:
    """The checkpoint record at ``path``, checked to be a snapshot of ``job``'s run (same
    model, data, seed and training settings)."""
    from tinyvision.train.checkpoint import load_checkpoint
    from tinyvision.train.classify import CHECKPOINT_KIND, check_classifier_record

    if not path.is_file():
        raise UserError(f"{path} is missing: the snapshot ensemble needs every cycle's snapshot")
    record = check_classifier_record(load_checkpoint(path, kind=CHECKPOINT_KIND), str(path))
    ours = {
        "model": job.model,
        "data": job.data,
        "seed": job.seed,
        "training settings": dataclasses.asdict(job.config),
    }
    stored = {
        "model": record.get("model_name"),
        "data": record.get("data"),
        "seed": record.get("seed"),
        "training settings": record.get("config"),
    }
    for key, value in ours.items():
        if stored[key] != value:
            verb = "differ" if key.endswith("s") else "differs"
            raise UserError(
                f"{path} is not a snapshot of this run (its {key} {verb}); move it away and "
                "evaluate the run's snapshots with `tinyvision classify eval --checkpoint ...`"
            )
    return record


def _probabilities(
    model: torch.nn.Module, mean: Any, std: Any, images: torch.Tensor, config: Any
) -> np.ndarray:
    from tinyvision.train.classify import predict_proba

    probs = predict_proba(
        model.to(images.device),
        images,
        mean,
        std,
        batch_size=config.eval_batch_size,
        tta_flip=config.tta_flip,
        channels_last=config.channels_last,
        amp=config.amp,
    )
    return probs.double().cpu().numpy()


def report(
    y_true: np.ndarray,
    probs: np.ndarray | None,
    classes: Sequence[str],
    out: Path,
    *,
    title: str,
    extra: dict[str, Any],
    members: Sequence[tuple[str, np.ndarray]] = (),
    tables: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]] = (),
    stream: IO[str] | None = None,
    run_dir: Path | None = None,
) -> Any:
    """Evaluate (an ensemble's mean probabilities when ``members`` are given), write, print;
    ``run_dir``: a training run's folder, whose curves the report shows."""
    import numpy as np

    from tinyvision.metrics import accuracy_score
    from tinyvision.train.evaluate import (
        evaluate_scores,
        format_table,
        write_evaluation,
        write_predictions_csv,
    )

    tables = list(tables)
    if members:
        probs = np.mean([p for _, p in members], axis=0)
        accuracies = [float(accuracy_score(y_true, p.argmax(axis=1))) for _, p in members]
        ensemble = float(accuracy_score(y_true, probs.argmax(axis=1)))
        best = max(accuracies)
        extra = {
            **extra,
            "ensemble": {
                "members": [name for name, _ in members],
                "member_accuracy": accuracies,
                "accuracy": ensemble,
                "beats_best_member": ensemble > best,
            },
        }
        rows = [[name, acc] for (name, _), acc in zip(members, accuracies)]
        rows.append([f"ensemble of {len(members)}", ensemble])
        tables.append(("Snapshot ensemble", ["model", "accuracy"], rows))
    assert probs is not None
    evaluation = evaluate_scores(y_true, probs, classes)
    paths = write_evaluation(
        evaluation, out, title=title, extra=extra, extra_tables=tables, run_dir=run_dir
    )
    write_predictions_csv(out / "predictions.csv", y_true, probs, classes)
    print(format_table(evaluation), file=stream)
    if members:
        verdict = "beats" if ensemble > best else "does not beat"
        print(
            f"snapshot ensemble of {len(members)}: accuracy {ensemble:.4f}, {verdict} its best "
            f"member ({best:.4f})",
            file=stream,
        )
    print(f"wrote {paths['metrics.json']}, {paths['report.html']} and plots", file=stream)
    return evaluation


# ----------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------


def run_eval(args: argparse.Namespace) -> int:
    set_threads(args.threads)
    if args.predictions:
        from tinyvision.train.evaluate import read_predictions_csv

        out = Path(args.out) if args.out else Path(args.predictions).parent / "eval"
        refuse_overwrite(eval_outputs(out), [("--predictions", Path(args.predictions))])
        y, scores, classes = read_predictions_csv(args.predictions)
        check_out(out)
        extra = {"predictions": os.fspath(args.predictions)}
        report(y, scores, classes, out, title="Classifier evaluation", extra=extra)
        return 0
    evaluate_checkpoints(args)
    return 0


def eval_outputs(out: Path) -> list[tuple[str, Path]]:
    """The files ``classify eval`` writes into ``out``, as ``("--out", path)`` pairs."""
    from tinyvision.train.evaluate import EVALUATION_FILES

    return [("--out", out / name) for name in (*EVALUATION_FILES, "predictions.csv")]


def evaluate_checkpoints(args: argparse.Namespace) -> Any:
    """Evaluate one checkpoint, or the ensemble of several, on a data set's test split."""
    from tinyvision.train.checkpoint import load_checkpoint
    from tinyvision.train.classify import (
        CHECKPOINT_KIND,
        TrainConfig,
        check_classifier_record,
        model_from_checkpoint,
    )
    from tinyvision.train.distributed import resolve_device

    out = Path(args.out) if args.out else Path(args.checkpoint[0]).parent / "eval"
    refuse_overwrite(eval_outputs(out), [("--checkpoint", Path(p)) for p in args.checkpoint])
    device = resolve_device(args.device)
    records = [(Path(p), load_checkpoint(p, kind=CHECKPOINT_KIND)) for p in args.checkpoint]
    for path, record in records:
        check_classifier_record(record, str(path))
    first_path, first = records[0]
    for path, record in records[1:]:
        for key in ("classes", "image_shape", "upscale"):
            if record.get(key) != first.get(key):
                raise UserError(
                    f"{path} and {first_path} were trained on different data ({key} differ)"
                )
    data = args.data or first.get("data")
    if not isinstance(data, str) or (data not in DATA_CHOICES and not Path(data).is_dir()):
        raise UserError(f"{first_path} names no known data set or existing folder; pass --data")
    options = _classify_folder.folder_options(args, data, first)
    out = Path(args.out) if args.out else first_path.parent / "eval"
    _classify_folder.check_out_not_in_folder(out, data)
    check_out(out)
    _, test = load_data(data, data_dir=args.data_dir, download=args.download, folder=options)
    test = test.upscale(int(first.get("upscale", 1)))
    if list(test.image_shape) != list(first.get("image_shape", [])):
        raise UserError(
            f"{first_path} expects images of shape {first.get('image_shape')}, but {data} has "
            f"{list(test.image_shape)}: a checkpoint of another model or data set"
        )
    if list(test.classes) != list(first.get("classes", [])):
        raise UserError(f"{first_path} was trained on other classes than those of {data}")
    images = test.float_images(device)
    members = []
    for path, record in records:
        model = model_from_checkpoint(record, str(path)).to(device)
        config = TrainConfig.from_dict(record["config"])
        members.append(
            (path.name, _probabilities(model, record["mean"], record["std"], images, config))
        )
    evaluated = (
        os.fspath(first_path) if len(records) == 1 else f"ensemble of {len(records)} checkpoints"
    )
    extra = {
        "evaluated": evaluated,
        "checkpoints": [os.fspath(p) for p, _ in records],
        "data": data,
    }
    if len(members) == 1:
        return report(
            test.labels.numpy(),
            members[0][1],
            test.classes,
            out,
            title=f"{first.get('model_name')} on {data}",
            extra=extra,
        )
    return report(
        test.labels.numpy(),
        None,
        test.classes,
        out,
        title=f"snapshot ensemble on {data}",
        extra=extra,
        members=members,
    )
