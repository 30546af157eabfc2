"""Hostile input: free text cannot change the generated HCL's structure, and no config can crash
the loader with anything but the project's own error. (Terraform core's reading of the same
strings is checked in test_terraform_features.py.)"""

from __future__ import annotations

import contextlib
import string
import tomllib
import unicodedata

import hcl2
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quilt_cross_account import config
from quilt_cross_account.config import ConfigError, loader
from quilt_cross_account.terraform import hcl, render

from tests.util import HCL_VALUES, blocks

# Any Unicode a TOML file can hold, with the characters that matter to HCL made likely.
NASTY = st.sampled_from(
    [
        '"',
        "\\",
        "\n",
        "\r",
        "\t",
        "${",
        "%{",
        "$${",
        "%%{",
        "}",
        "{",
        "#",
        "//",
        "/*",
        "<<EOF",
        "\x00",
        "\x7f",
        "é",
        "😀",
        "\u2028",
    ]
)
TEXT = st.lists(
    st.one_of(NASTY, st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)), max_size=12
).map("".join)
# Terraform stores strings in NFC, so the encoder writes only those (config validation rejects
# the rest with its key named; the agreement with Terraform is in test_terraform_features.py).
NFC_TEXT = TEXT.map(lambda t: unicodedata.normalize("NFC", t))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(NFC_TEXT)
def test_string_literal_round_trips(text):
    encoded = hcl.string(text)
    assert encoded.isascii() and "\n" not in encoded
    parsed = hcl2.loads(f"x = {encoded}\n", serialization_options=HCL_VALUES)
    assert parsed["x"] == text


@SETTINGS
@given(TEXT)
def test_string_literal_refuses_text_terraform_would_change(text):
    if unicodedata.is_normalized("NFC", text):
        assert (
            hcl2.loads(f"x = {hcl.string(text)}\n", serialization_options=HCL_VALUES)["x"] == text
        )
    else:
        with pytest.raises(hcl.HclEncodeError, match="not in Unicode NFC form"):
            hcl.string(text)


def test_string_literal_refuses_a_combining_sequence():
    with pytest.raises(hcl.HclEncodeError, match="NFC"):
        hcl.string("cafe\u0301")
    assert hcl.string("caf\u00e9") == '"caf\\u00E9"'


@SETTINGS
@given(st.dictionaries(NFC_TEXT.filter(bool), NFC_TEXT, max_size=5))
def test_objects_round_trip_keys_and_values(mapping):
    parsed = hcl2.loads(f"x = {hcl.value(mapping)}\n", serialization_options=HCL_VALUES)
    got = {k: v for k, v in parsed["x"].items()}
    assert got == mapping


TAG_KEY = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20).filter(
    lambda k: not k.lower().startswith("aws:")
)
TAG_VALUE = TEXT.filter(lambda v: len(v) <= 256)
NAME = st.text(string.ascii_letters + string.digits + '-_.${}%"\\ \n', min_size=1, max_size=30)
FIELD_TEXT = TEXT.filter(bool)


@SETTINGS
@given(
    tags=st.dictionaries(TAG_KEY, TAG_VALUE, max_size=4),
    selector_name=NAME,
    field_value=FIELD_TEXT,
    trail_name=NAME,
)
def test_free_text_reaches_the_root_call_verbatim_and_adds_nothing(
    tags, selector_name, field_value, trail_name
):
    raw = {
        "control_account_ids": ["111122223333"],
        "buckets": ["data-bucket"],
        "tags": tags,
        "cloudtrail": {
            "mode": "external",
            "trail_name": trail_name,
            "extra_advanced_event_selectors": [
                {
                    "name": selector_name,
                    "field_selectors": [{"field": "eventName", "equals": [field_value]}],
                }
            ],
        },
    }
    try:
        model = config.validate(raw)
    except ConfigError as exc:
        # Rejected: each problem names its key (trail names have a strict pattern).
        assert all(": " in p for p in exc.problems)
        return
    root = render.render(model)[f"{render.ROOT_DIR}/main.tf"]
    parsed = hcl2.loads(root, serialization_options=HCL_VALUES)
    # Exactly the blocks the template writes: nothing added by the input.
    assert set(parsed) == {"provider", "module", "output"}
    assert set(blocks(parsed, "module")) == {"quilt_cross_account"}
    assert set(blocks(parsed, "output")) == {"cloudtrail_bucket", "trail_arn", "selector_style"}
    call = blocks(parsed, "module")["quilt_cross_account"]
    assert call["trail_name"] == trail_name
    selector = call["extra_advanced_event_selectors"][0]
    assert selector["name"] == selector_name
    assert [v for v in selector["field_selectors"][0]["equals"]] == [field_value]
    if tags:
        got = {k: v for k, v in call["tags"].items()}
        assert got == tags


# -- The loader under fuzz: TOML documents built from the config's own vocabulary and noise.

KEYS = sorted(
    loader.TOP_LEVEL_KEYS
    | set(loader.CLOUDTRAIL_DEFAULTS)
    | {
        "name",
        "existing_policy",
        "sns_topic_arn",
        "kms_key_arn",
        "type",
        "values",
        "field",
        "equals",
    }
)
SCALAR = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    TEXT,
    st.sampled_from(
        [
            "111122223333",
            "bucket-in-data-account",
            "aws",
            "create",
            "external",
            "none",
            "auto",
            "basic",
            "advanced",
            "All",
            "policies",
        ]
    ),
    st.datetimes(),
)
KEY = st.one_of(st.sampled_from(KEYS), st.text(min_size=1, max_size=10))
DOCUMENT = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEY, inner, max_size=5)),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEY, DOCUMENT, max_size=8))
def test_fuzzed_toml_documents_only_raise_config_errors(tmp_path_factory, document):
    try:
        text = tomli_w.dumps(document)
    except (TypeError, ValueError):
        return  # not representable in TOML (e.g. mixed-type arrays in older TOML writers)
    path = tmp_path_factory.mktemp("fuzz") / "config.toml"
    path.write_text(text, "utf-8")
    try:
        model = config.load(path)
    except ConfigError as exc:
        assert exc.problems and all(isinstance(p, str) and ": " in p for p in exc.problems)
        return
    render.render(model)  # whatever validation accepts, the renderer can write


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_only_raises_config_errors(text):
    try:
        raw = loader._parse_toml(text, "<fuzz>")
    except ConfigError:
        return
    assert isinstance(raw, dict) and raw == tomllib.loads(text)
    with contextlib.suppress(ConfigError):
        config.validate(raw)
