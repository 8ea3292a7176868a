"""`import generations`, `import prefs`, `import votes`: shapes, idempotency, images kept
inside their folder, and the round trip export -> import giving the same comparisons."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from studio.errors import InputError
from tests.conftest import shared_prefs
from tests.exchange.conftest import fill, png_bytes


def write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# -- generations ------------------------------------------------------------------------------

def test_text_generations_in_both_shapes_import_once(studio, tmp_path):
    path = write(tmp_path / "outs.jsonl", [
        {"prompt": "Name a colour.", "contender": "llama", "response": "Red.", "seed": 3, "latency_ms": 12.5},
        {"prompt": "Name a colour.", "responses": {"qwen": "Blue.", "mistral": "Green."}, "prompt_set": "colours"},
    ])
    first = studio.import_generations(path)
    assert (first.read, first.added, first.items) == (3, 3, 1)     # qwen vs mistral; llama is in another set
    frame = studio.generations()
    assert sorted(frame.contender) == ["llama", "mistral", "qwen"]
    assert set(frame.prompt_set) == {"outs", "colours"} and frame.seed.dropna().tolist() == [3]
    assert set(studio.contenders().backend) == {"external"}
    again = studio.import_generations(path)
    assert (again.added, again.existing, again.items) == (0, 3, 0) and studio.stats()["generations"] == 3
    item = studio.next_item("rater-1", prompt_set="colours")
    assert {side.contender for side in item.sides} == {"qwen", "mistral"}
    studio.vote(item.item_id, outcome="left", rater="rater-1")
    assert studio.next_item("rater-1", prompt_set="colours") is None


def test_image_generations_are_copied_into_the_data_dir_by_content(sqlite_studio, tmp_path):
    folder = tmp_path / "cluster"
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "a.png").write_bytes(png_bytes((255, 0, 0)))
    (folder / "images" / "b.png").write_bytes(png_bytes((0, 0, 255)))
    path = write(folder / "images.jsonl", [
        {"prompt": "A square.", "contender": "sdxl", "image": "images/a.png"},
        {"prompt": "A square.", "contender": "flux", "image": "images/b.png"},
    ])
    summary = sqlite_studio.import_generations(path)
    assert (summary.added, summary.items) == (2, 1)
    view = sqlite_studio.next_item("r", kind="pair")
    assert all(side.kind == "image" and side.media_path.startswith("media/") for side in view.sides)
    frame = sqlite_studio.generations()
    assert set(frame.kind) == {"image"} and frame.text.isna().all()
    for relative in frame.media_path:
        assert relative.startswith("media/") and (sqlite_studio.config.data_dir / relative).is_file()
    assert sqlite_studio.import_generations(path).added == 0


@pytest.mark.parametrize("image, message", [
    ("../../etc/passwd", "leaves the file's folder"),
    ("/etc/passwd", "absolute path"),
    ("images/../../secret.png", "leaves the file's folder"),
    ("link.png", "points outside the file's folder"),
    ("images/fake.png", "not a readable image"),
    ("images/missing.png", "no such image file"),
    ("notes.txt", "not an image file"),
])
def test_image_paths_must_stay_inside_the_files_folder(sqlite_studio, tmp_path, image, message):
    folder = tmp_path / "upload"
    (folder / "images").mkdir(parents=True)
    (tmp_path / "secret.png").write_bytes(png_bytes((1, 2, 3)))
    (folder / "link.png").symlink_to(tmp_path / "secret.png")
    (folder / "images" / "fake.png").write_text("<script>alert(1)</script>")
    (folder / "images" / "ok.png").write_bytes(png_bytes((9, 9, 9)))
    path = write(folder / "g.jsonl", [{"prompt": "P", "contender": "c", "image": "images/ok.png"},
                                      {"prompt": "P", "contender": "d", "image": image}])
    with pytest.raises(InputError, match=message) as error:
        sqlite_studio.import_generations(path)
    assert "g.jsonl:2:" in str(error.value)
    assert sqlite_studio.stats()["generations"] == 0
    assert not (sqlite_studio.config.data_dir / "media").exists()


def test_a_contender_keeps_one_kind(sqlite_studio, tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "x.png").write_bytes(png_bytes((1, 1, 1)))
    write(folder / "text.jsonl", [{"prompt": "P", "contender": "c", "response": "words"}])
    sqlite_studio.import_generations(folder / "text.jsonl")
    write(folder / "img.jsonl", [{"prompt": "P", "contender": "c", "image": "x.png"}])
    with pytest.raises(InputError, match="contender 'c' makes text outputs"):
        sqlite_studio.import_generations(folder / "img.jsonl")
    assert not (sqlite_studio.config.data_dir / "media").exists() or not any(
        (sqlite_studio.config.data_dir / "media").rglob("*.png"))


# -- preference pairs -------------------------------------------------------------------------

def test_trl_hh_and_conversational_pairs_become_votes(studio, tmp_path):
    path = write(tmp_path / "pairs.jsonl", [
        {"prompt": "2+2?", "chosen": "4", "rejected": "5"},
        {"chosen": "\n\nHuman: hi\n\nAssistant: hello!", "rejected": "\n\nHuman: hi\n\nAssistant: go away"},
        {"prompt": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Help?"}],
         "chosen": [{"role": "assistant", "content": "Sure."}], "rejected": [{"role": "assistant", "content": "No."}]},
        {"chosen": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "good"}],
         "rejected": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "bad"}], "judge": "ann"},
        {"prompt": "x?", "chosen": "a", "rejected": "b", "model_a": "m1", "model_b": "m2", "winner": "model_b"},
        {"prompt": "tie?", "chosen": "same", "rejected": "also same", "label": 0.5},
    ])
    summary = studio.import_prefs(path)
    assert (summary.read, summary.added) == (6, 6)
    frame = studio.comparisons()
    winners = [row.left_text if row.outcome == "left" else row.right_text for row in frame.itertuples()
               if row.outcome != "tie"]
    assert winners == ["4", "hello!", "Sure.", "good", "a"]
    assert frame.outcome.tolist().count("tie") == 1
    assert set(frame.outcome) >= {"left", "right"}          # sides come from a hash, not always chosen-left
    assert frame.prompt.tolist()[1] == "Human: hi\n\nAssistant:"
    assert set(frame.rater) == {"import:pairs.jsonl", "ann"}
    x = frame[frame.prompt == "x?"].iloc[0]
    assert (x.winner, {x.left_contender, x.right_contender}) == ("m2", {"m1", "m2"})
    assert studio.import_prefs(path).added == 0


@pytest.mark.parametrize("row, message", [
    ({"prompt": "p", "chosen": "a"}, "missing field 'rejected'"),
    ({"chosen": "plain a", "rejected": "plain b"}, "missing field 'prompt'"),
    ({"prompt": "p", "chosen": "same", "rejected": "same"}, "are the same output"),
    ({"prompt": "p", "chosen": [{"role": "assistant"}], "rejected": "x"}, "not {\"role\""),
    ({"prompt": "p", "chosen": "a", "rejected": "b", "label": "tie"}, "'label' must be a number"),
])
def test_malformed_pairs_name_the_line(sqlite_studio, tmp_path, row, message):
    path = write(tmp_path / "p.jsonl", [{"prompt": "ok", "chosen": "a", "rejected": "b"}, row])
    with pytest.raises(InputError, match=message) as error:
        sqlite_studio.import_prefs(path)
    assert "p.jsonl:2:" in str(error.value) and sqlite_studio.stats()["comparisons"] == 0


# -- round trips ------------------------------------------------------------------------------

COMPARED = ["prompt", "prompt_set", "left_contender", "right_contender", "left_text", "right_text", "outcome",
            "winner", "rater", "rationale", "decision_ms", "created_at"]


def test_a_jsonl_export_imports_into_a_fresh_studio_as_the_same_comparisons(sqlite_studio, studio, tmp_path):
    fill(sqlite_studio, tmp_path / "data", images=False)
    exported = sqlite_studio.export(tmp_path / "all.jsonl", format="jsonl", ties="keep")
    summary = studio.import_votes(exported.paths["train"])
    assert summary.added == exported.rows["train"] == sqlite_studio.stats()["comparisons"]
    before = sqlite_studio.comparisons()[COMPARED]
    after = studio.comparisons()[COMPARED]
    for frame in (before, after):       # SQLite gives naive UTC times, PostgreSQL aware ones
        frame["created_at"] = frame.created_at.map(_naive_utc)
    pd.testing.assert_frame_equal(before.reset_index(drop=True), after.reset_index(drop=True), check_dtype=False)
    assert studio.import_votes(exported.paths["train"]).added == 0
    assert sqlite_studio.import_votes(exported.paths["train"]).added == 0     # same keys: nothing new


@pytest.fixture
def source(tmp_path):
    """Another studio, with its own data dir, that the votes come from."""
    from studio.api import Studio

    with Studio.open(tmp_path / "source") as opened:
        yield fill(opened, tmp_path / "source", prompts=2)


def test_image_votes_exported_into_the_data_dir_import_with_their_images(source, studio):
    exported = source.studio.export(source.data_dir / "votes.jsonl", format="jsonl", ties="keep")
    summary = studio.import_votes(exported.paths["train"])
    assert summary.added == source.votes
    columns = [*COMPARED, "left_media", "right_media"]
    before, after = source.studio.comparisons()[columns], studio.comparisons()[columns]
    for frame in (before, after):
        frame["created_at"] = frame.created_at.map(_naive_utc)
    pd.testing.assert_frame_equal(before.reset_index(drop=True), after.reset_index(drop=True), check_dtype=False)
    images = after.dropna(subset=["left_media"])
    assert len(images) == source.image_votes
    for relative in [*images.left_media, *images.right_media]:
        assert (studio.config.data_dir / relative).read_bytes() == (source.data_dir / relative).read_bytes()
    kinds = studio.contenders().set_index("name")["kind"]
    assert kinds["painter-x"] == "image" and kinds["alpha"] == "text"
    assert studio.import_votes(exported.paths["train"]).added == 0


def test_image_votes_without_their_images_say_where_the_files_go_and_write_nothing(source, studio, tmp_path):
    exported = source.studio.export(tmp_path / "elsewhere" / "votes.jsonl", format="jsonl", ties="keep")
    with pytest.raises(InputError, match=r"votes\.jsonl:\d+: no such image file 'media/.*copy the exporting "
                                         r"studio's media/ folder"):
        studio.import_votes(exported.paths["train"])
    assert studio.stats()["comparisons"] == 0
    assert not list(studio.config.data_dir.rglob("*.png"))


def test_a_refused_image_vote_import_removes_the_images_it_copied(source, studio):
    from studio.contender_spec import ContenderSpec

    studio.add_contender(ContenderSpec(name="painter-x", model="tiny-text"))    # a text contender of that name
    exported = source.studio.export(source.data_dir / "votes.jsonl", format="jsonl", ties="keep")
    with pytest.raises(InputError, match="contender 'painter-x' makes text outputs"):
        studio.import_votes(exported.paths["train"])
    assert studio.stats()["comparisons"] == 0
    assert not list(studio.config.data_dir.rglob("*.png"))


def _naive_utc(moment):
    from datetime import UTC

    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@pytest.mark.parametrize("format", ["trl", "trl-implicit", "trl-conversational"])
def test_trl_exports_import_back_as_the_same_preferences(sqlite_studio, tmp_path, format):
    from studio.api import Studio

    fill(sqlite_studio, tmp_path / "data", images=False)
    exported = sqlite_studio.export(tmp_path / "prefs.jsonl", format=format)
    with Studio.open(tmp_path / "fresh") as fresh:
        assert fresh.import_prefs(exported.paths["train"]).added == exported.rows["train"]
        pairs = fresh.comparisons()
        again = fresh.export(tmp_path / "again.jsonl", format=format)
    assert len(pairs) == exported.rows["train"]

    def rows(path):
        found = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        if format == "trl-conversational":
            # a shared system prompt travels with the prompt; imported pairs have no contender
            # settings, so the prompt keeps it for every pair of that prompt
            assert any(r["prompt"][0] == {"role": "system", "content": "Be brief."} for r in found)
            for r in found:
                r["prompt"] = [m for m in r["prompt"] if m["role"] != "system"]
        return sorted(json.dumps(r, sort_keys=True) for r in found)
    assert rows(again.paths["train"]) == rows(exported.paths["train"])


@pytest.mark.slow
def test_the_real_hh_mix_dev_pairs_import_and_export(sqlite_studio, tmp_path):
    path = shared_prefs("hh_mix_dev.jsonl")
    summary = sqlite_studio.import_prefs(path, progress=False)
    assert summary.added == 1185 == sqlite_studio.stats()["comparisons"]
    exported = sqlite_studio.export(tmp_path / "dev.jsonl", format="trl")
    assert exported.rows["train"] == 1185
    with open(path, encoding="utf-8") as handle:
        source = [json.loads(line) for line in handle]
    with open(exported.paths["train"], encoding="utf-8") as handle:
        written = [json.loads(line) for line in handle]
    assert {(r["chosen"], r["rejected"]) for r in source} == {(r["chosen"], r["rejected"]) for r in written}
    assert os.path.getsize(exported.paths["train"]) > 1_000_000
