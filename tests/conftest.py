import os

from hypothesis import settings

pytest_plugins = ["tests.standin.fixtures"]

# A commit's verdict is reproducible: every run of `make test` (CI included) tries the same
# examples (Hypothesis's own "ci" profile: derandomized, no example database). `make fuzz`
# explores fresh random examples with HYPOTHESIS_PROFILE=explore.
settings.register_profile("repro", settings.get_profile("ci"))
settings.register_profile("explore", settings.get_profile("default"), deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repro"))
