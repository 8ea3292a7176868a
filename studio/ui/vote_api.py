"""A small JSON API for votes, on the same server as the app, for clients that vote at a
high rate (annotation tools, scripts): one plain HTTP request per vote, without Gradio's
event queue in between.

    GET  /api/next?rater=NAME        the rater's next pair (their open one after a reload)
    POST /api/vote                   {"item_id": 12, "outcome": "left", "idempotency_key": "...",
                                      "rater": "NAME", "rationale": "...", "decision_ms": 2300,
                                      "next": true}

`outcome` is left | right | tie | both_bad (a, b are accepted for left, right). The answer
is {"comparison_id", "created", "item_id", "outcome", "left_contender", "right_contender",
"next"}: the vote is committed before it is sent, and `next` (unless "next": false) is the
rater's next pair, assigned in the same transaction. Resending the same `idempotency_key`
(after a timeout or a server restart) writes nothing and answers `"created": false`. One
vote per rater per item: a second one under a new key writes nothing and answers 409 with
the first vote's fields (`outcome`, `comparison_id`, `"duplicate": true`, and `next`); an
item never handed to the caller, or a key already used for another vote, is refused (409)
and assigns nothing.

Who votes: with a users file (`--auth`), the signed-in user. Sign in once with
`POST /login` (form fields username, password; `studio.ui.login`) and send the cookie it
sets; `rater` may be left out, and naming someone else is refused. Without a users file, `rater` is the name,
as typed on the page. Errors are JSON {"error": "one line"} with 400 (bad input),
401 (not signed in), 403 (refused, or sent by another site's page: `studio.ui.origin_guard`),
404 (no such item), 409 (see above), 415 (a body that is not JSON).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from studio.errors import AccessDenied, ConflictError, InputError, NotFoundError, StudioError
from studio.records import MAX_IDEMPOTENCY_KEY, ItemView
from studio.ui.auth import clean_typed_name
from studio.ui.context import Context
from studio.ui.login import signed_in
from studio.ui.media import media_url
from studio.ui.text_input import MAX_RATIONALE, typed_text

OUTCOMES = {"left": "left", "right": "right", "tie": "tie", "both_bad": "both_bad", "a": "left", "b": "right"}
MAX_BODY_BYTES = 64 * 1024
FIELDS = {"item_id", "outcome", "idempotency_key", "rater", "rationale", "decision_ms", "next"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.extra = extra or {}        # more fields of the JSON answer, next to "error"


def routes(ctx: Context) -> list[APIRoute]:
    """The API's routes, to place ahead of Gradio's own on its FastAPI app."""
    api = VoteApi(ctx)
    return [APIRoute("/api/vote", api.vote, methods=["POST"], include_in_schema=False),
            APIRoute("/api/next", api.next, methods=["GET"], include_in_schema=False)]


class VoteApi:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.signed_in = signed_in(ctx.options.sign_ins, ctx.options.port)

    # The database work runs in the server's thread pool, so votes run in parallel with each
    # other and with the page's events, never on the event loop.
    async def vote(self, request: Request) -> Response:
        kind = request.headers.get("content-type")
        if kind is not None and kind.split(";")[0].strip().lower() != "application/json":
            # A browser form (or a no-preflight fetch) posts text/plain or form data; the
            # cross-site guard refuses those from other origins, and the API reads JSON only.
            return json_response({"error": "send the vote as JSON (Content-Type: application/json)"}, 415)
        body = await request.body()
        return await run_in_threadpool(self._answer, lambda: self._vote(request, body))

    async def next(self, request: Request) -> Response:
        return await run_in_threadpool(self._answer, lambda: self._next(request))

    def _next(self, request: Request) -> dict[str, Any]:
        rater = self._rater(request, request.query_params.get("rater"))
        return {"next": self._view(self.ctx.studio.next_item(rater, prompt_set=self.ctx.options.prompt_set,
                                                             shape="pair"))}

    def _answer(self, work) -> Response:
        try:
            return json_response(work())
        except ApiError as exc:
            return json_response({"error": str(exc), **exc.extra}, exc.status)
        except AccessDenied as exc:
            return json_response({"error": str(exc)}, 403)
        except NotFoundError as exc:
            return json_response({"error": str(exc)}, 404)
        except ConflictError as exc:        # an item not shown to the caller, a key used for another vote
            return json_response({"error": str(exc)}, 409)
        except StudioError as exc:
            return json_response({"error": str(exc)}, 400)

    def _vote(self, request: Request, body: bytes) -> dict[str, Any]:
        fields = parse_vote(body)
        rater = self._rater(request, fields.get("rater"))
        item_id, key = fields["item_id"], fields["idempotency_key"]
        vote = dict(outcome=fields["outcome"], rater=rater, idempotency_key=key,
                    rationale=fields.get("rationale"), decision_ms=fields.get("decision_ms"))
        following = None
        if fields.get("next", True):
            result, following = self.ctx.studio.vote_and_next(item_id, prompt_set=self.ctx.options.prompt_set,
                                                              **vote)
        else:
            result = self.ctx.studio.vote(item_id, **vote)
        comparison = result.comparison
        names = self.ctx.contender_names(comparison.left_contender_id, comparison.right_contender_id)
        answer = {"comparison_id": comparison.id, "created": result.created, "item_id": item_id,
                  "outcome": comparison.outcome, "left_contender": names.get(comparison.left_contender_id),
                  "right_contender": names.get(comparison.right_contender_id)}
        if fields.get("next", True):
            answer["next"] = self._view(following)
        if result.duplicate:        # the rater's first vote on the item stands; nothing was written
            raise ApiError(409, f"{rater!r} already voted on item {item_id}: saved as {comparison.outcome} "
                                "(one vote per rater per item)", {**answer, "duplicate": True})
        return answer

    def _rater(self, request: Request, named: Any) -> str:
        access = self.ctx.access
        if access.gated:
            user = self.signed_in(request)
            if user is None:
                raise ApiError(401, "sign in first: POST /login with username and password, then send its cookie")
            person = access.person(user, None)
            if person is None:
                raise AccessDenied("your account is not in the users file any more; ask an admin")
            if named not in (None, "", person.name):
                raise AccessDenied(f"signed in as {person.name}: you cannot vote as {str(named)[:80]!r}")
            return person.name
        if not isinstance(named, str):
            raise InputError("say who is voting: add \"rater\": \"your name\"")
        return access.require(None, clean_typed_name(named)).name

    def _view(self, item: ItemView | None) -> dict[str, Any] | None:
        if item is None:
            return None
        return {"item_id": item.item_id, "prompt": item.prompt, "prompt_set": item.prompt_set,
                "sides": [{"kind": side.kind, "text": side.text,
                           "media_url": media_url(side.media_path)} for side in item.sides]}


def json_response(data: dict[str, Any], status: int = 200) -> Response:
    import orjson

    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def parse_vote(body: bytes) -> dict[str, Any]:
    """The vote's fields, checked; ApiError(400) with one line when anything is off."""
    import orjson

    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, f"the request body is over {MAX_BODY_BYTES // 1024} KiB")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"the body is not JSON ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object with item_id, outcome and idempotency_key")
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise ApiError(400, f"unknown field {unknown[0]!r}; known: {', '.join(sorted(FIELDS))}")
    item_id = data.get("item_id")
    if not isinstance(item_id, int) or isinstance(item_id, bool) or item_id < 1:
        raise ApiError(400, "item_id must be a positive integer (from /api/next or the previous vote's next)")
    outcome = data.get("outcome")
    if not isinstance(outcome, str) or outcome not in OUTCOMES:
        raise ApiError(400, "outcome must be one of left, right, tie, both_bad")
    key = data.get("idempotency_key")
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise ApiError(400, f"idempotency_key must be a printable string of 1 to {MAX_IDEMPOTENCY_KEY} characters "
                            "(a fresh UUID per vote; the same one when resending it)")
    rationale = typed_text(data.get("rationale"), what="rationale", limit=MAX_RATIONALE).strip() or None
    decision_ms = data.get("decision_ms")
    if decision_ms is not None and (not isinstance(decision_ms, int) or isinstance(decision_ms, bool)
                                    or not 0 <= decision_ms <= 24 * 3600 * 1000):
        raise ApiError(400, "decision_ms must be a whole number of milliseconds between 0 and 24 hours")
    if not isinstance(data.get("next", True), bool):
        raise ApiError(400, "next must be true or false")
    return {**data, "outcome": OUTCOMES[outcome], "rationale": rationale}
