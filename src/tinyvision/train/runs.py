"""Training runs: run folders, resume, the jobs both trainers run, the snapshot ensemble and
the final evaluation and report (the layer below the CLI, above the trainers).

The ``classify train`` / ``detect train`` commands and ``demo`` only parse their arguments
and print; everything a run does between the parsed flags and its report lives here, once:

* run folders: :func:`run_checkpoints`, :func:`set_aside_earlier_run` and
  :func:`restore_earlier_run` (a fresh run in a used ``--out`` puts the earlier run's
  checkpoints in ``OUT/.previous-run/`` and back if it fails, so a failed run never
  leaves another run's ``best.pt``), :func:`write_run_config` (``OUT/config.yaml``);
* checkpoints a run starts from: :func:`resume_checkpoint` (``--resume``) and
  :func:`weights_checkpoint` (``--weights``), both read and checked before any data;
* the classifier: :class:`TrainJob` (:func:`classify_job`, :func:`resumed_classify_job`),
  :func:`train_classify_job`, :func:`snapshot_ensemble` (the one evaluation of several
  checkpoints by their mean probabilities: ``classify train`` with restarts, ``classify
  eval --checkpoint A B ...`` and ``demo``) and :func:`evaluate_classify_run`;
* the detector: :class:`DetectJob` (:func:`detect_job`, :func:`resumed_detect_job`) and
  :func:`train_detect_job` (data, anchors, training, the report of ``best.pt``).

The reports themselves are drawn and written by :mod:`tinyvision.report.training`.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tinyvision._errors import UserError

if TYPE_CHECKING:  # imported where used: the CLI's parser stays fast
    import numpy as np
    import torch

__all__ = [
    "CLASSIFY_OUT",
    "DETECT_OUT",
    "PREVIOUS_RUN",
    "DetectJob",
    "SnapshotEnsemble",
    "TrainJob",
    "TrainedRun",
    "check_val_every",
    "classify_job",
    "default_detect_out",
    "detect_job",
    "evaluate_classify_run",
    "in_run_folder",
    "load_detect_data",
    "plot_results",
    "print_best",
    "probabilities",
    "report_detect_run",
    "restore_earlier_run",
    "resume_checkpoint",
    "resumed_classify_job",
    "resumed_detect_job",
    "run_checkpoints",
    "set_aside_earlier_run",
    "snapshot_ensemble",
    "train_classify_job",
    "train_detect_job",
    "weights_checkpoint",
    "write_run_config",
]

CLASSIFY_OUT = "runs/classify"
DETECT_OUT = "runs/detect"
SHAPES = "shapes"
TRAIN_IMAGES, VAL_IMAGES = 1000, 200  # shapes images of a new detector run
_T = TypeVar("_T")


# ----------------------------------------------------------------------------------------
# Run folders and the checkpoints a run starts from
# ----------------------------------------------------------------------------------------


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


def in_run_folder(
    out: Path, train: Callable[[], _T], *, fresh: bool, main: bool, progress: Any = None
) -> _T:
    """Call ``train`` (which writes its checkpoints into ``out``) and return its result.

    A ``fresh`` run first sets an earlier run's checkpoints aside (its ``best.pt`` or
    snapshots must not pass for this run's) and puts them back if it fails; an interrupted
    run that saved a ``last.pt`` stays resumable (the earlier files wait in
    ``PREVIOUS_RUN``). ``main``: this process owns the folder (rank 0): it removes the
    set-aside files after a finished run. ``progress`` is closed at the end.
    """
    import shutil

    from tinyvision.train.engine import TrainingDiverged

    earlier = set_aside_earlier_run(out) if fresh and main else None
    try:
        result = train()
    except BaseException as exc:
        resumable = not isinstance(exc, Exception) and (out / "last.pt").is_file()
        if earlier is not None and not resumable:
            restore_earlier_run(out, earlier)
            if isinstance(exc, TrainingDiverged):
                what = str(exc).split("; ", 1)[0]
                raise TrainingDiverged(
                    f"{what}; the earlier run's checkpoints in {out} were kept"
                ) from exc
        raise
    finally:
        if progress is not None:
            progress.close()
    if main:
        shutil.rmtree(out / PREVIOUS_RUN, ignore_errors=True)
    return result


def print_best(result: Any, out: Path, fitness: str) -> None:
    """The early-stopping line (if the run stopped early) and the best epoch's."""
    if result.stopped:
        print(result.stopped)
    if result.best_model is not None:
        print(
            f"best: epoch {result.best_epoch} ({fitness} {result.best_fitness:.4f}) -> "
            f"{out / 'best.pt'}; results per epoch in {out / 'results.csv'}"
        )


