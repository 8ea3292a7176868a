"""`studio jobs`: background jobs with their progress; `studio jobs cancel ID`."""

from __future__ import annotations

from typing import Annotated

import typer

from studio.commands._app import DataOption, JsonOption, app, open_studio, print_json, print_table

jobs_app = typer.Typer(help="Background jobs (trainings, improvements, feature builds, the pool's top-ups): "
                            "status, progress, results; cancel one.",
                       invoke_without_command=True)
app.add_typer(jobs_app, name="jobs")

COLUMNS = ["id", "kind", "status", "progress", "step", "total_steps", "eta_s", "message", "created_at"]


@jobs_app.callback()
def jobs(ctx: typer.Context, data: DataOption = None, as_json: JsonOption = False,
         limit: Annotated[int, typer.Option("--limit", min=1, help="Show the newest N jobs.")] = 20,
         kind: Annotated[str | None, typer.Option("--kind", help="Only jobs of this kind: train_reward_model, "
                                                  "improve_contender, build_features, or generate_pool (the "
                                                  "pool's top-ups on workers).")] = None) -> None:
    """List the newest jobs (run `studio jobs cancel ID` to stop one). A top-up a worker could
    not run says why in its message ("left for another worker: ...")."""
    if ctx.invoked_subcommand is not None:
        return
    with open_studio(data) as studio:
        frame = studio.jobs(limit=limit, kind=kind)
    rows = frame.to_dict(orient="records")
    if as_json:
        print_json(rows)
    else:
        print_table([{c: row[c] for c in COLUMNS} for row in rows], COLUMNS)


@jobs_app.command("cancel")
def cancel(job_id: Annotated[int, typer.Argument(help="The job's id (see `studio jobs`).")],
           data: DataOption = None) -> None:
    """Cancel a job: a queued one never runs, a running one stops at its next step."""
    with open_studio(data) as studio:
        job = studio.cancel_job(job_id)
    typer.echo(f"job {job.id}: {job.status}" + (" (stopping at the next step)" if job.status == "running" else ""))
