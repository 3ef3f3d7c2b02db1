"""Jinja filters and globals the templates share."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from flask import Flask, g

from ..generation import quota
from ..generation.templates import all_templates
from ..models import compare_at_label, price_label, utcnow
from ..providers.registry import provider_label
from .live import watch_list


def age(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    seconds = int((utcnow() - moment).total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


def filesize(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} bytes"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "video"


def youtube_embed(url: str) -> str:
    """A YouTube watch/share URL as a privacy-enhanced embed URL."""
    parts = urlsplit(url)
    video_id = parse_qs(parts.query).get("v", [""])[0] or parts.path.rstrip("/").rpartition("/")[2]
    return f"https://www.youtube-nocookie.com/embed/{re.sub(r'[^A-Za-z0-9_-]', '', video_id)}"


def template_name(key: str) -> str:
    if "template_names" not in g:
        g.template_names = {t.key: t.name for t in all_templates()}
    return g.template_names.get(key, key.replace("_", " ").capitalize())


def init_app(app: Flask) -> None:
    for function in (age, filesize, slug, youtube_embed):
        app.add_template_filter(function)
    app.add_template_filter(price_label, "money")
    app.add_template_global(compare_at_label)
    app.add_template_global(template_name)
    app.add_template_global(provider_label)
    app.add_template_global(watch_list, "live_watch")
    app.add_template_global(lambda: quota.usage(g.workspace), "current_usage")
