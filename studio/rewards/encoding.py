"""Turning (prompt, response) into model inputs, and inputs into padded batches.

The response always fits: it keeps its first tokens up to the budget, and the prompt is cut
from the left (its end, closest to the response, is what matters most). Encoders see the
pair as `[CLS] prompt [SEP] response [SEP]` (whatever template their tokenizer uses);
decoders see `prompt response` and are scored at the last real token.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

# Tokens kept for the prompt even when the response alone would fill the budget.
MIN_PROMPT_TOKENS = 16


_SIDE_LOCK = threading.Lock()


@contextmanager
def truncating_from(tokenizer, side: str) -> Iterator[None]:
    """Tokenize with `truncation_side` set to `side`; one thread at a time, because the
    setting lives on the tokenizer and a frozen backbone's tokenizer is shared."""
    with _SIDE_LOCK:
        old = tokenizer.truncation_side
        tokenizer.truncation_side = side
        try:
            yield
        finally:
            tokenizer.truncation_side = old


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    token_type_ids: list[int] | None


class TextEncoder:
    def __init__(self, tokenizer, architecture: str, max_length: int):
        self.tokenizer = tokenizer
        self.architecture = architecture
        self.max_length = max_length
        self.specials = tokenizer.num_special_tokens_to_add(pair=True) if architecture != "decoder" else 0

    def encode(self, prompts: Sequence[str], responses: Sequence[str]) -> list[Encoded]:
        if len(prompts) != len(responses):
            raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
        if not prompts:
            return []
        if self.architecture == "decoder":
            return self._encode_decoder(prompts, responses)
        return self._encode_pairs(prompts, responses)

    def _response_budget(self) -> int:
        return max(1, self.max_length - self.specials - min(MIN_PROMPT_TOKENS, self.max_length // 4))

    def _cut_responses(self, responses: Sequence[str]) -> list[str]:
        """Cut each response at the token that ends its budget (by character offset)."""
        budget = self._response_budget()
        tokens = self.tokenizer(list(responses), add_special_tokens=False, return_offsets_mapping=True)
        cut = []
        for response, offsets in zip(responses, tokens["offset_mapping"], strict=True):
            cut.append(response[:offsets[budget - 1][1]] if len(offsets) > budget else response)
        return cut

    def _encode_pairs(self, prompts: Sequence[str], responses: Sequence[str]) -> list[Encoded]:
        cut = self._cut_responses(responses)
        with truncating_from(self.tokenizer, "left"):
            out = self.tokenizer(list(prompts), cut, truncation="only_first", max_length=self.max_length)
        types = out.get("token_type_ids")
        return [Encoded(ids, types[i] if types is not None else None) for i, ids in enumerate(out["input_ids"])]

    def _encode_decoder(self, prompts: Sequence[str], responses: Sequence[str]) -> list[Encoded]:
        tokenizer = self.tokenizer
        prompt_ids = tokenizer(list(prompts), add_special_tokens=False)["input_ids"]
        response_ids = tokenizer([f"\n{r}" for r in responses], add_special_tokens=False)["input_ids"]
        bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
        eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
        budget = self.max_length - len(bos) - len(eos)
        encoded = []
        for p, r in zip(prompt_ids, response_ids, strict=True):
            r = r[:max(1, budget - min(MIN_PROMPT_TOKENS, budget // 4))]
            room = budget - len(r)
            p = p[-room:] if room > 0 else []
            encoded.append(Encoded(bos + p + r + eos, None))
        return encoded


def collate(encoded: Sequence[Encoded], pad_token_id: int):
    """Pad to the longest sequence in this batch (dynamic padding); right padding."""
    import torch

    length = max(len(e.input_ids) for e in encoded)
    ids = torch.full((len(encoded), length), pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(encoded), length), dtype=torch.long)
    with_types = encoded[0].token_type_ids is not None
    types = torch.zeros((len(encoded), length), dtype=torch.long) if with_types else None
    for row, item in enumerate(encoded):
        n = len(item.input_ids)
        ids[row, :n] = torch.tensor(item.input_ids)
        mask[row, :n] = 1
        if types is not None:
            types[row, :n] = torch.tensor(item.token_type_ids)
    batch = {"input_ids": ids, "attention_mask": mask}
    if types is not None:
        batch["token_type_ids"] = types
    return batch


def length_chunks(lengths: Sequence[int], max_tokens: int) -> list[list[int]]:
    """Indices sorted by length and cut into chunks of at most `max_tokens` padded tokens,
    so a step's sequences are padded only to their neighbours' lengths."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    chunks: list[list[int]] = []
    current: list[int] = []
    for index in order:
        longest = lengths[index]  # sorted ascending: the newest is the longest
        if current and longest * (len(current) + 1) > max_tokens:
            chunks.append(current)
            current = []
        current.append(index)
    if current:
        chunks.append(current)
    return chunks
