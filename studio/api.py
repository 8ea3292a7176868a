"""`Studio`: the one facade the UI, the CLI and the notebooks call.

    from studio import Studio
    studio = Studio.open("studio-data")          # a data dir, or a database URL
    studio.add_prompts(["Write a haiku about rain."])
    studio.comparisons()                         # a pandas DataFrame

Each area contributes its methods from its own module in `studio/facade/`; none of them
opens a database session or builds a model outside the layers below.
"""

from __future__ import annotations

from studio.facade.core import ImportSummary, StudioCore
from studio.facade.exchange import ExchangeFacade
from studio.facade.generation import GenerationFacade
from studio.facade.imports import ImportsFacade
from studio.facade.notebook import NotebookFacade
from studio.facade.pool import PoolFacade
from studio.facade.ranking import RankingFacade
from studio.facade.rating import RatingFacade
from studio.facade.rewards import RewardsFacade

__all__ = ["ImportSummary", "Studio"]


class Studio(NotebookFacade, RatingFacade, RewardsFacade, RankingFacade, PoolFacade, GenerationFacade, ExchangeFacade, ImportsFacade, StudioCore):
    """Open with `Studio.open(data_dir_or_url)`; see the README for each front door."""
