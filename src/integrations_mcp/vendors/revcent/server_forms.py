"""The server-form credential path (REVCENT_CREDENTIALS_VIA=server-form): the server's own secure form page (the one
CxEngage uses) collects the site integration's credential fields, and the write sends them to RevCent as the
documented `third_party_credentials`. The values go from the page to RevCent inside this server, never through the
model, and a form works once."""

from __future__ import annotations

from collections.abc import Callable

from integrations_mcp.errors import GuardrailError
from integrations_mcp.secure_forms.server import SecureFormServer
from integrations_mcp.secure_forms.store import FormField, SecureFormStatus
from integrations_mcp.vendors.revcent.records import SecureFormRecord, SiteIntegration

__all__ = ["CREATE_TOOL", "FROM_FORM", "ServerForms", "credentials_body", "purpose"]

CREATE_TOOL = "CreateSecureForm"
FROM_FORM = "(from the secure form)"  # what `sent` shows in place of a credential value


def purpose(site_id: str) -> dict[str, str]:
    return {"vendor": "revcent", "site": site_id}


def credentials_body(site: SiteIntegration, values: dict[str, str] | None = None) -> dict[str, object]:
    """`third_party_credentials` as the OpenAPI documents it; without `values`, the placeholder shown in plans."""
    spec = site.third_party_credentials
    if spec is None:
        raise GuardrailError(f"Refused: site integration {site.id} takes no credentials. Nothing was sent.")
    if values is None:
        return {"id": spec.id, "fields": [{"id": f.id, "value": FROM_FORM} for f in spec.fields]}
    return {"id": spec.id, "fields": [{"id": f.id, "value": values[f.id]} for f in spec.fields if values.get(f.id)]}


class ServerForms:
    """The RevCent face of the server's secure form store."""

    def __init__(self, server: Callable[[], SecureFormServer]) -> None:
        self._server = server

    async def create(self, owner: str, site: SiteIntegration, requested_by: str = "") -> SecureFormRecord:
        spec = site.third_party_credentials
        if spec is None or not spec.fields:
            raise GuardrailError(f"Refused: site integration {site.id} ({site.name}) takes no credentials; no form "
                                 "is needed. Nothing was created.")
        fields = [FormField(f.id, f.name or f.id, required=f.required) for f in spec.fields]
        form, url = await self._server().create_form(
            owner=owner, subject=f"RevCent {site.name} credentials", fields=fields, purpose=purpose(site.id),
            create_tool=CREATE_TOOL, details=(("RevCent integration", f"{site.name} ({site.id})"),),
            requested_by=requested_by)
        return _record(self._server().store.status(form.id, owner=owner), url)

    def status(self, form_id: str, owner: str) -> SecureFormRecord:
        return _record(self._server().store.status(form_id, owner=owner), None)

    def raw_status(self, form_id: str, owner: str) -> SecureFormStatus:
        return self._server().store.status(form_id, owner=owner)

    def take(self, form_id: str, owner: str, site_id: str) -> dict[str, str]:
        return self._server().store.take(form_id, owner=owner, purpose=purpose(site_id))

    def restore(self, form_id: str, owner: str, values: dict[str, str]) -> None:
        self._server().store.restore(form_id, owner=owner, values=values)


def _record(status: SecureFormStatus, url: str | None) -> SecureFormRecord:
    return SecureFormRecord(id=status.form_id, form_url=url, completed=status.completed and not status.used,
                            expiration_date_unix=status.expires_at, form_source="third_party_integration",
                            form_source_id=status.purpose.get("site"))
