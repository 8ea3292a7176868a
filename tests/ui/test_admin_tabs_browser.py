"""The admin tabs in real headless Chromium: a job cancelled from its row, the status line
agreeing with the table, contenders' params and the configuration readable."""

from __future__ import annotations

import pytest

from tests.ui.browser import enter_name
from tests.ui.conftest import add_text_pairs, open_admin_link, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_training_settings_and_data_tabs_read_well_and_a_job_cancels_from_its_row(ui_studio, page):
    from studio.contender_spec import ContenderSpec

    ui_studio.add_contender(ContenderSpec(name="smol-precise", model="smollm2-135m",
                                          params={"temperature": 0.3, "max_new_tokens": 64}))
    add_text_pairs(ui_studio, [("p", "a", "b")], names=("alpha", "beta"))
    server = serve(ui_studio)
    try:
        open_admin_link(page, server)
        enter_name(page, server.url, "root")
        page.get_by_role("tab", name="Training", exact=True).click()
        page.wait_for_selector("#training-message >> text=Next automatic retrain: in 50 votes")
        assert page.locator("#training-tab input[type=number]").count() == 0       # no job id box
        page.click("#train-now")
        page.wait_for_selector("#training-message >> text=is queued")
        page.locator("#training-jobs").get_by_text("✕ cancel", exact=True).last.click()   # the job's own cell
        page.wait_for_selector("#training-jobs >> text=cancelled >> visible=true")
        page.wait_for_selector("#training-message >> text=cancelled")                # agrees with the table
        assert ui_studio.jobs()["status"].tolist() == ["cancelled"]
        page.wait_for_selector("#training-accuracy, #training-loss")

        page.get_by_role("tab", name="Settings", exact=True).click()
        page.wait_for_selector("#settings-contenders >> text=temperature = 0.3 >> visible=true")
        body = page.inner_text("#tab-settings")
        assert "[object Object]" not in body and "max_new_tokens = 64" in body
        page.wait_for_selector("#settings-config >> text=pool.min_ready >> visible=true")
        page.wait_for_selector("#settings-pool >> text=prompt set default >> visible=true")
        assert "start it again with studio serve" in body                           # how this one was started

        page.get_by_role("tab", name="Data", exact=True).click()
        page.wait_for_selector("#data-outcome")
        assert page.dialogs == []
    finally:
        server.close()
