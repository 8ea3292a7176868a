"""Run a text backbone only as far as the layer whose states are pooled.

A frozen decoder's features come from the layer three quarters of the way up (see
`net.decoder_head_pooling`): asking the model for every hidden state would still run the top
quarter for nothing, a quarter of the time of building a feature cache. A forward hook on
each block stops the forward pass after the wanted one. The hooks are registered once per
model and do nothing unless this thread asked for a stop, so a backbone shared by several
reward nets (head mode keeps one frozen copy) behaves as before for everyone else.
"""

from __future__ import annotations

import threading

import torch
from torch import nn

from studio.rewards.backbones import layer_stack

_LOCAL = threading.local()
_REGISTER = threading.Lock()


class _Stop(Exception):
    def __init__(self, states: torch.Tensor):
        super().__init__("stopped after the pooled layer")
        self.states = states


def _hook(module: nn.Module, _args, output):
    if getattr(_LOCAL, "stop_after", None) is module:
        raise _Stop(output[0] if isinstance(output, tuple) else output)


def _blocks(model: nn.Module) -> nn.ModuleList | None:
    blocks = getattr(model, "_studio_exit_blocks", None)
    if blocks is not None:
        return blocks
    with _REGISTER:
        blocks = getattr(model, "_studio_exit_blocks", None)
        if blocks is None:
            blocks = layer_stack(model)
            if blocks is not None:
                for block in blocks:
                    block.register_forward_hook(_hook)
            object.__setattr__(model, "_studio_exit_blocks", blocks)
    return blocks


def states_after(model: nn.Module, layer: int, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The token states after block `layer` (1-based; `hidden_states[layer]` of a full pass
    for every layer below the last), computing no block above it."""
    blocks = _blocks(model)
    if blocks is None or len(blocks) != model.config.num_hidden_layers or layer >= len(blocks):
        return model(**batch, output_hidden_states=True).hidden_states[layer]
    _LOCAL.stop_after = blocks[layer - 1]
    try:
        model(**batch)
    except _Stop as stop:
        return stop.states
    finally:
        _LOCAL.stop_after = None
    raise RuntimeError(f"the backbone's forward pass did not reach its block {layer}")
