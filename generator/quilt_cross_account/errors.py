"""Every error the tool reports, its exit codes, and the one-line report on stderr.

Each stage raises one of these; only the entry points (`cli`, the CDKTF app) turn them into
lines on stderr and an exit code, so no stage reaches into another for either.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

EXIT_OK = 0
EXIT_DRIFT = 1  # `generate --check` found differences (and only that)
EXIT_CHECK_FAILED = 1  # `verify`: a check failed (and every read succeeded)
EXIT_USAGE = 2  # bad command line, config, input file or output directory: nothing was written
EXIT_AWS = 3  # reading from AWS failed (`import-policies`, `verify`): nothing written or judged
EXIT_INTERNAL = 70  # a bug: an unexpected error, reported in one line (EX_SOFTWARE)
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM: the run stopped and cleaned up after itself

EXIT_CODES_HELP = (
    f"exit codes: {EXIT_OK} ok; {EXIT_DRIFT} generated files differ (--check) or a verify "
    f"check failed; {EXIT_USAGE} "
    f"usage, config or output error (nothing written); {EXIT_AWS} AWS read failure; "
    f"{EXIT_INTERNAL} internal error; {EXIT_INTERRUPTED} interrupted"
)


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


def guarded(command: Callable[[], int]) -> int:
    """Run an entry point: Ctrl-C and SIGTERM end it in one line with EXIT_INTERRUPTED (the
    writer's cleanup runs on the way out), and any unexpected exception is one line on stderr
    with EXIT_INTERNAL, never a traceback and never the drift code."""
    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        return command()
    except KeyboardInterrupt:
        print("interrupted; nothing was changed by this run", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the last line of defence: report, do not dump a traceback
        detail = " ".join(str(exc).split()) or "no details"
        print(
            f"error: internal error ({type(exc).__name__}: {detail}); please report it",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends: for the few renames that commit a run."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, OSError):  # no signal masks here
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
