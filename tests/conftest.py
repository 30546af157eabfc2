import os

import pytest
from hypothesis import settings

from tests import markers

pytest_plugins = ["tests.standin.fixtures", "tests.aws_server"]

# A commit's verdict is reproducible: every run of `make test` (CI included) tries the same
# examples (Hypothesis's own "ci" profile: derandomized, no example database). `make fuzz`
# explores fresh random examples with HYPOTHESIS_PROFILE=explore.
settings.register_profile("repro", settings.get_profile("ci"))
settings.register_profile("explore", settings.get_profile("default"), deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repro"))

# Tests are grouped by what they need (tests/markers.py): `terraform`, `cdktf`, `aws`, else
# `pure`. The markers come from the code each test runs, before `-m` selects (tryfirst).
_PURE_GUARD = pytest.StashKey[markers.PureGuard]()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    markers.apply(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    """A session of pure tests only runs with the heavy packages blocked (tests/markers.py)."""
    if session.items and all(item.get_closest_marker(markers.PURE) for item in session.items):
        session.stash[_PURE_GUARD] = markers.PureGuard()


def pytest_sessionfinish(session: pytest.Session) -> None:
    guard = session.stash.get(_PURE_GUARD, None)
    if guard is None:
        return
    loaded = guard.finish()
    if loaded:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = (
            "a session of pure tests imported "
            + ", ".join(loaded)
            + ": a test needs a marker (tests/markers.py)"
        )
        if reporter is not None:
            reporter.write_line(f"ERROR: {message}", red=True, bold=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
