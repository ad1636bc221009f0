"""User-facing errors.

A :class:`BenchError` carries a one-line message that says what is wrong and what to do. The CLI prints it
without a traceback and exits with code 2.
"""

from __future__ import annotations


class BenchError(Exception):
    """Bad input or a missing resource; the message is shown to the user as is."""

    exit_code = 2

    def __init__(self, problem: str, fix: str | None = None):
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem} {fix}".strip() if fix else problem)
