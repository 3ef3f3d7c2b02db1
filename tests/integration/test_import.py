"""Importing a catalog: the import itself (upsert by external key), the CLI command, the import
pages, and the background image downloads against a real HTTP server on 127.0.0.1 — with the
app's media in a directory and in S3 (SeaweedFS)."""

from __future__ import annotations

import io
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import jpeg_bytes, make_product, make_workspace
from tests.integration.test_catalog import field_error
from tests.storage_support import stored_keys
from webapp import media
from webapp.catalog import images, importer, products
from webapp.extensions import db
from webapp.models import Product, ProductImage
from webapp.storage import current_storage

# Every test here runs on each media backend: MEDIA_DIR, and a bucket of a real S3 server.
pytestmark = pytest.mark.usefixtures("media_backend")


# ------------------------------------------------------- a real image server ----


@dataclass
class Route:
    status: int = 200
    content_type: str = "image/jpeg"
    body: bytes = b""
    delay_s: float = 0.0


@dataclass
class ImageServer:
    url: str
    routes: dict[str, Route]
    hits: Counter = field(default_factory=Counter)


def png_bytes(size=(300, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 255, 128)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def image_server():
    routes = {
        "/shirt.jpg": Route(body=jpeg_bytes(size=(800, 600))),
        "/cap.png": Route(content_type="image/png", body=png_bytes()),
        "/missing.jpg": Route(status=404, content_type="text/html", body=b"<h1>Not found</h1>"),
        "/page.html": Route(content_type="text/html", body=b"<html>a page</html>"),
        "/huge.jpg": Route(body=b"\xff\xd8" + b"0" * (2 * 1024 * 1024)),
        "/garbage.jpg": Route(body=b"this is not a jpeg at all"),
        "/slow.jpg": Route(body=jpeg_bytes(), delay_s=3),
    }
    server = ImageServer("", routes)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            server.hits[self.path] += 1
            route = routes.get(self.path, Route(status=404, content_type="text/plain", body=b"no"))
            time.sleep(route.delay_s)
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    httpd.server_close()


def product_images(key: str) -> list[ProductImage]:
    db.session.expire_all()
    product = db.session.scalar(select(Product).filter_by(external_key=key))
    return list(product.images)


def fresh(product: Product) -> Product:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Product, product.id)


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


# ----------------------------------------------------------- the import ----


def reelboard_csv(rows: list[str]) -> bytes:
    return ("external_key,title,sku,description,price,image_urls\n" + "\n".join(rows) + "\n").encode()


def test_import_creates_then_reimport_changes_nothing(workspace):
    data = reelboard_csv([
        "mug,Trail Mug,M-1,Enamel,12.00,https://img.example/mug-1.jpg|https://img.example/mug-2.jpg",
        "lamp,Desk Lamp,L-1,,89.99,",
        ",No key,,,1,",
    ])
    report = importer.import_file(workspace, data)
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    assert [(r.line, r.reason) for r in report.rejected] == [(4, "external_key: The external key is required.")]
    assert report.images_queued == 2
    assert report.summary() == ("Reelboard CSV: 2 products imported — 2 created, 0 updated, 0 unchanged; 1 rejected. "
                                "2 images queued for download.")
    mug = product_images("mug")
    assert [(i.position, i.source_url, i.status) for i in mug] == [
        (0, "https://img.example/mug-1.jpg", "pending"), (1, "https://img.example/mug-2.jpg", "pending"),
    ]

    again = importer.import_file(workspace, data)
    assert (again.created, again.updated, again.unchanged, again.images_queued) == (0, 0, 2, 0)
    assert count(Product) == 2 and count(ProductImage) == 2


def test_reimport_updates_fields_and_syncs_images_keeping_uploads(workspace):
    importer.import_file(workspace, reelboard_csv(["mug,Trail Mug,M-1,,12.00,https://img.example/a.jpg|https://img.example/b.jpg"]))
    product = db.session.scalar(select(Product).filter_by(external_key="mug"))
    for image in product_images("mug"):  # as if both had been downloaded
        image.status, image.file_path = "ok", media.new_path(f"products/{workspace.id}", ".jpg")
        media.write_atomically(image.file_path, jpeg_bytes())
    db.session.commit()
    stale_key = product_images("mug")[1].file_path
    assert current_storage().exists(stale_key)
    products.add_images(workspace, product.id, [products.Upload("own.jpg", jpeg_bytes())])

    report = importer.import_file(workspace, reelboard_csv(["mug,Trail Mug 2,M-1,,12.50,https://img.example/c.jpg|https://img.example/a.jpg"]))
    assert (report.created, report.updated, report.unchanged, report.images_queued) == (0, 1, 0, 1)
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert (product.title, str(product.price)) == ("Trail Mug 2", "12.50")
    assert [(i.position, i.source_url, i.status) for i in product.images] == [
        (0, "https://img.example/c.jpg", "pending"),
        (1, "https://img.example/a.jpg", "ok"),  # kept, downloaded already
        (2, None, "ok"),  # the uploaded image stays, after the file's
    ]
    assert not current_storage().exists(stale_key)  # b.jpg left the file: its row and its file are gone


