"""The RevCent v2 contract as the emulator plays it: documented facts, plus each inferred choice in one constant."""

from __future__ import annotations

import secrets
import string
from enum import StrEnum

__all__ = [
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
    "OPTIONS_MERGE",
    "PAGE_FIRST",
    "RESULT_CREATED",
    "RESULT_UPDATED",
    "SANDBOX_API_KEY",
    "SECURE_FORM_LIFETIME",
    "SECURE_FORM_REUSABLE",
    "STRICT_OPTION_VALUES",
    "ApiError",
    "ErrorCode",
    "name_key",
    "new_id",
]

SANDBOX_API_KEY = "sandbox-revcent-key"

ID_LENGTH = 20  # every v2 object id is exactly 20 characters
ID_ALPHABET = string.ascii_letters + string.digits  # [I] observed ids are alphanumeric; the charset is undocumented
LIMIT_MIN, LIMIT_MAX = 1, 25  # list `limit` bounds
PAGE_FIRST = 1  # [I] `page` is documented as required but not whether it is 0- or 1-based
SECURE_FORM_LIFETIME = 3600  # "a lifespan of 1 hour, which upon expiration will be deleted including any saved data"
SECURE_FORM_REUSABLE = True  # [I] nothing says a completed form is consumed by its first use; it lives until expiry
FORM_SOURCES = ("third_party_integration", "third_party_shop", "gateway", "fulfillment_center", "smtp_profile",
                "paypal_account")
FORM_SOURCES_WITH_ID = ("third_party_integration", "third_party_shop", "gateway", "fulfillment_center")
# [I] the emulator has no catalog for the other form sources, so their page asks for one generic secret.
GENERIC_FORM_FIELDS = ({"id": "secret", "name": "Secret", "required": True},)
OPTIONS_MERGE = "option"  # [I] "option": a sent option replaces that option's saved fields; "field": merge per field
STRICT_OPTION_VALUES = True  # [I] reject select values outside the offered options and >1 value on single fields
CREDENTIALS_REPLACE = True  # [I] new credentials replace the saved set wholesale (not merged per field)
OMIT_EMPTY_THIRD_PARTY_OPTIONS = False  # [I] docs hint both "has the property" and "non-empty array"; we send []
RESULT_CREATED = "User third party integration created."  # [I] wording of `result` is undocumented
RESULT_UPDATED = "User third party integration updated."  # [I]
ERROR_RESULT = "The API call failed."  # [I]


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


def new_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))
