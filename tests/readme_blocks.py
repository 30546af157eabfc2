"""The README's fenced blocks and command lines, and how each kind is checked (tests/test_readme.py).

A block's kind is its fence's language, refined by the HTML comment right above it,
`<!-- docs-check: ... -->`, where one language can hold different things (a whole config or a
fragment of one; the errors of a config or the repo's layout). Every check runs the project's
own code (config loader, CLI parser) or a parser (TOML, HCL, JSON, YAML, Python), never
Terraform, jsii or AWS.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import shlex
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
import yaml
from lark.exceptions import LarkError
from quilt_cross_account import cli
from quilt_cross_account.config import fleet, loader
from quilt_cross_account.errors import ConfigError

from tests.util import HCL_VALUES, MODULE, REPO, parse_tf
from tests.util import blocks as blocks_of

FENCE = re.compile(
    r"^(?P<indent> *)```(?P<lang>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```$", re.MULTILINE | re.DOTALL
)
MARKER = re.compile(r"<!-- docs-check: (?P<spec>(?:(?!-->).)*?)\s*-->\Z", re.DOTALL)
CODE_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
SOURCE_ROOT = REPO / "generator"


@dataclass(frozen=True)
class Block:
    lang: str
    body: str
    marker: str | None  # the docs-check marker's text, None without one
    line: int  # 1-based line of the opening fence

    def where(self) -> str:
        return f"README.md:{self.line} ({self.lang or 'no language'} block)"


def blocks(readme: str) -> list[Block]:
    found = []
    for match in FENCE.finditer(readme):
        indent = len(match["indent"])
        body = "".join(line[indent:] for line in match["body"].splitlines(keepends=True))
        marker = MARKER.search(readme[: match.start()].rstrip())
        line = readme.count("\n", 0, match.start()) + 1
        found.append(Block(match["lang"].strip(), body, marker and marker["spec"], line))
    return found


def prose(readme: str) -> str:
    """The README without its fenced blocks and HTML comments."""
    return re.sub(r"<!--.*?-->", "", FENCE.sub("", readme), flags=re.DOTALL)


# ---------------------------------------------------------------------------------------------
# Configs: a whole config, or a fragment merged into a base config; both through the loader.


def merged(base: Mapping[str, Any], fragment: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `fragment`'s keys; a table in both (`cloudtrail`) is merged key by key."""
    result = dict(base)
    for key, value in fragment.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = {**result[key], **value}
        else:
            result[key] = value
    return result


def config_problems(raw: Mapping[str, Any]) -> list[str]:
    """The loader's problems with a config (none: it is valid). Policy files the config names are
    not read, as `import-policies` checks a config before writing them."""
    try:
        if fleet.is_fleet(raw):  # many data accounts (README: Many data accounts)
            fleet.validate(raw, REPO / "examples", read_files=False)
        else:
            loader.validate(raw, REPO / "examples", read_files=False)
    except ConfigError as exc:
        return exc.problems
    return []


FRAGMENT_OF = re.compile(r"config fragment of (?P<base>\S+)")
ERRORS_OF = re.compile(
    r"errors of (?P<base>\S+)(?: with (?P<buckets>\d+) buckets)?(?: merged with\n(?P<toml>.*))?\Z",
    re.DOTALL,
)


def base_config(path: str) -> dict[str, Any]:
    return tomllib.loads((REPO / path).read_text("utf-8"))


def check_toml(block: Block) -> None:
    parsed = tomllib.loads(block.body)
    if block.marker == "config":
        raw = parsed
    elif block.marker and (match := FRAGMENT_OF.fullmatch(block.marker)):
        raw = merged(base_config(match["base"]), parsed)
    else:
        raise AssertionError(
            f"{block.where()}: mark it <!-- docs-check: config --> or "
            "<!-- docs-check: config fragment of <base config> -->"
        )
    assert config_problems(raw) == [], block.where()


def check_errors(block: Block, spec: str) -> None:
    """An `errors of` block: exactly the lines `generate` prints for the config the marker
    describes; a line ending in `...` is shortened and only its beginning must match."""
    match = ERRORS_OF.fullmatch(spec)
    assert match, f"{block.where()}: bad marker {spec!r}"
    raw = base_config(match["base"])
    if match["buckets"]:
        raw["buckets"] = [f"bucket-{i:04}" for i in range(int(match["buckets"]))]
    raw = merged(raw, tomllib.loads(match["toml"] or ""))
    printed = [f"error: {problem}" for problem in config_problems(raw)]
    documented = block.body.splitlines()
    assert len(documented) == len(printed), (block.where(), printed)
    for doc, real in zip(documented, printed, strict=True):
        if doc.endswith("..."):
            assert real.startswith(doc.removesuffix("...")), (block.where(), real)
        else:
            assert doc == real, block.where()


# ---------------------------------------------------------------------------------------------
# The repo's layout: every path named exists.


