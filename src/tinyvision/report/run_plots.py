"""Figures of a training run: the per-epoch curves of ``results.csv`` (``results.png``) and
the label statistics of a detection training set (``labels.png``), as YOLOv5 draws them.

``results.csv`` has one row per epoch and an ``epoch`` column; every other numeric column
becomes one small plot against the epoch (empty cells and ``nan`` are gaps).
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from tinyvision._errors import UserError
from tinyvision._fileio import remove_stale_temps
from tinyvision._validate import check_array_list, describe
from tinyvision.report.html import HtmlReport
from tinyvision.report.plots import save_png

__all__ = [
    "RUN_IMAGES",
    "add_training_section",
    "labels_figure",
    "read_results_csv",
    "results_figure",
    "write_labels_png",
    "write_results_png",
]


def read_results_csv(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The columns of a run's ``results.csv`` as float64 arrays (empty cells are NaN).

    Raises :class:`~tinyvision._errors.UserError` naming the file when it cannot be read,
    has no ``epoch`` column or holds a cell that is not a number."""
    source = Path(path)
    try:
        with source.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {source}: {exc}") from None
    if not rows:
        raise UserError(f"{source} is empty (expected a header row with an 'epoch' column)")
    header = [name.strip() for name in rows[0]]
    if "epoch" not in header:
        raise UserError(f"{source} has no 'epoch' column (header: {', '.join(header)})")
    columns: dict[str, list[float]] = {name: [] for name in header}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise UserError(f"{source}:{line}: {len(row)} cells, the header has {len(header)}")
        for name, cell in zip(header, row):
            text = cell.strip()
            try:
                columns[name].append(float(text) if text else math.nan)
            except ValueError:
                raise UserError(f"{source}:{line}: {name} is not a number: {text!r}") from None
    return {name: np.asarray(values, dtype=np.float64) for name, values in columns.items()}


def results_figure(columns: Mapping[str, Sequence[float]], *, title: str = "") -> Figure:
    """One small plot per column against ``epoch`` (columns that are all NaN left out).

    Args:
        columns: name -> values per epoch, with an ``epoch`` entry (what
            :func:`read_results_csv` returns).
    """
    if "epoch" not in columns:
        raise ValueError(f"columns must have an 'epoch' entry, got {sorted(columns)}")
    epoch = np.asarray(columns["epoch"], dtype=np.float64)
    shown = {}
    for name, values in columns.items():
        array = np.asarray(values, dtype=np.float64)
        if name == "epoch":
            continue
        if array.shape != epoch.shape:
            raise ValueError(f"column {name!r} has {array.size} values, 'epoch' has {epoch.size}")
        if np.isfinite(array).any():
            shown[name] = array
    count = max(len(shown), 1)
    cols = min(count, 5)
    rows = math.ceil(count / cols)
    fig = Figure(figsize=(3.0 * cols, 2.5 * rows))
    for index, (name, array) in enumerate(shown.items()):
        ax = fig.add_subplot(rows, cols, index + 1)
        ax.plot(epoch, array, marker="." if len(epoch) < 30 else None, linewidth=1.4)
        finite = np.isfinite(array)
        if finite.sum() >= 5:  # a smoothed trend, as YOLOv5 draws it
            smooth = np.convolve(array[finite], np.ones(3) / 3, mode="same")
            smooth[[0, -1]] = array[finite][[0, -1]]
            ax.plot(epoch[finite], smooth, linestyle=":", color="orange", linewidth=1.2)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    if not shown:
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no values yet", ha="center", va="center")
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def write_results_png(
    csv_path: str | os.PathLike[str], png_path: str | os.PathLike[str] | None = None
) -> Path:
    """Draw ``results.csv`` into ``results.png`` (beside it by default), atomically."""
    source = Path(csv_path)
    target = source.with_suffix(".png") if png_path is None else Path(png_path)
    return save_png(results_figure(read_results_csv(source)), target)


