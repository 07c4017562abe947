"""Hash-partition the messages table by chat on PostgreSQL (`tgstats store partition`).

The statistics never scan ``messages`` (they read the aggregate tables), so a
big store does not need partitions to answer quickly; they keep each chat's
rows, and its indexes, in a table of a bounded size, so VACUUM, an erasure or
an export of one chat touches one partition and a 100M-message store has no
100M-row index.  The partition key is ``chat_id``: PostgreSQL requires it in
every unique key, and the primary key (chat_id, message_id) that makes a
redelivered message a no-op already has it (month partitions by ``date``
would not: a unique key without the date could no longer be enforced).

One transaction: a new partitioned table, the rows copied, the old table
dropped, the new one renamed and given the schema's key, foreign key and
indexes (from tgstats.store.schema, so a partial index stays partial), then
analysed.  The bot must be stopped meanwhile (the table is locked).
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.schema import AddConstraint

from tgstats.errors import StoreError
from tgstats.store.schema import chats, messages

__all__ = ["MAX_PARTITIONS", "is_partitioned", "partition_messages"]

MAX_PARTITIONS = 1024
_STAGING = "tgstats_messages_partitioned"


def is_partitioned(connection: Connection) -> bool:
    """Whether ``messages`` is already a partitioned table (PostgreSQL)."""
    return bool(
        connection.exec_driver_sql(
            "SELECT count(*) FROM pg_partitioned_table WHERE partrelid = %s::regclass",
            (messages.name,),
        ).scalar_one()
    )


def partition_messages(connection: Connection, partitions: int) -> int:
    """Turn ``messages`` into ``partitions`` hash partitions by chat; return the rows moved.

    Runs in the caller's transaction: a failure leaves the table as it was.
    """
    if connection.dialect.name != "postgresql":
        raise StoreError(
            "partitioning needs PostgreSQL (SQLite keeps one file; its statistics "
            "read the aggregate tables and do not scan the messages)"
        )
    if not 2 <= partitions <= MAX_PARTITIONS:
        raise StoreError(f"--hash: expected 2 to {MAX_PARTITIONS} partitions, found {partitions}")
    connection.exec_driver_sql(f"LOCK TABLE {messages.name} IN ACCESS EXCLUSIVE MODE")
    if is_partitioned(connection):
        raise StoreError("the messages table is already partitioned")
    name = messages.name
    connection.exec_driver_sql(
        f"CREATE TABLE {_STAGING} (LIKE {name} INCLUDING DEFAULTS) PARTITION BY HASH (chat_id)"
    )
    for remainder in range(partitions):
        connection.exec_driver_sql(
            f"CREATE TABLE {name}_p{remainder} PARTITION OF {_STAGING} "
            f"FOR VALUES WITH (MODULUS {partitions}, REMAINDER {remainder})"
        )
    columns = ", ".join(column.name for column in messages.columns)
    moved = connection.exec_driver_sql(
        f"INSERT INTO {_STAGING} ({columns}) SELECT {columns} FROM {name}"
    ).rowcount
    connection.exec_driver_sql(f"DROP TABLE {name}")
    connection.exec_driver_sql(f"ALTER TABLE {_STAGING} RENAME TO {name}")
    # The key, the foreign key and every index as the schema declares them;
    # on a partitioned table each is created on every partition too.  From a
    # copy of the tables: AddConstraint marks its constraint as created apart,
    # which would drop it from every later CREATE TABLE of the shared metadata.
    copy = MetaData()
    for table in (chats, messages):
        table.to_metadata(copy)
    table = copy.tables[name]
    connection.execute(AddConstraint(table.primary_key))
    for foreign_key in table.foreign_key_constraints:
        connection.execute(AddConstraint(foreign_key))
    for index in sorted(table.indexes, key=lambda index: str(index.name)):
        index.create(connection)
    connection.exec_driver_sql(f"ANALYZE {name}")
    return int(moved)
