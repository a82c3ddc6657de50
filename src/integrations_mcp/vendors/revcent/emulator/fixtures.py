"""Clearly fake site integrations, one per integration_type, and the sandbox account's provider assets.

No real provider names: RevCent's actual site catalog is undocumented. Together the fixtures cover required and
optional credential fields and options, static/asset selects, single/multiple selects and inputs, and a site with
no options at all (offline_payment), so "no edit needed after create" is exercised.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ASSET_CATALOG", "SANDBOX_API_KEY", "SECRET_OPTION_FIELDS", "SITE_IDS", "site_integrations"]

SANDBOX_API_KEY = "sandbox-revcent-key"  # the sandbox account's key (clearly fake)

SITE_IDS: dict[str, str] = {
    "tax": "sandboxSiteTax000001",
    "shipping": "sandboxSiteShip00001",
    "offline_payment": "sandboxSitePay000001",
    "ai": "sandboxSiteAi0000001",
    "ai_voice": "sandboxSiteVoice0001",
    # A second ai_voice connector whose required option holds a secret (a webhook signing secret): the user sets it
    # in RevCent itself, and a Get may show, mask or leave out its value (Contract.secret_options).
    "call_events": "sandboxSiteCallEvt01",
}
SECRET_OPTION_FIELDS = frozenset({"signing_secret"})  # option field ids whose values are secrets

# What the provider would return for the sandbox account once credentials are saved: site -> option -> field.
ASSET_CATALOG: dict[str, dict[str, dict[str, list[str]]]] = {
    SITE_IDS["tax"]: {"tax_company": {"company_id": ["company_sandbox_001", "company_sandbox_002"]}},
    SITE_IDS["shipping"]: {
        "shipping_services": {"service_ids": ["service_sandbox_ground", "service_sandbox_two_day",
                                              "service_sandbox_overnight"]},
        "warehouse": {"warehouse_id": ["warehouse_sandbox_east", "warehouse_sandbox_west"]},
    },
    SITE_IDS["ai"]: {"ai_model": {"model_id": ["model_sandbox_small", "model_sandbox_large"]}},
    SITE_IDS["ai_voice"]: {"voice_agent": {
        "voice_id": ["voice_sandbox_ava", "voice_sandbox_ben"],
        # 555-01xx numbers are reserved for fiction.
        "phone_numbers": ["+15555550101", "+15555550102", "+15555550103"],
    }},
}


def _cred(cid: str, name: str, description: str, *fields: tuple[str, str, bool]) -> dict[str, Any]:
    return {"id": cid, "name": name, "description": description,
            "fields": [{"id": f, "name": n, "required": r} for f, n, r in fields]}


def _option(oid: str, name: str, description: str, required: bool, *fields: dict[str, Any]) -> dict[str, Any]:
    return {"id": oid, "name": name, "description": description, "required": required, "fields": list(fields)}


def _select(fid: str, name: str, required: bool, *, asset: bool = False, multiple: bool = False,
            options: tuple[str, ...] = ()) -> dict[str, Any]:
    # Asset selects list no options on the site object: assets are account-specific.
    return {"id": fid, "name": name, "field_type": "select", "required": required,
            "select_settings": {"third_party_asset": asset, "options": list(options), "multiple": multiple}}


def _input(fid: str, name: str, required: bool) -> dict[str, Any]:
    # The seed makes select_settings optional; inputs leave it out.
    return {"id": fid, "name": name, "field_type": "input", "required": required}


def _site(kind: str, name: str, description: str, credentials: dict[str, Any],
          *options: dict[str, Any], integration_type: str | None = None) -> dict[str, Any]:
    return {"id": SITE_IDS[kind], "name": name, "description": description,
            "integration_type": integration_type or kind,
            "third_party_credentials": credentials, "third_party_options": list(options)}


def site_integrations() -> dict[str, dict[str, Any]]:
    """A fresh copy of the site catalog, keyed by id (emulators mutate nothing in it, but tests may)."""
    sites = [
        _site("tax", "Example Tax Co (sandbox)", "Calculates sales tax for renewals (fake provider).",
              _cred("tax_api_credentials", "Example Tax Co API credentials",
                    "Found under Settings > API in the Example Tax Co dashboard.",
                    ("account_id", "Account ID", True), ("license_key", "License key", True)),
              _option("tax_company", "Tax company", "The company profile used for calculations.", True,
                      _select("company_id", "Company", True, asset=True)),
              _option("tax_settings", "Tax settings", "How transactions are reported.", False,
                      _select("commit_transactions", "Commit transactions", False, options=("yes", "no")),
                      _input("origin_zip", "Origin ZIP code", False))),
        _site("shipping", "Demo Parcel Tracker (sandbox)", "Pulls shipment tracking updates (fake provider).",
              _cred("shipping_api_credentials", "Demo Parcel Tracker API keys",
                    "Found under Developers in the Demo Parcel Tracker account.",
                    ("api_key", "API key", True), ("api_secret", "API secret", False)),
              _option("shipping_services", "Shipping services", "Services to track.", True,
                      _select("service_ids", "Services", True, asset=True, multiple=True)),
              _option("warehouse", "Warehouse", "Default ship-from warehouse.", False,
                      _select("warehouse_id", "Warehouse", False, asset=True))),
        _site("offline_payment", "Placeholder Pay Later (sandbox)", "Alternate pay-later payments (fake provider).",
              _cred("pay_later_credentials", "Placeholder Pay Later merchant keys",
                    "Found under Merchant > Keys in the Placeholder Pay Later portal.",
                    ("merchant_id", "Merchant ID", True), ("private_key", "Private key", True),
                    ("public_key", "Public key", False))),
        _site("ai", "Sample AI Provider (sandbox)", "Powers AI chat and assistants (fake provider).",
              _cred("ai_api_credentials", "Sample AI Provider API key", "Create a key in the Sample AI console.",
                    ("api_key", "API key", True), ("organization_id", "Organization ID", False)),
              _option("ai_model", "Model", "The model assistants use.", True,
                      _select("model_id", "Model", True, asset=True)),
              _option("ai_capabilities", "Capabilities", "What the assistants may do.", False,
                      _select("capabilities", "Capabilities", False, multiple=True,
                              options=("chat", "assistant", "summarize")))),
        _site("ai_voice", "Mock Voice Provider (sandbox)", "Powers AI voice agents (fake provider).",
              _cred("voice_api_credentials", "Mock Voice Provider account credentials",
                    "Found on the Mock Voice Provider account page.",
                    ("account_sid", "Account SID", True), ("auth_token", "Auth token", True)),
              _option("voice_agent", "Voice agent", "Voice, numbers and language of the agent.", True,
                      _select("voice_id", "Voice", True, asset=True),
                      _select("phone_numbers", "Phone numbers", True, asset=True, multiple=True),
                      _select("language", "Language", True, options=("en-US", "es-US", "fr-CA")))),
        _site("call_events", "Mock Call Events (sandbox)", "Sends AI voice call events to a webhook (fake provider).",
              _cred("call_events_credentials", "Mock Call Events API key", "Found on the Mock Call Events console.",
                    ("api_key", "API key", True)),
              _option("webhook", "Webhook", "Where call events are sent, and the secret that signs them.", True,
                      _input("endpoint_url", "Endpoint URL", True), _input("signing_secret", "Signing secret", True)),
              integration_type="ai_voice"),
    ]
    return {site["id"]: site for site in sites}
