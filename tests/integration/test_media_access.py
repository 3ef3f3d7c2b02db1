"""Files are served by their record, looked up in the viewer's workspace: no spelling of a path
reaches another workspace's video, image or pending import, on the session routes (/media/…)
or the token routes (/api/v1/media/…) — with the media in a directory, and in S3, where the app
answers with a presigned link to the one object it looked up (never to another's)."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, make_product, make_workspace
from tests.integration.api_support import completed_video
from tests.storage_support import browser_get
from webapp import accounts, media

VICTIM_CSV = b"title,sku\nSecret Launch,TOP-SECRET\n"

pytestmark = pytest.mark.usefixtures("media_backend")  # each test on both media backends


@pytest.fixture
def victim(app):
    """Workspace A: a completed video, a product image and a pending import CSV."""
    with app.app_context():
        workspace, user = make_workspace("Victim Co", email="victim@example.com")
        product = make_product(workspace, "Secret Lamp")
        video = completed_video(workspace, user, product)
        csv_path = media.new_path(f"imports/{workspace.id}", ".csv")
        media.write_atomically(csv_path, VICTIM_CSV)
        return {"workspace": workspace.id, "video": video.id, "video_path": video.video_path,
                "image": product.images[0].id, "image_path": product.images[0].file_path, "csv": csv_path}


@pytest.fixture
def attacker(app):
    """Workspace B, with a session client and an API token, and files of its own."""
    with app.app_context():
        workspace, user = make_workspace("Attacker Co", email="attacker@example.com")
        product = make_product(workspace, "Own Lamp")
        video = completed_video(workspace, user, product)
        _, token = accounts.create_token(user, workspace, "probe")
        client = app.test_client()
        assert client.post("/login", data={"email": "attacker@example.com", "password": PASSWORD}).status_code == 302
        return {"workspace": workspace.id, "video": video.id, "image": product.images[0].id, "client": client,
                "headers": {"Authorization": f"Bearer {token}"}}


def _traversals(victim, attacker) -> list[str]:
    """Every spelling of a path to the victim's files the probe used, and more."""
    mine, theirs = attacker["workspace"], victim["workspace"]
    video_name = victim["video_path"].rsplit("/", 1)[1]
    csv = victim["csv"]
    return [
        victim["video_path"], victim["image_path"], csv,
        f"videos/{mine}/../{theirs}/{video_name}",
        f"videos/{mine}/..%2f{theirs}%2f{video_name}",
        f"videos/{mine}/%2e%2e/{theirs}/{video_name}",
        f"videos/{mine}/%2E%2E%2F{theirs}%2F{video_name}",
        f"videos/{mine}/%252e%252e/{theirs}/{video_name}",
        f"videos/{mine}/%252e%252e%252f{theirs}%252f{video_name}",
        f"videos/{mine}/..%5c{theirs}%5c{video_name}",
        f"videos\\{mine}\\..\\{theirs}\\{video_name}",
        f"videos/{mine}/../../{csv}",
        f"videos/{mine}/..%2f..%2f{csv.replace('/', '%2f')}",
        f"products/{mine}/../../{csv}",
        f"/{csv}", f"%2f{csv}", "/etc/passwd", "%2fetc%2fpasswd", "..%2f..%2f..%2fetc%2fpasswd",
        f"videos/{theirs}/{video_name}%00.jpg", f"videos/{theirs}/{video_name}\x00",
        "videos/" + "a" * 5000 + ".mp4", "a/" * 2000,
        f"videos/{theirs}/{victim['video']}/video", f"images/{victim['image']}", f"videos/{victim['video']}/video",
        f"videos/{victim['video']}/../{victim['video']}/video", f"videos/{victim['video']}/captions",
        f"images/{victim['image']}%2f..%2f{attacker['image']}",
    ]


def test_no_spelling_of_a_path_reaches_another_workspaces_files(app, victim, attacker):
    client, headers = attacker["client"], attacker["headers"]
    for path in _traversals(victim, attacker):
        for prefix, extra in (("/media/", {}), ("/api/v1/media/", headers)):
            response = client.get(prefix + path, headers=extra)
            assert response.status_code == 404, (prefix + path[:120], response.status_code)
            body = response.get_data()
            assert b"TOP-SECRET" not in body and b"ftyp" not in body and "Location" not in response.headers


def test_the_records_of_another_workspace_are_not_found(app, victim, attacker):
    client, headers = attacker["client"], attacker["headers"]
    for prefix, extra in (("/media", {}), ("/api/v1/media", headers)):
        for kind in ("video", "poster", "captions"):
            refused = client.get(f"{prefix}/videos/{victim['video']}/{kind}", headers=extra)
            assert refused.status_code == 404 and "Location" not in refused.headers
        assert client.get(f"{prefix}/images/{victim['image']}", headers=extra).status_code == 404
        # the attacker's own files are served (by the app, or by the store after a redirect)
        own_video = browser_get(client, f"{prefix}/videos/{attacker['video']}/video", extra)
        assert own_video.status == 200 and own_video.body.startswith(b"\x00\x00\x00\x18ftyp")
        assert browser_get(client, f"{prefix}/videos/{attacker['video']}/poster", extra).status == 200
        assert browser_get(client, f"{prefix}/images/{attacker['image']}", extra).body[:3] == b"\xff\xd8\xff"


def test_a_download_is_an_attachment_named_after_the_video(app, attacker):
    response = browser_get(attacker["client"], f"/media/videos/{attacker['video']}/video?download=1")
    assert response.status == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "own-lamp" in disposition and disposition.endswith('.mp4')


def test_players_can_seek_with_range_requests(app, attacker):
    response = browser_get(attacker["client"], f"/media/videos/{attacker['video']}/video", {"Range": "bytes=0-3"})
    assert response.status == 206 and response.body == b"\x00\x00\x00\x18"