def plot_results(out: Path) -> None:
    """results.png (the curves) beside a run's results.csv (both trainers)."""
    from tinyvision.report.run_plots import write_results_png

    if (out / "results.csv").is_file():
        write_results_png(out / "results.csv", out / "results.png")


def resume_checkpoint(
    resume: str | bool, out: str | os.PathLike[str] | None, kind: str, default_out: Path | None
) -> tuple[Path, dict[str, Any]]:
    """The checkpoint ``--resume`` names (a path; True: ``out``/last.pt, else
    ``default_out``/last.pt) and its record, checked to be of ``kind``."""
    from tinyvision.train.checkpoint import load_checkpoint

    if isinstance(resume, str):
        path = Path(resume)
    elif out:
        path = Path(out) / "last.pt"
    elif default_out is not None:
        path = default_out / "last.pt"
        if not path.is_file():
            raise UserError(
                f"--resume: no checkpoint at {path} (the default --out); give --out DIR "
                "or the checkpoint: --resume CKPT"
            )
    else:
        raise UserError("--resume needs --out DIR (or the checkpoint: --resume CKPT)")
    return path, load_checkpoint(path, kind=kind)


def weights_checkpoint(path: str | None, kind: str) -> dict[str, Any] | None:
    """The checkpoint ``--weights`` names, read and checked to be of ``kind`` and to hold
    model weights (before any data is read); None without ``path``."""
    from tinyvision.train.checkpoint import load_checkpoint

    if path is None:
        return None
    try:
        record = load_checkpoint(path, kind=kind)
    except UserError as exc:
        raise UserError(f"--weights: {exc}") from exc
    weights = record.get("ema", {}).get("weights") if kind == "detector" else None
    if not isinstance(weights if weights is not None else record.get("model"), dict):
        raise UserError(f"--weights {path}: the checkpoint holds no model weights")
    return record


def require_logging(config: Any) -> None:
    """A run set up with ``tensorboard`` needs the package: one line saying how to install it,
    before any data is read (also when resuming such a run)."""
    if getattr(config, "tensorboard", False):
        from tinyvision.report.tensorboard import require_tensorboard

        require_tensorboard()


def check_val_every(val_every: int | None, epochs: int) -> None:
    """``--val-every`` must fit in the epochs (one line naming the flag)."""
    if val_every is not None and val_every > epochs:
        raise ValueError(f"--val-every must be <= the epochs ({epochs}), got {val_every}")


def write_run_config(out: Path, settings: dict[str, Any]) -> Path:
    """``OUT/config.yaml``: the run's resolved settings, so that ``--config OUT/config.yaml``
    repeats it (keys in the given order; None values left out)."""
    import yaml

    from tinyvision._fileio import atomic_write_text

    kept = {k: v for k, v in settings.items() if v is not None}
    text = "# the settings of this run: repeat it with --config (flags given win)\n"
    text += yaml.safe_dump(kept, sort_keys=False, default_flow_style=False)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "config.yaml", text)
    return out / "config.yaml"


# ----------------------------------------------------------------------------------------
# The classifier
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


