"""RevCent prompts: a short walkthrough an agent can be handed."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field

__all__ = ["register_prompts"]

REVCENT_SETUP = """Set up a RevCent third-party integration{what}, safely, step by step.

1. Read guide://revcent/lifecycle and guide://common/guardrails.
2. GetSiteThirdPartyIntegrations; show the user the matching native integrations and let them choose.
3. GetSiteThirdPartyIntegration for the chosen one: note its credential fields and required options.
4. CreateSecureForm; give the user form_url and ask them to enter the credentials there (never in chat).
   When they say it is done, check it with GetSecureForm.
5. CreateUserThirdPartyIntegration with a unique name and secure_form_id (leave enabled unset).
6. GetUserThirdPartyIntegration: show readiness.choices (the account's assets) and let the user choose
   each required option value. Never choose for them.
7. EditUserThirdPartyIntegration with third_party_options; check the verified state it returns.
8. When readiness.can_enable is true and the user agrees, enable it with EditUserThirdPartyIntegration.
Report each step's outcome to the user in one or two lines."""


def register_prompts(server: MCPServer) -> None:
    @server.prompt(name="setup_revcent_integration", title="Set up a RevCent integration")
    def setup_revcent_integration(
        provider: Annotated[str, Field(description="What to connect, e.g. 'our tax provider'.")] = "",
    ) -> str:
        """Walk through connecting a RevCent native integration, with the guardrails."""
        return REVCENT_SETUP.format(what=f" for {provider}" if provider else "")
