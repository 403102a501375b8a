"""The benchmark protocol every script in ``benchmarks/`` follows (issue 15).

Usage (a script run as ``python benchmarks/x.py``; this folder is then on ``sys.path``)::

    import _protocol  # first: it pins the thread pools before numpy and torch load

    # isort: split
    import argparse
    import numpy as np
    ...

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _protocol.add_arguments(parser)            # --json PATH, --markdown
    args = parser.parse_args()
    bench = _protocol.Bench.from_args(args, anchor_name="torchvision")
    bench.compare("nms N=1000", ours=lambda: ..., anchor=lambda: ..., repeat=20,
                  check=lambda ours, ref: bool(torch.equal(ours, ref)))
    bench.missing("every case", "torchvision", "run it with the reference venv's python")
    sys.exit(bench.finish())                   # 1 if a check failed or a comparison is missing

Other calls: ``bench.note(line)`` (versions, data sizes: printed and kept for the caption),
``compare(..., anchor_name="pycocotools", warmup=False, target=4.0)`` (another anchor for one
row; no untimed first call; a target ratio reported as met or not, never a failure),
``bench.measure(name, fn, repeat=3, label="scikit-learn")`` (one side alone),
``Bench(threads=2)`` (torch and BLAS threads; the environment variables stay 1).

What it does:

- Threads: importing this module sets ``OMP/OPENBLAS/MKL/NUMEXPR/NUMBA/VECLIB_NUM_THREADS`` to
  1 (so import it before numpy, torch or numba); :class:`Bench` then calls
  ``torch.set_num_threads`` and, when threadpoolctl is installed, limits the BLAS pools.
- Timing: :meth:`Bench.compare` calls each side once (warm-up, not timed, unless
  ``warmup=False``), then ``repeat`` rounds that alternate the two sides, each call timed by its
  own process CPU time (``time.process_time``: the headline, steady on a shared machine with one
  thread) and by wall time (``time.perf_counter``). Best and median of each are printed; the
  ratio is anchor time / our time (> 1: ours is faster) of the best CPU times. Everything inside
  the callables is timed: put all set-up of both sides (parsing files, converting inputs) in
  them, so that both start from the same input.
- Agreement: ``check(ours_output, anchor_output)`` on the last timed outputs; it returns a
  bool or raises (an ``AssertionError``'s message is printed). A failed check, a side that
  raises, or a comparison recorded with :meth:`Bench.missing` makes :meth:`Bench.finish`
  return 1, after a summary that names them (and what to install).
- Timings without an anchor (training throughput): :meth:`Bench.measure`, or
  :meth:`Bench.time_alternating` for several contenders and :meth:`Bench.add_ratio` for ratios
  between them (:meth:`Timing.per` turns seconds per call into seconds per item).
- Report: the load average is printed when the run starts and when it ends; ``--markdown``
  prints the rows as markdown tables headed by the script, its exact command line, the
  machine (CPU model, cores), the date and the load averages, so that a BENCHMARKS.md table
  and its ratios come from one run; ``--json PATH`` writes the raw per-call times.
"""

from __future__ import annotations

import os

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)
for _var in THREAD_VARIABLES:
    os.environ[_var] = "1"
# isort: split
import sys  # noqa: E402

# Libraries that read the variables when they load: imported before this module, they keep
# their own thread counts (Bench warns).
LOADED_TOO_EARLY = [m for m in ("numpy", "torch", "numba", "scipy") if m in sys.modules]

# isort: split
import argparse  # noqa: E402
import dataclasses  # noqa: E402
import datetime  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import shlex  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Mapping  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:  # the scripts run from a checkout
    sys.path.insert(0, str(ROOT / "src"))

Clock = Callable[[], tuple[float, float]]


def default_clock() -> tuple[float, float]:
    """``(process CPU seconds, wall seconds)`` now."""
    return time.process_time(), time.perf_counter()


