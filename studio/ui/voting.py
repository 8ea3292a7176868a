"""Recording a vote from a pair panel: shared by the Arena and Free-prompt tabs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.ui import pair_view
from studio.ui.auth import Person
from studio.ui.context import Context
from studio.ui.session import RaterSession, counter


@dataclass(frozen=True)
class Recorded:
    person: Person
    session: RaterSession
    updates: dict[str, Any]         # the reveal, a cleared rationale, the counter, the session


def record(ctx: Context, prefix: str, outcome: str, token: str, rationale: str | None,
           decision_ms: float | None, session: RaterSession, request: gr.Request | None) -> Recorded:
    """Check the caller, write the vote (committed before this returns) and say what was saved.
    The same token sent twice (a retry, a double click) finds the first row and counts once."""
    person = ctx.person(request, session)
    shown = pair_view.Token.parse(token)
    result = ctx.studio.vote(
        shown.item_id, outcome=outcome, rater=person.name, idempotency_key=shown.key,
        rationale=(rationale or "").strip() or None, decision_ms=shown.decision_ms(decision_ms),
        session_id=session.session_id)
    comparison = result.comparison
    session = session.counted(comparison.id, result.created)
    names = ctx.contender_names(comparison.left_contender_id, comparison.right_contender_id)
    return Recorded(person, session, {f"{prefix}_reveal": pair_view.reveal(comparison, names),
                                      f"{prefix}_rationale": "", "counter": counter(session),
                                      "session": session})
