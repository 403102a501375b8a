"""The worked example of docs/metrics.md runs and prints exactly what the guide shows."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"


def test_the_guide_example_prints_what_the_guide_says() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    blocks = re.findall(r"```(\w+)\n(.*?)```", text, flags=re.S)
    # the first python block is the worked example; the text block after it its output
    index = next(i for i, (lang, _) in enumerate(blocks) if lang == "python" and "lazy" in _)
    code = blocks[index][1]
    expected = next(body for lang, body in blocks[index + 1 :] if lang == "text")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(GUIDE), "exec"), {"__name__": "guide"})
    assert out.getvalue() == expected
