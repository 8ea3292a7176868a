"""Data tab (admins only): recent votes with filters, and an export to download."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from studio.errors import InputError
from studio.ui.context import Context
from studio.ui.downloads import Downloads
from studio.ui.session import RaterSession
from studio.ui.text_input import MAX_FILTER, typed_text
from studio.ui.wiring import Panel, named

# The short columns first, so outcome, winner and rater are on screen; the prompt last.
COLUMNS = ["id", "created_at", "rater", "outcome", "winner", "left_contender", "right_contender", "decision_ms",
           "prompt_set", "source", "rationale", "prompt"]
OUTCOMES = ["any", "left", "right", "tie", "both_bad"]
# Formats that make one file to download (the `hf` dataset folder is for `studio export`).
EXPORT_SUFFIX = {"trl": ".jsonl", "trl-implicit": ".jsonl", "trl-conversational": ".jsonl", "kto": ".jsonl",
                 "jsonl": ".jsonl", "csv": ".csv", "parquet": ".parquet"}
EXPORT_FORMATS = list(EXPORT_SUFFIX)
PROMPT_PREVIEW = 80


def layout(ctx: Context) -> Panel:
    p = Panel()
    with gr.Tab("Data", id="data", visible=False, elem_id="tab-data") as tab:
        with gr.Row():
            p["data_rater"] = gr.Textbox(label="Rater", scale=1)
            p["data_contender"] = gr.Textbox(label="Contender (either side)", scale=1)
            p["data_prompt_set"] = gr.Textbox(label="Prompt set", scale=1)
            p["data_outcome"] = gr.Dropdown(OUTCOMES, value="any", label="Outcome", scale=1, elem_id="data-outcome")
            p["data_since"] = gr.Textbox(label="Since (YYYY-MM-DD)", scale=1, elem_id="data-since")
            p["data_limit"] = gr.Number(label="Rows", value=200, precision=0, minimum=1, maximum=10000, scale=1)
        p["data_refresh"] = gr.Button("Show votes", elem_id="data-refresh")
        p["data_table"] = gr.Dataframe(label="Recent votes, newest first", interactive=False, wrap=True,
                                       elem_id="data-table")
        with gr.Row():
            p["data_format"] = gr.Dropdown(EXPORT_FORMATS, value="trl", label="Export format (with the filters above)")
            p["data_export"] = gr.Button("Export", elem_id="data-export")
        p["data_message"] = gr.Markdown()
        p["data_file"] = gr.File(label="Download", interactive=False, elem_id="data-file")
    p["data_tab"] = tab
    return p


class DataHandlers:
    def __init__(self, ctx: Context, downloads: Downloads | None = None):
        self.ctx = ctx
        self.downloads = downloads or Downloads()

    def recent(self, rater: str, contender: str, prompt_set: str, outcome: str | None, since: str | None,
               limit: float | None, session: RaterSession, request: gr.Request) -> dict[str, Any]:
        self.ctx.admin(request, session)
        rows = int(min(max(limit or 200, 1), 10000))
        if outcome not in (None, *OUTCOMES):
            raise InputError(f"the outcome filter is one of {', '.join(OUTCOMES)}")
        frame = self.ctx.studio.comparisons(
            rater=_given(rater, "the rater filter"), contender=_given(contender, "the contender filter"),
            prompt_set=_given(prompt_set, "the prompt set filter"), since=_date(since), limit=rows,
            newest_first=True, outcome=None if outcome in (None, "any") else outcome)
        return {"data_table": table(frame)}

    def export(self, fmt: str, rater: str, contender: str, prompt_set: str, session: RaterSession,
               request: gr.Request) -> dict[str, Any]:
        """Export the filtered votes to a file the admin downloads (removed an hour later)."""
        self.ctx.admin(request, session)
        if fmt not in EXPORT_SUFFIX:
            raise InputError(f"export format must be one of {', '.join(EXPORT_FORMATS)}")
        filters = dict(raters=_given(rater, "the rater filter"), contenders=_given(contender, "the contender filter"),
                       prompt_set=_given(prompt_set, "the prompt set filter"))
        target = self.downloads.new_file(f"votes-{fmt}{EXPORT_SUFFIX[fmt]}")
        summary = self.ctx.studio.export(target, format=fmt, **filters)
        return {"data_file": str(summary.path),
                "data_message": f"{summary.total_rows} rows from {summary.comparisons} votes ({fmt})."}


def _date(value: str | None):
    """A YYYY-MM-DD day (UTC midnight), or None when empty."""
    import datetime as dt

    text = _given(value, "the date filter")
    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    except ValueError:
        raise InputError(f"the date filter takes a day as YYYY-MM-DD, got {text!r}") from None


def _given(value: str | None, what: str) -> str | None:
    return typed_text(value, what=what, limit=MAX_FILTER).strip() or None


def table(frame: pd.DataFrame) -> pd.DataFrame:
    shown = frame[[c for c in COLUMNS if c in frame.columns]].copy()
    if "prompt" in shown:
        shown["prompt"] = shown["prompt"].map(lambda t: t if len(t) <= PROMPT_PREVIEW else t[:PROMPT_PREVIEW] + "…")
    if "created_at" in shown:
        shown["created_at"] = shown["created_at"].astype(str).str[:19]
    return shown


def wire(page: Panel, handlers: DataHandlers, ctx: Context) -> None:
    filters = page.pick("data_rater", "data_contender", "data_prompt_set", "data_outcome", "data_since",
                        "data_limit")
    recent = named(handlers.recent, page.subset("data_table"))
    page["data_refresh"].click(recent, inputs=[*filters, page["session"]], outputs=[page["data_table"]],
                               api_name="data_recent", concurrency_id="admin", concurrency_limit=4)
    page["data_tab"].select(recent, inputs=[*filters, page["session"]], outputs=[page["data_table"]],
                            api_visibility="private", concurrency_id="admin", concurrency_limit=4)
    exported = page.subset("data_file", "data_message")
    page["data_export"].click(named(handlers.export, exported),
                              inputs=[page["data_format"], *filters[:3], page["session"]],
                              outputs=list(exported.values()), api_name="data_export", concurrency_id="export",
                              concurrency_limit=1)
