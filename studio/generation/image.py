"""Image contenders: any diffusers text-to-image pipeline (hub id or local path).

Every image has its own seed (one `torch.Generator` per image), several images of one prompt
go through one pipeline call, and images come back PNG-encoded for `media.py` to store
content-addressed.
"""

from __future__ import annotations

import inspect
import io
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

DEFAULTS: dict[str, Any] = {"steps": 20, "guidance": 7.5}

# Contender parameter -> the pipeline's argument.
_ARGUMENTS = {"steps": "num_inference_steps", "guidance": "guidance_scale", "width": "width",
              "height": "height", "negative_prompt": "negative_prompt"}


@dataclass
class LoadedPipeline:
    pipeline: Any
    device: Device
    accepts: frozenset[str]         # the pipeline's call arguments


def load_image(spec: ContenderSpec, cache_dir: Path, models: LoadedModels | None = None) -> ImageGenerator:
    """A generator for an image contender; raises `ModelLoadError` naming the contender."""
    key = ("diffusers", spec.model)
    loaded = models.get(key, lambda: _load(spec)) if models else _load(spec)
    return ImageGenerator(spec, loaded)


def _load(spec: ContenderSpec) -> LoadedPipeline:
    from diffusers import DiffusionPipeline

    label = f"contender {spec.name!r}"
    source = spec.model
    if looks_like_path(spec.model):
        path = Path(spec.model).expanduser()
        if not path.is_dir():
            raise ModelLoadError(f"{label}: pipeline directory {spec.model} does not exist; fix 'model' in "
                                 "studio.toml (a local directory saved with save_pretrained, or a hub id)")
        if not (path / "model_index.json").exists():
            raise ModelLoadError(f"{label}: {spec.model} is not a diffusers pipeline (no model_index.json); "
                                 "a text model is declared with kind = \"text\" and backend = \"transformers\"")
        source = str(path)
    device = choose_device()
    try:
        pipeline = DiffusionPipeline.from_pretrained(source, dtype=device.dtype)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"{label}: cannot load {spec.model!r} as a diffusers pipeline ({reason}); "
                             "give a local directory saved with save_pretrained or a hub id "
                             "(downloaded once with internet)") from exc
    pipeline.to(device.name)
    pipeline.set_progress_bar_config(disable=True)
    accepts = frozenset(inspect.signature(pipeline.__call__).parameters)
    if "prompt" not in accepts or "generator" not in accepts:
        raise ModelLoadError(f"{label}: {type(pipeline).__name__} is not a text-to-image pipeline; "
                             "use one that takes a prompt")
    return LoadedPipeline(pipeline=pipeline, device=device, accepts=accepts)


class ImageGenerator:
    kind = "image"

    def __init__(self, spec: ContenderSpec, loaded: LoadedPipeline):
        self.spec = spec
        self.loaded = loaded
        self.params = {**DEFAULTS, **spec.params}

    def generate(self, requests: Sequence[Request], *, batch_size: int = 4,
                 should_stop: ShouldStop | None = None, on_progress: OnProgress | None = None) -> list[Output]:
        """One PNG per request, in order; requests for one prompt share a pipeline call."""
        order = sorted(range(len(requests)), key=lambda i: requests[i].prompt)
        outputs: list[Output | None] = [None] * len(requests)
        for start in range(0, len(order), batch_size):
            if should_stop and should_stop():
                raise Stopped()
            chunk = order[start:start + batch_size]
            for index, output in zip(chunk, self._generate_batch([requests[i] for i in chunk]), strict=True):
                outputs[index] = output
            if on_progress:
                on_progress(start + len(chunk), len(requests))
        return [o for o in outputs if o is not None]

    def _generate_batch(self, requests: list[Request]) -> list[Output]:
        import torch

        loaded = self.loaded
        arguments = {_ARGUMENTS[k]: v for k, v in self.params.items()
                     if k in _ARGUMENTS and _ARGUMENTS[k] in loaded.accepts}
        if "negative_prompt" in arguments:
            arguments["negative_prompt"] = [arguments["negative_prompt"]] * len(requests)
        generators = [torch.Generator(device=loaded.device.name).manual_seed(int(r.seed)) for r in requests]
        started = time.perf_counter()
        with torch.inference_mode():
            images = loaded.pipeline(prompt=[r.prompt for r in requests], generator=generators,
                                     output_type="pil", **arguments).images
        latency_ms = (time.perf_counter() - started) * 1000
        outputs = []
        for request, image in zip(requests, images, strict=True):
            recorded = {**self.params, "width": image.width, "height": image.height,
                        "batch_size": len(requests)}
            outputs.append(Output(request=request, image_png=_png(image), params=recorded,
                                  latency_ms=latency_ms))
        return outputs


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
