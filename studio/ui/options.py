"""What the UI needs to know, built once from `StudioConfig` and the `studio serve` flags
and passed to every part of the app (nothing lives in module globals), with the server's
own secrets: the admin link and the sign-in sessions, new for every `ServeOptions` (so for
every start of `studio serve`)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from studio.config import StudioConfig
from studio.ui.admin_link import AdminLink
from studio.ui.auth import Access, Users
from studio.ui.login import SignIns


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 7860
    users: Users | None = None
    vote_concurrency: int = 64
    analytics: bool = False
    share: bool = False
    prompt_set: str | None = None          # show only this prompt set's pairs (None: all)
    poll_seconds: float = 2.0              # how often an empty arena asks for a new pair
    admin_refresh_seconds: float = 2.0     # Training tab refresh while open
    restart_command: str = "studio serve"  # how this studio was started (the Settings tab says so)
    admin_link: AdminLink = field(default_factory=AdminLink)
    sign_ins: SignIns = field(default_factory=SignIns)

    @classmethod
    def from_config(cls, config: StudioConfig, *, users: Users | None = None, **changes) -> ServeOptions:
        server = config.server
        values = dict(host=server.host, port=server.port, users=users,
                      vote_concurrency=server.vote_concurrency, analytics=server.analytics, share=server.share)
        values.update(changes)
        return cls(**values)

    @property
    def loopback(self) -> bool:
        if self.host in ("localhost", ""):
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def url(self) -> str:
        """The server's address as a browser on this machine reaches it."""
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "[::1]"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    def admin_url(self) -> str | None:
        """The admin link to print; None with a users file (admins sign in)."""
        return None if self.users is not None else self.admin_link.url(self.url)

    def access(self) -> Access:
        return Access(self.users)
