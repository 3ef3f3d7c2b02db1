"""The products table with bulk generation, and a product's page."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, g, render_template, request
from flask_login import current_user

from ..catalog import service as catalog
from ..generation import contract, queue, quota, service
from ..generation.errors import GenerationError
from ..generation.templates import all_templates
from . import live
from .forms import BulkForm, GenerateForm, fill_choices, fill_generate_form
from .helpers import PRODUCTS_CHANGED, fragment_or_page, page_number, usage_changed

bp = Blueprint("products", __name__)

PER_PAGE = 25


@bp.get("/products")
def index():
    search = request.args.get("q", "").strip()[:100]
    page = catalog.list_products(g.workspace, page_number(), PER_PAGE, search)
    form = _bulk_form()
    # each product's latest video, live: a reload mid-bulk shows the queue and the progress
    videos = service.latest_videos(g.workspace, [p.id for p in page.items])
    return fragment_or_page(
        "products/index.html",
        "partials/product_table.html",
        page=page,
        search=search,
        videos=videos,
        positions=queue.queue_positions(summary.latest for summary in videos.values()),
        form=form,
        usage=quota.usage(g.workspace),
    )


def _bulk_form() -> BulkForm:
    form = BulkForm()
    form.template.choices = [(t.key, t.name) for t in all_templates()]
    fill_choices(form)
    return form


def _bulk_request(form: BulkForm) -> contract.BulkCreate:
    """The bar's answers through the input contract; GenerationError names the field at fault."""
    return contract.parse(contract.BulkCreate, form.request_data(request.form.getlist("product_ids")))


@bp.post("/products/bulk/confirm")
def bulk_confirm():
    """Step one: say how many videos will be made and how much quota they use."""
    form = _bulk_form()
    if not form.validate_on_submit():
        return render_template("partials/bulk_result.html", errors=_errors(form))
    try:
        chosen = _bulk_request(form)
        plan = service.plan_bulk(g.workspace, chosen)
    except GenerationError as error:
        return render_template("partials/bulk_result.html", errors=form.said(error))
    return render_template(
        "partials/bulk_confirm.html",
        plan=plan,
        template=next((t for t in all_templates() if t.key == chosen.template), None),
        usage=quota.usage(g.workspace),
        # a double click, or a retry after a dropped connection, queues the bulk once
        idempotency_key=uuid.uuid4().hex,
    )


@bp.post("/products/bulk")
def bulk_generate():
    """Step two: queue what fits and say what happened to each product."""
    form = _bulk_form()
    if not form.validate_on_submit():
        return render_template("partials/bulk_result.html", errors=_errors(form))
    try:
        outcomes = service.create_bulk(g.workspace, current_user, _bulk_request(form),
                                       idempotency_key=request.form.get("idempotency_key") or None)
    except GenerationError as error:
        return render_template("partials/bulk_result.html", errors=form.said(error))
    groups = {kind: [o for o in outcomes if o.result == kind] for kind in ("queued", "skipped_existing", "over_quota", "invalid")}
    # the products table (refreshed by products-changed) shows the queued videos live
    return render_template("partials/bulk_result.html", groups=groups), 200, usage_changed(PRODUCTS_CHANGED)


def _errors(form) -> list[str]:
    return [f"{getattr(form, name).label.text}: {message}" for name, messages in form.errors.items() for message in messages]


@bp.get("/products/<int:product_id>")
def detail(product_id: int):
    try:
        product = service.get_product(g.workspace, product_id)
    except GenerationError:
        abort(404)
    return render_product_page(product, GenerateForm(product_id=str(product.id)))


def render_product_page(product, form: GenerateForm) -> str:
    """The product page; also where the generate form sent from it shows its errors."""
    videos = catalog.product_videos(product)
    positions = queue.queue_positions(videos[:1])
    fill_generate_form(form, product)
    return render_template(
        "products/detail.html",
        product=product,
        videos=videos,
        latest=videos[0] if videos else None,
        positions=positions,
        watch=live.watch_list(videos[:1], positions),
        templates=all_templates(),
        form=form,
        usage=quota.usage(g.workspace),
        section="products",
    )
