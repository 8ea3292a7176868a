"""Reward models: accuracy, training throughput and freshness, the studio beside TRL.

    python bench/reward_model.py            # the full run (see the sizes below)
    python bench/reward_model.py --quick    # a few hundred pairs, max length 128: under 5 minutes

Everything uses all-MiniLM-L6-v2 (offline) on 2 CPU threads, prompts cut from the left so
the response always fits, and the same token ids for both trainers (TRL gets them
pre-tokenized: its own preprocessing drops over-long pairs instead of cutting them). TRL
runs in float32 without gradient checkpointing, like the studio: its defaults (bf16 and
checkpointing, meant for GPUs) are about 3x slower per step on these CPUs.

1. Accuracy on ../shared/data/prefs/hh_mix_dev.jsonl (real human preferences, no prompt
   shared with the training file): "the longer response wins"; TRL's RewardTrainer
   (sequence-classification head, learning rate 1e-4); the studio's trainer in full mode
   with the same data, max length, epochs (1) and batch size (16); the studio in head mode
   (frozen backbone, cached embeddings) on the same pairs and on every training pair.
2. Throughput on ../shared/data/prefs/elo_llmfao_crowd_votes.jsonl (13 prompts, 59 models,
   8,931 crowd votes: arena-shaped, one output meets many others): votes trained per second
   by full fine-tuning, the studio (ties as 0.5 targets, all votes) against TRL (ties
   dropped: it has no tie target), both at batch 16 pairs = 32 sequences per step for TRL
   and at most 32 outputs per step for the studio; peak memory of each process.
3. Freshness: 10,000 real votes in a studio (llmfao + the first pandalm votes), a worker
   process, retrain every 50 votes in head mode; a simulated rating session votes at a
   steady pace; printed: time from the vote that crosses the threshold to the new version
   (registered and, if better, active), and how many votes the active model is behind.

Sizes: full run: 2,000 training pairs for TRL / studio full / studio head (the reference
setting in ../shared/data/prefs/README.md), all 8,407 for studio head, all 1,185 dev pairs,
max length 256, 20 measured steps each for throughput, a 400-vote session. --quick: 200
pairs, 300 dev pairs, max length 128, 4 steps, a 120-vote session.

The work dir (default: $TMPDIR/studio-bench-reward-model) keeps the embedding cache between
runs, as a studio's data dir would: the first full run embeds ~26,000 texts once.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PREFS = (ROOT.parent / "shared" / "data" / "prefs").resolve()
BACKBONE = "all-minilm-l6-v2"
THREADS = 2


def read_jsonl(path: Path, limit: int | None = None) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                rows.append(json.loads(line))
                if limit and len(rows) >= limit:
                    break
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_threads() -> None:
    import torch

    torch.set_num_threads(THREADS)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


# -- shared pieces -----------------------------------------------------------------------------

def architecture(backbone: str) -> str:
    from studio.rewards.backbones import detect_architecture, load_config

    found = detect_architecture(load_config(backbone))
    return "encoder" if found == "seqcls" else found


def encoder(max_length: int, backbone: str = BACKBONE):
    """The studio's own pair encoding for the backbone (a decoder ends each pair with its end
    of text, where its last-token head reads): both trainers see these token ids."""
    from studio.rewards.backbones import load_tokenizer
    from studio.rewards.encoding import TextEncoder

    kind = architecture(backbone)
    return TextEncoder(load_tokenizer(backbone, kind), kind, max_length)


def trl_pairs(rows: list[dict], max_length: int, backbone: str = BACKBONE) -> dict[str, list]:
    enc = encoder(max_length, backbone)
    chosen = enc.encode([r["prompt"] for r in rows], [r["chosen"] for r in rows])
    rejected = enc.encode([r["prompt"] for r in rows], [r["rejected"] for r in rows])
    return {"chosen_ids": [c.input_ids for c in chosen], "rejected_ids": [r.input_ids for r in rejected]}


def trl_trainer(rows: list[dict], max_length: int, work: Path, *, learning_rate: float, max_steps: int = -1,
                callbacks=(), backbone: str = BACKBONE):
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification
    from trl import RewardConfig, RewardTrainer

    from studio.rewards.backbones import load_tokenizer, resolve_backbone

    tokenizer = load_tokenizer(backbone, architecture(backbone))
    model = AutoModelForSequenceClassification.from_pretrained(resolve_backbone(backbone), num_labels=1)
    model.config.pad_token_id = tokenizer.pad_token_id     # a decoder's head reads the last non-pad token
    config = RewardConfig(output_dir=str(work / "trl-out"), per_device_train_batch_size=16, num_train_epochs=1,
                          max_steps=max_steps, learning_rate=learning_rate, max_length=None, logging_steps=10_000,
                          save_strategy="no", report_to=[], use_cpu=True, seed=0, dataloader_num_workers=0,
                          disable_tqdm=True, bf16=False, gradient_checkpointing=False)
    dataset = Dataset.from_dict(trl_pairs(rows, max_length, backbone))
    return RewardTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer,
                         callbacks=list(callbacks))


def trl_accuracy(model, rows: list[dict], max_length: int, backbone: str = BACKBONE) -> float:
    import torch

    from studio.rewards.encoding import Encoded, collate

    pairs = trl_pairs(rows, max_length, backbone)
    pad = model.config.pad_token_id or 0
    model.eval()
    scores = []
    with torch.inference_mode():
        for key in ("chosen_ids", "rejected_ids"):
            out = []
            for start in range(0, len(rows), 64):
                batch = collate([Encoded(ids, None) for ids in pairs[key][start:start + 64]], pad)
                out.append(model(**batch).logits[:, 0])
            scores.append(torch.cat(out))
    diff = scores[0] - scores[1]
    return float(((diff > 0).float() + 0.5 * (diff == 0).float()).mean())


# -- children: each measured piece runs in its own process (clean peak memory) ---------------

def child_trl_accuracy(args: dict) -> dict:
    setup_threads()
    work = Path(args["work"])
    train_rows = read_jsonl(Path(args["train"]))
    backbone = args.get("backbone", BACKBONE)
    trainer = trl_trainer(train_rows, args["max_length"], work, learning_rate=args["learning_rate"],
                          backbone=backbone)
    started = time.monotonic()
    trainer.train()
    train_s = time.monotonic() - started
    accuracy = trl_accuracy(trainer.model, read_jsonl(Path(args["dev"])), args["max_length"], backbone)
    return {"heldout_accuracy": accuracy, "train_pairs": len(train_rows), "train_s": train_s,
            "pairs_per_s": len(train_rows) / train_s, "peak_mb": peak_rss_mb()}


def child_studio_accuracy(args: dict) -> dict:
    setup_threads()
    from studio.api import Studio
    from studio.config import TrainingConfig

    backbone = args.get("backbone", BACKBONE)
    training = TrainingConfig(backbone=backbone, max_length=args["max_length"], retrain_every=0)
    folder = f"studio-accuracy-{args['mode']}" if backbone == BACKBONE else f"studio-accuracy-{backbone}"
    with Studio.open(Path(args["work"]) / folder, queue_url="immediate", training=training) as studio:
        built = {}
        if args["mode"] == "head" and backbone != BACKBONE:     # the cache first, timed apart
            built = studio.build_features(backbone, pairs_files=[args["train"], args["dev"]], progress=False)
        metrics = studio.train_reward_model(mode=args["mode"], pairs_file=args["train"], eval_file=args["dev"],
                                            epochs=1, batch_size=16, activate="always", progress=False,
                                            **({"lora_rank": args["lora_rank"]} if args.get("lora_rank") else {}))
    return {**{k: metrics.get(k) for k in ("heldout_accuracy", "train_pairs", "train_s", "embed_s", "wall_s",
                                            "pairs_per_s", "epochs", "steps")}, "peak_mb": peak_rss_mb(),
            "features": {k: built.get(k) for k in ("vectors", "embedded", "cached_before", "wall_s")} if built else None}


def llmfao_votes() -> list[dict]:
    return read_jsonl(PREFS / "elo_llmfao_crowd_votes.jsonl")


def child_studio_throughput(args: dict) -> dict:
    setup_threads()
    from studio.rewards.data import from_comparisons
    from studio.rewards.net import build_net, make_spec
    from studio.rewards.train import TrainingCancelled, TrainSettings, train

    outcome = {"model_a": "left", "model_b": "right", "tie": "tie"}
    rows = [{"id": n + 1, "outcome": outcome[v["winner"]], "prompt": v["prompt"], "left_text": v["response_a"],
             "right_text": v["response_b"]} for n, v in enumerate(llmfao_votes())]
    data = from_comparisons(rows)
    net = build_net(make_spec(BACKBONE, mode="full", max_length=args["max_length"]))
    marks: list[tuple[float, float, int]] = []

    def progress(update):
        if update.phase == "training":
            marks.append((time.monotonic(), time.process_time(), update.pairs))

    try:
        train(net, data, None, TrainSettings(epochs=1, batch_size=16), progress=progress,
              should_stop=lambda: len(marks) > args["steps"])
    except TrainingCancelled:
        pass
    (t0, c0, p0), (t1, c1, p1) = marks[0], marks[args["steps"]]
    return {"votes_per_s": (p1 - p0) / (t1 - t0), "votes_per_cpu_s": (p1 - p0) / (c1 - c0),
            "steps": args["steps"], "votes": p1 - p0,
            "votes_in_data": len(data.pairs), "ties_in_data": len(data.pairs) - data.decisive,
            "outputs_per_step": 32, "peak_mb": peak_rss_mb()}


def child_trl_throughput(args: dict) -> dict:
    setup_threads()
    from transformers import TrainerCallback

    rows = [{"prompt": v["prompt"], "chosen": v["response_a"] if v["winner"] == "model_a" else v["response_b"],
             "rejected": v["response_b"] if v["winner"] == "model_a" else v["response_a"]}
            for v in llmfao_votes() if v["winner"] != "tie"]
    random.Random(0).shuffle(rows)
    marks: list[tuple[float, float]] = []

    class Clock(TrainerCallback):
        def on_step_end(self, *_, **__):
            marks.append((time.monotonic(), time.process_time()))

    trainer = trl_trainer(rows[:16 * (args["steps"] + 2)], args["max_length"], Path(args["work"]),
                          learning_rate=1e-4, max_steps=args["steps"] + 1, callbacks=[Clock()])
    trainer.train()
    (t0, c0), (t1, c1) = marks[0], marks[args["steps"]]
    return {"votes_per_s": 16 * args["steps"] / (t1 - t0), "votes_per_cpu_s": 16 * args["steps"] / (c1 - c0),
            "steps": args["steps"],
            "votes": 16 * args["steps"], "decisive_votes_in_data": len(rows), "peak_mb": peak_rss_mb()}


CHILDREN = {"trl_accuracy": child_trl_accuracy, "studio_accuracy": child_studio_accuracy,
            "studio_throughput": child_studio_throughput, "trl_throughput": child_trl_throughput}


def run_child(name: str, **args) -> dict:
    started = time.monotonic()
    result = subprocess.run([sys.executable, __file__, "--child", name, json.dumps(args)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{result.stderr[-4000:]}")
    out = json.loads(result.stdout.strip().splitlines()[-1])
    out["process_s"] = time.monotonic() - started
    return out


# -- the three parts ------------------------------------------------------------------------

def accuracy_part(work: Path, quick: bool, max_length: int, backbone: str = BACKBONE) -> dict:
    train_rows = read_jsonl(PREFS / "hh_mix_train.jsonl")
    dev_rows = read_jsonl(PREFS / "hh_mix_dev.jsonl")
    n_pairs, n_dev = (200, 300) if quick else (2000, len(dev_rows))
    dev_rows = dev_rows[:n_dev]
    train_file = write_jsonl(work / f"train-{n_pairs}.jsonl", train_rows[:n_pairs])
    dev_file = write_jsonl(work / f"dev-{n_dev}.jsonl", dev_rows)
    longer = sum(1.0 if len(r["chosen"]) > len(r["rejected"]) else 0.5 if len(r["chosen"]) == len(r["rejected"])
                 else 0.0 for r in dev_rows) / len(dev_rows)
    common = {"work": str(work), "dev": str(dev_file), "max_length": max_length, "backbone": backbone}
    results = {"dev_pairs": n_dev, "longer_wins": longer}
    print(f"accuracy: {backbone}, {n_pairs} training pairs, {n_dev} dev pairs, max length {max_length}", flush=True)
    results["trl"] = run_child("trl_accuracy", train=str(train_file), learning_rate=1e-4, **common)
    print(f"  TRL RewardTrainer: {results['trl']['heldout_accuracy']:.3f}", flush=True)
    lora = {} if backbone == BACKBONE else {"lora_rank": 8}     # a decoder fine-tunes with LoRA
    results["studio_full"] = run_child("studio_accuracy", mode="full", train=str(train_file), **lora, **common)
    print(f"  studio full: {results['studio_full']['heldout_accuracy']:.3f}", flush=True)
    results["studio_head"] = run_child("studio_accuracy", mode="head", train=str(train_file), **common)
    print(f"  studio head: {results['studio_head']['heldout_accuracy']:.3f}", flush=True)
    if not quick and backbone == BACKBONE:
        all_file = write_jsonl(work / "train-all.jsonl", train_rows)
        results["studio_head_all"] = run_child("studio_accuracy", mode="head", train=str(all_file), **common)
        results["studio_head_all"]["train_pairs"] = len(train_rows)
        print(f"  studio head, all pairs: {results['studio_head_all']['heldout_accuracy']:.3f}", flush=True)
    results["n_pairs"] = n_pairs
    results["backbone"] = backbone
    results["lora_rank"] = lora.get("lora_rank")
    return results


def throughput_part(work: Path, quick: bool, max_length: int) -> dict:
    steps = 4 if quick else 20
    print(f"throughput: llmfao crowd votes, full fine-tuning, {steps} measured steps, max length {max_length}",
          flush=True)
    studio = run_child("studio_throughput", steps=steps, max_length=max_length, work=str(work))
    print(f"  studio: {studio['votes_per_s']:.1f} votes/s", flush=True)
    trl = run_child("trl_throughput", steps=steps, max_length=max_length, work=str(work))
    print(f"  TRL: {trl['votes_per_s']:.1f} votes/s", flush=True)
    return {"studio": studio, "trl": trl, "ratio": studio["votes_per_s"] / trl["votes_per_s"]}


def freshness_part(work: Path, quick: bool, max_length: int) -> dict:
    from studio.api import Studio
    from studio.jobs import start_worker_process

    setup_threads()
    folder = work / "studio-freshness"
    for name in ("studio.db", "studio.db-wal", "studio.db-shm", "queue.sqlite3", "queue.sqlite3-wal",
                 "queue.sqlite3-shm", "reward-models", "worker.log"):
        target = folder / name
        shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "studio.toml").write_text(f"[training]\nretrain_every = 50\nmax_length = {max_length}\n")
    pandalm = write_jsonl(work / "pandalm-first-1069.jsonl", read_jsonl(PREFS / "elo_pandalm_votes.jsonl", 1069))
    session_votes = 120 if quick else 400
    with Studio.open(folder, queue_url=None) as studio:
        studio.import_votes(PREFS / "elo_llmfao_crowd_votes.jsonl")
        studio.import_votes(pandalm)
        votes_in_db = studio.stats()["comparisons"]
        started = time.monotonic()
        first = studio.train_reward_model(mode="head", progress=False)
        first_s = time.monotonic() - started
        print(f"freshness: {votes_in_db:,} votes; first training {first_s:.1f} s "
              f"(embedding {first.get('embed_s')} s)", flush=True)
        worker = start_worker_process(studio.config)
        try:
            _wait_for_worker(folder / "worker.log")
            behind, trace = _session(studio, session_votes)
            _wait_idle(studio)
        finally:
            worker.stop()
        jobs = studio.jobs()
    trainings = jobs[(jobs["payload"].map(lambda p: p.get("trigger")) == "votes")]
    latencies = [(row.finished_at - row.created_at).total_seconds() for row in trainings.itertuples()
                 if row.status == "done"]
    activated = [bool((row.result or {}).get("activated")) for row in trainings.itertuples() if row.status == "done"]
    failed = int((trainings["status"] != "done").sum())
    return {"votes_in_db": votes_in_db, "first_training_s": first_s, "first_embed_s": first.get("embed_s"),
            "first_heldout_accuracy": first["heldout_accuracy"], "session_votes": session_votes, "trainings": len(trainings),
            "failed": failed, "latency_s": latencies, "activated": activated,
            "behind_mean": sum(behind) / len(behind), "behind_max": max(behind), "vote_interval_s": trace}


def _wait_for_worker(log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and "consumer" in log.read_text(errors="replace").lower():
            return
        time.sleep(0.5)
    raise RuntimeError(f"the worker did not start within {timeout}s; see {log}")


def _session(studio, n_votes: int, interval: float = 0.1) -> tuple[list[int], float]:
    """Raters re-judge pairs already in the studio at a steady pace; after each vote, how
    many votes the active model has not seen."""
    pairs = studio.comparisons(with_content=False)[["left_generation_id", "right_generation_id", "outcome"]]
    rng = random.Random(0)
    picks = [pairs.iloc[rng.randrange(len(pairs))] for _ in range(n_votes)]
    behind = []
    for n, pick in enumerate(picks):
        tick = time.monotonic()
        result = studio.vote(outcome=pick.outcome, rater=f"session-{n % 5}", left=int(pick.left_generation_id),
                             right=int(pick.right_generation_id), source="bench")
        models = studio.reward_models()
        active = models[models["active"]]
        seen = int(active["data_max_comparison_id"].iloc[0]) if not active.empty else 0
        behind.append(result.comparison.id - seen)
        time.sleep(max(0.0, interval - (time.monotonic() - tick)))
    return behind, interval


def _wait_idle(studio, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = studio.jobs(limit=5)
        if jobs.empty or not jobs["status"].isin(["queued", "running"]).any():
            return
        time.sleep(0.5)


# -- report ------------------------------------------------------------------------------------

def report(results: dict, args) -> None:
    print(f"\n== Reward models: studio vs TRL ({args.backbone}, 2 CPU threads) ==")
    print(f"command: python bench/reward_model.py{' --quick' if args.quick else ''}"
          f"{'' if args.backbone == BACKBONE else ' --backbone ' + args.backbone}")
    if "accuracy" in results:
        a = results["accuracy"]
        print(f"\nAccuracy on hh_mix_dev ({a['dev_pairs']} pairs; goal >= 0.60 and never below TRL)")
        rows = [("longer response wins", a["longer_wins"], None, None, None),
                (f"TRL RewardTrainer, {a['n_pairs']} pairs, lr 1e-4", a["trl"]["heldout_accuracy"],
                 a["trl"]["train_s"], a["trl"]["pairs_per_s"], a["trl"]["peak_mb"]),
                (f"studio full{', LoRA r=8' if a.get('lora_rank') else ''}, {a['n_pairs']} pairs",
                 a["studio_full"]["heldout_accuracy"],
                 a["studio_full"]["train_s"], a["studio_full"]["pairs_per_s"], a["studio_full"]["peak_mb"]),
                (f"studio head, {a['n_pairs']} pairs", a["studio_head"]["heldout_accuracy"],
                 a["studio_head"]["wall_s"], a["studio_head"]["train_pairs"] / a["studio_head"]["wall_s"],
                 a["studio_head"]["peak_mb"])]
        if "studio_head_all" in a:
            h = a["studio_head_all"]
            rows.append((f"studio head, all {h['train_pairs']} pairs", h["heldout_accuracy"], h["wall_s"],
                         h["train_pairs"] / h["wall_s"], h["peak_mb"]))
        print(f"{'':44} {'accuracy':>9} {'train s':>9} {'pairs/s':>9} {'peak MB':>9}")
        for name, acc, secs, rate, mem in rows:
            print(f"{name:44} {acc:9.3f} {_num(secs):>9} {_num(rate):>9} {_num(mem):>9}")
        print("  (studio head: train s is the whole training, held-out scoring and the embedding of "
              f"outputs not yet cached included: embedding took {a['studio_head'].get('embed_s')} s this run)")
        features = a["studio_head"].get("features")
        if features:
            print(f"  ({a['backbone']} feature cache built before the timed part by `Studio.build_features`: "
                  f"{features['embedded']} of {features['vectors']} vectors embedded in {features['wall_s']:.0f} s, "
                  f"{features['cached_before']} already cached)")
    if "throughput" in results:
        t = results["throughput"]
        print("\nThroughput on llmfao crowd votes, full fine-tuning (goal: studio >= 3x TRL)")
        print(f"{'':44} {'votes/s':>9} {'/CPU s':>9} {'peak MB':>9}")
        for name, side in (("studio (ties 0.5, all votes)", t["studio"]), ("TRL RewardTrainer (ties dropped)", t["trl"])):
            print(f"{name:44} {side['votes_per_s']:9.1f} {side['votes_per_cpu_s']:9.1f} {side['peak_mb']:9.0f}")
        cpu_ratio = t["studio"]["votes_per_cpu_s"] / t["trl"]["votes_per_cpu_s"]
        print(f"  studio / TRL = {t['ratio']:.1f}x by wall time, {cpu_ratio:.1f}x by CPU time; "
              f"studio data {t['studio']['votes_in_data']} votes "
              f"({t['studio']['ties_in_data']} ties), TRL {t['trl']['decisive_votes_in_data']} decisive")
    if "freshness" in results:
        f = results["freshness"]
        lat = f["latency_s"]
        print(f"\nFreshness: {f['votes_in_db']:,} votes, head mode, retrain every 50 votes, one worker "
              "(goal: < 15 s from the threshold vote to the new active version)")
        print(f"  first training: {f['first_training_s']:.1f} s, of which embedding the outputs not yet in "
              f"the cache {f['first_embed_s']} s; held-out accuracy {f['first_heldout_accuracy']:.3f}")
        if lat:
            print(f"  {f['trainings']} retrains during a {f['session_votes']}-vote session "
                  f"(a vote every {f['vote_interval_s']} s): threshold vote -> new version "
                  f"mean {sum(lat) / len(lat):.1f} s, max {max(lat):.1f} s; activated {sum(f['activated'])} of "
                  f"{len(lat)} (the rest were worse beyond the noise on the held-out votes); failed {f['failed']}")
        print(f"  votes the active model had not seen: mean {f['behind_mean']:.0f}, max {f['behind_max']}")


def _num(value) -> str:
    return "" if value is None else f"{value:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 pairs, max length 128, short session")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "studio-bench-reward-model",
                        help="Work dir; keeps the embedding cache between runs")
    parser.add_argument("--parts", default="accuracy,throughput,freshness",
                        help="Comma-separated: accuracy, throughput, freshness")
    parser.add_argument("--json", type=Path, help="Also write the results here")
    parser.add_argument("--backbone", default=BACKBONE,
                        help="The accuracy part's backbone for TRL and the studio (e.g. smollm2-135m: the studio "
                             "builds its feature cache first, timed apart, and fine-tunes it with LoRA r=8)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](json.loads(rest[0]))))
        return
    if not PREFS.is_dir():
        sys.exit(f"{PREFS} is absent: the benchmark needs the real preference data in ../shared/data/prefs/")
    work = args.work / ("quick" if args.quick else "full")
    work.mkdir(parents=True, exist_ok=True)
    max_length = 128 if args.quick else 256
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    started = time.monotonic()
    results = {}
    if "accuracy" in parts:
        results["accuracy"] = accuracy_part(work, args.quick, max_length, args.backbone)
    if "throughput" in parts:
        results["throughput"] = throughput_part(work, args.quick, max_length)
    if "freshness" in parts:
        results["freshness"] = freshness_part(work, args.quick, max_length)
    report(results, args)
    print(f"\ntotal {time.monotonic() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
