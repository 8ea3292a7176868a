"""The tabs' handlers called as plain functions (what Gradio calls), on a real SQLite studio."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.errors import AccessDenied, InputError
from tests.ui.conftest import add_image_item, add_text_pairs, admin_request


@pytest.fixture
def ctx(ui_studio):
    from studio.ui.context import Context
    from studio.ui.options import ServeOptions

    return Context(ui_studio, ServeOptions.from_config(ui_studio.config))


@pytest.fixture
def network_ctx(ui_studio):
    from studio.ui.context import Context
    from studio.ui.options import ServeOptions

    return Context(ui_studio, ServeOptions.from_config(ui_studio.config, host="0.0.0.0"))


def session_for(name: str):
    from studio.ui.session import RaterSession

    return RaterSession.start(name, 0)


def test_a_retried_vote_writes_one_row_and_counts_once(ctx):
    from studio.ui.arena import ArenaHandlers

    add_text_pairs(ctx.studio, [("p1", "a1", "b1"), ("p2", "a2", "b2")])
    arena = ArenaHandlers(ctx)
    shown = arena.next_pair("ana")
    session = session_for("ana")
    first = arena.vote("left", shown["arena_token"], "because", 1234, session, None)
    # the same token sent again (a retry after a lost response, or a second click)
    retried = arena.vote("right", shown["arena_token"], "", None, first["session"], None)
    rows = ctx.studio.comparisons()
    assert len(rows) == 1 and rows.iloc[0]["outcome"] == "left" and rows.iloc[0]["decision_ms"] == 1234
    assert rows.iloc[0]["rationale"] == "because"
    assert first["session"].votes_this_session == 1 and retried["session"].votes_this_session == 1
    assert "A is better" in retried["arena_reveal"]                        # says what was really saved
    assert json.loads(first["arena_token"])["item"] != json.loads(shown["arena_token"])["item"]


def test_two_tabs_of_one_rater_count_once_and_the_second_says_what_was_saved(ctx):
    """Both tabs show the rater's open pair (each with its own token); the second vote on it
    writes nothing, counts nothing and says what the first one saved."""
    from studio.ui.arena import ArenaHandlers

    add_text_pairs(ctx.studio, [("p1", "a1", "b1"), ("p2", "a2", "b2")])
    arena = ArenaHandlers(ctx)
    tab_1, tab_2 = arena.next_pair("ana"), arena.next_pair("ana")       # a second tab, or a reload
    assert json.loads(tab_1["arena_token"])["item"] == json.loads(tab_2["arena_token"])["item"]
    first = arena.vote("left", tab_1["arena_token"], "", None, session_for("ana"), None)
    second = arena.vote("right", tab_2["arena_token"], "", None, session_for("ana"), None)
    rows = ctx.studio.comparisons()
    assert len(rows) == 1 and rows.iloc[0]["outcome"] == "left"
    assert "already saved as <b>A is better</b>" in second["arena_reveal"] and "not counted" in second["arena_reveal"]
    assert "already" not in first["arena_reveal"]
    assert first["session"].votes_this_session == 1 and second["session"].votes_this_session == 0
    assert json.loads(second["arena_token"])["item"] == json.loads(first["arena_token"])["item"]   # the next pair


def test_a_free_prompt_pair_voted_twice_counts_once(ctx):
    from studio.ui import free_prompt, pair_view
    from studio.ui.free_prompt import FreePromptHandlers

    (item_id,) = add_text_pairs(ctx.studio, [("my own prompt", "a1", "b1")], prompt_set="free")
    with ctx.studio.store.transaction() as tx:      # as free_prompt() leaves it: the typing rater's item
        tx.items.assign(item_id, tx.raters.id_for("ana"))
    view = ctx.studio.next_item("ana")
    tokens = [pair_view.show(free_prompt.PREFIX, view, empty_message="")["free_token"]
              for _ in range(2)]
    vote = FreePromptHandlers(ctx).voter("tie")
    first, second = (vote(token, "", None, session_for("ana"), None) for token in tokens)
    assert len(ctx.studio.comparisons()) == 1
    assert "already saved as <b>a tie</b>" in second["free_reveal"] and "already" not in first["free_reveal"]
    assert second["session"].votes_this_session == 0


def test_the_decision_time_is_the_browsers_measure_or_the_servers(ctx, monkeypatch):
    from studio.ui import pair_view

    token = pair_view.Token(item_id=1, key="k", shown_ms=10_000)
    monkeypatch.setattr(pair_view, "now_ms", lambda: 12_500)
    assert token.decision_ms(800) == 800
    assert token.decision_ms(None) == 2_500
    assert token.decision_ms(-5) == 2_500 and token.decision_ms("soon") == 2_500
    with pytest.raises(InputError):
        pair_view.Token.parse("not a token")


def test_votes_need_a_known_rater_and_admin_work_needs_the_admin_role(network_ctx):
    from studio.ui.arena import ArenaHandlers
    from studio.ui.data import DataHandlers
    from studio.ui.session import RaterSession

    add_text_pairs(network_ctx.studio, [("p", "a", "b")])
    token = ArenaHandlers(network_ctx).next_pair("ana")["arena_token"]
    with pytest.raises(AccessDenied):
        ArenaHandlers(network_ctx).vote("left", token, "", None, RaterSession(), None)
    with pytest.raises(AccessDenied, match="admin role"):
        DataHandlers(network_ctx).recent("", "", "", "any", "", 10, session_for("ana"), None)
    assert network_ctx.studio.comparisons().empty


def test_an_image_grid_ranking_becomes_pairwise_votes_in_one_group(ctx):
    from studio.ui.ranking_grid import GridHandlers, ranking_positions

    add_image_item(ctx.studio, "four images", [(0, 0, 0), (80, 80, 80), (160, 160, 160), (240, 240, 240)],
                   names=("g1", "g2", "g3", "g4"))
    grid = GridHandlers(ctx)
    shown = grid.next_grid("ana")
    assert shown["grid_images"].count("<img") == 4
    token = shown["grid_token"]
    done = grid.submit("3", ["3", "1"], token, 4200, session_for("ana"), None)
    again = grid.submit("3", ["3", "1"], token, None, session_for("ana"), None)  # a retried click
    rows = ctx.studio.comparisons()
    assert len(rows) == 5                       # 3 beats 1, 2, 4; then 1 beats 2, 4
    assert rows["group_id"].nunique() == 1 and rows["group_id"].iloc[0]
    assert set(rows["decision_ms"]) == {4200}
    assert done["session"].votes_this_session == 1 and again["session"].votes_this_session == 0
    assert "g3, g1" in done["grid_reveal"]
    assert ranking_positions("2", None, 4) == [1]
    with pytest.raises(InputError):
        ranking_positions(None, [], 4)
    with pytest.raises(InputError, match="1 to 4"):
        ranking_positions("5", None, 4)
    with pytest.raises(InputError, match="once"):
        ranking_positions(None, ["1", "1"], 4)


def test_the_data_tab_lists_votes_and_exports_a_file(ctx):
    from studio.ui.arena import ArenaHandlers
    from studio.ui.data import DataHandlers

    add_text_pairs(ctx.studio, [("Explain tides.", "The moon pulls.", "Wind.")])
    arena = ArenaHandlers(ctx)
    arena.vote("left", arena.next_pair("ana")["arena_token"], "", None, session_for("ana"), None)
    data = DataHandlers(ctx)
    admin = admin_request(ctx.options)
    table = data.recent("ana", "", "", "any", "", 50, session_for("ana"), admin)["data_table"]
    assert table[["prompt", "outcome", "winner"]].values.tolist() == [["Explain tides.", "left", "alpha"]]
    exported = data.export("trl", "", "", "", session_for("ana"), admin)
    rows = [json.loads(line) for line in Path(exported["data_file"]).read_text().splitlines()]
    assert [(r["prompt"], r["chosen"], r["rejected"]) for r in rows] == [("Explain tides.", "The moon pulls.", "Wind.")]
    assert exported["data_message"].startswith("1 rows from 1 votes")


def test_data_tab_downloads_are_private_and_pruned(tmp_path):
    """Exports go to a folder only the server reads, are removed once old, and all go when
    the server stops: the system's temporary folder does not fill with rater data."""
    import os
    import time

    from studio.ui.downloads import Downloads

    downloads = Downloads(keep_s=60, root=tmp_path / "downloads")
    (tmp_path / "downloads").mkdir()
    first = downloads.new_file("votes-trl.jsonl")
    first.write_text("{}\n")
    assert first.parent.stat().st_mode & 0o077 == 0
    hour_ago = time.time() - 3600
    os.utime(first.parent, (hour_ago, hour_ago))
    second = downloads.new_file("votes-csv.csv")
    second.write_text("id\n")
    assert not first.parent.exists() and second.exists()
    downloads.close()
    assert not (tmp_path / "downloads").exists()


