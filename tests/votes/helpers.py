"""A studio with contenders whose outputs are stored (no model runs), and votes cast
through the studio's own item and vote path."""

from __future__ import annotations

from studio.records import GenerationIn


def contenders_with_outputs(studio, names, *, prompts: int = 4, texts=None) -> dict[tuple[int, str], int]:
    """(prompt id, contender) -> generation id, for `prompts` prompts and each contender."""
    for name in names:
        studio.add_contender({"name": name, "backend": "external", "model": ""})
    prompt_ids = studio.add_prompts([f"Question {i}" for i in range(prompts)])
    wanted = [(p, n) for p in prompt_ids for n in names]
    ids = studio.add_generations([GenerationIn(prompt_id=p, contender_id=studio.contender(n).id,
                                               text=(texts or {}).get(n, f"{n} answers {p}"), source="test")
                                  for p, n in wanted])
    return dict(zip(wanted, ids, strict=True))


def vote_on(studio, generations, rater: str, winner: str, loser: str, *, prompt: int, session: str | None = None,
            key: str | None = None, outcome: str = "left"):
    """A vote between two contenders' outputs of one prompt (no item)."""
    left, right = generations[(prompt, winner)], generations[(prompt, loser)]
    return studio.vote(outcome=outcome, rater=rater, left=left, right=right, session_id=session,
                       idempotency_key=key or f"{rater}:{prompt}:{winner}:{loser}:{session}")
