"""RevCent tools, named after RevCent's operation ids so that the guides and RevCent's docs match. The two writes
run the pipeline (`pipeline.write.run_write`) with the stages in `writes.py`; every refusal is in `rules.py`.

The write path (`writes.py`, `plans.py`, `rules.py`, `views.py`) is imported by the first call that needs it: a
server starting up and listing its tools needs only the signatures (cold start)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import InputRequiredResult
from pydantic import Field

from integrations_mcp.client_capabilities import can_open_urls
from integrations_mcp.guardrails.outputs import own_link, vendor_link
from integrations_mcp.pipeline.write import WriteServices, run_write
from integrations_mcp.secure_forms.handoff import Handoffs, Outcome, new_handoff
from integrations_mcp.secure_forms.single_use import SpentForms
from integrations_mcp.state.journal import ChangeRow
from integrations_mcp.state.store import StateStore
from integrations_mcp.toolkit.annotations import CREATES, EDITS, READ_ONLY
from integrations_mcp.toolkit.arguments import (
    APPROVAL_ID,
    CONFIRMATION_ID,
    Description,
    IntegrationName,
    Page,
    PageSize,
    StrictBool,
)
from integrations_mcp.toolkit.calls import write_call
from integrations_mcp.toolkit.declare import tool
from integrations_mcp.toolkit.identity import principal, session_key
from integrations_mcp.vendors.revcent.client import RevCentClient
from integrations_mcp.vendors.revcent.credentials import Credentials
from integrations_mcp.vendors.revcent.facts import CredentialsVia
from integrations_mcp.vendors.revcent.form_handles import FormHandles
from integrations_mcp.vendors.revcent.models import (
    OptionFieldInput,
    OptionInput,
    RevCentId,
    SecureForm,
    SecureFormId,
    SiteIntegrationPage,
    SiteIntegrationSummary,
    UserIntegrationPage,
    UserIntegrationView,
    WriteResult,
    views_module,
)
from integrations_mcp.vendors.revcent.records import SecureFormRecord, SiteIntegration
from integrations_mcp.vendors.revcent.server_forms import ServerForms

if TYPE_CHECKING:
    from integrations_mcp.vendors.revcent.writes import EditWrite

__all__ = ["RevCentTools"]

VENDOR = "RevCent"
OPTIONS = "third_party_options."  # how an option field's FieldChange is named: third_party_options.<option>.<field>
FORM_LIFETIME_SECONDS = 3600  # RevCent's forms last an hour; used when an answer does not say when one expires
# The write itself checks the form (refusing one not completed yet): no GetSecureForm call in between.
FORM_URL_NEXT = ("Give the user form_url to open (never open it yourself), enter the credentials and say when done; "
                 "then pass secure_form_id to Create/EditUserThirdPartyIntegration.")
HANDOFF_MESSAGE = "Open the secure form to enter the integration's credentials (they never go through the chat)."
HANDED_OVER_NEXT = {
    Outcome.COMPLETED: "The user completed the form their client opened. Pass secure_form_id to "
                       "Create/EditUserThirdPartyIntegration.",
    Outcome.WAITING: "The user's client opened the form but it is not completed yet. Ask the user to finish it, then "
                     "pass secure_form_id to Create/EditUserThirdPartyIntegration.",
    Outcome.DECLINED: "The user declined to open the form; nothing was saved. Ask them how they want to go on.",
}


class RevCentTools:
    """The RevCent tools. They share the client and the record of secure forms already used."""

    def __init__(self, api: RevCentClient, writes: WriteServices, handoffs: Handoffs, *,
                 via: CredentialsVia, server_forms: ServerForms, state: StateStore | None = None,
                 handles: FormHandles | None = None) -> None:
        self.api, self.writes, self.handoffs, self.via = api, writes, handoffs, via
        # RevCent lets a completed form be read until it expires; this server lets each one save credentials once,
        # so a form the user filled for one integration cannot later be replayed onto another.
        self.spent_forms = SpentForms(create_tool="CreateSecureForm", state=state)
        self.credentials = Credentials(self.spent_forms, server_forms, handles)

    async def _read_form(self, form_id: str, owner: str) -> SecureFormRecord:
        """The form as the model may see it: its handle, never RevCent's id or the page's address (the model got
        the address once, from CreateSecureForm, when it had to hand it over)."""
        if self.via == "server-form":
            return self.credentials.server_forms.status(form_id, owner)
        record = await self.api.get_secure_form(self.credentials.handles.open(form_id, owner))
        return record.model_copy(update={"id": form_id, "form_url": None})

    def revert_edit(self, change: ChangeRow, restore: dict[str, Any], owner: str) -> EditWrite:
        """The edit that puts `restore` (journal field -> value) back: RevertIntegrationChange's stages."""
        from integrations_mcp.vendors.revcent.plans import EditRequest
        from integrations_mcp.vendors.revcent.writes import EditWrite

        options: dict[str, list[OptionFieldInput]] = {}
        for name, value in restore.items():
            if name.startswith(OPTIONS):
                option_id, field_id = name.removeprefix(OPTIONS).split(".", 1)
                options.setdefault(option_id, []).append(OptionFieldInput(id=field_id, value=value or []))
        description = (restore["description"] or "") if "description" in restore else None  # "" clears it
        edit = EditRequest(integration_id=change.integration or "", name=restore.get("name"),
                           description=description, enabled=restore.get("enabled"),
                           third_party_options=[OptionInput(id=o, fields=f) for o, f in options.items()] or None)
        return EditWrite(self.api, self.credentials, owner, edit, self.via, revert=True)

    @tool(READ_ONLY, title="List RevCent native integrations")
    async def GetSiteThirdPartyIntegrations(self, limit: PageSize = 25, page: Page = 1) -> SiteIntegrationPage:
        """Native integrations (tax, shipping, offline_payment, ai, ai_voice). Start here; how:
        GetIntegrationGuide revcent/lifecycle"""
        sites = (await self.api.list_site_integrations(limit=limit, page=page)).results
        results = [SiteIntegrationSummary.of(site) for site in sites]
        return SiteIntegrationPage(page=page, count=len(results), has_more=len(results) == limit, results=results)

    @tool(READ_ONLY, title="Get a RevCent native integration's schema")
    async def GetSiteThirdPartyIntegration(self, site_third_party_integration_id: RevCentId) -> SiteIntegration:
        """A native integration's credential fields and options (ids, selects)."""
        return await self.api.get_site_integration(site_third_party_integration_id)

    @tool(READ_ONLY, title="Check a RevCent secure form")
    async def GetSecureForm(self, secure_form_id: SecureFormId, ctx: Context) -> SecureForm:
        """Whether a secure form is completed, and for which native integration."""
        owner = session_key(ctx)
        form = await self._read_form(secure_form_id, owner)
        if await self.spent_forms.is_spent(secure_form_id) or (
                self.via == "server-form" and self.credentials.server_forms.raw_status(secure_form_id, owner).used):
            next_step = "Already used to save credentials; create a new form for any other change."
        elif form.completed:
            next_step = "Pass secure_form_id to Create/EditUserThirdPartyIntegration."
        else:
            next_step = "Not completed yet: ask the user to finish the form at its form_url."
        return SecureForm.of(form, next_step)

    @tool(READ_ONLY, title="List the account's RevCent integrations")
    async def GetUserThirdPartyIntegrations(self, limit: PageSize = 25, page: Page = 1) -> UserIntegrationPage:
        """The account's integrations (id, name, type, enabled). No delete: disable instead."""
        results = (await self.api.list_user_integrations(limit=limit, page=page)).results
        return UserIntegrationPage(page=page, count=len(results), has_more=len(results) == limit, results=results)

    @tool(READ_ONLY, title="Get a RevCent integration with readiness")
    async def GetUserThirdPartyIntegration(self, user_third_party_integration_id: RevCentId) -> UserIntegrationView:
        """An integration, its options with the account's assets, and readiness (what is missing,
        choices, can_enable)."""
        return views_module().view(await self.api.get_user_integration(user_third_party_integration_id))

    @tool(CREATES, title="Create a RevCent secure form for credentials")
    async def CreateSecureForm(self, site_third_party_integration_id: RevCentId,
                               ctx: Context) -> SecureForm | InputRequiredResult:
        """A one-hour form for the user to type credentials (never in chat); give them form_url unless their
        client opened it, never open it yourself."""
        owner = session_key(ctx)
        handoff = self.handoffs.resumed(ctx, owner)
        if handoff is None:
            form = await self._new_form(site_third_party_integration_id, owner, principal(ctx))
            if not (can_open_urls(ctx) and form.form_url):
                return SecureForm.of(form, FORM_URL_NEXT)
            expires = form.expiration_date_unix or time.time() + FORM_LIFETIME_SECONDS
            handoff = new_handoff(form.id, form.form_url, owner, expires_at=expires)
        outcome = await self.handoffs.hand_over(ctx, handoff, HANDOFF_MESSAGE,
                                                completed=lambda: self._completed(handoff.form_id, owner))
        if isinstance(outcome, InputRequiredResult):
            return outcome
        record = await self._read_form(handoff.form_id, owner)
        return SecureForm.of(record, HANDED_OVER_NEXT[outcome]).model_copy(update={"form_url": None})

    async def _new_form(self, site_id: str, owner: str, requested_by: str = "") -> SecureFormRecord:
        """RevCent's form (revcent-form), or the server's own page asking for the site's credential fields."""
        if self.via == "server-form":
            form = await self.credentials.server_forms.create(owner, await self.api.get_site_integration(site_id),
                                                              requested_by)
            own_link(form.form_url or "")
            return form
        form = await self.api.create_secure_form(site_id)
        vendor_link(form.form_url or "")  # RevCent's hosted form: handed over whole unless it holds a known secret
        handle = self.credentials.handles.seal(form.id, owner)  # RevCent's id (the page's address) stays here
        self.credentials.made_for[handle] = site_id
        return form.model_copy(update={"id": handle})

    async def _completed(self, form_id: str, owner: str) -> bool:
        return (await self._read_form(form_id, owner)).completed

    @tool(CREATES, title="Create a RevCent integration")
    async def CreateUserThirdPartyIntegration(
        self,
        name: Annotated[IntegrationName, Field(description="Unique.")],
        site_third_party_integration: RevCentId,
        ctx: Context,
        secure_form_id: Annotated[SecureFormId | None, Field(description="Completed, with credentials.")]
        = None,
        description: Description | None = None,
        enabled: Annotated[StrictBool | None, Field(description="Never true: enable by an edit.")] = None,
        dry_run: StrictBool = False,
    ) -> WriteResult | InputRequiredResult:
        """Create an integration from a native one; credentials only via secure_form_id."""
        from integrations_mcp.vendors.revcent.plans import CreateRequest
        from integrations_mcp.vendors.revcent.writes import CreateWrite

        request = CreateRequest(name=name, site_id=site_third_party_integration, secure_form_id=secure_form_id,
                                description=description, enabled=enabled)
        call = write_call(ctx, "CreateUserThirdPartyIntegration", VENDOR, dry_run=dry_run)
        stages = CreateWrite(self.api, self.credentials, call.owner, request, self.via)
        return await run_write(stages, call, self.writes)

    @tool(EDITS, title="Edit a RevCent integration")
    async def EditUserThirdPartyIntegration(
        self,
        user_third_party_integration_id: RevCentId,
        ctx: Context,
        name: IntegrationName | None = None,
        description: Description | None = None,
        enabled: StrictBool | None = None,
        secure_form_id: Annotated[SecureFormId | None, Field(description="Completed; new credentials.")]
        = None,
        third_party_options: Annotated[list[OptionInput] | None, Field(description="Values to save.")]
        = None,
        confirm_overwrite: Annotated[StrictBool, Field(description="User agreed to replace saved values.")]
        = False,
        confirm_disable: Annotated[StrictBool, Field(description="User agreed to disable.")]
        = False,
        confirm_enable: Annotated[StrictBool, Field(description="User agreed to enable.")]
        = False,
        confirmation_id: CONFIRMATION_ID = None,
        approval_id: APPROVAL_ID = None,
        dry_run: StrictBool = False,
    ) -> WriteResult | InputRequiredResult:
        """Partial edit, one kind of change per call; replacing, live changes, enabling, disabling need consent.
        No delete."""
        from integrations_mcp.vendors.revcent import rules
        from integrations_mcp.vendors.revcent.plans import EditRequest
        from integrations_mcp.vendors.revcent.writes import EditWrite

        edit = EditRequest(integration_id=user_third_party_integration_id, name=name, description=description,
                           enabled=enabled, secure_form_id=secure_form_id, third_party_options=third_party_options)
        rules.require_an_edit(edit)
        flags = {"confirm_overwrite": confirm_overwrite, "confirm_disable": confirm_disable,
                 "confirm_enable": confirm_enable}
        call = write_call(ctx, "EditUserThirdPartyIntegration", VENDOR, dry_run=dry_run, flags=flags,
                          token=confirmation_id or approval_id)
        stages = EditWrite(self.api, self.credentials, call.owner, edit, self.via)
        return await run_write(stages, call, self.writes)
