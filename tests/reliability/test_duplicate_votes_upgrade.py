"""A database at revision 0002 holding what one vote per item forbids (a rater's second and
third votes on a pair, a second ranking of a grid) upgrades without losing a row: the later
votes stay, marked superseded by the first, and every reader leaves them out by default
(the DataFrames, leaderboards and agreement, exports, the reward model's training data, the
counts); `studio stats` says how many there are. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import MetaData, text

from tests.reliability.cli import run_cli
from tests.reliability.test_schema_upgrade import read_rows

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ANA, BO = 1, 2
# comparison id -> the id it is superseded by; ranking rows past the first -> their part
SUPERSEDED = {3: 1, 4: 1, 8: 5, 9: 5, 10: 5}
PARTS = {6: 1, 7: 2, 9: 1, 10: 2}
COUNTED = [1, 2, 5, 6, 7, 11]


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def vote(id_, item, rater, left, right, outcome, *, group=None):
    contender = {1: 1, 2: 2, 3: 1, 4: 2, 5: 3, 6: 4}
    return dict(id=id_, item_id=item, prompt_id=1 if left <= 2 else 2, left_generation_id=left,
                right_generation_id=right, left_contender_id=contender[left], right_contender_id=contender[right],
                rater_id=rater, outcome=outcome, rationale=None, decision_ms=1000 + id_,
                idempotency_key=f"key-{id_}", session_id=f"tab-{id_}", group_id=group, source="ui",
                created_at=at(id_))


def rows_at_0002() -> dict[str, list[dict]]:
    """A pair voted by ana three times (two tabs and a reload) and once by bo; a grid ranked
    twice by ana; a vote on two generations without an item."""
    def generation(id_, prompt_id, contender_id):
        return dict(id=id_, prompt_id=prompt_id, contender_id=contender_id, contender_revision=1, text=f"out {id_}",
                    media_path=None, content_sha256=f"{id_:064d}", seed=id_, params={}, latency_ms=None,
                    source="pool", created_at=at(0))

    return {
        "contenders": [dict(id=i, name=f"c{i}", kind="text", backend="external", model="", params={}, revision=1,
                            enabled=True, created_at=at(0)) for i in (1, 2, 3, 4)],
        "prompts": [dict(id=i, text=f"prompt {i}", text_sha256=f"{i:064d}", prompt_set="default", system_prompt=None,
                         meta={}, source="manual", created_at=at(0)) for i in (1, 2)],
        "raters": [dict(id=ANA, name="ana", role="rater", created_at=at(0)),
                   dict(id=BO, name="bo", role="rater", created_at=at(0))],
        "generations": [generation(1, 1, 1), generation(2, 1, 2),
                        *(generation(g, 2, g - 2) for g in (3, 4, 5, 6))],
        "rating_items": [
            dict(id=1, kind="pair", prompt_id=1, prompt_set="default", generation_ids=[1, 2], votes_wanted=2,
                 votes_received=4, source="pool", created_at=at(0)),
            dict(id=2, kind="grid", prompt_id=2, prompt_set="default", generation_ids=[3, 4, 5, 6], votes_wanted=1,
                 votes_received=2, source="pool", created_at=at(0)),
        ],
        "rating_assignments": [dict(item_id=1, rater_id=ANA, assigned_at=at(0), completed_at=at(1)),
                               dict(item_id=1, rater_id=BO, assigned_at=at(0), completed_at=at(2)),
                               dict(item_id=2, rater_id=ANA, assigned_at=at(0), completed_at=at(5))],
        "comparisons": [
            vote(1, 1, ANA, 1, 2, "left"), vote(2, 1, BO, 1, 2, "tie"),
            vote(3, 1, ANA, 1, 2, "right"), vote(4, 1, ANA, 1, 2, "both_bad"),
            vote(5, 2, ANA, 3, 4, "left", group="g1"), vote(6, 2, ANA, 3, 5, "left", group="g1"),
            vote(7, 2, ANA, 3, 6, "left", group="g1"),
            vote(8, 2, ANA, 3, 6, "right", group="g2"), vote(9, 2, ANA, 4, 6, "right", group="g2"),
            vote(10, 2, ANA, 5, 6, "right", group="g2"),
            vote(11, None, ANA, 2, 1, "left"),
        ],
    }


def database_at_0002(url: str) -> None:
    from studio.store import Store

    store = Store(url, check_schema=False)
    store.upgrade("0002")
    metadata = MetaData()
    metadata.reflect(store.engine)
    data = rows_at_0002()
    with store.engine.begin() as connection:
        for table in metadata.sorted_tables:
            if table.name in data:
                connection.execute(table.insert(), data[table.name])
        if store.dialect == "postgresql":           # explicit ids: move the sequences past them
            for name in data:
                if "id" in metadata.tables[name].c:
                    connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                            f"(SELECT max(id) FROM {name}))"))
    store.close()


def test_duplicates_stored_before_one_vote_per_item_are_kept_superseded_and_counted_nowhere(database_url, tmp_path):
    from studio.api import Studio
    from studio.store import Store

    database_at_0002(database_url)
    data = tmp_path / "data"
    data.mkdir()
    (data / "studio.toml").write_text(f"[studio]\ndatabase_url = {json.dumps(database_url)}\n")
    store = Store(database_url, check_schema=False)
    before = read_rows(store.engine)["comparisons"]
    code, _, err = run_cli(["db", "upgrade"], data)
    assert code == 0, err
    after = read_rows(store.engine)
    store.close()

    comparisons = after["comparisons"]
    assert set(comparisons) == set(before)                                    # nothing lost
    for key, old in before.items():
        assert {c: comparisons[key][c] for c in old if c != "created_at"} == {c: v for c, v in old.items()
                                                                              if c != "created_at"}
    assert {k[0]: r["superseded_by"] for k, r in comparisons.items() if r["superseded_by"]} == SUPERSEDED
    assert {k[0]: r["vote_part"] for k, r in comparisons.items() if r["vote_part"]} == PARTS
    # the items count each rater once: the pair wanted two raters and has had two
    assert {k[0]: r["votes_received"] for k, r in after["rating_items"].items()} == {1: 2, 2: 1}

    code, out, err = run_cli(["stats", "--json"], data)
    assert code == 0, err
    stats = json.loads(out)
    assert (stats["comparisons"], stats["superseded_votes"]) == (len(COUNTED), len(SUPERSEDED))
    with Studio.open(data) as studio:
        assert studio.comparisons()["id"].tolist() == COUNTED
        every = studio.comparisons(include_superseded=True, with_content=False)
        assert every["id"].tolist() == list(range(1, 12))
        assert every.set_index("id")["superseded_by"].dropna().astype(int).to_dict() == SUPERSEDED
        assert studio.ranking_votes()["id"].tolist() == COUNTED                # leaderboards, agreement, raters
        assert int(studio.leaderboard(bootstrap=10)["votes"].sum()) == 2 * len(COUNTED)
        assert studio.overview().loc["(all)", "votes"] == len(COUNTED)
        exported = studio.export(tmp_path / "votes.jsonl", format="jsonl", ties="keep", progress=False)
        ids = [json.loads(line)["comparison_id"] for line in exported.paths["train"].read_text().splitlines()]
        assert ids == COUNTED
        with studio.store.reader() as tx:                                       # the reward model's data
            trainable = [r["id"] for r in tx.reward_models.preference_rows(11)]
            assert trainable == COUNTED and tx.reward_models.votes_after(0) == len(COUNTED)
        again = studio.vote(1, outcome="right", rater="ana", idempotency_key="after-upgrade")
        assert again.duplicate and again.comparison.id == 1 and again.comparison.outcome == "left"
        assert studio.stats()["comparisons"] == len(COUNTED)
        with studio.store.reader() as tx:
            assert tx.session.execute(text("SELECT count(*) FROM comparisons")).scalar() == 11
