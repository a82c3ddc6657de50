"""Who may make a decision on a page, once a person proved who they are (`Approver`): the person whose call asked
for the change, or someone holding the approver role; for the kinds of change the operator lists
(INTEGRATIONS_SEPARATE_APPROVER), never the person who asked (separation of duties)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from integrations_mcp.approvals.kinds import DEFAULT_APPROVER_ROLE, ChangeKind
from integrations_mcp.pages.signin import Approver

__all__ = ["DEFAULT_APPROVER_ROLE", "ApproverPolicy", "Decision"]


KIND_WORDS = {ChangeKind.DISABLE: "turning an integration off", ChangeKind.ENABLE: "putting an integration in use",
              ChangeKind.CREDENTIALS: "replacing saved credentials", ChangeKind.OVERWRITE: "replacing saved values",
              ChangeKind.REVERT: "undoing an earlier change", ChangeKind.FORM: "entering secrets"}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    why: str = ""  # for the person, when refused: who may decide and what to do


@dataclass(frozen=True)
class ApproverPolicy:
    role: str = DEFAULT_APPROVER_ROLE  # a role, group or scope the issuer (or the enrolment) grants
    separate: frozenset[ChangeKind] = frozenset()  # kinds the person who asked may not approve themselves

    def decide(self, approver: Approver, *, requester: str, kinds: Iterable[ChangeKind]) -> Decision:
        """`requester`: the principal whose call asked (`os:<user>`, a token's name, an OAuth subject; "" when not
        known, then only the role decides)."""
        own = bool(requester) and approver.subject == requester
        holds_role = self.role in approver.roles
        separated = sorted(set(kinds) & self.separate)
        if separated and own:
            what = " and ".join(KIND_WORDS[k] for k in separated)
            return Decision(False, f"You asked for this change yourself, and {what} needs a second person: someone "
                                   f"else with the approver role ({self.role}) must approve it. Send them this "
                                   "page's address; they sign in here and decide.")
        if (own and not separated) or holds_role:
            return Decision(True)
        return Decision(False, f"You are signed in as {approver.name}, who may not decide this change: only the "
                               f"person who asked for it or someone with the approver role ({self.role}) may. Sign "
                               "out and sign in as one of them, or send them this page's address.")
