"""Handlers the UI items of the rater's and researcher's experience rely on, called as
Gradio calls them, on a real SQLite studio: who sees the reward model's guess, the dry
pool's message, contenders managed from Settings, readable tables, the Data filters, a
second grid ranking, plots with few votes."""

from __future__ import annotations

import pytest

from studio.errors import ConfigError, InputError
from tests.ui.conftest import add_image_item, add_text_pairs, admin_request


@pytest.fixture
def ctx(ui_studio):
    from studio.ui.context import Context
    from studio.ui.options import ServeOptions

    return Context(ui_studio, ServeOptions.from_config(ui_studio.config))


def session_for(name: str):
    from studio.ui.session import RaterSession

    return RaterSession.start(name, 0)


def register_version(studio, version: int, *, accuracy: float, heldout: int, active: bool = True) -> None:
    from sqlalchemy import update

    from studio.store.schema import RewardModel

    with studio.store.transaction() as tx:
        if active:
            tx.session.execute(update(RewardModel).values(active=False))
        tx.session.add(RewardModel(version=version, kind="text", mode="head", backbone="b", checkpoint_path="x",
                                   metrics={"heldout_accuracy": accuracy, "heldout_pairs": heldout}, active=active,
                                   gate={"passed": accuracy >= 0.6 and heldout >= 20}))


def test_the_guess_is_for_admins_unless_turned_on_and_only_from_a_model_past_the_gate(ctx):
    from studio.ui.auth import Person
    from studio.ui.prediction import PredictionGate

    studio = ctx.studio
    register_version(studio, 1, accuracy=0.0, heldout=2)          # the model of the issue: 0% on 2 pairs
    gate = PredictionGate(studio)
    rater, admin = Person("ana", "rater"), Person("root", "admin")
    assert gate.shown_to(admin) and not gate.shown_to(rater)
    gate.raters_see_it = True
    assert gate.shown_to(rater)
    assert not gate.passed(1) and not gate.passed(None) and not gate.passed(7)
    register_version(studio, 2, accuracy=0.8, heldout=40)
    assert PredictionGate(studio).passed(2)
    assert not PredictionGate(studio).passed(1)


def test_the_arena_does_not_show_raters_the_guess(ctx):
    from studio.ui.arena import ArenaHandlers

    add_text_pairs(ctx.studio, [("p1", "a1", "b1"), ("p2", "a2", "b2")])
    register_version(ctx.studio, 1, accuracy=0.9, heldout=50)
    arena = ArenaHandlers(ctx)
    voted = arena.vote("left", arena.next_pair("ana")["arena_token"], "", None, session_for("ana"), None)
    assert arena.prediction(voted["session"], None) == {}       # a rater: nothing, nothing computed


def test_a_dry_pool_says_so_with_an_estimate(ctx):
    from studio.ui.arena import ArenaHandlers, dry_message

    shown = ArenaHandlers(ctx).next_pair("ana")
    assert shown["arena_token"] == "" and "No pair is ready" in shown["arena_prompt"]
    assert "first pairs are being generated" in shown["arena_prompt"]
    assert "about every 30 s" in dry_message({"seconds_per_item": 30.0, "since_last_s": 10.0})
    assert "in about 20 s" in dry_message({"seconds_per_item": 30.0, "since_last_s": 10.0})


def test_contenders_are_added_edited_enabled_and_disabled_from_settings(ctx):
    from studio.ui.settings import SettingsHandlers, params_text

    settings = SettingsHandlers(ctx)
    admin = admin_request(ctx.options)
    add = settings.contender_action("add")
    done = add("terse", "smollm2-135m", "text", "temperature=0.3\nsystem_prompt=Be brief.", session_for("r"), admin)
    assert "Added contender **terse**" in done["settings_message"]
    row = done["settings_contenders"].set_index("name").loc["terse"]
    assert row["params"] == "system_prompt = 'Be brief.', temperature = 0.3"   # readable, not [object Object]
    assert "terse" in (ctx.studio.config.config_file).read_text()
    with pytest.raises(ConfigError, match="temperature"):                   # the CLI's checks
        add("hot", "smollm2-135m", "text", "temperature=99", session_for("r"), admin)
    with pytest.raises(InputError, match="studio.toml"):                     # declared there: edit it there
        settings.contender_action("edit")("terse", "", "text", "temperature=0.5", session_for("r"), admin)
    from studio.contender_spec import ContenderSpec

    ctx.studio.add_contender(ContenderSpec(name="outside", model="smollm2-135m"))     # not in studio.toml
    edited = settings.contender_action("edit")("outside", "", "text", "temperature=0.5", session_for("r"), admin)
    assert "revision 2" in edited["settings_message"]
    off = settings.contender_action("disable")("terse", "", "text", "", session_for("r"), admin)
    assert not bool(off["settings_contenders"].set_index("name").loc["terse"]["enabled"])
    on = settings.contender_action("enable")("terse", "", "text", "", session_for("r"), admin)
    assert bool(on["settings_contenders"].set_index("name").loc["terse"]["enabled"])
    assert params_text({}) == "(defaults)"


