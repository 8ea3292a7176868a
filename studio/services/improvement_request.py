"""What improving a contender is asked to do: the job's payload, validated once."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from studio.errors import InputError

METHODS = ("dpo", "rm-dpo")


@dataclass(frozen=True)
class ImproveRequest:
    contender: str
    method: str = "dpo"
    settings: dict[str, Any] = field(default_factory=dict)   # DPOSettings fields to change
    samples: int = 4                   # rm-dpo: answers sampled per prompt
    max_prompts: int = 64              # rm-dpo: prompts sampled
    prompt_set: str | None = None      # rm-dpo: the prompts to sample (None: every set but free prompts)
    requested_by: str | None = None

    def __post_init__(self):
        if not isinstance(self.contender, str) or not self.contender.strip():
            raise InputError("name the contender to improve")
        if self.method not in METHODS:
            raise InputError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.samples < 2:
            raise InputError(f"rm-dpo needs at least 2 samples per prompt, got {self.samples}")
        if self.max_prompts < 1:
            raise InputError(f"max_prompts must be at least 1, got {self.max_prompts}")
        from studio.policy.config import DPOSettings

        try:
            DPOSettings.from_dict(self.settings)
        except (TypeError, ValueError) as exc:
            raise InputError(str(exc)) from None
        unknown = set(self.settings) - set(DPOSettings.__dataclass_fields__)
        if unknown:
            raise InputError(f"unknown DPO setting {sorted(unknown)[0]!r} "
                             f"(known: {', '.join(DPOSettings.__dataclass_fields__)})")

    @property
    def active_key(self) -> str:
        """One improvement at a time per contender."""
        return f"improve:{self.contender}"

    def dpo_settings(self):
        from studio.policy.config import DPOSettings

        return DPOSettings.from_dict(self.settings)

    def to_payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ImproveRequest:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in payload.items() if k in known})
