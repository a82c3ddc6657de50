"""What a person's browser does with a secure form page, for the demo and the tests: open the link, type a value
into every field, press Save.

It sends headers a browser sends (the strictest accepted: `Origin: null`, vouched for by `Sec-Fetch-Site:
same-origin`, as Chromium sends from a no-referrer page), so a page rule that a real browser would trip over fails
here too instead of passing only for scripts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx2

__all__ = ["BROWSER_NAVIGATION", "BROWSER_SUBMIT", "FormAnswer", "PageForm", "decide_approval", "fill_secure_form",
           "read_form", "submit_form"]

BROWSER_NAVIGATION = {"sec-fetch-site": "none", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document",
                      "sec-fetch-user": "?1"}
BROWSER_SUBMIT = {"origin": "null", "sec-fetch-site": "same-origin", "sec-fetch-mode": "navigate",
                  "sec-fetch-dest": "document", "sec-fetch-user": "?1"}


@dataclass
class PageForm:
    """The form on a page: its action and its inputs' attributes, in page order."""

    action: str | None = None
    inputs: list[dict[str, str]] = field(default_factory=list)

    @property
    def hidden(self) -> dict[str, str]:
        return {i["name"]: i.get("value", "") for i in self.inputs if i.get("type") == "hidden" and i.get("name")}

    @property
    def typed(self) -> list[str]:
        """Names of the fields a person types into."""
        return [i["name"] for i in self.inputs
                if i.get("name") and i.get("type") not in ("hidden", "submit", "button")]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.form = PageForm()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input":
            self.form.inputs.append(a)
        elif tag == "form":
            self.form.action = a.get("action") or None


def read_form(html: str) -> PageForm:
    parser = _Parser()
    parser.feed(html)
    return parser.form


@dataclass
class FormAnswer:
    status: int
    text: str


async def submit_form(form_url: str, values: dict[str, str] | None = None, *, default: str = "demo",
                      headers: dict[str, str] | None = None, button: tuple[str, str] | None = None) -> FormAnswer:
    """Open `form_url`, fill every field (`values`, else `default-<name>`), press Save (or `button`: the name and
    value of the submit button pressed) and submit with a browser's headers (`headers` overrides them: the tests
    play other pages this way). Returns the answer, whatever its status."""
    async with httpx2.AsyncClient(timeout=10) as http:
        page = await http.get(form_url, headers=BROWSER_NAVIGATION)
        page.raise_for_status()
        form = read_form(page.text)
        data = {**form.hidden, **{name: (values or {}).get(name, f"{default}-{name}") for name in form.typed}}
        if button:
            data[button[0]] = button[1]
        target = httpx2.URL(form_url).join(form.action) if form.action else form_url
        answer = await http.post(target, data=data, headers={**BROWSER_SUBMIT, **(headers or {})})
        return FormAnswer(answer.status_code, answer.text)


async def fill_secure_form(form_url: str, values: dict[str, str] | None = None, *, default: str = "demo") -> str:
    """Fill and submit as a person would; returns the confirmation page's text, or raises if the page refused."""
    answer = await submit_form(form_url, values, default=default)
    if answer.status != 200:
        raise RuntimeError(f"the secure form answered {answer.status}: {answer.text[:300]}")
    return answer.text


async def decide_approval(approval_url: str, *, approve: bool) -> str:
    """The person's decision on an approval page; returns the page's answer, or raises if it refused."""
    answer = await submit_form(approval_url, button=("decision", "approve" if approve else "reject"))
    if answer.status != 200:
        raise RuntimeError(f"the approval page answered {answer.status}: {answer.text[:300]}")
    return answer.text
