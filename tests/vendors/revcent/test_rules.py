"""RevCent's guardrails, confirmations and plans as plain functions: no MCP session, no emulator. For each rule, a
refusal and an allowed case."""

from __future__ import annotations

from typing import Any

import pytest

from integrations_mcp.errors import GuardrailError, VendorError
from integrations_mcp.pipeline.confirm import summary
from integrations_mcp.secure_forms.single_use import SpentForms
from integrations_mcp.vendors.revcent import rules
from integrations_mcp.vendors.revcent.models import OptionInput
from integrations_mcp.vendors.revcent.plans import CreateRequest, EditRequest, plan_create, plan_edit
from integrations_mcp.vendors.revcent.records import (
    SecureFormRecord,
    SiteIntegration,
    UserIntegration,
    UserIntegrationSummary,
)
from integrations_mcp.vendors.revcent.views import readiness

UID = "U" * 20
SITE_ID = "S" * 20
FORM_ID = "F" * 20
NOW = 1_800_000_000.0

SITE: dict[str, Any] = {
    "id": SITE_ID, "name": "Tax provider", "integration_type": "tax",
    "third_party_credentials": {"id": "api", "fields": [{"id": "key", "required": True}]},
    "third_party_options": [
        {"id": "profile", "required": True, "fields": [
            {"id": "company", "field_type": "select", "required": True,
             "select_settings": {"third_party_asset": True, "options": ["acme", "globex"]}}]},
        {"id": "rounding", "fields": [
            {"id": "mode", "field_type": "select", "select_settings": {"options": ["up", "down"]}},
            {"id": "code", "field_type": "input"}]},
    ],
}


def site() -> SiteIntegration:
    return SiteIntegration.model_validate(SITE)


def integration(*, credentials: bool = True, options: dict[str, dict[str, list[str]]] | None = None,
                **fields: Any) -> UserIntegration:
    saved = [{"id": o, "fields": [{"id": f, "value": v} for f, v in values.items()]}
             for o, values in (options or {}).items()]
    return UserIntegration.model_validate({
        "id": UID, "name": "Tax main", "description": "", "enabled": False,
        "third_party_credentials_saved": ["api"] if credentials else [], "third_party_options_saved": saved,
        "site_third_party_integration": SITE, **fields})


def option(option_id: str, **values: list[str]) -> OptionInput:
    return OptionInput.model_validate({"id": option_id, "fields": [{"id": f, "value": v} for f, v in values.items()]})


def refuses(call: Any, *needles: str) -> None:
    with pytest.raises(GuardrailError) as refusal:
        call()
    for needle in needles:
        assert needle in str(refusal.value), f"{needle!r} not in: {refusal.value}"


# --- refusals ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("arguments, refused", [
    ({"password": "CANARY"}, True),
    ({"third_party_options": [{"id": "o", "credentials": {"api_key": "CANARY"}}]}, True),
    ({"description": "https://user:CANARY@example.com"}, True),
    ({"name": "Tax main", "secure_form_id": FORM_ID}, False),
])
def test_refuse_secret_arguments(arguments: dict[str, Any], refused: bool) -> None:
    if refused:
        refuses(lambda: rules.refuse_secret_arguments(arguments), "raw credential fields", "CreateSecureForm")
    else:
        rules.refuse_secret_arguments(arguments)


@pytest.mark.parametrize("edit, refused", [
    (EditRequest(UID), True),
    (EditRequest(UID, third_party_options=[]), False),  # given, even if empty: refused later as a no-op
    (EditRequest(UID, enabled=False), False),
])
def test_require_an_edit(edit: EditRequest, refused: bool) -> None:
    if refused:
        refuses(lambda: rules.require_an_edit(edit), "nothing to change")
    else:
        rules.require_an_edit(edit)


@pytest.mark.parametrize("edit, refused", [
    (EditRequest(UID, name="Tax main", description=""), True),
    (EditRequest(UID, third_party_options=[]), True),
    (EditRequest(UID, third_party_options=[option("rounding", mode=["up"])]), True),  # already saved
    (EditRequest(UID, name="Tax renamed"), False),
])
def test_require_an_actual_change(edit: EditRequest, refused: bool) -> None:
    plan = plan_edit(integration(options={"rounding": {"mode": ["up"]}}), edit)
    if refused:
        refuses(lambda: rules.require_an_actual_change(plan), "changes nothing")
    else:
        rules.require_an_actual_change(plan)


