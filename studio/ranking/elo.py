"""Online Elo: each vote moves the two ratings once, in the order the votes came in.

Unlike Bradley-Terry it depends on that order (recent votes weigh more), which is why the
leaderboard shows it only as a secondary column. The sequential update itself runs in
evalica's compiled core.
"""

from __future__ import annotations

import pandas as pd

from studio.ranking.votes import between_contenders, left_scores


def online_elo(votes: pd.DataFrame, *, k: float = 4.0, initial: float = 1000.0, base: float = 10.0,
               scale: float = 400.0) -> pd.Series:
    """Elo rating per contender after replaying the votes in frame order (a tie is half a
    win to each side); K-factor `k`, every contender starting at `initial`."""
    import evalica

    votes = between_contenders(votes, what="Elo")
    if votes.empty:
        return pd.Series(dtype=float, name="elo")
    scores = left_scores(votes["outcome"])
    winner = {1.0: evalica.Winner.X, 0.0: evalica.Winner.Y, 0.5: evalica.Winner.Draw}
    # evalica's compiled solver takes plain lists (not numpy arrays).
    result = evalica.elo(votes["left_contender"].astype(str).tolist(), votes["right_contender"].astype(str).tolist(),
                         [winner[s] for s in scores.tolist()], initial=initial, base=base, scale=scale, k=k)
    return result.scores.rename("elo")