def pin_runtime_threads(threads: int = 1) -> None:
    """Limit torch's intra-op pool (when torch is loaded) and the BLAS pools (threadpoolctl)."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the environment variables set above already apply
        return
    threadpool_limits(threads)


@dataclasses.dataclass
class Timing:
    """Per-call ``cpu`` and ``wall`` seconds of one side, and its last output."""

    cpu: list[float] = dataclasses.field(default_factory=list)
    wall: list[float] = dataclasses.field(default_factory=list)
    output: Any = None

    @property
    def cpu_best(self) -> float:
        return min(self.cpu) if self.cpu else math.nan

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else math.nan

    @property
    def wall_best(self) -> float:
        return min(self.wall) if self.wall else math.nan

    @property
    def wall_median(self) -> float:
        return statistics.median(self.wall) if self.wall else math.nan

    def per(self, items: float) -> Timing:
        """The same timing per item (``items`` per call), e.g. seconds per image."""
        if not items > 0:
            raise ValueError(f"items must be > 0, got {items!r}")
        return Timing([c / items for c in self.cpu], [w / items for w in self.wall], self.output)

    def summary(self) -> dict[str, float]:
        return {
            "cpu_best": self.cpu_best,
            "cpu_median": self.cpu_median,
            "wall_best": self.wall_best,
            "wall_median": self.wall_median,
        }


@dataclasses.dataclass
class Row:
    """One line of the report: a timing (``anchor`` None) or a comparison."""

    name: str
    ours: Timing
    anchor: Timing | None = None
    agree: bool | None = None
    target: float | None = None
    anchor_name: str = "anchor"

    @property
    def ratio_cpu(self) -> float:
        return _ratio(self.anchor.cpu_best, self.ours.cpu_best) if self.anchor else math.nan

    @property
    def ratio_cpu_median(self) -> float:
        return _ratio(self.anchor.cpu_median, self.ours.cpu_median) if self.anchor else math.nan

    @property
    def ratio_wall(self) -> float:
        return _ratio(self.anchor.wall_best, self.ours.wall_best) if self.anchor else math.nan


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.inf if a > 0 else math.nan


def fmt_seconds(s: float) -> str:
    """``s`` seconds in a readable unit (s, ms or us)."""
    if not math.isfinite(s):
        return str(s)
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} us"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every benchmark script has: ``--json PATH`` and ``--markdown``."""
    parser.add_argument(
        "--json", type=Path, default=None, metavar="PATH", help="write the raw times here (json)"
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print the results as markdown tables"
    )


def command_line() -> str:
    """This process's command line as a user would type it (``PYTHONPATH=...`` included)."""
    argv = list(getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv])
    prefix = (
        f"PYTHONPATH={shlex.quote(os.environ['PYTHONPATH'])} " if "PYTHONPATH" in os.environ else ""
    )
    return prefix + shlex.join(argv)


