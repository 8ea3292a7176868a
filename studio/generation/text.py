"""Text contenders: any causal language model transformers loads (hub id, local path or a
built-in name), its chat template applied when it has one, sampled in left-padded batches.

Seeds are per output, not per batch: each row of a batch draws its tokens from its own
`torch.Generator`, so the seed recorded with a generation is all it takes to sample it again,
and adding or removing other prompts from a batch does not change which tokens a row draws.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.contender_spec import ContenderSpec
from studio.errors import ModelLoadError
from studio.generation.base import (
    Device,
    LoadedModels,
    OnProgress,
    Output,
    Request,
    ShouldStop,
    Stopped,
    choose_device,
    looks_like_path,
)
from studio.generation.builtin import (
    BUILTIN_TEXT_MODELS,
    BuiltinUnavailable,
    builtin_dir,
    is_builtin,
)
from studio.generation.sampling import SeededSampler
from studio.records import TRUNCATED

# New tokens per decoding round: after each, rows that reached their end of text leave the
# batch. Shorter rounds drop finished rows sooner; each round costs one generate() call.
SEGMENT = 24

DEFAULTS: dict[str, Any] = {"max_new_tokens": 128, "temperature": 0.7, "top_p": 0.95, "top_k": 0,
                            "do_sample": True}


def effective_params(params: dict[str, Any]) -> dict[str, Any]:
    """The contender's settings with the studio's defaults filled in (what gets recorded)."""
    merged = {**DEFAULTS, **params}
    if not merged["do_sample"] or merged["temperature"] == 0:
        merged.update(do_sample=False, temperature=0)
    return merged


@dataclass
class LoadedText:
    """A model and its tokenizer, shared by every contender that names the same model."""

    model: Any
    tokenizer: Any
    device: Device
    source: str
    # Fast tokenizers are not safe to re-configure (padding, truncation) from two threads.
    encode_lock: threading.Lock


def load_text(spec: ContenderSpec, cache_dir: Path, models: LoadedModels | None = None, *,
              adapter_dir: Path | None = None) -> TextGenerator:
    """A generator for a text contender; raises `ModelLoadError` naming the contender. With
    `adapter_dir` (a PEFT LoRA adapter saved with save_pretrained, e.g. an improved version's)
    the base model gets the adapter merged in: a copy of its own, never the shared base."""
    key = ("transformers", spec.model) if adapter_dir is None else ("transformers+adapter", f"{spec.model}|{adapter_dir}")

    def load() -> LoadedText:
        return _load(spec, cache_dir, adapter_dir)

    loaded = models.get(key, load) if models else load()
    return TextGenerator(spec, loaded)


def base_model_dir(spec: ContenderSpec, cache_dir: Path) -> str:
    """Where a text contender's model loads from (a built-in converted once into the cache)."""
    return _resolve(spec, cache_dir)


def _load(spec: ContenderSpec, cache_dir: Path, adapter_dir: Path | None = None) -> LoadedText:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = _resolve(spec, cache_dir)
    device = choose_device()
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=device.dtype)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(_load_message(spec, exc)) from exc
    if adapter_dir is not None:
        model = _with_adapter(spec, model, Path(adapter_dir))
    model.to(device.name).eval()
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return LoadedText(model=model, tokenizer=tokenizer, device=device, source=source,
                      encode_lock=threading.Lock())


def _with_adapter(spec: ContenderSpec, model, adapter_dir: Path):
    """The model with a LoRA adapter merged into its weights (generation runs at the base
    model's speed)."""
    from peft import PeftModel

    if not (adapter_dir / "adapter_config.json").is_file():
        raise ModelLoadError(f"contender {spec.name!r}: its adapter {adapter_dir} is missing or incomplete; "
                             "disable this version (`studio contenders disable`) or restore the data dir")
    try:
        return PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelLoadError(f"contender {spec.name!r}: cannot apply the adapter {adapter_dir} to {spec.model!r} "
                             f"({str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__})"
                             ) from exc


def _resolve(spec: ContenderSpec, cache_dir: Path) -> str:
    label = f"contender {spec.name!r}"
    if is_builtin(spec.model):
        try:
            return str(builtin_dir(spec.model, cache_dir))
        except BuiltinUnavailable as exc:
            raise ModelLoadError(f"{label}: built-in model {spec.model!r} is unavailable: {exc}") from exc
    if looks_like_path(spec.model):
        path = Path(spec.model).expanduser()
        if not path.is_dir():
            raise ModelLoadError(f"{label}: model directory {spec.model} does not exist; fix 'model' in "
                                 f"studio.toml (a local directory, a hub id, or {', '.join(BUILTIN_TEXT_MODELS)})")
        if (path / "model_index.json").exists():
            raise ModelLoadError(f"{label}: {spec.model} is a diffusers pipeline, not a text model; "
                                 "declare it with kind = \"image\" and backend = \"diffusers\"")
        return str(path)
    return spec.model


