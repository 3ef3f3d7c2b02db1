"""The dashboard as a merchant meets it, at 1366 px and at 390 px: every page passes axe-core
(no serious or critical violation, light and dark) and fits the width; the video list's filters,
sorting and bulk actions; the one confirmation dialog; polling that waits while the tab is
hidden; the plan chosen at setup."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import (
    BOTH_WIDTHS,
    PHONE,
    assert_fits_the_width,
    axe_violations,
    cut_off_choices,
    log_in,
    open_menu,
)
from tests.browser.test_journeys import _queue as queue_video
from tests.conftest import PASSWORD
from webapp import media
from webapp.extensions import db
from webapp.jobs import stop_scheduler
from webapp.models import Video, Workspace


def _look(page, problems: list[str]) -> None:
    """Collects what axe finds on the page as it is now and the menus cut off, and checks the width."""
    problems.extend(axe_violations(page))
    problems.extend(cut_off_choices(page))
    assert_fits_the_width(page)


def _give_file(app, video_id: int, payload: bytes) -> None:
    """A finished video's MP4 and poster, stored as a render stores them."""
    with app.app_context():
        video = db.session.get(Video, video_id)
        video.video_path = media.new_path("videos/test", ".mp4")
        media.write_atomically(video.video_path, payload)
        db.session.commit()
        db.session.remove()


@BOTH_WIDTHS
def test_every_page_passes_axe_in_light_and_dark_and_fits_the_width(page, live_app, shop):
    stop_scheduler(live_app)  # the videos stay as they are while the pages are looked at
    done = queue_video(live_app, shop, 0, "lifestyle", finish="completed")
    failed = queue_video(live_app, shop, 1, "unboxing", finish="failed")
    waiting = queue_video(live_app, shop, 2, "product_showcase", options={"duration": 30})
    problems: list[str] = []

    page.goto("/login")
    _look(page, problems)
    log_in(page)
    for path in ("/videos", "/videos?status=failed&sort=product&order=asc", f"/videos/{done}", f"/videos/{failed}",
                 f"/videos/{waiting}", "/products", f"/products/{shop['products'][0]}",
                 f"/products/{shop['products'][0]}/edit", "/products/new", "/products/import", "/videos/new",
                 f"/videos/new?product_id={shop['products'][3]}", "/settings", "/videos/999999"):
        page.goto(path)
        expect(page.locator("h1")).to_have_count(1)
        _look(page, problems)

    page.goto(f"/products/{shop['products'][5]}")  # the template picker, open (no video yet: the form is open)
    page.get_by_role("button", name="Choose template…").click()
    expect(page.locator("#template-dialog .template-card")).to_have_count(6)
    page.keyboard.press("Tab")  # a focused card looks different from the chosen one
    _look(page, problems)
    page.keyboard.press("Escape")

    page.goto("/videos")  # the confirmation dialog, open
    page.locator(f"#video-{waiting}").get_by_role("button", name="Cancel").click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    expect(page.get_by_role("button", name="Not now")).to_be_focused()  # Enter does no harm
    _look(page, problems)
    page.get_by_role("button", name="Not now").click()

    page.goto("/videos")  # the filters, unfolded on a phone
    if page.locator(".filters-toggle").is_visible():
        page.locator(".filters-toggle").click()
    _look(page, problems)

    page.goto("/products")  # the bulk bar's options, the bulk confirmation and, on a phone, the menu
    page.get_by_label("Select Aurora Lamp", exact=True).check()
    if page.locator(".bulk-expand").is_visible():
        page.locator(".bulk-expand").click()
    _look(page, problems)
    page.get_by_role("button", name="Generate videos…").click()
    expect(page.locator("#bulk-confirm-dialog")).to_be_visible()
    _look(page, problems)
    page.locator("#bulk-confirm-dialog").get_by_role("button", name="Not yet").click()
    open_menu(page)
    _look(page, problems)
    assert problems == [], "\n".join(problems)
    assert [error for error in page.watch.errors if "404" not in error] == []  # /videos/999999 is a 404


