"""Bulk benchmark: one POST /api/v1/videos/bulk with 10,000 product ids, to a workspace whose
plan allows them (PLAN_LIMITS is configurable), on SQLite; then GET /api/v1/videos and the
/videos page while the background worker drains the queue (the local renderer making real
MP4s in this process): each from one client, then both at once.

Baselines in the same run: one POST /api/v1/videos (the bulk request is compared per video),
and the same GETs with the 10,000 videos queued but no worker running.

    python -m bench.bulk [--markdown BENCHMARKS.md] [--products 10000] [--drain 10]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, func, select

from bench.catalog import PASSWORD, bench_catalog
from bench.report import percentile, write_section
from webapp import accounts, create_app
from webapp.extensions import db
from webapp.jobs import start_scheduler, stop_scheduler
from webapp.models import (
    Video,
)

BULK_TARGET_S = 2.0
LIST_TARGET_MS = 100


@contextmanager
def _statements(engine):
    """Collects the SQL statements run inside the block."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _sample(client, path: str, headers: dict, *, runs: int | None = None, seconds: float | None = None) -> list[float]:
    """Response times in ms of GET ``path``, ``runs`` times or for ``seconds``."""
    timings: list[float] = []
    deadline = time.monotonic() + (seconds or 0)
    while (runs is not None and len(timings) < runs) or (seconds is not None and time.monotonic() < deadline):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return timings


def run(markdown: str | None = None, products: int = 10_000, drain_s: float = 15.0) -> str:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'bench.db'}", "MEDIA_DIR": Path(folder) / "media",
            "SECRET_KEY": "bench", "EMBEDDED_WORKER": False, "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False,
            "PLAN_LIMITS": {"junior": 30, "senior": 100, "executive": 500, "bench": products + 10},
        })
        with app.app_context():
            db.create_all()
            workspace, user, ids = bench_catalog(products)
            _, token = accounts.create_token(user, workspace, "bench")
            engine = db.engine
        api = {"Authorization": f"Bearer {token}"}
        client = app.test_client()
        page = app.test_client()
        assert page.post("/login", data={"email": "bench@example.com", "password": PASSWORD}).status_code == 302
        client.get("/api/v1/usage", headers=api)  # warm up: first request, token's last use

        started = time.perf_counter()
        single = client.post("/api/v1/videos", json={"productId": ids[0], "template": "lifestyle"}, headers=api)
        single_s = time.perf_counter() - started
        assert single.status_code == 202, single.get_data(as_text=True)

        body = {"productIds": ids, "template": "product_showcase", "options": {"duration": 5}}
        with _statements(engine) as statements:
            started = time.perf_counter()
            bulk = client.post("/api/v1/videos/bulk", json=body, headers=api)
            bulk_s = time.perf_counter() - started
        assert bulk.status_code == 202, bulk.get_data(as_text=True)[:300]
        summary = bulk.get_json()["data"]["summary"]
        quota_updates = sum(1 for s in statements if s.lstrip().upper().startswith("UPDATE USAGE_PERIODS"))

        list_path, page_path = "/api/v1/videos?limit=20", "/videos"
        clients = {list_path: (client, api), page_path: (page, {})}
        idle = {path: _sample(c, path, headers, runs=40) for path, (c, headers) in clients.items()}
        start_scheduler(app)
        try:
            # Each alone (one client, as a script or a person), then both at once.
            alone = {path: _sample(c, path, headers, seconds=drain_s / 3) for path, (c, headers) in clients.items()}
            together: dict[str, list[float]] = {}
            threads = [
                threading.Thread(target=lambda p=path, c=c, h=headers: together.setdefault(p, _sample(c, p, h, seconds=drain_s / 3)))
                for path, (c, headers) in clients.items()
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            stop_scheduler(app)
        with app.app_context():
            started_count = db.session.scalar(select(func.count(Video.id)).where(Video.started_at.is_not(None)))
            completed = db.session.scalar(select(func.count(Video.id)).where(Video.status == "completed"))
            db.engine.dispose()

    per_video_ms = bulk_s * 1000 / products
    lines = [
        f"{products:,} products, SQLite, local renderer; the worker (dispatch, sync, images) runs in this process.",
        "",
        "| request | time | compared with |",
        "| --- | ---: | --- |",
        f"| one POST /api/v1/videos (baseline) | {single_s * 1000:.1f} ms | — |",
        (f"| POST /api/v1/videos/bulk, {products:,} ids: {summary['queued']:,} queued | {bulk_s * 1000:.0f} ms | "
         f"{per_video_ms:.3f} ms a video, {single_s * 1000 / per_video_ms:.0f}× cheaper than one by one |"),
        "",
        (f"The bulk request ran {len(statements)} SQL statements, {quota_updates} of them on usage_periods: "
         "the quota is reserved in one statement."),
        "",
        "| GET, while the worker renders | p50 (ms) | p95 (ms) | max (ms) | p95 ÷ p95 with the queue idle |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, samples in (("alone", alone), ("both clients at once", together)):
        for path, timings in samples.items():
            p95 = percentile(timings, 0.95)
            lines.append(
                f"| {path}, {label} | {percentile(timings, 0.5):.1f} | {p95:.1f} | {max(timings):.1f} | "
                f"{p95 / percentile(idle[path], 0.95):.1f}× |"
            )
    api_p95 = percentile(alone[list_path], 0.95)
    lines += [
        "",
        (f"With the queue idle: {list_path} p50 {percentile(idle[list_path], 0.5):.1f} ms, {page_path} p50 "
         f"{percentile(idle[page_path], 0.5):.1f} ms. While sampling ({drain_s:.0f} s) the worker started "
         f"{started_count:,} of the queued videos and completed {completed:,}."),
        "",
        (f"Targets: bulk answered under {BULK_TARGET_S:.0f} s — **{'met' if bulk_s < BULK_TARGET_S else 'missed'}** "
         f"({bulk_s:.2f} s); quota in one statement — **{'met' if quota_updates == 1 else 'missed'}**; "
         f"{list_path} p95 under {LIST_TARGET_MS} ms while the queue drains — "
         f"**{'met' if api_p95 < LIST_TARGET_MS else 'missed'}** ({api_p95:.0f} ms)."),
    ]
    body = "\n".join(lines)
    if markdown:
        write_section(markdown, "bulk", body)
    return body


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown")
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--drain", type=float, default=15.0, help="Seconds to sample while the queue drains.")
    arguments = parser.parse_args()
    print(run(arguments.markdown, arguments.products, arguments.drain))
