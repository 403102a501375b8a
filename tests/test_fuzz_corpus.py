"""Replay the fuzzers' seeds and every saved crasher (``tests/fuzz_corpus/<target>/``).

A seed is a valid file: its reader must accept it. A saved input once made a reader fail
unclearly (or hang, or eat memory); now it must read or give one clear error naming the
file (see ``tests/fuzz/targets.py`` for exactly what is allowed).
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from fuzz import targets

CORPUS = Path(__file__).parent / "fuzz_corpus"
SAVED = sorted(p for p in CORPUS.glob("*/*") if p.is_file() and p.parent.name in targets.TARGETS)


def test_every_corpus_folder_is_a_target() -> None:
    folders = {p.name for p in CORPUS.iterdir() if p.is_dir()} if CORPUS.is_dir() else set()
    assert folders <= set(targets.TARGETS)


@pytest.mark.parametrize("name", sorted(targets.TARGETS))
def test_seeds_are_read(name: str) -> None:
    for data in targets.seeds(name):
        assert targets.run(name, data) is None


@pytest.mark.parametrize("path", SAVED, ids=[f"{p.parent.name}/{p.name[:20]}" for p in SAVED])
def test_saved_inputs_give_a_clear_error_or_read(path: Path) -> None:
    if not path.name.startswith("oom-"):
        targets.run(path.parent.name, path.read_bytes())  # UnclearError fails the test
        return
    tracemalloc.start()  # an input that once ate gigabytes must now stay small
    try:
        targets.run(path.parent.name, path.read_bytes())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 256 << 20


def test_an_unclear_error_is_caught() -> None:
    # the check itself: a reader error that does not name the file is not acceptable
    def broken(data: bytes) -> Path:
        raise ValueError("could not convert string to float: 'x'")

    targets.TARGETS["broken"] = broken
    try:
        with pytest.raises(targets.UnclearError, match="not one clear line naming the file"):
            targets.run("broken", b"")
    finally:
        del targets.TARGETS["broken"]
