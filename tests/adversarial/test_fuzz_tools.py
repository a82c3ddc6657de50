"""Property-based fuzzing of every tool's arguments, in and off schema (hypothesis; the in-schema ones are drawn from
each tool's published input schema by `from_schema` below: hypothesis-jsonschema 0.23 no longer runs on current
hypothesis), with a fixed seeded budget.

The oracle, per call: a result or a tool error (never a protocol exception, never the SDK's bare "Error executing
tool X" of a crash); no write that the vendor refused (the emulators check requests against the vendors' schemas,
so a 4xx answer to a write means the server let through something it should have refused); and no guardrail
broken: no secret-looking value in a write's non-secret fields. At the end, violations are counted, and none is
allowed: an integration enabled (RevCent) or activated (CxEngage) while incomplete, two integrations whose names
look alike (`guardrails.text.name_key`), a blank value (zero-width, Hangul filler, ...) written as a value.

Generators beyond the schema: blank look-alikes, look-alike spellings of the names that exist (Cyrillic and Greek
letters, full width, invisible characters, digits for letters), and pathological lengths and repetitions.
"""

from __future__ import annotations

import logging
import string
from collections import Counter
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.types import CallToolResult

from integrations_mcp.guardrails.secret_values import secret_kinds
from integrations_mcp.guardrails.text import is_blank, name_key
from integrations_mcp.vendors.cxengage.catalog import SECRET_KEYS, TYPES, normalise_type
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_INTEGRATION_ID, SANDBOX_TENANT_ID, CxEngageEmulator
from integrations_mcp.vendors.cxengage.views import readiness
from integrations_mcp.vendors.revcent import views as revcent_views
from integrations_mcp.vendors.revcent.records import UserIntegration
from tests.harness import both_settings, make_server, revcent_emulator, text_of

pytestmark = pytest.mark.anyio

EXAMPLES = 8  # per tool, per mode: the fixed budget
SECRETS = ["sk_live_4eC39HqLyjWDarjtT1zdp7dc", "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
           "https://svc:hunter2hunter2@api.example.invalid/", "Bearer Zx9Lk2Qw8Rt5Yp3Vn7Mb4Hc6",
           "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----"]
TRICKY_TEXT = ["", " ", "\u200b", "\u202eevil", "Ｔａｘ", "a" * 3000, "yes", "1", "null", "{}", "\x00"]
# Values a person cannot tell from nothing.
BLANKS = ["\u200b", "\ufeff", "\u3164", "\u115f\u1160", "\uffa0", "\u2800", "\u00a0\u2003", "\u2060", "\u180e",
          "\u034f", "\ufe0f", "\U000e0020", " \u200b\u3164 ", "\u00ad"]
# The names that exist when the fuzzing starts, and their look-alike spellings.
NAMES = ["Fuzz tax", "Desk main"]
_CYRILLIC = str.maketrans("aeopcxyTAEOPCHKMXB", "аеорсхуТАЕОРСНКМХВ")


def _look_alikes(name: str) -> list[str]:
    return [name.translate(_CYRILLIC), "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name),
            name[:2] + "\u200b" + name[2:], name.upper(), f"  {name.lower()}  ", name.replace(" ", "\u3164"),
            name.replace("a", "\u03b1").replace("o", "0"), name.replace("m", "rn").replace("i", "l"),
            name.replace(" ", "\u00a0\u200d"), name + "\ufe0f"]


LOOK_ALIKE_NAMES = [variant for name in NAMES for variant in _look_alikes(name)]
# The oracle's own notions, independent of the server's (`name_key`, `is_blank` are only added to them): a variant
# is its base name, and a text of blank characters is blank.
LOOK_ALIKE_OF = {variant: name for name in NAMES for variant in _look_alikes(name)}
BLANK_CHARACTERS = set("".join(BLANKS))


