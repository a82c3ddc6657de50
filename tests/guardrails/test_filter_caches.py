"""The texts (and JSON values) the filters let through again without a scan (issue 22): only what was judged free of
secrets, never more than the bound, and never across a change of the known secrets."""

from __future__ import annotations

import json
import uuid

import pydantic_core

from integrations_mcp.guardrails import outputs, secret_values
from integrations_mcp.guardrails.secret_values import mask_secret_values, secret_kinds
from integrations_mcp.guardrails.secrets import REDACTED

TOKEN = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"  # a GitHub token: masked by its look
KEY = "team-key-Zq81mXc4Lp0vB7nR2sT9"  # looks like nothing: masked only once it is a known secret


def test_a_text_that_passed_is_masked_once_its_key_is_known() -> None:
    outputs.forget_configured_secrets()
    try:
        assert outputs.clean_text(KEY) == KEY  # passed, and remembered as passing under no secret
        assert outputs.clean_output({KEY: [KEY]}) == {KEY: [KEY]}
        outputs.remember_configured_secrets((), also=[KEY])
        assert outputs.clean_text(KEY) == REDACTED
        assert outputs.clean_output({KEY: [KEY]}) == {REDACTED: [REDACTED]}
    finally:
        outputs.forget_configured_secrets()


def test_a_secret_is_never_remembered_as_passing() -> None:
    for _ in range(3):
        assert outputs.clean_text(TOKEN) == REDACTED
        assert mask_secret_values(TOKEN, REDACTED, entropy=False) == REDACTED
        assert secret_kinds(TOKEN) == ["GitHub Token"]
    assert TOKEN not in outputs._current.passing
    assert all(TOKEN not in clean for clean in secret_values._CLEAN.values())


def test_the_remembered_texts_stay_within_their_bounds() -> None:
    for n in range(3 * outputs.PASSING_MAX_TEXTS):
        text = f"plain value {n}"
        assert outputs.clean_text(text) == text
        assert secret_kinds(text) == []
        assert len(outputs._current.passing) <= outputs.PASSING_MAX_TEXTS
        assert all(len(clean) <= secret_values.CLEAN_MAX_TEXTS for clean in secret_values._CLEAN.values())
    long = "a plain sentence, longer than the texts remembered, " * 3
    assert len(long) > outputs.PASSING_MAX_CHARS and outputs.clean_text(long) == long
    assert long not in outputs._current.passing


def test_each_set_of_rules_remembers_its_own_texts() -> None:
    hex_token = "9f86d081884c7d659a2feaa0c55ad015"  # 32 hex: a secret only where credentials belong
    assert secret_kinds(hex_token, entropy=False) == []
    assert secret_kinds(hex_token, entropy=False, hex_tokens=True) == ["hex token"]
    assert secret_kinds(hex_token, entropy=False) == []
    random_token = "Xq7Lm2Pz9Rt4Vw8Ks3Nb6Jd1"
    assert mask_secret_values(random_token, REDACTED, entropy=False) == random_token
    assert mask_secret_values(random_token, REDACTED, entropy=True) == REDACTED


def test_a_text_clean_under_more_rules_is_clean_under_fewer_only() -> None:
    text = "Look-ups for team 7 of the contact centre"  # clean under every set of rules
    assert secret_kinds(text, entropy=True, hex_tokens=True) == []
    assert mask_secret_values(text, REDACTED, entropy=False) == text  # known clean through the stricter set
    hex_token = "0cc175b9c0f1b6a831c399e269772661"  # clean without the hex rule only
    assert secret_kinds(hex_token, entropy=False) == []
    assert secret_kinds(hex_token, entropy=False, hex_tokens=True) == ["hex token"]  # never taken as clean


LONG = "Integration 5a4db0c5 \"Look-ups\" (rest): active; properties {\"endpointPrefix\":\"https://x.example/api/\"}"


