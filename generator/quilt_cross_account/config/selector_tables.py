"""Extra CloudTrail selectors from the config: TOML tables, or the trail's current selectors as
`aws cloudtrail get-event-selectors` prints them (what `import-policies` saves)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from quilt_cross_account import domain
from quilt_cross_account.config import documents, fields
from quilt_cross_account.config.fields import Problems
from quilt_cross_account.model import (
    AdvancedEventSelector,
    DataResource,
    EventSelector,
    FieldSelector,
)

BASIC_KEY = "cloudtrail.extra_event_selectors"
ADVANCED_KEY = "cloudtrail.extra_advanced_event_selectors"
FIELD_SELECTOR_KEYS = {"field", *FieldSelector.OPERATORS}


def event_selectors(p: Problems, raw: object, key: str = BASIC_KEY) -> tuple[EventSelector, ...]:
    selectors = []
    for i, item in enumerate(fields.table_list(p, key, raw)):
        at = f"{key}[{i}]"
        fields.unknown_keys(
            p, f"{at}.", item, {"read_write_type", "include_management_events", "data_resources"}
        )
        rw = fields.choice(p, item, "read_write_type", domain.READ_WRITE_TYPES, "All", f"{at}.")
        management = fields.boolean(p, item, "include_management_events", False, f"{at}.")
        resources = []
        listed = fields.table_list(p, f"{at}.data_resources", item.get("data_resources"))
        for j, res in enumerate(listed):
            rat = f"{at}.data_resources[{j}]"
            fields.unknown_keys(p, f"{rat}.", res, {"type", "values"})
            rtype = fields.string(p, res, "type", None, f"{rat}.")
            if rtype is None:
                p.add(f"{rat}.type", "is required")
            elif rtype not in domain.BASIC_DATA_RESOURCE_TYPES:
                p.add(
                    f"{rat}.type",
                    f"{rtype!r} is not a type basic event selectors take "
                    f"({', '.join(domain.BASIC_DATA_RESOURCE_TYPES)}); use advanced selectors",
                )
            values = fields.string_list(p, res, "values", required=True, prefix=f"{rat}.")
            resources.append(DataResource(rtype or "", tuple(values)))
        if not resources and not management:
            p.add(at, "must have data_resources or include_management_events = true")
        selectors.append(EventSelector(rw, management, tuple(resources)))
    return tuple(selectors)


def advanced_selectors(
    p: Problems, raw: object, key: str = ADVANCED_KEY
) -> tuple[AdvancedEventSelector, ...]:
    selectors = []
    for i, item in enumerate(fields.table_list(p, key, raw)):
        at = f"{key}[{i}]"
        fields.unknown_keys(p, f"{at}.", item, {"name", "field_selectors"})
        name = fields.string(p, item, "name", None, f"{at}.")
        if name is None:
            p.add(f"{at}.name", "is required (it identifies the selector when merging)")
        conditions = []
        listed = fields.table_list(p, f"{at}.field_selectors", item.get("field_selectors"))
        for j, fs in enumerate(listed):
            fat = f"{at}.field_selectors[{j}]"
            fields.unknown_keys(p, f"{fat}.", fs, FIELD_SELECTOR_KEYS)
            fname = fields.string(p, fs, "field", None, f"{fat}.")
            if fname is None:
                p.add(f"{fat}.field", "is required")
            ops = {
                op: tuple(fields.string_list(p, fs, op, prefix=f"{fat}."))
                for op in FieldSelector.OPERATORS
            }
            if not any(ops.values()):
                p.add(fat, f"needs at least one of {', '.join(FieldSelector.OPERATORS)}")
            if fname is not None:
                _check_field(p, fat, fname, ops)
            conditions.append(FieldSelector(fname or "", **ops))
        if not conditions:
            p.add(f"{at}.field_selectors", "must have at least one field selector")
        selectors.append(AdvancedEventSelector(name or "", tuple(conditions)))
    return tuple(selectors)


def _check_field(p: Problems, at: str, name: str, ops: Mapping[str, tuple[str, ...]]) -> None:
    """CloudTrail's documented rules for one field selector (AdvancedFieldSelector)."""
    if name not in domain.ADVANCED_FIELDS:
        p.add(
            f"{at}.field",
            f"{name!r} is not a field CloudTrail trails select on "
            f"({', '.join(domain.ADVANCED_FIELDS)})",
        )
        return
    if name in domain.EQUALS_ONLY_FIELDS:
        for op, values in ops.items():
            if values and op != "equals":
                p.add(f"{at}.{op}", f"{name} takes only the equals operator")
    allowed = {
        "eventCategory": domain.EVENT_CATEGORIES,
        "readOnly": domain.READ_ONLY_FIELD_VALUES,
    }.get(name)
    for op, values in ops.items():
        for value in values:
            if allowed is not None and value not in allowed:
                p.add(f"{at}.{op}", f"{value!r} must be one of {', '.join(allowed)}")
            if not 1 <= len(value) <= domain.SELECTOR_VALUE_MAX:
                p.add(f"{at}.{op}", f"values must be 1-{domain.SELECTOR_VALUE_MAX} characters")


def from_api_file(
    p: Problems, path: Path, key: str
) -> tuple[tuple[EventSelector, ...], tuple[AdvancedEventSelector, ...]]:
    """Selectors saved from `get-event-selectors` (EventSelectors / AdvancedEventSelectors)."""
    doc = documents.read_json(p, key, path, "file")
    if doc is None:
        return (), ()
    doc = fields.table(p, key, doc)
    basic = [_basic_from_api(s) for s in doc.get("EventSelectors") or [] if isinstance(s, Mapping)]
    advanced = [
        _advanced_from_api(s)
        for s in doc.get("AdvancedEventSelectors") or []
        if isinstance(s, Mapping)
    ]
    return (
        event_selectors(p, basic, f"{key}:EventSelectors"),
        advanced_selectors(p, advanced, f"{key}:AdvancedEventSelectors"),
    )


def _basic_from_api(s: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "read_write_type": s.get("ReadWriteType", "All"),
        "include_management_events": s.get("IncludeManagementEvents", True),
        "data_resources": [
            {"type": d.get("Type"), "values": d.get("Values", [])}
            for d in s.get("DataResources") or []
            if isinstance(d, Mapping)
        ],
    }


def _advanced_from_api(s: Mapping[str, Any]) -> dict[str, Any]:
    def field(f: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"field": f.get("Field")}
        for op, api in FieldSelector.API_NAMES.items():
            if api in f:
                out[op] = f[api]
        return out

    return {
        "name": s.get("Name"),
        "field_selectors": [
            field(f) for f in s.get("FieldSelectors") or [] if isinstance(f, Mapping)
        ],
    }
