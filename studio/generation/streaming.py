"""Two contenders answering one typed prompt at once, their text streamed as it comes.

Each side generates in its own thread with a transformers streamer; the tokens of both sides
arrive on one queue, so the caller sees both answers grow together.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from studio.generation.base import Generator, Output, Request
from studio.records import ItemView


@dataclass(frozen=True)
class FreePromptUpdate:
    """The two answers so far, in display order; the last update has `done` and the item
    to rate (a pair like any other, voted on with `Studio.vote`)."""

    left: str
    right: str
    done: bool = False
    item: ItemView | None = None


def stream_pair(generators: tuple[Generator, Generator], requests: tuple[Request, Request], *,
                timeout: float = 600.0) -> Iterator[tuple[tuple[str, str], tuple[Output, Output] | None]]:
    """Yield (texts so far, None) as tokens arrive, then (final texts, outputs) once.
    Closing the iterator early asks both threads to stop."""
    events: queue.Queue = queue.Queue()
    stop = threading.Event()
    texts = ["", ""]
    outputs: list[Output | None] = [None, None]

    def run(side: int) -> None:
        try:
            generator = generators[side]
            if hasattr(generator, "stream"):
                streamer = _side_streamer(generator.tokenizer, side, events)
                output = generator.stream(requests[side], streamer, should_stop=stop.is_set)
            else:  # e.g. best-of-n: the answer exists only once every sample is scored
                output = generator.generate([requests[side]], should_stop=stop.is_set)[0]
            events.put(("done", side, output))
        except BaseException as exc:  # handed to the caller's thread, re-raised there
            events.put(("error", side, exc))

    threads = [threading.Thread(target=run, args=(side,), name=f"studio-free-prompt-{side}", daemon=True)
               for side in (0, 1)]
    for thread in threads:
        thread.start()
    try:
        finished = 0
        while finished < 2:
            try:
                kind, side, value = events.get(timeout=timeout)
            except queue.Empty:
                raise TimeoutError(f"no output after {timeout:.0f} s") from None
            if kind == "text":
                texts[side] += value
                yield (texts[0], texts[1]), None
            elif kind == "done":
                outputs[side] = value
                finished += 1
            else:
                raise value
        final = (outputs[0].text or "", outputs[1].text or "")
        yield final, (outputs[0], outputs[1])
    finally:
        stop.set()


def _side_streamer(tokenizer, side: int, events: queue.Queue):
    from transformers import TextIteratorStreamer

    class SideStreamer(TextIteratorStreamer):
        """A TextIteratorStreamer whose text goes to the shared queue, tagged with its side."""

        def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
            if text:
                events.put(("text", side, text))

    return SideStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
