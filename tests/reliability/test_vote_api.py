"""The JSON vote API (`POST /api/vote`, `GET /api/next`) on the running app: the same
rater checks as the page, idempotent resends, one-line 4xx answers for bad input, and no
write on any refusal; hostile bodies included."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.reliability.conftest import hostile_settings
from tests.ui.conftest import add_image_item, add_text_pairs, serve


@pytest.fixture
def open_app(ui_studio):
    add_text_pairs(ui_studio, [(f"prompt {i}", f"a{i}", f"b{i}") for i in range(30)])
    server = serve(ui_studio)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield server, client
    server.close()


@pytest.fixture
def gated_app(ui_studio, users_file):
    from studio.ui.auth import Users

    add_text_pairs(ui_studio, [(f"prompt {i}", f"a{i}", f"b{i}") for i in range(5)])
    server = serve(ui_studio, users=Users.load(users_file))
    yield server
    server.close()


def vote(client, item_id, key=None, **fields):
    body = {"item_id": item_id, "outcome": "left", "idempotency_key": key or uuid.uuid4().hex, **fields}
    return client.post("/api/vote", json=body)


def one_line_error(response) -> str:
    message = response.json()["error"]
    assert message and "\n" not in message, message
    return message


def test_a_vote_is_acknowledged_with_the_next_pair_and_a_resend_counts_once(open_app):
    server, client = open_app
    first = client.get("/api/next", params={"rater": "ana"}).json()["next"]
    assert first["prompt"].startswith("prompt ") and len(first["sides"]) == 2
    assert "contender" not in json.dumps(first)                      # blind until the vote
    answer = vote(client, first["item_id"], key="key-1", rater="ana", rationale="clearer", decision_ms=1500)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["created"] is True and body["outcome"] == "left" and body["next"]["item_id"] != first["item_id"]
    assert {body["left_contender"], body["right_contender"]} == {"alpha", "beta"}      # revealed after
    again = vote(client, first["item_id"], key="key-1", rater="ana", outcome="right")  # a resend after a timeout
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["comparison_id"] == body["comparison_id"] and again.json()["outcome"] == "left"
    rows = server.studio.comparisons()
    assert len(rows) == 1 and rows.iloc[0]["rater"] == "ana" and rows.iloc[0]["rationale"] == "clearer"
    assert rows.iloc[0]["decision_ms"] == 1500
    assert client.get("/api/next", params={"rater": "ana"}).json()["next"]["item_id"] == body["next"]["item_id"]


def test_refusals_are_one_line_with_their_status_and_write_nothing(open_app, ui_studio):
    server, client = open_app
    item = client.get("/api/next", params={"rater": "ana"}).json()["next"]["item_id"]
    grid = add_image_item(ui_studio, "four pictures", [(1, 2, 3), (4, 5, 6), (7, 8, 9), (10, 11, 12)],
                          names=("i1", "i2", "i3", "i4"))
    assert vote(client, item, key="used", rater="ana").status_code == 200
    other = client.get("/api/next", params={"rater": "bo"}).json()["next"]["item_id"]
    cases = [
        (client.post("/api/vote", content=b"{not json"), 400, "not JSON"),
        (client.post("/api/vote", json=[1, 2]), 400, "JSON object"),
        (vote(client, item, rater="ana", outcome="maybe"), 400, "outcome"),
        (vote(client, "12", rater="ana"), 400, "item_id"),
        (vote(client, item, rater="ana", idempotency_key=""), 400, "idempotency_key"),
        (vote(client, item, rater="ana", colour="red"), 400, "unknown field"),
        (vote(client, item), 400, "rater"),
        (vote(client, item, rater="a\x01b"), 400, "control characters"),
        (vote(client, item, rater="ana", rationale="nul\x00inside"), 400, "NUL"),
        (vote(client, item, rater="ana", decision_ms=-4), 400, "decision_ms"),
        (vote(client, 999_999, rater="ana"), 404, "no rating item"),
        (vote(client, grid, rater="ana"), 400, "ranking grid"),
        (vote(client, other, key="used", rater="bo"), 409, "already used"),
        (client.post("/api/vote", content=b" " * (70 * 1024)), 413, "KiB"),
        (client.get("/api/next"), 400, "rater"),
    ]
    for response, status, words in cases:
        assert response.status_code == status, (words, response.text)
        assert words in one_line_error(response)
    assert len(server.studio.comparisons()) == 1


def assigned(studio, rater: str) -> dict[int, bool]:
    """item id -> voted, for every item handed to the rater."""
    from sqlalchemy import select

    from studio.store.schema import RatingAssignment

    with studio.store.reader() as tx:
        rater_id = tx.raters.id_for(rater)
        return {item: done is not None for item, done in tx.session.execute(
            select(RatingAssignment.item_id, RatingAssignment.completed_at).where(RatingAssignment.rater_id == rater_id))}


def test_a_vote_on_an_item_not_handed_to_the_caller_is_refused(open_app):
    server, client = open_app
    item = client.get("/api/next", params={"rater": "ana"}).json()["next"]["item_id"]
    for rater, target in (("bo", item), ("ana", item + 1), ("mallory", item + 2)):
        for _ in range(3):          # new keys each time: still refused
            answer = vote(client, target, rater=rater)
            assert answer.status_code == 409 and "was never shown to rater" in one_line_error(answer)
    assert server.studio.comparisons().empty and server.studio.stats()["comparisons"] == 0
    assert assigned(server.studio, "bo") == {} and assigned(server.studio, "ana") == {item: False}


def test_a_second_vote_on_an_item_answers_409_with_the_first(open_app):
    server, client = open_app
    item = client.get("/api/next", params={"rater": "ana"}).json()["next"]["item_id"]
    first = vote(client, item, rater="ana", outcome="left")
    assert first.status_code == 200
    second = vote(client, item, rater="ana", outcome="right")                # another tab: a new key
    assert second.status_code == 409, second.text
    body = second.json()
    assert "already voted on item" in one_line_error(second) and "saved as left" in body["error"]
    assert body["duplicate"] is True and body["created"] is False and body["outcome"] == "left"
    assert body["comparison_id"] == first.json()["comparison_id"]
    assert body["next"]["item_id"] == first.json()["next"]["item_id"]        # the open pair, not another
    rows = server.studio.comparisons()
    assert len(rows) == 1 and rows.iloc[0]["outcome"] == "left"


def test_a_409_for_a_reused_key_commits_no_next_item(open_app):
    server, client = open_app
    first = client.get("/api/next", params={"rater": "ana"}).json()["next"]["item_id"]
    assert vote(client, first, key="used", rater="ana", next=False).status_code == 200
    assert assigned(server.studio, "ana") == {first: True}                   # no open item now
    reused = vote(client, first + 1, key="used", rater="ana")
    assert reused.status_code == 409 and "already used" in one_line_error(reused)
    assert assigned(server.studio, "ana") == {first: True}                   # nothing was assigned
    shown = client.get("/api/next", params={"rater": "ana"}).json()["next"]["item_id"]
    reused = vote(client, shown, key="used", rater="ana")
    assert reused.status_code == 409 and "already used" in one_line_error(reused)
    assert assigned(server.studio, "ana") == {first: True, shown: False}     # still open, nothing more
    assert len(server.studio.comparisons()) == 1


def test_with_a_users_file_only_the_signed_in_user_votes_as_themself(gated_app):
    with httpx.Client(base_url=gated_app.url, timeout=30) as anonymous:
        refused = anonymous.get("/api/next")
        assert refused.status_code == 401 and "sign in" in one_line_error(refused)
        assert vote(anonymous, 1, rater="rita").status_code == 401
    with httpx.Client(base_url=gated_app.url, timeout=30) as rita:
        assert rita.post("/login", data={"username": "rita", "password": "rita-password"}).status_code == 200
        item = rita.get("/api/next").json()["next"]["item_id"]
        posing = vote(rita, item, rater="adam")
        assert posing.status_code == 403 and "cannot vote as" in one_line_error(posing)
        assert vote(rita, item).status_code == 200
    rows = gated_app.studio.comparisons()
    assert rows["rater"].tolist() == ["rita"]


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) |
                           st.text(st.characters(blacklist_categories=()), max_size=50),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=3), max_leaves=8)
vote_bodies = st.fixed_dictionaries(
    {}, optional={"item_id": st.one_of(st.integers(), json_values), "rater": json_values,
                  "outcome": st.one_of(st.sampled_from(["left", "right", "tie", "both_bad", "a", "b"]), json_values),
                  "idempotency_key": st.one_of(st.uuids().map(str), json_values), "rationale": json_values,
                  "decision_ms": json_values, "next": json_values})


def test_hostile_bodies_get_a_json_answer_and_only_valid_votes_are_written(open_app, tried):
    server, client = open_app

    @hostile_settings(40)
    @given(body=st.one_of(vote_bodies.map(lambda b: json.dumps(b).encode()), st.binary(max_size=200)))
    @example(body=b'{"item_id": 1, "outcome": []}')      # found at 100 inputs: a list outcome was a 500
    def check(body):
        tried("api: POST /api/vote body")
        before = len(server.studio.comparisons(with_content=False))
        answer = client.post("/api/vote", content=body, headers={"content-type": "application/json"})
        assert answer.status_code in (200, 400, 403, 404, 409, 413), answer.text
        after = len(server.studio.comparisons(with_content=False))
        if answer.status_code == 200:
            assert after - before == (1 if answer.json()["created"] else 0)
        else:
            one_line_error(answer)
            assert after == before

    check()
