"""Exception types shared across tinyvision."""

from __future__ import annotations


class UserError(Exception):
    """A problem with what the user asked for (a file, an option, a data set).

    The CLI prints it as one line on stderr and exits with code 2. Library functions raise
    plain ``ValueError``/``TypeError`` for bad arguments; ``UserError`` is for conditions
    found in files and environments (a corrupt archive, a missing data set, no GPU).
    """
