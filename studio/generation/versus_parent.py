"""An improved version meets its parent: of the pairs the pool plans with a version on one
side, a share (`pool.versus_parent_share`, default half) put it against the contender it was
trained from, so the lift is measured from blind votes as soon as the version exists. Pure:
planned pairs in, planned pairs out; the pool consults it after planning."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from studio.generation.pool import PlannedItem


def versus_parent(planned: Sequence[PlannedItem], parents: Mapping[int, int], text_contenders: Sequence[int], *,
                  share: float, rotation: int = 0) -> list[PlannedItem]:
    """`planned` with some pairs changed to (version, parent), so that about `share` of each
    version's pairs are against its parent. `parents`: version id -> parent id (enabled ones);
    only versions and parents the pool can generate with take part. Which pairs change is
    decided by a rotating counter, not chance, so the share holds on a handful of pairs."""
    if share <= 0 or not parents:
        return list(planned)
    available = set(text_contenders)
    others = max(1, len(available) - 1)
    natural = 1.0 / others                     # share of a version's pairs already against its parent
    extra = 0.0 if share <= natural else min(1.0, (share - natural) / (1.0 - natural))
    seen: dict[int, int] = {}
    result = []
    for item in planned:
        result.append(item)
        if item.shape != "pair":
            continue
        for version in item.contender_ids:
            parent = parents.get(version)
            if parent is None or parent not in available or version not in available:
                continue
            if parent in item.contender_ids:
                break
            count = seen.get(version, 0)
            seen[version] = count + 1
            # The k-th non-parent pair changes when the running total crosses an integer.
            if int((count + 1 + rotation) * extra) > int((count + rotation) * extra):
                result[-1] = PlannedItem(item.prompt_id, (version, parent))
            break
    return result
