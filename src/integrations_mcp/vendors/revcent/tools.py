"""RevCent tools, named after RevCent's operation ids so that the guides and RevCent's docs match."""

from __future__ import annotations

import time
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from integrations_mcp.errors import GuardrailError, VendorError
from integrations_mcp.guardrails.secrets import SecretKeys, find_keys, url_password_paths
from integrations_mcp.pipeline.changes import FieldChange
from integrations_mcp.pipeline.confirm import ConfirmationRequest, require_confirmation
from integrations_mcp.pipeline.progress import Progress
from integrations_mcp.secure_forms.single_use import SpentForms, spending
from integrations_mcp.toolkit.annotations import CREATES, EDITS, READ_ONLY
from integrations_mcp.toolkit.arguments import IntegrationName, Page, PageSize
from integrations_mcp.toolkit.declare import tool
from integrations_mcp.vendor_http import vendor_record
from integrations_mcp.vendors.revcent import rules as policy
from integrations_mcp.vendors.revcent.client import RevCentClient
from integrations_mcp.vendors.revcent.models import (
    Created,
    OptionInput,
    Readiness,
    RevCentId,
    SecureForm,
    SiteIntegration,
    SiteIntegrationPage,
    SiteIntegrationSummary,
    UserIntegration,
    UserIntegrationPage,
    UserIntegrationSummary,
    UserIntegrationView,
    WriteResult,
)

__all__ = ["RevCentTools", "refuse_raw_credentials"]

VENDOR = "RevCent"

# Argument names that can only mean raw credentials. RevCent takes credentials through a secure form only.
CREDENTIAL_KEYS = SecretKeys.of(
    ("third_party_credentials", "credentials", "credential", "password", "secret", "api_key", "api_secret", "token",
     "access_token", "auth_token", "private_key", "client_secret", "license_key", "secret_key", "pass", "pwd"),
    fragments=("password", "passwd", "secret", "apikey", "privatekey", "credential"))
SECURE_FORM_WAY = ("Credentials are never taken in chat. Call CreateSecureForm with the site integration id, ask "
                   "the user to open form_url and enter the credentials there, then pass secure_form_id.")


def refuse_raw_credentials(arguments: dict[str, Any]) -> None:
    paths = [path for path, _ in find_keys(arguments, CREDENTIAL_KEYS)]
    paths += [f"{path} (password in the URL)" for path in url_password_paths(arguments)]
    if paths:
        raise GuardrailError(f"Refused: raw credential fields in the arguments ({', '.join(paths)}). "
                             f"Nothing was sent. {SECURE_FORM_WAY} See guide://common/guardrails.")


