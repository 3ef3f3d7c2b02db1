"""Serves files from MEDIA_DIR: to members of the owning workspace, or by a signed link."""

from __future__ import annotations

import re

from flask import Blueprint, abort, g, request, send_file

from .. import media

bp = Blueprint("media", __name__)

# Folders whose second path segment is the owning workspace id.
WORKSPACE_FOLDERS = {"products", "videos"}
SHARED_FOLDERS = {"previews"}


def may_read(relative: str, workspace_id: int) -> bool:
    folder, _, rest = relative.partition("/")
    if folder in SHARED_FOLDERS:
        return True
    owner = rest.partition("/")[0]
    return folder in WORKSPACE_FOLDERS and owner == str(workspace_id)


def send_media(relative: str, download_name: str | None = None):
    """The file, cached by the browser only (it is not public), as an attachment when named."""
    try:
        path = media.absolute(relative)
    except ValueError:
        abort(404)
    if not path.is_file():
        abort(404)
    if download_name:
        download_name = re.sub(r"[^A-Za-z0-9._-]+", "-", download_name).strip("-.")[:100] + path.suffix
    response = send_file(
        path, conditional=True, max_age=3600, as_attachment=bool(download_name), download_name=download_name or None
    )
    response.cache_control.public = False
    response.cache_control.private = True
    return response


@bp.get("/media/<path:relative>")
def serve(relative: str):
    if not may_read(relative, g.workspace.id):
        abort(404)
    return send_media(relative, request.args.get("download"))


@bp.get("/media/signed/<token>")
def signed(token: str):
    relative = media.unsign(token)
    if relative is None:
        abort(404)
    return send_media(relative)
