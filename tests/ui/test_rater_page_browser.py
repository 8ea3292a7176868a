"""The rater's page in real headless Chromium, at desktop and phone sizes: no hidden part
ever shows, buttons work only when there is a pair, the reveal sits beside a copy of the
pair just rated, answers start at one height, code is boxed and highlighted, cut answers
are marked, the pool's dry state is plain and ends by itself, a closed page frees its pair.

One server for the module; each test adds the pairs it rates and rates them all."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from tests.ui.browser import REVEAL, current_token, enter_name, wait_for_new_pair
from tests.ui.conftest import add_text_pairs, artifact, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HIDDEN = ["#arena-token", "#arena-decision-ms", "#arena-poll", "#free-token", "#free-decision-ms", "#grid-token"]
PHONE = {"width": 390, "height": 844}
LONG = "\n\n".join(f"Paragraph {i}: " + "words " * 40 for i in range(12))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from studio.api import Studio

    with Studio.open(tmp_path_factory.mktemp("rater-page") / "data") as studio:
        server = serve(studio)
        try:
            yield server
        finally:
            server.close()


def phone_page(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    return context, opened


def assert_nothing_hidden_shows(page) -> None:
    for selector in HIDDEN:
        assert not page.locator(selector).first.is_visible(), f"{selector} is visible"
    text = page.inner_text("body")
    assert '"key"' not in text and "Run" not in page.locator("button:visible").all_inner_texts()


def buttons_enabled(page) -> list[bool]:
    return [page.locator(f"#arena-vote-{c}").is_enabled() for c in ("a", "b", "tie", "both_bad")]


def test_dry_pool_then_a_pair_then_switch_rater_never_shows_hidden_parts(served, page):
    enter_name(page, served.url, "hana")
    page.wait_for_selector("#arena-prompt .studio-dry >> text=No pair is ready")
    assert "appears here by itself" in page.inner_text("#arena-prompt")
    page.wait_for_function("() => document.querySelector('#arena-vote-a').disabled")
    assert buttons_enabled(page) == [False] * 4
    assert_nothing_hidden_shows(page)

    add_text_pairs(served.studio, [("Dry no more?", "Yes.", "No.")], names=("dry-x", "dry-y"))
    page.wait_for_selector("#arena-prompt >> text=Dry no more?")       # brought by itself, no reload
    page.wait_for_function("() => !document.querySelector('#arena-vote-a').disabled")
    assert buttons_enabled(page) == [True] * 4
    page.click("#arena-vote-a")
    page.wait_for_selector(f"{REVEAL} >> text=dry-x")
    page.wait_for_function("() => document.querySelector('#arena-vote-a').disabled")

    page.click("#switch-rater")
    page.wait_for_selector("#studio-welcome", state="visible")
    assert_nothing_hidden_shows(page)
    page.locator("#welcome-name textarea, #welcome-name input").first.fill("ines")
    page.click("#welcome-go")
    page.wait_for_selector("#arena-prompt .studio-dry")
    assert_nothing_hidden_shows(page)
    page.get_by_role("tab", name="Free prompt").click()
    assert_nothing_hidden_shows(page)
    page.get_by_role("tab", name="Image ranking").click()
    page.wait_for_selector("#grid-prompt >> text=It fills when the studio has image contenders")
    page.wait_for_selector("#grid-submit", state="hidden")                # nothing to rank: no controls
    assert_nothing_hidden_shows(page)


def test_the_reveal_sits_beside_a_copy_of_the_pair_just_rated(served, page):
    code = "Here:\n\n```python\ndef double(x):\n    return 2 * x\n```\n"
    add_text_pairs(served.studio, [
        ("Write a function that doubles a number.", code, "Short."),
        ("Second prompt here.", LONG, "Also short."),
    ], names=("reveal-left", "reveal-right"))
    with served.studio.store.transaction() as tx:      # the long answer was cut at the token limit
        gid = [g for g in served.studio.generations().itertuples() if g.text == LONG][0].id
        tx.session.execute(text("UPDATE generations SET params = :p WHERE id = :i"),
                           {"p": '{"truncated": true}', "i": int(gid)})
    enter_name(page, served.url, "jo")
    page.wait_for_selector("#arena-prompt >> text=doubles a number")
    code_box = page.locator("#arena-side-a .studio-code")
    assert code_box.count() == 1 and code_box.locator("span.k, span.kn, span.nf").count() >= 1  # highlighted
    box = code_box.evaluate("e => getComputedStyle(e).borderTopStyle")
    assert box == "solid"
    top_a = page.locator("#arena-side-a").bounding_box()["y"]
    top_b = page.locator("#arena-side-b").bounding_box()["y"]
    assert abs(top_a - top_b) <= 2                                              # top-aligned
    first = current_token(page)
    page.click("#arena-vote-b")
    wait_for_new_pair(page, first)
    reveal = page.inner_text(REVEAL)
    # the names beside the previous prompt and the start of each answer, not above the new pair alone
    assert "doubles a number" in reveal and "reveal-left" in reveal and "reveal-right" in reveal
    assert "Short." in reveal and "B is better" in reveal
    assert page.locator("#arena-side-a .studio-truncated").is_visible()          # cut answer marked
    assert page.locator("#arena-side-b .studio-truncated").count() == 0
    second = current_token(page)
    page.click("#arena-vote-a")
    wait_for_new_pair(page, second)


def test_phone_layout_header_fits_buttons_reachable_and_scrolls_back(served, browser):
    add_text_pairs(served.studio, [("Phone prompt one", LONG, LONG[:400]), ("Phone prompt two", "x", "y")],
                   names=("phone-a", "phone-b"))
    context, page = phone_page(browser)
    try:
        enter_name(page, served.url, "kai")
        page.wait_for_selector("#arena-prompt >> text=Phone prompt one")
        title = page.locator(".studio-title").bounding_box()
        for selector in ("#studio-whoami", "#studio-counter"):
            other = page.locator(selector).bounding_box()
            overlaps = not (other["x"] >= title["x"] + title["width"] or other["y"] >= title["y"] + title["height"]
                            or other["x"] + other["width"] <= title["x"])
            assert not overlaps, f"{selector} overlaps the title"
        assert page.locator(".studio-counter").bounding_box()["height"] < 30          # one line
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
        button = page.locator("#arena-vote-a").bounding_box()
        assert button["y"] + button["height"] <= PHONE["height"]                     # sticky bar on screen
        page.mouse.wheel(0, 3000)
        page.wait_for_function("() => window.scrollY > 500")
        button = page.locator("#arena-vote-b").bounding_box()
        assert 0 <= button["y"] and button["y"] + button["height"] <= PHONE["height"]
        page.screenshot(path=str(artifact("arena-phone.png")))
        first = current_token(page)
        page.locator("#arena-vote-b").tap()
        wait_for_new_pair(page, first)
        page.wait_for_function("() => document.querySelector('#arena-prompt').getBoundingClientRect().top >= 0"
                               " && document.querySelector('#arena-prompt').getBoundingClientRect().top < 844")
        second = current_token(page)
        page.locator("#arena-vote-a").tap()
        wait_for_new_pair(page, second)
    finally:
        context.close()


def test_a_closed_page_frees_its_pair_at_once(served, browser):
    studio = served.studio
    add_text_pairs(studio, [("Left open, then closed", "one", "two")], names=("close-a", "close-b"))
    assert studio.pool_status().ready["default"] == 1
    context = browser.new_context()
    page = context.new_page()
    enter_name(page, served.url, "lou")
    page.wait_for_selector("#arena-prompt >> text=Left open, then closed")
    assert studio.pool_status().ready["default"] == 0                 # held by lou's page
    context.close()
    deadline = time.monotonic() + 20
    while studio.pool_status().ready["default"] != 1:
        assert time.monotonic() < deadline, "the closed page still holds its pair"
        time.sleep(0.1)
    assert studio.stats()["held_items"] == 1                          # lou's row stays, promising nothing
    item = studio.next_item("max")
    assert item is not None and item.prompt == "Left open, then closed"
    studio.vote(item.item_id, outcome="tie", rater="max", idempotency_key="max-closed")
