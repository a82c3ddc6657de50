"""Typed shapes of RevCent tool inputs and outputs (vendor field names kept as RevCent spells them). RevCent's own
records, some of which are outputs as they are, are in `records.py`."""

from __future__ import annotations

import importlib
import time
from types import ModuleType
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field

from integrations_mcp.once import Once
from integrations_mcp.pipeline.changes import CHANGES_DESCRIPTION, VERIFIED_DESCRIPTION, FieldChange
from integrations_mcp.toolkit.answers import write_answer
from integrations_mcp.toolkit.declare import DeferredModel
from integrations_mcp.vendors.revcent.facts import ID_LENGTH, ID_PATTERN, OPTION_REQUIRED_MEANS
from integrations_mcp.vendors.revcent.records import (
    IntegrationType,
    SavedOption,
    SecureFormRecord,
    SiteIntegration,
    UserIntegration,
    UserIntegrationSummary,
    vendor_id,
)

# [C] revcent.id_length, [I] revcent.id_charset: `_` and `-` too; a known key or token format is refused besides.
RevCentId = Annotated[str, Field(min_length=ID_LENGTH, max_length=ID_LENGTH, pattern=ID_PATTERN),
                      AfterValidator(vendor_id)]


# RevCent's forms have 20-character ids; the server's own (REVCENT_CREDENTIALS_VIA=server-form) have 32.
SecureFormId = Annotated[str, Field(min_length=20, max_length=128, pattern=r"^[A-Za-z0-9_-]{20,128}$",
                                    description="Secure form id from CreateSecureForm.")]


class _Strict(DeferredModel):
    model_config = ConfigDict(extra="forbid")


class OptionFieldInput(_Strict):
    id: str = Field(min_length=1, max_length=200)
    value: list[Annotated[str, Field(max_length=2000)]] = Field(
        max_length=200, description="One unless the select allows multiple.")


class OptionInput(_Strict):
    id: str = Field(min_length=1, max_length=200)
    fields: list[OptionFieldInput] = Field(min_length=1, max_length=200)


class SiteIntegrationSummary(DeferredModel):
    id: str
    name: str
    description: str = ""
    integration_type: IntegrationType
    has_options: bool
    has_required_options: bool

    @classmethod
    def of(cls, site: SiteIntegration) -> SiteIntegrationSummary:
        return cls(id=site.id, name=site.name, description=site.description, integration_type=site.integration_type,
                   has_options=bool(site.third_party_options),
                   has_required_options=any(o.required for o in site.third_party_options))


class SiteIntegrationPage(DeferredModel):
    page: int
    count: int
    has_more: bool
    results: list[SiteIntegrationSummary]

    def answer(self) -> str:
        rows = [f"- {s.id}: {s.name} ({s.integration_type}{', has required options' if s.has_required_options else ''})"
                for s in self.results]
        return "\n".join([_page_line("native integrations", self.count, self.page, self.has_more), *rows])


class UserIntegrationPage(DeferredModel):
    page: int
    count: int
    has_more: bool
    results: list[UserIntegrationSummary]

    def answer(self) -> str:
        rows = [f"- {r.id}: {r.name} ({r.integration_type or 'type unknown'}, "
                f"{ {True: 'enabled', False: 'disabled'}.get(r.enabled, 'enabled unknown')})" for r in self.results]
        return "\n".join([_page_line("integrations", self.count, self.page, self.has_more), *rows])


class MissingOption(DeferredModel):
    option_id: str
    field_ids: list[str]


class Choice(DeferredModel):
    value: str
    label: str


class SelectChoice(DeferredModel):
    option_id: str
    field_id: str
    label: str = Field(description="The option and field as RevCent names them, for the person.")
    source: Literal["asset", "static"]
    multiple: bool
    values: list[Choice] = Field(description="Send `value`; show the person `label`.")


class Readiness(DeferredModel):
    credentials_saved: bool
    missing_credentials: list[str] = Field(description="Required credential field ids not saved.")
    missing_options: list[MissingOption] = Field(description="Required options/fields with no saved value "
                                                 f"(required read as: {OPTION_REQUIRED_MEANS}).")
    unseen_secrets: list[str] = Field(default_factory=list, description="Required secret option fields RevCent "
                                      "shows no value for: set in RevCent itself; the user confirms when enabling.")
    choices: list[SelectChoice] = Field(description="Valid values of each select field.")
    can_enable: bool
    blockers: list[str]

    def lines(self, *, blockers: bool = True, choices: bool = True) -> list[str]:
        """`blockers=False` in a write's answer, whose next steps already name them; `choices=False` there too once
        nothing is left to choose (they are in structuredContent, and a read shows them)."""
        lines = [f"Readiness: can_enable={str(self.can_enable).lower()}; credentials "
                 + ("saved" if self.credentials_saved else f"missing ({', '.join(self.missing_credentials)})") + "."]
        lines += [f"Blocker: {b}" for b in self.blockers if blockers]
        if self.unseen_secrets:
            lines.append(f"Not shown by RevCent (secrets, set in RevCent itself): {', '.join(self.unseen_secrets)}.")
        if self.choices and choices:
            lines.append("Choices (send value; show the person the label):")
            lines += [f"- {c.option_id}.{c.field_id} \"{c.label}\" ({c.source}, "
                      f"{'several allowed' if c.multiple else 'one'}): "
                      + (", ".join(v.value if v.label == v.value else f"{v.label} = {v.value}" for v in c.values)
                         or "none listed yet") for c in self.choices]
        return lines


