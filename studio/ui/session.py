"""What the server remembers about one open page (kept in `gr.State`, never sent to the
browser): the typed rater name when there is no users file, the session id stored on each
vote, and the counters shown in the header."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass

from studio.ui import render


@dataclass(frozen=True)
class RaterSession:
    typed_name: str | None = None          # only without a users file
    session_id: str = ""
    votes_this_session: int = 0
    votes_total: int = 0
    last_comparison_id: int | None = None

    @classmethod
    def start(cls, typed_name: str | None, votes_total: int) -> RaterSession:
        return cls(typed_name=typed_name, session_id=uuid.uuid4().hex, votes_total=votes_total)

    def counted(self, comparison_id: int, created: bool) -> RaterSession:
        """After a vote: a retried vote (created=False) does not count twice."""
        step = 1 if created else 0
        return dataclasses.replace(self, votes_this_session=self.votes_this_session + step,
                                   votes_total=self.votes_total + step, last_comparison_id=comparison_id)


def counter(session: RaterSession) -> str:
    return (f'<span class="studio-counter"><b>{session.votes_this_session}</b> this session · '
            f'<b>{session.votes_total}</b> in total</span>')


def whoami(name: str, role: str, *, gated: bool) -> str:
    leave = ('<a href="logout" class="studio-signout">sign out</a>' if gated else "")
    badge = ' <span class="studio-badge">admin</span>' if role == "admin" else ""
    return f'<span class="studio-whoami">Rating as <b>{render.text(name)}</b>{badge} {leave}</span>'
