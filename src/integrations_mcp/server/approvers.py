"""The operator's `integrations-mcp approvers` command: one-time passkey enrolment links, the enrolled passkeys, and
their removal (docs/operations.md).

Where an enrolment link is served:
- HTTP transport (INTEGRATIONS_TRANSPORT=http in the command's environment): by the running server's page routes,
  at its public address (INTEGRATIONS_PUBLIC_URL, else its listener named `localhost`). The command only writes the
  link into the shared state database and prints it.
- stdio: a stdio server's page listener lives only while a client runs it, on a port of its own, so the command
  serves the enrolment page itself (the page listener's settings: INTEGRATIONS_FORMS_HOST/_PORT/PUBLIC_URL) until
  the person has enrolled or the link expires. If that fixed port is taken (a running server's listener), the link
  at that port is printed: the server serves it when its pages use passkeys.
Either way the command must see the server's INTEGRATIONS_STATE_URL and INTEGRATIONS_STATE_KEY.
"""

from __future__ import annotations

import json
import sys
import time
import unicodedata
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

import anyio

from integrations_mcp.errors import ConfigurationError
from integrations_mcp.pages.listener import PageListenerUnavailable, PageServer, as_localhost
from integrations_mcp.pages.origin import origin_of
from integrations_mcp.pages.signin.passkey import PasskeySignIn
from integrations_mcp.pages.signin.relying_party import relying_party

if TYPE_CHECKING:
    from integrations_mcp.server.settings import Settings

__all__ = ["enrol", "list_passkeys", "remove", "signin_for"]

MAX_NAME = 200
MAX_MINUTES = 7 * 24 * 60


def signin_for(settings: Settings) -> PasskeySignIn:
    from integrations_mcp.state import StateStore

    if settings.state_url.startswith("sqlite") and ":memory:" in settings.state_url:
        raise ConfigurationError("INTEGRATIONS_STATE_URL is in memory: a passkey enrolled here would be gone for the "
                                 "server. Point it at the server's state database (the default file, or its "
                                 "PostgreSQL URL with the same INTEGRATIONS_STATE_KEY).")
    return PasskeySignIn.over(StateStore(settings.state_url), settings.state_key)


def checked_label(value: str | None, what: str) -> str | None:
    """A subject or display name as the operator typed it: trimmed, visible characters, bounded."""
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > MAX_NAME or any(unicodedata.category(c)[0] == "C" for c in value):
        raise ConfigurationError(f"--{what} must be 1 to {MAX_NAME} visible characters (no control characters).")
    return value


def http_origin(settings: Settings) -> str:
    """Where people open the HTTP server's pages, named so that passkeys work there."""
    from integrations_mcp.server.auth.setup import base_url

    return origin_of(as_localhost(base_url(settings)))


def _needs_secure(origin: str) -> None:
    if relying_party(origin) is None:
        raise ConfigurationError(f"Passkeys need the pages at an https:// address or at http://localhost, not "
                                 f"{origin}: set INTEGRATIONS_PUBLIC_URL to the https:// address people open (behind "
                                 "your proxy), or keep the pages on this machine.")


def enrol(settings: Settings, *, subject: str, name: str | None, approver: bool, minutes: float,
          serve: bool | None, out: TextIO | None = None) -> int:
    """Create a one-time link and print it; under stdio (or `serve`), serve it until used or expired."""
    out = out or sys.stdout
    subject = checked_label(subject, "subject") or ""
    name = checked_label(name, "name") or subject
    if not 0 < minutes <= MAX_MINUTES:
        raise ConfigurationError(f"--minutes must be more than 0 and at most {MAX_MINUTES} (a week).")
    signin = signin_for(settings)
    roles = frozenset({settings.approver_role}) if approver else frozenset()  # INTEGRATIONS_APPROVER_ROLE
    serve = settings.transport != "http" if serve is None else serve
    if not serve:
        _needs_secure(http_origin(settings))

    async def create() -> str:
        try:
            return await signin.store.create_enrolment(subject=subject, name=name, roles=roles, seconds=minutes * 60)
        finally:
            await signin.store.state.close()

    token = anyio.run(create)
    if "passkey" not in settings.signin:
        print("integrations-mcp: note: INTEGRATIONS_SIGNIN does not include passkey here, so a server with these "
              "settings serves no enrolment page and asks for no passkey: set it on the server (and here).",
              file=sys.stderr)
    what = f"{name} ({subject}{', approver' if approver else ''})"
    if not serve:
        link = f"{http_origin(settings)}{signin.enrol_path(token)}"
        print(f"Enrolment link for {what}, valid once for {minutes:g} minutes; the running server serves it:\n"
              f"  {link}\nSend it to the person by a channel you trust; whoever opens it first enrols.", file=out)
        return 0
    return _serve(settings, signin, token, what, minutes, out)


