"""The three ways Reelboard is used, in a real browser: browsing the dashboard, generating from a
product page, and bulk generation from the products table (plus the quota edge of bulk)."""

from __future__ import annotations

import itertools
import re

from playwright.sync_api import expect

from tests.browser.conftest import log_in
from webapp.extensions import db
from webapp.generation import quota, service
from webapp.generation.lifecycle import transition
from webapp.models import UsagePeriod, User, Video, VideoStatus, Workspace


def _queue(app, shop, product_index: int, template: str, finish: str | None = None, options: dict | None = None) -> int:
    """A video made directly in the database, optionally moved to a final status."""
    with app.app_context():
        workspace, owner = db.session.get(Workspace, shop["workspace"]), db.session.get(User, shop["owner"])
        video, _ = service.create_video(
            workspace, owner, product_id=shop["products"][product_index], template=template,
            options=options or {"duration": 5},
        )
        video_id = video.id
        if finish:
            transition(video, VideoStatus.GENERATING, "started")
            transition(db.session.get(Video, video_id), VideoStatus(finish), "finished in a test")
        db.session.remove()
    return video_id


def test_browse_filter_search_sort_paginate_and_reload(page, live_app, shop):
    templates = ["product_showcase", "lifestyle", "unboxing"]
    for i in range(24):
        _queue(live_app, shop, i % 8, templates[i % 3], finish="completed" if i % 4 else "failed")
    log_in(page)
    rows = page.locator("table.videos tbody tr")
    expect(rows).to_have_count(20)
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()

    page.get_by_label("Status").select_option("failed")
    expect(page).to_have_url(re.compile(r"status=failed"))
    expect(rows).to_have_count(6)
    expect(page.locator("table.videos .badge-failed")).to_have_count(6)

    page.get_by_label("Search videos").fill("Aurora")  # the failed ones are of Aurora Lamp and Echo Speaker
    expect(page).to_have_url(re.compile(r"q=Aurora"))
    expect(rows).to_have_count(3)
    page.reload()
    expect(page.get_by_label("Search videos")).to_have_value("Aurora")
    expect(rows).to_have_count(3)
    expect(page.get_by_label("Status")).to_have_value("failed")

    page.goto("/videos")
    page.get_by_label("Order").select_option("asc")
    expect(page).to_have_url(re.compile(r"order=asc"))
    page.get_by_role("link", name="Next →").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(rows).to_have_count(4)
    page.go_back()
    expect(page).to_have_url(re.compile(r"order=asc(?!.*page=2)"))
    expect(rows).to_have_count(20)
    page.reload()
    expect(page.get_by_label("Order")).to_have_value("asc")
    assert page.locator("#poller[hx-get]").count() == 0  # nothing in flight: no poller
    assert page.watch.errors == []


def test_generate_from_a_product_page(page, live_app, shop):
    from webapp.generation.previews import render_template_previews

    with live_app.app_context():
        list(render_template_previews())
    log_in(page)
    page.goto(f"/products/{shop['products'][0]}")
    expect(page.get_by_role("heading", name="Aurora Lamp")).to_be_visible()

    page.get_by_role("button", name="Choose template…").click()
    dialog = page.locator("#template-dialog")
    expect(dialog).to_be_visible()
    card = dialog.locator("[data-template-key=lifestyle]")
    card.hover()
    page.wait_for_function("() => { const v = document.querySelector('[data-template-key=lifestyle] video');"
                           " return v && !v.paused && v.currentTime > 0; }")
    card.click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#template-chosen")).to_have_text("Lifestyle")
    page.keyboard.press("Escape")

    page.get_by_label("Custom instructions").fill("Warm evening light on a desk")
    expect(page.locator("#instructions-counter")).to_contain_text("28 / 500")
    page.locator("summary", has_text="Options").click()
    page.get_by_label("Duration (seconds)").fill("5")
    page.get_by_role("button", name="Generate video").click()
    confirm = page.locator("#generate-confirm")
    expect(confirm).to_contain_text("This uses 1 of your 30 remaining videos this month")
    confirm.get_by_role("button", name="Generate video").click()

    page.wait_for_url(re.compile(r"/videos/\d+$"))
    status = page.locator(".video-status")
    expect(status.locator(".badge")).to_have_text(re.compile("Pending|Generating"))
    expect(page.locator("video.player")).to_be_visible(timeout=90_000)
    timeline = page.locator(".timeline")
    for status in ("pending", "generating", "completed"):  # the timeline updated live too
        expect(timeline).to_contain_text(status)
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # never reloaded
    page.locator("video.player").evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.querySelector('video.player').currentTime > 0.2")
    expect(page.locator("#usage-bar")).to_contain_text("1 / 30")
    assert page.watch.errors == []


