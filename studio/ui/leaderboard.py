"""Leaderboard tab: Bradley-Terry ratings with bootstrap intervals and rank intervals
("2 to 4"), for everyone; with style control, the ratings with length and markdown held
equal beside the raw ones, and the style coefficients."""

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
            p["board_style"] = gr.Checkbox(label="Style control (length, headers, lists, bold held equal)",
                                           value=False, elem_id="board-style")
            p["board_refresh"] = gr.Button("Refresh", size="sm")
        p["board_table"] = gr.Dataframe(label="Ratings", interactive=False, elem_id="board-table")
        p["board_coefficients"] = gr.Dataframe(label="Style coefficients", interactive=False, visible=False,
                                               elem_id="board-coefficients")
        p["board_plot"] = gr.Plot(label="Ratings with intervals")
    p["board_tab"] = tab
    return p


class LeaderboardHandlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def refresh(self, bootstrap: float | None, style: bool, session: RaterSession,
                request: gr.Request) -> dict[str, Any]:
        self.ctx.person(request, session)
        rounds = int(min(max(bootstrap or 0, 0), 2000))
        studio, prompt_set = self.ctx.studio, self.ctx.options.prompt_set
        if style:
            fitted = studio.style_leaderboard(bootstrap=rounds, prompt_set=prompt_set)
            return {"board_table": with_ranks(fitted.board).round(3), "board_plot": None,
                    "board_coefficients": gr.update(value=fitted.coefficients.round(4), visible=True)}
        board = studio.leaderboard(bootstrap=rounds, prompt_set=prompt_set)
        figure = studio.plot_leaderboard(board) if len(board) else None
        return {"board_table": with_ranks(board).round(3), "board_plot": figure,
                "board_coefficients": gr.update(visible=False)}


def with_ranks(board):
    """The board with a `ranks` column ("2 to 4", or "2" when certain) beside rank_low/rank_high
    (and `raw_ranks` for a style-controlled board's raw columns)."""
    board = board.copy()
    for name in ("", "raw_"):
        low, high = f"{name}rank_low", f"{name}rank_high"
        if low in board.columns:
            board[f"{name}ranks"] = [_ranks(a, b) for a, b in zip(board[low], board[high], strict=True)]
    return board


def _ranks(low, high) -> str:
    import pandas as pd

    if pd.isna(low) or pd.isna(high):
        return ""
    return f"{int(low)}" if low == high else f"{int(low)} to {int(high)}"


def wire(page: Panel, handlers: LeaderboardHandlers, ctx: Context) -> None:
    shown = page.subset("board_table", "board_plot", "board_coefficients")
    refresh = named(handlers.refresh, shown)
    inputs = [page["board_bootstrap"], page["board_style"], page["session"]]
    page["board_refresh"].click(refresh, inputs=inputs, outputs=list(shown.values()), api_name="leaderboard",
                                concurrency_id="board", concurrency_limit=2)
    page["board_tab"].select(refresh, inputs=inputs, outputs=list(shown.values()), api_visibility="private",
                             concurrency_id="board", concurrency_limit=2)
