"""RevCent settings from the environment: REVCENT_API_KEY (required to enable it) and REVCENT_BASE_URL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from integrations_mcp.vendors.base import env_value, http_url

__all__ = ["DEFAULT_BASE_URL", "RevCentSettings"]

DEFAULT_BASE_URL = "https://api.revcent.com/v2"


@dataclass(frozen=True)
class RevCentSettings:
    api_key: SecretStr
    base_url: str = DEFAULT_BASE_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RevCentSettings | None:
        key = env_value(env, "REVCENT_API_KEY")
        if not key:
            return None
        return cls(SecretStr(key), http_url(env_value(env, "REVCENT_BASE_URL") or DEFAULT_BASE_URL, "REVCENT_BASE_URL"))
