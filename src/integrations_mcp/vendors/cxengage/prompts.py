"""CxEngage prompts: a short walkthrough an agent can be handed."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field

__all__ = ["register_prompts"]

CXENGAGE_SETUP = """Create a CxEngage {kind}integration, safely, step by step.

1. Read guide://cxengage/lifecycle and guide://cxengage/types (the properties of each type).
2. GetCxEngageIntegrations: check the name you will use is not taken; agree the name with the user.
3. Ask the user for the non-secret properties (URLs, usernames, ids). Never ask for passwords, tokens or keys.
4. CreateCxEngageSecureForm for the type; give the user form_url to type the secrets there, and wait until
   they say it is saved.
5. CreateCxEngageIntegration with the properties and secure_form_id (leave active unset); try dry_run first
   if the user wants to see exactly what will be sent.
6. Check the verified state it returns; activate with EditCxEngageIntegration(active=true) only when
   readiness.can_activate is true and the user agrees.
Report each step's outcome to the user in one or two lines."""


def register_prompts(server: MCPServer) -> None:
    @server.prompt(name="setup_cxengage_integration", title="Create a CxEngage integration")
    def setup_cxengage_integration(
        integration_type: Annotated[str, Field(description="e.g. zendesk, salesforce, rest.")] = "",
    ) -> str:
        """Walk through creating a CxEngage integration with its secrets kept out of the chat."""
        return CXENGAGE_SETUP.format(kind=f"{integration_type.strip()} " if integration_type.strip() else "")
