"""Leaderboard tab: Bradley-Terry ratings with bootstrap intervals, for everyone."""

from __future__ import annotations

from typing import Any

import gradio as gr

from studio.ui.context import Context
from studio.ui.session import RaterSession
from studio.ui.wiring import Panel, named


def layout(ctx: Context) -> Panel:
    p = Panel()
    with gr.Tab("Leaderboard", id="leaderboard", elem_id="tab-leaderboard") as tab:
        with gr.Row():
            p["board_bootstrap"] = gr.Number(label="Bootstrap rounds (for the intervals)", value=200,
                                             precision=0, minimum=0, maximum=2000)
            p["board_refresh"] = gr.Button("Refresh", size="sm")
        p["board_note"] = gr.Markdown(elem_id="board-note")
        p["board_table"] = gr.Dataframe(label="Ratings", interactive=False, elem_id="board-table")
        p["board_plot"] = gr.Plot(label="Ratings with intervals")
    p["board_tab"] = tab
    return p


class LeaderboardHandlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def refresh(self, bootstrap: float | None, session: RaterSession, request: gr.Request) -> dict[str, Any]:
        self.ctx.person(request, session)
        rounds = int(min(max(bootstrap or 0, 0), 2000))
        board = self.ctx.studio.leaderboard(bootstrap=rounds, prompt_set=self.ctx.options.prompt_set)
        figure = self.ctx.studio.plot_leaderboard(board) if len(board) else None
        note = "" if len(board) else "No votes yet: the ratings fill in as raters vote in the Arena."
        return {"board_table": board.round(3), "board_plot": figure, "board_note": note}


def wire(page: Panel, handlers: LeaderboardHandlers, ctx: Context) -> None:
    shown = page.subset("board_table", "board_plot", "board_note")
    refresh = named(handlers.refresh, shown)
    inputs = [page["board_bootstrap"], page["session"]]
    page["board_refresh"].click(refresh, inputs=inputs, outputs=list(shown.values()), api_name="leaderboard",
                                concurrency_id="board", concurrency_limit=2)
    page["board_tab"].select(refresh, inputs=inputs, outputs=list(shown.values()), api_visibility="private",
                             concurrency_id="board", concurrency_limit=2)
