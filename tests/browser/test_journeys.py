"""The three ways Reelboard is used, in a real browser at a laptop's width and a phone's:
browsing the dashboard, generating from a product page, and bulk generation from the products
table (plus the quota edge of bulk). No page scrolls sideways."""

from __future__ import annotations

import itertools
import re

from playwright.sync_api import expect

from tests.browser.conftest import BOTH_WIDTHS, assert_fits_the_width, log_in
from tests.conftest import video_request
from webapp.extensions import db
from webapp.generation import quota, service
from webapp.generation.lifecycle import transition
from webapp.models import UsagePeriod, User, Video, VideoStatus, Workspace


def _queue(app, shop, product_index: int, template: str, finish: str | None = None, options: dict | None = None) -> int:
    """A video made directly in the database, optionally moved to a final status."""
    with app.app_context():
        workspace, owner = db.session.get(Workspace, shop["workspace"]), db.session.get(User, shop["owner"])
        video, _ = service.create_video(
            workspace, owner, video_request(product_id=shop["products"][product_index], template=template,
            options=options or {"duration": 5},))
        video_id = video.id
        if finish:
            transition(video, VideoStatus.GENERATING, "started")
            transition(db.session.get(Video, video_id), VideoStatus(finish), "finished in a test")
        db.session.remove()
    return video_id


def show_filters(page):
    """On a phone the list's filters are folded under a button."""
    toggle = page.get_by_role("button", name="Filters")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()


def bulk_options(page):
    """On a phone the bulk bar is one line; its options unfold."""
    options = page.locator(".bulk-bar").get_by_role("button", name="Options")
    if options.is_visible() and options.get_attribute("aria-expanded") != "true":
        options.click()


@BOTH_WIDTHS
def test_browse_filter_search_sort_paginate_and_reload(page, live_app, shop):
    templates = ["product_showcase", "lifestyle", "unboxing"]
    for i in range(24):
        _queue(live_app, shop, i % 8, templates[i % 3], finish="completed" if i % 4 else "failed")
    log_in(page)
    rows = page.locator("table.videos tbody tr")
    expect(rows).to_have_count(20)
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    assert_fits_the_width(page)

    show_filters(page)
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
    show_filters(page)
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
    assert_fits_the_width(page)
    assert page.watch.errors == []


