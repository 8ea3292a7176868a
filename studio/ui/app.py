"""The Gradio app: assembles the tabs (layout), then connects their events (wiring).

    from studio.ui.app import build_app, launch
    demo = build_app(studio, options)       # a gr.Blocks, not started
    launch(demo, options)                   # serve it (blocks unless prevent_thread_lock)

Page start: the load event asks the server who is calling. With a users file the studio's
login (`studio.ui.login`) has already named them; without one, the page asks for a name
once per browser session (kept in the browser's storage) before showing the tabs. Admin
tabs are shown only to admins (with a users file, its admins; without one, a browser that
opened the admin link, `studio.ui.admin_link`), and their handlers check the role again on
every call.
"""

from __future__ import annotations

import os
from typing import Any

import gradio as gr

from studio.errors import AccessDenied, StudioError
from studio.ui import (
    arena,
    data,
    free_prompt,
    leaderboard,
    media,
    ranking_grid,
    raters,
    settings,
    training,
    vote_api,
)
from studio.ui.auth import Person, clean_typed_name
from studio.ui.context import Context
from studio.ui.keys import head_script
from studio.ui.options import ServeOptions
from studio.ui.session import RaterSession, counter, whoami
from studio.ui.style import css, theme
from studio.ui.wiring import Panel, Selection, named

ADMIN_TABS = ("training_tab", "data_tab", "raters_tab", "settings_tab")
TITLE = "Feedback Studio"
CACHE_PRUNING = (3600, 86400)   # (every N seconds, files older than N seconds)
AUTH_MESSAGE = "Sign in with the name and password your admin gave you."


def build_app(studio, options: ServeOptions, *, pool=None) -> gr.Blocks:
    """The app for `studio`; `pool` (a PoolWorker, optional) is woken when a rater finds
    no pair ready."""
    ctx = Context(studio, options, pool=pool)
    # Gradio keeps a copy of every file it serves (images, downloads) in its cache: prune
    # copies older than a day every hour, and all of them when the server stops.
    with gr.Blocks(title=TITLE, analytics_enabled=options.analytics, delete_cache=CACHE_PRUNING) as demo:
        page = layout(ctx)
        wire(demo, page, ctx)
    demo.studio_routes = [*vote_api.routes(ctx), *media.routes(ctx)]      # served next to the app by `launch`
    return demo


def layout(ctx: Context) -> Panel:
    page = Panel()
    page["session"] = gr.State(RaterSession())
    page["saved_name"] = gr.BrowserState(None, storage_key="feedback-studio-rater")
    with gr.Row(elem_classes=["studio-header"]):
        gr.HTML(f'<span class="studio-title">{TITLE}</span>')
        page["whoami"] = gr.HTML(elem_id="studio-whoami")
        page["counter"] = gr.HTML(elem_id="studio-counter")
        page["switch_rater"] = gr.Button("Switch rater", size="sm", visible=False, elem_id="switch-rater",
                                         scale=0, min_width=120)
    with gr.Column(visible=False, elem_id="studio-welcome") as welcome:
        gr.Markdown("### Who is rating?\nYour name is stored with each vote. "
                    "It is asked once per browser session.")
        page["welcome_name"] = gr.Textbox(label="Your name", max_length=80, elem_id="welcome-name")
        page["welcome_go"] = gr.Button("Start rating", variant="primary", elem_id="welcome-go")
    page["welcome"] = welcome
    with gr.Tabs(visible=False, elem_id="studio-tabs") as tabs:
        page.update(arena.layout(ctx))
        page.update(free_prompt.layout(ctx))
        page.update(ranking_grid.layout(ctx))
        page.update(leaderboard.layout(ctx))
        page.update(training.layout(ctx))
        page.update(data.layout(ctx))
        page.update(raters.layout(ctx))
        page.update(settings.layout(ctx))
    page["tabs"] = tabs
    page.update(training.clock(ctx))
    return page


class PageHandlers:
    """Start of a page: who is calling, which tabs they see, their first pair."""

    def __init__(self, ctx: Context, arena_handlers: arena.ArenaHandlers,
                 grid_handlers: ranking_grid.GridHandlers):
        self.ctx = ctx
        self.arena = arena_handlers
        self.grid = grid_handlers

    def load(self, saved_name: str | None, request: gr.Request) -> dict[str, Any]:
        typed = None if self.ctx.access.gated else _stored_name(saved_name)
        person = self.ctx.caller(request, typed)
        if person is None:
            if self.ctx.access.gated:  # logged in but no longer in the users file
                raise AccessDenied("your account is not in the users file any more; ask an admin")
            return {"welcome": gr.update(visible=True), "tabs": gr.update(visible=False)}
        return self.enter(person, typed, request)

    def start(self, name: str, request: gr.Request) -> dict[str, Any]:
        """The name typed on the welcome panel (only without a users file)."""
        if self.ctx.access.gated:
            raise AccessDenied("this studio has a users file: sign in instead")
        typed = clean_typed_name(name)
        person = self.ctx.person(request, RaterSession(typed_name=typed))
        return {**self.enter(person, typed, request), "saved_name": typed}

    def tab_selected(self, session: RaterSession, request: gr.Request, selected: Selection) -> dict[str, Any]:
        """The Training tab refreshes itself only while an admin has it open."""
        person = self.ctx.caller(request, session.typed_name)
        open_training = selected.value == training.TITLE and person is not None and person.is_admin
        return {"training_timer": gr.update(active=open_training)}

    def switch(self, session: RaterSession, request: gr.Request) -> dict[str, Any]:
        """Back to the welcome panel; the pair the last rater held goes to others at once."""
        person = self.ctx.caller(request, session.typed_name) if session.typed_name else None
        if person is not None:
            self.arena.closed(request)
        return {"saved_name": None, "session": RaterSession(), "welcome": gr.update(visible=True),
                "tabs": gr.update(visible=False), "whoami": "", "counter": "",
                "switch_rater": gr.update(visible=False), "welcome_name": ""}

    def enter(self, person: Person, typed: str | None, request: gr.Request | None = None) -> dict[str, Any]:
        studio = self.ctx.studio
        studio.ensure_rater(person.name, person.role)
        total = len(studio.comparisons(rater=person.name, with_content=False))
        session = RaterSession.start(typed, total)
        tabs = {name: gr.update(visible=person.is_admin) for name in ADMIN_TABS}
        return {"session": session, "welcome": gr.update(visible=False), "tabs": gr.update(visible=True),
                "whoami": whoami(person.name, person.role, gated=self.ctx.access.gated),
                "counter": counter(session), "switch_rater": gr.update(visible=not self.ctx.access.gated),
                **tabs, **self.arena.next_pair(person.name, request), **self.grid.next_grid(person.name)}


