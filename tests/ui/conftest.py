"""Fixtures for the rating UI: a real app on a free loopback port, real headless Chromium.

Items are made from text (and image) generations added through the `Studio` API, so no
model runs. Browser tests skip with a message when Debian's chromium is missing
(`.ci/run` installs it).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


@dataclass
class Served:
    url: str
    studio: object
    demo: object
    options: object

    def close(self) -> None:
        self.demo.close()


def serve(studio, **changes) -> Served:
    """Start the app for `studio` in this process on a free loopback port."""
    from studio.ui.app import build_app, launch
    from studio.ui.options import ServeOptions

    options = ServeOptions.from_config(studio.config, host="127.0.0.1", port=free_port(), poll_seconds=1.0,
                                       **changes)
    demo = build_app(studio, options)
    launch(demo, options, prevent_thread_lock=True, quiet=True)
    return Served(url=f"http://127.0.0.1:{options.port}/", studio=studio, demo=demo, options=options)


def add_contenders(studio, *names: str, kind: str = "text"):
    from studio.contender_spec import ContenderSpec

    return [studio.add_contender(ContenderSpec(name=n, kind=kind, backend="external")) for n in names]


def add_text_pairs(studio, pairs, *, names=("alpha", "beta"), prompt_set="default") -> list[int]:
    """One rating item per (prompt, text_a, text_b), shown in that order; returns item ids."""
    from studio.records import GenerationIn

    first, second = add_contenders(studio, *names)
    ids = []
    for prompt, text_a, text_b in pairs:
        prompt_id = studio.add_prompts([prompt], prompt_set=prompt_set)[0]
        left, right = studio.add_generations([GenerationIn(prompt_id=prompt_id, contender_id=first.id, text=text_a),
                                              GenerationIn(prompt_id=prompt_id, contender_id=second.id, text=text_b)])
        ids.append(_item(studio, prompt_id, [left, right], prompt_set))
    return ids


def add_image_item(studio, prompt: str, colours, *, names, prompt_set="default") -> int:
    """An item of len(colours) solid-colour PNGs (a pair for two, a ranking grid for four)."""
    from studio.records import GenerationIn

    contenders = add_contenders(studio, *names, kind="image")
    prompt_id = studio.add_prompts([prompt], prompt_set=prompt_set)[0]
    generations = []
    for contender, colour in zip(contenders, colours, strict=True):
        relative, digest = studio.artifacts.put_media(_png(colour))
        generations.append(GenerationIn(prompt_id=prompt_id, contender_id=contender.id, media_path=relative,
                                        content_sha256=digest))
    return _item(studio, prompt_id, studio.add_generations(generations), prompt_set)


def _item(studio, prompt_id: int, generation_ids: list[int], prompt_set: str) -> int:
    # Rating items are normally made by the generation pool; tests make them directly.
    with studio.store.transaction() as tx:
        return tx.items.create(prompt_id, generation_ids, prompt_set=prompt_set, source="test").id


def _png(colour: tuple[int, int, int]) -> bytes:
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (256, 256), colour)
    ImageDraw.Draw(image).ellipse((64, 64, 192, 192), fill=tuple(255 - c for c in colour))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# Errors a handler raises on purpose (a refusal, a bad input) for the rater to read.
EXPECTED_ERRORS = ("gradio.exceptions.Error", "studio.errors.")


def unexpected_errors(stderr: str) -> list[str]:
    """The exception lines of tracebacks Gradio printed that are not deliberate refusals."""
    found = []
    for block in stderr.split("Traceback (most recent call last):")[1:]:
        lines = [line for line in block.splitlines() if line and not line.startswith(" ")]
        if lines and not lines[0].startswith(EXPECTED_ERRORS):
            found.append(lines[0])
    return found


@pytest.fixture(autouse=True)
def no_server_tracebacks(request, capfd):
    """A browser test fails when the app, serving in this process, hit an unexpected error:
    Gradio prints it to stderr while the page may look fine."""
    yield
    if request.node.get_closest_marker("browser"):
        errors = capfd.readouterr().err
        assert unexpected_errors(errors) == [], errors[-3000:]


@pytest.fixture
def ui_studio(tmp_path):
    from studio.api import Studio

    with Studio.open(tmp_path / "data") as opened:
        yield opened


@pytest.fixture
def users_file(tmp_path) -> Path:
    from studio.ui.auth import add_user

    path = tmp_path / "users.toml"
    add_user(path, "rita", "rita-password", "rater")
    add_user(path, "adam", "adam-password", "admin")
    return path


def admin_request(options):
    """A request from a browser that opened the server's admin link (its cookie), as Gradio
    hands it to a handler."""
    import gradio as gr

    from studio.ui.admin_link import cookie_name

    return gr.Request(cookies={cookie_name(options.port): options.admin_link.cookie_value})


def open_admin_link(page, served) -> None:
    """Open the admin link `studio serve` prints, in this browser (sets the admin cookie)."""
    page.goto(served.options.admin_url())


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


def publish_screenshot(source: Path) -> None:
    """`STUDIO_UPDATE_SCREENSHOT=1 pytest tests/ui` refreshes the README's docs/arena.png."""
    if os.environ.get("STUDIO_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(source, ROOT / "docs" / "arena.png")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test leaves a screenshot of its page in test-artifacts/ (taken while
    the page is still open)."""
    outcome = yield
    report = outcome.get_result()
    page = getattr(item, "funcargs", {}).get("page")
    if report.when == "call" and report.failed and page is not None:
        try:
            page.screenshot(path=str(artifact(f"failed-{item.name}.png")), full_page=True)
        except Exception:  # the page may be gone; the failure itself is what matters
            pass
