"""Small things every HTML view uses."""

from __future__ import annotations

from flask import render_template, request

from ..numbers import parse_int

USAGE_CHANGED = "usage-changed"
VIDEOS_FINISHED = "videos-finished"
PRODUCTS_CHANGED = "products-changed"


def fragment_or_page(page_template: str, fragment_template: str, **context):
    """htmx asks for the swappable region; a plain request (reload, a link) gets the page, and so
    does htmx restoring a page from history (Back), which replaces the whole body."""
    wants_region = request.htmx and not request.htmx.boosted
    if wants_region and request.headers.get("HX-History-Restore-Request") != "true":
        return render_template(fragment_template, **context)
    return render_template(page_template, **context)


MAX_PAGE = 100_000


def page_number() -> int:
    """The ``page`` argument; 1 for anything that is not a page number."""
    return parse_int(request.args.get("page", "1"), minimum=1, maximum=MAX_PAGE) or 1


def usage_changed(*more_events: str) -> dict[str, str]:
    """The header that makes the usage bar (and whatever listens to ``more_events``) refresh."""
    return {"HX-Trigger": ", ".join((USAGE_CHANGED, *more_events))}
