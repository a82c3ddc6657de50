"""The RevCent v2 contract as the emulator plays it: documented facts, plus each inferred choice in one constant."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from integrations_mcp.vendors.revcent.emulator.fixtures import SANDBOX_API_KEY

__all__ = [
    "GUIDE_CONTRACT",
    "INFERRED",
    "CREDENTIALS_REPLACE",
    "ERROR_RESULT",
    "ERROR_STATUS",
    "FORM_SOURCES",
    "FORM_SOURCES_WITH_ID",
    "GENERIC_FORM_FIELDS",
    "ID_ALPHABET",
    "ID_LENGTH",
    "LIMIT_MAX",
    "LIMIT_MIN",
    "OMIT_EMPTY_THIRD_PARTY_OPTIONS",
    "RESULT_CREATED",
    "RESULT_UPDATED",
    "SANDBOX_API_KEY",
    "SECRET_MASK",
    "SECURE_FORM_LIFETIME",
    "SECURE_FORM_REUSABLE",
    "STRICT_OPTION_VALUES",
    "ApiError",
    "Contract",
    "ErrorCode",
    "name_key",
    "new_id",
]

ID_LENGTH = 20  # every v2 object id is exactly 20 characters
ID_ALPHABET = string.ascii_letters + string.digits  # [I] observed ids are alphanumeric; the charset is undocumented
LIMIT_MIN, LIMIT_MAX = 1, 25  # list `limit` bounds
SECURE_FORM_LIFETIME = 3600  # "a lifespan of 1 hour, which upon expiration will be deleted including any saved data"
SECURE_FORM_REUSABLE = True  # [I] nothing says a completed form is consumed by its first use; it lives until expiry
FORM_SOURCES = ("third_party_integration", "third_party_shop", "gateway", "fulfillment_center", "smtp_profile",
                "paypal_account")
FORM_SOURCES_WITH_ID = ("third_party_integration", "third_party_shop", "gateway", "fulfillment_center")
# [I] the emulator has no catalog for the other form sources, so their page asks for one generic secret.
GENERIC_FORM_FIELDS = ({"id": "secret", "name": "Secret", "required": True},)
STRICT_OPTION_VALUES = True  # [I] reject select values outside the offered options and >1 value on single fields
CREDENTIALS_REPLACE = True  # [I] new credentials replace the saved set wholesale (not merged per field)
OMIT_EMPTY_THIRD_PARTY_OPTIONS = False  # [I] docs hint both "has the property" and "non-empty array"; we send []
RESULT_CREATED = "User third party integration created."  # [I] wording of `result` is undocumented
RESULT_UPDATED = "User third party integration updated."  # [I]
ERROR_RESULT = "The API call failed."  # [I]


@dataclass(frozen=True)
class Contract:
    """Every behaviour of the API that RevCent's documents do not state, as one named [I] switch. The defaults follow
    the documents (the seed OpenAPI schemas, unmodified) and, where they are silent, the reading the server relies on
    (`vendors/revcent/facts.py`); tests run the server against the other setting of each switch that changes what the
    server must do (`INFERRED` lists them with their other settings)."""

    # [I] the agent guide sends credentials as `secure_form_id`; the OpenAPI request schemas
    # (additionalProperties: false) do not list it. False: the seed schemas exactly, so `secure_form_id` is refused.
    accept_secure_form_id: bool = False
    # [I] how Edit applies `third_party_options`: "field" merges per field (what "do not include fields that should
    # remain unchanged" implies), "option" replaces a sent option's saved fields, "replace" replaces every saved
    # option with the array sent.
    options_edit: Literal["field", "option", "replace"] = "field"
    # [I] the list operations' page key (GetEmailTemplates and GetAPICalls answer `results`).
    list_key: str = "results"
    # [I] `page` is documented as required for list operations, but not whether the first page is 1 or 0.
    page_first: int = 1
    # [I] GetSecureForm reports `form_source_id` and `expiration_date_unix` (not in the stored excerpt).
    form_reports_source: bool = True
    # [I] CreateSecureForm's answer names the id `secure_form_id` (else `id`).
    form_id_key: str = "secure_form_id"
    # [I] ids are 20 characters (documented); their alphabet is not: letters and digits as observed ("alnum"), or
    # also `_` and `-` ("urlsafe": the ids this emulator then makes always hold both).
    id_alphabet: Literal["alnum", "urlsafe"] = "alnum"
    # [C] both spellings are in the seeds: the Get schema's `third_party_asset`/`multiple`, the Edit description's
    # `remote_asset`/`is_multiple`. Which one a real Get answers with is not said.
    select_names: Literal["third_party_asset", "remote_asset"] = "third_party_asset"
    # [I] how a Get shows an option field holding a secret (its id names one): as saved ("shown", what the Get
    # schema's "value(s) ... that have been saved" says), masked, or left out.
    secret_options: Literal["shown", "masked", "omitted"] = "shown"
    # [I] booleans are JSON true/false (the seed schemas); "strings" answers "true"/"false" instead.
    booleans: Literal["json", "strings"] = "json"


# The switches the server must survive, each with its other setting (tests parametrise over these).
INFERRED: dict[str, tuple[object, ...]] = {
    "accept_secure_form_id": (True,),
    "options_edit": ("option", "replace"),
    "list_key": ("user_third_party_integrations",),
    "page_first": (0,),
    "form_reports_source": (False,),
    "form_id_key": ("id",),
    "id_alphabet": ("urlsafe",),
    "select_names": ("remote_asset",),
    "secret_options": ("masked", "omitted"),
    "booleans": ("strings",),
}
SECRET_MASK = "********"  # [I] what a masked secret reads as (secret_options="masked")
URLSAFE_EXTRA = "_-"


class ErrorCode(StrEnum):
    # [I] error_code values are undocumented; these names are ours.
    UNAUTHORIZED = "unauthorized"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    VALIDATION_ERROR = "validation_error"
    NOT_FOUND = "not_found"
    DUPLICATE_NAME = "duplicate_name"
    SECURE_FORM_NOT_FOUND = "secure_form_not_found"
    SECURE_FORM_EXPIRED = "secure_form_expired"
    SECURE_FORM_INCOMPLETE = "secure_form_incomplete"
    SECURE_FORM_MISMATCH = "secure_form_mismatch"


# [I] the spec puts every error under `default` without an HTTP status; these are ours.
ERROR_STATUS: dict[ErrorCode, int] = {
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.VALIDATION_ERROR: 400,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.DUPLICATE_NAME: 409,
    ErrorCode.SECURE_FORM_NOT_FOUND: 404,
    ErrorCode.SECURE_FORM_EXPIRED: 410,
    ErrorCode.SECURE_FORM_INCOMPLETE: 409,
    ErrorCode.SECURE_FORM_MISMATCH: 400,
}


class ApiError(Exception):
    """An error answer: raised anywhere in a handler, rendered as the flat error envelope."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        return ERROR_STATUS[self.code]


def name_key(name: str) -> str:
    # [I] "Must be unique": we compare ignoring case and surrounding spaces, the stricter reading.
    return name.strip().casefold()


def new_id(alphabet: str = "alnum") -> str:
    """A fresh id; "urlsafe" ids always hold `_` and `-` (so a test of that alphabet never passes by chance)."""
    chars = [secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH)]
    if alphabet == "urlsafe":
        chars[4], chars[11] = URLSAFE_EXTRA
    return "".join(chars)


# The revcent-form world: the agent guide's `secure_form_id` taken on Create and Edit.
GUIDE_CONTRACT = Contract(accept_secure_form_id=True)
