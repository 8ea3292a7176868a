"""DPO on preference pairs through TRL's `DPOTrainer`, with a PEFT LoRA adapter on the
contender's causal LM. The studio writes no loss of its own: it builds TRL's dataset and
config from `DPOSettings`, reports TRL's steps (progress with an ETA, a cancel checked at
each step) and saves the adapter.

    outcome = train_dpo(model_dir, pairs, DPOSettings(), output_dir=staged / "adapter")
    outcome.metrics["pairs_per_s"]
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.errors import StudioError
from studio.policy.config import TARGET_MODULES, DPOSettings
from studio.policy.pairs import Pair


class DPOCancelled(StudioError):
    """The run was cancelled between two steps; nothing was saved."""


@dataclass(frozen=True)
class DPOProgress:
    phase: str                       # preparing | training
    step: int
    total_steps: int
    loss: float | None = None
    elapsed_s: float = 0.0
    eta_s: float | None = None


@dataclass
class DPOOutcome:
    adapter_dir: Path
    metrics: dict[str, Any] = field(default_factory=dict)


def train_dpo(model_dir: str | Path, pairs: Sequence[Pair], settings: DPOSettings, *, output_dir: str | Path,
              adapter_dir: str | Path | None = None, progress: Callable[[DPOProgress], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> DPOOutcome:
    """Train a LoRA adapter on `pairs` against the model in `model_dir` (the reference is the
    model itself with the adapter off) and save it to `output_dir`. Returns the adapter's
    directory and the run's metrics (loss, reward accuracy and margin from TRL's logs,
    pairs_per_s over the whole call, setup_s, train_s, steps). With `adapter_dir` (an improved
    version's adapter) training continues that adapter and the reference is that version:
    the new adapter still applies to the same base model."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig

    if not pairs:
        raise StudioError("no preference pairs to train on")
    started = time.monotonic()
    report = progress or (lambda update: None)
    report(DPOProgress("preparing", 0, 1))
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    peft_config = lora_config(model, settings)
    if adapter_dir is not None:
        from peft import PeftModel

        model, peft_config = PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=True), None
    lower = _lower_layer_cache(model, peft_config, settings)
    chat = bool(getattr(tokenizer, "chat_template", None))
    rows = [dpo_row(p, tokenizer, settings.max_prompt_length, chat=chat) for p in pairs]
    dataset = Dataset.from_list(rows)
    steps_per_epoch = math.ceil(len(rows) / (settings.batch_size * settings.gradient_accumulation))
    total_steps = settings.max_steps or steps_per_epoch * settings.epochs
    cuda = torch.cuda.is_available()
    with tempfile.TemporaryDirectory(prefix="studio-dpo-") as scratch:
        args = DPOConfig(
            output_dir=scratch, per_device_train_batch_size=settings.batch_size,
            gradient_accumulation_steps=settings.gradient_accumulation, num_train_epochs=settings.epochs,
            max_steps=settings.max_steps or -1, learning_rate=settings.learning_rate, beta=settings.beta,
            max_length=settings.max_length, precompute_ref_log_probs=settings.precompute_ref,
            precompute_ref_batch_size=settings.batch_size * 2, activation_checkpointing=settings.gradient_checkpointing,
            bf16=settings.bf16, use_cpu=not cuda, logging_steps=1, save_strategy="no", report_to="none",
            disable_tqdm=True, seed=settings.seed, data_seed=settings.seed, dataloader_num_workers=0)
        callback = _reporter(report, should_stop, total_steps)
        trainer = _trainer_class()(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                                   peft_config=peft_config, callbacks=[callback],
                                   completion_head=settings.completion_head)
        setup_s = time.monotonic() - started
        callback.started = time.monotonic()
        trainer.train()
        train_s = time.monotonic() - callback.started
        output_dir = Path(output_dir)
        trainer.model.save_pretrained(str(output_dir), selected_adapters=["default"])
    history = trainer.state.log_history
    metrics = _metrics(history, pairs=len(rows), steps=trainer.state.global_step, setup_s=setup_s, train_s=train_s,
                       wall_s=time.monotonic() - started, epochs=settings.epochs,
                       trained_pairs=min(trainer.state.global_step * settings.batch_size
                                         * settings.gradient_accumulation, len(rows) * settings.epochs))
    metrics["completion_head"] = trainer.completion_head_installed
    if lower is not None:
        metrics["lower_layer_cache"] = {"frozen_layers": lower.frozen, "hits": lower.hits, "misses": lower.misses,
                                        "stored_mb": round(lower.stored_bytes / 2**20, 1)}
        lower.remove()
    return DPOOutcome(adapter_dir=output_dir, metrics=metrics)


