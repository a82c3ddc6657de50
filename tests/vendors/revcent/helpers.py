"""What the RevCent tool tests share: the tool names, the emulator's site integrations and their options, and the
steps a person takes (complete a secure form, create an integration, set an option)."""

from __future__ import annotations

from typing import Any

from mcp import Client

from integrations_mcp.vendors.revcent.emulator import RevCentEmulator
from tests.harness import ok

READ_TOOLS = {"GetSiteThirdPartyIntegrations", "GetSiteThirdPartyIntegration", "GetSecureForm",
              "GetUserThirdPartyIntegrations", "GetUserThirdPartyIntegration"}
WRITE_TOOLS = {"CreateSecureForm", "CreateUserThirdPartyIntegration", "EditUserThirdPartyIntegration"}


def integration_writes(emu: RevCentEmulator) -> list:
    return [r for r in emu.writes() if r.path.startswith("/v2/user_third_party_integrations")]


def site(emu: RevCentEmulator, kind: str) -> dict[str, Any]:
    return emu.site_integrations[emu.site_id(kind)]


def static_single_select(emu: RevCentEmulator, kind: str = "tax") -> tuple[str, str, list[str]]:
    for option in site(emu, kind)["third_party_options"]:
        for field in option["fields"]:
            s = field.get("select_settings") or {}
            if field["field_type"] == "select" and not s.get("third_party_asset") and not s.get("multiple") \
                    and len(s.get("options", [])) >= 2 and not option["required"]:
                return option["id"], field["id"], s["options"]
    raise AssertionError("fixture lacks an optional static single select")


def required_asset_select(emu: RevCentEmulator, kind: str = "tax") -> tuple[str, str]:
    for option in site(emu, kind)["third_party_options"]:
        for field in option["fields"]:
            if option["required"] and (field.get("select_settings") or {}).get("third_party_asset"):
                return option["id"], field["id"]
    raise AssertionError("fixture lacks a required asset select")


def credential_values(emu: RevCentEmulator, kind: str, secret: str = "s3cret") -> dict[str, str]:
    return {f["id"]: f"{secret}-{f['id']}" for f in site(emu, kind)["third_party_credentials"]["fields"]}


def revcent_form_id(form: dict[str, Any]) -> str:
    """RevCent's own id of a form CreateSecureForm made: the end of its page's address (the secure_form_id the model
    holds is a sealed handle of it)."""
    return form["form_url"].rstrip("/").rsplit("/", 1)[1]


async def completed_form(client: Client, emu: RevCentEmulator, kind: str = "tax", secret: str = "s3cret") -> str:
    form = await ok(client, "CreateSecureForm", {"site_third_party_integration_id": emu.site_id(kind)})
    emu.complete_secure_form(revcent_form_id(form), credential_values(emu, kind, secret))
    return form["secure_form_id"]


async def create(client: Client, emu: RevCentEmulator, kind: str = "tax", name: str = "Tax main") -> str:
    form_id = await completed_form(client, emu, kind)
    created = await ok(client, "CreateUserThirdPartyIntegration", {
        "name": name, "site_third_party_integration": emu.site_id(kind), "secure_form_id": form_id})
    return created["user_third_party_integration_id"]


async def set_option(client: Client, uid: str, option: str, field: str, values: list[str], **extra: Any) -> dict:
    return await ok(client, "EditUserThirdPartyIntegration", {
        "user_third_party_integration_id": uid,
        "third_party_options": [{"id": option, "fields": [{"id": field, "value": values}]}], **extra})
