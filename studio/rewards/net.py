"""`RewardNet`: backbone + head as one torch module, shared by training and scoring.

Text: the backbone embeds each view of an output (the prompt and response encoded together,
the response alone, ...); encoders are mean-pooled, decoders read the last real token (in
head mode the mean of a layer three quarters up, `decoder_head_pooling`); the head
(`heads.py`) is a small layer over the embeddings and the cheap length features, each
divided by its spread over the training outputs in head mode. A one-label
sequence classifier is used as it is. Image: CLIP's image and prompt embeddings (and their
product) go to the head.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from studio.errors import ConfigError
from studio.rewards import backbones
from studio.rewards.data import Item
from studio.rewards.early_exit import states_after
from studio.rewards.encoding import Encoded, TextEncoder, collate, length_chunks, truncating_from
from studio.rewards.features import LENGTH, cheap_features
from studio.rewards.features import NAMES as CHEAP_NAMES
from studio.rewards.heads import EnsembleHead, RewardHead
from studio.rewards.spec import RewardSpec

ENV_EMBED_PRECISION = "STUDIO_EMBED_PRECISION"
PRECISIONS = ("float32", "bfloat16")

# Padded tokens per forward chunk: bounds memory, and sorting by length keeps padding small.
TOKENS_PER_CHUNK = 8192


@dataclass
class Prepared:
    """Items made ready for the backbone once per training: token ids per view, images,
    cheap features."""

    items: list[Item]
    tokens: dict[str, list[Encoded]]
    cheap: torch.Tensor | None


class RewardNet(nn.Module):
    def __init__(self, spec: RewardSpec, backbone: nn.Module, *, tokenizer=None, image_processor=None):
        super().__init__()
        self.spec = spec
        self.backbone = backbone
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        _check_pooling(spec, backbone)
        if spec.architecture == "seqcls":
            self.head = None
        elif spec.ensemble > 1:
            self.head = EnsembleHead(self.feature_dim(), spec.head_hidden, spec.ensemble)
        else:
            self.head = RewardHead(self.feature_dim(), spec.head_hidden)
        self.text_encoder = (TextEncoder(tokenizer, spec.architecture, spec.max_length)
                             if tokenizer is not None else None)

    # -- shapes ----------------------------------------------------------------------------

    def embedding_dim(self) -> int:
        config = self.backbone.config
        if self.spec.architecture == "clip":
            return config.projection_dim
        return getattr(config, "hidden_size", None) or config.get_text_config().hidden_size

    def feature_dim(self) -> int:
        spec = self.spec
        dim = self.embedding_dim() * len(self._linear_views())
        if spec.interaction in ("prompt_length", "product") and "prompt" in spec.views:
            dim += self.embedding_dim()
        if spec.cheap_features and spec.kind == "text":
            dim += len(CHEAP_NAMES)
        return dim

    def _linear_views(self) -> list[str]:
        """Views the head sees directly; a text prompt alone says nothing about a response."""
        if self.spec.kind == "text":
            return [v for v in self._views() if v != "prompt"]
        return list(self._views())

    # -- inputs ----------------------------------------------------------------------------

    def prepare(self, items: Sequence[Item]) -> Prepared:
        items = list(items)
        tokens: dict[str, list[Encoded]] = {}
        if self.spec.kind == "text":
            prompts = [i.prompt for i in items]
            responses = [i.text or "" for i in items]
            for view in self._views():
                if view == "pair":
                    tokens[view] = self.text_encoder.encode(prompts, responses)
                elif view == "response":
                    tokens[view] = self._single(responses, side="right")
                elif view == "prompt":
                    tokens[view] = self._single(prompts, side="left")
        else:
            tokens["prompt"] = self._single([i.prompt for i in items], side="right")
        return Prepared(items=items, tokens=tokens, cheap=self.cheap(items))

    def cheap(self, items: Sequence[Item]) -> torch.Tensor | None:
        if self.spec.cheap_features and self.spec.kind == "text":
            return cheap_features([i.prompt for i in items], [i.text or "" for i in items])
        return None

    def _views(self) -> tuple[str, ...]:
        return ("pair",) if self.spec.architecture == "seqcls" else self.spec.views

    def _single(self, texts: list[str], side: str) -> list[Encoded]:
        tokenizer = self.tokenizer
        with truncating_from(tokenizer, side):
            out = tokenizer(texts, truncation=True, max_length=min(self.spec.max_length, _model_max(tokenizer)))
        types = out.get("token_type_ids")
        return [Encoded(ids, types[n] if types is not None else None) for n, ids in enumerate(out["input_ids"])]

    def cache_keys(self, view: str, items: Sequence[Item]) -> list[str]:
        if view == "prompt":
            return [f"prompt:{hashlib.sha256(i.prompt.encode()).hexdigest()}" for i in items]
        return [f"{view}:{i.key}" for i in items]

    # -- forward ---------------------------------------------------------------------------

    def embed(self, view: str, prepared: Prepared, positions: Sequence[int]) -> torch.Tensor:
        """Pooled, L2-normalised embeddings of one view for some prepared items [n, H]; a
        frozen backbone (head mode) runs in `embedding_precision`."""
        if self.spec.mode == "head" and embedding_precision(self._device()) == "bfloat16":
            with torch.autocast(self._device().type, dtype=torch.bfloat16):
                return self._embed(view, prepared, positions).float()
        return self._embed(view, prepared, positions)

    def _embed(self, view: str, prepared: Prepared, positions: Sequence[int]) -> torch.Tensor:
        if view == "image":
            pixels = self._pixels([prepared.items[p].image for p in positions])
            out = self.backbone.get_image_features(pixel_values=pixels.to(self._device()))
            return nn.functional.normalize(_pooled(out), dim=-1)
        if view == "prompt":   # items of one prompt share one pass
            rows: dict[str, int] = {}
            firsts = []
            for p in positions:
                if prepared.items[p].prompt not in rows:
                    rows[prepared.items[p].prompt] = len(firsts)
                    firsts.append(p)
            if len(firsts) < len(positions):
                unique = self._embed_tokens(view, prepared, firsts)
                index = torch.tensor([rows[prepared.items[p].prompt] for p in positions], device=unique.device)
                return unique[index]
        return self._embed_tokens(view, prepared, positions)

    def _embed_tokens(self, view: str, prepared: Prepared, positions: Sequence[int]) -> torch.Tensor:
        encoded = [prepared.tokens[view][p] for p in positions]
        pieces, order = [], []
        for chunk in length_chunks([len(e.input_ids) for e in encoded], TOKENS_PER_CHUNK):
            batch = {k: v.to(self._device()) for k, v in
                     collate([encoded[i] for i in chunk], self.tokenizer.pad_token_id).items()}
            pieces.append(self._pool(batch))
            order.extend(chunk)
        stacked = torch.cat(pieces)
        result = torch.empty_like(stacked)
        result[torch.tensor(order, device=stacked.device)] = stacked
        return result

    def _pool(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        architecture = self.spec.architecture
        if architecture == "seqcls":
            return self.backbone(**batch).logits[:, :1]
        if architecture == "clip":
            out = self.backbone.get_text_features(input_ids=batch["input_ids"],
                                                  attention_mask=batch["attention_mask"])
            return nn.functional.normalize(_pooled(out), dim=-1)
        mask = batch["attention_mask"]
        layer = self.spec.pool_layer
        if layer is None:
            hidden = self.backbone(**batch).last_hidden_state
        else:
            hidden = states_after(self.backbone, layer, batch)
        if self.pooling() == "last":
            last = mask.sum(dim=1) - 1
            pooled = hidden[torch.arange(hidden.size(0), device=hidden.device), last]
        else:
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
        return nn.functional.normalize(pooled, dim=-1)

    def pooling(self) -> str:
        return self.spec.pooling or ("last" if self.spec.architecture == "decoder" else "mean")

    def combine(self, views: list[torch.Tensor], cheap: torch.Tensor | None) -> torch.Tensor:
        """The head's input from each view's embeddings (in `_views()` order) and the cheap
        features: the linear views side by side, the interaction, the cheap features."""
        by_name = dict(zip(self._views(), views, strict=True))
        parts = [by_name[v] for v in self._linear_views()]
        interaction = self.spec.interaction
        if interaction == "prompt_length" and "prompt" in by_name and cheap is not None:
            parts.append(by_name["prompt"] * cheap[:, LENGTH:LENGTH + 1].to(views[0].device))
        elif interaction == "product" and "prompt" in by_name:
            other = next(v for v in self._views() if v != "prompt")
            parts.append(by_name[other] * by_name["prompt"])
        if cheap is not None:
            parts.append(cheap.to(views[0].device))
        return torch.cat(parts, dim=-1)

    def rewards(self, prepared: Prepared, positions: Sequence[int]) -> torch.Tensor:
        """Rewards of some prepared items, through the backbone (with gradients when training)."""
        if self.spec.architecture == "seqcls":
            return self.embed("pair", prepared, positions)[:, 0]
        views = [self.embed(view, prepared, positions) for view in self._views()]
        cheap = prepared.cheap[list(positions)] if prepared.cheap is not None else None
        return self.head(self.combine(views, cheap))

    def forward(self, prepared: Prepared, positions: Sequence[int]) -> torch.Tensor:
        """Training goes through here, so a distributed wrapper sees the call."""
        return self.rewards(prepared, positions)

    def head_rewards(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(features.to(next(self.head.parameters()).device))

    def head_spread(self, features: torch.Tensor) -> torch.Tensor | None:
        """The ensemble members' standard deviation per item; None without an ensemble."""
        if not isinstance(self.head, EnsembleHead):
            return None
        return self.head.each(features.to(next(self.head.parameters()).device)).std(dim=0)

    def _pixels(self, images: list) -> torch.Tensor:
        from PIL import Image

        loaded = []
        for image in images:
            if isinstance(image, Image.Image):
                loaded.append(image.convert("RGB"))
            else:
                with Image.open(image) as opened:
                    loaded.append(opened.convert("RGB"))
        return self.image_processor(images=loaded, return_tensors="pt")["pixel_values"]

    def _device(self) -> torch.device:
        return next(self.parameters()).device