def test_pool_and_configuration_are_tables_and_the_restart_names_the_command(ctx):
    from studio.ui.options import ServeOptions
    from studio.ui.settings import SettingsHandlers, help_text

    ctx.studio.add_prompts(["one"])
    shown = SettingsHandlers(ctx).overview(session_for("r"), admin_request(ctx.options))
    assert shown["settings_pool"].values.tolist()[0] == ["prompt set default", "0 pairs ready (keeps 8)"]
    assert "pool.min_ready" in shown["settings_config"]["setting"].tolist()
    ctx.options = ServeOptions.from_config(ctx.studio.config, restart_command="make run")
    assert "`make run`" in help_text(ctx)


def test_the_data_tab_filters_by_outcome_and_date_with_short_columns_first(ctx):
    from studio.ui.arena import ArenaHandlers
    from studio.ui.data import DataHandlers

    add_text_pairs(ctx.studio, [("p1", "a1", "b1"), ("p2", "a2", "b2")])
    arena = ArenaHandlers(ctx)
    for outcome in ("left", "tie"):
        arena.vote(outcome, arena.next_pair("ana")["arena_token"], "", None, session_for("ana"), None)
    data = DataHandlers(ctx)
    admin = admin_request(ctx.options)
    ties = data.recent("", "", "", "tie", "", 50, session_for("ana"), admin)["data_table"]
    assert ties["outcome"].tolist() == ["tie"]
    assert list(ties.columns[:5]) == ["id", "created_at", "rater", "outcome", "winner"]
    assert ties.columns[-1] == "prompt"
    assert data.recent("", "", "", "any", "2999-01-01", 50, session_for("ana"), admin)["data_table"].empty
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        data.recent("", "", "", "any", "yesterday", 50, session_for("ana"), admin)


def test_a_second_grid_ranking_says_the_first_is_already_saved(ctx):
    from studio.ui.ranking_grid import GridHandlers

    add_image_item(ctx.studio, "four", [(0, 0, 0), (80, 80, 80), (160, 160, 160), (240, 240, 240)],
                   names=("g1", "g2", "g3", "g4"))
    grid = GridHandlers(ctx)
    token = grid.next_grid("ana")["grid_token"]
    again_token = grid.next_grid("ana")["grid_token"]          # a second tab: the same grid, another key
    grid.submit("3", ["3", "1"], token, None, session_for("ana"), None)
    second = grid.submit("2", None, again_token, None, session_for("ana"), None)
    assert "already saved" in second["grid_reveal"] and "not counted" in second["grid_reveal"]
    assert second["grid_reveal"].index("g3") < second["grid_reveal"].index("g1")   # the order that stands


def test_the_image_tab_says_what_would_fill_it(ctx):
    from studio.ui.ranking_grid import GridHandlers

    assert "image contenders" in GridHandlers(ctx).next_grid("ana")["grid_prompt"]


def test_plots_draw_with_two_votes_and_accuracy_has_intervals():
    import pandas as pd

    from studio.ranking.plots import (
        plot_leaderboard,
        plot_loss,
        plot_reward_model_accuracy,
    )

    # an interval that misses its own estimate, as two votes can give
    plot_leaderboard(pd.DataFrame({"contender": ["a", "b"], "rating": [1010.0, 990.0],
                                   "ci_low": [1020.0, 900.0], "ci_high": [1100.0, 980.0]}))
    plot_reward_model_accuracy(pd.DataFrame({"version": [1, 2], "heldout_accuracy": [0.0, 0.8],
                                             "heldout_low": [0.1, 0.6], "heldout_high": [0.6, 0.9],
                                             "heldout_pairs": [2, 40], "gate": ["not better than chance",
                                                                                "passed"]}))
    plot_loss([(1, 0.7), (2, 0.6)])
    plot_loss([])


def test_stats_name_open_and_held_items(ctx):
    from studio.ui.arena import ArenaHandlers

    add_text_pairs(ctx.studio, [("p1", "a1", "b1"), ("p2", "a2", "b2")])
    ArenaHandlers(ctx).next_pair("ana")
    stats = ctx.studio.stats()
    assert stats["open_items"] == 2 and stats["held_items"] == 1 and "ready_items" not in stats
    assert ctx.studio.release_items("ana") == 1
    assert ctx.studio.pool_status().ready["default"] == 2
