"""Training tab (admins only): jobs with their progress and a Cancel cell on each job still
queued or running, when the next automatic retrain is due, reward-model versions with their
held-out accuracy (a plot with 95% intervals), the current job's loss, "train now", and a
feature-cache build for a reward backbone. A timer
refreshes it while an admin has the page open; the work itself runs in the worker process,
never in the web server."""

from __future__ import annotations

import math
import re
import threading
from typing import Any

import gradio as gr
import pandas as pd

from studio.errors import InputError
from studio.ui import improvement
from studio.ui.context import Context
from studio.ui.session import RaterSession
from studio.ui.wiring import Panel, Selection, named

JOB_ROWS = 20
TITLE = "Training"
KINDS = ["auto", "text", "image"]
FEATURE_BACKBONES = ["smollm2-135m", "all-minilm-l6-v2"]
CANCEL = "✕ cancel"
ALIVE = ("queued", "running")
JOB_COLUMNS = ["id", "kind", "status", "progress", "message", "created", "action"]
_LOSS = re.compile(r"(\d+)/\d+, loss ([0-9.eE+-]+)")


def layout(ctx: Context) -> Panel:
    p = Panel()
    with gr.Tab(TITLE, id="training", visible=False, elem_id="tab-training") as tab:
        with gr.Row():
            p["training_mode"] = gr.Radio(["head", "full"], value=ctx.studio.config.training.mode,
                                          label="Mode (head: fast, frozen backbone; full: fine-tune)")
            p["training_kind"] = gr.Radio(KINDS, value="auto",
                                          label="Model (one per kind of output; auto: the votes' kind)")
            p["training_start"] = gr.Button("Train now", variant="primary", elem_id="train-now")
        with gr.Row():
            p["features_backbone"] = gr.Dropdown(
                FEATURE_BACKBONES, value=FEATURE_BACKBONES[0], allow_custom_value=True, elem_id="features-backbone",
                label="Backbone features: embed every output once, ahead of head-mode trainings (a path or hub id "
                      "works too)")
            p["features_start"] = gr.Button("Build feature cache", elem_id="features-build")
        p["training_message"] = gr.Markdown(elem_id="training-message")
        p["training_jobs"] = gr.Dataframe(headers=JOB_COLUMNS, label="Jobs, newest first (click ✕ cancel to stop one)",
                                          interactive=False, wrap=True, elem_id="training-jobs")
        p["training_agreement"] = gr.Markdown(elem_id="training-agreement")
        with gr.Row():
            p["training_accuracy_plot"] = gr.Plot(label="Held-out accuracy per version", elem_id="training-accuracy")
            p["training_loss_plot"] = gr.Plot(label="Loss of the current job", elem_id="training-loss")
        p["training_models"] = gr.Dataframe(label="Reward-model versions, newest first (gate: passed, or why "
                                                  "it is not used)", interactive=False)
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
        self._losses: dict[int, dict[int, float]] = {}      # job id -> step -> loss, as polled
        self._drawn: dict[str, Any] = {}
        self._lock = threading.Lock()

    def refresh(self, session: RaterSession, request: gr.Request) -> dict[str, Any]:
        self.ctx.admin(request, session)
        studio = self.ctx.studio
        jobs = studio.jobs(limit=JOB_ROWS)
        models = studio.reward_models()
        return {"training_jobs": jobs_frame(jobs),
                "training_message": status_line(jobs, studio.votes_until_retrain()),
                "training_models": models_frame(models),
                "training_agreement": agreement_text(studio.reward_agreement()),
                **self.plots(jobs, models)}

    def plots(self, jobs: pd.DataFrame, models: pd.DataFrame) -> dict[str, Any]:
        """The two plots, redrawn only when what they show changed."""
        from studio.ranking.plots import plot_loss, plot_reward_model_accuracy

        current = _current_job(jobs)
        curve: dict[int, float] = {}
        if current is not None:
            with self._lock:
                curve = self._losses.setdefault(int(current["id"]), {})
                found = _LOSS.search(str(current.get("message") or ""))
                if found:
                    curve[int(found.group(1))] = float(found.group(2))
                curve = dict(curve)
        wanted = ("version", "heldout_accuracy", "heldout_pairs", "heldout_low", "heldout_high", "gate",
                  "length_rule_accuracy")
        accuracy = models[[c for c in wanted if c in models]] \
            if not models.empty else pd.DataFrame(columns=["version", "heldout_accuracy", "heldout_pairs"])
        keys = {"training_accuracy_plot": accuracy.to_json(),
                "training_loss_plot": (None if current is None else int(current["id"]), sorted(curve.items()))}
        drawn = {}
        with self._lock:
            for name, key in keys.items():
                if self._drawn.get(name) != key:
                    self._drawn[name] = key
                    drawn[name] = None
        if "training_accuracy_plot" in drawn:
            drawn["training_accuracy_plot"] = plot_reward_model_accuracy(accuracy)
        if "training_loss_plot" in drawn:
            title = f"Job {int(current['id'])}" if current is not None else "No training yet"
            drawn["training_loss_plot"] = plot_loss(sorted(curve.items()), title=title)
        return drawn

    def train_now(self, mode: str, kind: str | None, session: RaterSession, request: gr.Request) -> dict[str, Any]:
        person = self.ctx.admin(request, session)
        if kind not in (None, *KINDS):
            raise InputError("the model is auto, text or image")
        chosen = None if kind in (None, "auto") else kind
        self.ctx.studio.enqueue_training(mode=mode, kind=chosen, requested_by=person.name)
        return self.refresh(session, request)

    def build_features(self, backbone: str, session: RaterSession, request: gr.Request) -> dict[str, Any]:
        """Queue a feature-cache build for a worker; its progress and ETA show in the jobs table."""
        self.ctx.admin(request, session)
        job = self.ctx.studio.build_features(str(backbone or "").strip(), background=True)
        refreshed = self.refresh(session, request)
        return {**refreshed, "training_message": f"Feature build for {job.payload['backbone']}: job {job.id} is "
                                                 f"**{job.status}** (it resumes where an earlier one stopped). "
                                                 + refreshed["training_message"]}

    def cancel(self, session: RaterSession, request: gr.Request, selected: Selection) -> dict[str, Any]:
        """A click on a job's ✕ cancel cell (any other cell does nothing)."""
        self.ctx.admin(request, session)
        row = list(getattr(selected, "row_value", None) or [])
        if selected.value != CANCEL or not row:
            return {}
        try:
            job_id = int(row[0])
        except (TypeError, ValueError):
            return {}
        self.ctx.studio.cancel_job(job_id)
        refreshed = self.refresh(session, request)
        return {**refreshed, "training_message": f"Asked job {job_id} to stop. " + refreshed["training_message"]}


