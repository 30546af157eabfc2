"""Selector planning at the trail's limits, and the API-shaped selectors for external trails."""

from __future__ import annotations

import json

import pytest
from quilt_cross_account import cloudtrail, config, domain
from quilt_cross_account.cloudtrail import SelectorLimitError, plan_selectors
from quilt_cross_account.model import (
    AdvancedEventSelector,
    DataResource,
    EventSelector,
    FieldSelector,
)


def buckets(n: int) -> list[str]:
    return [f"bucket-{i:04d}" for i in range(n)]


def plan(n: int, **kwargs):
    args = {
        "partition": "aws",
        "style": "auto",
        "read_write_type": "All",
        "include_management_events": False,
    }
    args.update(kwargs)
    return plan_selectors(buckets=buckets(n), **args)


@pytest.mark.parametrize(
    ("n", "style"), [(1, "basic"), (250, "basic"), (251, "advanced"), (498, "advanced")]
)
def test_auto_style_at_the_boundaries(n, style):
    result = plan(n)
    assert result.style == style
    if style == "basic":
        (selector,) = result.event_selectors
        (resource,) = selector.data_resources
        assert resource.type == "AWS::S3::Object"
        assert resource.values == tuple(f"arn:aws:s3:::{b}/" for b in buckets(n))
        assert cloudtrail.basic_value_count(result.event_selectors) == n
    else:
        (selector,) = result.advanced_event_selectors
        fields = {f.field: f for f in selector.field_selectors}
        assert fields["eventCategory"].equals == ("Data",)
        assert fields["resources.type"].equals == ("AWS::S3::Object",)
        assert fields["resources.ARN"].starts_with == tuple(
            f"arn:aws:s3:::{b}/" for b in buckets(n)
        )
        assert cloudtrail.advanced_value_count(result.advanced_event_selectors) == n + 2


def test_499_buckets_do_not_fit_one_trail():
    with pytest.raises(SelectorLimitError) as caught:
        plan(499)
    assert caught.value.kind == "values"
    assert str(caught.value) == (
        "499 buckets need 501 advanced-selector values but a trail allows at most 500 "
        "(this configuration fits at most 498 buckets); move buckets to another trail, or "
        "remove extra selector values"
    )


def test_read_only_costs_one_value():
    result = plan(497, read_write_type="ReadOnly")
    fields = {f.field: f for f in result.advanced_event_selectors[0].field_selectors}
    assert fields["readOnly"].equals == ("true",)
    with pytest.raises(SelectorLimitError, match="fits at most 497 buckets"):
        plan(498, read_write_type="WriteOnly")


def test_management_events_in_advanced_style_are_a_selector_of_their_own():
    result = plan(300, include_management_events=True, read_write_type="WriteOnly")
    names = [s.name for s in result.advanced_event_selectors]
    assert names == [cloudtrail.DATA_SELECTOR_NAME, cloudtrail.MANAGEMENT_SELECTOR_NAME]
    management = result.advanced_event_selectors[1]
    assert management.field_selectors == (
        FieldSelector("eventCategory", equals=("Management",)),
        FieldSelector("readOnly", equals=("false",)),
    )


def test_forced_basic_style_beyond_250_is_an_error():
    with pytest.raises(
        SelectorLimitError,
        match="251 buckets need 251 basic data-resource values but a trail allows at most 250",
    ):
        plan(251, style="basic")


def test_forced_advanced_style_for_one_bucket():
    assert plan(1, style="advanced").style == "advanced"


def lambda_selector(i: int) -> EventSelector:
    return EventSelector(
        "All",
        False,
        (
            DataResource(
                "AWS::Lambda::Function", (f"arn:aws:lambda:us-east-1:111122223333:function:f{i}",)
            ),
        ),
    )


def test_five_selectors_fit_six_do_not():
    result = plan(10, extra_event_selectors=[lambda_selector(i) for i in range(4)])
    assert result.style == "basic" and len(result.event_selectors) == 5
    with pytest.raises(SelectorLimitError) as caught:
        plan(10, style="basic", extra_event_selectors=[lambda_selector(i) for i in range(5)])
    assert caught.value.kind == "selectors"
    assert "6 event selectors exceed the trail limit of 5" in str(caught.value)


def test_auto_keeps_the_style_of_extra_basic_selectors():
    # A trail cannot mix styles, so extra basic selectors pin auto to basic, limits and all.
    with pytest.raises(SelectorLimitError) as caught:
        plan(10, extra_event_selectors=[lambda_selector(i) for i in range(5)])
    assert caught.value.kind == "selectors"
    with pytest.raises(SelectorLimitError) as caught:
        plan(251, extra_event_selectors=[lambda_selector(0)])
    assert caught.value.kind == "values"


def test_extra_basic_values_count_against_250():
    extra = [
        EventSelector("All", False, (DataResource("AWS::S3::Object", ("arn:aws:s3:::other/",)),))
    ]
    assert plan(249, extra_event_selectors=extra).style == "basic"
    with pytest.raises(SelectorLimitError):
        plan(250, extra_event_selectors=extra)


def test_extra_values_already_ours_are_not_duplicated():
    ours = "arn:aws:s3:::bucket-0000/"
    extra = [
        EventSelector(
            "All", False, (DataResource("AWS::S3::Object", (ours, "arn:aws:s3:::other/")),)
        )
    ]
    result = plan(1, extra_event_selectors=extra)
    assert result.event_selectors[1].data_resources[0].values == ("arn:aws:s3:::other/",)
    only_ours = [EventSelector("All", False, (DataResource("AWS::S3::Object", (ours,)),))]
    assert len(plan(1, extra_event_selectors=only_ours).event_selectors) == 1


