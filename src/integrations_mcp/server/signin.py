"""The sign-in approvers need on the pages (pages/signin/), assembled from the settings: one method per name in
INTEGRATIONS_SIGNIN, the approver policy, and the keys replicas share (derived from INTEGRATIONS_STATE_KEY)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from integrations_mcp.approvals.kinds import ChangeKind
from integrations_mcp.errors import ConfigurationError
from integrations_mcp.pages.signin import SignIn
from integrations_mcp.pages.signin.gate import Gate
from integrations_mcp.pages.signin.policy import ApproverPolicy
from integrations_mcp.server.settings import Settings
from integrations_mcp.state.keys import derive
from integrations_mcp.state.store import StateStore

__all__ = ["METHODS", "sign_in_gate", "signin_key"]

log = logging.getLogger(__name__)


def signin_key(settings: Settings, use: str) -> bytes:
    """A key replicas share (from INTEGRATIONS_STATE_KEY), else this process's own: one replica's sign-ins then
    last as long as it runs."""
    if settings.state_key:
        return derive(settings.state_key, f"signin/{use}")
    return secrets.token_bytes(32)


def _oidc(settings: Settings) -> SignIn:
    from integrations_mcp.pages.signin.oidc import OidcSignIn
    from integrations_mcp.server.auth.jwt_tokens import JwksCache, JwtVerifier

    assert settings.oauth_issuer is not None and settings.oidc_client_id is not None  # settings._checked
    id_tokens = JwtVerifier(issuer=settings.oauth_issuer, audience=settings.oidc_client_id,
                            jwks=JwksCache(settings.oauth_jwks_url or ""))
    return OidcSignIn(issuer=settings.oauth_issuer, client_id=settings.oidc_client_id,
                      client_secret=settings.oidc_client_secret, verify_id_token=id_tokens.claims,
                      key=signin_key(settings, "oidc"), roles_claim=settings.oidc_roles_claim,
                      lifetime_seconds=settings.signin_minutes * 60, timeout=settings.timeout_seconds,
                      reserved=frozenset(t.name for t in settings.auth_tokens),
                      keep_roles=frozenset({settings.approver_role}))


def _passkey(settings: Settings, state: StateStore) -> SignIn:
    """Passkeys in the state database, which the operator's `approvers enrol` writes to (same URL and key)."""
    from integrations_mcp.pages.signin.passkey import PasskeySignIn

    return PasskeySignIn.over(state, settings.state_key)


# Each method's builder, by its INTEGRATIONS_SIGNIN name: given the settings and the server's state database.
METHODS: dict[str, Callable[[Settings, StateStore], SignIn]] = {"oidc": lambda settings, _: _oidc(settings),
                                                                "passkey": _passkey}


def sign_in_gate(settings: Settings, state: StateStore | None = None) -> Gate:
    """No methods (the default): the pages count a decision from anyone who has the link, as before."""
    methods = []
    for name in settings.signin:
        build = METHODS.get(name)
        if build is None:
            raise ConfigurationError(f"INTEGRATIONS_SIGNIN={name}: this integrations-mcp has no {name} sign-in; use "
                                     f"one of {', '.join(METHODS)}.")
        methods.append(build(settings, state or StateStore(settings.state_url)))
    if methods and settings.transport == "http" and not settings.state_key:
        log.warning("Sign-in on the pages without INTEGRATIONS_STATE_KEY: sign-ins last only as long as this "
                    "process, and replicas do not accept each other's.")
    policy = ApproverPolicy(role=settings.approver_role,
                            separate=frozenset(ChangeKind(k) for k in settings.separate_approver))
    return Gate(methods, policy)
