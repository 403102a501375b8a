"""Run torchvision's own tests of the ops tinyvision claims, with tinyvision in their place.

torchvision's ``test/test_ops.py`` (public, not shipped in its wheel, and not part of this
repository) tests ``torchvision.ops.nms``, ``box_iou``, ``sigmoid_focal_loss``, ... through
the module attribute (``ops.nms(...)``). This script replaces those attributes with
tinyvision's functions before pytest imports the test file, runs the test classes of the
claimed functions and prints pass/fail/skip counts per class. Failures listed in ``KNOWN``
(with their reason) are expected; any other failure makes the exit code 1.

It needs torch, torchvision and pytest in the running interpreter (a reference
environment, not tinyvision's), and tinyvision importable (``PYTHONPATH=src``)::

    PYTHONPATH=src /path/to/reference/python scripts/torchvision_dropin.py /tmp/test_ops.py

``--reference`` runs the same selection without patching (torchvision against its own
tests), to tell a failure of the test environment from a difference of tinyvision's. The
test file's helper module ``common_utils`` (torchvision's ``test/common_utils.py``) is
replaced by the few helpers these classes use; the opcheck tests that
``optests.generate_opcheck_tests`` adds to ``TestNMS`` check torchvision's registered C++
operator, not the Python function, and are deselected.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

# The torchvision.ops names that tinyvision claims, and where tinyvision keeps each.
OPS_NAMES = (
    "box_area",
    "box_convert",
    "box_iou",
    "batched_nms",
    "clip_boxes_to_image",
    "complete_box_iou",
    "distance_box_iou",
    "generalized_box_iou",
    "nms",
    "remove_small_boxes",
)
LOSS_NAMES = (
    "complete_box_iou_loss",
    "distance_box_iou_loss",
    "generalized_box_iou_loss",
    "sigmoid_focal_loss",
)
# Test classes of those functions (classes a given copy lacks are simply not found).
CLASSES = (
    "TestNMS",
    "TestBoxConvert",
    "TestBoxConvertRotated",
    "TestBoxArea",
    "TestBoxIou",
    "TestBoxIouRotated",
    "TestGeneralizedBoxIou",
    "TestDistanceBoxIoU",
    "TestCompleteBoxIou",
    "TestGeneralizedBoxIouLoss",
    "TestCompleteBoxIouLoss",
    "TestDistanceBoxIouLoss",
    "TestFocalLoss",
)
# Prefixes of the tests that optests.generate_opcheck_tests adds.
OPCHECK_PREFIXES = (
    "test_schema__",
    "test_autograd_registration__",
    "test_faketensor__",
    "test_aot_dispatch_dynamic__",
)
# Expected failures: a regular expression on the test id, and why.
KNOWN = {
    r"::test_\w*jit\b": (
        "torch.jit.script of a tinyvision function: they are plain Python (argument "
        "checks, keyword-only arguments, numba kernels on CPU), not TorchScript"
    ),
}

COMMON_UTILS = '''\
"""The helpers of torchvision's test/common_utils.py that the ops tests use."""
import functools

import pytest
import torch

assert_equal = functools.partial(torch.testing.assert_close, rtol=0, atol=0)


def cpu_and_cuda():
    return ("cpu", pytest.param("cuda", marks=pytest.mark.needs_cuda))


def cpu_and_cuda_and_mps():
    return cpu_and_cuda() + (pytest.param("mps", marks=pytest.mark.needs_mps),)


def needs_cuda(test_func):
    return pytest.mark.needs_cuda(test_func)


def needs_mps(test_func):
    return pytest.mark.needs_mps(test_func)
