"""Who may decide on a page once signed in (`pages.signin.policy`), and the settings that shape it."""

from __future__ import annotations

import pytest

from integrations_mcp.approvals.kinds import ChangeKind, kinds_of, parse_kinds
from integrations_mcp.errors import ConfigurationError
from integrations_mcp.pages.signin import Approver
from integrations_mcp.pages.signin.policy import ApproverPolicy
from integrations_mcp.pipeline.changes import FieldChange
from integrations_mcp.server.settings import load_settings

ROLE = "integrations:approve"
ALICE = Approver(subject="alice", method="oidc", name="Alice Example")
BOB_APPROVER = Approver(subject="bob", method="oidc", name="Bob", roles=frozenset({ROLE}))
CAROL = Approver(subject="carol", method="oidc", name="Carol", roles=frozenset({"integrations:read"}))


def test_the_requester_may_approve_their_own_change():
    assert ApproverPolicy().decide(ALICE, requester="alice", kinds={ChangeKind.OVERWRITE}).allowed


def test_someone_else_needs_the_approver_role():
    refused = ApproverPolicy().decide(CAROL, requester="alice", kinds={ChangeKind.OVERWRITE})
    assert not refused.allowed
    assert "Carol" in refused.why and ROLE in refused.why and "sign in as one of them" in refused.why
    assert ApproverPolicy().decide(BOB_APPROVER, requester="alice", kinds={ChangeKind.OVERWRITE}).allowed


def test_separation_of_duties_refuses_the_requester_for_listed_kinds_only():
    policy = ApproverPolicy(separate=frozenset({ChangeKind.DISABLE}))
    refused = policy.decide(ALICE, requester="alice", kinds={ChangeKind.DISABLE, ChangeKind.OVERWRITE})
    assert not refused.allowed and "second person" in refused.why and "turning an integration off" in refused.why
    # holding the role does not make the requester a second person
    alice_approver = Approver(subject="alice", method="oidc", name="Alice", roles=frozenset({ROLE}))
    assert not policy.decide(alice_approver, requester="alice", kinds={ChangeKind.DISABLE}).allowed
    assert policy.decide(BOB_APPROVER, requester="alice", kinds={ChangeKind.DISABLE}).allowed
    assert policy.decide(ALICE, requester="alice", kinds={ChangeKind.OVERWRITE}).allowed


def test_an_unknown_requester_leaves_only_the_role():
    assert not ApproverPolicy().decide(ALICE, requester="", kinds=()).allowed
    assert ApproverPolicy().decide(BOB_APPROVER, requester="", kinds=()).allowed


def test_a_custom_role():
    policy = ApproverPolicy(role="ops")
    assert not policy.decide(BOB_APPROVER, requester="alice", kinds=()).allowed
    ops = Approver(subject="dan", method="passkey", name="Dan", roles=frozenset({"ops"}))
    assert policy.decide(ops, requester="alice", kinds=()).allowed


def test_kinds_of_a_write():
    replaced_secret = FieldChange.of("properties.password", "set", "new")
    filled_secret = FieldChange.of("properties.password", None, "new")
    assert kinds_of(["confirm_deactivate"], [], [], []) == {ChangeKind.DISABLE}
    assert kinds_of(["confirm_overwrite"], [replaced_secret], [replaced_secret], ["password"]) == {
        ChangeKind.OVERWRITE, ChangeKind.CREDENTIALS}
    assert kinds_of([], [], [filled_secret], ["password"]) == frozenset()
    credentials = FieldChange.of("credentials", {"a": 1}, {"a": 2})
    assert ChangeKind.CREDENTIALS in kinds_of(["confirm_overwrite"], [credentials], [credentials], [])
    assert parse_kinds("disable,overwrite,bogus,") == {ChangeKind.DISABLE, ChangeKind.OVERWRITE}
    assert parse_kinds(None) == frozenset()


def test_a_revert_is_also_what_it_does():
    """A revert asks under one flag; separation of duties for `disable` must not be skipped by reverting an
    enabling."""
    off, on = FieldChange.of("active", True, False), FieldChange.of("enabled", False, True)
    renamed = FieldChange.of("name", "Old", "New")
    assert kinds_of(["confirm_revert"], [off, renamed], [off, renamed], []) == {
        ChangeKind.REVERT, ChangeKind.DISABLE, ChangeKind.OVERWRITE}
    assert kinds_of(["confirm_revert"], [on], [on], []) == {ChangeKind.REVERT, ChangeKind.ENABLE}


BASE = {"INTEGRATIONS_STATE_URL": "sqlite+aiosqlite:///:memory:", "REVCENT_API_KEY": "rc-key-0123456789"}
OAUTH = {**BASE, "INTEGRATIONS_TRANSPORT": "http", "INTEGRATIONS_OAUTH_ISSUER": "http://127.0.0.1:9/",
         "INTEGRATIONS_OAUTH_JWKS_URL": "http://127.0.0.1:9/jwks"}


def test_signin_settings_default_to_none():
    settings = load_settings(BASE)
    assert settings.signin == () and settings.approver_role == ROLE and settings.separate_approver == ()


def test_oidc_settings_are_read():
    settings = load_settings({**OAUTH, "INTEGRATIONS_SIGNIN": "oidc", "INTEGRATIONS_OIDC_CLIENT_ID": "pages",
                              "INTEGRATIONS_OIDC_CLIENT_SECRET": "s3cret-s3cret", "INTEGRATIONS_APPROVER_ROLE": "ops",
                              "INTEGRATIONS_SEPARATE_APPROVER": "Disable, credentials",
                              "INTEGRATIONS_OIDC_ROLES_CLAIM": "groups"})
    assert settings.signin == ("oidc",) and settings.oidc_client_id == "pages"
    assert settings.separate_approver == ("disable", "credentials") and settings.oidc_roles_claim == "groups"
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(("env", "named"), [
    ({"INTEGRATIONS_SIGNIN": "saml"}, "INTEGRATIONS_SIGNIN"),
    ({"INTEGRATIONS_SIGNIN": "none,oidc"}, "INTEGRATIONS_SIGNIN"),
    ({"INTEGRATIONS_SIGNIN": "oidc"}, "INTEGRATIONS_SIGNIN=oidc"),  # stdio, no issuer
    ({"INTEGRATIONS_SEPARATE_APPROVER": "disable"}, "INTEGRATIONS_SEPARATE_APPROVER"),  # nobody signs in
    ({"INTEGRATIONS_SIGNIN": "passkey", "INTEGRATIONS_SEPARATE_APPROVER": "delete"},
     "INTEGRATIONS_SEPARATE_APPROVER"),
    ({"INTEGRATIONS_OIDC_CLIENT_ID": "pages"}, "INTEGRATIONS_OIDC_CLIENT_ID"),
    ({"INTEGRATIONS_SIGNIN": "passkey", "INTEGRATIONS_APPROVER_ROLE": "two words"}, "INTEGRATIONS_APPROVER_ROLE"),
    ({"INTEGRATIONS_SIGNIN": "passkey", "INTEGRATIONS_SIGNIN_MINUTES": "0"}, "INTEGRATIONS_SIGNIN_MINUTES"),
])
def test_bad_signin_settings_fail_naming_the_setting(env, named):
    with pytest.raises(ConfigurationError, match=named):
        load_settings({**BASE, **env})


def test_oidc_needs_a_client_id():
    with pytest.raises(ConfigurationError, match="INTEGRATIONS_OIDC_CLIENT_ID"):
        load_settings({**OAUTH, "INTEGRATIONS_SIGNIN": "oidc"})