def embedding_precision(device: torch.device) -> str:
    """The precision frozen backbones embed in: "bfloat16" on a CPU with native bfloat16 dot
    products (AMX tiles, or AVX512-BF16), where SmolLM2-135M embeds 2 to 2.5x faster than in
    float32 with the same vectors (cosine 0.9994 or more), "float32" elsewhere.
    `STUDIO_EMBED_PRECISION=float32` (or `bfloat16`) overrides. The embedding cache keeps each
    precision apart."""
    chosen = os.environ.get(ENV_EMBED_PRECISION, "").strip().lower()
    if chosen in PRECISIONS:
        return chosen
    if chosen:
        raise ConfigError(f"{ENV_EMBED_PRECISION}={chosen!r}: set it to float32 or bfloat16, or unset it")
    return "bfloat16" if device.type == "cpu" and cpu_has_native_bf16() else "float32"


@functools.cache
def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AMX tiles or AVX512-BF16)."""
    probes = (getattr(torch.cpu, "_is_amx_tile_supported", None), getattr(torch.cpu, "_is_avx512_bf16_supported", None))
    return any(bool(probe and probe()) for probe in probes)


def _pooled(out) -> torch.Tensor:
    return out if isinstance(out, torch.Tensor) else out.pooler_output


def _model_max(tokenizer) -> int:
    value = getattr(tokenizer, "model_max_length", None) or 512
    return value if value < 1_000_000 else 512


# Frozen backbones (head mode) are shared by every net that uses them in this process: a
# worker retraining every few votes, or the arena scoring votes, loads the model once.
_FROZEN: OrderedDict[tuple[str, str], tuple] = OrderedDict()
_FROZEN_KEPT = 2
_FROZEN_LOCK = threading.Lock()


def build_net(spec: RewardSpec, backbone_source: str | None = None) -> RewardNet:
    """A net with an untrained head: the backbone loaded from `backbone_source` (default:
    the spec's backbone) with its tokenizer / image processor. Head-mode nets share one
    frozen copy of their backbone; full-mode nets get their own."""
    source = backbone_source or spec.backbone
    if spec.mode != "head":
        model, tokenizer, processor = _load_parts(source, spec.architecture)
        return RewardNet(spec, model, tokenizer=tokenizer, image_processor=processor)
    key = (backbones.resolve_backbone(source), spec.architecture)
    with _FROZEN_LOCK:
        parts = _FROZEN.get(key)
        if parts is None:
            parts = _load_parts(source, spec.architecture)
            parts[0].requires_grad_(False)
            parts[0].eval()
            _FROZEN[key] = parts
            while len(_FROZEN) > _FROZEN_KEPT:
                _FROZEN.popitem(last=False)
        _FROZEN.move_to_end(key)
    model, tokenizer, processor = parts
    return RewardNet(spec, model, tokenizer=tokenizer, image_processor=processor)


def _load_parts(source: str, architecture: str) -> tuple:
    tokenizer = backbones.load_tokenizer(source, architecture)
    model = backbones.load_backbone(source, architecture, pad_token_id=tokenizer.pad_token_id)
    processor = backbones.load_image_processor(source) if architecture == "clip" else None
    if architecture != "clip" and len(tokenizer) > model.get_input_embeddings().num_embeddings:
        model.resize_token_embeddings(len(tokenizer))
    return model, tokenizer, processor


def make_spec(backbone: str, *, kind: str | None = None, mode: str = "head", max_length: int = 256,
              **choices) -> RewardSpec:
    """A spec for a backbone, with the views and head that suit its architecture."""
    config = backbones.load_config(backbone)
    architecture = backbones.detect_architecture(config)
    if architecture == "clip":
        if kind == "text":
            raise ValueError("a CLIP backbone makes image reward models; give a text backbone")
        return RewardSpec(kind="image", mode=mode, backbone=backbone, architecture="clip",
                          max_length=min(max_length, 77), views=("image", "prompt"), cheap_features=False,
                          interaction="product", **choices)
    if kind == "image":
        raise ValueError(f"{backbone!r} is not a CLIP-style model: image reward models need one")
    if mode == "head" and architecture == "seqcls":
        architecture = "encoder"   # a frozen classifier has nothing to learn: pool its base model
    if architecture == "seqcls":
        return RewardSpec(kind="text", mode=mode, backbone=backbone, architecture="seqcls",
                          max_length=max_length, views=("pair",), cheap_features=False, interaction="none",
                          **choices)
    if mode == "full":   # the fine-tuned pair encoder sees the prompt itself; no extra prompt pass
        choices = {"views": ("pair",), "interaction": "none", **choices}
    elif architecture == "decoder":
        choices = {**decoder_head_pooling(config), **choices}
    return RewardSpec(kind="text", mode=mode, backbone=backbone, architecture=architecture,
                      max_length=max_length, **choices)


def _check_pooling(spec: RewardSpec, backbone: nn.Module) -> None:
    if spec.pooling not in ("", "mean", "last"):
        raise ConfigError(f"pooling must be mean or last, got {spec.pooling!r}")
    if spec.pool_layer is None:
        return
    layers = getattr(getattr(backbone, "config", None), "num_hidden_layers", None)
    if spec.architecture in ("clip", "seqcls") or not layers:
        raise ConfigError(f"pool_layer applies to text encoders and decoders, not to a {spec.architecture} backbone; "
                          "leave it out")
    if not 1 <= spec.pool_layer <= layers:
        raise ConfigError(f"pool_layer must be between 1 and {layers} (the backbone's layers), got {spec.pool_layer}")


def decoder_head_pooling(config) -> dict:
    """A frozen decoder's features: the mean over the tokens three quarters of the way up
    (its last layer's final token is shaped for predicting the next token). On all of
    hh_mix_train (80/20 by prompt), heads without the length features told the preferred
    answer 56.2-56.8% of the time from SmolLM2's layer-22 mean, 54.3-55.2% from its last
    token; with them the two are alike (bench/RESULTS.md, stop 31)."""
    layers = getattr(config, "num_hidden_layers", None)
    if not layers:
        return {}
    return {"pooling": "mean", "pool_layer": max(1, (3 * layers) // 4)}
