"""What improving a contender reads: the counted votes on pairs where one side is the
contender's (with the prompt and both outputs), and the votes between a version and its
parent (for the lift). Built on the one vote-with-sides query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_

from studio.store.counted import counted_votes
from studio.store.sql import Repo
from studio.store.vote_sides import LEFT, PROMPT, RIGHT, VOTE, side_content, vote_sides


def _columns() -> list:
    return [VOTE.c.id, VOTE.c.prompt_id, PROMPT.c.text.label("prompt"), PROMPT.c.system_prompt,
            VOTE.c.left_contender_id, VOTE.c.right_contender_id, VOTE.c.outcome,
            LEFT.c.id.label("left_generation_id"), RIGHT.c.id.label("right_generation_id"), *side_content()]


class ImprovementRepo(Repo):
    def votes_involving(self, contender_id: int) -> list[dict[str, Any]]:
        """Every counted vote on a pair with at least one side of this contender, oldest first."""
        query = (vote_sides(*_columns())
                 .where(or_(VOTE.c.left_contender_id == contender_id, VOTE.c.right_contender_id == contender_id),
                        counted_votes(VOTE))
                 .order_by(VOTE.c.id))
        return [dict(row) for row in self.session.execute(query).mappings()]

    def votes_between(self, first_id: int, second_id: int) -> list[dict[str, Any]]:
        """Every counted vote on a pair of these two contenders, in either order."""
        query = (vote_sides(*_columns())
                 .where(or_(and_(VOTE.c.left_contender_id == first_id, VOTE.c.right_contender_id == second_id),
                            and_(VOTE.c.left_contender_id == second_id, VOTE.c.right_contender_id == first_id)),
                        counted_votes(VOTE))
                 .order_by(VOTE.c.id))
        return [dict(row) for row in self.session.execute(query).mappings()]
