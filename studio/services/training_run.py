"""One reward-model training, start to finish: snapshot the votes of one kind of output
(text or image: one model per kind), split by the studio's fixed held-out prompts, train,
pass it through the activation gate (services/reward_gate.py: better than chance and than
length, not worse than the best so far, on the same held-out votes), save the checkpoint,
then register it with the gate's decision, activate it only when it passed, and finish the
job in one transaction. The foreground call and the background job both run
`train_and_register`.

A job ends once: when it ended meanwhile (a reaper failed it, it was cancelled), the
finishing transaction writes nothing, the checkpoint is removed and `JobEnded` is raised."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio.config import StudioConfig
from studio.errors import InputError, StudioError
from studio.services.registry import RewardRegistry
from studio.services.reward_gate import evaluate_gate, gate_metrics, may_activate
from studio.services.training_request import TrainingRequest
from studio.store import Store

CHECKPOINTS_PREFIX = "reward-models"      # checkpoint keys: reward-models/rm-<time>-<hex>


class JobEnded(StudioError):
    """The job of a training ended (failed or cancelled elsewhere) before it finished."""


def train_and_register(store: Store, config: StudioConfig, registry: RewardRegistry, request: TrainingRequest, *,
                       job_id: int | None = None, progress: Callable | None = None,
                       should_stop: Callable[[], bool] | None = None,
                       summary: Callable[[dict[str, Any]], str] | None = None) -> dict[str, Any]:
    """Train, evaluate, save, register and (maybe) activate one reward model, and finish
    `job_id` (its message: `summary(metrics)`) in the same transaction. Returns its metrics
    with `version`, `activated` and `kind`."""
    from studio.rewards.data import read_pairs_file
    from studio.rewards.net import build_net, make_spec
    from studio.rewards.train import TrainSettings, train

    started = time.monotonic()
    settings = config.training
    seed = settings.seed if request.seed is None else request.seed
    data, kind, source = _training_data(store, registry, request)
    if request.eval_file:
        train_data, heldout = data, read_pairs_file(request.eval_file)
    else:
        train_data, heldout = fixed_split(store, data, settings.heldout_fraction)
    if request.max_pairs:
        train_data = train_data.head(request.max_pairs)
    if not train_data.pairs:
        raise StudioError(f"nothing to train on: every {kind} vote's prompt is held out or no decisive votes or "
                          f"ties on {kind} outputs exist yet; record more votes on more prompts")
    backbone = request.backbone or (settings.image_backbone if kind == "image" else None) or settings.backbone
    if kind == "image" and backbone == "all-minilm-l6-v2":
        raise InputError("these votes are on images: name a CLIP-style backbone (e.g. openai/clip-vit-base-patch32) "
                         "with --backbone or [training] image_backbone in studio.toml")
    spec = make_spec(backbone, kind=kind, mode=request.mode,
                     max_length=request.max_length or settings.max_length,
                     lora_rank=request.lora_rank, train_layers=request.train_layers,
                     ensemble=request.ensemble if request.mode == "head" else 0, head_hidden=request.head_hidden,
                     **({} if request.length_features else {"cheap_features": False, "interaction": "none"}))
    head_mode = spec.mode == "head"
    train_settings = TrainSettings(       # flags and [training] -> the trainer's config: TrainSettings.config
        epochs=request.epochs or (settings.epochs if head_mode else settings.full_epochs),
        batch_size=request.batch_size or settings.batch_size,
        learning_rate=request.learning_rate, head_learning_rate=settings.learning_rate, seed=seed)
    outcome = train(build_net(spec), train_data, heldout, train_settings, cache_root=registry.embeddings_dir,
                    progress=progress, should_stop=should_stop)
    metrics = outcome.metrics
    decision = evaluate_gate(registry, heldout, outcome.heldout_rewards, kind=kind)
    metrics.update(gate_metrics(decision))
    activate = may_activate(request.activate, decision)

    name = f"rm-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    data_range = {"source": source, "min_comparison_id": data.min_comparison_id,
                  "max_comparison_id": data.max_comparison_id, "train_pairs": len(train_data.pairs),
                  "heldout_pairs": len(heldout.pairs), "job_id": job_id}
    key = store_checkpoint(registry.artifacts, outcome.net, name, metrics=metrics, data=data_range)
    metrics["wall_s"] = round(time.monotonic() - started, 3)
    metrics["kind"] = kind
    try:
        with store.transaction() as tx:
            version = tx.reward_models.next_version()
            metrics["version"] = version
            metrics["activated"] = activate
            record = tx.reward_models.register(
                version=version, kind=spec.kind, mode=spec.mode, backbone=spec.backbone,
                checkpoint_path=key, metrics=jsonable(metrics),
                data_max_comparison_id=data.max_comparison_id, job_id=job_id,
                gate=jsonable_gate(decision.to_dict()))
            if activate:
                tx.reward_models.activate(record.version)
            if job_id is not None:
                message = summary(metrics) if summary else f"v{version} trained"
                if not tx.jobs.finish(job_id, jsonable(metrics), message):
                    status = tx.jobs.get(job_id).status
                    raise JobEnded(f"job {job_id} was {status} before its training finished: nothing was "
                                   "registered and the active reward model is unchanged")
    except BaseException:
        registry.artifacts.remove_tree(key)
        raise
    registry.forget()
    return metrics


def store_checkpoint(artifacts, net, name: str, *, metrics: dict[str, Any], data: dict[str, Any]) -> str:
    """Save the net's checkpoint into the artifact store as `reward-models/<name>`; returns the
    key once it is stored whole (only then may the database name it)."""
    from studio.rewards import checkpoint

    key = f"{CHECKPOINTS_PREFIX}/{name}"
    staging = artifacts.staging_dir(key)
    try:
        saved = checkpoint.save(net, staging / name, metrics=metrics, data=data)
        return artifacts.move_tree_in(key, saved)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _training_data(store: Store, registry: RewardRegistry, request: TrainingRequest):
    """The pairs to learn from, all of one kind of output, and where they came from."""
    from studio.rewards.data import from_comparisons, read_pairs_file

    if request.pairs_file:
        if request.kind == "image":
            raise InputError("a pairs file holds text (prompt, chosen, rejected): drop kind='image'")
        return read_pairs_file(request.pairs_file), "text", f"file:{Path(request.pairs_file).name}"
    with store.reader() as tx:
        newest = tx.reward_models.max_comparison_id()
        rows = list(tx.reward_models.preference_rows(newest))
    rows = _with_texts(rows)
    data = from_comparisons(rows, media_file=registry.media_file)
    kinds = data.kinds
    if request.kind is None and len(kinds) > 1:
        raise InputError("the votes are on text and on image outputs: train one reward model per kind, "
                         "kind='text' or kind='image' (`studio train --kind`)")
    kind = request.kind or (kinds.pop() if kinds else "text")
    return data.of_kind(kind), kind, "votes"


def _with_texts(rows: list[dict]) -> list[dict]:
    """The votes whose two sides carry their responses: votes imported from a battle log
    (models and outcomes only) are left out, and refused when nothing else is left."""
    from studio.records import TEXTLESS_SHA256

    kept = [r for r in rows if TEXTLESS_SHA256 not in (r.get("left_sha256"), r.get("right_sha256"))]
    if rows and not kept:
        raise InputError(f"the {len(rows)} votes to train on name models only (imported without response "
                         "texts): a reward model needs the texts; import votes with response_a and response_b")
    return kept


def fixed_split(store: Store, data, fraction: float):
    """(train, held-out) by the studio's fixed held-out set: prompts seen before keep their
    stored side; new ones are placed by `splits.assign_sides` and recorded."""
    from studio.rewards.data import split_by_heldout
    from studio.splits import assign_sides, prompt_hash

    prompts = sorted(data.prompts())
    with store.reader() as tx:
        known = tx.reward_models.heldout_assignments([prompt_hash(p) for p in prompts])
    sides = assign_sides(prompts, fraction, known)
    new = {prompt_hash(p): held for p, held in sides.items() if prompt_hash(p) not in known}
    if new:
        with store.transaction() as tx:
            tx.reward_models.assign_heldout(new, fraction)
    return split_by_heldout(data, {p for p, held in sides.items() if held})


def jsonable_gate(gate: dict[str, Any]) -> dict[str, Any]:
    """A gate decision as JSON can store it (infinite bounds become None)."""
    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            return None
        return value
    return clean(gate)


def jsonable(metrics: dict[str, Any]) -> dict[str, Any]:
    """Metrics as JSON can store them (NaN becomes None)."""
    return {key: (None if isinstance(value, float) and value != value else value) for key, value in metrics.items()}
