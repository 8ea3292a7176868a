"""The tiny models tests train on are the same model every time they are built with one seed:
a test that passes once passes again (the tokenizer's vocabulary was once drawn anew per build,
so the same seed gave another model and reward tests failed now and then)."""

from __future__ import annotations

import hashlib

import pytest

from studio.rewards.tiny import build_tiny_text_model


def digests(directory) -> dict[str, str]:
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(directory.iterdir()) if f.is_file()}


@pytest.mark.parametrize("architecture", ["encoder", "decoder"])
def test_one_seed_builds_byte_identical_models(tmp_path, architecture):
    first = digests(build_tiny_text_model(tmp_path / "a", architecture=architecture))
    second = digests(build_tiny_text_model(tmp_path / "b", architecture=architecture))
    assert {"model.safetensors", "tokenizer.json", "config.json"} <= set(first)
    assert first == second


def test_the_encoder_tokenizer_reads_any_lowercase_word(tmp_path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(build_tiny_text_model(tmp_path / "e", architecture="encoder"))
    pieces = tokenizer.tokenize("the cat zebra-crossing 42")
    assert pieces[:2] == ["the", "cat"] and "[UNK]" not in pieces