def labels_figure(
    classes: object,
    boxes_xywhn: object,
    names: Sequence[str],
    *,
    max_points: int = 20000,
) -> Figure:
    """Class counts, box centres and box sizes of a detection training set (``labels.png``):
    what people look at to catch label mistakes (a class with no boxes, boxes piled in one
    corner, sizes off by a factor).

    Args:
        classes: ``[N]`` class index of every box.
        boxes_xywhn: ``[N, 4]`` ``(cx, cy, w, h)`` normalised to the image, in [0, 1].
        names: class names (``len(names)`` bars, zero counts shown).
        max_points: at most this many boxes in the scatter plots (an even subsample).
    """
    cls = np.asarray(classes)
    boxes = np.asarray(boxes_xywhn, dtype=np.float64)
    if cls.ndim != 1 or cls.dtype.kind not in "iu":
        raise ValueError(f"classes must be a 1-D integer array, got {cls.dtype} {cls.shape}")
    if boxes.shape != (len(cls), 4):
        raise ValueError(f"boxes_xywhn must be [{len(cls)}, 4], got {boxes.shape}")
    if len(names) == 0:
        raise ValueError("names must name at least one class, got none")
    if len(cls) and (cls.min() < 0 or cls.max() >= len(names)):
        raise ValueError(f"classes must be in [0, {len(names)}), got {cls.min()}..{cls.max()}")
    if not np.isfinite(boxes).all():
        raise ValueError("boxes_xywhn must be finite, got NaN or inf")
    counts = np.bincount(cls.astype(np.int64), minlength=len(names))
    step = max(1, math.ceil(len(cls) / max_points))
    sample = boxes[::step]
    fig = Figure(figsize=(13.0, 4.0))
    ax = fig.add_subplot(1, 3, 1)
    ax.bar(range(len(names)), counts, color="#4c72b0")
    ax.set_xticks(range(len(names)), list(names), rotation=45 if len(names) > 6 else 0)
    ax.set_ylabel("boxes")
    ax.set_title(f"{len(cls)} boxes per class")
    ax = fig.add_subplot(1, 3, 2)
    ax.scatter(sample[:, 0], sample[:, 1], s=3, alpha=0.3, color="#4c72b0")
    ax.set_xlim(0, 1)
    ax.set_ylim(1, 0)  # image coordinates: y grows downwards
    ax.set_xlabel("x centre")
    ax.set_ylabel("y centre")
    ax.set_title("box centres")
    ax = fig.add_subplot(1, 3, 3)
    ax.scatter(sample[:, 2], sample[:, 3], s=3, alpha=0.3, color="#dd8452")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("width")
    ax.set_ylabel("height")
    ax.set_title("box sizes (fraction of the image)")
    for ax in fig.axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def write_labels_png(
    path: str | os.PathLike[str],
    images: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    names: Sequence[str],
) -> Path:
    """Draw :func:`labels_figure` of a detection training set held as the trainer holds it
    into ``path`` (``labels.png``), atomically; return the path.

    Args:
        images: per image ``uint8[h, w, 3]`` (only their sizes are used).
        labels: per image ``[N, 5]`` ``(class, x1, y1, x2, y2)`` in that image's pixels.
        names: the class names.
    """
    if isinstance(images, (np.ndarray, str, bytes)) or not isinstance(images, Sequence):
        raise TypeError(f"images must be a sequence of [h, w, 3] arrays, got {describe(images)}")
    boxes = check_array_list(
        labels, "labels", length=len(images), shape=(None, 5), dtype=np.float64
    )
    rows = []
    for i, (image, lab) in enumerate(zip(images, boxes)):
        shape = getattr(image, "shape", ())
        if len(shape) != 3 or min(shape[:2]) < 1:
            raise ValueError(f"images[{i}] must be an [h, w, 3] array, got shape {shape}")
        height, width = shape[:2]
        x1, y1, x2, y2 = lab[:, 1], lab[:, 2], lab[:, 3], lab[:, 4]
        xywhn = np.stack([(x1 + x2) / 2 / width, (y1 + y2) / 2 / height,
                          (x2 - x1) / width, (y2 - y1) / height], axis=1)  # fmt: skip
        rows.append(np.concatenate([lab[:, :1], xywhn], axis=1))
    table = np.concatenate(rows) if rows else np.zeros((0, 5))
    classes = table[:, 0]
    fractional = classes != np.round(classes)
    if fractional.any():
        raise ValueError(f"labels' classes must be whole numbers, got {classes[fractional][0]}")
    target = Path(path)
    remove_stale_temps(target.parent, [target.name])
    return save_png(labels_figure(classes.astype(np.int64), table[:, 1:], names), target)


# A run folder's pictures, in the order a training report shows them.
RUN_IMAGES = (
    ("results.png", "Per-epoch training losses, validation losses and metrics (results.csv)"),
    ("labels.png", "Training labels: boxes per class, box centres, box sizes"),
    ("train_batch0.jpg", "The first training batch as the model sees it, with its targets"),
)


def add_training_section(report: HtmlReport, run_dir: str | os.PathLike[str]) -> list[str]:
    """Add a "Training" section with the run folder's ``results.png``, ``labels.png`` and
    ``train_batch0.jpg`` (those that exist) to ``report``; return the names added."""
    folder = Path(run_dir)
    present = [(name, caption) for name, caption in RUN_IMAGES if (folder / name).is_file()]
    if present:
        report.add_section("Training")
        for name, caption in present:
            report.add_image(folder / name, caption=caption)
    return [name for name, _ in present]
