"""Detection evaluation: tinyvision against faster-coco-eval 1.8.0 and pycocotools 2.0.11.

Follows ``benchmarks/_protocol.py``: one thread, one process, the contenders alternating,
each call timed by process CPU time (the headline) and wall time, best and median of
``--repeat``, the load average printed. The data: a generated COCO-val-sized set (5000
images, 80 categories, ~36k objects with ~1% crowd, ~385k detections with scores rounded to
5 decimals; ``tinyvision.data.make_coco_like``).

    python benchmarks/detection.py                 # everything (pycocotools takes minutes)
    python benchmarks/detection.py --no-pycocotools --repeat 5
    python benchmarks/detection.py --files-only --memory-images 0   # json files -> stats
    python benchmarks/detection.py --images 200 --repeat 1 --memory-images 200  # smoke run

Compared like for like (both sides from the same input, all their set-up timed):
  parsed dicts -> stats   tinyvision ``evaluate_detections(gt, dt)``; faster-coco-eval
                          ``COCO(gt)``, ``loadRes(dt)``, evaluate, accumulate, summarize;
                          pycocotools likewise, once. The reference libraries add fields to
                          the dicts they are given, so each of their calls gets a fresh deep
                          copy, made while the clock is stopped (tinyvision reads the
                          originals: it does not modify its input).
  json files -> stats     both from the two json files on disk.
Timed alone: tinyvision from columnar tables (its fastest input, which the others cannot
read), and its cost against images and detections (linearity). Then its peak memory on 2M
annotations (a child process, the kernel's VmHWM). The run exits 1 when the ``stats``
differ (faster-coco-eval: beyond 1e-12; pycocotools and tinyvision's own input paths: not
bit-identical) or a reference library is missing.
"""

from __future__ import annotations

import _protocol  # first: pins the thread pools before numpy and numba load

# isort: split
import argparse
import contextlib
import copy
import gc
import io
import json
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tinyvision.data import make_coco_like, make_coco_like_tables
from tinyvision.metrics import evaluate_detections

PYCOCOTOOLS_FLAG = "--no-pycocotools"


class PausableClock:
    """The protocol's clock (process CPU seconds, wall seconds) minus the time spent inside
    :meth:`paused` blocks: work that prepares a call's input without being part of it."""

    def __init__(self) -> None:
        self.cpu_paused = self.wall_paused = 0.0

    def __call__(self) -> tuple[float, float]:
        cpu, wall = _protocol.default_clock()
        return cpu - self.cpu_paused, wall - self.wall_paused

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        cpu0, wall0 = _protocol.default_clock()
        try:
            yield
        finally:
            gc.collect()  # the copy's garbage-collector debt is not the timed call's either
            cpu1, wall1 = _protocol.default_clock()
            self.cpu_paused += cpu1 - cpu0
            self.wall_paused += wall1 - wall0


def _quiet() -> contextlib.AbstractContextManager[Any]:
    return contextlib.redirect_stdout(io.StringIO())


def run_tinyvision(gt: dict | Path, dt: list | Path) -> np.ndarray:
    """tinyvision's 12 stats, from parsed objects or from json file paths."""
    return np.asarray(evaluate_detections(gt, dt).stats)


def run_faster_coco_eval(gt: dict | Path, dt: list | Path) -> np.ndarray:
    """faster-coco-eval's 12 stats, from parsed objects or from json file paths."""
    from faster_coco_eval import COCO, COCOeval_faster

    with _quiet():
        coco_gt = COCO(str(gt) if isinstance(gt, Path) else gt)
        coco_dt = coco_gt.loadRes(str(dt) if isinstance(dt, Path) else dt)
        ev = COCOeval_faster(coco_gt, coco_dt, "bbox", print_function=lambda *a: None)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.asarray(ev.stats[:12])


