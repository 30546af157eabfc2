"""The README against the code: its config reference lists exactly the keys the loader accepts,
with the loader's defaults."""

from __future__ import annotations

import re
import tomllib

from quilt_cross_account.config import bucket_tables, loader

from tests.util import REPO

README = (REPO / "README.md").read_text("utf-8")
ROW = re.compile(r"^\| `(?P<key>[^`]+)` \| (?P<default>[^|]+) \| (?P<meaning>.+?) \|$")


def section(heading: str) -> str:
    """The text under `heading` up to the next heading of any level."""
    start = README.index(f"\n{heading}\n") + len(heading) + 2
    following = re.search(r"^#", README[start:], re.MULTILINE)
    return README[start : start + following.start()] if following else README[start:]


def config_reference() -> dict[str, str]:
    """Documented key -> its default cell."""
    rows = {}
    for line in section("### Config reference").splitlines():
        if line.startswith("| `"):
            match = ROW.match(line)
            assert match, (
                f"config reference row not in the | `key` | default | meaning | form: {line}"
            )
            assert match["key"] not in rows, f"{match['key']} documented twice"
            rows[match["key"]] = match["default"].strip()
    return rows


def accepted_keys() -> set[str]:
    """Every key a config may hold, spelled as the README spells them."""
    assert "cloudtrail" in loader.TOP_LEVEL_KEYS  # documented through its cloudtrail.* keys
    return (
        (loader.TOP_LEVEL_KEYS - {"cloudtrail"})
        | {f"cloudtrail.{key}" for key in loader.CLOUDTRAIL_DEFAULTS}
        | {f"buckets[].{key}" for key in bucket_tables.BUCKET_KEYS}
    )


def test_config_reference_documents_exactly_the_accepted_keys():
    documented = set(config_reference())
    assert sorted(accepted_keys() - documented) == [], "accepted but not documented"
    assert sorted(documented - accepted_keys()) == [], "documented but not accepted"


def test_config_reference_gives_the_loader_defaults_of_the_trail():
    rows = config_reference()
    for key, default in loader.CLOUDTRAIL_DEFAULTS.items():
        cell = rows[f"cloudtrail.{key}"]
        documented = None if cell == "none" else tomllib.loads(f"v = {cell.strip('`')}")["v"]
        assert documented == default, key


def test_config_reference_marks_the_required_keys():
    required = {key for key, default in config_reference().items() if default == "required"}
    assert required == {"control_account_ids", "buckets", "buckets[].name"}