def layout_paths(body: str) -> Iterator[str]:
    """Paths the layout names: the first column, nested by two-space indentation; lines indented
    deeper than that continue the description on their left."""
    parents: list[str] = []
    for line in body.splitlines():
        indent = len(line) - len(line.lstrip())
        if indent > 8 or not line.strip():
            continue
        names = re.split(r"\s{2,}", line.strip())[0].split()
        depth = indent // 2
        parents = parents[:depth]
        for name in names:
            yield "/".join([*parents, name.rstrip("/")])
        if len(names) == 1 and names[0].endswith("/"):
            parents.append(names[0].rstrip("/"))


# ---------------------------------------------------------------------------------------------
# Commands: each runs through what would run it (the CLI's parser, the Makefile's targets).

TERRAFORM_COMMANDS = {"init", "plan", "apply", "destroy", "test", "fmt", "validate", "state"}
PRE_COMMIT_COMMANDS = {"install", "try-repo", "run"}
# The AWS CLI operations the README tells users to run: (service, operation).
AWS_CLI = {
    ("cloudtrail", "put-event-selectors"),
    ("s3api", "get-object-acl"),
    ("s3api", "put-bucket-acl"),
    ("sts", "get-caller-identity"),
}
PIP_PACKAGES = {"build"}  # what the README installs besides this project
PROGRAM_NAMES = {"quilt-cross-account", ".venv/bin/quilt-cross-account"}


def makefile_targets() -> set[str]:
    text = (REPO / "Makefile").read_text("utf-8")
    return set(re.findall(r"^([A-Za-z][\w-]*):(?!=)", text, re.MULTILINE))


def project_extras() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    return set(project["optional-dependencies"])


def check_cli(args: list[str]) -> None:
    try:
        cli.build_parser().parse_args(args)
    except SystemExit as exc:
        if exc.code == 0:  # --help, --version: printed, done
            return
        raise AssertionError(f"the CLI rejects {shlex.join(args)!r} (exit {exc.code})") from None


def check_pip_install(specs: list[str]) -> None:
    for spec in (s for s in specs if not s.startswith("-")):
        base, _, extras = spec.partition("[")
        assert base in {".", "quilt-cross-account"} | PIP_PACKAGES or re.fullmatch(
            r"dist/quilt_cross_account-[^/]*\.whl", base
        ), f"pip installs {spec!r}"
        unknown = set(filter(None, extras.rstrip("]").split(","))) - project_extras()
        assert not unknown, f"pip install {spec!r}: no extras {sorted(unknown)} in pyproject.toml"


def module_file(module: str) -> Path:
    path = SOURCE_ROOT / module.replace(".", "/")
    for candidate in (path.with_suffix(".py"), path / "__main__.py"):
        if candidate.is_file():
            return candidate
    raise AssertionError(f"python -m {module}: no such module under generator/")


def check_python(args: list[str]) -> None:
    if args[:1] == ["-c"]:
        compile(args[1], "<python -c>", "exec")
    elif args[:3] == ["-m", "pip", "install"]:
        check_pip_install(args[3:])
    elif args[:2] in (["-m", "build"], ["-m", "pytest"]):
        pass
    elif args[:2] == ["-m", "quilt_cross_account"]:
        module_file(args[1])
        if args[2:]:
            check_cli(args[2:])
    elif args[:1] == ["-m"]:
        module_file(args[1])
    else:
        assert (REPO / args[0]).is_file(), f"python {args[0]}: no such file"


def check_command(words: list[str]) -> None:
    while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):  # VAR=value prefixes
        words = words[1:]
    program, args = words[0], words[1:]
    if program in PROGRAM_NAMES:
        if args:  # the program's name alone only names it
            check_cli(args)
    elif program in {"python", "python3", ".venv/bin/python"}:
        check_python(args)
    elif program == "pip":
        assert args[:1] == ["install"], f"pip {shlex.join(args)}"
        check_pip_install(args[1:])
    elif program == "make":
        assert set(args) <= makefile_targets(), f"make {shlex.join(args)}: no such target"
    elif program == "terraform":
        rest = [a for a in args if not a.startswith("-chdir=")]
        assert rest and rest[0] in TERRAFORM_COMMANDS, f"terraform {shlex.join(args)}"
    elif program in {"pre-commit", ".venv/bin/pre-commit"}:
        assert args[0] in PRE_COMMIT_COMMANDS, f"pre-commit {args[0]}"
    elif program == "aws":
        assert tuple(args[:2]) in AWS_CLI, f"aws {shlex.join(args[:2])}: not a known operation"
    elif program == "cd":
        assert len(args) == 1
    else:
        raise AssertionError(f"{program}: not a command the docs check knows how to check")


def commands(line: str) -> Iterator[list[str]]:
    """The commands of one shell line (`&&` chains split, a trailing `# comment` and the
    parentheses of a subshell dropped)."""
    words = shlex.split(line, comments=True)
    if len(words) > 1 and words[0].startswith("(") and words[-1].endswith(")"):
        words = [words[0][1:], *words[1:-1], words[-1][:-1]]
    while words:
        end = words.index("&&") if "&&" in words else len(words)
        yield words[:end]
        words = words[end + 1 :]


