"""The JSON API: /api/v1 with bearer tokens, the seeds/000 listing, and seeds/002's /api/videos…."""

from __future__ import annotations

from flask import Flask

# Imported with the package: its operations join the OpenAPI description (openapi.register).
from . import racky


def init_app(app: Flask) -> None:
    from ..generation.outbound import VIDEO_RESOURCE
    from . import brand, distribution, errors, previews, storefront  # noqa: F401 (brand, distribution, previews: routes on the API's blueprint)
    from .views import bp

    errors.init_app(app)
    app.url_map.converters["seed_id"] = racky.SeedIdConverter
    app.register_blueprint(bp)
    app.register_blueprint(storefront.bp)
    storefront.install(app)  # the product answer, served in front of the app (see api/storefront.py)
    app.extensions[VIDEO_RESOURCE] = video_json  # outbound webhooks carry the video as this API shows it


def video_json(video) -> dict:
    from . import resources

    resource = resources.video(video)
    return resource if isinstance(resource, dict) else resource.dump()
