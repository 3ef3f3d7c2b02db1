"""The video list with its bulk actions (delete, retry, a ZIP), a video's page, the generate
form, actions, and the live status poll."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from ..generation import choice, contract, previews, queue, quota, service
from ..generation.errors import GenerationError
from ..generation.templates import all_templates, picker_templates
from ..models import VideoStatus, utcnow
from ..numbers import parse_id
from ..providers.base import ProviderError
from ..storage import current_storage
from ..zipstream import zip_stream
from . import live
from .forms import CHOOSE_A_PRODUCT, GenerateForm, fill_generate_form
from .helpers import fragment_or_page, page_number, usage_changed
from .products import render_product_page

bp = Blueprint("videos", __name__)

PER_PAGE = 20
STATUSES = [s.value for s in VideoStatus]
SORT_LABELS = {"createdAt": "Created", "generatedDate": "Generated", "product": "Product", "template": "Template",
               "status": "Status"}


@bp.get("/")
def home():
    return redirect(url_for("videos.index"))


def _list_filters() -> dict:
    """The list's filters from the URL (or, for a bulk action, the filter form sent with it);
    anything unknown means no filter (or the default sort)."""
    args = request.values
    status = args.get("status", "")
    template = args.get("template", "")
    sort = args.get("sort", "createdAt")
    order = args.get("order", "desc")
    return {
        "status": status if status in STATUSES else "",
        "search": args.get("q", "").strip()[:100],
        "template": template if template in {t.key for t in all_templates()} else "",
        "product": parse_id(args.get("product", "")),
        "sort": sort if sort in SORT_LABELS else "createdAt",
        "order": order if order in ("asc", "desc") else "desc",
    }


@bp.get("/videos")
def index():
    return _render_list(notice=None)


def _render_list(notice: str | None):
    """The list as the URL's filters and page ask for it: the page, or with htmx the region (a
    bulk action answers with it, its outcome on top)."""
    filters = _list_filters()
    page = service.list_videos(
        g.workspace, page_number(), PER_PAGE, status=filters["status"], search=filters["search"],
        product_id=filters["product"], template=filters["template"], sort=filters["sort"], order=filters["order"],
    )
    return fragment_or_page(
        "videos/index.html",
        "partials/video_list.html",
        page=page,
        filters=filters,
        statuses=STATUSES,
        sorts=SORT_LABELS.items(),
        templates=all_templates(),
        products=service.product_choices(g.workspace),
        positions=queue.queue_positions(page.items),
        new_video_ids=_new_video_ids(),
        notice=notice,
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@bp.post("/videos/bulk/delete")
def bulk_delete():
    """Deletes the selected videos; answers the list as it is now."""
    try:
        deleted = service.delete_videos(g.workspace, request.form.getlist("video_ids"))
    except GenerationError as error:
        return _error_banner(error.message)
    return _render_list(f"{_plural(deleted, 'video')} deleted."), 200, usage_changed()


@bp.post("/videos/bulk/retry")
def bulk_retry():
    """Queues the selected failed and canceled videos again, as far as the quota goes."""
    try:
        outcome = service.retry_videos(g.workspace, request.form.getlist("video_ids"))
    except GenerationError as error:
        return _error_banner(error.message)
    parts = [f"{_plural(len(outcome.retried), 'video')} queued again."]
    if outcome.not_retryable:
        parts.append(f"{outcome.not_retryable} neither failed nor canceled, left as they are.")
    if outcome.refused:
        parts.append(f"{outcome.refused} not retried: {outcome.reason}")
    return _render_list(" ".join(parts)), 200, usage_changed()


@bp.get("/videos/download.zip")
def download_zip():
    """The selected finished videos as one ZIP, streamed as it is written: each MP4 is read from
    storage in chunks and stored uncompressed (MP4s do not compress), so memory stays flat
    whatever the size; the archive has no Content-Length."""
    try:
        files = service.zip_members(g.workspace, request.args.getlist("video_ids"))
    except GenerationError as error:
        flash(error.message, "error")
        return redirect(url_for("videos.index"))
    storage = current_storage()
    members = ((file.download_name, lambda key=file.path: storage.open(key)) for file in files)
    response = Response(stream_with_context(zip_stream(members)), mimetype="application/zip")
    name = f"reelboard-videos-{utcnow():%Y%m%d-%H%M}.zip"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _error_banner(message: str):
    """An error of an htmx action, shown above the list (the list itself stays as it was)."""
    return render_template("partials/error_banner.html", message=message), 200, {
        "HX-Retarget": "#flashes", "HX-Reswap": "innerHTML"}


def _new_video_ids() -> set[int]:
    return {video_id for video_id in map(parse_id, request.args.getlist("new")) if video_id is not None}


@bp.get("/videos/new")
def new():
    form = GenerateForm()
    product = _preselected_product(form)
    return _render_generate(form, product)


@bp.post("/videos")
def create():
    form = GenerateForm()
    product = _preselected_product(form)
    if form.validate_on_submit():
        try:
            request_ = contract.parse(contract.CreateVideo, form.request_data())
            video, created = service.create_video(g.workspace, current_user, request_,
                                                  submission=form.submission_token())
        except GenerationError as error:
            form.show(error)
        else:
            if created:
                flash(f"Video queued: {video.title}.", "success")  # the page says the rest, live
            else:
                flash(f"You sent this form twice: it made one video, {video.title}, counted once.", "info")
            return redirect(url_for("videos.detail", video_id=video.id))
    if product is not None and request.form.get("from_page") == "product":
        return render_product_page(product, form), 422  # errors beside the fields, where they were typed
    return _render_generate(form, product), 422


@bp.get("/videos/script")
def script():
    """The script field, written again from the product and the instructions as they are typed —
    unless the merchant has edited the script (then 204: their words stay)."""
    form = GenerateForm(request.args)
    if form.script_edited.data == "yes":
        return "", 204
    product = _preselected_product(form)
    duration = form.duration.data
    if duration is not None and not contract.MIN_DURATION <= duration <= contract.MAX_DURATION:
        duration = None  # refused beside the field at create; the script is the longest meanwhile
    form.script.data = service.draft_script(product, form.custom_instructions.data or "", duration=duration,
                                            voiceover=form.voiceover.data) if product else ""
    return render_template("partials/script_field.html", form=form)


@bp.post("/videos/preview")
def preview():
    """The generate form's instant preview: a 3.5 s, 360p clip of what the form describes, made
    here in about a second, free. Every reason it cannot be made beside the button, each naming
    its field by its label."""
    form = GenerateForm()
    if not form.product_id.data:
        return render_template("partials/instant_preview.html", errors=[CHOOSE_A_PRODUCT])
    try:
        digest = previews.instant_preview(g.workspace, contract.parse(contract.PreviewRequest, form.request_data()))
    except GenerationError as error:
        return render_template("partials/instant_preview.html", errors=form.said(error))
    return render_template("partials/instant_preview.html", digest=digest, aspect=form.aspect_ratio.data)


def _preselected_product(form: GenerateForm):
    """The product chosen in the URL or the form, if it is one of this workspace's."""
    wanted = request.values.get("product") or request.values.get("product_id") or form.product_id.data
    try:
        product = service.get_product(g.workspace, wanted) if wanted else None
    except GenerationError:
        product = None
    if product is not None:
        form.product_id.data = str(product.id)
    return product


