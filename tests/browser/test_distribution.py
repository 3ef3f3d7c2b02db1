"""Videos where they sell, in Chromium: a share link made on the video page opens logged out,
unfurls (Open Graph / Twitter tags) and plays with captions, and is a 404 once revoked; a store
page on another origin shows the product's video through embed.js — lazily, muted, playing,
captioned — while a page on an origin that is not allowed shows nothing."""

from __future__ import annotations

import io
import subprocess
import threading

import pytest
from PIL import Image
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.browser.conftest import BOTH_WIDTHS, log_in
from tests.conftest import jpeg_bytes
from webapp import media
from webapp.catalog import storefront
from webapp.extensions import db
from webapp.generation import brand, sharing
from webapp.generation.contract import BrandUpdate, parse
from webapp.models import Product, Video, Workspace, utcnow
from webapp.render.ffmpeg import ffmpeg_binary

CAPTIONS = "WEBVTT\n\n00:00.000 --> 00:03.000\nMade for the trail\n"


def _movie(folder, size: str) -> bytes:
    """A real, playable 3 s H.264 MP4 of ``size`` (WxH)."""
    path = folder / "clip.mp4"
    subprocess.run(
        [ffmpeg_binary(), "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={size}:rate=15:duration=3",
         "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", "-movflags", "+faststart", str(path)],
        check=True,
    )
    return path.read_bytes()


@pytest.fixture(scope="module")
def movie(tmp_path_factory) -> bytes:
    return _movie(tmp_path_factory.mktemp("movie"), "320x180")


@pytest.fixture
def finished(live_app, live_server, shop, movie):
    """The first product of the shop has a completed video (written as a finished render leaves
    it; no render needed). Links are built for the live server's address."""
    live_app.config["PUBLIC_BASE_URL"] = live_server.url
    with live_app.app_context():
        workspace = db.session.get(Workspace, shop["workspace"])
        product = db.session.get(Product, shop["products"][0])
        files = {suffix: media.new_path(f"videos/{workspace.id}", suffix) for suffix in (".mp4", ".jpg", ".vtt")}
        media.write_atomically(files[".mp4"], movie)
        media.write_atomically(files[".jpg"], jpeg_bytes(size=(320, 180)))
        media.write_atomically(files[".vtt"], CAPTIONS.encode())
        now = utcnow()
        video = Video(
            workspace_id=workspace.id, user_id=shop["owner"], product_id=product.id, template_key="product_showcase",
            title=f"{product.title} · Product showcase", status="completed", progress=100, provider="local",
            quota_period=now.strftime("%Y-%m"), video_path=files[".mp4"], thumbnail_path=files[".jpg"],
            captions_path=files[".vtt"], width=320, height=180, duration_s=3.0, created_at=now, completed_at=now,
        )
        db.session.add(video)
        db.session.commit()
        found = {"video": video.id, "title": product.title, "handle": product.external_key,
                 "key": storefront.settings_of(workspace).key}
        db.session.remove()
    return found


def _confirm(page, click) -> None:
    """Clicks, then says yes: in the page's own dialog when it has one, else the browser's."""
    page.once("dialog", lambda dialog: dialog.accept())
    click()
    yes = page.locator("#confirm-dialog[open] #confirm-dialog-yes")
    try:
        yes.wait_for(timeout=1500)
    except PlaywrightError:
        return
    yes.click()


def _plays(page, selector: str) -> None:
    page.wait_for_function(f"() => {{ const v = document.querySelector({selector!r}); "
                           "return v && v.currentTime > 0.3 && v.readyState >= 2; }", timeout=20_000)


def _captions_loaded(page, selector: str) -> None:
    """The captions track is there to be chosen, but not shown: the words are drawn into the
    video, and a shown track would put them on screen twice."""
    page.wait_for_function(f"() => {{ const v = document.querySelector({selector!r}); return v && v.textTracks[0]; }}")
    assert page.evaluate(f"() => document.querySelector({selector!r}).textTracks[0].mode") != "showing"
    page.evaluate(f"() => {{ document.querySelector({selector!r}).textTracks[0].mode = 'hidden'; }}")
    page.wait_for_function(f"() => {{ const t = document.querySelector({selector!r}).textTracks[0]; "
                           "return t.cues && t.cues.length === 1 && t.cues[0].text === 'Made for the trail'; }",
                           timeout=15_000)


