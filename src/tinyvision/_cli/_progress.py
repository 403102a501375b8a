"""Progress for long CLI jobs: a tqdm bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

import sys
from typing import IO, Any

__all__ = ["TrainProgress"]


class TrainProgress:
    """A callback for trainer events (``kind``, ``epoch``, ``epochs``, ``step``, ...).

    On a terminal it draws one tqdm bar over all steps, with the epoch and loss; when the
    output is a file or a pipe it prints one line per epoch instead. ``enabled=False``
    (e.g. on ranks other than 0) shows nothing; ``lines=False`` keeps the bar but drops the
    per-epoch lines (for jobs that print their own summary).
    """

    def __init__(
        self,
        label: str,
        *,
        stream: IO[str] | None = None,
        enabled: bool = True,
        lines: bool = True,
    ) -> None:
        self.label = label
        self.lines = lines
        self.stream = stream if stream is not None else sys.stdout
        self.enabled = enabled
        self.interactive = enabled and bool(getattr(self.stream, "isatty", lambda: False)())
        self._bar: Any = None

    def __call__(self, event: Any) -> None:
        if not self.enabled:
            return
        if self.interactive:
            self._draw(event)
        elif event.kind == "epoch" and self.lines:
            line = (
                f"{self.label}: epoch {event.epoch}/{event.epochs}  loss {event.loss:.4f}  "
                f"lr {event.lr:.4g}  {event.elapsed:.1f}s"
            )
            line += _metrics_text(event)
            if event.checkpoint:
                line += f"  saved {event.checkpoint}"
            print(line, file=self.stream, flush=True)

    def _draw(self, event: Any) -> None:
        from tqdm import tqdm

        if self._bar is None:
            self._bar = tqdm(
                total=event.total_steps,
                initial=event.step,
                desc=self.label,
                file=self.stream,
                unit="step",
                dynamic_ncols=True,
                leave=True,
            )
        if event.kind == "step":
            self._bar.update(event.step - self._bar.n)
        elif event.kind == "epoch":
            self._bar.set_postfix_str(f"epoch {event.epoch}/{event.epochs} loss {event.loss:.4f}")

    def close(self) -> None:
        """Finish the bar (if one was drawn)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _metrics_text(event: Any) -> str:
    """The validation of an epoch event (results.csv's ``metrics/...`` values), if any."""
    metrics = getattr(event, "metrics", None)
    if not metrics:
        return ""
    shown = "  ".join(
        f"{name.split('/', 1)[1]} {value:.4f}"
        for name, value in metrics.items()
        if name.startswith("metrics/")
    )
    return f"  {shown}{'  (best)' if getattr(event, 'best', False) else ''}"
