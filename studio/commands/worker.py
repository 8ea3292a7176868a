"""`studio worker`: run the background jobs (reward-model trainings) of a studio."""

from __future__ import annotations

from typing import Annotated

import typer

from studio.commands._app import DataOption, app


@app.command("worker")
def worker(
    data: DataOption = None,
    threads: Annotated[int, typer.Option("--threads", min=1, help="Jobs run at once (trainings are "
                                         "one at a time whatever this says).")] = 1,
) -> None:
    """Run a job worker until Ctrl-C. It takes jobs from the studio's queue (a SQLite file in
    the data dir, or queue_url = redis://... so that workers on other machines help) and first
    marks failed the jobs a killed worker left running."""
    import logging

    from studio.config import load_config
    from studio.jobs.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    run_worker(load_config(data), workers=threads)
