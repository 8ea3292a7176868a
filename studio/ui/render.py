"""HTML for untrusted text: prompts, model outputs and rater names.

Markdown is rendered on the server with raw HTML turned off, so `<script>`, `<img onerror>`
and the like arrive in the page as visible text, and markdown-it refuses `javascript:`,
`vbscript:` and `data:` link targets. Every other string goes through `html.escape`.

Nothing rendered loads anything from outside: a Markdown image (`![alt](https://host/p.png)`,
a tracking pixel in a prompt, an imported file or a model output) becomes a plain link
named after its alt text, never an `<img>`; with raw HTML off no `<iframe>`, `<link>`,
`srcset` or `style` can appear. The only `<img>` tags are the studio's own, pointing at
the studio's media route (`studio.ui.media`) for media keys of the artifact store.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markdown_it import MarkdownIt

from studio.ui.media import media_url

CODE_CLASS = "studio-code"


def _highlight(code: str, language: str) -> str:
    """A fenced code block boxed and coloured on the server with Pygments (no script or
    stylesheet from anywhere: the colours are classes styled by `code_css()`). The lexer is
    the fence's language, else a guess, else plain text; Pygments escapes the code."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import TextLexer, get_lexer_by_name, guess_lexer
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(language) if language else guess_lexer(code)
    except ClassNotFound:
        lexer = TextLexer()
    if not language and lexer.analyse_text(code) < 0.3:   # a weak guess colours prose at random
        lexer = TextLexer()
    return highlight(code, lexer, HtmlFormatter(nowrap=True))


def code_css() -> str:
    """The colours of highlighted code (Pygments' default style, scoped to code blocks)."""
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style="default").get_style_defs(f".{CODE_CLASS}")


# breaks: a single newline is a line break, as a model (or a poem) means it.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False, "typographer": False}) \
    .enable("table").enable("strikethrough")


def _fence(renderer, tokens, idx, options, env) -> str:
    token = tokens[idx]
    language = token.info.strip().split(" ")[0] if token.info else ""
    body = _highlight(token.content, language)
    label = f'<span class="studio-code-lang">{escape(language)}</span>' if language else ""
    return f'<div class="{CODE_CLASS}">{label}<pre><code>{body}</code></pre></div>\n'


def _code_block(renderer, tokens, idx, options, env) -> str:
    return f'<div class="{CODE_CLASS}"><pre><code>{escape(tokens[idx].content)}</code></pre></div>\n'


def _image_as_link(renderer, tokens, idx, options, env) -> str:
    token = tokens[idx]
    alt = escape(renderer.renderInlineAsText(token.children or [], options, env) or "image", quote=True)
    inside_link = sum(1 if t.type == "link_open" else -1 if t.type == "link_close" else 0 for t in tokens[:idx]) > 0
    if inside_link:              # a link cannot hold another: the image is its text
        return f'<span class="studio-image-link">[image: {alt}]</span>'
    src = escape(str(token.attrGet("src") or ""), quote=True)
    return f'<a href="{src}" class="studio-image-link">[image: {alt}]</a>'


_MARKDOWN.add_render_rule("image", _image_as_link)
_MARKDOWN.add_render_rule("fence", _fence)
_MARKDOWN.add_render_rule("code_block", _code_block)

# Characters that template engines in the browser could treat as syntax; as entities they
# display the same and mean nothing.
_INERT = str.maketrans({"{": "&#123;", "}": "&#125;", "$": "&#36;", "`": "&#96;"})


def markdown(text: str | None) -> str:
    """Markdown to HTML with every piece of raw HTML shown as text."""
    html = _MARKDOWN.render(text or "")
    return _inert(_external_links(html))


def text(value: object) -> str:
    """Any plain string (a rater or contender name) as inert HTML."""
    return _inert(escape(str(value), quote=True))


def _inert(html: str) -> str:
    return html.translate(_INERT)


def _external_links(html: str) -> str:
    # Links in model output open in a new tab and never send the studio's address along.
    return html.replace("<a href=", '<a rel="noopener noreferrer nofollow" target="_blank" href=')


TRUNCATED_MARK = "cut off: the answer reached the contender's token limit"


def side(kind: str, body: str | None, media_path: str | None, *, truncated: bool = False) -> str:
    """One output of a pair: Markdown for text (marked when it was cut at the token limit),
    an image for image contenders."""
    if kind == "image" or media_path:
        url = media_url(media_path)
        if url is None:
            return '<div class="studio-missing">image file is missing</div>'
        return f'<img class="studio-image" src="{escape(url)}" alt="generated image" loading="eager">'
    return output(body, truncated=truncated)


def output(body: str | None, *, truncated: bool = False) -> str:
    """A text output as rendered Markdown."""
    mark = f'<div class="studio-truncated">… {text(TRUNCATED_MARK)}</div>' if truncated else ""
    return f'<div class="studio-output">{markdown(body)}{mark}</div>'


def grid(media_paths: Sequence[str | None]) -> str:
    """A 2x2 grid of numbered images for the ranking mode."""
    cells = []
    for number, path in enumerate(media_paths, start=1):
        url = media_url(path)
        image = (f'<img class="studio-image" src="{escape(url)}" alt="image {number}">' if url
                 else '<div class="studio-missing">image file is missing</div>')
        cells.append(f'<figure class="studio-cell"><figcaption>{number}</figcaption>{image}</figure>')
    return f'<div class="studio-grid">{"".join(cells)}</div>'


def prompt(value: str | None) -> str:
    return f'<div class="studio-prompt">{markdown(value)}</div>'


def note(message: str) -> str:
    return f'<div class="studio-note">{text(message)}</div>'


def dry(message: str) -> str:
    """A plain, visible message where the pair would be (the pool has none ready)."""
    return f'<div class="studio-dry" role="status">{text(message)}</div>'