def _trainer_class():
    """TRL's DPOTrainer, with the studio's CPU head (`completion_head.py`) put in front of
    TRL's fused head before the first forward: the reference pass runs inside TRL's
    constructor, right after TRL patched the model."""
    from trl import DPOTrainer

    from studio.policy.completion_head import install_completion_head

    class StudioDPOTrainer(DPOTrainer):
        def __init__(self, *args, completion_head: bool = False, **kwargs):
            self.completion_head_wanted, self.completion_head_installed = completion_head, False
            super().__init__(*args, **kwargs)
            self._install_head()

        def _precompute_ref_logps(self, *args, **kwargs):
            self._install_head()
            return super()._precompute_ref_logps(*args, **kwargs)

        def _install_head(self) -> None:
            if self.completion_head_wanted and not self.completion_head_installed:
                model = self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model
                self.completion_head_installed = install_completion_head(model)

    return StudioDPOTrainer


def _lower_layer_cache(model, peft_config, settings: DPOSettings):
    """A `LowerLayerCache` over the layers below the first one LoRA adapts (from the new
    adapter's config, or the one loaded to continue), when there are any and the settings ask."""
    from studio.policy.lower_layers import LowerLayerCache

    if not settings.cache_lower_layers:
        return None
    config = peft_config if peft_config is not None else model.peft_config["default"]
    adapted = config.layers_to_transform
    if not adapted:
        return None
    first = min([adapted] if isinstance(adapted, int) else adapted)
    return LowerLayerCache(model, first) if first > 0 else None


def dpo_row(pair: Pair, tokenizer, max_prompt_tokens: int, *, chat: bool) -> dict[str, Any]:
    """One row of TRL's preference dataset, formatted as the contender's generator formats
    prompts (its chat template when it has one, else the plain text after a system line), the
    prompt cut from the left to `max_prompt_tokens` tokens."""
    prompt = _keep_end(tokenizer, pair.prompt, max_prompt_tokens)
    if chat:
        messages = ([{"role": "system", "content": pair.system_prompt}] if pair.system_prompt else []) + \
                   [{"role": "user", "content": prompt}]
        return {"prompt": messages, "chosen": [{"role": "assistant", "content": pair.chosen}],
                "rejected": [{"role": "assistant", "content": pair.rejected}]}
    text = f"{pair.system_prompt}\n\n{prompt}" if pair.system_prompt else prompt
    return {"prompt": text, "chosen": " " + pair.chosen, "rejected": " " + pair.rejected}


def lora_config(model, settings: DPOSettings):
    """LoRA on the attention and MLP projections the model has, in its top `top_layers` layers."""
    from peft import LoraConfig

    present = sorted({name.rsplit(".", 1)[-1] for name, _ in model.named_modules()} & set(TARGET_MODULES))
    if not present:
        raise StudioError(f"{type(model).__name__}: no attention or MLP projection LoRA knows how to adapt "
                          f"(looked for {', '.join(TARGET_MODULES)})")
    layers = getattr(model.config, "num_hidden_layers", None)
    top = None
    if settings.top_layers is not None and layers and settings.top_layers < layers:
        top = list(range(layers - settings.top_layers, layers))
    return LoraConfig(r=settings.lora_rank, lora_alpha=settings.lora_alpha, lora_dropout=settings.lora_dropout,
                      target_modules=present, layers_to_transform=top, task_type="CAUSAL_LM",
                      fan_in_fan_out=getattr(model.config, "model_type", "") == "gpt2")


def _keep_end(tokenizer, text: str, limit: int) -> str:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if len(ids) <= limit:
        return text
    return tokenizer.decode(ids[-limit:])


def _metrics(history: list[dict], *, pairs: int, steps: int, setup_s: float, train_s: float, wall_s: float,
             epochs: int, trained_pairs: int) -> dict[str, Any]:
    steps_logged = [h for h in history if "loss" in h]
    last = steps_logged[-1] if steps_logged else {}
    first = steps_logged[0] if steps_logged else {}

    def pick(entry: dict, *names: str):
        for name in names:
            if name in entry:
                return float(entry[name])
        return None

    return {"pairs": pairs, "epochs": epochs, "steps": steps, "trained_pairs": trained_pairs,
            "first_loss": pick(first, "loss"), "loss": pick(last, "loss"),
            "reward_accuracy": pick(last, "rewards/accuracies"), "reward_margin": pick(last, "rewards/margins"),
            "setup_s": round(setup_s, 3), "train_s": round(train_s, 3), "wall_s": round(wall_s, 3),
            "pairs_per_s": round(trained_pairs / wall_s, 3) if wall_s > 0 else None}


def _reporter(report, should_stop, total_steps: int):
    """A transformers callback: each optimiser step reports progress with an ETA and checks
    for a cancel (raising `DPOCancelled` out of `trainer.train()`)."""
    from transformers import TrainerCallback

    class Reporter(TrainerCallback):
        def __init__(self):
            self.started = time.monotonic()
            self.loss: float | None = None

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                self.loss = float(logs["loss"])

        def on_step_end(self, args, state, control, **kwargs):
            elapsed = time.monotonic() - self.started
            total = state.max_steps or total_steps
            step = state.global_step
            eta = elapsed / step * (total - step) if step else None
            report(DPOProgress("training", step, total, loss=self.loss, elapsed_s=elapsed, eta_s=eta))
            if should_stop and should_stop():
                raise DPOCancelled("cancelled while training; no version was registered")

    return Reporter()
