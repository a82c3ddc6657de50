"""Stored objects (secure forms, user integrations) and how the API renders them. Secrets never reach a view."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from integrations_mcp.vendors.revcent.emulator.contract import (
    OMIT_EMPTY_THIRD_PARTY_OPTIONS,
    SECRET_MASK,
    Contract,
)
from integrations_mcp.vendors.revcent.emulator.fixtures import SECRET_OPTION_FIELDS

__all__ = ["Assets", "SavedOptions", "SecureForm", "UserIntegration", "credentials_saved", "integration_view",
           "site_view"]

Assets = dict[str, dict[str, list[str]]]  # option id -> field id -> account-specific values
SavedOptions = dict[str, dict[str, list[str]]]  # option id -> field id -> saved values


@dataclass
class SecureForm:
    id: str
    form_source: str
    form_source_id: str | None
    created_date_unix: int
    expiration_date_unix: int
    csrf_token: str = field(repr=False)
    completed: bool = False
    values: dict[str, str] = field(default_factory=dict, repr=False)

    def public(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "created_date_unix": self.created_date_unix,
                                "expiration_date_unix": self.expiration_date_unix, "completed": self.completed,
                                "form_source": self.form_source}
        if self.form_source_id is not None:
            data["form_source_id"] = self.form_source_id
        return data


@dataclass
class UserIntegration:
    id: str
    name: str
    site_id: str
    description: str = ""
    enabled: bool = False
    credentials: dict[str, str] = field(default_factory=dict, repr=False)
    options: SavedOptions = field(default_factory=dict)


def credentials_saved(site: dict[str, Any], credentials: dict[str, str]) -> list[str]:
    """[credentials id] once every required credential field holds a non-empty value, else []."""
    spec = site["third_party_credentials"]
    complete = all(credentials.get(f["id"]) for f in spec["fields"] if f["required"])
    return [spec["id"]] if complete and credentials else []


# Contract.select_names="remote_asset": the Edit seed's spelling of the select settings.
EDIT_SEED_SELECT_NAMES = {"third_party_asset": "remote_asset", "multiple": "is_multiple"}


def site_view(site: dict[str, Any], assets: Assets | None = None, contract: Contract | None = None) -> dict[str, Any]:
    """The site object; asset selects list the account's assets only when `assets` is given."""
    view = copy.deepcopy(site)
    for option in view["third_party_options"]:
        for spec in option["fields"]:
            settings = spec.get("select_settings")
            if settings and settings["third_party_asset"]:
                settings["options"] = list((assets or {}).get(option["id"], {}).get(spec["id"], []))
            if settings and contract is not None and contract.select_names == "remote_asset":
                spec["select_settings"] = {EDIT_SEED_SELECT_NAMES.get(k, k): v for k, v in settings.items()}
    if OMIT_EMPTY_THIRD_PARTY_OPTIONS and not view["third_party_options"]:
        del view["third_party_options"]
    return view


def _shown(field_id: str, values: list[str], contract: Contract) -> list[str] | None:
    """A saved field's values as a Get shows them (Contract.secret_options); None: left out."""
    if field_id not in SECRET_OPTION_FIELDS or contract.secret_options == "shown":
        return list(values)
    return [SECRET_MASK for _ in values] if contract.secret_options == "masked" else None


def integration_view(record: UserIntegration, site: dict[str, Any], assets: Assets | None,
                     contract: Contract | None = None) -> dict[str, Any]:
    contract = contract or Contract()
    saved = []
    for option in site["third_party_options"]:  # site order, so answers are stable
        values = record.options.get(option["id"], {})
        shown = {f["id"]: _shown(f["id"], values[f["id"]], contract) for f in option["fields"] if f["id"] in values}
        fields = [{"id": fid, "value": value} for fid, value in shown.items() if value is not None]
        if fields:
            saved.append({"id": option["id"], "fields": fields})
    return {"id": record.id, "name": record.name, "description": record.description, "enabled": record.enabled,
            "third_party_credentials_saved": credentials_saved(site, record.credentials),
            "third_party_options_saved": saved,
            "site_third_party_integration": site_view(site, assets, contract)}