EXISTING = [UserIntegrationSummary.model_validate({"id": UID, "name": " Tax Main ", "enabled": True,
                                                   "site_third_party_integration": SITE_ID})]


@pytest.mark.parametrize("name, exclude_id, refused", [
    ("tax main", None, True),
    ("tax main", UID, False),  # renaming the integration that holds the name
    ("Tax backup", None, False),
])
def test_require_unique_name(name: str, exclude_id: str | None, refused: bool) -> None:
    if refused:
        refuses(lambda: rules.require_unique_name(name, EXISTING, exclude_id=exclude_id), "already used", UID)
    else:
        rules.require_unique_name(name, EXISTING, exclude_id=exclude_id)


def form(**fields: Any) -> SecureFormRecord:
    return SecureFormRecord.model_validate({"id": FORM_ID, "form_source": "third_party_integration",
                                            "form_source_id": SITE_ID, "expiration_date_unix": int(NOW) + 600,
                                            "completed": True, **fields})


@pytest.mark.anyio
@pytest.mark.parametrize("answer, spent, needle", [
    (form(), False, None),
    (form(), True, "already used"),
    (VendorError("RevCent", "GetSecureForm", "no such form", status=404, error_code="not_found"), False,
     "does not exist or has expired"),
    (form(form_source_id="T" * 20), False, "not to site integration"),
    (form(expiration_date_unix=int(NOW) - 1), False, "expired"),
    (form(completed=False), False, "not completed"),
])
async def test_require_usable_form(answer: SecureFormRecord | VendorError, spent: bool, needle: str | None) -> None:
    forms = SpentForms(create_tool="CreateSecureForm")
    if spent:
        await forms.spend(FORM_ID)

    async def read(form_id: str) -> SecureFormRecord:
        if isinstance(answer, VendorError):
            raise answer
        return answer

    check = rules.require_usable_form(FORM_ID, SITE_ID, spent=forms, read=read, now=NOW)
    if needle is None:
        await check
        return
    with pytest.raises(GuardrailError) as refusal:
        await check
    assert needle in str(refusal.value) and "Nothing was sent" in str(refusal.value)


@pytest.mark.anyio
async def test_require_usable_form_passes_on_a_vendor_outage() -> None:
    async def read(form_id: str) -> SecureFormRecord:
        raise VendorError("RevCent", "GetSecureForm", "busy", status=503)

    with pytest.raises(VendorError) as error:
        await rules.require_usable_form(FORM_ID, SITE_ID, spent=SpentForms("CreateSecureForm"), read=read, now=NOW)
    assert not isinstance(error.value, GuardrailError)


@pytest.mark.parametrize("proposal, needle", [
    ([option("nope", x=["y"])], "Valid option ids: profile, rounding"),
    ([option("rounding", nope=["up"])], "field id 'nope' does not exist"),
    ([option("rounding", mode=["sideways"])], "Valid values: up, down"),
    ([option("rounding", mode=["up", "down"])], "exactly one value"),
    ([option("rounding", code=["  "])], "exactly one non-empty value"),
    ([option("rounding", mode=["up"]), option("rounding", code=["1"])], "given twice"),
    ([option("profile", company=["initech"])], "Valid values: acme, globex"),
    ([option("rounding", mode=["up"], code=["12"]), option("profile", company=["acme"])], None),
])
def test_check_options(proposal: list[OptionInput], needle: str | None) -> None:
    if needle is None:
        rules.check_options(site(), proposal, {})
    else:
        refuses(lambda: rules.check_options(site(), proposal, {}), needle, "Nothing was sent")


def test_check_options_lets_a_saved_sibling_no_longer_offered_alone() -> None:
    """Siblings are no longer re-sent (the Edit guide: only what changes), so a stale saved sibling is not this
    edit's business (readiness still reports it)."""
    saved = {("rounding", "mode"): ["retired"]}
    rules.check_options(site(), [option("rounding", code=["1"])], saved)


@pytest.mark.parametrize("record, refused", [
    (integration(credentials=False, options={"profile": {"company": ["acme"]}}), "credentials not saved"),
    (integration(), "required option profile needs company"),
    (integration(options={"profile": {"company": ["acme"]}}), None),
])
def test_require_complete_to_enable(record: UserIntegration, refused: str | None) -> None:
    if refused:
        refuses(lambda: rules.require_complete_to_enable(readiness(record)), "incomplete", refused)
    else:
        rules.require_complete_to_enable(readiness(record))


