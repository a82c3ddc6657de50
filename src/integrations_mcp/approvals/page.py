"""The one-time page where the person approves or rejects one planned change.

Served with the other pages (`pages/`: same listener, guard, shell and POST rule), with its own texts: GET shows
what will change and what it affects; POST records the person's decision. Nothing here writes to a vendor: the
agent's retry does, and only if the change is still exactly the one approved.

Where the deployment makes approvers sign in (`pages.signin`: a `Gate` with methods), GET shows each method's part
of the page, and a POST counts only from a person a method vouches for, whom the approver policy lets decide this
change; the approval then records who decided.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from integrations_mcp.approvals.question import Question
from integrations_mcp.approvals.store import Approval, ApprovalState, ApprovalStore
from integrations_mcp.pages.post import PostRefused, read_own_post
from integrations_mcp.pages.shell import document, message
from integrations_mcp.pages.signin import PagePart
from integrations_mcp.pages.signin.gate import Gate, needs_sign_in, parts_html, script_tags

__all__ = ["CSRF_FIELD", "approval_routes"]

log = logging.getLogger(__name__)

CSRF_FIELD = "_csrf"
MAX_BODY_BYTES = 4096
MAX_FIELDS = 10
GONE = ("There is no pending approval at this address: it was already decided, used or has expired. Ask your "
        "assistant to make the change again; it will give you a new link.")
CROSS_SITE = ("This decision was not sent from the approval page itself, so it was not counted. Open the link your "
              "assistant gave you in this browser and press Approve or Reject there.")
STALE = ("This page is out of date, so the decision was not counted. Reload the page, check the change again and "
         "press Approve or Reject.")
POST_REFUSED = {PostRefused.CROSS_SITE: CROSS_SITE, PostRefused.TOO_LARGE: STALE, PostRefused.ENCODING: STALE,
                PostRefused.UNREADABLE: STALE}
SIGN_IN_FIRST = "Sign in below before you decide: only a person who signed in can approve or reject this change."


def _page(approval: Approval, parts: list[PagePart], *, alert: str = "", status: int = 200) -> HTMLResponse:
    asked = Question.from_json(approval.summary)
    changes = "".join(f"<li>{escape(line)}</li>" for line in asked.changes)
    means = "".join(f"<p>{escape(line)}</p>" for line in asked.consequences)
    body = (f"<h1>{escape(asked.title)}</h1>"
            + (f'<p role="alert">{escape(alert)}</p>' if alert else "")
            + "<p>Your assistant asks for your approval before it makes this change.</p>"
            f'<h2>What changes</h2><ul class="change">{changes}</ul>'
            + (f"<h2>What this means</h2>{means}" if means else "")
            + "<p>Nothing is written unless you approve. If the saved values change before your assistant makes "
            "the change, this approval no longer counts and you will be asked again.</p>"
            + (f"<p>{SIGN_IN_FIRST}</p>" if needs_sign_in(parts) else "")
            + '<form method="post">'
            f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(approval.csrf_token)}">'
            + parts_html(parts)
            + '<button type="submit" name="decision" value="approve">Approve</button>'
            '<button type="submit" name="decision" value="reject">Reject</button></form>'
            + script_tags(parts))
    return document("Approve a change", body, status)


class _Page:
    def __init__(self, store: ApprovalStore, public_origin: Callable[[], str | None], gate: Gate) -> None:
        self.store, self.public_origin, self.gate = store, public_origin, gate

    async def _parts(self, request: Request, approval: Approval) -> list[PagePart]:
        return await self.gate.parts(request, purpose=self.store.purpose(approval.id), return_to=request.url.path)

    async def show(self, request: Request) -> Response:
        approval = await self.store.lookup(request.path_params["page_id"])
        if approval is None or approval.state != ApprovalState.PENDING:
            return message("No pending approval", GONE, 404)
        return _page(approval, await self._parts(request, approval))

    async def decide(self, request: Request) -> Response:
        try:
            fields = await read_own_post(request, self.public_origin, max_bytes=MAX_BODY_BYTES,
                                         max_fields=MAX_FIELDS)
        except PostRefused as refused:
            log.warning("approval page: decision refused (%s)", refused.reason)
            return message("Not counted", POST_REFUSED[refused.reason], refused.status, alert=True)
        decision = fields.get("decision")
        if decision not in ("approve", "reject"):
            return message("Not counted", STALE, 400, alert=True)
        page_id = request.path_params["page_id"]
        approval = await self.store.lookup(page_id)
        if approval is None:
            return message("No pending approval", GONE, 404)
        by = how = None
        if self.gate.required:
            verdict = await self.gate.check(request, fields, purpose=self.store.purpose(approval.id),
                                            requester=approval.requested_by, kinds=approval.kinds)
            if not verdict.allowed:
                log.warning("approval %s…: decision not counted (%s)", approval.id[:6],
                            "not signed in" if verdict.approver is None else "the approver policy refused")
                return _page(approval, await self._parts(request, approval), alert=verdict.decision.why,
                             status=401 if verdict.approver is None else 403)
            assert verdict.approver is not None
            by, how = verdict.approver.subject, verdict.how
        decided = await self.store.decide(page_id, fields.get(CSRF_FIELD, ""), decision == "approve", by=by,
                                          how=how)
        if decided is None:
            return message("Not counted", STALE + " If you already decided, return to your assistant.", 403,
                           alert=True)
        log.info("approval %s…: %s by the person%s", approval.id[:6], decided.state, f" ({how})" if how else "")
        if decided.state == ApprovalState.APPROVED:
            return message("Approved — return to your assistant",
                           "Tell your assistant you approved; it can now make exactly this change. You can close "
                           "this page.", 200)
        return message("Rejected — nothing was changed",
                       "Tell your assistant you rejected the change. You can close this page.", 200)


def approval_routes(store: ApprovalStore, path_prefix: str, public_origin: Callable[[], str | None] = lambda: None,
                    gate: Gate | None = None) -> list[Route]:
    """`GET`/`POST {path_prefix}/approvals/{page_id}` (the page's own id, never the agent's approval id); `gate`: the
    sign-in approvers need (none by default)."""
    page = _Page(store, public_origin, gate or Gate())
    path = f"/{path_prefix.strip('/')}/approvals/{{page_id}}"
    return [Route(path, page.show, methods=["GET"]), Route(path, page.decide, methods=["POST"])]