def classify_job(
    model: str,
    data: str,
    variant: str,
    *,
    seed: int = 0,
    out: str | os.PathLike[str] | None = None,
    changes: dict[str, Any] | None = None,
    data_options: dict[str, Any] | None = None,
    weights: str | None = None,
) -> TrainJob:
    """A new classifier run: the recipe of ``(model, data, variant)`` with ``changes`` to
    its :class:`~tinyvision.train.classify.TrainConfig` (flag names in the errors)."""
    from tinyvision.train import recipes

    recipe = recipes.get_recipe(model, "folder" if data_options else data, variant)
    changes = dict(changes or {})
    epochs = changes.get("epochs", recipe.config.epochs)
    if changes.get("cycles", 1) > epochs:
        raise ValueError(f"--cycles must be <= the epochs ({epochs}), got {changes['cycles']}")
    if changes.get("schedule") == "restarts" and "cycles" not in changes:
        changes["cycles"] = next(c for c in (3, 2, 1) if epochs % c == 0)
    check_val_every(changes.get("val_every"), epochs)
    config = dataclasses.replace(recipe.config, seed=seed, **changes)
    require_logging(config)
    name = Path(data).name if data_options else data
    job = TrainJob(
        model,
        data,
        variant,
        Path(out) if out else Path(CLASSIFY_OUT) / f"{name}-{model}",
        config,
        dict(recipe.model_kwargs),
        recipe.upscale,
        seed,
        label=f"{name}/{model}",
        data_options=dict(data_options or {}),
    )
    job.weights = weights_checkpoint(weights, "classifier")
    job.weights_path = str(weights or "")
    return job


def resumed_classify_job(
    path: Path, record: dict[str, Any], out: str | None, wanted: dict[str, Any]
) -> TrainJob:
    """The run a classifier checkpoint continues; ``wanted`` (``model``, ``data``,
    ``recipe``, ``seed`` as given, None if not) must match the checkpoint's."""
    from tinyvision.train.classify import TrainConfig, check_classifier_record

    check_classifier_record(record, str(path), resume=True)
    for option in ("model", "data", "recipe"):
        stored = record.get("model_name" if option == "model" else option)
        if wanted.get(option) is not None and wanted[option] != stored:
            raise UserError(
                f"{path} is a checkpoint of {option} {stored!r}, not {wanted[option]!r}: "
                "it cannot resume this run"
            )
    if wanted.get("seed") not in (None, 0, record.get("seed")):
        raise UserError(
            f"{path} was trained with --seed {record.get('seed')}, not {wanted['seed']}"
        )
    kwargs = {
        k: v for k, v in record["model_kwargs"].items() if k not in ("in_channels", "num_classes")
    }
    config = TrainConfig.from_dict(record["config"])
    require_logging(config)
    return TrainJob(
        model=str(record["model_name"]),
        data=str(record["data"]),
        variant=str(record.get("recipe", "tuned")),
        out=Path(out) if out else path.parent,
        config=config,
        model_kwargs=kwargs,
        upscale=int(record.get("upscale", 1)),
        seed=int(record.get("seed", 0)),
        resume=record,
        data_options=dict(record.get("data_options") or {}),
    )


@dataclass
class SnapshotEnsemble:
    """Several checkpoints evaluated together: the mean of their class probabilities."""

    members: list[tuple[str, np.ndarray]]  # (checkpoint file name, [N, C] probabilities)
    probs: np.ndarray  # [N, C] the mean probabilities
    member_accuracy: list[float]
    accuracy: float  # of the mean probabilities

    @property
    def beats_best_member(self) -> bool:
        return self.accuracy > max(self.member_accuracy)

    def summary(self) -> dict[str, Any]:
        """The ``ensemble`` entry of metrics.json / demo.json."""
        return {
            "members": [name for name, _ in self.members],
            "member_accuracy": self.member_accuracy,
            "accuracy": self.accuracy,
            "beats_best_member": self.beats_best_member,
        }

    def rows(self) -> list[list[Any]]:
        """The report's table: each member's accuracy, then the ensemble's."""
        rows: list[list[Any]] = [
            [name, acc] for (name, _), acc in zip(self.members, self.member_accuracy)
        ]
        rows.append([f"ensemble of {len(self.members)} (mean probabilities)", self.accuracy])
        return rows


def snapshot_ensemble(
    checkpoints: Sequence[tuple[Path, dict[str, Any]]],
    images: torch.Tensor,
    y_true: np.ndarray,
    config: Any = None,
) -> SnapshotEnsemble:
    """Evaluate classifier ``checkpoints`` (path, checked record) on ``images`` ([N, C, H, W]
    float, on the device to compute on) against ``y_true`` ([N] class indices): each one's
    probabilities, and the accuracy of their mean. ``config``: the TrainConfig whose
    evaluation settings (batch, TTA) apply; None: each checkpoint's own."""
    import numpy as np

    from tinyvision.metrics import accuracy_score
    from tinyvision.train.classify import TrainConfig, model_from_checkpoint

    if not checkpoints:
        raise ValueError("checkpoints must hold at least one checkpoint, got none")
    members = []
    for path, record in checkpoints:
        model = model_from_checkpoint(record, str(path)).to(images.device)
        settings = config if config is not None else TrainConfig.from_dict(record["config"])
        members.append(
            (Path(path).name, probabilities(model, record["mean"], record["std"], images, settings))
        )
    mean = np.mean([p for _, p in members], axis=0)
    accuracies = [float(accuracy_score(y_true, p.argmax(axis=1))) for _, p in members]
    return SnapshotEnsemble(
        members, mean, accuracies, float(accuracy_score(y_true, mean.argmax(axis=1)))
    )


