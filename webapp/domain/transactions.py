"""The database's write lock for work that is not a command (commands take it in
sync.apply): no Flask here, so domain code and views share it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlite_utils import Database


@contextmanager
def write_tx(db: Database) -> Iterator[Database]:
    """A write transaction that takes the write lock up front.

    A deferred transaction that reads and then writes can fail with
    SQLITE_BUSY under concurrent writers in WAL mode; BEGIN IMMEDIATE waits
    on the busy timeout instead.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    else:
        db.execute("COMMIT")
