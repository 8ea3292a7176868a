"""The Raters tab (admins only, checked on the server), the Leaderboard tab's style control
and rank intervals, and the Settings tab naming the pair sampler."""

from __future__ import annotations

import pytest

from studio.errors import AccessDenied
from tests.ui.conftest import add_text_pairs, admin_request


@pytest.fixture
def ctx(ui_studio):
    from studio.ui.arena import ArenaHandlers
    from studio.ui.context import Context
    from studio.ui.options import ServeOptions

    ctx = Context(ui_studio, ServeOptions.from_config(ui_studio.config))
    add_text_pairs(ui_studio, [(f"p{i}", f"short {i}", f"# Long {i}\n\n- **a**\n- b\n" + "x" * 80) for i in range(12)])
    arena = ArenaHandlers(ctx)
    for rater, outcome in (("ana", "left"), ("bo", "left"), ("cy", "right")):
        for _ in range(2):
            arena.vote(outcome, arena.next_pair(rater)["arena_token"], "", None, session_for(rater), None)
    return ctx


def session_for(name: str):
    from studio.ui.session import RaterSession

    return RaterSession.start(name, 0)


def test_the_raters_tab_lists_excludes_and_includes_for_admins_only(ctx):
    from studio.ui.raters import RatersHandlers

    handlers = RatersHandlers(ctx)
    with pytest.raises(AccessDenied):
        handlers.table(session_for("ana"), None)                 # no admin link: refused on the server
    with pytest.raises(AccessDenied):
        handlers.exclude("cy", "", "", session_for("ana"), None)
    admin = admin_request(ctx.options)
    table = handlers.table(session_for("ana"), admin)["raters_table"]
    assert set(table["rater"]) >= {"ana", "bo", "cy"}
    done = handlers.exclude("cy", "", "disagrees", session_for("ana"), admin)
    assert done["raters_message"] == "cy excluded."
    assert bool(done["raters_table"].set_index("rater").loc["cy", "excluded"])
    assert "cy" not in set(ctx.studio.comparisons(with_content=False)["rater"])
    assert handlers.include("cy", "", session_for("ana"), admin)["raters_message"] == "cy counted again."
    item = ctx.studio.comparisons(with_content=False)["item_id"].iloc[0]
    assert "is gold" in handlers.mark_gold(float(item), "left", session_for("ana"), admin)["raters_message"]
    assert int(item) in set(ctx.studio.gold.answers()["item_id"])


def test_the_leaderboard_tab_shows_rank_intervals_and_style_control(ctx):
    from studio.ui.leaderboard import LeaderboardHandlers

    plain = LeaderboardHandlers(ctx).refresh(20, False, session_for("ana"), None)
    assert "ranks" in plain["board_table"].columns
    styled = LeaderboardHandlers(ctx).refresh(20, True, session_for("ana"), None)
    assert {"raw_rating", "ranks", "raw_ranks"} <= set(styled["board_table"].columns)
    assert set(styled["board_coefficients"]["value"]["feature"]) == {"length", "headers", "lists", "bold"}


def test_the_settings_tab_names_the_sampler(ctx):
    from studio.ui.settings import SettingsHandlers

    shown = SettingsHandlers(ctx).overview(session_for("ana"), admin_request(ctx.options))
    assert shown["settings_pool"]["sampler"]["sampler"] == "uniform"
    assert "active_min_votes" in shown["settings_pool"]["sampler"]["reason"]