'''

PYTEST_INI = """\
[pytest]
markers =
    needs_cuda: needs a CUDA device
    needs_mps: needs an MPS device
    opcheck_only_one: torchvision's opcheck marker
"""


def patch_torchvision() -> None:
    """Replace the claimed ``torchvision.ops`` attributes with tinyvision's functions."""
    import torchvision.ops

    from tinyvision import losses, ops

    for name in OPS_NAMES:
        setattr(torchvision.ops, name, getattr(ops, name))
    for name in LOSS_NAMES:
        setattr(torchvision.ops, name, getattr(losses, name))


class Collector:
    """A pytest plugin: skips device tests without the device, deselects the opcheck
    tests, and records each test's outcome."""

    def __init__(self) -> None:
        self.outcomes: dict[str, str] = {}
        self.messages: dict[str, str] = {}
        self.deselected = 0

    def pytest_collection_modifyitems(self, config: Any, items: list[Any]) -> None:
        import pytest
        import torch

        kept, dropped = [], []
        for item in items:
            (dropped if item.name.startswith(OPCHECK_PREFIXES) else kept).append(item)
            if item.get_closest_marker("needs_cuda") and not torch.cuda.is_available():
                item.add_marker(pytest.mark.skip(reason="no CUDA device"))
            if item.get_closest_marker("needs_mps") and not torch.backends.mps.is_available():
                item.add_marker(pytest.mark.skip(reason="no MPS device"))
        self.deselected = len(dropped)
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "call" or report.outcome != "passed":
            if report.nodeid in self.outcomes and self.outcomes[report.nodeid] != "passed":
                return  # keep the first failure (setup) of a test
            self.outcomes[report.nodeid] = report.outcome
            if report.outcome == "failed":
                self.messages[report.nodeid] = _last_line(report.longreprtext)


def _last_line(text: str) -> str:
    """The error line of a pytest failure report (``E   ...``), shortened."""
    errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    line = errors[0] if errors else (text.strip().splitlines() or ["?"])[-1]
    return line if len(line) <= 160 else line[:157] + "..."


def known_reason(nodeid: str) -> str | None:
    for pattern, reason in KNOWN.items():
        if re.search(pattern, nodeid):
            return reason
    return None


def report(collector: Collector) -> int:
    """Print the counts per class and the failures; the number of unexpected failures."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for nodeid, outcome in collector.outcomes.items():
        counts[nodeid.split("::")[1]][outcome] += 1
    print(f"\n{'class':28} {'passed':>7} {'failed':>7} {'skipped':>8}")
    for name, row in sorted(counts.items()):
        print(f"{name:28} {row['passed']:>7} {row['failed']:>7} {row['skipped']:>8}")
    print(f"(opcheck tests deselected: {collector.deselected})")
    failed = sorted(n for n, o in collector.outcomes.items() if o == "failed")
    known: dict[str, list[str]] = defaultdict(list)
    unexpected = []
    for nodeid in failed:
        reason = known_reason(nodeid)
        (known[reason] if reason else unexpected).append(nodeid)
    for reason, nodeids in known.items():
        tests = sorted({n.split("::", 1)[1].split("[")[0] for n in nodeids})
        print(f"known ({len(nodeids)}): {', '.join(tests)}\n    {reason}")
    for nodeid in unexpected:
        print(f"UNEXPECTED: {nodeid}\n    {collector.messages.get(nodeid, '')}")
    print(f"\n{len(failed)} failed, {len(unexpected)} unexpected")
    return len(unexpected)


def write_failures_dict(path: Path) -> None:
    """An empty opcheck failures dict, formatted as torch's loader insists."""
    path.write_text('{"_description": "", "_version": 1, "data": {}}')
    try:
        from torch.testing._internal.optests.generate_tests import FailuresDict
    except ImportError:
        return
    FailuresDict.load(str(path)).save()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("test_file", type=Path, help="a local copy of torchvision's test_ops.py")
    parser.add_argument("--reference", action="store_true", help="run without patching")
    parser.add_argument("--classes", nargs="+", default=list(CLASSES), help="test classes")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    args = parser.parse_args(argv)
    if not args.test_file.is_file():
        parser.error(f"test_file {str(args.test_file)!r} is not a file")
    try:
        import pytest
        import torchvision  # noqa: F401
    except ImportError as error:
        print(f"torchvision_dropin: error: {error} (run in an environment with them)")
        return 2
    if not args.reference:
        patch_torchvision()
    collector = Collector()
    with tempfile.TemporaryDirectory(prefix="tv_dropin_") as tmp:
        folder = Path(tmp)
        shutil.copyfile(args.test_file, folder / "test_ops.py")
        (folder / "common_utils.py").write_text(COMMON_UTILS)
        (folder / "pytest.ini").write_text(PYTEST_INI)
        write_failures_dict(folder / "optests_failures_dict.json")
        selection = " or ".join(args.classes)
        code = pytest.main(
            [
                str(folder / "test_ops.py"),
                "-c",
                str(folder / "pytest.ini"),
                "--rootdir",
                str(folder),
                "-p",
                "no:cacheprovider",
                "-p",
                "no:warnings",
                "-q",
                "-k",
                selection,
                *args.pytest_args,
            ],
            plugins=[collector],
        )
    if not collector.outcomes:
        print(f"torchvision_dropin: error: no test ran (pytest exit code {int(code)})")
        return 2
    return 1 if report(collector) else 0


if __name__ == "__main__":
    sys.exit(main())
