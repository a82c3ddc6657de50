"""CxEngage tools: create, read and edit a tenant's integrations, with secrets kept out of the chat by the
server's own one-time secure form.

The write path (`writes.py`, `plans.py`, `rules.py`, `views.py`) is imported by the first call that needs it: a
server starting up and listing its tools needs only the signatures (cold start)."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import InputRequiredResult
from pydantic import Field

from integrations_mcp.client_capabilities import can_open_urls
from integrations_mcp.guardrails.outputs import own_link
from integrations_mcp.once import Once
from integrations_mcp.pipeline.write import WriteServices, run_write
from integrations_mcp.secure_forms.handoff import Handoffs, Outcome, new_handoff
from integrations_mcp.secure_forms.server import SecureFormServer
from integrations_mcp.secure_forms.store import FormField, StoredForm
from integrations_mcp.state.journal import ChangeRow
from integrations_mcp.toolkit.annotations import CREATES, EDITS, LOCAL_WRITE, READ_ONLY
from integrations_mcp.toolkit.arguments import (
    APPROVAL_ID,
    CONFIRMATION_ID,
    Description,
    IntegrationName,
    Page,
    StrictBool,
)
from integrations_mcp.toolkit.calls import write_call
from integrations_mcp.toolkit.declare import tool
from integrations_mcp.toolkit.identity import principal, session_key
from integrations_mcp.vendors.cxengage.catalog import TYPES, PropertySpec, normalise_type
from integrations_mcp.vendors.cxengage.client import KEPT_PAGES, CxEngageClient, Listing
from integrations_mcp.vendors.cxengage.models import (
    LIST_LIMIT,
    MAX_LIST_LIMIT,
    IntegrationId,
    IntegrationList,
    IntegrationView,
    Properties,
    SecureFormCreated,
    TenantId,
    WriteResult,
    keep_page,
    summary,
)

if TYPE_CHECKING:
    from integrations_mcp.vendors.cxengage.writes import EditIntegration

__all__ = ["CxEngageTools"]

# The schema names what the tool refuses: a new integration's form must say where its secrets will work.
DESTINATION_HELP = "Where the secrets work. Needed when new: " + "; ".join(
    f"{spec.name} {'+'.join(p.name for p in spec.destinations if p.required)}"
    for spec in TYPES.values() if any(p.required for p in spec.destinations)) + "."
NAME = Annotated[IntegrationName, Field(description="Unique in the tenant.")]
DRY_RUN = StrictBool  # the name says what it does (a description would be paid in every conversation)
VENDOR = "CxEngage"  # as progress messages name it


# views.py, imported by the first read that needs it (cold start) and kept: a from-import inside a function costs
# ~2.7 µs on every call.
_views: Once[ModuleType] = Once(lambda: importlib.import_module("integrations_mcp.vendors.cxengage.views"))


class CxEngageTools:
    """The CxEngage tools. They share the client and the server's own secure form page."""

    def __init__(self, api: CxEngageClient, forms: SecureFormServer, writes: WriteServices,
                 handoffs: Handoffs) -> None:
        self.api, self.forms, self.writes, self.handoffs = api, forms, writes, handoffs

    def revert_edit(self, change: ChangeRow, restore: dict[str, Any], owner: str) -> EditIntegration:
        """The edit that puts `restore` (journal field -> value) back: RevertIntegrationChange's stages."""
        from integrations_mcp.vendors.cxengage.plans import EditArgs
        from integrations_mcp.vendors.cxengage.views import PROPERTY
        from integrations_mcp.vendors.cxengage.writes import EditIntegration

        properties = {k.removeprefix(PROPERTY): v for k, v in restore.items() if k.startswith(PROPERTY)}
        args = EditArgs(tenant_id=str((change.before or {}).get("tenant_id") or ""),
                        integration_id=change.integration or "", name=restore.get("name"),
                        description=(restore["description"] or "") if "description" in restore else None,
                        active=restore.get("active"), properties=properties or None)
        return EditIntegration(self.api, self.forms.store, owner, args)

    @tool(READ_ONLY, title="List CxEngage integrations")
    async def GetCxEngageIntegrations(
        self, tenant_id: TenantId,
        type: Annotated[str | None, Field(max_length=100)] = None,
        name: Annotated[str | None, Field(max_length=200, description="Contained in the name.")] = None,
        page: Page = 1, limit: Annotated[int, Field(ge=1, le=MAX_LIST_LIMIT)] = LIST_LIMIT,
    ) -> IntegrationList:
        """A tenant's integrations, a page at a time. No delete: deactivate. How: GetIntegrationGuide
        cxengage/lifecycle"""
        listing = await self.api.list_all(tenant_id)
        # The same listing (CxEngage's same answer: client.Listing) with the same arguments is the same page.
        key = (tenant_id, type, name, page, limit)
        made = listing.pages.get(key)
        if made is None:
            made = keep_page(_page(listing, tenant_id, type, name, page, limit))
            if len(listing.pages) >= KEPT_PAGES:
                listing.pages.clear()
            listing.pages[key] = made
        return made

    @tool(READ_ONLY, title="Get a CxEngage integration with readiness")
    async def GetCxEngageIntegration(self, tenant_id: TenantId, integration_id: IntegrationId) -> IntegrationView:
        """An integration, its properties (secrets redacted) and readiness (what is missing, can_activate)."""
        return _views().view(await self.api.get_integration(tenant_id, integration_id), self.api.learned, tenant_id)

    @tool(LOCAL_WRITE, title="Create a secure form for CxEngage secrets")
    async def CreateCxEngageSecureForm(
        self,
        tenant_id: TenantId,
        type: Annotated[str, Field(min_length=1, description="e.g. zendesk.")],
        ctx: Context,
        integration_id: Annotated[IntegrationId | None, Field(description="When replacing its secrets.")] = None,
        fields: Annotated[list[str] | None, Field(description="Secrets to ask for (default: all).")] = None,
        destination: Annotated[dict[str, str | int] | None, Field(description=DESTINATION_HELP)] = None,
    ) -> SecureFormCreated | InputRequiredResult:
        """A one-time page for the user to type secrets (never in chat); give them form_url unless their client
        opened it."""
        owner = session_key(ctx)
        handoff = self.handoffs.resumed(ctx, owner)
        if handoff is None:
            form, url = await self._new_form(tenant_id, type, integration_id, fields, destination or {}, owner,
                                             principal(ctx))
            own_link(url)
            created = SecureFormCreated(
                secure_form_id=form.id, form_url=url, expires_at=form.expires_at, type=form.purpose["type"],
                integration_id=integration_id, fields=[f.id for f in form.fields],
                next_step="Give the user form_url to type the secrets there (never in chat, never open it yourself); "
                          f"when they say it is saved, call {_write_tool(integration_id)} with secure_form_id. The "
                          "form works once and expires in an hour.")
            if not can_open_urls(ctx):
                return created
            handoff = new_handoff(form.id, url, owner, expires_at=form.expires_at, result=created)
        outcome = await self.handoffs.hand_over(
            ctx, handoff, "Open the secure form to type the integration's secrets (they never go through the chat).",
            completed=lambda: self._completed(handoff.form_id, owner))
        if isinstance(outcome, InputRequiredResult):
            return outcome
        created: SecureFormCreated = handoff.result
        return created.model_copy(update={"form_url": None, "next_step": _handed_over_next(outcome, created)})

    async def _new_form(self, tenant_id: str, type: str, integration_id: str | None, fields: list[str] | None,
                        destination: dict[str, str | int], owner: str,
                        requested_by: str = "") -> tuple[StoredForm, str]:
        from integrations_mcp.vendors.cxengage import rules
        from integrations_mcp.vendors.cxengage.plans import form_purpose

        spec = rules.resolve_type(type)
        subject, saved = f"{spec.title} integration", {}
        if integration_id:
            current = await self.api.get_integration(tenant_id, integration_id)
            rules.require_same_type(integration_id, current.type, spec)
            subject, saved = f"{spec.title} integration {current.name!r}", current.properties
        form_fields = _form_fields(rules.choose_secret_fields(spec, fields), replacing=bool(integration_id))
        where = rules.form_destination(spec, saved, destination, creating=not integration_id)
        shown = tuple((prop.title, where[prop.name]) for prop in spec.destinations if prop.name in where)
        return await self.forms.create_form(owner=owner, subject=f"{subject} (tenant {tenant_id})", fields=form_fields,
                                            purpose=form_purpose(tenant_id, spec, integration_id, where),
                                            create_tool="CreateCxEngageSecureForm", details=shown,
                                            requested_by=requested_by)

    async def _completed(self, form_id: str, owner: str) -> bool:
        return self.forms.store.status(form_id, owner=owner).completed

    @tool(CREATES, title="Create a CxEngage integration")
    async def CreateCxEngageIntegration(
        self,
        tenant_id: TenantId,
        name: NAME,
        type: Annotated[str, Field(min_length=1, description="rest, salesforce, zendesk, ...")],
        ctx: Context,
        properties: Properties | None = None,
        secure_form_id: Annotated[str | None, Field(min_length=16, max_length=64,
                                                    description="Completed; has the secrets.")] = None,
        description: Description | None = None,
        active: Annotated[StrictBool, Field(description="Only when complete.")] = False,
        dry_run: DRY_RUN = False,
    ) -> WriteResult | InputRequiredResult:
        """Create an integration; secrets only via secure_form_id. Per type: GetIntegrationGuide cxengage/types"""
        from integrations_mcp.vendors.cxengage.plans import CreateArgs
        from integrations_mcp.vendors.cxengage.writes import CreateIntegration

        args = CreateArgs(tenant_id=tenant_id, name=name, type=type, properties=dict(properties or {}),
                          description=description, active=active, secure_form_id=secure_form_id)
        call = write_call(ctx, "CreateCxEngageIntegration", VENDOR, dry_run=dry_run)
        stages = CreateIntegration(self.api, self.forms.store, call.owner, args)
        return await run_write(stages, call, self.writes)

    @tool(EDITS, title="Edit a CxEngage integration")
    async def EditCxEngageIntegration(
        self,
        tenant_id: TenantId,
        integration_id: IntegrationId,
        ctx: Context,
        name: IntegrationName | None = None,
        description: Description | None = None,
        active: StrictBool | None = None,
        properties: Properties | None = None,
        secure_form_id: Annotated[str | None, Field(min_length=16, max_length=64,
                                                    description="Completed; new secrets.")] = None,
        confirm_overwrite: Annotated[StrictBool, Field(description="User agreed to replace values already set.")]
        = False,
        confirm_deactivate: Annotated[StrictBool, Field(description="User agreed to deactivate it.")] = False,
        confirmation_id: CONFIRMATION_ID = None,
        approval_id: APPROVAL_ID = None,
        dry_run: DRY_RUN = False,
    ) -> WriteResult | InputRequiredResult:
        """Partial edit. Replacing set values or active=false needs the user's consent; active=true, a complete
        integration. No delete: deactivate."""
        from integrations_mcp.vendors.cxengage import rules
        from integrations_mcp.vendors.cxengage.plans import EditArgs
        from integrations_mcp.vendors.cxengage.writes import EditIntegration

        args = EditArgs(tenant_id=tenant_id, integration_id=integration_id, name=name, description=description,
                        active=active, properties=properties, secure_form_id=secure_form_id)
        rules.require_an_edit(args)
        flags = {rules.CONFIRM_OVERWRITE: confirm_overwrite, rules.CONFIRM_DEACTIVATE: confirm_deactivate}
        call = write_call(ctx, "EditCxEngageIntegration", VENDOR, dry_run=dry_run, flags=flags,
                          token=confirmation_id or approval_id)
        stages = EditIntegration(self.api, self.forms.store, call.owner, args)
        return await run_write(stages, call, self.writes)