@BOTH_WIDTHS
def test_the_header_fits_one_row_and_the_bulk_bar_one_line(page, live_app, shop, viewport):
    log_in(page)
    page.goto("/products")
    header = page.locator(".site-header").bounding_box()
    assert header["height"] <= 72  # one row: brand and sections (or the menu button)
    for name in ("Aurora Lamp", "Nimbus Mug", "Trail Pack"):
        page.get_by_label(f"Select {name}", exact=True).check()
    bar = page.locator(".bulk-bar")
    expect(bar.locator("[data-selected-count]")).to_have_text("3")
    if viewport["width"] < 640:
        assert bar.bounding_box()["height"] < 0.12 * viewport["height"]  # one compact line
        expect(bar.locator("select[name=template]")).to_be_hidden()
        bar.get_by_role("button", name="Options").click()
        expect(bar.locator("select[name=template]")).to_be_visible()
        open_menu(page)
        page.get_by_role("link", name="Settings").click()
        expect(page).to_have_url(re.compile("/settings$"))
    else:
        expect(bar.locator("select[name=template]")).to_be_visible()
    assert_fits_the_width(page)


@BOTH_WIDTHS
def test_the_video_list_filters_sorts_and_acts_on_selected_rows(page, live_app, shop):
    finished = [queue_video(live_app, shop, index, "lifestyle", finish="completed") for index in (0, 1)]
    failed = [queue_video(live_app, shop, index, "unboxing", finish="failed") for index in (2, 3)]
    for video_id, payload in zip(finished, (b"first mp4 " * 5000, b"second mp4 " * 7000), strict=True):
        _give_file(live_app, video_id, payload)
    log_in(page)
    rows = page.locator("table.videos tbody tr")
    expect(rows).to_have_count(4)

    if page.get_by_role("button", name="Filters").is_visible():  # folded away on a phone
        page.get_by_role("button", name="Filters").click()
    page.get_by_label("Template").select_option("unboxing")
    expect(page).to_have_url(re.compile("template=unboxing"))
    expect(rows).to_have_count(2)
    page.get_by_label("Template").select_option("")
    page.get_by_label("Product", exact=True).select_option(label="Nimbus Mug")
    expect(rows).to_have_count(1)
    page.get_by_label("Product", exact=True).select_option("")
    expect(rows).to_have_count(4)

    page.locator("th.sortable a", has_text="Product").click()  # Aurora, Echo, Nimbus, Trail
    expect(page).to_have_url(re.compile("sort=product&order=asc"))
    expect(rows.first).to_contain_text("Aurora Lamp")
    page.locator("th.sortable a", has_text="Product").click()
    expect(page).to_have_url(re.compile("sort=product&order=desc"))
    expect(rows.first).to_contain_text("Trail Pack")
    expect(page.get_by_label("Sort by")).to_have_value("product")
    page.reload()
    expect(rows.first).to_contain_text("Trail Pack")

    for video_id in finished:  # two finished videos as one ZIP, read back
        page.locator(f"#video-{video_id} input[name=video_ids]").check()
    expect(page.locator("#video-actions [data-selected-count]")).to_have_text("2")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download ZIP").click()
    archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
    assert archive.namelist() == [f"aurora-lamp-lifestyle-{finished[0]}.mp4", f"nimbus-mug-lifestyle-{finished[1]}.mp4"]
    assert archive.read(f"nimbus-mug-lifestyle-{finished[1]}.mp4") == b"second mp4 " * 7000

    page.reload()
    for video_id in failed:
        page.locator(f"#video-{video_id} input[name=video_ids]").check()
    page.get_by_role("button", name="Retry failed").click()
    expect(page.locator("#video-list .flash")).to_contain_text("2 videos queued again.")
    for video_id in failed:
        expect(page.locator(f"#video-{video_id} .badge")).to_have_text(re.compile("Pending|Generating|Completed"))

    page.locator(f"#video-{finished[0]} input[name=video_ids]").check()
    page.get_by_role("button", name="Delete", exact=True).last.click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_contain_text("Delete 1 video for good?")  # says how many it deletes
    dialog.get_by_role("button", name="Delete videos").click()
    expect(page.locator("#video-list .flash")).to_contain_text("1 video deleted.")
    expect(page.locator(f"#video-{finished[0]}")).to_have_count(0)
    assert_fits_the_width(page)
    assert [error for error in page.watch.errors if "Content Security Policy" in error] == []


