"""Anthropic HH-style dialogues: `"\\n\\nHuman: ...\\n\\nAssistant: ..."` to chat messages and back."""

from __future__ import annotations

import re

HUMAN, ASSISTANT = "\n\nHuman:", "\n\nAssistant:"
_TURN = re.compile(r"\n\n(Human|Assistant):")
_ROLES = {"Human": "user", "Assistant": "assistant"}


def is_dialogue(text: str) -> bool:
    """True for a dialogue prompt that ends where the assistant is to answer (the leading
    blank lines may have been stripped)."""
    return text.lstrip().startswith(HUMAN.strip()) and text.rstrip().endswith(ASSISTANT.strip())


def turns(text: str) -> list[dict[str, str]] | None:
    """The messages of an HH dialogue (the final empty assistant turn dropped), or None
    when the text is not one."""
    if not text.lstrip().startswith(HUMAN.strip()):
        return None
    parts = _TURN.split("\n\n" + text.lstrip())
    # parts: ["", "Human", " hi", "Assistant", " hello", ...]
    messages = []
    for speaker, content in zip(parts[1::2], parts[2::2], strict=True):
        messages.append({"role": _ROLES[speaker], "content": content.strip()})
    if messages and messages[-1]["role"] == "assistant" and not messages[-1]["content"]:
        messages.pop()
    return messages


def render(messages: list[dict[str, str]]) -> str:
    """User and assistant messages as an HH dialogue prompt, ending where the assistant answers."""
    speakers = {"user": HUMAN, "assistant": ASSISTANT}
    return "".join(f"{speakers[m['role']]} {m['content']}" for m in messages) + ASSISTANT


def fold(prompt: str, response: str) -> str:
    """Prompt and response as one HH dialogue text (TRL's implicit-prompt format)."""
    if is_dialogue(prompt):     # stored prompts are stripped: give back HH's leading blank lines
        return "\n\n" + prompt.strip() + " " + response.lstrip()
    return f"{HUMAN} {prompt}{ASSISTANT} {response}"


def split_prompt(chosen: str, rejected: str) -> tuple[str, str, str] | None:
    """(prompt, chosen response, rejected response) from two HH dialogues that share
    everything up to the last `Assistant:` turn; None when they do not."""
    cut = chosen.rfind(ASSISTANT)
    if not chosen.startswith(HUMAN) or cut < 0:
        return None
    prefix = chosen[:cut + len(ASSISTANT)]
    if not rejected.startswith(prefix) or ASSISTANT in rejected[len(prefix):]:
        return None
    return prefix, chosen[len(prefix):].strip(), rejected[len(prefix):].strip()
