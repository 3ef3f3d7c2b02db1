# The name bench/import.py was asked for; run it as `python -m bench.import` or load it with
# importlib.import_module("bench.import") (`import` is a keyword).
# ruff: noqa: N999
"""Import benchmark: a Shopify product export of 10,000 products (30,000 rows: each product has
a variant row and an image-only row after its first row) imported into an empty SQLite
catalog, then imported again (every product unchanged). Images are recorded, not downloaded.

The baseline, in the same run, is reading the same file with the csv module alone: the floor
any import of it has to pay.

    python -m bench.import [--markdown BENCHMARKS.md] [--products 10000]
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

from sqlalchemy import func, select

from bench.report import write_section
from webapp import create_app
from webapp.catalog import importer
from webapp.extensions import db
from webapp.models import Product, ProductImage, Workspace

HEADER = [
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published", "Option1 Name",
    "Option1 Value", "Variant SKU", "Variant Grams", "Variant Inventory Qty", "Variant Price", "Variant Compare At Price",
    "Image Src", "Image Position", "Image Alt Text", "Variant Image", "SEO Title", "SEO Description", "Status",
]
TIME_TARGET_S = 10
MEMORY_TARGET_MB = 200


def shopify_export(products: int) -> bytes:
    """Three rows a product, as Shopify writes them: the product with its first variant and
    image, a second variant with its image, an image-only row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for n in range(products):
        handle = f"linen-shirt-{n:05d}"
        body = (f"<p>Relaxed <strong>linen shirt</strong> no. {n}, cut for warm days &amp; cool evenings.</p>"
                "<ul><li>100% European flax linen</li><li>Mother-of-pearl buttons</li><li>Machine wash cold</li></ul>")
        image = f"https://cdn.example.com/s/files/1/products/{handle}"
        writer.writerow([handle, f"Linen Shirt {n:05d}, relaxed fit", body, "Acme Linen", "Apparel", "Shirts",
                         "linen, summer", "true", "Size", "S", f"LS-{n:05d}-S", "220", "12", "49.00", "59.00",
                         f"{image}-1.jpg", "1", "Front", f"{image}-s.jpg", "", "", "active"])
        writer.writerow([handle, "", "", "", "", "", "", "", "", "M", f"LS-{n:05d}-M", "230", "8", "49.00", "59.00",
                         f"{image}-2.jpg", "2", "Back", f"{image}-m.jpg", "", "", ""])
        writer.writerow([handle, "", "", "", "", "", "", "", "", "", "", "", "", "", "", f"{image}-3.jpg", "3",
                         "Detail", "", "", "", ""])
    return ("\ufeff" + out.getvalue()).encode()


def _csv_only(data: bytes) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _timed(function, *args):
    gc.collect()
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def _peak_mb(function, *args) -> float:
    """Peak of Python allocations while ``function`` runs (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        function(*args)
        return tracemalloc.get_traced_memory()[1] / (1024 * 1024)
    finally:
        tracemalloc.stop()


def run(markdown: str | None = None, products: int = 10_000) -> str:
    data = shopify_export(products)
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'bench.db'}", "MEDIA_DIR": Path(folder) / "media",
            "SECRET_KEY": "bench", "EMBEDDED_WORKER": False,
        })
        with app.app_context():
            db.create_all()
            workspace, traced = Workspace(name="Bench", plan="executive"), Workspace(name="Traced", plan="executive")
            db.session.add_all([workspace, traced])
            db.session.commit()

            rows, csv_s = _timed(_csv_only, data)
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            first, first_s = _timed(importer.import_file, workspace, data)
            rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before
            again, again_s = _timed(importer.import_file, workspace, data)
            stored = (db.session.scalar(select(func.count(Product.id))),
                      db.session.scalar(select(func.count(ProductImage.id))))
            peak_mb = _peak_mb(importer.import_file, traced, data)  # the first import again, traced
            db.engine.dispose()

    assert (first.created, again.unchanged, stored) == (products, products, (products, products * 5)), (first, again, stored)
    lines = [
        (f"Shopify export: {products:,} products, {rows - 1:,} rows, {len(data) / 1e6:.1f} MB; SQLite; "
        "images recorded as pending (downloads excluded)."),
        "",
        "| step | time (s) | products/s | × csv.reader alone |",
        "| --- | ---: | ---: | ---: |",
        f"| csv.reader over the file (baseline) | {csv_s:.2f} | {products / csv_s:,.0f} | 1.0× |",
        (f"| first import: {first.created:,} created, {first.images_queued:,} images queued | {first_s:.2f} | "
        f"{products / first_s:,.0f} | {first_s / csv_s:.1f}× |"),
        (f"| same file again: {again.unchanged:,} unchanged | {again_s:.2f} | {products / again_s:,.0f} | "
        f"{again_s / csv_s:.1f}× |"),
        "",
        (f"Memory: peak Python allocations during a first import {peak_mb:.0f} MB (tracemalloc, file bytes excluded); "
        f"process peak RSS grew {rss_growth:.0f} MB during the first import."),
        "",
        (f"Targets: under {TIME_TARGET_S} s — **{'met' if first_s < TIME_TARGET_S else 'missed'}** ({first_s:.1f} s); "
        f"under {MEMORY_TARGET_MB} MB — **{'met' if peak_mb < MEMORY_TARGET_MB else 'missed'}** ({peak_mb:.0f} MB)."),
    ]
    body = "\n".join(lines)
    if markdown:
        write_section(markdown, "import", body)
    return body


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown")
    parser.add_argument("--products", type=int, default=10_000)
    arguments = parser.parse_args()
    print(run(arguments.markdown, arguments.products))
