"""CxEngage's rules and plans as plain functions, without an MCP session: for each rule one refusal and one
allowed path, then the plan functions that the rules judge."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from integrations_mcp.errors import GuardrailError
from integrations_mcp.pipeline.changes import FieldChange
from integrations_mcp.pipeline.confirm import ConfirmationPolicy, dry_run_steps
from integrations_mcp.secure_forms.store import SecureFormStatus
from integrations_mcp.vendors.cxengage import rules
from integrations_mcp.vendors.cxengage.catalog import TYPES, PropertySpec, TypeSpec
from integrations_mcp.vendors.cxengage.plans import (
    CreateArgs,
    EditArgs,
    destination_of,
    form_purpose,
    plan_create,
    plan_edit,
)
from integrations_mcp.vendors.cxengage.records import IntegrationRecord, list_rows
from integrations_mcp.vendors.cxengage.views import readiness

TENANT = "5a4db0c5-0000-4000-8000-000000000001"
DESK_ID = "5a4db0c5-0000-4000-8000-00000000d35c"
REST, ZENDESK = TYPES["rest"], TYPES["zendesk"]
DESK_PROPERTIES = {"endpointPrefix": "https://desk.example.invalid/api/v2/", "username": "agent@example.invalid",
                   "password": "saved-pw", "workItems": False}
DESK_PURPOSE = form_purpose(TENANT, ZENDESK, DESK_ID, {})


def form(*, purpose: dict[str, str] = DESK_PURPOSE, completed: bool = True, used: bool = False,
         filled: tuple[str, ...] = ("password",)) -> SecureFormStatus:
    return SecureFormStatus(form_id="f" * 32, subject="Zendesk integration", completed=completed, used=used,
                            expires_at=0, purpose=purpose, fields=["password"], required_fields=["password"],
                            filled_fields=list(filled) if completed else [])


def desk(*, active: bool = False, **properties: Any) -> IntegrationRecord:
    return IntegrationRecord(id=DESK_ID, name="Desk", type="zendesk", active=active,
                             properties={**DESK_PROPERTIES, **properties})


ROWS = list_rows().validate_python([{"id": DESK_ID, "name": " Desk ", "active": False},
                                    {"id": "5a4db0c5-0000-4000-8000-0000000000ee", "name": "Orders", "active": False}])
COMPLETE, NO_PASSWORD = readiness(ZENDESK, DESK_PROPERTIES), readiness(ZENDESK, {**DESK_PROPERTIES, "password": ""})
NO_USERNAME = readiness(ZENDESK, {**DESK_PROPERTIES, "username": ""})
CHANGE = FieldChange(field="description", saved=None, proposed="New words")

# (rule applied to its arguments, the refusal's words, or None when the call is allowed)
CASES: list[tuple[str, Callable[[], object], str | None]] = [
    ("secret in the arguments", lambda: rules.refuse_secret_arguments({"properties": {"apiToken": "t0k"}}),
     "secret values in the arguments (properties.apiToken)"),
    ("password in a URL", lambda: rules.refuse_secret_arguments({"properties": {"u": "https://a:b@x.invalid"}}),
     "properties.u (password in the URL)"),
    ("an empty secret clears it", lambda: rules.refuse_secret_arguments({"properties": {"password": ""}}), None),
    ("unknown type", lambda: rules.resolve_type("fax"), "unknown integration type 'fax'"),
    ("type by its title", lambda: rules.resolve_type("REST API"), None),
    ("form for another type", lambda: rules.require_same_type(DESK_ID, "rest", ZENDESK),
     f"integration {DESK_ID} is of type 'rest', not 'zendesk'. Nothing was created."),
    ("form for the same type", lambda: rules.require_same_type(DESK_ID, "Zendesk", ZENDESK), None),
    ("not a secret of the type", lambda: rules.choose_secret_fields(ZENDESK, ["username"]),
     "username is not a choice of secret fields for zendesk. Valid: password."),
    ("no field chosen", lambda: rules.choose_secret_fields(ZENDESK, []), "an empty list is not a choice"),
    ("a type without secrets", lambda: rules.choose_secret_fields(TypeSpec("plain", "Plain", (PropertySpec("url"),)),
                                                                  None), "Type plain has no secret properties"),
    ("one secret chosen", lambda: rules.choose_secret_fields(REST, ["token"]), None),
    ("unknown property", lambda: rules.check_properties(ZENDESK, {"colour": "red"}),
     "'colour' is not a property of type zendesk"),
    ("wrong kind", lambda: rules.check_properties(ZENDESK, {"workItems": "yes"}), "workItems takes true or false"),
    ("outside the choices", lambda: rules.check_properties(TYPES["twilio"], {"region": "mars"}),
     "region must be one of: gll"),
    ("wrong format", lambda: rules.check_properties(TYPES["twilio"], {"extensionPrefix": "12"}),
     "extensionPrefix must be exactly 5 digits"),
    ("properties of the type", lambda: rules.check_properties(ZENDESK, {"workItems": True, "username": "u"}), None),
    ("form made for another integration", lambda: rules.require_usable_form(
        form(), form_purpose(TENANT, ZENDESK, None, {})), f"made for integration '{DESK_ID}', not '(none)'"),
    ("form already used", lambda: rules.require_usable_form(form(used=True), DESK_PURPOSE), "already used"),
    ("form not saved yet", lambda: rules.require_usable_form(form(completed=False), DESK_PURPOSE),
     "has not saved the secure form yet"),
    ("form usable", lambda: rules.require_usable_form(form(), DESK_PURPOSE), None),
    ("name taken, other case and spaces", lambda: rules.require_unique_name(ROWS, "orders "),
     "an integration named 'Orders' already exists in this tenant (id 5a4db0c5-0000-4000-8000-0000000000ee)"),
    ("its own name", lambda: rules.require_unique_name(ROWS, "DESK", exclude_id=DESK_ID), None),
    ("create incomplete", lambda: rules.require_complete(ZENDESK, NO_PASSWORD),
     "Refused: cannot create it active: secrets not set: password (CreateCxEngageSecureForm). Required properties "
     "of type zendesk (the CxEngage configuration UI's rules, applied when the integration is active): "
     "endpointPrefix, username, password. Create it inactive"),
    ("create complete", lambda: rules.require_complete(ZENDESK, COMPLETE), None),
    ("no field given", lambda: rules.require_an_edit(EditArgs(TENANT, DESK_ID)), "nothing to change. Give at least"),
    ("a form given", lambda: rules.require_an_edit(EditArgs(TENANT, DESK_ID, secure_form_id="f" * 32)), None),
    ("every value already saved", lambda: rules.require_an_actual_change([]), "this edit changes nothing"),
    ("a change", lambda: rules.require_an_actual_change([CHANGE]), None),
    ("emptying a required property", lambda: rules.refuse_emptying_required(COMPLETE, NO_USERNAME),
     "would leave required properties without a value (the CxEngage configuration UI's rules"),
    ("emptying one of an inactive integration", lambda: rules.refuse_emptying_required(
        COMPLETE, NO_USERNAME, active=False), None),
    ("leaving a missing one missing", lambda: rules.refuse_emptying_required(NO_PASSWORD, NO_PASSWORD), None),
    ("activating incomplete", lambda: rules.require_complete_if_active(
        NO_PASSWORD, activating=True, stays_active=False, touches_properties=False),
     "cannot activate an incomplete integration (the CxEngage configuration UI's rules, applied when the "
     "integration is active): secrets not set: password"),
    ("property edit leaves active incomplete", lambda: rules.require_complete_if_active(
        NO_PASSWORD, activating=False, stays_active=True, touches_properties=True), "cannot leave active"),
    ("rename of an active incomplete one", lambda: rules.require_complete_if_active(
        NO_PASSWORD, activating=False, stays_active=True, touches_properties=False), None),
    ("property edit of an inactive one", lambda: rules.require_complete_if_active(
        NO_PASSWORD, activating=False, stays_active=False, touches_properties=True), None),
    ("activating complete", lambda: rules.require_complete_if_active(
        COMPLETE, activating=True, stays_active=False, touches_properties=False), None),
]


@pytest.mark.parametrize(("rule", "refusal"), [(rule, refusal) for _, rule, refusal in CASES],
                         ids=[name for name, _, _ in CASES])
def test_rule(rule: Callable[[], object], refusal: str | None) -> None:
    if refusal is None:
        rule()
        return
    with pytest.raises(GuardrailError) as refused:
        rule()
    assert refusal in str(refused.value)


def test_every_rule_is_in_the_table_and_every_name_in_the_table_is_a_rule() -> None:
    table = rules.__doc__ or ""
    named = set(re.findall(r"\b((?:refuse|require|resolve|check|choose)_\w+|\w+_confirmation)\b", table))
    public = {name for name in rules.__all__ if re.match(r"(refuse|require|resolve|check|choose)_|\w+_confirmation$",
                                                         name)}
    assert named == public


# --- confirmations: built by the rules, decided by the confirm stage (pipeline.confirm.Confirmer) ---------------


@pytest.mark.parametrize(("properties", "needed"), [
    ({"username": "new@example.invalid"}, ["properties.username"]),  # a value already set is replaced
    ({"password": ""}, ["properties.password"]),  # a secret cleared
    ({"workItems": True, "interactionFieldId": "1"}, []),  # a switch that was off, and an empty property filled
])
def test_overwrite_confirmation(properties: dict[str, Any], needed: list[str]) -> None:
    plan = plan_edit(ZENDESK, desk(), EditArgs(TENANT, DESK_ID, properties=properties), None)
    request = rules.overwrite_confirmation(plan.changes, plan.saved)
    assert ([c.field for c in request.changes] if request else []) == needed
    if request:
        assert request.flag == "confirm_overwrite"


def test_a_rename_overwrites_but_needs_no_confirmation() -> None:
    plan = plan_edit(ZENDESK, desk(), EditArgs(TENANT, DESK_ID, name="Helpdesk"), None)
    assert plan.changes == [FieldChange(field="name", saved="Desk", proposed="Helpdesk", overwrites=True)]
    assert rules.overwrite_confirmation(plan.changes, plan.saved) is None


@pytest.mark.parametrize(("new_name", "active", "needed"), [("Helpdesk", True, True), ("Helpdesk", False, False),
                                                            (None, True, False)])
def test_rename_confirmation_only_for_an_active_integration(new_name: str | None, active: bool, needed: bool) -> None:
    request = rules.rename_confirmation("Desk", new_name, active)
    assert (request is not None) == needed
    if request:
        assert request.flag == "confirm_overwrite" and request.changes[0].proposed == "Helpdesk"


@pytest.mark.parametrize(("active", "needed"), [(False, True), (True, False), (None, False)])
def test_deactivation_confirmation(active: bool | None, needed: bool) -> None:
    request = rules.deactivation_confirmation("Desk", active)
    assert (request is not None) == needed
    if request:
        assert request.flag == "confirm_deactivate" and "'Desk'" in request.reason


def test_a_dry_run_names_the_flags_still_needed() -> None:
    needed = [r for r in (rules.deactivation_confirmation("Desk", False),) if r]
    model = dry_run_steps(needed, "to save the edit", ConfirmationPolicy.MODEL)
    assert model[0] == ("Needs confirm_deactivate=true: deactivating 'Desk' affects live contacts. Ask the user; set "
                        "it only if they agree.") and "confirmation_id" in model[1]
    person = dry_run_steps(needed, "to save the edit", ConfirmationPolicy.PERSON)
    assert "confirm_" not in " ".join(person) and "approval" in person[0]
    assert dry_run_steps([], "to create it", ConfirmationPolicy.PERSON) == ["Call again without dry_run to create it."]


# --- plans ----------------------------------------------------------------------------------------------------


def test_plan_edit_sends_only_what_differs() -> None:
    plan = plan_edit(ZENDESK, desk(active=True), EditArgs(
        TENANT, DESK_ID, name="Desk", active=True, description="New words",
        properties={"username": DESK_PROPERTIES["username"], "interactionFieldId": "42"}), None)
    assert plan.body == {"description": "New words", "properties": {"interactionFieldId": "42"}}
    assert [(c.field, c.overwrites) for c in plan.changes] == [("description", False),
                                                               ("properties.interactionFieldId", False)]
    assert plan.given == {"username": DESK_PROPERTIES["username"], "interactionFieldId": "42"}
    assert plan.new_name is None and plan.new_active is None and plan.touches_properties


def test_plan_edit_of_nothing_new_changes_nothing() -> None:
    plan = plan_edit(ZENDESK, desk(), EditArgs(TENANT, DESK_ID, name="Desk", properties={"workItems": False}), None)
    assert plan.body == {} and plan.changes == []


def test_plan_edit_with_a_form_shows_no_secret_and_counts_it_as_set() -> None:
    plan = plan_edit(ZENDESK, desk(password=""), EditArgs(TENANT, DESK_ID, secure_form_id="f" * 32), form())
    assert plan.body == {"properties": {}} and plan.filled == ["password"]
    assert plan.changes == [FieldChange(field="properties.password", saved=None, proposed="set")]
    assert plan.before.secrets_missing == ["password"] and plan.after.can_activate
    assert plan.shown() == {"properties": {"password": "[redacted]"}}
    assert plan.purpose == form_purpose(TENANT, ZENDESK, DESK_ID, destination_of(ZENDESK, desk().properties))


def test_plan_edit_replacing_a_secret() -> None:
    plan = plan_edit(ZENDESK, desk(), EditArgs(TENANT, DESK_ID, secure_form_id="f" * 32), form())
    assert plan.changes == [FieldChange(field="properties.password", saved="set", proposed="replaced",
                                        overwrites=True)]
    assert "saved-pw" not in repr(plan.changes) and "saved-pw" not in repr(plan.shown())


def test_plan_edit_deactivating() -> None:
    plan = plan_edit(ZENDESK, desk(active=True), EditArgs(TENANT, DESK_ID, active=False), None)
    assert plan.body == {"active": False} and plan.new_active is False
    assert plan.changes == [FieldChange(field="active", saved=True, proposed=False, overwrites=True)]


def test_plan_create() -> None:
    args = CreateArgs(TENANT, "Desk", "Zendesk", properties={"endpointPrefix": "https://d.invalid/", "username": "u"},
                      description="Support", secure_form_id="f" * 32)
    plan = plan_create(ZENDESK, args, form(purpose=form_purpose(TENANT, ZENDESK, None, {})))
    assert plan.body == {"name": "Desk", "type": "zendesk", "active": False,
                         "properties": {"endpointPrefix": "https://d.invalid/", "username": "u"},
                         "description": "Support"}
    assert [c.field for c in plan.changes] == ["name", "type", "active", "description", "properties.endpointPrefix",
                                               "properties.username", "properties.password"]
    assert not any(c.overwrites for c in plan.changes)
    assert plan.after.can_activate and plan.saved == {}
    assert plan.shown()["properties"]["password"] == "[redacted]" and "password" not in plan.body["properties"]


def test_plan_create_without_the_form_is_incomplete() -> None:
    plan = plan_create(ZENDESK, CreateArgs(TENANT, "Desk", "zendesk", properties={"username": "u"}), None)
    assert plan.after.missing_required == ["endpointPrefix", "password"] and plan.filled == []
    with pytest.raises(GuardrailError, match="required properties without a value: endpointPrefix"):
        rules.require_complete(plan.spec, plan.after)


@pytest.mark.parametrize(("value", "ok"), [(25, True), ("587", True), (65535, True), ("", True), (True, False),
                                           (25.5, False), (-1, False), (0, False), (10**9, False), ("25a", False)])
def test_a_port_is_a_whole_number_in_range(value: object, ok: bool) -> None:
    if ok:
        rules.check_properties(TYPES["email"], {"smtpPort": value})
        return
    with pytest.raises(GuardrailError, match="smtpPort takes a port number"):
        rules.check_properties(TYPES["email"], {"smtpPort": value})


@pytest.mark.parametrize("look_alike", ["Desk\u00a0main", "Ｄｅｓｋ main", "Desk\u200b main", " desk   MAIN ",
                                        "Desk\u202e main"])
def test_names_that_look_the_same_are_the_same(look_alike: str) -> None:
    rows = list_rows().validate_python([{"id": DESK_ID, "name": "Desk main", "type": "zendesk", "active": False}])
    with pytest.raises(GuardrailError, match="already exists"):
        rules.require_unique_name(rows, look_alike)


@pytest.mark.parametrize("blank", [" ", "\t", "\u00a0", "\u200b", "\u202e"])
def test_a_value_of_only_spaces_or_invisible_characters_is_refused(blank: str) -> None:
    with pytest.raises(GuardrailError, match="username is blank"):
        rules.check_properties(ZENDESK, {"username": blank})
    assert readiness(ZENDESK, {"endpointPrefix": "https://x.invalid/", "username": blank}).missing_required


# --- the argument guard's read-by-id path (rules.ids_only) ---------------------------------------------------------

UUID_CHARACTERS = frozenset("0123456789abcdef-")
EDGE_UUIDS = ["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
              "12345678-1234-1234-1234-123456789012", "acca0000-acca-acca-acca-accaaccaacca",
              "deadbeef-dead-beef-dead-beefdeadbeef", "5a4db0c5-0000-4000-8000-000000000101"]


def test_no_scan_of_the_guard_can_find_anything_in_a_lowercase_uuid() -> None:
    """The premises of `ids_only`, checked against the scans themselves: every format's hint, every auth scheme's
    word and `://` hold a character no lowercase UUID has (so no UUID sets off a format, whatever its digits), the id
    names are no secret's and are spared the look-alike test."""
    from integrations_mcp.guardrails import secret_values

    for rule in secret_values.KNOWN_FORMATS:
        for hint in rule.hints:
            assert not set(hint.lower() if rule.flags & re.IGNORECASE else hint) <= UUID_CHARACTERS, (rule.kind, hint)
    for word in [*secret_values._AUTH_WORDS, "://"]:
        assert not set(word) <= UUID_CHARACTERS, word
    for name in ("tenant_id", "integration_id"):
        assert not rules.SECRET_KEYS(name) and secret_values.names_random(name)


