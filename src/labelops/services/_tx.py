"""The one way a service opens its transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from sqlalchemy.orm import Session

from labelops.store.engine import WRITE_OPTION

__all__ = ["in_joined_transaction", "one_transaction", "transaction"]

_JOINED = "labelops_joined_transaction"


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
def one_transaction(session: Session) -> Iterator[None]:
    """Run several use cases as one write transaction, committed once at the end.

    For a pair that a client asks for in one request (submit a label, then lease the
    next task): one begin and one commit instead of two. An error in any of them rolls
    back all of them. A use case that would relax its commit's durability for its own
    sake (the next-task lease on PostgreSQL) asks ``in_joined_transaction`` and does
    not: the transaction may carry a person's answer.
    """
    with transaction(session):
        session.info[_JOINED] = True
        try:
            yield
        finally:
            session.info.pop(_JOINED, None)


def in_joined_transaction(session: Session) -> bool:
    """Whether the session's transaction is shared by several use cases (``one_transaction``)."""
    return bool(session.info.get(_JOINED))
