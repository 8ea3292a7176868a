"""Another site's page cannot make a rater's browser change anything in the studio: a real
Chromium opens a page served from another loopback port (the same "site" for cookies, so
SameSite alone would let them through) that posts a form and makes fetches to the studio's
routes, the JSON vote API, Gradio's queue and the login. Every one is refused and nothing is
written; a client that is not a browser (no Origin header) still votes."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.services import free_port
from tests.ui.browser import sign_in
from tests.ui.conftest import add_text_pairs, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ATTACK = """<!doctype html><html><body>
<iframe name="sink" id="sink"></iframe>
<form id="vote" method="post" enctype="text/plain" action="STUDIOapi/vote" target="sink">
<input type="hidden" name='FORM_NAME' value='"}'>
</form>
<form id="login" method="post" action="STUDIOlogin" target="login-sink">
<input name="username" value="rita"><input name="password" value="wrong">
</form><iframe name="login-sink" id="login-sink"></iframe>
<script>
const studio = "STUDIO";
window.results = {};
const done = (name) => (value) => { window.results[name] = String(value && value.status !== undefined ? value.status : value); };
document.getElementById("sink").addEventListener("load", () => done("form")("loaded"));
document.getElementById("login-sink").addEventListener("load", () => done("login")("loaded"));
document.getElementById("vote").submit();
document.getElementById("login").submit();
fetch(studio + "api/vote", {method: "POST", mode: "no-cors", credentials: "include",
      headers: {"Content-Type": "text/plain"}, body: JSON.stringify(FETCH_BODY)})
  .then(done("no_cors"), done("no_cors"));
fetch(studio + "api/vote", {method: "POST", credentials: "include",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(CORS_BODY)})
  .then(done("cors"), done("cors"));
fetch(studio + "gradio_api/queue/join", {method: "POST", credentials: "include",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(JOIN_BODY)})
  .then(done("join"), done("join"));
</script></body></html>"""
EXPECTED = {"form", "login", "no_cors", "cors", "join"}


def vote_body(item: int, outcome: str, key: str, rater: str | None) -> dict:
    body = {"item_id": item, "outcome": outcome, "idempotency_key": key}
    return {**body, "rater": rater} if rater else body


def attack_page(studio_url: str, item: int, start_fn: int, rater: str | None) -> str:
    # text/plain form encoding sends `name=value`: a name ending in `"rationale": "` and the
    # value `"}` make the body one JSON object, the classic way to post JSON from a form.
    form_name = json.dumps(vote_body(item, "left", "form-1", rater))[:-1] + ', "rationale": "'
    return (ATTACK.replace("STUDIO", studio_url).replace("FORM_NAME", form_name.replace("'", "&#39;"))
            .replace("FETCH_BODY", json.dumps(vote_body(item, "right", "fetch-1", rater)))
            .replace("CORS_BODY", json.dumps(vote_body(item, "tie", "cors-1", rater)))
            .replace("JOIN_BODY", json.dumps({"data": ["mallory"], "fn_index": start_fn, "session_hash": "attack1",
                                              "event_data": None, "trigger_id": None})))


class AttackSite:
    """A tiny site on another loopback port serving one page."""

    def __init__(self, html: str):
        body = html.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_attack(page, served, rater: str | None) -> list[tuple[str, str, int]]:
    """Open the attack page in `page`; returns (method, path, status) of each request that
    reached the studio."""
    start_fn = next(index for index, fn in served.demo.fns.items() if fn.api_name == "start")
    item = served.studio.next_item("probe-rater").item_id
    statuses: list[tuple[str, str, int]] = []
    page.on("response", lambda r: statuses.append((r.request.method, r.url[len(served.url) - 1:], r.status))
            if r.url.startswith(served.url) else None)
    site = AttackSite(attack_page(served.url, item, start_fn, rater))
    try:
        page.goto(site.url)
        page.wait_for_function(f"() => {json.dumps(sorted(EXPECTED))}.every(k => k in window.results)")
    finally:
        site.close()
    return statuses


def test_another_sites_page_cannot_vote_or_sign_in_without_a_users_file(ui_studio, page):
    add_text_pairs(ui_studio, [("Target prompt", "a", "b"), ("Other prompt", "c", "d")])
    served = serve(ui_studio)
    try:
        statuses = run_attack(page, served, rater="mallory")
        posts = [(path, status) for method, path, status in statuses if method == "POST"]
        assert sorted(path for path, _ in posts) == ["/api/vote"] * 3 + ["/gradio_api/queue/join", "/login"]
        assert {status for _, status in posts} == {403}, statuses
        assert ui_studio.comparisons().empty
        assert ui_studio.stats()["raters"] == 1                     # the probe only, no "mallory"

        # A client that is not a browser sends no Origin, and votes as before.
        item = ui_studio.next_item("script").item_id
        answer = httpx.post(served.url + "api/vote", json=vote_body(item, "left", uuid.uuid4().hex, "script"),
                            timeout=30)
        assert answer.status_code == 200 and answer.json()["created"] is True
        assert ui_studio.comparisons()["rater"].tolist() == ["script"]
    finally:
        served.close()


def test_another_sites_page_cannot_vote_as_the_signed_in_rater(ui_studio, users_file, page):
    """The browser holds rita's session cookie; a page on another port of the same host is
    the same site, so the cookie goes along: the origin check is what refuses it."""
    from studio.ui.auth import Users

    add_text_pairs(ui_studio, [("Target prompt", "a", "b"), ("Other prompt", "c", "d")])
    served = serve(ui_studio, users=Users.load(users_file))
    try:
        sign_in(page, served.url, "rita", "rita-password")
        statuses = run_attack(page, served, rater=None)
        posts = [(path, status) for method, path, status in statuses if method == "POST"]
        assert sorted(path for path, _ in posts) == ["/api/vote"] * 3 + ["/gradio_api/queue/join", "/login"]
        assert {status for _, status in posts} == {403}, statuses
        assert ui_studio.comparisons().empty
    finally:
        served.close()
