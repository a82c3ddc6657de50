"""Every fact about RevCent's API that the server relies on, in one place: [C] confirmed with its source, [I] inferred
with the reason and how to settle it. Settling an [I] fact is a change of one constant here; `integrations-mcp check
--vendor revcent` compares a real account with them (`live_check.py`). docs/vendor-facts.md shows the same table."""

from __future__ import annotations

from typing import Literal

from integrations_mcp.vendors.base import Fact

__all__ = ["CREDENTIALS_VIA", "CREDENTIALS_VIA_DEFAULT", "FACTS", "FORM_ID_KEYS", "LIST_KEY", "OPTION_REQUIRED_MEANS",
           "OPTIONS_EDIT", "PAGE_FIRST", "PAGE_SIZE_MAX", "SECURE_FORM_FIELD", "SITE_LIST_PATH", "SITE_PATH",
           "USER_LIST_PATH", "CredentialsVia"]

CredentialsVia = Literal["revcent-form", "server-form"]
CREDENTIALS_VIA: tuple[CredentialsVia, ...] = ("server-form", "revcent-form")
# server-form follows the OpenAPI request schemas exactly (`third_party_credentials`, additionalProperties: false), so
# it works whether or not the REST API also takes the agent guide's `secure_form_id`; revcent-form works only if it
# does. Either way the credentials never pass through the model.
CREDENTIALS_VIA_DEFAULT: CredentialsVia = "server-form"

SITE_LIST_PATH = "site_third_party_integrations"  # [I] rest pattern
SITE_PATH = "site_third_party_integrations/{id}"  # [I] rest pattern
USER_LIST_PATH = "user_third_party_integrations"  # [I] rest pattern (the create path, read with GET)
LIST_KEY = "results"  # [I] the key of a list page's rows
PAGE_FIRST = 1  # [I] the first page's number
PAGE_SIZE_MAX = 25  # [C] for other v2 list operations
SECURE_FORM_FIELD = "secure_form_id"  # [I] the body field of the revcent-form path
FORM_ID_KEYS = ("secure_form_id", "id")  # [I] CreateSecureForm's id key: either is read
OPTIONS_EDIT = "field"  # [I] Edit merges third_party_options per field; verify catches any other behaviour
OPTION_REQUIRED_MEANS = "saved before enabling"  # [I] the Get document says "required when creating"

_SEED = "seed"
FACTS: tuple[Fact, ...] = (
    Fact("revcent.auth", "C", "Every request carries the API key in the x-api-key header.",
         "https://revcent.com/docs/api/v2"),
    Fact("revcent.envelope", "C", "An answer is an error unless its body says code 1, whatever the HTTP status.",
         f"{_SEED} revcent-*-user-integration.openapi.json (APICallResponseInfo, APIStandardErrors)"),
    Fact("revcent.user_integration_paths", "C",
         "Create POST /user_third_party_integrations; Get and Edit GET/POST /user_third_party_integrations/{id}.",
         f"{_SEED} Create/Edit/Get User Third Party Integration"),
    Fact("revcent.create_edit_bodies", "C",
         "Create and Edit bodies allow only the listed fields (additionalProperties: false); credentials go as "
         "third_party_credentials {id, fields: [{id, value}]}.", f"{_SEED} Create/Edit OpenAPI request schemas"),
    Fact("revcent.credentials_not_echoed", "C",
         "Get never returns credential values, only third_party_credentials_saved (the saved credential ids).",
         f"{_SEED} GetUserThirdPartyIntegration response schema"),
    Fact("revcent.edit_partial", "C", "Edit changes only the top-level fields sent.",
         f"{_SEED} Edit OpenAPI description; Edit agent guide"),
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
    Fact("revcent.list_key", "I", "A list page's rows are under `results`.",
         "Every stored v2 list operation (GetEmailTemplates, GetAPICalls) answers `results`.",
         "`check` reads one page of each list; another key makes every list (and the unique-name check) refuse."),
    Fact("revcent.paging", "I", "Lists take limit 1..25 and page, the first page being 1.",
         "Documented for other v2 list operations; whether page is 0- or 1-based is not.",
         "`check` compares the first page at limit 1 and 2, and the second; RevCent's own unique-name rule still "
         "refuses a duplicate the server's check missed."),
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
         "Verify compares every saved option before and after; a loss is reported first as a mismatch."),
    Fact("revcent.option_required", "I",
         "An option's required: true means it must be saved before the integration is enabled.",
         "The Get document says 'required when creating'; Create takes no options, and the guide says to enable "
         "only after required options are saved.", "Ask RevCent; the server never refuses a create for it."),
)
