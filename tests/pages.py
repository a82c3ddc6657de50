"""What the tests read in a secure form page (the server's own and the RevCent emulator's), and the submission
headers both pages are checked against. The product's own reader, the one a scripted person fills forms with, is
`integrations_mcp.secure_forms.scripted_person.read_form`; this one reads everything a test asserts on."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from integrations_mcp.secure_forms.scripted_person import BROWSER_SUBMIT

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
EXTERNAL = {"script", "link", "img", "iframe"}


class Page(HTMLParser):
    """Every tag with its attributes, the text of each tag (innermost), the h1 and the label texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, str] = {}
        self.heading = ""
        self.labels: dict[str, str] = {}  # a label's `for` -> its text
        self._open: list[str] = []
        self._label_for: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "label":
            self._label_for = a.get("for") or ""
            self.labels[self._label_for] = ""
        if tag not in VOID:
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open.pop() != tag:
                pass
        if tag == "label":
            self._label_for = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self.text[self._open[-1]] = self.text.get(self._open[-1], "") + data
        if "h1" in self._open:
            self.heading += data
        if self._label_for is not None:
            self.labels[self._label_for] += data

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    @property
    def inputs(self) -> list[dict[str, str | None]]:
        return self.find("input")

    @property
    def forms(self) -> list[dict[str, str | None]]:
        return self.find("form")

    @property
    def external(self) -> list[str]:
        """Tags that would load something: a secure form page must have none."""
        return [t for t, a in self.tags if t in EXTERNAL or a.get("src")]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def csrf(html: str, name: str = "csrf_token") -> str:
    token = next(i["value"] for i in parse(html).inputs if i.get("name") == name)
    assert token
    return token


# What real clients send with a form's POST; both form pages are tested against these same lists. OWN stands for
# the page's own origin: a test puts the real one in its place.
OWN = "http://127.0.0.1:8123"
ACCEPTED = [
    pytest.param(dict(BROWSER_SUBMIT), id="chromium-own-page-no-referrer"),
    pytest.param({"origin": OWN, "sec-fetch-site": "same-origin"}, id="browser-own-origin"),
    pytest.param({"origin": OWN}, id="older-browser-own-origin"),
    pytest.param({"sec-fetch-site": "same-origin"}, id="browser-vouched-no-origin"),
]
REFUSED = [
    pytest.param({"origin": "https://evil.example", "sec-fetch-site": "cross-site"}, id="other-site"),
    pytest.param({"origin": "http://localhost:9000", "sec-fetch-site": "cross-site"}, id="localhost-vs-ip"),
    pytest.param({"origin": "http://127.0.0.1:9000", "sec-fetch-site": "same-site"}, id="other-port-same-host"),
    pytest.param({"origin": "null", "sec-fetch-site": "cross-site"}, id="null-cross-site"),
    pytest.param({"origin": "null"}, id="null-unvouched"),
    pytest.param({"sec-fetch-site": "same-site"}, id="same-site-no-origin"),
    pytest.param({"origin": OWN, "sec-fetch-site": "cross-site"}, id="own-origin-but-cross-site"),
    pytest.param({"origin": "https://evil.example"}, id="older-browser-other-origin"),
    pytest.param({"origin": OWN + ".evil.example"}, id="prefix-look-alike"),
    pytest.param({}, id="no-headers-curl"),  # a script or an agent's shell: not what the page sends
    pytest.param({"sec-fetch-site": "none"}, id="fetch-site-none"),  # typed address: never a POST from the page
    pytest.param({"origin": "", "sec-fetch-site": ""}, id="blank-headers"),
    pytest.param({"origin": OWN, "sec-fetch-site": "same-origin, cross-site"}, id="folded-fetch-site"),
]
