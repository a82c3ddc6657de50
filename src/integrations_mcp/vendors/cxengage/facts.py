"""Every fact about CxEngage's API that the server relies on, in one place: [C] confirmed with its source, [I] inferred
with the reason, how to settle it, and the emulator `Contract` switch that plays the other readings. Every
vendor-shaped literal of `client.py` and `records.py` is a constant here (a test keeps it so), and every constant is
read by a server module. Settling an [I] fact is a change of one constant here (or of a row of `catalog.py`, for the
per-type properties); `integrations-mcp check --vendor cxengage` compares a real tenant with them
(`live_check.py`), and what only a write reveals is learned by the first write's read-back (`learned.py`).
docs/vendor-facts.md shows the same table."""

from __future__ import annotations

import re

from integrations_mcp.vendors.base import Fact

__all__ = ["ACTIVE_KEY", "AUTH_BASIC", "AUTH_TOKEN", "BOOLEAN_STRINGS", "ERROR_KEY", "ERROR_KEYS", "FACTS",
           "ID_KEY", "ID_RE", "INTEGRATIONS_PATH", "INTEGRATION_PATH", "LIST_PAGE_KEYS", "LIST_PAGE_PARAM",
           "LIST_TOTAL_KEY", "MASK_CHARACTERS", "PROPERTIES_EDIT", "PROPERTIES_KEY", "RESULT_KEY", "SUCCESS_STATUSES",
           "SECRETS_ON_READ", "TENANT_KEY", "TOKENS_PATH", "TOKEN_BODY_KEYS", "TOKEN_KEY", "TOKEN_TTL_SECONDS",
           "TYPE_KEY"]

SEED = "seed cxengage-create-integration.txt"
_SDK = "shark764/cxengage-javascript-sdk (the vendor's SDK)"
_UI = "shark764/cxengage-configuration-ui (the vendor's configuration UI)"

# --- wire constants ([C] unless marked) -----------------------------------------------------------------------------
RESULT_KEY = "result"  # cxengage.result_envelope
INTEGRATIONS_PATH = "tenants/{tenant}/integrations"  # cxengage.paths
INTEGRATION_PATH = INTEGRATIONS_PATH + "/{integration}"  # cxengage.paths
TOKENS_PATH = "tokens"  # cxengage.token_auth
TOKEN_BODY_KEYS = ("username", "password", "ttl")  # cxengage.token_auth
TOKEN_KEY = "token"  # cxengage.token_auth
AUTH_TOKEN = "Token"  # cxengage.token_auth: `Authorization: Token <t>`, not Bearer
AUTH_BASIC = "Basic"  # cxengage.basic_auth [I]
TOKEN_TTL_SECONDS = 3600  # cxengage.token_auth: the SDK always sends a ttl; ours is renewed a minute early
SUCCESS_STATUSES = (200, 201)  # cxengage.create_status [I]
ERROR_KEY = "error"  # cxengage.error_body [I]
ERROR_KEYS = ("code", "message", "attribute")  # cxengage.error_body [I]
ID_KEY, TENANT_KEY, ACTIVE_KEY, PROPERTIES_KEY = "id", "tenantId", "active", "properties"  # cxengage.record
TYPE_KEY = "type"  # cxengage.record
# cxengage.ids: the integration's and the tenant's ids are UUIDs.
ID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# cxengage.booleans: `active` (and boolean properties) are JSON booleans, or exactly these strings.
BOOLEAN_STRINGS = {"true": True, "false": False}
# cxengage.no_paging [I]: the list is one array; these keys beside `result` say it is paged or cut short.
LIST_PAGE_KEYS = ("page", "pages", "next", "total", "count", "limit", "offset", "links")
LIST_TOTAL_KEY = "total"  # cxengage.no_paging [I]: if a total is given, the rows beyond the first page are read
LIST_PAGE_PARAM = "page"  # cxengage.no_paging [I]: ... with ?page=2, 3, ... (1-based), until the total is reached

# --- [I] readings the server starts from and corrects when a read or a write shows otherwise ------------------------
SECRETS_ON_READ = "echo"  # cxengage.secrets_echoed: "echo" (as stored), "mask" or "omit"
MASK_CHARACTERS = frozenset("*•xX#")  # a secret read back made only of these (3 or more) is taken as masked
PROPERTIES_EDIT = "merge"  # cxengage.properties_merge: "merge" or "replace"