def test_the_leaderboard_shows_ratings_and_a_plot(ctx):
    from studio.ui.arena import ArenaHandlers
    from studio.ui.leaderboard import LeaderboardHandlers

    add_text_pairs(ctx.studio, [(f"p{i}", f"a{i}", f"b{i}") for i in range(4)])
    arena = ArenaHandlers(ctx)
    for outcome in ("left", "left", "left", "right"):
        arena.vote(outcome, arena.next_pair("ana")["arena_token"], "", None, session_for("ana"), None)
    board = LeaderboardHandlers(ctx).refresh(20, False, session_for("ana"), None)
    assert board["board_table"]["contender"].tolist() == ["alpha", "beta"]
    assert board["board_plot"] is not None


def test_the_training_tab_queues_shows_and_cancels_a_job(ctx, network_ctx):
    from studio.ui.training import TrainingHandlers

    with pytest.raises(AccessDenied):
        TrainingHandlers(network_ctx).train_now("head", "auto", session_for("ana"), None)   # nobody is admin there
    with pytest.raises(AccessDenied, match="admin link"):
        TrainingHandlers(ctx).train_now("head", "auto", session_for("ana"), None)           # on loopback neither
    with pytest.raises(AccessDenied, match="admin role"):                          # nor another server's link
        TrainingHandlers(ctx).train_now("head", "auto", session_for("ana"), admin_request(network_ctx.options))
    training = TrainingHandlers(ctx)
    admin = admin_request(ctx.options)
    shown = training.refresh(session_for("ana"), admin)
    assert shown["training_jobs"].empty and "No active reward model" in shown["training_agreement"]
    assert "No jobs yet" in shown["training_message"] and "Next automatic retrain: in 50 votes" in shown["training_message"]
    started = training.train_now("head", "auto", session_for("ana"), admin)
    (job,) = ctx.studio.jobs().to_dict("records")
    assert job["status"] == "queued" and f"Job {job['id']} is **queued**" in started["training_message"]
    (row,) = started["training_jobs"].to_dict("records")
    assert row["status"] == "queued" and row["action"] == "✕ cancel"          # the table says the same
    assert training.cancel(session_for("ana"), admin, select(row, "queued")) == {}    # another cell: nothing
    cancelled = training.cancel(session_for("ana"), admin, select(row, "✕ cancel"))
    assert ctx.studio.job(job["id"]).status == "cancelled"
    with pytest.raises(AccessDenied):
        TrainingHandlers(ctx).build_features("smollm2-135m", session_for("ana"), None)
    queued = training.build_features("smollm2-135m", session_for("ana"), admin)
    build = ctx.studio.jobs(kind="build_features").to_dict("records")[0]
    assert build["status"] == "queued" and f"job {build['id']} is **queued**" in queued["training_message"]
    assert queued["training_jobs"]["kind"].tolist()[0] == "build_features"
    again = training.build_features("smollm2-135m", session_for("ana"), admin)      # one build per backbone
    assert f"job {build['id']} is **queued**" in again["training_message"]
    assert len(ctx.studio.jobs(kind="build_features")) == 1
    (after,) = cancelled["training_jobs"].to_dict("records")
    assert after["status"] == "cancelled" and after["action"] == "" and "cancelled" in cancelled["training_message"]


def select(row: dict, value):
    import gradio as gr

    return gr.SelectData(None, {"index": [0, 0], "value": value, "row_value": list(row.values()), "selected": True})


def test_the_settings_tab_shows_the_setup_without_secrets(ctx):
    from studio.ui.settings import SettingsHandlers, without_password

    shown = SettingsHandlers(ctx).overview(session_for("ana"), admin_request(ctx.options))
    config = dict(shown["settings_config"][["setting", "value"]].values.tolist())
    assert config["server.analytics"] == "False" and config["server.share"] == "False"
    assert without_password("postgresql://studio:s3cret@db.internal:5432/studio") == \
        "postgresql://studio:***@db.internal:5432/studio"
    assert without_password("sqlite:////data/studio.db") == "sqlite:////data/studio.db"
