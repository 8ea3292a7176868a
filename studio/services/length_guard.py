"""The length-hacking guard: for every best-of-n contender, the mean length of the outputs it
kept against its base contender's own outputs on the same prompts. A reward model whose
features read the whole text while its encoder reads only the first tokens can learn "longer
is better"; a kept sample much longer than the base's says best-of-n is picking length.

    guard.best_of_n_lengths()     # one row per best-of-n contender
"""

from __future__ import annotations

import pandas as pd

from studio.store import Store

COLUMNS = ["contender", "base", "outputs", "kept_mean_chars", "base_mean_chars", "ratio", "fallbacks"]


def best_of_n_lengths(store: Store) -> pd.DataFrame:
    """contender, base, outputs (kept), kept_mean_chars, base_mean_chars (the base's outputs on
    the same prompts; all of its outputs when it has none there), ratio (kept / base) and
    fallbacks (outputs kept without a gated reward model)."""
    with store.reader() as tx:
        contenders = tx.frames.contenders()
        rows = []
        for contender in contenders.to_dict("records"):
            if contender["backend"] != "best_of_n":
                continue
            base = (contender["params"] or {}).get("base")
            kept = tx.frames.generations(contender=contender["name"])
            base_outputs = tx.frames.generations(contender=base) if base else kept.iloc[0:0]
            rows.append(_row(contender["name"], base, kept, base_outputs))
    return pd.DataFrame(rows, columns=COLUMNS)


def _row(name: str, base: str | None, kept: pd.DataFrame, base_outputs: pd.DataFrame) -> dict:
    kept_lengths = kept["text"].fillna("").str.len()
    same = base_outputs[base_outputs["prompt_id"].isin(set(kept["prompt_id"]))]
    reference = same if not same.empty else base_outputs
    base_mean = float(reference["text"].fillna("").str.len().mean()) if not reference.empty else None
    kept_mean = float(kept_lengths.mean()) if not kept.empty else None
    fallbacks = int(sum(1 for p in kept["params"] if isinstance(p, dict) and p.get("fallback")))
    ratio = kept_mean / base_mean if kept_mean is not None and base_mean else None
    return {"contender": name, "base": base, "outputs": len(kept), "kept_mean_chars": kept_mean,
            "base_mean_chars": base_mean, "ratio": ratio, "fallbacks": fallbacks}
