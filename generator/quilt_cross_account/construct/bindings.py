"""Load only the provider bindings a program uses (CDK for Terraform's: CDK Terrain's provider
package loads its submodules lazily already).

`import cdktf_cdktf_provider_aws.s3_bucket` first runs the package's `__init__`, which imports
all ~2,200 resource submodules: ~8 of the ~11 s the bindings take to load. `import_lazily()`
registers the package without running that `__init__` (only its `_jsii` part, which loads the
jsii assembly that every submodule needs), so each `from cdktf_cdktf_provider_aws.<resource>
import ...` loads just that submodule. Attribute access on the package (`aws.vpc`) still works:
it imports the submodule on demand.

main.py (the app) and the tests opt in; `generator.stack` itself imports the bindings the usual
way, so a program that embeds the construct keeps the package exactly as it ships.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Callable

# jsii starts Node when `_jsii` is loaded below: choose the Node first.
from quilt_cross_account.construct import (
    family,
    node,  # noqa: F401
)

PACKAGE = family.CDKTF.provider


def import_lazily(package: str = PACKAGE) -> bool:
    """Register `package` with lazy submodules; False if it was already imported (or absent)."""
    if package in sys.modules:
        return False
    spec = importlib.util.find_spec(package)
    if spec is None or spec.submodule_search_locations is None:
        return False
    module = importlib.util.module_from_spec(spec)  # the package, its __init__ not executed
    module.__getattr__ = _submodule_loader(module)  # type: ignore[method-assign]
    sys.modules[package] = module
    try:
        jsii_part = importlib.import_module(f"{package}._jsii")
    except BaseException:
        del sys.modules[package]  # leave the ordinary import path intact
        raise
    # What the real __init__ re-exports from `_jsii`.
    module.__jsii_assembly__ = jsii_part.__jsii_assembly__  # type: ignore[attr-defined]
    return True


def _submodule_loader(package: types.ModuleType) -> Callable[[str], types.ModuleType]:
    def load(name: str) -> types.ModuleType:
        if name.startswith("__"):
            raise AttributeError(name)
        qualified = f"{package.__name__}.{name}"
        try:
            return importlib.import_module(qualified)
        except ModuleNotFoundError as exc:
            if exc.name != qualified:
                raise  # the submodule exists but something it imports does not
            raise AttributeError(f"module {package.__name__!r} has no attribute {name!r}") from None

    return load