def _stored_name(saved: Any) -> str | None:
    if not isinstance(saved, str):
        return None
    try:
        return clean_typed_name(saved)
    except StudioError:
        return None


def wire(demo: gr.Blocks, page: Panel, ctx: Context) -> None:
    arena_handlers = arena.ArenaHandlers(ctx)
    grid_handlers = ranking_grid.GridHandlers(ctx)
    handlers = PageHandlers(ctx, arena_handlers, grid_handlers)

    entry_names = ["session", "welcome", "tabs", "whoami", "counter", "switch_rater", *ADMIN_TABS,
                   *arena.SHOWN, *ranking_grid.SHOWN]
    entry = page.subset(*entry_names)
    session_limit = dict(concurrency_id="vote", concurrency_limit=ctx.options.vote_concurrency)
    gr.on([page["welcome_go"].click, page["welcome_name"].submit],
          named(handlers.start, {**entry, "saved_name": page["saved_name"]}),
          inputs=[page["welcome_name"]], outputs=[*entry.values(), page["saved_name"]],
          api_name="start", **session_limit)
    page["switch_rater"].click(
        named(handlers.switch, page.subset("saved_name", "session", "welcome", "tabs", "whoami", "counter",
                                           "switch_rater", "welcome_name")),
        outputs=page.pick("saved_name", "session", "welcome", "tabs", "whoami", "counter", "switch_rater",
                          "welcome_name"), inputs=[page["session"]], api_visibility="private", queue=False)

    page["tabs"].select(named(handlers.tab_selected, page.subset("training_timer")), inputs=[page["session"]],
                        outputs=[page["training_timer"]], api_visibility="private", queue=False)

    arena.wire(demo, page, arena_handlers, ctx)
    free_prompt.wire(page, free_prompt.FreePromptHandlers(ctx), ctx)
    ranking_grid.wire(page, grid_handlers, ctx)
    leaderboard.wire(page, leaderboard.LeaderboardHandlers(ctx), ctx)
    training.wire(page, training.TrainingHandlers(ctx), ctx)
    data.wire(page, data.DataHandlers(ctx), ctx)
    raters.wire(page, raters.RatersHandlers(ctx), ctx)
    settings.wire(page, settings.SettingsHandlers(ctx), ctx)

    demo.load(named(handlers.load, entry), inputs=[page["saved_name"]], outputs=list(entry.values()),
              api_visibility="private", **session_limit)


def launch(demo: gr.Blocks, options: ServeOptions, *, prevent_thread_lock: bool = False,
           quiet: bool = False) -> Any:
    """Serve an app (the full studio, or the notebook's arena): private by default (no
    analytics, no share link, no run history), only the media folder readable from disk, the
    vote group sized for many raters at once, and on the same port, ahead of Gradio's routes:
    the JSON vote API (`studio.ui.vote_api`) when the app has it, the admin link's route, and
    with a users file the studio's own login (`studio.ui.login`). Every request passes the
    cross-site guard (`studio.ui.origin_guard`) first."""
    from starlette.middleware import Middleware

    from studio.ui import admin_link, login
    from studio.ui.origin_guard import OriginGuard

    # Gradio rebuilds a summary of its recent events (a DataFrame of up to 10,000 rows, for
    # its monitoring page) after every event by default: tens of milliseconds per vote once
    # the history is full, for a page this app turns off. Once per 10,000 events is plenty.
    # Its public knob is this variable, read when the queue is made.
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "10000")
    demo.queue(default_concurrency_limit=4, max_size=None)
    users = options.users
    routes = [*admin_link.routes(options.admin_link, options.port), *getattr(demo, "studio_routes", [])]
    middleware = [Middleware(OriginGuard)]
    user = None
    if users is not None:
        user = login.signed_in(options.sign_ins, options.port)
        routes = login.routes(users, options.sign_ins, options.port, AUTH_MESSAGE) + routes
        middleware.append(Middleware(login.LoginRedirect, user=user))
    return demo.launch(
        server_name=options.host, server_port=options.port, share=options.share, inline=False,
        auth_dependency=user,
        allowed_paths=[],          # media come through the studio's own route (studio.ui.media)
        max_threads=options.vote_concurrency + 16,
        prevent_thread_lock=prevent_thread_lock, quiet=quiet, show_error=False,
        footer_links=[], run_history=False, enable_monitoring=False, mcp_server=False, ssr_mode=False,
        pwa=False, theme=theme(), css=css(), head=head_script(options.poll_seconds),
        # No FastAPI schema at /openapi.json: it answers before any login and lists every route.
        app_kwargs={"routes": routes, "middleware": middleware, "openapi_url": None})
