"""The in-memory store of the one-time secure forms integrations-mcp serves itself: ids, expiry, the owner and
purpose a form is bound to, one use. A canary secret must never come back in an error or a repr."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from integrations_mcp.errors import GuardrailError
from integrations_mcp.secure_forms.store import FormField, FormState, SecureFormError, SecureFormStore
from tests.harness import CLOCK_START as START
from tests.harness import FakeClock
from tests.secure_forms.helpers import CANARY, OWNER, PURPOSE, fill, new_form


def refusal(reason: str, *needles: str):
    """Context manager: a SecureFormError with this reason whose message names every needle."""
    return _Refusal(reason, needles)


class _Refusal:
    def __init__(self, reason: str, needles: tuple[str, ...]) -> None:
        self.reason, self.needles = reason, needles
        self.error: SecureFormError | None = None

    def __enter__(self) -> _Refusal:
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> bool:
        assert isinstance(exc, SecureFormError), f"expected SecureFormError({self.reason}), got {exc!r}"
        assert exc.reason == self.reason, (exc.reason, str(exc))
        for needle in self.needles:
            assert needle in str(exc), f"{needle!r} not in {exc}"
        assert CANARY not in str(exc) and CANARY not in repr(exc.details)
        self.error = exc
        return True


def test_create_gives_unguessable_id_csrf_and_one_hour_expiry(store: SecureFormStore) -> None:
    forms = [new_form(store) for _ in range(20)]
    ids = {f.id for f in forms}
    assert len(ids) == 20 and all(len(i) >= 32 for i in ids)
    assert len({f.csrf_token for f in forms}) == 20 and all(len(f.csrf_token) >= 32 for f in forms)
    form = forms[0]
    assert form.expires_at == int(START) + 3600
    assert form.purpose == PURPOSE and [f.id for f in form.fields] == ["password", "token", "securityToken"]
    assert form.csrf_token not in repr(form) and OWNER not in repr(form)


def test_create_rejects_bad_field_definitions(store: SecureFormStore) -> None:
    for fields in ([], [FormField("_csrf", "x")], [FormField("a b", "x")],
                   [FormField("password", "A"), FormField("password", "B")], [FormField("password", " ")]):
        with pytest.raises(ValueError):
            new_form(store, fields=fields)
    with pytest.raises(ValueError):
        new_form(store, owner="")


def test_status_reports_fields_filled_never_values(store: SecureFormStore) -> None:
    form = new_form(store)
    status = store.status(form.id, owner=OWNER)
    assert (status.completed, status.used, status.filled_fields) == (False, False, [])
    assert status.fields == ["password", "token", "securityToken"]
    assert status.required_fields == ["password", "token"]
    assert status.expires_at == form.expires_at and status.purpose == PURPOSE
    fill(store, form)
    status = store.status(form.id, owner=OWNER)
    assert status.completed and status.filled_fields == ["password", "token"]
    assert CANARY not in status.model_dump_json() and CANARY not in repr(status)


def test_take_is_one_time(store: SecureFormStore) -> None:
    form = new_form(store)
    fill(store, form)
    assert store.take(form.id, owner=OWNER, purpose=dict(PURPOSE)) == {"password": CANARY, "token": "tok-1"}
    with refusal(SecureFormError.USED, "already used", "CreateCxEngageSecureForm"):
        store.take(form.id, owner=OWNER, purpose=PURPOSE)
    status = store.status(form.id, owner=OWNER)
    assert status.used and status.completed
    assert store.lookup(form.page_id).state == FormState.USED


def test_take_before_completion_is_refused_and_says_what_to_do(store: SecureFormStore) -> None:
    form = new_form(store)
    with refusal(SecureFormError.NOT_COMPLETED, "not saved", "Zendesk password", "API token", "Save"):
        store.take(form.id, owner=OWNER, purpose=PURPOSE)
    fill(store, form)
    assert store.take(form.id, owner=OWNER, purpose=PURPOSE)["password"] == CANARY


def test_another_sessions_form_looks_exactly_like_an_unknown_one(store: SecureFormStore) -> None:
    form = new_form(store)
    fill(store, form)
    with refusal(SecureFormError.NOT_FOUND, "SecureForm tool") as unknown:
        store.status("no-such-form", owner=OWNER)
    with refusal(SecureFormError.NOT_FOUND) as foreign_status:
        store.status(form.id, owner="session-b")
    with refusal(SecureFormError.NOT_FOUND) as foreign_take:
        store.take(form.id, owner="session-b", purpose=PURPOSE)
    assert unknown.error and foreign_status.error and foreign_take.error
    assert str(foreign_status.error) == str(unknown.error) == str(foreign_take.error)
    assert foreign_status.error.details == unknown.error.details == foreign_take.error.details
    # ...and the failed attempt did not spend the form
    assert store.take(form.id, owner=OWNER, purpose=PURPOSE) == {"password": CANARY, "token": "tok-1"}


def test_purpose_mismatch_names_the_key_and_does_not_spend_the_form(store: SecureFormStore) -> None:
    form = new_form(store)
    fill(store, form)
    with refusal(SecureFormError.PURPOSE_MISMATCH, "made for type zendesk, not salesforce") as r:
        store.take(form.id, owner=OWNER, purpose=PURPOSE | {"type": "salesforce"})
    assert r.error and r.error.details["key"] == "type"
    with refusal(SecureFormError.PURPOSE_MISMATCH, "integration_id (none), not i-42"):
        store.take(form.id, owner=OWNER, purpose=PURPOSE | {"integration_id": "i-42"})
    with refusal(SecureFormError.PURPOSE_MISMATCH, "tenant_id"):
        store.take(form.id, owner=OWNER, purpose={k: v for k, v in PURPOSE.items() if k != "tenant_id"})
    assert store.take(form.id, owner=OWNER, purpose=PURPOSE)["token"] == "tok-1"


def test_expiry_drops_values_then_forgets_the_form(store: SecureFormStore, clock: FakeClock) -> None:
    form = new_form(store)
    fill(store, form)
    clock.now = START + 3599
    assert store.status(form.id, owner=OWNER).completed
    clock.now = START + 3600
    with refusal(SecureFormError.EXPIRED, "expired", "CreateCxEngageSecureForm"):
        store.take(form.id, owner=OWNER, purpose=PURPOSE)
    with refusal(SecureFormError.EXPIRED):
        store.status(form.id, owner=OWNER)
    with refusal(SecureFormError.EXPIRED):
        store.lookup(form.page_id)
    with refusal(SecureFormError.EXPIRED):
        fill(store, form)
    assert store._records.get(form.id).values is None  # the values themselves are gone
    clock.now = START + 2 * 3600
    assert store.sweep() == 1 and len(store) == 0
    with refusal(SecureFormError.NOT_FOUND):
        store.lookup(form.page_id)


def test_submit_checks_csrf_required_and_unknown_fields_and_stores_nothing_on_refusal(store: SecureFormStore) -> None:
    form = new_form(store)
    with refusal(SecureFormError.CSRF, "security check"):
        store.submit(form.page_id, "forged", {"password": CANARY, "token": "t"})
    with refusal(SecureFormError.MISSING_FIELDS, "API token") as r:
        store.submit(form.page_id, form.csrf_token, {"password": CANARY, "token": "   "})
    assert r.error and r.error.details["fields"] == ["token"]
    with refusal(SecureFormError.MISSING_FIELDS, "Zendesk password", "API token"):
        store.submit(form.page_id, form.csrf_token, {})
    with refusal(SecureFormError.UNKNOWN_FIELDS):
        store.submit(form.page_id, form.csrf_token, {"password": CANARY, "token": "t", "apiKey": "x"})
    with refusal(SecureFormError.TOO_LONG, "Zendesk password"):
        store.submit(form.page_id, form.csrf_token, {"password": "x" * 10_000, "token": "t"})
    with refusal(SecureFormError.NOT_FOUND):
        store.submit("nope", form.csrf_token, {})
    assert not store.status(form.id, owner=OWNER).completed


def test_blank_optional_fields_are_left_out_and_completed_forms_cannot_be_modified(store: SecureFormStore) -> None:
    form = new_form(store)
    store.submit(form.page_id, form.csrf_token, {"password": CANARY, "token": "tok-1", "securityToken": ""})
    with refusal(SecureFormError.COMPLETED, "already completed"):
        store.submit(form.page_id, form.csrf_token, {"password": "overwrite", "token": "overwrite"})
    assert store.take(form.id, owner=OWNER, purpose=PURPOSE) == {"password": CANARY, "token": "tok-1"}
    with refusal(SecureFormError.COMPLETED):
        store.submit(form.page_id, form.csrf_token, {"password": "again", "token": "again"})


def test_errors_are_guardrail_errors(store: SecureFormStore) -> None:
    with pytest.raises(GuardrailError) as info:
        store.status("nope", owner=OWNER)
    assert info.value.details["reason"] == "not_found"


def test_reprs_never_include_values(store: SecureFormStore) -> None:
    form = new_form(store)
    fill(store, form)
    for text in (repr(store), repr(store._records._entries), repr(form), repr(store.lookup(form.page_id)),
                 repr(store.status(form.id, owner=OWNER))):
        assert CANARY not in text


def test_concurrent_submits_store_exactly_one(store: SecureFormStore) -> None:
    form = new_form(store)
    outcomes: list[str] = []
    barrier = threading.Barrier(16)

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            store.submit(form.page_id, form.csrf_token, {"password": f"p{n}", "token": f"t{n}"})
            outcomes.append(f"ok{n}")
        except SecureFormError as exc:
            outcomes.append(exc.reason)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if o.startswith("ok")]
    assert len(winners) == 1 and outcomes.count("completed") == 15
    n = winners[0][2:]
    assert store.take(form.id, owner=OWNER, purpose=PURPOSE) == {"password": f"p{n}", "token": f"t{n}"}