def _render_generate(form: GenerateForm, product):
    form.product_id.choices = [("", "Choose a product…")] + [
        (str(p.id), f"{p.title} ({p.sku})" if p.sku else p.title) for p in service.product_choices(g.workspace)
    ]
    fill_generate_form(form, product)
    templates = all_templates()
    chosen = next((t for t in templates if t.key == form.template.data), templates[0] if templates else None)
    return render_template(
        "videos/new.html", form=form, product=product, templates=templates, chosen=chosen, usage=quota.usage(g.workspace)
    )


@bp.get("/videos/<int:video_id>")
def detail(video_id: int):
    video = _get_or_404(video_id)
    return render_template("videos/detail.html", video=video, positions=queue.queue_positions([video]))


@bp.post("/videos/<int:video_id>/cancel")
def cancel(video_id: int):
    return _act(service.cancel_video, video_id, "Video canceled; its quota was given back.")


@bp.post("/videos/<int:video_id>/retry")
def retry(video_id: int):
    return _act(service.retry_video, video_id, "Video queued again.")


@bp.post("/videos/<int:video_id>/delete")
def delete(video_id: int):
    _get_or_404(video_id)
    service.delete_video(g.workspace, video_id)
    if request.htmx:  # from a row of a list: the row goes away
        return "", 200, usage_changed()
    flash("Video deleted.", "info")
    return redirect(url_for("videos.index"))


def _act(action, video_id: int, done: str):
    _get_or_404(video_id)
    try:
        video = action(g.workspace, video_id)
        message, category = done, "success"
    except GenerationError as error:
        video = service.get_video(g.workspace, video_id)
        message, category = error.message, "error"
    if request.htmx:  # the row shows the outcome; an error is also shown above the list
        headers = usage_changed()
        if category == "error":
            body, status, retarget = _error_banner(message)
            return body, status, {**headers, **retarget}
        return live.render_rows([video], request.form.get("view", "list")), 200, headers
    flash(message, category)
    return redirect(url_for("videos.detail", video_id=video_id))


def _get_or_404(video_id: int):
    try:
        return service.get_video(g.workspace, video_id)
    except GenerationError:
        abort(404)


@bp.get("/videos/poll")
def poll():
    """The one status request a page makes per interval: the rows that changed, out of band."""
    return live.poll_response(g.workspace, request.args.get("view", "list"), request.args.get("watch", ""))


@bp.get("/usage")
def usage():
    return render_template("partials/usage_bar.html", usage=quota.usage(g.workspace))


@bp.get("/templates/picker")
def template_picker():
    """The picker's cards for the provider chosen in the form (the installation's default when
    it names none, or one not offered), each saying which providers make it; the form's
    template as it is now marked chosen."""
    selected = request.args.get("template", "")
    offers = choice.offers()
    wanted = request.args.get("provider", "")
    provider = wanted if wanted in {offer.name for offer in offers} else None
    try:
        templates = picker_templates(provider)
    except ProviderError as error:
        return render_template("partials/template_picker.html", error=str(error), selected=selected, provider=provider)
    makers = {t.key: [p.label for p in choice.makers(t)] for t in templates} if len(offers) > 1 else {}
    return render_template("partials/template_picker.html", templates=templates, makers=makers, selected=selected,
                           provider=provider, aspect=request.args.get("aspect_ratio") or None)
