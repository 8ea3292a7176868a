"""Untrusted text becomes inert HTML; only files inside the media folder get a URL."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from studio.ui import render

PAYLOADS = [
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)></svg>",
    "<iframe src=javascript:alert(1)></iframe>",
    "[click me](javascript:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<a href='javascript:alert(1)'>x</a>",
    "${alert(1)} {{constructor.constructor('alert(1)')()}} `backtick`",
]


class Tags(HTMLParser):
    """Every tag and attribute a browser would build from the HTML."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_output_has_no_live_html(payload):
    html = render.markdown(f"Answer: {payload}\n\n```html\n{payload}\n```")
    tags = Tags(html).tags
    assert {tag for tag, _ in tags} <= {"p", "pre", "code", "a", "br", "div", "span"}
    for tag, attrs in tags:
        if tag in ("div", "span"):                     # the code box and Pygments' colours: classes only
            assert set(attrs) <= {"class"}, (tag, attrs)
        assert not [name for name in attrs if name.startswith("on")]
        assert not re.match(r"\s*(javascript|data|vbscript):", attrs.get("href") or "", re.I)
    assert "{" not in html and "$" not in html and "`" not in html


def test_markdown_keeps_formatting_code_and_line_breaks():
    html = render.markdown("**bold** and `code`\n\nline one\nline two\n\n```py\nif a < b:\n    pass\n```")
    assert "<strong>bold</strong>" in html and "<code>code</code>" in html
    assert "line one<br" in html
    assert 'class="studio-code"' in html                 # boxed and highlighted on the server
    assert "if a &lt; b:" in re.sub(r"</?span[^>]*>", "", html)


def test_names_are_escaped():
    assert render.text("<b onmouseover=x>ana</b>") == "&lt;b onmouseover=x&gt;ana&lt;/b&gt;"


def test_media_urls_only_for_media_keys_through_the_studios_media_route():
    digest = "ab" + "0" * 62
    url = render.media_url(f"media/ab/{digest}.png")
    assert url == f"studio-media/media/ab/{digest}.png"
    assert render.media_url(f"media/ab/{digest[2:]}.png") is not None       # keys of older versions
    for bad in ("media/../studio.db", "studio.db", "/etc/passwd", "media/ab/cd.png", f"media/ab/{digest}.db",
                f"media/ab/../ab/{digest}.png", f"reward-models/ab/{digest}.png", None, ""):
        assert render.media_url(bad) is None, bad


REMOTE = [
    "![pixel](https://tracker.example/p.png)",
    "![](http://tracker.example/p.png \"title\")",
    "[![badge](https://tracker.example/b.svg)](https://tracker.example/)",
    "![ref][r]\n\n[r]: https://tracker.example/ref.png",
    "<img src=https://tracker.example/raw.png srcset='https://tracker.example/2x.png 2x'>",
    "<iframe src=https://tracker.example/frame></iframe><link rel=stylesheet href=https://tracker.example/s.css>",
    "<div style=\"background: url(https://tracker.example/bg.png)\">x</div>",
    "<video poster=https://tracker.example/v.png></video><object data=https://tracker.example/o></object>",
]


@pytest.mark.parametrize("payload", REMOTE)
def test_markdown_never_makes_a_tag_that_loads_from_outside(payload):
    """A Markdown image used to become a live <img> (a tracking pixel in a prompt or an
    output); now it is a link to click, named after its alt text."""
    html = render.markdown(payload)
    tags = Tags(html).tags
    assert {tag for tag, _ in tags} <= {"p", "a", "span", "br"}, html
    for _, attrs in tags:
        assert not {"src", "srcset", "style", "poster", "data"} & set(attrs), html


def test_a_remote_image_becomes_a_plain_link_named_after_its_alt_text():
    html = render.markdown("see ![a chart](https://tracker.example/c.png)")
    (link,) = [attrs for tag, attrs in Tags(html).tags if tag == "a"]
    assert link["href"] == "https://tracker.example/c.png" and "noreferrer" in link["rel"]
    assert "[image: a chart]" in html
