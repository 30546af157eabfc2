"""Extract the Terraform schema of the types in resources.txt from the AWS provider bindings.

Two binding families carry the same generated code: cdktf's `cdktf-cdktf-provider-aws` and CDK
Terrain's `cdktn-provider-aws` (module `cdktn` instead of `cdktf`). Sources, all inside the jsii
tarball the binding ships (`<package>/_jsii/provider-aws@<version>.jsii.tgz`):
- `package/.jsii`: every config struct with argument names (the docs link anchor is the exact
  Terraform name), primitive/collection types, required-ness and single-struct vs list blocks;
- `package/lib/<type>/index.js`: the generated TypeScript, embedded as a source map, whose
  `// name - computed: .., optional: .., required: ..` comments and HCL synthesis tables give
  computed flags, list vs set, and the types of computed-only attributes.
Provider facts found in neither (defaults, max items, allowed values, ForceNew) come from OVERLAY.

The default is schema.json from the installed cdktf binding (the one the project pins); the other
schemas of the compatibility matrix (schemas/aws-<provider version>.json, see versions.py) come
from a downloaded wheel. Each file records its source: package, version, provider version and
the sha256 of the jsii tarball (and of the wheel).

Usage: python -m tests.standin.extract_schema [--check]
       python -m tests.standin.extract_schema --wheel WHEEL --output tests/standin/schemas/X.json
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent
RESOURCES_TXT = HERE / "resources.txt"
SCHEMA_JSON = HERE / "schema.json"
_TARBALL_RE = re.compile(r"^(\w+)/_jsii/provider-aws@([\w.+-]+)\.jsii\.tgz$")


@dataclass(frozen=True)
class Family:
    """One family of provider bindings: the same generator, under another core library name."""

    distribution: str  # the package's name on PyPI
    package: str  # its Python import package
    core: str  # the jsii core library the generated code extends (cdktf.TerraformResource, ...)
    assembly: str  # the jsii assembly name of the bindings


FAMILIES = {
    f.package: f
    for f in (
        Family(
            "cdktf-cdktf-provider-aws", "cdktf_cdktf_provider_aws", "cdktf", "@cdktf/provider-aws"
        ),
        Family("cdktn-provider-aws", "cdktn_provider_aws", "cdktn", "@cdktn/provider-aws"),
    )
}
DEFAULT_FAMILY = FAMILIES["cdktf_cdktf_provider_aws"]
KINDS = {"provider": "provider", "resource": "resources", "data": "data_sources"}
# cdktf adds the `alias` meta-argument to the provider config; Terraform owns it, not the provider.
PROVIDER_META_ARGS = {"alias"}

ALLOWED_FIELDS = [
    "errorCode",
    "eventCategory",
    "eventName",
    "eventSource",
    "eventType",
    "readOnly",
    "resources.ARN",
    "resources.type",
    "sessionCredentialFromConsole",
    "userIdentity.arn",
    "vpcEndpointId",
]
SELECTOR_LISTS = ["ends_with", "equals", "not_ends_with", "not_equals", "not_starts_with"]

# ---------------------------------------------------------------------------------------------
# OVERLAY: provider facts that are in neither the jsii assembly nor the generated TypeScript.
# Taken from the hashicorp/aws provider source (SDKv2 schema: Default, MaxItems, ForceNew,
# ValidateFunc, ConflictsWith, StateFunc). Keys are "<kind> <type>/<path>"; values are merged
# into the extracted attribute or block. Extra keys understood by the stand-in provider:
#   default, force_new, allowed (one of), min_items / max_items (on list attributes),
#   length [min, max], pattern, json ("valid": StringIsJSON, "normalize": + StateFunc),
#   bucket_name (DNS-compliant S3 bucket name), arn, conflicts_with (sibling names).
# ---------------------------------------------------------------------------------------------
OVERLAY: dict[str, dict[str, Any]] = {
    "resource aws_cloudtrail/name": {"force_new": True, "length": [3, 128]},
    "resource aws_cloudtrail/enable_log_file_validation": {"default": False},
    "resource aws_cloudtrail/enable_logging": {"default": True},
    "resource aws_cloudtrail/include_global_service_events": {"default": True},
    "resource aws_cloudtrail/is_multi_region_trail": {"default": False},
    "resource aws_cloudtrail/is_organization_trail": {"default": False},
    "resource aws_cloudtrail/event_selector": {
        "max_items": 5,
        "conflicts_with": ["advanced_event_selector"],
    },
    "resource aws_cloudtrail/event_selector/read_write_type": {
        "default": "All",
        "allowed": ["ReadOnly", "WriteOnly", "All"],
    },
    "resource aws_cloudtrail/event_selector/include_management_events": {"default": True},
    "resource aws_cloudtrail/event_selector/data_resource/type": {
        "allowed": ["AWS::DynamoDB::Table", "AWS::Lambda::Function", "AWS::S3::Object"],
    },
    "resource aws_cloudtrail/event_selector/data_resource/values": {"max_items": 250},
    "resource aws_cloudtrail/advanced_event_selector": {"conflicts_with": ["event_selector"]},
    "resource aws_cloudtrail/advanced_event_selector/name": {"length": [0, 1000]},
    "resource aws_cloudtrail/advanced_event_selector/field_selector/field": {
        "allowed": ALLOWED_FIELDS,
    },
    **{
        f"resource aws_cloudtrail/advanced_event_selector/field_selector/{name}": {"min_items": 1}
        for name in [*SELECTOR_LISTS, "starts_with"]
    },
    "resource aws_cloudtrail/insight_selector/insight_type": {
        "allowed": ["ApiCallRateInsight", "ApiErrorRateInsight"],
    },
    "resource aws_s3_bucket/bucket": {
        "force_new": True,
        "bucket_name": True,
        "conflicts_with": ["bucket_prefix"],
    },
    "resource aws_s3_bucket/bucket_prefix": {"force_new": True, "length": [0, 37]},
    "resource aws_s3_bucket/force_destroy": {"default": False},
    "resource aws_s3_bucket/object_lock_enabled": {"force_new": True},
    "resource aws_s3_bucket_ownership_controls/bucket": {"force_new": True, "length": [1, None]},
    "resource aws_s3_bucket_ownership_controls/rule/object_ownership": {
        "allowed": ["BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced"],
    },
    "resource aws_s3_bucket_policy/bucket": {"force_new": True},
    "resource aws_s3_bucket_policy/policy": {"json": "normalize"},
    "resource aws_s3_bucket_public_access_block/bucket": {"force_new": True},
    **{
        f"resource aws_s3_bucket_public_access_block/{name}": {"default": False}
        for name in [
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        ]
    },
    "resource aws_s3_bucket_server_side_encryption_configuration/bucket": {
        "force_new": True,
        "length": [1, 63],
    },
    "resource aws_s3_bucket_server_side_encryption_configuration/expected_bucket_owner": {
        "force_new": True,
        "pattern": r"^\d{12}$",
    },
    (
        "resource aws_s3_bucket_server_side_encryption_configuration"
        "/rule/apply_server_side_encryption_by_default/sse_algorithm"
    ): {"allowed": ["AES256", "aws:kms", "aws:kms:dsse"]},
    "resource aws_sns_topic_policy/arn": {"force_new": True, "arn": True},
    "resource aws_sns_topic_policy/policy": {"json": "normalize"},
    # cdktf renders every provider block as a list; these three are MaxItems 1 in the provider.
    "provider aws/default_tags": {"max_items": 1},
    "provider aws/ignore_tags": {"max_items": 1},
    "provider aws/assume_role_with_web_identity": {"max_items": 1},
    "data aws_iam_policy_document/version": {
        "default": "2012-10-17",
        "allowed": ["2008-10-17", "2012-10-17"],
    },
    "data aws_iam_policy_document/source_policy_documents": {"json": "valid"},
    "data aws_iam_policy_document/override_policy_documents": {"json": "valid"},
    "data aws_iam_policy_document/statement/effect": {
        "default": "Allow",
        "allowed": ["Allow", "Deny"],
    },
    "data aws_iam_policy_document/statement/sid": {"pattern": "^[a-zA-Z0-9]*$"},
}


@dataclass
class TsSource:
    """The generated TypeScript of one provider type, split into top-level sections."""

    class_name: str
    sections: dict[str, str]
    provider_version: str


@dataclass
class Context:
    """What the block walker needs: every jsii type and the TypeScript of the current type."""

    types: dict[str, Any]
    ts: TsSource


def read_type_list(path: Path = RESOURCES_TXT) -> list[tuple[str, str]]:
    """(kind, name) pairs from resources.txt, e.g. ("resource", "aws_s3_bucket")."""
    pairs = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        kind, name = line.split()
        if kind not in KINDS:
            raise ValueError(f"{path.name}: unknown kind {kind!r} in {raw!r}")
        pairs.append((kind, name))
    return pairs


@dataclass(frozen=True)
class Bindings:
    """Where a binding's jsii tarball is: an installed package, or inside a downloaded wheel."""

    family: Family
    version: str  # the bindings' own version (not the provider's)
    member: (
        str  # the tarball's path inside the package: "<package>/_jsii/provider-aws@<v>.jsii.tgz"
    )
    path: Path  # the installed tarball, or the wheel holding it

    @property
    def is_wheel(self) -> bool:
        return self.path.suffix == ".whl"

    @contextmanager
    def tarball(self) -> Iterator[IO[bytes]]:
        if not self.is_wheel:
            with self.path.open("rb") as stream:
                yield stream
            return
        with zipfile.ZipFile(self.path) as wheel, wheel.open(self.member) as stream:
            yield stream

    def provenance(self) -> dict[str, str]:
        """Package, version and sha256 of what was read (and of the wheel, if it was one)."""
        with self.tarball() as stream:
            digest = hashlib.file_digest(stream, "sha256").hexdigest()
        found = {
            "package": self.family.distribution,
            "version": self.version,
            "tarball": self.member,
            "tarball_sha256": digest,
        }
        if self.is_wheel:
            found["wheel"] = self.path.name
            found["wheel_sha256"] = hashlib.sha256(self.path.read_bytes()).hexdigest()
        return found


