"""The studio's own media route: `GET /media/<key>` streams a file from the artifact store
(the data dir, or an object store through this machine's cache), so raters' browsers reach
images through the server and never need access to the bucket; Gradio itself serves no
file from disk (`allowed_paths=[]`).

Path checks: the key must be a content-addressed media key (`media/ab/<digest>.png`, the
one naming rule, older keys included), relative, without '..'; anything else is 404 before
the store is asked. With a users file the caller must be signed in (`login.signed_in`).
Files never change under their key, so browsers may cache them for a day.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from studio.artifacts.base import checked_key, digest_in_key
from studio.errors import StudioError
from studio.ui.login import signed_in

if TYPE_CHECKING:
    from studio.ui.context import Context

PREFIX = "studio-media/"
TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp", ".gif": "image/gif"}


def media_url(key: str | None) -> str | None:
    """The page-relative URL of a media key; None when it is not a media key."""
    if not is_media_key(key):
        return None
    return PREFIX + quote(key)


def is_media_key(key: str | None) -> bool:
    if not key:
        return False
    try:
        checked = checked_key(key)
    except StudioError:
        return False
    suffix = "." + checked.rpartition(".")[2].lower() if "." in checked else ""
    return checked == key and digest_in_key(key) is not None and suffix in TYPES


def routes(ctx: Context) -> list[Route]:
    artifacts = ctx.studio.artifacts
    user = signed_in(ctx.options.sign_ins, ctx.options.port) if ctx.options.users is not None else None

    async def serve(request) -> Response:
        key = request.path_params["key"]
        if user is not None and user(request) is None:
            return Response("sign in first", status_code=401, media_type="text/plain")
        if not is_media_key(key):
            return Response("no such media file", status_code=404, media_type="text/plain")
        try:
            path = await run_in_threadpool(artifacts.path, key)
        except StudioError:
            return Response("no such media file", status_code=404, media_type="text/plain")
        resolved = path.resolve()
        if not resolved.is_file() or resolved.parent.parent.name != "media":    # a link out of media/: refused
            return Response("no such media file", status_code=404, media_type="text/plain")
        suffix = "." + key.rpartition(".")[2].lower()
        return FileResponse(resolved, media_type=TYPES[suffix],
                            headers={"Cache-Control": "private, max-age=86400, immutable",
                                     "X-Content-Type-Options": "nosniff"})

    return [Route(f"/{PREFIX}{{key:path}}", serve, methods=["GET", "HEAD"])]
