"""Fuzz one reader target for a while: ``python tests/fuzz/run.py TARGET [options]``.

Engines:

* ``atheris`` (coverage-guided libFuzzer, ``pip install -e .[fuzz]``): stops at the first
  crash, timeout (``-timeout``) or memory excess (``-rss_limit_mb``) and writes the input
  as ``crash-<sha1>``, ``timeout-<sha1>`` or ``oom-<sha1>`` in ``--crashes``.
* ``mutate`` (no extra dependency): random byte-level mutation of the corpus (bit flips,
  inserted or deleted runs, tokens such as ``1e999``, ``[``, ``*a``, ``\\xff``, repeated
  chunks, splices); a per-input alarm bounds the time and ``RLIMIT_AS`` the memory. It
  goes on after a failure, keeping one input per kind of failure.

Exit status: 0 when nothing failed, 1 when inputs were saved to ``--crashes``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: `fuzz.targets`

from fuzz import targets

TOKENS = [
    b"1e999", b"-1e999", b"1e300", b"18446744073709551616", b"-9223372036854775809",
    b"9" * 40, b"0", b"-1", b"nan", b"inf", b"NaN", b"Infinity", b"null", b"true", b"\"\"",
    b"[", b"]", b"{", b"}", b",", b":", b"\"", b"\\u0000", b"\xff", b"\xef\xbb\xbf",
    b"\n", b"\r", b"\t", b" ", b"*a", b"&a ", b"!!python/name:os.system", b"<<: ",
    b"<", b">", b"&amp;", b"<!DOCTYPE a [<!ENTITY e \"x\">]>", b"&e;", b"<object>",
    b"\x80\x02", b"\x80\x04\x95", b"N.", b"}q\x00", b"(lp0\n", b"\x8a\xff", b"\x00" * 8,
]  # fmt: skip


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Timeout


def mutate(data: bytes, corpus: list[bytes], rng: random.Random) -> bytes:
    """One to four random edits of ``data``."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randint(0, len(buf))
        kind = rng.randrange(8)
        if kind == 0 and buf:
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif kind == 1 and buf:
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif kind == 2:
            buf[pos:pos] = rng.choice(TOKENS)
        elif kind == 3 and buf:
            end = min(len(buf), pos + rng.randint(1, 16))
            del buf[pos:end]
        elif kind == 4 and buf:
            end = min(len(buf), pos + rng.randint(1, 8))
            buf[pos:pos] = bytes(buf[pos:end]) * rng.choice((2, 10, 1000, 20000))
        elif kind == 5:
            other = rng.choice(corpus)
            cut = rng.randint(0, len(other))
            buf[pos:] = other[cut:]
        elif kind == 6:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif kind == 7:
            digits = str(rng.choice((2**63, 2**64, -(2**63) - 1, 10**20, 2**1100)))
            buf[pos:pos] = digits.encode()
    return bytes(buf[:1_000_000])


def _signature(exc: BaseException) -> str:
    """What kind of failure: the exception type and where it was raised."""
    cause = exc.__cause__ or exc
    tb = cause.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else "?"
    return f"{type(cause).__name__}@{where}"


def run_mutate(args: argparse.Namespace, corpus: list[bytes]) -> int:
    rng = random.Random(args.seed)
    signal.signal(signal.SIGALRM, _alarm)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _vm_size() + args.rss_limit_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    seen: set[str] = set()
    deadline = time.monotonic() + args.seconds
    runs = failures = 0
    while time.monotonic() < deadline:
        data = mutate(rng.choice(corpus), corpus, rng)
        runs += 1
        kind = None
        signal.alarm(args.timeout)
        try:
            targets.run(args.target, data)
        except _Timeout:
            kind, signature = "timeout", "timeout"
        except MemoryError:
            kind, signature = "oom", "oom"
        except targets.UnclearError as exc:
            kind, signature = "crash", _signature(exc)
        finally:
            signal.alarm(0)
        if kind is not None and signature not in seen:
            seen.add(signature)
            failures += 1
            path = _save(args.crashes, kind, data)
            print(f"{args.target}: {kind} ({signature}) saved as {path}", flush=True)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    print(f"{args.target}: {runs} inputs in {args.seconds:g} s, {failures} failure kind(s)")
    return 1 if failures else 0


def _vm_size() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _save(folder: Path, kind: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}-{hashlib.sha1(data).hexdigest()}"
    path.write_bytes(data)
    return path


def instrument() -> None:
    """Import the readers with atheris's coverage instrumentation (before anything else
    imports them: a module imported earlier stays uninstrumented)."""
    import atheris

    with atheris.instrument_imports(include=["tinyvision", "yaml", "csv"]):
        import tinyvision._cli.anchors
        import tinyvision.data.cifar
        import tinyvision.data.formats
        import tinyvision.train.evaluate  # noqa: F401


def run_atheris(args: argparse.Namespace) -> int:
    import atheris

    def test_one_input(data: bytes) -> None:
        try:
            targets.run(args.target, data)
        except targets.UnclearError:
            _save(args.crashes, "crash", data)  # libFuzzer's own copy may be cut short
            raise

    args.crashes.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.argv[0],
        str(args.corpus),
        f"-max_total_time={int(args.seconds)}",
        f"-timeout={args.timeout}",
        f"-rss_limit_mb={args.rss_limit_mb}",
        f"-artifact_prefix={args.crashes}/",
        "-max_len=65536",
        f"-seed={args.seed}",
        "-print_final_stats=1",
    ]
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()  # exits the process: 0 when the time ran out, else libFuzzer's status
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=sorted(targets.TARGETS))
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--corpus", type=Path, required=True, help="working corpus folder")
    parser.add_argument("--crashes", type=Path, required=True, help="where failures go")
    parser.add_argument("--engine", choices=("atheris", "mutate"), default="atheris")
    parser.add_argument("--timeout", type=int, default=5, help="seconds per input")
    parser.add_argument("--rss-limit-mb", type=int, default=2048)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.engine == "atheris":
        instrument()
    args.corpus.mkdir(parents=True, exist_ok=True)
    for data in targets.seeds(args.target):
        (args.corpus / f"seed-{hashlib.sha1(data).hexdigest()}").write_bytes(data)
    if args.engine == "atheris":
        return run_atheris(args)
    corpus = [p.read_bytes() for p in sorted(args.corpus.iterdir()) if p.is_file()]
    corpus += [p.read_bytes() for p in sorted(args.crashes.glob("*")) if p.is_file()]
    return run_mutate(args, corpus)


if __name__ == "__main__":
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    sys.exit(main())
