"""Is a piece of HTML inert? What a browser would run or load from it, found by parsing."""

from __future__ import annotations

from html.parser import HTMLParser

# What the app's own markup uses; anything else in handler output came from user text.
SAFE_TAGS = {"a", "b", "i", "em", "strong", "span", "div", "p", "br", "hr", "code", "pre", "kbd", "ul", "ol", "li",
             "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "thead", "tbody", "tr", "th", "td", "del",
             "s", "img", "sup", "sub"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href"}


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in SAFE_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}=")
            if name in URL_ATTRIBUTES and value is not None:
                target = "".join(value.split()).lower()
                if target.startswith(("javascript:", "vbscript:", "data:")):
                    self.problems.append(f"{tag} {name}={value[:40]}")
                if tag == "img" and not target.startswith("studio-media/"):
                    self.problems.append(f"img from {value[:60]}")

    def handle_data(self, data):
        self.text.append(data)


def live_markup(html: str) -> list[str]:
    """Tags, handlers and URLs in `html` that would do something in a browser."""
    reader = _Reader()
    reader.feed(html or "")
    reader.close()
    return reader.problems


def visible_text(html: str) -> str:
    reader = _Reader()
    reader.feed(html or "")
    reader.close()
    return "".join(reader.text)
