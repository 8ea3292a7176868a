"""The one headless Chromium of a test session (Playwright, Debian's /usr/bin/chromium).

Registered once, in tests/conftest.py: Playwright's sync API cannot run two instances in one
process, so a second session-scoped copy of these fixtures (imported into another conftest or
test module) would make every browser test after it fail at set-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGE_TIMEOUT_MS = 30_000


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (`apt-get install chromium`; .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh browser context (no cookies, no storage) and page; records dialogs and requests."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(PAGE_TIMEOUT_MS)
    opened.dialogs = []
    opened.requests = []
    opened.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
    opened.on("request", lambda request: opened.requests.append(request.url))
    try:
        yield opened
    finally:
        context.close()
