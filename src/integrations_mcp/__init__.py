"""integrations-mcp: an MCP server for RevCent and CxEngage third-party integrations, with guardrails."""

__version__ = "0.1.0"
