"""Real-browser helpers: Debian's chromium driven by Playwright (it cannot download a browser here)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest
from playwright.async_api import async_playwright, expect

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying to reach outside hosts; as root it needs no-sandbox.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no system chromium at {CHROMIUM} "
                                    "(scripts/test.sh installs Debian's chromium when run as root)")


@asynccontextmanager
async def open_page(url: str, *, args: Sequence[str] = ()) -> AsyncIterator[Any]:
    """A fresh headless browser with one page open at `url`; 5 s per action. `args`: more Chromium switches."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *args])
        try:
            page = await browser.new_page()
            page.set_default_timeout(5000)
            await page.goto(url)
            yield page
        finally:
            await browser.close()


async def save_every_secret(page: Any, value: str) -> None:
    """As the person does: type `value`-<n> into each password field of the open form, press Save, see "Saved"."""
    fields = page.locator("input[type=password]")
    assert await fields.count() >= 1
    for i in range(await fields.count()):
        await fields.nth(i).fill(f"{value}-{i}")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Saved")
