"""Share links: a completed video's public page at an unguessable address — what it shows (and
does not), its unfurl tags, its files, and how revoking, expiring and deleting end it at once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import make_product, make_workspace
from tests.integration.api_support import (
    api_fixture,  # noqa: F401 (fixture)
    completed_video,
    error_of,
    other_api_fixture,  # noqa: F401 (fixture)
    queue_video,
)
from webapp.catalog import products
from webapp.extensions import db
from webapp.generation import brand, sharing
from webapp.generation.contract import BrandUpdate, parse
from webapp.models import ShareLink, Video, utcnow
from webapp.storage import current_storage

HTMX = {"HX-Request": "true"}
CAPTIONS = b"WEBVTT\n\n00:00.000 --> 00:02.000\nMade for the trail\n"


@pytest.fixture
def shop(app, workspace, owner):
    """A completed video with poster and captions, and a second product the page must not show."""
    product = make_product(workspace, "Trail Mug")
    make_product(workspace, "Secret Launch Lamp")
    video = completed_video(workspace, owner, product, captions=CAPTIONS)
    return {"video": video.id, "workspace": workspace.id}


def _links() -> list[ShareLink]:
    """What the database holds now (the requests ran in this test's session: end its transaction)."""
    db.session.commit()
    db.session.expire_all()
    return list(db.session.scalars(select(ShareLink)))


def _fresh(model, row_id):
    db.session.commit()
    db.session.expire_all()
    return db.session.get(model, row_id)


def _directives(response) -> set[str]:
    return {part.strip() for part in response.headers.get("Cache-Control", "").split(",") if part.strip()}


def _share(client, video_id: int, expires: str = "") -> str:
    response = client.post(f"/videos/{video_id}/share", data={"expires": expires}, headers=HTMX)
    assert response.status_code == 200
    found = re.search(r'value="(http://127\.0\.0\.1:5000/s/[A-Za-z0-9_-]+)"', response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)
    return found.group(1).removeprefix("http://127.0.0.1:5000")


def test_a_shared_video_is_public_and_shows_only_the_video(app, client, shop):
    path = _share(client, shop["video"])
    visitor = app.test_client()  # logged out
    page = visitor.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1>Trail Mug</h1>" in html
    assert f'src="{path}/video"' in html and f'poster="{path}/poster"' in html
    assert f'<track kind="captions" src="{path}/captions"' in html
    # nothing else of the workspace: not its name, not its other products, no dashboard links
    for private in ("Acme", "Secret Launch Lamp", "/videos", "/settings", "owner@example.com"):
        assert private not in html
    assert "Set-Cookie" not in page.headers
    assert _directives(page) == {"private", "no-cache"}
    assert page.headers["X-Robots-Tag"] == "noindex"

    with current_storage().open(_fresh(Video, shop["video"]).video_path) as file:
        stored = file.read()
    played = visitor.get(f"{path}/video")
    assert played.data == stored
    assert _directives(played) == {"private", "no-cache"}  # asked again each time: a revoke holds at once
    poster = visitor.get(f"{path}/poster")
    assert poster.status_code == 200 and poster.mimetype == "image/jpeg"
    captions = visitor.get(f"{path}/captions")
    assert captions.status_code == 200 and captions.mimetype == "text/vtt" and captions.data == CAPTIONS


def test_the_page_unfurls_with_the_video(app, client, shop):
    path = _share(client, shop["video"])
    html = app.test_client().get(path).get_data(as_text=True)
    absolute = f"http://127.0.0.1:5000{path}"
    tags = dict(re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)"', html))
    assert tags["og:type"] == "video.other"
    assert tags["og:title"] == "Trail Mug"
    assert tags["og:url"] == absolute
    assert tags["og:image"] == f"{absolute}/poster"
    assert tags["og:video"] == f"{absolute}/video"
    assert tags["og:video:type"] == "video/mp4"
    assert (tags["og:video:width"], tags["og:video:height"]) == ("1280", "720")
    assert tags["twitter:card"] == "player"
    assert tags["twitter:player"] == f"{absolute}/player"
    assert tags["twitter:player:stream"] == f"{absolute}/video"
    assert "og:video:secure_url" not in tags  # only for an https address

    player = app.test_client().get(f"{path}/player")
    assert player.status_code == 200
    assert "frame-ancestors *" in player.headers["Content-Security-Policy"]
    assert f'src="{path}/video"' in player.get_data(as_text=True)


def test_revoking_ends_the_link_at_once(app, client, shop):
    path = _share(client, shop["video"])
    visitor = app.test_client()
    assert visitor.get(path).status_code == 200
    panel = client.post(f"/videos/{shop['video']}/share/revoke", headers=HTMX)
    assert "Create share link" in panel.get_data(as_text=True)
    for suffix in ("", "/player", "/video", "/poster", "/captions"):
        assert visitor.get(path + suffix).status_code == 404, suffix
    gone = visitor.get(path).get_data(as_text=True)  # said to a shopper, with nothing of the dashboard
    assert "This video is not available" in gone and "turned off or has expired" in gone
    assert "/videos" not in gone and "Back to your videos" not in gone
    # a new link is a new address; the old one stays dead
    new_path = _share(client, shop["video"])
    assert new_path != path
    assert visitor.get(new_path).status_code == 200 and visitor.get(path).status_code == 404


def test_an_expired_link_is_gone(app, client, shop):
    path = _share(client, shop["video"], expires="7")
    link = _links()[0]
    assert timedelta(days=6.99) < link.expires_at - utcnow() <= timedelta(days=7)
    link.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert app.test_client().get(path).status_code == 404
    assert app.test_client().get(f"{path}/video").status_code == 404
    assert "Create share link" in client.get(f"/videos/{shop['video']}/share").get_data(as_text=True)


def test_sharing_again_keeps_the_address_and_takes_the_new_expiry(app, client, shop):
    first = _share(client, shop["video"], expires="1")
    again = _share(client, shop["video"])
    assert again == first
    links = _links()
    assert len(links) == 1 and links[0].expires_at is None


@pytest.mark.parametrize("expires", ["0", "366", "-1", "soon", "7.5", "1e3"])
def test_a_bad_expiry_is_refused_and_changes_nothing(app, client, shop, expires):
    response = client.post(f"/videos/{shop['video']}/share", data={"expires": expires}, headers=HTMX)
    assert response.status_code == 200
    assert "field-error" in response.get_data(as_text=True)
    assert _links() == []


def test_only_a_completed_video_can_be_shared(app, client, workspace, owner):
    video = queue_video(workspace, owner, make_product(workspace, "Pending Mug"))
    response = client.post(f"/videos/{video.id}/share", data={"expires": ""}, headers=HTMX)
    assert "Only a completed video can be shared." in response.get_data(as_text=True)
    plain = client.post(f"/videos/{video.id}/share", data={"expires": ""})
    assert plain.status_code == 302
    assert _links() == []


def test_another_workspace_cannot_see_share_or_revoke(app, client):
    """The logged-in owner of Acme reaches for Rival's shared video: 404 everywhere, and it stays shared."""
    rival, rival_owner = make_workspace("Rival", email="rival@example.com")
    theirs = completed_video(rival, rival_owner, make_product(rival, "Rival Lamp"))
    link = sharing.share_video(rival, rival_owner, theirs.id)
    assert client.get(f"/videos/{theirs.id}/share").status_code == 404
    assert client.post(f"/videos/{theirs.id}/share", data={"expires": ""}).status_code == 404
    assert client.post(f"/videos/{theirs.id}/share/revoke").status_code == 404
    assert app.test_client().get(f"/s/{link.token}").status_code == 200


def test_tokens_are_long_random_and_not_guessable(app, client, workspace, owner, shop):
    second = completed_video(workspace, owner, make_product(workspace, "Other Mug"))
    first_token = _share(client, shop["video"]).rsplit("/", 1)[1]
    second_token = _share(client, second.id).rsplit("/", 1)[1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", first_token)  # 256 random bits
    assert first_token != second_token
    visitor = app.test_client()
    near_miss = first_token[:-1] + ("A" if first_token[-1] != "A" else "B")
    for token in (near_miss, first_token.upper() if first_token != first_token.upper() else near_miss, "x" * 43,
                  first_token[:20], first_token + "A", f"{shop['video']}", "..%2f..%2fsettings", "%00" * 43):
        assert visitor.get(f"/s/{token}").status_code == 404, token
        assert visitor.get(f"/s/{token}/video").status_code == 404, token


def test_deleting_the_video_ends_its_link(app, client, shop):
    path = _share(client, shop["video"])
    assert client.post(f"/videos/{shop['video']}/delete").status_code == 302
    assert app.test_client().get(path).status_code == 404
    assert _links() == []


def test_the_video_page_loads_the_share_panel(client, shop):
    page = client.get(f"/videos/{shop['video']}").get_data(as_text=True)
    assert f'hx-get="/videos/{shop["video"]}/share"' in page
    panel = client.get(f"/videos/{shop['video']}/share", headers=HTMX).get_data(as_text=True)
    assert 'id="share-panel"' in panel and "Create share link" in panel


def test_the_api_shares_and_revokes(app, api, other_api, shop, workspace, owner):
    shared = api.post(f"/api/v1/videos/{shop['video']}/share", json={"expiresInDays": 7})
    assert shared.status_code == 200
    link = shared.get_json()["data"]
    assert link["url"].startswith("http://127.0.0.1:5000/s/") and link["expiresAt"].endswith("Z")
    again = api.post(f"/api/v1/videos/{shop['video']}/share").get_json()["data"]  # no body: no expiry
    assert again == {"url": link["url"], "expiresAt": None}
    path = link["url"].removeprefix("http://127.0.0.1:5000")
    assert app.test_client().get(path).status_code == 200

    assert other_api.post(f"/api/v1/videos/{shop['video']}/share", json={}).status_code == 404
    assert other_api.delete(f"/api/v1/videos/{shop['video']}/share").status_code == 404
    for body, field in (({"expiresInDays": 0}, "expiresInDays"), ({"expiresInDays": "7"}, "expiresInDays"),
                        ({"expires": 7}, "expires")):
        refused = api.post(f"/api/v1/videos/{shop['video']}/share", json=body)
        assert refused.status_code == 400 and error_of(refused)["field"] == field
    pending = queue_video(workspace, owner, make_product(workspace, "Pending Mug"))
    assert error_of(api.post(f"/api/v1/videos/{pending.id}/share", json={}))["code"] == "invalid_state"

    assert api.delete(f"/api/v1/videos/{shop['video']}/share").status_code == 204
    assert app.test_client().get(path).status_code == 404
    assert api.delete(f"/api/v1/videos/{shop['video']}/share").status_code == 204  # nothing left to revoke


def _png_logo() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (64, 32), (200, 40, 40, 255)).save(out, "PNG")
    return out.getvalue()


def test_the_page_offers_what_the_end_card_offers(app, client, shop, workspace):
    """A shopper who watched can buy: the page shows the price (the was-price struck through),
    the brand's logo, and its call to action leading where the end card's QR code leads — the
    product's page, else the brand's link; no button when there is neither."""
    path = _share(client, shop["video"])
    visitor = app.test_client()
    html = visitor.get(path).get_data(as_text=True)
    assert "$19.00" in html and "<del" not in html
    assert "share-cta" not in html and "share-logo" not in html  # nothing to buy from yet, no logo
    assert visitor.get(f"{path}/logo").status_code == 404
    panel = client.get(f"/videos/{shop['video']}/share", headers=HTMX).get_data(as_text=True)
    assert "Neither this product nor your brand has a link to buy from" in panel  # the merchant is told

    brand.update_brand(workspace, parse(BrandUpdate, {"ctaText": "Get yours", "ctaUrl": "https://shop.example.com"}))
    brand.set_logo(workspace, _png_logo())
    html = visitor.get(path).get_data(as_text=True)
    assert re.search(r'<a class="share-cta" role="button" href="https://shop.example.com/"[^>]*>Get yours</a>', html)
    assert f'<img class="share-logo" src="{path}/logo"' in html
    logo = visitor.get(f"{path}/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    panel = client.get(f"/videos/{shop['video']}/share", headers=HTMX).get_data(as_text=True)
    assert "Neither this product nor your brand" not in panel

    product = _fresh(Video, shop["video"]).product
    products.update_product(workspace, product.id, external_key=product.external_key, title=product.title,
                            price="19.00", compare_at_price="24,00", url="https://shop.example.com/products/trail-mug")
    html = visitor.get(path).get_data(as_text=True)
    assert '<del aria-label="was $24.00">$24.00</del>' in html
    assert 'href="https://shop.example.com/products/trail-mug"' in html

    sharing.revoke_share(workspace, shop["video"])
    assert visitor.get(f"{path}/logo").status_code == 404  # the logo goes with the link


def test_the_call_to_action_wears_the_brands_accent(app, client, shop, workspace):
    """The share page's button is the brand's accent with words that read on it, as on the end
    card, from a stylesheet of the link's own (the page allows no inline style); it ends with
    the link."""
    path = _share(client, shop["video"])
    visitor = app.test_client()
    assert f'<link rel="stylesheet" href="{path}/brand.css">' in visitor.get(path).get_data(as_text=True)
    css = visitor.get(f"{path}/brand.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert "--share-accent: #F2B33D; --share-accent-ink: #111318;" in css.get_data(as_text=True)  # dark on amber

    brand.update_brand(workspace, parse(BrandUpdate, {"accentColor": "#1e3a8a"}))
    css = visitor.get(f"{path}/brand.css").get_data(as_text=True)
    assert "--share-accent: #1E3A8A; --share-accent-ink: #FFFFFF;" in css  # white on navy

    sharing.revoke_share(workspace, shop["video"])
    assert visitor.get(f"{path}/brand.css").status_code == 404