# --- confirmations: built here, decided by the confirm stage (pipeline.confirm.Confirmer) -------------------------

SAVED_MODE = {"rounding": {"mode": ["up"]}}


@pytest.mark.parametrize("record, edit, flags", [
    (integration(options=SAVED_MODE), EditRequest(UID, third_party_options=[option("rounding", mode=["down"])]),
     ["confirm_overwrite"]),
    (integration(), EditRequest(UID, secure_form_id=FORM_ID), ["confirm_overwrite"]),  # saved credentials replaced
    (integration(enabled=True), EditRequest(UID, enabled=False), ["confirm_disable"]),
    (integration(options=SAVED_MODE, enabled=True),
     EditRequest(UID, enabled=False, third_party_options=[option("rounding", mode=["down"])]),
     ["confirm_overwrite", "confirm_disable"]),
    (integration(enabled=True), EditRequest(UID, name="Tax renamed"), ["confirm_overwrite"]),  # renamed while live
    # The Edit guide's "confirm live changes": enabling, and first values on an enabled integration.
    (integration(), EditRequest(UID, enabled=True), ["confirm_enable"]),
    (integration(enabled=True), EditRequest(UID, third_party_options=[option("rounding", mode=["down"])]),
     ["confirm_overwrite"]),
    (integration(credentials=False, enabled=True), EditRequest(UID, secure_form_id=FORM_ID), ["confirm_overwrite"]),
    # No confirmation: filling an empty option or first credentials while disabled (set-up), a rename, a new
    # description.
    (integration(), EditRequest(UID, third_party_options=[option("rounding", mode=["down"])]), []),
    (integration(credentials=False), EditRequest(UID, secure_form_id=FORM_ID), []),
    (integration(description="old"), EditRequest(UID, name="Tax renamed", description="new"), []),
])
def test_edit_confirmations(record: UserIntegration, edit: EditRequest, flags: list[str]) -> None:
    requests = rules.edit_confirmations(plan_edit(record, edit))
    assert [r.flag for r in requests] == flags
    if flags:  # what the person is shown names every change that needs them
        assert all(r.reason[1:] in summary(requests) for r in requests)


def test_overwrite_confirmation_shows_the_replaced_settings_only() -> None:
    plan = plan_edit(integration(options=SAVED_MODE), EditRequest(
        UID, name="Tax renamed", third_party_options=[option("rounding", mode=["down"])]))
    request = rules.overwrite_confirmation(plan)
    assert request is not None and [c.field for c in request.changes] == ["third_party_options.rounding.mode"]
    assert "Tax Profiles" in request.consequence
    # The rename replaces a saved value too (overwrites is a fact), but it needs no confirmation.
    assert next(c for c in plan.changes if c.field == "name").overwrites is True


def test_disable_confirmation_names_what_stops() -> None:
    request = rules.disable_confirmation(plan_edit(integration(enabled=True), EditRequest(UID, enabled=False)))
    assert request is not None and "'Tax main'" in request.reason and "Tax Profiles" in request.consequence
    assert rules.disable_confirmation(plan_edit(integration(), EditRequest(UID, enabled=True))) is None


# --- plans ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("request_, body", [
    (CreateRequest(name="Tax main", site_id=SITE_ID), {"name": "Tax main", "site_third_party_integration": SITE_ID}),
    (CreateRequest(name="Tax main", site_id=SITE_ID, secure_form_id=FORM_ID, description="", enabled=False),
     {"name": "Tax main", "site_third_party_integration": SITE_ID, "description": "", "secure_form_id": FORM_ID,
      "enabled": False}),
])
def test_plan_create(request_: CreateRequest, body: dict[str, Any]) -> None:
    plan = plan_create(site(), request_)
    assert plan.body == body
    # The form is shown as a credentials line, never as a form id (which would open its page).
    credentials = [("credentials", None, "from the secure form", False)] if "secure_form_id" in body else []
    assert [(c.field, c.saved, c.proposed, c.overwrites) for c in plan.changes] == [
        (k, None, v, False) for k, v in body.items() if k != "secure_form_id"] + credentials
    assert plan.expected == {k: v for k, v in body.items() if k in ("name", "description", "enabled")}
    assert plan.secure_form_id == request_.secure_form_id