def _bindings(member: str, path: Path) -> Bindings:
    match = _TARBALL_RE.match(member)
    if match is None or match.group(1) not in FAMILIES:
        raise ValueError(f"{path}: no provider-aws jsii tarball of a known binding family")
    return Bindings(FAMILIES[match.group(1)], match.group(2), member, path)


def installed_bindings(family: Family = DEFAULT_FAMILY) -> Bindings:
    """The binding installed in this environment (the default: the cdktf binding pinned by the
    project's `cdktf` extra)."""
    import importlib.util

    spec = importlib.util.find_spec(family.package)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{family.package} is not installed")
    (tarball,) = (Path(spec.origin).parent / "_jsii").glob("provider-aws@*.jsii.tgz")
    return _bindings(f"{family.package}/_jsii/{tarball.name}", tarball)


def wheel_bindings(wheel: Path) -> Bindings:
    """The binding inside a wheel (`pip download --no-deps <distribution>==<version>`)."""
    with zipfile.ZipFile(wheel) as archive:
        members = [name for name in archive.namelist() if _TARBALL_RE.match(name)]
    if len(members) != 1:
        raise ValueError(f"{wheel}: expected one provider-aws jsii tarball, found {members}")
    return _bindings(members[0], wheel)


# --------------------------------------------------------------------------- tarball reading

