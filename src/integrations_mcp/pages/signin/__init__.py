"""Who the person on a page is: approvers sign in before their decision counts (issue 18, item 4).

The contract between the pages (approval and secure form pages: `approvals.page`, `secure_forms.page`) and the ways
a person proves who they are (`SignIn` methods: OpenID Connect at the deployment's issuer, passkeys). A page that
needs a person asks each configured method for its part of the page (a sign-in link, a passkey button) and, on
POST, asks the methods who sent it; `ApproverPolicy` (`pages.signin.policy`) then says whether that person may
make this decision. Nothing here knows a vendor.

Everything a method proves is bound to a `purpose`: a string naming the one decision at stake (for an approval,
`approval:<keyed hash of its id>`), so a proof made for one decision cannot be replayed on another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from starlette.requests import Request
from starlette.routing import Route

__all__ = ["Approver", "PagePart", "PublicOrigin", "SignIn"]

PublicOrigin = Callable[[], str | None]
"""The origin people open the pages at (None: the request's own)."""


@dataclass(frozen=True)
class Approver:
    """A person who proved who they are on a page."""

    subject: str  # stable: the issuer's `sub` (as the requesting principal is named under OAuth), or the principal
    #               a passkey was enrolled for (a static token's name; `os:<user>` under stdio)
    method: str  # "oidc" | "passkey"
    name: str  # what a person reads: a display name or e-mail, else the subject
    roles: frozenset[str] = field(default_factory=frozenset)  # e.g. the approver role/scope, as the issuer or the
    #                                                           enrolment granted it


@dataclass(frozen=True)
class PagePart:
    """What a method adds to a page that needs a person: HTML for the form (inside `<form>`), and scripts the page
    must load from the pages' own origin (the pages' CSP allows `'self'` scripts only). Fields it adds to the form are
    named with a leading `_` (no secure form field id starts with one: the form page drops them)."""

    html: str
    scripts: tuple[str, ...] = ()
    signed_in: bool = False  # the person already proved who they are (the page then drops its "sign in" hint)


class SignIn(Protocol):
    """One way a person proves who they are on the pages."""

    method: str  # "oidc" | "passkey"

    def routes(self, path_prefix: str, public_origin: PublicOrigin) -> list[Route]:
        """Its own pages and endpoints, all under `{path_prefix}/signin/{method}/`."""
        ...

    async def page_part(self, request: Request, *, purpose: str, return_to: str) -> PagePart:
        """What the page shows so the person can prove who they are for `purpose`; `return_to` is the page's own
        path (a same-origin path, never a full URL), where a redirecting method brings the person back."""
        ...

    async def approver(self, request: Request, fields: Mapping[str, str], *, purpose: str) -> Approver | None:
        """Who sent this POST (its form `fields`, already read by `pages.post.read_own_post`) for `purpose`: the
        signed-in session (OIDC) or a fresh assertion bound to `purpose` (passkey). None: nobody proved it."""
        ...
