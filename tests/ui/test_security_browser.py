"""Untrusted text stays inert in the browser; with a users file, only signed-in people get
the app, raters see no admin tab, and admin endpoints refuse raters on the server."""

from __future__ import annotations

import httpx
import pytest

from tests.ui.browser import (
    current_token,
    enter_name,
    external_requests,
    sign_in,
    wait_for_new_pair,
)
from tests.ui.conftest import add_image_item, add_text_pairs, open_admin_link, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

XSS = ("<script>window.__pwned = 1; alert('script')</script>"
       "<img src=x onerror=\"window.__pwned = 1; alert('img')\">"
       "<svg onload=\"alert('svg')\"></svg> [link](javascript:alert('link')) "
       "<a href=\"javascript:alert('a')\">a</a> ${alert('template')} {{constructor.constructor('alert(1)')()}}")
ADMIN_TABS = ("Training", "Data", "Settings")


def live_markup(page) -> dict:
    """What an injection would have created: scripts outside the app's own, handlers, js links."""
    return page.evaluate("""() => ({
        scripts: [...document.querySelectorAll('script')].filter(s => /pwned|alert/.test(s.textContent)).length,
        handlers: [...document.querySelectorAll('*')].filter(el => [...el.attributes]
                      .some(a => a.name.startsWith('on'))).length,
        js_links: [...document.querySelectorAll('a[href]')].filter(a => /^\\s*javascript:/i.test(a.href)).length,
        iframes: document.querySelectorAll('iframe, svg[onload]').length,
        pwned: window.__pwned === 1,
    })""")


def test_html_and_script_in_prompts_outputs_and_names_are_shown_inert(ui_studio, page):
    add_text_pairs(ui_studio, [(f"Prompt {XSS}", f"Output A {XSS}", f"Output B {XSS}"),
                               ("second prompt", "fine", "also fine")],
                   names=("<img src=x onerror=alert('contender')>", "<b>bold-contender</b>"))
    server = serve(ui_studio)
    try:
        open_admin_link(page, server)                                  # to reach the Data tab
        enter_name(page, server.url, "<img src=x onerror=\"alert('rater')\">")
        assert "<script>" in page.inner_text("#arena-prompt")          # shown as text
        assert "onerror" in page.inner_text("#arena-side-a")
        assert "<img src=x" in page.inner_text("#studio-whoami")
        first = current_token(page)
        page.click("#arena-vote-a")
        wait_for_new_pair(page, first)
        assert "<b>bold-contender</b>" in page.inner_text("#arena-reveal")   # revealed names are text too
        page.get_by_role("tab", name="Data").click()                   # the admin's vote table
        page.click("#data-refresh")
        page.wait_for_selector("#data-table >> text=Prompt")
        page.wait_for_timeout(500)
        assert live_markup(page) == {"scripts": 0, "handlers": 0, "js_links": 0, "iframes": 0, "pwned": False}
        assert page.dialogs == []
        assert external_requests(page) == []
    finally:
        server.close()


TRACKER = "tracker.invalid"
REMOTE = (f"![pixel](https://{TRACKER}/p.png) ![ref][r] [![badge](https://{TRACKER}/b.svg)](https://{TRACKER}/) "
          f"<img src=https://{TRACKER}/raw.png srcset='https://{TRACKER}/2x.png 2x'> "
          f"<iframe src=https://{TRACKER}/f></iframe><link rel=stylesheet href=https://{TRACKER}/s.css> "
          f"<div style=\"background:url(https://{TRACKER}/bg.png)\">bg</div>\n\n[r]: https://{TRACKER}/ref.png")


def test_hostile_outputs_prompts_and_imported_files_load_nothing_from_outside(ui_studio, page, tmp_path):
    """Tracking pixels in a prompt, in both outputs and in an imported pairs file: the arena,
    its reveal and the Data tab make no request beyond the studio's own
    origin (the page fixture records every request the browser made)."""
    import json

    add_text_pairs(ui_studio, [(f"Remote prompt {REMOTE}", f"Output A {REMOTE}", f"Output B {REMOTE}")],
                   names=(f"![c](https://{TRACKER}/c.png)", "plain-contender"))
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"prompt": f"Imported {REMOTE}", "chosen": f"yes {REMOTE}",
                                 "rejected": f"no {REMOTE}"}) + "\n")
    assert ui_studio.import_prefs(pairs).added == 1
    server = serve(ui_studio)
    try:
        open_admin_link(page, server)
        enter_name(page, server.url, f"![r](https://{TRACKER}/rater.png)")
        page.wait_for_selector("#arena-prompt >> text=Remote prompt")
        assert "[image: pixel]" in page.inner_text("#arena-prompt")       # a link to click, not an image
        first = current_token(page)
        page.click("#arena-vote-a")
        wait_for_new_pair(page, first)
        page.get_by_role("tab", name="Data").click()
        page.click("#data-refresh")
        page.wait_for_selector("#data-table >> text=Imported")
        # Every image the page holds has loaded or failed: any request a tag made is recorded.
        page.wait_for_function("() => [...document.images].every(image => image.complete)")
        origin = server.url.rstrip("/")
        outside = [u for u in page.requests if not u.startswith((origin + "/", "data:", "blob:"))]
        assert outside == []
        assert page.locator(f"img[src*='{TRACKER}'], iframe, link[href*='{TRACKER}']").count() == 0
    finally:
        server.close()


