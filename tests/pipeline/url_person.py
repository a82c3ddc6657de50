"""A client that can show the person a link but has no question form of its own (URL elicitation only), and the
person at it, who opens the approval page the client shows them and decides there in Chromium."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import anyio
from mcp import Client
from mcp.client import ClientRequestContext
from mcp.client.session import ClientSession
from mcp.types import (
    ClientCapabilities,
    ElicitationCapability,
    ElicitRequestParams,
    ElicitRequestURLParams,
    ElicitResult,
    UrlElicitationCapability,
)
from playwright.async_api import expect

from tests.browser import open_page

DECIDED = {"Approve": "Approved — return to your assistant", "Reject": "Rejected — nothing was changed"}


class UrlOnlySession(ClientSession):
    """Declares `elicitation: {url: {}}` only: the client can open links for the person, not ask in a form."""

    def _build_capabilities(self, version: str) -> ClientCapabilities:
        declared = super()._build_capabilities(version)
        if declared.elicitation is None:
            return declared
        return declared.model_copy(update={"elicitation": ElicitationCapability(url=UrlElicitationCapability())})


class UrlOnlyClient(Client):
    """The SDK's client, declaring URL elicitation only (the capability the SDK declares is form and URL)."""

    async def _build_session(self, exit_stack: AsyncExitStack) -> ClientSession:
        session = await super()._build_session(exit_stack)
        session.__class__ = UrlOnlySession  # same state, only the capability ad differs
        return session


async def press_in_chromium(url: str, button: str) -> None:
    """The person opens the approval page in Chromium and presses `button` ("Approve" or "Reject")."""
    with anyio.fail_after(60):
        async with open_page(url) as page:
            await expect(page.get_by_role("heading", level=2).first).to_have_text("What changes")
            await page.get_by_role("button", name=button).click()
            await expect(page.get_by_role("heading", level=1)).to_have_text(DECIDED[button])


class PagePerson:
    """The person at a URL-only client. `action`: their answer to "open this link?"; `decide`: what they then do on
    the page (in the background, as a person does while the call waits), or None to leave it undecided. Each URL
    the client was handed is kept in `urls`, each message in `messages`."""

    def __init__(self, group: anyio.abc.TaskGroup, *, action: str = "accept",
                 decide: Callable[[str], Awaitable[Any]] | None = None) -> None:
        self.group, self.action, self.decide = group, action, decide
        self.urls: list[str] = []
        self.messages: list[str] = []

    async def __call__(self, ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        assert isinstance(params, ElicitRequestURLParams), "a URL-only client was asked in a form"
        self.urls.append(params.url)
        self.messages.append(params.message)
        if self.action == "accept" and self.decide is not None:
            self.group.start_soon(self.decide, params.url)
        return ElicitResult(action=self.action)
