"""The pool's pair sampler: with enough votes it makes the pair whose next vote narrows the
leaderboard most, keeps a uniform floor, and says which sampler runs and why."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from studio.generation.base import Output
from studio.services.pair_choice import PairChooser
from tests.votes.helpers import contenders_with_outputs, vote_on

NAMES = ["a", "b", "c", "d"]


@pytest.fixture
def voted(sqlite_studio):
    """a, b, c met each other 20 times each; d met a only twice: d's rating is the unsure one."""
    studio = sqlite_studio
    generations = contenders_with_outputs(studio, NAMES, prompts=2)
    prompt = min(p for p, _ in generations)
    for index in range(20):
        for winner, loser in (("a", "b"), ("b", "c"), ("a", "c")):
            vote_on(studio, generations, f"r{index}", winner, loser, prompt=prompt,
                    outcome="left" if index % 3 else "right")
    for index in range(2):
        vote_on(studio, generations, f"r{index}", "a", "d", prompt=prompt)
    return studio


def chooser(studio, **pool) -> PairChooser:
    config = dataclasses.replace(studio.config, pool=dataclasses.replace(studio.config.pool, **pool))
    return PairChooser(studio.store, config)


def planned_pairs(choice: PairChooser, studio, n: int) -> Counter:
    ids = [studio.contender(name).id for name in NAMES]
    names = {studio.contender(name).id: name for name in NAMES}
    planned = choice.plan([1] * n, text_contenders=ids, image_contenders=[], pairs_used={}, rotation=0)
    return Counter(frozenset(names[c] for c in p.contender_ids) for p in planned)


def test_active_sampling_prefers_the_pair_of_the_least_known_contender(voted):
    choice = chooser(voted, active_min_votes=50, sampling_floor=0.1)
    assert choice.status().sampler == "active"
    drawn = planned_pairs(choice, voted, 12)
    with_d = sum(n for pair, n in drawn.items() if "d" in pair)
    assert with_d >= 9, drawn                           # d's three pairs teach most
    uniform = planned_pairs(chooser(voted, sampling="uniform"), voted, 12)
    assert sum(n for pair, n in uniform.items() if "d" in pair) == 6          # half the pairs hold d


def test_the_uniform_floor_reaches_every_pair(voted):
    choice = chooser(voted, active_min_votes=50, sampling_floor=0.3)
    drawn = planned_pairs(choice, voted, 600)
    assert len(drawn) == 6                              # every pair, also the well-known ones
    assert min(drawn.values()) >= 0.3 * 600 / 6 * 0.6    # near the floor's share at least


def test_the_sampler_says_why_it_is_uniform(voted):
    status = chooser(voted, active_min_votes=500).status()
    assert status.sampler == "uniform" and status.configured == "active"
    assert "active_min_votes = 500" in status.reason and status.votes == 62
    uniform = chooser(voted, sampling="uniform").status().reason
    assert uniform.startswith('[pool] sampling = "uniform"')
    assert "no reward-model spread" in uniform and "coverage order" in uniform     # no ensemble to steer with


class Echo:
    """A text contender without a model: answers with its name."""

    kind = "text"

    def __init__(self, spec):
        self.spec = spec

    def generate(self, requests, *, batch_size=8, should_stop=None, on_progress=None):
        return [Output(request=r, text=f"{self.spec.name} says {r.seed}") for r in requests]


def test_the_pool_makes_the_pairs_the_sampler_wants(voted, monkeypatch):
    studio = voted
    records = {name: studio.contender(name) for name in NAMES}
    from studio.contender_spec import ContenderSpec

    generators = {r.id: Echo(ContenderSpec(name=r.name, model="echo")) for r in records.values()}
    monkeypatch.setattr(studio.generators, "for_pool", lambda: (generators, {}))
    studio.pool.pair_choice = chooser(studio, active_min_votes=50, sampling_floor=0.0)
    assert studio.refill_pool(min_ready=8) == 8
    pairs = Counter()
    while (item := studio.next_item("tester")) is not None:
        pairs[frozenset(side.contender for side in item.sides)] += 1
        studio.vote(item.item_id, outcome="tie", rater="tester", idempotency_key=str(item.item_id))
    assert sum(n for pair, n in pairs.items() if "d" in pair) >= 6, pairs
