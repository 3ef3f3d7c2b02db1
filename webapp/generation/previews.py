"""Previews: the template picker's sample clips, and the instant preview of a video before it
is asked for.

Template previews are rendered by the local renderer from a demo product's photos, once per
template and aspect ratio, so the picker shows what each template makes in the shape the
merchant has chosen. The instant preview is a 3.5 s, 360p sample of the video the generate
form (or ``POST /api/v1/previews``) describes — the chosen product, template, options, script
and the workspace's brand — ready in about a second, free (no quota), and kept in storage under
a hash of everything it was made from, so asking twice costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from .. import leases, media, render
from ..catalog.demo import DEMO_BY_KEY, demo_photo
from ..catalog.products import get_product
from ..extensions import db
from ..limits import ASPECT_RATIOS
from ..models import Template, Workspace, utcnow
from ..providers.base import Caption, GenerationRequest
from ..providers.local import StoredLooks, render_spec, with_logo
from ..storage import current_storage
from .brand import kit_for_provider
from .choice import choose
from .contract import PreviewRequest, TimedCaption
from .errors import GenerationError, NotFound
from .service import NO_IMAGES, script_for
from .templates import all_templates
from .worker import new_worker_id

log = logging.getLogger(__name__)

PREVIEW_PRODUCT = "orbit-headphones"
# Bumped when the renderer's look changes, so that previews made before (the picker's clips and
# instant previews) are made again; a worker replaces the picker's old clips as it starts.
PREVIEW_VERSION = 8
# A template's clips are rendered under a lease, so that workers starting together (a fresh
# install, an upgrade) share the work instead of each making every clip; far longer than a clip takes.
PREVIEW_LEASE = timedelta(minutes=10)


def preview_keys(template_key: str, aspect_ratio: str) -> tuple[str, str]:
    """Where a template's preview clip and its poster are stored for one aspect ratio, in this
    ``PREVIEW_VERSION`` (a new version is a new key: the picker shows the old clip until the new
    one is recorded)."""
    name = f"previews/{template_key}-{aspect_ratio.replace(':', 'x')}-v{PREVIEW_VERSION}"
    return f"{name}.mp4", f"{name}.jpg"


def template_preview(template: Template, aspect_ratio: str, kind: str) -> str | None:
    """The storage key of a template's preview ``kind`` ("preview" or "poster") in
    ``aspect_ratio``, when one was rendered (16:9 is also in ``preview_video_path``)."""
    files = (template.preview_files or {}).get(aspect_ratio) or {}
    return files.get(kind)


def render_template_previews(force: bool = False, skip: frozenset[str] | set[str] = frozenset(),
                             owner: str | None = None) -> Iterator[tuple[str, str]]:
    """Renders the missing previews and those of an older ``PREVIEW_VERSION`` (all with
    ``force``), every template in one aspect ratio before the next ratio; yields (template key
    and aspect ratio, what happened: "rendered", "recorded …" or "failed: …"). A preview that
    fails is reported and the rest are still made; labels in ``skip`` are not tried. An old
    version's files are deleted once the new ones are recorded; until then the picker shows them.
    A template another process (``owner``: who this one is) is rendering is left to it."""
    product = DEMO_BY_KEY[PREVIEW_PRODUCT]
    storage = current_storage()
    looks = StoredLooks(storage)
    wanted = []
    for aspect in ASPECT_RATIOS:
        for template in all_templates():
            label = f"{template.key} {aspect}"
            current = preview_keys(template.key, aspect)[0]
            done = (template.preview_files or {}).get(aspect) or {}
            if template.key not in render.RECIPES or label in skip:
                continue
            if force or done.get("preview") != current or not storage.exists(current):
                wanted.append((template.id, template.key, aspect, label))
    # no transaction stays open while rendering: on SQLite it would hold the write lock
    db.session.commit()
    if not wanted:
        return
    owner = owner or new_worker_id()
    with tempfile.TemporaryDirectory() as folder:
        images = []
        for position in range(len(product.shots)):
            path = Path(folder) / f"{position}.jpg"
            path.write_bytes(demo_photo(product.key, position))
            images.append(path)
        for template_id, key, aspect, label in wanted:
            if not leases.claim(Template, owner=owner, lease_for=PREVIEW_LEASE, limit=1, order_by=(Template.id,),
                                conditions=(Template.id == template_id, leases.free(Template, utcnow()))):
                yield label, "left to another worker, which is rendering it"
                continue
            try:
                outcome = _render_and_record(template_id, key, aspect, images, looks, force)
            finally:
                leases.release(Template, template_id, owner)
            yield label, outcome


def _render_and_record(template_id: int, key: str, aspect: str, images: list[Path], looks: StoredLooks,
                       force: bool) -> str:
    """One leased template's clip in ``aspect``: rendered (or found made by a worker that did not
    record it), recorded, and the old version's files deleted; says what happened."""
    product = DEMO_BY_KEY[PREVIEW_PRODUCT]
    storage = current_storage()
    video, poster = preview_keys(key, aspect)
    made_meanwhile = not force and storage.exists(video) and storage.exists(poster)
    try:
        if not made_meanwhile:
            with storage.local_output(video) as video_file, storage.local_output(poster) as poster_file:
                render.render_preview(key, images, video_file, poster_file, title=product.title,
                                      price=f"${product.price}", compare_at_price=f"${product.compare_at_price}",
                                      aspect_ratio=aspect, looks=looks)
    except render.RenderError as error:
        return f"failed: {error}"
    template = db.session.get(Template, template_id)
    before = (template.preview_files or {}).get(aspect) or {}
    template.preview_files = {**(template.preview_files or {}), aspect: {"preview": video, "poster": poster}}
    if aspect == "16:9":
        template.preview_video_path, template.preview_thumbnail_path = video, poster
    db.session.commit()
    storage.delete(*({before.get("preview"), before.get("poster")} - {video, poster}))
    return "recorded (made by another worker)" if made_meanwhile else "rendered"