def test_the_scans_find_nothing_in_reads_by_id() -> None:
    """What `ids_only` lets skip the scans, the scans pass: random and edge-case lowercase UUIDs, alone and in pairs."""
    import uuid

    ids = EDGE_UUIDS + [str(uuid.uuid4()) for _ in range(500)]
    for one in ids:
        for arguments in ({"integration_id": one}, {"tenant_id": one}, {"tenant_id": ids[-1], "integration_id": one}):
            assert rules.ids_only(arguments)
            assert rules.secret_arguments(arguments) == []
    assert rules.ids_only({})


@pytest.mark.parametrize("arguments", [
    {"integration_id": "5A4DB0C5-0000-4000-8000-000000000101"},  # upper case: the scans decide
    {"integration_id": "5a4db0c5-0000-4000-8000-000000000101\n"},
    {"integration_id": " 5a4db0c5-0000-4000-8000-000000000101"},
    {"integration_id": "5a4db0c5-0000-4000-8000-00000000010"},
    {"integration_id": 5},
    {"integration_id": ["5a4db0c5-0000-4000-8000-000000000101"]},
    {"integrationId": "5a4db0c5-0000-4000-8000-000000000101"},
    {"integration_id": "5a4db0c5-0000-4000-8000-000000000101", "page": 1},
])
def test_anything_else_goes_through_the_scans(arguments: dict[str, Any]) -> None:
    assert not rules.ids_only(arguments)


def test_a_secret_beside_an_id_is_still_refused() -> None:
    with pytest.raises(GuardrailError, match="secret values in the arguments"):
        rules.refuse_secret_arguments({"integration_id": EDGE_UUIDS[-1], "description": "Bearer " + "a1B2" * 10})
