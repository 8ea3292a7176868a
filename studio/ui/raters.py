"""Raters tab (admins only): how far each rater can be trusted (votes, gold accuracy,
agreement with the consensus, anomaly p-value, decision time, too-fast votes, flags),
excluding or including a rater or one session, and marking a pair's right answer (gold).
Every handler checks the admin role on the server."""

from __future__ import annotations

from typing import Any

import gradio as gr

from studio.ui.context import Context
from studio.ui.session import RaterSession
from studio.ui.text_input import MAX_FILTER, typed_text
from studio.ui.wiring import Panel, named

TITLE = "Raters"
HELP = ("Excluded votes stay stored and drop out of leaderboards, agreement, training and exports until "
        "included again. Flags: anomalous (votes less predictable than an honest rater's), one_side, "
        "too_fast, gold (low accuracy on gold items).")
ANSWERS = ["left", "right", "tie", "both_bad"]


def layout(ctx: Context) -> Panel:
    p = Panel()
    with gr.Tab(TITLE, id="raters", visible=False, elem_id="tab-raters") as tab:
        gr.Markdown(HELP)
        p["raters_refresh"] = gr.Button("Refresh", size="sm", elem_id="raters-refresh")
        p["raters_table"] = gr.Dataframe(label="Raters", interactive=False, elem_id="raters-table")
        with gr.Row():
            p["raters_name"] = gr.Textbox(label="Rater", max_length=200, elem_id="raters-name")
            p["raters_session"] = gr.Textbox(label="Session (empty: every vote of the rater)", max_length=100)
            p["raters_reason"] = gr.Textbox(label="Reason", max_length=500)
        with gr.Row():
            p["raters_exclude"] = gr.Button("Exclude", variant="stop", elem_id="raters-exclude")
            p["raters_include"] = gr.Button("Include again", elem_id="raters-include")
        with gr.Row():
            p["gold_item"] = gr.Number(label="Gold: item id", precision=0, minimum=1)
            p["gold_answer"] = gr.Dropdown(ANSWERS, value="left", label="Right answer (as the item shows it)")
            p["gold_mark"] = gr.Button("Mark gold", elem_id="gold-mark")
        p["raters_message"] = gr.Markdown(elem_id="raters-message")
    p["raters_tab"] = tab
    return p


class RatersHandlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def table(self, session: RaterSession, request: gr.Request) -> dict[str, Any]:
        self.ctx.admin(request, session)
        return {"raters_table": self.ctx.studio.raters().round(3)}

    def exclude(self, name: str, rater_session: str, reason: str, session: RaterSession,
                request: gr.Request) -> dict[str, Any]:
        self.ctx.admin(request, session)
        name, part = self._target(name, rater_session)
        changed = self.ctx.studio.exclude_rater(name, session=part,
                                                reason=typed_text(reason or "", what="the reason", limit=500))
        what = f"{name}'s session {part}" if part else name
        return {"raters_message": f"{what} excluded." if changed else f"{what} was already excluded.",
                **self.table(session, request)}

    def include(self, name: str, rater_session: str, session: RaterSession, request: gr.Request) -> dict[str, Any]:
        self.ctx.admin(request, session)
        name, part = self._target(name, rater_session)
        changed = self.ctx.studio.include_rater(name, session=part)
        what = f"{name}'s session {part}" if part else name
        return {"raters_message": f"{what} counted again." if changed else f"{what} was not excluded.",
                **self.table(session, request)}

    def mark_gold(self, item_id: float | None, answer: str, session: RaterSession,
                  request: gr.Request) -> dict[str, Any]:
        self.ctx.admin(request, session)
        if not item_id:
            return {"raters_message": "Give the item id of a pair first."}
        self.ctx.studio.mark_gold(int(item_id), answer)
        return {"raters_message": f"Item {int(item_id)} is gold: the right answer is {answer}."}

    @staticmethod
    def _target(name: str, rater_session: str) -> tuple[str, str | None]:
        name = typed_text(name or "", what="the rater", limit=MAX_FILTER).strip()
        part = typed_text(rater_session or "", what="the session", limit=MAX_FILTER).strip() or None
        return name, part


def wire(page: Panel, handlers: RatersHandlers, ctx: Context) -> None:
    admin = dict(concurrency_id="admin", concurrency_limit=4)
    table = page.subset("raters_table")
    page["raters_refresh"].click(named(handlers.table, table), inputs=[page["session"]], outputs=table.outputs(),
                                 api_name="raters", **admin)
    page["raters_tab"].select(named(handlers.table, table), inputs=[page["session"]], outputs=table.outputs(),
                              api_visibility="private", **admin)
    changed = page.subset("raters_message", "raters_table")
    target = [page["raters_name"], page["raters_session"]]
    page["raters_exclude"].click(named(handlers.exclude, changed),
                                 inputs=[*target, page["raters_reason"], page["session"]],
                                 outputs=changed.outputs(), api_name="raters_exclude", **admin)
    page["raters_include"].click(named(handlers.include, changed), inputs=[*target, page["session"]],
                                 outputs=changed.outputs(), api_name="raters_include", **admin)
    message = page.subset("raters_message")
    page["gold_mark"].click(named(handlers.mark_gold, message),
                            inputs=[page["gold_item"], page["gold_answer"], page["session"]],
                            outputs=message.outputs(), api_name="gold_mark", **admin)
