"""Chromium with a virtual authenticator (the DevTools WebAuthn domain): a person with a platform passkey (user
verification on), one browser context each, so each person has their own authenticator and passkeys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from playwright.async_api import async_playwright, expect

from tests.browser import CHROMIUM, CHROMIUM_ARGS

AUTHENTICATOR = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
                 "isUserVerified": True, "automaticPresenceSimulation": True}


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def person_with_authenticator(browser: Any) -> tuple[Any, Any]:
    """A fresh context and page whose browser holds a virtual platform authenticator; (page, its CDP session)."""
    context = await browser.new_context()
    page = await context.new_page()
    page.set_default_timeout(10_000)
    cdp = await context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    await cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return page, cdp


async def enrol_in_browser(page: Any, link: str) -> None:
    """As the person does: open the operator's link, press Create passkey, read that it was saved."""
    await page.goto(link)
    await page.get_by_role("button", name="Create passkey").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Passkey created")


async def press(page: Any, button: str, *, url: str | None = None) -> str:
    """Press `button` on the page (opened at `url` first when given): the script asks the authenticator, then the
    form is sent; the heading of the page that answers."""
    if url is not None:
        await page.goto(url)
    async with page.expect_navigation():
        await page.get_by_role("button", name=button).click()
    return (await page.get_by_role("heading", level=1).text_content() or "").strip()