def looks_blank(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and (
        all(c in BLANK_CHARACTERS or c.isspace() for c in value) or is_blank(value))


def same_name(name: str) -> str:
    return LOOK_ALIKE_OF.get(name) or (name if name in NAMES else name_key(name))
# Pathological lengths and repetitions: each rule's worst case, and arguments over the size limit.
PATHOLOGICAL = ["eyJ" * 5_000, "http://" + "a" * 20_000, "a" * 64_001, "sk-" * 5_000 + "T3BlbkFJ", "aB3" * 15_000,
                "-----BEGIN " * 3_000, "?token=a&" * 3_000, "\u200b" * 20_000, "Ｔ" * 10_000]

# Vendor calls, as vendor_http logs them: "<vendor> <operation> <METHOD> -> <status>".
WRITES_REFUSED: list[str] = []
VENDOR_CALLS_SEEN: list[str] = []


class _VendorCalls(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "integrations_mcp.vendor_http" and len(record.args or ()) == 4:
            vendor, operation, method, status = record.args  # type: ignore[misc]
            VENDOR_CALLS_SEEN.append(f"{operation} {method}")
            if method != "GET" and int(status) >= 400 and operation not in ALLOWED_REFUSALS:
                WRITES_REFUSED.append(f"{vendor} {operation} {method} -> {status}")


# Writes whose refusal by the vendor is the expected answer to a fuzzed id: the server cannot know before asking
# whether an id exists, and the vendor's 404 says nothing was written.
ALLOWED_REFUSALS = {"CreateSecureForm"}


def from_schema(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> st.SearchStrategy[Any]:
    """Values valid for the JSON-schema subset pydantic writes for tool inputs."""
    defs = schema.get("$defs", defs or {})
    if "$ref" in schema:
        return from_schema(defs[schema["$ref"].split("/")[-1]], defs)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([from_schema(option, defs) for option in schema[key]])
    kind = schema.get("type", "object" if "properties" in schema else None)
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries({k: _named(k, from_schema(v, defs)) for k, v in properties.items()
                                      if k in required},
                                     optional={k: _named(k, from_schema(v, defs)) for k, v in properties.items()
                                               if k not in required})
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {}), defs), min_size=schema.get("minItems", 0),
                        max_size=min(schema.get("maxItems", 4), 4))
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 60), 60)) | \
            st.sampled_from(SECRETS) | st.sampled_from(BLANKS) | st.sampled_from(PATHOLOGICAL)
    if kind == "integer":
        return st.integers(schema.get("minimum", -10**6), schema.get("maximum", 10**6))
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return st.none() | st.booleans() | st.text(max_size=20)  # unconstrained: any of a few JSON values


