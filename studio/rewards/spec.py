"""`RewardSpec`: everything needed to rebuild a reward model, saved in its checkpoint."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

MODES = ("head", "full")
TEXT_VIEWS = ("pair", "response", "prompt")
IMAGE_VIEWS = ("image", "prompt")


@dataclass(frozen=True)
class RewardSpec:
    kind: str = "text"                 # text | image
    mode: str = "head"                 # head: frozen backbone, cached embeddings | full: fine-tuned
    backbone: str = "all-minilm-l6-v2"  # as the user named it (built-in name, path or hub id)
    architecture: str = "encoder"      # encoder | seqcls | decoder | clip
    max_length: int = 256
    # What the backbone embeds for each output; the head sees their concatenation.
    # text: "pair" (prompt and response encoded together), "response", "prompt";
    # image: "image" and "prompt" (CLIP's two towers).
    views: tuple[str, ...] = ("pair", "prompt")
    cheap_features: bool = True        # length, shape and overlap features beside the embeddings
    # How views meet: "prompt_length" (text: the prompt embedding times the response length,
    # so how much length is wanted depends on the request), "product" (image: image times
    # prompt embedding), or "none". The prompt view alone would cancel out of every
    # comparison (both sides share the prompt), so it only enters through an interaction.
    interaction: str = "prompt_length"
    head_hidden: int = 0               # 0: a linear head; > 0: one hidden layer
    ensemble: int = 0                  # head mode: > 1 heads on bootstrap resamples of the votes (a spread)
    lora_rank: int = 0                 # full mode: LoRA adapters instead of all weights
    train_layers: int | None = None    # full mode: fine-tune only the top N layers
    # How a text backbone's token states become one vector: "mean" over the tokens, "last"
    # (the final token), or "" (the architecture's own: last for decoders, mean otherwise),
    # taken after layer `pool_layer` (None: the backbone's output).
    pooling: str = ""
    pool_layer: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["views"] = list(self.views)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RewardSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "views" in values:
            values["views"] = tuple(values["views"])
        return cls(**values)

    def replace(self, **changes: Any) -> RewardSpec:
        return dataclasses.replace(self, **changes)

    @property
    def embeds_with_head_only(self) -> bool:
        """Frozen backbone: embeddings can be cached and only the head trains."""
        return self.mode == "head"
