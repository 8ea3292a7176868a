"""The completion tokens' log-probabilities for DPOTrainer on a CPU, projected only where they
count.

TRL's DPOTrainer patches the model with its fused LM head (`add_fused_lm_head`) and calls
`model(..., labels=labels, fused_lm_head=True)` for per-token log-probs. On a GPU that head
keeps memory flat with Triton kernels over the completion positions only. On a CPU it scores
every position, prompt and padding included, and its backward re-projects each vocabulary
tile and copies it to float32 before accumulating: on SmolLM2-135M (a 49,152-token
vocabulary) it was 63% of a DPO step over 8 pairs (bench/improve.py, bench/RESULTS.md).

`install_completion_head` puts a plain head in front of TRL's on such a model: the positions
whose label counts are projected through the model's own output embedding and scored with
one `log_softmax`, whose backward autograd runs in one fused kernel. The fields DPOTrainer reads
(log_probs, entropy, mean_logits, is_top1, zero where the label is -100) are TRL's own output
type. Calls it does not cover (no fused head asked for, pre-shifted labels, router logits) go
on to TRL's head unchanged. Memory: the completion tokens' logits of one batch in float32
(8 pairs x 2 x 128 tokens x 49,152 x 4 bytes = 400 MB at most), which a CPU has.
"""

from __future__ import annotations

import types

# Config fields by which a model scales or soft-caps its logits: TRL's head applies them, this one does not.
_LOGIT_TRANSFORMS = ("final_logit_softcapping", "logit_scale", "output_multiplier", "lm_head_multiplier",
                     "logits_scaling")


def completion_head_applies(model) -> bool:
    """Whether the plain head would compute what TRL's does, faster: on a CPU, for a model
    with an output embedding that neither scales nor soft-caps its logits."""
    config = model.config.get_text_config()
    head = model.get_output_embeddings()
    return (head is not None and head.weight.device.type == "cpu"
            and all(getattr(config, name, None) is None for name in _LOGIT_TRANSFORMS))


def install_completion_head(model) -> bool:
    """Answer `model(..., labels=..., fused_lm_head=True)` with the plain head (call after
    TRL patched `model`, before its first such call). Returns False, changing nothing, where
    `completion_head_applies` says no."""
    if not completion_head_applies(model):
        return False
    fused = model.forward            # TRL's patched forward: what every other call still reaches

    def forward(self, *args, fused_lm_head=False, labels=None, shift_labels=None, **kwargs):
        if not fused_lm_head or labels is None or shift_labels is not None or kwargs.get("output_router_logits"):
            return fused(*args, fused_lm_head=fused_lm_head, labels=labels, shift_labels=shift_labels, **kwargs)
        num_items = kwargs.pop("num_items_in_batch", None)
        kwargs["use_cache"] = False
        hidden = self.base_model(*args, **kwargs).last_hidden_state[:, :-1]
        return completion_log_probs(hidden, labels[:, 1:], self.get_output_embeddings(), num_items)

    model.forward = types.MethodType(forward, model)
    return True


def completion_log_probs(hidden, labels, head, num_items_in_batch=None):
    """TRL's `FusedCausalLMOutput` for next-token `labels` (-100 where a position does not
    count) from the hidden states before them, projecting only the counted positions."""
    import torch
    from trl.trainer.utils import FusedCausalLMOutput

    mask = labels != -100
    targets = labels[mask]
    logits = head(hidden[mask]).float()
    log_p = torch.log_softmax(logits, dim=-1)
    picked = log_p.gather(1, targets[:, None])[:, 0]
    with torch.no_grad():                       # DPOTrainer's metrics, not its loss
        entropy = -(log_p.exp() * log_p).sum(dim=-1)
        mean_logits = logits.mean(dim=-1)
        is_top1 = log_p.argmax(dim=-1) == targets

    def spread(values):
        return values.new_zeros(mask.shape).masked_scatter(mask, values)

    log_probs = spread(picked)
    count = mask.sum().clamp(min=1) if num_items_in_batch is None else num_items_in_batch
    return FusedCausalLMOutput(loss=-log_probs.sum() / count, log_probs=log_probs, entropy=spread(entropy),
                               log_sum_sq_probs=None, mean_logits=spread(mean_logits), is_top1=spread(is_top1),
                               label_mask=mask, aux_loss=None)
