"""Best-of-n: sample n outputs from a base contender and keep the one a scorer likes best.

The scorer is injected: any `scorer(prompt, outputs) -> scores` callable, given texts for a
text base and PNG bytes for an image base (the generators pass the active reward model of
that kind: `score_batch`, or `score_images`), so an image studio gets a contender its votes
improve too: n images, the image reward model picks. The kept output records every sample's
score, the index chosen and the seed it was sampled with, so the choice can be audited and
replayed.

Without a reward model that passed the activation gate (`scorer=None`, with the reason),
best-of-n falls back to its base contender: one base sample per request, kept as it is, its
params saying `fallback` and why (and a warning in the log).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from studio.contender_spec import ContenderSpec
from studio.generation.base import Generator, OnProgress, Output, Request, ShouldStop, derive_seed

Scorer = Callable[[str, list], list[float]]
log = logging.getLogger(__name__)


class BestOfN:
    def __init__(self, spec: ContenderSpec, base: Generator, scorer: Scorer | None, fallback: str = ""):
        if base.kind not in ("text", "image"):
            raise ValueError(f"best_of_n samples a text or image contender; {base.spec.name!r} is {base.kind}")
        self.kind = base.kind
        self.spec = spec
        self.base = base
        self.scorer = scorer
        self.fallback = fallback or ("no reward model" if scorer is None else "")
        self.n = int(spec.params.get("n", 4))

    def sample_requests(self, request: Request) -> list[Request]:
        """The n base samples one request stands for (seeds derived from its seed)."""
        return [Request(prompt=request.prompt, seed=derive_seed(request.seed, "best-of-n", j),
                        system_prompt=request.system_prompt, key=j) for j in range(self.n)]

    def generate(self, requests: Sequence[Request], *, batch_size: int = 8,
                 should_stop: ShouldStop | None = None, on_progress: OnProgress | None = None) -> list[Output]:
        if self.scorer is None:
            return self._base_only(requests, batch_size, should_stop, on_progress)
        samples = [s for r in requests for s in self.sample_requests(r)]
        progress = (lambda done, total: on_progress(done // self.n, len(requests))) if on_progress else None
        started = time.perf_counter()
        made = self.base.generate(samples, batch_size=batch_size, should_stop=should_stop, on_progress=progress)
        latency_ms = (time.perf_counter() - started) * 1000
        outputs = []
        for index, request in enumerate(requests):
            group = made[index * self.n:(index + 1) * self.n]
            samples = [o.image_png for o in group] if self.kind == "image" else [o.text or "" for o in group]
            scores = [float(s) for s in self.scorer(request.prompt, samples)]
            if len(scores) != len(group):
                raise ValueError(f"the scorer returned {len(scores)} scores for {len(group)} responses")
            best = max(range(len(group)), key=scores.__getitem__)
            params = {"base": self.base.spec.name, "n": self.n,
                      "reward_model": self.spec.params.get("reward_model", "active"),
                      "scores": scores, "chosen": best, "chosen_seed": group[best].request.seed,
                      "base_params": group[best].params}
            outputs.append(Output(request=request, text=group[best].text, image_png=group[best].image_png,
                                  params=params, latency_ms=latency_ms, new_tokens=sum(o.new_tokens for o in group)))
        return outputs

    def _base_only(self, requests, batch_size, should_stop, on_progress) -> list[Output]:
        """The fallback: the base contender's own output, saying why nothing was picked."""
        log.warning("best_of_n %r falls back to its base %r: %s", self.spec.name, self.base.spec.name, self.fallback)
        made = self.base.generate(list(requests), batch_size=batch_size, should_stop=should_stop,
                                  on_progress=on_progress)
        return [Output(request=request, text=out.text, image_png=out.image_png, latency_ms=out.latency_ms,
                       new_tokens=out.new_tokens,
                       params={"base": self.base.spec.name, "n": 1, "fallback": f"kept the base's output: {self.fallback}",
                               "reward_model": self.spec.params.get("reward_model", "active"),
                               "base_params": out.params})
                for request, out in zip(requests, made, strict=True)]
