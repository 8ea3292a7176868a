"""`Studio.export`: every format from a real database, filters, splits, majority, and the
safety of the output path (nothing partial, nothing replaced by surprise)."""

from __future__ import annotations

import csv
import json

import pyarrow.parquet as pq
import pytest

from studio.errors import InputError, NotFoundError
from tests.exchange.conftest import fill


def jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_trl_export_has_one_row_per_decisive_vote_in_vote_order(text_filled, tmp_path):
    filled = text_filled
    summary = filled.studio.export(tmp_path / "prefs.jsonl", format="trl")
    rows = jsonl(tmp_path / "prefs.jsonl")
    frame = filled.studio.comparisons()
    decisive = frame[frame.outcome.isin(["left", "right"])]
    assert summary.rows == {"train": len(decisive)} == {"train": len(rows)}
    assert summary.comparisons == filled.votes
    assert set(rows[0]) == {"prompt", "chosen", "rejected"}
    assert [r["chosen"] for r in rows] == [getattr(r, f"{r.outcome}_text") for r in decisive.itertuples()]


def test_trl_export_of_image_votes_is_a_dataset_with_the_images(filled, tmp_path):
    """Image votes carry their images (datasets.Image), not media paths posing as text; a
    JSON Lines file cannot hold them, so such an export is a dataset folder."""
    from datasets import Image, load_from_disk

    with pytest.raises(InputError, match="image votes .* dataset folder: name it without the '.jsonl' ending"):
        filled.studio.export(tmp_path / "prefs.jsonl", format="trl")
    assert not (tmp_path / "prefs.jsonl").exists()
    summary = filled.studio.export(tmp_path / "prefs", format="trl")
    loaded = load_from_disk(str(tmp_path / "prefs"))
    assert isinstance(loaded.features["chosen_image"], Image) and len(loaded) == summary.rows["train"]
    pictures = [row for row in loaded if row["chosen_image"] is not None]
    assert len(pictures) == filled.image_votes
    assert all(row["chosen"] is None and row["rejected"] is None for row in pictures)
    assert pictures[0]["chosen_image"].size == (8, 8) and pictures[0]["chosen_image"].getpixel((0, 0))[0] == 200
    assert all(row["chosen"] and row["rejected_image"] is None for row in loaded if row["chosen_image"] is None)


def test_raw_vote_formats_agree_with_each_other_and_keep_every_column(filled, tmp_path):
    filled.studio.export(tmp_path / "v.jsonl", format="jsonl", ties="keep")
    filled.studio.export(tmp_path / "v.csv", format="csv", ties="keep")
    filled.studio.export(tmp_path / "v.parquet", format="parquet", ties="keep")
    from_json = jsonl(tmp_path / "v.jsonl")
    with open(tmp_path / "v.csv", newline="", encoding="utf-8") as handle:
        from_csv = list(csv.DictReader(handle))
    from_parquet = pq.read_table(tmp_path / "v.parquet").to_pylist()
    assert len(from_json) == len(from_csv) == len(from_parquet) == filled.votes
    assert [r["comparison_id"] for r in from_json] == sorted(r["comparison_id"] for r in from_json)
    assert [r["rater"] for r in from_json] == [r["rater"] for r in from_csv] == [r["rater"] for r in from_parquet]
    first = from_json[0]
    assert first["rationale"] == "short and right" and first["decision_ms"] == 1000
    assert first["left_contender"] == "alpha" and first["winner"] == "alpha"
    assert first["created_at"].endswith("+00:00")
    assert from_parquet[0]["created_at"].tzinfo is not None
    assert any(r["left_text"] == "<b>1</b>" for r in from_json)     # markup is data, written as is
    ties_dropped = filled.studio.export(tmp_path / "d.jsonl", format="jsonl")
    assert ties_dropped.rows["train"] == filled.votes - sum(r["outcome"] == "tie" for r in from_json)


def test_majority_gives_one_row_per_pair_with_votes_and_agreement(filled, tmp_path):
    filled.studio.export(tmp_path / "m.jsonl", format="jsonl", aggregate="majority", ties="keep")
    rows = jsonl(tmp_path / "m.jsonl")
    pairs = {(r["left_generation_id"], r["right_generation_id"]) for r in rows}
    assert len(pairs) == len(rows) and sum(r["votes"] for r in rows) == filled.votes
    disputed = [r for r in rows if r["votes"] == 2]
    assert len(disputed) == 4
    # prompt 0: r1 said alpha (left), r4 said alpha too (shown on the right): agreement 1.0
    assert disputed[0]["winner"] == "alpha" and disputed[0]["agreement"] == 1.0
    # prompt 3: r3 said tie, r4 said beta: no single majority, so a tie at 0.5
    assert disputed[1]["outcome"] == "tie" and disputed[1]["agreement"] == 0.5
    trl = filled.studio.export(tmp_path / "t.jsonl", format="trl", aggregate="majority", min_agreement=0.9,
                               prompt_set="math")
    kept = jsonl(tmp_path / "t.jsonl")
    assert trl.rows["train"] == len(kept) and all(r["agreement"] >= 0.9 and r["votes"] >= 1 for r in kept)


