"""`Store`: the one door to the database. Every read and write goes through a transaction
opened here; repositories bound to that transaction do the SQL.

    with store.transaction() as tx:       # one atomic unit of work (BEGIN IMMEDIATE on SQLite)
        ids = tx.prompts.add([...])
        tx.votes.record(vote)
    with store.reader() as tx:            # a consistent read snapshot
        frame = tx.frames.comparisons()
    store.grouped(lambda tx: tx.votes.record(vote))   # a short write that may share its commit
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from studio.errors import SchemaError, StudioError
from studio.store import migrate
from studio.store.contenders import ContenderRepo
from studio.store.engine import make_engine, writer
from studio.store.exports import ExportRepo
from studio.store.frames import FrameRepo
from studio.store.generations import GenerationRepo
from studio.store.gold import GoldRepo
from studio.store.group_commit import GroupCommitter
from studio.store.improvement import ImprovementRepo
from studio.store.items import ItemRepo
from studio.store.jobs import JobRepo
from studio.store.overview import OverviewRepo
from studio.store.pool import PoolRepo
from studio.store.prompts import PromptRepo
from studio.store.rankings import RankingRepo
from studio.store.raters import RaterRepo
from studio.store.reward_models import RewardModelRepo
from studio.store.votes import VoteRepo

T = TypeVar("T")


class Tx:
    """Repositories bound to one open transaction (the session stays inside them)."""

    def __init__(self, session: Session):
        self.session = session

    @cached_property
    def frames(self) -> FrameRepo:
        return FrameRepo(self.session)

    @cached_property
    def raters(self) -> RaterRepo:
        return RaterRepo(self.session)

    @cached_property
    def prompts(self) -> PromptRepo:
        return PromptRepo(self.session)

    @cached_property
    def contenders(self) -> ContenderRepo:
        return ContenderRepo(self.session)

    @cached_property
    def generations(self) -> GenerationRepo:
        return GenerationRepo(self.session)

    @cached_property
    def votes(self) -> VoteRepo:
        return VoteRepo(self.session)

    @cached_property
    def items(self) -> ItemRepo:
        return ItemRepo(self.session)

    @cached_property
    def gold(self) -> GoldRepo:
        return GoldRepo(self.session)

    @cached_property
    def pool(self) -> PoolRepo:
        return PoolRepo(self.session)

    @cached_property
    def rankings(self) -> RankingRepo:
        return RankingRepo(self.session)

    @cached_property
    def exports(self) -> ExportRepo:
        return ExportRepo(self.session)

    @cached_property
    def improvement(self) -> ImprovementRepo:
        return ImprovementRepo(self.session)

    @cached_property
    def jobs(self) -> JobRepo:
        return JobRepo(self.session)

    @cached_property
    def reward_models(self) -> RewardModelRepo:
        return RewardModelRepo(self.session)

    @cached_property
    def overview(self) -> OverviewRepo:
        return OverviewRepo(self.session)


class Store:
    def __init__(self, url: str, *, synchronous: str = "FULL", check_schema: bool = True):
        self.url = url
        self.engine = make_engine(url, synchronous=synchronous)
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(writer(self.engine), expire_on_commit=False)
        self.committer = GroupCommitter(self.transaction)
        if check_schema:
            self._check_schema()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction: committed when the block ends, rolled back on any error."""
        with self._write_sessions() as session, session.begin():
            yield Tx(session)

    def grouped(self, work: Callable[[Tx], T]) -> T:
        """`work(tx)` in a write transaction shared with other threads' concurrent `grouped`
        calls (one commit for all: see group_commit). Committed when this returns; when
        `work` raises, its own writes are undone and the error is raised here."""
        return self.committer.run(work)

    @contextmanager
    def reader(self) -> Iterator[Tx]:
        with self._read_sessions() as session, session.begin():
            yield Tx(session)

    def upgrade(self, revision: str = "head") -> tuple[str | None, str]:
        """Migrate the schema; returns (revision before, revision after)."""
        before = migrate.current_revision(self.engine)
        migrate.upgrade(self.engine, revision)
        return before, migrate.current_revision(self.engine)

    def schema_revision(self) -> str | None:
        return migrate.current_revision(self.engine)

    def integrity_check(self) -> str:
        """SQLite's own consistency check ('ok' when healthy); PostgreSQL answers 'ok'."""
        if self.dialect != "sqlite":
            return "ok"
        with self.engine.connect() as connection:
            return connection.execute(text("PRAGMA integrity_check")).scalar_one()

    def close(self) -> None:
        self.committer.stop()
        self.engine.dispose()

    def _check_schema(self) -> None:
        """A new database is created at head; an old or foreign one is refused clearly."""
        try:
            empty = migrate.is_empty(self.engine)
            current = None if empty else migrate.current_revision(self.engine)
        except OperationalError as exc:
            raise StudioError(f"cannot open the database {self._safe_url()}: {exc.orig}") from exc
        head = migrate.head_revision()
        if empty:
            migrate.upgrade(self.engine)
        elif current is None:
            raise SchemaError(f"{self._safe_url()} holds tables that are not a studio database; "
                              "point --data at an empty directory or a studio database")
        elif not migrate.is_known(current):
            raise SchemaError(f"the database schema is at revision {current}, newer than this studio "
                              f"knows ({head}): upgrade the studio")
        elif current != head:
            raise SchemaError(f"the database schema is at revision {current}, this studio needs {head}: "
                              f"run `studio db upgrade --data ...` (back it up first)")

    def _safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)
