"""The pool's top-ups as queue tasks (`[pool] on_workers`): the server queues one job per
prompt set short of items, on the generation queue only; a worker that can load the
contenders makes the items; one that cannot leaves the task for another and says why in
`studio jobs`."""

from __future__ import annotations

import pytest

from tests.reliability.cli import run_cli


def on_workers_studio(tmp_path, contenders):
    from studio.api import Studio
    from studio.config import PoolConfig

    studio = Studio.open(tmp_path / "data", pool=PoolConfig(min_ready=2, batch_size=4, on_workers=True))
    studio.add_prompts(["Say hello.", "Name a colour.", "Count to three."])
    for spec in contenders:
        studio.add_contender(spec)
    return studio


def test_a_worker_that_cannot_load_a_contender_leaves_the_top_up_and_says_why(tmp_path):
    from studio.contender_spec import ContenderSpec
    from studio.jobs import WorkerServices
    from studio.jobs.queue import GENERATE_ROLE, TRAIN_ROLE
    from studio.services.pool_jobs import GENERATE_KIND

    missing = [ContenderSpec(name=n, model=str(tmp_path / "no-such-model")) for n in ("left", "right")]
    with on_workers_studio(tmp_path, missing) as studio:
        assert studio.refill_pool() == 0                       # the server generates nothing itself
        assert studio.refill_pool() == 0                       # and queues one top-up per prompt set, not two
        jobs = studio.jobs(kind=GENERATE_KIND)
        assert len(jobs) == 1 and jobs["status"].tolist() == ["queued"]
        queue = studio._queue
        assert {t.id for t in queue.of(GENERATE_ROLE).pending()} and not queue.of(TRAIN_ROLE).pending()

        first_task = studio.job(int(jobs["id"].iloc[0])).task_id
        services = WorkerServices(studio.config, queue)
        try:
            assert services.pool_jobs().run_job(int(jobs["id"].iloc[0])) is None
        finally:
            services.close()
        job = studio.job(int(jobs["id"].iloc[0]))
        assert job.status == "queued" and job.message.startswith("left for another worker: ")
        assert "cannot load left:" in job.message and "no-such-model" in job.message
        assert job.task_id != first_task and job.task_id in queue.waiting()    # sent again, for a worker that can
        code, out, _ = run_cli(["jobs", "--kind", "generate_pool"], tmp_path / "data")
        assert code == 0 and "left for another worker" in out and "generate_pool" in out


@pytest.mark.slow
def test_a_worker_that_loads_the_contenders_fills_the_pool_for_the_server(tmp_path):
    from studio.generation.tiny import tiny_text_contenders
    from studio.jobs import WorkerServices
    from studio.services.pool_jobs import GENERATE_KIND

    with on_workers_studio(tmp_path, tiny_text_contenders(tmp_path / "models")) as studio:
        studio.refill_pool()
        (job_id,) = studio.jobs(kind=GENERATE_KIND)["id"].tolist()
        services = WorkerServices(studio.config, studio._queue)
        try:
            result = services.pool_jobs().run_job(int(job_id))
        finally:
            services.close()
        assert result["items"] >= 2
        job = studio.job(int(job_id))
        assert job.status == "done" and "item(s) made for 'default'" in job.message
        assert studio.pool_status().ready["default"] >= 2
        assert studio.next_item("ana") is not None
