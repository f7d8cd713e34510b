"""Exceptions raised by thermesh.

Every problem with a user's input is an :class:`InputError` whose message is one line naming the
file, the line (where there is one) and the problem, so the CLI can print it and exit with
status 2 without a traceback.
"""
from __future__ import annotations

from pathlib import Path


class ThermeshError(Exception):
    """Base class of every error thermesh raises on purpose."""


class InputError(ThermeshError, ValueError):
    """A floorplan, power or configuration input is invalid.

    Parameters
    ----------
    source : str or Path or None
        The file (or a short description such as ``"<floorplan>"``) the problem is in.
    problem : str
        What is wrong, as one line.
    line : int, optional
        1-based line number in ``source``.
    """

    def __init__(self, source: str | Path | None, problem: str, line: int | None = None):
        self.source = str(source) if source is not None else "<input>"
        self.line = line
        self.problem = " ".join(str(problem).split())
        where = self.source if line is None else f"{self.source}:{line}"
        super().__init__(f"{where}: {self.problem}")


class SolverError(ThermeshError, RuntimeError):
    """The linear solver did not converge; no temperature field is returned."""
