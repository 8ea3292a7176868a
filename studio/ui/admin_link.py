"""The admin link: without a users file, the one way to become an admin.

`studio serve` prints a URL carrying a random token, new at every start (as Jupyter does):

    http://127.0.0.1:7860/admin?token=3q2-...

Opening it once sets an admin cookie for that browser (HttpOnly, SameSite=Strict, another
random value, never the token) and sends it on to the app, where the Training, Data and
Settings tabs appear. Every admin handler checks the cookie again on the server, for each
call. Where the server listens grants nothing: behind a reverse proxy, an SSH tunnel or a
share link, a visitor without the link is a rater. With a users file the link is not used:
admins are the users file's admins.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from html import escape
from typing import Any

ADMIN_PATH = "/admin"
COOKIE_PREFIX = "studio-admin-"


@dataclass(frozen=True)
class AdminLink:
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    cookie_value: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    def url(self, base: str) -> str:
        """The link to print: `base` is the server's own address (http://host:port/)."""
        return f"{base.rstrip('/')}{ADMIN_PATH}?token={self.token}"

    def accepts(self, token: Any) -> bool:
        return isinstance(token, str) and hmac.compare_digest(token.encode(), self.token.encode())

    def granted(self, cookies: Any, port: int) -> bool:
        """Whether a request's cookies (a dict, or Gradio's request object's) hold this
        server's admin cookie."""
        if cookies is None:
            return False
        value = cookies.get(cookie_name(port))
        return isinstance(value, str) and hmac.compare_digest(value.encode(), self.cookie_value.encode())


def cookie_name(port: int) -> str:
    # Cookies are shared by every port of a host: the port in the name keeps two studios on
    # one machine from overwriting each other's.
    return f"{COOKIE_PREFIX}{port}"


def routes(link: AdminLink, port: int) -> list:
    """`GET /admin?token=...`: set the admin cookie and go to the app."""
    from starlette.responses import HTMLResponse, RedirectResponse
    from starlette.routing import Route

    async def admin(request):
        if not link.accepts(request.query_params.get("token")):
            return HTMLResponse(_page("This admin link is not valid for this server. It changes every time "
                                      "`studio serve` starts: open the one it printed last."), status_code=403)
        answer = RedirectResponse("./", status_code=303)
        answer.set_cookie(cookie_name(port), link.cookie_value, httponly=True, samesite="strict", path="/")
        answer.headers["Cache-Control"] = "no-store"
        answer.headers["Referrer-Policy"] = "no-referrer"
        return answer

    return [Route(ADMIN_PATH, admin, methods=["GET"])]


def _page(message: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Feedback Studio</title></head>"
            f"<body style='font-family: sans-serif; margin: 3em'><p>{escape(message)}</p></body></html>")