def _load_message(spec: ContenderSpec, exc: Exception) -> str:
    reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return (f"contender {spec.name!r}: cannot load {spec.model!r} as a causal language model ({reason}); "
            "give a local directory saved with save_pretrained, a hub id (downloaded once with internet), "
            f"or a built-in name ({', '.join(BUILTIN_TEXT_MODELS)})")


class TextGenerator:
    kind = "text"

    def __init__(self, spec: ContenderSpec, loaded: LoadedText):
        self.spec = spec
        self.loaded = loaded
        self.params = effective_params(spec.params)

    @property
    def tokenizer(self):
        return self.loaded.tokenizer

    def format_prompt(self, request: Request) -> str:
        """The model's chat template around the prompt when it has one, else the plain text.
        The contender's system prompt wins over the prompt's own."""
        system = self.params.get("system_prompt") or request.system_prompt
        if getattr(self.tokenizer, "chat_template", None):
            messages = ([{"role": "system", "content": system}] if system else []) + \
                       [{"role": "user", "content": request.prompt}]
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return f"{system}\n\n{request.prompt}" if system else request.prompt

    def generate(self, requests: Sequence[Request], *, batch_size: int = 8,
                 should_stop: ShouldStop | None = None, on_progress: OnProgress | None = None) -> list[Output]:
        """One output per request, in order. Requests are grouped by prompt length so that
        each batch pads little; `should_stop` ends the work between (and within) batches."""
        texts = [self.format_prompt(r) for r in requests]
        lengths = [len(t) for t in texts]
        order = sorted(range(len(requests)), key=lambda i: lengths[i])
        outputs: list[Output | None] = [None] * len(requests)
        done = 0
        for start in range(0, len(order), batch_size):
            if should_stop and should_stop():
                raise Stopped()
            chunk = order[start:start + batch_size]
            made = self._generate_batch([requests[i] for i in chunk], [texts[i] for i in chunk],
                                        should_stop=should_stop)
            for index, output in zip(chunk, made, strict=True):
                outputs[index] = output
            done += len(chunk)
            if on_progress:
                on_progress(done, len(requests))
        return [o for o in outputs if o is not None]

    def stream(self, request: Request, streamer: Any, *, should_stop: ShouldStop | None = None) -> Output:
        """Generate one output, feeding tokens to a transformers streamer as they come."""
        return self._generate_batch([request], [self.format_prompt(request)], streamer=streamer,
                                    should_stop=should_stop)[0]

    def _generate_batch(self, requests: list[Request], texts: list[str], *, streamer: Any = None,
                        should_stop: ShouldStop | None = None) -> list[Output]:
        """Decode a batch in rounds of SEGMENT new tokens; after each round the rows that
        reached their end of text leave the batch (their rows of the KV cache too), so a
        batch costs what its rows need, not its longest row times its size. Each row keeps
        its own sampler, so its tokens are the same either way. One round when streaming
        (the streamer ends with each generate call)."""
        import torch

        params = self.params
        with self.loaded.encode_lock:
            inputs = self.tokenizer(texts, return_tensors="pt", padding=True,
                                    add_special_tokens=not getattr(self.tokenizer, "chat_template", None),
                                    **self._truncation())
        ids = inputs["input_ids"].to(self.loaded.device.name)
        mask = inputs["attention_mask"].to(self.loaded.device.name)
        sampler = SeededSampler([r.seed for r in requests], params, self.loaded.device.name) \
            if params["do_sample"] else None
        eos_ids = self._eos_ids()
        tokens: list[list[int]] = [[] for _ in requests]
        ended = [False] * len(requests)
        finished_ms = [0.0] * len(requests)
        alive = list(range(len(requests)))
        budget = params["max_new_tokens"]
        segment = budget if streamer is not None else SEGMENT
        cache = None
        started = time.perf_counter()
        while alive and budget > 0:
            step = min(segment, budget)
            sequences, cache = self._decode(ids, mask, cache, step, sampler, streamer, should_stop)
            if should_stop and should_stop():
                raise Stopped()
            new = sequences[:, ids.shape[1]:]
            budget -= new.shape[1]
            now_ms = (time.perf_counter() - started) * 1000
            for position, row in enumerate(alive):
                count, row_ended = _generated_length(new[position], eos_ids)
                tokens[row].extend(new[position, :count].tolist())
                ended[row] = row_ended
                finished_ms[row] = now_ms
            keep = [p for p, row in enumerate(alive) if not ended[row]]
            if not keep or budget <= 0:
                break
            mask = torch.cat([mask, torch.ones_like(new)], dim=1)
            if len(keep) < len(alive):
                index = torch.tensor(keep, device=ids.device)
                cache.batch_select_indices(index)
                sequences, mask = sequences[index], mask[index]
                sampler = sampler.rows(keep) if sampler is not None else None
            ids = sequences
            alive = [alive[p] for p in keep]
        recorded = {**params, "batch_size": len(requests)}
        outputs = []
        for row, request in enumerate(requests):
            text = storable(self.tokenizer.decode(tokens[row], skip_special_tokens=True).strip())
            # Cut at max_new_tokens before its end of text: recorded, so the arena can say so.
            row_params = recorded if ended[row] else {**recorded, TRUNCATED: True}
            outputs.append(Output(request=request, text=text, params=row_params, latency_ms=finished_ms[row],
                                  new_tokens=len(tokens[row])))
        return outputs

    def _decode(self, ids, mask, cache, max_new_tokens: int, sampler, streamer, should_stop):
        """One round of generate(): (the sequences, prompt included, and the KV cache to go on from)."""
        import torch
        from transformers import LogitsProcessorList, StoppingCriteriaList

        processors = LogitsProcessorList([sampler] if sampler is not None else [])
        criteria = StoppingCriteriaList([_StopWhen(should_stop)] if should_stop else [])
        with torch.inference_mode():
            out = self.loaded.model.generate(input_ids=ids, attention_mask=mask, cache=cache,
                                             generation_config=self._generation_config(max_new_tokens),
                                             logits_processor=processors, stopping_criteria=criteria,
                                             streamer=streamer)
        return out.sequences, out.cache

    def _eos_ids(self) -> set[int]:
        eos = self.loaded.model.generation_config.eos_token_id
        if eos is None:
            eos = self.tokenizer.eos_token_id
        return set(eos) if isinstance(eos, list) else {eos}

    def _generation_config(self, max_new_tokens: int):
        from transformers import GenerationConfig

        params = self.params
        # Sampling happens in SeededSampler (one generator per row), so generate() itself
        # always picks the single token the sampler left possible. The sampling fields are
        # set to their neutral values so that a model's own generation_config.json (e.g.
        # temperature 0.6) neither applies twice nor goes unrecorded.
        return GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False, num_beams=1,
                                temperature=1.0, top_k=50, top_p=1.0, return_dict_in_generate=True,
                                repetition_penalty=float(params.get("repetition_penalty", 1.0)),
                                eos_token_id=sorted(self._eos_ids()), pad_token_id=self.tokenizer.pad_token_id)

    def _truncation(self) -> dict[str, Any]:
        """Keep the end of over-long prompts so prompt + answer fit the model's context."""
        config = self.loaded.model.config
        limit = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
        if not limit:
            return {}
        room = limit - self.params["max_new_tokens"]
        if room < 8:
            raise ModelLoadError(f"contender {self.spec.name!r}: max_new_tokens={self.params['max_new_tokens']} "
                                 f"leaves no room for a prompt in a {limit}-token context; lower it")
        self.tokenizer.truncation_side = "left"
        return {"truncation": True, "max_length": room}


def _generated_length(row, eos_ids: set[int]) -> tuple[int, bool]:
    """Tokens up to and including the first end-of-sequence token (padding excluded), and
    whether the row reached one (False: cut at max_new_tokens)."""
    for position, token in enumerate(row.tolist()):
        if token in eos_ids:
            return position + 1, True
    return len(row), False


class _StopWhen:
    """A stopping criterion that ends every row once the caller asks to stop."""

    def __init__(self, should_stop: ShouldStop):
        self.should_stop = should_stop

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        return torch.full((input_ids.shape[0],), bool(self.should_stop()), dtype=torch.bool,
                          device=input_ids.device)


def storable(text: str) -> str:
    """A model's text as it can be stored: a NUL (which small or random models do sample, and
    neither PostgreSQL nor every tool downstream accepts) becomes U+FFFD, the replacement mark."""
    return text.replace("\x00", "\ufffd")