def test_plan_create_readiness_waits_for_credentials_read_back() -> None:
    """A form's credentials count only once a read-back shows them saved, and enabling with them is refused."""
    with_form = plan_create(site(), CreateRequest(name="T", site_id=SITE_ID, secure_form_id=FORM_ID, enabled=True))
    assert with_form.enabling and not with_form.readiness_after().credentials_saved
    refuses(lambda: rules.refuse_enabling_at_create(True), "enabled=true at create")
    rules.refuse_enabling_at_create(False)


def test_plan_server_form_sends_documented_credentials_with_placeholders() -> None:
    plan = plan_create(site(), CreateRequest(name="T", site_id=SITE_ID, secure_form_id="S" * 32), "server-form")
    creds = plan.body["third_party_credentials"]
    assert "secure_form_id" not in plan.body and creds["id"] == site().third_party_credentials.id
    assert {f["value"] for f in creds["fields"]} == {"(from the secure form)"}


@pytest.mark.parametrize("record, edit, body, changes", [
    (integration(), EditRequest(UID, name="Tax renamed"), {"name": "Tax renamed"},
     [("name", "Tax main", "Tax renamed", True)]),
    (integration(), EditRequest(UID, description="renewals"), {"description": "renewals"},
     [("description", "", "renewals", False)]),
    (integration(description="old"), EditRequest(UID, description="new"), {"description": "new"},
     [("description", "old", "new", True)]),
    (integration(), EditRequest(UID, enabled=True), {"enabled": True}, [("enabled", False, True, True)]),
    (integration(enabled=True), EditRequest(UID, enabled=False), {"enabled": False}, [("enabled", True, False, True)]),
    (integration(), EditRequest(UID, name="Tax main", enabled=False), {}, []),
    (integration(), EditRequest(UID, secure_form_id=FORM_ID), {"secure_form_id": FORM_ID},
     [("credentials", "saved", "replaced from the secure form", True)]),
    (integration(credentials=False), EditRequest(UID, secure_form_id=FORM_ID), {"secure_form_id": FORM_ID},
     [("credentials", None, "from the secure form", False)]),
])
def test_plan_edit_fields(record: UserIntegration, edit: EditRequest, body: dict[str, Any],
                          changes: list[tuple[str, Any, Any, bool]]) -> None:
    plan = plan_edit(record, edit)
    assert plan.body == body
    assert [(c.field, c.saved, c.proposed, c.overwrites) for c in plan.changes] == changes


def test_plan_edit_sends_only_the_changed_fields_of_an_option() -> None:
    """The Edit guide: "do not include fields that should remain unchanged" (not even an option's siblings)."""
    record = integration(options={"rounding": {"mode": ["up"], "code": ["12"]}, "profile": {"company": ["acme"]}})
    plan = plan_edit(record, EditRequest(UID, third_party_options=[
        option("rounding", mode=["down"], code=["12"]), option("profile", company=["acme"])]))  # unchanged ones
    assert plan.body == {"third_party_options": [{"id": "rounding", "fields": [{"id": "mode", "value": ["down"]}]}]}
    assert [(c.field, c.saved, c.proposed, c.overwrites) for c in plan.changes] == [
        ("third_party_options.rounding.mode", ["up"], ["down"], True)]
    assert plan.expected_options == {("rounding", "mode"): ["down"]}


def test_plan_edit_fills_an_empty_option_without_overwriting() -> None:
    plan = plan_edit(integration(), EditRequest(UID, third_party_options=[option("profile", company=["acme"])]))
    assert plan.body == {"third_party_options": [{"id": "profile", "fields": [{"id": "company", "value": ["acme"]}]}]}
    assert [(c.saved, c.overwrites) for c in plan.changes] == [(None, False)]


def test_plan_edit_readiness_is_that_of_the_state_after_the_edit() -> None:
    edit = EditRequest(UID, enabled=True, third_party_options=[option("profile", company=["acme"])])
    plan = plan_edit(integration(), edit)
    assert plan.enabling and plan.readiness_after().can_enable
    assert not plan_edit(integration(), EditRequest(UID, enabled=True)).readiness_after().can_enable
