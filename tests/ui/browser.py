"""Steps a rater takes in the page, shared by the browser tests."""

from __future__ import annotations

import json
from urllib.parse import urlparse

PROMPT = "#arena-prompt"
REVEAL = "#arena-reveal"


def enter_name(page, url: str, name: str) -> None:
    """Open the app and type a rater name on the welcome panel (no users file)."""
    page.goto(url)
    page.locator("#welcome-name textarea, #welcome-name input").first.fill(name)
    page.click("#welcome-go")
    page.wait_for_selector("#studio-tabs", state="visible")


def sign_in(page, url: str, name: str, password: str) -> None:
    """Gradio's login page, then the app."""
    page.goto(url)
    page.get_by_label("username").fill(name)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#studio-tabs", state="visible")


def wait_for_prompt(page, text: str) -> None:
    page.wait_for_selector(f"{PROMPT} >> text={json.dumps(text)}")


def current_token(page, prefix: str = "arena") -> dict:
    raw = page.locator(f"#{prefix}-token textarea, #{prefix}-token input").first.input_value()
    return json.loads(raw)


def wait_for_new_pair(page, previous_token: dict, prefix: str = "arena") -> dict:
    """Wait until the panel shows a pair other than `previous_token`'s (or none at all)."""
    page.wait_for_function(
        """([selector, key]) => {
             const el = document.querySelector(selector);
             return el && !el.value.includes(key);
           }""",
        arg=[f"#{prefix}-token textarea, #{prefix}-token input", previous_token["key"]])
    raw = page.locator(f"#{prefix}-token textarea, #{prefix}-token input").first.input_value()
    return json.loads(raw) if raw else {}


def external_requests(page) -> list[str]:
    """Requests the page made to anything but the studio on loopback."""
    return [u for u in page.requests if urlparse(u).hostname not in ("127.0.0.1", "localhost")
            and not u.startswith(("data:", "blob:"))]