def test_kto_export_is_unpaired_with_boolean_labels(filled, tmp_path):
    filled.studio.export(tmp_path / "k.jsonl", format="kto")
    rows = jsonl(tmp_path / "k.jsonl")
    assert {tuple(sorted(r)) for r in rows} == {("completion", "label", "prompt")}
    assert {r["label"] for r in rows} == {True, False}
    both_bad = filled.studio.comparisons().outcome.eq("both_bad").sum()
    assert sum(not r["label"] for r in rows) == sum(r["label"] for r in rows) + 2 * both_bad


def test_filters_select_votes(filled, tmp_path):
    studio = filled.studio
    only_r4 = studio.export(tmp_path / "a.jsonl", format="jsonl", raters="r4", ties="keep")
    assert only_r4.rows["train"] == 4
    gamma = studio.export(tmp_path / "b.jsonl", format="jsonl", contenders=["gamma"], ties="keep")
    assert gamma.rows["train"] == 12 and all("gamma" in (r["left_contender"], r["right_contender"])
                                            for r in jsonl(tmp_path / "b.jsonl"))
    pictures = studio.export(tmp_path / "c.jsonl", format="jsonl", prompt_set="pictures")
    assert pictures.rows["train"] == filled.image_votes
    assert studio.export(tmp_path / "d.jsonl", format="jsonl", source="nowhere").rows["train"] == 0
    assert studio.export(tmp_path / "e.jsonl", format="jsonl", since="2999-01-01").rows["train"] == 0
    everything = studio.export(tmp_path / "f.jsonl", format="jsonl", until="2999-01-01T00:00:00+02:00",
                               ties="keep")
    assert everything.rows["train"] == filled.votes
    with pytest.raises(NotFoundError, match="no rater named 'nobody'"):
        studio.export(tmp_path / "g.jsonl", format="jsonl", raters=["nobody"])
    with pytest.raises(InputError, match="not a date"):
        studio.export(tmp_path / "h.jsonl", format="jsonl", since="last tuesday")


def test_split_never_puts_a_prompt_on_both_sides_and_is_deterministic(text_filled, tmp_path):
    studio = text_filled.studio
    summary = studio.export(tmp_path / "split", format="trl", split={"test": 0.3}, ties="keep")
    train, test = jsonl(summary.paths["train"]), jsonl(summary.paths["test"])
    assert train and test and summary.rows == {"train": len(train), "test": len(test)}
    assert not {r["prompt"] for r in train} & {r["prompt"] for r in test}
    again = studio.export(tmp_path / "split2", format="trl", split={"test": 0.3}, ties="keep")
    for name in ("train", "test"):
        assert again.paths[name].read_bytes() == summary.paths[name].read_bytes()
    card = (tmp_path / "split" / "README.md").read_text()
    assert "no prompt is in two splits" in card and "| test |" in card


def test_small_chunks_write_the_same_file_as_one_big_chunk(filled, tmp_path):
    for aggregate in ("raw", "majority"):
        one = filled.studio.export(tmp_path / f"{aggregate}-1.jsonl", format="jsonl", aggregate=aggregate,
                                   ties="keep", chunk_size=100_000)
        many = filled.studio.export(tmp_path / f"{aggregate}-2.jsonl", format="jsonl", aggregate=aggregate,
                                    ties="keep", chunk_size=3)
        assert one.paths["train"].read_bytes() == many.paths["train"].read_bytes()


