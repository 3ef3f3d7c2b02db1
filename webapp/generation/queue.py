"""The order queued videos start in, and the positions people see.

Within a workspace: its single videos (and previews) before its bulk ones, the earlier bulk
first, then first come, first served. Between workspaces: fair shares of the provider's slots.
A workspace's next video ranks by its turn in its own queue plus the videos it is running now,
so a workspace with nothing running goes before one that fills the slots; on equal ranks, the
workspace served least recently goes first (turns, round-robin), then single videos before bulk
ones. So a 10,000-video bulk of one workspace delays another workspace's video by one render at
most: the first slot that frees goes to the other workspace. The dispatcher claims in this
order (``fair_candidates``), ranking only the head of each workspace's queue, and a video's
position counts only what is ahead of it in its own workspace, so it tells nothing about other
workspaces.

Queued work starts promptly: ``wake_workers`` (after a create commits) sends PostgreSQL's
NOTIFY, and every worker's ``QueueListener`` (LISTEN on a connection of its own) runs its
dispatch at once. The dispatch tick (1 s) stays as the fallback, and is the only way on SQLite.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask import current_app
from sqlalchemy import (
    CTE,
    URL,
    ColumnElement,
    Select,
    Subquery,
    func,
    make_url,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.sql.util import ClauseAdapter

from ..extensions import db
from ..models import Video, VideoStatus

log = logging.getLogger(__name__)

CHANNEL = "reelboard_queue"  # NOTIFY channel: "videos were queued"
# app.extensions: this process's own dispatcher, woken directly (the embedded worker of `make run`)
LOCAL_WAKE = "reelboard.queue_wake"
LISTEN_RETRY_S = 5.0  # wait before listening again after the connection dropped
STOP_CHECK_S = 1.0  # how often the listener looks whether it should stop

# Singles first, then bulk videos by bulk (the earlier bulk first), first come first served
# within each; ix_videos_workspace_queue walks it.
WORKSPACE_QUEUE_ORDER = (Video.bulk_id.is_not(None), Video.bulk_id, Video.created_at, Video.id)
# Rows at the head of a workspace's queue that concurrent claims may hold locked (skipped).
LOCKED_AHEAD = 32
# The videos table under other names, made once: an alias of a wide table is costly to build.
_QUEUED = Video.__table__.alias("queued_video")
_TO_QUEUED = ClauseAdapter(_QUEUED)
_HEADS = (Video.__table__.alias("single_head"), Video.__table__.alias("bulk_head"))
_SERVED = Video.__table__.alias("served_video")


def fair_candidates(conditions: Sequence[ColumnElement[bool]], limit: int, provider: str) -> Select[Any]:
    """The ids of the next ``limit`` pending videos at ``provider`` meeting ``conditions``, in
    fair order between workspaces (for ``leases.claim``)."""
    waiting = select(Video.workspace_id).where(*conditions).distinct().cte("waiting")  # read once
    queued = _queue_heads(waiting, conditions, limit + LOCKED_AHEAD)
    turn = func.row_number().over(
        partition_by=queued.c.workspace_id,
        order_by=(queued.c.bulk, queued.c.bulk_id, queued.c.created_at, queued.c.id),
    )
    ranked = select(queued.c.id, queued.c.workspace_id, queued.c.bulk, queued.c.created_at,
                    turn.label("turn")).subquery("ranked")
    # What each waiting workspace has running at this provider now, and when it last had one started.
    other = _SERVED.c
    running = select(func.count()).where(
        other.workspace_id == waiting.c.workspace_id, other.status == VideoStatus.GENERATING.value,
        other.provider == provider,
    ).scalar_subquery()
    last_started = (
        select(other.started_at)
        .where(other.workspace_id == waiting.c.workspace_id, other.started_at.is_not(None))
        .order_by(other.started_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    served = select(waiting.c.workspace_id, running.label("running"),
                    last_started.label("last_started")).subquery("served")
    # The conditions again outside the window: PostgreSQL re-checks them on a row that another
    # claim leased since this statement began, and takes the next row instead of losing a place.
    return (
        select(Video.id)
        .join(ranked, ranked.c.id == Video.id)
        .join(served, served.c.workspace_id == ranked.c.workspace_id)
        .where(*conditions)
        .order_by(
            ranked.c.turn + served.c.running,
            served.c.last_started.asc().nulls_first(),
            ranked.c.bulk,
            ranked.c.created_at,
            Video.id,
        )
        .limit(limit)
    )


def _queue_heads(waiting: CTE, conditions: Sequence[ColumnElement[bool]], per_workspace: int) -> Subquery:
    """Each waiting workspace's first ``per_workspace`` singles and first bulk videos, one index
    seek each: no video behind them can rank among a claim's ``limit``, since the same
    workspace's videos ahead of it rank ahead. So a longer queue costs a claim only the scan
    that finds the waiting workspaces."""
    table = _QUEUED
    where = [_TO_QUEUED.traverse(condition) for condition in conditions]
    postgres = db.session.get_bind().dialect.name == "postgresql"
    parts = []
    for in_bulk in (False, True):
        head = (
            select(table.c.id, table.c.workspace_id, table.c.bulk_id, table.c.created_at)
            .where(table.c.workspace_id == waiting.c.workspace_id,
                   table.c.bulk_id.is_not(None) if in_bulk else table.c.bulk_id.is_(None), *where)
            .order_by(table.c.bulk_id, table.c.created_at, table.c.id)
            .limit(per_workspace)
        )
        if postgres:
            rows = head.lateral()
            joined = waiting.join(rows, true())
        else:  # no LATERAL in SQLite: a correlated IN list, which it runs once per waiting workspace
            rows = _HEADS[in_bulk]
            joined = waiting.join(rows, rows.c.id.in_(head.with_only_columns(table.c.id)))
        parts.append(select(rows.c.id, rows.c.workspace_id, rows.c.bulk_id.is_not(None).label("bulk"),
                            rows.c.bulk_id, rows.c.created_at).select_from(joined))
    return union_all(*parts).subquery("queued")


def queue_positions(videos: Iterable[Video]) -> dict[int, int]:
    """Place (1 = next) of the pending videos among ``videos`` in their workspace's queue: one
    query."""
    pending = [v for v in videos if v.status == VideoStatus.PENDING.value and not v.on_hold]
    if not pending:
        return {}
    ranked = (
        select(Video.id, func.row_number().over(order_by=WORKSPACE_QUEUE_ORDER).label("position"))
        .where(Video.status == VideoStatus.PENDING.value, Video.workspace_id == pending[0].workspace_id,
               Video.on_hold.is_(False))
        .subquery()
    )
    rows = db.session.execute(select(ranked.c.id, ranked.c.position).where(ranked.c.id.in_([v.id for v in pending])))
    return {video_id: position for video_id, position in rows}


# --------------------------------------------------------------- waking ----


def wake_workers() -> None:
    """Tells the dispatchers that videos were queued; call it after the videos are committed.
    This process's own dispatcher is woken directly; on PostgreSQL (QUEUE_NOTIFY), every
    worker's by NOTIFY. Without either, the dispatch tick finds the videos within a second."""
    wake = current_app.extensions.get(LOCAL_WAKE)
    if wake is not None:
        wake()
    if current_app.config["QUEUE_NOTIFY"] and db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"NOTIFY {CHANNEL}"))
        db.session.commit()


