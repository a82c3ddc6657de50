"""What a secure form page (the server's own, and the RevCent emulator's imitation of RevCent's) tells the person
when it refuses something."""

from __future__ import annotations

__all__ = ["CROSS_SITE", "FORM_GONE", "NEW_FORM", "STALE_PAGE", "TOO_LARGE", "UNREADABLE", "WRONG_ENCODING"]

NEW_FORM = "ask your assistant for a new form"
CROSS_SITE = ("This form only accepts what is typed on its own page, and this submission came from somewhere else. "
              "Open the link your assistant gave you in this browser, type the values there and press Save. "
              f"If this keeps happening, {NEW_FORM}.")
STALE_PAGE = "The security check failed. Reload this page, type the values again and press Save."
TOO_LARGE = "The submission is too large. Reload this page and type only the requested values."
UNREADABLE = "The submission could not be read. Reload the form and try again."
WRONG_ENCODING = "Unsupported form encoding. Reload the form and try again."
FORM_GONE = f"There is no secure form at this address. Check that the link is complete, or {NEW_FORM}."
