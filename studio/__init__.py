"""Feedback Studio: human preferences between generative-model outputs, stored safely,
turned into reward models and preference datasets.

`import studio` stays light: heavy libraries (torch, transformers, diffusers, gradio) are
imported inside the modules that need them.
"""

__version__ = "0.1.0"

__all__ = ["Studio", "__version__"]


def __getattr__(name: str):
    if name == "Studio":
        from studio.api import Studio

        return Studio
    raise AttributeError(name)
