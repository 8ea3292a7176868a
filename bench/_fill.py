"""Synthetic votes for benchmarks: plain multi-row inserts straight into the schema's tables,
fast enough to fill a million comparisons in about a minute. Benchmark code, not the
studio's: nothing is validated.

    with store.transaction() as tx:
        bulk_fill(tx.session, comparisons=1_000_000)
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from studio.store.schema import Comparison, Contender, Generation, Prompt, Rater


def bulk_fill(session: Session, *, comparisons: int, prompts: int = 10_000, contenders: int = 20,
              raters: int = 100, text_chars: int = 200, seed: int = 0, chunk: int = 20_000) -> None:
    """Fill an empty database with synthetic votes for benchmarks (plain multi-row inserts).

    Each prompt gets one generation per contender; each comparison pits two of them against
    each other. Not for real data: nothing is validated."""
    import random
    from datetime import timedelta

    from studio.records import sha256_text
    from studio.store.schema import utcnow

    rng = random.Random(seed)
    now = utcnow()
    words = ["alpha", "beta", "gamma", "delta", "kappa", "sigma", "omega", "lambda", "theta", "zeta"]

    def sentence(n: int) -> str:
        text = " ".join(rng.choice(words) for _ in range(n // 6 + 1))
        return text[:n]

    session.execute(Rater.__table__.insert(), [
        {"id": i + 1, "name": f"rater-{i}", "role": "rater", "created_at": now} for i in range(raters)])
    session.execute(Contender.__table__.insert(), [
        {"id": i + 1, "name": f"model-{i}", "kind": "text", "backend": "external", "model": "", "params": {},
         "revision": 1, "enabled": True, "created_at": now} for i in range(contenders)])
    for start in range(0, prompts, chunk):
        rows = []
        for i in range(start, min(prompts, start + chunk)):
            text = f"Prompt {i}: {sentence(80)}"
            rows.append({"id": i + 1, "text": text, "text_sha256": sha256_text(text), "prompt_set": "bench",
                         "system_prompt": None, "meta": {}, "source": "bench", "created_at": now})
        session.execute(Prompt.__table__.insert(), rows)
    for start in range(0, prompts, max(1, chunk // contenders)):
        rows = []
        for p in range(start, min(prompts, start + max(1, chunk // contenders))):
            for c in range(contenders):
                text = f"Answer {p}/{c}: {sentence(text_chars)}"
                rows.append({"id": p * contenders + c + 1, "prompt_id": p + 1, "contender_id": c + 1,
                             "contender_revision": 1, "text": text, "media_path": None,
                             "content_sha256": sha256_text(text), "seed": None, "params": {},
                             "latency_ms": None, "source": "bench", "created_at": now})
        session.execute(Generation.__table__.insert(), rows)
    outcomes = ["left", "right", "left", "right", "tie", "both_bad"]
    for start in range(0, comparisons, chunk):
        rows = []
        for i in range(start, min(comparisons, start + chunk)):
            prompt = rng.randrange(prompts)
            a, b = rng.sample(range(contenders), 2)
            rows.append({"id": i + 1, "item_id": None, "prompt_id": prompt + 1,
                         "left_generation_id": prompt * contenders + a + 1,
                         "right_generation_id": prompt * contenders + b + 1,
                         "left_contender_id": a + 1, "right_contender_id": b + 1,
                         "rater_id": rng.randrange(raters) + 1, "outcome": rng.choice(outcomes),
                         "rationale": None if i % 4 else sentence(40), "decision_ms": rng.randrange(500, 20_000),
                         "idempotency_key": f"bench-{i}", "session_id": None, "group_id": None,
                         "source": "bench", "created_at": now - timedelta(seconds=comparisons - i)})
        session.execute(Comparison.__table__.insert(), rows)
