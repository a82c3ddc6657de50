"""URL-mode elicitation: the client opens the secure form for the person, the tool waits until it is completed, and
the URL never reaches the model (both protocol eras, both vendors); without the capability, form_url as before."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from mcp.client import ClientRequestContext
from mcp.types import ElicitRequestParams, ElicitRequestURLParams, ElicitResult

from integrations_mcp.pipeline.confirm import ConfirmationPolicy
from integrations_mcp.secure_forms.scripted_person import BROWSER_NAVIGATION, fill_secure_form
from tests.pipeline.test_person_decides import World, ok, session

pytestmark = pytest.mark.anyio

DESK = {"endpointPrefix": "https://desk.example.invalid/api/v2/", "username": "a@example.invalid"}


def person(world: World, action: str = "accept", seen: list[str] | None = None):  # noqa: ANN201
    """A client that shows the person the URL; the person opens it, fills the form, and the client answers."""

    async def on_elicit(ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        assert isinstance(params, ElicitRequestURLParams)
        if seen is not None:
            seen.append(params.url)
        if action == "accept":
            form_id = params.url.rstrip("/").rsplit("/", 1)[1]
            if form_id in world.revcent.secure_forms:
                site = world.revcent.form_site(world.revcent.secure_forms[form_id])
                world.revcent.complete_secure_form(form_id, {f["id"]: f"typed-{f['id']}"
                                                             for f in site["third_party_credentials"]["fields"]})
            else:
                await fill_secure_form(params.url, {"password": "typed-in-browser"})
        return ElicitResult(action=action)

    return on_elicit


def no_url(result: dict[str, Any], seen: list[str]) -> None:
    assert result["form_url"] is None
    assert all(url not in str(result) for url in seen)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_revcent_form_opened_by_the_client_then_create_in_two_calls(mode: str) -> None:
    world = World()
    seen: list[str] = []
    async with session(world, ConfirmationPolicy.PERSON, mode=mode, elicitation_callback=person(world, seen=seen)) as c:
        site_id = world.revcent.site_id("tax")
        form = await ok(c, "CreateSecureForm", {"site_third_party_integration_id": site_id})
        assert form["completed"] is True and len(seen) == 1
        no_url(form, seen)
        created = await ok(c, "CreateUserThirdPartyIntegration", {
            "name": "Tax", "site_third_party_integration": site_id, "secure_form_id": form["secure_form_id"]})
        assert created["verified"]["readiness"]["credentials_saved"] is True


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_cxengage_form_opened_by_the_client_then_create(mode: str) -> None:
    world = World()
    seen: list[str] = []
    async with session(world, ConfirmationPolicy.PERSON, mode=mode, elicitation_callback=person(world, seen=seen)) as c:
        form = await ok(c, "CreateCxEngageSecureForm", {"type": "zendesk", "destination": DESK})
        assert "saved the form" in form["next_step"] and len(seen) == 1
        no_url(form, seen)
        created = await ok(c, "CreateCxEngageIntegration", {
            "name": "Desk", "type": "zendesk", "secure_form_id": form["secure_form_id"], "properties": DESK})
        assert created["mismatches"] == []


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_person_declines_to_open_it(mode: str) -> None:
    world = World()
    async with session(world, ConfirmationPolicy.PERSON, mode=mode,
                       elicitation_callback=person(world, action="decline")) as c:
        form = await ok(c, "CreateSecureForm", {"site_third_party_integration_id": world.revcent.site_id("tax")})
        assert form["completed"] is False and form["form_url"] is None and "declined" in form["next_step"]


async def test_a_client_without_elicitation_gets_form_url_to_hand_over() -> None:
    world = World()
    async with session(world, ConfirmationPolicy.PERSON) as c:
        form = await ok(c, "CreateSecureForm", {"site_third_party_integration_id": world.revcent.site_id("tax")})
        assert form["form_url"] and form["completed"] is False and "never open it yourself" in form["next_step"]
        cx = await ok(c, "CreateCxEngageSecureForm", {"type": "zendesk", "destination": DESK})
        assert cx["form_url"]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
@pytest.mark.parametrize("vendor", ["revcent", "cxengage"])
async def test_after_a_declined_hand_off_nothing_the_model_holds_opens_the_page(mode: str, vendor: str) -> None:
    """Issue 18: the person declined to open the form; an agent with a shell tries the page with what it was given.
    secure_form_id is a handle, not the page's address (nor RevCent's id), and no page id reached the model."""
    world = World()
    seen: list[str] = []
    async with session(world, ConfirmationPolicy.PERSON, mode=mode,
                       elicitation_callback=person(world, action="decline", seen=seen)) as c:
        if vendor == "revcent":
            form = await ok(c, "CreateSecureForm", {"site_third_party_integration_id": world.revcent.site_id("tax")})
        else:
            form = await ok(c, "CreateCxEngageSecureForm", {"type": "zendesk", "destination": DESK})
        page = seen[0]
        page_id = page.rstrip("/").rsplit("/", 1)[1]
        assert page_id not in str(form) and form["form_url"] is None
        handle = form["secure_form_id"]
        guessed = page[: -len(page_id)] + handle
        if vendor == "revcent":
            async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=world.revcent.app)) as http:
                opened = await http.get(guessed)
        else:
            async with httpx2.AsyncClient(timeout=10) as http:
                opened = await http.get(guessed, headers=BROWSER_NAVIGATION)
        assert opened.status_code == 404, opened.text
        assert handle not in (world.revcent.secure_forms if vendor == "revcent" else {})