def run_pycocotools(gt: dict, dt: list) -> np.ndarray:
    """pycocotools' 12 stats from parsed objects (the way its users pass dicts)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with _quiet():
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(dt)
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.asarray(ev.stats)


def _on_copies(
    clock: PausableClock, run: Callable[[dict, list], np.ndarray], gt: dict, dt: list
) -> Callable[[], np.ndarray]:
    """``run`` on a fresh deep copy of ``gt`` and ``dt`` per call, copied off the clock."""

    def call() -> np.ndarray:
        with clock.paused():
            args = copy.deepcopy(gt), copy.deepcopy(dt)
        return run(*args)

    return call


def compare_parsed(
    bench: _protocol.Bench, clock: PausableClock, data: dict[str, Any], args: argparse.Namespace
) -> None:
    """Parsed dicts -> stats against faster-coco-eval (and pycocotools once); tinyvision from
    tables timed alone, its stats checked against its stats from the dicts."""
    gt, dt, tables = data["gt"], data["dt"], data["tables"]
    row = bench.compare(
        "parsed dicts -> 12 stats",
        ours=lambda: run_tinyvision(gt, dt),
        anchor=_on_copies(clock, run_faster_coco_eval, gt, dt),
        repeat=args.repeat,
        warmup=False,  # the kernels and imports are warm (main)
        check=_protocol.arrays_close,
    )
    if not args.no_pycocotools:
        bench.compare(
            "parsed dicts -> 12 stats, pycocotools once",
            ours=lambda: run_tinyvision(gt, dt),
            anchor=_on_copies(clock, run_pycocotools, gt, dt),
            repeat=1,
            warmup=False,
            check=_protocol.arrays_identical,  # bit-identical
            anchor_name="pycocotools 2.0.11",
        )
    timing = bench.measure(
        "tinyvision from columnar tables -> 12 stats",
        lambda: run_tinyvision(*tables),
        repeat=args.repeat,
        warmup=False,
    )
    if (
        row is not None
        and timing is not None
        and not np.array_equal(timing.output, row.ours.output)
    ):
        bench.fail("tables -> 12 stats", "stats differ from tinyvision's from the dicts")


def compare_files(
    bench: _protocol.Bench, gt_path: Path, dt_path: Path, expected: np.ndarray, repeat: int
) -> None:
    """JSON files -> stats: tinyvision against faster-coco-eval, both from the files;
    tinyvision's stats must also equal ``expected`` (its stats from tables)."""

    def check(ours: np.ndarray, theirs: np.ndarray) -> bool:
        if not np.array_equal(ours, expected):
            raise AssertionError(f"tinyvision from files {ours.tolist()}, from tables {expected}")
        return _protocol.arrays_close(ours, theirs)

    bench.compare(
        "json files -> 12 stats",
        ours=lambda: run_tinyvision(gt_path, dt_path),
        anchor=lambda: run_faster_coco_eval(gt_path, dt_path),
        repeat=repeat,
        warmup=False,  # each call parses the files anew; the kernels are warm
        check=check,
    )


