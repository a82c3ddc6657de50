"""Approvals: what the person agreed to, bound to the exact change.

- `store`: one approval per planned change (tool, target, the fields before → after, and a digest of the saved
  state it was computed from); single use, expiring, owned by the session that asked.
- `page`: the one-time page where the person sees the change and approves or rejects it, for clients that cannot
  ask the person themselves (no elicitation).
"""
