"""Arena tab: blind pairs from the pool, one vote at a time.

A click is one short transaction (the vote and the rater's next item, `vote_and_next`)
and nothing slow: the reward model's prediction for the pair just rated is a separate
event, in its own concurrency group of two, that starts once the vote is acknowledged;
raters keep voting while it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from studio.records import ItemView
from studio.ui import pair_view, render, voting
from studio.ui.context import Context
from studio.ui.session import RaterSession
from studio.ui.wiring import Panel, named

PREFIX = "arena"
# What `next_pair` updates (the page's load event shows the first pair with it).
SHOWN = pair_view.shown_names(PREFIX)
EMPTY = ("No pairs are ready for you yet: new ones are being generated. "
         "This page checks again every few seconds.")


def layout(ctx: Context) -> Panel:
    with gr.Tab("Arena", id="arena", elem_id="tab-arena") as tab:
        panel = pair_view.layout(PREFIX)
        panel["arena_prediction"] = gr.HTML(elem_id="arena-prediction", elem_classes=["studio-prediction"])
        # Pressed by the page's script every few seconds while the arena shows no pair.
        panel["arena_poll"] = gr.Button(visible="hidden", elem_id="arena-poll")
    panel["arena_tab"] = tab
    return panel


class ArenaHandlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def next_pair(self, rater: str) -> dict[str, Any]:
        """Put the rater's next pair on screen; poll while there is none."""
        return self.showing(self.ctx.studio.next_item(rater, prompt_set=self.ctx.options.prompt_set, shape="pair"))

    def showing(self, item: ItemView | None) -> dict[str, Any]:
        if item is None:
            self.ctx.nothing_ready()
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
        return {**self.showing(recorded.following), **recorded.updates, "arena_prediction": ""}

    def poll(self, session: RaterSession, request: gr.Request) -> dict[str, Any]:
        """Asked every few seconds while the arena is empty: a pair as soon as one is ready."""
        return self.next_pair(self.ctx.person(request, session).name)

    def prediction(self, session: RaterSession, request: gr.Request) -> dict[str, Any]:
        """The active reward model's guess for the pair just rated, next to the human vote."""
        self.ctx.person(request, session)
        if session.last_comparison_id is None:
            return {}
        predicted = self.ctx.studio.predict_vote(session.last_comparison_id)
        return {"arena_prediction": prediction_html(predicted)}


def prediction_html(predicted: Any) -> str:
    if predicted is None:
        return ""
    prob_left = float(getattr(predicted, "prob_left", predicted))
    side, prob = ("A", prob_left) if prob_left >= 0.5 else ("B", 1 - prob_left)
    version = getattr(predicted, "version", None)
    who = f"Reward model v{version}" if version is not None else "The reward model"
    spread = getattr(predicted, "spread", None)
    sure = f" ± {spread:.0%} across its ensemble" if spread is not None else ""
    return render.note(f"{who} predicted {side} is better ({prob:.0%}{sure}) for the pair you just rated.")


def wire(page: Panel, handlers: ArenaHandlers, ctx: Context) -> None:
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