# views.py (it imports this module), imported by the first answer or read that needs it (cold start) and kept: a
# from-import inside a function costs ~2.7 µs on every call. tools.py reads through it too.
views_module: Once[ModuleType] = Once(lambda: importlib.import_module("integrations_mcp.vendors.revcent.views"))


class UserIntegrationView(DeferredModel):
    integration: UserIntegration
    readiness: Readiness

    def answer(self) -> str:
        views = views_module()
        record, site = self.integration, self.integration.site_third_party_integration
        lines = [f"Integration {record.id} \"{record.name}\": {'enabled' if record.enabled else 'disabled'}; "
                 f"{site.integration_type}, native {site.id} \"{site.name}\"."]
        lines.append(f"Credentials saved: {', '.join(record.third_party_credentials_saved) or 'none'}.")
        saved = [f"{o.id}.{f.id} = {', '.join(f.value)}" for o in record.third_party_options_saved for f in o.fields]
        lines.append(f"Saved options: {'; '.join(saved) or 'none'}.")
        lines += views.option_lines(site)  # made once for a kept site
        return "\n".join(lines + views.readiness_lines(self.readiness))  # made once for a kept Readiness

    def structured_json(self) -> bytes:
        """This view's JSON as its serializer writes it, made of kept parts (views.view_json; toolkit/answers.py)."""
        return views_module().view_json(self)


class SavedIntegration(DeferredModel):
    """What a write result shows of the integration read back: its saved state, not the site's schema again."""

    id: str
    name: str
    description: str = ""
    enabled: bool
    third_party_credentials_saved: list[str]
    third_party_options_saved: list[SavedOption]
    site_third_party_integration_id: str
    integration_type: str

    @classmethod
    def of(cls, record: UserIntegration) -> SavedIntegration:
        site = record.site_third_party_integration
        return cls(id=record.id, name=record.name, description=record.description, enabled=record.enabled,
                   third_party_credentials_saved=record.third_party_credentials_saved,
                   third_party_options_saved=record.third_party_options_saved,
                   site_third_party_integration_id=site.id, integration_type=site.integration_type)


class VerifiedState(DeferredModel):
    integration: SavedIntegration
    readiness: Readiness

    def summary(self) -> str:
        record = self.integration
        saved = [f"{o.id}.{f.id} = {', '.join(f.value)}" for o in record.third_party_options_saved for f in o.fields]
        return (f"\"{record.name}\" {'enabled' if record.enabled else 'disabled'}; credentials "
                f"{'saved' if record.third_party_credentials_saved else 'not saved'}; options: "
                f"{'; '.join(saved) or 'none saved'}.")


class SecureForm(DeferredModel):
    secure_form_id: str
    form_url: str | None = None
    completed: bool
    expiration_date_unix: int | None = None
    form_source: str | None = None
    form_source_id: str | None = None
    next_step: str

    def answer(self) -> str:
        state = "completed" if self.completed else "not completed"
        expires = f", expires {_when(self.expiration_date_unix)}" if self.expiration_date_unix else ""
        lines = [f"Secure form {self.secure_form_id}: {state}{expires}."]
        if self.form_url:
            lines.append(f"form_url (for the user to open; never open it yourself): {self.form_url}")
        return "\n".join([*lines, f"Next: {self.next_step}"])

    @classmethod
    def of(cls, form: SecureFormRecord, next_step: str) -> SecureForm:
        return cls(secure_form_id=form.id, form_url=form.form_url, completed=form.completed,
                   expiration_date_unix=form.expiration_date_unix, form_source=form.form_source,
                   form_source_id=form.form_source_id, next_step=next_step)


class WriteResult(DeferredModel):
    dry_run: bool
    user_third_party_integration_id: str | None = None
    sent: dict[str, Any] = Field(description="Body sent (dry run: to send).")
    changes: list[FieldChange] = Field(description=CHANGES_DESCRIPTION)
    verified: VerifiedState | None = Field(None, description=VERIFIED_DESCRIPTION)
    mismatches: list[str] = Field(default_factory=list, description="Read-back differences.")
    learned: list[str] = Field(default_factory=list, description="RevCent behaviour this write showed (fact: "
                               "finding).")
    next_steps: list[str] = []

    def answer(self) -> str:
        ready = self.verified.readiness if self.verified else None
        return write_answer(dry_run=self.dry_run, target=self.user_third_party_integration_id, changes=self.changes,
                            read_back=self.verified.summary() if self.verified else None, mismatches=self.mismatches,
                            readiness=ready.lines(blockers=False, choices=not ready.can_enable) if ready else (),
                            next_steps=[*(f"Learned: {x}" for x in self.learned), *self.next_steps])


def _page_line(what: str, count: int, page: int, has_more: bool) -> str:
    return f"{count} {what} on page {page}{' (more: call with page=' + str(page + 1) + ')' if has_more else ''}:"


def _when(unix: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(unix))
