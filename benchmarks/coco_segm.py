"""Mask (segm) and keypoint evaluation from json files: tinyvision against faster-coco-eval
1.8.0, with pycocotools 2.0.11 as the anchor for the results and for memory.

Like for like: every contender starts from the same two json files on disk, and its time
includes parsing them and building all its indexes (tinyvision: ``evaluate_detections(gt,
results, iou_type=...)``; faster-coco-eval: ``COCO(file)``, ``loadRes(file)``,
``COCOeval_faster(...).evaluate/accumulate/summarize``). One thread everywhere, one process,
the contenders alternating, best and median of N, CPU time (``time.process_time``) as the
headline and wall time beside it, the load average printed (``benchmarks/_protocol.py``).
pycocotools runs once per type against one more tinyvision run (timed the same way). The run
exits 1 when the contenders' ``stats`` differ or a reference library is missing.

Data (generated, seed 0, a COCO-val-sized set by default): ``make_coco_like(5000,
detections_per_image=100)``'s images, objects and detections, plus

* segm: each object a noisy ellipse polygon (12-28 vertices) inside its box, the crowd
  objects an uncompressed RLE of such a shape, ``area`` the mask's area; each detection a
  compressed RLE (string ``counts``) of a noisy ellipse inside its box, no ``bbox``;
* keypoints: one category (person), 17 keypoints per object placed by a shared template in
  its box with all visibility flags (0 at (0, 0), 1, 2; objects with none visible), each
  detection 17 keypoints from the template in its box, jittered.

    python benchmarks/coco_segm.py                     # ~20 minutes with pycocotools
    python benchmarks/coco_segm.py --no-pycocotools    # the ratios only
    python benchmarks/coco_segm.py --quick             # 300 images, a smoke run

Memory: the peak resident memory of one segm evaluation from the files, per tool, measured
in a fresh child process as VmHWM (and its rise over the RSS after the imports).
"""

from __future__ import annotations

import _protocol  # first: pins the thread pools before numpy loads

# isort: split
import argparse
import contextlib
import gc
import io
import json
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tinyvision.data import make_coco_like
from tinyvision.metrics import _rle

N_KEYPOINTS = 17
# Where each keypoint sits in its box (x, y in [0, 1]), roughly a standing person.
_TEMPLATE = np.array(
    [
        [0.50, 0.08], [0.45, 0.06], [0.55, 0.06], [0.40, 0.08], [0.60, 0.08],
        [0.30, 0.25], [0.70, 0.25], [0.22, 0.42], [0.78, 0.42], [0.18, 0.58],
        [0.82, 0.58], [0.38, 0.58], [0.62, 0.58], [0.38, 0.78], [0.62, 0.78],
        [0.38, 0.97], [0.62, 0.97],
    ]
)  # fmt: skip


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