def test_a_long_text_that_passed_is_masked_once_its_key_is_known() -> None:
    outputs.forget_configured_secrets()
    text = f"{LONG}; note {KEY}"
    try:
        assert len(text) > outputs.PASSING_MAX_CHARS
        assert outputs.clean_text(text) == text
        assert text in outputs._current.passing_long  # let through again without a scan
        assert outputs.clean_output({"t": text}, as_json=json.dumps({"t": text}).encode()) == {"t": text}
        outputs.remember_configured_secrets((), also=[KEY])
        assert KEY not in outputs.clean_text(text)
        assert KEY not in json.dumps(outputs.clean_output({"t": text}, as_json=json.dumps({"t": text}).encode()))
    finally:
        outputs.forget_configured_secrets()


def test_a_value_passes_by_its_json_only_if_it_was_read_from_that_json() -> None:
    """A value whose strings were not all scanned (a UUID object, an int key, a tuple) is not remembered by its JSON:
    a value with the same JSON, strings in those places, is scanned."""
    secret = "7f3c2a91-5be0-4c1e-9d7a-2f6b8e0c4d13"
    outputs.remember_configured_secrets((), also=[secret])
    try:
        for unscanned, scanned in (({"k": uuid.UUID(secret)}, {"k": secret}),
                                   ({7: "x", "n": [uuid.UUID(secret)]}, {"7": "x", "n": [secret]}),
                                   ({"k": (secret,)}, {"k": [secret]})):
            shape = pydantic_core.to_json(unscanned)
            assert shape == pydantic_core.to_json(scanned)
            assert outputs.clean_output(unscanned, as_json=shape) == unscanned  # not a string: left as it is
            assert shape not in outputs._current.passing_json
            assert secret not in json.dumps(outputs.clean_output(scanned, as_json=shape))
    finally:
        outputs.forget_configured_secrets()


def test_a_value_with_links_to_keep_is_not_remembered() -> None:
    link = "https://forms.example/f/abc?token=Zx9Lk2Qw7Pm4Rt8Vn3Bc"
    value = {"form_url": link}
    shape = json.dumps(value).encode()
    assert outputs.clean_output(value, keep={link}, as_json=shape) == value  # the server's own link, whole
    assert "Zx9Lk2Qw7Pm4Rt8Vn3Bc" not in outputs.clean_output(value, as_json=shape)["form_url"]
    assert shape not in outputs._current.passing_json


def test_the_long_texts_and_values_stay_within_their_bound() -> None:
    for n in range(3 * outputs.PASSING_LONG_CHARS // len(LONG)):
        text = f"{LONG} {n}"
        assert outputs.clean_text(text) == text
        assert outputs.clean_output({"t": text}, as_json=json.dumps({"t": text}).encode()) == {"t": text}
        known = outputs._current
        held = sum(map(len, known.passing_long)) + sum(map(len, known.passing_json))
        assert held == known.long_chars <= outputs.PASSING_LONG_CHARS
    too_long = LONG * (outputs.PASSING_LONG_MAX_CHARS // len(LONG) + 1)
    assert outputs.clean_text(too_long) == too_long and too_long not in outputs._current.passing_long


def test_a_value_is_filtered_by_the_strings_written_in_its_json() -> None:
    """With no backslash in its JSON, a value's strings (keys, nested items, a str subclass) are read from it: all
    clean, the value itself is returned and its JSON remembered; one holding a secret, the walk replaces it. Escaped
    strings (a quote) are left to the walk."""

    class Text(str):
        pass

    outputs.remember_configured_secrets((), also=[KEY])
    try:
        clean = {"a": {"b": ["plain words", Text("more words")]}, "n": 1}
        shape = pydantic_core.to_json(clean)
        assert outputs.clean_output(clean, as_json=shape) is clean and shape in outputs._current.passing_json
        for hidden in ({"a": {"b": ["x", KEY]}}, {KEY: 1}, {"a": [Text(f"see {KEY}")]}, {"q": f'say "{KEY}"'}):
            shape = pydantic_core.to_json(hidden)
            cleaned = outputs.clean_output(hidden, as_json=shape)
            assert KEY not in json.dumps(cleaned) and REDACTED in json.dumps(cleaned)
            assert shape not in outputs._current.passing_json
        hidden = {"a": [KEY, "caf\u00e9"]}
        shape = json.dumps(hidden, ensure_ascii=False).encode("latin-1")  # not UTF-8: left to the walk
        assert KEY not in json.dumps(outputs.clean_output(hidden, as_json=shape))
    finally:
        outputs.forget_configured_secrets()
