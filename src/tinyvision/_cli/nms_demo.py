"""`tinyvision nms-demo`: synthetic clustered detections -> class-aware NMS -> table and PNG.

The first end-to-end demo of tinyvision (before the training systems existed): a seeded scene of
objects with many overlapping candidate boxes each, :func:`tinyvision.ops.batched_nms`, a
printed table per object and a PNG showing the kept and the suppressed boxes.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tinyvision._cli import _flags

if TYPE_CHECKING:  # imported lazily at run time: the CLI front loads every command module
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle
    from torch import Tensor

    from tinyvision.data.synthetic import DetectionScene

DEFAULT_OUT = Path("runs") / "nms-demo"
OBJECTS_MAX, PER_OBJECT_MAX, CLASSES_MAX = 200, 1000, 20


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "nms-demo",
        help="run NMS on a synthetic scene of clustered detections (table + PNG)",
        description=(
            "Draw a seeded synthetic scene of objects, each surrounded by overlapping candidate "
            "boxes as a detector emits them, run class-aware NMS, print a table per object and "
            "write a PNG of the kept and suppressed boxes."
        ),
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (%(default)s)")
    parser.add_argument(
        "--seed", type=_flags.seed, default=0, help="random seed, 0..2**32-1 (%(default)s)"
    )
    parser.add_argument(
        "--objects",
        type=_flags.int_in(1, OBJECTS_MAX),
        default=6,
        help=f"objects in the scene, 1..{OBJECTS_MAX} (%(default)s)",
    )
    parser.add_argument(
        "--per-object",
        type=_flags.int_in(1, PER_OBJECT_MAX),
        default=25,
        help=f"candidate boxes per object, 1..{PER_OBJECT_MAX} (%(default)s)",
    )
    parser.add_argument(
        "--classes",
        type=_flags.int_in(1, CLASSES_MAX),
        default=3,
        help=f"object classes, 1..{CLASSES_MAX} (%(default)s)",
    )
    parser.add_argument(
        "--iou-threshold",
        type=_flags.probability,
        default=0.5,
        help="suppress a box when IoU > this with a kept box of its class (%(default)s)",
    )
    parser.add_argument(
        "--score-threshold",
        type=_flags.probability,
        default=0.1,
        help="drop detections scoring below this before NMS (%(default)s)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from tinyvision._cli._checks import check_out
    from tinyvision.data.synthetic import clustered_detections
    from tinyvision.ops import batched_nms, box_iou
    from tinyvision.report.plots import save_png

    objects, per_object, classes = args.objects, args.per_object, args.classes
    threshold, min_score = args.iou_threshold, args.score_threshold
    check_out(args.out)

    scene = clustered_detections(
        objects, per_object, num_classes=classes, seed=args.seed, image_size=(480, 640)
    )
    candidates = torch.nonzero(scene.scores >= min_score).flatten()
    timings = []
    for _ in range(2):  # the first call also loads the compiled kernel
        start = time.perf_counter()
        kept_local = batched_nms(
            scene.boxes[candidates], scene.scores[candidates], scene.labels[candidates], threshold
        )
        timings.append((time.perf_counter() - start) * 1e3)
    keep = candidates[kept_local]

    # best ground-truth match of every kept box: one row of box_iou per kept box
    best_iou = box_iou(scene.boxes[keep], scene.objects).max(dim=1).values  # [K]

    n = scene.boxes.shape[0]
    print(
        f"tinyvision demo: {objects} objects, {n} detections, {classes} classes, seed {args.seed}"
    )
    print(
        f"score >= {min_score:g}: {candidates.numel()} candidates; batched_nms (IoU > "
        f"{threshold:g} suppresses, per class) kept {keep.numel()} in {timings[1]:.2f} ms "
        f"(first call, loading the compiled kernel: {timings[0]:.0f} ms)\n"
    )
    print(_object_table(scene, candidates, keep, best_iou))

    path = save_png(_figure(scene, candidates, keep, threshold), args.out / "nms_demo.png")
    print(f"\nwrote {path}")
    return 0


def _object_table(scene: DetectionScene, candidates: Tensor, keep: Tensor, best_iou: Tensor) -> str:
    """One row per object (and one for background boxes): candidates, kept, best match."""
    source = scene.source[candidates]
    kept_source = scene.source[keep]
    header = ("object", "class", "candidates", "kept", "top kept score", "its best GT IoU")
    rows = [header]
    groups = [(str(k), str(int(scene.object_labels[k])), k) for k in range(len(scene.objects))]
    for name, label, k in [*groups, ("background", "-", -1)]:
        mine = (kept_source == k).nonzero().flatten()  # positions in keep, by score
        top = f"{float(scene.scores[keep[mine[0]]]):.3f}" if mine.numel() else "-"
        match = f"{float(best_iou[mine[0]]):.3f}" if mine.numel() and k >= 0 else "-"
        rows.append((name, label, str(int((source == k).sum())), str(mine.numel()), top, match))
    rows.append(("total", "", str(candidates.numel()), str(keep.numel()), "", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _figure(scene: DetectionScene, candidates: Tensor, keep: Tensor, threshold: float) -> Figure:
    """Two panels: the candidates, then kept (solid, by class) vs suppressed (grey)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    height, width = scene.image_size
    kept = set(keep.tolist())
    fig = Figure(figsize=(12.0, 4.8))
    colors = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")
    panels = (("before NMS", False), (f"after NMS (IoU > {threshold:g} suppressed)", True))
    for col, (title, after) in enumerate(panels):
        ax = fig.add_subplot(1, 2, col + 1)
        for box in scene.objects.tolist():
            ax.add_patch(_rect(Rectangle, box, "black", 1.4, "--"))
        for i in candidates.tolist():
            box = scene.boxes[i].tolist()
            color = colors[int(scene.labels[i]) % len(colors)]
            if not after:
                ax.add_patch(_rect(Rectangle, box, color, 0.6, "-", alpha=0.5))
            elif i in kept:
                ax.add_patch(_rect(Rectangle, box, color, 2.0, "-"))
                ax.text(box[0], box[1], f"{float(scene.scores[i]):.2f}", fontsize=6, color=color)
            else:
                ax.add_patch(_rect(Rectangle, box, "0.6", 0.4, ":", alpha=0.6))
        shown = len(kept) if after else candidates.numel()
        ax.set_title(f"{title}: {shown} boxes", fontsize=10)
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=7)
    fig.suptitle("dashed black: objects; colour: class; grey dotted: suppressed", fontsize=9)
    return fig


def _rect(
    rectangle: type[Rectangle],
    box: list[float],
    color: str,
    width: float,
    style: str,
    alpha: float = 1.0,
) -> Rectangle:
    x1, y1, x2, y2 = box
    return rectangle(
        (x1, y1),
        x2 - x1,
        y2 - y1,
        fill=False,
        edgecolor=color,
        linewidth=width,
        linestyle=style,
        alpha=alpha,
    )
