"""What the API tests share: a client that sends a bearer token and checks every response it
gets against the OpenAPI description (status described for the operation, body valid against
the described schema), and fixtures for a workspace's client and another workspace's.

Import the fixtures into a test module: ``from tests.integration.api_support import ...``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import make_workspace
from webapp import accounts
from webapp.api.openapi import PATHS
from webapp.api.validation import pointer, validator

NO_TOKEN = object()


def _path_pattern(template: str) -> re.Pattern:
    # {path} (a media file) spans slashes; every other parameter is one segment.
    regex = re.sub(r"\{path\}", ".+", template)
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", regex) + "$")


# Literal paths first, so /videos/bulk is not taken for /videos/{id}.
ROUTES = sorted(((template, _path_pattern(template)) for template in PATHS), key=lambda t: t[0].count("{"))


def described_operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    for template, pattern in ROUTES:
        if pattern.match(path) and method.lower() in PATHS[template]:
            return template, PATHS[template][method.lower()]
    return None


def check_response(method: str, path: str, response) -> None:
    """Fails unless the description says this operation may answer this status with this body.
    Requests outside the description (an unknown path, a wrong method) must still answer the
    described error object."""
    found = described_operation(method, path)
    status = str(response.status_code)
    if found is None:
        assert response.mimetype == "application/json", f"{method} {path}: {status} is not JSON"
        errors = validator(pointer("components", "schemas", "Error")).iter_errors(response.get_json())
        assert not list(errors), f"{method} {path}: {response.get_data(as_text=True)}"
        return
    template, operation = found
    assert status in operation["responses"], (
        f"{method} {template} answered {status}, which the description does not list: {response.get_data(as_text=True)[:300]}"
    )
    content = operation["responses"][status].get("content")
    if content is None:
        assert not response.get_data(), f"{method} {template} {status} should have no body"
        return
    assert response.mimetype in content, f"{method} {template} {status}: {response.mimetype} is not described"
    if response.mimetype == "application/json":
        schema = pointer("paths", template, method.lower(), "responses", status, "content", "application/json", "schema")
        problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator(schema).iter_errors(response.get_json())]
        assert not problems, f"{method} {template} {status} does not match the description: {problems[:5]}"


class ApiClient:
    """A test client for the API that sends the token and checks every answer against the description."""

    def __init__(self, client, token: str, workspace=None) -> None:
        self.client, self.token, self.workspace = client, token, workspace
        self.checked = 0

    def open(self, method: str, url: str, *, token: Any = None, headers: dict | None = None, **kwargs):
        headers = dict(headers or {})
        token = self.token if token is None else token
        if token is not NO_TOKEN:
            headers.setdefault("Authorization", f"Bearer {token}")
        response = self.client.open(url, method=method, headers=headers, **kwargs)
        check_response(method, url.split("?")[0], response)
        self.checked += 1
        return response

    def get(self, url: str, **kwargs):
        return self.open("GET", url, **kwargs)

    def post(self, url: str, **kwargs):
        return self.open("POST", url, **kwargs)

    def delete(self, url: str, **kwargs):
        return self.open("DELETE", url, **kwargs)


@pytest.fixture(name="api")
def api_fixture(app, workspace, owner) -> ApiClient:
    """The API as the workspace owner's script sees it."""
    _, token = accounts.create_token(owner, workspace, "tests")
    return ApiClient(app.test_client(), token, workspace)


@pytest.fixture(name="other_api")
def other_api_fixture(app, workspace) -> ApiClient:
    """The API as another workspace's script sees it."""
    other, user = make_workspace("Other Co", email="other@example.com")
    _, token = accounts.create_token(user, other, "other")
    return ApiClient(app.test_client(), token, other)


def error_of(response) -> dict[str, Any]:
    return response.get_json()["error"]


def queue_video(workspace, user, product, template: str = "product_showcase"):
    from webapp.generation import service

    video, _ = service.create_video(workspace, user, product_id=product.id, template=template)
    return video


def completed_video(workspace, user, product, template: str = "product_showcase"):
    """A video taken through the lifecycle to completed, with a real (tiny) file and thumbnail."""
    from tests.conftest import jpeg_bytes
    from webapp import media
    from webapp.generation.lifecycle import transition
    from webapp.models import VideoStatus

    video = queue_video(workspace, user, product, template)
    assert transition(video, VideoStatus.GENERATING, "Rendering")
    video_path = media.new_path(f"videos/{workspace.id}", ".mp4")
    thumbnail_path = media.new_path(f"videos/{workspace.id}", ".jpg")
    media.write_atomically(video_path, b"\x00\x00\x00\x18ftypmp42 not really a movie")
    media.write_atomically(thumbnail_path, jpeg_bytes())
    assert transition(
        video, VideoStatus.COMPLETED, "Done", video_path=video_path, thumbnail_path=thumbnail_path, progress=100,
        duration_s=8.0, width=1280, height=720,
    )
    return video
