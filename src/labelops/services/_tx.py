"""The one way a service opens its transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from labelops.store.engine import WRITE_OPTION

__all__ = [
    "NEEDS_TRANSACTION",
    "RUN_AGAIN",
    "autocommit_statements",
    "in_joined_transaction",
    "joined_transaction",
    "one_transaction",
    "transaction",
    "write_transaction",
]

_JOINED = "labelops_joined_transaction"

NEEDS_TRANSACTION = object()
"""What a use case's one-statement form returns when its statement wrote nothing and
the call must take the use case's transaction path instead."""

RUN_AGAIN = object()
"""What a use case's one-statement form returns when its statement wrote nothing only
because a concurrent commit left its snapshot stale: the same statement, run again
with a new snapshot, can do the call."""


def transaction(session: Session) -> AbstractContextManager[object]:
    """Begin the service's transaction.

    A read done earlier on the same session (an authorisation lookup, say) has
    auto-begun a transaction; it holds nothing worth keeping, so it is ended first
    and the use case runs in a transaction of its own. Inside ``one_transaction`` the
    use case joins the caller's transaction instead.
    """
    if in_joined_transaction(session):
        return nullcontext()
    if session.in_transaction():
        session.commit()
    begun = session.begin()
    # Tell the engine this is a write transaction (SQLite: BEGIN IMMEDIATE).
    session.connection(execution_options={WRITE_OPTION: True})
    return begun


@contextmanager
def write_transaction(session: Session) -> Iterator[Connection]:
    """Like ``transaction``, for use cases written as Core statements: yields the
    transaction's connection.

    Joined to a caller's transaction (``joined_transaction``, ``one_transaction``), it
    is that transaction's connection directly: the Session's bookkeeping of a
    transaction it would only pass through cost about 15 % of a labeller call's CPU.
    """
    if in_joined_transaction(session):
        yield session.info[_JOINED]
        return
    with transaction(session):
        yield session.connection()


@contextmanager
def joined_transaction(session: Session, connection: Connection) -> Iterator[None]:
    """Run the session's use cases inside ``connection``'s open write transaction,
    which the caller began and ends (see ``labelops.api.deps.InlineCalls``)."""
    with _marked_joined(session, connection):
        yield
        _commit_orm_work(session)


@contextmanager
def _marked_joined(session: Session, connection: Connection) -> Iterator[None]:
    session.info[_JOINED] = connection
    try:
        yield
    finally:
        session.info.pop(_JOINED, None)


def _commit_orm_work(session: Session) -> None:
    # ORM work on a session bound to a connection inside a transaction it did not
    # begin ran in a savepoint of the session's own (``join_transaction_mode=
    # "create_savepoint"``), which closing the session would roll back: release it
    # into the transaction first.
    if session.in_transaction():
        session.commit()


@contextmanager
def one_transaction(session: Session) -> Iterator[None]:
    """Run several use cases as one write transaction, committed once at the end.

    For a pair that a client asks for in one request (submit a label, then lease the
    next task): one begin and one commit instead of two. An error in any of them rolls
    back all of them. A use case that would relax its commit's durability for its own
    sake (the next-task lease on PostgreSQL) asks ``in_joined_transaction`` and does
    not: the transaction may carry a person's answer.
    """
    if in_joined_transaction(session):
        yield  # already inside a caller's transaction
        return
    with write_transaction(session) as connection, _marked_joined(session, connection):
        yield


@contextmanager
def autocommit_statements(session: Session) -> Iterator[Connection | None]:
    """A PostgreSQL connection in autocommit, for a use case that can run as statements
    that are each complete on their own (each is its own transaction); None when it
    must run in a transaction: on SQLite, or inside a caller's transaction.

    A labeller's call as one such statement costs one round trip to the server instead
    of four or more (BEGIN, the statements, COMMIT); at saturation, round trips were
    most of the CPU a label cost on both sides (see ``labelops.services.queue``).
    """
    bind = session.get_bind()
    if (
        not isinstance(bind, Engine)
        or bind.dialect.name != "postgresql"
        or in_joined_transaction(session)
        or session.in_transaction()
    ):
        yield None
        return
    with bind.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def in_joined_transaction(session: Session) -> bool:
    """Whether the session's transaction is shared by several use cases (``one_transaction``)."""
    return _JOINED in session.info