def test_a_hidden_tab_does_not_poll_and_catches_up_when_shown(page, live_app, shop):
    video_id = queue_video(live_app, shop, 4, "store_display", options={"duration": 30})
    log_in(page)
    page.route("**/videos/poll**", lambda route: route.fulfill(status=204))  # keep it in flight
    page.goto(f"/videos/{video_id}")
    page.wait_for_timeout(2500)
    assert page.watch.polls, "a visible tab polls"
    page.evaluate("""() => {
        Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
        document.dispatchEvent(new Event("visibilitychange"));
    }""")
    hidden = len(page.watch.polls)
    page.wait_for_timeout(5000)
    assert len(page.watch.polls) == hidden  # two and a half intervals, no poll
    page.evaluate("""() => {
        Object.defineProperty(document, "visibilityState", {value: "visible", configurable: true});
        document.dispatchEvent(new Event("visibilitychange"));
    }""")
    page.wait_for_timeout(600)
    assert len(page.watch.polls) == hidden + 1  # at once, not at the next interval
    assert page.watch.errors == []


def test_the_plan_chosen_at_setup_is_kept_and_an_owner_changes_it(page, live_app):
    with live_app.app_context():  # the demo workspace `make run` seeds, before anyone sets up
        db.session.add(Workspace(name="Demo Store", plan="senior"))
        db.session.commit()
        db.session.remove()
    page.goto("/")
    expect(page).to_have_url(re.compile("/setup$"))
    assert axe_violations(page) == []
    page.get_by_label("Your name").fill("Ada")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    expect(page.get_by_label("Workspace name")).to_have_value("Demo Store")
    page.locator("select[name=plan]").select_option("junior")
    page.get_by_label(re.compile("Start with the demo catalog")).uncheck()
    page.get_by_role("button", name="Create workspace").click()
    expect(page.locator("#usage-bar")).to_contain_text("0 / 30")

    page.goto("/settings")
    page.locator("select[name=plan]").select_option("executive")
    page.get_by_role("button", name="Change plan").click()
    expect(page.locator("#flashes")).to_contain_text("Plan changed to Executive: 500 videos a month.")
    expect(page.locator("#usage-bar")).to_contain_text("0 / 500")
    expect(page.locator("#flashes .flash")).to_be_hidden(timeout=15_000)  # flash messages fade after 10 s
    with live_app.app_context():
        assert db.session.scalar(select(Workspace.plan).filter_by(name="Demo Store")) == "executive"
        db.session.remove()
    assert page.watch.errors == []


TABLE_WIDTHS = [{"width": width, "height": 900} for width in (700, 800, 1024, 1366)]


@pytest.mark.parametrize("viewport", TABLE_WIDTHS, ids=[f"{v['width']}px" for v in TABLE_WIDTHS], indirect=True)
def test_the_lists_show_every_column_at_a_tablets_width_and_up(page, live_app, shop):
    """Between a phone's cards and a laptop's table, nothing of a list hides off its right edge."""
    queue_video(live_app, shop, 0, "lifestyle")  # in flight (or about to be): progress and Cancel
    queue_video(live_app, shop, 1, "unboxing", finish="completed")
    log_in(page)
    for path in ("/videos", "/products"):
        page.goto(path)
        expect(page.locator("table tbody tr").first).to_be_visible()
        assert_fits_the_width(page)
        scrolled = page.evaluate("() => { const s = document.querySelector('.table-scroll');"
                                 " return [s.scrollWidth, s.clientWidth]; }")
        assert scrolled[0] <= scrolled[1], (path, scrolled)


def test_the_video_list_columns_stay_put_as_a_video_finishes(page, live_app, shop):
    queue_video(live_app, shop, 1, "unboxing", finish="completed")
    log_in(page)
    rendering = queue_video(live_app, shop, 0, "lifestyle")
    page.goto("/videos")
    columns = "() => [...document.querySelectorAll('table.videos thead th')].map(th => Math.round(th.getBoundingClientRect().left))"
    row = page.locator(f"#video-{rendering}")
    expect(row.get_by_role("button", name="Cancel")).to_be_visible()
    before = page.evaluate(columns)
    expect(row).to_contain_text("Completed", timeout=60_000)  # rendered here, swapped in by the poller
    expect(row.get_by_role("button", name="Cancel")).to_have_count(0)
    assert page.evaluate(columns) == before


