"""Style control from a notebook: `Studio.leaderboard(style_control=True)` reads the stored
answers' texts and returns the style-controlled board with the raw one beside and the
covariates' coefficients (recovering a planted coefficient is tests/ranking/test_style_control.py)."""

from __future__ import annotations

import numpy as np

from tests.votes.helpers import contenders_with_outputs, vote_on


def test_style_control_from_the_studio_gives_both_boards_and_the_coefficients(sqlite_studio):
    studio = sqlite_studio
    texts = {"verbose": "# Heading\n\n" + "- **point**\n" * 6 + "word " * 300, "terse": "Yes.", "mid": "A fair answer."}
    generations = contenders_with_outputs(studio, ["verbose", "terse", "mid"], prompts=8, texts=texts)
    for p in sorted({p for p, _ in generations}):
        for rater in ("ana", "bo", "cy"):
            vote_on(studio, generations, rater, "verbose", "terse", prompt=p)
            vote_on(studio, generations, rater, "verbose", "mid", prompt=p, outcome="left" if rater != "cy" else "right")
            vote_on(studio, generations, rater, "mid", "terse", prompt=p, outcome="tie")
    board = studio.leaderboard(bootstrap=30, style_control=True)
    assert {"rating", "raw_rating", "rank_low", "rank_high", "raw_rank_low"} <= set(board.columns)
    coefficients = board.attrs["coefficients"].set_index("feature")
    assert set(coefficients.index) == {"length", "headers", "lists", "bold"}
    verbose = board.set_index("contender").loc["verbose"]
    assert verbose["raw_rank"] == 1 and np.isfinite(coefficients["coefficient"]).all()
    plain = studio.leaderboard(bootstrap=30)
    assert {"rank_low", "rank_high"} <= set(plain.columns)