def linearity(bench: _protocol.Bench, images: int, repeat: int) -> None:
    """tinyvision from tables on 1/4, 1/2 and all the images, then twice the detections."""
    base = None
    for label, n_img, per_image in (
        ("1/4 images", images // 4, 77.0),
        ("1/2 images", images // 2, 77.0),
        ("all images", images, 77.0),
        ("2x detections", images, 154.0),
    ):
        dataset, dets = make_coco_like_tables(max(n_img, 1), seed=0, detections_per_image=per_image)
        name = f"linearity, tables: {label} ({len(dataset)} objects, {len(dets)} detections)"
        timing = bench.measure(
            name, lambda d=dataset, r=dets: evaluate_detections(d, r), repeat=repeat, warmup=False
        )
        if timing is None or len(dets) == 0:
            continue
        per_det = timing.cpu_best / len(dets) * 1e6
        base = base or per_det
        bench.note(f"{name}: {per_det:.3f} us/detection (CPU, {per_det / base:.2f}x the first)")


def memory_child(n_images: int) -> None:
    """Peak resident memory of evaluating ``n_images`` COCO-like images (from tables)."""
    dataset, dets = make_coco_like_tables(n_images, seed=1)
    evaluate_detections(dataset, dets)  # compile/load kernels first
    gc.collect()
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = _status_kib("VmRSS")
    result = evaluate_detections(dataset, dets)
    peak = _status_kib("VmHWM")
    print(
        json.dumps(
            {
                "annotations": len(dataset) + len(dets),
                "objects": len(dataset),
                "detections": len(dets),
                "rss_before_mib": before / 1024,
                "peak_mib": peak / 1024,
                "extra_mib": (peak - before) / 1024,
                "ap": float(result.stats[0]),
            }
        )
    )


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory(bench: _protocol.Bench, images: int) -> None:
    proc = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(images)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    mem = json.loads(proc.stdout.strip().splitlines()[-1])
    bench.note(f"peak memory, {mem['annotations']:,} annotations ({mem['objects']:,} objects + "
               f"{mem['detections']:,} detections, from tables): evaluation adds "
               f"{mem['extra_mib']:.0f} MiB (process peak {mem['peak_mib']:.0f} MiB, "
               f"of which {mem['rss_before_mib']:.0f} MiB inputs and interpreter)")  # fmt: skip


def _missing_anchors(bench: _protocol.Bench, args: argparse.Namespace) -> bool:
    """Record the reference libraries that are not installed; True if any is missing."""
    needed = ["faster_coco_eval"]
    if not args.no_pycocotools and not args.files_only:
        needed.append("pycocotools")
    missing = False
    for module in needed:
        try:
            __import__(module)
        except ImportError:
            package = module.replace("_", "-")
            hint = 'pip install -e ".[dev,bench]"'
            if module == "pycocotools":
                hint += f", or run with {PYCOCOTOOLS_FLAG}"
            bench.missing("every case", package, hint)
            missing = True
    return missing


def _warm_up(tmp: Path) -> None:
    """Both sides once on a small set, from dicts and from files: compiled kernels, lazy
    imports and parsers loaded outside the timings."""
    small_gt, small_dt = make_coco_like(20, seed=1)
    gt_path, dt_path = tmp / "warm_gt.json", tmp / "warm_dt.json"
    gt_path.write_text(json.dumps(small_gt))
    dt_path.write_text(json.dumps(small_dt))
    run_tinyvision(*make_coco_like_tables(20, seed=1))
    for run in (run_tinyvision, run_faster_coco_eval):
        run(copy.deepcopy(small_gt), copy.deepcopy(small_dt))
        run(gt_path, dt_path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument(PYCOCOTOOLS_FLAG, action="store_true")
    parser.add_argument("--files-only", action="store_true", help="json files -> stats only")
    parser.add_argument("--memory-images", type=int, default=26000, help="~2M annotations")
    parser.add_argument("--memory-child", type=int, default=0, help=argparse.SUPPRESS)
    _protocol.add_arguments(parser)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return 0

    clock = PausableClock()
    bench = _protocol.Bench.from_args(args, anchor_name="faster-coco-eval", clock=clock)
    if _missing_anchors(bench, args):
        return bench.finish()
    import faster_coco_eval

    bench.note(f"python {platform.python_version()}, numpy {np.__version__}, "
               f"faster-coco-eval {faster_coco_eval.__version__}")  # fmt: skip
    gt, dt = make_coco_like(args.images, seed=0)
    tables = make_coco_like_tables(args.images, seed=0)
    n_crowd = sum(a["iscrowd"] for a in gt["annotations"])
    bench.note(f"data: make_coco_like({args.images}, seed=0): {len(gt['images'])} images, "
               f"{len(gt['categories'])} categories, {len(gt['annotations'])} objects "
               f"({n_crowd} crowd), {len(dt)} detections")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        _warm_up(Path(tmp))
        gt_path, dt_path = Path(tmp) / "gt.json", Path(tmp) / "dt.json"
        gt_path.write_text(json.dumps(gt))
        dt_path.write_text(json.dumps(dt))
        if not args.files_only:
            compare_parsed(bench, clock, {"gt": gt, "dt": dt, "tables": tables}, args)
        expected = run_tinyvision(*tables)  # untimed
        del gt, dt
        compare_files(bench, gt_path, dt_path, expected, args.repeat)
    if not args.files_only:
        linearity(bench, args.images, args.repeat)
    if args.memory_images:
        memory(bench, args.memory_images)
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
