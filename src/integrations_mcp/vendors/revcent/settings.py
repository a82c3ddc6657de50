"""RevCent settings from the environment: REVCENT_API_KEY (required to enable it), REVCENT_BASE_URL and
REVCENT_CREDENTIALS_VIA (how credentials reach RevCent; the default and its reason: `facts.CREDENTIALS_VIA_DEFAULT`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from integrations_mcp.errors import ConfigurationError
from integrations_mcp.vendors.base import env_value, http_url
from integrations_mcp.vendors.revcent.facts import CREDENTIALS_VIA, CREDENTIALS_VIA_DEFAULT, CredentialsVia

__all__ = ["DEFAULT_BASE_URL", "RevCentSettings"]

DEFAULT_BASE_URL = "https://api.revcent.com/v2"


@dataclass(frozen=True)
class RevCentSettings:
    api_key: SecretStr
    base_url: str = DEFAULT_BASE_URL
    credentials_via: CredentialsVia = CREDENTIALS_VIA_DEFAULT

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RevCentSettings | None:
        key = env_value(env, "REVCENT_API_KEY")
        if not key:
            return None
        via = env_value(env, "REVCENT_CREDENTIALS_VIA") or CREDENTIALS_VIA_DEFAULT
        if via not in CREDENTIALS_VIA:
            raise ConfigurationError(f"REVCENT_CREDENTIALS_VIA must be one of {', '.join(CREDENTIALS_VIA)}.")
        return cls(SecretStr(key), http_url(env_value(env, "REVCENT_BASE_URL") or DEFAULT_BASE_URL, "REVCENT_BASE_URL"),
                   via)  # type: ignore[arg-type]