def test_bulk_generate_from_the_products_table(page, live_app, shop):
    for index in (0, 1):
        _queue(live_app, shop, index, "unboxing", finish="completed")
    log_in(page)
    page.goto("/products")
    expect(page.locator("#usage-bar")).to_contain_text("2 / 30")
    for index in range(5):
        page.get_by_label(re.compile(f"^Select {['Aurora Lamp', 'Nimbus Mug', 'Trail Pack', 'Echo Speaker', 'Bloom Vase'][index]}$")).check()
    expect(page.locator("[data-selected-count]")).to_have_text("5")
    page.locator(".bulk-bar select[name=template]").select_option("unboxing")
    page.locator(".bulk-bar").get_by_label("Duration (seconds)").fill("5")
    page.get_by_role("button", name="Generate videos…").click()
    confirm = page.locator(".bulk-confirm")
    expect(confirm).to_contain_text("Generate 3 videos?")
    expect(confirm).to_contain_text("2 selected products already have a completed video")
    page.get_by_role("button", name="Generate 3 videos").click()

    summary = page.locator(".bulk-summary")
    expect(summary.locator(".summary-counts")).to_contain_text("3 queued")
    expect(summary.locator(".summary-counts")).to_contain_text("2 skipped")
    expect(page.locator("#usage-bar")).to_contain_text("5 / 30")  # refreshed by HX-Trigger, no reload
    polls_before = len(page.watch.polls)
    expect(summary.locator(".badge-completed")).to_have_count(3, timeout=90_000)
    polls = page.watch.polls[polls_before:]
    assert polls, "the page polled while the videos rendered"
    gaps = [later - earlier for earlier, later in itertools.pairwise(polls)]
    assert all(gap > 1.2 for gap in gaps), gaps  # one request per 2 s interval, whatever the row count
    page.wait_for_timeout(2500)
    settled = len(page.watch.polls)
    page.wait_for_timeout(4500)
    assert len(page.watch.polls) == settled  # nothing in flight: polling stopped by itself
    assert page.watch.errors == []


def test_bulk_with_one_video_left_queues_one_and_reports_two_over_quota(page, live_app, shop):
    with live_app.app_context():
        db.session.add(UsagePeriod(workspace_id=shop["workspace"], period=quota.current_period(), used=29))
        db.session.commit()
        db.session.remove()
    log_in(page)
    page.goto("/products")
    expect(page.locator("#usage-bar")).to_contain_text("Limit reached")
    for name in ("Aurora Lamp", "Nimbus Mug", "Trail Pack"):
        page.get_by_label(f"Select {name}", exact=True).check()
    page.locator(".bulk-bar").get_by_label("Duration (seconds)").fill("5")
    page.get_by_role("button", name="Generate videos…").click()
    expect(page.locator(".bulk-confirm")).to_contain_text("Only 1 fit")
    page.get_by_role("button", name="Generate 3 videos").click()
    counts = page.locator(".bulk-summary .summary-counts")
    expect(counts).to_contain_text("1 queued")
    expect(counts).to_contain_text("2 over quota")
    expect(page.locator(".bulk-summary")).to_contain_text("Video generation limit reached")
    expect(page.locator("#usage-bar")).to_contain_text("30 / 30")
    assert page.watch.errors == []


def test_a_lost_connection_shows_reconnecting_until_a_poll_gets_through(page, live_app, shop):
    video_id = _queue(live_app, shop, 2, "store_display", options={"duration": 30, "aspectRatio": "1:1"})
    log_in(page)
    page.route("**/videos/poll**", lambda route: route.abort())
    page.goto(f"/videos/{video_id}")
    badge = page.locator("#connection-badge")
    expect(badge).to_be_visible(timeout=10_000)
    expect(badge).to_have_text("Reconnecting…")
    page.unroute("**/videos/poll**")
    expect(badge).to_be_hidden(timeout=10_000)
    expect(page.locator("video.player")).to_be_visible(timeout=90_000)
