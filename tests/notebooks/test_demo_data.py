"""The demo studio the notebooks build when no data dir is given."""

from __future__ import annotations

import pytest

from studio import demo_data
from studio.errors import InputError


@pytest.mark.slow
def test_demo_studio_has_every_pair_judged_by_several_raters(tmp_path):
    with demo_data.build_demo_studio(tmp_path / "demo", prompts=3, votes_per_pair=2) as studio:
        votes = studio.comparisons()
        overview = studio.overview()
        contenders = studio.contenders()
    assert sorted(contenders["name"]) == sorted(demo_data.STRENGTHS)
    assert overview.loc["demo", ["prompts", "rating_items", "open_items", "votes"]].tolist() == [3, 9, 0, 18]
    per_item = votes.groupby("item_id")["rater"].agg(["size", "nunique"])
    assert (per_item["size"] == 2).all() and (per_item["nunique"] == 2).all()    # two different raters each
    assert set(votes["source"]) == {demo_data.SOURCE} and votes["decision_ms"].gt(0).all()
    assert set(votes["rater"]) <= {r.name for r in demo_data.RATERS}
    assert (tmp_path / "demo" / "studio.toml").read_text().count("[[contenders]]") == 3   # `studio serve` works on it


def test_demo_refuses_a_directory_with_something_in_it(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        demo_data.build_demo_studio(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_careful_rater_follows_the_quality_gap_and_a_biased_one_the_left_side():
    import random

    careful, biased = demo_data.SimulatedRater("c", 3.0, 0.0, 1000), demo_data.SimulatedRater("b", 0.0, 2.0, 1000)
    rng = random.Random(0)
    careful_picks = [careful.judge(1.0, -1.0, rng)[0] for _ in range(400)]
    biased_picks = [biased.judge(-1.0, 1.0, rng)[0] for _ in range(400)]
    assert careful_picks.count("left") > 380          # sigmoid(6) of the decisive votes
    assert 0.8 < biased_picks.count("left") / 400 < 0.95   # sigmoid(2), whatever the outputs
