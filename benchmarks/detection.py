"""Detection evaluation: tinyvision against faster-coco-eval 1.8.0 and pycocotools 2.0.11.

One thread, one process, the contenders alternating, best of N CPU times
(``time.process_time``: the machine is shared, wall time follows its load; the load
average is printed before and after). The data: a generated
COCO-val-sized set (5000 images, 80 categories, ~36k objects with ~1% crowd, ~385k
detections with scores rounded to 5 decimals; `tinyvision.data.make_coco_like`).

    python benchmarks/detection.py                 # everything (pycocotools takes minutes)
    python benchmarks/detection.py --no-pycocotools --repeat 5
    python benchmarks/detection.py --files-only --memory-images 0   # json files -> stats

Timed paths:
  arrays -> stats   tinyvision from columnar tables; faster-coco-eval from the parsed
                    dicts (its own input: COCO(dict), loadRes(list), evaluate, accumulate,
                    summarize); pycocotools likewise.
  files  -> stats   both from the two json files on disk.
Then: tinyvision's cost against images and detections (linearity) and its peak memory
on 2M annotations (measured in a child process from the kernel's VmHWM).
"""

from __future__ import annotations

import os

for _var in (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
):  # fmt: skip
    os.environ[_var] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import copy  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tinyvision.data import make_coco_like, make_coco_like_tables  # noqa: E402
from tinyvision.metrics import evaluate_detections  # noqa: E402


def _quiet() -> contextlib.AbstractContextManager[Any]:
    return contextlib.redirect_stdout(io.StringIO())


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


def pycocotools_from_objects(gt: dict, dt: list) -> np.ndarray:
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


def alternate(
    contenders: dict[str, tuple[Callable[[], Any], Callable[[Any], Any]]], repeat: int
) -> tuple[dict[str, float], dict[str, Any]]:
    """Best CPU time of each contender over ``repeat`` rounds, alternating; ``setup`` runs
    untimed before each call (e.g. a deep copy, since COCO APIs mutate their inputs)."""
    best = {name: float("inf") for name in contenders}
    outputs: dict[str, Any] = {}
    for _ in range(repeat):
        for name, (setup, run) in contenders.items():
            arg = setup()
            gc.collect()
            start = time.process_time()
            outputs[name] = run(arg)
            best[name] = min(best[name], time.process_time() - start)
            del arg
    return best, outputs


def memory_child(n_images: int) -> None:
    """Peak resident memory of evaluating ``n_images`` COCO-like images (from tables)."""
    dataset, dets = make_coco_like_tables(n_images, seed=1)
    evaluate_detections(dataset, dets)  # compile/load kernels first
    gc.collect()
    reset = Path("/proc/self/clear_refs")
    with contextlib.suppress(OSError):
        reset.write_text("5")  # reset VmHWM to the current RSS
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    before = int(status["VmRSS"].split()[0])
    result = evaluate_detections(dataset, dets)
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    peak = int(status["VmHWM"].split()[0])
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


def _none() -> None:
    return None


def compare_parsed(gt: dict, dt: list, tables: Any, repeat: int, pycocotools: bool) -> np.ndarray:
    """Parsed inputs -> stats: tinyvision (tables, dicts) against faster-coco-eval (dicts),
    and pycocotools once; tinyvision's stats from tables."""
    arrays = {
        "tinyvision (tables)": (_none, lambda _: evaluate_detections(*tables).stats),
        "tinyvision (dicts)": (_none, lambda _: evaluate_detections(gt, dt).stats),
        "faster-coco-eval (dicts)": (
            lambda: (copy.deepcopy(gt), copy.deepcopy(dt)),
            lambda a: run_faster_coco_eval(*a),
        ),
    }
    best, out = alternate(arrays, repeat)
    same = np.array_equal(out["tinyvision (tables)"], out["tinyvision (dicts)"])
    close = np.allclose(out["tinyvision (tables)"], out["faster-coco-eval (dicts)"], atol=1e-12)
    print(f"\nparsed inputs -> 12 stats (best CPU time of {repeat})")
    for name, seconds in best.items():
        print(f"  {name:28s} {seconds:8.3f} s")
    ratio = best["faster-coco-eval (dicts)"] / best["tinyvision (tables)"]
    print(f"  speed-up tables vs faster-coco-eval: {ratio:.1f}x "
          f"(dicts: {best['faster-coco-eval (dicts)'] / best['tinyvision (dicts)']:.1f}x); "
          f"same stats: {same}, faster-coco-eval agrees: {close}")  # fmt: skip
    if pycocotools:
        start = time.process_time()
        theirs = pycocotools_from_objects(copy.deepcopy(gt), copy.deepcopy(dt))
        seconds = time.process_time() - start
        exact = np.array_equal(theirs, out["tinyvision (tables)"])
        print(f"\npycocotools 2.0.11 (dicts, once): {seconds:.1f} s = "
              f"{seconds / best['tinyvision (tables)']:.0f}x tinyvision (tables); "
              f"stats identical: {exact}")  # fmt: skip
    return out["tinyvision (tables)"]