SHOPIFY_EXPORT = (
    "\ufeffHandle,Title,Body (HTML),Vendor,Option1 Name,Option1 Value,Variant SKU,Variant Price,Image Src,Image Position,"
    "Variant Image\r\n"
    'tee,"Tee, organic","<p>Soft <b>organic</b> cotton.</p>",Acme,Size,S,TEE-S,25.00,https://img.example/tee-1.jpg,1,\r\n'
    "tee,,,,,M,TEE-M,27.00,,,https://img.example/tee-m.jpg\r\n"
    "tee,,,,,,,,https://img.example/tee-2.jpg,2,\r\n"
    "sock,Sock,,Acme,Title,Default Title,SOCK,5,,,\r\n"
).encode()


def test_a_shopify_export_is_imported_and_reimported(workspace):
    report = importer.import_file(workspace, SHOPIFY_EXPORT)
    assert (report.format, report.created, report.rejected, report.images_queued) == ("shopify", 2, [], 3)
    tee = db.session.scalar(select(Product).filter_by(workspace_id=workspace.id, external_key="tee"))
    assert (tee.title, tee.sku, str(tee.price), tee.vendor, tee.description, tee.marketplace) == (
        "Tee, organic", "TEE-S", "25.00", "Acme", "Soft organic cotton.", "shopify",
    )
    assert [i.source_url for i in tee.images] == [
        "https://img.example/tee-1.jpg", "https://img.example/tee-2.jpg", "https://img.example/tee-m.jpg",
    ]
    again = importer.import_file(workspace, SHOPIFY_EXPORT)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert count(Product) == 2 and count(ProductImage) == 3


def test_the_was_price_and_the_product_page_are_imported_and_a_file_changes_only_its_columns(workspace):
    """Shopify's Variant Compare At Price and Reelboard's compare_at_price and url columns reach
    the product (the end card's struck-through price and QR code). A Shopify export has no store
    address, so the product page typed by hand stays through its re-import; a Reelboard file
    without a price column leaves the prices alone, as one without image_urls leaves the images."""
    header = "Handle,Title,Variant SKU,Variant Price,Variant Compare At Price\n"
    importer.import_file(workspace, (header + "tee,Tee,TEE-S,25.00,32.00\n").encode())
    tee = db.session.scalar(select(Product).filter_by(external_key="tee"))
    assert (str(tee.price), str(tee.compare_at_price), tee.compare_at_label) == ("25.00", "32.00", "$32.00")
    products.update_product(workspace, tee.id, external_key="tee", title="Tee", sku="TEE-S", price="25.00",
                            compare_at_price="32.00", url="https://shop.example.com/products/tee")

    again = importer.import_file(workspace, (header + "tee,Tee,TEE-S,25.00,30.00\n").encode())
    assert (again.updated, again.unchanged) == (1, 0)
    tee = fresh(tee)
    assert (str(tee.compare_at_price), tee.url) == ("30.00", "https://shop.example.com/products/tee")

    rows = "external_key,title,compare_at_price,url\ntee,Tee,,https://shop.example.com/tee-2\n"
    report = importer.import_file(workspace, rows.encode())
    assert report.updated == 1
    tee = fresh(tee)
    assert (str(tee.price), tee.compare_at_price, tee.url) == ("25.00", None, "https://shop.example.com/tee-2")
    assert importer.import_file(workspace, rows.encode()).unchanged == 1

    # a Shopify file without the compare-at column leaves the was-price alone, as it does the page
    shopify_again = importer.import_file(workspace, b"Handle,Title,Variant Price\ntee,Tee,25.00\n")
    assert (shopify_again.updated, shopify_again.unchanged) == (0, 1)

    refused = importer.import_file(workspace, b"external_key,title,url,compare_at_price\nmug,Mug,ftp://x/mug,\n"
                                              b"cup,Cup,,lots\nbowl,Bowl,https://shop.example.com/\x1b[2Jbowl,\n")
    assert [(r.line, r.reason) for r in refused.rejected] == [
        (2, "url: The product page 'ftp://x/mug' is not an http(s) URL, e.g. https://shop.example.com/products/mug."),
        (3, "compare_at_price: Compare-at price 'lots' is not a number."),
        (4, ("url: The product page 'https://shop.example.com/\\x1b[2Jbowl' is not an http(s) URL, "
            "e.g. https://shop.example.com/products/mug.")),
    ]
    shopify = importer.import_file(workspace, b"Handle,Title,Vendor,Variant Price,Variant Compare At Price\n"
                                              b"hat,Hat,Acme,cheap,soon\n")
    assert [r.reason for r in shopify.rejected] == [  # every wrong field of the product
        ("Variant Price: Price 'cheap' is not a number.\n"
        "Variant Compare At Price: Compare-at price 'soon' is not a number.")]


