"""Browser tests: the real app served on 127.0.0.1 with its background worker embedded, driven
by Playwright in Debian's Chromium (/usr/bin/chromium; never `playwright install`)."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import (
    PASSWORD,
    make_config,
    make_product,
    make_workspace,
    reset_database,
)
from webapp import create_app
from webapp.extensions import db
from webapp.generation.templates import ensure_templates
from webapp.jobs import start_scheduler, stop_scheduler

CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        start_scheduler(self.app)

    def stop(self):
        self.server.shutdown()
        stop_scheduler(self.app)


@pytest.fixture
def live_app(tmp_path):
    """The app on SQLite (a browser run is about the UI; the engine is tested on both databases)."""
    app = create_app(make_config(tmp_path, None, RENDER_SLOTS=2, PLAN_LIMITS={"junior": 30, "senior": 100, "executive": 500}))
    with app.app_context():
        reset_database()
        db.create_all()
        ensure_templates()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def live_server(live_app):
    server = LiveServer(live_app)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def shop(live_app):
    """A workspace with an owner and eight products with photos."""
    with live_app.app_context():
        workspace, owner = make_workspace("Browser Shop", plan="junior")
        products = [make_product(workspace, title, images=3) for title in (
            "Aurora Lamp", "Nimbus Mug", "Trail Pack", "Echo Speaker", "Bloom Vase", "Stride Sneaker", "Pulse Watch",
            "Haven Throw")]
        ids = {"workspace": workspace.id, "owner": owner.id, "products": [p.id for p in products]}
        db.session.remove()
    return ids


class PageWatch:
    """Console errors, CSP violations and poll requests seen by a page."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.polls: list[float] = []
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", self._request)

    def _request(self, request):
        if "/videos/poll" in request.url:
            self.polls.append(time.monotonic())


DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
BOTH_WIDTHS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366px", "390px"], indirect=True)


@pytest.fixture
def viewport(request):
    """The window a test's page has: a laptop's unless the test is parametrized (BOTH_WIDTHS)."""
    return getattr(request, "param", DESKTOP)


@pytest.fixture
def page(browser, live_server, tmp_path, request, viewport):
    phone = viewport["width"] < 640
    context = browser.new_context(viewport=viewport, base_url=live_server.url, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.watch = PageWatch(page)
    yield page
    page.screenshot(path=str(tmp_path / f"{request.node.name}.png"), full_page=True)
    context.close()


def log_in(page, email="owner@example.com"):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/videos")


def open_menu(page):
    """The header's sections: always visible on a laptop, behind the Menu button on a phone."""
    toggle = page.get_by_role("button", name="Menu")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()


def assert_fits_the_width(page):
    """Nothing makes the page scroll sideways (the document is no wider than the window)."""
    overflow = page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        const wide = [...document.querySelectorAll("body *")].filter(el => {
            const box = el.getBoundingClientRect();
            return box.width > 0 && box.right > width + 1 && getComputedStyle(el).position !== "fixed";
        }).slice(0, 5).map(el => el.tagName + "." + el.className + " " + Math.round(el.getBoundingClientRect().right));
        return {scroll: document.documentElement.scrollWidth, width, wide};
    }""")
    assert overflow["scroll"] <= overflow["width"], overflow


def cut_off_choices(page) -> list[str]:
    """The shown menus (a product's title aside, which may be any length) whose longest option
    is wider than the box shows: "Technical demo" read "Technical den"."""
    return page.evaluate("""() => [...document.querySelectorAll("select")]
        .filter(s => s.offsetParent && !/product/.test(s.name)).map(s => {
            const style = getComputedStyle(s);
            const pen = document.createElement("canvas").getContext("2d");
            pen.font = style.font;
            const longest = Math.max(...[...s.options].map(o => pen.measureText(o.text).width));
            const room = s.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
            return longest > room + 1 ? `${location.pathname} select[name=${s.name}]: ${Math.round(longest)} px in ${Math.round(room)}` : null;
        }).filter(Boolean)""")


SERIOUS = {"serious", "critical"}


def axe_violations(page) -> list[str]:
    """What axe-core finds serious or critical on the page as it is now, in light and in dark mode
    (WCAG 2.x A and AA rules and axe's best practices)."""
    from axe_playwright_python.sync_playwright import Axe

    found = []
    options = {"resultTypes": ["violations"], "runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.wait_for_timeout(400)  # Pico fades colours over 0.2 s: measure them once they have settled
        result = Axe().run(page, options=options)
        for violation in result.response["violations"]:
            if violation["impact"] in SERIOUS:
                targets = [f"{', '.join(map(str, node['target']))}: {node.get('failureSummary', '').splitlines()[-1].strip()}"
                           for node in violation["nodes"][:3]]
                found.append(f"{scheme} {page.url}: {violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    page.emulate_media(color_scheme="light")
    return found
