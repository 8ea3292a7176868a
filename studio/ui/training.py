"""Training tab (admins only): jobs with their progress, reward-model versions with their
held-out accuracy, "train now" and cancelling a job. A timer refreshes it while an admin
has the page open; the work itself runs in the worker process, never in the web server."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from studio.errors import InputError
from studio.ui import improvement, render
from studio.ui.context import Context
from studio.ui.session import RaterSession
from studio.ui.wiring import Panel, named

JOB_ROWS = 20
TITLE = "Training"
KINDS = ["auto", "text", "image"]


def layout(ctx: Context) -> Panel:
    p = Panel()
    with gr.Tab(TITLE, id="training", visible=False, elem_id="tab-training") as tab:
        with gr.Row():
            p["training_mode"] = gr.Radio(["head", "full"], value=ctx.studio.config.training.mode,
                                          label="Mode (head: fast, frozen backbone; full: fine-tune)")
            p["training_kind"] = gr.Radio(KINDS, value="auto",
                                          label="Model (one per kind of output; auto: the votes' kind)")
            p["training_start"] = gr.Button("Train now", variant="primary", elem_id="train-now")
        p["training_message"] = gr.Markdown()
        p["training_jobs"] = gr.HTML(elem_id="training-jobs")
        with gr.Row():
            p["training_cancel_id"] = gr.Number(label="Job id", value=None, precision=0, minimum=1)
            p["training_cancel"] = gr.Button("Cancel job", variant="stop")
        p["training_agreement"] = gr.Markdown(elem_id="training-agreement")
        p["training_models"] = gr.Dataframe(label="Reward-model versions, newest first (gate: passed, or why "
                                                  "it is not used)", interactive=False)
        p["training_plot"] = gr.Plot(label="Held-out accuracy per version, 95% interval", elem_id="training-plot")
        p.update(improvement.section(ctx))
    p["training_tab"] = tab
    return p


def clock(ctx: Context) -> Panel:
    """The refresh timer (placed outside the Tabs: anything but a Tab inside gr.Tabs shifts
    which tab a click selects)."""
    return Panel(training_timer=gr.Timer(ctx.options.admin_refresh_seconds, active=False))


class TrainingHandlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def refresh(self, session: RaterSession, request: gr.Request) -> dict[str, Any]:
        self.ctx.admin(request, session)
        studio = self.ctx.studio
        return {"training_jobs": jobs_html(studio.jobs(limit=JOB_ROWS)),
                "training_models": models_frame(studio.reward_models()),
                "training_plot": studio.plot_reward_model_accuracy(),
                "training_agreement": agreement_text(studio.reward_agreement())}

    def train_now(self, mode: str, kind: str | None, session: RaterSession, request: gr.Request) -> dict[str, Any]:
        person = self.ctx.admin(request, session)
        if kind not in (None, *KINDS):
            raise InputError("the model is auto, text or image")
        chosen = None if kind in (None, "auto") else kind
        job = self.ctx.studio.enqueue_training(mode=mode, kind=chosen, requested_by=person.name)
        return {"training_message": f"Training job {job.id} is {job.status} ({mode}, {chosen or 'the votes’ kind'}).",
                **self.refresh(session, request)}

    def cancel(self, job_id: float | None, session: RaterSession, request: gr.Request) -> dict[str, Any]:
        self.ctx.admin(request, session)
        if not job_id:
            return {"training_message": "Enter the id of the job to cancel."}
        self.ctx.studio.cancel_job(int(job_id))
        return {"training_message": f"Asked job {int(job_id)} to stop.", **self.refresh(session, request)}


def jobs_html(frame: pd.DataFrame) -> str:
    """Jobs as a table with a progress bar each (messages are escaped: they may quote data)."""
    if frame.empty:
        return render.note("No jobs yet.")
    rows = []
    for job in frame.to_dict("records"):
        progress = float(job.get("progress") or 0.0)
        eta = job.get("eta_s")
        eta_text = f"{eta:.0f} s left" if isinstance(eta, int | float) and eta == eta and eta > 0 else ""
        rows.append(
            f"<tr><td>{render.text(job.get('id'))}</td><td>{render.text(job.get('kind'))}</td>"
            f"<td>{render.text(job.get('status'))}</td>"
            f'<td><progress class="studio-progress" max="1" value="{progress:.3f}"></progress> '
            f"{progress:.0%} {render.text(eta_text)}</td>"
            f"<td>{render.text(job.get('message') or job.get('error') or '')}</td></tr>")
    head = "<tr><th>id</th><th>kind</th><th>status</th><th>progress</th><th>message</th></tr>"
    return f'<table class="studio-jobs">{head}{"".join(rows)}</table>'


MODEL_COLUMNS = ["version", "kind", "mode", "active", "gate", "heldout_accuracy", "heldout_low", "heldout_high",
                 "train_pairs", "heldout_pairs", "backbone", "created_at"]


def models_frame(frame: pd.DataFrame) -> pd.DataFrame:
    shown = frame[[c for c in MODEL_COLUMNS if c in frame.columns]].iloc[::-1].copy()
    if "created_at" in shown:
        shown["created_at"] = shown["created_at"].astype(str)
    for column in ("heldout_accuracy", "heldout_low", "heldout_high"):
        if column in shown:
            shown[column] = shown[column].round(3)
    return shown


def agreement_text(agreement: dict[str, Any]) -> str:
    """How often the active model's live predictions matched the raters."""
    if agreement.get("version") is None:
        return "No active reward model yet: press **Train now**, or wait for enough votes."
    if not agreement.get("votes"):
        return f"Reward model v{agreement['version']} is active; no decisive votes predicted yet."
    return (f"Reward model v{agreement['version']} agreed with raters on "
            f"{agreement['agreement']:.0%} of {agreement['votes']} decisive votes since it became active.")


def wire(page: Panel, handlers: TrainingHandlers, ctx: Context) -> None:
    shown = page.subset("training_jobs", "training_models", "training_plot", "training_agreement")
    limit = dict(concurrency_id="admin", concurrency_limit=4)
    refresh = named(handlers.refresh, shown)
    page["training_timer"].tick(refresh, inputs=[page["session"]], outputs=list(shown.values()),
                                api_visibility="private", show_progress="hidden", **limit)
    page["training_tab"].select(refresh, inputs=[page["session"]], outputs=list(shown.values()),
                                api_visibility="private", **limit)
    started = page.subset("training_message", *shown)
    page["training_start"].click(named(handlers.train_now, started),
                                 inputs=[page["training_mode"], page["training_kind"], page["session"]],
                                 outputs=list(started.values()),
                                 api_name="train_now", **limit)
    improvement.wire(page, ctx)
    page["training_cancel"].click(named(handlers.cancel, started),
                                  inputs=[page["training_cancel_id"], page["session"]],
                                  outputs=list(started.values()), api_name="cancel_job", **limit)
