"""Instant previews over the API: POST /api/v1/previews with the create body answers links to
a 3.5 s, 360p clip of that video (free: no quota), and the clip's files by the preview's id."""

from __future__ import annotations

from flask import g, jsonify, url_for
from pydantic import Field

from .. import media
from ..generation import previews
from ..generation.contract import PreviewRequest
from . import validation
from .openapi import BODY_ERRORS, FILE, Operation, register
from .schemas import Data, Out, Url
from .views import bp

PREVIEW_FILE_PARAMS = {
    "id": {"type": "string", "pattern": "^[0-9a-f]{40}$", "description": "The preview's id."},
    "kind": {"type": "string", "enum": list(previews.INSTANT_FILES), "description": "Which file."},
}


class Preview(Out):
    id: str = Field(description="A hash of what the clip is made from: the same request answers the same clip.")
    video_url: Url = Field(description="The MP4 (3.5 s, 360p, silent, ending on the end card).")
    poster_url: Url


register(
    Operation("createPreview", "post", "/api/v1/previews", "An instant preview of a video, before it is asked for",
              {200: (Data[Preview], "The clip's links")}, body=PreviewRequest, errors=(404, *BODY_ERRORS),
              description="The create body (productId, template, options, customInstructions) rendered by the "
                          "local renderer at 360p in about a second, with the product, the workspace's brand and the "
                          "script. Not counted in the quota; the same request answers the clip made the first time."),
    Operation("getPreviewFile", "get", "/api/v1/media/previews/{id}/{kind}", "A file of an instant preview",
              {200: (FILE, "The file")}, path_params=PREVIEW_FILE_PARAMS, errors=(404,)),
)


@bp.post("/api/v1/previews")
def create_preview():
    digest = previews.instant_preview(g.workspace, validation.body("createPreview"))
    links = {kind: url_for("api.preview_file", digest=digest, kind=kind, _external=True)
             for kind in previews.INSTANT_FILES}
    return jsonify(Data[Preview](data=Preview(id=digest, video_url=links["video"], poster_url=links["poster"])).dump())


@bp.get("/api/v1/media/previews/<digest>/<any(video, poster):kind>")
def preview_file(digest: str, kind: str):
    return media.send(previews.instant_file(g.workspace, digest, kind))
