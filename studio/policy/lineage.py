"""How an improved version was made, as one JSON-able dict stored with the contender:
its parent, the method, the votes and prompts it learnt from (and those left out), the
settings, the training metrics and the libraries' versions."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

LIBRARIES = ("torch", "transformers", "trl", "peft", "datasets", "accelerate")


def library_versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def version_name(family: str, version: int) -> str:
    """`NAME@v2`: the family's original name and the version number."""
    return f"{family}@v{version}"


def family_of(name: str) -> str:
    """The original contender's name of a version (`smol@v3` -> `smol`)."""
    head, sep, tail = name.rpartition("@v")
    return head if sep and tail.isdigit() else name


def lineage(*, parent: str, parent_id: int, family: str, method: str, counts: dict[str, int],
            comparison_ids: list[int], prompt_ids: list[int], settings: dict[str, Any], metrics: dict[str, Any],
            adapter_key: str, base_model: str, job_id: int | None, extra: dict[str, Any] | None = None
            ) -> dict[str, Any]:
    """The lineage record (comparison ids as a compact first/last/count plus the full list)."""
    return {"parent": parent, "parent_id": parent_id, "family": family, "method": method,
            "base_model": base_model, "adapter": adapter_key, "job_id": job_id, "counts": dict(counts),
            "votes": {"count": len(comparison_ids), "first_id": min(comparison_ids, default=None),
                      "last_id": max(comparison_ids, default=None), "ids": list(comparison_ids)},
            "prompts": {"count": len(prompt_ids), "ids": list(prompt_ids)},
            "settings": dict(settings), "metrics": dict(metrics), "libraries": library_versions(),
            **(extra or {})}
