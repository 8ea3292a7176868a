"""Text generation speed: the studio's batched generation against a transformers pipeline
called once per prompt, with the built-in SmolLM2-135M-Instruct.

    python bench/generation.py            # 32 prompts, 64 new tokens at most
    python bench/generation.py --quick    # 8 prompts, 24 new tokens (a smoke run)
    python bench/generation.py --max-new-tokens 96   # the demo's contenders' cap

Both sides use the same model object (loaded once from the studio's converted copy), the same
prompts through the same chat template, the same sampling settings (temperature 0.7, top-p
0.95) and the same max_new_tokens; each is warmed up once before timing.

- studio: `TextGenerator.generate`, prompts grouped by length into left-padded batches of 8,
  every row sampled with its own seed.
- reference: `pipeline("text-generation")` called once per prompt.

Prompt i is sampled with seed i on both sides (the studio's per-row generator, and
`torch.manual_seed(i)` before the pipeline call), so both usually draw the very same tokens
and do the same work.

Printed side by side: wall time and tokens/s, and CPU seconds (all threads) and tokens per
CPU second, which a busy shared machine disturbs less than wall time. Only generated tokens
count: each output's tokens up to and including its end-of-sequence token; padding and
prompt tokens do not. The studio decodes in rounds and rows that ended leave the batch; the
middle row runs each batch to its longest answer in one call (the studio before that change),
with the same seeds, so both draw the same tokens.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.config import load_config  # noqa: E402
from studio.contender_spec import ContenderSpec  # noqa: E402
from studio.generation.base import Request  # noqa: E402
from studio.generation.text import _generated_length, load_text  # noqa: E402

PROMPTS = [
    "Write a haiku about rain on a tin roof.", "Explain recursion to a ten-year-old.",
    "What is the capital of Australia?", "Give three tips for a good night's sleep.",
    "Summarise the plot of Romeo and Juliet in two sentences.", "What does a reward model do?",
    "Name three rivers in Africa.", "How do I boil an egg?", "Write a short apology for a late reply.",
    "Why is the sky blue?", "Translate 'good morning' into French and Spanish.",
    "What is the difference between weather and climate?", "Suggest a name for a grey cat.",
    "List the planets of the solar system.", "What is photosynthesis?", "Write a limerick about a robot.",
    "How many legs does a spider have?", "Give an example of a prime number greater than 50.",
    "What is a good way to learn a new language?", "Describe the smell of fresh bread.",
    "What causes tides?", "Write one sentence about autumn.", "Explain what a database index is.",
    "What is the boiling point of water at sea level?", "Recommend a book for a long train journey.",
    "How do bees make honey?", "What is 17 times 3?", "Write a two-line poem about the moon.",
    "Why do we have leap years?", "Name a famous painting and its painter.",
    "What is the tallest mountain on Earth?", "Give a tip for writing clear emails.",
]
SAMPLING = {"temperature": 0.7, "top_p": 0.95}


def studio_side(generator, prompts: list[str], batch_size: int, *, rounds: bool = True):
    """(tokens, wall s, CPU s, texts). `rounds=False`: each batch decodes to its longest row
    in one generate() call (what the studio did before finished rows left the batch)."""
    import studio.generation.text as text

    requests = [Request(prompt=p, seed=i) for i, p in enumerate(prompts)]
    segment = text.SEGMENT
    text.SEGMENT = segment if rounds else 1 << 30
    try:
        started, cpu = time.perf_counter(), time.process_time()
        outputs = generator.generate(requests, batch_size=batch_size)
        wall, used = time.perf_counter() - started, time.process_time() - cpu
    finally:
        text.SEGMENT = segment
    return sum(o.new_tokens for o in outputs), wall, used, [o.text for o in outputs]


def pipeline_side(generator, prompts: list[str], max_new_tokens: int) -> tuple[int, float, float]:
    import torch
    from transformers import pipeline

    loaded = generator.loaded
    pipe = pipeline("text-generation", model=loaded.model, tokenizer=loaded.tokenizer, device=loaded.device.name)
    eos = generator._eos_ids()
    tokens = 0
    started, cpu = time.perf_counter(), time.process_time()
    for index, prompt in enumerate(prompts):
        torch.manual_seed(index)
        messages = [{"role": "user", "content": prompt}]
        prompt_length = len(loaded.tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                                                 tokenize=True, return_dict=True)["input_ids"])
        result = pipe(messages, max_new_tokens=max_new_tokens, do_sample=True, return_tensors=True, **SAMPLING)
        sequence = torch.tensor(result[0]["generated_token_ids"][prompt_length:])
        tokens += _generated_length(sequence, eos)[0]
    return tokens, time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 prompts, 24 new tokens")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, help="default: 64 (24 with --quick); the demo uses 96")
    args = parser.parse_args()
    prompts, max_new_tokens = (PROMPTS[:8], 24) if args.quick else (PROMPTS, 64)
    max_new_tokens = args.max_new_tokens or max_new_tokens

    cache_dir = load_config(data_dir=tempfile.mkdtemp()).cache_dir
    started = time.perf_counter()
    spec = ContenderSpec(name="bench", model="smollm2-135m", params={"max_new_tokens": max_new_tokens, **SAMPLING})
    generator = load_text(spec, cache_dir)
    print(f"SmolLM2-135M-Instruct loaded in {time.perf_counter() - started:.1f} s "
          f"({generator.loaded.device.name}, {generator.loaded.model.dtype}); "
          f"{len(prompts)} prompts, max_new_tokens {max_new_tokens}")

    studio_side(generator, prompts[:2], args.batch_size)                # warm-up
    pipeline_side(generator, prompts[:1], 4)
    *studio_run, texts = studio_side(generator, prompts, args.batch_size)
    *longest_run, longest_texts = studio_side(generator, prompts, args.batch_size, rounds=False)
    pipeline_run = pipeline_side(generator, prompts, max_new_tokens)

    rows = [(f"studio, batch {args.batch_size}, rows leave at their end", *studio_run),
            (f"studio, batch {args.batch_size}, batch runs to its longest", *longest_run),
            ("transformers pipeline, one prompt at a time", *pipeline_run)]
    print(f"{'method':<46}{'tokens':>8}{'wall s':>9}{'tokens/s':>10}{'CPU s':>9}{'tokens/CPU s':>14}")
    for name, tokens, wall, cpu in rows:
        print(f"{name:<46}{tokens:>8}{wall:>9.2f}{tokens / wall:>10.1f}{cpu:>9.2f}{tokens / cpu:>14.1f}")
    (studio_tokens, studio_wall, studio_cpu), (pipe_tokens, pipe_wall, pipe_cpu) = studio_run, pipeline_run
    same = sum(a == b for a, b in zip(texts, longest_texts, strict=True))
    print(f"rows leaving at their end: {longest_run[1] / studio_wall:.2f}x the wall speed of running each batch "
          f"to its longest row; {same} of {len(texts)} outputs identical between the two")
    print(f"speed-up in tokens/s: {(studio_tokens / studio_wall) / (pipe_tokens / pipe_wall):.2f}x (goal: at least 3x); "
          f"in tokens per CPU second: {(studio_tokens / studio_cpu) / (pipe_tokens / pipe_cpu):.2f}x")

if __name__ == "__main__":
    main()
