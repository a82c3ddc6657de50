"""Site integrations read inside user integrations, kept by the JSON RevCent sent for them.

Many user integrations share one site integration (its credential spec and option schema: most of a read's answer),
and validating it again on every read was ~75 K instructions of a first read's ~3.7 M. `kept_site(raw)` gives the
model validated from `raw`, the same instance for the same JSON: the key is `pydantic_core.to_json(raw)`, every value
with its type (1, 1.0 and true differ; NaN and the infinities are written as themselves, not as null), so a site
changed at RevCent is a new key and never read stale. `site_json(site)` is the model's own JSON, made once for a kept
instance (`views` keys readiness by it). Kept instances are shared by the records read: no code changes a record or a
site in place (they are copied with `model_copy`). Bounded by the keys' bytes, emptied when full."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pydantic_core
from pydantic import BaseModel, ValidationError

from integrations_mcp.vendors.revcent.records import SiteIntegration

__all__ = ["KEPT_SITES_BYTES", "Made", "json_made_once", "kept_site", "made_for", "site_json", "site_lines"]

KEPT_SITES_BYTES = 1_048_576
KEPT_SITE_MAX_BYTES = 65_536  # a larger site (thousands of asset choices) is validated each time


class Made:
    """What is made of a kept model (its JSON, its lines), once asked for. Found by the model's id in a table of
    these, each holding its model (so the id is not reused while it is there)."""

    __slots__ = ("json", "lines", "model")

    def __init__(self, model: BaseModel) -> None:
        self.model = model
        self.json: bytes | None = None
        self.lines: list[str] | None = None


def made_for(table: dict[int, Made], model: BaseModel) -> Made | None:
    made = table.get(id(model))
    return made if made is not None and made.model is model else None


def json_made_once(table: dict[int, Made], model: BaseModel) -> bytes:
    """`model`'s JSON by its serializer, by alias (ValueError when it has none: a lone surrogate), made once when
    `model` is kept in `table`."""
    made = made_for(table, model)
    if made is None:
        return model.__pydantic_serializer__.to_json(model, by_alias=True)
    if made.json is None:
        made.json = model.__pydantic_serializer__.to_json(model, by_alias=True)
    return made.json


_by_raw: dict[bytes, SiteIntegration] = {}
_by_id: dict[int, Made] = {}  # id(kept site) -> what is made of it
_kept_bytes = [0]


def kept_site(raw: Any) -> SiteIntegration | None:
    """The site integration validated from `raw` (a JSON object as RevCent sent it), kept by its JSON; None when
    `raw` is not a valid one (the caller validates it where it stands, for its own error) or has no JSON."""
    if not isinstance(raw, dict):
        return None
    try:
        key = pydantic_core.to_json(raw, inf_nan_mode="constants")
    except (ValueError, RecursionError):  # a lone surrogate (read by json.loads), nesting too deep
        return None
    kept = _by_raw.get(key)
    if kept is not None:
        return kept
    try:
        site = SiteIntegration.model_validate(raw)
    except ValidationError:
        return None
    if len(key) <= KEPT_SITE_MAX_BYTES:
        if _kept_bytes[0] + len(key) > KEPT_SITES_BYTES:
            _by_raw.clear()
            _by_id.clear()
            _kept_bytes[0] = 0
        _by_raw[key] = site
        _by_id[id(site)] = Made(site)
        _kept_bytes[0] += len(key)
    return site


def site_json(site: SiteIntegration) -> bytes:
    """`site`'s JSON (`json_made_once`), made once for a kept site."""
    return json_made_once(_by_id, site)


def site_lines(site: SiteIntegration, make: Callable[[SiteIntegration], list[str]]) -> list[str]:
    """`make(site)` (lines of an answer that depend on the site alone), made once for a kept site (a new list each
    time). `make` is the one function of its kind (a kept site's lines are made by it only)."""
    made = made_for(_by_id, site)
    if made is None:
        return make(site)
    if made.lines is None:
        made.lines = make(site)
    return list(made.lines)
