"""The jobs tests reuse the reward tests' tiny backbones and studio factories."""

from tests.rewards.conftest import (  # noqa: F401
    open_sqlite_studio,
    open_studio,
    tiny_backbones,
    tiny_encoder,
)
