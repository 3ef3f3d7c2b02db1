"""Queue benchmark: what one fair claim costs as the queue grows. One workspace queues a bulk of
1,000 to 50,000 videos (4 of them rendering, 10,000 done before) while 20 small workspaces wait
with one video each. Times the query that picks the next 4 videos in the fair order
(``queue.fair_candidates``) against the floor of any claim of 4 queued videos: reading the bulk
workspace's next 4 by one index seek, with no fairness at all. Same process, median of 30.

    python -m bench.fair_claim [--markdown BENCHMARKS.md] [--sizes 1000,10000,50000]

Runs on SQLite, and on PostgreSQL too when BENCH_DATABASE_URL or TEST_DATABASE_URL names a
server (a private database is made there and dropped).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from bench.claim import _private_postgres
from bench.report import write_section
from webapp import create_app, leases
from webapp.extensions import db
from webapp.generation import queue
from webapp.models import Bulk, Product, Video, VideoStatus, Workspace, utcnow

PROVIDER = "local"
SMALL_WORKSPACES, HISTORY, RENDERING, CLAIM = 20, 10_000, 4, 4
REPEATS = 30


def populate(sizes: list[int]) -> Any:
    """The workspaces and the bulk's history; yields after each size's pending videos are in."""
    now = utcnow()
    db.session.execute(insert(Workspace), [{"name": f"Shop {n}", "plan": "executive", "created_at": now}
                                           for n in range(SMALL_WORKSPACES + 1)])
    workspaces = list(db.session.scalars(select(Workspace.id).order_by(Workspace.id)))
    db.session.execute(insert(Product), [
        {"workspace_id": w, "external_key": "p", "title": "P", "sku": "", "description": "", "vendor": "",
         "marketplace": "", "created_at": now, "updated_at": now} for w in workspaces])
    product = dict(db.session.execute(select(Product.workspace_id, Product.id)).all())
    bulk_shop = workspaces[0]
    db.session.execute(insert(Bulk), [{"workspace_id": bulk_shop, "template_key": "unboxing", "created_at": now}])
    bulk = db.session.scalar(select(Bulk.id))

    def videos(workspace: int, count: int, status: VideoStatus, **values: Any) -> None:
        row = {"workspace_id": workspace, "product_id": product[workspace], "template_key": "unboxing",
               "provider": PROVIDER, "quota_period": f"{now:%Y-%m}", "options": {}, "status": status.value,
               "created_at": now, "updated_at": now, **values}
        for start in range(0, count, 5000):
            db.session.execute(insert(Video), [row] * min(5000, count - start))

    past = now - timedelta(hours=1)
    videos(bulk_shop, HISTORY, VideoStatus.COMPLETED, bulk_id=bulk, created_at=past, started_at=past)
    videos(bulk_shop, RENDERING, VideoStatus.GENERATING, bulk_id=bulk, started_at=now)
    for workspace in workspaces[1:]:
        videos(workspace, 1, VideoStatus.COMPLETED, created_at=past, started_at=past)
        videos(workspace, 1, VideoStatus.PENDING)
    queued = 0
    for size in sizes:
        videos(bulk_shop, size - queued, VideoStatus.PENDING, bulk_id=bulk)
        queued = size
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE videos"))
        else:
            db.session.execute(text("ANALYZE"))
        db.session.commit()
        yield size


def timed(query) -> tuple[float, list[int]]:
    started = time.perf_counter()
    ids = list(db.session.scalars(query))
    elapsed = time.perf_counter() - started
    db.session.rollback()
    return elapsed, ids


def measure(database_url: str, sizes: list[int]) -> list[dict[str, Any]]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench",
                      "MEDIA_DIR": tempfile.mkdtemp(prefix="bench-queue-")})
    rows = []
    with app.app_context():
        db.drop_all()
        db.create_all()
        for size in populate(sizes):
            conditions = (Video.status == VideoStatus.PENDING.value, Video.provider == PROVIDER,
                          leases.free(Video, utcnow()), Video.on_hold.is_(False))
            fair = queue.fair_candidates(conditions, CLAIM, PROVIDER)
            bulk_shop = db.session.scalar(select(Video.workspace_id).where(Video.bulk_id.is_not(None)).limit(1))
            floor = (select(Video.id).where(Video.workspace_id == bulk_shop, Video.bulk_id.is_not(None), *conditions)
                     .order_by(Video.bulk_id, Video.created_at, Video.id).limit(CLAIM))
            fair_s, floor_s = [], []
            for _ in range(REPEATS):
                elapsed, fair_ids = timed(fair)
                fair_s.append(elapsed)
                floor_s.append(timed(floor)[0])
            small = set(db.session.scalars(select(Video.id).where(Video.bulk_id.is_(None), Video.status == "pending")))
            db.session.rollback()
            rows.append({"size": size, "fair": statistics.median(fair_s), "floor": statistics.median(floor_s),
                         "small_first": set(fair_ids) <= small})
        db.session.remove()
        db.drop_all()
    return rows


def run(markdown: str | None, sizes: list[int]) -> str:
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        results["SQLite"] = measure(f"sqlite:///{Path(folder) / 'queue.db'}", sizes)
    postgres = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if postgres:
        url, drop = _private_postgres(postgres)
        try:
            results["PostgreSQL"] = measure(url, sizes)
        finally:
            drop()
    lines = [
        "## Queue: one fair claim as the queue grows",
        "",
        (f"One workspace queues a bulk ({HISTORY:,} of its videos done before, {RENDERING} rendering); "
         f"{SMALL_WORKSPACES} small workspaces wait with one video each. The time of the query that picks the next "
         f"{CLAIM} videos in the fair order, against the floor of any claim of {CLAIM} queued videos: the bulk workspace's next "
         f"{CLAIM} read by one index seek, without fairness; median of {REPEATS} in one process. A claim ranks only "
         "the head of each workspace's queue; what still grows with the queue is the scan that finds the waiting "
         "workspaces."),
        "",
        "| database | bulk queued | fair claim | vs the smallest queue | floor: one seek | fair ÷ floor | small shops picked first |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, rows in results.items():
        for row in rows:
            lines.append(
                f"| {name} | {row['size']:,} | {1000 * row['fair']:.1f} ms | {row['fair'] / rows[0]['fair']:.2f}× | "
                f"{1000 * row['floor']:.2f} ms | {row['fair'] / row['floor']:.0f}× | "
                f"{'yes' if row['small_first'] else 'NO'} |")
    body = "\n".join(lines)
    if markdown:
        write_section(markdown, "queue", body)
    return body


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown")
    parser.add_argument("--sizes", default="1000,10000,50000")
    arguments = parser.parse_args()
    print(run(arguments.markdown, [int(size) for size in arguments.sizes.split(",")]))
