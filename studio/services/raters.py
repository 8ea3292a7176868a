"""How far each rater can be trusted, and leaving a rater (or one session) out.

`raters()` judges every rater on their votes, excluded ones included (an admin reviewing an
exclusion sees the same figures that led to it): votes, gold accuracy, agreement with the
consensus, the anomaly test's p-value, median decision time, too-fast votes and the flags
(`ranking.rater_quality`). `exclude` and `include` write or remove a `rater_exclusions` row:
the votes stay in the database and `store/counted.py` leaves them out of every leaderboard,
agreement, training and export until they are included again.
"""

from __future__ import annotations

import pandas as pd

from studio.errors import InputError, NotFoundError
from studio.store import Store

RATER_COLUMNS = ["rater", "role", "votes", "excluded", "excluded_sessions", "gold_votes", "gold_accuracy",
                 "consensus_agreement", "anomaly_p", "median_decision_ms", "too_fast", "flagged", "reasons"]


class RaterReview:
    def __init__(self, store: Store):
        self.store = store

    def raters(self) -> pd.DataFrame:
        """RATER_COLUMNS, one row per rater (those without votes too), flagged ones first."""
        from studio.ranking.rater_quality import rater_quality

        with self.store.reader() as tx:
            votes = tx.rankings.rater_votes()
            gold = tx.gold.answers()
            people = tx.raters.all()
            exclusions = tx.raters.exclusions()
        table = pd.DataFrame({"rater": [p.name for p in people], "role": [p.role for p in people]})
        if len(votes):
            quality = rater_quality(votes, gold=gold)
            table = table.merge(quality, on="rater", how="left")
        else:
            table = table.assign(**{c: pd.NA for c in RATER_COLUMNS if c not in ("rater", "role")})
        table["votes"] = pd.to_numeric(table["votes"]).fillna(0).astype(int)
        table["gold_votes"] = pd.to_numeric(table["gold_votes"]).fillna(0).astype(int)
        table["too_fast"] = pd.to_numeric(table["too_fast"]).fillna(0).astype(int)
        table["flagged"] = table["flagged"].astype("boolean").fillna(False).astype(bool)
        table["reasons"] = table["reasons"].fillna("").astype(str)
        whole = {name for name, session, _ in exclusions if session is None}
        sessions: dict[str, list[str]] = {}
        for name, session, _ in exclusions:
            if session is not None:
                sessions.setdefault(name, []).append(session)
        table["excluded"] = table["rater"].isin(whole)
        table["excluded_sessions"] = table["rater"].map(lambda n: ", ".join(sessions.get(n, [])))
        order = table.assign(_votes=-table["votes"]).sort_values(["flagged", "_votes", "rater"],
                                                                 ascending=[False, True, True], kind="stable")
        return order[RATER_COLUMNS].reset_index(drop=True)

    def exclude(self, name: str, *, session: str | None = None, reason: str = "") -> bool:
        """Leave the rater's votes (or only those of `session`) out of every count, reversibly.
        False when they already were."""
        with self.store.transaction() as tx:
            rater_id = self._rater_id(tx, name)
            if session is not None and not tx.raters.has_session(rater_id, session):
                raise NotFoundError(f"rater {name!r} has no votes in session {session!r}: "
                                    "see the session ids in `studio.comparisons(rater=...)`")
            return tx.raters.exclude(rater_id, session, reason)

    def include(self, name: str, *, session: str | None = None) -> bool:
        """Count the rater's (or the session's) votes again. False when they were not excluded."""
        with self.store.transaction() as tx:
            return tx.raters.include(self._rater_id(tx, name), session)

    def exclusions(self) -> pd.DataFrame:
        with self.store.reader() as tx:
            rows = tx.raters.exclusions()
        return pd.DataFrame(rows, columns=["rater", "session", "reason"])

    @staticmethod
    def _rater_id(tx, name: str) -> int:
        if not name or not name.strip():
            raise InputError("name the rater to exclude or include")
        rater = tx.raters.get(name)
        if rater is None:
            raise NotFoundError(f"no rater named {name!r}: `studio raters` lists them")
        return rater.id
