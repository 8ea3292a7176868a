"""Proofs against published numbers, on the real votes in ../shared/data/prefs (skipped with
a message when that folder is absent):

- LLMFAO crowd votes -> the published Bradley-Terry scores (sum 1): each within 1e-4, same ranking;
- PandaLM's three annotators -> their published pairwise Cohen's kappas (0.85, 0.88, 0.86).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import shared_prefs


def test_llmfao_crowd_votes_reproduce_the_published_bradley_terry_scores(sqlite_studio):
    votes = shared_prefs("elo_llmfao_crowd_votes.jsonl")
    published = pd.read_csv(shared_prefs("elo_llmfao_reference_bt.csv")).set_index("model")
    assert sqlite_studio.import_votes(votes).added == 8931

    board = sqlite_studio.leaderboard(bootstrap=200, seed=0).set_index("contender")
    assert set(board.index) == set(published.index) and board.score.sum() == pytest.approx(1.0)
    difference = (board.score - published.published_score.reindex(board.index)).abs()
    assert difference.max() < 1e-4
    assert board["rank"].tolist() == published.published_rank.reindex(board.index).tolist()
    assert (board.votes == published.n_votes.reindex(board.index)).all()
    # the Elo-like scale of the published scores (400 * log10, geometric mean at 1000)
    assert np.abs(board.rating - published.elo_scale.reindex(board.index)).max() < 0.5
    assert ((board.ci_low <= board.rating) & (board.rating <= board.ci_high)).all()


def test_pandalm_annotators_reproduce_the_published_cohen_kappas(sqlite_studio):
    sqlite_studio.import_votes(shared_prefs("elo_pandalm_votes.jsonl"))
    report = sqlite_studio.agreement()
    kappas = {(row.rater_a, row.rater_b): round(row.kappa, 2) for row in report.cohen.itertuples()}
    assert kappas == {("annotator1", "annotator2"): 0.85, ("annotator1", "annotator3"): 0.88,
                      ("annotator2", "annotator3"): 0.86}
    assert report.units == 999 and (report.cohen.shared == 999).all()
