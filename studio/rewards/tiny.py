"""Tiny random models built offline, for tests and quick experiments.

Each builder writes a normal Hugging Face model directory (config, safetensors weights and a
tokenizer trained here on a small built-in corpus), so the studio loads it through the same
public loading code as any hub model. Nothing is downloaded. Weights are random: the models
learn, but know nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

_WORDS = """the a an and or but if then so because of to in on at by for with from about
good bad great poor helpful harmful answer question reply response prompt write explain
list describe summarise story poem haiku code python function error fix test model data
cat dog bird tree river rain sun moon city road car train music song book film art colour
red green blue yellow black white big small long short fast slow happy sad calm loud
yes no maybe please thanks sorry hello world one two three four five many few every some
is are was were be been have has had do does did can could will would should may might
I you he she it we they me him her us them my your his its our their this that these those
""".split()


def _corpus() -> list[str]:
    """Deterministic sentences over the word list (enough for a small vocabulary)."""
    sentences = []
    n = len(_WORDS)
    for i in range(600):
        sentences.append(" ".join(_WORDS[(i * 7 + j * 13) % n] for j in range(5 + i % 11)) + ".")
    sentences.append(" ".join(_WORDS))
    return sentences


def _wordpiece_vocab() -> dict[str, int]:
    """A WordPiece vocabulary built, not trained: the specials, every character alone and as a
    continuation ("##e"), then each word of the list whole. (The `tokenizers` WordPiece
    trainer picks a different vocabulary on each run, so the same seed gave different models.)"""
    characters = sorted(set("abcdefghijklmnopqrstuvwxyz0123456789.,!?'-:;()\"") | set("".join(_WORDS).lower()))
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *characters, *(f"##{c}" for c in characters),
              *sorted({w.lower() for w in _WORDS} - set(characters))]
    return {token: i for i, token in enumerate(tokens)}


def _bpe(size: int = 400, *, suffix: str | None = None, specials: list[str]) -> tuple[dict[str, int], list]:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    suffixed = {"end_of_word_suffix": suffix} if suffix else {}
    tokenizer = Tokenizer(models.BPE(**suffixed))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(vocab_size=size, special_tokens=specials,
                                  initial_alphabet=list("abcdefghijklmnopqrstuvwxyz.,!?'0123456789"),
                                  **suffixed)
    tokenizer.train_from_iterator(_corpus(), trainer=trainer)
    dumped = json.loads(tokenizer.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in dumped["merges"]]
    return tokenizer.get_vocab(), merges


def build_tiny_text_model(path: str | Path, *, architecture: str = "encoder", seed: int = 0) -> Path:
    """A tiny random text model in `path`.

    `architecture`: "encoder" (a BERT-like `BertModel`, pooled by the reward model),
    "seqcls" (`BertForSequenceClassification` with one label) or "decoder" (a Llama-like
    causal LM whose tokenizer has no pad token, as many decoders ship).
    """
    import torch
    import transformers

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    if architecture in ("encoder", "seqcls"):
        vocab = _wordpiece_vocab()
        tokenizer = transformers.BertTokenizer(vocab=vocab, model_max_length=512)
        config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                                         num_attention_heads=2, intermediate_size=64,
                                         max_position_embeddings=512, pad_token_id=vocab["[PAD]"])
        if architecture == "encoder":
            model = transformers.BertModel(config)
        else:
            config.num_labels = 1
            model = transformers.BertForSequenceClassification(config)
    elif architecture == "decoder":
        from tokenizers import Tokenizer, models, pre_tokenizers

        vocab, merges = _bpe(specials=["<s>", "</s>", "<unk>"])
        backend = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>"))
        backend.pre_tokenizer = pre_tokenizers.Whitespace()
        tokenizer = transformers.PreTrainedTokenizerFast(
            tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
            model_max_length=512)
        config = transformers.LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64,
                                          num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                                          max_position_embeddings=512, bos_token_id=vocab["<s>"],
                                          eos_token_id=vocab["</s>"], pad_token_id=None)
        model = transformers.LlamaForCausalLM(config)
    else:
        raise ValueError(f"architecture must be encoder, seqcls or decoder, got {architecture!r}")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def build_tiny_clip(path: str | Path, *, seed: int = 0, image_size: int = 32) -> Path:
    """A tiny random `CLIPModel` with a locally trained CLIP tokenizer and image processor."""
    import torch
    import transformers

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    vocab, merges = _bpe(suffix="</w>", specials=["<|startoftext|>", "<|endoftext|>"])
    tokenizer = transformers.CLIPTokenizer(vocab=vocab, merges=merges,
                                           model_max_length=77)
    text = transformers.CLIPTextConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64,
                                       num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=77,
                                       bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"],
                                       pad_token_id=vocab["<|endoftext|>"], projection_dim=16)
    vision = transformers.CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                           num_attention_heads=2, image_size=image_size, patch_size=8,
                                           projection_dim=16)
    config = transformers.CLIPConfig(text_config=text.to_dict(), vision_config=vision.to_dict(),
                                     projection_dim=16)
    model = transformers.CLIPModel(config)
    processor = _clip_image_processor(image_size)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    processor.save_pretrained(path)
    return path


def _clip_image_processor(size: int):
    import transformers

    cls = getattr(transformers, "CLIPImageProcessorPil", None) or transformers.CLIPImageProcessor
    return cls(size={"shortest_edge": size}, crop_size={"height": size, "width": size})
