"""CxEngage settings from the environment: key and secret (both, or neither), region or base URL, an optional
pinned tenant, and the auth style."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from integrations_mcp.errors import ConfigurationError
from integrations_mcp.vendors.base import env_value, http_url, is_placeholder

__all__ = ["REGIONS", "CxEngageSettings"]

REGIONS = {"us": "https://api.cxengage.net", "eu": "https://eu-west-1-prod-api.cxengage.net"}


@dataclass(frozen=True)
class CxEngageSettings:
    api_key: SecretStr
    api_secret: SecretStr
    base_url: str
    tenant_id: str | None = None
    use_token: bool = False  # exchange key/secret for a token (POST /v1/tokens) instead of Basic on every call

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CxEngageSettings | None:
        key, secret = env_value(env, "CXENGAGE_API_KEY"), env_value(env, "CXENGAGE_API_SECRET")
        if not key and not secret:
            return None
        if not (key and secret):
            missing = "CXENGAGE_API_SECRET" if key else "CXENGAGE_API_KEY"
            state = "still holds a placeholder" if is_placeholder(env.get(missing, "")) else "is not set"
            raise ConfigurationError(f"{missing} {state}: CxEngage needs both CXENGAGE_API_KEY and "
                                     "CXENGAGE_API_SECRET (Basic auth), or neither to leave CxEngage off.")
        return cls(SecretStr(key), SecretStr(secret), _base_url(env), _tenant(env), _use_token(env))


def _base_url(env: Mapping[str, str]) -> str:
    base_url = env_value(env, "CXENGAGE_BASE_URL")
    if not base_url:
        region = env_value(env, "CXENGAGE_REGION").lower() or "us"
        if region not in REGIONS:
            raise ConfigurationError(f"CXENGAGE_REGION={region!r} is unknown; use one of "
                                     f"{', '.join(REGIONS)} or set CXENGAGE_BASE_URL.")
        base_url = REGIONS[region]
    return http_url(base_url, "CXENGAGE_BASE_URL")


def _tenant(env: Mapping[str, str]) -> str | None:
    tenant = env_value(env, "CXENGAGE_TENANT_ID")
    if not tenant:
        return None
    try:
        return str(uuid.UUID(tenant))
    except ValueError:
        raise ConfigurationError("CXENGAGE_TENANT_ID must be a tenant UUID.") from None


def _use_token(env: Mapping[str, str]) -> bool:
    auth = env_value(env, "CXENGAGE_AUTH").lower() or "basic"
    if auth not in ("basic", "token"):
        raise ConfigurationError(f"CXENGAGE_AUTH={auth!r} is unknown; use basic or token.")
    return auth == "token"
