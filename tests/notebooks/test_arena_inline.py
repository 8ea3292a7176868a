"""`studio.ui.embed.arena(studio, ...)`: the arena served from the notebook's process and shown inline (an
iframe), voting as the rater the notebook names, in real headless Chromium."""

from __future__ import annotations

import pytest

from studio.ui.embed import arena as inline
from tests.notebooks.helpers import text_studio
from tests.ui.browser import REVEAL, current_token, wait_for_new_pair, wait_for_prompt

# The UI tests' check that the server printed no unexpected traceback (the browser is the session's own).
from tests.ui.conftest import no_server_tracebacks  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_inline_arena_votes_as_the_notebook_rater(tmp_path, page):  # noqa: F811
    studio, items, _ = text_studio(tmp_path / "data", [("Name a colour of the sea.", "Blue.", "Green."),
                                                       ("Count to two.", "1, 2", "one two")])
    arena = inline(studio, rater="nora")
    try:
        html = arena._repr_html_()
        assert f'<iframe src="{arena.url}"' in html and "nora" in html
        assert arena.url.startswith("http://127.0.0.1:")

        page.goto(arena.url)
        wait_for_prompt(page, "Name a colour of the sea.")
        assert "Rating as" in page.inner_text("#studio-whoami") and "nora" in page.inner_text("#studio-whoami")
        first = current_token(page)
        page.wait_for_timeout(300)
        page.click("#arena-vote-b")
        second = wait_for_new_pair(page, first)
        assert "alpha" in page.inner_text(REVEAL)                  # names revealed after the vote
        page.keyboard.press("1")
        wait_for_new_pair(page, second)
        page.wait_for_selector("#studio-counter >> text=2 this session")
    finally:
        arena.close()
    votes = studio.comparisons().sort_values("id")
    assert votes["outcome"].tolist() == ["right", "left"]
    assert votes["item_id"].tolist() == items and set(votes["rater"]) == {"nora"}
    assert set(votes["source"]) == {"ui"} and votes["decision_ms"].notna().all()
    studio.close()
