"""What an HTML report page may hold: our own tags only, no script, handler or followable URL.

Shared by the report's unit tests, the hardening tests and the browser test (which checks the
DOM as Chromium parsed it).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["ALLOWED_TAGS", "Page", "page_problems", "parse_page"]

ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "div", "header", "h1", "h2", "h3", "dl", "dt", "dd", "nav",
    "a", "section", "main", "footer", "p", "table", "caption", "thead", "tbody", "tr", "th", "td", "span", "code",
    "wbr", "svg", "text", "rect", "line", "path", "circle", "polygon", "g",
}  # fmt: skip


class Page(HTMLParser):
    """The start tags with their attributes, and the text, of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_page(page: str) -> Page:
    parser = Page()
    parser.feed(page)
    parser.close()
    return parser


def page_problems(page: str) -> tuple[list[str], str]:
    """(everything in the page that could load or run something, the page's text as a reader sees it)."""
    parser = parse_page(page)
    found: list[str] = []
    if "<script" in page.lower():
        found.append("<script in the page")
    for tag, attrs in parser.tags:
        if tag not in ALLOWED_TAGS:
            found.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                found.append(f"handler {name}= on <{tag}>")
            if name in {"src", "srcset", "action", "formaction", "xlink:href"}:
                found.append(f"attribute {name}= on <{tag}>")
            if name == "href" and not re.fullmatch(r"#[a-z-]+|(csv|parquet)/v_[a-z_]+\.(csv|parquet)", value or ""):
                found.append(f"link {value!r}")
    # A URL anywhere it could be followed or loaded (text in a title= tooltip is only text).
    urls = [
        v or "" for _t, attrs in parser.tags for n, v in attrs if n in {"href", "src", "action", "style", "xlink:href"}
    ]
    if any(re.search(r"javascript:|url\(", url, re.IGNORECASE) for url in urls):
        found.append("javascript: or url() in a URL attribute")
    return found, "".join(parser.text)