def test_extra_advanced_selectors_force_advanced_and_replace_ours_by_name():
    lam = AdvancedEventSelector(
        "lambda",
        (
            FieldSelector("eventCategory", equals=("Data",)),
            FieldSelector("resources.type", equals=("AWS::Lambda::Function",)),
        ),
    )
    stale = AdvancedEventSelector(
        cloudtrail.DATA_SELECTOR_NAME, (FieldSelector("eventCategory", equals=("Data",)),)
    )
    result = plan(3, extra_advanced_event_selectors=[stale, lam])
    assert result.style == "advanced"
    assert [s.name for s in result.advanced_event_selectors] == [
        cloudtrail.DATA_SELECTOR_NAME,
        "lambda",
    ]
    assert cloudtrail.advanced_value_count(result.advanced_event_selectors) == 5 + 2


def test_mixing_basic_and_advanced_extras_is_refused():
    lam = AdvancedEventSelector("lambda", (FieldSelector("eventCategory", equals=("Data",)),))
    with pytest.raises(SelectorLimitError) as caught:
        plan(1, extra_event_selectors=[lambda_selector(0)], extra_advanced_event_selectors=[lam])
    assert caught.value.kind == "mixed"


@pytest.mark.parametrize("partition", domain.PARTITIONS)
def test_partition_aware_arns_with_trailing_slash(partition):
    result = plan(2, partition=partition)
    assert result.event_selectors[0].data_resources[0].values == (
        f"arn:{partition}:s3:::bucket-0000/",
        f"arn:{partition}:s3:::bucket-0001/",
    )


def test_api_selectors_shape():
    basic = cloudtrail.api_selectors(plan(1))
    assert basic == {
        "EventSelectors": [
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": False,
                "DataResources": [
                    {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::bucket-0000/"]}
                ],
            }
        ]
    }
    advanced = cloudtrail.api_selectors(plan(1, style="advanced", read_write_type="ReadOnly"))
    assert advanced == {
        "AdvancedEventSelectors": [
            {
                "Name": cloudtrail.DATA_SELECTOR_NAME,
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                    {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::bucket-0000/"]},
                    {"Field": "readOnly", "Equals": ["true"]},
                ],
            }
        ]
    }


def test_config_errors_name_the_numbers():
    raw = {
        "control_account_ids": ["111122223333"],
        "buckets": buckets(2491),
        "cloudtrail": {"log_bucket_name": "logs-bucket"},
    }
    with pytest.raises(config.ConfigError) as caught:
        config.validate(raw)
    (problem,) = caught.value.problems
    assert problem == (
        "buckets: 2491 buckets do not fit the 5 trails CloudTrail allows per region (this "
        "configuration fits at most 2490 buckets in 5 trails); log all S3 data events with an "
        "organization or account trail and set mode = \"none\" (mode = 'create')"
    )


def test_mode_none_plans_no_selectors_and_has_no_limit():
    raw = {
        "control_account_ids": ["111122223333"],
        "buckets": buckets(2000),
        "cloudtrail": {"mode": "none"},
    }
    assert config.validate(raw).cloudtrail.selectors is None


def test_external_mode_writes_the_handoff_files(tmp_path):
    from quilt_cross_account.terraform import render

    model = config.validate(
        {
            "control_account_ids": ["111122223333"],
            "buckets": buckets(2),
            "cloudtrail": {
                "mode": "external",
                "trail_name": "org-trail",
                "log_bucket_name": "existing-logs",
            },
        }
    )
    files = render.render(model)
    prefix = f"{render.ROOT_DIR}/cloudtrail/"
    assert sorted(p[len(prefix) :] for p in files if p.startswith(prefix)) == [
        "README.md",
        "log-bucket-read-policy.json",
        "put-event-selectors.json",
        "trail-snippet.tf",
    ]
    request = json.loads(files[prefix + "put-event-selectors.json"])
    assert request == {
        "TrailName": "org-trail",
        **cloudtrail.api_selectors(model.cloudtrail.selectors),
    }
    assert "replaces all of the trail's selectors" in files[prefix + "README.md"]
    read = json.loads(files[prefix + "log-bucket-read-policy.json"])
    assert [s["Sid"] for s in read["Statement"]] == [
        "QuiltListCloudTrailLogs",
        "QuiltReadCloudTrailLogs",
    ]


def test_create_mode_with_created_log_bucket_writes_no_handoff():
    from quilt_cross_account.terraform import render

    assert not [p for p in render.render(config.load()) if "/cloudtrail/" in p]


def test_an_owners_selector_for_events_quilt_does_not_log_is_kept():
    from quilt_cross_account.cloudtrail import plan_selectors as plan
    from quilt_cross_account.model import DataResource as Resource
    from quilt_cross_account.model import EventSelector as Selector

    theirs = Selector(
        "WriteOnly", True, (Resource("AWS::S3::Object", ("arn:aws:s3:::bucket-a/",)),)
    )
    kept = plan(
        partition="aws",
        buckets=["bucket-a"],
        style="basic",
        read_write_type="ReadOnly",
        include_management_events=False,
        extra_event_selectors=[theirs],
    )
    assert kept.event_selectors[1] == theirs  # Quilt logs reads only: the writes stay logged
    covered = plan(
        partition="aws",
        buckets=["bucket-a"],
        style="basic",
        read_write_type="All",
        include_management_events=False,
        extra_event_selectors=[theirs],
    )
    assert covered.event_selectors[1] == Selector("WriteOnly", True, ())  # Quilt's covers them
