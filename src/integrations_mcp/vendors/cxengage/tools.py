"""CxEngage tools: create, read and edit a tenant's integrations, with secrets kept out of the chat by the
server's own one-time secure form."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from integrations_mcp.errors import GuardrailError, VendorError
from integrations_mcp.pipeline.changes import FieldChange
from integrations_mcp.pipeline.confirm import ConfirmationRequest, require_confirmation
from integrations_mcp.pipeline.progress import Progress
from integrations_mcp.secure_forms.listener import SecureFormServer
from integrations_mcp.secure_forms.single_use import spending
from integrations_mcp.secure_forms.store import FormField, SecureFormStatus
from integrations_mcp.toolkit.annotations import CREATES, EDITS, LOCAL_WRITE, READ_ONLY
from integrations_mcp.toolkit.arguments import IntegrationName
from integrations_mcp.toolkit.declare import tool
from integrations_mcp.toolkit.identity import session_key
from integrations_mcp.vendors.cxengage import rules as policy
from integrations_mcp.vendors.cxengage.catalog import TypeSpec
from integrations_mcp.vendors.cxengage.client import CxEngageClient
from integrations_mcp.vendors.cxengage.models import (
    IntegrationId,
    IntegrationList,
    IntegrationSummary,
    IntegrationView,
    Properties,
    SecureFormCreated,
    TenantId,
    WriteResult,
)

__all__ = ["CxEngageTools"]

NAME = Annotated[IntegrationName, Field(description="Name, unique in the tenant.")]
DRY_RUN = Annotated[bool, Field(description="Return what would be sent and the diff; write nothing.")]


class CxEngageTools:
    """The CxEngage tools. They share the client and the server's own secure form page."""

    def __init__(self, api: CxEngageClient, forms: SecureFormServer) -> None:
        self.api, self.forms = api, forms

    def purpose(self, tenant: str, spec: TypeSpec, integration_id: str | None) -> dict[str, str]:
        return {"vendor": "cxengage", "tenant": tenant, "type": spec.name, "integration": integration_id or ""}

    async def read(self, tenant: str, integration_id: str) -> dict[str, Any]:
        return await self.api.get_integration(tenant, integration_id)

    async def require_unique_name(self, tenant: str, name: str, exclude_id: str | None = None) -> None:
        wanted = name.strip().casefold()
        for item in await self.api.list_integrations(tenant):
            if item.get("id") != exclude_id and str(item.get("name", "")).strip().casefold() == wanted:
                raise GuardrailError(f"Refused: an integration named {item.get('name')!r} already exists in this "
                                     f"tenant (id {item.get('id')}). Choose another name. Nothing was sent.")

    def form_status(self, ctx: Context, form_id: str, wanted: dict[str, str]) -> SecureFormStatus:
        status = self.forms.store.status(form_id, owner=session_key(ctx))
        for key, value in wanted.items():
            if status.purpose.get(key) != value:
                raise GuardrailError(f"Refused: this secure form was made for {key} "
                                     f"{status.purpose.get(key) or '(none)'!r}, not {value or '(none)'!r}. Create "
                                     "a form for this integration with CreateCxEngageSecureForm. Nothing was sent.")
        if status.used:
            raise GuardrailError("Refused: this secure form was already used (a form works once, and its values "
                                 "were deleted). Create a new one with CreateCxEngageSecureForm. Nothing was sent.")
        if not status.completed:
            raise GuardrailError("Refused: the user has not saved the secure form yet. Ask them to open form_url, "
                                 "fill it in and press Save, then call again. Nothing was sent.")
        return status

    async def write(self, ctx: Context, form_id: str | None, wanted: dict[str, str], send: Any) -> Any:
        """Take the form's values (if any) just before the vendor call. If CxEngage refused the write (a 4xx: nothing
        was written) give them back, so the person need not type them again. After a timeout, a 5xx or an unreadable
        answer the write may have happened, and a form works once: it stays spent."""
        if not form_id:
            return await send({})
        owner = session_key(ctx)
        secrets = self.forms.store.take(form_id, owner=owner, purpose=wanted)
        return await spending(lambda: send(secrets),
                              give_back=lambda: self.forms.store.restore(form_id, owner=owner, values=secrets))

    def verify(self, raw: dict[str, Any], sent: dict[str, Any], before: dict[str, Any]) -> list[str]:
        """Where the read-back differs from what was sent, or from what was saved before and not sent. Secrets are
        compared here, server-side, and never shown."""
        found = [f"{k}: sent {v!r}, read back {raw.get(k)!r}" for k, v in sent.items()
                 if k not in ("properties", "type") and raw.get(k) != v]
        saved = raw.get("properties") or {}
        sent_properties = sent.get("properties") or {}
        expected = {**before, **sent_properties}
        for key, value in expected.items():
            secret = policy.SECRET_KEYS(key)
            if (secret and not policy.VENDOR_ECHOES_SECRETS) or saved.get(key) == value:
                continue
            if key not in sent_properties:
                found.append(f"properties.{key}: changed although this edit did not touch it"
                             + ("" if secret else f" (was {policy.redact_properties({'v': value})['v']!r})"))
            elif secret:
                found.append(f"properties.{key}: the secret sent was not read back")
            else:
                shown = [policy.redact_properties({"v": v})["v"] for v in (value, saved.get(key))]
                found.append(f"properties.{key}: sent {shown[0]!r}, read back {shown[1]!r}")
        return found

    async def written(self, tenant: str, integration_id: str, sent: dict[str, Any], changes: list[FieldChange],
                      before: dict[str, Any]) -> WriteResult:
        """The result of a write that CxEngage accepted, verified by reading it back. A failed read-back is reported
        as such: the write itself happened and must not look like a failure."""
        result = WriteResult(dry_run=False, integration_id=integration_id, sent=policy.redacted_body(sent),
                             changes=changes)
        try:
            raw = await self.read(tenant, integration_id)
            result.verified = policy.view(raw)
        except VendorError as exc:
            result.mismatches = [f"The write succeeded, but reading it back failed: {exc}"]
            result.next_steps = ["Read it with GetCxEngageIntegration to check the saved state before anything else."]
            return result
        result.mismatches = self.verify(raw, sent, before)
        result.next_steps = _next_steps(result.verified)
        return result

    @tool(READ_ONLY, title="List CxEngage integrations")
    async def GetCxEngageIntegrations(self, tenant_id: TenantId) -> IntegrationList:
        """List a tenant's integrations (id, name, type, active). Guide: guide://cxengage/GetCxEngageIntegrations"""
        items = await self.api.list_integrations(tenant_id)
        results = [IntegrationSummary(id=i["id"], name=i.get("name", ""), type=i.get("type", ""),
                                      active=bool(i.get("active")), description=i.get("description"))
                   for i in items]
        return IntegrationList(tenant_id=tenant_id, count=len(results), results=results)

    @tool(READ_ONLY, title="Get a CxEngage integration with readiness")
    async def GetCxEngageIntegration(self, tenant_id: TenantId, integration_id: IntegrationId) -> IntegrationView:
        """An integration with its properties (secrets redacted) and readiness (missing required properties,
        can_activate). Guide: guide://cxengage/GetCxEngageIntegration"""
        return policy.view(await self.read(tenant_id, integration_id))

    @tool(LOCAL_WRITE, title="Create a secure form for CxEngage secrets")
    async def CreateCxEngageSecureForm(
        self,
        tenant_id: TenantId,
        type: Annotated[str, Field(min_length=1, description="Integration type, e.g. zendesk.")],
        ctx: Context,
        integration_id: Annotated[IntegrationId | None, Field(description="Set when replacing the secrets of an "
                                                              "existing integration.")] = None,
        fields: Annotated[list[str] | None, Field(description="Secret properties to ask for (default: all of the "
                                                  "type's secrets).")] = None,
    ) -> SecureFormCreated:
        """A one-time page, served by this server, where the user types the type's secrets (never in chat).
        Give the user form_url, then pass secure_form_id to create/edit. Guide: guide://cxengage/secure-forms"""
        spec = policy.resolve_type(type)
        subject = f"{spec.title} integration"
        if integration_id:
            current = await self.read(tenant_id, integration_id)
            if policy.resolve_type(str(current.get("type", ""))).name != spec.name:
                raise GuardrailError(f"Refused: integration {integration_id} is of type {current.get('type')!r}, "
                                     f"not {spec.name!r}. Nothing was created.")
            subject = f"{spec.title} integration {current.get('name')!r}"
        secrets = spec.secrets
        if fields is not None:
            unknown = [f for f in fields if f not in {s.name for s in secrets}]
            if unknown or not fields:
                raise GuardrailError(f"Refused: {', '.join(unknown) or 'an empty list'} is not a choice of secret "
                                     f"fields for {spec.name}. Valid: {', '.join(s.name for s in secrets)}. "
                                     "Nothing was created.")
            secrets = tuple(s for s in secrets if s.name in fields)
        if not secrets:
            raise GuardrailError(f"Type {spec.name} has no secret properties: pass its properties directly.")
        # On create, the type's required secrets must be typed; on an edit the user replaces what they choose.
        form_fields = [FormField(s.name, s.title, required=s.required and not integration_id) for s in secrets]
        if integration_id and not any(f.required for f in form_fields) and len(form_fields) == 1:
            form_fields = [FormField(form_fields[0].id, form_fields[0].label, required=True)]
        form, url = await self.forms.create_form(owner=session_key(ctx), subject=f"{subject} (tenant {tenant_id})",
                                            fields=form_fields, purpose=self.purpose(tenant_id, spec, integration_id),
                                            create_tool="CreateCxEngageSecureForm")
        return SecureFormCreated(
            secure_form_id=form.id, form_url=url, expires_at=form.expires_at, type=spec.name,
            integration_id=integration_id, fields=[f.id for f in form_fields],
            next_step="Give the user form_url to type the secrets there (never in chat); when they say it is saved, "
                      f"call {'EditCxEngageIntegration' if integration_id else 'CreateCxEngageIntegration'} "
                      "with secure_form_id. The form works once and expires in an hour.")

    @tool(CREATES, title="Create a CxEngage integration")
    async def CreateCxEngageIntegration(
        self,
        tenant_id: TenantId,
        name: NAME,
        type: Annotated[str, Field(min_length=1, description="Integration type: rest, salesforce, zendesk, ...")],
        ctx: Context,
        properties: Properties | None = None,
        secure_form_id: Annotated[str | None, Field(min_length=16, max_length=64, description="Completed "
                                                    "CreateCxEngageSecureForm id carrying the secrets.")] = None,
        description: str | None = None,
        active: Annotated[bool, Field(description="Refused unless every required property is set.")] = False,
        dry_run: DRY_RUN = False,
    ) -> WriteResult:
        """Create an integration. Secrets only via secure_form_id. Guide: guide://cxengage/CreateCxEngageIntegration"""
        progress = Progress(ctx, 3)
        await progress.step("checking the type, properties, name and secure form")
        spec = policy.resolve_type(type)
        plain = dict(properties or {})
        policy.check_properties(spec, plain)
        wanted = self.purpose(tenant_id, spec, None)
        filled = self.form_status(ctx, secure_form_id, wanted).filled_fields if secure_form_id else []
        projected = {**plain, **{k: "(from secure form)" for k in filled}}
        ready = policy.readiness(spec, projected)
        if not ready.can_activate:
            raise GuardrailError("Refused: " + "; ".join(ready.blockers) + ". Required properties of type "
                                 f"{spec.name}: {', '.join(p.name for p in spec.properties if p.required)}. "
                                 "Nothing was sent.")
        await self.require_unique_name(tenant_id, name)
        body: dict[str, Any] = {"name": name, "type": spec.name, "active": active, "properties": plain}
        if description is not None:
            body["description"] = description
        changes = [FieldChange(field=k, proposed=v) for k, v in body.items() if k != "properties"]
        changes += policy.property_changes(spec, {}, plain, filled)
        if dry_run:
            shown = {**body, "properties": {**plain, **{k: policy.REDACTED for k in filled}}}
            return WriteResult(dry_run=True, sent=shown, changes=changes,
                               next_steps=["Call again without dry_run to create it."])

        async def send(secrets: dict[str, str]) -> dict[str, Any]:
            full = {**body, "properties": {**plain, **secrets}}
            created = await self.api.create_integration(tenant_id, full, scrub=secrets.values())
            return {"created": created, "sent": full}

        await progress.step("creating the integration in CxEngage")
        outcome = await self.write(ctx, secure_form_id, wanted, send)
        new_id = outcome["created"]["id"]
        await progress.step("reading it back to verify")
        return await self.written(tenant_id, new_id, outcome["sent"], changes, {})

    @tool(EDITS, title="Edit a CxEngage integration")
    async def EditCxEngageIntegration(
        self,
        tenant_id: TenantId,
        integration_id: IntegrationId,
        ctx: Context,
        name: IntegrationName | None = None,
        description: str | None = None,
        active: bool | None = None,
        properties: Properties | None = None,
        secure_form_id: Annotated[str | None, Field(min_length=16, max_length=64, description="Completed "
                                                    "CreateCxEngageSecureForm id with new secrets.")] = None,
        confirm_overwrite: Annotated[bool, Field(description="User agreed to replace values already set.")] = False,
        confirm_deactivate: Annotated[bool, Field(description="User agreed to deactivate it.")] = False,
        dry_run: DRY_RUN = False,
    ) -> WriteResult:
        """Partial edit. Replacing a property that holds a value needs confirm_overwrite; active=false needs
        confirm_deactivate; active=true needs a complete integration. Guide: guide://cxengage/EditCxEngageIntegration"""
        if all(v is None for v in (name, description, active, properties, secure_form_id)):
            raise GuardrailError("Refused: nothing to change. Give at least one of name, description, active, "
                                 "properties, secure_form_id.")
        progress = Progress(ctx, 3)
        await progress.step("reading the integration and checking the edit")
        current = await self.read(tenant_id, integration_id)
        spec = policy.resolve_type(str(current.get("type", "")))
        plain = dict(properties or {})
        policy.check_properties(spec, plain)
        wanted = self.purpose(tenant_id, spec, integration_id)
        filled = self.form_status(ctx, secure_form_id, wanted).filled_fields if secure_form_id else []
        saved = current.get("properties") or {}
        plain = {k: v for k, v in plain.items() if saved.get(k) != v}
        body: dict[str, Any] = {}
        changes: list[FieldChange] = []
        for key, value in (("name", name), ("description", description), ("active", active)):
            if value is not None and value != current.get(key):
                body[key] = value
                changes.append(FieldChange(field=key, saved=current.get(key), proposed=value))
        property_changes = policy.property_changes(spec, saved, plain, filled)
        changes += property_changes
        if not body and not property_changes:
            raise GuardrailError("Refused: this edit changes nothing; every value given is already saved. "
                                 "Nothing was sent.")
        if "name" in body:
            await self.require_unique_name(tenant_id, body["name"], exclude_id=integration_id)
        overwrites = [c for c in property_changes if c.overwrites]
        if overwrites:
            require_confirmation(ConfirmationRequest(
                flag="confirm_overwrite", reason="this edit replaces property values that are already set.",
                changes=overwrites, consequence="Flows that use this integration pick up the new values at once.",
            ), confirmed=confirm_overwrite or dry_run)
        projected = {**saved, **plain, **{k: "(from secure form)" for k in filled}}
        before, after = policy.readiness(spec, saved), policy.readiness(spec, projected)
        emptied = [m for m in after.missing_required if m not in before.missing_required]
        if emptied:
            raise GuardrailError(f"Refused: this edit would leave required properties without a value: "
                                 f"{', '.join(emptied)}. Give them values too. Nothing was sent.")
        stays_active = body.get("active", bool(current.get("active"))) is True
        if stays_active and (plain or filled or "active" in body) and not after.can_activate:
            what = "activate" if "active" in body else "leave active"
            raise GuardrailError(f"Refused: cannot {what} an incomplete integration: " + "; ".join(after.blockers)
                                 + ". Set what is missing first (leave active unset). Nothing was sent.")
        if body.get("active") is False:
            require_confirmation(ConfirmationRequest(
                flag="confirm_deactivate", reason=f"deactivating {current.get('name')!r} affects live contacts.",
                consequence="Flows that call this integration (CRM look-ups, ticket or activity updates) fail or "
                            "skip it until it is active again. Check with the user first.",
            ), confirmed=confirm_deactivate or dry_run)
        if plain or filled:
            body["properties"] = dict(plain)
        if dry_run:
            shown = policy.redacted_body({**body, "properties": {**body.get("properties", {}),
                                                                 **{k: policy.REDACTED for k in filled}}}
                                         if "properties" in body else body)
            return WriteResult(dry_run=True, integration_id=integration_id, sent=shown, changes=changes,
                               next_steps=["Call again without dry_run (and with any confirmation the user gave)."])

        async def send(secrets: dict[str, str]) -> dict[str, Any]:
            full = {**body, "properties": {**body["properties"], **secrets}} if "properties" in body else body
            await self.api.update_integration(tenant_id, integration_id, full,
                                         scrub=[*secrets.values(), *policy.secret_values_in(saved)])
            return full

        await progress.step("saving the edit in CxEngage")
        sent = await self.write(ctx, secure_form_id, wanted, send)
        await progress.step("reading it back to verify")
        return await self.written(tenant_id, integration_id, sent, changes, saved)


def _next_steps(verified: IntegrationView) -> list[str]:
    r, record = verified.readiness, verified.integration
    if r.blockers:
        return [f"Still needed: {b}." for b in r.blockers]
    if not record.active:
        return ["Complete and inactive. Activate it with EditCxEngageIntegration(active=true) only when the user "
                "asks for it."]
    return ["Complete and active."]
