"""`ConfigurationError` on its own (re-exported by `errors`): the state store's start-up child process
(`server/prepare_state.py`) raises it without importing the MCP SDK, which `errors`' tool errors derive from."""

from __future__ import annotations

__all__ = ["ConfigurationError"]


class ConfigurationError(Exception):
    """The message names the variable or flag to fix; the CLI prints it on one line and exits with code 2."""
