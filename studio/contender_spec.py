"""What a contender is (a model plus its generation settings) and the one check of a
declaration, shared by `studio.toml`, `studio contenders add/edit`, the Settings tab and
`Studio.add_contender`: every error names where the declaration came from, the contender
and the key, in one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.errors import ConfigError

KINDS = ("text", "image")

# Generation parameters each kind of contender accepts, with their types.
TEXT_PARAMS: dict[str, tuple[type, ...]] = {
    "max_new_tokens": (int,),
    "temperature": (int, float),
    "top_p": (int, float),
    "top_k": (int,),
    "repetition_penalty": (int, float),
    "do_sample": (bool,),
    "system_prompt": (str,),
    # A PEFT LoRA adapter applied to the model: an artifact key in the data dir (what
    # `studio improve` registers) or a local directory.
    "adapter": (str,),
}
IMAGE_PARAMS: dict[str, tuple[type, ...]] = {
    "steps": (int,),
    "guidance": (int, float),
    "width": (int,),
    "height": (int,),
    "negative_prompt": (str,),
}
BEST_OF_N_PARAMS: dict[str, tuple[type, ...]] = {
    "base": (str,),
    "n": (int,),
    "reward_model": (str,),
}
BACKEND_PARAMS = {
    "transformers": TEXT_PARAMS,
    "diffusers": IMAGE_PARAMS,
    "best_of_n": BEST_OF_N_PARAMS,
    # Outputs generated elsewhere and imported; nothing to generate with.
    "external": {},
}
BACKEND_KIND = {"transformers": "text", "diffusers": "image", "best_of_n": None, "external": None}


@dataclass(frozen=True)
class ContenderSpec:
    """A model plus its generation settings: what raters compare."""

    name: str
    kind: str = "text"
    backend: str = "transformers"
    model: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "backend": self.backend,
                "model": self.model, "params": dict(self.params)}


def matches_types(value: Any, allowed: tuple[type, ...]) -> bool:
    # bool is an int in Python; a config saying `steps = true` is a mistake.
    if isinstance(value, bool) and bool not in allowed:
        return False
    return isinstance(value, allowed)


def describe_types(allowed: tuple[type, ...]) -> str:
    return " or ".join("a number" if t is float else t.__name__ for t in allowed if t is not type(None))


def check_unique_names(where: str, specs: list[ContenderSpec]) -> None:
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise ConfigError(f"{where}: contender '{spec.name}' is declared twice")
        seen.add(spec.name)


_CONTENDER_KEYS = {"name", "kind", "backend", "model", "params"}


def contender_from_dict(item: Any, *, where: str) -> ContenderSpec:
    """Validate one contender declaration; errors name the file, contender and key."""
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: each contender must be a table with at least 'name' and 'model'")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: a contender has no 'name' (a non-empty string)")
    label = f"{where}: contender '{name}'"
    unknown = set(item) - _CONTENDER_KEYS
    if unknown:
        raise ConfigError(f"{label}: unknown key '{sorted(unknown)[0]}' "
                          f"(known: {', '.join(sorted(_CONTENDER_KEYS))})")
    backend = item.get("backend", "transformers")
    if backend not in BACKEND_PARAMS:
        raise ConfigError(f"{label}: key 'backend' must be one of {', '.join(BACKEND_PARAMS)}, got {backend!r}")
    default_kind = BACKEND_KIND[backend] or "text"
    kind = item.get("kind", default_kind)
    if kind not in KINDS:
        raise ConfigError(f"{label}: key 'kind' must be text or image, got {kind!r}")
    if BACKEND_KIND[backend] and BACKEND_KIND[backend] != kind:
        raise ConfigError(f"{label}: backend '{backend}' makes {BACKEND_KIND[backend]} contenders, not {kind}")
    model = item.get("model", "")
    if not isinstance(model, str) or (backend in ("transformers", "diffusers") and not model):
        raise ConfigError(f"{label}: key 'model' must name a hub id, a local path or a built-in model")
    params = item.get("params", {})
    if not isinstance(params, dict):
        raise ConfigError(f"{label}: key 'params' must be a table")
    validate_params(label, backend, params)
    return ContenderSpec(name=name.strip(), kind=kind, backend=backend, model=model, params=dict(params))


_RANGES = {
    "max_new_tokens": (1, 8192), "temperature": (0.0, 10.0), "top_p": (0.0, 1.0),
    "top_k": (0, 100000), "repetition_penalty": (0.0, 10.0), "steps": (1, 1000),
    "guidance": (0.0, 50.0), "width": (8, 4096), "height": (8, 4096), "n": (1, 64),
}


def validate_params(label: str, backend: str, params: dict[str, Any]) -> None:
    known = BACKEND_PARAMS[backend]
    for key, value in params.items():
        if key not in known:
            raise ConfigError(f"{label}: unknown key 'params.{key}' for backend '{backend}' "
                              f"(known: {', '.join(sorted(known)) or 'none'})")
        if not matches_types(value, known[key]):
            raise ConfigError(f"{label}: key 'params.{key}' must be {describe_types(known[key])}, got {value!r}")
        if key in _RANGES:
            low, high = _RANGES[key]
            if not low <= value <= high:
                raise ConfigError(f"{label}: key 'params.{key}' must be between {low} and {high}, got {value!r}")
        if key in ("width", "height") and value % 8:
            raise ConfigError(f"{label}: key 'params.{key}' must be a multiple of 8, got {value}")
    if backend == "best_of_n" and "base" not in params:
        raise ConfigError(f"{label}: a best_of_n contender needs 'params.base' (the contender it samples from)")
