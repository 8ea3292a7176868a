"""The settings a DPO run uses, in one frozen dataclass: where they differ from TRL's
`DPOConfig` defaults it is because they measured faster here (bench/improve.py compares both
on the same pairs).

- Reference log-probs computed once before training (`precompute_ref`): with a LoRA adapter
  the reference is the base model with the adapter off, and TRL would otherwise run it on
  every step, a third more forward passes.
- Short sequences (`max_length` 256, prompts cut to `max_prompt_length` 128 tokens from the
  left): arena answers are short, and TRL's 1024 only pads.
- LoRA rank 8 on the attention and MLP projections of the top `top_layers` layers only: the
  lower layers need no gradients, so backward stops early.
- A learning rate of 5e-4 for the adapter: at the earlier 2e-4 (TRL's own default is 1e-6)
  two epochs over 106 arena pairs moved SmolLM2 so little (loss 0.693 -> 0.645) that the new
  version won 53.5% of 100 unseen prompts; 5e-4 won 65.0% with answers the parent still reads as language (mean
  log-prob per token under the parent -2.41 against its own -2.21), while 1e-3 for three
  epochs won 73.5% with gibberish (-3.11). bench/improve.py, bench/RESULTS.md.
- No gradient checkpointing (TRL turns it on to save memory; on a 135M model it only costs
  recomputation); bf16 autocast (on CPU too, where it measured faster on this machine).
- On a CPU, the completion tokens' log-probs from a plain projection of those positions only
  (`completion_head`, studio/policy/completion_head.py): TRL's fused head scores every
  position there, prompt and padding too, and was 63% of a step on SmolLM2.
- The frozen lower layers run once per sequence (`cache_lower_layers`,
  studio/policy/lower_layers.py): their output, the same on the reference pass and on every
  step, is kept from the first pass, so a step runs only the `top_layers` LoRA adapts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

# Projections LoRA adapts, by architecture (Llama/SmolLM2, GPT-2): whichever the model has.
TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
                  "c_attn", "c_proj", "c_fc")


@dataclass(frozen=True)
class DPOSettings:
    beta: float = 0.1
    learning_rate: float = 5e-4
    epochs: int = 2
    batch_size: int = 8
    gradient_accumulation: int = 1
    max_length: int = 256
    max_prompt_length: int = 128
    lora_rank: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.0
    top_layers: int | None = 10          # None: every layer
    precompute_ref: bool = True
    bf16: bool = True
    gradient_checkpointing: bool = False
    completion_head: bool = True
    cache_lower_layers: bool = True
    max_steps: int | None = None         # stop after this many optimiser steps (tests, benchmarks)
    seed: int = 0

    def __post_init__(self):
        for name in ("epochs", "batch_size", "gradient_accumulation", "max_length", "max_prompt_length",
                     "lora_rank"):
            if getattr(self, name) < 1:
                raise ValueError(f"DPO setting {name} must be at least 1, got {getattr(self, name)}")
        if self.max_prompt_length >= self.max_length:
            raise ValueError("DPO setting max_prompt_length must be shorter than max_length")

    @classmethod
    def trl_defaults(cls, **changes: Any) -> DPOSettings:
        """What `DPOTrainer` does when told nothing but to use LoRA (rank 8, every layer):
        the reference for the benchmark."""
        values = dict(precompute_ref=False, max_length=1024, max_prompt_length=1023, top_layers=None,
                      gradient_checkpointing=True, learning_rate=1e-6, batch_size=8, completion_head=False,
                      cache_lower_layers=False)
        return cls(**{**values, **changes})

    def replace(self, **changes: Any) -> DPOSettings:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> DPOSettings:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in (values or {}).items() if k in known})
