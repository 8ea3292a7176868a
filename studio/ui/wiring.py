"""Connecting plain handlers to Gradio components by name.

Handlers return `{"component_name": value}`; `named()` turns that into Gradio's
`{component: value}` form against a `Panel` (a name -> component mapping), so a handler
never depends on the order of an outputs list. A `StudioError` (wrong input, access
denied) becomes a `gr.Error` with the same one-line message for the rater.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import gradio as gr

from studio.errors import StudioError


class Panel(dict):
    """Named components of one part of the page (a tab, the pair view, the header)."""

    def pick(self, *names: str) -> list[Any]:
        return [self[name] for name in names]

    def subset(self, *names: str) -> Panel:
        return Panel((name, self[name]) for name in names)

    def outputs(self) -> list[Any]:
        return list(self.values())


def named(handler: Callable[..., Any], outputs: Mapping[str, Any]) -> Callable[..., Any]:
    """Wrap `handler` so its name-keyed dict (or each one it yields) updates `outputs`.

    The wrapper keeps the handler's signature, so Gradio still injects `gr.Request`."""

    def convert(result: Mapping[str, Any] | None) -> dict[Any, Any]:
        if not result:  # nothing to change (Gradio reads an empty dict as one value)
            return {component: gr.skip() for component in outputs.values()}
        unknown = set(result) - set(outputs)
        if unknown:
            raise KeyError(f"{handler.__name__} returned updates for unknown components: {sorted(unknown)}")
        return {outputs[name]: value for name, value in result.items()}

    if inspect.isgeneratorfunction(handler):
        @functools.wraps(handler)
        def streaming(*args: Any, **kwargs: Any) -> Iterator[dict[Any, Any]]:
            try:
                for update in handler(*args, **kwargs):
                    yield convert(update)
            except StudioError as exc:
                raise gr.Error(str(exc), print_exception=False) from exc

        return streaming

    @functools.wraps(handler)
    def call(*args: Any, **kwargs: Any) -> dict[Any, Any]:
        try:
            return convert(handler(*args, **kwargs))
        except StudioError as exc:  # a refusal or a bad input: the rater reads it, the log needn't
            raise gr.Error(str(exc), print_exception=False) from exc

    return call


def username(request: gr.Request | None) -> str | None:
    """The logged-in user Gradio attached to this request (None without a users file)."""
    return getattr(request, "username", None) if request is not None else None


class Selection(gr.SelectData):
    """`gr.SelectData` that also takes a call carrying no event data (a request made by hand
    to the handler's fn_index), so the handler runs its own checks (the admin role first)
    and answers with their error instead of failing inside Gradio."""

    def __init__(self, target, data):
        data = data if isinstance(data, dict) else {}
        gr.EventData.__init__(self, target, data)
        self.index = data.get("index")
        self.value = data.get("value")
        self.row_value = data.get("row_value")
        self.col_value = data.get("col_value")
        self.selected = data.get("selected", True)
