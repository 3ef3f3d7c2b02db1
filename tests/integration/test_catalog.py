"""Product pages: create, edit, delete, and the images (upload, order, remove)."""

from __future__ import annotations

import io
import os
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import PASSWORD, jpeg_bytes, make_product, make_workspace
from tests.integration.api_support import completed_video, queue_video
from tests.storage_support import stored_keys
from webapp import media
from webapp.extensions import db
from webapp.models import Product, ProductImage, Video
from webapp.storage import current_storage


def image_file(format_="PNG", size=(320, 240), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (10, 200, 90) if mode == "RGB" else (10, 200, 90, 100)).save(buffer, format_)
    return buffer.getvalue()


def field_error(html: str, field: str) -> str:
    found = re.search(rf'<small class="field-error" id="{field}-error">([^<]*)</small>', html)
    assert found, f"no error beside {field}"
    return found.group(1)


def products_count() -> int:
    return db.session.scalar(select(func.count(Product.id)))


def fresh(product: Product) -> Product:
    db.session.expire_all()
    return db.session.get(Product, product.id)


# ------------------------------------------------------------ create ----


def test_create_a_product(client, workspace):
    assert client.get("/products/new").status_code == 200
    response = client.post("/products/new", data={
        "title": "  Trail   Mug ", "sku": "TM-1", "price": "$1,299.5", "vendor": "Acme", "description": "Enamel.\r\nLight.",
    })
    product = db.session.scalar(select(Product))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/products/{product.id}/edit#images"
    assert (product.title, product.external_key, product.sku, str(product.price), product.description) == (
        "Trail Mug", "trail-mug", "TM-1", "1299.50", "Enamel.\nLight.",
    )
    assert product.workspace_id == workspace.id
    client.post("/products/new", data={"title": "Trail Mug"})
    assert sorted(db.session.scalars(select(Product.external_key))) == ["trail-mug", "trail-mug-2"]


@pytest.mark.parametrize(("typed", "stored"), [
    ("12,50", "12.50"), ("€12,50", "12.50"), ("12,5", "12.50"), ("1.299,50", "1299.50"), ("1 299,00 €", "1299.00"),
    ("1,299", "1299.00"), ("12,500", "12500.00"), ("$1,299.50", "1299.50"), ("19.99", "19.99"),
])
def test_a_price_is_read_as_the_merchant_wrote_it_decimal_comma_or_point(client, workspace, typed, stored):
    """European prices were read with the comma dropped: 12,50 became 1,250.00."""
    response = client.post("/products/new", data={"title": "Mug", "price": typed})
    assert response.status_code == 302
    assert str(db.session.scalar(select(Product.price))) == stored


@pytest.mark.parametrize(("typed", "stored"), [
    ("shop.example.com/products/mug", "https://shop.example.com/products/mug"),
    ("  http://shop.example.com/mug ", "http://shop.example.com/mug"),
    ("shop.example.com:8443/mug?variant=2", "https://shop.example.com:8443/mug?variant=2"),
])
def test_a_product_page_typed_without_https_is_read_as_an_address_bar_reads_it(client, workspace, typed, stored):
    response = client.post("/products/new", data={"title": "Mug", "url": typed})
    assert response.status_code == 302
    assert db.session.scalar(select(Product.url)) == stored


NOT_A_PAGE = "The product page &#39;{}&#39; is not an http(s) URL, e.g. https://shop.example.com/products/mug."


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"title": ""}, "title", "The title is required."),
        ({"title": "   "}, "title", "The title is required."),
        ({"title": "T" * 256}, "title", "The title is at most 255 characters (this one has 256)."),
        ({"title": "Mug", "price": "cheap"}, "price", "Price &#39;cheap&#39; is not a number."),
        ({"title": "Mug", "price": "1,2345"}, "price", "Price &#39;1,2345&#39; is not a number."),
        ({"title": "Mug", "price": "-1"}, "price", "Price must be zero or more."),
        ({"title": "Mug", "external_key": "taken"}, "external_key", "Another product already has the key &#39;taken&#39;."),
        ({"title": "Mug", "sku": "S" * 121}, "sku", "The SKU is at most 120 characters (this one has 121)."),
        ({"title": "Mug", "compare_at_price": "soon"}, "compare_at_price",
         "Compare-at price &#39;soon&#39; is not a number."),
        ({"title": "Mug", "url": "mailto:shop@example.com"}, "url", NOT_A_PAGE.format("mailto:shop@example.com")),
        ({"title": "Mug", "url": "shop/mug"}, "url", NOT_A_PAGE.format("shop/mug")),
        ({"title": "Mug", "url": "javascript:alert(1)"}, "url", NOT_A_PAGE.format("javascript:alert(1)")),
    ],
)
def test_bad_product_input_is_shown_beside_the_field(client, workspace, data, field, message):
    make_product(workspace, "Existing", key="taken")
    response = client.post("/products/new", data=data)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field) == message
    assert products_count() == 1


