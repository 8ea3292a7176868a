"""The store: the only package that speaks SQL (SQLAlchemy 2, SQLite or PostgreSQL)."""

from studio.records import (
    ComparisonRecord,
    ContenderRecord,
    GenerationIn,
    GenerationRecord,
    PromptIn,
    PromptRecord,
    RaterRecord,
    VoteIn,
    VoteResult,
)
from studio.store.store import Store, Tx

__all__ = [
    "ComparisonRecord", "ContenderRecord", "GenerationIn", "GenerationRecord", "PromptIn",
    "PromptRecord", "RaterRecord", "Store", "Tx", "VoteIn", "VoteResult",
]
