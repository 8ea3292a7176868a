"""The blind A/B pair panel shared by the Arena and Free-prompt tabs.

The panel shows a prompt and two outputs labelled A and B (already in the random display
order stored on the item), four vote buttons and an optional rationale. When a pair is
displayed it gets a token: the item id, a fresh idempotency key and the display time.
The token lives in the browser and comes back with the vote, so a retried or doubled
click sends the same key and the store keeps one row. Contender names never leave the
server before the vote: the token carries no names.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.errors import InputError
from studio.records import MAX_IDEMPOTENCY_KEY, ComparisonRecord, ItemView
from studio.ui import render
from studio.ui.keys import STAMP_DECISION_JS, shown_js
from studio.ui.wiring import Panel

OUTCOMES = {"a": "left", "b": "right", "tie": "tie", "both_bad": "both_bad"}
BUTTON_LABELS = {"a": "A is better  [1]", "b": "B is better  [2]", "tie": "Tie  [3]", "both_bad": "Both bad  [4]"}
OUTCOME_WORDS = {"left": "A is better", "right": "B is better", "tie": "a tie", "both_bad": "both bad"}
MAX_DECISION_MS = 24 * 3600 * 1000
MAX_ID = 2**31 - 1                   # ids are 32-bit integers in both databases
# Parts of the page only the page's script uses (the vote token, the decision time, the
# poll button): hidden by the stylesheet on every path (Gradio's own `visible="hidden"`
# came back into view after the tabs were hidden and shown again by "Switch rater").
HIDDEN = "studio-hidden"
SNIPPET = 160                        # characters of each answer in the copy beside the reveal


@dataclass(frozen=True)
class Token:
    item_id: int
    key: str
    shown_ms: int
    shown: tuple[int, ...] = ()      # generation ids in display order (grids: to map picks to ids)

    def dump(self) -> str:
        return json.dumps({"item": self.item_id, "key": self.key, "shown": self.shown_ms, "ids": list(self.shown)})

    @classmethod
    def new(cls, item: ItemView, *, with_ids: bool = False) -> Token:
        ids = tuple(s.generation_id for s in item.sides) if with_ids else ()
        return cls(item_id=item.item_id, key=uuid.uuid4().hex, shown_ms=now_ms(), shown=ids)

    @classmethod
    def parse(cls, raw: str | None) -> Token:
        try:
            data = json.loads(raw or "")
            key = data["key"]
            if not isinstance(key, str) or not 0 < len(key) <= MAX_IDEMPOTENCY_KEY or not key.isprintable():
                raise ValueError("a token's key is a short printable string")
            token = cls(item_id=int(data["item"]), key=key, shown_ms=int(data["shown"]),
                        shown=tuple(int(i) for i in data.get("ids", ())))
            if not all(0 < i <= MAX_ID for i in (token.item_id, *token.shown)):
                raise ValueError("ids are positive 32-bit integers")
            return token
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
            raise InputError("there is nothing on screen to vote on yet: wait for the next pair") from exc

    def decision_ms(self, measured_in_browser: Any) -> int | None:
        """The browser's measure of display-to-vote time when it sent one (the page notes
        when the pair appeared); otherwise the time since the server handed out the pair."""
        if isinstance(measured_in_browser, int | float) and 0 <= measured_in_browser <= MAX_DECISION_MS:
            return int(measured_in_browser)
        elapsed = now_ms() - self.shown_ms
        return elapsed if 0 <= elapsed <= MAX_DECISION_MS else None


def now_ms() -> int:
    return int(time.time() * 1000)


def layout(prefix: str) -> Panel:
    """The components, named `<prefix>_...`; call inside a Blocks context."""
    p = Panel()
    p[f"{prefix}_reveal"] = gr.HTML(elem_id=f"{prefix}-reveal", elem_classes=["studio-reveal"])
    p[f"{prefix}_prompt"] = gr.HTML(elem_id=f"{prefix}-prompt", elem_classes=["studio-prompt-box"])
    with gr.Row(equal_height=False, elem_classes=["studio-pair"]):
        for side in ("a", "b"):
            with gr.Column(elem_classes=["studio-side"], variant="panel"):
                gr.HTML(f'<div class="studio-label">{side.upper()}</div>')
                p[f"{prefix}_side_{side}"] = gr.HTML(elem_id=f"{prefix}-side-{side}",
                                                      elem_classes=["studio-side-body"])
    # A bar that stays at the bottom of the screen while the answers scroll (phones).
    with gr.Row(elem_classes=["studio-buttons"], elem_id=f"{prefix}-buttons"):
        for choice, label in BUTTON_LABELS.items():
            p[f"{prefix}_vote_{choice}"] = gr.Button(
                label, variant="primary" if choice in ("a", "b") else "secondary",
                elem_id=f"{prefix}-vote-{choice}", elem_classes=[f"studio-vote-{choice}"])
    gr.HTML('<div class="studio-keys">Keys: <kbd>1</kbd> or <kbd>←</kbd> A is better, <kbd>2</kbd> or '
            '<kbd>→</kbd> B is better, <kbd>3</kbd> or <kbd>↑</kbd> tie, <kbd>4</kbd> or <kbd>↓</kbd> both bad '
            '(not while typing in a box).</div>')
    p[f"{prefix}_rationale"] = gr.Textbox(label="Why? (optional)", lines=1, max_lines=4,
                                          elem_id=f"{prefix}-rationale")
    p[f"{prefix}_token"] = gr.Textbox(elem_id=f"{prefix}-token", show_label=False, elem_classes=[HIDDEN])
    p[f"{prefix}_decision_ms"] = gr.Number(precision=0, show_label=False, elem_classes=[HIDDEN],
                                           elem_id=f"{prefix}-decision-ms")
    return p


def wire_display_clock(panel: Panel, prefix: str) -> None:
    """Note in the browser when each new pair appears (for the decision time), enable the
    vote buttons only while there is a pair, and bring the new prompt into view."""
    token = panel[f"{prefix}_token"]
    token.change(None, inputs=[token], outputs=None, js=shown_js(prefix), queue=False)


def vote_inputs(panel: Panel, prefix: str) -> list[Any]:
    return panel.pick(f"{prefix}_token", f"{prefix}_rationale", f"{prefix}_decision_ms")


def wire_vote(panel: Panel, prefix: str, handler_for, outputs: list[Any], extra_inputs: list[Any],
              concurrency_limit: int) -> list[Any]:
    """One click event per button (and per key, via keys.js), all in the "vote" group."""
    events = []
    for choice, outcome in OUTCOMES.items():
        events.append(panel[f"{prefix}_vote_{choice}"].click(
            handler_for(outcome), inputs=[*vote_inputs(panel, prefix), *extra_inputs], outputs=outputs,
            js=STAMP_DECISION_JS, api_name=f"{prefix}_vote_{choice}", concurrency_id="vote",
            concurrency_limit=concurrency_limit, trigger_mode="once", show_progress="hidden"))
    return events


def shown_names(prefix: str) -> list[str]:
    """The components `show` updates."""
    return [f"{prefix}_{name}" for name in ("prompt", "side_a", "side_b", "token")]


# Only plain values on this path, never gr.update(...): Gradio rebuilds a component for
# every property update (and every skipped output), which would cost more than the vote.
def show(prefix: str, item: ItemView | None, *, empty_message: str) -> dict[str, Any]:
    """The values that put `item` on screen (or an empty panel saying why there is none;
    with no token, a click there is refused and the vote keys do nothing)."""
    if item is None:
        return {f"{prefix}_prompt": render.note(empty_message), f"{prefix}_side_a": "", f"{prefix}_side_b": "",
                f"{prefix}_token": ""}
    a, b = item.sides
    return {
        f"{prefix}_prompt": render.prompt(item.prompt),
        f"{prefix}_side_a": render.side(a.kind, a.text, a.media_path, truncated=a.truncated),
        f"{prefix}_side_b": render.side(b.kind, b.text, b.media_path, truncated=b.truncated),
        f"{prefix}_token": Token.new(item).dump(),
    }


def streaming(prefix: str, prompt: str, text_a: str, text_b: str) -> dict[str, Any]:
    """While both outputs are still being generated: no token, so no vote yet."""
    return {f"{prefix}_prompt": render.prompt(prompt),
            f"{prefix}_side_a": render.output(text_a),
            f"{prefix}_side_b": render.output(text_b),
            f"{prefix}_token": ""}


def reveal(comparison: ComparisonRecord, names: dict[int, str], *, lead: str = "Saved:",
           item: ItemView | None = None) -> str:
    """After the vote: what was recorded and which contender wrote A and B, beside a small
    copy of the pair just rated (its prompt and the start of each answer), so the names are
    never read against the next pair."""
    a = names.get(comparison.left_contender_id, "?")
    b = names.get(comparison.right_contender_id, "?")
    winner = {"left": "a", "right": "b"}.get(comparison.outcome)
    head = (f'<div class="studio-reveal-head">{render.text(lead)} '
            f'<b>{render.text(OUTCOME_WORDS[comparison.outcome])}</b></div>')
    sides = []
    texts = _snippets(item)
    for side, name, snippet in (("a", a, texts[0]), ("b", b, texts[1])):
        chosen = " studio-reveal-won" if side == winner else ""
        sides.append(f'<div class="studio-reveal-side{chosen}"><span class="studio-reveal-label">'
                     f'{side.upper()} was <b class="studio-name">{render.text(name)}</b></span>'
                     f'<span class="studio-reveal-text">{render.text(snippet)}</span></div>')
    prompt = (f'<div class="studio-reveal-prompt">{render.text(_short(item.prompt, SNIPPET))}</div>'
              if item is not None else "")
    return (f'<div class="studio-reveal-body">{head}{prompt}'
            f'<div class="studio-reveal-sides">{"".join(sides)}</div></div>')


def _snippets(item: ItemView | None) -> tuple[str, str]:
    if item is None or len(item.sides) != 2:
        return "", ""
    return tuple(_short(s.text, SNIPPET) if s.text is not None else "[image]" for s in item.sides)


def _short(value: str | None, limit: int) -> str:
    flat = " ".join((value or "").split())
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "…"
