"""What a reward-model training is asked to do: the job's payload, validated once."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from studio.errors import InputError

ACTIVATE = ("if_better", "always", "never")


@dataclass(frozen=True)
class TrainingRequest:
    mode: str = "head"
    kind: str | None = None            # text | image: the votes on that kind of output (None: the votes' one kind)
    backbone: str | None = None
    pairs_file: str | None = None
    eval_file: str | None = None
    epochs: int | None = None
    max_pairs: int | None = None
    max_length: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    lora_rank: int = 0
    length_features: bool = True      # head mode: length/shape features beside the embeddings
    ensemble: int = 0                  # head mode: this many heads on bootstrap resamples (a spread per score)
    head_hidden: int = 0               # the head: 0 linear, N one hidden layer of N units
    train_layers: int | None = None
    seed: int | None = None
    activate: str = "if_better"
    trigger: str = "manual"            # manual | votes
    requested_by: str | None = None
    after_comparison_id: int = 0       # the newest vote when it was asked for

    def __post_init__(self):
        if self.mode not in ("head", "full"):
            raise InputError(f"mode must be head or full, got {self.mode!r}")
        if self.kind not in (None, "text", "image"):
            raise InputError(f"kind must be text or image, got {self.kind!r}")
        if self.activate not in ACTIVATE:
            raise InputError(f"activate must be one of {', '.join(ACTIVATE)}, got {self.activate!r}")
        if self.head_hidden < 0:
            raise InputError(f"head_hidden must be 0 (a linear head) or a number of hidden units, got {self.head_hidden}")
        for name in ("epochs", "max_pairs", "max_length", "batch_size", "train_layers"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InputError(f"{name} must be at least 1, got {value}")
        if self.train_layers and self.mode != "full":
            raise InputError("train_layers chooses which backbone layers a full-mode training changes: "
                             "add mode full (--mode full), or leave it out")

    @classmethod
    def of(cls, **values: Any) -> TrainingRequest:
        """A request from keyword options (unset ones left out); an unknown option is refused."""
        for name in ("pairs_file", "eval_file"):
            if values.get(name) is not None:
                values[name] = str(values[name])
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise InputError(f"unknown training option {sorted(unknown)[0]!r}")
        return cls(**{k: v for k, v in values.items() if v is not None})

    def to_payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> TrainingRequest:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in payload.items() if k in known})
