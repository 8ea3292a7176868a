"""What the UI needs to know, built once from `StudioConfig` and the `studio serve` flags
and passed to every part of the app (nothing lives in module globals)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from studio.config import StudioConfig
from studio.ui.auth import Access, Users


@dataclass(frozen=True)
class ServeOptions:
    media_root: Path
    host: str = "127.0.0.1"
    port: int = 7860
    users: Users | None = None
    vote_concurrency: int = 64
    analytics: bool = False
    share: bool = False
    prompt_set: str | None = None          # show only this prompt set's pairs (None: all)
    poll_seconds: float = 3.0              # how often an empty arena asks for a new pair
    admin_refresh_seconds: float = 2.0     # Training tab refresh while open

    @classmethod
    def from_config(cls, config: StudioConfig, *, users: Users | None = None, **changes) -> ServeOptions:
        server = config.server
        values = dict(media_root=config.media_dir, host=server.host, port=server.port, users=users,
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

    def access(self) -> Access:
        # Without a users file nobody can prove who they are: the person at the machine
        # (a loopback address) is the admin; on a network address nobody is.
        return Access(self.users, local_admin=self.users is None and self.loopback)