def test_a_broken_file_imports_nothing(workspace):
    with pytest.raises(importer.ImportRefused):
        importer.import_file(workspace, b'external_key,title\nk,Fine\nj,"unterminated\n')
    assert count(Product) == 0


def test_products_are_scoped_to_their_workspace(workspace):
    other, _ = make_workspace("Other", email="o@example.com")
    importer.import_file(workspace, b"external_key,title\nsame-key,Mine\n")
    report = importer.import_file(other, b"external_key,title\nsame-key,Theirs\n")
    assert report.created == 1
    assert sorted(db.session.scalars(select(Product.title))) == ["Mine", "Theirs"]


# ------------------------------------------------------------- the CLI ----


def test_import_products_command(app, runner, workspace, tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_bytes(reelboard_csv(["mug,Trail Mug,M-1,,12,", "bad,,,,,"]))
    result = runner.invoke(args=["import-products", str(path), "--workspace", "Acme"])
    assert result.exit_code == 0, result.output
    assert "1 created, 0 updated, 0 unchanged; 1 rejected." in result.output
    assert "line 3: title: The title is required." in result.output

    again = runner.invoke(args=["import-products", str(path), "--workspace", "Acme"])
    assert "0 created, 0 updated, 1 unchanged" in again.output

    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    refused = runner.invoke(args=["import-products", str(path), "--workspace", "Acme"])
    assert refused.exit_code != 0 and "not a CSV file" in refused.output
    unknown = runner.invoke(args=["import-products", str(path), "--workspace", "Nope"])
    assert unknown.exit_code != 0 and "No workspace 'Nope'" in unknown.output


def test_a_shopify_export_with_its_store_address_gives_every_product_its_page(app, runner, workspace, tmp_path):
    path = tmp_path / "products_export.csv"
    path.write_bytes(SHOPIFY_EXPORT)
    result = runner.invoke(args=["import-products", str(path), "--workspace", "Acme",
                                 "--store-url", "https://shop.example.com/"])
    assert result.exit_code == 0, result.output
    pages = dict(db.session.execute(select(Product.external_key, Product.url)).all())
    assert pages == {"tee": "https://shop.example.com/products/tee", "sock": "https://shop.example.com/products/sock"}
    refused = runner.invoke(args=["import-products", str(path), "--workspace", "Acme", "--store-url", "my shop"])
    assert refused.exit_code != 0 and "is not an http(s) address" in refused.output


# ----------------------------------------------------------- the pages ----


def upload(client, data: bytes, name="catalog.csv"):
    return client.post("/products/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_import_page_previews_then_imports(client, workspace):
    page = client.get("/products/import")
    assert page.status_code == 200 and 'name="file"' in page.get_data(as_text=True)
    make_product(workspace, "Old Mug", key="mug")

    preview = upload(client, reelboard_csv(["mug,Trail Mug,M-1,,12,", "lamp,Lamp,,,,https://img.example/l.jpg", "x,,,,,"]))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Reelboard CSV" in html and "3 rows" in html
    assert re.search(r"<strong>1</strong> to create", html) and re.search(r"<strong>1</strong> to update", html)
    assert "Line 4" in html and "title: The title is required." in html
    assert "Trail Mug" in html and "Lamp" in html
    assert count(Product) == 1  # a preview changes nothing
    token = re.search(r'name="upload" type="hidden" value="([0-9a-f]{32})"', html).group(1)
    assert f"imports/{workspace.id}/{token}.csv" in stored_keys(current_storage())  # kept until confirmed

    result = client.post("/products/import/confirm", data={"upload": token})
    html = result.get_data(as_text=True)
    assert result.status_code == 200
    assert "1 created, 1 updated, 0 unchanged; 1 rejected" in html
    assert sorted(db.session.scalars(select(Product.title))) == ["Lamp", "Trail Mug"]

    assert not [key for key in stored_keys(current_storage()) if key.startswith("imports/")]
    replay = client.post("/products/import/confirm", data={"upload": token})
    assert replay.status_code == 422 and "expired or was already done" in replay.get_data(as_text=True)


def test_import_page_answers_htmx_with_the_region_only(client):
    response = client.post(
        "/products/import", data={"file": (io.BytesIO(b"external_key,title\nk,Thing\n"), "c.csv")},
        content_type="multipart/form-data", headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and "import-preview" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Choose a CSV file to import."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This is not a CSV file"),
        (b"name;price\nMug;2\n", "The file&#39;s first line must name the columns"),
        (b"external_key,title\n", "The file has a header but no product rows."),
    ],
)
def test_import_page_refuses_a_bad_file_beside_the_field(client, data, message):
    response = upload(client, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="field-error"' in html and message in html
    assert count(Product) == 0


def test_an_import_cannot_be_confirmed_from_another_workspace(app, client, workspace):
    html = upload(client, b"external_key,title\nk,Thing\n").get_data(as_text=True)
    token = re.search(r'value="([0-9a-f]{32})"', html).group(1)
    make_workspace("Other", email="other@example.com")
    with app.app_context():  # a fresh ``g``: the fixture's context remembers the first user
        other = app.test_client()
        other.post("/login", data={"email": "other@example.com", "password": "correct horse battery"})
        response = other.post("/products/import/confirm", data={"upload": token})
    assert response.status_code == 422
    assert count(Product) == 0
    for forged in ("../../secret_key", "x" * 32, ""):
        assert client.post("/products/import/confirm", data={"upload": forged}).status_code == 422


# ------------------------------------------------------ image downloads ----


def import_images(workspace, server: ImageServer, *paths: str) -> str:
    urls = "|".join(server.url + path for path in paths)
    importer.import_file(workspace, reelboard_csv([f"p,Product,,,,{urls}"]))
    return "p"


def test_images_are_downloaded_in_the_background_and_failures_recorded(app, workspace, image_server):
    app.config["IMAGE_MAX_BYTES"] = 1024 * 1024
    key = import_images(workspace, image_server, "/shirt.jpg", "/cap.png", "/missing.jpg", "/page.html", "/huge.jpg",
                        "/garbage.jpg")
    assert {i.status for i in product_images(key)} == {"pending"}  # the product is there before its images

    assert images.download_pending("test-worker") == 6
    shirt, cap, missing, page, huge, garbage = product_images(key)
    assert (shirt.status, shirt.width, shirt.height, shirt.error) == ("ok", 800, 600, None)
    with media.open_reader(shirt.file_path) as reader, Image.open(reader) as stored:
        assert (stored.format, stored.size) == ("JPEG", (800, 600))
    assert shirt.file_path.startswith(f"products/{workspace.id}/")
    assert (cap.status, cap.width) == ("ok", 300)  # a PNG with transparency, stored as JPEG
    assert (missing.status, missing.error) == ("failed", f"The server answered 404 for {image_server.url}/missing.jpg.")
    assert page.status == "failed" and page.error == "Expected image/ but got text/html."
    assert huge.status == "failed" and "larger than the 1 MB limit" in huge.error
    assert garbage.status == "failed" and garbage.error == "The file is not a readable JPEG, PNG or WebP image."
    assert images.download_pending("test-worker") == 0  # nothing left; failures are not retried by themselves


def test_a_failed_image_can_be_retried(workspace, image_server):
    key = import_images(workspace, image_server, "/later.jpg")
    images.download_pending("test-worker")
    (image,) = product_images(key)
    assert image.status == "failed"

    image_server.routes["/later.jpg"] = Route(body=jpeg_bytes())
    products.retry_image(workspace, image.product_id, image.id)
    assert product_images(key)[0].status == "pending"
    images.download_pending("test-worker")
    assert product_images(key)[0].status == "ok"
    with pytest.raises(products.CatalogError):
        products.retry_image(workspace, image.product_id, image.id)


def test_a_slow_server_times_out(app, workspace, image_server):
    app.config["IMAGE_DOWNLOAD_TIMEOUT_S"] = 1
    key = import_images(workspace, image_server, "/slow.jpg")
    images.download_pending("test-worker")
    (image,) = product_images(key)
    assert image.status == "failed" and image.error.startswith("Timed out downloading")


def test_private_addresses_are_refused(app_factory, media_backend, image_server):
    app = app_factory(ALLOW_PRIVATE_MEDIA_HOSTS=False, **media_backend)
    with app.app_context():
        workspace, _ = make_workspace()
        key = import_images(workspace, image_server, "/shirt.jpg")
        images.download_pending("test-worker")
        (image,) = product_images(key)
        assert image.status == "failed"
        assert image.error == "The host 127.0.0.1 is a private address; downloading from it is not allowed."
        assert image_server.hits["/shirt.jpg"] == 0


def test_two_workers_never_fetch_the_same_image(app, workspace, image_server):
    paths = [f"/shirt-{index}.jpg" for index in range(12)]
    for path in paths:
        image_server.routes[path] = Route(body=jpeg_bytes(), delay_s=0.05)
    import_images(workspace, image_server, *paths[:10])
    importer.import_file(workspace, reelboard_csv([f"q,Other,,,,{image_server.url}{paths[10]}|{image_server.url}{paths[11]}"]))

    def work(owner: str) -> None:
        with app.app_context():
            images.download_pending(owner)
            db.session.remove()

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [image_server.hits[path] for path in paths] == [1] * 12
    assert {i.status for i in product_images("p") + product_images("q")} == {"ok"}


def test_the_store_address_typed_beside_a_shopify_export_reaches_the_import(client, workspace):
    bad = client.post("/products/import", data={"file": (io.BytesIO(SHOPIFY_EXPORT), "export.csv"),
                                                "store_url": "my shop"}, content_type="multipart/form-data")
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert field_error(page, "store_url") == (
        "The store address &#39;my shop&#39; is not an http(s) address, e.g. https://shop.example.com.")
    # the browser drops the chosen file with the refused form: the page keeps it, and says so
    assert 'id="file-error"' not in page and "Kept: export.csv." in page
    kept = re.search(r'id="upload" name="upload" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    assert count(Product) == 0

    preview = client.post("/products/import", data={"upload": kept, "filename": "export.csv",
                                                    "store_url": " https://shop.example.com/en-ca/ "},
                          content_type="multipart/form-data").get_data(as_text=True)
    token = re.search(r'name="upload" type="hidden" value="([0-9a-f]{32})"', preview).group(1)
    assert token == kept and "export.csv" in preview  # the kept file, not a second copy
    assert 'name="store_url" type="hidden" value="https://shop.example.com/en-ca"' in preview
    done = client.post("/products/import/confirm", data={"upload": token, "store_url": "https://shop.example.com/en-ca"})
    assert "2 created" in done.get_data(as_text=True)
    assert db.session.scalar(select(Product.url).filter_by(external_key="tee")) == "https://shop.example.com/en-ca/products/tee"


def test_a_kept_file_of_another_workspace_or_a_forged_token_is_no_file(client, workspace):
    answer = client.post("/products/import", data={"upload": "../../videos/1/x", "store_url": "https://shop.example.com"},
                         content_type="multipart/form-data")
    assert answer.status_code == 422 and field_error(answer.get_data(as_text=True), "file") == "Choose a CSV file to import."


@pytest.mark.parametrize("typed", ["https://shop.example.com/products/", "https://shop.example.com/?ref=mail",
                                   "https://shop.example.com/collections/all", "https://shop.example.com/products/mug",
                                   "shop.example.com"])
def test_a_store_address_pasted_with_more_than_the_address_still_gives_the_product_pages(typed):
    """``/products/`` was added once more: every QR code led to …/products/products/<handle>."""
    assert importer.store_address(typed) == "https://shop.example.com"


def test_the_preview_shows_the_pages_and_was_prices_an_import_sets(client, workspace):
    export = (b"Handle,Title,Variant Price,Variant Compare At Price\n"
              b"tee,Tee,25.00,32.00\nsock,Sock,5.00,5.00\n")
    preview = client.post("/products/import", data={"file": (io.BytesIO(export), "export.csv"),
                                                    "store_url": "https://shop.example.com"},
                          content_type="multipart/form-data").get_data(as_text=True)
    assert "https://shop.example.com/products/tee" in preview
    assert '<del aria-label="was $32.00">$32.00</del>' in preview
    assert "was $5.00" not in preview  # not a discount: no video shows it, and a note says so
    assert "Line 3: Compare-at price 5.00 is not above the price: videos show no was-price." in preview
    reelboard = client.post("/products/import", data={"file": (io.BytesIO(b"external_key,title,url,price\n"
                                                                          b"mug,Mug,ftp://x/mug,cheap\n"), "c.csv"),
                                                      "store_url": "https://shop.example.com"},
                            content_type="multipart/form-data").get_data(as_text=True)
    assert "The store address is for a Shopify export" in reelboard
    # every wrong field of a row, not only the first
    assert "url: The product page &#39;ftp://x/mug&#39; is not an http(s) URL" in reelboard
    assert "price: Price &#39;cheap&#39; is not a number." in reelboard
