"""The warning category of ill-defined metric values (named as in scikit-learn)."""

from __future__ import annotations

import warnings


class UndefinedMetricWarning(UserWarning):
    """A metric is ill-defined for the given input (e.g. one class only, nothing predicted).

    Same name and base class as ``sklearn.exceptions.UndefinedMetricWarning``, so warning
    filters written by name carry over.
    """


def warn_undefined(message: str, *, stacklevel: int = 3) -> None:
    """Emit an :class:`UndefinedMetricWarning` pointing at the caller's caller."""
    warnings.warn(message, UndefinedMetricWarning, stacklevel=stacklevel)
