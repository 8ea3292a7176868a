"""One improvement of a contender, start to finish: gather the pairs (human votes for `dpo`,
reward-model-scored samples for `rm-dpo`), train a LoRA adapter with DPO, move it into the
artifact store under a versioned key, then register `NAME@vN` with its lineage and finish the
job in one transaction. When that transaction writes nothing (the job ended meanwhile: a
cancel, a reaper) the adapter is removed: nothing is registered from a job that did not
finish. `plan_improvement` is the validation both the foreground call and `enqueue` run
before writing anything."""

from __future__ import annotations

import dataclasses
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.contender_spec import ContenderSpec
from studio.errors import InputError, NotFoundError, StudioError
from studio.records import ContenderRecord
from studio.services.improvement_request import ImproveRequest

ADAPTERS = "adapters"        # artifact prefix of improved versions' adapters
FREE_PROMPT_SET = "free"


class ImprovementEnded(StudioError):
    """The job of an improvement ended (failed or cancelled elsewhere) before it finished."""


@dataclass
class Plan:
    """A validated request: the contender, and for `dpo` the pairs from its votes."""

    request: ImproveRequest
    contender: ContenderRecord
    pairs: Any = None                  # policy.pairs.PairSet (dpo), filled in at the start for rm-dpo
    gate: str | None = None            # rm-dpo: the reward model's verdict


def plan_improvement(services, request: ImproveRequest) -> Plan:
    """Check a request against the studio (reads only); a one-line error when it cannot run."""
    from studio.policy.onpolicy import beats_chance
    from studio.policy.pairs import vote_pairs

    with services.store.reader() as tx:
        contender = tx.contenders.get(request.contender)
        votes = tx.improvement.votes_involving(contender.id) if contender and request.method == "dpo" else []
    if contender is None:
        raise NotFoundError(f"no contender named {request.contender!r}: see `studio contenders list`")
    if contender.kind != "text":
        raise InputError(f"contender {contender.name!r} makes images: DPO trains text models; an image contender "
                         "improves with best-of-n (`studio contenders add NAME --backend best_of_n --param base=...`)")
    if contender.backend != "transformers":
        raise InputError(f"contender {contender.name!r} ({contender.backend}) has no model of its own to train: "
                         "improve a transformers contender")
    if request.method == "dpo":
        pairs = vote_pairs(votes, contender.id)
        if not pairs.pairs:
            raise InputError(f"no decisive votes on {contender.name!r}'s outputs yet ({pairs.describe_left_out()}): "
                             "collect votes in the arena first")
        return Plan(request, contender, pairs=pairs)
    active = services.registry.active_record("text")
    if active is None:
        raise InputError("rm-dpo needs an active text reward model: train one first (`studio train`)")
    ok, verdict = _gate(active, beats_chance)
    if not ok:
        raise InputError(f"rm-dpo refused: the active reward model v{active.version} does not beat chance beyond "
                         f"the noise ({verdict}); collect more votes and retrain, or use --method dpo")
    return Plan(request, contender, gate=verdict)


def _gate(active, beats_chance) -> tuple[bool, str]:
    """Whether the active reward model may label pairs: it passed the activation gate (which
    asks more than chance: beyond cluster-by-prompt noise, and better than the longer-answer
    rule), and the held-out figures said in words."""
    from studio.services.registry import gate_status

    metrics = active.metrics or {}
    _, figures = beats_chance(metrics.get("heldout_accuracy"), metrics.get("heldout_pairs"))
    return active.gate_passed, f"it {gate_status(active)}; {figures}"


