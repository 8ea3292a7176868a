"""Recording a vote from a pair panel: shared by the Arena and Free-prompt tabs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.records import ItemView
from studio.ui import pair_view
from studio.ui.auth import Person
from studio.ui.context import Context
from studio.ui.session import RaterSession, counter
from studio.ui.text_input import MAX_RATIONALE, typed_text

ALREADY = "You rated this pair before; this vote was not counted. It is already saved as"


@dataclass(frozen=True)
class Recorded:
    person: Person
    session: RaterSession
    updates: dict[str, Any]         # the reveal, a cleared rationale, the counter, the session
    following: ItemView | None = None   # the rater's next pair, when asked for


def record(ctx: Context, prefix: str, outcome: str, token: str, rationale: str | None,
           decision_ms: float | None, session: RaterSession, request: gr.Request | None, *,
           then_next: bool = False) -> Recorded:
    """Check the caller, write the vote (committed before this returns) and say what was saved;
    with `then_next`, the rater's next pair comes from the same transaction.
    The same token sent twice (a retry, a double click) finds the first row and counts once;
    a second vote on the same pair (another tab, a reload) writes nothing and says what the
    first one saved."""
    person = ctx.person(request, session)
    shown = pair_view.Token.parse(token)
    vote = dict(outcome=outcome, rater=person.name, idempotency_key=shown.key,
                rationale=typed_text(rationale, what="the rationale", limit=MAX_RATIONALE).strip() or None, decision_ms=shown.decision_ms(decision_ms),
                session_id=session.session_id)
    following = None
    if then_next:
        result, following = ctx.studio.vote_and_next(shown.item_id, prompt_set=ctx.options.prompt_set, **vote)
    else:
        result = ctx.studio.vote(shown.item_id, **vote)
    comparison = result.comparison
    session = session.counted(comparison.id, result.created)
    names = ctx.contender_names(comparison.left_contender_id, comparison.right_contender_id)
    # A second vote on the pair (another tab, a reload): nothing was written; the first one stands.
    lead = ALREADY if result.duplicate else "Your last vote, saved:"
    shown_after = pair_view.reveal(comparison, names, lead=lead, item=ctx.studio.item_view(shown.item_id))
    return Recorded(person, session, {f"{prefix}_reveal": shown_after,
                                      f"{prefix}_rationale": "", "counter": counter(session),
                                      "session": session}, following)
