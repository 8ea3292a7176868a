"""The one query for a vote with its sides: a comparison joined to its prompt and to the two
generations it compared. The DataFrame reads (`frames`), the exports and the training data
all build on it, choosing their own columns and filters, so the joins exist once.

    query = vote_sides(VOTE.c.id, PROMPT.c.text, LEFT.c.text, RIGHT.c.text)
    query = vote_sides(VOTE.c.id, LEFT.c.media_path, prompt=False)   # no prompt join

Core tables, not ORM entities: the exports read millions of rows through it.
"""

from __future__ import annotations

from sqlalchemy import Select, select

from studio.store.schema import Comparison, Generation, Prompt

VOTE = Comparison.__table__
PROMPT = Prompt.__table__
LEFT = Generation.__table__.alias("left_generation")
RIGHT = Generation.__table__.alias("right_generation")


def vote_sides_from(*, prompt: bool = True, sides: bool = True):
    """FROM comparisons, joined to its prompt and/or its two generations."""
    joined = VOTE
    if prompt:
        joined = joined.join(PROMPT, PROMPT.c.id == VOTE.c.prompt_id)
    if sides:
        joined = (joined.join(LEFT, LEFT.c.id == VOTE.c.left_generation_id)
                  .join(RIGHT, RIGHT.c.id == VOTE.c.right_generation_id))
    return joined


def vote_sides(*columns, prompt: bool = True, sides: bool = True) -> Select:
    """SELECT `columns` FROM a vote with its prompt and both sides."""
    return select(*columns).select_from(vote_sides_from(prompt=prompt, sides=sides))


def side_content(*, hashes: bool = False) -> list:
    """The two sides' texts and media files (and content hashes), labelled left_*/right_*."""
    columns = [LEFT.c.text.label("left_text"), RIGHT.c.text.label("right_text"),
               LEFT.c.media_path.label("left_media"), RIGHT.c.media_path.label("right_media")]
    if hashes:
        columns += [LEFT.c.content_sha256.label("left_sha256"), RIGHT.c.content_sha256.label("right_sha256")]
    return columns
