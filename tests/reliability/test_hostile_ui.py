"""Property-based: hostile text into every UI handler that takes text, on SQLite and on
PostgreSQL (which refuses NUL characters that SQLite would keep). Each input is refused
with one clear line (a StudioError, shown to the rater as a Gradio error) and nothing is
written, or it is stored exactly as typed and shown escaped. A raw client can send
anything a browser cannot (NUL, unpaired surrogates, megabytes), so the inputs include it.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.errors import StudioError
from tests.reliability.conftest import EXAMPLES, hostile_settings
from tests.reliability.markup import live_markup, visible_text
from tests.ui.conftest import add_text_pairs, admin_request

NASTY = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "'; DROP TABLE comparisons; --",
         "../../etc/passwd", "\u202eevil", "a\x00b", "\x00", "x\ud800y", "\udfff", "x" * 200_000, "\x1b[2J\x07",
         "\r\n\t", "{{7*7}} ${jndi:ldap://x}", "😀" * 500, "\ufeffbom", "", "   ", "[link](javascript:alert(1))",
         "\u0000\u0001\u0002\u007f", "Ana\u200dLee", "a" * 81, "ok text"]
ANY_TEXT = st.text(st.characters(blacklist_categories=()), max_size=200)     # surrogates and NUL included
hostile_text = st.one_of(st.sampled_from(NASTY), ANY_TEXT,
                         st.builds(lambda a, b: a + b, st.sampled_from(NASTY), ANY_TEXT))
PAIRS = max(40, EXAMPLES + 10)      # one fresh pair for every input tried


@pytest.fixture
def ctx(studio):
    """The app's context for a studio on each back end (admin calls carry its admin link's cookie)."""
    from studio.ui.context import Context
    from studio.ui.options import ServeOptions

    return Context(studio, ServeOptions.from_config(studio.config))


def session_for(name: str):
    from studio.ui.session import RaterSession

    return RaterSession.start(name, 0)


def refused_cleanly(call) -> tuple[bool, object]:
    """(True, None) when `call` raised a StudioError with a one-line message; (False, result)
    when it went through. Anything else propagates and fails the test."""
    try:
        return False, call()
    except StudioError as exc:
        message = str(exc)
        assert message and "\n" not in message and len(message) < 400, message
        return True, None


def test_hostile_rationales_are_refused_or_stored_exactly(ctx, tried):
    from studio.ui.arena import ArenaHandlers

    add_text_pairs(ctx.studio, [(f"prompt {i}", f"a{i}", f"b{i}") for i in range(PAIRS)])
    arena = ArenaHandlers(ctx)
    session = session_for("rater")

    @hostile_settings(25)
    @given(rationale=hostile_text)
    def check(rationale):
        tried("ui: rationale (arena vote)")
        token = arena.next_pair("rater")["arena_token"]
        if not token:
            return                                      # every pair rated: nothing left to try on
        before = len(ctx.studio.comparisons(with_content=False))
        refused, shown = refused_cleanly(lambda: arena.vote("left", token, rationale, None, session, None))
        votes = ctx.studio.comparisons(rater="rater", newest_first=True, limit=1)
        if refused:
            assert len(ctx.studio.comparisons(with_content=False)) == before
        else:
            assert votes.iloc[0]["rationale"] == (rationale.strip() or None)
            assert live_markup(shown["arena_reveal"]) == []

    check()


def test_hostile_rater_names_are_refused_or_kept_as_typed_and_shown_escaped(ctx, tried):
    from studio.ui.app import PageHandlers
    from studio.ui.arena import ArenaHandlers
    from studio.ui.ranking_grid import GridHandlers

    add_text_pairs(ctx.studio, [(f"prompt {i}", f"a{i}", f"b{i}") for i in range(PAIRS)])
    page = PageHandlers(ctx, ArenaHandlers(ctx), GridHandlers(ctx))

    @hostile_settings(25)
    @given(name=hostile_text)
    def check(name):
        tried("ui: rater name (welcome)")
        refused, entered = refused_cleanly(lambda: page.start(name, None))
        if refused:
            return
        cleaned = entered["saved_name"]
        assert cleaned == " ".join(name.split()) and 0 < len(cleaned) <= 80
        assert live_markup(entered["whoami"]) == [] and cleaned in visible_text(entered["whoami"])
        if entered["arena_token"]:            # stored under that name: its votes read back by it
            first = json.loads(entered["arena_token"])
            voted = ctx.studio.vote(first["item"], outcome="tie", rater=cleaned, idempotency_key=first["key"])
            assert voted.comparison.id in ctx.studio.comparisons(rater=cleaned)["id"].tolist()

    check()


def test_hostile_vote_tokens_are_refused_or_count_once(ctx, tried):
    from studio.ui.arena import ArenaHandlers

    add_text_pairs(ctx.studio, [("a prompt", "a", "b")])
    arena = ArenaHandlers(ctx)
    real = json.loads(arena.next_pair("rater")["arena_token"])
    forged = st.one_of(
        hostile_text,
        st.fixed_dictionaries({"item": st.one_of(st.integers(), st.just(real["item"]), hostile_text),
                               "key": st.one_of(hostile_text, st.integers()),
                               "shown": st.one_of(st.integers(), hostile_text)}).map(json.dumps))

    @hostile_settings(25)
    @given(token=forged)
    def check(token):
        tried("ui: vote token (arena vote)")
        before = len(ctx.studio.comparisons(with_content=False))
        refused, _ = refused_cleanly(lambda: arena.vote("left", token, "", None, session_for("rater"), None))
        after = len(ctx.studio.comparisons(with_content=False))
        assert after == before or (not refused and after == before + 1)

    check()
    assert len(ctx.studio.comparisons(with_content=False)) <= 1     # one item, one vote at most, whatever the keys


def test_hostile_admin_filters_are_refused_or_just_filter(ctx, tried):
    from studio.ui.data import DataHandlers

    add_text_pairs(ctx.studio, [("a prompt", "a", "b")])
    data = DataHandlers(ctx)
    admin = session_for("admin-at-the-machine")

    @hostile_settings(20)
    @given(rater=hostile_text, contender=hostile_text, prompt_set=hostile_text)
    def check(rater, contender, prompt_set):
        tried("ui: data tab filters (admin)")
        refused, shown = refused_cleanly(lambda: data.recent(rater, contender, prompt_set, "any", "", 10, admin, admin_request(ctx.options)))
        if not refused:
            assert len(shown["data_table"]) == 0 or not (rater.strip() or contender.strip() or prompt_set.strip())

    check()


def test_hostile_prompt_set_names_are_refused_or_stored_as_typed(ctx, tried, tmp_path):
    from studio.ui.settings import SettingsHandlers

    settings = SettingsHandlers(ctx)
    admin = session_for("admin-at-the-machine")
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("one prompt\n")

    @hostile_settings(20)
    @given(prompt_set=hostile_text)
    def check(prompt_set):
        tried("ui: prompt set (settings, add prompts)")
        before = ctx.studio.prompt_sets()
        refused, _ = refused_cleanly(lambda: settings.add_prompts(str(prompts), prompt_set, admin, admin_request(ctx.options)))
        after = ctx.studio.prompt_sets()
        if refused:
            assert after == before
        else:
            assert (prompt_set.strip() or "default") in after

    check()


@pytest.fixture(scope="module")
def tiny_contenders(tmp_path_factory):
    from studio.generation.tiny import tiny_text_contenders

    return tiny_text_contenders(tmp_path_factory.mktemp("tiny-models"), max_new_tokens=4)


@pytest.mark.slow
def test_hostile_free_prompts_are_refused_or_answered_and_stored_exactly(ctx, tried, tiny_contenders):
    from studio.generation.pool import FREE_PROMPT_SET
    from studio.ui.free_prompt import FreePromptHandlers

    for spec in tiny_contenders:
        ctx.studio.add_contender(spec)
    free = FreePromptHandlers(ctx)
    session = session_for("rater")

    @hostile_settings(10)
    @given(prompt=hostile_text)
    def check(prompt):
        tried("ui: free prompt")
        refused, updates = refused_cleanly(lambda: list(free.generate(prompt, session, None)))
        if refused or not prompt.strip():
            return
        last = updates[-1]
        assert last["free_token"], "the answered pair is ready to vote on"
        assert all(live_markup(u.get("free_prompt", "")) == [] for u in updates)
        stored = ctx.studio.generations(prompt_set=FREE_PROMPT_SET)["prompt"]
        assert prompt.strip() in set(stored)

    check()