def compare_files(gt_path: Path, dt_path: Path, expected: np.ndarray, repeat: int) -> None:
    """JSON files -> stats: tinyvision against faster-coco-eval, both from the files."""
    files = {
        "tinyvision (json files)": (
            _none,
            lambda _: evaluate_detections(gt_path, dt_path).stats,
        ),
        "faster-coco-eval (json files)": (
            _none,
            lambda _: run_faster_coco_eval(gt_path, dt_path),
        ),
    }
    best, out = alternate(files, repeat)
    same = np.array_equal(out["tinyvision (json files)"], expected)
    close = np.allclose(expected, out["faster-coco-eval (json files)"], atol=1e-12)
    print(f"\njson files -> 12 stats (best CPU time of {repeat})")
    for name, seconds in best.items():
        print(f"  {name:28s} {seconds:8.3f} s")
    ratio = best["faster-coco-eval (json files)"] / best["tinyvision (json files)"]
    print(f"  speed-up: {ratio:.1f}x; stats as from tables: {same}, "
          f"faster-coco-eval agrees: {close}")  # fmt: skip


def linearity(images: int, repeat: int) -> None:
    print(f"\nlinearity (tinyvision, tables, best CPU time of {repeat})")
    base = None
    for label, n_img, per_image in (
        ("1/4 images", images // 4, 77.0),
        ("1/2 images", images // 2, 77.0),
        ("all images", images, 77.0),
        ("2x detections", images, 154.0),
    ):
        data = make_coco_like_tables(n_img, seed=0, detections_per_image=per_image)
        t, _ = alternate({"t": (_none, lambda _, d=data: evaluate_detections(*d))}, repeat)
        per_det = t["t"] / len(data[1]) * 1e6
        base = base or per_det
        print(f"  {label:14s} {n_img:6d} images {len(data[1]):8d} detections "
              f"{t['t']:7.3f} s  {per_det:6.3f} us/detection ({per_det / base:.2f}x)")  # fmt: skip


def memory(images: int) -> None:
    proc = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(images)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    mem = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"\npeak memory, {mem['annotations']:,} annotations ({mem['objects']:,} objects + "
          f"{mem['detections']:,} detections, from tables): evaluation adds "
          f"{mem['extra_mib']:.0f} MiB (process peak {mem['peak_mib']:.0f} MiB, "
          f"of which {mem['rss_before_mib']:.0f} MiB inputs and interpreter)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--no-pycocotools", action="store_true")
    parser.add_argument("--files-only", action="store_true", help="json files -> stats only")
    parser.add_argument("--memory-images", type=int, default=26000, help="~2M annotations")
    parser.add_argument("--memory-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return

    import faster_coco_eval

    print(f"machine: {platform.machine()}, {os.cpu_count()} logical CPUs, python "
          f"{platform.python_version()}, numpy {np.__version__}, faster-coco-eval "
          f"{faster_coco_eval.__version__}, 1 thread; load average {os.getloadavg()}")  # fmt: skip
    gt, dt = make_coco_like(args.images, seed=0)
    tables = make_coco_like_tables(args.images, seed=0)
    print(f"data: {len(gt['images'])} images, {len(gt['categories'])} categories, "
          f"{len(gt['annotations'])} objects ({sum(a['iscrowd'] for a in gt['annotations'])} "
          f"crowd), {len(dt)} detections")  # fmt: skip
    evaluate_detections(*make_coco_like_tables(20, seed=1))  # load the compiled kernels

    with tempfile.TemporaryDirectory() as tmp:
        gt_path, dt_path = Path(tmp) / "gt.json", Path(tmp) / "dt.json"
        gt_path.write_text(json.dumps(gt))
        dt_path.write_text(json.dumps(dt))
        if args.files_only:
            expected = evaluate_detections(*tables).stats
        else:
            expected = compare_parsed(gt, dt, tables, args.repeat, not args.no_pycocotools)
        compare_files(gt_path, dt_path, expected, args.repeat)
    if not args.files_only:
        linearity(args.images, args.repeat)
    if args.memory_images:
        memory(args.memory_images)
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
