"""The frozen lower layers' output, computed once per sequence and reused by every later pass.

With LoRA on the top `top_layers` layers only (`DPOSettings`), the layers below take no
gradient and no adapter: what they output for a sequence is the same on the reference pass and
on every training step of every epoch. `LowerLayerCache` keeps that output per sequence (its
tokens are the key) the first time a batch goes through, and a later batch whose sequences are
all known starts at the first adapted layer: on SmolLM2-135M with 10 of 30 layers adapted a
training step runs 10 layers forward instead of 30.

It steps aside, running the layers as usual, whenever the reuse could be wrong: padding that is
not on the right (a sequence's states would depend on its batch), explicit positions or
embeddings, a lower-layer or embedding parameter that takes a gradient, active dropout below
the adapted layers, or a layer whose output is not a plain tensor. Entries are kept per
autocast precision, and no more than `max_bytes` of them.
"""

from __future__ import annotations

from typing import Any

from studio.rewards.backbones import layer_stack

DEFAULT_MAX_BYTES = 2 << 30


class LowerLayerCache:
    def __init__(self, model, frozen_layers: int, *, max_bytes: int = DEFAULT_MAX_BYTES):
        model = model.get_base_model() if hasattr(model, "get_base_model") else model    # under a PEFT wrapper
        backbone = model.base_model
        layers = layer_stack(backbone)
        if layers is None:
            raise ValueError(f"{type(model).__name__}: no stack of decoder layers in its backbone")
        if not 0 < frozen_layers < len(layers):
            raise ValueError(f"frozen_layers must be between 1 and {len(layers) - 1}, got {frozen_layers}")
        self.frozen = frozen_layers
        self.max_bytes = max_bytes
        self.stored_bytes = 0
        self.hits = self.misses = 0
        self._entries: dict[tuple, Any] = {}
        self._lower = list(layers[:frozen_layers])
        # What the lower layers' output depends on: their own parameters and the backbone's outside
        # the layer stack (embeddings; the final norm too, to keep the check simple)
        self._below = [*self._lower, *(child for child in backbone.children() if child is not layers)]
        self._backbone = backbone
        self._dropout_p = float(getattr(model.config, "attention_dropout", 0.0) or 0.0)
        self._batch: list | None = None         # (key, length) per row of the batch in flight, None: step aside
        self._start: Any = None                 # the batch's assembled lower-layer output on a hit
        self._handle = backbone.register_forward_pre_hook(self._before_backbone, with_kwargs=True)
        for index, layer in enumerate(self._lower):
            self._wrap(layer, index)

    def remove(self) -> None:
        """Undo the wrapping (the cached entries are dropped)."""
        self._handle.remove()
        for layer in self._lower:
            layer.__dict__.pop("forward", None)
        self._entries.clear()
        self.stored_bytes = 0

    def _before_backbone(self, module, args, kwargs) -> None:
        import torch

        self._batch, self._start = None, None
        ids, mask = kwargs.get("input_ids"), kwargs.get("attention_mask")
        if (ids is None or mask is None or args or kwargs.get("inputs_embeds") is not None
                or kwargs.get("position_ids") is not None or not self._reusable()):
            return
        lengths = mask.sum(dim=1)
        if not torch.equal(mask.bool(), torch.arange(mask.shape[1], device=mask.device)[None] < lengths[:, None]):
            return                              # not right-padded
        precision = (torch.is_autocast_enabled(ids.device.type), torch.get_autocast_dtype(ids.device.type))
        rows = ids.cpu().numpy()
        self._batch = [((precision, rows[b, :n].tobytes()), n) for b, n in enumerate(lengths.tolist())]
        if all(key in self._entries for key, _ in self._batch):
            self.hits += 1
            first = self._entries[self._batch[0][0]]
            start = first.new_zeros((ids.shape[0], ids.shape[1], first.shape[-1]))
            for b, (key, n) in enumerate(self._batch):
                start[b, :n] = self._entries[key]
            self._start = start
        else:
            self.misses += 1

    def _reusable(self) -> bool:
        import torch

        if any(p.requires_grad for p in (*self._backbone.parameters(recurse=False),
                                         *(q for module in self._below for q in module.parameters()))):
            return False                        # what a lower layer outputs may change from pass to pass
        training = any(layer.training for layer in self._lower)
        return not (training and (self._dropout_p > 0 or any(
            isinstance(m, torch.nn.Dropout) and m.p > 0 for layer in self._lower for m in layer.modules())))

    def _wrap(self, layer, index: int) -> None:
        original = layer.forward
        last = index == self.frozen - 1

        def forward(hidden_states, *args, **kwargs):
            if self._start is not None:
                return self._start if index == 0 else hidden_states
            out = original(hidden_states, *args, **kwargs)
            if last and self._batch is not None:
                self._keep(out)
            return out

        layer.forward = forward

    def _keep(self, out) -> None:
        import torch

        if not isinstance(out, torch.Tensor):
            self._batch = None
            return
        for b, (key, n) in enumerate(self._batch):
            if key in self._entries:
                continue
            size = n * out.shape[-1] * out.element_size()
            if self.stored_bytes + size > self.max_bytes:
                return
            self._entries[key] = out[b, :n].detach().clone()
            self.stored_bytes += size

