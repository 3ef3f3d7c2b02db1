"""Reading CSV files: Reelboard's columns and Shopify's export, without the database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from webapp.catalog.importer import (
    REELBOARD,
    SHOPIFY,
    ImportRefused,
    html_to_text,
    read,
)

SHOPIFY_HEADER = (
    "Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,Published,Option1 Name,Option1 Value,"
    "Variant SKU,Variant Grams,Variant Price,Variant Compare At Price,Image Src,Image Position,Image Alt Text,"
    "Variant Image,Status"
)


def shopify_row(handle="", title="", body="", vendor="", option="", sku="", price="", image="", position="",
                variant_image="") -> str:
    def quoted(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value

    cells = [handle, title, body, vendor, "", "", "", "true" if title else "", "Size" if option else "", option, sku,
             "0", price, "", image, position, "", variant_image, "active" if title else ""]
    return ",".join(quoted(cell) for cell in cells)


@pytest.fixture
def context(app):
    with app.app_context():
        yield


def test_shopify_export_with_variants_image_rows_quotes_and_a_bom(context):
    rows = [
        shopify_row("linen-shirt", "Linen Shirt, relaxed fit", '<p>Breezy <strong>linen</strong> &amp; cool.</p>\n<ul><li>100% linen</li><li>Machine wash</li></ul>',
                    "Acme, Inc.", "S", "LS-S", "49.00", "https://cdn.example.com/shirt-2.jpg", "2", "https://cdn.example.com/shirt-s.jpg"),
        shopify_row("linen-shirt", option="M", sku="LS-M", price="51.00", image="https://cdn.example.com/shirt-1.jpg", position="1",
                    variant_image="https://cdn.example.com/shirt-m.jpg"),
        shopify_row("linen-shirt", image="https://cdn.example.com/shirt-3.jpg", position="3"),
        shopify_row("linen-shirt", image="https://cdn.example.com/shirt-1.jpg", position="1"),  # repeated image
        shopify_row("cap", "Cap", "Plain text body", "Acme", "One size", "CAP-1", "15", "https://cdn.example.com/cap.jpg", "1"),
    ]
    data = ("\ufeff" + SHOPIFY_HEADER + "\r\n" + "\r\n".join(rows) + "\r\n").encode()

    parsed = read(data)
    assert parsed.format == SHOPIFY
    assert parsed.rows == 5 and parsed.rejected == []
    shirt, cap = parsed.products
    assert shirt.line == 2 and cap.line == 7  # the shirt's body spans lines 2 and 3
    assert shirt.fields.external_key == "linen-shirt"
    assert shirt.fields.title == "Linen Shirt, relaxed fit"
    assert shirt.fields.description == "Breezy linen & cool.\n• 100% linen\n• Machine wash"
    assert shirt.fields.vendor == "Acme, Inc."
    assert (shirt.fields.sku, shirt.fields.price) == ("LS-S", Decimal("49.00"))  # the first variant
    assert shirt.image_urls == (
        "https://cdn.example.com/shirt-1.jpg", "https://cdn.example.com/shirt-2.jpg", "https://cdn.example.com/shirt-3.jpg",
        "https://cdn.example.com/shirt-s.jpg", "https://cdn.example.com/shirt-m.jpg",
    )
    assert shirt.marketplace == "shopify"
    assert (cap.fields.title, cap.fields.description, cap.fields.price) == ("Cap", "Plain text body", Decimal("15.00"))


def test_shopify_rejects_a_product_naming_the_line_and_the_column(context):
    rows = [
        shopify_row("good", "Good", price="10"),
        shopify_row("no-title", "", price="10"),
        shopify_row("bad-price", "Bad", option="S", price="ten dollars"),
        shopify_row("", "Orphan", price="3"),
        shopify_row("bad-image", "Bad image", image="ftp://example.com/x.jpg", position="1"),
    ]
    parsed = read((SHOPIFY_HEADER + "\n" + "\n".join(rows)).encode())
    assert [p.fields.external_key for p in parsed.products] == ["good"]
    assert [(r.line, r.key) for r in parsed.rejected] == [(3, "no-title"), (4, "bad-price"), (5, ""), (6, "bad-image")]
    reasons = [r.reason for r in parsed.rejected]
    assert reasons[0] == "Title: Title is empty on every row of this product."
    assert reasons[1] == "Variant Price: Price 'ten dollars' is not a number."
    assert reasons[2].startswith("Handle is empty")
    assert reasons[3] == "Image Src: 'ftp://example.com/x.jpg' is not an http(s) URL."


def test_reelboard_columns_in_any_order_with_lf_and_quoted_newlines(context):
    data = (
        b'title,external_key,price,image_urls,description,sku,unused\n'
        b'Mug,mug-1,"1,299.50",https://a.example/1.jpg | https://a.example/2.jpg|,"Line one,\nline two",M-1,x\n'
        b'Lamp,lamp-1,,,,,\n'
    )
    parsed = read(data)
    assert parsed.format == REELBOARD and parsed.rejected == []
    mug, lamp = parsed.products
    assert (mug.line, lamp.line) == (2, 4)
    assert mug.fields.price == Decimal("1299.50")
    assert mug.fields.description == "Line one,\nline two"
    assert mug.image_urls == ("https://a.example/1.jpg", "https://a.example/2.jpg")
    assert lamp.image_urls == () and lamp.fields.price is None


def test_without_an_image_column_images_are_left_alone(context):
    parsed = read(b"external_key,title\nk,Thing\n")
    assert parsed.products[0].image_urls is None


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",No key,1", "external_key: The external key is required."),
        ("k,,1", "title: The title is required."),
        ("k,Thing,-3", "price: Price must be zero or more."),
        ("k,Thing,1.999", "price: Price has at most two decimals."),
        ("k,Thing,99999999999", "price: Price is at most 9,999,999,999.99."),
        ("k," + "T" * 256 + ",1", "title: The title is at most 255 characters (this one has 256)."),
    ],
)
def test_reelboard_rows_are_rejected_with_a_reason(context, row, reason):
    parsed = read(f"external_key,title,price\nok,Fine,1\n{row}\n".encode())
    assert [p.fields.external_key for p in parsed.products] == ["ok"]
    assert [(r.line, r.reason) for r in parsed.rejected] == [(3, reason)]


def test_a_repeated_key_is_rejected_on_its_second_line(context):
    parsed = read(b"external_key,title\na,First\nb,Other\na,Again\n")
    assert [p.fields.title for p in parsed.products] == ["First", "Other"]
    assert [(r.line, r.reason) for r in parsed.rejected] == [(4, "external_key 'a' already appears on line 2.")]


def test_more_images_than_a_product_takes_are_cut_with_a_note(context):
    urls = "|".join(f"https://a.example/{i}.jpg" for i in range(12))
    parsed = read(f"external_key,title,image_urls\nk,Thing,{urls}\n".encode())
    assert len(parsed.products[0].image_urls) == 10
    assert [(n.line, n.message) for n in parsed.notes] == [(2, "k: only the first 10 of 12 images are kept.")]


def test_semicolon_separated_files_are_read_too(context):
    parsed = read(b"external_key;title;price\nk;Thing;2.50\n")
    assert parsed.products[0].fields.price == Decimal("2.50")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"   \n", "The file is empty."),
        (b"PK\x03\x04\x14\x00\x00\x00binary", "This is not a CSV file"),
        ("external_key,title\nk,Caf\xe9\n".encode("latin-1"), "The file is not UTF-8 text (line 2"),
        (b"name,price\nMug,3\n", "The file's first line must name the columns"),
        (b'external_key,title\nk,"never closed\n', "Line 2 is not valid CSV"),
    ],
)
def test_files_that_are_not_usable_csv_are_refused(context, data, message):
    with pytest.raises(ImportRefused) as refused:
        read(data)
    assert str(refused.value).startswith(message)


def test_html_to_text():
    assert html_to_text("<h2>Care</h2><p>Wash&nbsp;cold.<br>Dry flat.</p><script>alert(1)</script><style>p{}</style>") == (
        "Care\nWash cold.\nDry flat."
    )
    assert html_to_text("Fish &amp; chips") == "Fish & chips"
    assert html_to_text("") == ""
