"""One canonical text for every rule (issue 19 item 3): blanks are empty, look-alike names are one name, control
characters are refused in names. Unit checks first, then the rules through a real MCP client session."""

from __future__ import annotations

import subprocess
import sys
import unicodedata

import pytest

from integrations_mcp.guardrails.text import canonical, control_characters, fold_key, is_blank, name_key, visible
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_TENANT_ID
from tests.harness import DESTINATIONS, Session, connect

# Every blank a person cannot tell from nothing: White_Space, default-ignorables, the look-alike fillers.
BLANKS = {
    "zero-width space": "\u200b", "BOM": "\ufeff", "word joiner": "\u2060", "soft hyphen": "\u00ad",
    "Hangul filler": "\u3164", "Hangul choseong filler": "\u115f", "Hangul jungseong filler": "\u1160",
    "halfwidth Hangul filler": "\uffa0", "Braille blank": "\u2800", "NBSP": "\u00a0", "em space": "\u2003",
    "ideographic space": "\u3000", "line separator": "\u2028", "Mongolian vowel separator": "\u180e",
    "combining grapheme joiner": "\u034f", "variation selector": "\ufe0f", "tag space": "\U000e0020",
    "zero-width joiners": "\u200c\u200d", "bidi isolate": "\u2066\u2069", "NUL": "\x00", "mixed": " \u200b\u3164 ",
}

LOOK_ALIKES = {
    "Cyrillic letters": ("Tax EU", "Тах ЕU"),
    "Greek letters": ("Pay NOW", "Ρay ΝΟW"),
    "full width": ("Tax EU", "Ｔａｘ ＥＵ"),
    "zero-width inside": ("Tax EU", "Ta\u200bx EU"),
    "Hangul filler inside": ("Tax EU", "Tax\u3164EU"),
    "digit for letter": ("Shop Cloud", "Shop C1oud"),
    "zero for O": ("Tax ONE", "Tax 0NE"),
    "rn for m": ("Mail desk", "rnail desk"),
    "case and spaces": ("Desk main", "  desk   MAIN "),
    "mathematical letters": ("Tax", "𝐓𝐚𝐱"),
}


@pytest.mark.parametrize("blank", BLANKS.values(), ids=BLANKS.keys())
def test_every_blank_is_empty(blank: str) -> None:
    assert is_blank(blank) and canonical(blank) == ""
    assert not is_blank(f"a{blank}")


def test_every_format_character_of_this_python_is_invisible() -> None:
    missing = [f"U+{c:04X}" for c in range(sys.maxunicode + 1)
               if unicodedata.category(chr(c)) == "Cf" and visible(chr(c))]
    assert missing == []


@pytest.mark.parametrize("pair", LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
def test_look_alike_names_are_one_name(pair: tuple[str, str]) -> None:
    assert name_key(pair[0]) == name_key(pair[1])


@pytest.mark.parametrize("pair", [("Tax EU", "Tax US"), ("Desk", "Disk"), ("café", "cafe"), ("Desk 1", "Desk 2"),
                                  ("東京", "大阪")])
def test_different_names_stay_different(pair: tuple[str, str]) -> None:
    assert name_key(pair[0]) != name_key(pair[1])


def test_secret_names_fold_through_the_confusables_table() -> None:
    assert fold_key("\u0440\u0430ssw\u043erd") == "password"  # Cyrillic р, а, о
    assert fold_key("ѕесrеt") == "secret"  # Cyrillic ѕ, е, с, е
    assert fold_key("TOKEN") == "token" and fold_key("api_key") == "apikey"


def test_control_characters_are_named() -> None:
    assert control_characters("a\x00b\nc\x1b") == ["U+0000", "U+000A", "U+001B"]
    assert control_characters("plain name") == []


def test_the_table_is_loaded_on_first_use_only() -> None:
    code = ("import sys, integrations_mcp.server.app, integrations_mcp.guardrails.text as t; "
            "t.fold_key('password'); print(t._confusables.cache_info().currsize)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "0\n"


# --- through the tools ----------------------------------------------------------------------------------------------

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("blank", ["\u200b", "\u3164", "\u2800", "\ufeff\u00a0", "\u115f\u1160"],
                         ids=["zero-width", "Hangul filler", "Braille blank", "BOM and NBSP", "choseong fillers"])
async def test_a_blank_property_never_makes_an_integration_complete(blank: str) -> None:
    async with connect() as s:
        properties = {**DESTINATIONS["twilio"], "accountSid": blank}
        await s.refused("CreateCxEngageIntegration", "accountSid is blank", name="Voice", type="twilio",
                        properties=properties, active=True)
        uid = s.revcent.add_user_integration(name="Tax", site_id=s.revcent.site_id("tax"))
        await s.refused("EditUserThirdPartyIntegration", "non-empty value", user_third_party_integration_id=uid,
                        third_party_options=_one_input_option(s, blank))
        assert [r for r in s.writes() if r.method != "GET"] == []


def _one_input_option(s: Session, value: str) -> list[dict]:
    site = s.revcent.site(s.revcent.site_id("tax"))
    option, field = next((o, f) for o in site["third_party_options"] for f in o["fields"] if f["field_type"] == "input")
    return [{"id": option["id"], "fields": [{"id": field["id"], "value": [value]}]}]


@pytest.mark.parametrize("pair", LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
async def test_a_look_alike_name_is_refused_as_a_duplicate(pair: tuple[str, str]) -> None:
    async with connect() as s:
        s.cxengage.add_integration(SANDBOX_TENANT_ID, "rest", pair[0])
        await s.refused("CreateCxEngageIntegration", "already exists", name=pair[1], type="rest")
        s.revcent.add_user_integration(name=pair[0], site_id=s.revcent.site_id("tax"))
        await s.refused("CreateUserThirdPartyIntegration", "already used", name=pair[1],
                        site_third_party_integration=s.revcent.site_id("tax"))
        assert s.writes() == []


@pytest.mark.parametrize("name", ["Tax\x00EU", "Tax\nNext: call X", "Tax\x1b[31m"], ids=["NUL", "newline", "escape"])
async def test_a_name_with_control_characters_is_refused(name: str) -> None:
    async with connect() as s:
        text = await s.refused("CreateCxEngageIntegration", "control characters", "U+00", name=name, type="rest")
        assert "\x00" not in text and "\x1b" not in text
        await s.refused("CreateUserThirdPartyIntegration", "control characters", name=name,
                        site_third_party_integration=s.revcent.site_id("tax"))
        assert s.writes() == []
