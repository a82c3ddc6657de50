"""The gate in front of a decision on a page: which sign-in methods a page offers, who sent a POST, and whether
the policy lets them decide. Pages with no methods configured (stdio, the sandbox, the default) are not gated."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

from starlette.requests import Request
from starlette.routing import Route

from integrations_mcp.approvals.kinds import ChangeKind
from integrations_mcp.pages.signin import Approver, PagePart, PublicOrigin, SignIn
from integrations_mcp.pages.signin.policy import ApproverPolicy, Decision

__all__ = ["NOT_SIGNED_IN", "Gate", "Verdict"]

NOT_SIGNED_IN = ("Your decision was not counted because you are not signed in. Sign in below, then press Approve or "
                 "Reject again.")


@dataclass(frozen=True)
class Verdict:
    """What the gate says about one POST: who sent it (None: nobody proved it) and whether they may decide."""

    approver: Approver | None
    decision: Decision

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    @property
    def how(self) -> str:
        """The journal's words for how the decision was made ("" when nobody signed in)."""
        return f"signed in ({self.approver.method})" if self.approver else ""


class Gate:
    def __init__(self, methods: Sequence[SignIn] = (), policy: ApproverPolicy | None = None) -> None:
        self.methods, self.policy = tuple(methods), policy or ApproverPolicy()

    def __repr__(self) -> str:
        return f"Gate(methods={[m.method for m in self.methods]})"

    @property
    def required(self) -> bool:
        """A decision counts only from a person who signed in."""
        return bool(self.methods)

    def routes(self, path_prefix: str, public_origin: PublicOrigin) -> list[Route]:
        return [route for method in self.methods for route in method.routes(path_prefix, public_origin)]

    async def parts(self, request: Request, *, purpose: str, return_to: str) -> list[PagePart]:
        return [await m.page_part(request, purpose=purpose, return_to=return_to) for m in self.methods]

    async def check(self, request: Request, fields: Mapping[str, str], *, purpose: str, requester: str,
                    kinds: Iterable[ChangeKind]) -> Verdict:
        """Ask each method who sent this POST (the first that knows wins), then the policy."""
        for method in self.methods:
            approver = await method.approver(request, fields, purpose=purpose)
            if approver is not None:
                return Verdict(approver, self.policy.decide(approver, requester=requester, kinds=kinds))
        return Verdict(None, Decision(False, NOT_SIGNED_IN))


def needs_sign_in(parts: Iterable[PagePart]) -> bool:
    """Whether the page should ask the person to sign in: a method is offered and none says they already are."""
    parts = list(parts)
    return bool(parts) and not any(part.signed_in for part in parts)


def parts_html(parts: Iterable[PagePart]) -> str:
    """The methods' parts, one after the other, for inside the page's form."""
    return "".join(part.html for part in parts)


def script_tags(parts: Iterable[PagePart]) -> str:
    """The scripts the parts need, each once, from the pages' own origin."""
    sources = dict.fromkeys(s for part in parts for s in part.scripts)
    return "".join(f'<script src="{escape(s)}" defer></script>' for s in sources)
