"""What the API tests share: a client that sends a bearer token and checks every response it
gets against the OpenAPI description (status described for the operation, body valid against
the described schema), and fixtures for a workspace's client and another workspace's.

Import the fixtures into a test module: ``from tests.integration.api_support import ...``.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.conftest import make_workspace, video_request
from webapp import accounts
from webapp.api.openapi import spec

NO_TOKEN = object()
SPEC_URI = "urn:reelboard:openapi"


def pointer(*parts: str | int) -> str:
    """A JSON pointer into the description, e.g. pointer("paths", "/api/v1/videos", "get")."""
    return "#/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in parts)


@cache
def validator(schema_pointer: str) -> Draft202012Validator:
    """A validator for the schema at ``schema_pointer`` in the description ($refs resolved)."""
    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(spec(), default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": SPEC_URI + schema_pointer}, registry=registry)


def _path_pattern(template: str) -> re.Pattern:
    # {path} (a media file) spans slashes; every other parameter is one segment.
    regex = re.sub(r"\{path\}", ".+", template)
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", regex) + "$")


def _routes() -> list[tuple[str, re.Pattern]]:
    """Every described path, literal ones first (so /videos/bulk is not taken for /videos/{id}).
    Read when a test first needs it: every API module has registered its operations by then."""
    return sorted(((template, _path_pattern(template)) for template in spec()["paths"]), key=lambda t: t[0].count("{"))


def described_operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    paths = spec()["paths"]
    for template, pattern in _routes():
        if pattern.match(path) and method.lower() in paths[template]:
            return template, paths[template][method.lower()]
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

    def put(self, url: str, **kwargs):
        return self.open("PUT", url, **kwargs)

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

    video, _ = service.create_video(workspace, user, video_request(product_id=product.id, template=template))
    return video


def completed_video(workspace, user, product, template: str = "product_showcase", captions: bytes | None = None):
    """A video taken through the lifecycle to completed, with a real (tiny) file and thumbnail,
    and a captions file when ``captions`` (WebVTT) is given."""
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
    captions_path = None
    if captions is not None:
        captions_path = media.new_path(f"videos/{workspace.id}", ".vtt")
        media.write_atomically(captions_path, captions)
    assert transition(
        video, VideoStatus.COMPLETED, "Done", video_path=video_path, thumbnail_path=thumbnail_path, progress=100,
        duration_s=8.0, width=1280, height=720, captions_path=captions_path,
    )
    return video
