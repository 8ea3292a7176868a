"""Without a users file nobody is admin by where the server listens: only a browser that
opened the admin link (printed by `studio serve`) gets the admin tabs, and every admin
handler, called by the page or directly by `fn_index`, checks its cookie on the server."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.reliability.test_access import completed
from tests.ui.browser import enter_name
from tests.ui.conftest import add_text_pairs, open_admin_link, serve

ADMIN_HANDLERS = ("TrainingHandlers", "DataHandlers", "RatersHandlers", "SettingsHandlers")
ADMIN_TABS = {"Training", "Data", "Raters", "Settings"}


@pytest.fixture
def served(ui_studio):
    add_text_pairs(ui_studio, [("Open prompt", "a", "b"), ("Second prompt", "c", "d")])
    server = serve(ui_studio)              # 127.0.0.1, no users file: the old "local admin" case
    yield server
    server.close()


def call(client: httpx.Client, fn_index: int, data: list, session: str) -> dict:
    """One event through Gradio's queue, as the page (or a hand-written client) sends it."""
    joined = client.post("/gradio_api/queue/join", json={"data": data, "fn_index": fn_index, "session_hash": session,
                                                          "event_data": None, "trigger_id": None})
    assert joined.status_code == 200, joined.text
    return completed(client, session)


def test_on_loopback_every_admin_handler_needs_the_admin_link(served):
    """The old rule made whoever reached a loopback server an admin (behind an SSH tunnel or
    a reverse proxy: everyone)."""
    demo = served.demo
    admin_fns = [index for index, fn in demo.fns.items()
                 if type(getattr(getattr(fn.fn, "__wrapped__", fn.fn), "__self__", None)).__name__ in ADMIN_HANDLERS]
    assert len(admin_fns) >= 8
    with httpx.Client(base_url=served.url, timeout=60) as visitor:
        config = visitor.get("/config").json()
        inputs = {d.get("id", i): d["inputs"] for i, d in enumerate(config["dependencies"])}
        start = next(d.get("id", i) for i, d in enumerate(config["dependencies"]) if d.get("api_name") == "start")
        session = uuid.uuid4().hex[:10]
        assert call(visitor, start, ["mallory"], session)["success"] is True
        for fn_index in admin_fns:
            outcome = call(visitor, fn_index, [None for _ in inputs[fn_index]], session)
            assert outcome["success"] is False and "admin role" in (outcome["output"].get("error") or ""), \
                (fn_index, demo.fns[fn_index].name, outcome)
    assert served.studio.jobs().empty

    with httpx.Client(base_url=served.url, timeout=60) as admin:
        assert admin.get(served.options.admin_url()).status_code == 303
        session = uuid.uuid4().hex[:10]
        assert call(admin, start, ["ada"], session)["success"] is True
        overview = next(i for i in admin_fns if demo.fns[i].name == "overview")
        assert call(admin, overview, [None for _ in inputs[overview]], session)["success"] is True


def test_a_wrong_or_old_admin_token_sets_nothing(served):
    with httpx.Client(base_url=served.url, timeout=30) as client:
        for token in ("", "x", served.options.admin_link.token[:-1], served.options.admin_link.cookie_value):
            answer = client.get("/admin", params={"token": token})
            assert answer.status_code == 403 and "not valid for this server" in answer.text
            assert not answer.cookies
        other = serve(served.studio)          # another start of the server: another link
        try:
            assert client.get(served.options.admin_url().replace(served.url, other.url)).status_code == 403
        finally:
            other.close()


@pytest.mark.browser
@pytest.mark.slow
def test_the_admin_tabs_appear_only_in_the_browser_that_opened_the_link(served, page, browser):
    enter_name(page, served.url, "ola")
    assert not ADMIN_TABS & {t.inner_text() for t in page.get_by_role("tab").all()}
    open_admin_link(page, served)
    page.wait_for_selector("#studio-tabs >> text=Training")
    assert ADMIN_TABS <= {t.inner_text() for t in page.get_by_role("tab").all()}
    assert page.url == served.url                               # the token is gone from the address bar
    (cookie,) = [c for c in page.context.cookies() if c["name"].startswith("studio-admin-")]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["value"] != served.options.admin_link.token

    elsewhere = browser.new_context()                            # another person, same server
    try:
        other = elsewhere.new_page()
        enter_name(other, served.url, "pat")
        other.wait_for_selector("#studio-whoami >> text=pat")
        assert not ADMIN_TABS & {t.inner_text() for t in other.get_by_role("tab").all()}
    finally:
        elsewhere.close()