def _page(listing: Listing, tenant_id: str, type: str | None, name: str | None, page: int,
          limit: int) -> IntegrationList:
    wanted = (normalise_type(type) or type.strip()).casefold() if type and type.strip() else None
    needle = name.strip().casefold() if name else None
    rows = listing.rows
    if wanted is not None:  # each spelling of a type normalised once, not once per row
        types = {kind for kind in {row["type"] for row in rows}
                 if (normalise_type(kind) or kind).casefold() == wanted}
        rows = [row for row in rows if row["type"] in types]
    if needle:
        rows = [row for row in rows if needle in row["name"].casefold()]
    more = page * limit < len(rows)
    return IntegrationList.model_validate({
        "tenant_id": tenant_id, "count": len(rows), "page": page, "limit": limit,
        "results": [summary(row) for row in rows[(page - 1) * limit:page * limit]],
        "next_page": page + 1 if more else None, "complete": listing.complete, "note": listing.note or None})


def _form_fields(secrets: tuple[PropertySpec, ...], *, replacing: bool) -> list[FormField]:
    """On create, the type's required secrets must be typed; on an edit the user replaces what they choose (but a
    form of one field must have it filled)."""
    form_fields = [FormField(s.name, s.title, required=s.required and not replacing) for s in secrets]
    if replacing and not any(f.required for f in form_fields) and len(form_fields) == 1:
        form_fields = [FormField(form_fields[0].id, form_fields[0].label, required=True)]
    return form_fields


def _write_tool(integration_id: str | None) -> str:
    return "EditCxEngageIntegration" if integration_id else "CreateCxEngageIntegration"


def _handed_over_next(outcome: Outcome, created: SecureFormCreated) -> str:
    if outcome == Outcome.COMPLETED:
        return (f"The user saved the form their client opened. Call {_write_tool(created.integration_id)} with "
                "secure_form_id.")
    if outcome == Outcome.WAITING:
        return "The user's client opened the form but it is not saved yet. Ask the user to finish it, then call again."
    return "The user declined to open the form; nothing was saved. Ask them how they want to go on."
