"""The one way a service opens its transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session, SessionTransaction

from labelops.store.engine import WRITE_OPTION

__all__ = ["transaction"]


def transaction(session: Session) -> SessionTransaction:
    """Begin the service's transaction.

    A read done earlier on the same session (an authorisation lookup, say) has
    auto-begun a transaction; it holds nothing worth keeping, so it is ended first
    and the use case runs in a transaction of its own.
    """
    if session.in_transaction():
        session.commit()
    transaction = session.begin()
    # Tell the engine this is a write transaction (SQLite: BEGIN IMMEDIATE).
    session.connection(execution_options={WRITE_OPTION: True})
    return transaction