class QueueListener:
    """Calls ``on_wake`` for every NOTIFY of ``wake_workers`` (PostgreSQL LISTEN on a connection
    of its own, in a daemon thread), and once each time it starts listening, for what was
    queued while it was not. A dropped connection is opened again after LISTEN_RETRY_S."""

    def __init__(self, database_url: URL | str, on_wake: Callable[[], None]) -> None:
        # the libpq form of the SQLAlchemy URL (postgresql+psycopg://… → postgresql://…)
        self._conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._on_wake = on_wake
        self._stopping = threading.Event()
        self.listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="queue-listener", daemon=True)

    def start(self) -> QueueListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=STOP_CHECK_S + 5)

    def _run(self) -> None:
        import psycopg

        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    self._wake()
                    while not self._stopping.is_set():
                        for _ in connection.notifies(timeout=STOP_CHECK_S, stop_after=1):
                            self._wake()
            except psycopg.Error as error:
                self.listening.clear()
                log.warning("not listening for queued videos (%s); the dispatch tick finds them meanwhile", error)
                self._stopping.wait(LISTEN_RETRY_S)
        self.listening.clear()

    def _wake(self) -> None:
        try:
            self._on_wake()
        except Exception:  # the tick dispatches all the same
            log.exception("waking the dispatcher failed")


def listen_for_work(on_wake: Callable[[], None]) -> QueueListener | None:
    """A started QueueListener on the app's PostgreSQL database; None on SQLite (no NOTIFY) or
    with QUEUE_NOTIFY off."""
    if db.engine.dialect.name != "postgresql" or not current_app.config["QUEUE_NOTIFY"]:
        return None
    return QueueListener(db.engine.url, on_wake).start()
