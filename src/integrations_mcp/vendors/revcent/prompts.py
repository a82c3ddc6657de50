"""RevCent prompts: a short walkthrough an agent can be handed."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field

__all__ = ["register_prompts"]

REVCENT_SETUP = """Set up a RevCent third-party integration{what}, safely, in five calls.

1. GetSiteThirdPartyIntegrations: the user chooses the native integration.
2. CreateSecureForm: the user enters the credentials in the form (never in chat) and says when done.
3. CreateUserThirdPartyIntegration with a unique name and secure_form_id (leave enabled unset). Its readiness
   says what is still missing and lists the choices (value/label) of each select.
4. The user chooses each required option from readiness.choices (never choose for them); then one
   EditUserThirdPartyIntegration with third_party_options.
5. If they want it live now: EditUserThirdPartyIntegration with enabled=true alone (it needs their approval).
"Verified" means RevCent stored it, not that the connection works. Nothing can be deleted: disable instead.
If a refusal is unclear: GetIntegrationGuide revcent/lifecycle. Report each step to the user in a line or two."""


def register_prompts(server: MCPServer) -> None:
    @server.prompt(name="setup_revcent_integration", title="Set up a RevCent integration")
    def setup_revcent_integration(
        provider: Annotated[str, Field(description="What to connect, e.g. 'our tax provider'.")] = "",
    ) -> str:
        """Walk through connecting a RevCent native integration, with the guardrails."""
        return REVCENT_SETUP.format(what=f" for {provider}" if provider else "")