class RevCentTools:
    """The RevCent tools. They share the client and the record of secure forms already used."""

    def __init__(self, api: RevCentClient) -> None:
        self.api = api
        # RevCent lets a completed form be read until it expires; this server lets each one save credentials once,
        # so a form the user filled for one integration cannot later be replayed onto another.
        self.spent_forms = SpentForms(create_tool="CreateSecureForm")

    async def usable_form(self, form_id: str, site_id: str) -> None:
        self.spent_forms.require_unspent(form_id)
        await _require_usable_form(self.api, form_id, site_id)

    async def write_with_form(self, form_id: str | None, send: Any) -> Any:
        """Spend the form with the write (the one rule: secure_forms/single_use.py)."""
        if not form_id:
            return await send()
        self.spent_forms.spend(form_id)
        return await spending(send, give_back=lambda: self.spent_forms.give_back(form_id))

    async def view(self, integration_id: str) -> UserIntegrationView:
        record = vendor_record(UserIntegration, await self.api.get_user_integration(integration_id), VENDOR,
                               "GetUserThirdPartyIntegration")
        return UserIntegrationView(integration=record, readiness=policy.readiness(record))

    async def written(self, integration_id: str, body: dict[str, Any], changes: list[FieldChange],
                      expected: dict[str, Any], values: policy.SavedValues, credentials: bool) -> WriteResult:
        """The result of a write RevCent accepted, verified by reading it back. A failed read-back is reported as
        such: the write itself happened and must not look like a failure."""
        result = WriteResult(dry_run=False, user_third_party_integration_id=integration_id, sent=body,
                             changes=changes)
        try:
            result.verified = await self.view(integration_id)
        except VendorError as exc:
            result.mismatches = [f"The write succeeded, but reading it back failed: {exc}"]
            result.next_steps = ["Read it with GetUserThirdPartyIntegration to check the saved state first."]
            return result
        result.mismatches = _mismatches(result.verified.integration, expected, values, credentials)
        result.next_steps = _next_steps(result.verified)
        return result

    @tool(READ_ONLY, title="List RevCent native integrations")
    async def GetSiteThirdPartyIntegrations(self, limit: PageSize = 25, page: Page = 1) -> SiteIntegrationPage:
        """List the native integrations RevCent offers (tax, shipping, offline_payment, ai, ai_voice).
        Start here when setting one up. Guide: guide://revcent/lifecycle"""
        data = await self.api.list_site_integrations(limit=limit, page=page)
        results = [_site_summary(vendor_record(SiteIntegration, item, VENDOR, "GetSiteThirdPartyIntegrations"))
                   for item in data.get("results") or []]
        return SiteIntegrationPage(page=page, count=len(results), has_more=len(results) == limit, results=results)

    @tool(READ_ONLY, title="Get a RevCent native integration's schema")
    async def GetSiteThirdPartyIntegration(self, site_third_party_integration_id: RevCentId) -> SiteIntegration:
        """A native integration's credential fields and option schema (option/field ids, selects).
        Guide: guide://revcent/GetSiteThirdPartyIntegration"""
        return vendor_record(SiteIntegration, await self.api.get_site_integration(site_third_party_integration_id),
                             VENDOR, "GetSiteThirdPartyIntegration")

    @tool(READ_ONLY, title="Check a RevCent secure form")
    async def GetSecureForm(self, secure_form_id: RevCentId) -> SecureForm:
        """Whether a secure form is completed, and which site integration it belongs to.
        Guide: guide://revcent/GetSecureForm"""
        data = await self.api.get_secure_form(secure_form_id)
        completed = bool(data.get("completed"))
        if secure_form_id in self.spent_forms:
            next_step = "Already used to save credentials; create a new form for any other change."
        elif completed:
            next_step = "Pass secure_form_id to Create/EditUserThirdPartyIntegration."
        else:
            next_step = "Not completed yet: ask the user to finish the form at its form_url."
        return vendor_record(SecureForm, {**data, "secure_form_id": data.get("id", secure_form_id),
                                          "completed": completed, "next_step": next_step}, VENDOR, "GetSecureForm")

    @tool(READ_ONLY, title="List the account's RevCent integrations")
    async def GetUserThirdPartyIntegrations(self, limit: PageSize = 25, page: Page = 1) -> UserIntegrationPage:
        """List the account's integrations (id, name, enabled, type). Guide: guide://revcent/lifecycle"""
        data = await self.api.list_user_integrations(limit=limit, page=page)
        results = [vendor_record(UserIntegrationSummary, _user_summary(item), VENDOR, "GetUserThirdPartyIntegrations")
                   for item in data.get("results") or []]
        return UserIntegrationPage(page=page, count=len(results), has_more=len(results) == limit, results=results)

    @tool(READ_ONLY, title="Get a RevCent integration with readiness")
    async def GetUserThirdPartyIntegration(self, user_third_party_integration_id: RevCentId) -> UserIntegrationView:
        """An integration with saved credential ids, saved options, the option schema with the account's
        assets, and readiness (what is missing, valid choices, can_enable).
        Guide: guide://revcent/GetUserThirdPartyIntegration"""
        return await self.view(user_third_party_integration_id)

    @tool(CREATES, title="Create a RevCent secure form for credentials")
    async def CreateSecureForm(self, site_third_party_integration_id: RevCentId) -> SecureForm:
        """Create a one-hour secure form where the user types the integration's credentials (never in chat).
        Give the user form_url. Guide: guide://revcent/CreateSecureForm"""
        data = await self.api.create_secure_form(site_third_party_integration_id)
        next_step = ("Ask the user to open form_url, enter the credentials and say when done; check with "
                     "GetSecureForm, then pass secure_form_id to Create/EditUserThirdPartyIntegration.")
        return vendor_record(SecureForm, {**data, "completed": bool(data.get("completed")), "next_step": next_step},
                             VENDOR, "CreateSecureForm")

    @tool(CREATES, title="Create a RevCent integration")
    async def CreateUserThirdPartyIntegration(
        self,
        name: Annotated[IntegrationName, Field(description="Unique integration name.")],
        site_third_party_integration: RevCentId,
        ctx: Context,
        secure_form_id: Annotated[RevCentId | None, Field(description="Completed secure form with credentials.")]
        = None,
        description: str | None = None,
        enabled: Annotated[bool | None, Field(description="Refused unless the result is complete.")] = None,
        dry_run: Annotated[bool, Field(description="Return what would be sent; write nothing.")] = False,
    ) -> WriteResult:
        """Create an integration from a native site integration. Credentials only via secure_form_id.
        Guide: guide://revcent/CreateUserThirdPartyIntegration"""
        progress = Progress(ctx, 3)
        await progress.step("checking the site integration, the name and the secure form")
        site = vendor_record(SiteIntegration, await self.api.get_site_integration(site_third_party_integration), VENDOR,
                             "GetSiteThirdPartyIntegration")
        await _require_unique_name(self.api, name)
        if secure_form_id:
            await self.usable_form(secure_form_id, site.id)
        body: dict[str, Any] = {"name": name, "site_third_party_integration": site.id}
        if description is not None:
            body["description"] = description
        if secure_form_id:
            body["secure_form_id"] = secure_form_id
        if enabled is not None:
            body["enabled"] = enabled
        if enabled:
            draft = UserIntegration(id="-" * 20, name=name, site_third_party_integration=site)
            _require_complete(policy.readiness(draft, values={}, credentials_saved=bool(secure_form_id)))
        changes = [FieldChange(field=k, proposed=v) for k, v in body.items()]
        if dry_run:
            return WriteResult(dry_run=True, sent=body, changes=changes,
                               next_steps=["Call again without dry_run to create it."])
        await progress.step("creating the integration in RevCent")
        created = await self.write_with_form(secure_form_id, lambda: self.api.create_user_integration(body))
        new_id = vendor_record(Created, created, VENDOR, "CreateUserThirdPartyIntegration", hint=(
            "It may have been created all the same: list the integrations before trying again.")).id
        await progress.step("reading it back to verify")
        expected = {k: v for k, v in body.items() if k in ("name", "description", "enabled")}
        return await self.written(new_id, body, changes, expected, {}, bool(secure_form_id))

    @tool(EDITS, title="Edit a RevCent integration")
    async def EditUserThirdPartyIntegration(
        self,
        user_third_party_integration_id: RevCentId,
        ctx: Context,
        name: IntegrationName | None = None,
        description: str | None = None,
        enabled: bool | None = None,
        secure_form_id: Annotated[RevCentId | None, Field(description="Completed secure form: new credentials.")]
        = None,
        third_party_options: Annotated[list[OptionInput] | None, Field(description="Option values to save.")]
        = None,
        confirm_overwrite: Annotated[bool, Field(description="User agreed to replace saved option values.")]
        = False,
        confirm_disable: Annotated[bool, Field(description="User agreed to disable (live features stop).")]
        = False,
        dry_run: Annotated[bool, Field(description="Return what would be sent and the diff; write nothing.")]
        = False,
    ) -> WriteResult:
        """Partial edit: only the fields given are sent. Changing saved options needs confirm_overwrite,
        disabling needs confirm_disable, enabling needs a complete integration.
        Guide: guide://revcent/EditUserThirdPartyIntegration"""
        requested = {k: v for k, v in (("name", name), ("description", description), ("enabled", enabled),
                                       ("secure_form_id", secure_form_id),
                                       ("third_party_options", third_party_options)) if v is not None}
        if not requested:
            raise GuardrailError("Refused: nothing to change. Give at least one of name, description, enabled, "
                                 "secure_form_id, third_party_options.")
        progress = Progress(ctx, 3)
        await progress.step("reading the saved integration and checking the edit")
        current = (await self.view(user_third_party_integration_id)).integration
        site = current.site_third_party_integration
        saved = policy.saved_values(current.third_party_options_saved)
        body: dict[str, Any] = {}
        changes: list[FieldChange] = []
        for key in ("name", "description", "enabled"):
            value = requested.get(key)
            if value is not None and value != getattr(current, key):
                body[key] = value
                changes.append(FieldChange(field=key, saved=getattr(current, key), proposed=value,
                                           overwrites=key != "enabled"))
        if "name" in body:
            await _require_unique_name(self.api, body["name"], exclude_id=current.id)
        credential_changes: list[FieldChange] = []
        if secure_form_id:
            await self.usable_form(secure_form_id, site.id)
            body["secure_form_id"] = secure_form_id
            credential_changes.append(FieldChange(
                field="credentials", saved="saved" if current.third_party_credentials_saved else None,
                proposed="replaced from the secure form" if current.third_party_credentials_saved
                else "from the secure form", overwrites=bool(current.third_party_credentials_saved)))
            changes += credential_changes
        option_changes: list[FieldChange] = []
        if third_party_options:
            policy.validate_options(site, third_party_options, saved)
            option_changes = policy.option_changes(third_party_options, saved)
            touched = {c.field.split(".")[1] for c in option_changes}
            changed = [o for o in third_party_options if o.id in touched]
            if changed:
                body["third_party_options"] = policy.options_body(changed, saved)
                changes += option_changes
        if not body:
            raise GuardrailError("Refused: this edit changes nothing; every value given is already saved. "
                                 "Nothing was sent.")
        overwrites = [c for c in credential_changes + option_changes if c.overwrites]
        if overwrites:
            require_confirmation(ConfirmationRequest(
                flag="confirm_overwrite", reason="this edit replaces saved credentials or option values.",
                changes=overwrites,
                consequence=f"These settings may drive {policy.dependent_features(site.integration_type)}.",
            ), confirmed=confirm_overwrite or dry_run)
        projected = policy.project_values(third_party_options or [], saved)
        if body.get("enabled") is True:
            _require_complete(policy.readiness(current, values=projected, credentials_saved=(
                bool(secure_form_id) or not policy.missing_credentials(site, current.third_party_credentials_saved))))
        if body.get("enabled") is False:
            require_confirmation(ConfirmationRequest(
                flag="confirm_disable", reason=f"disabling {current.name!r} stops what depends on it.",
                consequence=f"Live features of this {site.integration_type} integration that stop or fail: "
                            f"{policy.dependent_features(site.integration_type)}. Check them with the user first.",
            ), confirmed=confirm_disable or dry_run)
        if dry_run:
            return WriteResult(dry_run=True, user_third_party_integration_id=current.id, sent=body, changes=changes,
                               next_steps=["Call again without dry_run (and with any confirmation the user gave)."])
        await progress.step("saving the edit in RevCent")
        await self.write_with_form(secure_form_id, lambda: self.api.edit_user_integration(current.id, body))
        await progress.step("reading it back to verify")
        expected = {k: body[k] for k in ("name", "description", "enabled") if k in body}
        # Every field sent (the changed ones and the siblings re-sent with them) must read back as sent.
        touched_values = {(o["id"], f["id"]): f["value"] for o in body.get("third_party_options", [])
                          for f in o["fields"]}
        return await self.written(current.id, body, changes, expected, touched_values, bool(secure_form_id))


