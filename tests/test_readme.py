"""The README against the code: its config reference lists exactly the keys the loader accepts,
with the loader's defaults; its exit codes are the CLI's; its contents and links match its
headings."""

from __future__ import annotations

import re
import tomllib

from quilt_cross_account import errors
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


def test_exit_codes_are_the_clis():
    codes = {
        int(line.split("|")[1])
        for line in section("### Exit codes").splitlines()
        if re.match(r"^\| *\d+ \|", line)
    }
    defined = {
        value
        for name, value in vars(errors).items()
        if name.startswith("EXIT_") and isinstance(value, int)
    }
    assert defined >= {0, 1, 2, 3, 130}
    assert codes == defined


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def headings() -> list[tuple[int, str]]:
    """(level, text) of the ## and ### headings outside code blocks."""
    found, in_code = [], False
    for line in README.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        elif not in_code and (match := re.match(r"^(##+) (.+)$", line)):
            found.append((len(match[1]), match[2]))
    return found


def test_contents_lists_every_section_in_order():
    listed = re.findall(r"^( *)- \[([^\]]+)\]\(#([^)]+)\)$", section("## Contents"), re.MULTILINE)
    expected = [(level, text) for level, text in headings() if text != "Contents"]
    assert [(2 + len(indent) // 2, text) for indent, text, _ in listed] == expected
    assert [target for _, _, target in listed] == [anchor(text) for _, text in expected]


def test_links_within_the_readme_resolve():
    anchors = {anchor(text) for _, text in headings()}
    targets = set(re.findall(r"\]\(#([^)]+)\)", README))
    assert sorted(targets - anchors) == []
