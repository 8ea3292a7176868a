"""Reward-model checkpoints: a directory written under a temporary name and renamed, so a
crash leaves either no checkpoint or a whole one.

    reward_model.json     spec (backbone, kind, mode, max length, ...), metrics, data range,
                          library versions, creation time
    head.safetensors      the head (every text or image model but a bare classifier)
    backbone/             full mode: the fine-tuned backbone, its tokenizer and processor
    adapter/              full mode with LoRA: the adapter only (the base is `spec.backbone`)

Head-mode checkpoints hold the head alone (kilobytes): the frozen backbone is named in the
spec and loaded from there, so a retrain every few votes costs no disk.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from studio.errors import ModelLoadError
from studio.rewards.spec import RewardSpec

CONFIG_NAME = "reward_model.json"
HEAD_NAME = "head.safetensors"
BACKBONE_DIR = "backbone"
ADAPTER_DIR = "adapter"
FORMAT = 1


@dataclass(frozen=True)
class CheckpointInfo:
    spec: RewardSpec
    metrics: dict[str, Any]
    data: dict[str, Any]          # comparison id range, pair counts, source
    versions: dict[str, str]
    created_at: str
    path: Path


def library_versions() -> dict[str, str]:
    found = {}
    for name in ("feedback-studio", "torch", "transformers", "accelerate", "peft", "safetensors"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def save(net, directory: str | os.PathLike[str], *, metrics: dict[str, Any],
         data: dict[str, Any] | None = None) -> Path:
    """Write `net` to `directory` (which must not exist yet): temp dir first, then rename."""
    from safetensors.torch import save_file

    directory = Path(directory)
    if directory.exists():
        raise FileExistsError(f"{directory} already exists; checkpoints are never overwritten")
    directory.parent.mkdir(parents=True, exist_ok=True)
    temporary = directory.parent / f".{directory.name}.tmp-{uuid.uuid4().hex[:8]}"
    temporary.mkdir()
    try:
        spec = net.spec
        if net.head is not None:
            state = {k: v.detach().cpu().contiguous() for k, v in net.head.state_dict().items()}
            save_file(state, str(temporary / HEAD_NAME))
        if spec.mode == "full":
            _save_backbone(net, temporary)
        config = {"format": FORMAT, "spec": spec.to_dict(), "metrics": metrics, "data": data or {},
                  "versions": library_versions(), "created_at": datetime.now(UTC).isoformat()}
        _write_synced(temporary / CONFIG_NAME, json.dumps(config, indent=2, default=str))
        os.replace(temporary, directory)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return directory


def _save_backbone(net, directory: Path) -> None:
    if net.spec.lora_rank:
        net.backbone.save_pretrained(directory / ADAPTER_DIR)
        return
    target = directory / BACKBONE_DIR
    net.backbone.save_pretrained(target)
    net.tokenizer.save_pretrained(target)
    if net.image_processor is not None:
        net.image_processor.save_pretrained(target)


def _write_synced(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def read_info(directory: str | os.PathLike[str]) -> CheckpointInfo:
    directory = Path(directory)
    path = directory / CONFIG_NAME
    if not path.is_file():
        raise ModelLoadError(f"{directory} is not a reward-model checkpoint (no {CONFIG_NAME})")
    raw = json.loads(path.read_text(encoding="utf-8"))
    return CheckpointInfo(spec=RewardSpec.from_dict(raw["spec"]), metrics=raw.get("metrics", {}),
                          data=raw.get("data", {}), versions=raw.get("versions", {}),
                          created_at=raw.get("created_at", ""), path=directory)


def load_net(directory: str | os.PathLike[str]):
    """Rebuild the net saved in `directory` (in eval mode)."""
    from safetensors.torch import load_file

    from studio.rewards.net import build_net

    info = read_info(directory)
    spec = info.spec
    source = None
    if spec.mode == "full" and not spec.lora_rank:
        source = str(info.path / BACKBONE_DIR)
    net = build_net(spec, source)
    if spec.mode == "full" and spec.lora_rank:
        from peft import PeftModel

        net.backbone = PeftModel.from_pretrained(net.backbone, str(info.path / ADAPTER_DIR))
    if net.head is not None:
        net.head.load_state_dict(load_file(str(info.path / HEAD_NAME)))
    net.eval()
    return net, info
