"""Serves stored files to members of the owning workspace, or to whoever holds a signed link
(``media.public_url`` on the filesystem: a remote provider fetching a product image, a share page).

A file is asked for by its record (a video and which of its files, an image, a template's
preview), never by a path: the record is looked up in the viewer's workspace and the stored
key comes from it, so no spelling of a path can reach another workspace's file. With media in
S3 the answer is a redirect to a presigned link of that one object (``storage.response``).
"""

from __future__ import annotations

from flask import Blueprint, abort, g, request

from .. import media
from ..catalog.products import image_file
from ..generation.errors import NotFound
from ..generation.previews import instant_file
from ..generation.service import video_file
from ..generation.templates import preview_file

bp = Blueprint("media", __name__)

VIDEO_KINDS = "any(video, poster, captions)"
PREVIEW_KINDS = "any(preview, poster)"


def _send(find, *args):
    try:
        file = find(*args)
    except NotFound:
        abort(404)
    return media.send(file, as_attachment=request.args.get("download") == "1")


@bp.get(f"/media/videos/<int:video_id>/<{VIDEO_KINDS}:kind>")
def video(video_id: int, kind: str):
    return _send(video_file, g.workspace, video_id, kind)


@bp.get("/media/images/<int:image_id>")
def image(image_id: int):
    return _send(image_file, g.workspace, image_id)


@bp.get(f"/media/templates/<key>/<{PREVIEW_KINDS}:kind>")
def template_preview(key: str, kind: str):
    return _send(preview_file, key, kind, request.args.get("aspect"))


@bp.get("/media/previews/<digest>/<any(video, poster):kind>")
def instant_preview(digest: str, kind: str):
    return _send(instant_file, g.workspace, digest, kind)


@bp.get("/media/signed/<token>")
def signed(token: str):
    """A file anyone holding the link may read while it lasts: the token is a key we signed."""
    path = media.unsign(token)
    if path is None:
        abort(404)
    return media.send(media.MediaFile(path))
