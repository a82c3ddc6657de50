"""CxEngage prompts: a short walkthrough an agent can be handed."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field

__all__ = ["register_prompts"]

CXENGAGE_SETUP = """Create a CxEngage {kind}integration, safely.

1. GetIntegrationGuide cxengage/types with section=<type>: its required, optional and secret properties.
   Ask the user for the non-secret ones (URLs, usernames, ids); never for passwords, tokens or keys.
2. CreateCxEngageSecureForm for the type (with destination); the user types the secrets there and says
   when saved.
3. CreateCxEngageIntegration with a unique name, the properties and secure_form_id (active=true only if the
   user wants it live and everything required is set; dry_run first if they want to see what is sent).
"Verified" means CxEngage stored it, not that the connection works. Nothing can be deleted: deactivate instead.
Report each step to the user in a line or two."""


def register_prompts(server: MCPServer) -> None:
    @server.prompt(name="setup_cxengage_integration", title="Create a CxEngage integration")
    def setup_cxengage_integration(
        integration_type: Annotated[str, Field(description="e.g. zendesk, salesforce, rest.")] = "",
    ) -> str:
        """Walk through creating a CxEngage integration with its secrets kept out of the chat."""
        return CXENGAGE_SETUP.format(kind=f"{integration_type.strip()} " if integration_type.strip() else "")
