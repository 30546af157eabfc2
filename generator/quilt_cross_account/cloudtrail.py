"""CloudTrail selector planning: which selectors log the buckets' S3 data events within a trail's
limits. The HCL module mirrors these rules in its locals and preconditions; tests prove they agree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from quilt_cross_account import domain
from quilt_cross_account.errors import ConfigError
from quilt_cross_account.model import (
    AdvancedEventSelector,
    CloudTrail,
    DataAccountSetup,
    DataResource,
    EventSelector,
    FieldSelector,
    SelectorPlan,
    TrailShard,
)

DATA_SELECTOR_NAME = "QuiltS3DataEvents"
MANAGEMENT_SELECTOR_NAME = "ManagementEvents"
# Advanced selectors express ReadOnly/WriteOnly as a `readOnly` condition.
READ_ONLY_VALUES = {"ReadOnly": "true", "WriteOnly": "false"}


class SelectorLimitError(ValueError):
    """The buckets and extra selectors cannot fit one trail.

    `kind` says which rule broke: "mixed" (basic and advanced extras), "selectors" (too many
    selectors) or "values" (too many values).
    """

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


# Each limit's message, written once: the planner fills in Python numbers, the module's
# preconditions Terraform expressions (terraform.rules.limit_message), so both say the same.
LIMIT_VALUES: dict[str, int] = {
    "max_selectors": domain.MAX_EVENT_SELECTORS,
    "max_basic_values": domain.MAX_BASIC_DATA_VALUES,
    "max_advanced_values": domain.MAX_ADVANCED_VALUES,
    "max_trails": domain.MAX_TRAILS,
}
LIMIT_MESSAGES: dict[str, str] = {
    "mixed": "extra basic and advanced selectors cannot be mixed on one trail; "
    "convert the basic ones to advanced selectors",
    # An explicit style would silently drop the trail's extra selectors of the other style.
    "basic_style_advanced_extras": 'selector_style "basic" cannot keep the extra advanced '
    'selectors (a trail cannot mix styles); use selector_style "advanced" or "auto"',
    "advanced_style_basic_extras": 'selector_style "advanced" cannot keep the extra basic '
    'selectors (a trail cannot mix styles); use selector_style "basic" or "auto", or convert '
    "them to advanced selectors",
    "basic_selectors": "{selectors} event selectors exceed the trail limit of {max_selectors}; "
    "remove extra selectors",
    "advanced_selectors": "{selectors} advanced event selectors exceed the trail limit of "
    "{max_selectors}; remove extra selectors",
    "basic_values": "{buckets} buckets need {values} basic data-resource values but a trail "
    'allows at most {max_basic_values}; use selector_style = "advanced" (or "auto"), move '
    "buckets to another trail, or remove extra selector values",
    "advanced_values": "{buckets} buckets need {values} advanced-selector values but a trail "
    "allows at most {max_advanced_values} (this configuration fits at most {fits} buckets); "
    "move buckets to another trail, or remove extra selector values",
    # Python only (PYTHON_ONLY_LIMITS): the module takes the assignment as an input.
    "trails": "{buckets} buckets do not fit the {max_trails} trails CloudTrail allows per region "
    "(this configuration fits at most {fits} buckets in {max_trails} trails); log all S3 data "
    'events with an organization or account trail and set mode = "none"',
}

# The module checks these otherwise: it takes the trails' assignment as its `trail_shards` input,
# whose validation allows trail numbers 2-5 only.
PYTHON_ONLY_LIMITS = frozenset({"trails"})


def limit_message(rule: str, **numbers: int) -> str:
    """The message of a broken limit (a key of LIMIT_MESSAGES), with the numbers filled in."""
    return LIMIT_MESSAGES[rule].format(**LIMIT_VALUES, **numbers)


def data_event_arns(partition: str, buckets: Sequence[str]) -> tuple[str, ...]:
    return tuple(domain.data_event_arn(partition, b) for b in buckets)


def basic_selectors(
    arns: Sequence[str],
    read_write_type: str,
    include_management_events: bool,
    extra: Sequence[EventSelector],
    logged: Sequence[str] | None = None,
) -> tuple[EventSelector, ...]:
    """Quilt's selector for `arns`, then the extra ones without the values Quilt logs (`logged`:
    every trail's ARNs, so no bucket's events are delivered twice; default `arns`)."""
    ours = EventSelector(
        read_write_type=read_write_type,  # type: ignore[arg-type]
        include_management_events=include_management_events,
        data_resources=(DataResource(domain.S3_OBJECT_RESOURCE_TYPE, tuple(arns)),),
    )
    covered = set(arns if logged is None else logged)
    return (ours, *_without_our_arns(extra, covered, read_write_type))


def advanced_selectors(
    arns: Sequence[str],
    read_write_type: str,
    include_management_events: bool,
    extra: Sequence[AdvancedEventSelector],
) -> tuple[AdvancedEventSelector, ...]:
    read_only = _read_only_condition(read_write_type)
    ours = [
        AdvancedEventSelector(
            name=DATA_SELECTOR_NAME,
            field_selectors=(
                FieldSelector("eventCategory", equals=("Data",)),
                FieldSelector("resources.type", equals=(domain.S3_OBJECT_RESOURCE_TYPE,)),
                FieldSelector("resources.ARN", starts_with=tuple(arns)),
                *read_only,
            ),
        )
    ]
    if include_management_events:
        ours.append(
            AdvancedEventSelector(
                name=MANAGEMENT_SELECTOR_NAME,
                field_selectors=(
                    FieldSelector("eventCategory", equals=("Management",)),
                    *read_only,
                ),
            )
        )
    our_names = {s.name for s in ours}
    # A selector of ours that came back through `extra` (e.g. imported from the trail) is replaced.
    return (*ours, *(s for s in extra if s.name not in our_names))


def plan_selectors(
    *,
    partition: str,
    buckets: Sequence[str],
    style: str,
    read_write_type: str,
    include_management_events: bool,
    extra_event_selectors: Sequence[EventSelector] = (),
    extra_advanced_event_selectors: Sequence[AdvancedEventSelector] = (),
) -> SelectorPlan:
    """Choose the selector style and build the selectors, or explain which limit is broken."""
    _check_extras(style, extra_event_selectors, extra_advanced_event_selectors)
    arns = data_event_arns(partition, buckets)
    basic = basic_selectors(arns, read_write_type, include_management_events, extra_event_selectors)
    advanced = advanced_selectors(
        arns, read_write_type, include_management_events, extra_advanced_event_selectors
    )
    chosen = resolve_style(style, basic, extra_event_selectors, extra_advanced_event_selectors)
    if chosen == "basic":
        _check_basic(basic, len(arns))
        return SelectorPlan(style="basic", event_selectors=basic)
    _check_advanced(advanced, len(arns))
    return SelectorPlan(style="advanced", advanced_event_selectors=advanced)


def plan_trails(
    *,
    partition: str,
    trail_name: str,
    buckets: Sequence[str],
    style: str,
    read_write_type: str,
    include_management_events: bool,
    extra_event_selectors: Sequence[EventSelector] = (),
    extra_advanced_event_selectors: Sequence[AdvancedEventSelector] = (),
    previous: Mapping[str, int] | None = None,
) -> tuple[TrailShard, ...]:
    """Shard the buckets over as few trails as their limits allow (at most MAX_TRAILS), or
    explain which limit is broken.

    The style is chosen as for one trail holding every bucket. Trail 1 alone keeps the extra
    selectors and management events. A bucket stays in the trail `previous` gave it while that
    trail has room; the others fill the trails in order, each up to its capacity, so adding
    buckets only ever changes the last trail or adds one (and fills a gap left by removals).
    """
    _check_extras(style, extra_event_selectors, extra_advanced_event_selectors)
    all_arns = data_event_arns(partition, buckets)
    basic_all = basic_selectors(
        all_arns, read_write_type, include_management_events, extra_event_selectors
    )
    chosen = resolve_style(style, basic_all, extra_event_selectors, extra_advanced_event_selectors)

    def selectors(number: int, arns: Sequence[str], check: bool = True) -> SelectorPlan:
        first = number == 1
        management = include_management_events and first
        if chosen == "basic":
            extra_basic = extra_event_selectors if first else ()
            basic = basic_selectors(arns, read_write_type, management, extra_basic, all_arns)
            if check:
                _check_basic(basic, len(arns))
            return SelectorPlan(style="basic", event_selectors=basic)
        extra_advanced = extra_advanced_event_selectors if first else ()
        advanced = advanced_selectors(arns, read_write_type, management, extra_advanced)
        if check:
            _check_advanced(advanced, len(arns))
        return SelectorPlan(style="advanced", advanced_event_selectors=advanced)

    capacities = [
        _capacity(chosen, _value_count(selectors(number, (), check=False))) for number in _NUMBERS
    ]
    # The first trail's rules with one bucket: too many selectors, or extra values leaving no
    # room for a bucket, break them whatever the sharding.
    selectors(1, all_arns[:1])
    fits = sum(capacities)
    if len(buckets) > fits:
        raise SelectorLimitError("trails", limit_message("trails", buckets=len(buckets), fits=fits))
    members = assign_trails(buckets, capacities, previous or {})
    shards = []
    for number, names in members.items():
        if names or number == 1:
            name = domain.shard_trail_name(trail_name, number)
            if len(name) > domain.TRAIL_NAME_MAX:
                raise SelectorLimitError("trail_name", trail_name_message(trail_name, number))
            arns = data_event_arns(partition, names)
            shards.append(TrailShard(number, name, tuple(names), selectors(number, arns)))
    return tuple(shards)


_NUMBERS = range(1, domain.MAX_TRAILS + 1)


def trail_name_message(trail_name: str, number: int) -> str:
    longest = domain.TRAIL_NAME_MAX - len(domain.shard_trail_name("", number))
    return (
        f"{trail_name!r} is too long for the buckets' trail {number}, "
        f"{domain.shard_trail_name('<trail_name>', number)!r} (trail names have at most "
        f"{domain.TRAIL_NAME_MAX} characters): use at most {longest} characters"
    )


def _value_count(plan: SelectorPlan) -> int:
    if plan.style == "basic":
        return basic_value_count(plan.event_selectors)
    return advanced_value_count(plan.advanced_event_selectors)


def _capacity(style: str, overhead: int) -> int:
    limit = domain.MAX_BASIC_DATA_VALUES if style == "basic" else domain.MAX_ADVANCED_VALUES
    return limit - overhead


def assign_trails(
    buckets: Sequence[str], capacities: Sequence[int], previous: Mapping[str, int]
) -> dict[int, list[str]]:
    """Trail number -> its buckets (in the buckets' order). A bucket keeps its `previous` trail
    while that trail has room (in the buckets' order); every other bucket goes to the first
    trail with room. The first trail always holds a bucket (it carries Quilt's selector)."""
    members: dict[int, list[str]] = {n: [] for n in range(1, len(capacities) + 1)}
    pending = []
    for bucket in buckets:
        number = previous.get(bucket)
        if number in members and len(members[number]) < capacities[number - 1]:
            members[number].append(bucket)
        else:
            pending.append(bucket)
    if buckets and not members[1] and not pending:
        # Every bucket of the first trail has gone: the first of a later trail moves there.
        donor = next(names for names in members.values() if names)
        pending.append(donor.pop(0))
    for bucket in pending:
        number = next(n for n, names in members.items() if len(names) < capacities[n - 1])
        members[number].append(bucket)
    return members


def _check_extras(
    style: str,
    extra_basic: Sequence[EventSelector],
    extra_advanced: Sequence[AdvancedEventSelector],
) -> None:
    if extra_basic and extra_advanced:
        raise SelectorLimitError("mixed", limit_message("mixed"))
    if style == "basic" and extra_advanced:
        raise SelectorLimitError("style", limit_message("basic_style_advanced_extras"))
    if style == "advanced" and extra_basic:
        raise SelectorLimitError("style", limit_message("advanced_style_basic_extras"))


def resolve_style(
    style: str,
    basic: Sequence[EventSelector],
    extra_basic: Sequence[EventSelector],
    extra_advanced: Sequence[AdvancedEventSelector],
) -> str:
    """`auto`: the style of any extra selectors (a trail cannot mix them), else basic while the
    buckets fit and advanced beyond."""
    if style != "auto":
        return style
    if extra_advanced:
        return "advanced"
    if extra_basic:
        return "basic"
    return "basic" if basic_fits(basic) else "advanced"


def basic_value_count(selectors: Sequence[EventSelector]) -> int:
    return sum(len(d.values) for s in selectors for d in s.data_resources)


def basic_fits(selectors: Sequence[EventSelector]) -> bool:
    return (
        len(selectors) <= domain.MAX_EVENT_SELECTORS
        and basic_value_count(selectors) <= domain.MAX_BASIC_DATA_VALUES
    )


def advanced_value_count(selectors: Sequence[AdvancedEventSelector]) -> int:
    return sum(s.value_count() for s in selectors)


def _check_basic(selectors: Sequence[EventSelector], bucket_count: int) -> None:
    if len(selectors) > domain.MAX_EVENT_SELECTORS:
        raise SelectorLimitError(
            "selectors", limit_message("basic_selectors", selectors=len(selectors))
        )
    values = basic_value_count(selectors)
    if values > domain.MAX_BASIC_DATA_VALUES:
        raise SelectorLimitError(
            "values", limit_message("basic_values", buckets=bucket_count, values=values)
        )


def _check_advanced(selectors: Sequence[AdvancedEventSelector], bucket_count: int) -> None:
    if len(selectors) > domain.MAX_EVENT_SELECTORS:
        raise SelectorLimitError(
            "selectors", limit_message("advanced_selectors", selectors=len(selectors))
        )
    values = advanced_value_count(selectors)
    if values > domain.MAX_ADVANCED_VALUES:
        overhead = values - bucket_count
        fits = domain.MAX_ADVANCED_VALUES - overhead
        raise SelectorLimitError(
            "values",
            limit_message("advanced_values", buckets=bucket_count, values=values, fits=fits),
        )


def _read_only_condition(read_write_type: str) -> tuple[FieldSelector, ...]:
    if read_write_type in READ_ONLY_VALUES:
        return (FieldSelector("readOnly", equals=(READ_ONLY_VALUES[read_write_type],)),)
    return ()


def _without_our_arns(
    extra: Sequence[EventSelector], ours: set[str], read_write_type: str
) -> list[EventSelector]:
    """Drop values that Quilt's selector already logs (e.g. imported from the trail), and
    emptied selectors. A value stays where its selector logs events Quilt's does not (the owner
    logs a bucket's writes, Quilt only its reads): dropping it would stop that logging."""
    kept = []
    for selector in extra:
        covered = read_write_type in ("All", selector.read_write_type)
        resources = tuple(
            DataResource(d.type, tuple(v for v in d.values if not (covered and v in ours)))
            for d in selector.data_resources
        )
        resources = tuple(d for d in resources if d.values)
        if resources or selector.include_management_events:
            kept.append(
                EventSelector(
                    selector.read_write_type, selector.include_management_events, resources
                )
            )
    return kept


def api_selectors(plan: SelectorPlan) -> dict[str, list[dict[str, object]]]:
    """The selectors in CloudTrail API shape (`put-event-selectors`, `get-event-selectors`)."""
    if plan.style == "basic":
        return {
            "EventSelectors": [
                {
                    "ReadWriteType": s.read_write_type,
                    "IncludeManagementEvents": s.include_management_events,
                    "DataResources": [
                        {"Type": d.type, "Values": list(d.values)} for d in s.data_resources
                    ],
                }
                for s in plan.event_selectors
            ]
        }
    return {
        "AdvancedEventSelectors": [
            {"Name": s.name, "FieldSelectors": [_api_field(f) for f in s.field_selectors]}
            for s in plan.advanced_event_selectors
        ]
    }


def _api_field(field: FieldSelector) -> dict[str, object]:
    api: dict[str, object] = {"Field": field.field}
    for op, name in FieldSelector.API_NAMES.items():
        values = getattr(field, op)
        if values:
            api[name] = list(values)
    return api


def module_event_selector(selector: EventSelector) -> dict[str, object]:
    """A basic selector as the module's variables and outputs shape it."""
    return {
        "read_write_type": selector.read_write_type,
        "include_management_events": selector.include_management_events,
        "data_resources": [
            {"type": d.type, "values": list(d.values)} for d in selector.data_resources
        ],
    }


def module_selectors(plan: SelectorPlan | None) -> dict[str, list[Any]]:
    """A trail's selectors as the module's outputs shape them (none in mode "none")."""
    return {
        "event_selectors": [module_event_selector(s) for s in plan.event_selectors]
        if plan is not None
        else [],
        "advanced_event_selectors": [
            module_advanced_selector(s) for s in plan.advanced_event_selectors
        ]
        if plan is not None
        else [],
    }


def module_trails(trail: CloudTrail) -> list[dict[str, Any]]:
    """Every trail's name and selectors, as the module's `trails` output shapes them."""
    return [{"name": s.name, **module_selectors(s.selectors)} for s in trail.shards]


def module_advanced_selector(selector: AdvancedEventSelector) -> dict[str, Any]:
    """An advanced selector as the module's outputs shape it."""
    return {
        "name": selector.name,
        "field_selectors": [module_field_selector(f) for f in selector.field_selectors],
    }


def module_field_selector(field: FieldSelector) -> dict[str, object]:
    """Every operator present, null when unused: the module normalises them the same way (an
    empty list is unused; the config cannot tell the two apart)."""
    return {"field": field.field, **{op: operator_values(field, op) for op in field.OPERATORS}}


def operator_values(field: FieldSelector, operator: str) -> list[str] | None:
    values: Sequence[str] = getattr(field, operator)
    return list(values) if values else None


# --- The trail assignment across runs: the root's manifest remembers it (offboarding.record).
TRAILS_KEY = "trails"


def assignment_record(trail: CloudTrail) -> dict[str, list[str]]:
    """Trail number -> its buckets, as the manifest keeps it (empty in mode "none")."""
    return {str(s.number): list(s.buckets) for s in trail.shards}


def previous_assignment(record: Mapping[str, Any]) -> dict[str, int]:
    """Bucket -> trail number from a manifest's record (hand edits that do not fit ignored)."""
    listed = record.get(TRAILS_KEY)
    if not isinstance(listed, dict):
        return {}
    return {
        bucket: int(number)
        for number, buckets in listed.items()
        if isinstance(number, str) and number.isdigit() and isinstance(buckets, list)
        for bucket in buckets
        if isinstance(bucket, str)
    }


def remembering(model: DataAccountSetup, record: Mapping[str, Any]) -> DataAccountSetup:
    """The model with its buckets kept in the trails the previous run (`record`, the root's
    manifest) put them in, as far as the trails' limits allow."""
    trail = model.cloudtrail
    previous = previous_assignment(record)
    if not trail.shards or not previous:
        return model
    try:
        shards = plan_trails(
            partition=model.partition,
            trail_name=trail.trail_name,
            buckets=[b.name for b in model.connected],
            style=trail.selector_style,
            read_write_type=trail.read_write_type,
            include_management_events=trail.include_management_events,
            extra_event_selectors=trail.extra_event_selectors,
            extra_advanced_event_selectors=trail.extra_advanced_event_selectors,
            previous=previous,
        )
    except SelectorLimitError as exc:  # a name too long for a trail only the history keeps
        raise ConfigError([f"cloudtrail.trail_name: {exc}"]) from exc
    cloudtrail = dataclasses.replace(trail, selectors=shards[0].selectors, shards=shards)
    return dataclasses.replace(model, cloudtrail=cloudtrail)