def _ellipses(rng: np.random.Generator, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Noisy ellipse polygons inside ``boxes [n, 4]`` -> ``(xy float64[P, 2], starts)``,
    vertices rounded to 2 decimals as annotation tools write them."""
    k = rng.integers(12, 29, boxes.shape[0])
    starts = np.zeros(boxes.shape[0] + 1, dtype=np.int64)
    np.cumsum(k, out=starts[1:])
    owner = np.repeat(np.arange(boxes.shape[0]), k)
    step = np.arange(starts[-1]) - starts[owner]
    angle = 2 * np.pi * (step + rng.uniform(-0.3, 0.3, owner.size)) / k[owner]
    radius = rng.uniform(0.7, 1.0, owner.size)
    x, y, w, h = boxes[owner].T
    px = x + w / 2 * (1 + radius * np.cos(angle))
    py = y + h / 2 * (1 + radius * np.sin(angle))
    return np.round(np.stack([px, py], axis=1), 2), starts


def _rasterise(xy, starts, heights, widths) -> tuple[np.ndarray, np.ndarray]:
    return _rle.from_polygons(xy, starts, heights.astype(np.int64), widths.astype(np.int64))


def make_segm(gt: dict, dt: list, seed: int) -> tuple[dict, list]:
    """``gt`` and ``dt`` of :func:`make_coco_like` with segmentations (see the docstring)."""
    rng = np.random.default_rng(seed)
    size = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
    anns = gt["annotations"]
    g_hw = np.array([size[a["image_id"]] for a in anns], dtype=np.int64).reshape(-1, 2)
    g_xy, g_starts = _ellipses(rng, np.array([a["bbox"] for a in anns]).reshape(-1, 4))
    g_counts, g_offsets = _rasterise(g_xy, g_starts, g_hw[:, 0], g_hw[:, 1])
    g_area = _rle.area(g_counts, g_offsets)
    segm_anns = []
    for i, a in enumerate(anns):
        if a["iscrowd"]:
            seg: Any = {
                "size": g_hw[i].tolist(),
                "counts": g_counts[g_offsets[i] : g_offsets[i + 1]].tolist(),
            }
        else:
            seg = [g_xy[g_starts[i] : g_starts[i + 1]].ravel().tolist()]
        segm_anns.append({**a, "segmentation": seg, "area": float(g_area[i])})
    d_hw = np.array([size[d["image_id"]] for d in dt], dtype=np.int64).reshape(-1, 2)
    d_xy, d_starts = _ellipses(rng, np.array([d["bbox"] for d in dt]).reshape(-1, 4))
    d_counts, d_offsets = _rasterise(d_xy, d_starts, d_hw[:, 0], d_hw[:, 1])
    buf, s = _rle.counts_to_strings(d_counts, d_offsets)
    text = buf.tobytes().decode("ascii")
    results = [
        {
            "image_id": d["image_id"],
            "category_id": d["category_id"],
            "segmentation": {"size": d_hw[j].tolist(), "counts": text[s[j] : s[j + 1]]},
            "score": d["score"],
        }
        for j, d in enumerate(dt)
    ]
    return {**gt, "annotations": segm_anns}, results


def _keypoints(rng: np.random.Generator, boxes: np.ndarray, noise: float) -> np.ndarray:
    """``float64[n, 17, 2]`` keypoints of the template in ``boxes``, jittered by ``noise``
    (a fraction of the box size), 2 decimals."""
    wh = boxes[:, None, 2:4]
    jitter = rng.normal(0.0, noise, (boxes.shape[0], N_KEYPOINTS, 2))
    return np.round(boxes[:, None, 0:2] + wh * (_TEMPLATE[None] + jitter), 2)


def make_keypoints(gt: dict, dt: list, seed: int) -> tuple[dict, list]:
    """One category (person, id 1): objects with 17 keypoints of every visibility,
    detections with 17 keypoints each."""
    rng = np.random.default_rng(seed)
    anns = gt["annotations"]
    boxes = np.array([a["bbox"] for a in anns]).reshape(-1, 4)
    kp = _keypoints(rng, boxes, 0.02)
    vis = rng.choice(3, (len(anns), N_KEYPOINTS), p=[0.35, 0.10, 0.55])
    vis[rng.random(len(anns)) < 0.08] = 0  # objects without any labelled keypoint
    kp[vis == 0] = 0.0
    kp_anns = []
    for i, a in enumerate(anns):
        flat = np.concatenate([kp[i], vis[i][:, None]], axis=1).ravel()
        kp_anns.append(
            {
                **a,
                "category_id": 1,
                "keypoints": [float(v) if j % 3 < 2 else int(v) for j, v in enumerate(flat)],
                "num_keypoints": int((vis[i] > 0).sum()),
            }
        )
    d_boxes = np.array([d["bbox"] for d in dt]).reshape(-1, 4)
    d_kp = _keypoints(rng, d_boxes, 0.04)
    d_flat = np.concatenate([d_kp, np.ones((len(dt), N_KEYPOINTS, 1))], axis=2)
    d_flat = d_flat.reshape(len(dt), -1).tolist()
    results = [
        {"image_id": d["image_id"], "category_id": 1, "keypoints": k, "score": d["score"]}
        for d, k in zip(dt, d_flat)
    ]
    person = [{"id": 1, "name": "person", "supercategory": "person"}]
    return {**gt, "categories": person, "annotations": kp_anns}, results


# --------------------------------------------------------------------------------------
# Contenders
# --------------------------------------------------------------------------------------


def _quiet() -> contextlib.AbstractContextManager[Any]:
    return contextlib.redirect_stdout(io.StringIO())


def run_tinyvision(gt: Path, dt: Path, iou_type: str) -> np.ndarray:
    from tinyvision.metrics import evaluate_detections

    return np.asarray(evaluate_detections(gt, dt, iou_type=iou_type).stats)


def run_faster_coco_eval(gt: Path, dt: Path, iou_type: str) -> np.ndarray:
    from faster_coco_eval import COCO, COCOeval_faster

    with _quiet():
        coco_gt = COCO(str(gt))
        coco_dt = coco_gt.loadRes(str(dt))
        ev = COCOeval_faster(coco_gt, coco_dt, iou_type, print_function=lambda *a: None)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.asarray(ev.stats[: 10 if iou_type == "keypoints" else 12])


def run_pycocotools(gt: Path, dt: Path, iou_type: str) -> np.ndarray:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with _quiet():
        coco_gt = COCO(str(gt))
        coco_dt = coco_gt.loadRes(str(dt))
        ev = COCOeval(coco_gt, coco_dt, iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.asarray(ev.stats)


TOOLS: dict[str, Callable[[Path, Path, str], np.ndarray]] = {
    "tinyvision": run_tinyvision,
    "faster-coco-eval": run_faster_coco_eval,
    "pycocotools": run_pycocotools,
}


# --------------------------------------------------------------------------------------
# Memory (child process)
# --------------------------------------------------------------------------------------


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_child(tool: str, gt: str, dt: str, iou_type: str) -> None:
    """One evaluation from the files in this fresh process; prints its memory as json."""
    run = TOOLS[tool]
    if tool == "tinyvision":  # load the compiled kernels and the parser first
        import tinyvision.metrics  # noqa: F401
    elif tool == "faster-coco-eval":
        import faster_coco_eval  # noqa: F401
    else:
        import pycocotools.cocoeval  # noqa: F401
    gc.collect()
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := current RSS
    before = _status_kib("VmRSS")
    stats = run(Path(gt), Path(dt), iou_type)
    peak = _status_kib("VmHWM")
    print(json.dumps({"before_mib": before / 1024, "peak_mib": peak / 1024, "ap": stats[0]}))


def measure_memory(tool: str, gt: Path, dt: Path, iou_type: str) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--memory-child", tool, str(gt), str(dt), iou_type],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def _write(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj))


def bench_type(
    bench: _protocol.Bench, iou_type: str, gt_path: Path, dt_path: Path, args: argparse.Namespace
) -> None:
    """Time and cross-check one ``iou_type`` against faster-coco-eval (and pycocotools)."""
    bench.compare(
        f"{iou_type}: json files -> stats",
        ours=lambda: run_tinyvision(gt_path, dt_path, iou_type),
        anchor=lambda: run_faster_coco_eval(gt_path, dt_path, iou_type),
        repeat=args.repeat,
        warmup=False,  # each call parses the files anew; tinyvision's kernels are warm
        check=_protocol.arrays_close,  # stats within 1e-12
        anchor_name="faster-coco-eval",
    )
    if not args.no_pycocotools:
        bench.compare(
            f"{iou_type}: json files -> stats, pycocotools once",
            ours=lambda: run_tinyvision(gt_path, dt_path, iou_type),
            anchor=lambda: run_pycocotools(gt_path, dt_path, iou_type),
            repeat=1,
            warmup=False,
            check=_protocol.arrays_identical,  # stats identical to the bit
            anchor_name="pycocotools",
        )


def _missing_anchors(bench: _protocol.Bench, args: argparse.Namespace) -> bool:
    """Record the reference libraries that are not installed; True if any is missing."""
    needed = ["faster_coco_eval"] + ([] if args.no_pycocotools else ["pycocotools"])
    missing = False
    for module in needed:
        try:
            __import__(module)
        except ImportError:
            package = module.replace("_", "-")
            bench.missing("every case", package, 'pip install -e ".[dev,bench]"')
            missing = True
    return missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--detections-per-image", type=float, default=100.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("segm", "keypoints"), default=None)
    parser.add_argument("--no-pycocotools", action="store_true")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--quick", action="store_true", help="300 images, 1 round")
    parser.add_argument("--memory-child", nargs=4, default=None, help=argparse.SUPPRESS)
    _protocol.add_arguments(parser)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(*args.memory_child)
        return
    if args.quick:
        args.images, args.repeat = 300, 1

    bench = _protocol.Bench.from_args(args, anchor_name="faster-coco-eval")
    if _missing_anchors(bench, args):
        sys.exit(bench.finish())
    import faster_coco_eval

    bench.note(
        f"python {platform.python_version()}, numpy {np.__version__}, faster-coco-eval "
        f"{faster_coco_eval.__version__}"
    )
    gt, dt = make_coco_like(args.images, seed=0, detections_per_image=args.detections_per_image)
    n_crowd = sum(a["iscrowd"] for a in gt["annotations"])
    bench.note(f"data: {len(gt['images'])} images, {len(gt['annotations'])} objects "
               f"({n_crowd} crowd), {len(dt)} detections")  # fmt: skip
    types = [args.only] if args.only else ["segm", "keypoints"]
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for iou_type in types:
            make = make_segm if iou_type == "segm" else make_keypoints
            g, d = make(gt, dt, seed=1)
            paths[iou_type] = (Path(tmp) / f"{iou_type}_gt.json", Path(tmp) / f"{iou_type}_dt.json")
            _write(paths[iou_type][0], g)
            _write(paths[iou_type][1], d)
            del g, d
            sizes = [p.stat().st_size / 2**20 for p in paths[iou_type]]
            print(f"{iou_type} files: gt {sizes[0]:.0f} MiB, results {sizes[1]:.0f} MiB")
            # compile/load tinyvision's kernels outside the timings
            small_gt, small_dt = make_coco_like(12, seed=2)
            g, d = make(small_gt, small_dt, seed=3)
            _write(Path(tmp) / "warm_gt.json", g)
            _write(Path(tmp) / "warm_dt.json", d)
            run_tinyvision(Path(tmp) / "warm_gt.json", Path(tmp) / "warm_dt.json", iou_type)
        for iou_type in types:
            bench_type(bench, iou_type, *paths[iou_type], args)
        if "segm" in paths and not args.no_memory:
            bench.note("segm memory, one evaluation from the files in a fresh process (VmHWM):")
            tools = ["tinyvision", "faster-coco-eval"]
            tools += [] if args.no_pycocotools else ["pycocotools"]
            for tool in tools:
                m = measure_memory(tool, *paths["segm"], "segm")
                bench.note(
                    f"  {tool:18s} peak {m['peak_mib']:7.0f} MiB, of which "
                    f"{m['peak_mib'] - m['before_mib']:7.0f} MiB above the RSS after "
                    f"imports ({m['before_mib']:.0f} MiB)"
                )
    sys.exit(bench.finish())


if __name__ == "__main__":
    main()
