"""Links to one stored file for viewers who are not logged in (``media.public_url``: share pages,
storefronts, remote providers fetching product images), on both media backends: a presigned
link of the object on S3, this app's signed link on the filesystem. Each reaches its one file,
expires, and cannot be bent to another. And the Content-Security-Policy lets pages show media
that S3 serves."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
import requests

from webapp import media
from webapp.storage import current_storage


def anonymous_get(app, url: str) -> tuple[int, bytes]:
    """What someone holding ``url`` gets, not logged in."""
    if url.startswith(app.config["PUBLIC_BASE_URL"]):
        parts = urlsplit(url)
        response = app.test_client().get(parts.path)
        return response.status_code, response.get_data()
    answer = requests.get(url, timeout=10)
    return answer.status_code, answer.content


def test_a_public_link_reaches_its_file_until_it_expires(app, media_backend):
    with app.app_context():
        media.write_atomically("videos/1/shared.mp4", b"the shared video")
        media.write_atomically("videos/2/private.mp4", b"another workspace's video")
        link = media.public_url("videos/1/shared.mp4", 2)
        assert anonymous_get(app, link) == (200, b"the shared video")
        assert link.startswith(current_storage().origin or app.config["PUBLIC_BASE_URL"])
        if media_backend:  # S3: the key is in the link, and the signature covers it (the filesystem's: below)
            assert "/videos/1/shared.mp4?" in link
            assert anonymous_get(app, link.replace("/videos/1/shared.mp4?", "/videos/2/private.mp4?"))[0] == 403
        time.sleep(3.1)
        assert anonymous_get(app, link)[0] in (403, 404)  # S3 refuses an expired link; the app has no file for it


def test_a_tampered_or_foreign_signed_link_is_not_found(app):
    with app.app_context():
        media.write_atomically("products/1/a.jpg", b"\xff\xd8\xff an image")
        token = media.public_url("products/1/a.jpg", 60).rsplit("/", 1)[1]
        client = app.test_client()
        assert client.get(f"/media/signed/{token}").status_code == 200
        assert client.get(f"/media/signed/{token[:-2]}xx").status_code == 404
        assert client.get("/media/signed/not-a-token").status_code == 404
        legacy = media._signer().dumps("products/1/a.jpg")  # made before links carried their lifetime
        assert client.get(f"/media/signed/{legacy}").status_code == 200
        traversal = media._signer().dumps(["../../instance/secret_key", 60])  # even when signed by us
        assert client.get(f"/media/signed/{traversal}").status_code == 404


@pytest.mark.parametrize("seconds", [0, -5, 7 * 24 * 3600 + 1])
def test_a_link_lasts_between_a_second_and_seven_days(app, seconds):
    with app.app_context(), pytest.raises(ValueError, match="between 1 second and"):
        media.public_url("videos/1/a.mp4", seconds)


def test_pages_may_show_images_and_video_from_the_object_store(app, media_backend, client):
    policy = client.get("/videos").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    with app.app_context():
        origin = current_storage().origin
    if media_backend:
        assert origin and origin in directives["img-src"].split() and origin in directives["media-src"].split()
        assert origin not in directives["script-src"] and origin not in directives["default-src"]
    else:
        assert origin is None and directives["media-src"] == "'self'"