def test_a_share_link_unfurls_plays_logged_out_and_dies_when_revoked(page, browser, live_server, finished):
    log_in(page)
    page.goto(f"/videos/{finished['video']}")
    panel = page.locator("#share-panel")
    panel.get_by_label("The link works").select_option(label="For 7 days")
    panel.get_by_role("button", name="Create share link").click()
    link = panel.get_by_label("Share link")
    expect(link).to_be_visible()
    expect(panel).to_contain_text("until")  # it expires in 7 days
    url = link.input_value()
    assert url.startswith(f"{live_server.url}/s/")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    panel.get_by_role("button", name="Copy link").click()
    expect(panel.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == url
    expect(panel.get_by_role("button", name="Copy link")).to_be_visible(timeout=4000)  # its name comes back

    visitor_context = browser.new_context()  # no session cookie: logged out
    visitor = visitor_context.new_page()
    try:
        response = visitor.goto(url)
        assert response.status == 200
        expect(visitor.get_by_role("heading", level=1)).to_have_text(finished["title"])
        tags = visitor.evaluate("""() => Object.fromEntries([...document.querySelectorAll('meta[property], meta[name]')]
            .map(m => [m.getAttribute('property') || m.getAttribute('name'), m.content]))""")
        assert tags["og:title"] == finished["title"] and tags["og:type"] == "video.other"
        assert tags["og:video"] == f"{url}/video" and tags["og:image"] == f"{url}/poster"
        assert tags["twitter:card"] == "player" and tags["twitter:player"] == f"{url}/player"
        assert "Browser Shop" not in visitor.content()  # the workspace's name is not on the page

        video = visitor.locator("video.share-video")
        expect(video).to_have_attribute("aria-label", f"Video: {finished['title']}")
        video.evaluate("v => { v.muted = true; return v.play(); }")
        _plays(visitor, "video.share-video")
        _captions_loaded(visitor, "video.share-video")

        # the player a timeline frames plays too
        visitor.goto(f"{url}/player")
        visitor.locator("video").evaluate("v => { v.muted = true; return v.play(); }")
        _plays(visitor, "video")

        _confirm(page, lambda: panel.get_by_role("button", name="Revoke link").click())
        expect(panel.get_by_role("button", name="Create share link")).to_be_visible()
        assert visitor.goto(url).status == 404
        assert visitor.goto(f"{url}/video").status == 404
    finally:
        visitor_context.close()
    assert page.watch.errors == []


@BOTH_WIDTHS
def test_a_shared_vertical_video_is_shown_at_its_own_shape(page, live_app, finished, tmp_path):
    """A 9:16 video on the share page: as tall as the window allows and no wider than itself,
    where it sat in a full-width black box, two thirds of it bars."""
    with live_app.app_context():
        video = db.session.get(Video, finished["video"])
        media.write_atomically(video.video_path, _movie(tmp_path, "360x640"))
        media.write_atomically(video.thumbnail_path, jpeg_bytes(size=(360, 640)))  # a poster taken from it
        video.width, video.height = 360, 640
        url = sharing.share_url(sharing.share_video(db.session.get(Workspace, video.workspace_id), None, video.id))
        db.session.commit()
        db.session.remove()
    page.goto(url)
    player = page.locator("video.share-video")
    player.evaluate("v => v.readyState >= 1 || new Promise(done => v.addEventListener('loadedmetadata', done))")
    box = player.bounding_box()
    viewport = page.viewport_size
    assert box["width"] / box["height"] == pytest.approx(9 / 16, rel=0.03)
    assert box["height"] >= 0.5 * viewport["height"] and box["width"] <= viewport["width"]
    assert page.watch.errors == []


def test_the_share_pages_button_is_the_brands_accent(page, live_app, finished):
    """The button that sells is the brand's, as on the end card: not the dashboard's blue."""
    with live_app.app_context():
        video = db.session.get(Video, finished["video"])
        workspace = db.session.get(Workspace, video.workspace_id)
        brand.update_brand(workspace, parse(BrandUpdate, {"accentColor": "#C8102E", "ctaUrl": "https://shop.example.com"}))
        url = sharing.share_url(sharing.share_video(workspace, None, video.id))
        db.session.commit()
        db.session.remove()
    page.goto(url)
    button = page.locator("a.share-cta")
    colours = button.evaluate("a => [getComputedStyle(a).backgroundColor, getComputedStyle(a).color]")
    assert colours == ["rgb(200, 16, 46)", "rgb(255, 255, 255)"]
    assert page.watch.errors == []


def test_a_dark_logo_reads_on_the_share_page_in_dark_mode(browser, live_app, live_server, finished):
    """Logos are drawn for light paper: a navy one vanished on the dark page."""
    image = io.BytesIO()
    Image.new("RGBA", (120, 40), (20, 30, 60, 255)).save(image, "PNG")
    with live_app.app_context():
        video = db.session.get(Video, finished["video"])
        workspace = db.session.get(Workspace, video.workspace_id)
        brand.set_logo(workspace, image.getvalue())
        url = sharing.share_url(sharing.share_video(workspace, None, video.id))
        db.session.commit()
        db.session.remove()
    for scheme, chip in (("dark", True), ("light", False)):
        context = browser.new_context(color_scheme=scheme)
        try:
            visitor = context.new_page()
            visitor.goto(url)
            background = visitor.locator("img.share-logo").evaluate("img => getComputedStyle(img).backgroundColor")
            assert (background not in ("rgba(0, 0, 0, 0)", "transparent")) == chip, (scheme, background)
        finally:
            context.close()

class StorePage:
    """A store's product page on its own origin (another port of 127.0.0.1), with the snippet
    Settings shows, the product's slot far below the fold."""

    def __init__(self, reelboard: str, key: str, handle: str) -> None:
        self.html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Store</title></head>
<body><h1>Our store</h1><div id="spacer" style="height: 2400px">Scroll down</div>
<div id="slot" data-reelboard-product="{handle}"></div>
<script src="{reelboard}/static/embed.js" data-reelboard-key="{key}" defer></script></body></html>"""
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @Request.application
    def _app(self, request: Request) -> Response:
        return Response(self.html, mimetype="text/html")

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture
def stores(live_server, finished):
    allowed = StorePage(live_server.url, finished["key"], finished["handle"])
    refused = StorePage(live_server.url, finished["key"], finished["handle"])
    yield allowed, refused
    allowed.stop()
    refused.stop()


def test_a_store_page_on_an_allowed_origin_shows_the_video(page, live_app, finished, stores):
    allowed, refused = stores
    with live_app.app_context():
        storefront.set_allowed_origins(db.session.get(Workspace, live_app_workspace(live_app)), [allowed.origin])
        db.session.remove()
    asked: list[str] = []
    page.on("request", lambda request: "/storefront/v1/products/" in request.url and asked.append(request.url))

    page.goto(allowed.origin)
    slot = page.locator("#slot")
    expect(slot).to_have_attribute("data-reelboard-state", "waiting")
    page.wait_for_timeout(500)
    assert asked == []  # lazy: nothing is asked while the slot is far below the fold
    slot.scroll_into_view_if_needed()
    expect(slot).to_have_attribute("data-reelboard-state", "ready")
    assert len(asked) == 1 and f"key={finished['key']}" in asked[0]
    video = slot.locator("video")
    expect(video).to_have_attribute("aria-label", f"Video: {finished['title']}")
    assert video.evaluate("v => v.muted && v.controls && v.playsInline && v.poster.includes('/storefront/v1/media/')")
    video.scroll_into_view_if_needed()
    _plays(page, "#slot video")  # muted autoplay once in view
    page.locator("#spacer").scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('#slot video').paused")  # out of view: paused
    _captions_loaded(page, "#slot video")
    assert page.watch.errors == []

    page.goto(refused.origin)  # same snippet, an origin the workspace did not allow
    slot = page.locator("#slot")
    slot.scroll_into_view_if_needed()
    expect(slot).to_have_attribute("data-reelboard-state", "none")
    assert slot.locator("video").count() == 0


def live_app_workspace(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(Workspace.id).where(Workspace.name == "Browser Shop"))


def test_settings_show_the_snippet_and_save_origins(page, finished):
    log_in(page)
    page.goto("/settings#storefront")
    section = page.locator("#storefront")
    expect(section.locator("#storefront-key")).to_have_text(finished["key"])
    expect(section.locator("pre")).to_contain_text(f'data-reelboard-key="{finished["key"]}"')
    field = section.get_by_label("Allowed store origins")
    field.fill("https://Shop.Example.com/\nnot an origin")
    section.get_by_role("button", name="Save origins").click()
    expect(page.locator("#storefront .field-error")).to_contain_text("not a store origin")
    field = page.locator("#storefront").get_by_label("Allowed store origins")
    field.fill("https://Shop.Example.com/")
    page.locator("#storefront").get_by_role("button", name="Save origins").click()
    expect(page.locator("#storefront").get_by_label("Allowed store origins")).to_have_value("https://shop.example.com")
    assert page.watch.errors == []


def test_links_made_for_another_address_than_the_one_opened_say_so(page, live_app, live_server, finished):
    """A share link and the storefront snippet start with PUBLIC_BASE_URL; opened at another
    address (a misconfigured install), the page says which one they lead to and how to fix it."""
    log_in(page)
    page.goto(f"/videos/{finished['video']}")
    panel = page.locator("#share-panel")
    panel.get_by_role("button", name="Create share link").click()
    expect(panel.get_by_label("Share link")).to_be_visible()
    expect(panel.locator(".address-note")).to_be_hidden()  # the link starts where the page was opened

    live_app.config["PUBLIC_BASE_URL"] = "https://videos.example.com"
    page.reload()
    note = page.locator("#share-panel .address-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text(f"start with https://videos.example.com, not with the address you opened this "
                                 f"page at ({live_server.url})")
    expect(note).to_contain_text("set PUBLIC_BASE_URL")
    page.goto("/settings#storefront")
    expect(page.locator("#storefront .address-note")).to_be_visible()
    assert page.watch.errors == []
