"""Free-prompt tab: a rater types a prompt, both contenders answer it (the text streams in
as it is generated), and the pair is rated like any other."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from studio.ui import pair_view, render, voting
from studio.ui.context import Context
from studio.ui.session import RaterSession
from studio.ui.text_input import MAX_PROMPT, typed_text
from studio.ui.wiring import Panel, named

PREFIX = "free"
READY = "Type a prompt and press Generate: both contenders answer it, then you rate the pair."


def layout(ctx: Context) -> Panel:
    p = Panel()
    with gr.Tab("Free prompt", id="free", elem_id="tab-free") as tab:
        with gr.Row():
            p["free_input"] = gr.Textbox(label="Your prompt", lines=2, scale=4, elem_id="free-input")
            p["free_generate"] = gr.Button("Generate", variant="primary", scale=1, elem_id="free-generate")
        p.update(pair_view.layout(PREFIX))
    p["free_tab"] = tab
    return p


class FreePromptHandlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def generate(self, prompt: str, session: RaterSession, request: gr.Request) -> Iterator[dict[str, Any]]:
        person = self.ctx.person(request, session)
        text = typed_text(prompt, what="the prompt", limit=MAX_PROMPT).strip()
        if not text:
            yield {"free_prompt": render.note("Type a prompt first.")}
            return
        yield {**pair_view.streaming(PREFIX, text, "", ""), "free_reveal": ""}
        for update in self.ctx.studio.free_prompt(text, person.name):
            if update.done and update.item is not None:
                yield pair_view.show(PREFIX, update.item, empty_message=READY)
            else:
                yield pair_view.streaming(PREFIX, text, update.left, update.right)

    def voter(self, outcome: str):
        def vote(token: str, rationale: str, decision_ms: float | None, session: RaterSession,
                 request: gr.Request) -> dict[str, Any]:
            recorded = voting.record(self.ctx, PREFIX, outcome, token, rationale, decision_ms, session, request)
            return {**pair_view.show(PREFIX, None, empty_message=READY),
                    **recorded.updates}

        vote.__name__ = f"free_vote_{outcome}"
        return vote


def wire(page: Panel, handlers: FreePromptHandlers, ctx: Context) -> None:
    shown = page.subset(*pair_view.shown_names(PREFIX), "free_reveal")
    gr.on([page["free_generate"].click, page["free_input"].submit], named(handlers.generate, shown),
          inputs=[page["free_input"], page["session"]], outputs=list(shown.values()), api_name="free_prompt",
          concurrency_id="generate", concurrency_limit=1)
    pair_view.wire_display_clock(page, PREFIX)
    outputs = page.subset(*pair_view.shown_names(PREFIX), "free_reveal", "free_rationale", "counter", "session")
    pair_view.wire_vote(page, PREFIX, lambda outcome: named(handlers.voter(outcome), outputs),
                        list(outputs.values()), [page["session"]], ctx.options.vote_concurrency)
