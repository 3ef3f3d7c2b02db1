"""The queue: fair between workspaces (a bulk delays another workspace's video by one render at
most; workspaces take turns; running videos count toward a workspace's share), claims that never
over-claim or claim twice under concurrency, and prompt dispatch (PostgreSQL NOTIFY heard by
listening workers, or this process's own dispatcher woken directly) — on SQLite and PostgreSQL.

Renders here are held by a stub provider until the test finishes them, so the order videos
start in is seen without any render time."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, select

from tests.conftest import make_product, make_workspace, video_request
from tests.held import HELD, queue_bulk
from webapp.extensions import db
from webapp.generation import queue, service
from webapp.generation.lifecycle import transition
from webapp.generation.requests import build_request
from webapp.generation.worker import Worker, claim
from webapp.jobs import EXTENSION, start_scheduler
from webapp.models import Video, VideoStatus
from webapp.providers.registry import get_provider

LIMITS = {"junior": 30, "senior": 100, "executive": 5000}


@pytest.fixture
def held(app_factory):
    """An app (in context) whose videos go to the held provider with ``slots`` render slots: its
    worker, whose ticks the test runs, and the provider."""

    def build(slots: int):
        app = app_factory(VIDEO_PROVIDER=HELD, RENDER_SLOTS=slots, PLAN_LIMITS=LIMITS)
        context = app.app_context()
        context.push()
        built.append(context)
        return Worker(app), get_provider(HELD)

    built = []
    yield build
    for context in built:
        db.session.remove()
        context.pop()


def single(workspace, user, product) -> int:
    video, _ = service.create_video(workspace, user, video_request(product_id=product.id, template="unboxing"))
    return video.id


def finish_and_dispatch(worker: Worker, provider, *video_ids: int) -> None:
    """Those renders end; the sync applies it, and the freed slots are dispatched."""
    for video_id in video_ids:
        provider.finish(video_id)
    worker.sync()
    worker.dispatch()


def run_all(worker: Worker, provider) -> None:
    """Renders one video at a time until nothing waits, finishing each as soon as it starts."""
    worker.dispatch()
    while running := provider.running():
        finish_and_dispatch(worker, provider, *running)


def test_a_thousand_video_bulk_delays_another_workspaces_video_by_one_render_at_most(held):
    worker, provider = held(slots=2)
    bulk_co, bulk_owner = make_workspace("Bulk Co", plan="executive", email="bulk@example.com")
    bulk = queue_bulk(bulk_co, bulk_owner, 1000)
    small_co, small_owner = make_workspace("Small Co", email="small@example.com")
    worker.dispatch()
    assert provider.running() == bulk[:2]  # the bulk fills both slots

    theirs = single(small_co, small_owner, make_product(small_co))
    worker.dispatch()
    assert provider.running() == bulk[:2]  # no slot free yet: it waits for one render
    finish_and_dispatch(worker, provider, bulk[0])
    assert provider.started[2:] == [theirs]  # the first slot that frees is its
    assert db.session.get(Video, theirs).status == VideoStatus.GENERATING.value
    finish_and_dispatch(worker, provider, bulk[1])
    assert provider.started[-1] == bulk[2]  # then the bulk goes on


def test_a_claim_passes_the_head_of_a_queue_that_other_workers_hold(held):
    """Only the head of each workspace's queue is ranked (on PostgreSQL): videos there that other
    workers have leased are passed over, and the next ones are taken in order, earlier bulk first."""
    held(slots=4)
    bulk_co, bulk_owner = make_workspace("Bulk Co", plan="executive", email="bulk@example.com")
    first_bulk = queue_bulk(bulk_co, bulk_owner, 60)
    second_bulk = queue_bulk(bulk_co, bulk_owner, 5)
    taken = claim(VideoStatus.PENDING, HELD, 50, "another-worker")
    assert sorted(row.id for row in taken) == first_bulk[:50]
    assert sorted(row.id for row in claim(VideoStatus.PENDING, HELD, 4, "this-worker")) == first_bulk[50:54]
    later = sorted(row.id for row in claim(VideoStatus.PENDING, HELD, 10, "this-worker"))
    assert later == first_bulk[54:] + second_bulk[:4]


def test_workspaces_take_turns_singles_first_whatever_came_first(held):
    worker, provider = held(slots=1)
    a, a_owner = make_workspace("A", plan="executive", email="a@example.com")
    b, b_owner = make_workspace("B", plan="executive", email="b@example.com")
    c, c_owner = make_workspace("C", plan="executive", email="c@example.com")
    a_bulk = queue_bulk(a, a_owner, 6)  # queued first
    b_bulk = queue_bulk(b, b_owner, 3)
    c_product = make_product(c)
    c_singles = [single(c, c_owner, c_product) for _ in range(2)]
    run_all(worker, provider)
    a1, a2, a3, a4, a5, a6 = a_bulk
    b1, b2, b3 = b_bulk
    c1, c2 = c_singles
    assert provider.started == [c1, a1, b1, c2, a2, b2, a3, b3, a4, a5, a6]


def test_a_stream_of_single_videos_does_not_hold_back_another_workspaces_single(held):
    worker, provider = held(slots=1)
    busy, busy_owner = make_workspace("Busy", plan="executive", email="busy@example.com")
    quiet, quiet_owner = make_workspace("Quiet", email="quiet@example.com")
    busy_product = make_product(busy)
    busy_videos = [single(busy, busy_owner, busy_product) for _ in range(5)]  # an API client, one by one
    quiet_video = single(quiet, quiet_owner, make_product(quiet))
    worker.dispatch()
    finish_and_dispatch(worker, provider, busy_videos[0])
    assert provider.started == [busy_videos[0], quiet_video]


def test_running_videos_count_toward_a_workspaces_share_of_the_slots(held):
    worker, provider = held(slots=4)
    a, a_owner = make_workspace("A", plan="executive", email="a@example.com")
    b, b_owner = make_workspace("B", plan="executive", email="b@example.com")
    a_bulk = queue_bulk(a, a_owner, 10)
    worker.dispatch()
    assert provider.running() == a_bulk[:4]  # alone, A takes every slot
    b_bulk = queue_bulk(b, b_owner, 10)
    finish_and_dispatch(worker, provider, a_bulk[0])
    finish_and_dispatch(worker, provider, a_bulk[1])
    assert provider.started[4:] == b_bulk[:2]  # B gets the freed slots until both run as many
    finish_and_dispatch(worker, provider, a_bulk[2])
    assert provider.started[6] == a_bulk[4]  # then A again: two each
    assert sorted(provider.running()) == sorted([a_bulk[3], a_bulk[4], *b_bulk[:2]])


def test_concurrent_claims_never_take_more_than_asked_nor_a_video_twice(held):
    app = held(slots=1)[0].app
    workspaces = [make_workspace(f"W{n}", plan="executive", email=f"w{n}@example.com") for n in range(3)]
    queued = sorted(video_id for workspace, user in workspaces for video_id in queue_bulk(workspace, user, 100))
    statements: list[str] = []
    engine = db.engine

    def record(connection, cursor, statement, *args) -> None:
        if "row_number() OVER" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    start = threading.Barrier(8)

    def claimer(number: int) -> list[list[int]]:
        claims = []
        with app.app_context():
            start.wait(timeout=30)
            while ids := [row.id for row in claim(VideoStatus.PENDING, HELD, 7, f"claimer-{number}")]:
                claims.append(ids)
            db.session.remove()
        return claims

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(claimer, range(8)))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    claimed = [video_id for claims in results for ids in claims for video_id in ids]
    assert sorted(claimed) == queued  # every video claimed, and only once
    assert max(len(ids) for claims in results for ids in claims) <= 7
    owners = dict(db.session.execute(select(Video.id, Video.lease_owner)).all())
    for number, claims in enumerate(results):
        assert all(owners[video_id] == f"claimer-{number}" for ids in claims for video_id in ids)
    if engine.dialect.name == "postgresql":
        assert statements and all("FOR UPDATE OF videos SKIP LOCKED" in statement for statement in statements)


# ------------------------------------------------------------ waking up ----


def test_a_created_video_wakes_this_processs_dispatcher(app, workspace, owner):
    woken = threading.Event()
    app.extensions[queue.LOCAL_WAKE] = woken.set
    single(workspace, owner, make_product(workspace))
    assert woken.is_set()


def test_listening_workers_hear_a_video_created_by_another_process(app, workspace, owner):
    if db.engine.dialect.name != "postgresql":
        assert queue.listen_for_work(lambda: None) is None  # SQLite has no NOTIFY: the tick finds it
        return
    woken = threading.Event()
    listener = queue.listen_for_work(woken.set)
    try:
        assert listener.listening.wait(10) and woken.wait(10)  # a first wake when it starts listening
        woken.clear()
        single(workspace, owner, make_product(workspace))
        assert woken.wait(10)
    finally:
        listener.stop()
    assert not listener.listening.is_set()


def test_the_worker_dispatches_a_queued_video_without_waiting_for_its_tick(app_factory):
    app = app_factory(VIDEO_PROVIDER=HELD, RENDER_SLOTS=1)
    start_scheduler(app)
    running = app.extensions[EXTENSION]
    running.scheduler.reschedule_job("dispatch", trigger="interval", seconds=3600)  # no tick to wait for
    if running.listener is not None:  # PostgreSQL: the NOTIFY, not this process's own wake, must do it
        assert running.listener.listening.wait(10)
        app.extensions.pop(queue.LOCAL_WAKE)
    with app.app_context():
        workspace, owner = make_workspace()
        video_id = single(workspace, owner, make_product(workspace))
        provider = get_provider(HELD)
    deadline = threading.Event()
    for _ in range(100):
        if video_id in provider.started:
            break
        deadline.wait(0.1)
    assert provider.started == [video_id]


def test_each_freed_slot_starts_the_next_video_at_once_every_time(app_factory):
    """One slot, no tick: every render that ends must start the next queued video by itself. A
    wake-up that arrives while the last dispatch is winding up must not be lost."""
    app = app_factory(VIDEO_PROVIDER=HELD, RENDER_SLOTS=1)
    start_scheduler(app)
    app.extensions[EXTENSION].scheduler.reschedule_job("dispatch", trigger="interval", seconds=3600)
    with app.app_context():
        workspace, owner = make_workspace(plan="senior")
        product = make_product(workspace)
        queued = [single(workspace, owner, product) for _ in range(60)]
        provider = get_provider(HELD)
    pause = threading.Event()
    for n in range(len(queued)):
        for _ in range(200):  # 10 s
            if len(provider.started) > n:
                break
            pause.wait(0.05)
        assert len(provider.started) == n + 1, f"the video after {n} finished renders never started"
        provider.finish(provider.started[n], report=True)
    assert provider.started == queued



def test_a_job_is_stopped_only_when_two_syncs_find_no_video_for_it(held):
    """A sync stops this process's jobs whose video was canceled elsewhere, but not a job whose
    submit is still being recorded on its video (that race stopped freshly started renders)."""
    worker, provider = held(slots=3)
    workspace, owner = make_workspace(plan="senior")
    product = make_product(workspace)
    canceled_elsewhere, recording = single(workspace, owner, product), single(workspace, owner, product)
    first = provider.submit(build_request(db.session.get(Video, canceled_elsewhere)))
    transition(db.session.get(Video, canceled_elsewhere), VideoStatus.GENERATING, "Started", external_job_id=first)
    # the submit of the other video went out; its transaction has not committed yet
    job = provider.submit(build_request(db.session.get(Video, recording)))
    worker.sync()
    assert provider.running() == [canceled_elsewhere, recording]
    transition(db.session.get(Video, recording), VideoStatus.GENERATING, "Started", external_job_id=job)
    transition(db.session.get(Video, canceled_elsewhere), VideoStatus.CANCELED, "Canceled by another process")
    worker.sync()
    assert provider.running() == [canceled_elsewhere, recording]  # seen once without a video
    worker.sync()
    assert provider.running() == [recording]