def train_classify_job(
    job: TrainJob, ctx: Any, data: tuple[Any, Any], progress: Any = None
) -> TrainedRun:
    """Build the model (fine-tuned from ``job.weights``), train it on ``data`` (the ``(train,
    test)`` :class:`~tinyvision.data.dataset.ImageDataset` pair, before upscaling) with
    ``progress`` as the engine's callback (closed at the end); rank 0 writes the
    checkpoints, an earlier run's set aside meanwhile and put back if this one fails."""
    import torch

    from tinyvision.nn.classifier import build_classifier
    from tinyvision.train.classify import train_classifier
    from tinyvision.train.engine import transfer_weights

    train_set, test_set = data
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
    result = in_run_folder(
        job.out,
        lambda: train_classifier(
            model,
            train_set,
            job.config,
            val=test_set,
            ctx=ctx,
            out_dir=job.out,
            resume=job.resume,
            meta=meta,
            callback=progress,
        ),
        fresh=job.resume is None,
        main=ctx.is_main,
        progress=progress,
    )
    return TrainedRun(job, result, train_set, test_set)


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


def probabilities(
    model: torch.nn.Module, mean: Any, std: Any, images: torch.Tensor, config: Any
) -> np.ndarray:
    """``[N, C]`` float64 class probabilities of ``model`` on ``images`` ([N, C, H, W]),
    normalised by ``mean``/``std``, with the evaluation settings of ``config``."""
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


