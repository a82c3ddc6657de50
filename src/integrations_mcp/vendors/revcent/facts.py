"""Every fact about RevCent's API that the server relies on, in one place, and every vendor-shaped literal the client
and the records use (`client.py` and `records.py` hold none of their own: tests/test_vendor_facts.py checks it).

[C] facts cite the exact place in a seed document (`seed <file>:<line> "<quote>"` for the agent guide,
`seed <file>#<JSON pointer>` for the one-line OpenAPI files; both copied under emulator/schemas/, and the test reads
each citation there) or a vendor page, said as such. [I] facts give the reason and how to settle it, and are played
by a switch of the emulator's `Contract` (`SWITCHES`), so the test suite runs the server under every setting; the few
that no switch can play say why (`NO_SWITCH`). `CONSTANTS` ties each constant below to its fact; each one is read by
some server module. docs/vendor-facts.md shows the same table; `integrations-mcp check --vendor revcent` compares a
real account with the facts a read can show (`live_check.py`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from integrations_mcp.vendors.base import Fact

__all__ = ["ASSET_KEYS", "AUTH_HEADER", "BOOLEAN_STRINGS", "CODE_KEY", "CODE_OK", "CONSTANTS", "CREATED_ID_KEY",
           "CREDENTIALS_KEY", "CREDENTIALS_VIA", "CREDENTIALS_VIA_DEFAULT", "CREDENTIAL_FIELDS", "ENVELOPE_KEYS",
           "ERROR_KEYS", "FACTS", "FORMS_PATH", "FORM_ID_KEYS", "FORM_PATH", "FORM_SOURCE", "FORM_SOURCE_KEYS",
           "ID_LENGTH", "ID_PATTERN", "LIST_KEY", "METHOD_READ", "METHOD_WRITE", "MULTIPLE_KEYS", "NO_SWITCH",
           "OPTIONS_EDIT", "OPTIONS_EDIT_MODES", "OPTION_REQUIRED_MEANS", "PAGE_BASES", "PAGE_FIRST", "PAGE_PARAMS",
           "PAGE_SIZE_MAX", "ROW_KEYS", "ROW_SITE_KEYS", "SECRET_MASK_PATTERN", "SECURE_FORM_FIELD", "SITE_KEY",
           "SITE_LIST_PATH", "SITE_PATH", "SWITCHES", "USER_LIST_PATH", "USER_PATH", "VALUE", "CredentialsVia",
           "FieldType", "Operation", "OptionsEdit"]

_GUIDE = "seed revcent-edit-user-integration.mcp-guide.md"
_CREATE = "seed revcent-create-user-integration.openapi.json"
_EDIT = "seed revcent-edit-user-integration.openapi.json"
_GET = "seed revcent-get-user-integration.openapi.json"
_GET_RECORD = "#/responses/200/content/application~1json/schema/allOf/1/properties"
_SITE = f"{_GET_RECORD}/site_third_party_integration/properties"
_OPTION_FIELD = f"{_SITE}/third_party_options/items/properties/fields/items/properties"
_BODY = "#/requestBody/content/application~1json/schema"


class Operation(StrEnum):
    """RevCent's operation ids [C] (each seed's `operationId`; the list operations are named by the agent guide)."""

    GET_SITES = "GetSiteThirdPartyIntegrations"
    GET_SITE = "GetSiteThirdPartyIntegration"
    GET_USERS = "GetUserThirdPartyIntegrations"
    GET_USER = "GetUserThirdPartyIntegration"
    CREATE_USER = "CreateUserThirdPartyIntegration"
    EDIT_USER = "EditUserThirdPartyIntegration"
    CREATE_FORM = "CreateSecureForm"
    GET_FORM = "GetSecureForm"


# --- transport and envelope -------------------------------------------------------------------------------------------
AUTH_HEADER = "x-api-key"
METHOD_READ, METHOD_WRITE = "GET", "POST"
CODE_KEY, CODE_OK = "code", 1
ENVELOPE_KEYS = ("api_call_id", "api_call_unix", "code")
ERROR_KEYS = ("message", "result", "error_code", "api_call_id")  # in the order the message is taken from

# --- paths ------------------------------------------------------------------------------------------------------------
USER_LIST_PATH = "user_third_party_integrations"  # Create POSTs here; the list GETs it ([I] revcent.user_list_path)
USER_PATH = "user_third_party_integrations/{id}"
SITE_LIST_PATH = "site_third_party_integrations"
SITE_PATH = "site_third_party_integrations/{id}"
FORMS_PATH = "secure_forms"
FORM_PATH = "secure_forms/{id}"

# --- ids --------------------------------------------------------------------------------------------------------------
ID_LENGTH = 20
ID_PATTERN = r"^[A-Za-z0-9_-]{20}$"  # [I] revcent.id_charset: liberal; secret-looking ids are refused besides
CREATED_ID_KEY = "user_third_party_integration_id"

# --- bodies and records -----------------------------------------------------------------------------------------------
CREDENTIALS_KEY = "third_party_credentials"
CREDENTIAL_FIELDS, VALUE = "fields", "value"  # {id, fields: [{id, value}]}
SITE_KEY = "site_third_party_integration"
ROW_KEYS = ("id", "name", "description", "enabled")  # [I] revcent.list_rows: a list row's own keys
ROW_SITE_KEYS = {"site_third_party_integration_id": "id", "site_name": "name", "integration_type": "integration_type"}
FieldType = Literal["select", "input"]
ASSET_KEYS = ("third_party_asset", "remote_asset")  # the Get schema's spelling, then the Edit description's
MULTIPLE_KEYS = ("multiple", "is_multiple")
BOOLEAN_STRINGS = {"true": True, "false": False}
# [I] revcent.secret_options: how a masked value reads ("********", "••••", "****1234", "[redacted]").
SECRET_MASK_PATTERN = r"^(?:[*•●xX#]{3,}[A-Za-z0-9]{0,4}|\[(?:redacted|hidden|masked)\])$"

# --- lists ------------------------------------------------------------------------------------------------------------
LIST_KEY = "results"
PAGE_PARAMS = ("limit", "page")
PAGE_SIZE_MAX = 25
PAGE_FIRST = 1  # [I] revcent.paging: the documents' likelier reading; the client detects which (PAGE_BASES)
PAGE_BASES = (0, 1)

# --- secure forms and credentials -------------------------------------------------------------------------------------
CredentialsVia = Literal["revcent-form", "server-form"]
CREDENTIALS_VIA: tuple[CredentialsVia, ...] = ("server-form", "revcent-form")
# server-form follows the OpenAPI request schemas exactly (`third_party_credentials`, additionalProperties: false), so
# it works whether or not the REST API also takes the agent guide's `secure_form_id`; revcent-form works only if it
# does. Either way the credentials never pass through the model.
CREDENTIALS_VIA_DEFAULT: CredentialsVia = "server-form"
SECURE_FORM_FIELD = "secure_form_id"
FORM_ID_KEYS = ("secure_form_id", "id")
FORM_SOURCE = "third_party_integration"
FORM_SOURCE_KEYS = ("form_source", "form_source_id")

# --- edit semantics ---------------------------------------------------------------------------------------------------
OptionsEdit = Literal["field", "option", "replace"]
OPTIONS_EDIT_MODES: tuple[OptionsEdit, ...] = ("field", "option", "replace")
OPTIONS_EDIT: OptionsEdit = "field"  # [I] what the server assumes until a write's read-back shows otherwise
OPTION_REQUIRED_MEANS = "saved before enabling"  # [I] the Get document says "required when creating"

FACTS: tuple[Fact, ...] = (
    Fact("revcent.auth", "C", "Every request carries the API key in the x-api-key header.",
         "vendor page https://revcent.com/docs/api/v2 (\"x-api-key: YOUR_REVCENT_API_KEY\")"),
    Fact("revcent.methods", "C", "The API takes only GET (reads) and POST (writes).",
         "vendor page https://revcent.com/docs/api/v2 (\"allowing only GET and POST requests\"); "
         f"{_GET}#/method; {_EDIT}#/method"),
    Fact("revcent.envelope", "C", "An answer is an error unless its body says code 1, whatever the HTTP status.",
         f"{_CREATE}#/responses/200/content/application~1json/schema/properties/code/enum; "
         f"{_CREATE}#/responses/default/content/application~1json/schema/properties/code/enum"),
    Fact("revcent.operations", "C",
         "The operation ids are GetSite/GetUser ThirdPartyIntegration(s), Create/EditUserThirdPartyIntegration, "
         "Create/GetSecureForm.",
         f"{_CREATE}#/operationId; {_EDIT}#/operationId; {_GET}#/operationId; "
         f"{_GUIDE}:33 \"| CreateSecureForm |\""),
    Fact("revcent.user_integration_paths", "C",
         "Create POST /user_third_party_integrations; Get and Edit GET/POST /user_third_party_integrations/{id}.",
         f"{_CREATE}#/path; {_EDIT}#/path; {_GET}#/path"),
    Fact("revcent.create_edit_bodies", "C",
         "Create and Edit bodies allow only the listed fields (additionalProperties: false); credentials go as "
         "third_party_credentials {id, fields: [{id, value}]}.",
         f"{_CREATE}{_BODY}/additionalProperties; {_EDIT}{_BODY}/properties/third_party_credentials/required"),
    Fact("revcent.created_id", "C", "Create answers the new integration's id as user_third_party_integration_id.",
         f"{_CREATE}#/responses/200/content/application~1json/schema/properties/user_third_party_integration_id"),
    Fact("revcent.id_length", "C", "Every object id is 20 characters.",
         f"{_GET}{_GET_RECORD}/id/maxLength; {_GUIDE}:154 \"20-character User Third Party Integration ID\""),
    Fact("revcent.record_shape", "C",
         "Get answers id, name, description, enabled, third_party_credentials_saved, third_party_options_saved and "
         "site_third_party_integration (its credentials spec and option schema; field_type select or input).",
         f"{_GET}{_GET_RECORD}/third_party_options_saved; {_GET}{_OPTION_FIELD}/field_type/enum"),
    Fact("revcent.credentials_not_echoed", "C",
         "Get never returns credential values, only third_party_credentials_saved (the saved credential ids).",
         f"{_GET}{_GET_RECORD}/third_party_credentials_saved"),
    Fact("revcent.edit_partial", "C", "Edit changes only the top-level fields sent.",
         f"{_GUIDE}:70 \"Only include the properties you wish to modify.\""),
    Fact("revcent.name_unique", "C", "Integration names are unique in the account (RevCent refuses a duplicate).",
         f"{_GUIDE}:172 \"Must be unique.\"; {_CREATE}{_BODY}/properties/name/description"),
    Fact("revcent.select_names", "C",
         "A select's settings are spelled third_party_asset/multiple (Get schema) or remote_asset/is_multiple (Edit "
         "description); the server reads either.",
         f"{_GET}{_OPTION_FIELD}/select_settings/properties/third_party_asset; "
         f"{_EDIT}{_BODY}/properties/third_party_options/description (\"remote_asset\"); "
         f"{_EDIT}{_BODY}/properties/third_party_options/items/properties/fields/items/properties/value/description "
         "(\"is_multiple\")"),
    Fact("revcent.form_source", "C",
         "CreateSecureForm takes form_source third_party_integration and form_source_id, the site integration's id.",
         f"{_GUIDE}:345 \"CreateSecureForm with form_source = third_party_integration\""),
    Fact("revcent.page_size", "C", "List operations take limit 1..25.",
         "vendor page https://revcent.com/documentation/files/api/operation/GetEmailTemplates.json (limit, "
         "\"default is 25\"): the v2 list pattern"),
    Fact("revcent.secure_form_id", "I",
         "Create and Edit also take secure_form_id (a completed RevCent secure form) instead of "
         "third_party_credentials.",
         "The Edit agent guide sends it; the OpenAPI schemas do not list it and forbid unknown fields.",
         "`check` cannot test a write; with REVCENT_CREDENTIALS_VIA=revcent-form, a refusal naming secure_form_id "
         "settles it as false (use server-form)."),
    Fact("revcent.site_paths", "I",
         "GetSiteThirdPartyIntegrations is GET /site_third_party_integrations (limit, page); "
         "GetSiteThirdPartyIntegration is GET /site_third_party_integrations/{id}.",
         "Operation names are documented, paths are not: the REST pattern of the documented operations.",
         "`check` reads both."),
    Fact("revcent.user_list_path", "I",
         "GetUserThirdPartyIntegrations is GET /user_third_party_integrations (limit, page).",
         "Operation name documented, path not: the REST pattern.", "`check` reads it."),
    Fact("revcent.form_paths", "I",
         "CreateSecureForm is POST /secure_forms; GetSecureForm is GET /secure_forms/{id}.",
         "Operation names documented, paths not: the REST pattern.", "`check --secure-form-id ID` reads one form."),
    Fact("revcent.list_key", "I", "A list page's rows are under `results`.",
         "Every stored v2 list operation (GetEmailTemplates, GetAPICalls) answers `results`.",
         "`check` reads one page of each list; another key makes every list (and the unique-name check) refuse."),
    Fact("revcent.list_rows", "I",
         "A list row is the Get record without the account's assets (id, name, description, enabled, the site "
         "integration nested or as its id).",
         "The list operations' answers are not documented.",
         "`check` reads a page; a row without an id or name is refused, one without enabled shows it unknown."),
    Fact("revcent.paging", "I", "Lists take limit 1..25 and page, the first page being 1.",
         "Documented for other v2 list operations; whether page is 0- or 1-based is not. The client reads page 0 "
         "and 1 once per list and uses what it finds.",
         "`check` reads pages 0 and 1 and says which one is first."),
    Fact("revcent.form_id_key", "I", "CreateSecureForm answers the new form's id as secure_form_id (id is read too).",
         "The CreateSecureForm guide names secure_form_id; the stored excerpt stops before the answer.",
         "Creating a form is a write: not checked; the server reads either key."),
    Fact("revcent.form_source_id", "I",
         "GetSecureForm reports form_source_id and expiration_date_unix.",
         "The stored excerpt stops before them; CreateSecureForm takes form_source_id.",
         "`check --secure-form-id ID` reads one form. Without them the server trusts only forms it created itself."),
    Fact("revcent.options_edit", "I",
         "Edit merges third_party_options per field: fields not sent keep their saved values.",
         "The Edit guide: 'do not include fields that should remain unchanged'. Undocumented for options.",
         "The first edit's read-back shows it: a loss is reported first, and the server then sends what that "
         "behaviour needs (whole options, or every option) for the rest of the process."),
    Fact("revcent.option_required", "I",
         "An option's required: true means it must be saved before the integration is enabled.",
         "The Get document says 'required when creating'; Create takes no options, and the guide says to enable "
         "only after required options are saved.", "Ask RevCent; the server never refuses a create for it."),
    Fact("revcent.id_charset", "I",
         "Ids are letters and digits; the server also takes `_` and `-`, and refuses an id shaped like a known "
         "secret.", "Only the length is documented; every id seen is alphanumeric.",
         "`check` reports the characters the account's ids use."),
    Fact("revcent.secret_options", "I",
         "A Get shows an option field that holds a secret as saved; masked or left out is understood too.",
         "The Get schema says saved values are returned; nothing says secrets are treated otherwise.",
         "`check` reports a masked secret option it reads; a left-out one looks like an unset one, so the server "
         "asks the person to confirm it is set before enabling."),
    Fact("revcent.booleans", "I", "Booleans are JSON true/false; the strings \"true\"/\"false\" are read as such.",
         "The seed schemas type them boolean; a string \"false\" must never read as true.",
         "`check` reports the type of `enabled` in a list row; any other value is refused, not guessed."),
)

# The emulator switch (emulator/contract.py Contract field) that plays each [I] fact's other readings.
SWITCHES: dict[str, str] = {
    "revcent.secure_form_id": "accept_secure_form_id",
    "revcent.list_key": "list_key",
    "revcent.paging": "page_first",
    "revcent.form_id_key": "form_id_key",
    "revcent.form_source_id": "form_reports_source",
    "revcent.options_edit": "options_edit",
    "revcent.id_charset": "id_alphabet",
    "revcent.secret_options": "secret_options",
    "revcent.booleans": "booleans",
    "revcent.select_names": "select_names",  # [C] both spellings; which one a Get uses is played by the switch
}
# [I] facts no switch plays, and why that is safe.
NO_SWITCH: dict[str, str] = {
    "revcent.site_paths": "a wrong path fails every call loudly (404), never silently; `check` reads it",
    "revcent.user_list_path": "a wrong path fails every call loudly (404), never silently; `check` reads it",
    "revcent.form_paths": "a wrong path fails every call loudly (404), never silently",
    "revcent.list_rows": "a row of another shape is refused by records.UserIntegrationSummary, not guessed",
    "revcent.option_required": "no read or write tells; the server applies the stricter reading",
}

# Which fact each constant above stands for.
CONSTANTS: dict[str, str] = {
    "Operation": "revcent.operations", "AUTH_HEADER": "revcent.auth", "METHOD_READ": "revcent.methods",
    "METHOD_WRITE": "revcent.methods", "CODE_KEY": "revcent.envelope", "CODE_OK": "revcent.envelope",
    "ENVELOPE_KEYS": "revcent.envelope", "ERROR_KEYS": "revcent.envelope",
    "USER_LIST_PATH": "revcent.user_list_path", "USER_PATH": "revcent.user_integration_paths",
    "SITE_LIST_PATH": "revcent.site_paths", "SITE_PATH": "revcent.site_paths", "FORMS_PATH": "revcent.form_paths",
    "FORM_PATH": "revcent.form_paths", "ID_LENGTH": "revcent.id_length", "ID_PATTERN": "revcent.id_charset",
    "CREATED_ID_KEY": "revcent.created_id", "CREDENTIALS_KEY": "revcent.create_edit_bodies",
    "CREDENTIAL_FIELDS": "revcent.create_edit_bodies", "VALUE": "revcent.create_edit_bodies",
    "SITE_KEY": "revcent.record_shape", "ROW_KEYS": "revcent.list_rows", "ROW_SITE_KEYS": "revcent.list_rows",
    "FieldType": "revcent.record_shape", "ASSET_KEYS": "revcent.select_names", "MULTIPLE_KEYS": "revcent.select_names",
    "BOOLEAN_STRINGS": "revcent.booleans", "SECRET_MASK_PATTERN": "revcent.secret_options",
    "LIST_KEY": "revcent.list_key", "PAGE_PARAMS": "revcent.paging", "PAGE_SIZE_MAX": "revcent.page_size",
    "PAGE_FIRST": "revcent.paging", "PAGE_BASES": "revcent.paging", "CredentialsVia": "revcent.secure_form_id",
    "CREDENTIALS_VIA": "revcent.secure_form_id", "CREDENTIALS_VIA_DEFAULT": "revcent.secure_form_id",
    "SECURE_FORM_FIELD": "revcent.secure_form_id", "FORM_ID_KEYS": "revcent.form_id_key",
    "FORM_SOURCE": "revcent.form_source", "FORM_SOURCE_KEYS": "revcent.form_source_id",
    "OptionsEdit": "revcent.options_edit", "OPTIONS_EDIT_MODES": "revcent.options_edit",
    "OPTIONS_EDIT": "revcent.options_edit", "OPTION_REQUIRED_MEANS": "revcent.option_required",
}
