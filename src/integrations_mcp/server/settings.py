"""Settings from the environment. Vendor credentials come from here and nowhere else (never tool arguments)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import SecretStr

from integrations_mcp.errors import ConfigurationError

__all__ = ["CXENGAGE_REGIONS", "CxEngageSettings", "RevCentSettings", "Settings"]

log = logging.getLogger(__name__)

REVCENT_DEFAULT_BASE_URL = "https://api.revcent.com/v2"
CXENGAGE_REGIONS = {"us": "https://api.cxengage.net", "eu": "https://eu-west-1-prod-api.cxengage.net"}


@dataclass(frozen=True)
class RevCentSettings:
    api_key: SecretStr
    base_url: str = REVCENT_DEFAULT_BASE_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RevCentSettings | None:
        key = env.get("REVCENT_API_KEY", "").strip()
        if not key:
            return None
        return cls(SecretStr(key), _url(env.get("REVCENT_BASE_URL") or REVCENT_DEFAULT_BASE_URL, "REVCENT_BASE_URL"))


@dataclass(frozen=True)
class CxEngageSettings:
    api_key: SecretStr
    api_secret: SecretStr
    base_url: str
    tenant_id: str | None = None
    use_token: bool = False  # exchange key/secret for a token (POST /v1/tokens) instead of Basic on every call

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CxEngageSettings | None:
        key, secret = env.get("CXENGAGE_API_KEY", "").strip(), env.get("CXENGAGE_API_SECRET", "").strip()
        if not key and not secret:
            return None
        if not (key and secret):
            missing = "CXENGAGE_API_SECRET" if key else "CXENGAGE_API_KEY"
            raise ConfigurationError(f"{missing} is not set: CxEngage needs both CXENGAGE_API_KEY and "
                                     "CXENGAGE_API_SECRET (Basic auth), or neither to leave CxEngage off.")
        base_url = env.get("CXENGAGE_BASE_URL", "").strip()
        if not base_url:
            region = env.get("CXENGAGE_REGION", "us").strip().lower() or "us"
            if region not in CXENGAGE_REGIONS:
                raise ConfigurationError(f"CXENGAGE_REGION={region!r} is unknown; use one of "
                                         f"{', '.join(CXENGAGE_REGIONS)} or set CXENGAGE_BASE_URL.")
            base_url = CXENGAGE_REGIONS[region]
        tenant = env.get("CXENGAGE_TENANT_ID", "").strip() or None
        if tenant is not None:
            try:
                tenant = str(uuid.UUID(tenant))
            except ValueError:
                raise ConfigurationError("CXENGAGE_TENANT_ID must be a tenant UUID.") from None
        use_token = env.get("CXENGAGE_AUTH", "basic").strip().lower() == "token"
        return cls(SecretStr(key), SecretStr(secret), _url(base_url, "CXENGAGE_BASE_URL"), tenant, use_token)


@dataclass(frozen=True)
class Settings:
    revcent: RevCentSettings | None = None
    cxengage: CxEngageSettings | None = None
    read_only: bool = False
    timeout_seconds: float = 20.0

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, read_only: bool = False) -> Settings:
        read_only = read_only or env.get("INTEGRATIONS_READ_ONLY", "").strip().lower() in ("1", "true", "yes")
        timeout = env.get("INTEGRATIONS_HTTP_TIMEOUT", "").strip()
        try:
            timeout_seconds = float(timeout) if timeout else 20.0
        except ValueError:
            raise ConfigurationError("INTEGRATIONS_HTTP_TIMEOUT must be a number of seconds.") from None
        return cls(RevCentSettings.from_env(env), CxEngageSettings.from_env(env), read_only, timeout_seconds)

    @property
    def configured_vendors(self) -> list[str]:
        return [name for name, value in (("revcent", self.revcent), ("cxengage", self.cxengage)) if value]


def _url(value: str, variable: str) -> str:
    value = value.strip().rstrip("/")
    if not value.startswith(("https://", "http://")):
        raise ConfigurationError(f"{variable} must be an http(s) URL.")
    host = urlsplit(value).hostname or ""
    if value.startswith("http://") and host not in ("127.0.0.1", "localhost", "::1"):
        # Allowed for proxies and emulators, but the API key would cross the network in clear text.
        log.warning("%s is plain http on a non-loopback host: the vendor key is sent unencrypted.", variable)
    return value
