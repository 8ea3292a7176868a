"""The arena on its own, for a notebook (a front door beside the web app, so the `Studio`
facade never imports the UI and `import studio` never loads Gradio):

    from studio.ui.embed import arena
    live = arena(studio, rater="ana")           # served on a free loopback port
    live                                         # Jupyter shows it inline (an iframe)
    live.close()

It is the Arena tab of the full app (the same layout, handlers and wiring from
`studio.ui.arena`), with the rater fixed by the notebook instead of a welcome panel: the
page is served on a loopback address only, to the person running the notebook.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

import gradio as gr

from studio.errors import InputError
from studio.ui import arena as arena_tab
from studio.ui import media
from studio.ui.app import launch
from studio.ui.auth import clean_typed_name
from studio.ui.context import Context
from studio.ui.options import ServeOptions
from studio.ui.session import RaterSession, counter, whoami
from studio.ui.wiring import Panel, named

if TYPE_CHECKING:
    from studio.api import Studio

LOOPBACK = "127.0.0.1"


def build_arena(studio: Studio, rater: str, options: ServeOptions, *, pool=None) -> gr.Blocks:
    """A Blocks holding only the arena, rating as `rater` (not started)."""
    name = clean_typed_name(rater)
    ctx = Context(studio, options, pool=pool)
    handlers = arena_tab.ArenaHandlers(ctx)
    with gr.Blocks(title="Feedback Studio arena", analytics_enabled=options.analytics) as demo:
        page = Panel()
        page["session"] = gr.State(RaterSession())
        with gr.Row(elem_classes=["studio-header"]):
            page["whoami"] = gr.HTML(elem_id="studio-whoami")
            page["counter"] = gr.HTML(elem_id="studio-counter")
        # The page script asks for a pair while the arena inside #studio-tabs is empty.
        with gr.Tabs(elem_id="studio-tabs"):
            page.update(arena_tab.layout(ctx))
        arena_tab.wire(demo, page, handlers, ctx)

        def start(request: gr.Request) -> dict[str, Any]:
            studio.ensure_rater(name)
            session = RaterSession.start(name, len(studio.comparisons(rater=name, with_content=False)))
            return {"session": session, "counter": counter(session),
                    "whoami": whoami(name, "rater", gated=False), **handlers.next_pair(name, request)}

        shown = page.subset("session", "counter", "whoami", *arena_tab.SHOWN)
        demo.load(named(start, shown), outputs=list(shown.values()), api_visibility="private",
                  concurrency_id="vote", concurrency_limit=options.vote_concurrency)
    demo.studio_routes = media.routes(ctx)
    return demo


@dataclass
class InlineArena:
    """A running arena: shown inline by Jupyter (`_repr_html_`); `close()` stops it."""

    blocks: gr.Blocks
    url: str
    rater: str
    height: int = 720

    def _repr_html_(self) -> str:
        return (f'<div><iframe src="{escape(self.url)}" width="100%" height="{self.height}" '
                f'style="border: 0" title="Feedback Studio arena for {escape(self.rater)}"></iframe>'
                f'<div style="font-size: 0.8em">Rating as <b>{escape(self.rater)}</b> at '
                f'<a href="{escape(self.url)}" target="_blank">{escape(self.url)}</a>; '
                f'<code>.close()</code> stops it.</div></div>')

    def __repr__(self) -> str:
        return f"InlineArena(rater={self.rater!r}, url={self.url!r})"

    def close(self) -> None:
        self.blocks.close()


def arena(studio: Studio, rater: str | None = None, *, prompt_set: str | None = None,
          height: int = 720) -> InlineArena:
    """The arena, served on a loopback port from this process and shown inline when it is a
    cell's result; votes are recorded as `rater` (default: your login name). Pairs come from
    the pool: keep `studio serve` running, or call `studio.refill_pool()`. `.close()` stops it."""
    return inline_arena(studio, rater or _login_name(), prompt_set=prompt_set, height=height)


def _login_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError) as exc:
        raise InputError("cannot tell who you are: name the rater, e.g. arena(studio, rater='ana')") from exc


def inline_arena(studio: Studio, rater: str, *, prompt_set: str | None = None, port: int | None = None,
                 height: int = 720) -> InlineArena:
    """Build the arena and serve it on a loopback port in a background thread."""
    options = ServeOptions.from_config(studio.config, host=LOOPBACK, port=port or _free_port(),
                                       prompt_set=prompt_set, share=False)
    demo = build_arena(studio, rater, options)
    launch(demo, options, prevent_thread_lock=True, quiet=True)
    return InlineArena(blocks=demo, url=f"http://{LOOPBACK}:{options.port}/", rater=clean_typed_name(rater),
                       height=height)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]
