"""Tiny random models, built offline in seconds, for tests and trying the studio out.

Each builder writes a directory with `save_pretrained`, exactly like a user's model, and the
studio loads it back through the same public code (`AutoModelForCausalLM`,
`DiffusionPipeline`). The weights are random, so the outputs are gibberish, but they are real
models: seeds, batching, padding, chat templates and images all go through the real paths.

    from studio.generation.tiny import tiny_text_contenders
    studio.add_contender(tiny_text_contenders(tmp_path)[0])
"""

from __future__ import annotations

from pathlib import Path

from studio.contender_spec import ContenderSpec

# A little English to train the tokenizers on (byte-level, so any text still encodes).
_CORPUS = """
The quick brown fox jumps over the lazy dog. A rater compares two answers and picks the better one.
Write a haiku about rain on a tin roof. Explain recursion to a child who likes stairs.
What is the capital of France? Paris is the capital of France, and Berlin is the capital of Germany.
Summarise the story in one sentence. List three fruits that are red. Apples, cherries and strawberries.
The studio stores every vote, trains a reward model and exports a preference dataset.
A small cat sat on the warm mat by the door while the kettle sang in the kitchen.
Please answer briefly and politely. Thank you for your help with this question.
The river runs to the sea, and the sea returns to the sky as rain over the green hills.
""".strip().splitlines()

EOS = "<|endoftext|>"
_CHAT_TOKENS = ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]
_CHAT_TEMPLATE = ("{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}<|end|>"
                  "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}")


def train_tokenizer(vocab_size: int = 400, *, chat: bool = False):
    """A byte-level BPE tokenizer trained on a few English lines (a transformers tokenizer)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    specials = [EOS, *(_CHAT_TOKENS if chat else [])]
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    backend.train_from_iterator(_CORPUS, trainer)
    eos = "<|end|>" if chat else EOS
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token=eos, pad_token=EOS,
                                        bos_token=EOS, unk_token=EOS, model_max_length=256)
    if chat:
        tokenizer.chat_template = _CHAT_TEMPLATE
    return tokenizer


def build_tiny_text_model(directory: str | Path, *, arch: str = "gpt2", chat: bool = False,
                          seed: int = 0) -> Path:
    """A random causal LM (`arch` "gpt2" or "llama") and its tokenizer, saved to `directory`.
    `chat=True` gives the tokenizer a chat template, so prompts take the chat path."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    directory = Path(directory)
    tokenizer = train_tokenizer(chat=chat)
    ids = {"vocab_size": len(tokenizer), "bos_token_id": tokenizer.bos_token_id,
           "eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.pad_token_id}
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        if arch == "gpt2":
            model = GPT2LMHeadModel(GPT2Config(n_positions=256, n_embd=32, n_layer=2, n_head=2, **ids))
        elif arch == "llama":
            model = LlamaForCausalLM(LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                                 num_attention_heads=4, num_key_value_heads=2,
                                                 max_position_embeddings=256, **ids))
        else:
            raise ValueError(f"arch must be 'gpt2' or 'llama', got {arch!r}")
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def clip_byte_tokenizer(max_length: int = 32):
    """A CLIPTokenizer whose vocabulary is the 256 byte symbols (alone and word-final): any
    text encodes, no merges are needed, and nothing is downloaded."""
    from tokenizers import pre_tokenizers
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, EOS: 1}
    for symbol in sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocab.setdefault(symbol, len(vocab))
        vocab.setdefault(symbol + "</w>", len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=max_length)


def build_tiny_image_pipeline(directory: str | Path, *, seed: int = 0) -> Path:
    """A random Stable Diffusion pipeline making 32x32 images, saved to `directory`."""
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    directory = Path(directory)
    tokenizer = clip_byte_tokenizer()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        unet = UNet2DConditionModel(
            sample_size=16, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(8, 16),
            down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
            cross_attention_dim=16, norm_num_groups=4, attention_head_dim=2)
        vae = AutoencoderKL(
            in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 16), layers_per_block=1,
            down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
            up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), norm_num_groups=4, sample_size=32)
        text_encoder = CLIPTextModel(CLIPTextConfig(
            vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
            num_attention_heads=2, max_position_embeddings=tokenizer.model_max_length, projection_dim=16,
            bos_token_id=0, eos_token_id=1, pad_token_id=1))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    pipeline = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                       scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                       requires_safety_checker=False)
    pipeline.save_pretrained(directory)
    return directory


def tiny_text_contenders(directory: str | Path, *, max_new_tokens: int = 12) -> tuple[ContenderSpec, ContenderSpec]:
    """Two text contenders on one tiny GPT-2 (built in `directory/tiny-gpt2` if missing),
    differing in temperature like the demo pair: fast stand-ins for real models in tests."""
    path = Path(directory) / "tiny-gpt2"
    if not (path / "config.json").exists():
        build_tiny_text_model(path)
    common = {"max_new_tokens": max_new_tokens}
    return (ContenderSpec(name="tiny-cool", model=str(path), params={**common, "temperature": 0.5}),
            ContenderSpec(name="tiny-warm", model=str(path), params={**common, "temperature": 1.2}))


def tiny_image_contender(directory: str | Path, *, steps: int = 2) -> ContenderSpec:
    """An image contender on a tiny Stable Diffusion pipeline (built if missing)."""
    path = Path(directory) / "tiny-sd"
    if not (path / "model_index.json").exists():
        build_tiny_image_pipeline(path)
    return ContenderSpec(name="tiny-sd", kind="image", backend="diffusers", model=str(path),
                         params={"steps": steps, "guidance": 3.0})
