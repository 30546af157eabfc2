"""More buckets than one trail holds: the planner shards them over up to 5 trails, the module and
the CDKTF stack create those trails, and a bucket never moves to another trail when buckets are
added (or, thanks to the root's manifest, inserted or removed anywhere in the list)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from quilt_cross_account import cli, cloudtrail, config, domain, errors, writer
from quilt_cross_account.model import DataAccountSetup
from quilt_cross_account.terraform import render

from tests.util import ROOT

MODULE = "module.quilt_cross_account"
LOGS = "quilt-logs-bucket"
# An owner's advanced selector of 495 values: the first trail keeps room for 3 buckets only
# (500 - 495 - Quilt's 2), so a handful of buckets shows sharding without planning hundreds.
NARROW_FIRST_TRAIL = {
    "name": "owner-events",
    "field_selectors": [
        {"field": "eventCategory", "equals": ["Data"]},
        {"field": "eventName", "equals": [f"Event{i}" for i in range(494)]},
    ],
}


def buckets(n: int, prefix: str = "bucket") -> list[str]:
    return [f"{prefix}-{i:04d}" for i in range(n)]


def raw(names: list[str], **trail: Any) -> dict[str, Any]:
    return {
        "control_account_ids": ["111122223333"],
        "buckets": names,
        "cloudtrail": {"log_bucket_name": LOGS, **trail},
    }


def model(names: list[str], **trail: Any) -> DataAccountSetup:
    return config.validate(raw(names, **trail))


def sizes(m: DataAccountSetup) -> list[tuple[str, int]]:
    return [(s.name, len(s.buckets)) for s in m.cloudtrail.shards]


def trail_of(m: DataAccountSetup) -> dict[str, int]:
    return {b: s.number for s in m.cloudtrail.shards for b in s.buckets}


# ------------------------------------------------------------------------------ the planner

BOUNDARIES = {
    498: [("quilt-data-events", 498)],
    499: [("quilt-data-events", 498), ("quilt-data-events-2", 1)],
    996: [("quilt-data-events", 498), ("quilt-data-events-2", 498)],
    997: [("quilt-data-events", 498), ("quilt-data-events-2", 498), ("quilt-data-events-3", 1)],
    2490: [(domain.shard_trail_name("quilt-data-events", n), 498) for n in range(1, 6)],
}


@pytest.mark.parametrize("n", BOUNDARIES)
def test_shard_boundaries(n):
    m = model(buckets(n))
    assert sizes(m) == BOUNDARIES[n]
    # Each bucket in exactly one trail, in the config's order.
    assert [b for s in m.cloudtrail.shards for b in s.buckets] == buckets(n)
    for shard in m.cloudtrail.shards:
        plan = shard.selectors
        assert plan.style == "advanced"
        assert cloudtrail.advanced_value_count(plan.advanced_event_selectors) <= 500
        arns = next(
            f.starts_with
            for f in plan.advanced_event_selectors[0].field_selectors
            if f.field == "resources.ARN"
        )
        assert arns == tuple(f"arn:aws:s3:::{b}/" for b in shard.buckets)


def test_beyond_five_trails_is_a_config_error_naming_the_numbers():
    with pytest.raises(config.ConfigError) as caught:
        model(buckets(2491))
    (problem,) = caught.value.problems
    assert problem.startswith("buckets: 2491 buckets do not fit the 5 trails")
    assert "fits at most 2490 buckets in 5 trails" in problem
    assert "organization or account trail" in problem and 'mode = "none"' in problem


def test_capacities_follow_each_trails_overhead():
    # Basic: 250 values a trail. ReadOnly and management events (first trail only) cost values
    # in advanced selectors.
    assert sizes(model(buckets(600), selector_style="basic")) == [
        ("quilt-data-events", 250),
        ("quilt-data-events-2", 250),
        ("quilt-data-events-3", 100),
    ]
    with pytest.raises(config.ConfigError, match="fits at most 1250 buckets"):
        model(buckets(1251), selector_style="basic")
    managed = model(buckets(1000), read_write_type="ReadOnly", include_management_events=True)
    assert sizes(managed) == [
        ("quilt-data-events", 495),
        ("quilt-data-events-2", 497),
        ("quilt-data-events-3", 8),
    ]
    first, *later = managed.cloudtrail.shards
    names = [s.name for s in first.selectors.advanced_event_selectors]
    assert names == [cloudtrail.DATA_SELECTOR_NAME, cloudtrail.MANAGEMENT_SELECTOR_NAME]
    for shard in later:  # management events are logged once, by the first trail
        assert [s.name for s in shard.selectors.advanced_event_selectors] == [
            cloudtrail.DATA_SELECTOR_NAME
        ]


def test_extra_selectors_stay_on_the_first_trail_and_lose_values_any_trail_logs():
    owner = {
        "data_resources": [
            {"type": "AWS::S3::Object", "values": ["arn:aws:s3:::bucket-0255/", "arn:aws:s3:::x/"]}
        ]
    }
    m = model(buckets(260), selector_style="basic", extra_event_selectors=[owner])
    first, second = m.cloudtrail.shards
    assert len(first.buckets) == 249  # the owner's remaining value takes one of 250
    assert "bucket-0255" in second.buckets
    extra = first.selectors.event_selectors[1].data_resources[0].values
    assert extra == ("arn:aws:s3:::x/",)  # bucket-0255 is logged by trail 2: not twice
    assert len(second.selectors.event_selectors) == 1
    assert m.cloudtrail.selectors == first.selectors


def test_a_trail_name_too_long_for_derived_names_is_refused():
    long_name = "t" * 127
    assert sizes(model(buckets(498), trail_name=long_name)) == [(long_name, 498)]
    with pytest.raises(config.ConfigError) as caught:
        model(buckets(499), trail_name=long_name)
    (problem,) = caught.value.problems
    assert problem.startswith(f"cloudtrail.trail_name: {long_name!r} is too long for")
    assert "use at most 126 characters" in problem
    assert len(domain.shard_trail_name("t" * 126, 5)) == domain.TRAIL_NAME_MAX


# ------------------------------------------------------------------------------- stability


def test_appending_buckets_changes_only_the_last_trail_or_adds_one():
    before = model(buckets(700))
    after = model(buckets(1200))
    assert before.cloudtrail.shards[0] == after.cloudtrail.shards[0]
    assert set(before.cloudtrail.shards[1].buckets) <= set(after.cloudtrail.shards[1].buckets)
    assert all(trail_of(after)[b] == n for b, n in trail_of(before).items())


def test_history_keeps_every_bucket_in_its_trail_across_inserts_and_removals():
    before = model(buckets(1000))
    record = {cloudtrail.TRAILS_KEY: cloudtrail.assignment_record(before.cloudtrail)}
    # Insert at the front, remove two from the middle, append two.
    names = ["new-a", *(b for b in buckets(1000) if b not in ("bucket-0005", "bucket-0600"))]
    names += ["new-b", "new-c"]
    fresh = model(names)
    after = cloudtrail.remembering(fresh, record)
    kept = trail_of(before)
    assert all(kept[b] == n for b, n in trail_of(after).items() if b in kept)
    # The new buckets fill the gaps the removals left, in order, then the last trail.
    assert trail_of(after)["new-a"] == 1 and trail_of(after)["new-b"] == 2
    assert trail_of(after)["new-c"] == 3
    # Without the history, the insert at the front would have moved a bucket at each boundary.
    moved = [b for b, n in trail_of(fresh).items() if b in kept and kept[b] != n]
    assert moved


def test_history_yields_to_a_trail_that_shrank():
    # The first trail held 498; management events in advanced style now cost it one value.
    before = model(buckets(600))
    record = {cloudtrail.TRAILS_KEY: cloudtrail.assignment_record(before.cloudtrail)}
    after = cloudtrail.remembering(model(buckets(600), include_management_events=True), record)
    assert sizes(after) == [("quilt-data-events", 497), ("quilt-data-events-2", 103)]
    moved = [b for b, n in trail_of(after).items() if trail_of(before)[b] != n]
    assert moved == ["bucket-0497"]  # the last of the first trail only


def test_a_hand_edited_history_is_ignored_where_it_does_not_fit():
    m = model(buckets(3))
    record = {cloudtrail.TRAILS_KEY: {"9": ["bucket-0000"], "x": ["bucket-0001"], "2": "no"}}
    assert cloudtrail.remembering(m, record) == m


def test_the_first_trail_always_holds_a_bucket():
    assert cloudtrail.assign_trails(["a", "b"], [3, 3], {"a": 2, "b": 2}) == {
        1: ["a"],
        2: ["b"],
    }


# ---------------------------------------------------------------------------- the renderers


def test_root_call_passes_the_later_trails_buckets():
    m = model(buckets(499))
    files = render.render(m)
    root = files[f"{render.ROOT_DIR}/main.tf"]
    assert "trail_shards = {\n    bucket-0498 = 2\n  }" in root
    single = render.render(model(buckets(498)))[f"{render.ROOT_DIR}/main.tf"]
    assert "trail_shards" not in single


def test_external_trail_handoff_has_one_put_event_selectors_file_per_trail():
    m = config.validate(
        {
            "control_account_ids": ["111122223333"],
            "buckets": buckets(997),
            "cloudtrail": {"mode": "external", "trail_name": "org-trail"},
        }
    )
    files = render.render(m)
    handoff = f"{render.ROOT_DIR}/cloudtrail"
    requests = {
        name: json.loads(files[f"{handoff}/{name}"])
        for name in ("put-event-selectors.json", "put-event-selectors-2.json")
    }
    requests["put-event-selectors-3.json"] = json.loads(
        files[f"{handoff}/put-event-selectors-3.json"]
    )
    assert [r["TrailName"] for r in requests.values()] == [
        "org-trail",
        "org-trail-2",
        "org-trail-3",
    ]
    logged = [
        arn
        for r in requests.values()
        for f in r["AdvancedEventSelectors"][0]["FieldSelectors"]
        if f["Field"] == "resources.ARN"
        for arn in f["StartsWith"]
    ]
    assert logged == [f"arn:aws:s3:::{b}/" for b in buckets(997)]
    readme = files[f"{handoff}/README.md"]
    assert "The buckets need 3 trails" in readme
    assert (
        "| `org-trail-3` | [`put-event-selectors-3.json`](put-event-selectors-3.json) |" in readme
    )


def test_the_manifest_remembers_the_trails(tmp_path, capsys):
    config_path = tmp_path / "quilt.toml"

    def generate(names: list[str]) -> dict[str, Any]:
        config_path.write_text(
            'control_account_ids = ["111122223333"]\n'
            f"buckets = {json.dumps(names)}\n"
            f'[cloudtrail]\nlog_bucket_name = "{LOGS}"\n'
            f"extra_advanced_event_selectors = [{_toml(NARROW_FIRST_TRAIL)}]\n"
        )
        code = cli.main(["generate", "--config", str(config_path), "--out", str(tmp_path)])
        assert code == errors.EXIT_OK, capsys.readouterr().err
        return writer.read_record(tmp_path / ROOT)[cloudtrail.TRAILS_KEY]

    assert generate(buckets(5)) == {"1": buckets(3), "2": buckets(5)[3:]}
    assert generate(["first", *buckets(5)]) == {"1": buckets(3), "2": [*buckets(5)[3:], "first"]}


def _toml(value: Any) -> str:
    """A JSON value as a TOML inline value (the two agree on the strings, lists and tables
    used here)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