def test_progress_callback_counts_votes(text_filled, tmp_path):
    filled = text_filled
    seen = []
    filled.studio.export(tmp_path / "p.jsonl", format="trl", progress=lambda done, total: seen.append((done, total)),
                         chunk_size=10)
    assert seen[-1] == (filled.votes, filled.votes) and len(seen) == -(-filled.votes // 10)


def test_existing_outputs_are_replaced_only_with_force(text_filled, tmp_path):
    studio = text_filled.studio
    target = tmp_path / "prefs.jsonl"
    target.write_text("precious\n")
    with pytest.raises(InputError, match="exists: choose another --out, or --force"):
        studio.export(target, format="trl")
    assert target.read_text() == "precious\n"
    studio.export(target, format="trl", force=True)
    assert target.read_text().startswith('{"prompt"')
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    with pytest.raises(InputError, match="did not write"):
        studio.export(home, format="hf", force=True)
    assert (home / "thesis.tex").read_text() == "years of work"
    studio.export(tmp_path / "ds", format="hf")
    with pytest.raises(InputError, match="not empty"):
        studio.export(tmp_path / "ds", format="hf")
    studio.export(tmp_path / "ds", format="hf", force=True)      # an earlier export: replaced


def test_names_that_do_not_match_the_format_are_refused(text_filled, tmp_path):
    filled = text_filled
    with pytest.raises(InputError, match="a name ending in .jsonl"):
        filled.studio.export(tmp_path / "prefs.parquet", format="trl")
    with pytest.raises(InputError, match="without the '.jsonl' ending"):
        filled.studio.export(tmp_path / "prefs.jsonl", format="trl", split={"test": 0.1})
    link = tmp_path / "link.jsonl"
    link.symlink_to(tmp_path / "elsewhere.jsonl")
    with pytest.raises(InputError, match="symbolic link"):
        filled.studio.export(link, format="trl")
    assert not (tmp_path / "elsewhere.jsonl").exists()


def test_the_studios_own_files_are_never_export_targets(filled):
    database = filled.data_dir / "studio.db"
    for target in (database, filled.data_dir / "media" / "x.jsonl", filled.data_dir):
        with pytest.raises(InputError, match="part of the studio's own data"):
            filled.studio.export(target, format="jsonl" if target.suffix == ".jsonl" else "hf", force=True)
    assert filled.studio.stats()["comparisons"] == filled.votes


def test_a_failed_export_leaves_nothing_behind(filled, tmp_path):
    missing = next((filled.data_dir / "media").rglob("*.png"))
    missing.unlink()
    with pytest.raises(NotFoundError, match=r"artifact 'media/.*' is missing from the artifact store"):
        filled.studio.export(tmp_path / "ds", format="hf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


@pytest.mark.postgres
def test_exports_read_the_same_from_postgresql(studio, tmp_path):
    filled = fill(studio, tmp_path / "data", images=False)
    raw = filled.studio.export(tmp_path / "v.jsonl", format="jsonl", ties="keep")
    majority = filled.studio.export(tmp_path / "m.jsonl", format="jsonl", aggregate="majority", ties="keep")
    rows = jsonl(raw.paths["train"])
    assert raw.rows["train"] == filled.votes and rows[0]["created_at"].endswith("+00:00")
    assert sum(r["votes"] for r in jsonl(majority.paths["train"])) == filled.votes


def test_sqlites_packed_read_gives_the_same_files_as_reading_row_by_row(sqlite_studio, tmp_path, monkeypatch):
    """On SQLite the votes are read as JSON arrays, one per column; every value must come back
    as the driver gives it: control characters, quotes, NUL, non-ASCII, NULLs, big integers."""
    from studio.contender_spec import ContenderSpec
    from studio.records import GenerationIn
    from studio.store import exports

    studio = sqlite_studio
    a = studio.add_contender(ContenderSpec(name="ålpha \"quoted\"", model="tiny-a"))
    b = studio.add_contender(ContenderSpec(name="beta\\slash", model="tiny-b", params={"system_prompt": "Sé\tbref"}))
    texts = ["tab\there \"q\" back\\slash", "line\nbreak\r\x01\x1f\x7f\x00nul", "naïve 日本語 😀 \u2028 \ufeff",
             "", "</script> {\"json\": [1, 2]}", " " * 3]
    ids = studio.add_prompts([f"Prompt {i}: {t}" for i, t in enumerate(texts)], prompt_set="tricky")
    for i, (prompt_id, text) in enumerate(zip(ids, texts, strict=True)):
        left, right = studio.add_generations([GenerationIn(prompt_id=prompt_id, contender_id=a.id, text=text),
                                              GenerationIn(prompt_id=prompt_id, contender_id=b.id, text=text[::-1])])
        studio.vote(left=left, right=right, outcome=["left", "right", "tie", "both_bad"][i % 4], rater=f"r{i % 2}ø",
                    decision_ms=2**40 + i if i % 2 else None, rationale=text if i % 3 else None)
    outputs = {}
    for packed in (True, False):
        monkeypatch.setattr(exports, "_has_json", lambda connection, packed=packed: packed)
        for fmt in ("jsonl", "parquet", "csv"):
            for size in (4, 10_000):
                path = tmp_path / f"{packed}-{size}.{fmt}"
                studio.export(path, format=fmt, ties="keep", chunk_size=size)
                outputs[packed, size, fmt] = pq.read_table(path) if fmt == "parquet" else path.read_bytes()
    for key, value in outputs.items():
        same = outputs[False, 10_000, key[2]]
        assert value.equals(same) if key[2] == "parquet" else value == same, key
    # split on newlines only: str.splitlines() would also split inside a text at U+2028
    rows = [json.loads(line) for line in (tmp_path / "True-10000.jsonl").read_bytes().split(b"\n") if line]
    assert [r["left_text"] for r in rows] == texts and rows[1]["decision_ms"] == 2**40 + 1
    assert rows[0]["left_contender"] == "ålpha \"quoted\"" and rows[0]["decision_ms"] is None
