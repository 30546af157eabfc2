"""Every error the tool reports, its exit codes, and the one-line report on stderr.

Each stage raises one of these; only the entry points (`cli`, the CDKTF app) turn them into
lines on stderr and an exit code, so no stage reaches into another for either.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

EXIT_OK = 0
EXIT_DRIFT = 1  # `generate --check` found differences; `import-policies` could not read AWS
EXIT_USAGE = 2  # bad command line, config or output directory: nothing was written


class ConfigError(Exception):
    """Every problem found in a config, each as 'key: rule'."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class OutputError(Exception):
    """The output directory cannot be written as asked (reported like a config error)."""

    @property
    def problems(self) -> list[str]:
        return [str(self)]


class AwsReadError(Exception):
    """Reading from AWS failed; `problems` holds one line per failure."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


ReportedError = ConfigError | OutputError | AwsReadError


def report(exc: ReportedError) -> None:
    """One `error: ...` line on stderr per problem."""
    report_problems(exc.problems)


def report_problems(problems: Sequence[str]) -> None:
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
