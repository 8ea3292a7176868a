"""The pool's top-ups as queue tasks (`[pool] on_workers`): the server queues one job per
prompt set and contender with outputs to make, on the generation queue only; a worker that
can load that contender's model makes its outputs and pairs what is stored; one that cannot
leaves the task for another and says why in `studio jobs`."""

from __future__ import annotations

import shutil
import threading

import pytest

from tests.reliability.cli import run_cli


def on_workers_studio(url_or_dir, contenders, **open_args):
    from studio.api import Studio
    from studio.config import PoolConfig

    studio = Studio.open(url_or_dir, pool=PoolConfig(min_ready=2, batch_size=4, on_workers=True), **open_args)
    studio.add_prompts(["Say hello.", "Name a colour.", "Count to three."])
    for spec in contenders:
        studio.add_contender(spec)
    return studio


def run_on_a_worker(studio, job_id: int):
    """One job run by a worker's own services (its own models and store connection)."""
    from studio.jobs import WorkerServices

    services = WorkerServices(studio.config, studio._queue)
    try:
        return services.pool_jobs().run_job(int(job_id))
    finally:
        services.close()


def top_up_jobs(studio) -> dict[str, int]:
    """Live top-up jobs by contender name."""
    from studio.services.pool_jobs import GENERATE_KIND

    jobs = studio.jobs(kind=GENERATE_KIND)
    return {studio.job(int(i)).payload["contender"]: int(i) for i, status in zip(jobs["id"], jobs["status"], strict=True)
            if status in ("queued", "running")}


def test_a_worker_that_cannot_load_a_contender_leaves_its_top_up_and_says_why(tmp_path):
    from studio.contender_spec import ContenderSpec
    from studio.jobs.queue import GENERATE_ROLE, TRAIN_ROLE

    missing = [ContenderSpec(name=n, model=str(tmp_path / f"no-{n}-model")) for n in ("left", "right")]
    with on_workers_studio(tmp_path / "data", missing) as studio:
        assert studio.refill_pool() == 0                       # the server generates nothing itself
        assert studio.refill_pool() == 0                       # and queues one top-up per contender, not two
        jobs = top_up_jobs(studio)
        assert sorted(jobs) == ["left", "right"]
        assert [studio.job(i).status for i in jobs.values()] == ["queued", "queued"]
        queue = studio._queue
        assert len(queue.of(GENERATE_ROLE).pending()) == 2 and not queue.of(TRAIN_ROLE).pending()

        first_task = studio.job(jobs["left"]).task_id
        assert run_on_a_worker(studio, jobs["left"]) is None
        job = studio.job(jobs["left"])
        assert job.status == "queued" and job.message.startswith("left for another worker: ")
        assert "cannot load left:" in job.message and "no-left-model" in job.message
        assert "right" not in job.message.split("cannot load", 1)[1]     # each task speaks for its contender
        assert job.task_id != first_task and job.task_id in queue.waiting()    # sent again, for a worker that can
        code, out, _ = run_cli(["jobs", "--kind", "generate_pool"], tmp_path / "data")
        assert code == 0 and "left for another worker" in out and "generate_pool" in out


@pytest.mark.slow
def test_each_contender_is_generated_where_its_model_loads_and_the_pairs_meet(tmp_path):
    """Machine 1 has one model, machine 2 the other: each takes its own contender's task, and
    the items are made as soon as both sides are stored."""
    from studio.contender_spec import ContenderSpec
    from studio.generation.tiny import build_tiny_text_model

    here, there = tmp_path / "models-here", tmp_path / "models-there"
    build_tiny_text_model(here / "gpt2")
    contenders = [ContenderSpec(name="local", model=str(here / "gpt2"), params={"max_new_tokens": 6}),
                  ContenderSpec(name="remote", model=str(there / "gpt2"), params={"max_new_tokens": 6,
                                                                                  "temperature": 1.3})]
    with on_workers_studio(tmp_path / "data", contenders) as studio:
        studio.refill_pool()
        jobs = top_up_jobs(studio)
        assert sorted(jobs) == ["local", "remote"]

        # the first worker holds only the "local" model: it makes that side and leaves the other
        done = run_on_a_worker(studio, jobs["local"])
        assert done["outputs"] >= 2 and done["items"] == 0         # nothing to pair with yet
        assert run_on_a_worker(studio, jobs["remote"]) is None
        assert "cannot load remote:" in studio.job(jobs["remote"]).message
        assert studio.pool_status().ready["default"] == 0

        # a second worker, where the "remote" model exists, takes the task that was left
        shutil.copytree(here / "gpt2", there / "gpt2")
        result = run_on_a_worker(studio, jobs["remote"])
        assert result["outputs"] >= 2 and result["items"] >= 2
        job = studio.job(jobs["remote"])
        assert job.status == "done" and "item(s) made for 'default'" in job.message
        assert studio.pool_status().ready["default"] >= 2
        assert studio.refill_pool() == 0 and not top_up_jobs(studio)    # full: nothing queued again
        item = studio.next_item("ana")
        assert item is not None and {s.contender for s in item.sides} == {"local", "remote"}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_pairers_on_two_machines_at_once_make_each_item_once(backend, tmp_path, request):
    """Two workers finishing the two sides of a set at the same moment both pair: the writes
    are serialised, so no pair of outputs is made into two items and the set is not overfilled."""
    from studio.contender_spec import ContenderSpec
    from studio.generation.base import Output

    url = tmp_path / "data" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    contenders = [ContenderSpec(name=n, model=str(tmp_path / "unused")) for n in ("a", "b")]
    extra = {} if backend == "sqlite" else {"data_dir": tmp_path / "data"}
    with on_workers_studio(url, contenders, **extra) as studio:
        pool = studio.pool_jobs.pool
        with studio.store.reader() as tx:
            ids = {c.name: c.id for c in tx.contenders.list()}
        for name in ("a", "b"):                                # every planned output stored, unpaired
            needed = pool.missing_outputs("default", min_ready=6)[ids[name]]
            requests = pool.requests_for(needed)
            pool.store_outputs(ids[name], [Output(request=r, text=f"{name} says {r.seed}") for r in requests])
        results, barrier = [], threading.Barrier(2)

        def pair():
            barrier.wait()
            results.append(pool.pair_existing("default", min_ready=6))

        threads = [threading.Thread(target=pair) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with studio.store.reader() as tx:
            items = tx.items.for_prompts([p.id for p in tx.prompts.list()])
        pairs = [frozenset(item.generation_ids) for item in items]
        assert len(pairs) == len(set(pairs)) == sum(results)
        assert 2 <= len(pairs) <= 6 and studio.pool_status().ready["default"] == len(pairs)
