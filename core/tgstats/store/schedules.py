"""What the scheduler keeps in the store: last runs per job and chat, and the chats to run in.

Synchronous functions over an engine; the bot calls them off the event loop.
"""

from __future__ import annotations

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Engine

from tgstats.store.events import LEAVE
from tgstats.store.schema import chat_migrations, chats, member_events, schedule_runs
from tgstats.store.upserts import insert_ignore, upsert

__all__ = ["GROUP_TYPES", "active_chats", "claim_run", "last_runs", "mark_run", "start_counting"]

GROUP_TYPES = ("group", "supergroup")

RunKey = tuple[str, str, int]  # plugin, job, chat id


def last_runs(engine: Engine) -> dict[RunKey, int]:
    """Every (plugin, job, chat) -> unix seconds of its last run (one query)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                schedule_runs.c.plugin,
                schedule_runs.c.job,
                schedule_runs.c.chat_id,
                schedule_runs.c.last_run,
            )
        ).all()
    return {(plugin, job, int(chat)): int(last) for plugin, job, chat, last in rows}


def start_counting(engine: Engine, plugin: str, job: str, chat_id: int, when: int) -> None:
    """First sight of ``job`` in ``chat_id``: runs are due from ``when`` on (no catching up).

    Keeps an existing row (another worker may have started counting first).
    """
    with engine.begin() as connection:
        connection.execute(
            insert_ignore(connection, schedule_runs),
            {"plugin": plugin, "job": job, "chat_id": chat_id, "last_run": when},
        )


def claim_run(
    engine: Engine, plugin: str, job: str, chat_id: int, expected: int, when: int
) -> bool:
    """Move the last run from ``expected`` to ``when``; False if someone else already did.

    The compare-and-set is what lets several webhook workers share one
    database without each posting the same digest: only the worker whose
    update matched runs the job.
    """
    with engine.begin() as connection:
        result = connection.execute(
            update(schedule_runs)
            .where(
                schedule_runs.c.plugin == plugin,
                schedule_runs.c.job == job,
                schedule_runs.c.chat_id == chat_id,
                schedule_runs.c.last_run == expected,
            )
            .values(last_run=when)
        )
    return result.rowcount == 1


def mark_run(engine: Engine, plugin: str, job: str, chat_id: int, when: int) -> None:
    """Remember that ``job`` of ``plugin`` ran (or was first seen) in ``chat_id`` at ``when``."""
    with engine.begin() as connection:
        connection.execute(
            upsert(connection, schedule_runs, ["last_run"]),
            {"plugin": plugin, "job": job, "chat_id": chat_id, "last_run": when},
        )


def active_chats(engine: Engine, bot_id: int | None) -> list[tuple[int, str | None]]:
    """Groups the bot is in, as far as the store knows: (chat id, title), by id.

    A group it was removed from (its last own membership event is a leave)
    is left out, and so is a group that migrated to a supergroup (the
    supergroup stands for both).
    """
    with engine.connect() as connection:
        statement = select(chats.c.chat_id, chats.c.title).where(
            chats.c.type.in_(GROUP_TYPES),
            chats.c.chat_id.not_in(select(chat_migrations.c.old_chat_id)),
        )
        if bot_id is not None:
            latest = (
                select(member_events.c.chat_id, func.max(member_events.c.date).label("date"))
                .where(member_events.c.user_id == bot_id)
                .group_by(member_events.c.chat_id)
                .subquery()
            )
            left = (
                select(member_events.c.chat_id)
                .join(
                    latest,
                    and_(
                        latest.c.chat_id == member_events.c.chat_id,
                        latest.c.date == member_events.c.date,
                    ),
                )
                .where(member_events.c.user_id == bot_id, member_events.c.kind == LEAVE)
            )
            statement = statement.where(chats.c.chat_id.not_in(left))
        rows = connection.execute(statement.order_by(chats.c.chat_id)).all()
    return [(int(chat_id), title) for chat_id, title in rows]