def _site_summary(site: SiteIntegration) -> SiteIntegrationSummary:
    return SiteIntegrationSummary(
        id=site.id, name=site.name, description=site.description, integration_type=site.integration_type,
        has_options=bool(site.third_party_options),
        has_required_options=any(o.required for o in site.third_party_options),
    )


def _user_summary(item: Any) -> dict[str, Any]:
    """A list row as UserIntegrationSummary fields (validated by the caller)."""
    if not isinstance(item, dict):
        return {}
    site = item.get("site_third_party_integration")
    site = site if isinstance(site, dict) else {"id": site} if isinstance(site, str) else {}
    return {"id": item.get("id"), "name": item.get("name", ""), "description": item.get("description") or "",
            "enabled": bool(item.get("enabled")), "site_third_party_integration_id": site.get("id"),
            "site_name": site.get("name"), "integration_type": site.get("integration_type")}


async def _require_unique_name(api: RevCentClient, name: str, *, exclude_id: str | None = None) -> None:
    wanted = name.casefold()
    for item in await api.all_user_integrations():
        if item.get("id") != exclude_id and str(item.get("name", "")).strip().casefold() == wanted:
            raise GuardrailError(f"Refused: the name {name!r} is already used by integration {item.get('id')}. "
                                 "Names must be unique; choose another. Nothing was sent.")


