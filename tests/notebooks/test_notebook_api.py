"""The notebook face of `Studio`: overview counts, disagreements between raters, where a
reward model and the raters part ways, and the summary Jupyter shows."""

from __future__ import annotations

import math

import pytest

from studio.errors import InputError
from tests.notebooks.helpers import text_studio
from tests.shown import show


@pytest.fixture
def three_raters(tmp_path):
    """Two pairs judged by three raters: a 2-1 split (one rater saw the pair with the sides
    swapped, in an item of its own) and a unanimous pair; plus a second prompt set."""
    studio, items, sides = text_studio(tmp_path / "data", [("Name a colour.", "red", "a colour"),
                                                           ("Count to two.", "one two", "two")],
                                       votes_wanted=3)
    (split_left, split_right), _ = sides
    with studio.store.transaction() as tx:
        prompt_id = tx.items.get(items[0]).prompt_id
        swapped = tx.items.create(prompt_id, [split_right, split_left], votes_wanted=1, source="test").id
    show(studio, items[0], "ana", "ben")
    show(studio, swapped, "chen")
    show(studio, items[1], "ana", "ben", "chen")
    studio.vote(items[0], outcome="left", rater="ana")          # red
    studio.vote(items[0], outcome="left", rater="ben")          # red
    studio.vote(swapped, outcome="left", rater="chen")          # "a colour", seen on the left
    for rater in ("ana", "ben", "chen"):
        studio.vote(items[1], outcome="right", rater=rater)     # "two", unanimous
    other, other_items, _ = text_studio(tmp_path / "data", [("Say hi.", "hi", "hello")], prompt_set="greetings",
                                        names=("gamma", "delta"))
    other.vote(show(other, other_items[0], "ana"), outcome="tie", rater="ana")
    other.close()
    yield studio
    studio.close()


def test_overview_counts_each_prompt_set_and_all(three_raters):
    overview = three_raters.overview()
    assert overview.index.tolist() == ["default", "greetings", "(all)"]
    # the first item wanted three votes and got two (the third went to the swapped item)
    assert overview.loc["default", ["prompts", "generations", "rating_items", "open_items", "votes", "raters"]] \
        .tolist() == [2, 4, 3, 1, 6, 3]
    assert overview.loc["greetings", ["prompts", "votes", "raters"]].tolist() == [1, 1, 1]
    assert overview.loc["(all)", ["prompts", "generations", "rating_items", "open_items", "votes", "raters"]] \
        .tolist() == [3, 6, 4, 1, 7, 3]
    assert overview.loc["(all)", "first_vote"] <= overview.loc["default", "last_vote"] <= \
        overview.loc["(all)", "last_vote"]


def test_disagreements_follow_the_output_not_the_side(three_raters):
    split = three_raters.disagreements()
    assert len(split) == 1                                   # the unanimous pair is not listed
    row = split.iloc[0]
    assert (row["prompt"], row["output_a"], row["output_b"]) == ("Name a colour.", "red", "a colour")
    assert (row["contender_a"], row["contender_b"]) == ("alpha", "beta")
    assert (row["raters"], row["a_wins"], row["b_wins"], row["ties"]) == (3, 2, 1, 0)
    assert row["agreement"] == pytest.approx(2 / 3) and row["a_share"] == pytest.approx(2 / 3)
    assert row["verdicts"] == "ana: A · ben: A · chen: B"
    assert three_raters.disagreements(min_raters=4).empty
    assert three_raters.disagreements(prompt_set="greetings").empty
    with pytest.raises(InputError):
        three_raters.disagreements(min_raters=1)


def test_a_raters_last_vote_on_a_pair_is_their_verdict(tmp_path):
    """A second vote on the same item is not counted (one vote per rater per item), but a
    rater may judge the same two outputs again outside an item (a notebook, a script)."""
    studio, items, sides = text_studio(tmp_path / "data", [("Pick one.", "x", "y")], votes_wanted=5)
    show(studio, items[0], "ana", "ben")
    studio.vote(items[0], outcome="left", rater="ana")
    assert studio.vote(items[0], outcome="right", rater="ana", idempotency_key="second-tab").duplicate
    (left, right), = sides
    studio.vote(left=left, right=right, outcome="right", rater="ana", idempotency_key="changed-mind")
    studio.vote(items[0], outcome="left", rater="ben")
    split = studio.disagreements()
    assert split["verdicts"].tolist() == ["ana: B · ben: A"] and split["raters"].tolist() == [2]
    studio.close()


def test_repr_html_summarises_the_studio(three_raters):
    html = three_raters._repr_html_()
    assert "Feedback Studio" in html and "studio.db" in html
    assert "<th>comparisons</th>" in html and "<td>7</td>" in html
    assert "reward model" in html and "Active reward model" not in html     # none trained yet


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory) -> str:
    from studio.rewards.tiny import build_tiny_text_model

    return str(build_tiny_text_model(tmp_path_factory.mktemp("backbone") / "encoder", architecture="encoder"))


@pytest.mark.slow
def test_model_disagreements_put_the_model_beside_the_raters(tmp_path, tiny_encoder):
    pairs = [(f"Question {i}: say something kind.", f"thank you so much, friend number {i}", "no")
             for i in range(12)]
    studio, items, sides = text_studio(tmp_path / "data", pairs, votes_wanted=2)
    for n, item in enumerate(items):
        show(studio, item, "ana", "ben")
        studio.vote(item, outcome="left", rater="ana")
        studio.vote(item, outcome="right" if n % 3 == 0 else "left", rater="ben")
    metrics = studio.train_reward_model(mode="head", backbone=tiny_encoder, progress=False)
    version = metrics["version"]                 # named: 12 prompts are too few for the activation gate
    model = studio.reward_model(version)

    compared = studio.model_disagreements(version, only_disagreements=False, limit=None)
    assert len(compared) == len(items) and set(compared["version"]) == {metrics["version"]}
    for row in compared.itertuples():
        expected = 1 / (1 + math.exp(-(model.score(row.prompt, row.output_a) - model.score(row.prompt, row.output_b))))
        assert row.model_a == pytest.approx(expected, abs=1e-5)
        assert row.a_share == (0.5 if int(row.prompt.split()[1].rstrip(":")) % 3 == 0 else 1.0)
        assert row.disagree == ((row.model_a - 0.5) * (row.a_share - 0.5) < 0)
    assert compared["gap"].abs().is_monotonic_decreasing
    only = studio.model_disagreements(version, limit=None)
    assert only["disagree"].all() and len(only) == compared["disagree"].sum()
    with studio.store.reader() as tx:                        # computed, not stored
        assert tx.rankings.active_predictions().empty
    studio.close()


def test_model_disagreements_need_a_reward_model(three_raters):
    from studio.errors import NotFoundError

    with pytest.raises(NotFoundError, match="train"):
        three_raters.model_disagreements()
