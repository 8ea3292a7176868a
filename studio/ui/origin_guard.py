"""Refusing requests that another site's page makes a browser send (cross-site request
forgery): an ASGI middleware in front of every route, Gradio's own included.

A request that can change something (POST, PUT, PATCH, DELETE, a WebSocket, and the GET
routes that assign or sign out) is refused with 403 when the browser says it comes from
another origin:
- `Sec-Fetch-Site` (every current browser sends it) must be `same-origin` or `none` (typed
  by the user). `same-site` is refused too: a page on another port of the same host is
  "same site" for cookies, but not the studio.
- Without it, `Origin`, else `Referer`, must name this server's own host and port.
A client that sends none of these headers (curl, a script, gradio_client) is not a
browser acting for someone else, and goes through.
"""

from __future__ import annotations

from urllib.parse import urlsplit

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
GUARDED_GETS = frozenset({"/api/next", "/logout"})     # GETs that assign an item or end a session
ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})


def refusal(method: str, path: str, headers: dict[str, str], *, websocket: bool = False) -> str | None:
    """Why a request is refused as cross-site; None when it may go on."""
    if not websocket and method not in UNSAFE_METHODS and path not in GUARDED_GETS:
        return None
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        if fetch_site.strip().lower() in ALLOWED_FETCH_SITES:
            return None
        return f"refused: a request from another site ({fetch_site})"
    own = _own_hosts(headers)
    for name in ("origin", "referer"):
        value = headers.get(name)
        if value is None:
            continue
        if value.strip().lower() == "null":
            return f"refused: a request from an opaque origin ({name}: null)"
        if urlsplit(value.strip()).netloc.lower() not in own:
            return f"refused: a request from another origin ({name})"
        return None
    return None


def _own_hosts(headers: dict[str, str]) -> set[str]:
    hosts = {headers.get("host", "").strip().lower()}
    forwarded = headers.get("x-forwarded-host")
    if forwarded:            # a reverse proxy's public name (not settable by a cross-site page)
        hosts.add(forwarded.split(",")[0].strip().lower())
    return hosts - {""}


class OriginGuard:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        kind = scope["type"]
        if kind in ("http", "websocket"):
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            reason = refusal(scope.get("method", "GET"), scope.get("path", ""), headers,
                             websocket=kind == "websocket")
            if reason is not None:
                if kind == "websocket":
                    await send({"type": "websocket.close", "code": 1008, "reason": reason})
                    return
                from starlette.responses import JSONResponse

                await JSONResponse({"error": reason}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)
