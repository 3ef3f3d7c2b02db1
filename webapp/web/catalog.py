"""Catalog pages: create, edit and delete products, manage their images, import a CSV.

The rules live in ``webapp.catalog``; these views bind forms, call one domain function and
render. htmx requests get the swapped region only; plain requests get the page (or a
redirect after a change), so everything works without JavaScript too.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import HiddenField, StringField, TextAreaField

from .. import media
from ..catalog import importer, products
from ..catalog.images import megabytes
from ..catalog.products import CatalogError, Upload
from ..generation.errors import NotFound
from ..generation.service import get_product
from ..models import price_label
from ..storage import NotStored, current_storage

bp = Blueprint("catalog", __name__)

IMAGE_TYPES = "image/jpeg,image/png,image/webp"
IMPORT_FOLDER = "imports"
UPLOAD_TOKEN = re.compile(r"^[0-9a-f]{32}$")
UPLOAD_KEPT_S = 24 * 3600


class ProductForm(FlaskForm):
    """Binds the fields; ``catalog.products`` checks them, so the form and the importer refuse
    the same things the same way."""

    title = StringField("Title", render_kw={"maxlength": 255, "required": True})
    external_key = StringField("External key", render_kw={"maxlength": 255})
    sku = StringField("SKU", render_kw={"maxlength": 120})
    price = StringField("Price", render_kw={"inputmode": "decimal", "placeholder": "19.99"})
    compare_at_price = StringField("Compare-at price", render_kw={"inputmode": "decimal", "placeholder": "24.99"})
    vendor = StringField("Vendor", render_kw={"maxlength": 255})
    url = StringField("Product page", render_kw={"inputmode": "url", "maxlength": 2048,
                                                 "placeholder": "https://shop.example.com/products/…"})
    description = TextAreaField("Description", render_kw={"rows": 6})

    def values(self) -> dict[str, str]:
        return {name: getattr(self, name).data or "" for name in
                ("title", "external_key", "sku", "price", "compare_at_price", "vendor", "url", "description")}

    def show(self, error: CatalogError) -> None:
        """Each problem beside its field, all at once."""
        for name, message in error.problems:
            field = getattr(self, name or "", None) or self.title
            field.errors = [*field.errors, message]


class ImageUploadForm(FlaskForm):
    images = MultipleFileField("Add images", render_kw={"accept": IMAGE_TYPES})


class ImportForm(FlaskForm):
    file = FileField("CSV file", render_kw={"accept": ".csv,text/csv"})
    store_url = StringField("Store address (for a Shopify export)",
                            render_kw={"inputmode": "url", "placeholder": "https://shop.example.com"})
    # a file sent with a refused store address, kept so that it need not be chosen again
    upload = HiddenField()
    filename = HiddenField()


class ConfirmImportForm(FlaskForm):
    upload = HiddenField()
    store_url = HiddenField()


def _htmx() -> bool:
    return bool(request.htmx) and not request.htmx.boosted


def _fragment_status(status: int) -> int:
    """htmx swaps only 2xx answers: a fragment that shows errors is sent with 200."""
    return 200 if _htmx() else status


def _product_or_404(product_id: int):
    try:
        return get_product(g.workspace, product_id)
    except NotFound:
        abort(404)


# -------------------------------------------------------------- products ----


@bp.route("/products/new", methods=["GET", "POST"])
def new_product():
    form = ProductForm()
    if form.validate_on_submit():
        try:
            product = products.create_product(g.workspace, **form.values())
        except CatalogError as error:
            form.show(error)
        else:
            flash(f"Product “{product.title}” created. Add its images below.", "success")
            _warn_of_an_unshown_discount(product)
            return redirect(url_for("catalog.edit_product", product_id=product.id, _anchor="images"))
    status = 422 if form.errors else 200
    return render_template("catalog/product_form.html", form=form, product=None), status


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
def edit_product(product_id: int):
    product = _product_or_404(product_id)
    form = ProductForm(obj=product)
    if form.validate_on_submit():
        try:
            products.update_product(g.workspace, product.id, **form.values())
        except CatalogError as error:
            form.show(error)
        else:
            flash("Product saved.", "success")
            _warn_of_an_unshown_discount(product)
            return redirect(url_for("products.detail", product_id=product.id))
    return _edit_page(product, form, status=422 if form.errors else 200)


def _warn_of_an_unshown_discount(product) -> None:
    """Saved as typed (a store may hold such a price), but the merchant likely meant a discount."""
    if product.compare_at_unshown:
        shown = price_label(product.compare_at_price)
        flash(f"The compare-at price {shown} is not above the price, so videos show no was-price or discount."
              if product.price is not None else
              f"The compare-at price {shown} needs a price to be shown: videos show no was-price without one.",
              "warning")


def _edit_page(product, form: ProductForm, upload_form: ImageUploadForm | None = None, status: int = 200):
    return render_template(
        "catalog/product_form.html", form=form, product=product, upload_form=upload_form or ImageUploadForm(formdata=None),
        image_limit=products.images_per_product(), image_max_size=megabytes(current_app.config["IMAGE_MAX_BYTES"]),
    ), status


@bp.post("/products/<int:product_id>/delete")
def delete_product(product_id: int):
    product = _product_or_404(product_id)
    try:
        title = products.delete_product(g.workspace, product.id)
    except CatalogError as error:
        flash(error.message, "error")
        return redirect(url_for("catalog.edit_product", product_id=product_id))
    flash(f"Product “{title}” deleted, with its images and videos.", "success")
    return redirect(url_for("products.index"))


# ---------------------------------------------------------------- images ----


def _images_response(
    product, *, upload_form: ImageUploadForm | None = None, notice: str | None = None, error: str | None = None,
    status: int = 200,
):
    """htmx: the image list with its message (and the upload form, out of band, after an
    upload); otherwise the edit page: again with the errors, or by a redirect."""
    if not _htmx():
        if upload_form is not None and upload_form.images.errors:
            return _edit_page(product, ProductForm(obj=product, formdata=None), upload_form, status)
        if notice or error:
            flash(error or notice, "error" if error else "success")
        return redirect(url_for("catalog.edit_product", product_id=product.id, _anchor="images"))
    return render_template(
        "partials/catalog_images.html", product=product, upload_form=upload_form, oob_upload=upload_form is not None,
        notice=notice, error=error, image_limit=products.images_per_product(),
    ), _fragment_status(status)


@bp.get("/products/<int:product_id>/images")
def images(product_id: int):
    """The image list alone: what its poll asks for while downloads are pending."""
    product = _product_or_404(product_id)
    return render_template("partials/catalog_images.html", product=product, image_limit=products.images_per_product())


@bp.post("/products/<int:product_id>/images")
def upload_images(product_id: int):
    product = _product_or_404(product_id)
    form = ImageUploadForm()
    if form.validate_on_submit():
        limit = current_app.config["IMAGE_MAX_BYTES"]
        # Read one byte past the limit: enough to know a file is too big, never more.
        uploads = [Upload(f.filename or "", f.read(limit + 1)) for f in form.images.data or [] if f]
        try:
            added = products.add_images(g.workspace, product.id, uploads)
        except CatalogError as error:
            form.images.errors = [error.message]
            return _images_response(product, upload_form=form, status=422)
        notice = f"{len(added)} image{'' if len(added) == 1 else 's'} added."
        return _images_response(product, upload_form=ImageUploadForm(formdata=None), notice=notice)
    return _images_response(product, upload_form=form, status=422)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    """A request over MAX_CONTENT_LENGTH: said beside the file field, like any bad upload."""
    limit = megabytes(current_app.config["MAX_CONTENT_LENGTH"])
    if "workspace" not in g:  # refused while the CSRF check read the body, before the page loaded
        message = f"The upload is larger than {limit}. Go back and send smaller files, or fewer at a time."
        return render_template("error.html", title="Upload too large", message=message), 413
    if request.endpoint == "catalog.upload_images":
        form = ImageUploadForm(formdata=None)
        form.images.errors = [f"The upload is larger than {limit}; send fewer images at a time."]
        return _images_response(_product_or_404(request.view_args["product_id"]), upload_form=form, status=413)
    form = ImportForm(formdata=None)
    form.file.errors = [f"The file is larger than {limit}; split it into smaller files."]
    return _import_page("partials/import_form.html", 413, form=form)


def _image_action(product_id: int, action, *args):
    product = _product_or_404(product_id)
    try:
        action(g.workspace, product.id, *args)
    except NotFound:
        abort(404)
    except CatalogError as error:
        return _images_response(product, error=error.message, status=422)
    return _images_response(product)


@bp.post("/products/<int:product_id>/images/<int:image_id>/move")
def move_image(product_id: int, image_id: int):
    offset = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if offset is None:
        abort(400)
    return _image_action(product_id, products.move_image, image_id, offset)


@bp.post("/products/<int:product_id>/images/<int:image_id>/delete")
def remove_image(product_id: int, image_id: int):
    return _image_action(product_id, products.remove_image, image_id)


@bp.post("/products/<int:product_id>/images/<int:image_id>/retry")
def retry_image(product_id: int, image_id: int):
    return _image_action(product_id, products.retry_image, image_id)


# ---------------------------------------------------------------- import ----


def _import_page(partial: str, status: int = 200, **context):
    template = partial if _htmx() else "catalog/import.html"
    return render_template(template, partial=partial, **context), _fragment_status(status)


def _upload_path(token: str) -> str:
    return f"{IMPORT_FOLDER}/{g.workspace.id}/{token}.csv"


def _keep_upload(data: bytes) -> str:
    """Keeps the file between the preview and the confirmation (in the media storage, which
    every web process reaches), dropping this workspace's uploads older than a day."""
    folder = f"{IMPORT_FOLDER}/{g.workspace.id}"
    current_storage().delete_older_than(folder, UPLOAD_KEPT_S)
    key = media.new_path(folder, ".csv")
    media.write_atomically(key, data)
    return PurePosixPath(key).stem


