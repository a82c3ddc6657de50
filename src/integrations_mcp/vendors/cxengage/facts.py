"""Every fact about CxEngage's API that the server relies on, in one place: [C] confirmed with its source, [I] inferred
with the reason and how to settle it. Settling an [I] fact is a change of one constant here (or of a row of
`catalog.py`, for the per-type properties); `integrations-mcp check --vendor cxengage` compares a real tenant with
them (`live_check.py`). docs/vendor-facts.md shows the same table."""

from __future__ import annotations

from integrations_mcp.vendors.base import Fact

__all__ = ["FACTS", "LIST_IS_ARRAY", "MASK_CHARACTERS", "PROPERTIES_EDIT", "RESULT_KEY", "UI_RULES_AT",
           "VENDOR_ECHOES_SECRETS"]

RESULT_KEY = "result"  # [C] every answer's payload
LIST_IS_ARRAY = True  # [C] the list's result is an array, unpaged ([I] no paging)
# [I] reads return stored secrets (the docs' example echoes empty ones). True: readiness uses them; either way the
# read-back compares secrets by presence only, so a masking API causes no false mismatch.
VENDOR_ECHOES_SECRETS = True
MASK_CHARACTERS = frozenset("*•xX#")  # a secret read back made only of these (3 or more) is taken as masked
PROPERTIES_EDIT = "merge"  # [I] PUT merges properties key-wise; the tools send only the changed ones either way
UI_RULES_AT = "activation"  # [I] the configuration UI's rules are applied when an integration is (made) active

_SDK = "shark764/cxengage-javascript-sdk"
FACTS: tuple[Fact, ...] = (
    Fact("cxengage.paths", "C",
         "List and create at /v1/tenants/{tenant}/integrations; get and update (PUT) at .../integrations/{id}.",
         f"seed cxengage-create-integration.txt; {_SDK} (create/get/update-integration requests)"),
    Fact("cxengage.result_envelope", "C", "Every answer carries its payload under `result`; the list's is an array.",
         f"seed cxengage-create-integration.txt (response); {_SDK} get-integrations"),
    Fact("cxengage.flat_body", "C", "Create and update bodies are flat: name, description, active, type, properties.",
         f"{_SDK} create/update-integration requests (the docs' 'attribute' wrapper is not valid JSON)"),
    Fact("cxengage.type_lowercase", "C", "Types are lowercase on the wire: rest, salesforce, zendesk, ...",
         "seed response example ('zendesk'); config UI layout.js"),
    Fact("cxengage.create_inactive_empty", "C",
         "An inactive integration can be created with empty properties.",
         "the docs' Zendesk example creates one with empty property values, active false"),
    Fact("cxengage.token_auth", "C",
         "With CXENGAGE_USE_TOKEN, POST /v1/tokens {username, password, ttl} answers {token}; requests then send "
         "Authorization: Token <token>.", f"{_SDK} token-request, api_utils"),
    Fact("cxengage.basic_auth", "I", "Basic auth is the API key as user name and the API secret as password.",
         "API keys are 'an API key and API secret'; the tutorial shows -u '<username>:<password>'.",
         "`check` reads the integrations with the configured key: a 401 settles it as false."),
    Fact("cxengage.no_paging", "I", "The integrations list is not paged: one answer holds every integration.",
         "Neither the SDK nor the config UI pages it.",
         "`check` reads the list and looks for paging keys beside `result`."),
    Fact("cxengage.secrets_echoed", "I", "Reads return stored secrets as stored (not masked).",
         "The docs' example answer echoes (empty) secrets; real values unknown.",
         "`check` reads one integration and reports whether its secret properties look masked."),
    Fact("cxengage.properties_merge", "I", "PUT merges `properties` key-wise into the stored ones.",
         "The SDK sends partial bodies; whether `properties` is merged or replaced is undocumented.",
         "The tools send only changed properties, and verify reports any property lost, first."),
    Fact("cxengage.ui_rules", "I",
         "Required properties, choices and formats are the configuration UI's rules, not the API's.",
         "They come from the config UI's source; the API documents none.",
         "Applied at activation only; a vendor refusal of an inactive create would show the API enforces them."),
)
