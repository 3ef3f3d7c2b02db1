"""The video list, a video's page, the generate form, actions, and the live status poll."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from ..generation import quota, service
from ..generation.errors import GenerationError
from ..generation.templates import all_templates, picker_templates
from ..models import VideoStatus
from ..providers.base import ProviderError
from . import live
from .forms import GenerateForm
from .helpers import fragment_or_page, page_number, usage_changed
from .products import render_product_page

bp = Blueprint("videos", __name__)

PER_PAGE = 20
STATUSES = [s.value for s in VideoStatus]


@bp.get("/")
def home():
    return redirect(url_for("videos.index"))


def _list_filters() -> dict:
    args = request.args
    status = args.get("status", "")
    sort = args.get("sort", "createdAt")
    order = args.get("order", "desc")
    return {
        "status": status if status in STATUSES else "",
        "search": args.get("q", "").strip()[:100],
        "sort": sort if sort in service.SORTS else "createdAt",
        "order": order if order in ("asc", "desc") else "desc",
    }


@bp.get("/videos")
def index():
    filters = _list_filters()
    page = service.list_videos(g.workspace, page_number(), PER_PAGE, **filters)
    return fragment_or_page(
        "videos/index.html",
        "partials/video_list.html",
        page=page,
        filters=filters,
        statuses=STATUSES,
        positions=service.queue_positions(page.items),
        new_video_ids=_new_video_ids(),
    )


def _new_video_ids() -> set[int]:
    return {int(v) for v in request.args.getlist("new") if v.isdigit()}


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
            video, _ = service.create_video(
                g.workspace,
                current_user,
                product_id=form.product_id.data,
                template=form.template.data,
                custom_instructions=form.custom_instructions.data,
                options=form.options(),
            )
        except GenerationError as error:
            form.field_for(error.field).errors = [*form.field_for(error.field).errors, error.message]
        else:
            flash(f"Video queued: {video.title}. This page shows its progress as it renders.", "success")
            return redirect(url_for("videos.detail", video_id=video.id))
    if product is not None and request.form.get("from_page") == "product":
        return render_product_page(product, form), 422  # errors beside the fields, where they were typed
    return _render_generate(form, product), 422


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
    templates = all_templates()
    chosen = next((t for t in templates if t.key == form.template.data), templates[0] if templates else None)
    return render_template(
        "videos/new.html", form=form, product=product, templates=templates, chosen=chosen, usage=quota.usage(g.workspace)
    )


@bp.get("/videos/<int:video_id>")
def detail(video_id: int):
    video = _get_or_404(video_id)
    return render_template("videos/detail.html", video=video, positions=service.queue_positions([video]))


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
            return render_template("partials/error_banner.html", message=message), 200, {
                **headers, "HX-Retarget": "#flashes", "HX-Reswap": "innerHTML"}
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
    selected = request.args.get("selected", "")
    try:
        templates = picker_templates()
    except ProviderError as error:
        return render_template("partials/template_picker.html", error=str(error), selected=selected)
    return render_template("partials/template_picker.html", templates=templates, selected=selected)