# Anchored at line starts: a leading unanchored \w+ is quadratic on the one-line source maps.
# cdktf's compiled JS assigns `Class.tfResourceType = "..."` after the class; cdktn's declares a
# `static tfResourceType = "..."` field inside it.
_TF_TYPE_RE = re.compile(rb'^(\w+)\.tfResourceType = "(\w+)";', re.M)
_STATIC_TF_TYPE_RE = re.compile(rb'^ +static tfResourceType = "(\w+)";', re.M)
_CORES = "|".join(f.core for f in FAMILIES.values()).encode()
_CLASS_RE = re.compile(
    rb"class (\w+) extends (?:" + _CORES + rb")\.Terraform(Resource|DataSource|Provider) "
)
_KIND_OF_BASE = {b"Resource": "resource", b"DataSource": "data", b"Provider": "provider"}
_SOURCE_MAP_RE = re.compile(rb"sourceMappingURL=data:application/json;base64,(\S+)")
_SECTION_RE = re.compile(r"^export (?:class|function|interface) (\w+)", re.M)
_VERSION_RE = re.compile(r"providerVersion: '([^']+)'")


def _identify(js: bytes) -> tuple[str, str, str] | None:
    """(kind, Terraform type name, class name) of a generated index.js, if it defines one."""
    tf_type = _TF_TYPE_RE.search(js)
    if tf_type is not None:
        for match in _CLASS_RE.finditer(js):
            if match.group(1) == tf_type.group(1):
                kind, name = _KIND_OF_BASE[match.group(2)], tf_type.group(2).decode()
                return kind, name, match.group(1).decode()
        return None
    static = _STATIC_TF_TYPE_RE.search(js)
    if static is None:
        return None
    # The field belongs to the last class declared before it.
    owners = list(_CLASS_RE.finditer(js, 0, static.start()))
    if not owners:
        return None
    return (
        _KIND_OF_BASE[owners[-1].group(2)],
        static.group(1).decode(),
        owners[-1].group(1).decode(),
    )


