"""Public share pages: one completed video at /s/<token>, without logging in.

The page shows the player, its poster and captions, and what the video itself shows: the
brand's logo, the product's title and price, and the call to action to where it is sold —
nothing else of the workspace. It carries Open Graph and Twitter player tags so a pasted link
unfurls with the video. Every route looks the link up on every request and nothing is cached past it, so a
revoked or expired link is a 404 at once.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request

from .. import media
from ..catalog.storefront import captions_text
from ..generation import sharing
from ..storage import current_storage

bp = Blueprint("share", __name__)

SHARE_KINDS = "any(video, poster, captions, logo)"


def _uncached(response: Response) -> Response:
    """A browser asks again each time (cheap: 304 for an unchanged file), so a revoked link
    stops at once; nothing shared keeps a copy."""
    response.cache_control.public = False
    response.cache_control.private = True
    response.cache_control.no_cache = True
    response.cache_control.max_age = None
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token stays out of other sites' logs
    return response


def _shared(token: str) -> sharing.SharedVideo:
    shared = sharing.shared_video(token)
    if shared is None:  # a page a shopper may follow: said for them, not the dashboard's 404
        abort(_uncached(Response(render_template("share/gone.html"), 404)))
    return shared


def _page(template: str, token: str) -> Response:
    shared = _shared(token)
    base = f"{current_app.config['PUBLIC_BASE_URL']}/s/{shared.token}"
    response = Response(render_template(template, shared=shared, base=base))
    return _uncached(response)


@bp.get("/s/<token>")
def page(token: str):
    return _page("share/page.html", token)


@bp.get("/s/<token>/brand.css")
def brand_css(token: str):
    """The brand's colours for its share page, as a stylesheet: the pages allow no inline style."""
    response = Response(render_template("share/brand.css", shared=_shared(token)), mimetype="text/css")
    return _uncached(response)


@bp.get("/s/<token>/player")
def player(token: str):
    """The bare player that Twitter/X and others frame in a timeline (twitter:player)."""
    response = _page("share/player.html", token)
    media_sources = " ".join(filter(None, ("'self'", current_storage().origin)))
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'self'; img-src {media_sources}; media-src {media_sources}; "
        "base-uri 'none'; form-action 'none'; frame-ancestors *"
    )
    return response


@bp.get(f"/s/<token>/<{SHARE_KINDS}:kind>")
def media_file(token: str, kind: str):
    file = sharing.shared_file(token, kind)
    if file is None:
        abort(404)
    if kind == "captions":  # from here, not a redirect: a <track> must be same-origin (or CORS)
        text = captions_text(file)
        if text is None:
            abort(404)
        response = Response(text, mimetype="text/vtt")
        response.add_etag()
        return _uncached(response.make_conditional(request))
    return _uncached(media.send(file))