def machine() -> str:
    """``CPU model, N cores`` from /proc/cpuinfo (the platform name where it is missing)."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if not model:
        import platform

        model = platform.processor() or platform.machine()
    return f"{model}, {os.cpu_count()} logical cores"


def loadavg() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:  # not available on this platform
        return (math.nan, math.nan, math.nan)


class Bench:
    """Runs, checks and reports the comparisons of one benchmark script (see the module's
    docstring). ``clock`` returns ``(cpu seconds, wall seconds)``; ``out`` receives the
    printed lines (``print`` by default)."""

    def __init__(
        self,
        *,
        anchor_name: str = "anchor",
        ours_name: str = "tinyvision",
        script: str | None = None,
        json_path: Path | None = None,
        markdown: bool = False,
        threads: int | None = 1,
        clock: Clock = default_clock,
        out: Callable[[str], None] = print,
    ) -> None:
        if threads is not None and not (isinstance(threads, int) and threads >= 1):
            raise ValueError(f"threads must be an integer >= 1 or None, got {threads!r}")
        self.anchor_name, self.ours_name = anchor_name, ours_name
        self.script = script or _script_name()
        self.json_path, self.markdown, self.threads = json_path, markdown, threads
        self.clock, self.out = clock, out
        self.rows: list[Row] = []
        self.failures: list[str] = []
        self.missing_refs: list[str] = []
        self.notes: list[str] = []
        self.command = command_line()
        self.started = datetime.datetime.now(datetime.timezone.utc)
        if threads is not None:  # None: leave the pools as they are (tests)
            pin_runtime_threads(threads)
        self.load_before = loadavg()
        self.load_after: tuple[float, float, float] | None = None
        self.out(f"{self.script}: {machine()}; {threads} thread(s)")
        if LOADED_TOO_EARLY and threads is not None:
            self.out(
                f"warning: {', '.join(LOADED_TOO_EARLY)} loaded before _protocol: "
                "import _protocol first so that its thread variables apply"
            )
        self.out("load average (1, 5, 15 min) before: " + _load(self.load_before))

    @classmethod
    def from_args(cls, args: argparse.Namespace, **kwargs: Any) -> Bench:
        """A :class:`Bench` with the ``--json`` and ``--markdown`` options of ``args``."""
        return cls(json_path=args.json, markdown=args.markdown, **kwargs)

    def note(self, line: str) -> None:
        """Print ``line`` and keep it for the markdown caption (versions, data sizes...)."""
        self.notes.append(line)
        self.out(line)

    # ------------------------------------------------------------------ timing
    def time_alternating(
        self, sides: Mapping[str, Callable[[], Any]], repeat: int, *, warmup: bool = True
    ) -> dict[str, Timing]:
        """Call each of ``sides`` once untimed (``warmup``), then ``repeat`` rounds calling
        them in turn, each call timed (after an untimed ``gc.collect()``); exceptions
        propagate."""
        if repeat < 1:
            raise ValueError(f"repeat must be >= 1, got {repeat!r}")
        timings = {name: Timing() for name in sides}
        if warmup:
            for name, fn in sides.items():
                timings[name].output = fn()
        for _ in range(repeat):
            for name, fn in sides.items():
                gc.collect()  # not timed: the previous call's garbage
                cpu0, wall0 = self.clock()
                output = fn()
                cpu1, wall1 = self.clock()
                timing = timings[name]
                timing.cpu.append(cpu1 - cpu0)
                timing.wall.append(wall1 - wall0)
                timing.output = output
        return timings

    def compare(
        self,
        name: str,
        *,
        ours: Callable[[], Any],
        anchor: Callable[[], Any],
        repeat: int,
        check: Callable[[Any, Any], bool] | None = None,
        warmup: bool = True,
        target: float | None = None,
        anchor_name: str | None = None,
    ) -> Row | None:
        """Time ``ours`` against ``anchor`` alternately, check their last outputs agree
        (``check(ours_output, anchor_output)``), print and keep the row. A side that raises
        is a failure (None is returned). ``anchor_name`` overrides the Bench's for this row."""
        try:
            t = self.time_alternating({"anchor": anchor, "ours": ours}, repeat, warmup=warmup)
        except Exception as exc:  # report it, go on with the other cases
            self.fail(name, f"raised {type(exc).__name__}: {exc}")
            return None
        agree = None
        if check is not None:
            agree, detail = _run_check(check, t["ours"].output, t["anchor"].output)
            if not agree:
                self.fail(name, f"outputs differ{detail}")
        return self.add_ratio(
            name,
            ours=t["ours"],
            anchor=t["anchor"],
            agree=agree,
            target=target,
            anchor_name=anchor_name,
        )

    def measure(
        self,
        name: str,
        fn: Callable[[], Any],
        *,
        repeat: int,
        warmup: bool = True,
        label: str | None = None,
    ) -> Timing | None:
        """Time ``fn`` alone (no anchor): ``repeat`` calls, printed (as ``label``, the
        ours_name by default) and kept as a row. The last output is ``Timing.output``."""
        try:
            timing = self.time_alternating({name: fn}, repeat, warmup=warmup)[name]
        except Exception as exc:
            self.fail(name, f"raised {type(exc).__name__}: {exc}")
            return None
        self.add_timing(name, timing, label=label)
        return timing

    def add_timing(self, name: str, timing: Timing, *, label: str | None = None) -> Row:
        """Print and keep a timing measured elsewhere (e.g. :meth:`Timing.per` of one)."""
        row = Row(name, timing)
        self.rows.append(row)
        self.out(f"{name}\n  {label or self.ours_name:<12} {_stats_line(timing)}")
        return row

    def add_ratio(
        self,
        name: str,
        *,
        ours: Timing,
        anchor: Timing,
        agree: bool | None = None,
        target: float | None = None,
        anchor_name: str | None = None,
    ) -> Row:
        """Print and keep a comparison of two timings (anchor / ours, best CPU time)."""
        a = anchor_name or self.anchor_name
        row = Row(name, ours, anchor, agree, target, a)
        self.rows.append(row)
        verdict = "" if agree is None else f"  agree: {'yes' if agree else 'NO'}"
        if target is not None:
            verdict += (
                f"  (target >= {target:g}x: {'met' if row.ratio_cpu >= target else 'NOT met'})"
            )
        self.out(
            f"{name}\n  {a:<12} {_stats_line(anchor)}\n"
            f"  {self.ours_name:<12} {_stats_line(ours)}\n"
            f"  ratio {a} / {self.ours_name}: cpu {row.ratio_cpu:.2f}x "
            f"(median {row.ratio_cpu_median:.2f}x), wall {row.ratio_wall:.2f}x{verdict}"
        )
        return row

    # ------------------------------------------------------------------ outcome
    def fail(self, name: str, detail: str) -> None:
        """Record a failed agreement check (or a comparison that broke)."""
        self.failures.append(f"{name}: {detail}")
        self.out(f"FAIL {name}: {detail}")

    def missing(self, name: str, package: str, hint: str = "") -> None:
        """Record a comparison that could not run because ``package`` is missing."""
        line = f"{name}: needs {package}" + (f" ({hint})" if hint else "")
        self.missing_refs.append(line)
        self.out(f"MISSING {line}")

    def finish(self) -> int:
        """Print the load average, the summary (and markdown), write --json; the exit code:
        1 if a check failed or a comparison is missing, else 0."""
        self.load_after = loadavg()
        self.out("load average (1, 5, 15 min) after: " + _load(self.load_after))
        if self.markdown:
            self.out(self.to_markdown())
        if self.json_path is not None:
            from tinyvision._fileio import atomic_write_text

            atomic_write_text(self.json_path, json.dumps(self.to_json(), indent=1) + "\n")
        for line in self.missing_refs:
            self.out(f"{self.script}: comparison not run: {line}")
        for line in self.failures:
            self.out(f"{self.script}: FAILED: {line}")
        if self.failures or self.missing_refs:
            return 1
        checked = sum(r.agree is not None for r in self.rows)
        self.out(f"{self.script}: all {len(self.rows)} rows ran; {checked} agreement checks passed")
        return 0

    # ------------------------------------------------------------------ output
    def caption(self) -> str:
        when = self.started.strftime("%Y-%m-%d %H:%M UTC")
        after = self.load_after
        load = _load(self.load_before) + (f" -> {_load(after)}" if after else "")
        lines = [
            f"`{self.script}`, command: `{self.command}`",
            f"machine: {machine()}; {self.threads} thread(s); {when}; load average {load}",
            *self.notes,
        ]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The rows as markdown: a caption, then comparisons and timings as two tables."""
        parts = [self.caption(), ""]
        ratios = [r for r in self.rows if r.anchor is not None]
        timings = [r for r in self.rows if r.anchor is None]
        if ratios:
            o = self.ours_name
            parts += [
                f"| case | anchor | anchor CPU best (median) | {o} CPU best (median) "
                f"| ratio CPU (median) | anchor wall best | {o} wall best | ratio wall | agree |",
                "|---|---|---:|---:|---:|---:|---:|---:|---|",
            ]
            parts += [_markdown_ratio_row(r) for r in ratios]
            parts.append("")
        if timings:
            parts += [
                "| timing | CPU best | CPU median | wall best | wall median | runs |",
                "|---|---:|---:|---:|---:|---:|",
            ]
            parts += [_markdown_timing_row(r) for r in timings]
            parts.append("")
        if ratios:
            o = self.ours_name
            parts.append(f"ratio = anchor time / {o} time (> 1: {o} is faster)")
        return "\n".join(parts)

    def to_json(self) -> dict[str, Any]:
        rows = []
        for r in self.rows:
            item: dict[str, Any] = {"name": r.name, "ours": _raw(r.ours)}
            if r.anchor is not None:
                item.update(anchor=_raw(r.anchor), ratio_cpu=r.ratio_cpu, ratio_wall=r.ratio_wall)
                item.update(agree=r.agree, target=r.target, anchor_name=r.anchor_name)
            rows.append(item)
        return {
            "script": self.script,
            "command": self.command,
            "machine": machine(),
            "threads": self.threads,
            "date": self.started.isoformat(timespec="seconds"),
            "load_before": list(self.load_before),
            "load_after": list(self.load_after or ()),
            "notes": self.notes,
            "anchor_name": self.anchor_name,
            "rows": rows,
            "failures": self.failures,
            "missing": self.missing_refs,
        }


def _script_name() -> str:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None) or (sys.argv[0] if sys.argv else "")
    if not path:
        return "<interactive>"
    p = Path(path).resolve()
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return p.name


def arrays_close(ours: Any, theirs: Any, atol: float = 1e-12) -> bool:
    """A ``check=``: the same shape and every value within ``atol`` (else AssertionError
    listing both)."""
    import numpy as np

    ours, theirs = np.asarray(ours), np.asarray(theirs)
    if ours.shape == theirs.shape and np.allclose(ours, theirs, rtol=0, atol=atol):
        return True
    raise AssertionError(f"tinyvision {ours.tolist()}, other {theirs.tolist()}")


def arrays_identical(ours: Any, theirs: Any) -> bool:
    """A ``check=``: equal to the bit (else AssertionError listing both)."""
    import numpy as np

    ours, theirs = np.asarray(ours), np.asarray(theirs)
    if np.array_equal(ours, theirs):
        return True
    raise AssertionError(f"tinyvision {ours.tolist()}, other {theirs.tolist()}")


def _run_check(check: Callable[[Any, Any], bool], ours: Any, anchor: Any) -> tuple[bool, str]:
    try:
        ok = check(ours, anchor)
    except AssertionError as exc:
        return False, f": {exc}" if str(exc) else ""
    except Exception as exc:
        return False, f": the check raised {type(exc).__name__}: {exc}"
    return bool(ok), ""


def _load(values: tuple[float, float, float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


def _stats_line(t: Timing) -> str:
    return (
        f"cpu best {fmt_seconds(t.cpu_best):>10} median {fmt_seconds(t.cpu_median):>10}   "
        f"wall best {fmt_seconds(t.wall_best):>10} median {fmt_seconds(t.wall_median):>10}"
        f"   ({len(t.cpu)} runs)"
    )


def _markdown_ratio_row(r: Row) -> str:
    assert r.anchor is not None
    agree = {None: "-", True: "yes", False: "**NO**"}[r.agree]
    return (
        f"| {r.name} | {r.anchor_name} "
        f"| {fmt_seconds(r.anchor.cpu_best)} ({fmt_seconds(r.anchor.cpu_median)}) "
        f"| {fmt_seconds(r.ours.cpu_best)} ({fmt_seconds(r.ours.cpu_median)}) "
        f"| **{r.ratio_cpu:.2f}x** ({r.ratio_cpu_median:.2f}x) | {fmt_seconds(r.anchor.wall_best)} "
        f"| {fmt_seconds(r.ours.wall_best)} | {r.ratio_wall:.2f}x | {agree} |"
    )


def _markdown_timing_row(r: Row) -> str:
    t = r.ours
    return (
        f"| {r.name} | {fmt_seconds(t.cpu_best)} | {fmt_seconds(t.cpu_median)} "
        f"| {fmt_seconds(t.wall_best)} | {fmt_seconds(t.wall_median)} | {len(t.cpu)} |"
    )


def _raw(t: Timing) -> dict[str, Any]:
    return {"cpu": t.cpu, "wall": t.wall, **t.summary()}