FACTS: tuple[Fact, ...] = (
    Fact("cxengage.paths", "C",
         "List and create at /v1/tenants/{tenant}/integrations; get and update (PUT) at .../integrations/{id}.",
         f"{SEED} lines 19-20 (POST .../integrations/); {_SDK} create/get/update-integration requests"),
    Fact("cxengage.result_envelope", "C", "Every answer carries its payload under `result`; the list's is an array.",
         f"{SEED} line 60 (\"result\":{{...}}); {_SDK} get-integrations"),
    Fact("cxengage.record", "C",
         "A record holds id, tenantId, type, active, properties, created, updated (plus name and description).",
         f"{SEED} lines 60-72 and 82-96; name and description: the vendor's Zendesk example page and {_SDK}"),
    Fact("cxengage.ids", "C", "Integration and tenant ids are UUIDs; an answer with another id is refused unread.",
         f"{SEED} line 96 (id UUID) and line 82 (tenantId UUID)"),
    Fact("cxengage.booleans", "I",
         "`active` is a JSON boolean; the server also reads the exact strings \"true\"/\"false\" as booleans and "
         "refuses any other value.",
         f"{SEED} line 92 says boolean, yet line 24 sends \"active\": \"true\" (a string).",
         "Contract.booleans_on_read plays strings; `check` reports which form a read used."),
    Fact("cxengage.flat_body", "C",
         "Create and update bodies are flat: name, description, active, type, properties.",
         f"{_SDK} create/update-integration requests. The {SEED} contradicts it: line 21 wraps the body in "
         "\"attribute\" (and repeats active, not valid JSON); the emulator accepts both, the server sends the flat "
         "one"),
    Fact("cxengage.type_names", "C",
         "Types are lowercase wire names (rest, salesforce, zendesk, ...); the titles Salesforce / REST API / Zendesk "
         "are accepted from the user and sent lowercase.",
         f"{_SDK} spec #{{\"rest\" \"salesforce\" \"zendesk\" \"calabrio\"}}; the vendor's Zendesk example page "
         f"answers \"type\":\"zendesk\". The {SEED} itself names only the titles (lines 42-44)"),
    Fact("cxengage.token_auth", "C",
         "With CXENGAGE_AUTH=token, POST /v1/tokens {username, password, ttl} answers {token}; requests then send "
         "Authorization: Token <token>.", f"{_SDK} token-request, api_utils"),
    Fact("cxengage.basic_auth", "I", "Basic auth is the API key as user name and the API secret as password.",
         "API keys are 'an API key and API secret' (vendor page); the tutorial shows -u '<username>:<password>'.",
         "Contract.auth_schemes plays a token-only account; `check` reads with Basic (also under CXENGAGE_AUTH="
         "token): a 401 settles it as false, and every 401 answer names CXENGAGE_AUTH=token."),
    Fact("cxengage.create_status", "I",
         "A create answers 200; 201 is taken as success too.",
         f"{_SDK} fails anything but 200 on create (failed-to-create-integration-err); the vendor's generic error "
         "page gives 201 for a POST that created an object.",
         "Contract.create_status plays 201; only a write shows it, and the server takes either."),
    Fact("cxengage.error_body", "I",
         "Errors are {error: {code, message, attribute}}, or error as a string or a list of strings.",
         f"{_UI} src/utils/sdk.js errorManager parses these shapes; no verbatim API error is documented.",
         "Contract.error_shape plays the string and list forms; `check` reads an unknown id and reports the shape. "
         "Any other shape still fails the call with the HTTP status."),
    Fact("cxengage.no_paging", "I",
         "The integrations list is not paged: one answer holds every integration. If paging keys appear, the rest "
         "is read with ?page=N; if it cannot be, the answer says the list may be incomplete.",
         "Neither the SDK nor the config UI pages it.",
         "Contract.list_paging plays paged and capped lists; `check` looks for paging keys beside `result`."),
    Fact("cxengage.secrets_echoed", "I", "Reads return stored secrets as stored (not masked, not left out).",
         "The vendor's Zendesk example answer echoes (empty) secrets; real values unknown.",
         "Contract.secrets_on_read plays mask and omit; `check` reports masked or missing secret keys, and a "
         "write's read-back that leaves out a secret it sent switches the server to 'omit' for the process."),
    Fact("cxengage.properties_merge", "I", "PUT merges `properties` key-wise into the stored ones.",
         "The SDK sends partial bodies; whether `properties` is merged or replaced is undocumented.",
         "Contract.properties_edit plays replace. Only a write shows it: the first write whose read-back lost "
         "untouched properties switches the server to sending the whole set for the process, and says so."),
    Fact("cxengage.ui_rules", "I",
         "Required properties, choices and formats are the configuration UI's rules, not the API's; the server "
         "applies them when an integration is (made) active.",
         f"They come from {_UI} Types/*.js (`*` labels) and validation.js; the API documents none.",
         "Contract.ui_rules plays never/active/always; a vendor refusal of an inactive create would show 'always'."),
    Fact("cxengage.create_inactive_empty", "I",
         "An inactive integration can be created with empty properties.",
         "The vendor's Zendesk example page shows empty property values in its answer, but its request does not match "
         f"that answer, and the {SEED} marks properties required (line 49) without saying which.",
         "Contract.ui_rules 'always' plays the opposite; the server then relays CxEngage's 400 naming the fields."),
)