def evaluate_classify_run(run: TrainedRun, device: torch.device) -> Any:
    """Evaluate a finished run on its test split and write the report into its folder:
    the snapshot ensemble of its restarts cycles, else ``best.pt``, else the last weights."""
    from tinyvision.report.training import write_classifier_report

    job, result, out = run.job, run.result, run.job.out
    images = run.test.float_images(device)
    y_true = run.test.labels.numpy()
    # Exactly this run's snapshots, in cycle order (snapshot_2 before snapshot_10).
    cycles = job.config.cycles if job.config.schedule == "restarts" else 0
    snapshots = [out / f"snapshot_{k}.pt" for k in range(1, cycles + 1)]
    ensemble = None
    if len(snapshots) > 1:
        records = [(path, _snapshot_of_run(path, job)) for path in snapshots]
        ensemble = snapshot_ensemble(records, images, y_true, job.config)
        evaluated: dict[str, Any] = {
            "evaluated": f"snapshot ensemble of {len(snapshots)} (mean probabilities)",
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
    final = result.best_model if result.best_model is not None else result.model
    probs = (
        ensemble.probs
        if ensemble is not None
        else probabilities(final, result.mean, result.std, images, job.config)
    )
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
    return write_classifier_report(
        y_true,
        probs,
        run.test.classes,
        out,
        title=f"{job.model} on {job.data}",
        extra=extra,
        ensemble=ensemble,
        run_dir=out,
    )


# ----------------------------------------------------------------------------------------
# The detector
# ----------------------------------------------------------------------------------------


@dataclass
class DetectJob:
    """A training run, from the command line or from a checkpoint."""

    data: str  # "shapes" or the path of a data.yaml
    shapes: dict[str, Any] | None  # ShapesConfig values when data is shapes
    config: Any  # DetectTrainConfig
    width: int
    levels: int
    out: Path
    seed: int
    resume: dict[str, Any] | None = None
    shapes_folder: str = SHAPES  # folder of the shapes set under the data folder
    data_dir: str | None = None  # where the shapes set lives (None: the default, data)
    weights: dict[str, Any] | None = None  # --weights: a checkpoint record to fine-tune from
    weights_path: str = ""


def default_detect_out(data: str) -> Path:
    """``runs/detect/shapes`` or ``runs/detect/<stem of the data.yaml>``."""
    return Path(DETECT_OUT) / (SHAPES if data == SHAPES else Path(data).stem)


def detect_job(
    data: str,
    config: Any,
    *,
    width: int = 16,
    levels: int = 2,
    out: str | os.PathLike[str] | None = None,
    train_images: int | None = None,
    val_images: int | None = None,
    data_dir: str | None = None,
    weights: str | None = None,
) -> DetectJob:
    """A new detector run of ``config`` (a DetectTrainConfig) on ``data``: ``"shapes"``
    (``train_images``/``val_images`` generated at ``config.img_size``) or a data.yaml."""
    check_val_every(config.val_every, config.epochs)
    require_logging(config)
    shapes = None
    if data == SHAPES:
        from tinyvision.data.shapes import ShapesConfig

        # objects scale with the image: 12-52 px at the default 128, at least 4 px (the
        # generator's smallest: 4-13 px at 32)
        scale = config.img_size / ShapesConfig.image_size
        shapes = dataclasses.asdict(
            ShapesConfig(
                train=TRAIN_IMAGES if train_images is None else train_images,
                val=VAL_IMAGES if val_images is None else val_images,
                image_size=config.img_size,
                min_size=max(ShapesConfig.min_size * scale, 4.0),
                max_size=ShapesConfig.max_size * scale,
            )
        )
    record = weights_checkpoint(weights, "detector")
    return DetectJob(
        data,
        shapes,
        config,
        width,
        levels,
        Path(out) if out else default_detect_out(data),
        config.seed,
        data_dir=data_dir,
        weights=record,
        weights_path=str(weights or ""),
    )


def resumed_detect_job(
    path: Path, record: dict[str, Any], out: str | None, data_dir: str | None
) -> DetectJob:
    """The detector run the checkpoint ``record`` (read from ``path``) continues."""
    from tinyvision.train.detect import DetectTrainConfig

    config = DetectTrainConfig.from_dict(record["config"])
    require_logging(config)
    return DetectJob(
        data=str(record["data"]),
        shapes=record.get("shapes"),
        config=config,
        width=int(record["detector"]["width"]),
        levels=int(record["detector"]["levels"]),
        out=Path(out) if out else path.parent,
        seed=int(record.get("seed", 0)),
        resume=record,
        data_dir=data_dir or record.get("data_dir"),
    )


def load_detect_data(job: DetectJob, ctx: Any, skip_bad: bool) -> tuple[Any, Any, Path]:
    """Generate the shapes set if needed (rank 0), read both splits (bad labels warn with
    :class:`~tinyvision.data.formats.BadLabelsWarning` when ``skip_bad``), decode the
    images at the run's size: ``(train, val, data.yaml path)``."""
    from tinyvision.data.formats import read_yolo
    from tinyvision.data.loader import load_images
    from tinyvision.data.shapes import ShapesConfig, make_shapes
    from tinyvision.train.distributed import barrier

    if job.data == SHAPES:
        assert job.shapes is not None
        yaml_path = Path(job.data_dir or "data") / job.shapes_folder / "data.yaml"
        if ctx.is_main:
            yaml_path = make_shapes(yaml_path.parent, ShapesConfig(**job.shapes))
        barrier(ctx)
    else:
        yaml_path = Path(job.data)
    loaded = []
    for split in ("train", "val"):
        dataset = read_yolo(yaml_path, split, skip_bad=skip_bad)
        if dataset.num_images == 0:
            raise UserError(f"{yaml_path}: the {split} split has no images")
        images = load_images(dataset, job.config.img_size, skip_bad=skip_bad)
        if images.skipped and ctx.is_main:
            print(
                f"tinyvision: warning: {split}: skipped {len(images.skipped)} unreadable "
                f"image(s); first: {images.skipped[0]}",
                file=sys.stderr,
            )
        loaded.append(images)
    return loaded[0], loaded[1], yaml_path


def _check_detect_data(job: DetectJob, ctx: Any, train: Any, val: Any, yaml_path: Path) -> None:
    """Refuse a training split without objects; print what the data holds (rank 0)."""
    names = list(train.dataset.category_names)
    objects = sum(lab.shape[0] for lab in train.labels)
    if objects == 0:  # YOLOv5: "No labels found ... Can not train without labels"
        raise UserError(
            f"{yaml_path}: no objects in the labels of the {len(train.images)} training "
            "images (are the label files missing?): nothing to train on"
        )
    if not ctx.is_main:
        return
    print(
        f"data: {yaml_path} ({len(train.images)} training images with {objects} "
        f"objects, {len(val.images)} validation images, {len(names)} classes: "
        f"{', '.join(names)})"
    )
    if not any(lab.shape[0] for lab in val.labels):
        print(
            f"tinyvision: warning: {yaml_path}: no objects in the labels of the "
            "validation images: the mAP will be undefined (-1)",
            file=sys.stderr,
        )
    if job.resume is not None and int(job.resume["epoch"]) >= job.config.epochs:
        print(
            f"{job.out / 'last.pt'}: the run is already complete (all "
            f"{job.config.epochs} epochs trained); evaluating it again"
        )


def _build_detector(job: DetectJob, ctx: Any, train: Any) -> Any:
    """The run's detector: anchors (rank 0's, broadcast), seeded weights, ``--weights``."""
    import torch

    from tinyvision.nn.detector import DetectorConfig, TinyDetector
    from tinyvision.train.engine import transfer_weights

    anchors = _anchors(job, train) if ctx.is_main or job.resume else None
    if ctx.distributed:  # every rank trains with rank 0's anchors
        shared = [anchors]
        torch.distributed.broadcast_object_list(shared, src=0)
        anchors = shared[0]
    torch.manual_seed(job.seed)
    names = list(train.dataset.category_names)
    detector = DetectorConfig(len(names), width=job.width, levels=job.levels, anchors=anchors)
    model = TinyDetector(detector, image_size=job.config.img_size)
    if job.weights is not None:
        record = job.weights
        state = record["ema"]["weights"] if "ema" in record else record["model"]
        # the run keeps its own anchors (and their strides)
        moved = transfer_weights(model, state, exclude=("anchors", "strides"))
        if ctx.is_main:
            print(moved.summary(job.weights_path))
    return model


def train_detect_job(
    job: DetectJob,
    ctx: Any,
    data: tuple[Any, Any, Path],
    *,
    conf: float = 0.25,
    progress: Any = None,
) -> Any:
    """Fit the anchors, build and train the detector on ``data`` (from
    :func:`load_detect_data`) with ``progress`` as the engine's callback; rank 0 evaluates
    ``best.pt`` and writes the report. Returns the evaluation (None on other ranks)."""
    from tinyvision.train.detect import train_detector

    train, val, yaml_path = data
    _check_detect_data(job, ctx, train, val, yaml_path)
    model = _build_detector(job, ctx, train)
    meta = {
        "data": job.data,
        "data_dir": job.data_dir or "data",
        "shapes": job.shapes,
        "names": list(train.dataset.category_names),
        "seed": job.seed,
        "img_size": job.config.img_size,
    }
    result = in_run_folder(
        job.out,
        lambda: train_detector(
            model,
            train.images,
            train.labels,
            job.config,
            val=val,
            ctx=ctx,
            out_dir=job.out,
            resume=job.resume,
            meta=meta,
            callback=progress,
        ),
        fresh=job.resume is None,
        main=ctx.is_main,
        progress=progress,
    )
    if not ctx.is_main:
        return None
    return report_detect_run(job, result, val, yaml_path, conf)


def _anchors(job: DetectJob, train: Any) -> Any:
    """Autoanchor for a new run (printed); a resumed run keeps its checkpoint's anchors."""
    import math

    import numpy as np

    from tinyvision.nn.detector import DEFAULT_ANCHORS
    from tinyvision.train.detect import check_anchors

    if job.resume is not None:
        return tuple(tuple(a) for a in job.resume["detector"]["anchors"])
    default = np.array(DEFAULT_ANCHORS[: job.levels], dtype=np.float64).reshape(-1, 2)
    check = check_anchors(
        train.labels,
        default,
        img_size=job.config.img_size,
        anchor_t=job.config.loss.anchor_t,
        seed=job.seed,
    )
    if not math.isfinite(check.bpr):  # no boxes (a run with 0 objects stops before)
        print("anchors: no training boxes to check the default anchors against, kept")
    elif check.recomputed:
        shown = ", ".join(f"{w:.0f}x{h:.0f}" for w, h in check.anchors)
        print(
            f"anchors: best possible recall {check.bpr:.4f} of the default anchors < 0.98; "
            f"k-means anchors [{shown}] reach {check.new_bpr:.4f}"
        )
    else:
        print(f"anchors: best possible recall {check.bpr:.4f} of the default anchors >= 0.98, kept")
    per_level = check.anchors.reshape(job.levels, -1)
    return tuple(tuple(float(v) for v in level) for level in per_level)


def loading_summary(result: Any) -> dict[str, float]:
    """Data-loading cost against the training step, from a :class:`DetectTrainResult`,
    over the whole run (the calls before a resume included)."""
    total_steps = int(result.total("steps"))
    steps = max(total_steps, 1)
    step = result.total("train_seconds") / steps
    build = result.total("data_build_seconds") / steps
    wait = result.total("data_wait_seconds") / steps
    return {
        "steps": total_steps,
        "step_seconds": step,
        "build_seconds_per_batch": build,
        "wait_seconds_per_batch": wait,
        "build_share_of_step": build / step if step else 0.0,
        "wait_share_of_step": wait / step if step else 0.0,
    }


def report_detect_run(job: DetectJob, result: Any, val: Any, yaml_path: Path, conf: float) -> Any:
    """Evaluate ``best.pt`` (else the last EMA weights) on the validation split; print the
    run's summary and write ``metrics.json`` and the report."""
    from tinyvision.report.training import write_detector_run_report
    from tinyvision.train.detect import evaluate_detector

    img_size = job.config.img_size
    best = result.best_model is not None
    final = result.best_model if best else result.model
    evaluation, _ = evaluate_detector(final, val.dataset, val.images, val.scales, img_size)
    loading = loading_summary(result)
    resumed = ""
    if result.start_epoch and result.steps:
        resumed = f"; resumed after epoch {result.start_epoch} ({result.steps} steps now)"
    print(
        f"trained in {result.total('train_seconds'):.1f} s ({loading['steps']} steps of "
        f"{loading['step_seconds'] * 1e3:.0f} ms; building a batch took "
        f"{loading['build_seconds_per_batch'] * 1e3:.0f} ms in the loader threads = "
        f"{loading['build_share_of_step']:.0%} of a step, the step waited "
        f"{loading['wait_share_of_step']:.1%}{resumed}) -> {job.out / 'last.pt'}"
    )
    print_best(result, job.out, "fitness")
    plot_results(job.out)
    if best:
        print(f"evaluating best.pt (epoch {result.best_epoch} of {job.config.epochs}):")
    subtitle = (
        f"tiny detector (width {job.width}) on {job.data}, {job.config.epochs} epochs at "
        f"{img_size} px; " + (f"best.pt (epoch {result.best_epoch}); " if best else "")
    )
    write_detector_run_report(
        evaluation,
        job.out,
        _detect_training_record(job, result, yaml_path, loading),
        subtitle=subtitle + "validation split",
        confidence=conf,
    )
    return evaluation


def _detect_training_record(
    job: DetectJob, result: Any, yaml_path: Path, loading: dict[str, float]
) -> dict[str, Any]:
    """The ``training`` entry of a detector run's metrics.json."""
    best = result.best_model is not None
    return {
        "data": job.data,
        "data_yaml": str(yaml_path),
        "epochs": job.config.epochs,
        "img_size": job.config.img_size,
        "width": job.width,
        "levels": job.levels,
        "seed": job.seed,
        "focal": job.config.loss.focal,
        "train_seconds": round(result.total("train_seconds"), 3),  # every call of a resumed run
        "val_seconds": round(result.total("val_seconds"), 3),  # of which validation
        "epoch_losses": result.epoch_losses,
        "data_loading": loading,
        "anchors": [list(a) for a in result.model.config.anchors],
        "checkpoint": str(job.out / ("best.pt" if best else "last.pt")),
        "evaluated": f"best.pt (epoch {result.best_epoch})" if best else "last.pt",
        "best_epoch": result.best_epoch,
        "last_checkpoint": str(job.out / "last.pt"),
    }
