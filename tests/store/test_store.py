"""Store and Studio core operations, each on a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from studio.contender_spec import ContenderSpec
from studio.errors import InputError, NotFoundError
from studio.records import GenerationIn


def _pair(studio, prompt="Name a colour.", texts=("Red.", "Blue.")):
    prompt_id = studio.add_prompts([prompt])[0]
    a = studio.add_contender(ContenderSpec(name="model-a", model="tiny-a"))
    b = studio.add_contender(ContenderSpec(name="model-b", model="tiny-b"))
    left, right = studio.add_generations([
        GenerationIn(prompt_id=prompt_id, contender_id=a.id, text=texts[0], seed=1),
        GenerationIn(prompt_id=prompt_id, contender_id=b.id, text=texts[1], seed=2),
    ])
    return prompt_id, left, right


def test_prompts_are_added_once_per_set(studio):
    first = studio.add_prompts(["Write a haiku.", "Explain TCP."])
    again = studio.add_prompts(["Explain TCP.", "Write a haiku."])
    other_set = studio.add_prompts(["Write a haiku."], prompt_set="poems")
    assert again == first[::-1]
    assert other_set[0] not in first
    assert studio.prompt_sets() == {"default": 2, "poems": 1}


def test_empty_prompt_is_refused(studio):
    with pytest.raises(InputError):
        studio.add_prompts(["   "])
    assert studio.stats()["prompts"] == 0


def test_changing_contender_settings_bumps_its_revision(studio):
    first = studio.add_contender(ContenderSpec(name="smol", model="m", params={"temperature": 0.7}))
    same = studio.add_contender(ContenderSpec(name="smol", model="m", params={"temperature": 0.7}))
    changed = studio.add_contender(ContenderSpec(name="smol", model="m", params={"temperature": 1.0}))
    assert (first.revision, same.revision, changed.revision) == (1, 1, 2)
    assert first.id == changed.id
    assert studio.contender("smol").params == {"temperature": 1.0}
    with pytest.raises(NotFoundError):
        studio.contender("nobody")


def test_identical_generation_is_stored_once_with_its_seed(studio):
    prompt_id, left, right = _pair(studio)
    contender = studio.contender("model-a")
    again = studio.add_generations([GenerationIn(prompt_id=prompt_id, contender_id=contender.id, text="Red.")])
    assert again == [left]
    frame = studio.generations()
    assert list(frame["text"]) == ["Red.", "Blue."]
    assert list(frame["seed"]) == [1, 2]


def test_vote_is_recorded_with_sides_and_rater(studio):
    _, left, right = _pair(studio)
    result = studio.vote(left=left, right=right, outcome="right", rater="ana", idempotency_key="k1",
                         rationale="more specific", decision_ms=1234, session_id="s1")
    assert result.created
    frame = studio.comparisons()
    row = frame.iloc[0]
    assert (row.left_contender, row.right_contender, row.outcome, row.winner) == ("model-a", "model-b", "right", "model-b")
    assert (row.rater, row.rationale, row.decision_ms, row.left_text) == ("ana", "more specific", 1234, "Red.")


def test_duplicate_idempotency_key_writes_one_row(studio):
    _, left, right = _pair(studio)
    first = studio.vote(left=left, right=right, outcome="left", rater="ana", idempotency_key="same")
    retry = studio.vote(left=left, right=right, outcome="left", rater="ana", idempotency_key="same")
    assert first.created and not retry.created
    assert retry.comparison.id == first.comparison.id
    assert studio.stats()["comparisons"] == 1


def test_two_threads_voting_at_once_both_land(studio):
    _, left, right = _pair(studio)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def cast(n: int) -> None:
        try:
            barrier.wait()
            for i in range(10):
                studio.vote(left=left, right=right, outcome="tie", rater=f"r{n}", idempotency_key=f"{n}-{i}")
                # every thread also retries a key another thread may be writing right now
                studio.vote(left=left, right=right, outcome="tie", rater=f"r{n}", idempotency_key=f"shared-{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=cast, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    frame = studio.comparisons()
    assert len(frame) == 8 * 10 + 10
    assert frame["rater"].nunique() == 8


@pytest.mark.parametrize("bad", [
    {"outcome": "maybe"},
    {"idempotency_key": "x" * 201},
    {"rater": " "},
    {"decision_ms": -5},
])
def test_invalid_votes_are_refused_and_write_nothing(studio, bad):
    _, left, right = _pair(studio)
    args = {"left": left, "right": right, "outcome": "left", "rater": "ana", "idempotency_key": "k"} | bad
    with pytest.raises(InputError):
        studio.vote(**args)
    assert studio.stats()["comparisons"] == 0


def test_vote_on_unknown_generation_or_mismatched_prompts_is_refused(studio):
    _, left, right = _pair(studio)
    _, other_left, _ = _pair(studio, prompt="Another prompt", texts=("x", "y"))
    with pytest.raises(NotFoundError):
        studio.vote(left=left, right=999_999, outcome="left", rater="ana", idempotency_key="a")
    with pytest.raises(InputError, match="same prompt"):
        studio.vote(left=left, right=other_left, outcome="left", rater="ana", idempotency_key="b")
    assert studio.stats()["comparisons"] == 0


def test_vote_on_a_rating_item_counts_on_the_item(studio):
    prompt_id, left, right = _pair(studio)
    with studio.store.transaction() as tx:
        item = tx.items.create(prompt_id, [right, left])
    assert studio.next_item("ana").item_id == item.id
    result = studio.vote(item.id, outcome="left", rater="ana", idempotency_key="item-vote")
    assert (result.comparison.left_generation_id, result.comparison.right_generation_id) == (right, left)
    with studio.store.reader() as tx:
        assert tx.items.get(item.id).votes_received == 1
    assert studio.stats()["open_items"] == 0 and studio.stats()["held_items"] == 0


def test_comparisons_filter_by_contender_rater_and_limit(studio):
    _, left, right = _pair(studio)
    for i, rater in enumerate(["ana", "bo", "ana"]):
        studio.vote(left=left, right=right, outcome="left", rater=rater, idempotency_key=f"k{i}")
    assert len(studio.comparisons(rater="ana")) == 2
    assert len(studio.comparisons(contender="model-b")) == 3
    assert len(studio.comparisons(contender="nobody")) == 0
    newest = studio.comparisons(limit=1, newest_first=True)
    assert newest.iloc[0].rater == "ana" and newest.iloc[0].id == studio.comparisons().id.max()


def test_contenders_frame_counts_generations_and_votes(studio):
    _, left, right = _pair(studio)
    studio.vote(left=left, right=right, outcome="tie", rater="ana", idempotency_key="k")
    frame = studio.contenders().set_index("name")
    assert frame.loc["model-a", "generations"] == 1
    assert frame.loc["model-b", "votes"] == 1


def test_ids_taken_out_of_a_dataframe_work(studio):
    import numpy as np

    _, left, right = _pair(studio)
    frame = studio.generations()
    result = studio.vote(left=frame.id.iloc[0], right=frame.id.iloc[1], outcome="left", rater="ana",
                         idempotency_key="np")
    assert isinstance(frame.id.iloc[0], np.integer)
    assert (result.comparison.left_generation_id, result.comparison.right_generation_id) == (left, right)
    with pytest.raises(InputError, match="left must be an integer"):
        studio.vote(left="1", right=right, outcome="left", rater="ana", idempotency_key="str")