async def _require_usable_form(api: RevCentClient, form_id: str, site_id: str) -> None:
    try:
        form = await api.get_secure_form(form_id)
    except VendorError as exc:
        if exc.error_code or (exc.status is not None and exc.status < 500):
            raise GuardrailError(f"Refused: secure form {form_id} cannot be used ({exc.error_code or exc.status}: "
                                 "it does not exist or has expired). Create a new one with CreateSecureForm. "
                                 "Nothing was sent.") from None
        raise
    reason = None
    if form.get("form_source") != "third_party_integration" or form.get("form_source_id") != site_id:
        reason = (f"it belongs to {form.get('form_source')} {form.get('form_source_id')}, not to site integration "
                  f"{site_id}. Create a form for {site_id}")
    elif (form.get("expiration_date_unix") or 0) and form["expiration_date_unix"] <= time.time():
        reason = "it has expired (forms last one hour). Create a new one with CreateSecureForm"
    elif not form.get("completed"):
        reason = "the user has not completed it yet. Ask them to open its form_url and submit it, then call again"
    if reason:
        raise GuardrailError(f"Refused: secure form {form_id} cannot be used: {reason}. Nothing was sent.")


def _require_complete(readiness: Readiness) -> None:
    if not readiness.can_enable:
        raise GuardrailError("Refused: cannot enable an incomplete integration. Missing: "
                             + "; ".join(readiness.blockers)
                             + ". Save what is missing first (leave enabled unset), then enable. Nothing was sent.")


def _mismatches(record: UserIntegration, expected: dict[str, Any], values: dict[tuple[str, str], list[str]],
                credentials: bool) -> list[str]:
    found = [f"{k}: sent {v!r}, read back {getattr(record, k)!r}" for k, v in expected.items()
             if getattr(record, k) != v]
    saved = policy.saved_values(record.third_party_options_saved)
    found += [f"third_party_options.{o}.{f}: sent {v}, read back {saved.get((o, f), [])}"
              for (o, f), v in values.items() if saved.get((o, f), []) != v]
    creds = record.site_third_party_integration.third_party_credentials
    if credentials and creds is not None and creds.id not in record.third_party_credentials_saved:
        found.append("credentials: the secure form was sent but RevCent reports no saved credentials "
                     "(it may not have been able to connect with them); ask the user to check them.")
    return found


def _next_steps(verified: UserIntegrationView) -> list[str]:
    r, record = verified.readiness, verified.integration
    if r.blockers:
        return [f"Still needed: {b}." for b in r.blockers] + [
            "Ask the user to choose option values from readiness.choices; never pick for them."]
    if not record.enabled:
        return ["Complete. Enable it with EditUserThirdPartyIntegration(enabled=true) once the user agrees."]
    return ["Complete and enabled."]