def _current_job(jobs: pd.DataFrame) -> dict[str, Any] | None:
    """The running job, else the newest one."""
    if jobs.empty:
        return None
    records = jobs.to_dict("records")
    return next((j for j in records if j.get("status") == "running"), records[0])


def status_line(jobs: pd.DataFrame, votes_left: int | None) -> str:
    """One line from the same rows as the table, and when the next automatic retrain comes."""
    if votes_left is None:
        retrain = "Automatic retraining is off (training.retrain_every = 0)."
    elif votes_left == 0:
        retrain = "Next automatic retrain: due now."
    else:
        retrain = f"Next automatic retrain: in {votes_left} vote{'s' if votes_left != 1 else ''}."
    current = _current_job(jobs)
    if current is None:
        return f"No jobs yet. {retrain}"
    message = str(current.get("message") or current.get("error") or "").strip()
    detail = f": {message}" if message and message != current["status"] else ""
    return f"Job {int(current['id'])} is **{current['status']}**{detail}. {retrain}"


def jobs_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Jobs as readable rows; a job still queued or running has a ✕ cancel cell."""
    rows = []
    for job in frame.to_dict("records"):
        progress = job.get("progress")
        eta = job.get("eta_s")
        done = f"{float(progress):.0%}" if isinstance(progress, int | float) and not math.isnan(progress) else ""
        if isinstance(eta, int | float) and eta == eta and eta > 0 and job.get("status") == "running":
            done += f" ({eta:.0f} s left)"
        created = job.get("created_at")
        rows.append({"id": int(job["id"]), "kind": job.get("kind"), "status": job.get("status"), "progress": done,
                     "message": str(job.get("message") or job.get("error") or ""),
                     "created": str(created)[:19] if created is not None else "",
                     "action": CANCEL if job.get("status") in ALIVE else ""})
    return pd.DataFrame(rows, columns=JOB_COLUMNS)


MODEL_COLUMNS = ["version", "kind", "mode", "active", "gate", "heldout_accuracy", "heldout_low", "heldout_high",
                 "train_pairs", "heldout_pairs", "backbone", "created_at"]


def models_frame(frame: pd.DataFrame) -> pd.DataFrame:
    shown = frame[[c for c in MODEL_COLUMNS if c in frame.columns]].iloc[::-1].copy()
    if "created_at" in shown:
        shown["created_at"] = shown["created_at"].astype(str).str[:19]
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
    shown = page.subset("training_jobs", "training_message", "training_models", "training_agreement",
                        "training_accuracy_plot", "training_loss_plot")
    limit = dict(concurrency_id="admin", concurrency_limit=4)
    refresh = named(handlers.refresh, shown)
    page["training_timer"].tick(refresh, inputs=[page["session"]], outputs=list(shown.values()),
                                api_visibility="private", show_progress="hidden", **limit)
    page["training_tab"].select(refresh, inputs=[page["session"]], outputs=list(shown.values()),
                                api_visibility="private", **limit)
    page["training_start"].click(named(handlers.train_now, shown),
                                 inputs=[page["training_mode"], page["training_kind"], page["session"]],
                                 outputs=list(shown.values()), api_name="train_now", **limit)
    page["features_start"].click(named(handlers.build_features, shown),
                                 inputs=[page["features_backbone"], page["session"]],
                                 outputs=list(shown.values()), api_name="build_features", **limit)
    page["training_jobs"].select(named(handlers.cancel, shown), inputs=[page["session"]],
                                 outputs=list(shown.values()), api_name="cancel_job", **limit)
    improvement.wire(page, ctx)