@BOTH_WIDTHS
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
    page.get_by_role("button", name="Choose template…").click()  # opened again, it marks the choice
    expect(dialog.locator("[data-template-key=lifestyle]")).to_have_attribute("aria-pressed", "true")
    expect(dialog.locator("[aria-pressed=true]")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.get_by_label("Custom instructions").fill("Warm evening light on a desk")
    expect(page.locator("#instructions-counter")).to_contain_text("28 / 500")
    # the script to be spoken follows the instructions as they are typed
    expect(page.locator("#script-field textarea")).to_have_value(re.compile(r"^Warm evening light on a desk\.?\n"))
    script = page.locator("#script-field textarea")
    drafted = script.input_value()
    spoken = sum(len(line.strip()) for line in drafted.splitlines())  # what the limit counts: the lines
    expect(page.locator("#script-hint")).to_contain_text(f"{spoken} / 520 characters")
    script.fill("word " * 110 + "\n\n")  # the limit is counted as it is typed, not found out on sending
    expect(page.locator("#script-hint")).to_contain_text("549 / 520 characters")
    expect(page.locator("#script-hint")).to_have_class(re.compile(r"\bover\b"))
    # refused here, before the form asks to spend one of the month's videos
    page.get_by_role("button", name="Generate video").click()
    expect(page.locator("#generate-confirm")).to_be_hidden()
    assert script.evaluate("t => t.validationMessage") == (
        "Line 1 has more than 200 characters: split it; the script has 549 characters, at most 520.")
    script.fill("\n".join(f"Line {n}." for n in range(1, 10)))
    assert script.evaluate("t => t.validationMessage") == "The script has 9 lines, at most 8."
    # and said beside the field until it is mended, the counter red though under 520
    expect(page.locator("#script-live-error")).to_have_text("The script has 9 lines, at most 8.")
    expect(script).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#script-hint")).to_have_class(re.compile(r"\bover\b"))
    script.fill(drafted)
    assert script.evaluate("t => t.validity.valid")
    expect(page.locator("#script-live-error")).to_be_hidden()
    expect(script).not_to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#instant-preview video")).to_be_visible()
    page.wait_for_function("() => { const v = document.querySelector('#instant-preview video');"
                           " return v && v.readyState >= 2 && v.videoHeight === 360; }")
    page.locator("summary", has_text="Options").click()
    page.get_by_label("Length (seconds)").fill("5")
    page.get_by_label(re.compile("Voiceover: a voice")).uncheck()  # 5 s is too short to speak a script
    assert_fits_the_width(page)
    page.get_by_role("button", name="Generate video").click()
    confirm = page.locator("#generate-confirm")
    expect(confirm).to_contain_text("This uses 1 of your 30 remaining videos this month")
    confirm.get_by_role("button", name="Generate video").click()

    page.wait_for_url(re.compile(r"/videos/\d+$"))
    status = page.locator(".video-status")
    expect(status.locator(".badge")).to_have_text(re.compile("Pending|Generating"))
    expect(page.locator("#flashes")).to_contain_text("Video queued")
    expect(page.locator("video.player")).to_be_visible(timeout=90_000)
    expect(page.locator("#flashes .flash")).to_be_hidden(timeout=15_000)  # the banner goes after 10 s
    timeline = page.locator(".timeline")
    for status in ("pending", "generating", "completed"):  # the timeline updated live too
        expect(timeline).to_contain_text(status)
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # never reloaded
    page.locator("video.player").evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.querySelector('video.player').currentTime > 0.2")
    expect(page.locator("#usage-bar")).to_contain_text("1 / 30")
    assert_fits_the_width(page)
    assert page.watch.errors == []


@BOTH_WIDTHS
def test_bulk_generate_from_the_products_table(page, live_app, shop):
    for index in (0, 1):
        _queue(live_app, shop, index, "unboxing", finish="completed")
    log_in(page)
    page.goto("/products")
    expect(page.locator("#usage-bar")).to_contain_text("2 / 30")
    for index in range(5):
        page.get_by_label(re.compile(f"^Select {['Aurora Lamp', 'Nimbus Mug', 'Trail Pack', 'Echo Speaker', 'Bloom Vase'][index]}$")).check()
    expect(page.locator("[data-selected-count]")).to_have_text("5")
    bulk_options(page)
    page.locator(".bulk-bar select[name=template]").select_option("unboxing")
    page.locator(".bulk-bar").get_by_label("Length (seconds)").fill("5")
    page.locator(".bulk-bar").get_by_label(re.compile("Voiceover: a voice")).uncheck()  # 5 s is too short to speak a script
    assert_fits_the_width(page)
    page.get_by_role("button", name="Generate videos…").click()
    confirm = page.locator("#bulk-confirm-dialog")
    expect(confirm).to_contain_text("Generate 3 videos?")
    expect(confirm).to_contain_text("2 selected products already have a completed video")
    confirm.get_by_role("button", name="Generate 3 videos").click()
    expect(confirm).to_be_hidden()

    summary = page.locator(".bulk-summary")
    expect(summary.locator(".summary-counts")).to_contain_text("3 queued")
    expect(summary.locator(".summary-counts")).to_contain_text("2 skipped")
    expect(page.locator("#usage-bar")).to_contain_text("5 / 30")  # refreshed by HX-Trigger, no reload
    made = [page.locator(f"#latest-video-{shop['products'][index]}") for index in (2, 3, 4)]
    for cell in made:  # the table shows each queued video, with its place or its progress
        expect(cell).to_contain_text(re.compile(r"Queued · position \d|Generating|Ready"))
    page.reload()  # mid-bulk: the table still shows them, live
    for cell in made:
        expect(cell).to_contain_text(re.compile(r"Queued · position \d|Generating|Ready"))
    assert_fits_the_width(page)
    polls_before = len(page.watch.polls)
    for cell in made:  # done: the poster, swapped in without a reload
        expect(cell.locator("img.thumb")).to_be_visible(timeout=90_000)
        expect(cell).to_contain_text("Completed")
    polls = page.watch.polls[polls_before:]
    assert polls, "the page polled while the videos rendered"
    gaps = [later - earlier for earlier, later in itertools.pairwise(polls)]
    assert all(gap > 1.2 for gap in gaps), gaps  # one request per 2 s interval, whatever the row count
    page.wait_for_timeout(2500)
    settled = len(page.watch.polls)
    page.wait_for_timeout(4500)
    assert len(page.watch.polls) == settled  # nothing in flight: polling stopped by itself
    assert page.watch.errors == []


@BOTH_WIDTHS
def test_bulk_with_one_video_left_queues_one_and_reports_two_over_quota(page, live_app, shop):
    with live_app.app_context():
        db.session.add(UsagePeriod(workspace_id=shop["workspace"], period=quota.current_period(), used=29))
        db.session.commit()
        db.session.remove()
    log_in(page)
    page.goto("/products")
    expect(page.locator("#usage-bar")).to_contain_text("Almost full")  # 29/30: red, yet one is left
    for name in ("Aurora Lamp", "Nimbus Mug", "Trail Pack"):
        page.get_by_label(f"Select {name}", exact=True).check()
    bulk_options(page)
    page.locator(".bulk-bar").get_by_label("Length (seconds)").fill("5")
    page.get_by_role("button", name="Generate videos…").click()
    expect(page.locator(".bulk-confirm")).to_contain_text("Only 1 of the 3 fit this month's quota")
    page.get_by_role("button", name="Generate 1 video").click()  # what fits, said on the button
    counts = page.locator(".bulk-summary .summary-counts")
    expect(counts).to_contain_text("1 queued")
    expect(counts).to_contain_text("2 over quota")
    expect(page.locator(".bulk-summary")).to_contain_text("2 products were not queued: Video generation limit reached")
    expect(page.locator(".bulk-summary").get_by_text("Video generation limit reached")).to_have_count(1)  # once
    expect(page.locator("#usage-bar")).to_contain_text("Limit reached")
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
