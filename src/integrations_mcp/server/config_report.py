"""`integrations-mcp config`: every setting, where its value came from (flag, env, default) and the value in effect,
secrets masked. Nothing here lists the settings by hand: the variables are the ones `load_settings` reads (recorded
while it runs, with the same validation as `serve`) and the ones named in the settings modules' source, so a setting
added to server/settings.py or a vendor's settings.py appears without touching this file."""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import SecretStr

from integrations_mcp.guardrails.secret_values import mask_secret_values
from integrations_mcp.server import settings as settings_module
from integrations_mcp.server.settings import LIMIT_VARIABLES, Settings, load_settings
from integrations_mcp.server.vendors import VENDORS
from integrations_mcp.state.store import hide_url_password

__all__ = ["FLAG_VARIABLES", "Row", "config_rows", "setting_names"]

# serve's flags and the variable each overrides (--sandbox has none).
FLAG_VARIABLES = {"transport": "INTEGRATIONS_TRANSPORT", "host": "INTEGRATIONS_HOST", "port": "INTEGRATIONS_PORT",
                  "read_only": "INTEGRATIONS_READ_ONLY", "log_level": "INTEGRATIONS_LOG_LEVEL",
                  "allow_unauthenticated_remote": "INTEGRATIONS_ALLOW_UNAUTHENTICATED_REMOTE"}
# Variables whose Settings field is not named after them (INTEGRATIONS_<FIELD>, <VENDOR>_<FIELD>).
_FIELDS = {"INTEGRATIONS_HTTP_TIMEOUT": "timeout_seconds", "INTEGRATIONS_AUTH_TOKENS_FILE": "auth_tokens",
           "INTEGRATIONS_AUTH_TOKEN": "auth_tokens", "CXENGAGE_AUTH": "use_token", "CXENGAGE_REGION": "base_url"}
_SECRET = re.compile(r"KEY|SECRET|TOKEN(?!S_FILE)|PASSWORD|PASSPHRASE|CREDENTIAL|HEADERS|AUTHORIZATION",
                     re.IGNORECASE)
HIDDEN = "<set, hidden>"


@dataclasses.dataclass(frozen=True)
class Row:
    name: str
    source: str  # "flag", "env" or "default"
    value: str  # in effect, secrets masked

    def as_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


class _Recording(Mapping[str, str]):
    """The environment, remembering every variable the settings loader asked for."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env, self.read = env, dict[str, None]()

    def __getitem__(self, key: str) -> str:
        self.read[key] = None
        return self._env[key]

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.read[key] = None
        return key in self._env

    def get(self, key: str, default: Any = None) -> Any:
        self.read[key] = None
        return self._env.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._env)

    def __len__(self) -> int:
        return len(self._env)


def _prefixes() -> tuple[str, ...]:
    return ("INTEGRATIONS_", *(f"{vendor.name.upper()}_" for vendor in VENDORS))


def setting_names() -> list[str]:
    """Every variable named in the settings modules' source (the server's and each vendor's)."""
    modules = [settings_module, *(sys.modules[vendor.settings_from_env.__module__] for vendor in VENDORS)]
    pattern = re.compile(rf"\b(?:{'|'.join(_prefixes())})[A-Z0-9_]*[A-Z0-9]\b")
    names: dict[str, None] = {}
    for module in modules:
        for name in pattern.findall(inspect.getsource(module)):
            names[name] = None
    return list(names)


def config_rows(env: Mapping[str, str], **flags: Any) -> tuple[Settings, list[Row]]:
    """Loads the settings exactly as `serve` does (a ConfigurationError on a bad value) and describes each one."""
    recording = _Recording(env)
    settings = load_settings(recording, **flags)
    given = {FLAG_VARIABLES[flag] for flag, value in flags.items() if value is not None and flag in FLAG_VARIABLES}
    names = dict.fromkeys([*setting_names(), *(n for n in recording.read if n.startswith(_prefixes()))])
    rows = []
    for name in sorted(names, key=_order):
        source = "flag" if name in given else "env" if env.get(name, "").strip() else "default"
        rows.append(Row(name, source, _value(settings, name, env, source)))
    if flags.get("sandbox"):
        rows.insert(0, Row("--sandbox", "flag", "on: the vendor settings are the embedded emulators'"))
    return settings, rows


def _order(name: str) -> tuple[int, str]:
    prefixes = _prefixes()
    return next(i for i, prefix in enumerate((*prefixes[1:], prefixes[0])) if name.startswith(prefix)), name


def _field(settings: Settings, name: str) -> tuple[bool, Any]:
    """(found, value) of the Settings (or vendor settings) field a variable sets."""
    for vendor in VENDORS:
        prefix = f"{vendor.name.upper()}_"
        if name.startswith(prefix):
            owner = settings.vendors.get(vendor.name)
            if owner is None:
                return True, None  # the vendor is not configured: its other variables do nothing
            field = _FIELDS.get(name, name.removeprefix(prefix).lower())
            return hasattr(owner, field), getattr(owner, field, None)
    limit = next((field for field, variable in LIMIT_VARIABLES.items() if variable == name), None)
    if limit is not None:
        return True, getattr(settings.limits, limit)
    field = _FIELDS.get(name, name.removeprefix("INTEGRATIONS_").lower())
    return hasattr(settings, field), getattr(settings, field, None)


def _value(settings: Settings, name: str, env: Mapping[str, str], source: str) -> str:
    """The value in effect as shown: secrets by name hidden, and anything else that looks like a secret masked."""
    return mask_secret_values(_shown(settings, name, env, source))


def _shown(settings: Settings, name: str, env: Mapping[str, str], source: str) -> str:
    found, value = _field(settings, name)
    if name == "INTEGRATIONS_STATE_URL":
        return hide_url_password(str(value))
    if not found:  # a variable read by code this module cannot map: show what was given
        raw = env.get(name, "").strip()
        return (HIDDEN if _SECRET.search(name) else raw) if raw else "(default)"
    if value is None:
        if any(name.startswith(f"{v.name.upper()}_") for v in VENDORS) and source == "default":
            return "not set"
        return "not set" if source == "default" else "(not used)"
    if isinstance(value, SecretStr) or (_SECRET.search(name) and not isinstance(value, bool | tuple)):
        return HIDDEN
    if name.startswith("INTEGRATIONS_AUTH_TOKEN"):
        named = [t for t in value if (t.name == "default") == (name == "INTEGRATIONS_AUTH_TOKEN")]
        return ", ".join(f"{t.name} ({' '.join(t.scopes)})" for t in named) or "not set"
    if isinstance(value, tuple):
        return ", ".join(map(str, value)) or "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(getattr(value, "value", value))
