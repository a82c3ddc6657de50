"""`hide_capabilities` skips texts holding none of its patterns' literal parts: the skip must never let a capability
through. Checked against the six regex passes alone, on capabilities in every shape the patterns know and on random
mixes of their pieces."""

from __future__ import annotations

import random

from integrations_mcp.guardrails import capabilities
from integrations_mcp.guardrails.capabilities import hide_capabilities

TOKEN = "Zq3_x-9AbCdEfGhIjKlM"
SHAPES = [f"/signin/passkey/enrol/{TOKEN}", f"approval_id={TOKEN}", f"confirmation_id={TOKEN}",
          f"secure_form_id={TOKEN}", f"/secure-forms/approvals/{TOKEN}", f"/secure-forms/{TOKEN}",
          f"/secure_forms/{TOKEN}", f'"approval_id": "{TOKEN}"', f"'secure_form_id':'{TOKEN}'",
          f"cxengage:form:{TOKEN}",
          f"secure form {TOKEN} cannot be used"]
PIECES = ["_id", "_ID", "form", "Form", "enrol/", "=", "/", ":", '"', "'", " ", "approval", "confirmation",
          "secure", "-", "signin", "passkey", TOKEN, "x", "é", "\u200b"]


def every_pass(text: str) -> str:
    for pattern in capabilities._PATTERNS:
        text = pattern.sub(r"\1[hidden]", text)
    return text


def test_every_shape_is_hidden() -> None:
    for shape in SHAPES:
        hidden = hide_capabilities(f"see {shape} now")
        assert TOKEN not in hidden and "[hidden]" in hidden, shape


def test_the_skip_changes_nothing() -> None:
    rng = random.Random(22)
    texts = [*SHAPES, "", "bob", "written and verified", "EditCxEngageIntegration"]
    texts += ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 12))) for _ in range(5000)]
    for text in texts:
        assert hide_capabilities(text) == every_pass(text), text

