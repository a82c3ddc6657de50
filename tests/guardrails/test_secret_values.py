"""Secrets recognised by value, and ordinary values let through."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest

from integrations_mcp.guardrails.secret_values import (
    KNOWN_FORMATS,
    Format,
    find_secret_values,
    mask_secret_values,
    secret_kinds,
)
from integrations_mcp.guardrails.secrets import SecretKeys, redact, secret_paths
from integrations_mcp.guardrails.text import fold_key

JWT = ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\n-----END RSA PRIVATE KEY-----"

SECRETS = {
    "stripe": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "github": "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "aws access key": "AKIAIOSFODNN7EXAMPLE",
    "aws secret key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "slack": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "jwt": JWT,
    "pem": PEM,
    "pem header only": "-----BEGIN OPENSSH PRIVATE KEY-----",
    "url password": "ftp://user:hunter2hunter2@files.example.com/in",
    "url token without colon": "https://ghp_16C7e42F292c6912E7710c838347Ae178B4a@github.com/org/repo",
    "url random user": "https://Zx9Lk2Qw8Rt5Yp3Vn7Mb@hooks.example.com",
    "query api_key": "https://example.com/hook?api_key=abc123def&x=1",
    "query access_token": "https://example.com/cb?ACCESS-TOKEN=opaque",
    "bearer": "Authorization: Bearer abcdefghijklmnop1234",
    "basic": "Basic dXNlcjpwYXNzd29yZA==",
    "random token": "token is Zx9Lk2Qw8Rt5Yp3Vn7Mb4Hc6Jd1Fg0Sa ok",
    "sendgrid": "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
}

ORDINARY = [
    "my shop 2024", "550e8400-e29b-41d4-a716-446655440000", "8f14e45fceea167a5a36dedd4bea2543",
    "ThirdPartyIntegrationForShopifyStore2024", "https://example.com/api/v2/webhooks?page=2&sort=name",
    "Token based authentication for the CRM", "Basic plan customers only", "https://git@github.com/org/repo",
    "company_sandbox_001", "Zendesk EU tenant (prod) #2", "SalesforceProductionOrg2023Q4Backup",
    "https://acme.zendesk.com", "ACME-Corp-Integration-2024-Q1", "5f3a9b2c1d4e6f7a8b9c0d1e", "ops@example.com",
    "a" * 40, "ProductionSalesforceInstanceEU1", "sftp.example.com:22", "AC1234567890abcdef1234567890abcdef",
    "Bearer token", "Tax calculation for EU stores, see https://docs.example.com/tax?lang=en",
    "CANARY-7f3a9c-not-a-value", "order-lookup-EU-2024-prod-v2", "Sandbox_Order_Lookup_v2_EU_West1",
]


@pytest.mark.parametrize("text", SECRETS.values(), ids=SECRETS.keys())
def test_a_secret_is_recognised_and_masked(text: str) -> None:
    assert secret_kinds(text)
    masked = mask_secret_values(text)
    assert "[redacted]" in masked
    for piece in ("4eC39Hq", "16C7e42F", "IOSFODNN", "bPxRfiCY", "AbCdEfGh", "dozjgNry", "MIIEow", "hunter2",
                  "Zx9Lk2Qw", "abc123def", "opaque", "abcdefghijklmnop1234", "dXNlcjpw", "abcdefghijklmnopqrstuv"):
        assert piece not in masked


@pytest.mark.parametrize("text", ORDINARY)
def test_an_ordinary_value_passes(text: str) -> None:
    assert secret_kinds(text) == []
    assert mask_secret_values(text) == text


def test_a_url_keeps_its_shape_when_masked() -> None:
    assert mask_secret_values("see ftp://user:hunter2@h/x") == "see ftp://user:[redacted]@h/x"
    assert mask_secret_values("https://e.com/h?api_key=abc123def&x=1") == "https://e.com/h?api_key=[redacted]&x=1"


def test_ids_are_checked_for_known_formats_only() -> None:
    random_id = "Zx9Lk2Qw8Rt5Yp3Vn7Mb"
    assert not list(find_secret_values({"integration_id": random_id, "accountSid": random_id * 2}))
    assert [p for p, _ in find_secret_values({"integration_id": SECRETS["stripe"]})] == ["integration_id"]
    assert [p for p, _ in find_secret_values({"note": "Zx9Lk2Qw8Rt5Yp3Vn7Mb4Hc6Jd1Fg0Sa"})] == ["note"]


@pytest.mark.parametrize("key", ["password", "Pass-Word", "ｐａｓｓｗｏｒｄ", "p\u0430ssword", "pass\u200bword",
                                 "PÁSSWORD", "\u03a1ASSWORD"])
def test_look_alike_keys_fold_to_the_same_name(key: str) -> None:
    assert fold_key(key) == "password"


NESTED_KEYS = ["Authorization", "bearer", "sessionCookie", "passphrase", "pin", "apiPass", "p\u0430ssword",
               "ｐａｓｓｗｏｒｄ", "x-api-key", "db_password"]


@pytest.mark.parametrize("key", NESTED_KEYS)
def test_secret_names_at_any_depth_are_refused_and_redacted(key: str) -> None:
    from integrations_mcp.vendors.cxengage.catalog import SECRET_KEYS
    value = {"properties": {"globalDialParams": {"outer": [{key: "CANARY-value-1"}]}}}
    assert secret_paths(value, SECRET_KEYS) == [f"properties.globalDialParams.outer[0].{key}"]
    assert "CANARY" not in repr(redact(value, SECRET_KEYS))


def test_a_refusal_path_never_holds_the_value() -> None:
    keys = SecretKeys.of(["password"])
    paths = secret_paths({"description": f"use {SECRETS['stripe']} please", "name": "ok"}, keys)
    assert paths == ["description (Stripe Access Key, high-entropy token)"]
    assert "4eC39" not in repr(paths)


def test_the_output_filter_keeps_the_servers_own_links_whole() -> None:
    from integrations_mcp.guardrails.outputs import clean_output, clean_text
    link = "https://revcent.example/forms/abc?token=Zx9Lk2Qw8Rt5Yp3V"
    result = {"form_url": link, "note": f"see {link}", "leak": "https://x.example/?api_key=abc123def"}
    cleaned = clean_output(result, keep={link})
    assert cleaned["form_url"] == link and "Zx9Lk2Qw" not in cleaned["note"] and "abc123def" not in cleaned["leak"]
    assert "Zx9Lk2Qw" not in clean_output(result)["form_url"]  # a key's name exempts nothing
    text = clean_text(f"form_url={link} and https://x.example/?api_key=abc123def", keep={link})
    assert link in text and "abc123def" not in text
    assert clean_text("bidi \u202eevil\u200b") == "bidi evil"


# --- our own formats (detect-secrets is no longer a dependency) ------------------------------------------------------

@pytest.mark.parametrize("rule", KNOWN_FORMATS, ids=lambda rule: f"{rule.kind}: {rule.sample[:16]}")
def test_every_known_format_names_its_source_and_finds_its_sample(rule: Format) -> None:
    assert rule.source and ("detect-secrets" in rule.source or "docs" in rule.source or "RFC" in rule.source)
    assert any(hint in rule.sample for hint in rule.hints) or rule.flags & re.I
    assert rule.kind in secret_kinds(f"see {rule.sample} here", entropy=False)
    masked = mask_secret_values(f"see {rule.sample} here", entropy=False)
    assert masked.startswith("see ") and masked.endswith("[redacted] here") and rule.sample[-6:] not in masked, masked


def test_the_value_scan_loads_no_scanner_package() -> None:
    code = ("import sys; from integrations_mcp.guardrails.secret_values import secret_kinds; "
            "secret_kinds('sk_live_4eC39HqLyjWDarjtT1zdp7dc'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('detect_secrets', 'requests', 'yaml')))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"


# --- linear time on pathological texts ------------------------------------------------------------------------------

def pathological(n: int) -> dict[str, str]:
    """Texts of `n` characters repeating what a rule starts with or is made of (each rule's worst case)."""
    seeds = ["a", "aB3", "a-", "a ", "0f", "eyJ", "eyJ=", "http://", "a://", "?token=a&", "bearer \t ", "-----BEGIN ",
             "-----BEGIN PRIVATE KEY ", "1234567890:", "xoxb-1-", "sk-", "sk-T3BlbkFJ", "a\u200b", "ａ", "@:"]
    for rule in KNOWN_FORMATS:
        seeds += [*rule.hints, rule.sample[:-1], rule.sample[:len(rule.sample) // 2]]
    return {seed: (seed * (n // len(seed) + 1))[:n] for seed in dict.fromkeys(seeds)}


def test_every_rule_is_linear_on_pathological_texts() -> None:
    """64,000 characters (the argument limit) of each worst case: the old rules took 7-19 s on 100,000 letters."""
    slowest = (0.0, "")
    for seed, text in pathological(64_000).items():
        started = time.process_time()
        secret_kinds(text, hex_tokens=True)
        mask_secret_values(text)
        slowest = max(slowest, (time.process_time() - started, seed))
    assert slowest[0] < 1.0, slowest


def test_a_url_with_many_parameters_is_read_once() -> None:
    url = "https://x.example/?" + "&".join(f"p{i}=v{i}" for i in range(8_000)) + "&api_key=abc123def"
    started = time.process_time()
    assert mask_secret_values(url).endswith("api_key=[redacted]")
    assert time.process_time() - started < 1.0


# --- disguised secrets ----------------------------------------------------------------------------------------------

STRIPE = SECRETS["stripe"]
DISGUISED = {
    "zero-width inside": STRIPE[:10] + "\u200b" + STRIPE[10:],
    "soft hyphen inside": STRIPE[:10] + "\u00ad" + STRIPE[10:],
    "word joiner inside": SECRETS["github"][:8] + "\u2060" + SECRETS["github"][8:],
    "full width": "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in STRIPE),
    "split by spaces": "key: " + " ".join(STRIPE[i:i + 6] for i in range(0, len(STRIPE), 6)),
    "split by line breaks": SECRETS["github"][:20] + "\n" + SECRETS["github"][20:],
    "JWT with a zero-width space": JWT[:30] + "\u200b" + JWT[30:],
}


@pytest.mark.parametrize("text", DISGUISED.values(), ids=DISGUISED.keys())
def test_a_disguised_key_is_still_a_key(text: str) -> None:
    assert secret_kinds(text, entropy=False), text
    masked = mask_secret_values(text, entropy=False)
    assert "4eC39Hq" not in masked and "16C7e42F" not in masked and "dozjgNry" not in masked, masked
    assert "[redacted]" in masked


def test_json_inside_a_value_is_read_for_secret_names() -> None:
    keys = SecretKeys.of(["password"])
    arguments = {"description": '{"user": "ops", "password": "hunter2"}', "name": "[1, 2"}
    assert secret_paths(arguments, keys) == ["description (JSON).password"]
    escaped = json.dumps({"note": "sk_live_4eC39HqLyjWDarjtT1zdp7dc"}).replace("sk_", "\\u0073k_")
    assert "description (JSON).note (Stripe Access Key)" in secret_paths({"description": escaped}, keys)
    deep = "[" * 5_000 + "]" * 5_000  # too many containers: not parsed, no recursion error
    assert secret_paths({"description": deep}, keys) == []


TWILIO_AUTH_TOKEN = "9f3c1e7a2b4d6f8091a3c5e7b9d1f2a4"  # 32 hex, the documented format of a Twilio auth token


def test_hex_tokens_are_secrets_where_credentials_belong_only() -> None:
    assert secret_kinds(TWILIO_AUTH_TOKEN) == []  # a hash or a record id, in a description
    assert secret_kinds(TWILIO_AUTH_TOKEN, hex_tokens=True) == ["hex token"]
    assert secret_kinds("a" * 40 + "1", hex_tokens=True) == []  # 41 digits: not a key length
    assert secret_kinds("AC" + TWILIO_AUTH_TOKEN, hex_tokens=True) == []  # an account SID
    assert secret_kinds("0" * 64, hex_tokens=True) == []  # digits only
    keys = SecretKeys.of(["password"])
    found = secret_paths({"properties": {"accountSid": TWILIO_AUTH_TOKEN, "region": TWILIO_AUTH_TOKEN},
                          "description": TWILIO_AUTH_TOKEN}, keys, hex_in=("properties",))
    assert found == ["properties.region (hex token)"]  # ids exempt; descriptions may hold hashes


@pytest.mark.anyio
async def test_a_hex_auth_token_in_a_plain_property_is_refused_before_anything_is_sent() -> None:
    from tests.harness import connect

    async with connect() as s:
        await s.refused("CreateCxEngageIntegration", "properties.extensionPrefix (hex token)", "Nothing was sent",
                        name="Voice", type="twilio", properties={"extensionPrefix": TWILIO_AUTH_TOKEN})
        zero_width = STRIPE[:9] + "\u200b" + STRIPE[9:]
        await s.refused("CreateCxEngageIntegration", "description (Stripe Access Key", name="Desk", type="rest",
                        description=f"key {zero_width}")
        assert s.writes() == []


@pytest.mark.anyio
async def test_a_hex_token_typed_into_a_revcent_input_field_is_refused() -> None:
    from tests.harness import connect

    async with connect() as s:
        uid = s.revcent.add_user_integration(name="Tax", site_id=s.revcent.site_id("tax"))
        site = s.revcent.site(s.revcent.site_id("tax"))
        option, field = next((o, f) for o in site["third_party_options"] for f in o["fields"]
                             if f["field_type"] == "input" and not f["id"].lower().endswith("id"))
        where = f"{option['id']}.{field['id']}"
        await s.refused("EditUserThirdPartyIntegration", f"{where} looks like a secret (hex token)",
                        user_third_party_integration_id=uid,
                        third_party_options=[{"id": option["id"], "fields": [{"id": field["id"],
                                                                              "value": [TWILIO_AUTH_TOKEN]}]}])
        assert s.writes() == []