def _named(key: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A `name` argument is often a look-alike of a name that exists (a duplicate the server must refuse)."""
    return values | st.sampled_from(LOOK_ALIKE_NAMES) if key == "name" else values


def off_schema(properties: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False)
        | st.sampled_from(TRICKY_TEXT + SECRETS + BLANKS + LOOK_ALIKE_NAMES + PATHOLOGICAL)
        | st.text(string.printable, max_size=40),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
            st.sampled_from(["password", "Authorization", "pаss", "id", "value", "name"]) | st.text(max_size=8),
            inner, max_size=4),
        max_leaves=12)
    keys = st.sampled_from(properties) if properties else st.nothing()
    return st.dictionaries(keys | st.text(max_size=12), json_values, max_size=6)


def with_known_ids(arguments: dict[str, Any], ids: dict[str, list[str]]) -> st.SearchStrategy[dict[str, Any]]:
    """The same arguments with some id arguments replaced by ids that exist, so writes get past the first read."""
    choices = {k: st.sampled_from(ids[k]) for k in arguments if k in ids}
    return st.fixed_dictionaries({k: choices.get(k, st.just(v)) for k, v in arguments.items()})


def secret_values_in_body(body: Any, path: str = "") -> list[str]:
    if isinstance(body, dict):
        return [p for k, v in body.items() if not SECRET_KEYS(k) for p in secret_values_in_body(v, f"{path}.{k}")]
    if isinstance(body, list):
        return [p for i, v in enumerate(body) for p in secret_values_in_body(v, f"{path}[{i}]")]
    return [path] if isinstance(body, str) and secret_kinds(body) else []


def check(tool: str, arguments: dict[str, Any], result: CallToolResult) -> None:
    text = text_of(result)
    assert text.strip(), (tool, arguments)
    assert text.strip() != f"Error executing tool {tool}", f"crash: {tool} {arguments!r}"


def fuzzer(tool: str, strategy: st.SearchStrategy[dict[str, Any]], call: Any) -> Any:
    """A hypothesis test, run in a worker thread, that calls the tool on the event loop for each example."""
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(arguments: dict[str, Any]) -> None:
        anyio.from_thread.run(call, tool, arguments)
    return run


async def test_every_tool_survives_fuzzed_arguments(counts: Counter) -> None:
    revcent, cxengage = revcent_emulator(), CxEngageEmulator()
    server = make_server(both_settings(), revcent=revcent, cxengage=cxengage)
    handler = _VendorCalls()
    logging.getLogger("integrations_mcp.vendor_http").addHandler(handler)
    logging.getLogger("integrations_mcp.vendor_http").setLevel(logging.INFO)
    WRITES_REFUSED.clear()
    VENDOR_CALLS_SEEN.clear()
    cxengage.add_integration(SANDBOX_TENANT_ID, "rest", NAMES[1])
    fixtures = {i: r.active for i, r in cxengage.integrations[SANDBOX_TENANT_ID].items()}
    uid = revcent.add_user_integration(name=NAMES[0], site_id=revcent.site_id("tax"))
    enabled_before = {i for i, r in revcent.user_integrations.items() if r.enabled}
    ids = {"integration_id": [SANDBOX_INTEGRATION_ID], "tenant_id": [SANDBOX_TENANT_ID],
           "user_third_party_integration_id": [uid],
           "site_third_party_integration": [revcent.site_id(k) for k in ("tax", "ai")],
           "site_third_party_integration_id": [revcent.site_id(k) for k in ("tax", "ai")]}
    try:
        async with Client(server) as client:
            tools = (await client.list_tools()).tools

            async def call(tool: str, arguments: dict[str, Any]) -> None:
                before = len(revcent.requests) + len(cxengage.requests)
                try:
                    result = await client.call_tool(tool, arguments)
                except Exception as exc:  # a protocol exception: never acceptable
                    raise AssertionError(f"{tool} {arguments!r}: {type(exc).__name__}: {exc}") from exc
                check(tool, arguments, result)
                for request in [*revcent.requests, *cxengage.requests][before:]:
                    if request.method != "GET" and request.body:
                        body = request.json()
                        leaked = secret_values_in_body(body.get("properties", body) if "secure_forms" not in
                                                       request.path else {})
                        assert not leaked, f"{tool} sent a secret-looking value at {leaked}: {arguments!r}"
                counts["fuzz calls"] += 1
                counts["fuzz tool errors" if result.is_error else "fuzz results"] += 1

            for tool in tools:
                schema = tool.input_schema
                in_schema = from_schema(schema).flatmap(lambda a: with_known_ids(a, ids))
                for mode, strategy in (("in", in_schema), ("off", off_schema(list(schema.get("properties", {}))))):
                    await anyio.to_thread.run_sync(fuzzer(tool.name, strategy, call))
                    counts[f"fuzzed tools ({mode} schema)"] += 1
    finally:
        logging.getLogger("integrations_mcp.vendor_http").removeHandler(handler)
    assert not WRITES_REFUSED, WRITES_REFUSED
    counts["fuzz vendor calls checked"] += len(VENDOR_CALLS_SEEN)
    counts["fuzz vendor writes"] += sum(1 for r in [*revcent.requests, *cxengage.requests] if r.method != "GET")
    found = violations(revcent, cxengage, fixtures, enabled_before)
    counts["fuzz violations"] += sum(found.values())
    assert not found, found


def violations(revcent: Any, cxengage: CxEngageEmulator, fixtures: dict[str, bool],
               enabled_before: set[str]) -> Counter[str]:
    """The guardrails broken, counted: none is allowed."""
    found: Counter[str] = Counter()
    records = cxengage.integrations[SANDBOX_TENANT_ID]
    for record in records.values():
        spec = TYPES[normalise_type(record.type)]
        missing = [p.name for p in spec.properties if p.required and
                   (record.properties.get(p.name) in (None, "", [], {}) or looks_blank(record.properties[p.name]))]
        if record.active and not fixtures.get(record.id) and \
                (missing or not readiness(spec, record.properties).can_activate):
            found[f"activated while incomplete: {record.id}"] += 1
        for key, value in record.properties.items():
            if record.id not in fixtures and looks_blank(value):
                found[f"blank value written: {record.id}.{key}"] += 1
    for record in revcent.user_integrations.values():
        if record.enabled and record.id not in enabled_before:
            view = UserIntegration.model_validate(revcent.view(record))
            if not revcent_views.readiness(view).can_enable:
                found[f"enabled while incomplete: {record.id}"] += 1
        for option, fields in record.options.items():
            for field, values in fields.items():
                if any(looks_blank(v) for v in values):
                    found[f"blank value written: {record.id}.{option}.{field}"] += 1
    for names in ([r.name for r in records.values()], [r.name for r in revcent.user_integrations.values()]):
        keys = Counter(same_name(n) for n in names)
        found.update({f"look-alike duplicate names: {k!r}": n - 1 for k, n in keys.items() if n > 1})
    return found


NAME_EXAMPLES = 24  # the fixed budget of the targeted fuzz below


def targeted() -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """Creates and edits that try exactly what the oracle counts: look-alike names of existing integrations, blank
    look-alikes in required values, and switching on at once."""
    blank_or = lambda valid: st.sampled_from(BLANKS) | st.just(valid)  # noqa: E731
    twilio = st.fixed_dictionaries({"accountSid": blank_or("AC1"), "region": blank_or("ie1")})
    cxengage = st.fixed_dictionaries({"name": st.sampled_from(LOOK_ALIKE_NAMES) | st.sampled_from(BLANKS),
                                      "type": st.just("twilio"), "properties": twilio, "active": st.booleans()})
    revcent = st.fixed_dictionaries({"name": st.sampled_from(LOOK_ALIKE_NAMES), "enabled": st.booleans()})
    return st.tuples(st.just("CreateCxEngageIntegration"), cxengage) | \
        st.tuples(st.just("CreateUserThirdPartyIntegration"), revcent)


async def test_blanks_and_look_alike_names_enable_nothing_and_duplicate_nothing(counts: Counter) -> None:
    revcent, cxengage = revcent_emulator(), CxEngageEmulator()
    server = make_server(both_settings(), revcent=revcent, cxengage=cxengage)
    cxengage.add_integration(SANDBOX_TENANT_ID, "rest", NAMES[1])
    fixtures = {i: r.active for i, r in cxengage.integrations[SANDBOX_TENANT_ID].items()}
    revcent.add_user_integration(name=NAMES[0], site_id=revcent.site_id("tax"))
    site = revcent.site_id("tax")
    async with Client(server) as client:
        async def call(tool: str, arguments: dict[str, Any]) -> None:
            if tool.startswith("CreateCx"):
                arguments = {"tenant_id": SANDBOX_TENANT_ID, **arguments}
            else:
                arguments = {"site_third_party_integration": site, **arguments}
            result = await client.call_tool(tool, arguments)
            check(tool, arguments, result)
            counts["targeted fuzz calls"] += 1

        @settings(max_examples=NAME_EXAMPLES, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(targeted())
        def run(example: tuple[str, dict[str, Any]]) -> None:
            anyio.from_thread.run(call, *example)

        await anyio.to_thread.run_sync(run)
    found = violations(revcent, cxengage, fixtures, set())
    counts["fuzz violations"] += sum(found.values())
    assert not found, found


def test_the_oracle_counts_what_it_must() -> None:
    """The oracle itself can fail: an active incomplete integration, a blank value and look-alike names count."""
    revcent, cxengage = revcent_emulator(), CxEngageEmulator()
    cxengage.add_integration(SANDBOX_TENANT_ID, "twilio", "Phones", {"accountSid": "\u3164"}, active=True)
    cxengage.add_integration(SANDBOX_TENANT_ID, "rest", NAMES[1])
    cxengage.add_integration(SANDBOX_TENANT_ID, "rest", LOOK_ALIKE_NAMES[len(LOOK_ALIKE_NAMES) // 2])
    revcent.add_user_integration(name=NAMES[0], site_id=revcent.site_id("tax"), enabled=True)
    found = violations(revcent, cxengage, {}, set())
    kinds = {key.split(":")[0] for key in found}
    assert kinds == {"activated while incomplete", "blank value written", "enabled while incomplete",
                     "look-alike duplicate names"}, found
