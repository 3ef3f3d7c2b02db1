"""The storefront integration: a workspace's publishable key and allowed origins (Settings), the
public endpoint a store page asks for a product's latest video (CORS, ETag/304, caching, the
same 404 for every miss), the media it links to, and embed.js's size."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from sqlalchemy import event, select

from tests.conftest import make_product, make_workspace
from tests.integration.api_support import (
    api_fixture,  # noqa: F401 (fixture)
    completed_video,
    error_of,
    other_api_fixture,  # noqa: F401 (fixture)
    queue_video,
)
from webapp.catalog import storefront
from webapp.config import PROJECT_ROOT
from webapp.extensions import db
from webapp.generation.lifecycle import transition
from webapp.models import Video, VideoStatus, Workspace
from webapp.storage import current_storage

HTMX = {"HX-Request": "true"}
STORE = "https://shop.example.com"
CAPTIONS = b"WEBVTT\n\n00:00.000 --> 00:02.000\nMade for the trail\n"


def _refresh(workspace: Workspace) -> Workspace:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Workspace, workspace.id)


@pytest.fixture
def app(app_factory):
    """Answers straight from the database: each test sees its changes at once (the per-process
    answer cache has its own test)."""
    return app_factory(STOREFRONT_CACHE_S=0)


@pytest.fixture
def store(app, workspace, owner):
    """A workspace whose storefront allows STORE, with a product that has a completed video."""
    product = make_product(workspace, "Trail Mug", key="trail-mug")
    video = completed_video(workspace, owner, product, captions=CAPTIONS)
    settings = storefront.set_allowed_origins(workspace, [STORE])
    return {"key": settings.key, "video": video.id, "product": product, "workspace": workspace}


def _ask(client, key: str, product: str = "trail-mug", origin: str | None = STORE, **headers):
    if origin:
        headers["Origin"] = origin
    return client.get(f"/storefront/v1/products/{product}/video?key={key}", headers=headers)


def _read(url: str, client, **headers):
    return client.get(url.removeprefix("http://127.0.0.1:5000"), headers=headers)


def test_the_answer_is_the_products_latest_completed_video(app, store, owner):
    client = app.test_client()
    first = _ask(client, store["key"])
    assert first.status_code == 200
    answer = first.get_json()
    assert set(answer) == {"videoUrl", "posterUrl", "captionsUrl", "width", "height", "title", "updatedAt"}
    assert (answer["width"], answer["height"], answer["title"]) == (1280, 720, "Trail Mug")
    assert answer["updatedAt"].endswith("Z")
    assert all(answer[k].startswith("http://127.0.0.1:5000/storefront/v1/media/") for k in ("videoUrl", "posterUrl",
                                                                                             "captionsUrl"))

    with current_storage().open(db.session.get(Video, store["video"]).video_path) as file:
        assert _read(answer["videoUrl"], client).data == file.read()
    assert _read(answer["posterUrl"], client).mimetype == "image/jpeg"
    captions = _read(answer["captionsUrl"], client, Origin=STORE)
    assert captions.data == CAPTIONS and captions.mimetype == "text/vtt"
    assert captions.headers["Access-Control-Allow-Origin"] == STORE  # a <track> on the store reads it

    # a newer video of the product takes its place; a pending one does not
    completed_video(store["workspace"], owner, store["product"])
    queue_video(store["workspace"], owner, store["product"])
    second = _ask(client, store["key"]).get_json()
    assert second["videoUrl"] != answer["videoUrl"]
    assert second["captionsUrl"] is None  # the newer one has no captions


def test_cors_only_for_allowed_origins(app, store):
    client = app.test_client()
    allowed = _ask(client, store["key"])
    assert allowed.headers["Access-Control-Allow-Origin"] == STORE
    assert "Origin" in allowed.headers["Vary"]
    for origin in ("https://evil.example", "http://shop.example.com", "https://shop.example.com:8443", "null"):
        refused = _ask(client, store["key"], origin=origin)
        assert refused.status_code == 200  # a server-side fetch may read it; a browser on that page may not
        assert "Access-Control-Allow-Origin" not in refused.headers
        assert "Origin" in refused.headers["Vary"]

    preflight = client.options(f"/storefront/v1/products/trail-mug/video?key={store['key']}", headers={
        "Origin": STORE, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "if-none-match"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == STORE
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET"
    refused = client.options(f"/storefront/v1/products/trail-mug/video?key={store['key']}",
                             headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_repeats_are_304s_and_caches_may_keep_the_answer(app, store, owner):
    client = app.test_client()
    first = _ask(client, store["key"])
    etag = first.headers["ETag"]
    cache = first.headers["Cache-Control"]
    assert "public" in cache and "max-age=60" in cache
    assert _ask(client, store["key"]).headers["ETag"] == etag  # the same bytes on every call
    again = _ask(client, store["key"], **{"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["Access-Control-Allow-Origin"] == STORE

    completed_video(store["workspace"], owner, store["product"])
    changed = _ask(client, store["key"], **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_every_miss_is_the_same_404(app, store, owner):
    client = app.test_client()
    rival, rival_owner = make_workspace("Rival", email="rival@example.com")
    completed_video(rival, rival_owner, make_product(rival, "Rival Lamp", key="rival-lamp"))
    make_product(store["workspace"], "Bare Mug", key="bare-mug")
    failed = queue_video(store["workspace"], owner, make_product(store["workspace"], "Failed Mug", key="failed-mug"))
    transition(failed, VideoStatus.FAILED, "The provider failed")

    misses = [
        _ask(client, "rbpk_" + "A" * 32),  # no such key
        _ask(client, store["key"], "no-such-product"),
        _ask(client, store["key"], "bare-mug"),  # no video
        _ask(client, store["key"], "failed-mug"),  # no completed video
        _ask(client, store["key"], "rival-lamp"),  # another workspace's product
        _ask(client, "", "trail-mug"),
        _ask(client, "not-a-key", "trail-mug"),
        _ask(client, store["key"] + "%00", "trail-mug"),
        _ask(client, store["key"], "trail%00mug"),
        _ask(client, store["key"], "x" * 300),
    ]
    for miss in misses:
        assert miss.status_code == 404
        assert miss.mimetype == "application/json", miss.get_data(as_text=True)[:300]
        assert miss.get_json() == {"error": {"code": "not_found", "message": "Not found."}}
    assert client.get("/storefront/v1/nothing-here").get_json()["error"]["code"] == "not_found"


def test_a_new_key_stops_the_old_one_and_its_media(app, client, store):
    visitor = app.test_client()
    old = _ask(visitor, store["key"]).get_json()
    page = client.post("/settings/storefront/rotate", headers=HTMX).get_data(as_text=True)
    new_key = re.search(r'id="storefront-key">(rbpk_[A-Za-z0-9_-]+)<', page).group(1)
    assert new_key != store["key"]
    assert _ask(visitor, store["key"]).status_code == 404
    assert _read(old["videoUrl"], visitor).status_code == 404
    assert _read(old["captionsUrl"], visitor).status_code == 404
    fresh = _ask(visitor, new_key).get_json()
    assert _read(fresh["videoUrl"], visitor).status_code == 200


def test_media_tokens_cannot_be_forged_or_reused_elsewhere(app, store, owner):
    visitor = app.test_client()
    answer = _ask(visitor, store["key"]).get_json()
    token = answer["videoUrl"].rsplit("/", 1)[1]
    for forged in (token[:-2] + "xx", token.replace(".", "x", 1), "W1sxLCJ2aWRlbyIsImFiYyJdXQ", "%00", "x" * 2000):
        assert visitor.get(f"/storefront/v1/media/{forged}").status_code == 404
    # the video is deleted: its media goes with it
    db.session.delete(db.session.get(Video, store["video"]))
    db.session.commit()
    assert _read(answer["videoUrl"], visitor).status_code == 404


def test_the_endpoint_only_reads(app, store):
    """One SELECT per answer; no write, no lock, nothing near the render queue."""
    client = app.test_client()
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("PRAGMA", "BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        etag = _ask(client, store["key"]).headers["ETag"]
        _ask(client, store["key"], **{"If-None-Match": etag})
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(statements) == 2
    assert all(statement.lstrip().upper().startswith("SELECT") for statement in statements)
    assert all("FOR UPDATE" not in statement.upper() for statement in statements)


def test_settings_show_the_key_origins_and_snippet(client, store):
    page = client.get("/settings").get_data(as_text=True)
    assert f'id="storefront-key">{store["key"]}<' in page
    assert f'data-reelboard-key="{store["key"]}"' in page
    assert "data-reelboard-product=&#34;{{ product.handle }}&#34;" in page or \
        'data-reelboard-product="{{ product.handle }}"' in page
    assert "/static/embed.js" in page
    assert STORE in page


def test_origins_are_saved_in_the_form_browsers_send(client, store):
    response = client.post("/settings/storefront/origins", headers=HTMX, data={
        "origins": "https://Shop.Example.com/\nhttps://my-store.myshopify.com:443, http://127.0.0.1:8001\n"
                   "https://bücher.example"})
    assert response.status_code == 200
    assert _refresh(store["workspace"]).allowed_origins == [
        "https://shop.example.com", "https://my-store.myshopify.com", "http://127.0.0.1:8001",
        "https://xn--bcher-kva.example"]


@pytest.mark.parametrize("origins", [
    "https://shop.example.com/products", "*", "https://*.example.com", "ftp://shop.example.com",
    "shop.example.com", "https://user:pw@shop.example.com", "https://shop.example.com?x=1", "https://shop.example.com:99999",
    "\n".join(f"https://s{i}.example.com" for i in range(21)),
])
def test_bad_origins_are_refused_and_change_nothing(client, store, origins):
    response = client.post("/settings/storefront/origins", headers=HTMX, data={"origins": origins})
    assert response.status_code == 200
    assert "field-error" in response.get_data(as_text=True)
    assert _refresh(store["workspace"]).allowed_origins == [STORE]
    plain = client.post("/settings/storefront/origins", data={"origins": origins})
    assert plain.status_code == 302 and _refresh(store["workspace"]).allowed_origins == [STORE]


def test_every_bad_origin_is_named_at_once(client, store):
    """A merchant pasting five origins learns of both typos in one answer, not one per save."""
    response = client.post("/settings/storefront/origins", headers=HTMX, data={
        "origins": "https://shop.example.com\nshop.example.org\nhttps://ok.example.net\nhttps://*.example.com"})
    shown = re.findall(r'<small class="field-error" id="origins-error">(.*?)</small>', response.get_data(as_text=True))
    assert len(shown) == 1  # one element, which the field's aria-describedby names
    errors = shown[0].split("<br>")
    assert len(errors) == 2
    assert errors[0].startswith("&#39;shop.example.org&#39; is not a store origin")
    assert errors[1].startswith("&#39;https://*.example.com&#39; has a wildcard: list each store origin.")
    assert _refresh(store["workspace"]).allowed_origins == [STORE]


def test_each_workspace_has_its_own_key(app, store):
    rival, _ = make_workspace("Rival", email="rival@example.com")
    rival_key = storefront.settings_of(rival).key
    assert rival_key != store["key"] and rival_key.startswith("rbpk_") and len(rival_key) == 37
    assert storefront.settings_of(rival).key == rival_key  # made once
    assert db.session.scalar(select(Workspace.storefront_key).where(Workspace.id == rival.id)) == rival_key


def test_embed_script_is_small_and_self_contained():
    script = Path(PROJECT_ROOT, "static", "embed.js").read_text()
    assert len(script.encode()) < 5 * 1024
    assert "import " not in script and "require(" not in script
    assert "/storefront/v1/products/" in script


def test_each_process_reuses_an_answer_for_a_few_seconds(app_factory):
    app = app_factory(STOREFRONT_CACHE_S=0.5)
    with app.app_context():
        workspace, user = make_workspace("Cached Co", email="cached@example.com")
        product = make_product(workspace, "Trail Mug", key="trail-mug")
        completed_video(workspace, user, product)
        key = storefront.settings_of(workspace).key
        client = app.test_client()
        first = _ask(client, key).get_json()
        completed_video(workspace, user, product)
        assert _ask(client, key).get_json() == first  # this process's copy, for up to 0.5 s
        time.sleep(0.6)
        assert _ask(client, key).get_json()["videoUrl"] != first["videoUrl"]


def test_head_and_methods(app, store):
    client = app.test_client()
    head = client.head(f"/storefront/v1/products/trail-mug/video?key={store['key']}", headers={"Origin": STORE})
    assert head.status_code == 200 and head.data == b"" and head.headers["ETag"]
    assert client.post(f"/storefront/v1/products/trail-mug/video?key={store['key']}").status_code == 405


def test_the_api_reads_and_sets_the_storefront(api, other_api, store):
    answer = api.get("/api/v1/storefront").get_json()["data"]
    assert answer == {"key": store["key"], "allowedOrigins": [STORE]}
    changed = api.put("/api/v1/storefront", json={"allowedOrigins": ["https://Other.Example/", STORE]})
    assert changed.get_json()["data"]["allowedOrigins"] == ["https://other.example", STORE]
    for body in ({"allowedOrigins": ["https://shop.example.com/path"]}, {"allowedOrigins": "https://a.example"},
                 {"origins": [STORE]}):
        refused = api.put("/api/v1/storefront", json=body)
        assert refused.status_code == 400 and error_of(refused)["field"]
    both = error_of(api.put("/api/v1/storefront", json={"allowedOrigins": ["ftp://a.example", STORE, "b.example"]}))
    assert [problem["field"] for problem in both["problems"]] == ["allowedOrigins[0]", "allowedOrigins[2]"]
    assert _refresh(store["workspace"]).allowed_origins == ["https://other.example", STORE]
    assert other_api.get("/api/v1/storefront").get_json()["data"]["key"] != store["key"]
