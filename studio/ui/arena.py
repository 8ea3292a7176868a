"""Arena tab: blind pairs from the pool, one vote at a time.

A click is one short transaction (the vote and the rater's next item, `vote_and_next`)
and nothing slow: the reward model's prediction for the pair just rated is a separate
event, in its own concurrency group of two, that starts once the vote is acknowledged;
raters keep voting while it runs. It is shown to admins, and to raters only when an admin
turned that on, and only for an active model that passed the activation gate
(`studio.ui.prediction`).

When the pool is dry the panel says so with an estimate from the pool's recent pace, the
buttons are disabled (no token), and the page asks again every `poll_seconds` so the next
pair appears as soon as it exists. A page that closes releases the pair it held
(`demo.unload`): other raters get it at once instead of after the lease.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import gradio as gr

from studio.records import ItemView
from studio.ui import pair_view, prediction, render, voting
from studio.ui.context import Context
from studio.ui.session import RaterSession
from studio.ui.wiring import Panel, named

PREFIX = "arena"
# What `next_pair` updates (the page's load event shows the first pair with it).
SHOWN = pair_view.shown_names(PREFIX)
EMPTY = "No pair is ready for you yet."


def layout(ctx: Context) -> Panel:
    with gr.Tab("Arena", id="arena", elem_id="tab-arena") as tab:
        panel = pair_view.layout(PREFIX)
        panel["arena_prediction"] = gr.HTML(elem_id="arena-prediction", elem_classes=["studio-prediction"])
        # Pressed by the page's script every few seconds while the arena shows no pair.
        panel["arena_poll"] = gr.Button("poll", elem_id="arena-poll", elem_classes=[pair_view.HIDDEN])
    panel["arena_tab"] = tab
    return panel


def dry_message(pace: dict[str, float | None]) -> str:
    """What a rater reads while the pool has nothing for them, with an estimate."""
    every = pace.get("seconds_per_item")
    since = pace.get("since_last_s") or 0.0
    if every is None:
        return (f"{EMPTY} The first pairs are being generated (the models load first; usually under "
                "a minute). The next pair appears here by itself as soon as it exists.")
    left = max(5.0, every - since)
    return (f"{EMPTY} New pairs are made about every {_seconds(every)}; the next should be here in "
            f"about {_seconds(left)}. It appears here by itself as soon as it exists.")


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value < 90 else f"{value / 60:.0f} min"


class ArenaHandlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._pages: dict[str, set[str]] = defaultdict(set)    # rater -> open pages (session hashes)
        self._page_rater: dict[str, str] = {}
        self._lock = threading.Lock()

    def next_pair(self, rater: str, request: gr.Request | None = None) -> dict[str, Any]:
        """Put the rater's next pair on screen; poll while there is none."""
        self.opened(rater, request)
        return self.showing(self.ctx.studio.next_item(rater, prompt_set=self.ctx.options.prompt_set, shape="pair"))

    def showing(self, item: ItemView | None) -> dict[str, Any]:
        if item is None:
            self.ctx.nothing_ready()
            shown = pair_view.show(PREFIX, None, empty_message="")
            return {**shown, f"{PREFIX}_prompt": render.dry(dry_message(self.ctx.studio.pool_pace()))}
        return pair_view.show(PREFIX, item, empty_message=EMPTY)

    def voter(self, outcome: str) -> Callable[..., dict[str, Any]]:
        def vote(token: str, rationale: str, decision_ms: float | None, session: RaterSession,
                 request: gr.Request) -> dict[str, Any]:
            return self.vote(outcome, token, rationale, decision_ms, session, request)

        vote.__name__ = f"vote_{outcome}"
        return vote

    def vote(self, outcome: str, token: str, rationale: str, decision_ms: float | None,
             session: RaterSession, request: gr.Request | None) -> dict[str, Any]:
        """Record the vote, reveal the names, show the next pair at once (one transaction)."""
        recorded = voting.record(self.ctx, PREFIX, outcome, token, rationale, decision_ms, session, request,
                                 then_next=True)
        self.opened(recorded.person.name, request)
        return {**self.showing(recorded.following), **recorded.updates, "arena_prediction": ""}

    def poll(self, session: RaterSession, request: gr.Request) -> dict[str, Any]:
        """Asked every few seconds while the arena is empty: a pair as soon as one is ready."""
        return self.next_pair(self.ctx.person(request, session).name, request)

    def prediction(self, session: RaterSession, request: gr.Request) -> dict[str, Any]:
        """The active reward model's guess for the pair just rated, next to the human vote
        (admins; raters only when an admin turned it on; only a model past the gate)."""
        person = self.ctx.person(request, session)
        if session.last_comparison_id is None or not self.ctx.prediction.shown_to(person):
            return {}
        predicted = self.ctx.studio.predict_vote(session.last_comparison_id)
        if predicted is None or not self.ctx.prediction.passed(getattr(predicted, "version", None)):
            return {}
        return {"arena_prediction": prediction.html(predicted)}

    # -- open pages ------------------------------------------------------------------------

    def opened(self, rater: str, request: gr.Request | None) -> None:
        page = getattr(request, "session_hash", None)
        if page:
            with self._lock:
                previous = self._page_rater.get(page)
                if previous is not None and previous != rater:
                    self._pages[previous].discard(page)
                self._page_rater[page] = rater
                self._pages[rater].add(page)

    def closed(self, request: gr.Request) -> None:
        """A page closed (Gradio's unload): when it was the rater's last open page, the pair
        it showed goes back to the pool for others at once."""
        page = getattr(request, "session_hash", None)
        with self._lock:
            rater = self._page_rater.pop(page, None) if page else None
            if rater is None:
                return
            pages = self._pages[rater]
            pages.discard(page)
            if pages:
                return
            del self._pages[rater]
        self.ctx.studio.release_items(rater)


def wire(demo: gr.Blocks, page: Panel, handlers: ArenaHandlers, ctx: Context) -> None:
    outputs = page.subset(*SHOWN, "arena_reveal", "arena_rationale", "arena_prediction", "counter", "session")
    pair_view.wire_display_clock(page, PREFIX)
    events = pair_view.wire_vote(
        page, PREFIX, lambda outcome: named(handlers.voter(outcome), outputs), list(outputs.values()),
        [page["session"]], ctx.options.vote_concurrency)
    for event in events:
        event.success(named(handlers.prediction, {"arena_prediction": page["arena_prediction"]}),
                      inputs=[page["session"]], outputs=[page["arena_prediction"]],
                      concurrency_id="predict", concurrency_limit=2, show_progress="hidden",
                      api_visibility="private")
    shown = page.subset(*SHOWN)
    page["arena_poll"].click(named(handlers.poll, shown), inputs=[page["session"]], outputs=list(shown.values()),
                             concurrency_id="vote", concurrency_limit=ctx.options.vote_concurrency,
                             show_progress="hidden", api_visibility="private", trigger_mode="once")
    demo.unload(handlers.closed)
