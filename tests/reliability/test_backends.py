"""The jobs tests that their area runs on SQLite with a SQLite Huey queue, run again here
on the server-grade back ends: a real PostgreSQL and a real redis-server (both
started by the test session). The tests are imported unchanged and pytest runs them with
this module's fixtures, so the two runs cannot drift apart. Plus: a NUL or an unpaired
surrogate in any field of any importer's file, on both databases: refused with the file
and line, or (a field the format ignores) kept nowhere.
"""

from __future__ import annotations

import json

import pytest

from studio.errors import InputError

# The queue's behaviour where the back end matters (the Redis queue, PostgreSQL rows and
# locks); trainings themselves are covered on PostgreSQL by the rewards tests' `open_studio`.
from tests.jobs.test_queue import (  # noqa: F401  (collected here with the fixtures below)
    test_a_failing_training_is_recorded_and_releases_the_queue,
    test_a_training_left_running_by_a_dead_process_does_not_block_the_next,
    test_cancelling_a_queued_job_means_it_never_runs,
    test_cancelling_a_running_training_stops_it_and_keeps_the_active_model,
    test_full_fine_tunes_follow_their_own_threshold,
    test_votes_past_the_threshold_queue_exactly_one_training,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def server_grade(postgres_url, redis_server, tmp_path, tiny_encoder):
    """Open Studios on PostgreSQL whose queue (the default one, queue_url=None) is Redis;
    "immediate" stays immediate. Keyword arguments change [training] settings."""
    from studio.api import Studio
    from studio.config import TrainingConfig

    opened = []

    def make(queue_url: str | None = "immediate", **training):
        settings = {"backbone": tiny_encoder, "retrain_every": 0, "max_length": 48, **training}
        studio = Studio.open(postgres_url, data_dir=tmp_path / "data",
                             queue_url=redis_server.url if queue_url is None else queue_url,
                             training=TrainingConfig(**settings))
        if queue_url is None:
            studio.queue.flush()             # one redis-server for the session: start each test empty
        opened.append(studio)
        return studio

    yield make
    for studio in opened:
        studio.close()


@pytest.fixture
def open_studio(server_grade):
    return server_grade


@pytest.fixture
def open_sqlite_studio(server_grade):
    """(The imported tests' name for "a studio"; here it is PostgreSQL with Redis.)"""
    return server_grade


ROWS = {
    "prompts": {"prompt": "a prompt", "prompt_set": "set-a", "system_prompt": "Be brief."},
    "votes": {"prompt": "a prompt", "response_a": "first", "response_b": "second", "model_a": "m1",
              "model_b": "m2", "winner": "model_a", "judge": "j1", "rationale": "why", "session_id": "s",
              "group_id": "g", "idempotency_key": "k-1", "prompt_set": "set-a"},
    "prefs": {"prompt": "a prompt", "chosen": "better", "rejected": "worse", "prompt_set": "set-a"},
    "generations": {"prompt": "a prompt", "contender": "c1", "response": "an answer", "prompt_set": "set-a",
                    "system_prompt": "Be brief."},
}
POISON = {"nul": "be\x00fore", "surrogate": "x\ud800y"}


@pytest.mark.parametrize("kind", list(ROWS))
def test_a_nul_or_a_lone_surrogate_in_any_field_is_refused_with_the_file_and_line(studio, tmp_path, kind, tried):
    importer = {"prompts": studio.import_prompts, "votes": studio.import_votes, "prefs": studio.import_prefs,
                "generations": studio.import_generations}[kind]
    good = ROWS[kind]
    accepted = []
    for field in good:
        for name, poison in POISON.items():
            tried(f"import {kind}: {name} in a field")
            path = tmp_path / f"{kind}-{field}-{name}.jsonl"
            row = {**good, field: poison}
            path.write_text(json.dumps(good | {"prompt": "an innocent first line"}) + "\n" + json.dumps(row) + "\n")
            before = studio.stats()
            try:
                importer(path)
            except InputError as refused:
                message = str(refused)
                assert path.name in message and ":2" in message and "\n" not in message, (field, name, message)
                assert studio.stats() == before, f"{kind}: {name} in {field} left rows behind"
            else:                               # a field this format ignores: fine, if nothing kept it
                if any(poison in value for value in stored_text(studio)):
                    accepted.append(f"{name} in {field}")
    assert accepted == [], f"{kind} files stored text no database keeps as given: {accepted}"


def stored_text(studio) -> list[str]:
    """Every string a user can read back: votes with their texts, outputs, sets, contenders."""
    frames = [studio.comparisons(), studio.generations(), studio.contenders()]
    values = [v for frame in frames for column in frame.columns for v in frame[column].tolist() if isinstance(v, str)]
    return values + list(studio.prompt_sets())
