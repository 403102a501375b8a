"""`tinyvision classify train|eval|export`: train an image classifier, evaluate one, export it.

``train`` loads a data set (the offline digits by default, CIFAR-10 from its official
files, or a folder of one's own images: ``_classify_folder``), builds the fast recipe's
network or the notes' ToyNet, trains it (checkpoints in ``--out``, ``--resume`` to
continue) and ends with the evaluation that ``eval`` does:
``metrics.json``, PNG plots, ``report.html`` and ``predictions.csv`` in the output folder,
and a short table on stdout. The flags of the training settings are read from
:class:`~tinyvision.train.classify.TrainConfig` (``_train_flags``); what a run does lives in
:mod:`tinyvision.train.runs`: this module parses and prints.
"""

from __future__ import annotations

import argparse
import functools
import os
from pathlib import Path
from typing import Any

from tinyvision._cli import _classify_folder, _train_flags
from tinyvision._cli._checks import check_out, refuse_overwrite
from tinyvision._cli._flags import SEED_MAX, seed
from tinyvision._errors import UserError

CONFIG = ("tinyvision.train.classify", "TrainConfig")  # the flags' dataclass
OVERRIDES = ("epochs", "batch_size", "lr", "schedule", "cycles")  # flags from TrainConfig
ENGINE_OPTIONS = ("val_every", "patience", "freeze", "weights")  # a resumed run keeps its own
# TrainConfig's bool fields the recipe decides (the others become flags: --amp, ...)
RECIPE_BOOLS = ("nesterov", "flip", "tta_flip", "drop_last", "channels_last")
DATA_CHOICES = ("digits", "cifar10")
DEFAULT_OUT = "runs/classify"  # train.runs.CLASSIFY_OUT (not imported: the parser stays fast)
# The final defaults of the flags that neither the command line nor --config gave.
DEFAULTS: dict[str, Any] = {"seed": 0, "device": "auto", "data_dir": "data", "download": False}


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
    _train_flags.add_config_argument(train)
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
    notes = {
        "schedule": "'restarts' saves a snapshot at the end of each cycle",
        "cycles": "at most the epochs; with --schedule restarts 3, or 2, whichever divides "
        "the epochs",
    }
    _train_flags.add_config_flags(
        train, *CONFIG, OVERRIDES, bools=False, recipe_defaults=True, notes=notes
    )
    add("--seed", type=seed, help=f"seed of weights, order and augmentation, 0..{SEED_MAX} (0)")
    add("--device", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    _train_flags.add_threads_argument(train)
    add("--out", help=f"output folder (default {DEFAULT_OUT}/DATA-MODEL)")
    _train_flags.add_resume_argument(train)
    _train_flags.add_engine_arguments(train, *CONFIG)
    _train_flags.add_config_flags(train, *CONFIG, (), exclude=RECIPE_BOOLS)  # --amp, ...
    _add_data_arguments(train, config=True)
    _classify_folder.add_folder_arguments(train)
    train.set_defaults(func=functools.partial(run_train, parser=train))


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
    _train_flags.add_threads_argument(evaluate)
    evaluate.add_argument("--out", help="output folder (default: eval/ beside the input)")
    _add_data_arguments(evaluate)
    _classify_folder.add_folder_arguments(evaluate, evaluating=True)
    evaluate.set_defaults(func=run_eval)


def _add_data_arguments(parser: argparse.ArgumentParser, *, config: bool = False) -> None:
    """``--data-dir`` and ``--download``; with ``config`` both default to None (filled from
    ``--config`` or :data:`DEFAULTS`)."""
    parser.add_argument(
        "--data-dir",
        default=None if config else "data",
        help="CIFAR-10: folder with cifar-10-python.tar.gz or cifar-10-batches-py/ (default data)",
    )
    parser.add_argument(
        "--download",
        action="store_true",
        default=None if config else False,
        help="CIFAR-10: download it if it is missing",
    )


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


def run_train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from tinyvision._cli._progress import TrainProgress
    from tinyvision.train import runs
    from tinyvision.train.distributed import cleanup_distributed, setup_distributed

    _train_flags.merge_config(args, parser, DEFAULTS)  # before any data is read
    _train_flags.set_threads(args.threads)
    job = _job(args, _train_flags.setting_names(parser))
    ctx = setup_distributed(args.device)
    try:
        data = load_data(
            job.data, data_dir=args.data_dir, download=args.download, folder=job.data_options
        )
        if ctx.is_main:  # after the data (its errors leave nothing behind), before the work
            _classify_folder.check_out_not_in_folder(job.out, job.data)
            check_out(job.out)
        progress = TrainProgress(job.label or f"{job.data}/{job.model}", enabled=ctx.is_main)
        run = runs.train_classify_job(job, ctx, data, progress)
        if ctx.is_main:
            seconds = run.result.train_seconds
            print(f"trained {job.model} on {job.data} in {seconds:.1f}s -> {job.out / 'last.pt'}")
            runs.print_best(run.result, job.out, "top-1")
            if job.resume is None:
                resolved = {"data": job.data, "model": job.model, "recipe": job.variant}
                settings = _train_flags.resolved_settings(args, parser, job.config, resolved)
                runs.write_run_config(job.out, settings)
            runs.plot_results(job.out)
            runs.evaluate_classify_run(run, ctx.device)
    finally:
        cleanup_distributed(ctx)
    return 0


def _job(args: argparse.Namespace, settings: list[str]) -> Any:
    """The training job: the recipe with the flags' changes, or the resumed run (which
    refuses the flags of ``settings``: it keeps its own)."""
    from tinyvision.train import runs
    from tinyvision.train.classify import CHECKPOINT_KIND

    if args.resume is not None:
        refused = [*settings, *ENGINE_OPTIONS]
        given = [f"--{name.replace('_', '-')}" for name in refused if getattr(args, name, None)]
        if given:
            raise UserError(f"--resume continues the run as it was set up; drop {' '.join(given)}")
        path, record = runs.resume_checkpoint(args.resume, args.out, CHECKPOINT_KIND, None)
        wanted = {"model": args.model, "data": args.data, "recipe": args.recipe, "seed": args.seed}
        return runs.resumed_classify_job(path, record, args.out, wanted)
    model, data, variant = args.model or "fast", args.data or "digits", args.recipe or "tuned"
    changes = {name: getattr(args, name) for name in settings if getattr(args, name) is not None}
    return runs.classify_job(
        model,
        data,
        variant,
        seed=args.seed,
        out=args.out,
        changes=changes,
        data_options=_classify_folder.folder_options(args, data),
        weights=args.weights,
    )


# ----------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------


def run_eval(args: argparse.Namespace) -> int:
    _train_flags.set_threads(args.threads)
    if args.predictions:
        from tinyvision.report.training import write_classifier_report
        from tinyvision.train.evaluate import read_predictions_csv

        out = Path(args.out) if args.out else Path(args.predictions).parent / "eval"
        refuse_overwrite(eval_outputs(out), [("--predictions", Path(args.predictions))])
        y, scores, classes = read_predictions_csv(args.predictions)
        check_out(out)
        extra = {"predictions": os.fspath(args.predictions)}
        write_classifier_report(y, scores, classes, out, title="Classifier evaluation", extra=extra)
        return 0
    evaluate_checkpoints(args)
    return 0


def eval_outputs(out: Path) -> list[tuple[str, Path]]:
    """The files ``classify eval`` writes into ``out``, as ``("--out", path)`` pairs."""
    from tinyvision.train.evaluate import EVALUATION_FILES

    return [("--out", out / name) for name in (*EVALUATION_FILES, "predictions.csv")]


def _read_checkpoints(paths: list[str]) -> list[tuple[Path, dict[str, Any]]]:
    """The classifier checkpoints of ``--checkpoint``, checked to share their data."""
    from tinyvision.train.checkpoint import load_checkpoint
    from tinyvision.train.classify import CHECKPOINT_KIND, check_classifier_record

    records = [(Path(p), load_checkpoint(p, kind=CHECKPOINT_KIND)) for p in paths]
    for path, record in records:
        check_classifier_record(record, str(path))
    first_path, first = records[0]
    for path, record in records[1:]:
        for key in ("classes", "image_shape", "upscale"):
            if record.get(key) != first.get(key):
                raise UserError(
                    f"{path} and {first_path} were trained on different data ({key} differ)"
                )
    return records


def evaluate_checkpoints(args: argparse.Namespace) -> Any:
    """Evaluate one checkpoint, or the ensemble of several, on a data set's test split."""
    from tinyvision.report.training import write_classifier_report
    from tinyvision.train.distributed import resolve_device
    from tinyvision.train.runs import snapshot_ensemble

    out = Path(args.out) if args.out else Path(args.checkpoint[0]).parent / "eval"
    refuse_overwrite(eval_outputs(out), [("--checkpoint", Path(p)) for p in args.checkpoint])
    device = resolve_device(args.device)
    records = _read_checkpoints(args.checkpoint)
    first_path, first = records[0]
    data = args.data or first.get("data")
    if not isinstance(data, str) or (data not in DATA_CHOICES and not Path(data).is_dir()):
        raise UserError(f"{first_path} names no known data set or existing folder; pass --data")
    options = _classify_folder.folder_options(args, data, first)
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
    y_true = test.labels.numpy()
    ensemble = snapshot_ensemble(records, test.float_images(device), y_true)
    one = len(records) == 1
    extra = {
        "evaluated": os.fspath(first_path) if one else f"ensemble of {len(records)} checkpoints",
        "checkpoints": [os.fspath(p) for p, _ in records],
        "data": data,
    }
    return write_classifier_report(
        y_true,
        ensemble.probs,
        test.classes,
        out,
        title=f"{first.get('model_name')} on {data}" if one else f"snapshot ensemble on {data}",
        extra=extra,
        ensemble=None if one else ensemble,
    )
