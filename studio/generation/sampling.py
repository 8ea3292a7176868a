"""Sampling in the studio's own hands: every row of a batch draws from its own seeded
generator, so a row's tokens never depend on what else is in its batch, nor on whether the
rows that finished have left it (`SeededSampler.rows`)."""

from __future__ import annotations

import copy
from typing import Any


class SeededSampler:
    """Samples every row with its own seeded generator after temperature, top-k and top-p,
    then leaves only the drawn token possible, so generate()'s greedy step picks it.

    Top-p keeps the most probable tokens while the mass above them is under `top_p` (as
    transformers' TopPLogitsWarper does). Rather than sorting the whole vocabulary every step,
    it looks at the `CANDIDATES` most probable tokens, which hold the kept set whenever their
    mass reaches `top_p` (nearly always); otherwise that step sorts everything. Same tokens
    kept, a fraction of the work: sorting 49k logits per row was a quarter of generation time.
    """

    CANDIDATES = 1024

    def __init__(self, seeds: list[int], params: dict[str, Any], device: str):
        import torch

        self.generators = [torch.Generator(device=device).manual_seed(int(s)) for s in seeds]
        self.temperature = float(params["temperature"])
        self.top_k = int(params.get("top_k") or 0)
        self.top_p = float(params.get("top_p", 1.0))

    def __call__(self, input_ids, scores):
        import torch

        scores = scores / self.temperature
        vocabulary = scores.shape[-1]
        limit = min(self.top_k or vocabulary, vocabulary)
        if self.top_p >= 1.0 and limit == vocabulary:
            candidates, probs = None, torch.softmax(scores, dim=-1)          # plain sampling
        else:
            values, candidates = torch.topk(scores, min(limit, self.CANDIDATES), dim=-1)
            if limit <= self.CANDIDATES:              # top-k: the distribution is these k alone
                probs = torch.softmax(values, dim=-1)
            else:                                     # shares of the whole vocabulary
                probs = torch.exp(values - torch.logsumexp(scores, dim=-1, keepdim=True))
                if limit < vocabulary or bool((probs.sum(dim=-1) < self.top_p).any()):
                    values, candidates = torch.sort(scores, dim=-1, descending=True)
                    values, candidates = values[:, :limit], candidates[:, :limit]
                    probs = torch.softmax(values, dim=-1)
            if self.top_p < 1.0:
                above = torch.cumsum(probs, dim=-1) - probs
                probs = probs.masked_fill(above >= self.top_p, 0.0)
        drawn = torch.cat([torch.multinomial(probs[i], 1, generator=g) for i, g in enumerate(self.generators)])
        if candidates is not None:
            drawn = candidates.gather(1, drawn[:, None]).squeeze(1)
        chosen = torch.full_like(scores, float("-inf"))
        chosen.scatter_(1, drawn[:, None], 0.0)
        return chosen

    def rows(self, keep: list[int]) -> SeededSampler:
        """A sampler for the rows `keep` (positions in this one's batch), sharing their
        generators: the rows go on drawing exactly as they would have."""
        subset = copy.copy(self)
        subset.generators = [self.generators[i] for i in keep]
        return subset
