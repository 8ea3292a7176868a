"""The Training tab's "Improve a contender" section (admins only): queue a DPO (or rm-dpo)
improvement of a text contender for the worker, and see each improved version's win rate
against its parent with its interval (the lift) as a table and a plot."""

from __future__ import annotations

from typing import Any

import gradio as gr

from studio.ui.context import Context
from studio.ui.session import RaterSession
from studio.ui.wiring import Panel, named

METHODS = ["dpo", "rm-dpo"]
LIFT_COLUMNS = ["contender", "parent", "method", "enabled", "votes", "win_rate", "ci_low", "ci_high", "verdict",
                "predicted_win_rate"]


def section(ctx: Context) -> Panel:
    """The components, placed inside the Training tab by `training.layout`."""
    p = Panel()
    gr.Markdown("### Improve a contender from the votes")
    with gr.Row():
        p["improve_contender"] = gr.Dropdown(choices=text_contenders(ctx), label="Contender", allow_custom_value=True,
                                             elem_id="improve-contender")
        p["improve_method"] = gr.Radio(METHODS, value="dpo", label="Method (dpo: human votes; rm-dpo: samples "
                                                                    "the reward model ranks)")
        p["improve_start"] = gr.Button("Improve", variant="primary", elem_id="improve-now")
    p["improve_message"] = gr.Markdown(elem_id="improve-message")
    p["improve_lift"] = gr.Dataframe(label="Improved versions against their parents (human votes)",
                                     interactive=False, elem_id="improve-lift")
    p["improve_plot"] = gr.Plot(label="Win rate against the parent, 95% interval", elem_id="improve-plot")
    return p


def text_contenders(ctx: Context) -> list[str]:
    frame = ctx.studio.contenders()
    if frame.empty:
        return []
    usable = frame[(frame["kind"] == "text") & (frame["backend"] == "transformers") & frame["enabled"]]
    return usable["name"].tolist()


class ImproveHandlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def refresh(self, session: RaterSession, request: gr.Request) -> dict[str, Any]:
        self.ctx.admin(request, session)
        lift = self.ctx.studio.lift()
        shown = lift[[c for c in LIFT_COLUMNS if c in lift.columns]].round(3)
        return {"improve_lift": shown, "improve_plot": self.ctx.studio.plot_lift(lift),
                "improve_contender": gr.update(choices=text_contenders(self.ctx))}

    def improve(self, contender: str | None, method: str, session: RaterSession,
                request: gr.Request) -> dict[str, Any]:
        person = self.ctx.admin(request, session)
        if not contender:
            return {"improve_message": "Choose the contender to improve."}
        job = self.ctx.studio.improve(contender, method=method, background=True, requested_by=person.name)
        return {"improve_message": f"Improvement job {job.id} of {contender} is {job.status} ({method}); "
                                   "its new version enters the arena against it when done.",
                **self.refresh(session, request)}


def wire(page: Panel, ctx: Context) -> None:
    handlers = ImproveHandlers(ctx)
    limit = dict(concurrency_id="admin", concurrency_limit=4)
    shown = page.subset("improve_lift", "improve_plot", "improve_contender")
    page["training_tab"].select(named(handlers.refresh, shown), inputs=[page["session"]],
                                outputs=list(shown.values()), api_visibility="private", **limit)
    started = page.subset("improve_message", *shown)
    page["improve_start"].click(named(handlers.improve, started),
                                inputs=[page["improve_contender"], page["improve_method"], page["session"]],
                                outputs=list(started.values()), api_name="improve_contender", **limit)