def test_every_wrong_field_of_the_product_form_is_shown_at_once(client, workspace):
    response = client.post("/products/new", data={"title": "", "price": "twelve bucks", "sku": "S" * 121})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(page, "title") == "The title is required."
    assert field_error(page, "price") == "Price &#39;twelve bucks&#39; is not a number."
    assert field_error(page, "sku") == "The SKU is at most 120 characters (this one has 121)."
    assert products_count() == 0


# -------------------------------------------------------------- edit ----


def test_edit_a_product(client, workspace):
    product = make_product(workspace, "Mug", key="mug", price="10.00")
    page = client.get(f"/products/{product.id}/edit").get_data(as_text=True)
    assert 'value="Mug"' in page and 'value="10.00"' in page and 'id="product-images"' in page

    response = client.post(f"/products/{product.id}/edit", data={
        "title": "Big Mug", "external_key": "big-mug", "price": "", "sku": "", "vendor": "", "description": "New.",
    })
    assert response.status_code == 302 and response.headers["Location"] == f"/products/{product.id}"
    product = fresh(product)
    assert (product.title, product.external_key, product.price, product.description) == ("Big Mug", "big-mug", None, "New.")

    bad = client.post(f"/products/{product.id}/edit", data={"title": "Big Mug", "external_key": "big-mug", "price": "1.234"})
    assert bad.status_code == 422
    assert field_error(bad.get_data(as_text=True), "price") == "Price has at most two decimals."
    assert fresh(product).price is None


def test_the_compare_at_price_and_the_product_page_are_typed_in_the_form(client, workspace):
    """What the end card needs of a product — the was-price and where to buy — the merchant can
    type: before, only the demo catalog had them."""
    response = client.post("/products/new", data={"title": "Mug", "price": "19,00", "compare_at_price": "24,00",
                                                   "url": " https://shop.example.com/products/mug "})
    assert response.status_code == 302
    product = db.session.scalar(select(Product))
    assert (str(product.compare_at_price), product.url) == ("24.00", "https://shop.example.com/products/mug")
    assert (product.price_label, product.compare_at_label) == ("$19.00", "$24.00")
    page = client.get(f"/products/{product.id}/edit").get_data(as_text=True)
    assert 'value="24.00"' in page and 'value="https://shop.example.com/products/mug"' in page
    detail = client.get(f"/products/{product.id}").get_data(as_text=True)
    assert '<del aria-label="was $24.00">$24.00</del>' in detail

    cleared = client.post(f"/products/{product.id}/edit", data={"title": "Mug", "external_key": product.external_key,
                                                                 "price": "19.00", "compare_at_price": "", "url": ""})
    assert cleared.status_code == 302
    assert (fresh(product).compare_at_price, fresh(product).url) == (None, None)


