from tests.rewards.conftest import tiny_backbones, tiny_encoder  # noqa: F401  (tiny offline backbones)
