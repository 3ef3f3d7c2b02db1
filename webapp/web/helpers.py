"""Small things every HTML view uses."""

from __future__ import annotations

from flask import render_template, request

USAGE_CHANGED = "usage-changed"


def fragment_or_page(page_template: str, fragment_template: str, **context):
    """htmx asks for the swappable region; a plain request (reload, back, a link) gets the page."""
    if request.htmx and not request.htmx.boosted:
        return render_template(fragment_template, **context)
    return render_template(page_template, **context)


def page_number() -> int:
    value = request.args.get("page", "1")
    return max(1, min(int(value), 100_000)) if value.isdigit() else 1


def usage_changed() -> dict[str, str]:
    """The header that makes the usage bar refresh itself."""
    return {"HX-Trigger": USAGE_CHANGED}