def test_a_compare_at_price_videos_will_not_show_is_saved_with_a_warning(client, workspace):
    """59 typed as the was-price of a 129 product: saved as typed (a store may hold it), and the
    merchant is told that no video will show it, instead of finding out from the video."""
    response = client.post("/products/new", data={"title": "Backpack", "price": "129", "compare_at_price": "59"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert '<p class="flash flash-warning" role="status">The compare-at price $59.00 is not above the price' in page
    assert str(db.session.scalar(select(Product.compare_at_price))) == "59.00"
    product = db.session.scalar(select(Product))
    edit = client.get(f"/products/{product.id}/edit").get_data(as_text=True)
    assert "Not above the price: videos do not show it." in edit  # said beside the field while it stays so
    fine = client.post(f"/products/{product.id}/edit", follow_redirects=True, data={
        "title": "Backpack", "external_key": product.external_key, "price": "129", "compare_at_price": "159"})
    assert "flash-warning" not in fine.get_data(as_text=True)


def test_another_workspaces_product_is_not_found(app, workspace):
    product = make_product(workspace, "Mine")
    product_id, image_id = product.id, product.images[0].id
    make_workspace("Other", email="other@example.com")  # commits: this session holds no lock now
    with app.app_context():  # a fresh ``g``: the fixture's context remembers the first user
        other = app.test_client()
        other.post("/login", data={"email": "other@example.com", "password": PASSWORD})
        for method, url in [("GET", "/edit"), ("POST", "/edit"), ("POST", "/delete"), ("POST", "/images"),
                            ("GET", "/images"), ("POST", f"/images/{image_id}/delete")]:
            assert other.open(f"/products/{product_id}{url}", method=method, data={"title": "Theirs"}).status_code == 404
    assert fresh(product).title == "Mine" and len(fresh(product).images) == 2


@pytest.mark.parametrize("url", ["/products/999/edit", "/products/2147483648/edit", "/products/99999999999999999999/edit"])
def test_a_missing_product_is_not_found(client, url):
    assert client.get(url).status_code == 404


# ------------------------------------------------------------ delete ----


def test_delete_is_refused_while_a_video_is_in_flight(client, workspace, owner):
    product = make_product(workspace)
    queue_video(workspace, owner, product)
    response = client.post(f"/products/{product.id}/delete", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "This product has a video being generated." in html
    assert fresh(product) is not None


def test_delete_removes_the_product_its_images_videos_and_files(client, workspace, owner):
    product = make_product(workspace)
    video = completed_video(workspace, owner, product)
    files = [i.file_path for i in product.images] + [video.video_path]
    assert all(current_storage().exists(key) for key in files)

    response = client.post(f"/products/{product.id}/delete")
    assert response.status_code == 302 and response.headers["Location"] == "/products"
    assert products_count() == 0
    assert db.session.scalar(select(func.count(Video.id))) == 0
    assert db.session.scalar(select(func.count(ProductImage.id))) == 0
    assert not any(current_storage().exists(key) for key in files)


# ------------------------------------------------------------ images ----


def upload(client, product, *files, htmx=False):
    data = {"images": [(io.BytesIO(content), name) for name, content in files]}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/products/{product.id}/images", data=data, content_type="multipart/form-data", headers=headers)


def test_upload_images_stores_them_re_encoded(client, workspace):
    product = make_product(workspace, images=0)
    response = upload(client, product, ("front.png", image_file("PNG", mode="RGBA")), ("side.webp", image_file("WEBP")),
                      ("back.jpg", jpeg_bytes(size=(200, 100))))
    assert response.status_code == 302
    stored = fresh(product).images
    assert [(i.position, i.width, i.height, i.status) for i in stored] == [
        (0, 320, 240, "ok"), (1, 320, 240, "ok"), (2, 200, 100, "ok"),
    ]
    for image in stored:
        assert image.file_path.startswith(f"products/{workspace.id}/") and image.file_path.endswith(".jpg")
        with media.open_reader(image.file_path) as reader, Image.open(reader) as decoded:
            assert decoded.format == "JPEG" and decoded.mode == "RGB"


def test_upload_answers_htmx_with_the_list_and_a_fresh_form(client, workspace):
    product = make_product(workspace, images=1)
    response = upload(client, product, ("a.jpg", jpeg_bytes()), htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<div id="product-images"' in html and "1 image added." in html
    assert 'id="image-upload"' in html and 'hx-swap-oob="true"' in html
    assert "<html" not in html


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([("notes.txt", b"just some text")], "notes.txt: The file is not a readable JPEG, PNG or WebP image."),
        ([("anim.gif", image_file("GIF"))], "anim.gif: Only JPEG, PNG and WebP images are accepted, not GIF."),
        ([("empty.jpg", b"")], "empty.jpg: The file is empty."),
        ([("ok.jpg", jpeg_bytes()), ("fake.jpg", b"\xff\xd8\xff\xe0 truncated")],
         "fake.jpg: The file is not a readable JPEG, PNG or WebP image."),
        ([], "Choose at least one image to upload."),
    ],
)
def test_bad_uploads_are_refused_beside_the_field_and_change_nothing(client, workspace, files, message):
    product = make_product(workspace, images=1)
    files_before = stored_keys(current_storage())
    response = upload(client, product, *files)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "images") == message.replace("'", "&#39;")
    assert len(fresh(product).images) == 1
    assert stored_keys(current_storage()) == files_before


def test_an_image_over_the_size_limit_is_refused(app, client, workspace):
    app.config["IMAGE_MAX_BYTES"] = 1024 * 1024
    product = make_product(workspace, images=0)
    noise = io.BytesIO()
    Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3)).save(noise, "PNG")  # ≈ 1.4 MB
    response = upload(client, product, ("big.png", noise.getvalue()), htmx=True)
    assert response.status_code == 200  # htmx swaps only 2xx: the errors come as a fragment
    assert "big.png: The image is larger than the 1 MB limit." in response.get_data(as_text=True)
    assert fresh(product).images == []


