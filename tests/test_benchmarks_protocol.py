"""benchmarks/_protocol.py: exit status, best/median arithmetic, markdown and json output.

The timers are injected (a fake clock), so nothing here depends on real timings.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
_SAVED_ENV = dict(os.environ)

import _protocol  # noqa: E402  (sets the thread variables to 1: restored below for the other tests)
from _protocol import Bench, Timing  # noqa: E402

PINNED = {name: os.environ[name] for name in _protocol.THREAD_VARIABLES}
os.environ.clear()
os.environ.update(_SAVED_ENV)


class FakeClock:
    """Each call to a side advances the clock by the next of ``steps`` (cpu, wall) seconds."""

    def __init__(self) -> None:
        self.cpu = self.wall = 0.0

    def __call__(self) -> tuple[float, float]:
        return self.cpu, self.wall

    def side(self, cpu: list[float], wall: list[float], output: object = None):
        costs = iter(zip(cpu, wall))

        def run() -> object:
            c, w = next(costs)
            self.cpu += c
            self.wall += w
            return output

        return run


def make_bench(clock: FakeClock, lines: list[str], **kwargs) -> Bench:
    # threads=None: leave this pytest process's torch threads alone
    return Bench(script="benchmarks/fake.py", clock=clock, out=lines.append, threads=None, **kwargs)


def test_best_median_and_ratio_from_injected_timers() -> None:
    clock, lines = FakeClock(), []
    bench = make_bench(clock, lines, anchor_name="ref")
    # first value of each side is the untimed warm-up
    anchor = clock.side([99, 8, 6, 10], [99, 9, 7, 20], output=1)
    ours = clock.side([99, 2, 4, 3], [99, 1, 5, 2], output=1)
    row = bench.compare("case", ours=ours, anchor=anchor, repeat=3, check=lambda a, b: a == b)
    assert row is not None
    assert row.anchor.cpu == [8, 6, 10] and row.ours.cpu == [2, 4, 3]
    assert (row.anchor.cpu_best, row.anchor.cpu_median) == (6, 8)
    assert (row.ours.wall_best, row.ours.wall_median) == (1, 2)
    assert row.ratio_cpu == 3.0  # 6 / 2, best CPU times
    assert row.ratio_cpu_median == pytest.approx(8 / 3)
    assert row.ratio_wall == 7.0
    assert row.agree is True
    assert bench.finish() == 0
    assert any("ratio ref / tinyvision: cpu 3.00x" in line for line in lines)


def test_sides_alternate() -> None:
    calls: list[str] = []
    bench = make_bench(FakeClock(), [])
    bench.time_alternating({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, 2)
    assert calls == ["a", "b", "a", "b", "a", "b"]  # warm-up, then two rounds


def test_failed_check_exits_1_and_names_the_case() -> None:
    clock, lines = FakeClock(), []
    bench = make_bench(clock, lines)
    bench.compare(
        "nms N=10",
        ours=clock.side([1, 1], [1, 1], output=[1, 2]),
        anchor=clock.side([1, 1], [1, 1], output=[1, 3]),
        repeat=1,
        check=lambda ours, ref: ours == ref,
    )
    assert bench.finish() == 1
    assert any("FAILED: nms N=10: outputs differ" in line for line in lines)


def test_check_assertion_message_is_reported() -> None:
    clock, lines = FakeClock(), []
    bench = make_bench(clock, lines)

    def check(ours: object, ref: object) -> bool:
        raise AssertionError("stats differ at index 3")

    bench.compare("x", ours=lambda: 0, anchor=lambda: 0, repeat=1, check=check)
    assert bench.finish() == 1
    assert any("stats differ at index 3" in line for line in lines)


def test_missing_reference_exits_1_naming_what_to_install() -> None:
    lines: list[str] = []
    bench = make_bench(FakeClock(), lines)
    bench.missing("all cases", "torchvision 0.29.1", "set TV_PYTHON")
    assert bench.finish() == 1
    assert any("comparison not run" in line and "torchvision 0.29.1" in line for line in lines)


def test_side_that_raises_is_a_failure_and_the_run_goes_on() -> None:
    lines: list[str] = []
    bench = make_bench(FakeClock(), lines)

    def broken() -> None:
        raise RuntimeError("no kernel")

    assert bench.compare("a", ours=broken, anchor=lambda: 0, repeat=1) is None
    assert bench.measure("b", lambda: 0, repeat=2) is not None
    assert bench.finish() == 1
    assert any("a: raised RuntimeError: no kernel" in line for line in lines)


def test_markdown_names_script_command_and_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "orig_argv", ["python3", "benchmarks/fake.py", "--rounds", "2"])
    monkeypatch.setenv("PYTHONPATH", "src")
    clock, lines = FakeClock(), []
    bench = make_bench(clock, lines, markdown=True, anchor_name="torchvision")
    bench.note("torch 2.14.1")
    bench.compare(
        "nms",
        ours=clock.side([0, 0.001], [0, 0.002]),
        anchor=clock.side([0, 0.004], [0, 0.004]),
        repeat=1,
    )
    bench.measure("train step", clock.side([0, 2.0], [0, 2.5]), repeat=1)
    assert bench.finish() == 0
    text = bench.to_markdown()
    assert (
        "`benchmarks/fake.py`, command: `PYTHONPATH=src python3 benchmarks/fake.py --rounds 2`"
        in text
    )
    assert _protocol.machine() in text and "torch 2.14.1" in text
    assert "| nms | torchvision | 4.00 ms (4.00 ms) | 1.00 ms (1.00 ms) | **4.00x** (4.00x)" in text
    assert "| train step | 2.00 s | 2.00 s | 2.50 s | 2.50 s | 1 |" in text
    assert text in "\n".join(lines)  # --markdown prints it


def test_json_holds_the_raw_times(tmp_path: Path) -> None:
    clock = FakeClock()
    bench = make_bench(clock, [], json_path=tmp_path / "raw.json")
    bench.compare(
        "c",
        ours=clock.side([0, 1, 2], [0, 1, 2]),
        anchor=clock.side([0, 3, 3], [0, 4, 4]),
        repeat=2,
    )
    bench.missing("d", "pycocotools")
    assert bench.finish() == 1
    data = json.loads((tmp_path / "raw.json").read_text())
    assert data["script"] == "benchmarks/fake.py"
    assert data["rows"][0]["ours"]["cpu"] == [1, 2]
    assert data["rows"][0]["ratio_cpu"] == 3.0
    assert data["missing"] == ["d: needs pycocotools"]


def test_timing_per_item_and_empty_timing() -> None:
    t = Timing([2.0, 4.0], [3.0, 5.0]).per(2)
    assert (t.cpu, t.wall_best) == ([1.0, 2.0], 1.5)
    assert math.isnan(Timing().cpu_best) and math.isnan(Timing().wall_median)
    with pytest.raises(ValueError, match="items must be > 0, got 0"):
        Timing([1.0], [1.0]).per(0)


def test_repeat_and_threads_must_be_positive() -> None:
    bench = make_bench(FakeClock(), [])
    with pytest.raises(ValueError, match="repeat must be >= 1, got 0"):
        bench.time_alternating({"a": lambda: 0}, 0)
    with pytest.raises(ValueError, match="threads must be an integer >= 1 or None, got 0"):
        Bench(threads=0, out=lambda line: None)


def test_import_pins_thread_variables() -> None:
    assert dict.fromkeys(_protocol.THREAD_VARIABLES, "1") == PINNED


def test_row_anchor_name_and_measure_label() -> None:
    clock, lines = FakeClock(), []
    bench = make_bench(clock, lines, anchor_name="faster-coco-eval", markdown=True)
    bench.compare(
        "segm once",
        ours=clock.side([1], [1]),
        anchor=clock.side([5], [5]),
        repeat=1,
        warmup=False,
        anchor_name="pycocotools",
    )
    bench.measure("svc", clock.side([2], [2]), repeat=1, warmup=False, label="scikit-learn")
    assert bench.finish() == 0
    assert "| segm once | pycocotools | 5.00 s (5.00 s) |" in bench.to_markdown()
    assert "  ratio pycocotools / tinyvision: cpu 5.00x" in "\n".join(lines)
    assert "  scikit-learn " in "\n".join(lines)


def test_command_line_without_pythonpath(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "orig_argv", ["python3", "benchmarks/x.py", "--only", "a b"])
    monkeypatch.delenv("PYTHONPATH", raising=False)
    assert _protocol.command_line() == "python3 benchmarks/x.py --only 'a b'"


@pytest.mark.skipif(
    importlib.util.find_spec("torchvision") is not None, reason="torchvision is installed here"
)
def test_script_without_its_reference_library_exits_1() -> None:
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "rotated.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**_SAVED_ENV, "PYTHONPATH": str(script.parents[1] / "src")},
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "comparison not run: every case: needs torchvision 0.29.1" in proc.stdout


def _run_script(name: str, *args: str, pythonpath: list[Path] = ()) -> subprocess.CompletedProcess:
    script = Path(__file__).resolve().parents[1] / "benchmarks" / name
    path = [*map(str, pythonpath), str(script.parents[1] / "src")]
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**_SAVED_ENV, "PYTHONPATH": os.pathsep.join(path)},
    )


@pytest.mark.skipif(
    importlib.util.find_spec("faster_coco_eval") is not None,
    reason="faster-coco-eval is installed here",
)
def test_detection_without_faster_coco_eval_exits_1() -> None:
    proc = _run_script("detection.py", "--images", "4", "--repeat", "1", "--memory-images", "0")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "comparison not run: every case: needs faster-coco-eval" in proc.stdout


@pytest.mark.parametrize("script", ["cluster.py", "classification.py"])
def test_script_without_scikit_learn_exits_1(tmp_path: Path, script: str) -> None:
    blocked = tmp_path / "sklearn"  # shadows the installed scikit-learn
    blocked.mkdir()
    (blocked / "__init__.py").write_text("raise ImportError('blocked for this test')\n")
    proc = _run_script(script, "--quick", pythonpath=[tmp_path])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "comparison not run: every case: needs scikit-learn" in proc.stdout


def _load_script(name: str):
    path = Path(__file__).resolve().parents[1] / "benchmarks" / name
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cluster_checks_name_what_differs() -> None:
    cluster = _load_script("cluster.py")
    a = SimpleNamespace(labels_=np.array([0, 1, 1]), inertia_=2.0)
    assert cluster._same_kmeans(a, SimpleNamespace(labels_=np.array([0, 1, 1]), inertia_=2.0))
    with pytest.raises(AssertionError, match="1 labels differ; inertia tinyvision 2.0"):
        cluster._same_kmeans(a, SimpleNamespace(labels_=np.array([0, 1, 0]), inertia_=2.0))
    with pytest.raises(AssertionError, match="0 labels differ; .* scikit-learn 2.5"):
        cluster._same_kmeans(a, SimpleNamespace(labels_=np.array([0, 1, 1]), inertia_=2.5))
    assert cluster._close_silhouette(0.5, 0.5 + 1e-13)
    with pytest.raises(AssertionError, match="silhouette tinyvision 0.5"):
        cluster._close_silhouette(0.5, 0.5 + 1e-9)


def test_detection_checks_name_what_differs() -> None:
    # detection.py and coco_segm.py check their stats with the protocol's two array checks
    detection = _load_script("detection.py")
    close, identical = detection._protocol.arrays_close, detection._protocol.arrays_identical
    stats = np.array([0.5, 0.25])
    assert close(stats, stats + 1e-13) and identical(stats, stats.copy())
    with pytest.raises(AssertionError, match="tinyvision"):
        close(stats, stats[:1])
    with pytest.raises(AssertionError, match="other"):
        identical(stats, stats + 1e-13)


def test_detection_pausable_clock_leaves_out_the_paused_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    detection = _load_script("detection.py")
    now = [10.0, 100.0]
    monkeypatch.setattr(_protocol, "default_clock", lambda: tuple(now))
    clock = detection.PausableClock()
    assert clock() == (10.0, 100.0)
    with clock.paused():
        now[:] = [13.0, 104.0]  # 3 s CPU, 4 s wall spent copying
    now[:] = [15.0, 107.0]  # then 2 s CPU, 3 s wall of timed work
    assert clock() == (12.0, 103.0)
