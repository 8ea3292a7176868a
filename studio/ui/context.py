"""What every handler shares: the `Studio`, the options, and who is calling."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import gradio as gr

from studio.ui.auth import Person
from studio.ui.options import ServeOptions
from studio.ui.prediction import PredictionGate
from studio.ui.session import RaterSession
from studio.ui.wiring import username

if TYPE_CHECKING:
    from studio.api import Studio


class Context:
    def __init__(self, studio: Studio, options: ServeOptions, *, pool=None):
        self.studio = studio
        self.options = options
        self.pool = pool
        self.access = options.access()
        self.prediction = PredictionGate(studio)      # who sees the reward model's guess
        self._names: dict[int, str] = {}
        self._names_lock = threading.Lock()

    def caller(self, request: gr.Request | None, typed_name: str | None) -> Person | None:
        """Who is calling (None when nobody is known yet)."""
        return self.access.person(username(request), typed_name, admin_link=self.holds_admin_link(request))

    def person(self, request: gr.Request | None, session: RaterSession | None) -> Person:
        """The rater behind this request, checked on the server (refused when unknown)."""
        return self.access.require(username(request), session.typed_name if session else None,
                                   admin_link=self.holds_admin_link(request))

    def admin(self, request: gr.Request | None, session: RaterSession | None) -> Person:
        """The caller, refused unless they hold the admin role (with a users file, from the
        file; without one, this request's browser opened the admin link)."""
        return self.access.require_admin(username(request), session.typed_name if session else None,
                                         admin_link=self.holds_admin_link(request))

    def holds_admin_link(self, request: gr.Request | None) -> bool:
        """Whether this request carries the server's admin cookie (set by the admin link)."""
        if request is None or self.access.gated:
            return False
        try:
            cookies = request.cookies
        except AttributeError:        # a request made in-process, without HTTP
            return False
        return self.options.admin_link.granted(cookies, self.options.port)

    def nothing_ready(self) -> None:
        """A rater found no pair: ask the pool (when this process runs one) to refill now."""
        if self.pool is not None:
            self.pool.wake()

    def contender_names(self, *ids: int) -> dict[int, str]:
        """Contender id -> name, read once and again only when an unknown id shows up."""
        if any(i not in self._names for i in ids):
            frame = self.studio.contenders()
            with self._names_lock:
                self._names = dict(zip(frame["id"].tolist(), frame["name"].tolist(), strict=True))
        return self._names