class MissingPreviews:
    """The background job that makes the template picker's missing clips, so that a fresh
    install serves at once and its picker fills in over the next minute or two (rendered niced,
    like videos). A preview that failed is not tried again by this process."""

    def __init__(self) -> None:
        self.failed: set[str] = set()

    def __call__(self, owner: str) -> None:
        for label, outcome in render_template_previews(skip=self.failed, owner=owner):
            if outcome.startswith("failed"):
                self.failed.add(label)
                log.warning("template preview %s %s", label, outcome)


def instant_preview(workspace: Workspace, request: PreviewRequest) -> str:
    """A 3.5 s, 360p MP4 of the video ``request`` describes, made by the local renderer (about a
    second on two cores; nothing else is spent: no quota, no provider). Returns its id, a hash of
    everything it is made from, for ``instant_file``: the same inputs answer the clip made the
    first time. Bad input raises GenerationError (NotFound for another workspace's product) and
    makes nothing."""
    choice = choose(request)  # the template, provider and model are ones a video may name here
    if request.template not in render.RECIPES:
        raise GenerationError("There is no preview of this template: choose one of the six templates.", "template")
    product = get_product(workspace, request.product_id)
    images = product.ready_images[:2]
    if not images:
        raise GenerationError(NO_IMAGES, "productId")
    options = request.options
    script = script_for(product, request, choice)  # refused here as the video would be
    kit = kit_for_provider(workspace.id)
    captions = tuple(Caption(c.start, c.end, c.text) if isinstance(c, TimedCaption) else Caption(None, None, c)
                     for c in options.captions)
    generation = GenerationRequest(
        video_id=0, reference="preview", template=request.template, title=product.title, sku=product.sku,
        description=product.description, price=product.price_label, image_files=tuple(i.file_path for i in images),
        image_urls=(), custom_instructions=request.custom_instructions or "", aspect_ratio=options.aspect_ratio,
        captions=captions, script=tuple(script), voiceover=choice.voiceover, compare_at_price=product.compare_at_label,
        product_url=product.url, brand=kit, workspace_id=workspace.id, product_id=product.id,
    )
    digest = _instant_digest(generation)
    video, poster = (_instant_key(workspace, digest, kind) for kind in INSTANT_FILES)
    storage = current_storage()
    if storage.exists(video):
        return digest
    spec = render_spec(generation)
    with ExitStack() as files:
        local = tuple(files.enter_context(storage.local_copy(image)) for image in generation.image_files)
        spec = replace(spec, images=local, brand=with_logo(spec.brand, kit.logo_key, storage, files))
        poster_file = files.enter_context(storage.local_output(poster))
        clip = files.enter_context(storage.local_output(video))
        render.render_instant(spec, clip, poster_file, looks=StoredLooks(storage))
    return digest


INSTANT_FILES = {"video": "mp4", "poster": "jpg"}
_DIGEST = re.compile(r"[0-9a-f]{40}")


def instant_file(workspace: Workspace, digest: str, kind: str) -> media.MediaFile:
    """A file (``INSTANT_FILES``) of one of the workspace's instant previews; NotFound for any
    other id, or one whose clip is gone."""
    if not _DIGEST.fullmatch(digest) or kind not in INSTANT_FILES:
        raise NotFound("There is no such preview.", "id")
    key = _instant_key(workspace, digest, kind)
    if not current_storage().exists(key):
        raise NotFound("There is no such preview; ask for it again.", "id")
    return media.MediaFile(key, f"preview.{INSTANT_FILES[kind]}")


def _instant_key(workspace: Workspace, digest: str, kind: str) -> str:
    return f"previews/instant/{workspace.id}/{digest}.{INSTANT_FILES[kind]}"


def _instant_digest(request: GenerationRequest) -> str:
    """A hash of all that the preview of ``request`` is made from (image keys are never reused
    for other bytes, so a new photo is a new key)."""
    inputs = {
        "version": PREVIEW_VERSION,
        "template": request.template, "title": request.title, "price": request.price,
        "compare_at": request.compare_at_price, "url": request.product_url, "images": request.image_files,
        "instructions": request.custom_instructions, "aspect": request.aspect_ratio, "script": request.script,
        "voiceover": request.voiceover,
        "captions": [(c.start, c.end, c.text) for c in request.captions], "description": request.description,
        "brand": request.brand.__dict__ if request.brand else None,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()[:40]
