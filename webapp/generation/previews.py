"""Preview clips of the templates, rendered by the local renderer from demo photos, so the
template picker shows what each template really makes."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .. import media, render
from ..catalog.demo import DEMO_PRODUCTS, demo_photo
from ..extensions import db
from .templates import all_templates

PREVIEW_PRODUCT = "stride-sneaker"


def render_template_previews(force: bool = False) -> Iterator[tuple[str, str]]:
    """Renders the missing previews (all with ``force``); yields (template key, what happened)."""
    key, title, _, price, colour, shape, _ = next(p for p in DEMO_PRODUCTS if p[0] == PREVIEW_PRODUCT)
    with tempfile.TemporaryDirectory() as folder:
        images = []
        for variant in range(3):
            path = Path(folder) / f"{variant}.jpg"
            path.write_bytes(demo_photo(colour, shape, variant, random.Random(f"{key}{variant}")))
            images.append(path)
        for template in all_templates():
            if template.key not in render.RECIPES:
                yield template.key, "skipped (not a local recipe)"
                continue
            exists = template.preview_video_path and media.absolute(template.preview_video_path).exists()
            if exists and not force:
                yield template.key, "exists"
                continue
            video, thumbnail = f"previews/{template.key}.mp4", f"previews/{template.key}.jpg"
            media.absolute(video).parent.mkdir(parents=True, exist_ok=True)
            render.render_preview(
                template.key, images, media.absolute(video), media.absolute(thumbnail), title=title, price=f"${price}"
            )
            template.preview_video_path, template.preview_thumbnail_path = video, thumbnail
            db.session.commit()
            yield template.key, "rendered"