# ----------------------------------------------------------- Terraform core: module verdicts


def planned_trails(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Trail name -> planned values of every aws_cloudtrail of the module."""
    found = {}
    for child in plan["planned_values"]["root_module"].get("child_modules", []):
        for r in child.get("resources", []):
            if r["type"] == "aws_cloudtrail":
                found[r["values"]["name"]] = {"address": r["address"], **r["values"]}
    return found


def logged_arns(trail: dict[str, Any]) -> list[str]:
    if trail.get("event_selector"):
        return [
            v for s in trail["event_selector"][:1] for d in s["data_resource"] for v in d["values"]
        ]
    data = trail["advanced_event_selector"][0]
    return next(f["starts_with"] for f in data["field_selector"] if f["field"] == "resources.ARN")


def generate_into(out: Path, m: DataAccountSetup) -> Path:
    writer.write(out, render.render(m), (render.MODULE_DIR, render.ROOT_DIR))
    return out / render.ROOT_DIR


def expected_address(number: int, name: str) -> str:
    if number == 1:
        return f"{MODULE}.aws_cloudtrail.this[0]"
    return f'{MODULE}.aws_cloudtrail.shard["{name}"]'


def test_the_module_plans_the_planners_trails(terraform, tmp_path):
    """997 buckets in one plan (the suite's largest): the first trail holds 498 (the boundary of
    one trail, planned alone at 498 by tests/test_terraform_module.py), the second 498 more
    (996), the third the 997th; a trail of 499 fails (the test below)."""
    # statement-only: half the resources to plan, the same trails.
    m = config.validate({**raw(buckets(997)), "policy_mode": "statement-only"})
    assert [len(s.buckets) for s in m.cloudtrail.shards] == [498, 498, 1]
    trails = planned_trails(terraform.plan(generate_into(tmp_path, m)))
    assert sorted(trails) == sorted(s.name for s in m.cloudtrail.shards)
    for shard in m.cloudtrail.shards:
        trail = trails[shard.name]
        assert trail["address"] == expected_address(shard.number, shard.name)
        assert trail["s3_bucket_name"] == LOGS
        assert logged_arns(trail) == [f"arn:aws:s3:::{b}/" for b in shard.buckets]
        names = [s["name"] for s in trail["advanced_event_selector"]]
        assert names == [s.name for s in shard.selectors.advanced_event_selectors]


def module_root(tmp_path: Path, arguments: dict[str, Any]) -> Path:
    """A root calling the generated module with raw arguments, as a user passing their own."""
    from tests.test_terraform_module import module_call

    return module_call(tmp_path, arguments)


def module_arguments(names: list[str], **more: Any) -> dict[str, Any]:
    return {
        "control_account_ids": ["111122223333"],
        "bucket_names": names,
        "policy_mode": "statement-only",
        "log_bucket_name": LOGS,
        **more,
    }


def test_a_trail_over_its_limit_fails_in_the_module_with_the_planners_numbers(terraform, tmp_path):
    from tests.standin.harness import TerraformError

    # The planner puts bucket 499 in a second trail; a caller leaving it in the first one
    # breaks the first trail's limit, with the sentence the planner has for one trail.
    sentence = cloudtrail.limit_message("advanced_values", buckets=499, values=501, fits=498)
    with pytest.raises(TerraformError) as caught:
        terraform.plan(module_root(tmp_path, module_arguments(buckets(499))))
    assert f"{sentence}." in " ".join(str(caught.value).split())


def test_the_five_trail_ceiling_agrees_with_the_module(terraform, tmp_path):
    from tests.standin.harness import TerraformError

    # Python: 5 trails of 498 buckets, not one more.
    assert len(model(buckets(2490)).cloudtrail.shards) == domain.MAX_TRAILS
    with pytest.raises(config.ConfigError, match="2491 buckets do not fit the 5 trails"):
        model(buckets(2491))
    # The module: trails 2 to 5 (each within the limits planned above), never a sixth.
    names = buckets(5)
    shards = {name: number for number, name in enumerate(names[1:], start=2)}
    plan = terraform.plan(
        module_root(tmp_path / "five", module_arguments(names, trail_shards=shards))
    )
    trails = planned_trails(plan)
    assert sorted(trails) == [domain.shard_trail_name("quilt-data-events", n) for n in range(1, 6)]
    with pytest.raises(TerraformError) as caught:
        terraform.plan(
            module_root(
                tmp_path / "six", module_arguments(names, trail_shards={**shards, names[4]: 6})
            )
        )
    assert "trail_shards: trail numbers must be whole numbers from 2 to 5" in " ".join(
        str(caught.value).split()
    )


# --------------------------------------------------- Terraform core: stability across applies


class Repo:
    """A user's repository, generated with the CLI in-process (so the manifest is kept)."""

    def __init__(self, path: Path, capsys: Any):
        self.path, self.capsys = path, capsys
        path.mkdir(parents=True)

    def generate(self, names: list[str]) -> None:
        config_path = self.path / "quilt.toml"
        config_path.write_text(
            'control_account_ids = ["111122223333"]\n'
            f"buckets = {json.dumps(names)}\n"
            f'[cloudtrail]\nlog_bucket_name = "{LOGS}"\n'
            f"extra_advanced_event_selectors = [{_toml(NARROW_FIRST_TRAIL)}]\n"
        )
        code = cli.main(["generate", "--config", str(config_path), "--out", str(self.path)])
        assert code == errors.EXIT_OK, self.capsys.readouterr().err

    @property
    def root(self) -> Path:
        return self.path / ROOT


def trail_actions(plan: dict[str, Any]) -> dict[str, list[str]]:
    return {
        rc["address"]: rc["change"]["actions"]
        for rc in plan.get("resource_changes", [])
        if rc["type"] == "aws_cloudtrail"
    }


def test_adding_buckets_never_touches_earlier_trails(terraform, tmp_path, capsys):
    repo = Repo(tmp_path / "repo", capsys)
    first = f"{MODULE}.aws_cloudtrail.this[0]"
    second = f'{MODULE}.aws_cloudtrail.shard["quilt-data-events-2"]'
    # One trail, full (the owner's selector leaves room for 3 buckets), applied.
    repo.generate(buckets(3))
    terraform.apply(repo.root)
    # A bucket inserted at the front and two appended: the first trail stays as it is (no
    # update, no replacement); the second is created for the new ones.
    repo.generate(["inserted", *buckets(3), "appended-1", "appended-2"])
    plan = terraform.plan(repo.root)
    assert trail_actions(plan) == {first: ["no-op"], second: ["create"]}
    trails = planned_trails(plan)
    assert logged_arns(trails["quilt-data-events"]) == [f"arn:aws:s3:::{b}/" for b in buckets(3)]
    assert logged_arns(trails["quilt-data-events-2"]) == [
        f"arn:aws:s3:::{b}/" for b in ("inserted", "appended-1", "appended-2")
    ]
    # CloudTrail may deliver from both trails to the one log bucket.
    log_policy = json.loads(
        next(
            rc["change"]["after"]["policy"]
            for rc in plan["resource_changes"]
            if rc["address"] == f"{MODULE}.aws_s3_bucket_policy.log[0]"
        )
    )
    sources = log_policy["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"]
    assert [s.rsplit("/", 1)[1] for s in sources] == ["quilt-data-events", "quilt-data-events-2"]
    terraform.apply(repo.root)
    # More in the middle and at the end: only the last trail changes, in place.
    repo.generate(
        [
            "inserted",
            "bucket-0000",
            "middle",
            *buckets(3)[1:],
            "appended-1",
            "appended-2",
            "appended-3",
        ]
    )
    plan = terraform.plan(repo.root)
    assert trail_actions(plan) == {first: ["no-op"], second: ["update"]}


# ------------------------------------------------------------------------------ CDKTF stack

# Two trails, with what only the first trail carries (management events, the owner's selector)
# and a ReadOnly condition in both; also planned by tests/test_parity.py (one synthesis).
SHARDED = raw(
    [*buckets(6), "b.with.dots"],
    read_write_type="ReadOnly",
    include_management_events=True,
    extra_advanced_event_selectors=[
        {
            "name": "owner-events",
            "field_selectors": [
                {"field": "eventCategory", "equals": ["Data"]},
                {"field": "eventName", "equals": [f"Event{i}" for i in range(489)]},
            ],
        }
    ],
)


def test_sharded_config_has_two_trails():
    assert sizes(config.validate(SHARDED)) == [
        ("quilt-data-events", 5),
        ("quilt-data-events-2", 2),
    ]


def test_the_stack_synthesizes_one_trail_per_shard():
    from tests.cdktf_fixtures import resources, synthesized

    m = config.validate(SHARDED)
    _, _, synth = synthesized(m)
    trails = resources(synth, "aws_cloudtrail")
    # The first keeps the logical id of the single trail; the next is numbered.
    assert sorted(trails) == ["quilt_trail", "quilt_trail_2"]
    for logical_id, shard in zip(
        ("quilt_trail", "quilt_trail_2"), m.cloudtrail.shards, strict=True
    ):
        trail = trails[logical_id]
        assert trail["name"] == shard.name
        assert trail["s3_bucket_name"] == LOGS
        assert trail["depends_on"] == ["aws_s3_bucket_policy.quilt_log"]
        selectors = trail["advanced_event_selector"]
        assert [s["name"] for s in selectors] == [
            s.name for s in shard.selectors.advanced_event_selectors
        ]
        assert logged_arns(trail) == [f"arn:aws:s3:::{b}/" for b in shard.buckets]
