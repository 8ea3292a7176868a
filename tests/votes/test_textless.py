"""A battle log naming models and outcomes, without the responses (as Chatbot Arena and
MT-Bench publish them), imports as votes on text-less generations: leaderboards, agreement
and vote exports use them; training and TRL exports refuse them with one line."""

from __future__ import annotations

import json

import pytest

from studio.errors import InputError

BATTLES = [("alpha", "beta", "model_a"), ("beta", "gamma", "model_a"), ("alpha", "gamma", "model_a"),
           ("gamma", "alpha", "tie"), ("beta", "alpha", "model_b")]


@pytest.fixture
def battles(tmp_path):
    path = tmp_path / "battles.jsonl"
    rows = [{"question_id": q, "model_a": a, "model_b": b, "winner": w, "judge": judge}
            for q in (81, 82) for judge in ("expert_1", "expert_2") for a, b, w in BATTLES]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_battle_log_gives_a_leaderboard_agreement_and_a_vote_export(sqlite_studio, battles, tmp_path):
    studio = sqlite_studio
    assert studio.import_votes(battles).added == 20
    assert studio.import_votes(battles).added == 0                 # re-importing adds nothing
    board = studio.leaderboard(bootstrap=20)
    assert board["contender"].tolist() == ["alpha", "beta", "gamma"] and board["votes"].sum() == 40
    assert studio.agreement().summary()                              # two judges on the same battles
    assert set(studio.generations()["text"]) == {""}
    out = tmp_path / "votes.jsonl"
    studio.export(out, format="jsonl")
    assert len(out.read_text().splitlines()) == 16                   # ties are dropped by default


@pytest.mark.slow
def test_training_and_trl_exports_refuse_text_less_votes(sqlite_studio, battles, tmp_path):
    studio = sqlite_studio
    studio.import_votes(battles)
    with pytest.raises(InputError, match="have no response texts .* a trl export needs the texts"):
        studio.export(tmp_path / "prefs.jsonl", format="trl")
    assert not (tmp_path / "prefs.jsonl").exists()
    with pytest.raises(InputError, match="name models only .* a reward model needs the texts"):
        studio.train_reward_model()


def test_a_battle_without_a_prompt_or_question_is_refused_with_its_line(sqlite_studio, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"model_a": "a", "model_b": "b", "winner": "model_a", "judge": "j"}) + "\n")
    with pytest.raises(InputError, match=r"bad.jsonl:1: missing field 'prompt'"):
        sqlite_studio.import_votes(path)


def test_text_less_votes_do_not_count_towards_a_retrain(sqlite_studio, battles):
    studio = sqlite_studio
    studio.import_votes(battles)
    with studio.store.reader() as tx:
        assert tx.reward_models.votes_after(0) == 0
