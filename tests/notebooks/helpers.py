"""Small studios built through the public API (no model runs): contenders that hold
imported outputs, prompts, outputs and rating items, and votes cast on them."""

from __future__ import annotations

from pathlib import Path


def text_studio(data_dir: Path, pairs: list[tuple[str, str, str]], *, prompt_set: str = "default",
                names: tuple[str, str] = ("alpha", "beta"), votes_wanted: int = 1):
    """A studio with one rating item per (prompt, output of names[0], output of names[1]),
    shown in that order; returns (studio, item ids, [(left id, right id)])."""
    from studio.api import Studio
    from studio.contender_spec import ContenderSpec
    from studio.records import GenerationIn

    studio = Studio.open(data_dir, training=_no_retraining())
    first, second = (studio.add_contender(ContenderSpec(name=n, backend="external")) for n in names)
    items, sides = [], []
    for prompt, text_a, text_b in pairs:
        prompt_id = studio.add_prompts([prompt], prompt_set=prompt_set)[0]
        left, right = studio.add_generations([GenerationIn(prompt_id=prompt_id, contender_id=first.id, text=text_a),
                                              GenerationIn(prompt_id=prompt_id, contender_id=second.id, text=text_b)])
        # Rating items are normally made by the generation pool; tests make them directly.
        with studio.store.transaction() as tx:
            items.append(tx.items.create(prompt_id, [left, right], prompt_set=prompt_set,
                                         votes_wanted=votes_wanted, source="test").id)
        sides.append((left, right))
    return studio, items, sides


def _no_retraining():
    from studio.config import TrainingConfig

    return TrainingConfig(retrain_every=0)