@BOTH_WIDTHS
def test_settings_list_their_sections_and_a_new_token_shows_where_the_page_lands(page, live_app, shop, viewport):
    log_in(page)
    page.goto("/settings")
    sections = page.get_by_role("navigation", name="Settings sections").get_by_role("link")
    expect(sections).to_have_text(["Plan", "Brand", "Storefront", "Webhooks", "API tokens", "Video provider",
                                   "Your password"])
    for name in ("Webhooks", "Your password"):
        sections.filter(has_text=name).click()
        expect(page.get_by_role("heading", name=name, level=2)).to_be_in_viewport()
    assert_fits_the_width(page)

    page.goto("/settings")
    tokens = page.locator("#tokens")
    tokens.get_by_label("Token name").fill("storefront widget")
    tokens.get_by_role("button", name="Create token").click()
    expect(page.get_by_label("New API token")).to_be_in_viewport()  # not below the fold of a long page
    expect(tokens.locator("table")).to_contain_text("storefront widget")
    assert_fits_the_width(page)  # the tokens table scrolls in its box, the page does not
    assert page.watch.errors == []


@pytest.mark.parametrize("viewport", [PHONE], ids=["390px"], indirect=True)
def test_a_refused_generate_form_lands_a_phone_on_what_to_fix(page, live_app, shop, viewport):
    log_in(page)
    page.goto("/videos/new")  # no product chosen: said at the select, no dialog asks to spend a video
    page.get_by_role("button", name="Generate video").click()
    expect(page.locator("#generate-confirm")).to_be_hidden()
    product = page.get_by_label("Product")
    assert product.evaluate("field => field.validity.valueMissing")
    expect(page.locator("#product_id-live-error")).to_have_text("Choose a product.")  # beside it, not only in a bubble
    expect(product).to_have_attribute("aria-invalid", "true")
    product.select_option(index=1)  # mended (the form is drawn again for the product)
    expect(page.locator("#product_id-live-error")).to_be_hidden()
    page.goto(f"/products/{shop['products'][0]}")
    page.locator("summary", has_text="Options").click()
    length = page.get_by_label("Length (seconds)")
    # what the browser knows is wrong is shown there, before the form asks to spend a video
    length.fill("60")
    page.get_by_role("button", name="Generate video").click()
    expect(page.locator("#generate-confirm")).to_be_hidden()
    assert length.evaluate("field => field.validity.rangeOverflow")
    # what only the server knows comes back summed up, each problem a link to its field
    length.fill("5")
    length.press("Tab")
    page.wait_for_load_state("networkidle")  # the script is drafted again for the length
    page.locator("#script-field textarea").fill("\n".join(["Warm light for long evenings at the desk."] * 4))
    page.get_by_role("button", name="Generate video").click()
    page.locator("#generate-confirm").get_by_role("button", name="Generate video").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary).to_contain_text("No video was made and nothing was counted. One thing to fix:")
    summary.get_by_role("link", name=re.compile(r"^Length \(seconds\): This script takes about")).click()
    expect(length).to_be_in_viewport()
    assert [e for e in page.watch.errors if "422" not in e] == []  # the refusal's own status


def test_a_vertical_videos_poster_fills_its_thumbnail_in_the_list(page, live_app, shop):
    """A 9:16 poster shown whole in a landscape thumbnail would be a sliver: a square of it from
    the top of its product card down fills a square thumbnail, in the place of a wide one (the
    titles beside stay in line); a 16:9 one is shown whole."""
    from PIL import Image

    vertical = queue_video(live_app, shop, 0, "lifestyle", finish="completed", options={"aspect_ratio": "9:16"})
    wide = queue_video(live_app, shop, 1, "lifestyle", finish="completed", options={"aspect_ratio": "16:9"})
    with live_app.app_context():
        for video_id, size in ((vertical, (720, 1280)), (wide, (1280, 720))):
            poster = io.BytesIO()
            Image.new("RGB", size, (200, 120, 40)).save(poster, "JPEG")
            video = db.session.get(Video, video_id)
            video.thumbnail_path = media.new_path("videos/test", ".jpg")
            media.write_atomically(video.thumbnail_path, poster.getvalue())
        db.session.commit()
        db.session.remove()
    log_in(page)
    page.goto("/videos")
    fit = ("img => [getComputedStyle(img).objectFit, getComputedStyle(img).objectPosition, img.naturalWidth,"
           " img.clientWidth === img.clientHeight, Math.round(img.getBoundingClientRect().left + img.offsetWidth / 2)]")
    expect(page.locator(f"#video-{vertical} img.thumb")).to_be_visible()
    fit_vertical, fit_wide = (page.locator(f"#video-{v} img.thumb").evaluate(fit) for v in (vertical, wide))
    assert fit_vertical[:4] == ["cover", "50% 14%", 720, True]
    assert fit_wide[0] == "contain" and not fit_wide[3]
    assert fit_vertical[4] == fit_wide[4]  # both in the middle of the same place
