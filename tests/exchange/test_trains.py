"""The proof that exports work as they are: TRL's RewardTrainer trains on the `trl` export,
and `datasets.load_from_disk` loads the `hf` export with its features (images as Image)."""

from __future__ import annotations

import pytest

from tests.exchange.conftest import fill


def tiny_reward_model(texts):
    """A 1-layer GPT-2 reward model and a word-level tokenizer trained here: no downloads."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2ForSequenceClassification, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=["[UNK]", "[PAD]", "[EOS]"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                                   eos_token="[EOS]")
    config = GPT2Config(vocab_size=len(fast), n_positions=128, n_embd=16, n_layer=1, n_head=2, num_labels=1,
                        pad_token_id=fast.pad_token_id, eos_token_id=fast.eos_token_id,
                        bos_token_id=fast.eos_token_id)
    return GPT2ForSequenceClassification(config), fast


@pytest.mark.slow
def test_reward_trainer_trains_on_the_trl_export(sqlite_studio, tmp_path):
    from datasets import load_dataset
    from trl import RewardConfig, RewardTrainer

    fill(sqlite_studio, tmp_path / "data", images=False)
    plain = sqlite_studio.export(tmp_path / "prefs.jsonl", format="trl")
    with_ties = sqlite_studio.export(tmp_path / "ties.jsonl", format="trl", ties="keep", aggregate="majority")
    losses = []
    for summary, columns in ((plain, {"prompt", "chosen", "rejected"}),
                             (with_ties, {"prompt", "chosen", "rejected", "votes", "agreement", "label", "margin"})):
        dataset = load_dataset("json", data_files=str(summary.paths["train"]), split="train",
                               cache_dir=str(tmp_path / "hf-cache"))
        assert set(dataset.column_names) == columns and len(dataset) == summary.rows["train"]
        model, tokenizer = tiny_reward_model(r["prompt"] + " " + r["chosen"] + " " + r["rejected"] for r in dataset)
        args = RewardConfig(output_dir=str(tmp_path / "rm"), max_steps=3, per_device_train_batch_size=4,
                            report_to=[], save_strategy="no", use_cpu=True, max_length=128, logging_steps=1,
                            disable_tqdm=True, seed=0)
        trainer = RewardTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)
        assert len(trainer.train_dataset) == len(dataset)       # every row tokenized, none dropped
        result = trainer.train()
        assert result.global_step == 3
        losses.append(result.training_loss)
    # an untrained model scores both sides alike: log 2 without a margin; TRL reads the
    # `margin` column (1.0 on decisive pairs), which raises the loss towards log(1 + e)
    assert losses[0] == pytest.approx(0.69, abs=0.15) and losses[1] > losses[0] + 0.2


def test_hf_export_loads_with_its_features_and_images(filled, tmp_path):
    from datasets import Image, load_from_disk

    summary = filled.studio.export(tmp_path / "ds", format="hf", split={"test": 0.25})
    loaded = load_from_disk(str(tmp_path / "ds"))
    assert set(loaded) == {"train", "test"}
    assert {name: len(part) for name, part in loaded.items()} == summary.rows
    features = loaded["train"].features
    assert isinstance(features["chosen_image"], Image) and isinstance(features["rejected_image"], Image)
    assert features["prompt"].dtype == "string" and features["comparison_id"].dtype == "int64"
    assert str(features["created_at"].dtype).startswith("timestamp")
    pictures = [row for part in loaded.values() for row in part if row["chosen_image"] is not None]
    assert len(pictures) == filled.image_votes
    assert pictures[0]["chosen_image"].size == (8, 8) and pictures[0]["chosen_image"].getpixel((0, 0))[0] == 200
    assert all(row["chosen"] is None and row["rejected"] is None for row in pictures)   # images, not paths
    texts = [row for part in loaded.values() for row in part if row["chosen_image"] is None]
    assert texts and all(row["rejected_image"] is None and row["chosen"] for row in texts)
    card = (tmp_path / "ds" / "README.md").read_text()
    outcomes = filled.studio.comparisons()["outcome"]
    ties, both_bad = int((outcomes == "tie").sum()), int((outcomes == "both_bad").sum())
    assert ties and both_bad
    for expected in ("license:", "| alpha |", "rater(s)", f"{ties} tie votes: left out",
                     f"{both_bad} 'both bad' votes: left out", "| test |"):
        assert expected in card


def test_hf_export_of_text_only_votes_has_no_image_columns(sqlite_studio, tmp_path):
    from datasets import load_from_disk

    fill(sqlite_studio, tmp_path / "data", images=False)
    sqlite_studio.export(tmp_path / "ds", format="hf", aggregate="majority")
    loaded = load_from_disk(str(tmp_path / "ds"))
    assert "chosen_image" not in loaded.features and {"votes", "agreement"} <= set(loaded.features)
    sqlite_studio.export(tmp_path / "none", format="hf", source="nowhere", split={"test": 0.5})
    empty = load_from_disk(str(tmp_path / "none"))          # an empty export still loads
    assert {name: len(part) for name, part in empty.items()} == {"train": 0, "test": 0}


@pytest.mark.slow
def test_trl_trained_on_a_tie_only_export_learns_no_preference(sqlite_studio, tmp_path):
    """Ties kept in a `trl` export must not train as wins. Written once each with the left
    side as `chosen` (the old export), TRL learns "left wins"; written both ways, the same
    training leaves both sides scoring alike."""
    import torch
    from datasets import load_dataset
    from trl import RewardConfig, RewardTrainer

    from studio.contender_spec import ContenderSpec
    from studio.records import GenerationIn

    studio = sqlite_studio
    sunny, grey = (studio.add_contender(ContenderSpec(name=n, backend="external")) for n in ("sunny", "grey"))
    for i in range(12):
        prompt_id = studio.add_prompts([f"Describe day {i}."])[0]
        left, right = studio.add_generations([
            GenerationIn(prompt_id=prompt_id, contender_id=sunny.id, text=f"warm bright sun {i}"),
            GenerationIn(prompt_id=prompt_id, contender_id=grey.id, text=f"cold grey rain {i}")])
        studio.vote(left=left, right=right, outcome="tie", rater="ana")
    summary = studio.export(tmp_path / "ties.jsonl", format="trl", ties="keep")
    ties = load_dataset("json", data_files=str(summary.paths["train"]), split="train",
                        cache_dir=str(tmp_path / "hf-cache"))
    assert len(ties) == 24 and set(ties["label"]) == {0.5} and set(ties["margin"]) == {0.0}
    sunny_first = list(range(0, 24, 2))                  # each tie: sunny chosen, then grey chosen
    assert all(ties[i]["chosen"].startswith("warm") and ties[i + 1]["chosen"].startswith("cold")
               for i in sunny_first)
    as_wins = ties.select(sunny_first)                  # what the export wrote before: left "wins"

    def sunny_gap_after_training(dataset) -> float:
        torch.manual_seed(0)
        model, tokenizer = tiny_reward_model(r["prompt"] + " " + r["chosen"] + " " + r["rejected"] for r in ties)
        args = RewardConfig(output_dir=str(tmp_path / "rm"), max_steps=8, learning_rate=5e-2,
                            per_device_train_batch_size=len(dataset), report_to=[], save_strategy="no",
                            use_cpu=True, max_length=64, disable_tqdm=True, seed=0)
        trainer = RewardTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)
        trainer.train()
        model.eval()
        rows = trainer.train_dataset.select(range(0, len(dataset), len(dataset) // 12))  # the sunny-chosen rows
        with torch.no_grad():
            gaps = [model(input_ids=torch.tensor([r["chosen_ids"]])).logits.item()
                    - model(input_ids=torch.tensor([r["rejected_ids"]])).logits.item() for r in rows]
        return sum(gaps) / len(gaps)

    learned_from_wins = sunny_gap_after_training(as_wins)
    learned_from_ties = sunny_gap_after_training(ties)
    assert learned_from_wins > 1.0                       # the old rows do teach a preference
    assert abs(learned_from_ties) < 0.1 * learned_from_wins
