"""The Training tab's "Improve a contender" section, its handlers called as Gradio calls them:
admins only, a bad request is one line and queues nothing, a good one queues the job, and the
lift table and plot show each version against its parent."""

from __future__ import annotations

import pytest

from studio.errors import AccessDenied, NotFoundError
from tests.policy.conftest import open_voted_studio
from tests.ui.conftest import admin_request


def session_for(name: str):
    from studio.ui.session import RaterSession

    return RaterSession.start(name, 0)


@pytest.fixture
def voted_ctx(tmp_path):
    from studio.generation.tiny import build_tiny_text_model
    from studio.ui.context import Context
    from studio.ui.options import ServeOptions

    model = build_tiny_text_model(tmp_path / "gpt2")
    studio = open_voted_studio(tmp_path / "data", model, queue_url=None)
    yield Context(studio, ServeOptions.from_config(studio.config))
    studio.close()


@pytest.mark.slow
def test_the_improve_section_queues_a_job_for_admins_and_shows_the_lift(voted_ctx):
    from studio.ui.improvement import ImproveHandlers, text_contenders

    handlers = ImproveHandlers(voted_ctx)
    with pytest.raises(AccessDenied):
        handlers.improve("tiny-a", "dpo", session_for("ana"), None)
    admin = admin_request(voted_ctx.options)
    assert text_contenders(voted_ctx) == ["tiny-a", "tiny-b"]
    with pytest.raises(NotFoundError, match="no contender named 'nobody'"):
        handlers.improve("nobody", "dpo", session_for("ana"), admin)
    assert voted_ctx.studio.jobs().empty
    shown = handlers.improve("tiny-a", "dpo", session_for("ana"), admin)
    (job,) = voted_ctx.studio.jobs().to_dict("records")
    assert job["kind"] == "improve_contender" and job["status"] == "queued"
    assert f"Improvement job {job['id']} of tiny-a is queued" in shown["improve_message"]
    assert shown["improve_lift"].empty and shown["improve_plot"] is not None
