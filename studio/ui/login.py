"""Signing in with a users file: the studio's own login page, sessions and limits.

    GET  /login      a plain form (nothing loaded from outside)
    POST /login      form fields username, password: 200 {"success": true} and a session
                     cookie (a browser's form post is sent on to the app instead); 400 wrong
                     name or password; 429 too many failed sign-ins; 503 too many at once
    GET  /logout     ends the session

Gradio's own login is not used: the app is launched with `auth_dependency=sign_ins.user`,
so Gradio (its page, its queue, `gr.Request.username`) and the JSON vote API read the same
session, and nothing reaches into Gradio's internals. The session cookie is HttpOnly and
SameSite=Strict, named after the port (cookies are shared by every port of a host).

Failed sign-ins are counted per user name and per client address over a window: after a
few, each attempt waits longer before its password is checked; after more, that name (or
address) is refused for a while, with a message saying how long (then one more try, and
refused again if it fails too). An attempt counts as
failed until it succeeds, so a burst sent at once is counted whole. At most
`scrypt_at_once` password checks run at a time (each scrypt takes 16 MiB and a thread for
tens of milliseconds), and sign-ins beyond `waiting_at_most` waiting are answered 503.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

from studio.ui.auth import Users

COOKIE_PREFIX = "studio-session-"
MAX_FIELD = 1024                       # a longer name or password is refused before scrypt


@dataclass(frozen=True)
class LoginLimits:
    free_failures: int = 5             # failed sign-ins within the window before attempts slow down
    lock_after: int = 10               # ... and before the name (or address) is refused for a while
    window_s: float = 15 * 60
    lockout_s: float = 5 * 60
    first_delay_s: float = 0.5         # doubles with each further failure, up to max_delay_s
    max_delay_s: float = 4.0
    scrypt_at_once: int = 2
    waiting_at_most: int = 32
    session_s: float = 7 * 24 * 3600
    sessions_kept: int = 10_000


class Refused(Exception):
    """A sign-in refused before its password is checked: status and one line for the user."""

    def __init__(self, status: int, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class LoginThrottle:
    """Failed sign-ins per user name and per client address (`clock`: seconds, monotonic)."""

    def __init__(self, limits: LoginLimits, clock: Callable[[], float] = time.monotonic):
        self.limits = limits
        self.clock = clock
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def attempt(self, name: str, address: str) -> float:
        """Count an attempt (as failed until `succeeded`); returns how long it waits before
        its password is checked. Raises Refused(429) while the name or the address is
        locked out."""
        now = self.clock()
        with self._lock:
            counts = []
            for key in (("name", name), ("address", address)):
                failures = self._recent(key, now)
                wait = failures[-1] + self.limits.lockout_s - now if failures else 0.0
                if len(failures) >= self.limits.lock_after and wait > 0:
                    what = f"for {name!r}" if key[0] == "name" else "from your address"
                    raise Refused(429, f"too many failed sign-ins {what}: try again in "
                                       f"{_duration(wait)}", retry_after=wait)
                counts.append(len(failures))
            for key in (("name", name), ("address", address)):
                self._failures.setdefault(key, deque()).append(now)
                self._failures.move_to_end(key)
            self._forget_oldest()
        over = max(counts) + 1 - self.limits.free_failures
        if over <= 0:
            return 0.0
        return min(self.limits.max_delay_s, self.limits.first_delay_s * 2 ** (over - 1))

    def succeeded(self, name: str, address: str) -> None:
        """A right password: the name's failures are forgotten, and this attempt is not
        counted against the address."""
        with self._lock:
            self._failures.pop(("name", name), None)
            failures = self._failures.get(("address", address))
            if failures:
                failures.pop()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] < now - self.limits.window_s:
            failures.popleft()
        return failures

    def _forget_oldest(self) -> None:
        while len(self._failures) > 4 * self.limits.sessions_kept:
            self._failures.popitem(last=False)


class ScryptGate:
    """At most `at_once` password checks at a time; more than `waiting_at_most` waiting
    are refused (503) instead of queueing without end."""

    def __init__(self, at_once: int, waiting_at_most: int):
        self.at_once = at_once
        self.waiting_at_most = waiting_at_most
        self.running = 0
        self.peak = 0                   # the most checks that ever ran at once
        self._waiting = 0
        self._semaphore: asyncio.Semaphore | None = None

    async def check(self, users: Users, name: str, password: str) -> bool:
        from starlette.concurrency import run_in_threadpool

        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.at_once)
        if self._waiting >= self.waiting_at_most:
            raise Refused(503, "too many sign-ins at once: try again in a few seconds", retry_after=5)
        self._waiting += 1
        try:
            async with self._semaphore:
                self.running += 1
                self.peak = max(self.peak, self.running)
                try:
                    return await run_in_threadpool(users.check, name, password)
                finally:
                    self.running -= 1
        finally:
            self._waiting -= 1


class SignIns:
    """The sessions of one server: session token -> (user name, expiry)."""

    def __init__(self, limits: LoginLimits | None = None, clock: Callable[[], float] = time.monotonic):
        self.limits = limits or LoginLimits()
        self.clock = clock
        self.throttle = LoginThrottle(self.limits, clock)
        self.gate = ScryptGate(self.limits.scrypt_at_once, self.limits.waiting_at_most)
        self._sessions: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def open(self, name: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[token] = (name, self.clock() + self.limits.session_s)
            while len(self._sessions) > self.limits.sessions_kept:
                self._sessions.popitem(last=False)
        return token

    def close(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)

    def name(self, token: str | None) -> str | None:
        """The user a session token belongs to; None when unknown or expired."""
        if not token:
            return None
        with self._lock:
            found = self._sessions.get(token)
            if found is None:
                return None
            if found[1] < self.clock():
                del self._sessions[token]
                return None
            return found[0]


def cookie_name(port: int) -> str:
    return f"{COOKIE_PREFIX}{port}"


def signed_in(sign_ins: SignIns, port: int) -> Callable[[Any], str | None]:
    """The user of a request (Gradio's `auth_dependency`, and the vote API's check)."""
    def user(request) -> str | None:
        return sign_ins.name(request.cookies.get(cookie_name(port)))

    return user


def routes(users: Users, sign_ins: SignIns, port: int, message: str) -> list:
    from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
    from starlette.routing import Route

    cookie = cookie_name(port)

    async def page(request) -> Response:
        return HTMLResponse(login_page(message), headers={"Cache-Control": "no-store"})

    async def login(request) -> Response:
        browser = "text/html" in request.headers.get("accept", "")
        form = await request.form()
        name, password = str(form.get("username") or "").strip(), str(form.get("password") or "")
        address = request.client.host if request.client else "?"

        def refused(status: int, text: str, retry_after: float | None = None) -> Response:
            headers = {"Retry-After": str(max(1, round(retry_after)))} if retry_after else {}
            if browser:
                return HTMLResponse(login_page(message, error=text), status_code=status, headers=headers)
            return JSONResponse({"error": text}, status_code=status, headers=headers)

        if not name or len(name) > MAX_FIELD or len(password) > MAX_FIELD:
            return refused(400, "enter the name and password your admin gave you")
        try:
            wait = sign_ins.throttle.attempt(name, address)
            if wait:
                await asyncio.sleep(wait)
            ok = await sign_ins.gate.check(users, name, password)
        except Refused as exc:
            return refused(exc.status, str(exc), exc.retry_after)
        if not ok:
            return refused(400, "wrong name or password")
        sign_ins.throttle.succeeded(name, address)
        answer: Response = RedirectResponse("./", status_code=303) if browser else \
            JSONResponse({"success": True})
        answer.set_cookie(cookie, sign_ins.open(name), httponly=True, samesite="strict", path="/",
                          max_age=int(sign_ins.limits.session_s))
        return answer

    async def logout(request) -> Response:
        sign_ins.close(request.cookies.get(cookie))
        answer = RedirectResponse("./login", status_code=303)
        answer.delete_cookie(cookie, path="/")
        return answer

    return [Route(path, page, methods=["GET"]) for path in ("/login", "/login/")] + \
           [Route(path, login, methods=["POST"]) for path in ("/login", "/login/")] + \
           [Route("/logout", logout, methods=["GET"])]


class LoginRedirect:
    """ASGI middleware: a browser opening the app without a session is sent to /login
    (Gradio itself would answer 401 with JSON)."""

    def __init__(self, app, *, user: Callable[[Any], str | None]):
        self.app = app
        self.user = user

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == "/":
            from starlette.requests import Request
            from starlette.responses import RedirectResponse

            if self.user(Request(scope)) is None:
                await RedirectResponse("./login", status_code=303)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def login_page(message: str, *, error: str | None = None) -> str:
    problem = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Feedback Studio: sign in</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f6f7f9; margin: 0; }}
main {{ max-width: 22em; margin: 12vh auto; background: white; padding: 2em; border-radius: 8px;
        box-shadow: 0 1px 4px rgba(0,0,0,.12); }}
label {{ display: block; margin-top: 1em; }}
input {{ width: 100%; box-sizing: border-box; padding: .5em; font-size: 1em; }}
button {{ margin-top: 1.5em; width: 100%; padding: .6em; font-size: 1em; }}
.error {{ color: #b00020; }}
</style></head>
<body><main>
<h1>Feedback Studio</h1>
<p>{escape(message)}</p>
{problem}
<form method="post" action="login">
<label for="username">username</label><input id="username" name="username" autocomplete="username" required>
<label for="password">password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Login</button>
</form>
</main></body></html>"""


def _duration(seconds: float) -> str:
    seconds = max(1, round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    return f"{round(seconds / 60)} minutes"
