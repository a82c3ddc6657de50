"""Checking and merging `third_party_options` and raw `third_party_credentials` against a site integration."""

from __future__ import annotations

from typing import Any

from integrations_mcp.vendors.revcent.emulator.contract import (
    STRICT_OPTION_VALUES,
    ApiError,
    ErrorCode,
)
from integrations_mcp.vendors.revcent.emulator.records import Assets, SavedOptions

__all__ = ["check_credentials", "merge_options"]


def _invalid(message: str) -> ApiError:
    return ApiError(ErrorCode.VALIDATION_ERROR, message)


def _unique(ids: list[str], what: str) -> None:
    for i in ids:
        if ids.count(i) > 1:
            raise _invalid(f"Duplicate {what} id '{i}'.")


def check_credentials(site: dict[str, Any], sent: dict[str, Any]) -> dict[str, str]:
    """Raw credentials (the seed's `third_party_credentials`) as the dict RevCent would store."""
    spec = site["third_party_credentials"]
    if sent["id"] != spec["id"]:
        raise _invalid(f"third_party_credentials.id must be '{spec['id']}' for this site third party integration.")
    known = {f["id"] for f in spec["fields"]}
    ids = [f["id"] for f in sent["fields"]]
    _unique(ids, "credential field")
    unknown = sorted(set(ids) - known)
    if unknown:
        raise _invalid(f"Unknown credential field id(s) {unknown}; valid: {sorted(known)}.")
    return {f["id"]: f["value"] for f in sent["fields"] if f["value"]}


def _check_values(option_id: str, spec: dict[str, Any], values: list[str], assets: Assets | None) -> None:
    settings = spec.get("select_settings") or {}
    where = f"{option_id}.{spec['id']}"
    if len(values) > 1 and not settings.get("multiple"):
        raise _invalid(f"{where} takes a single value.")
    if spec["field_type"] != "select":
        return
    if settings.get("third_party_asset"):
        if assets is None:
            raise _invalid(f"{where} lists assets from the third party: save the credentials first.")
        allowed = assets.get(option_id, {}).get(spec["id"], [])
    else:
        allowed = settings.get("options", [])
    bad = [v for v in values if v not in allowed]
    if bad:
        raise _invalid(f"{where}: value(s) {bad} are not among the available options {allowed}.")


def merge_options(site: dict[str, Any], saved: SavedOptions, sent: list[dict[str, Any]], assets: Assets | None,
                  *, check_values: bool = STRICT_OPTION_VALUES, mode: str = "field") -> SavedOptions:
    """The saved options after applying `sent` (`mode`: Contract.options_edit); nothing is changed unless every
    sent option is valid."""
    specs = {o["id"]: o for o in site["third_party_options"]}
    _unique([o["id"] for o in sent], "option")
    merged = {} if mode == "replace" else {oid: dict(fields) for oid, fields in saved.items()}
    for option in sent:
        spec = specs.get(option["id"])
        if spec is None:  # [I] RevCent's reaction to unknown ids is undocumented; we refuse rather than ignore
            raise _invalid(f"Unknown option id '{option['id']}'; valid: {sorted(specs)}.")
        fields = {f["id"]: f for f in spec["fields"]}
        _unique([f["id"] for f in option["fields"]], "field")
        for sent_field in option["fields"]:
            field_spec = fields.get(sent_field["id"])
            if field_spec is None:
                raise _invalid(f"Unknown field id '{sent_field['id']}' in option '{option['id']}'; "
                               f"valid: {sorted(fields)}.")
            if check_values:
                _check_values(option["id"], field_spec, sent_field["value"], assets)
        base = merged.get(option["id"], {}) if mode == "field" else {}
        updated = {**base, **{f["id"]: list(f["value"]) for f in option["fields"]}}
        merged[option["id"]] = {fid: v for fid, v in updated.items() if v}  # [I] an empty value array clears the field
        if not merged[option["id"]]:
            del merged[option["id"]]
    return merged
