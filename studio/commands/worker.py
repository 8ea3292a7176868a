"""`studio worker`: run the background jobs of a studio (reward-model trainings, the pool's
top-ups), on this machine or on another one sharing the database, the queue and the
artifact store."""

from __future__ import annotations

from typing import Annotated

import typer

from studio.commands._app import ArtifactsOption, DataOption, app


@app.command("worker")
def worker(
    data: DataOption = None,
    threads: Annotated[int, typer.Option("--threads", min=1, help="Jobs run at once per role (trainings are "
                                         "one at a time whatever this says).")] = 1,
    train: Annotated[bool, typer.Option("--train", help="Take reward-model trainings (with neither "
                                        "--train nor --generate: both).")] = False,
    generate: Annotated[bool, typer.Option("--generate", help="Take the pool's top-ups: generate pairs with "
                                           "the contenders' models (a GPU box; see [pool] on_workers).")] = False,
    artifacts: ArtifactsOption = None,
) -> None:
    """Run a job worker until Ctrl-C. It takes jobs from the studio's queues (a SQLite file in
    the data dir, or queue_url = redis://... so that workers on other machines help) and first
    marks failed the jobs a killed worker left running. A top-up this worker cannot load a
    contender for is left for another worker, with the reason in `studio jobs`."""
    import logging

    from studio.config import load_config
    from studio.jobs.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    roles = [role for role, wanted in (("train", train), ("generate", generate)) if wanted] or ["train", "generate"]
    overrides = {"artifacts_url": artifacts} if artifacts else {}
    run_worker(load_config(data, **overrides), workers=threads, roles=roles)