def _split_sections(ts: str) -> dict[str, str]:
    """Top-level `export class|function|interface NAME` sections of a TypeScript file."""
    starts = list(_SECTION_RE.finditer(ts))
    ends = [m.start() for m in starts[1:]] + [len(ts)]
    return {m.group(1): ts[m.start() : end] for m, end in zip(starts, ends, strict=True)}


def _ts_source(js: bytes, class_name: str) -> TsSource:
    source_map = json.loads(base64.b64decode(_SOURCE_MAP_RE.search(js).group(1)))
    ts = source_map["sourcesContent"][0]
    version = _VERSION_RE.search(ts)
    return TsSource(class_name, _split_sections(ts), version.group(1) if version else "")


def scan_tarball(
    stream: IO[bytes], wanted: set[tuple[str, str]]
) -> tuple[dict[str, Any], dict[tuple[str, str], TsSource]]:
    """One streaming pass: the .jsii types, and the TypeScript of each wanted provider type."""
    types: dict[str, Any] = {}
    sources: dict[tuple[str, str], TsSource] = {}
    with tarfile.open(fileobj=stream, mode="r|gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            if member.name == "package/.jsii":
                types = json.loads(tar.extractfile(member).read())["types"]
            elif member.name.startswith("package/lib/") and member.name.endswith("/index.js"):
                js = tar.extractfile(member).read()
                found = _identify(js)
                if found and found[:2] in wanted:
                    sources[found[:2]] = _ts_source(js, found[2])
    return types, sources


# --------------------------------------------------------------------------- TypeScript facts

_FLAGS_RE = re.compile(
    r"^  // (\w+) - computed: (true|false), optional: (true|false), required: (true|false)$", re.M
)
_HCL_RE = re.compile(
    r'^ +(\w+): \{\n +value: [^\n]*,\n +isBlock: (true|false),\n +type: "(\w+)",\n'
    r' +storageClassType: "(\w+)",\n +\}',
    re.M,
)
_GETTER_TYPES: dict[str, Any] = {
    "getStringAttribute": "string",
    "getNumberAttribute": "number",
    "getBooleanAttribute": "bool",
    "getListAttribute": ["list", "string"],
    "getNumberListAttribute": ["list", "number"],
    "getStringMapAttribute": ["map", "string"],
    "getNumberMapAttribute": ["map", "number"],
    "getBooleanMapAttribute": ["map", "bool"],
}


@dataclass(frozen=True)
class Flags:
    computed: bool
    optional: bool
    required: bool


@dataclass(frozen=True)
class Hcl:
    is_block: bool
    kind: str  # simple | list | set | map | struct
    storage: str


def _flags(section: str) -> dict[str, Flags]:
    """`// name - computed: .., optional: .., required: ..` comments of a class section."""
    return {
        m.group(1): Flags(*(flag == "true" for flag in m.group(2, 3, 4)))
        for m in _FLAGS_RE.finditer(section)
    }


def _hcl_table(section: str) -> dict[str, Hcl]:
    """The `name: {value, isBlock, type, storageClassType}` table of an HCL synthesis function."""
    return {
        m.group(1): Hcl(m.group(2) == "true", m.group(3), m.group(4))
        for m in _HCL_RE.finditer(section)
    }


def _getter_type(section: str, name: str) -> Any:
    """Type of a computed-only attribute, read from its generated getter."""
    match = re.search(
        rf"^  // {name} - computed: .*?public get \w+\(\) \{{\n\s*return (.*?);$",
        section,
        re.M | re.S,
    )
    expr = match.group(1) if match else ""
    method = re.search(rf"this\.(get\w+Attribute)\('{name}'\)", expr)
    if method is None or method.group(1) not in _GETTER_TYPES:
        raise NotImplementedError(f"computed-only attribute {name!r}: unsupported getter {expr!r}")
    tf_type = _GETTER_TYPES[method.group(1)]
    if "Fn.tolist(" in expr:  # cdktf converts sets to lists on read
        return ["set", tf_type[1]]
    return tf_type


# --------------------------------------------------------------------------- jsii facts

_ANCHOR_RE = re.compile(r"\{@link \S+?#(\w+) \S+\}")
# The IResolvable alternative each family's core library adds to most types.
_RESOLVABLES = {f"{f.core}.IResolvable" for f in FAMILIES.values()}
_PRIMITIVES = {"string": "string", "number": "number", "boolean": "bool"}


def _tf_name(prop: dict[str, Any]) -> str:
    """The Terraform name of a jsii property: the anchor of its docs link."""
    docs = prop.get("docs", {})
    match = _ANCHOR_RE.search(docs.get("summary", "") + " " + docs.get("remarks", ""))
    if match is None:
        raise ValueError(f"no docs link naming jsii property {prop['name']!r}")
    return match.group(1)


def _unwrap(jsii_type: dict[str, Any]) -> dict[str, Any]:
    """Drop the `cdktf.IResolvable` (`cdktn.IResolvable`) alternative added to most types."""
    if "union" not in jsii_type:
        return jsii_type
    rest = [t for t in jsii_type["union"]["types"] if t.get("fqn") not in _RESOLVABLES]
    if len(rest) != 1:
        raise NotImplementedError(f"union type {jsii_type}")
    return rest[0]


def _struct_of(types: dict[str, Any], jsii_type: dict[str, Any]) -> tuple[str, bool] | None:
    """(struct fqn, is single struct) if the property is a nested block, else None."""
    inner = _unwrap(jsii_type)
    if "fqn" in inner and types.get(inner["fqn"], {}).get("datatype"):
        return inner["fqn"], True
    element = inner.get("collection", {}).get("elementtype", {})
    if "fqn" in element and types.get(element["fqn"], {}).get("datatype"):
        if inner["collection"]["kind"] != "array":
            raise NotImplementedError(f"map of blocks {jsii_type}")
        return element["fqn"], False
    return None


def _primitive(jsii_type: dict[str, Any]) -> str:
    inner = _unwrap(jsii_type)
    if inner.get("primitive") not in _PRIMITIVES:
        raise NotImplementedError(f"non-primitive element type {jsii_type}")
    return _PRIMITIVES[inner["primitive"]]


def _attr_type(jsii_type: dict[str, Any], hcl: Hcl) -> Any:
    """Terraform type (JSON notation) of a configurable attribute."""
    inner = _unwrap(jsii_type)
    if "primitive" in inner:
        return _primitive(inner)
    collection = inner["collection"]
    element = _primitive(collection["elementtype"])
    if collection["kind"] == "map":
        return ["map", element]
    if hcl.kind not in ("list", "set"):
        raise ValueError(f"array attribute with HCL type {hcl.kind!r}")
    return [hcl.kind, element]


# --------------------------------------------------------------------------- schema building


def _flag_dict(required: bool, optional: bool, computed: bool) -> dict[str, bool]:
    """Flags as in `terraform providers schema -json`: present only when true."""
    flags = {"required": required, "optional": optional, "computed": computed}
    return {name: True for name, value in flags.items() if value}


def _attribute(prop: dict[str, Any], flags: Flags | None, hcl: Hcl) -> dict[str, Any]:
    required = not prop.get("optional", False)
    if flags is None:  # provider structs carry no flag comments; they have no computed values
        flags = Flags(computed=False, optional=not required, required=required)
    if flags.required != required or hcl.is_block:
        raise ValueError(f"jsii and TypeScript disagree on {prop['name']!r}")
    flag_dict = _flag_dict(flags.required, flags.optional, flags.computed)
    return {"type": _attr_type(prop["type"], hcl), **flag_dict}


def _nested_block(ctx: Context, prop: dict[str, Any], fqn: str, single: bool, hcl: Hcl) -> dict:
    if not hcl.is_block:
        raise NotImplementedError(f"{prop['name']!r}: object-typed attributes are not supported")
    nesting = {"list": "list", "set": "set", "struct": "single"}[hcl.kind]
    required = not prop.get("optional", False)
    if nesting == "single":
        min_items = max_items = int(required)
    else:
        min_items, max_items = int(required), int(single)
    entry: dict[str, Any] = {"nesting_mode": nesting, "block": _block(ctx, fqn)}
    if min_items:
        entry["min_items"] = min_items
    if max_items:
        entry["max_items"] = max_items
    return entry


def _struct_sections(ctx: Context, fqn: str) -> tuple[str, str]:
    """(flags section, HCL section) of a struct: the main class for the config struct."""
    name = fqn.rsplit(".", 1)[1]
    if name == ctx.ts.class_name + "Config":
        main = ctx.ts.sections[ctx.ts.class_name]
        return main, main
    flags = ctx.ts.sections.get(name + "OutputReference", "")
    hcl = ctx.ts.sections[name[0].lower() + name[1:] + "ToHclTerraform"]
    return flags, hcl


def _block(ctx: Context, fqn: str) -> dict[str, Any]:
    """Schema block of a jsii struct: configurable arguments plus computed-only attributes."""
    flags_section, hcl_section = _struct_sections(ctx, fqn)
    flags, hcl = _flags(flags_section), _hcl_table(hcl_section)
    attributes: dict[str, Any] = {}
    block_types: dict[str, Any] = {}
    for prop in ctx.types[fqn].get("properties", []):
        name = _tf_name(prop)
        if ctx.ts.class_name == "AwsProvider" and name in PROVIDER_META_ARGS:
            continue
        nested = _struct_of(ctx.types, prop["type"])
        if nested:
            block_types[name] = _nested_block(ctx, prop, *nested, hcl[name])
        else:
            attributes[name] = _attribute(prop, flags.get(name), hcl[name])
    for name, flag in flags.items():
        if name in attributes or name in block_types or name in PROVIDER_META_ARGS:
            continue
        if not flag.computed or flag.optional or flag.required:
            raise ValueError(f"{fqn}: argument {name!r} is missing from the jsii struct")
        attributes[name] = {"type": _getter_type(flags_section, name), "computed": True}
    return {"attributes": attributes, "block_types": block_types}


def _config_fqn(types: dict[str, Any], assembly: str, class_name: str) -> str:
    matches = [
        fqn
        for fqn in types
        if fqn.startswith(assembly + ".") and fqn.endswith("." + class_name + "Config")
    ]
    if len(matches) != 1:
        raise ValueError(f"config struct of {class_name}: {matches}")
    return matches[0]


def _apply_overlay(key: str, root: dict[str, Any]) -> None:
    """Merge the OVERLAY entries for one provider type ("<kind> <name>") into its block."""
    for path, facts in OVERLAY.items():
        prefix, _, rest = path.partition("/")
        if prefix != key:
            continue
        target = _find(root, rest.split("/"), path)
        target.update(facts)


def _find(block: dict[str, Any], steps: list[str], path: str) -> dict[str, Any]:
    head, *tail = steps
    if not tail and head in block["attributes"]:
        return block["attributes"][head]
    if head not in block["block_types"]:
        raise KeyError(f"OVERLAY path {path!r} matches nothing in the extracted schema")
    nested = block["block_types"][head]
    return _find(nested["block"], tail, path) if tail else nested


def build_schema(
    types: dict[str, Any],
    sources: dict[tuple[str, str], TsSource],
    pairs: list[tuple[str, str]],
    bindings: Bindings,
) -> dict[str, Any]:
    schema: dict[str, Any] = {"resources": {}, "data_sources": {}}
    versions = set()
    for kind, name in pairs:
        if (kind, name) not in sources:
            raise KeyError(f"{kind} {name} is not in {bindings.family.distribution}")
        ts = sources[(kind, name)]
        versions.add(ts.provider_version)
        config = _config_fqn(types, bindings.family.assembly, ts.class_name)
        block = _block(Context(types, ts), config)
        _apply_overlay(f"{kind} {name}", block)
        if kind == "provider":
            schema["provider"] = {"block": block}
        else:
            schema[KINDS[kind]][name] = {"block": block}
    if len(versions) != 1:
        raise ValueError(f"the bindings name several provider versions: {sorted(versions)}")
    schema["source"] = {
        **bindings.provenance(),
        "provider": "hashicorp/aws",
        "provider_version": versions.pop(),
    }
    return schema


def extract(bindings: Bindings | None = None, resources: Path = RESOURCES_TXT) -> dict[str, Any]:
    """The schema of the listed types, from the given bindings (default: the installed cdktf)."""
    bindings = bindings or installed_bindings()
    pairs = read_type_list(resources)
    with bindings.tarball() as stream:
        types, sources = scan_tarball(stream, set(pairs))
    return build_schema(types, sources, pairs, bindings)


def dumps(schema: dict[str, Any]) -> str:
    """The committed, deterministic form: sorted keys, two-space indent, final newline."""
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the output is stale")
    parser.add_argument("--output", type=Path, default=SCHEMA_JSON)
    parser.add_argument(
        "--wheel", type=Path, help="read this downloaded binding wheel (cdktf or cdktn family)"
    )
    args = parser.parse_args(argv)
    text = dumps(extract(wheel_bindings(args.wheel) if args.wheel else None))
    if not args.check:
        args.output.write_text(text)
        return 0
    current = args.output.read_text() if args.output.exists() else ""
    if current != text:
        print(
            f"{args.output} is stale: run python -m tests.standin.extract_schema"
            + (f" --wheel {args.wheel} --output {args.output}" if args.wheel else ""),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