def check_shell(block: Block) -> None:
    for number, line in enumerate(block.body.splitlines()):
        for words in commands(line):
            try:
                check_command(words)
            except AssertionError as exc:
                raise AssertionError(f"README.md:{block.line + 1 + number}: {exc}") from None


def inline_commands(readme: str) -> list[str]:
    """Code spans in the prose that are command lines: they start with a program the check
    knows and have more than the program's name."""
    programs = PROGRAM_NAMES | {"make", "terraform", "python", "pip", "aws", "pre-commit", "cd"}
    programs |= {".venv/bin/python", ".venv/bin/pre-commit"}
    found = []
    for span in CODE_SPAN.findall(prose(readme)):
        words = span.split()
        if words[0] in programs and len(words) > 1:
            found.append(span)
    return found


# ---------------------------------------------------------------------------------------------
# Other languages.


@functools.cache
def parsed_module() -> tuple[dict[str, Any], ...]:
    """The generated module's .tf files, parsed (once: python-hcl2 takes a while)."""
    return tuple(parse_tf(path) for path in sorted((REPO / MODULE).glob("*.tf")))


def module_interface(kind: str) -> set[str]:
    """The generated module's variables or outputs (`kind` "variable" or "output")."""
    return {name for parsed in parsed_module() for name in blocks_of(parsed, kind)}


def check_hcl(block: Block) -> None:
    """HCL that parses, whose calls of the module set only its variables and whose references to
    it name only its outputs."""
    try:
        parsed = hcl2.loads(block.body, serialization_options=HCL_VALUES)
    except LarkError as exc:
        raise AssertionError(f"{block.where()}: not HCL: {exc}") from None
    for body in blocks_of(parsed, "module").values():
        unknown = set(body) - module_interface("variable") - {"source"}
        assert not unknown, f"{block.where()}: the module has no variables {sorted(unknown)}"
    referenced = set(re.findall(r"module\.quilt_cross_account\.(\w+)", block.body))
    unknown = referenced - module_interface("output")
    assert not unknown, f"{block.where()}: the module has no outputs {sorted(unknown)}"


def check_yaml(block: Block) -> None:
    """A pre-commit config: each hook it uses is one this repository offers."""
    offered = {hook["id"] for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    document = yaml.safe_load(block.body)
    used = {hook["id"] for repo in document["repos"] for hook in repo["hooks"]}
    assert used and used <= offered, (block.where(), used - offered)


def top_level_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def check_python_block(block: Block) -> None:
    """Python that parses, whose imports from this package exist (read, not imported: the
    construct loads jsii)."""
    for node in ast.walk(ast.parse(block.body)):
        module = node.module or "" if isinstance(node, ast.ImportFrom) else ""
        if isinstance(node, ast.ImportFrom) and module.startswith("quilt_cross_account"):
            package = SOURCE_ROOT / module.replace(".", "/")
            source = package / "__init__.py" if package.is_dir() else package.with_suffix(".py")
            for alias in node.names:
                assert (package / alias.name).is_dir() or alias.name in top_level_names(source), (
                    f"{block.where()}: {module} has no {alias.name}"
                )


IAM_ACTION = r"\b(?:s3|sns|kms):[A-Za-z]+"
MERMAID_NODE = re.compile(r"^\s*(\w+)[\[(]")
MERMAID_EDGE = re.compile(r"^\s*(\w+) (?:-->|-\.->)(?:\|\"[^\"]*\"\|)? (\w+)$")


def check_mermaid(block: Block) -> None:
    """A flowchart whose edges join declared nodes, one edge or node per line, and whose labels
    name only actions the module grants."""
    lines = [line for line in block.body.splitlines() if line.strip()]
    assert re.fullmatch(r"flowchart (LR|TD|TB|RL|BT)", lines[0]), block.where()
    nodes, edges = set(), []
    for line in lines[1:]:
        if edge := MERMAID_EDGE.match(line):
            edges.append((edge[1], edge[2]))
        elif node := MERMAID_NODE.match(line):
            nodes.add(node[1])
        else:
            assert re.fullmatch(r"\s*(subgraph \w+\[\"[^\"]+\"\]|end)", line), (block.where(), line)
    assert edges and {n for edge in edges for n in edge} <= nodes, block.where()
    module_text = "".join(path.read_text("utf-8") for path in (REPO / MODULE).glob("*.tf"))
    named = set(re.findall(IAM_ACTION, block.body))
    assert named and named <= set(re.findall(IAM_ACTION, module_text)), (
        f"{block.where()}: actions the module does not grant: {sorted(named)}"
    )


def iam_actions(policy: Mapping[str, Any]) -> set[str]:
    statements = policy["Statement"]
    return {
        action
        for statement in statements
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
    }


def json_document(block: Block) -> Any:
    return json.loads(block.body)
