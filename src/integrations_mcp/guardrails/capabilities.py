"""Capabilities that only their creator may hold: a secure form id, an approval id or a confirmation id (whoever
holds one can open the form, approve the change or confirm it), and a passkey enrolment link's token. They travel
only in the tool result to the session that asked (a link: to the operator who made it); logs and the change journal
keep the text around them, with the capability hidden."""

from __future__ import annotations

import re

__all__ = ["hide_capabilities"]

_PATTERNS = (
    re.compile(r"(/signin/passkey/enrol/)[A-Za-z0-9_-]{6,}"),  # a passkey enrolment link's one-time token
    re.compile(r"((?:approval|confirmation|secure_form)_id=)[A-Za-z0-9_-]{6,}"),
    re.compile(r"(/(?:secure-forms/approvals|secure-forms|secure_forms)/)[A-Za-z0-9_-]{6,}"),
    re.compile(r"""((?:"|')(?:approval_id|confirmation_id|secure_form_id)(?:"|')\s*:\s*(?:"|'))[A-Za-z0-9_-]{6,}"""),
    re.compile(r"(:form:)[A-Za-z0-9_-]{6,}"),  # a write's lock key (`cxengage:form:<id>`)
    re.compile(r"(\bform )[A-Za-z0-9_-]{16,}"),  # a refusal naming the form ("secure form <id> cannot be used")
)


# Each pattern holds one of these literally (case and all): a text with none of them has nothing to hide, found by
# three substring searches instead of six regex passes (two per journal row of every page).
_NEEDLES = ("_id", "form", "enrol/")


def hide_capabilities(text: str) -> str:
    if not any(needle in text for needle in _NEEDLES):
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(r"\1[hidden]", text)
    return text
