"""Live status: one poll request per page per interval, answering only the rows that changed.

A page that shows videos in flight renders one poller element carrying a *watch* list —
``id:stamp`` for each video in flight. The poll answers 204 when no stamp changed; otherwise the
changed rows as out-of-band swaps plus a new poller. When nothing is in flight any more the new
poller has no trigger, so polling stops by itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..generation.queue import queue_positions
from ..models import Video, Workspace
from ..numbers import parse_id
from .helpers import VIDEOS_FINISHED, usage_changed

ROW_TEMPLATES = {
    "list": "partials/video_row.html",
    "detail": "partials/video_detail_live.html",
    "product": "partials/product_video.html",
    "products": "partials/product_latest_video.html",
}
MAX_WATCHED = 100


def stamp(video: Video, positions: dict[int, int]) -> str:
    return f"{int(video.updated_at.timestamp() * 1000)}.{positions.get(video.id, 0)}"


def watch_list(videos: Iterable[Video], positions: dict[int, int]) -> str:
    return ",".join(f"{v.id}:{stamp(v, positions)}" for v in videos if v.in_flight)


def _parse_watch(watch: str) -> dict[int, str]:
    watched = {}
    for item in watch.split(",")[:MAX_WATCHED]:
        video_id, _, value = item.partition(":")
        parsed = parse_id(video_id)
        if parsed is not None:
            watched[parsed] = value
    return watched


def render_rows(videos: list[Video], view: str, positions: dict[int, int] | None = None, oob: bool = False) -> str:
    template = ROW_TEMPLATES.get(view, ROW_TEMPLATES["list"])
    positions = queue_positions(videos) if positions is None else positions
    return "".join(render_template(template, video=v, positions=positions, oob=oob) for v in videos)


def poll_response(workspace: Workspace, view: str, watch: str):
    watched = _parse_watch(watch)
    if not watched:
        return render_template("partials/poller.html", watch="", view=view, oob=True)
    videos = list(
        db.session.scalars(
            select(Video).options(joinedload(Video.product), joinedload(Video.template))
            .where(Video.workspace_id == workspace.id, Video.id.in_(watched))
        )
    )
    positions = queue_positions(videos)
    changed = [v for v in videos if stamp(v, positions) != watched[v.id]]
    if not changed and len(videos) == len(watched):
        return "", 204
    body = render_rows(changed, view, positions, oob=True) + render_template(
        "partials/poller.html", watch=watch_list(videos, positions), view=view, oob=True
    )
    finished = any(not v.in_flight for v in changed)
    return body, 200, usage_changed(VIDEOS_FINISHED) if finished else {}
