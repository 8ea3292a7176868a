"""The Raters tab in Chromium: an admin sees the raters and excludes one; the votes drop
out of the leaderboard; a rater without the admin link never sees the tab."""

from __future__ import annotations

import time

import pytest

from tests.ui.browser import enter_name
from tests.ui.conftest import add_text_pairs, open_admin_link, serve


@pytest.fixture
def served(ui_studio):
    items = add_text_pairs(ui_studio, [(f"Prompt {i}", f"a{i}", f"b{i}") for i in range(4)])
    for index, item in enumerate(items):
        rater = "mallory" if index % 2 else "ana"
        ui_studio.next_item(rater)
        ui_studio.vote(item, outcome="left", rater=rater, idempotency_key=f"k{item}")
    server = serve(ui_studio)
    yield server
    server.close()


@pytest.mark.slow
def test_an_admin_excludes_a_rater_from_the_raters_tab(served, page):
    enter_name(page, served.url, "ola")
    assert "Raters" not in {t.inner_text() for t in page.get_by_role("tab").all()}
    open_admin_link(page, served)
    page.get_by_role("tab", name="Raters").click()
    page.wait_for_selector("#raters-table >> text=mallory >> visible=true")
    page.locator("#raters-name textarea, #raters-name input").first.fill("mallory")
    page.click("#raters-exclude")
    page.wait_for_selector("#raters-message >> text=mallory excluded. >> visible=true")
    deadline = time.monotonic() + 10
    while "mallory" in set(served.studio.comparisons(with_content=False)["rater"]):
        assert time.monotonic() < deadline, "the exclusion did not reach the votes"
        time.sleep(0.1)
    assert set(served.studio.comparisons(with_content=False, include_excluded=True)["rater"]) == {"ana", "mallory"}