@pytest.fixture
def gated(ui_studio, users_file):
    from studio.ui.auth import Users

    add_text_pairs(ui_studio, [("Gated prompt", "a", "b"), ("Second gated prompt", "c", "d")])
    add_image_item(ui_studio, "A picture", [(10, 20, 30), (200, 100, 50)], names=("img-a", "img-b"))
    server = serve(ui_studio, users=Users.load(users_file))
    yield server
    server.close()


def test_a_rater_sees_no_admin_tab_and_an_admin_does(gated, page, browser):
    sign_in(page, gated.url, "rita", "rita-password")
    tabs = [t.inner_text() for t in page.get_by_role("tab").all()]
    assert "Arena" in tabs and not set(ADMIN_TABS) & set(tabs)
    page.wait_for_selector("#arena-prompt >> text=Gated prompt")
    page.click("#arena-vote-b")
    page.wait_for_selector("#arena-reveal >> text=B is better")
    (row,) = gated.studio.comparisons(with_content=False).to_dict("records")
    assert row["rater"] == "rita" and row["outcome"] == "right"

    admin_context = browser.new_context()
    admin = admin_context.new_page()
    try:
        sign_in(admin, gated.url, "adam", "adam-password")
        tabs = [t.inner_text() for t in admin.get_by_role("tab").all()]
        assert set(ADMIN_TABS) <= set(tabs)
    finally:
        admin_context.close()


def test_admin_endpoints_refuse_a_rater_calling_through_the_api(gated):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    rater = Client(gated.url, auth=("rita", "rita-password"), verbose=False, analytics_enabled=False,
                   download_files=False)
    for endpoint, args in (("/train_now", ("head", "auto")), ("/data_recent", ("", "", "", "any", "", 10)),
                           ("/data_export", ("jsonl", "", "", "")), ("/settings_overview", ()),
                           ("/cancel_job", ())):
        with pytest.raises(AppError, match="admin role"):
            rater.predict(*args, api_name=endpoint)
    assert len(gated.studio.comparisons()) == 0

    admin = Client(gated.url, auth=("adam", "adam-password"), verbose=False, analytics_enabled=False,
                   download_files=False)
    table = admin.predict("", "", "", "any", "", 10, api_name="/data_recent")
    assert "headers" in table


def test_without_signing_in_only_the_login_page_answers(gated):
    media = next((gated.studio.config.data_dir / "media").rglob("*.png"))
    with httpx.Client(base_url=gated.url, timeout=10) as anonymous:
        page = anonymous.get("/", follow_redirects=True)
        assert page.status_code == 200 and str(page.url).endswith("/login") and 'name="password"' in page.text
        assert "Gated prompt" not in page.text
        assert anonymous.get("/config").status_code == 401
        assert anonymous.get("/gradio_api/info").status_code == 401
        assert anonymous.get(f"/gradio_api/file={media}").status_code in (401, 403)
        key = media.relative_to(gated.studio.config.data_dir).as_posix()
        assert anonymous.get(f"/studio-media/{key}").status_code == 401
        joined = anonymous.post("/gradio_api/queue/join", json={"data": ["head"], "fn_index": 0,
                                                                  "session_hash": "x"})
        assert joined.status_code == 401
        assert anonymous.post("/login", data={"username": "rita", "password": "wrong"}).status_code == 400
        assert anonymous.get("/gradio_api/user").json() is None


def test_only_media_keys_are_served_and_only_through_the_media_route(gated):
    data_dir = gated.studio.config.data_dir
    media = next((data_dir / "media").rglob("*.png"))
    key = media.relative_to(data_dir).as_posix()
    with httpx.Client(base_url=gated.url, timeout=10) as client:
        assert client.post("/login", data={"username": "rita", "password": "rita-password"}).status_code == 200
        served = client.get(f"/studio-media/{key}")
        assert served.status_code == 200 and served.content == media.read_bytes()
        assert served.headers["content-type"] == "image/png"
        assert client.get(f"/gradio_api/file={media}").status_code == 403        # Gradio serves no file from disk
        for private in ("studio.db", "media/../studio.db", f"{key[:-4]}.db", "media/ab/cd.png", "users.toml"):
            answer = client.get(f"/studio-media/{private}")
            assert answer.status_code >= 400 and (data_dir / "studio.db").read_bytes()[:100] not in answer.content
