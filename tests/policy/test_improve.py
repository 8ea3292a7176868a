"""Improving a contender from its votes on tiny real models: DPO through TRL registers
NAME@v2 with its lineage and an adapter that loads in a fresh process; the pool puts v2
against its parent and the lift fills from those votes; bad requests get one line and
write nothing; cancelled and crashed jobs register nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from studio.errors import InputError, NotFoundError, StudioError
from studio.generation.base import Request
from tests.policy.conftest import FAST, open_voted_studio
from tests.reliability.cli import run_cli


def state(studio):
    return (studio.contenders()["name"].tolist(), len(studio.jobs()))


@pytest.mark.slow
def test_dpo_registers_v2_with_its_lineage_and_the_adapter_generates_in_a_fresh_process(improved):
    studio, metrics = improved
    assert metrics["contender"] == "tiny-a@v2" and metrics["parent"] == "tiny-a" and metrics["steps"] == 2
    assert metrics["pairs"] > 0 and metrics["tie"] == 1 and metrics["both_bad"] == 1
    record = studio.contender("tiny-a@v2")
    parent = studio.contender("tiny-a")
    assert (record.parent_id, record.version, record.enabled) == (parent.id, 2, True)
    lineage = record.lineage
    assert lineage["method"] == "dpo" and lineage["parent"] == "tiny-a"
    assert lineage["votes"]["count"] == metrics["pairs"] and lineage["prompts"]["count"] > 0
    assert lineage["settings"]["precompute_ref"] is True and lineage["settings"]["max_steps"] == 2
    assert lineage["libraries"]["trl"] and lineage["libraries"]["peft"]
    assert record.params["adapter"] == lineage["adapter"]
    assert studio.artifacts.path(lineage["adapter"]).joinpath("adapter_config.json").is_file()
    job = studio.jobs(kind="improve_contender").iloc[0]
    assert job["status"] == "done" and "tiny-a@v2 registered" in job["message"]
    script = ("import json, sys; from studio.api import Studio; from studio.generation.base import Request\n"
              "with Studio.open(sys.argv[1]) as s:\n"
              "    out = s.generator('tiny-a@v2').generate([Request(prompt='Say hi.', seed=3)])\n"
              "    print(json.dumps([out[0].text, out[0].new_tokens]))")
    done = subprocess.run([sys.executable, "-c", script, str(studio.config.data_dir)], capture_output=True,
                          text=True, timeout=180, env={**os.environ})
    assert done.returncode == 0, done.stderr[-2000:]
    text, tokens = json.loads(done.stdout.strip().splitlines()[-1])
    assert tokens > 0 and isinstance(text, str)


@pytest.mark.slow
def test_the_pool_pairs_v2_with_its_parent_and_the_lift_fills_from_those_votes(improved):
    studio, _ = improved
    assert studio.lift()["verdict"].tolist() == ["not yet enough votes (0 of 20)"]
    studio.refill_pool(min_ready=24)
    ids = {studio.contender(n).id: n for n in ("tiny-a", "tiny-b", "tiny-a@v2")}
    voted = 0
    while (item := studio.next_item("rater-x")) is not None:
        names = {side.contender for side in item.sides}
        outcome = "tie"
        if names == {"tiny-a", "tiny-a@v2"}:        # this rater likes the new version
            outcome = "left" if item.sides[0].contender == "tiny-a@v2" else "right"
            voted += 1
        studio.vote(item.item_id, outcome=outcome, rater="rater-x", idempotency_key=f"k{item.item_id}")
    assert ids and voted >= 5
    lift = studio.lift("tiny-a", min_votes=5)
    row = lift.iloc[0]
    assert (row["contender"], row["parent"], row["votes"], row["wins"]) == ("tiny-a@v2", "tiny-a", voted, voted)
    assert row["win_rate"] == 1.0 and row["ci_low"] > 0.5 and row["verdict"] == "better than its parent"
    figure = studio.plot_lift(lift)
    assert figure.axes and "tiny-a@v2 vs tiny-a" in figure.axes[0].get_yticklabels()[0].get_text()
    studio.disable_contender("tiny-a@v2")
    assert not studio.contender("tiny-a@v2").enabled
    assert studio.lift()["enabled"].tolist() == [False]          # kept, with its votes
    studio.enable_contender("tiny-a@v2")


@pytest.mark.slow
def test_bad_requests_get_one_line_and_write_nothing(voted_studio, tiny_gpt2, tmp_path):
    studio = voted_studio
    studio.add_contender({"name": "tiny-sd", "kind": "image", "backend": "diffusers", "model": str(tmp_path)})
    studio.add_contender({"name": "tiny-c", "model": str(tiny_gpt2)})
    before = state(studio)
    cases = [("nobody", NotFoundError, "no contender named 'nobody'"),
             ("tiny-sd", InputError, "makes images"),
             ("tiny-c", InputError, "no decisive votes on 'tiny-c'")]
    for name, error, message in cases:
        for background in (False, True):
            with pytest.raises(error, match=message) as caught:
                studio.improve(name, background=background, **FAST)
            assert "\n" not in str(caught.value)
    with pytest.raises(InputError, match="unknown DPO setting 'epochz'"):
        studio.improve("tiny-a", epochz=3)
    assert state(studio) == before


@pytest.mark.slow
def test_rm_dpo_refuses_when_the_reward_model_is_at_chance(voted_studio):
    studio = voted_studio
    with pytest.raises(InputError, match="needs an active text reward model"):
        studio.improve("tiny-a", method="rm-dpo")
    with studio.store.transaction() as tx:
        tx.reward_models.register(version=1, kind="text", mode="head", backbone="x", checkpoint_path="/nowhere",
                                  metrics={"heldout_accuracy": 0.54, "heldout_pairs": 60},
                                  data_max_comparison_id=0, job_id=None)
        tx.reward_models.activate(1)
    before = state(studio)
    with pytest.raises(InputError, match="does not beat chance beyond the noise") as caught:
        studio.improve("tiny-a", method="rm-dpo")
    assert "95% interval" in str(caught.value) and state(studio) == before


@pytest.mark.slow
def test_one_improvement_at_a_time_per_contender(tmp_path, tiny_gpt2):
    studio = open_voted_studio(tmp_path / "data", tiny_gpt2, queue_url=None)
    try:
        first = studio.improve("tiny-a", background=True, **FAST)
        assert studio.improve("tiny-a", background=True, **FAST).id == first.id
        assert studio.improve("tiny-b", background=True, **FAST).id != first.id
        with pytest.raises(StudioError, match="already queued"):
            studio.improve("tiny-a", progress=False, **FAST)
    finally:
        studio.close()


def run_in_thread(config, job_id):
    from studio.jobs.tasks import run_improvement_job

    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(result=run_improvement_job(config, job_id)))
    thread.start()
    return thread, outcome


def wait_until(check, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {check.__doc__}"
        time.sleep(0.1)


def assert_nothing_registered(studio):
    assert "tiny-a@v2" not in studio.contenders()["name"].tolist()
    adapters = studio.config.data_dir / "adapters"
    assert not adapters.exists() or not any(p for p in adapters.rglob("adapter_config.json"))


@pytest.mark.slow
@pytest.mark.parametrize("ending", ["cancel", "reaped"])
def test_a_cancelled_or_failed_job_registers_nothing(tmp_path, tiny_gpt2, ending):
    studio = open_voted_studio(tmp_path / "data", tiny_gpt2, queue_url=None)
    try:
        job = studio.improve("tiny-a", background=True, **{**FAST, "max_steps": 5000})
        thread, outcome = run_in_thread(studio.config, job.id)

        def training():
            """the job to report training steps"""
            current = studio.job(job.id)
            return current.status == "running" and current.step > 0
        wait_until(training)
        if ending == "cancel":
            assert studio.cancel_job(job.id).status == "running"
        else:                                       # what the reaper does once a worker is gone
            with studio.store.transaction() as tx:
                assert tx.jobs.fail(job.id, "the worker stopped")
        thread.join(timeout=120)
        assert not thread.is_alive() and outcome["result"] is None
        ended = studio.job(job.id)
        assert ended.status == ("cancelled" if ending == "cancel" else "failed") and ended.active_key is None
        assert_nothing_registered(studio)
    finally:
        studio.close()


@pytest.mark.slow
def test_a_worker_killed_mid_training_registers_nothing(tmp_path, tiny_gpt2, quick_reaping):
    from tests.jobs.crash import kill_worker_mid_training

    studio = open_voted_studio(tmp_path / "data", tiny_gpt2, queue_url=None)
    try:
        job = studio.improve("tiny-a", background=True, **{**FAST, "max_steps": 5000})
        kill_worker_mid_training(studio, job.id, tmp_path / "worker.log")
        assert studio.job(job.id).status == "running"               # nobody was left to say otherwise

        def reaped():
            """the reaper to fail the job of the killed worker"""
            return job.id in studio.job_board.recover_abandoned() or studio.job(job.id).status == "failed"
        wait_until(reaped, timeout=60)
        assert_nothing_registered(studio)
        assert studio.improve("tiny-a", background=True, **FAST).status == "queued"   # free again
    finally:
        studio.close()


def cli(*args: str) -> subprocess.CompletedProcess:
    """The `studio` command through its entry point `studio.cli.main`, in this process."""
    code, out, err = run_cli(list(args))
    return subprocess.CompletedProcess(args, code, out, err)


@pytest.mark.slow
def test_the_command_line_improves_lists_the_lift_and_refuses_in_one_line(improved):
    studio, _ = improved
    data = str(studio.config.data_dir)
    refused = cli("improve", "nobody", "--data", data)
    assert refused.returncode != 0 and refused.stdout == ""
    assert refused.stderr.strip().splitlines() == ["error: no contender named 'nobody': see `studio contenders list`"]
    listed = cli("lift", "tiny-a", "--data", data, "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["contender"]: row for row in json.loads(listed.stdout)}
    assert rows["tiny-a@v2"]["parent"] == "tiny-a"


@pytest.mark.slow
def test_rm_dpo_trains_on_samples_the_reward_model_ranks_when_it_beats_chance(open_sqlite_studio, tiny_gpt2):
    from tests.policy.conftest import specs
    from tests.rewards.helpers import add_marker_votes

    studio = open_sqlite_studio(queue_url="immediate", heldout_fraction=0.35)  # 8 held-out prompts: enough for the gate
    add_marker_votes(studio, prompts=24)
    model = studio.train_reward_model(progress=False)
    for spec in specs(tiny_gpt2):
        studio.add_contender(spec)
    metrics = studio.improve("tiny-a", method="rm-dpo", samples=3, max_prompts=6, progress=False, **FAST)
    assert model["heldout_accuracy"] > 0.5
    assert metrics["contender"] == "tiny-a@v2" and metrics["method"] == "rm-dpo"
    assert 0 < metrics["pairs"] <= 6 and metrics["pairs"] + metrics.get("no_margin", 0) == 6
    lineage = studio.contender("tiny-a@v2").lineage
    assert lineage["method"] == "rm-dpo" and "held-out accuracy" in lineage["reward_model_gate"]
    assert lineage["votes"]["count"] == 0 and lineage["prompts"]["count"] == metrics["pairs"]


@pytest.mark.slow
def test_v2_improved_again_becomes_v3_with_v2_as_its_parent(improved):
    """The loop goes round more than once: votes on v2's outputs train v3, whose parent is
    v2 (not the original), in the same family, with an adapter of its own that generates.
    (Last in the file: it adds a version to the module's shared studio.)"""
    studio, _ = improved
    studio.refill_pool(min_ready=24)
    decisive = 0
    while (item := studio.next_item("rater-v3")) is not None:
        names = [side.contender for side in item.sides]
        outcome = "tie"
        if "tiny-a@v2" in names and len(set(names)) == 2:
            outcome = "left" if names[0] == "tiny-a@v2" else "right"
            decisive += 1
        studio.vote(item.item_id, outcome=outcome, rater="rater-v3", idempotency_key=f"v3-{item.item_id}")
    assert decisive >= 2
    metrics = studio.improve("tiny-a@v2", progress=False, **FAST)
    assert (metrics["contender"], metrics["parent"], metrics["version"]) == ("tiny-a@v3", "tiny-a@v2", 3)
    v2, v3 = studio.contender("tiny-a@v2"), studio.contender("tiny-a@v3")
    assert v3.parent_id == v2.id and v3.lineage["family"] == "tiny-a" and v3.lineage["parent"] == "tiny-a@v2"
    assert v3.params["adapter"] != v2.params["adapter"] and v3.params["adapter"].startswith("adapters/tiny-a/v3-")
    assert studio.artifacts.path(v3.params["adapter"]).joinpath("adapter_config.json").is_file()
    (out,) = studio.generator("tiny-a@v3").generate([Request(prompt="Say hi.", seed=5)])
    assert out.new_tokens > 0