def _serve(settings: Settings, signin: PasskeySignIn, token: str, what: str, minutes: float, out: TextIO) -> int:
    """The page runs in the listener's thread (its own event loop and database connections); this thread waits
    for the link to be used, over connections of its own."""
    pages = PageServer(host=settings.forms_host, port=settings.forms_port, public_url=settings.public_url,
                       allowed_hosts=settings.allowed_hosts, localhost_links=True)
    pages.add_pages(signin.routes)
    try:
        base = pages.start_listening()
    except PageListenerUnavailable:
        if not settings.forms_port:
            raise
        base = settings.public_url or f"http://localhost:{settings.forms_port}"
        print(f"Port {settings.forms_port} is taken (a running server's page listener?). Enrolment link for {what}, "
              f"valid once for {minutes:g} minutes:\n  {base}{signin.enrol_path(token)}\nIt works while a server "
              "whose pages use passkeys listens there; otherwise stop it and run this command again.", file=out)
        return 0
    try:
        _needs_secure(origin_of(base))
        link = f"{base}{signin.enrol_path(token)}"
        print(f"Enrolment link for {what}, valid once for {minutes:g} minutes:\n  {link}\nOpen it on the device that "
              "will hold the passkey (this command serves the page until the person has enrolled; Ctrl-C stops it).",
              file=out, flush=True)
        return anyio.run(_wait, signin_for(settings), token, out)
    except KeyboardInterrupt:
        print("Stopped: the link no longer works while nothing serves it (run this command again).", file=out)
        return 130
    finally:
        pages.close()


async def _wait(signin: PasskeySignIn, token: str, out: TextIO) -> int:
    try:
        while True:
            enrolment = await signin.store.enrolment(token)
            if enrolment is None:
                print("The link was removed (approvers remove).", file=out)
                return 1
            if enrolment.used:
                print(f"Passkey saved for {enrolment.name} ({enrolment.subject}).", file=out)
                return 0
            if time.time() >= enrolment.expires_at:
                print("The link expired before anyone enrolled: run this command again for a new one.", file=out)
                return 1
            await anyio.sleep(0.5)
    finally:
        await signin.store.state.close()


def _when(at: float | None) -> str:
    return "-" if at is None else datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def list_passkeys(settings: Settings, *, as_json: bool, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    signin = signin_for(settings)

    async def read() -> tuple[list, list]:
        try:
            return await signin.store.credentials(), await signin.store.pending_enrolments()
        finally:
            await signin.store.state.close()

    credentials, links = anyio.run(read)
    if as_json:
        print(json.dumps({
            "passkeys": [{"subject": c.subject, "name": c.name, "roles": sorted(c.roles), "rp_id": c.rp_id,
                          "credential": c.id, "created_at": c.created_at, "last_used_at": c.last_used_at}
                         for c in credentials],
            "pending_links": [{"subject": e.subject, "name": e.name, "roles": sorted(e.roles),
                               "expires_at": e.expires_at} for e in links]}, indent=2), file=out)
        return 0
    if not credentials and not links:
        print("No passkeys enrolled and no enrolment link pending (integrations-mcp approvers enrol --subject ...).",
              file=out)
        return 0
    for c in credentials:
        print(f"{c.subject}  {c.name!r}  roles: {', '.join(sorted(c.roles)) or '-'}  for {c.rp_id}  enrolled "
              f"{_when(c.created_at)}  last used {_when(c.last_used_at)}  credential {c.id[:12]}…", file=out)
    for e in links:
        print(f"{e.subject}  {e.name!r}  enrolment link pending until {_when(e.expires_at)}", file=out)
    return 0


def remove(settings: Settings, *, subject: str | None, credential: str | None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    if credential is not None and len(credential.rstrip("…").strip()) < 8:
        raise ConfigurationError("--credential needs at least its first 8 characters, as `approvers list` shows.")
    if (subject is None) == (credential is None):
        raise ConfigurationError("Give --subject (all of that person's passkeys and pending links) or --credential "
                                 "(one passkey, as `approvers list --json` shows it).")
    signin = signin_for(settings)

    async def delete() -> int:
        try:
            if credential is not None:
                matches = [c.id for c in await signin.store.credentials() if c.id.startswith(credential.rstrip("…"))]
                if len(matches) != 1:
                    return -len(matches)
                return await signin.store.remove(credential_id=matches[0])
            return await signin.store.remove(subject=checked_label(subject, "subject"))
        finally:
            await signin.store.state.close()

    removed = anyio.run(delete)
    if removed < 0:
        print(f"integrations-mcp: --credential {credential!r} matches {-removed} passkeys: give more of it.",
              file=sys.stderr)
        return 1
    print(f"Removed {removed} passkey(s){'' if credential else ' and any pending enrolment link'}.", file=out)
    return 0 if removed or subject else 1
