"""Closing the loop on the built-in SmolLM2 contender (issue 17).

Simulated raters with a stated taste (bench/_tastes.py, chosen with --taste) vote through the
studio's own arena path (pool -> next_item -> vote) on pairs of the contender's sampled
outputs. After each vote count in --votes the studio's DPO (`Studio.improve`) trains a new
version; each version then meets v1 on prompts never used in training, judged by the same
taste. Also measured: DPO pairs per second with the studio's settings against DPOTrainer's
defaults on the same pairs, and the wall time from the job's start to the new version's
first output made by the arena's pool.

    python bench/improve.py --quick                  # minutes
    python bench/improve.py --taste concise          # 200 and 400 votes, 100 unseen prompts
    python bench/improve.py --dpo learning_rate=5e-4,epochs=3 --data-dir /tmp/improve-studio
                                                     # other DPO settings; keep the studio (its votes)
    python bench/improve.py --throughput-only --throughput-repeats 3
                                                     # only the pairs/s comparison (about 20 minutes)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._tastes import TASTES  # noqa: E402

TOPICS = ("rain", "bicycles", "tea", "the moon", "gardening", "chess", "bread", "volcanoes", "trains", "owls",
          "the ocean", "libraries", "music lessons", "winter", "bees", "maps", "coffee", "camping", "clocks",
          "bridges", "recycling", "kites", "museums", "friendship", "deserts", "soup", "robots", "rivers",
          "painting", "sleep", "mountains", "birthdays", "cooking rice", "snow", "football", "letters",
          "forests", "the sun", "boats", "homework", "cats", "dogs", "cheese", "hiking", "stars", "markets",
          "windmills", "honey", "islands", "puzzles")
TEMPLATES = ("Tell me about {t}.", "Give some advice about {t}.", "What should a beginner know about {t}?",
             "Write a few sentences about {t}.", "Explain {t} to a child.", "What is interesting about {t}?",
             "Describe {t} in simple words.", "List some facts about {t}.")


def prompts(seed: int = 0) -> list[str]:
    every = [t.format(t=topic) for topic in TOPICS for t in TEMPLATES]
    random.Random(seed).shuffle(every)
    return every


def wilson(successes: float, n: int) -> tuple[float, float]:
    from studio.ranking.winrates import wilson_interval

    return wilson_interval(successes, n) if n else (float("nan"), float("nan"))


def vote_until(studio, target: int, taste, *, raters: int = 4, rng: random.Random) -> dict[str, int]:
    """Simulated raters vote in the arena (pool items, `next_item`, `vote`) until the studio
    holds `target` votes on the training prompts; returns the outcome counts."""
    counts: dict[str, int] = {}
    while studio.stats()["comparisons"] < target:
        rater = f"sim-{rng.randrange(raters)}"
        item = studio.next_item(rater, prompt_set="train", shape="pair")
        if item is None:
            studio.refill_pool("train", min_ready=16)
            continue
        left, right = item.sides
        outcome = taste(item.prompt, left.text or "", right.text or "")
        studio.vote(item.item_id, outcome=outcome, rater=rater, idempotency_key=uuid.uuid4().hex,
                    source="simulated")
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def enough_pairs(studio, contender: str, pairs_n: int, taste, *, rng: random.Random) -> None:
    """Vote in the arena, 20 votes at a time, until `contender` has `pairs_n` decisive pairs."""
    from studio.errors import StudioError
    from studio.services.improvement_request import ImproveRequest

    while True:
        try:
            if len(studio.improvement.plan(ImproveRequest(contender)).pairs.pairs) >= pairs_n:
                return
        except StudioError:      # no decisive votes yet: keep voting
            pass
        vote_until(studio, studio.stats()["comparisons"] + 20, taste, rng=rng)


def first_arena_output(studio, name: str, timeout: float = 600) -> float:
    """Seconds until the pool has stored an output of `name` for an arena pair."""
    started = time.monotonic()
    while studio.generations(contender=name, limit=1).empty:
        ready = studio.pool_status().ready.get("train", 0)
        studio.refill_pool("train", min_ready=ready + 2)
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{name} never reached the arena")
    return time.monotonic() - started


def head_to_head(studio, new: str, old: str, eval_prompts: list[str], taste, *, seed: int) -> dict:
    """`new` against `old` on unseen prompts, one answer each with the same seed, judged by the
    taste with the sides in random order; ties count half."""
    from studio.generation.base import Request, derive_seed

    requests = [Request(prompt=p, seed=derive_seed(seed, "eval", i)) for i, p in enumerate(eval_prompts)]
    answers_new = studio.generator(new).generate(requests, batch_size=16)
    answers_old = studio.generator(old).generate(requests, batch_size=16)
    rng = random.Random(seed)
    wins = ties = 0
    for request, a, b in zip(requests, answers_new, answers_old, strict=True):
        if rng.random() < 0.5:
            outcome = taste(request.prompt, a.text or "", b.text or "")
            won = outcome == "left"
        else:
            outcome = taste(request.prompt, b.text or "", a.text or "")
            won = outcome == "right"
        ties += outcome == "tie"
        wins += won
    n = len(requests)
    low, high = wilson(wins + ties / 2, n)
    parent = studio.generator(old)
    mean_words = lambda outs: sum(len((o.text or "").split()) for o in outs) / max(len(outs), 1)  # noqa: E731
    return {"prompts": n, "wins": wins, "ties": ties, "losses": n - wins - ties, "win_rate": (wins + ties / 2) / n,
            "ci_low": low, "ci_high": high, "words_new": round(mean_words(answers_new), 1),
            "words_old": round(mean_words(answers_old), 1),
            "logprob_new": round(parent_logprob(parent, requests, answers_new), 3),
            "logprob_old": round(parent_logprob(parent, requests, answers_old), 3)}


def parent_logprob(parent, requests, answers) -> float:
    """Mean log-probability per answer token under the parent model, given the prompt as the
    parent formats it: a taste can be won by text that is no longer language (a terse taste
    by gibberish), and this is where that shows (SmolLM2's own answers at temperature 1: about -2.2)."""
    import torch

    tokenizer, model = parent.tokenizer, parent.loaded.model
    total, count = 0.0, 0
    with torch.no_grad():
        for request, answer in zip(requests, answers, strict=True):
            prefix = tokenizer(parent.format_prompt(request), add_special_tokens=False, return_tensors="pt").input_ids
            text = tokenizer(answer.text or "", add_special_tokens=False, return_tensors="pt").input_ids
            if not text.shape[1]:
                continue
            ids = torch.cat([prefix, text], dim=1).to(model.device)
            logits = model(ids).logits[0, prefix.shape[1] - 1:-1].float()
            picked = torch.log_softmax(logits, dim=-1).gather(1, text[0].to(model.device)[:, None])
            total, count = total + float(picked.sum()), count + text.shape[1]
    return total / max(count, 1)


THROUGHPUT_SIDES = (
    ("trl_defaults", "DPOTrainer's defaults, LoRA r=8 on every layer", {}),
    ("studio_before_cpu_speedups", "the studio's settings before the CPU head and the layer cache",
     {"completion_head": False, "cache_lower_layers": False}),
    ("studio_head_only", "the studio's settings with the CPU head, no layer cache", {"cache_lower_layers": False}),
    ("studio", "the studio's settings (DPOSettings())", {}),
)


def throughput(studio, contender: str, pairs_n: int, repeats: int = 1) -> dict:
    """DPO pairs/s, one epoch over the same pairs: DPOTrainer's defaults (LoRA rank 8 on every
    layer) against the studio's DPOSettings, and the studio's settings without each of its two
    CPU speed-ups (bench/RESULTS.md), each over the whole call (setup and reference log-probs
    included). With `repeats`, every side runs that many times, in turn, and its median counts."""
    import statistics

    from studio.generation.text import base_model_dir
    from studio.policy.config import DPOSettings
    from studio.policy.train import train_dpo
    from studio.services.improvement_request import ImproveRequest

    plan = studio.improvement.plan(ImproveRequest(contender))
    pairs = plan.pairs.pairs[:pairs_n]
    spec = studio.generators.spec(contender)
    model_dir = base_model_dir(spec, studio.config.cache_dir)
    runs: dict[str, list[dict]] = {label: [] for label, _, _ in THROUGHPUT_SIDES}
    for round_ in range(repeats):
        for label, _, changes in THROUGHPUT_SIDES:
            settings = (DPOSettings.trl_defaults(epochs=1) if label == "trl_defaults"
                        else DPOSettings(epochs=1, **changes))
            with tempfile.TemporaryDirectory() as out:
                metrics = train_dpo(model_dir, pairs, settings, output_dir=Path(out) / "adapter").metrics
            runs[label].append(metrics)
            print(f"  round {round_ + 1}: {label:27s} {len(pairs)} pairs in {metrics['wall_s']:6.1f} s "
                  f"(setup {metrics['setup_s']:5.1f} s)", flush=True)
    results: dict = {}
    print(f"  {'side':27s} {'median s':>9s} {'pairs/s':>8s} {'x TRL':>6s}", flush=True)
    for label, what, _ in THROUGHPUT_SIDES:
        wall = statistics.median(m["wall_s"] for m in runs[label])
        results[label] = {"pairs": len(pairs), "wall_s": [m["wall_s"] for m in runs[label]],
                          "setup_s": [m["setup_s"] for m in runs[label]], "pairs_per_s": round(len(pairs) / wall, 3),
                          "lower_layer_cache": runs[label][-1].get("lower_layer_cache")}
        ratio = results[label]["pairs_per_s"] / results["trl_defaults"]["pairs_per_s"]
        print(f"  {label:27s} {wall:9.1f} {results[label]['pairs_per_s']:8.2f} {ratio:6.2f}  ({what})", flush=True)
    results["speedup"] = round(results["studio"]["pairs_per_s"] / results["trl_defaults"]["pairs_per_s"], 2)
    print(f"  goal: the studio's settings at least 3x DPOTrainer's defaults: {results['speedup']:.2f}x, "
          f"{'met' if results['speedup'] >= 3 else 'NOT met'}", flush=True)
    return results


def dpo_settings(text: str) -> dict:
    """`learning_rate=5e-4,epochs=3` -> {"learning_rate": 0.0005, "epochs": 3}, checked
    against DPOSettings' fields."""
    import dataclasses

    from studio.policy.config import DPOSettings

    types = {f.name: f.type for f in dataclasses.fields(DPOSettings)}
    values: dict = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, raw = part.partition("=")
        if name not in types or not raw:
            raise argparse.ArgumentTypeError(f"{part!r}: expected NAME=VALUE with NAME one of {', '.join(types)}")
        kind = str(types[name])
        values[name] = (raw.lower() in ("1", "true", "yes") if kind.startswith("bool")
                        else int(raw) if kind.startswith("int") else float(raw))
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts: minutes, not an hour")
    parser.add_argument("--taste", choices=sorted(TASTES), default="concise")
    parser.add_argument("--votes", default=None, help="vote counts after which to train, e.g. 200,400")
    parser.add_argument("--eval-prompts", type=int, default=None)
    parser.add_argument("--throughput-pairs", type=int, default=None, help="0: skip the pairs/s comparison")
    parser.add_argument("--throughput-repeats", type=int, default=1,
                        help="run each side of the pairs/s comparison this many times (the median counts)")
    parser.add_argument("--throughput-only", action="store_true",
                        help="only the pairs/s comparison: vote until there are --throughput-pairs decisive pairs "
                             "(minutes), train no version")
    parser.add_argument("--max-new-tokens", type=int, default=None)
    parser.add_argument("--dpo", default="", type=dpo_settings,
                        help="DPOSettings fields to change for every version, e.g. learning_rate=5e-4,epochs=3")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep the studio here (votes, versions) instead of a temporary directory")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.data_dir and args.data_dir.exists() and any(args.data_dir.iterdir()):
        parser.error(f"--data-dir {args.data_dir} is not empty: the bench starts from a new studio")
    from studio.api import Studio
    from studio.config import PoolConfig
    from studio.contender_spec import ContenderSpec
    from studio.generation.builtin import SMOLLM2

    votes = [] if args.throughput_only else \
        [int(v) for v in (args.votes or ("40,80" if args.quick else "200,400")).split(",")]
    eval_n = args.eval_prompts or (24 if args.quick else 100)
    pairs_n = args.throughput_pairs if args.throughput_pairs is not None else (16 if args.quick else 48)
    tokens = args.max_new_tokens or (40 if args.quick else 64)
    taste = TASTES[args.taste]
    load_before = os.getloadavg()
    report: dict = {"taste": args.taste, "votes": votes, "quick": args.quick, "max_new_tokens": tokens, "dpo": args.dpo,
                    "load_before": [round(x, 2) for x in load_before], "versions": []}
    every = prompts(args.seed)
    eval_prompts, train_prompts = every[:eval_n], every[eval_n:]
    with tempfile.TemporaryDirectory(prefix="bench-improve-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        studio = Studio.open(data_dir, queue_url="immediate",
                             pool=PoolConfig(min_ready=16, batch_size=16, seed=args.seed))
        common = {"max_new_tokens": tokens, "temperature": 1.0, "top_p": 0.95}
        studio.add_contender(ContenderSpec(name="smol", model=SMOLLM2, params=common))
        studio.add_contender(ContenderSpec(name="smol-b", model=SMOLLM2, params=common))
        studio.add_prompts(train_prompts, prompt_set="train")
        rng = random.Random(args.seed)
        started = time.monotonic()
        for target in votes:
            counts = vote_until(studio, target, taste, rng=rng)
            print(f"{target} votes ({counts} since the last step) after {time.monotonic() - started:.0f} s",
                  flush=True)
            job_started = time.monotonic()
            metrics = studio.improve("smol", progress=False, **args.dpo)
            name = metrics["contender"]
            to_arena = first_arena_output(studio, name)
            wall = time.monotonic() - job_started
            print(f"  {name}: {metrics['pairs']} pairs, loss {metrics['first_loss']:.3f} -> {metrics['loss']:.3f}, "
                  f"{metrics['pairs_per_s']:.2f} pairs/s; generating in the arena {wall:.0f} s after the job "
                  "started", flush=True)
            duel = head_to_head(studio, name, "smol", eval_prompts, taste, seed=args.seed)
            print(f"  {name} vs smol on {duel['prompts']} unseen prompts: {duel['win_rate']:.1%} "
                  f"[{duel['ci_low']:.1%}, {duel['ci_high']:.1%}] ({duel['wins']}-{duel['ties']}-{duel['losses']}; "
                  f"words {duel['words_new']} vs {duel['words_old']}; log-prob/token under smol "
                  f"{duel['logprob_new']} vs {duel['logprob_old']})", flush=True)
            report["versions"].append({"name": name, "votes": target, "pairs": metrics["pairs"],
                                       "train": {k: metrics.get(k) for k in ("first_loss", "loss", "reward_accuracy",
                                                                              "steps", "pairs_per_s", "wall_s")},
                                       "job_to_arena_s": round(wall, 1), "pool_to_arena_s": round(to_arena, 1),
                                       "eval": duel})
        if pairs_n:
            if args.throughput_only:
                enough_pairs(studio, "smol", pairs_n, taste, rng=rng)
            print("throughput, one epoch over the same pairs:", flush=True)
            report["throughput"] = throughput(studio, "smol", pairs_n, args.throughput_repeats)
        report["lift"] = studio.lift(predict=False).to_dict(orient="records")
        report["total_s"] = round(time.monotonic() - started, 1)
        studio.close()
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=1, default=str))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
