"""The image-ranking grid and free-prompt mode in real headless Chromium."""

from __future__ import annotations

import pytest

from tests.shown import show
from tests.ui.browser import enter_name, external_requests
from tests.ui.conftest import add_image_item, artifact, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_ranking_a_grid_of_four_images_stores_pairwise_votes(ui_studio, page):
    add_image_item(ui_studio, "Four moods of the sea", [(20, 60, 120), (200, 200, 220), (10, 10, 10),
                                                        (90, 160, 90)], names=("sea-1", "sea-2", "sea-3", "sea-4"))
    server = serve(ui_studio)
    try:
        enter_name(page, server.url, "gus")
        page.get_by_role("tab", name="Image ranking").click()
        page.wait_for_function("() => document.querySelectorAll('#grid-images img.studio-image').length === 4 &&"
                               " [...document.querySelectorAll('#grid-images img')].every(i => i.complete)")
        page.screenshot(path=str(artifact("grid.png")), full_page=True)
        page.wait_for_timeout(300)
        page.locator("#grid-best").get_by_text("2", exact=True).click()
        page.click("#grid-submit")
        page.wait_for_selector("#grid-reveal >> text=Ranking saved")
        rows = ui_studio.comparisons(with_content=False)
        assert len(rows) == 3 and rows["group_id"].nunique() == 1
        assert set(rows["winner"]) == {"sea-2"} and set(rows["rater"]) == {"gus"}
        assert rows["decision_ms"].min() >= 300            # time from display to submit is kept
        assert "sea-2" in page.inner_text("#grid-reveal")
        assert page.dialogs == [] and external_requests(page) == []
    finally:
        server.close()


def test_a_free_prompt_streams_both_answers_then_is_rated(ui_studio, page, tmp_path):
    from studio.generation.tiny import tiny_text_contenders

    for spec in tiny_text_contenders(tmp_path / "models", max_new_tokens=24):
        ui_studio.add_contender(spec)
    server = serve(ui_studio)
    try:
        enter_name(page, server.url, "hal")
        page.get_by_role("tab", name="Free prompt").click()
        page.locator("#free-input textarea").fill("Tell me about <b>rivers</b>")
        page.click("#free-generate")
        page.wait_for_selector("#free-prompt >> text=Tell me about <b>rivers</b>")
        page.wait_for_function("() => document.querySelector('#free-token textarea, #free-token input').value",
                               timeout=120_000)                      # both answers done: a pair to rate
        assert page.inner_text("#free-side-a").strip() or page.inner_text("#free-side-b").strip()
        page.click("#free-vote-b")
        page.wait_for_selector("#free-reveal >> text=B is better")
        (row,) = ui_studio.comparisons().to_dict("records")
        assert row["prompt"] == "Tell me about <b>rivers</b>" and row["outcome"] == "right"
        assert {row["left_contender"], row["right_contender"]} == {"tiny-cool", "tiny-warm"}
        assert row["rater"] == "hal"
        assert page.dialogs == []
    finally:
        server.close()


def test_after_a_vote_the_active_reward_model_shows_its_guess(tmp_path, page):
    import uuid

    from studio.api import Studio
    from studio.config import TrainingConfig
    from studio.rewards.tiny import build_tiny_text_model
    from tests.ui.conftest import add_text_pairs, open_admin_link

    backbone = build_tiny_text_model(tmp_path / "encoder", architecture="encoder")
    with Studio.open(tmp_path / "data", queue_url="immediate",
                     training=TrainingConfig(backbone=str(backbone), retrain_every=0, max_length=48)) as studio:
        ids = add_text_pairs(studio, [(f"Question {i}: say something kind.", f"Thank you, friend {i}.",
                                       f"Go away {i}.") for i in range(14)])
        for item_id in ids[:12]:
            show(studio, item_id, "seed")
            studio.vote(item_id, outcome="left", rater="seed", idempotency_key=uuid.uuid4().hex)
        version = studio.train_reward_model(mode="head", epochs=2)["version"]
        pass_the_gate(studio, version)                 # 12 votes are too few to pass it for real
        server = serve(studio)
        try:
            open_admin_link(page, server)
            enter_name(page, server.url, "ivy")
            page.keyboard.press("1")
            page.wait_for_selector(f"#arena-prediction >> text=Reward model v{version} predicted")
            page.get_by_role("tab", name="Training", exact=True).click()
            page.wait_for_selector(f"#training-agreement >> text=Reward model v{version}")
            page.screenshot(path=str(artifact("training.png")), full_page=True)
            assert page.dialogs == []
        finally:
            server.close()


def pass_the_gate(studio, version: int) -> None:
    """Record the gate as passed for the version, and activate it (what the guess needs)."""
    from sqlalchemy import select

    from studio.store.schema import RewardModel

    with studio.store.transaction() as tx:
        row = tx.session.scalars(select(RewardModel).where(RewardModel.version == version)).one()
        row.gate = {**(row.gate or {}), "passed": True}
        row.active = True
