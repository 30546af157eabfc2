"""CloudTrail selector planning: which selectors log the buckets' S3 data events within a trail's
limits. The HCL module mirrors these rules in its locals and preconditions; tests prove they agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from quilt_cross_account import domain
from quilt_cross_account.model import (
    AdvancedEventSelector,
    DataResource,
    EventSelector,
    FieldSelector,
    SelectorPlan,
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
    'allows at most {max_basic_values}; use selector_style = "advanced" (or "auto"), or split '
    "the buckets across trails",
    "advanced_values": "{buckets} buckets need {values} advanced-selector values but a trail "
    "allows at most {max_advanced_values} (this configuration fits at most {fits} buckets); "
    "split the buckets across trails",
}


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
) -> tuple[EventSelector, ...]:
    ours = EventSelector(
        read_write_type=read_write_type,  # type: ignore[arg-type]
        include_management_events=include_management_events,
        data_resources=(DataResource(domain.S3_OBJECT_RESOURCE_TYPE, tuple(arns)),),
    )
    return (ours, *_without_our_arns(extra, set(arns), read_write_type))


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
    if extra_event_selectors and extra_advanced_event_selectors:
        raise SelectorLimitError("mixed", limit_message("mixed"))
    if style == "basic" and extra_advanced_event_selectors:
        raise SelectorLimitError("style", limit_message("basic_style_advanced_extras"))
    if style == "advanced" and extra_event_selectors:
        raise SelectorLimitError("style", limit_message("advanced_style_basic_extras"))
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