def _kept_upload(token: str) -> bytes | None:
    """The file kept for ``token`` in this workspace; None when there is none (any more)."""
    if not UPLOAD_TOKEN.match(token):
        return None
    try:
        with media.open_reader(_upload_path(token)) as kept:
            return kept.read()
    except NotStored:
        return None


@bp.get("/products/import")
def import_form():
    return _import_page("partials/import_form.html", form=ImportForm(formdata=None))


@bp.post("/products/import")
def import_preview():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read() if upload else b""
        token = ""
        if data:
            form.filename.data = upload.filename
        elif form.upload.data:  # the file kept when the store address was refused
            token, data = form.upload.data, _kept_upload(form.upload.data) or b""
        store_url = None
        try:
            store_url = importer.store_address(form.store_url.data)
        except CatalogError as error:
            form.store_url.errors = [error.message]
        if not data:
            form.upload.data = form.filename.data = ""
            form.file.errors = ["Choose a CSV file to import."]
        elif form.store_url.errors:  # a browser drops the chosen file with a refused form: keep it here
            form.upload.data = token or _keep_upload(data)
        else:
            try:
                plan = importer.plan(g.workspace, data, store_url)
            except importer.ImportRefused as error:
                form.upload.data = form.filename.data = ""
                form.file.errors = [str(error)]
            else:
                confirm = ConfirmImportForm(formdata=None, upload=token or _keep_upload(data), store_url=store_url or "")
                return _import_page("partials/import_preview.html", plan=plan, form=confirm, filename=form.filename.data)
    return _import_page("partials/import_form.html", 422, form=form)


@bp.post("/products/import/confirm")
def import_confirm():
    form = ConfirmImportForm()
    token = form.upload.data or ""
    data = _kept_upload(token) if form.validate_on_submit() else None
    if data is None:
        form = ImportForm(formdata=None)
        form.file.errors = ["This import has expired or was already done. Upload the file again."]
        return _import_page("partials/import_form.html", 422, form=form)
    try:
        report = importer.import_file(g.workspace, data, importer.store_address(form.store_url.data))
    except (importer.ImportRefused, CatalogError) as error:
        form = ImportForm(formdata=None)
        form.file.errors = [str(error)]
        return _import_page("partials/import_form.html", 422, form=form)
    finally:
        media.remove(_upload_path(token))
    return _import_page("partials/import_result.html", report=report)