def test_the_eleventh_image_is_refused(client, workspace):
    product = make_product(workspace, images=9)
    response = upload(client, product, ("10.jpg", jpeg_bytes()), ("11.jpg", jpeg_bytes()))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "images") == (
        "A product has at most 10 images and it has 9: you can add 1 more, not 2."
    )
    assert upload(client, product, ("10.jpg", jpeg_bytes())).status_code == 302
    assert len(fresh(product).images) == 10
    assert "you can add 0 more, not 1" in upload(client, product, ("11.jpg", jpeg_bytes())).get_data(as_text=True)


def test_reorder_and_remove_images(client, workspace):
    product = make_product(workspace, images=3)
    first, second, third = (i.id for i in product.images)

    response = client.post(f"/products/{product.id}/images/{third}/move", data={"direction": "up"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'id="product-images"' in response.get_data(as_text=True)
    assert [i.id for i in fresh(product).images] == [first, third, second]
    client.post(f"/products/{product.id}/images/{first}/move", data={"direction": "down"})
    assert [i.id for i in fresh(product).images] == [third, first, second]
    client.post(f"/products/{product.id}/images/{third}/move", data={"direction": "up"})  # already first
    assert [(i.id, i.position) for i in fresh(product).images] == [(third, 0), (first, 1), (second, 2)]
    assert client.post(f"/products/{product.id}/images/{third}/move", data={"direction": "sideways"}).status_code == 400

    removed = fresh(product).images[1].file_path
    response = client.post(f"/products/{product.id}/images/{first}/delete")
    assert response.status_code == 302
    assert [(i.id, i.position) for i in fresh(product).images] == [(third, 0), (second, 1)]
    assert not current_storage().exists(removed)
    assert client.post(f"/products/{product.id}/images/{first}/delete").status_code == 404


def test_the_image_list_polls_only_while_downloads_are_pending(client, workspace):
    product = make_product(workspace, images=1)
    html = client.get(f"/products/{product.id}/images").get_data(as_text=True)
    assert "hx-trigger" not in html
    db.session.add(ProductImage(product_id=product.id, position=1, source_url="https://img.example/x.jpg", status="pending"))
    db.session.commit()
    html = client.get(f"/products/{product.id}/images").get_data(as_text=True)
    assert 'hx-trigger="every 3s' in html and "Downloading…" in html


def test_a_request_over_the_upload_limit_is_refused_beside_the_field(app, client, workspace):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    product = make_product(workspace, images=1)
    response = upload(client, product, ("a.jpg", b"\xff" * 70_000))
    assert response.status_code == 413
    assert field_error(response.get_data(as_text=True), "images") == (
        "The upload is larger than 0.0625 MB; send fewer images at a time."
    )
    response = client.post("/products/import", data={"file": (io.BytesIO(b"x" * 70_000), "big.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert "The file is larger than 0.0625 MB" in field_error(response.get_data(as_text=True), "file")
    assert len(fresh(product).images) == 1


def test_an_upload_over_the_request_limit_is_refused_with_a_message_when_csrf_is_on(app_factory):
    """With CSRF on, the body is read (and refused) before the page's workspace is known."""
    import io

    from tests.conftest import PASSWORD, make_product, make_workspace

    app = app_factory(WTF_CSRF_ENABLED=True, MAX_CONTENT_LENGTH=50_000)
    with app.app_context():
        workspace, _ = make_workspace()
        product_id = make_product(workspace).id
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"email": "owner@example.com", "password": PASSWORD, "csrf_token": token})
    response = client.post(
        f"/products/{product_id}/images",
        data={"csrf_token": token, "images": (io.BytesIO(b"x" * 200_000), "big.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "larger than" in response.get_data(as_text=True)
