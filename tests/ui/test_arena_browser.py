"""The arena in real headless Chromium: votes by click and by key land as the right rows,
a double click makes one vote, names stay hidden until the vote, nothing leaves loopback."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import text

from tests.ui.browser import REVEAL, current_token, enter_name, external_requests, wait_for_new_pair
from tests.ui.conftest import (
    add_image_item,
    add_text_pairs,
    artifact,
    open_admin_link,
    publish_screenshot,
    serve,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NAMES = ("contender-north", "contender-south")


@pytest.fixture
def served(ui_studio):
    server = serve(ui_studio)
    yield server
    server.close()


def votes(studio):
    return studio.comparisons(with_content=False).sort_values("id").to_dict("records")


def test_votes_by_click_and_by_key_record_the_pair_on_screen(served, page):
    studio = served.studio
    add_text_pairs(studio, [
        ("Name a colour of the sea.", "The sea is **blue**.", "Green, sometimes."),
        ("Count to three.", "1, 2, 3", "one two three"),
        ("Say hello.", "Hello!", "Hi there."),
        ("Say goodbye.", "Goodbye.", "Bye!"),
    ], names=NAMES)
    enter_name(page, served.url, "ana")
    first = current_token(page)
    html_before_vote = page.content()
    assert "blue" in page.inner_text("#arena-side-a")
    assert NAMES[0] not in html_before_vote and NAMES[1] not in html_before_vote  # blind until the vote

    page.wait_for_timeout(300)
    page.click("#arena-vote-a")
    second = wait_for_new_pair(page, first)
    assert NAMES[0] in page.inner_text(REVEAL) and NAMES[1] in page.inner_text(REVEAL)
    page.keyboard.press("2")
    third = wait_for_new_pair(page, second)
    page.keyboard.press("ArrowUp")
    fourth = wait_for_new_pair(page, third)
    page.keyboard.press("4")
    wait_for_new_pair(page, fourth)
    page.wait_for_selector("#studio-counter >> text=4 this session")

    rows = votes(studio)
    assert [r["outcome"] for r in rows] == ["left", "right", "tie", "both_bad"]
    assert [r["item_id"] for r in rows] == [first["item"], second["item"], third["item"], fourth["item"]]
    assert all(r["left_contender"] == NAMES[0] and r["right_contender"] == NAMES[1] for r in rows)
    assert all(r["rater"] == "ana" and r["source"] == "ui" for r in rows)
    assert len({r["session_id"] for r in rows}) == 1 and rows[0]["session_id"]
    assert rows[0]["decision_ms"] >= 300  # time from display to vote is kept
    assert page.dialogs == [] and external_requests(page) == []


def test_typing_a_rationale_does_not_vote_and_is_saved(served, page):
    add_text_pairs(served.studio, [("Describe rain.", "Wet.", "Water falling from clouds.")], names=NAMES)
    enter_name(page, served.url, "bo")
    page.locator("#arena-rationale textarea").fill("B explains 1 2 3 4 more")
    page.click("#arena-vote-b")
    page.wait_for_selector(f"{REVEAL} >> text=B is better")
    (row,) = votes(served.studio)
    assert row["outcome"] == "right" and row["rationale"] == "B explains 1 2 3 4 more"


def test_a_double_click_makes_one_vote(served, page):
    add_text_pairs(served.studio, [(f"Prompt {i}", f"left {i}", f"right {i}") for i in range(3)], names=NAMES)
    enter_name(page, served.url, "cy")
    first = current_token(page)
    page.dblclick("#arena-vote-a")
    wait_for_new_pair(page, first)
    page.wait_for_timeout(500)  # let a second request, if any were sent, arrive
    rows = votes(served.studio)
    assert len(rows) == 1 and rows[0]["item_id"] == first["item"]
    assert "1 this session" in page.inner_text("#studio-counter")


def test_screenshots_of_the_text_and_image_arena(served, page):
    studio = served.studio
    # the demo's contenders and two of its starter prompts (docs/arena.png is this page)
    add_text_pairs(studio, [
        ("Why do we have leap years?",
         "A year is about 365.24 days long, so every fourth year gets an extra day to keep the calendar "
         "in step with the seasons.",
         "Because the Earth takes a little more than 365 days to go around the Sun. Without leap years the "
         "seasons would drift by about a day every four years."),
        ("Write a Python function that returns True if a string is a palindrome.",
         "Here is a short one:\n\n```python\ndef is_palindrome(text: str) -> bool:\n"
         "    cleaned = ''.join(c.lower() for c in text if c.isalnum())\n    return cleaned == cleaned[::-1]\n```\n\n"
         "It ignores case, spaces and punctuation.",
         "```python\ndef is_palindrome(s):\n    return s == s[::-1]\n```\n\nThis compares the string with its "
         "reverse. For example `is_palindrome(\"level\")` returns True, while"),
    ], names=("smollm2-focused", "smollm2-creative"))
    with studio.store.transaction() as tx:                 # the second answer reached its token limit
        tx.session.execute(text("UPDATE generations SET params = :p WHERE text LIKE '%returns True, while'"),
                           {"p": '{"truncated": true}'})
    add_image_item(studio, "A red circle on a teal background", [(0, 128, 128), (200, 30, 30)],
                   names=("painter-a", "painter-b"))
    enter_name(page, served.url, "dee")
    first = current_token(page)
    page.keyboard.press("2")
    second = wait_for_new_pair(page, first)            # the code pair, beside the last vote's reveal
    page.wait_for_timeout(300)
    text_shot = artifact("arena-text.png")
    page.screenshot(path=str(text_shot), full_page=True)
    page.keyboard.press("1")
    wait_for_new_pair(page, second)
    images = page.locator("#arena-side-a img.studio-image, #arena-side-b img.studio-image")
    assert images.count() == 2
    page.wait_for_function("() => [...document.querySelectorAll('img.studio-image')]"
                           ".every(img => img.complete && img.naturalWidth === 256)")
    assert images.first.bounding_box()["width"] >= 256  # readable, not a thumbnail
    page.screenshot(path=str(artifact("arena-image.png")), full_page=True)
    shutil.copyfile(text_shot, artifact("arena.png"))
    publish_screenshot(text_shot)
    assert page.dialogs == [] and external_requests(page) == []


def test_an_empty_arena_says_so_and_shows_a_pair_when_one_is_ready(served, page):
    enter_name(page, served.url, "eve")
    page.wait_for_selector("#arena-prompt >> text=No pair is ready")
    page.keyboard.press("1")                          # keys do nothing without a pair
    page.wait_for_function("() => document.querySelector('#arena-vote-b').disabled")   # nor the buttons
    page.wait_for_timeout(2500)  # the page polls (every second here) and finds nothing, without errors
    assert served.studio.comparisons().empty
    add_text_pairs(served.studio, [("Late prompt", "late a", "late b")], names=NAMES)
    page.wait_for_selector("#arena-prompt >> text=Late prompt")  # the page polls while empty
    first = current_token(page)
    page.keyboard.press("1")
    wait_for_new_pair(page, first)
    assert served.studio.comparisons()["outcome"].tolist() == ["left"]


def test_every_tab_opens_its_own_panel(served, page):
    add_text_pairs(served.studio, [("p", "a", "b")], names=NAMES)
    page.goto(served.url)                                      # without the admin link: a rater
    page.locator("#welcome-name textarea, #welcome-name input").first.fill("fay")
    page.click("#welcome-go")
    page.wait_for_selector("#studio-tabs", state="visible")
    assert "Training" not in [t.inner_text() for t in page.get_by_role("tab").all()]
    open_admin_link(page, served)                              # the link `studio serve` printed
    page.wait_for_selector("#tab-training-button, #studio-tabs >> text=Training")    # fay, now as admin
    panels = {"Arena": "tab-arena", "Free prompt": "tab-free", "Image ranking": "tab-grid",
              "Leaderboard": "tab-leaderboard", "Training": "tab-training", "Data": "tab-data",
              "Raters": "tab-raters", "Settings": "tab-settings"}
    assert [t.inner_text() for t in page.get_by_role("tab").all()] == list(panels)
    for title, panel in reversed(panels.items()):
        page.get_by_role("tab", name=title, exact=True).click()
        page.wait_for_selector(f"#{panel}", state="visible")


def test_the_name_is_asked_once_and_switch_rater_asks_again(served, page):
    add_text_pairs(served.studio, [(f"p{i}", f"a{i}", f"b{i}") for i in range(3)], names=NAMES)
    enter_name(page, served.url, "gil")
    first = current_token(page)
    page.keyboard.press("1")
    wait_for_new_pair(page, first)
    page.reload()                                     # the same browser: no name asked
    page.wait_for_selector("#studio-whoami >> text=gil")
    assert page.locator("#studio-welcome").is_hidden()
    page.click("#switch-rater")
    page.locator("#welcome-name textarea, #welcome-name input").first.fill("hana")
    page.click("#welcome-go")
    page.wait_for_selector("#studio-whoami >> text=hana")
    second = current_token(page)
    page.keyboard.press("2")
    wait_for_new_pair(page, second)
    rows = votes(served.studio)
    assert [(r["rater"], r["outcome"]) for r in rows] == [("gil", "left"), ("hana", "right")]