def improve_and_register(services, plan: Plan, *, job_id: int | None,
                         progress: Callable | None = None, should_stop: Callable[[], bool] | None = None,
                         summary: Callable[[dict[str, Any]], str] | None = None) -> dict[str, Any]:
    """Train and register one improved version; finish `job_id` in the same transaction.
    Returns the metrics with `contender` (the new name), `version` and `parent`."""
    from studio.generation.text import base_model_dir
    from studio.policy.lineage import family_of, lineage, version_name
    from studio.policy.train import train_dpo

    started = time.monotonic()
    request, parent = plan.request, plan.contender
    spec = ContenderSpec(name=parent.name, kind=parent.kind, backend=parent.backend, model=parent.model,
                         params=dict(parent.params))
    pairs = plan.pairs if request.method == "dpo" else _onpolicy_pairs(services, plan, progress, should_stop)
    if not pairs.pairs:
        raise StudioError(f"rm-dpo: the reward model told none of the sampled answers apart "
                          f"({pairs.describe_left_out()}); nothing to train on")
    system = spec.params.get("system_prompt")
    train_pairs = [dataclasses.replace(p, system_prompt=system or p.system_prompt) for p in pairs.pairs]
    settings = request.dpo_settings()
    family = family_of((parent.lineage or {}).get("family") or parent.name)
    parent_adapter = spec.params.get("adapter")
    with services.store.reader() as tx:
        version = 1 + max((c.version for c in tx.contenders.list() if family_of(c.name) == family), default=1)
    name = version_name(family, version)
    key = f"{ADAPTERS}/{family}/v{version}-{uuid.uuid4().hex[:8]}"
    staging = services.artifacts.staging_dir(key)
    try:
        outcome = train_dpo(
            base_model_dir(spec, services.config.cache_dir), train_pairs, settings, output_dir=staging,
            adapter_dir=services.generators.adapter_dir(parent.name, parent_adapter) if parent_adapter else None,
            progress=progress, should_stop=should_stop)
        services.artifacts.move_tree_in(key, staging)     # whole, before anything names it
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    metrics = {**outcome.metrics, "method": request.method, "contender": name, "version": version,
               "parent": parent.name, "wall_s": round(time.monotonic() - started, 3), **pairs.counts()}
    record = lineage(parent=parent.name, parent_id=parent.id, family=family, method=request.method,
                     counts=pairs.counts(), comparison_ids=pairs.comparison_ids, prompt_ids=pairs.prompt_ids,
                     settings=settings.to_dict(), metrics=outcome.metrics, adapter_key=key,
                     base_model=parent.model, job_id=job_id,
                     extra={"reward_model_gate": plan.gate} if plan.gate else None)
    new_spec = ContenderSpec(name=name, kind=parent.kind, backend=parent.backend, model=parent.model,
                             params={**parent.params, "adapter": key})
    try:
        with services.store.transaction() as tx:
            if tx.contenders.get(name) is not None:
                raise StudioError(f"a contender named {name!r} exists already: another improvement of {family} "
                                  "finished first; run it again")
            tx.contenders.register_version(new_spec, parent_id=parent.id, version=version, lineage=record)
            if job_id is not None:
                message = summary(metrics) if summary else f"{name} registered"
                if not tx.jobs.finish(job_id, _jsonable(metrics), message):
                    status = tx.jobs.get(job_id).status
                    raise ImprovementEnded(f"job {job_id} was {status} before the improvement finished: "
                                           f"nothing was registered")
    except BaseException:
        services.artifacts.remove_tree(key)
        raise
    return metrics


def _onpolicy_pairs(services, plan: Plan, progress, should_stop):
    """rm-dpo's pairs: k samples per prompt from the contender, scored by the active reward
    model, best against worst."""
    from studio.generation.base import Request, derive_seed
    from studio.policy.onpolicy import onpolicy_pairs
    from studio.policy.train import DPOCancelled, DPOProgress

    request = plan.request
    with services.store.reader() as tx:
        prompts = [p for p in tx.prompts.list(request.prompt_set)
                   if request.prompt_set is not None or p.prompt_set != FREE_PROMPT_SET][:request.max_prompts]
    if not prompts:
        raise InputError("rm-dpo needs prompts to sample: add some with `studio prompts add`")
    generator = services.generators.get(plan.contender.name)
    model = services.registry.load("active")
    answers, scores = [], []
    for index, prompt in enumerate(prompts):
        if should_stop and should_stop():
            raise DPOCancelled("cancelled while sampling; no version was registered")
        requests = [Request(prompt=prompt.text, seed=derive_seed("rm-dpo", prompt.id, j),
                            system_prompt=prompt.system_prompt) for j in range(request.samples)]
        texts = [o.text or "" for o in generator.generate(requests, batch_size=request.samples)]
        answers.append(texts)
        scores.append(list(model.score_batch([prompt.text] * len(texts), texts)))
        if progress:
            progress(DPOProgress("sampling", index + 1, len(prompts)))
    return onpolicy_pairs([(p.id, p.text, p.system_prompt) for p in prompts], answers, scores)


def _jsonable(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and v != v else v) for k, v in metrics.items()}


